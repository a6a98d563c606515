//! Kinesis (awsJson 1.1, `Kinesis_20131202.*`): the control plane (with resource policies in
//! `policies` and enhanced fan-out consumers in `consumers`), and the data plane (PutRecord,
//! PutRecords, GetShardIterator, GetRecords; storage in `records`).
//!
//! Streams are created `CREATING` and become `ACTIVE` after the profile's `stream_ready_ms`;
//! UpdateShardCount makes them `UPDATING` for as long, then closes the old shards and opens
//! the new ones (UpdateStreamMode, StartStreamEncryption and StopStreamEncryption make them
//! `UPDATING` for as long too); DeleteStream makes them `DELETING` until `stream_delete_ms`
//! has passed. All of it is computed from stored times when a stream is read
//! (`model::Stream::settled`).
//!
//! Errors are Kinesis's own: `ResourceNotFoundException` "Stream X under account Y not
//! found.", `ResourceInUseException` for a name taken or a stream not `ACTIVE`,
//! `LimitExceededException` for quotas, `InvalidArgumentException` for arguments the service
//! rejects, and `ValidationException` for model constraints (lengths, patterns, ranges).

mod consumers;
#[cfg(test)]
mod data_tests;
pub(crate) mod input;
mod iterators;
mod md5;
pub(crate) mod model;
mod policies;
mod put;
pub(crate) mod records;
mod streams;
mod tags;

#[allow(
    unused_imports,
    reason = "API Gateway's Kinesis integration and the event source mapping poller use these"
)]
pub(crate) use iterators::ITERATOR_TTL_MS;
#[allow(
    unused_imports,
    reason = "API Gateway's Kinesis integration and the event source mapping poller use these"
)]
pub(crate) use put::put_records;
#[allow(
    unused_imports,
    reason = "API Gateway's Kinesis integration and the event source mapping poller use these"
)]
pub(crate) use records::{
    ShardInfo, ShardPosition, StoredRecord, compare_sequence_numbers, latest_sequence_number, read_shard,
    shard_ids, shards,
};

use super::Ctx;
use crate::store::{StoreError, Txn};
use crate::{AwsError, AwsResult};
use input::Violations;
use model::Stream;

/// The members of Kinesis's answers that CBOR types apart from text and numbers: record data,
/// and the timestamps of records, streams and consumers.
pub const CBOR_SHAPES: crate::protocol::cbor::Shapes = crate::protocol::cbor::Shapes {
    blobs: &["Data"],
    timestamps: &[
        "ApproximateArrivalTimestamp",
        "StreamCreationTimestamp",
        "ConsumerCreationTimestamp",
    ],
};

/// Handles one Kinesis operation.
///
/// # Errors
/// AWS's errors for the operation.
pub fn handle(ctx: &Ctx<'_>, op: &str, input: &serde_json::Value) -> AwsResult<serde_json::Value> {
    match op {
        "CreateStream" => streams::create_stream(ctx, input),
        "DescribeStream" => streams::describe_stream(ctx, input),
        "DescribeStreamSummary" => streams::describe_stream_summary(ctx, input),
        "ListStreams" => streams::list_streams(ctx, input),
        "ListShards" => streams::list_shards(ctx, input),
        "DeleteStream" => streams::delete_stream(ctx, input),
        "UpdateShardCount" => streams::update_shard_count(ctx, input),
        "IncreaseStreamRetentionPeriod" => streams::change_retention(ctx, input, streams::Change::Increase),
        "DecreaseStreamRetentionPeriod" => streams::change_retention(ctx, input, streams::Change::Decrease),
        "UpdateStreamMode" => streams::update_stream_mode(ctx, input),
        "StartStreamEncryption" => streams::change_encryption(ctx, input, true),
        "StopStreamEncryption" => streams::change_encryption(ctx, input, false),
        "AddTagsToStream" => tags::add_tags_to_stream(ctx, input),
        "RemoveTagsFromStream" => tags::remove_tags_from_stream(ctx, input),
        "ListTagsForStream" => tags::list_tags_for_stream(ctx, input),
        "TagResource" => tags::tag_resource(ctx, input),
        "UntagResource" => tags::untag_resource(ctx, input),
        "ListTagsForResource" => tags::list_tags_for_resource(ctx, input),
        "PutRecord" => put::put_record(ctx, input),
        "PutRecords" => put::put_records_op(ctx, input),
        "GetShardIterator" => iterators::get_shard_iterator(ctx, input),
        "GetRecords" => iterators::get_records(ctx, input),
        "GetResourcePolicy" => policies::get_resource_policy(ctx, input),
        "PutResourcePolicy" => policies::put_resource_policy(ctx, input),
        "DeleteResourcePolicy" => policies::delete_resource_policy(ctx, input),
        "RegisterStreamConsumer" => consumers::register_stream_consumer(ctx, input),
        "DescribeStreamConsumer" => consumers::describe_stream_consumer(ctx, input),
        "ListStreamConsumers" => consumers::list_stream_consumers(ctx, input),
        "DeregisterStreamConsumer" => consumers::deregister_stream_consumer(ctx, input),
        _ => Err(AwsError::new(
            "UnknownOperationException",
            format!("Unknown operation {op}"),
        )),
    }
}

/// Runs Kinesis operation `op` on an already-parsed input, exactly as the awsJson endpoint
/// would (API Gateway's Kinesis integrations call it).
///
/// # Errors
/// AWS's errors for the operation.
pub(crate) fn call(ctx: &Ctx<'_>, op: &str, input: &serde_json::Value) -> AwsResult<serde_json::Value> {
    handle(ctx, op, input)
}

/// Stored stream document fields this module relies on: `StreamARN`, `status` (the status
/// last set: `CREATING`, `ACTIVE`, `UPDATING`, `DELETING`) and `ready_at_ms` (when a
/// `CREATING`/`UPDATING` stream becomes `ACTIVE`).
pub fn effective_status(doc: &serde_json::Value, now_ms: u64) -> String {
    let status = doc.get("status").and_then(|s| s.as_str()).unwrap_or("ACTIVE");
    let ready = doc
        .get("ready_at_ms")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    match status {
        "CREATING" | "UPDATING" if now_ms >= ready => "ACTIVE".to_owned(),
        other => other.to_owned(),
    }
}

/// The status of the stream `arn` (`None`: no such stream), for event source mappings.
///
/// # Errors
/// Storage failure.
pub fn stream_status_by_arn(txn: &Txn<'_>, ctx: &Ctx<'_>, arn: &str) -> Result<Option<String>, StoreError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", _, "kinesis", region, account, resource] = parts.as_slice() else {
        return Ok(None);
    };
    let Some(name) = resource.strip_prefix("stream/") else {
        return Ok(None);
    };
    let key = format!("{account}/{region}/kinesis/stream/{}", super::escape_id(name));
    Ok(txn
        .get::<serde_json::Value>(&key)?
        .filter(|doc| !super::is_gone(doc, ctx.now_ms))
        .map(|doc| effective_status(&doc, ctx.now_ms)))
}

/// The key of stream `name` in the caller's account and region.
pub(crate) fn stream_key(ctx: &Ctx<'_>, name: &str) -> String {
    ctx.key("kinesis", "stream", name)
}

/// The prefix under which the data plane keeps stream `name`'s shard data
/// (`…/kinesis/shard/{stream}/{shardId}…`); every key under it goes when the stream goes.
pub(crate) fn shard_prefix(ctx: &Ctx<'_>, name: &str) -> String {
    format!("{}{}/", ctx.prefix("kinesis", "shard"), super::escape_id(name))
}

/// `ResourceNotFoundException` for stream `name`.
pub(crate) fn not_found(ctx: &Ctx<'_>, name: &str) -> AwsError {
    AwsError::new(
        "ResourceNotFoundException",
        format!("Stream {name} under account {} not found.", ctx.account()),
    )
}

/// `ResourceInUseException` for a stream that is not `ACTIVE`.
pub(crate) fn not_active(ctx: &Ctx<'_>, stream: &Stream) -> AwsError {
    AwsError::new(
        "ResourceInUseException",
        format!(
            "Stream {} under account {} not ACTIVE, instead in state {}",
            stream.name,
            ctx.account(),
            stream.status_now()
        ),
    )
}

/// Stream `name` with its due transitions applied, unless it does not exist (or is gone).
///
/// # Errors
/// `ResourceNotFoundException`, or a storage failure.
pub(crate) fn load_stream(txn: &Txn<'_>, ctx: &Ctx<'_>, name: &str) -> AwsResult<Stream> {
    let key = stream_key(ctx, name);
    let Some(doc) = txn.get::<serde_json::Value>(&key)? else {
        return Err(not_found(ctx, name));
    };
    if super::is_gone(&doc, ctx.now_ms) {
        return Err(not_found(ctx, name));
    }
    let stream: Stream = serde_json::from_value(doc)
        .map_err(|e| AwsError::internal(format!("stored stream `{key}` is corrupt: {e}")))?;
    Ok(stream.settled(ctx.now_ms))
}

/// Like [`load_stream`], but the stream must be `ACTIVE`.
///
/// # Errors
/// `ResourceNotFoundException`, `ResourceInUseException`, or a storage failure.
pub(crate) fn load_active_stream(txn: &Txn<'_>, ctx: &Ctx<'_>, name: &str) -> AwsResult<Stream> {
    let stream = load_stream(txn, ctx, name)?;
    if stream.status_now() != model::ACTIVE {
        return Err(not_active(ctx, &stream));
    }
    Ok(stream)
}

/// Stores `stream`.
///
/// # Errors
/// Storage failure.
pub(crate) fn save_stream(txn: &mut Txn<'_>, ctx: &Ctx<'_>, stream: &Stream) -> AwsResult<()> {
    txn.put(&stream_key(ctx, &stream.name), stream)?;
    Ok(())
}

/// Deletes every key of the caller's streams whose deletion has finished: the stream
/// document and everything under its [`shard_prefix`].
///
/// # Errors
/// Storage failure.
pub(crate) fn purge_gone_streams(txn: &mut Txn<'_>, ctx: &Ctx<'_>) -> AwsResult<()> {
    let docs: Vec<(String, serde_json::Value)> = txn.list(&ctx.prefix("kinesis", "stream"))?;
    for (key, doc) in docs {
        if !super::is_gone(&doc, ctx.now_ms) {
            continue;
        }
        if let Some(name) = doc.get("StreamName").and_then(serde_json::Value::as_str) {
            for shard_key in txn.keys(&shard_prefix(ctx, name))? {
                txn.delete(&shard_key)?;
            }
        }
        txn.delete(&key)?;
    }
    Ok(())
}

/// The stream an operation names, by `StreamName` or `StreamARN` (both: they must agree).
/// Constraint violations are added to `v`; `None` when neither is usable.
///
/// # Errors
/// `SerializationException`, `ResourceNotFoundException` for another account's or region's
/// ARN, `InvalidArgumentException` when the name and ARN disagree.
pub(crate) fn stream_name_of(
    ctx: &Ctx<'_>,
    input: &serde_json::Value,
    v: &mut Violations,
) -> AwsResult<Option<String>> {
    let name = input::string(input, "StreamName")?;
    let arn = input::string(input, "StreamARN")?;
    v.text("StreamName", name, false, (1, 128), Some(input::STREAM_NAME));
    v.text("StreamARN", arn, false, (1, 2048), None);
    let from_arn = match arn {
        Some(arn) => match parse_stream_arn(arn) {
            Some((account, region, arn_name)) => {
                if account != ctx.account() || region != ctx.region() {
                    return Err(AwsError::new(
                        "ResourceNotFoundException",
                        format!("Stream {arn_name} under account {account} not found."),
                    ));
                }
                Some(arn_name)
            }
            None => {
                v.add(
                    &format!("'{arn}'"),
                    "StreamARN",
                    "Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+",
                );
                None
            }
        },
        None => None,
    };
    match (name, from_arn) {
        (Some(n), Some(a)) if n != a => Err(AwsError::new(
            "InvalidArgumentException",
            format!(
                "StreamARN {} and StreamName {n} do not refer to the same stream.",
                arn.unwrap_or_default()
            ),
        )),
        (Some(n), _) => Ok(Some(n.to_owned())),
        (None, Some(a)) => Ok(Some(a)),
        (None, None) => Ok(None),
    }
}

/// Like [`stream_name_of`], for operations that need a stream: finishes validation first.
///
/// # Errors
/// As [`stream_name_of`], the collected `ValidationException`, or `InvalidArgumentException`
/// when neither member was given.
pub(crate) fn required_stream_name(
    ctx: &Ctx<'_>,
    input: &serde_json::Value,
    mut v: Violations,
) -> AwsResult<String> {
    let name = stream_name_of(ctx, input, &mut v)?;
    v.finish()?;
    name.ok_or_else(|| {
        AwsError::new(
            "InvalidArgumentException",
            "Either StreamName or StreamARN should be provided.",
        )
    })
}

/// `(account, region, stream, consumer)` of a consumer ARN,
/// `arn:aws:kinesis:{region}:{account}:stream/{stream}/consumer/{consumer}:{epoch seconds}`.
pub(crate) fn parse_consumer_arn(arn: &str) -> Option<(String, String, String, String)> {
    let (account, region, rest) = parse_stream_arn(arn)?;
    let (stream, consumer) = rest.split_once("/consumer/")?;
    let (consumer, created) = consumer.rsplit_once(':')?;
    let names_ok = [stream, consumer]
        .iter()
        .all(|n| !n.is_empty() && n.chars().all(input::stream_name_char));
    let created_ok = !created.is_empty() && created.bytes().all(|b| b.is_ascii_digit());
    (names_ok && created_ok).then(|| (account, region, stream.to_owned(), consumer.to_owned()))
}

/// `ResourceNotFoundException` for consumer `consumer` (its ARN or name) of stream `stream`
/// (worded as for streams: no recording has AWS's words for a consumer).
pub(crate) fn consumer_not_found(ctx: &Ctx<'_>, stream: &str, consumer: &str) -> AwsError {
    AwsError::new(
        "ResourceNotFoundException",
        format!(
            "Consumer {consumer} under stream {stream} under account {} not found.",
            ctx.account()
        ),
    )
}

/// `(account, region, name)` of `arn:aws:kinesis:{region}:{account}:stream/{name}`.
pub(crate) fn parse_stream_arn(arn: &str) -> Option<(String, String, String)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", partition, "kinesis", region, account, resource] = parts.as_slice() else {
        return None;
    };
    let name = resource.strip_prefix("stream/")?;
    let valid = partition.starts_with("aws")
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && !name.chars().any(char::is_whitespace);
    valid.then(|| ((*account).to_owned(), (*region).to_owned(), name.to_owned()))
}
