//! The poller of one Kinesis shard for one event source mapping, with Lambda's semantics
//! (local-runtime.md §4, aws-facts.md §2.3):
//!
//! - **Start.** With no checkpoint, reading starts at the mapping's `StartingPosition`:
//!   `TRIM_HORIZON`, `AT_TIMESTAMP`, or `LATEST`, which is pinned at once to the shard's
//!   last record as a checkpoint, so records written later are never skipped, even across
//!   restarts.
//! - **Batches.** Up to `BatchSize` records of the shard, in order, at most 6 MB of event;
//!   with `MaximumBatchingWindowInSeconds`, a partial batch waits up to that long to fill.
//!   The function is invoked synchronously with the Kinesis event exactly as Lambda builds it.
//! - **Checkpoints** are written to the store (so they survive restarts) only after success,
//!   under `{account}/{region}/lambda/checkpoint/{uuid}/{shardId}`:
//!   `{"SequenceNumber": last processed (null: from the shard's start), "updated_ms"}`.
//!   Delivery is at least once: a restart resumes after the checkpoint.
//! - **Failures** (a function error, a timeout, a crash) retry the batch with exponential
//!   backoff (the poll interval doubled per attempt, at most 60 s).
//!   `BisectBatchOnFunctionError` splits a failed batch in two (not counted as a retry);
//!   after `MaximumRetryAttempts` retries (-1: forever), or for records older than
//!   `MaximumRecordAgeInSeconds` (-1: any age), records are skipped: checkpointed past, and
//!   when an `OnFailure` destination is set, the invocation record Lambda would send there is
//!   stored (SQS and SNS are not emulated) under
//!   `{account}/{region}/lambda/on-failure/{uuid}/{epoch ms}-{first sequence number}`
//!   (`/_local/resources` lists them; they go when the mapping is deleted, as do its
//!   checkpoints).
//!   Lambda's own refusals (function missing, `Pending`) retry without counting.
//! - **`ReportBatchItemFailures`**: `{"batchItemFailures": [{"itemIdentifier": seq}]}`
//!   checkpoints just before the lowest failed record and retries from it; an empty, null or
//!   unknown identifier fails the whole batch; an empty or null list is a success.
//! - `LastProcessingResult` becomes `OK` or `PROBLEM: Function call failed`.

use super::executor::{Executor, Invocation, Outcome};
use crate::auth::Caller;
use crate::server::Runtime;
use crate::services::kinesis::{ShardPosition, StoredRecord, latest_sequence_number, read_shard};
use crate::services::{Ctx, now_ms};
use crate::store::StoreError;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Lambda's limit on the event of one invocation.
const MAX_EVENT_BYTES: usize = 6 * 1024 * 1024;

/// The most a failing batch waits between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The key prefix of a mapping's checkpoints.
pub(crate) fn checkpoint_prefix(account: &str, region: &str, uuid: &str) -> String {
    format!("{account}/{region}/lambda/checkpoint/{uuid}/")
}

/// The key prefix of the `OnFailure` records of a mapping.
pub(crate) fn on_failure_prefix(account: &str, region: &str, uuid: &str) -> String {
    format!("{account}/{region}/lambda/on-failure/{uuid}/")
}

/// What one poller reads, and for which mapping.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ShardTarget {
    /// The mapping's account.
    pub account: String,
    /// The mapping's region.
    pub region: String,
    /// The mapping.
    pub uuid: String,
    /// The stream's ARN.
    pub stream_arn: String,
    /// The shard.
    pub shard_id: String,
}

/// A checkpoint as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Checkpoint {
    /// The last record processed; `None`: none yet, read from the shard's start.
    #[serde(rename = "SequenceNumber")]
    sequence_number: Option<String>,
    updated_ms: u64,
}

/// The mapping's settings the poller follows (re-read for every batch, so updates apply).
#[derive(Debug, Clone)]
struct Settings {
    function_arn: String,
    starting_position: String,
    starting_timestamp: f64,
    batch_size: usize,
    window: Duration,
    bisect: bool,
    max_retries: i64,
    max_age_secs: i64,
    report_item_failures: bool,
    on_failure: Option<String>,
}

impl Settings {
    fn from_doc(doc: &Value) -> Settings {
        let int = |f: &str, default: i64| doc.get(f).and_then(Value::as_i64).unwrap_or(default);
        Settings {
            function_arn: doc["FunctionArn"].as_str().unwrap_or_default().to_owned(),
            starting_position: doc["StartingPosition"].as_str().unwrap_or("LATEST").to_owned(),
            starting_timestamp: doc["StartingPositionTimestamp"].as_f64().unwrap_or(0.0),
            batch_size: usize::try_from(int("BatchSize", 100)).unwrap_or(100).max(1),
            window: Duration::from_secs(u64::try_from(int("MaximumBatchingWindowInSeconds", 0)).unwrap_or(0)),
            bisect: doc["BisectBatchOnFunctionError"].as_bool().unwrap_or(false),
            max_retries: int("MaximumRetryAttempts", -1),
            max_age_secs: int("MaximumRecordAgeInSeconds", -1),
            report_item_failures: doc["FunctionResponseTypes"]
                .as_array()
                .is_some_and(|t| t.iter().any(|v| v == "ReportBatchItemFailures")),
            on_failure: doc["DestinationConfig"]["OnFailure"]["Destination"]
                .as_str()
                .map(str::to_owned),
        }
    }
}

/// How an invocation of a batch went.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// Every record processed.
    Success,
    /// Records before this index processed; the rest failed.
    Partial(usize),
    /// The whole batch failed.
    Failed,
    /// Lambda refused to invoke (no function, not active): retry without counting.
    Refused,
}

/// Whether the poller should go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

/// What a running poller is doing. `GET /_local/pollers` shows every one, so a test waits for
/// the moment it needs (a batching window holding records, a poller gone, everything
/// delivered) instead of sleeping for it.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Activity {
    /// The mapping.
    pub uuid: String,
    /// The shard.
    pub shard_id: String,
    /// Records read and held while a batching window fills.
    pub held: usize,
    /// A batch is being delivered: the function runs, or a failed batch waits to be retried.
    pub delivering: bool,
    /// The last read found nothing, and nothing is held or being delivered: every record
    /// written before that read has been delivered.
    pub idle: bool,
}

/// The activity of every running poller, kept by the pollers themselves.
#[derive(Debug, Default)]
pub(crate) struct Board {
    pollers: std::sync::Mutex<std::collections::BTreeMap<(String, String), Activity>>,
}

impl Board {
    fn entries(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<(String, String), Activity>> {
        self.pollers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every running poller's activity, by mapping and shard.
    pub(crate) fn snapshot(&self) -> Vec<Activity> {
        self.entries().values().cloned().collect()
    }

    fn update(&self, target: &ShardTarget, change: impl FnOnce(&mut Activity)) {
        let key = (target.uuid.clone(), target.shard_id.clone());
        let mut entries = self.entries();
        let activity = entries.entry(key).or_insert_with(|| Activity {
            uuid: target.uuid.clone(),
            shard_id: target.shard_id.clone(),
            ..Activity::default()
        });
        change(activity);
    }

    fn remove(&self, target: &ShardTarget) {
        self.entries()
            .remove(&(target.uuid.clone(), target.shard_id.clone()));
    }
}

/// Takes a poller off the board however its task ends (stopped, or aborted at shutdown).
struct OnBoard<'a> {
    board: &'a Board,
    target: ShardTarget,
}

impl Drop for OnBoard<'_> {
    fn drop(&mut self) {
        self.board.remove(&self.target);
    }
}

/// Polls one shard for one mapping until told to stop.
pub(crate) async fn run(
    rt: Arc<Runtime>,
    executor: Arc<Executor>,
    target: ShardTarget,
    stop: watch::Receiver<bool>,
) {
    let Some((stream_account, stream_region, stream_name)) = parse_stream_arn(&target.stream_arn) else {
        return;
    };
    let mut poller = Poller {
        interval: Duration::from_millis(rt.config.poll_interval_ms.max(1)),
        rt,
        executor,
        caller: Caller {
            access_key_id: target.account.clone(),
            account: target.account.clone(),
            region: target.region.clone(),
            service: "lambda".to_owned(),
        },
        stream_account,
        stream_region,
        stream_name,
        target,
        stop,
        position: None,
        reported: None,
    };
    let rt = Arc::clone(&poller.rt);
    rt.pollers.update(&poller.target, |_| {});
    let _on_board = OnBoard {
        board: &rt.pollers,
        target: poller.target.clone(),
    };
    poller.poll().await;
}

struct Poller {
    rt: Arc<Runtime>,
    executor: Arc<Executor>,
    caller: Caller,
    target: ShardTarget,
    stream_account: String,
    stream_region: String,
    stream_name: String,
    stop: watch::Receiver<bool>,
    interval: Duration,
    /// Where the next read starts (`None`: not resolved yet).
    position: Option<ShardPosition>,
    /// The `LastProcessingResult` last written.
    reported: Option<&'static str>,
}

impl Poller {
    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            caller: &self.caller,
            request_id: "",
            now_ms: now_ms(),
            store: &self.rt.store,
            config: &self.rt.config,
        }
    }

    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Sleeps, unless told to stop meanwhile.
    async fn pause(&self, duration: Duration) -> Flow {
        let mut stop = self.stop.clone();
        tokio::select! {
            _ = stop.wait_for(|s| *s) => Flow::Stop,
            () = tokio::time::sleep(duration) => if self.stopped() { Flow::Stop } else { Flow::Continue },
        }
    }

    async fn poll(&mut self) {
        while !self.stopped() {
            let settings = match self.settings() {
                Ok(Some(s)) => s,
                // Disabled, being deleted, or a storage hiccup: the supervisor decides.
                Ok(None) | Err(_) => {
                    if self.pause(self.interval).await == Flow::Stop {
                        return;
                    }
                    continue;
                }
            };
            let batch = match self.next_batch(&settings).await {
                Ok(Some(batch)) => batch,
                Ok(None) => return,
                Err(_) => Vec::new(),
            };
            let full = batch.len() >= settings.batch_size;
            let found = !batch.is_empty();
            self.show(|a| {
                a.held = 0;
                a.delivering = found;
                a.idle = !found;
            });
            if found {
                let flow = self.deliver(batch, &settings).await;
                self.show(|a| a.delivering = false);
                if flow == Flow::Stop {
                    return;
                }
            }
            // A full batch suggests more is waiting: read again at once, as Lambda does.
            if !full && self.pause(self.interval).await == Flow::Stop {
                return;
            }
        }
    }

    /// Updates this poller's entry on the runtime's [`Board`].
    fn show(&self, change: impl FnOnce(&mut Activity)) {
        self.rt.pollers.update(&self.target, change);
    }

    /// The mapping's settings, if it should be polled now.
    fn settings(&self) -> Result<Option<Settings>, StoreError> {
        let ctx = self.ctx();
        let doc = self
            .rt
            .store
            .read(|t| super::mapping_doc(t, &ctx, &self.target.uuid))?;
        Ok(doc
            .filter(|d| d["State"] == "Enabled" || d["State"] == "Updating")
            .map(|d| Settings::from_doc(&d)))
    }

    // ---- reading ----

    /// The next batch: what is there, or, with a batching window, what arrives until the
    /// batch is full or the window has passed. `None`: told to stop.
    async fn next_batch(&mut self, settings: &Settings) -> Result<Option<Vec<StoredRecord>>, StoreError> {
        let position = self.resolve_position(settings)?;
        let mut batch = self.read(&position, settings.batch_size)?;
        if batch.is_empty() || settings.window.is_zero() {
            return Ok(Some(batch));
        }
        let until = tokio::time::Instant::now() + settings.window;
        while batch.len() < settings.batch_size && event_size(&batch) < MAX_EVENT_BYTES {
            let held = batch.len();
            self.show(|a| {
                a.held = held;
                a.idle = false;
            });
            let now = tokio::time::Instant::now();
            if now >= until {
                break;
            }
            if self.pause(self.interval.min(until - now)).await == Flow::Stop {
                return Ok(None);
            }
            let after = ShardPosition::AfterSequenceNumber(
                batch
                    .last()
                    .map(|r| r.sequence_number.clone())
                    .unwrap_or_default(),
            );
            let more = self.read(&after, settings.batch_size - batch.len())?;
            batch.extend(more);
            cap_to_event_limit(&mut batch);
        }
        Ok(Some(batch))
    }

    fn read(&self, position: &ShardPosition, limit: usize) -> Result<Vec<StoredRecord>, StoreError> {
        let mut records = self.rt.store.read(|t| {
            read_shard(
                t,
                &self.stream_account,
                &self.stream_region,
                &self.stream_name,
                &self.target.shard_id,
                position.clone(),
                limit,
            )
        })?;
        cap_to_event_limit(&mut records);
        Ok(records)
    }

    /// Where reading resumes: after the checkpoint, else at the starting position (`LATEST`
    /// is pinned to the shard's current end by writing a checkpoint at once).
    fn resolve_position(&mut self, settings: &Settings) -> Result<ShardPosition, StoreError> {
        if let Some(p) = &self.position {
            return Ok(p.clone());
        }
        let key = self.checkpoint_key();
        let stored = self.rt.store.read(|t| t.get::<Checkpoint>(&key))?;
        let position = match stored {
            Some(c) => from_checkpoint(c.sequence_number),
            None => match settings.starting_position.as_str() {
                "TRIM_HORIZON" => ShardPosition::TrimHorizon,
                "AT_TIMESTAMP" => ShardPosition::AtTimestamp(settings.starting_timestamp),
                _ => {
                    let latest = self.rt.store.read(|t| {
                        latest_sequence_number(
                            t,
                            &self.stream_account,
                            &self.stream_region,
                            &self.stream_name,
                            &self.target.shard_id,
                        )
                    })?;
                    self.write_checkpoint(latest.clone(), None)?;
                    from_checkpoint(latest)
                }
            },
        };
        self.position = Some(position.clone());
        Ok(position)
    }

    fn checkpoint_key(&self) -> String {
        format!(
            "{}{}",
            checkpoint_prefix(&self.target.account, &self.target.region, &self.target.uuid),
            self.target.shard_id
        )
    }

    /// Stores the checkpoint (and the processing result, when it changed) in one
    /// transaction, unless the mapping is gone meanwhile.
    fn write_checkpoint(
        &mut self,
        sequence_number: Option<String>,
        result: Option<&'static str>,
    ) -> Result<(), StoreError> {
        let key = self.checkpoint_key();
        let result = result.filter(|r| self.reported != Some(*r));
        let ctx = self.ctx();
        let uuid = self.target.uuid.clone();
        let checkpoint = Checkpoint {
            sequence_number: sequence_number.clone(),
            updated_ms: ctx.now_ms,
        };
        self.rt.store.write(|t| {
            if !live_mapping(t, &ctx, &uuid)? {
                return Ok::<_, StoreError>(());
            }
            t.put(&key, &checkpoint)?;
            if let Some(r) = result {
                super::set_processing_result(t, &ctx, &uuid, r)?;
            }
            Ok(())
        })?;
        if let Some(r) = result {
            self.reported = Some(r);
        }
        self.position = Some(from_checkpoint(sequence_number));
        Ok(())
    }

    fn report(&mut self, result: &'static str) {
        if self.reported == Some(result) {
            return;
        }
        let ctx = self.ctx();
        let uuid = self.target.uuid.clone();
        if self
            .rt
            .store
            .write(|t| super::set_processing_result(t, &ctx, &uuid, result))
            .is_ok()
        {
            self.reported = Some(result);
        }
    }

    // ---- delivering ----

    /// Delivers `records` until each is processed or skipped.
    async fn deliver(&mut self, records: Vec<StoredRecord>, settings: &Settings) -> Flow {
        let mut pending: VecDeque<(Vec<StoredRecord>, i64)> = VecDeque::from([(records, 0)]);
        let mut refusals = 0u32;
        'batches: while let Some((mut batch, mut attempts)) = pending.pop_front() {
            loop {
                if self.stopped() {
                    return Flow::Stop;
                }
                batch = self.drop_expired(batch, settings, attempts);
                let Some(last) = batch.last().map(|r| r.sequence_number.clone()) else {
                    continue 'batches;
                };
                let (verdict, response) = self.invoke(&batch, settings).await;
                let failed_from = match verdict {
                    Verdict::Success => {
                        if self.write_checkpoint(Some(last), Some("OK")).is_err() {
                            return Flow::Stop;
                        }
                        continue 'batches;
                    }
                    Verdict::Refused => {
                        refusals += 1;
                        self.report("PROBLEM: Function call failed");
                        if self.pause(backoff(self.interval, refusals)).await == Flow::Stop {
                            return Flow::Stop;
                        }
                        continue;
                    }
                    Verdict::Partial(index) => index,
                    Verdict::Failed => 0,
                };
                self.report("PROBLEM: Function call failed");
                if failed_from > 0 {
                    let done = batch[failed_from - 1].sequence_number.clone();
                    if self.write_checkpoint(Some(done), None).is_err() {
                        return Flow::Stop;
                    }
                    batch.drain(..failed_from);
                } else if verdict == Verdict::Failed && settings.bisect && batch.len() > 1 {
                    let second = batch.split_off(batch.len() / 2);
                    pending.push_front((second, attempts));
                    pending.push_front((batch, attempts));
                    continue 'batches;
                }
                attempts += 1;
                if settings.max_retries >= 0 && attempts > settings.max_retries {
                    self.skip(&batch, settings, "RetryAttemptsExhausted", attempts, &response);
                    continue 'batches;
                }
                let wait = backoff(self.interval, u32::try_from(attempts).unwrap_or(u32::MAX));
                if self.pause(wait).await == Flow::Stop {
                    return Flow::Stop;
                }
            }
        }
        Flow::Continue
    }

    /// Skips the records older than `MaximumRecordAgeInSeconds` (they lead the batch:
    /// arrivals never decrease along a shard); returns the others.
    fn drop_expired(
        &mut self,
        mut batch: Vec<StoredRecord>,
        settings: &Settings,
        attempts: i64,
    ) -> Vec<StoredRecord> {
        if settings.max_age_secs < 0 {
            return batch;
        }
        let oldest_kept = now_ms() as f64 / 1000.0 - settings.max_age_secs as f64;
        let expired = batch
            .iter()
            .take_while(|r| r.approximate_arrival_timestamp < oldest_kept)
            .count();
        if expired == 0 {
            return batch;
        }
        let rest = batch.split_off(expired);
        self.skip(&batch, settings, "RecordAgeExceeded", attempts, &json!(null));
        rest
    }

    /// Gives up on `batch`: checkpoints past it, and records it for the `OnFailure`
    /// destination if there is one.
    fn skip(
        &mut self,
        batch: &[StoredRecord],
        settings: &Settings,
        condition: &str,
        attempts: i64,
        response: &Value,
    ) {
        let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
            return;
        };
        if let Some(destination) = &settings.on_failure {
            let record = json!({
                "requestContext": {
                    "requestId": uuid::Uuid::new_v4().to_string(),
                    "functionArn": settings.function_arn,
                    "condition": condition,
                    "approximateInvokeCount": attempts,
                },
                "responseContext": response,
                "version": "1.0",
                "timestamp": crate::services::sts::iso8601(now_ms()),
                "KinesisBatchInfo": {
                    "shardId": self.target.shard_id,
                    "startSequenceNumber": first.sequence_number,
                    "endSequenceNumber": last.sequence_number,
                    "approximateArrivalOfFirstRecord": crate::services::sts::iso8601(secs_to_ms(first.approximate_arrival_timestamp)),
                    "approximateArrivalOfLastRecord": crate::services::sts::iso8601(secs_to_ms(last.approximate_arrival_timestamp)),
                    "batchSize": batch.len(),
                    "streamArn": self.target.stream_arn,
                },
                "destination": destination,
            });
            let key = format!(
                "{}{}-{}",
                on_failure_prefix(&self.target.account, &self.target.region, &self.target.uuid),
                now_ms(),
                first.sequence_number
            );
            let ctx = self.ctx();
            let uuid = self.target.uuid.clone();
            let _ = self.rt.store.write(|t| {
                if live_mapping(t, &ctx, &uuid)? {
                    t.put(&key, &record)?;
                }
                Ok::<_, StoreError>(())
            });
        }
        let _ = self.write_checkpoint(Some(last.sequence_number.clone()), None);
    }

    /// Invokes the function with `batch`; the verdict, and the response context Lambda
    /// reports to an `OnFailure` destination.
    async fn invoke(&self, batch: &[StoredRecord], settings: &Settings) -> (Verdict, Value) {
        let role = {
            let ctx = self.ctx();
            self.rt
                .store
                .read(|t| super::function_doc(t, &ctx, &settings.function_arn))
                .ok()
                .flatten()
                .and_then(|f| f["Role"].as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        let event = kinesis_event(batch, &self.target, &self.stream_region, &role);
        let invocation = Invocation {
            account: self.target.account.clone(),
            region: self.target.region.clone(),
            function: settings.function_arn.clone(),
            payload: serde_json::to_vec(&event).unwrap_or_default(),
            request_id: uuid::Uuid::new_v4().to_string(),
            tail: false,
            client_context: None,
        };
        match self.executor.invoke(invocation).await {
            Outcome::Success { payload, .. } => {
                let verdict = if settings.report_item_failures {
                    partial_failures(&payload, batch)
                } else {
                    Verdict::Success
                };
                let function_error = if verdict == Verdict::Success {
                    Value::Null
                } else {
                    json!("Unhandled")
                };
                (
                    verdict,
                    json!({ "statusCode": 200, "executedVersion": "$LATEST", "functionError": function_error }),
                )
            }
            Outcome::FunctionError { .. } => (
                Verdict::Failed,
                json!({ "statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled" }),
            ),
            Outcome::Rejected(_) => (Verdict::Refused, Value::Null),
        }
    }
}

/// Whether mapping `uuid` exists and is not being deleted: the poller writes nothing for a
/// mapping on its way out (its keys are deleted with it).
fn live_mapping(t: &crate::store::Txn<'_>, ctx: &Ctx<'_>, uuid: &str) -> Result<bool, StoreError> {
    Ok(super::mapping_doc(t, ctx, uuid)?.is_some_and(|m| m["State"] != "Deleting"))
}

/// Reading resumes after `sequence_number`, or at the shard's start.
fn from_checkpoint(sequence_number: Option<String>) -> ShardPosition {
    sequence_number.map_or(ShardPosition::TrimHorizon, ShardPosition::AfterSequenceNumber)
}

/// The verdict a `ReportBatchItemFailures` response gives.
fn partial_failures(payload: &[u8], batch: &[StoredRecord]) -> Verdict {
    let Ok(response) = serde_json::from_slice::<Value>(payload) else {
        return Verdict::Success; // not a partial-failure document: nothing reported
    };
    let failures = match response.get("batchItemFailures") {
        None | Some(Value::Null) => return Verdict::Success,
        Some(Value::Array(items)) => items,
        Some(_) => return Verdict::Failed,
    };
    let mut lowest: Option<usize> = None;
    for item in failures {
        let Some(id) = item
            .get("itemIdentifier")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        else {
            return Verdict::Failed;
        };
        let Some(index) = batch.iter().position(|r| r.sequence_number == id) else {
            return Verdict::Failed;
        };
        lowest = Some(lowest.map_or(index, |l| l.min(index)));
    }
    lowest.map_or(Verdict::Success, Verdict::Partial)
}

/// The event Lambda sends for a Kinesis batch.
fn kinesis_event(batch: &[StoredRecord], target: &ShardTarget, stream_region: &str, role: &str) -> Value {
    let records: Vec<Value> = batch
        .iter()
        .map(|r| {
            json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": r.partition_key,
                    "sequenceNumber": r.sequence_number,
                    "data": base64::engine::general_purpose::STANDARD.encode(&r.data),
                    "approximateArrivalTimestamp": r.approximate_arrival_timestamp,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("{}:{}", target.shard_id, r.sequence_number),
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": role,
                "awsRegion": stream_region,
                "eventSourceARN": target.stream_arn,
            })
        })
        .collect();
    json!({ "Records": records })
}

/// About how many bytes a record adds to the event.
fn record_size(r: &StoredRecord) -> usize {
    r.data.len().div_ceil(3) * 4 + r.partition_key.len() + 2 * r.sequence_number.len() + 400
}

fn event_size(batch: &[StoredRecord]) -> usize {
    batch.iter().map(record_size).sum()
}

/// Keeps the longest prefix whose event fits in 6 MB (at least one record).
fn cap_to_event_limit(batch: &mut Vec<StoredRecord>) {
    let mut total = 0;
    let keep = batch
        .iter()
        .take_while(|r| {
            total += record_size(r);
            total <= MAX_EVENT_BYTES
        })
        .count()
        .max(1);
    batch.truncate(keep);
}

/// The wait before attempt `n + 1`: the poll interval doubled per attempt, at most 60 s.
fn backoff(interval: Duration, n: u32) -> Duration {
    let factor = 2u32.saturating_pow(n.saturating_sub(1).min(16));
    interval.saturating_mul(factor).min(MAX_BACKOFF)
}

fn secs_to_ms(secs: f64) -> u64 {
    let ms = (secs * 1000.0).round();
    if ms.is_finite() && ms > 0.0 { ms as u64 } else { 0 }
}

/// `(account, region, name)` of a stream ARN.
pub(crate) fn parse_stream_arn(arn: &str) -> Option<(String, String, String)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", _, "kinesis", region, account, resource] = parts.as_slice() else {
        return None;
    };
    let name = resource.strip_prefix("stream/")?;
    Some(((*account).to_owned(), (*region).to_owned(), name.to_owned()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn record(seq: &str) -> StoredRecord {
        StoredRecord {
            sequence_number: seq.to_owned(),
            partition_key: "k".to_owned(),
            data: b"hello".to_vec(),
            approximate_arrival_timestamp: 1_700_000_000.123,
        }
    }

    #[test]
    fn partial_failure_responses_are_read_as_lambda_reads_them() {
        let batch = [record("1"), record("2"), record("3")];
        let verdict = |body: &str| partial_failures(body.as_bytes(), &batch);
        assert_eq!(verdict(r#"{"batchItemFailures":[]}"#), Verdict::Success);
        assert_eq!(verdict(r#"{"batchItemFailures":null}"#), Verdict::Success);
        assert_eq!(verdict("null"), Verdict::Success);
        assert_eq!(verdict(""), Verdict::Success);
        assert_eq!(
            verdict(r#"{"batchItemFailures":[{"itemIdentifier":"3"},{"itemIdentifier":"2"}]}"#),
            Verdict::Partial(1),
            "the lowest failed record"
        );
        assert_eq!(
            verdict(r#"{"batchItemFailures":[{"itemIdentifier":""}]}"#),
            Verdict::Failed
        );
        assert_eq!(
            verdict(r#"{"batchItemFailures":[{"itemIdentifier":null}]}"#),
            Verdict::Failed
        );
        assert_eq!(verdict(r#"{"batchItemFailures":[{"id":"2"}]}"#), Verdict::Failed);
        assert_eq!(
            verdict(r#"{"batchItemFailures":[{"itemIdentifier":"9"}]}"#),
            Verdict::Failed
        );
    }

    #[test]
    fn the_event_has_lambdas_shape() {
        let target = ShardTarget {
            account: "000000000000".into(),
            region: "us-east-1".into(),
            uuid: "u".into(),
            stream_arn: "arn:aws:kinesis:us-east-1:000000000000:stream/s".into(),
            shard_id: "shardId-000000000000".into(),
        };
        let event = kinesis_event(
            &[record("49")],
            &target,
            "us-east-1",
            "arn:aws:iam::000000000000:role/r",
        );
        let r = &event["Records"][0];
        assert_eq!(r["kinesis"]["data"], "aGVsbG8=");
        assert_eq!(r["kinesis"]["kinesisSchemaVersion"], "1.0");
        assert_eq!(r["kinesis"]["approximateArrivalTimestamp"], 1_700_000_000.123);
        assert_eq!(r["eventID"], "shardId-000000000000:49");
        assert_eq!(r["eventName"], "aws:kinesis:record");
        assert_eq!(r["eventSource"], "aws:kinesis");
        assert_eq!(r["invokeIdentityArn"], "arn:aws:iam::000000000000:role/r");
        assert_eq!(r["eventSourceARN"], target.stream_arn);
    }

    #[test]
    fn backoff_doubles_up_to_a_minute() {
        let base = Duration::from_millis(100);
        assert_eq!(backoff(base, 1), base);
        assert_eq!(backoff(base, 3), Duration::from_millis(400));
        assert_eq!(backoff(base, 30), MAX_BACKOFF);
    }

    #[test]
    fn batches_stay_under_six_megabytes() {
        let big = StoredRecord {
            data: vec![0; 1024 * 1024],
            ..record("1")
        };
        let mut batch = vec![big; 10];
        cap_to_event_limit(&mut batch);
        assert_eq!(batch.len(), 4, "4 MiB of data is 5.3 MB of base64");
    }
}
