//! Grouping by (userId, sessionId) in arrival order, and chunking into calls of ≤ 10 events.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::*;
use personalize_stack_forwarder::plan::plan;

#[tokio::test]
async fn twenty_five_events_of_one_user_are_calls_of_10_10_5_in_order() {
    let batch = fixture("one_user_25.json");
    let (outcome, forwarder, _) = run(fast_config(), FakeClient::ok(), &batch).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    let calls = forwarder.client().calls();
    let sizes: Vec<usize> = calls.iter().map(|c| c.events.len()).collect();
    assert_eq!(sizes, [10, 10, 5]);
    let items: Vec<String> = calls
        .iter()
        .flat_map(|c| c.events.iter().map(|e| e.item_id.clone().unwrap()))
        .collect();
    let expected: Vec<String> = (0..25).map(|i| format!("item-{i:02}")).collect();
    assert_eq!(items, expected, "arrival order is kept across the calls");
    assert!(
        calls
            .iter()
            .all(|c| c.user_id == "146456223" && c.session_id == "146456223")
    );
    assert_eq!(outcome.summary.calls, 3);
    assert_eq!(outcome.summary.requests, 3);
}

#[test]
fn interleaved_users_are_grouped_in_first_appearance_order() {
    let batch = fixture("interleaved_users.json");
    let p = plan(&batch, None);
    let groups: Vec<(String, String, Vec<String>)> = p
        .groups
        .iter()
        .map(|g| {
            (
                g.user_id.clone(),
                g.session_id.clone(),
                g.events.iter().map(|e| e.item_id.clone().unwrap()).collect(),
            )
        })
        .collect();
    // users: alice bob alice carol bob alice* alice* carol bob alice* (* = session alice-mobile)
    assert_eq!(
        groups,
        [
            (
                "alice".into(),
                "alice".into(),
                vec!["item-0".into(), "item-2".into()]
            ),
            (
                "bob".into(),
                "bob".into(),
                vec!["item-1".into(), "item-4".into(), "item-8".into()]
            ),
            (
                "carol".into(),
                "carol".into(),
                vec!["item-3".into(), "item-7".into()]
            ),
            (
                "alice".into(),
                "alice-mobile".into(),
                vec!["item-5".into(), "item-6".into(), "item-9".into()]
            ),
        ]
    );
    assert_eq!(p.call_count(), 4);
    // bob's records come from shard 1: the event id carries the shard.
    assert!(
        p.groups[1].events[0]
            .event_id
            .starts_with("shardId-000000000001:")
    );
}

#[tokio::test]
async fn a_realistic_mix_needs_one_call_per_user() {
    // 100 records from 10 users, round-robin: 10 calls instead of the seed's 100.
    let payloads: Vec<_> = (0..100)
        .map(|i| {
            workshop(
                &format!("user-{}", i % 10),
                &format!("item-{i}"),
                1_676_975_804 + i,
            )
        })
        .collect();
    let batch = batch_of(&payloads);
    let (outcome, forwarder, _) = run(fast_config(), FakeClient::ok(), &batch).await;
    assert_eq!(forwarder.client().calls().len(), 10);
    assert_eq!(outcome.summary.forwarded, 100);
    for call in forwarder.client().calls() {
        let ts: Vec<i64> = call.events.iter().map(|e| e.sent_at_ms).collect();
        assert!(ts.windows(2).all(|w| w[0] < w[1]), "arrival order inside a group");
    }
}

#[tokio::test]
async fn concurrency_is_bounded_by_max_concurrency() {
    let payloads: Vec<_> = (0..40)
        .map(|i| workshop(&format!("user-{i}"), "item", 1_676_975_804))
        .collect();
    let batch = batch_of(&payloads);
    for limit in [1usize, 3, 8] {
        let mut config = fast_config();
        config.max_concurrency = limit;
        let client = FakeClient::ok().with_delay(std::time::Duration::from_millis(5));
        let (outcome, forwarder, _) = run(config, client, &batch).await;
        assert_eq!(outcome.summary.forwarded, 40);
        let seen = forwarder.client().max_in_flight();
        assert!(seen <= limit, "limit {limit}, saw {seen} in flight");
        assert!(seen >= 1);
        if limit > 1 {
            assert!(seen > 1, "groups should overlap with limit {limit}");
        }
    }
}

#[tokio::test]
async fn an_empty_batch_succeeds_without_calls() {
    let batch = batch_of(&[]);
    let (outcome, forwarder, sink) = run(fast_config(), FakeClient::ok(), &batch).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    assert!(forwarder.client().calls().is_empty());
    assert_eq!(sink.with_msg("invocation")[0]["received"], 0);
}
