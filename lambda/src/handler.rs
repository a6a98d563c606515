//! The handler: plan, send, log, answer with `batchItemFailures`.

use std::cmp::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::streams::KinesisEventResponse;
use serde_json::json;
use tokio::time::Instant;

use crate::config::Config;
use crate::event::KinesisBatch;
use crate::log::LogSink;
use crate::plan::plan;
use crate::send::{Delivery, PutEventsClient, send_groups};

/// The forwarder: configuration, client and log sink, built once at init.
pub struct Forwarder<C> {
    config: Config,
    client: Arc<C>,
    log: Arc<dyn LogSink>,
}

impl<C> std::fmt::Debug for Forwarder<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Counts of one invocation (also logged as its `invocation` line).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Records in the batch.
    pub received: usize,
    /// Events PutEvents accepted.
    pub forwarded: usize,
    /// Malformed records skipped (not reported).
    pub skipped: usize,
    /// Events PutEvents refused as invalid input (not reported).
    pub rejected: usize,
    /// Events not delivered (reported).
    pub failed: usize,
    /// (user, session) groups.
    pub groups: usize,
    /// PutEvents calls planned (≤ 10 events each).
    pub calls: usize,
    /// PutEvents requests made, retries and splits included.
    pub requests: usize,
}

/// What [`Forwarder::handle`] returns.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The answer to Lambda: the failed records' sequence numbers, lowest first.
    pub response: KinesisEventResponse,
    /// The counts.
    pub summary: Summary,
}

impl<C: PutEventsClient> Forwarder<C> {
    /// A forwarder over `client`, logging to `log`.
    pub fn new(config: Config, client: C, log: Arc<dyn LogSink>) -> Self {
        Self {
            config,
            client: Arc::new(client),
            log,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The client.
    pub fn client(&self) -> &C {
        &self.client
    }

    /// Handles one Kinesis batch; every call and retry ends before `deadline` less the safety
    /// margin.
    pub async fn handle(&self, batch: &KinesisBatch, deadline: Instant, request_id: &str) -> Outcome {
        let started = Instant::now();
        let log = &self.log;
        log.emit(json!({
            "level": "info",
            "msg": "received",
            "requestId": request_id,
            "records": batch.records.len(),
            "firstSequenceNumber": batch.records.first().map(|r| r.sequence_number()),
            "lastSequenceNumber": batch.records.last().map(|r| r.sequence_number()),
        }));

        let plan = plan(batch, self.config.default_event_type.as_deref());
        for s in &plan.skipped {
            log.emit(json!({
                "level": "warn",
                "msg": "skipped",
                "requestId": request_id,
                "sequenceNumber": &s.sequence_number,
                "kinesisEventId": &s.kinesis_event_id,
                "reason": s.skip.kind.as_str(),
                "detail": &s.skip.detail,
            }));
        }

        let mut summary = Summary {
            received: plan.received,
            skipped: plan.skipped.len(),
            groups: plan.groups.len(),
            calls: plan.call_count(),
            ..Summary::default()
        };
        let groups = Arc::new(plan.groups);
        let report = send_groups(
            Arc::clone(&self.client),
            &self.config,
            Arc::clone(&groups),
            deadline,
            Arc::clone(&self.log),
            Arc::from(request_id),
        )
        .await;
        summary.requests = report.requests;

        let mut failed_sequence_numbers: Vec<&str> = Vec::new();
        for (group, deliveries) in groups.iter().zip(&report.deliveries) {
            for (event, d) in group.events.iter().zip(deliveries) {
                let (msg, level, error) = match &d.delivery {
                    Delivery::Forwarded => {
                        summary.forwarded += 1;
                        ("forwarded", "info", None)
                    }
                    Delivery::Rejected { error } => {
                        summary.rejected += 1;
                        ("rejected", "error", Some(error))
                    }
                    Delivery::Failed { error } => {
                        summary.failed += 1;
                        failed_sequence_numbers.push(&event.sequence_number);
                        ("failed", "error", Some(error))
                    }
                };
                let mut line = json!({
                    "level": level,
                    "msg": msg,
                    "requestId": request_id,
                    "eventId": &event.event_id,
                    "sequenceNumber": &event.sequence_number,
                    "userId": &event.user_id,
                    "sessionId": &event.session_id,
                    "eventType": &event.event_type,
                    "itemId": &event.item_id,
                    "sentAt": event.sent_at_ms as f64 / 1000.0,
                    "attempts": d.attempts,
                });
                if let (Some(error), Some(obj)) = (error, line.as_object_mut()) {
                    obj.insert("error".into(), json!(error));
                }
                log.emit(line);
            }
        }

        failed_sequence_numbers.sort_by(|a, b| compare_sequence_numbers(a, b));
        failed_sequence_numbers.dedup();
        let mut response = KinesisEventResponse::default();
        response.set_failures(failed_sequence_numbers.iter().copied());

        log.emit(json!({
            "level": if summary.failed > 0 { "warn" } else { "info" },
            "msg": "invocation",
            "requestId": request_id,
            "received": summary.received,
            "forwarded": summary.forwarded,
            "skipped": summary.skipped,
            "rejected": summary.rejected,
            "failed": summary.failed,
            "groups": summary.groups,
            "calls": summary.calls,
            "requests": summary.requests,
            "reported": failed_sequence_numbers.len(),
            "lowestFailedSequenceNumber": failed_sequence_numbers.first(),
            "durationMs": started.elapsed().as_secs_f64() * 1000.0,
        }));
        Outcome { response, summary }
    }
}

/// Orders Kinesis sequence numbers (decimal strings of any length) numerically.
pub fn compare_sequence_numbers(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Converts Lambda's deadline (epoch milliseconds) to a monotonic instant.
pub fn deadline_from_epoch_millis(deadline_ms: u64) -> Instant {
    let deadline = UNIX_EPOCH + Duration::from_millis(deadline_ms);
    let left = deadline
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Instant::now() + left
}
