//! CloudWatch Logs (awsJson 1.1, `Logs_20140328.*`).
//!
//! A log group and a log stream are one small document each; events are stored in batches,
//! one blob per PutLogEvents call (or per `append_events`), so a put costs O(batch) and
//! never rewrites what is already stored. Reads merge a stream's batches in timestamp order.
//! Retention is applied lazily: events older than the group's retention are not returned.

mod events;
mod filter;
mod groups;
mod input;

use events::{filter_log_events, get_log_events, put_log_events};
use groups::{
    create_log_group, create_log_stream, delete_log_group, delete_log_stream, delete_retention_policy,
    describe_log_groups, describe_log_streams, list_log_groups, list_tags_for_resource, list_tags_log_group,
    put_retention_policy, tag_log_group, tag_resource, untag_log_group, untag_resource,
};

use super::Ctx;
use crate::store::{StoreError, Txn};
use crate::{AwsError, AwsResult};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// One day, in milliseconds.
const DAY_MS: i64 = 86_400_000;

/// Handles one operation.
///
/// # Errors
/// AWS's errors for the operation.
pub fn handle(ctx: &Ctx<'_>, op: &str, input: &Value) -> AwsResult<Value> {
    match op {
        "CreateLogGroup" => create_log_group(ctx, input),
        "DescribeLogGroups" => describe_log_groups(ctx, input),
        "ListLogGroups" => list_log_groups(ctx, input),
        "DeleteLogGroup" => delete_log_group(ctx, input),
        "PutRetentionPolicy" => put_retention_policy(ctx, input),
        "DeleteRetentionPolicy" => delete_retention_policy(ctx, input),
        "CreateLogStream" => create_log_stream(ctx, input),
        "DescribeLogStreams" => describe_log_streams(ctx, input),
        "DeleteLogStream" => delete_log_stream(ctx, input),
        "PutLogEvents" => put_log_events(ctx, input),
        "GetLogEvents" => get_log_events(ctx, input),
        "FilterLogEvents" => filter_log_events(ctx, input),
        "TagResource" => tag_resource(ctx, input),
        "UntagResource" => untag_resource(ctx, input),
        "ListTagsForResource" => list_tags_for_resource(ctx, input),
        "TagLogGroup" => tag_log_group(ctx, input),
        "UntagLogGroup" => untag_log_group(ctx, input),
        "ListTagsLogGroup" => list_tags_log_group(ctx, input),
        _ => Err(AwsError::new(
            "UnknownOperationException",
            format!("Unknown operation {op}"),
        )),
    }
}

/// Appends `events` (epoch ms, message) to `group`/`stream`, creating both if missing — how
/// the Lambda runtime writes a function's logs.
///
/// # Errors
/// Storage failure.
pub(crate) fn append_events(
    txn: &mut Txn<'_>,
    ctx: &Ctx<'_>,
    group: &str,
    stream: &str,
    events: &[(i64, String)],
) -> Result<(), StoreError> {
    let mut group_doc = match txn.get::<Group>(&group_key(ctx, group))? {
        Some(g) => g,
        None => Group::new(group, ctx.now_ms, BTreeMap::new()),
    };
    let mut stream_doc = match txn.get::<Stream>(&stream_key(ctx, group, stream))? {
        Some(s) => s,
        None => Stream::new(group, stream, ctx.now_ms),
    };
    if !events.is_empty() {
        write_batch(txn, ctx, &mut group_doc, &mut stream_doc, events)?;
    }
    txn.put(&group_key(ctx, group), &group_doc)?;
    txn.put(&stream_key(ctx, group, stream), &stream_doc)
}

// ---------------------------------------------------------------------------------------
// Stored documents and keys
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Group {
    name: String,
    created_ms: u64,
    #[serde(default)]
    retention_days: Option<u32>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    kms_key_id: Option<String>,
    #[serde(default = "standard_class")]
    log_group_class: String,
    #[serde(default)]
    stored_bytes: u64,
    /// `deletionProtectionEnabled`, as CreateLogGroup set it.
    #[serde(default)]
    deletion_protection: bool,
}

fn standard_class() -> String {
    "STANDARD".to_owned()
}

impl Group {
    fn new(name: &str, now_ms: u64, tags: BTreeMap<String, String>) -> Group {
        Group {
            name: name.to_owned(),
            created_ms: now_ms,
            retention_days: None,
            tags,
            kms_key_id: None,
            log_group_class: standard_class(),
            stored_bytes: 0,
            deletion_protection: false,
        }
    }

    /// Events older than this have expired under the retention policy.
    fn oldest_kept_ms(&self, now_ms: u64) -> i64 {
        self.retention_days.map_or(i64::MIN, |days| {
            ms_i64(now_ms).saturating_sub(i64::from(days) * DAY_MS)
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stream {
    group: String,
    name: String,
    created_ms: u64,
    /// How many batches are stored: blobs `0..batches`.
    batches: u64,
    #[serde(default)]
    first_event_ms: Option<i64>,
    #[serde(default)]
    last_event_ms: Option<i64>,
    #[serde(default)]
    last_ingestion_ms: Option<u64>,
    #[serde(default)]
    stored_bytes: u64,
}

impl Stream {
    fn new(group: &str, name: &str, now_ms: u64) -> Stream {
        Stream {
            group: group.to_owned(),
            name: name.to_owned(),
            created_ms: now_ms,
            batches: 0,
            first_event_ms: None,
            last_event_ms: None,
            last_ingestion_ms: None,
            stored_bytes: 0,
        }
    }

    fn sequence_token(&self) -> String {
        format!("{:056}", self.batches)
    }
}

/// One stored batch: when it was ingested and its events (timestamp, message).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Batch {
    ingested_ms: u64,
    events: Vec<(i64, String)>,
}

fn group_key(ctx: &Ctx<'_>, group: &str) -> String {
    ctx.key("logs", "log-group", group)
}

/// Group names cannot contain `:`, so `group:stream` is an unambiguous id.
fn stream_key(ctx: &Ctx<'_>, group: &str, stream: &str) -> String {
    ctx.key("logs", "log-stream", &format!("{group}:{stream}"))
}

fn streams_prefix(ctx: &Ctx<'_>, group: &str) -> String {
    format!(
        "{}{}",
        ctx.prefix("logs", "log-stream"),
        super::escape_id(&format!("{group}:"))
    )
}

/// Batches are blobs, so they do not show up as resources in `/_local/resources`.
fn batch_key(ctx: &Ctx<'_>, group: &str, stream: &str, index: u64) -> String {
    format!("{}#batch/{index:012}", stream_key(ctx, group, stream))
}

fn group_arn(ctx: &Ctx<'_>, group: &str) -> String {
    ctx.arn("logs", &format!("log-group:{group}"))
}

fn ms_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn group_not_found() -> AwsError {
    AwsError::new(
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )
}

fn stream_not_found() -> AwsError {
    AwsError::new(
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )
}

fn load_group(txn: &Txn<'_>, ctx: &Ctx<'_>, group: &str) -> AwsResult<Group> {
    txn.get::<Group>(&group_key(ctx, group))?
        .ok_or_else(group_not_found)
}

fn load_stream(txn: &Txn<'_>, ctx: &Ctx<'_>, group: &str, stream: &str) -> AwsResult<Stream> {
    txn.get::<Stream>(&stream_key(ctx, group, stream))?
        .ok_or_else(stream_not_found)
}

/// Stores one batch and updates the stream's and group's counters.
fn write_batch(
    txn: &mut Txn<'_>,
    ctx: &Ctx<'_>,
    group: &mut Group,
    stream: &mut Stream,
    events: &[(i64, String)],
) -> Result<(), StoreError> {
    let batch = Batch {
        ingested_ms: ctx.now_ms,
        events: events.to_vec(),
    };
    let bytes = serde_json::to_vec(&batch).map_err(|source| StoreError::Corrupt {
        key: stream.name.clone(),
        source,
    })?;
    txn.put_blob(&batch_key(ctx, &group.name, &stream.name, stream.batches), &bytes)?;
    stream.batches += 1;
    let size: u64 = events.iter().map(|(_, m)| m.len() as u64).sum();
    stream.stored_bytes += size;
    group.stored_bytes += size;
    let (min, max) = events
        .iter()
        .fold((i64::MAX, i64::MIN), |(lo, hi), (t, _)| (lo.min(*t), hi.max(*t)));
    stream.first_event_ms = Some(stream.first_event_ms.map_or(min, |f| f.min(min)));
    stream.last_event_ms = Some(stream.last_event_ms.map_or(max, |l| l.max(max)));
    stream.last_ingestion_ms = Some(ctx.now_ms);
    Ok(())
}

/// An event as read back.
#[derive(Debug, Clone)]
struct Event {
    timestamp: i64,
    ingested_ms: u64,
    message: String,
    /// Batch and position: the tie-breaker that keeps ingestion order for equal timestamps.
    batch: u64,
    position: usize,
}

/// A stream's unexpired events in timestamp order.
fn read_events(txn: &Txn<'_>, ctx: &Ctx<'_>, group: &Group, stream: &Stream) -> AwsResult<Vec<Event>> {
    let oldest = group.oldest_kept_ms(ctx.now_ms);
    let mut events = Vec::new();
    for index in 0..stream.batches {
        let key = batch_key(ctx, &group.name, &stream.name, index);
        let Some(bytes) = txn.get_blob(&key)? else {
            continue;
        };
        let batch: Batch =
            serde_json::from_slice(&bytes).map_err(|source| StoreError::Corrupt { key, source })?;
        events.extend(
            batch
                .events
                .into_iter()
                .enumerate()
                .filter(|(_, (t, _))| *t >= oldest)
                .map(|(position, (timestamp, message))| Event {
                    timestamp,
                    ingested_ms: batch.ingested_ms,
                    message,
                    batch: index,
                    position,
                }),
        );
    }
    events.sort_by_key(|e| (e.timestamp, e.batch, e.position));
    Ok(events)
}

fn delete_stream_data(txn: &mut Txn<'_>, ctx: &Ctx<'_>, stream: &Stream) -> Result<(), StoreError> {
    for index in 0..stream.batches {
        txn.delete_blob(&batch_key(ctx, &stream.group, &stream.name, index))?;
    }
    txn.delete(&stream_key(ctx, &stream.group, &stream.name))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::auth::Caller;
    use crate::config::Config;
    use crate::store::Store;
    use serde_json::json;

    #[test]
    fn append_events_creates_the_group_and_stream_and_keeps_order() {
        let store = Store::open(None).unwrap();
        let caller = Caller {
            access_key_id: "000000000000".to_owned(),
            account: "000000000000".to_owned(),
            region: "us-east-1".to_owned(),
            service: "lambda".to_owned(),
        };
        let config = Config::default();
        let now = super::super::now_ms();
        let ctx = Ctx {
            caller: &caller,
            request_id: "r",
            now_ms: now,
            store: &store,
            config: &config,
        };
        let t = ms_i64(now);
        let (group, stream) = ("/aws/lambda/forwarder", "2024/01/01/[$LATEST]abc");
        store
            .write(|txn| {
                append_events(
                    txn,
                    &ctx,
                    group,
                    stream,
                    &[(t, "START".to_owned()), (t + 2, "END".to_owned())],
                )?;
                append_events(txn, &ctx, group, stream, &[(t + 1, "MIDDLE".to_owned())])
            })
            .unwrap();
        let got = get_log_events(
            &ctx,
            &json!({"logGroupName": group, "logStreamName": stream, "startFromHead": true}),
        )
        .unwrap();
        let messages: Vec<&str> = got["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap())
            .collect();
        assert_eq!(messages, ["START", "MIDDLE", "END"]);
        let streams = describe_log_streams(&ctx, &json!({"logGroupName": group})).unwrap();
        assert_eq!(streams["logStreams"][0]["lastEventTimestamp"], json!(t + 2));
    }
}
