//! `personalize-stack-forwarder`: the Lambda function between the Kinesis stream and the
//! Amazon Personalize event tracker (DESIGN §7). It replaces the workshop's Python function,
//! which made one PutEvents call per record, gave every record handled in the same second the
//! same `eventId`, put every user in session `"session1"`, sent the item as
//! `properties.ITEM_ID` and failed (and re-sent) the whole batch on any error.
//!
//! # Steps
//!
//! 1. **Decode** ([`parse`]): each record's `kinesis.data` is decoded once: base64 → UTF-8 →
//!    JSON object. The event is read with lenient types ([`event`]) so one bad record cannot
//!    fail the whole invocation.
//! 2. **Plan** ([`plan`], pure): good records are grouped by (userId, sessionId) in arrival
//!    order — groups ordered by their first record, events inside a group in record order —
//!    and each group is cut into PutEvents calls of at most 10 events (25 events of one user
//!    → calls of 10, 10 and 5, in order).
//! 3. **Send** ([`send`]): over the [`PutEventsClient`] trait (implemented for
//!    `aws_sdk_personalizeevents::Client` in [`aws`]). Up to `MAX_CONCURRENCY` groups are sent
//!    at once; the calls of one group go one after another.
//! 4. **Answer** ([`handler`]): `{"batchItemFailures": [{"itemIdentifier": <sequenceNumber>}]}`
//!    listing every failed record, lowest sequence number first; an empty list is success.
//!
//! # Accepted record shapes
//!
//! The user-id key decides the shape (both keys present → malformed, `ambiguous_shape`);
//! only that shape's keys are read, unknown keys are ignored.
//!
//! | field | workshop shape | camelCase (PutEvents) shape |
//! |---|---|---|
//! | user | `userid` (required) | `userId` (required) |
//! | item | `itemid` (**required**) | `itemId` (optional only if `impression` or `properties` is present) |
//! | type | `event_type` | `eventType` |
//! | time | `timestamp` | `sentAt` |
//! | session | `sessionid` or `session_id` | `sessionId` |
//! | value | `event_value` | `eventValue` |
//! | recommendation | `recommendation_id` | `recommendationId` |
//! | event id | `event_id` | `eventId` |
//! | shared | `properties` (object, or a string holding one), `impression` (list, or `"a\|b"`) | same |
//!
//! Ids may be strings or numbers (`"userid": 146456223` becomes `"146456223"`); empty strings
//! count as absent. Limits are checked before sending, so one bad event cannot get a whole
//! call refused: ids ≤ 256 characters, `recommendationId` ≤ 40, `impression` ≤ 25 items,
//! `properties` JSON-encoded ≤ 1,024 characters and without the reserved keys (`userId`,
//! `sessionId`, `eventType`, `timestamp`, `recommendationId`, `impression`, any case), an event
//! ≤ about 10 KB.
//!
//! # Derived values
//!
//! - **sentAt**: a JSON number or a numeric string (the workshop sends `"1676975804"`) of epoch
//!   seconds, or of epoch milliseconds (values ≥ 1e11 are milliseconds: 1e11 s is the year
//!   5138, 1e11 ms is 1973), or an RFC 3339 string; always sent as a numeric `sentAt`. Values
//!   ≤ 0, non-finite, or past 9999 (microseconds) are malformed. A record with no timestamp
//!   at all gets the Kinesis `approximateArrivalTimestamp` (stable across redelivery).
//! - **sessionId**: the record's, else **the user id** — one session per user, never one
//!   constant shared by every user.
//! - **eventId**: the record's own, else the Kinesis record's `eventID`
//!   (`shardId-000000000000:<sequenceNumber>`, 77 characters), else the sequence number. It
//!   depends only on the record, so Lambda retries and Kinesis redelivery send the same id
//!   (Personalize ignores repeats of an id in training). The injection test can compute it
//!   from PutRecords' `ShardId` and `SequenceNumber`.
//! - **eventType**: the record's, else `DEFAULT_EVENT_TYPE` if set.
//!
//! # Failures
//!
//! - **Malformed records** (no sequence number or data, bad base64, not UTF-8, not JSON, not an
//!   object, no user, no item, no type, bad timestamp, bad properties, bad field) are logged as
//!   `skipped` with their sequence number and reason, never retried and never reported: they
//!   cannot block the shard.
//! - **Retryable PutEvents errors** (throttling: `ThrottlingException`,
//!   `TooManyRequestsException`, 429; `InternalFailure` and every 5xx; timeouts and connection
//!   errors) are retried with exponential backoff (100 ms doubling, ≤ 2 s, equal jitter, ≤ 6
//!   attempts) while time remains: no attempt or backoff may end later than the invocation's
//!   deadline less a 1 s safety margin. What still fails is reported.
//! - **`InvalidInputException`**: a refused call can never succeed, and reporting it would
//!   block the shard until `max_retries` runs out. A multi-event call is split into single-event
//!   calls so the good events still go through; an event refused alone is logged as
//!   `rejected` with AWS's message and **not** reported (it is effectively skipped). Other
//!   groups are unaffected.
//! - **`ResourceNotFoundException`** (wrong tracking id, tracker not ACTIVE), access denied and
//!   other 4xx are configuration errors: not retried within the invocation but **reported**, so
//!   Lambda retries later (bounded by the mapping's `max_retries` / `max_record_age_s`) and
//!   the events arrive once the configuration is fixed.
//! - When a call of a group fails, that group's later calls are not sent and are reported too:
//!   Lambda restarts from the lowest reported sequence number, so a user's events keep their
//!   order. Records after it that were already forwarded are sent again with the same
//!   eventIds.
//!
//! # Configuration ([`Config`])
//!
//! `TRACKING_ID` (required; `bootstrap` fails init with a clear message without it),
//! `DEFAULT_EVENT_TYPE` (optional), `MAX_CONCURRENCY` (PutEvents calls in flight, 1–64,
//! default 16).
//!
//! # Logs
//!
//! One JSON object per line on stdout, each with `level`, `msg` and `requestId`: `received`
//! (record count and sequence-number range), one `skipped` per malformed record, `retry` and
//! `split` as they happen, one `forwarded` / `rejected` / `failed` per event carrying its
//! `eventId` and `sequenceNumber`, and a closing `invocation` line with the counts (received,
//! forwarded, skipped, rejected, failed, groups, calls, requests, reported, durationMs).
//!
//! # Building
//!
//! `cargo build -p personalize-stack-forwarder --profile release-lambda` builds the `bootstrap`
//! binary for the `provided.al2023` runtime; the `release-lambda` profile (workspace root)
//! adds fat LTO, one codegen unit, `panic = "abort"` and stripping.

pub mod aws;
pub mod config;
pub mod event;
pub mod handler;
pub mod log;
pub mod parse;
pub mod plan;
pub mod send;

pub use config::{Config, ConfigError, RetryPolicy};
pub use event::{KinesisBatch, KinesisEventRecord, KinesisRecordData};
pub use handler::{Forwarder, Outcome, Summary};
pub use log::{LogSink, MemorySink, NullSink, StdoutSink};
pub use parse::{ForwardEvent, Skip, SkipKind};
pub use plan::{Group, Plan, SkippedRecord};
pub use send::{Delivery, ErrorKind, PutEventsClient, PutEventsRequest, SendError};

/// Re-exported so callers can build the response without depending on `aws_lambda_events`.
pub use aws_lambda_events::streams::{KinesisBatchItemFailure, KinesisEventResponse};
