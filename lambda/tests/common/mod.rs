//! Shared test helpers: fixtures, an in-memory PutEvents fake, fast configurations.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

// Only the runtime API tests use the stub.
#[allow(unused_imports)]
pub use personalize_stack_test_support::http_stub as http;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use personalize_stack_forwarder::{
    Config, ForwardEvent, Forwarder, KinesisBatch, MemorySink, Outcome, PutEventsClient, PutEventsRequest,
    RetryPolicy, SendError,
};
use serde_json::{Value, json};
use tokio::time::Instant;

/// The tracking id used by every test.
pub const TRACKING_ID: &str = "11111111-2222-3333-4444-555555555555";

/// Reads `tests/fixtures/<name>` as the raw JSON text Lambda would send.
pub fn fixture_text(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parses a fixture into the forwarder's event type.
pub fn fixture(name: &str) -> KinesisBatch {
    serde_json::from_str(&fixture_text(name)).unwrap()
}

/// A Kinesis event built from payloads (each JSON-encoded then base64-encoded once), on shard 0,
/// with sequence numbers `base + 10*i`.
pub fn batch_of(payloads: &[Value]) -> KinesisBatch {
    let records: Vec<Value> = payloads
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let seq = format!(
                "49590338271490256608559692538361571095921575989136{:06}",
                10 * i + 2
            );
            json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "pk",
                    "sequenceNumber": seq,
                    "data": base64::engine::general_purpose::STANDARD.encode(p.to_string()),
                    "approximateArrivalTimestamp": 1_676_975_900.5,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("shardId-000000000000:{seq}"),
                "eventName": "aws:kinesis:record",
                "awsRegion": "us-east-1",
                "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/PutEvent-datastream",
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

/// A workshop-shape payload.
pub fn workshop(user: &str, item: &str, ts: u64) -> Value {
    json!({"userid": user, "itemid": item, "timestamp": ts.to_string(), "event_type": "click"})
}

/// A configuration with millisecond backoffs so retry tests run fast.
pub fn fast_config() -> Config {
    let mut config = Config::new(TRACKING_ID);
    config.retry = RetryPolicy {
        base_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(4),
        max_attempts: 4,
        safety_margin: Duration::from_millis(50),
        attempt_timeout: Duration::from_secs(2),
    };
    config
}

/// Ten seconds from now.
pub fn far_deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

/// One call the fake received.
#[derive(Debug, Clone)]
pub struct RecordedCall {
    /// The tracking id.
    pub tracking_id: String,
    /// The user.
    pub user_id: String,
    /// The session.
    pub session_id: String,
    /// The events.
    pub events: Vec<ForwardEvent>,
}

impl RecordedCall {
    /// The events' ids.
    pub fn event_ids(&self) -> Vec<String> {
        self.events.iter().map(|e| e.event_id.clone()).collect()
    }
}

type Script = dyn Fn(usize, &PutEventsRequest<'_>) -> Result<(), SendError> + Send + Sync;

/// An in-memory PutEvents: records every call and answers with a script (call index, request).
pub struct FakeClient {
    calls: Mutex<Vec<RecordedCall>>,
    script: Box<Script>,
    delay: Duration,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl FakeClient {
    /// Accepts everything.
    pub fn ok() -> Self {
        Self::scripted(|_, _| Ok(()))
    }

    /// Answers with `script`.
    pub fn scripted(
        script: impl Fn(usize, &PutEventsRequest<'_>) -> Result<(), SendError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            calls: Mutex::new(Vec::new()),
            script: Box::new(script),
            delay: Duration::ZERO,
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        }
    }

    /// Each call takes `delay` before answering.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Every call so far, in the order they were made.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.calls.lock().unwrap().clone()
    }

    /// The most calls that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

impl PutEventsClient for FakeClient {
    async fn put_events(&self, request: PutEventsRequest<'_>) -> Result<(), SendError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let index = {
            let mut calls = self.calls.lock().unwrap();
            calls.push(RecordedCall {
                tracking_id: request.tracking_id.to_owned(),
                user_id: request.user_id.to_owned(),
                session_id: request.session_id.to_owned(),
                events: request.events.to_vec(),
            });
            calls.len() - 1
        };
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        } else {
            tokio::task::yield_now().await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        (self.script)(index, &request)
    }
}

/// Runs one batch through a forwarder over `client`; returns the outcome, the forwarder (for
/// its client) and the log lines.
pub async fn run(
    config: Config,
    client: FakeClient,
    batch: &KinesisBatch,
) -> (Outcome, Forwarder<FakeClient>, Arc<MemorySink>) {
    let sink = Arc::new(MemorySink::new());
    let forwarder = Forwarder::new(config, client, sink.clone());
    let outcome = forwarder.handle(batch, far_deadline(), "req-1").await;
    (outcome, forwarder, sink)
}

/// The reported sequence numbers.
pub fn reported(outcome: &Outcome) -> Vec<String> {
    outcome
        .response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().unwrap_or_default())
        .collect()
}

/// The sequence numbers of a batch, in order.
pub fn sequence_numbers(batch: &KinesisBatch) -> Vec<String> {
    batch
        .records
        .iter()
        .map(|r| r.kinesis.sequence_number.clone())
        .collect()
}
