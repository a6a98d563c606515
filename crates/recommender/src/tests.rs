#![allow(clippy::unwrap_used)]
use super::*;
use crate::evaluate::{Method, evaluate, split};
use crate::synthetic::{Spec, generate};

fn at(user: &str, item: &str, timestamp: i64) -> Interaction {
    Interaction {
        user_id: user.into(),
        item_id: item.into(),
        timestamp,
    }
}

/// Many users see A then B (or C then D) in one session; item P is popular with everyone, in
/// sessions of its own.
fn pairs() -> Vec<Interaction> {
    let mut out = Vec::new();
    for u in 0..30 {
        let t = 10_000 * i64::from(u);
        let (x, y) = if u % 2 == 0 { ("a", "b") } else { ("c", "d") };
        out.push(at(&format!("u{u}"), x, t));
        out.push(at(&format!("u{u}"), y, t + 60));
        out.push(at(&format!("u{u}"), "p", t + 4_000));
        if u % 3 == 0 {
            out.push(at(&format!("u{u}"), "p", t + 4_060));
        }
    }
    out.push(at("loner", "e", 1));
    out
}

fn ids(list: &[Scored]) -> Vec<&str> {
    list.iter().map(|s| s.item_id.as_str()).collect()
}

#[test]
fn a_cold_user_gets_the_popular_items_in_order() {
    let model = Model::train(Recipe::UserPersonalization, pairs());
    // p: 40; a, b, c, d: 15 each (ties by id); e: 1.
    assert_eq!(ids(&model.recommend("nobody", 6)), ["p", "a", "b", "c", "d", "e"]);
    assert!(!model.knows_user("nobody"));
}

#[test]
fn a_recorded_event_changes_the_next_recommendations_towards_what_co_occurs() {
    let mut model = Model::train(Recipe::UserPersonalization, pairs());
    let before = model.recommend("newcomer", 3);
    model.record("newcomer", "a", 1_000_000);
    let after = model.recommend("newcomer", 3);
    assert_ne!(before, after);
    assert_eq!(after[0].item_id, "b", "{after:?}");
    assert!(!ids(&after).contains(&"a"), "just seen");
    model.record("other", "c", 1_000_000);
    assert_eq!(model.recommend("other", 1)[0].item_id, "d");
    assert_eq!(model.interaction_count(), pairs().len() + 2);
}

#[test]
fn items_first_seen_after_training_are_never_recommended() {
    let mut model = Model::train(Recipe::UserPersonalization, pairs());
    for u in 0..40 {
        model.record(&format!("v{u}"), "a", 2_000_000 + u);
        model.record(&format!("v{u}"), "brand-new", 2_000_010 + u);
    }
    model.record("probe", "a", 3_000_000);
    assert!(!model.knows_item("brand-new"));
    for user in ["probe", "v1", "nobody"] {
        assert!(!ids(&model.recommend(user, 10)).contains(&"brand-new"));
    }
}

#[test]
fn sims_ranks_co_occurring_items_first_and_ignores_events() {
    let mut model = Model::train(Recipe::Sims, pairs());
    let similar = model.similar_items("a", 3);
    assert_eq!(similar[0].item_id, "b");
    assert!(!ids(&similar).contains(&"a"));
    assert_eq!(model.similar_items("unknown", 2), model.recommend("nobody", 2));
    model.record("x", "a", 5_000_000);
    model.record("x", "d", 5_000_001);
    assert_eq!(model.similar_items("a", 3), similar);
}

#[test]
fn popularity_count_is_the_same_for_everyone_and_ignores_events() {
    let mut model = Model::train(Recipe::PopularityCount, pairs());
    let list = model.recommend("u0", 3);
    assert_eq!(ids(&list), ["p", "a", "b"]);
    assert_eq!(model.recommend("u1", 3), list);
    for n in 0..100 {
        model.record("x", "e", 6_000_000 + n);
    }
    assert_eq!(model.recommend("u0", 3), list);
}

#[test]
fn ranking_returns_every_item_with_unknown_ones_last() {
    let mut model = Model::train(Recipe::PersonalizedRanking, pairs());
    model.record("r", "c", 7_000_000);
    let items: Vec<String> = ["zzz", "b", "d", "e"].iter().map(|s| (*s).to_owned()).collect();
    let ranked = model.rank("r", &items);
    assert_eq!(ids(&ranked), ["d", "b", "e", "zzz"]);
    assert_eq!(ranked[3].score, 0.0);
    assert!(ranked[0].score > ranked[1].score);
}

#[test]
fn training_is_deterministic() {
    let data = generate(&Spec {
        users: 200,
        items: 300,
        topics: 10,
        interactions: 5_000,
        seed: 7,
    });
    let a = Model::train(Recipe::UserPersonalization, data.clone());
    let b = Model::train(Recipe::UserPersonalization, data);
    for u in 0..50 {
        let user = format!("user-{u}");
        assert_eq!(a.recommend(&user, 20), b.recommend(&user, 20));
    }
}

#[test]
fn recipes_are_named_by_their_arns() {
    let arn = |n: &str| format!("arn:aws:personalize:::recipe/{n}");
    assert_eq!(
        Recipe::from_arn(&arn("aws-user-personalization-v2")),
        Some(Recipe::UserPersonalization)
    );
    assert_eq!(
        Recipe::from_arn(&arn("aws-sims")).map(Recipe::recipe_type),
        Some("RELATED_ITEMS")
    );
    assert_eq!(Recipe::from_arn(&arn("aws-trending-now")), None);
}

#[test]
fn v_sknn_beats_popularity_on_a_seeded_synthetic_dataset() {
    let data = generate(&Spec {
        users: 400,
        items: 500,
        topics: 20,
        interactions: 20_000,
        seed: 42,
    });
    let (train, test) = split(&data, 0.2);
    let popularity = evaluate(Method::Popularity, &train, &test, 20);
    let knn = evaluate(Method::VSknn, &train, &test, 20);
    assert!(knn.predictions > 1000);
    assert!(
        knn.hit_rate > popularity.hit_rate + 0.15,
        "{knn:?} vs {popularity:?}"
    );
    assert!(knn.mrr > popularity.mrr * 2.0, "{knn:?} vs {popularity:?}");
}

#[test]
fn an_item_repeated_in_a_long_session_counts_once() {
    // Two users with one long session each (all at the same time, as a history imported with
    // a constant timestamp would be): 100 distinct items, each seen twice by the first user.
    let items: Vec<String> = (0..100).map(|i| format!("i{i:03}")).collect();
    let mut once = Vec::new();
    let mut twice = Vec::new();
    for (user, data) in [("u1", &items[..]), ("u2", &items[50..])] {
        for item in data {
            once.push(at(user, item, 1_000));
            twice.push(at(user, item, 1_000));
            if user == "u1" {
                twice.push(at(user, item, 1_000));
            }
        }
    }
    let a = Model::train(Recipe::Sims, once);
    let b = Model::train(Recipe::Sims, twice);
    for item in ["i000", "i049", "i050", "i099"] {
        assert_eq!(a.similar_items(item, 20), b.similar_items(item, 20), "{item}");
    }
}
