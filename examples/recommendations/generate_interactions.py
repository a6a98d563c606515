"""Writes interactions.csv: a seeded, synthetic interaction history for the workshop's
catalog, to import before training (python3 generate_interactions.py > interactions.csv).

Three topics of 20 items each. Topic "a" holds the four items the workshop's seven sample
events click, so those items co-occur with the other "a" items in many sessions. User
146456223 (the workshop's test user) has a history in topic "b" only: after the seven events
are recorded, its recommendations move towards topic "a". Popularity within a topic is
Zipf-like, so the most popular items are distinct and well ordered.
"""

import random

SEED_ITEMS = [
    "zGRmEOdTo648OJoqhmazwKPuWpA=",
    "RZ4KlaqSK4zAVf/FdprF522ip14=",
    "TmnhhnrtAe/OuxEEDAEhHFpXTTQ=",
    "VcODDeZtFt9rFcj6rW0yb4iKh50=",
]
TEST_USER = "146456223"
START = 1_672_531_200  # 2023-01-01, before the seed's events (2023-02-21)


def topic_items(topic):
    items = [f"item-{topic}{n:02d}" for n in range(1, 21)]
    if topic == "a":
        # The seed's items among topic a's most popular ones.
        items = items[:2] + SEED_ITEMS + items[2:16]
    return items


def main():
    rng = random.Random(20230221)
    topics = {t: topic_items(t) for t in "abc"}
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(20)]
    rows = []
    users = [(f"user-{n:04d}", "abc"[n % 3]) for n in range(1, 301)]
    users.append((TEST_USER, "b"))
    for user, topic in users:
        t = START + rng.randrange(0, 86_400)
        for _ in range(rng.randint(2, 4)):
            for _ in range(rng.randint(3, 6)):
                item = rng.choices(topics[topic], weights)[0]
                event = rng.choices(["click", "adds_to_cart", "checkouts"], [0.7, 0.2, 0.1])[0]
                rows.append((user, item, t, event))
                t += rng.randrange(30, 600)
            t += rng.randrange(86_400, 5 * 86_400)  # sessions days apart
    rows.sort(key=lambda r: (r[2], r[0]))
    print("USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE")
    for user, item, t, event in rows:
        print(f"{user},{item},{t},{event}")


if __name__ == "__main__":
    main()
