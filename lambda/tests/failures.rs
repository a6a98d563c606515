//! Retries, partial failures, and ids that stay the same across retries.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use personalize_stack_forwarder::{Forwarder, KinesisEventResponse, MemorySink, SendError};
use serde_json::json;
use tokio::time::Instant;

/// Three users: a (3 events), b (12 events: calls of 10 and 2), c (2 events), interleaved.
fn three_users() -> personalize_stack_forwarder::KinesisBatch {
    let mut payloads = Vec::new();
    for i in 0..17u64 {
        let user = match i {
            0 | 5 | 9 => "a",
            3 | 16 => "c",
            _ => "b",
        };
        payloads.push(workshop(user, &format!("item-{i}"), 1_676_975_804 + i));
    }
    batch_of(&payloads)
}

fn seqs_of_user(batch: &personalize_stack_forwarder::KinesisBatch, user: &str) -> Vec<String> {
    let p = personalize_stack_forwarder::plan::plan(batch, None);
    p.groups
        .iter()
        .filter(|g| g.user_id == user)
        .flat_map(|g| g.events.iter().map(|e| e.sequence_number.clone()))
        .collect()
}

#[tokio::test]
async fn throttling_then_success_is_retried_and_not_reported() {
    let batch = three_users();
    let client = FakeClient::scripted(|i, _| {
        if i < 2 {
            Err(SendError::retryable("ThrottlingException: Rate exceeded"))
        } else {
            Ok(())
        }
    });
    let (outcome, forwarder, sink) = run(fast_config(), client, &batch).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    assert_eq!(outcome.summary.forwarded, 17);
    assert_eq!(outcome.summary.calls, 4);
    assert_eq!(outcome.summary.requests, 6);
    assert_eq!(forwarder.client().calls().len(), 6);
    assert_eq!(sink.with_msg("retry").len(), 2);
}

#[tokio::test]
async fn one_group_failing_reports_only_its_records_from_the_lowest() {
    let batch = three_users();
    let client = FakeClient::scripted(|_, req| {
        if req.user_id == "b" {
            Err(SendError::retryable("InternalFailure: 500"))
        } else {
            Ok(())
        }
    });
    let (outcome, forwarder, sink) = run(fast_config(), client, &batch).await;
    let b = seqs_of_user(&batch, "b");
    assert_eq!(
        reported(&outcome),
        b,
        "every b record, lowest first, nothing else"
    );
    assert_eq!(outcome.summary.forwarded, 5);
    assert_eq!(outcome.summary.failed, 12);
    // b's first call is tried max_attempts (4) times; its second call is never sent because
    // the first failed (order is kept: Lambda retries from the lowest failed record).
    let b_calls: Vec<_> = forwarder
        .client()
        .calls()
        .into_iter()
        .filter(|c| c.user_id == "b")
        .collect();
    assert_eq!(b_calls.len(), 4);
    assert!(b_calls.iter().all(|c| c.events.len() == 10));
    let failed = sink.with_msg("failed");
    assert_eq!(failed.len(), 12);
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains("gave up after 4 attempts")
    );
    assert!(failed[11]["error"].as_str().unwrap().contains("not sent"));
    let summary = &sink.with_msg("invocation")[0];
    assert_eq!(summary["reported"], 12);
    assert_eq!(summary["lowestFailedSequenceNumber"], b[0].as_str());
}

#[tokio::test]
async fn invalid_input_for_one_group_does_not_fail_the_others_and_is_not_reported() {
    let batch = three_users();
    let client = FakeClient::scripted(|_, req| {
        if req.user_id == "c" {
            Err(SendError::invalid_input(
                "InvalidInputException: 1 validation error detected",
            ))
        } else {
            Ok(())
        }
    });
    let (outcome, _, sink) = run(fast_config(), client, &batch).await;
    assert!(
        outcome.response.batch_item_failures.is_empty(),
        "a rejected group can never succeed: reporting it would block the shard"
    );
    assert_eq!(outcome.summary.forwarded, 15);
    assert_eq!(outcome.summary.rejected, 2);
    let rejected = sink.with_msg("rejected");
    assert_eq!(rejected.len(), 2);
    assert!(
        rejected[0]["error"]
            .as_str()
            .unwrap()
            .contains("InvalidInputException")
    );
    assert_eq!(
        sink.with_msg("split").len(),
        1,
        "c's two-event call is split to find the bad one"
    );
}

#[tokio::test]
async fn invalid_input_splits_the_call_so_good_events_still_go_through() {
    let payloads: Vec<_> = (0..10)
        .map(|i| workshop("u", &format!("item-{i}"), 1_676_975_804 + i))
        .collect();
    let batch = batch_of(&payloads);
    let bad = batch.records[4].event_id.clone().unwrap();
    let client = FakeClient::scripted(move |_, req| {
        if req.events.iter().any(|e| e.event_id == bad) {
            Err(SendError::invalid_input("InvalidInputException: bad event"))
        } else {
            Ok(())
        }
    });
    let (outcome, forwarder, sink) = run(fast_config(), client, &batch).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    assert_eq!(outcome.summary.forwarded, 9);
    assert_eq!(outcome.summary.rejected, 1);
    let calls = forwarder.client().calls();
    assert_eq!(calls.len(), 11, "one call of 10, then 10 single-event calls");
    let rejected = sink.with_msg("rejected");
    assert_eq!(
        rejected[0]["sequenceNumber"],
        batch.records[4].kinesis.sequence_number.as_str()
    );
}

#[tokio::test]
async fn resource_not_found_is_reported_without_retrying() {
    let batch = three_users();
    let client =
        FakeClient::scripted(|_, _| Err(SendError::fatal("ResourceNotFoundException: tracker not found")));
    let (outcome, forwarder, _) = run(fast_config(), client, &batch).await;
    let mut all = sequence_numbers(&batch);
    all.sort();
    assert_eq!(reported(&outcome), all);
    assert_eq!(
        forwarder.client().calls().len(),
        3,
        "one attempt per group, no retry"
    );
}

#[tokio::test]
async fn partial_failure_response_serializes_as_lambda_expects() {
    let batch = three_users();
    let client = FakeClient::scripted(|_, req| {
        if req.user_id == "a" {
            Err(SendError::retryable("ThrottlingException"))
        } else {
            Ok(())
        }
    });
    let (outcome, _, _) = run(fast_config(), client, &batch).await;
    let a = seqs_of_user(&batch, "a");
    let value = serde_json::to_value(&outcome.response).unwrap();
    let expected: Vec<_> = a.iter().map(|s| json!({"itemIdentifier": s})).collect();
    assert_eq!(value, json!({ "batchItemFailures": expected }));
    // Lambda's own type reads it back.
    let back: KinesisEventResponse = serde_json::from_value(value).unwrap();
    assert_eq!(back.batch_item_failures.len(), 3);
    let success = serde_json::to_value(KinesisEventResponse::default()).unwrap();
    assert_eq!(success, json!({"batchItemFailures": []}));
}

#[tokio::test]
async fn event_ids_are_identical_across_retries_and_redelivery() {
    let batch = three_users();
    // First invocation: b fails; Lambda then redelivers from b's lowest failed record.
    let fail_b = Arc::new(AtomicUsize::new(1));
    let flag = Arc::clone(&fail_b);
    let client = FakeClient::scripted(move |_, req| {
        if req.user_id == "b" && flag.load(Ordering::SeqCst) == 1 {
            Err(SendError::retryable("ThrottlingException"))
        } else {
            Ok(())
        }
    });
    let sink = Arc::new(MemorySink::new());
    let forwarder = Forwarder::new(fast_config(), client, sink.clone());
    let first = forwarder.handle(&batch, far_deadline(), "req-1").await;
    let lowest = reported(&first)[0].clone();
    let first_ids: Vec<Vec<String>> = forwarder.client().calls().iter().map(|c| c.event_ids()).collect();

    // The redelivered batch: every record from the lowest failed sequence number on.
    let mut retry = batch.clone();
    retry.records.retain(|r| {
        personalize_stack_forwarder::handler::compare_sequence_numbers(&r.kinesis.sequence_number, &lowest)
            .is_ge()
    });
    fail_b.store(0, Ordering::SeqCst);
    let second = forwarder.handle(&retry, far_deadline(), "req-2").await;
    assert!(second.response.batch_item_failures.is_empty());
    let calls = forwarder.client().calls();
    let second_ids: Vec<String> = calls[first_ids.len()..]
        .iter()
        .flat_map(|c| c.event_ids())
        .collect();
    // Every id sent the second time was derived from its record exactly as the first time.
    for record in &retry.records {
        let id = record.event_id.clone().unwrap();
        assert!(second_ids.contains(&id));
    }
    let b_first: Vec<String> = first_ids
        .iter()
        .flatten()
        .filter(|id| second_ids.contains(id))
        .cloned()
        .collect();
    assert!(!b_first.is_empty(), "the retried b events reuse their first ids");

    // A third, identical invocation (Kinesis redelivery) produces the same calls and ids.
    let before = forwarder.client().calls().len();
    forwarder.handle(&retry, far_deadline(), "req-3").await;
    let calls = forwarder.client().calls();
    let third: Vec<Vec<String>> = calls[before..].iter().map(|c| c.event_ids()).collect();
    let second_grouped: Vec<Vec<String>> = calls[first_ids.len()..before]
        .iter()
        .map(|c| c.event_ids())
        .collect();
    let mut a = third.clone();
    let mut b = second_grouped.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[tokio::test]
async fn retries_stop_before_the_deadline_and_the_rest_is_reported() {
    let batch = three_users();
    let mut config = fast_config();
    config.retry.max_attempts = 1000;
    config.retry.base_backoff = Duration::from_millis(20);
    config.retry.max_backoff = Duration::from_millis(40);
    config.retry.safety_margin = Duration::from_millis(100);
    let client = FakeClient::scripted(|_, _| Err(SendError::retryable("ThrottlingException")));
    let sink = Arc::new(MemorySink::new());
    let forwarder = Forwarder::new(config, client, sink.clone());
    let started = Instant::now();
    let deadline = started + Duration::from_millis(600);
    let outcome = forwarder.handle(&batch, deadline, "req-1").await;
    let finished = Instant::now();
    assert!(
        finished <= deadline - Duration::from_millis(50),
        "finished {:?} after start",
        finished - started
    );
    assert_eq!(reported(&outcome).len(), 17);
    assert!(
        forwarder.client().calls().len() > 3,
        "retried while time remained"
    );
}

#[tokio::test]
async fn a_hanging_call_times_out_inside_the_deadline() {
    let batch = batch_of(&[workshop("u", "i", 1_676_975_804)]);
    let mut config = fast_config();
    config.retry.safety_margin = Duration::from_millis(100);
    let client = FakeClient::ok().with_delay(Duration::from_secs(30));
    let forwarder = Forwarder::new(config, client, Arc::new(MemorySink::new()));
    let started = Instant::now();
    let outcome = forwarder
        .handle(&batch, started + Duration::from_millis(500), "req-1")
        .await;
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(reported(&outcome), sequence_numbers(&batch));
}

#[tokio::test]
async fn a_past_deadline_reports_everything_without_calls() {
    let batch = three_users();
    let forwarder = Forwarder::new(fast_config(), FakeClient::ok(), Arc::new(MemorySink::new()));
    let outcome = forwarder.handle(&batch, Instant::now(), "req-1").await;
    assert_eq!(reported(&outcome).len(), 17);
    assert!(forwarder.client().calls().is_empty());
}
