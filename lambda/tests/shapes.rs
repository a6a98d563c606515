//! Every accepted record shape, from fixtures that are Kinesis events as Lambda sends them.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::*;
use personalize_stack_forwarder::parse::{EventIdSource, SentAtSource, Shape};
use personalize_stack_forwarder::plan::plan;
use personalize_stack_forwarder::{ForwardEvent, KinesisBatch};

fn events(batch: &KinesisBatch) -> Vec<ForwardEvent> {
    let p = plan(batch, None);
    assert!(p.skipped.is_empty(), "unexpected skips: {:?}", p.skipped);
    let mut all: Vec<ForwardEvent> = p.groups.into_iter().flat_map(|g| g.events).collect();
    all.sort_by(|a, b| a.sequence_number.cmp(&b.sequence_number));
    all
}

#[test]
fn fixtures_are_events_as_lambda_sends_them() {
    for name in [
        "workshop_seed.json",
        "workshop_shapes.json",
        "camel_shapes.json",
        "one_user_25.json",
        "interleaved_users.json",
    ] {
        let official: Result<aws_lambda_events::event::kinesis::KinesisEvent, _> =
            serde_json::from_str(&fixture_text(name));
        let official = official.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(official.records.len(), fixture(name).records.len(), "{name}");
    }
    // The official type decodes base64 while deserializing: one bad record fails the whole
    // event. That is why the forwarder reads the event leniently.
    let strict: Result<aws_lambda_events::event::kinesis::KinesisEvent, _> =
        serde_json::from_str(&fixture_text("malformed.json"));
    assert!(strict.is_err());
    assert_eq!(fixture("malformed.json").records.len(), 27);
}

#[tokio::test]
async fn workshop_seed_records_become_one_call_with_stable_ids() {
    let batch = fixture("workshop_seed.json");
    let (outcome, forwarder, sink) = run(fast_config(), FakeClient::ok(), &batch).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    assert_eq!(outcome.summary.forwarded, 7);
    assert_eq!(outcome.summary.calls, 1);

    let calls = forwarder.client().calls();
    assert_eq!(calls.len(), 1, "seven events of one user: one call, not seven");
    let call = &calls[0];
    assert_eq!(call.tracking_id, TRACKING_ID);
    assert_eq!(call.user_id, "146456223");
    assert_eq!(call.session_id, "146456223", "session falls back to the user id");
    let items: Vec<_> = call.events.iter().map(|e| e.item_id.clone().unwrap()).collect();
    assert_eq!(items[0], "zGRmEOdTo648OJoqhmazwKPuWpA=");
    assert_eq!(items[6], "zGRmEOdTo648OJoqhmazwKPuWpA=");
    let types: Vec<_> = call.events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "click",
            "click",
            "click",
            "click",
            "adds_to_cart",
            "adds_to_cart",
            "checkouts"
        ]
    );
    // "timestamp": "1676975804" (a numeric string of seconds) → numeric sentAt.
    assert_eq!(call.events[0].sent_at_ms, 1_676_975_804_000);
    assert_eq!(call.events[6].sent_at_ms, 1_676_977_844_000);
    for (event, record) in call.events.iter().zip(&batch.records) {
        assert_eq!(Some(&event.event_id), record.event_id.as_ref());
        assert_eq!(event.event_id_source, EventIdSource::KinesisEventId);
        assert!(event.event_id.starts_with("shardId-000000000000:"));
        assert_eq!(
            event.properties, None,
            "the item is top-level itemId, not properties.ITEM_ID"
        );
        assert_eq!(event.shape, Shape::Workshop);
    }
    // Every event id is distinct (the seed's time-based ids collide within a second).
    let mut ids = call.event_ids();
    ids.dedup();
    assert_eq!(ids.len(), 7);
    // One `forwarded` log line per event carrying its eventId.
    let forwarded = sink.with_msg("forwarded");
    assert_eq!(forwarded.len(), 7);
    for (line, event) in forwarded.iter().zip(&call.events) {
        assert_eq!(line["eventId"], event.event_id.as_str());
        assert_eq!(line["sequenceNumber"], event.sequence_number.as_str());
        assert_eq!(line["requestId"], "req-1");
    }
    let summary = sink.with_msg("invocation");
    assert_eq!(summary.len(), 1);
    assert_eq!(summary[0]["received"], 7);
    assert_eq!(summary[0]["forwarded"], 7);
    assert_eq!(summary[0]["skipped"], 0);
    assert_eq!(summary[0]["failed"], 0);
    assert_eq!(sink.with_msg("received")[0]["records"], 7);
}

#[test]
fn workshop_shape_variants() {
    let e = events(&fixture("workshop_shapes.json"));
    assert_eq!(e.len(), 10);
    // Numeric userid and numeric epoch seconds.
    assert_eq!(e[0].user_id, "146456223");
    assert_eq!(e[0].sent_at_ms, 1_676_975_804_000);
    // Epoch milliseconds as a number and as a string (told apart from seconds by magnitude).
    assert_eq!(e[1].sent_at_ms, 1_676_975_804_123);
    assert_eq!(e[2].sent_at_ms, 1_676_975_804_123);
    // RFC 3339, UTC and with an offset and a fraction.
    assert_eq!(e[3].sent_at_ms, 1_676_975_804_000);
    assert_eq!(e[4].sent_at_ms, 1_676_975_804_500);
    // sessionid and session_id.
    assert_eq!(e[5].session_id, "s-6");
    assert_eq!(e[6].session_id, "s-7");
    assert_eq!(e[0].session_id, e[0].user_id);
    // Every optional field.
    let full = &e[7];
    assert_eq!(full.event_type, "rating");
    assert_eq!(full.event_value, Some(4.5));
    assert_eq!(
        full.properties.as_deref(),
        Some(r#"{"numRatings":3,"color":"red"}"#)
    );
    assert_eq!(full.impression, ["item-8", "item-9", "item-10"]);
    assert_eq!(full.recommendation_id.as_deref(), Some("RID-8"));
    assert_eq!(full.event_id, "client-event-8");
    assert_eq!(full.event_id_source, EventIdSource::Record);
    // Non-ASCII item id decoded as UTF-8; no timestamp → the record's arrival time.
    assert_eq!(e[8].item_id.as_deref(), Some("café-☕"));
    assert_eq!(e[8].sent_at_source, SentAtSource::ArrivalTime);
    assert_eq!(e[8].sent_at_ms, 1_676_975_901_000);
    // Fractional seconds and a numeric event value.
    assert_eq!(e[9].sent_at_ms, 1_676_975_804_250);
    assert_eq!(e[9].event_value, Some(2.0));
    assert!(e.iter().all(|x| x.shape == Shape::Workshop));
}

#[test]
fn camel_case_shape_variants() {
    let e = events(&fixture("camel_shapes.json"));
    assert_eq!(e.len(), 8);
    assert!(e.iter().all(|x| x.shape == Shape::CamelCase));
    let full = &e[0];
    assert_eq!(full.user_id, "c1");
    assert_eq!(full.session_id, "sess-1");
    assert_eq!(full.event_type, "click");
    assert_eq!(full.item_id.as_deref(), Some("i-1"));
    assert_eq!(full.sent_at_ms, 1_676_975_804_000);
    assert_eq!(full.event_value, Some(1.5));
    assert_eq!(full.properties.as_deref(), Some(r#"{"discount":"yes"}"#));
    assert_eq!(full.impression, ["i-1", "i-2"]);
    assert_eq!(full.recommendation_id.as_deref(), Some("rec-1"));
    assert_eq!(full.event_id, "evt-c1");
    assert_eq!(e[1].sent_at_ms, 1_676_975_804_123);
    assert_eq!(e[1].session_id, "c2");
    assert_eq!(e[2].sent_at_ms, 1_676_975_804_123);
    // properties given as PutEvents' own JSON string.
    assert_eq!(e[3].properties.as_deref(), Some(r#"{"color":"blue"}"#));
    assert_eq!(e[3].sent_at_ms, 1_676_975_804_000);
    // No itemId: allowed with impression or with properties.
    assert_eq!(e[4].item_id, None);
    assert_eq!(e[4].impression, ["i-5", "i-6", "i-7"]);
    assert_eq!(e[5].item_id, None);
    assert_eq!(e[5].properties.as_deref(), Some(r#"{"genre":"drama"}"#));
    // Pipe-separated impression string.
    assert_eq!(e[6].impression, ["i-7", "i-8", "i-9"]);
    // Numeric ids.
    assert_eq!(e[7].user_id, "42");
    assert_eq!(e[7].item_id.as_deref(), Some("1001"));
    assert_eq!(e[7].event_id_source, EventIdSource::KinesisEventId);
}

#[test]
fn default_event_type_fills_missing_types() {
    let batch = batch_of(&[serde_json::json!({"userid": "u", "itemid": "i", "timestamp": 1_676_975_804})]);
    assert_eq!(plan(&batch, None).skipped.len(), 1);
    let p = plan(&batch, Some("view"));
    assert!(p.skipped.is_empty());
    assert_eq!(p.groups[0].events[0].event_type, "view");
}

#[test]
fn event_id_falls_back_to_the_sequence_number_without_kinesis_event_id() {
    let mut batch = batch_of(&[workshop("u", "i", 1_676_975_804)]);
    batch.records[0].event_id = None;
    let p = plan(&batch, None);
    let event = &p.groups[0].events[0];
    assert_eq!(event.event_id, batch.records[0].kinesis.sequence_number);
    assert_eq!(event.event_id_source, EventIdSource::SequenceNumber);
}
