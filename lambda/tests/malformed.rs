//! Every malformed kind is skipped with its reason, logged, and never reported.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::*;
use personalize_stack_forwarder::SkipKind;
use personalize_stack_forwarder::plan::plan;

/// The fixture's records in order, by what should happen to each.
const EXPECTED: [&str; 27] = [
    "good",
    "bad_base64",
    "not_utf8",
    "not_json",
    "not_object",
    "not_object",
    "missing_user",
    "missing_user",
    "missing_user",
    "ambiguous_shape",
    "missing_item",
    "missing_item",
    "missing_item",
    "missing_event_type",
    "bad_timestamp",
    "bad_timestamp",
    "bad_timestamp",
    "bad_timestamp",
    "bad_timestamp",
    "bad_properties",
    "bad_properties",
    "bad_properties",
    "bad_field",
    "bad_field",
    "bad_field",
    "bad_field",
    "good",
];

#[test]
fn every_malformed_kind_is_skipped_with_its_reason() {
    let batch = fixture("malformed.json");
    let p = plan(&batch, None);
    let seqs = sequence_numbers(&batch);
    let expected_skips: Vec<(String, &str)> = EXPECTED
        .iter()
        .zip(&seqs)
        .filter(|(kind, _)| **kind != "good")
        .map(|(kind, seq)| (seq.clone(), *kind))
        .collect();
    let actual: Vec<(String, &str)> = p
        .skipped
        .iter()
        .map(|s| (s.sequence_number.clone(), s.skip.kind.as_str()))
        .collect();
    assert_eq!(actual, expected_skips);
    for s in &p.skipped {
        assert!(!s.skip.detail.is_empty());
        assert!(s.kinesis_event_id.is_some());
    }
    assert_eq!(p.event_count(), 2);
    assert_eq!(p.groups.len(), 1);
}

#[tokio::test]
async fn skipped_records_are_logged_and_never_reported() {
    let batch = fixture("malformed.json");
    let (outcome, forwarder, sink) = run(fast_config(), FakeClient::ok(), &batch).await;
    assert!(
        outcome.response.batch_item_failures.is_empty(),
        "malformed records must never block the shard"
    );
    assert_eq!(outcome.summary.skipped, 25);
    assert_eq!(outcome.summary.forwarded, 2);
    let calls = forwarder.client().calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].events.len(), 2);

    let skipped = sink.with_msg("skipped");
    assert_eq!(skipped.len(), 25);
    let seqs = sequence_numbers(&batch);
    for line in &skipped {
        let seq = line["sequenceNumber"].as_str().unwrap();
        let i = seqs.iter().position(|s| s == seq).unwrap();
        assert_eq!(line["reason"], EXPECTED[i]);
        assert!(line["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    // The oversize-properties record says why.
    let oversize = &skipped[18];
    assert_eq!(oversize["reason"], "bad_properties");
    assert!(oversize["detail"].as_str().unwrap().contains("more than 1024"));
}

#[test]
fn records_without_sequence_number_or_data_are_skipped() {
    let mut batch = batch_of(&[
        workshop("u", "i", 1_676_975_804),
        workshop("u", "j", 1_676_975_805),
    ]);
    batch.records[0].kinesis.sequence_number.clear();
    batch.records[1].kinesis.data = None;
    let p = plan(&batch, None);
    let kinds: Vec<SkipKind> = p.skipped.iter().map(|s| s.skip.kind).collect();
    assert_eq!(kinds, [SkipKind::MissingSequenceNumber, SkipKind::MissingData]);
}

#[test]
fn missing_timestamp_without_arrival_time_is_bad() {
    let mut batch = batch_of(&[serde_json::json!({"userId": "u", "itemId": "i", "eventType": "click"})]);
    batch.records[0].kinesis.approximate_arrival_timestamp = None;
    let p = plan(&batch, None);
    assert_eq!(p.skipped[0].skip.kind, SkipKind::BadTimestamp);
}

#[test]
fn properties_at_the_limit_pass_and_one_more_character_fails() {
    // {"k":"<v>"} is 8 characters plus the value.
    let fits = "x".repeat(1024 - 8);
    let over = "x".repeat(1024 - 7);
    let batch = batch_of(&[
        serde_json::json!({"userid": "u", "itemid": "i", "timestamp": 1_676_975_804, "event_type": "c", "properties": {"k": fits}}),
        serde_json::json!({"userid": "u", "itemid": "i", "timestamp": 1_676_975_804, "event_type": "c", "properties": {"k": over}}),
    ]);
    let p = plan(&batch, None);
    assert_eq!(p.event_count(), 1);
    assert_eq!(
        p.groups[0].events[0].properties.as_ref().unwrap().chars().count(),
        1024
    );
    assert_eq!(p.skipped.len(), 1);
    assert_eq!(p.skipped[0].skip.kind, SkipKind::BadProperties);
}
