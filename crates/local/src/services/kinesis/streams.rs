//! Stream operations: create, describe, list, delete, reshard, retention.

use super::input::{self, Violations};
use super::model::{self, Stream};
use super::{Ctx, load_active_stream, load_stream, required_stream_name, save_stream};
use crate::{AwsError, AwsResult};
use base64::Engine as _;
use serde_json::{Value, json};

/// Streams that may be `CREATING` at once in an account and region.
const MAX_CREATING: usize = 5;
/// On-demand streams an account may have in a region.
const MAX_ON_DEMAND: usize = 50;
/// Shards a stream may have (`TargetShardCount`'s limit).
const MAX_SHARDS_PER_STREAM: i64 = 10_000;
/// Retention bounds, in hours.
const MIN_RETENTION: i64 = 24;
/// See [`MIN_RETENTION`].
const MAX_RETENTION: i64 = 8760;

/// The account's default shard quota in `region`: 500 in the three largest regions, 200
/// elsewhere.
fn shard_quota(region: &str) -> usize {
    match region {
        "us-east-1" | "us-west-2" | "eu-west-1" => 500,
        _ => 200,
    }
}

/// Every stream of the caller that is not gone, settled, in name order.
fn all_streams(txn: &crate::store::Txn<'_>, ctx: &Ctx<'_>) -> AwsResult<Vec<Stream>> {
    let docs: Vec<(String, Value)> = txn.list(&ctx.prefix("kinesis", "stream"))?;
    let mut streams = Vec::new();
    for (key, doc) in docs {
        if crate::services::is_gone(&doc, ctx.now_ms) {
            continue;
        }
        let stream: Stream = serde_json::from_value(doc)
            .map_err(|e| AwsError::internal(format!("stored stream `{key}` is corrupt: {e}")))?;
        streams.push(stream.settled(ctx.now_ms));
    }
    Ok(streams)
}

/// CreateStream.
pub(super) fn create_stream(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let name = input::string(input, "StreamName")?;
    let shard_count = input::integer(input, "ShardCount")?;
    let mode_details = input::object(input, "StreamModeDetails")?;
    let mode = match mode_details {
        Some(details) => input::string(details, "StreamMode")?,
        None => None,
    };
    let tags = input::string_map(input, "Tags")?;
    v.range("ShardCount", shard_count, false, (1, 100_000));
    if mode_details.is_some() {
        v.one_of(
            "StreamModeDetails.StreamMode",
            mode,
            true,
            &[model::PROVISIONED, model::ON_DEMAND],
        );
    }
    v.text("StreamName", name, true, (1, 128), Some(input::STREAM_NAME));
    if let Some(tags) = &tags {
        super::tags::check_tag_map(&mut v, tags);
    }
    // Neither a shard count nor a mode: AWS creates an on-demand stream (4 shards).
    let on_demand = mode == Some(model::ON_DEMAND) || (mode_details.is_none() && shard_count.is_none());
    if !on_demand && shard_count.is_none() {
        v.missing("ShardCount");
    }
    v.finish()?;
    let name = name.unwrap_or_default().to_owned();
    if on_demand && shard_count.is_some() {
        return Err(AwsError::new(
            "InvalidArgumentException",
            "ShardCount is not expected when StreamMode=ON_DEMAND",
        ));
    }
    let shards = match shard_count {
        Some(n) if !on_demand => u32::try_from(n).unwrap_or(u32::MAX),
        _ => model::ON_DEMAND_SHARDS,
    };
    let tags = tags.unwrap_or_default();
    if let Some(err) = tags
        .iter()
        .find_map(|(k, v)| super::tags::invalid_tag_chars(k, v))
    {
        return Err(err);
    }
    ctx.store.write(|txn| {
        super::purge_gone_streams(txn, ctx)?;
        if txn.contains(&super::stream_key(ctx, &name))? {
            return Err(AwsError::new(
                "ResourceInUseException",
                format!("Stream {name} under account {} already exists.", ctx.account()),
            ));
        }
        check_create_quotas(txn, ctx, shards, on_demand)?;
        let stream = Stream {
            name: name.clone(),
            arn: ctx.arn("kinesis", &format!("stream/{name}")),
            status: model::CREATING.to_owned(),
            ready_at_ms: ctx.after(ctx.config.profile.stream_ready_ms),
            created_ms: ctx.now_ms,
            mode: if on_demand {
                model::ON_DEMAND
            } else {
                model::PROVISIONED
            }
            .to_owned(),
            retention_hours: 24,
            shards: model::fresh_shards(shards, 0, ctx.now_ms),
            target_shard_count: None,
            tags: tags.into_iter().collect(),
            kms_key_id: None,
            gone_at_ms: None,
            policy: None,
            consumers: Vec::new(),
        };
        save_stream(txn, ctx, &stream)
    })?;
    Ok(json!({}))
}

/// AWS's quotas on CreateStream: 5 streams `CREATING` at once, the account's shard quota and
/// 50 on-demand streams.
fn check_create_quotas(
    txn: &crate::store::Txn<'_>,
    ctx: &Ctx<'_>,
    shards: u32,
    on_demand: bool,
) -> AwsResult<()> {
    let streams = all_streams(txn, ctx)?;
    let creating = streams
        .iter()
        .filter(|s| s.status_now() == model::CREATING)
        .count();
    if creating >= MAX_CREATING {
        return Err(AwsError::new(
            "LimitExceededException",
            format!(
                "Account {} already has {creating} streams in the CREATING state in {}; at most {MAX_CREATING} streams can be CREATING at the same time.",
                ctx.account(),
                ctx.region()
            ),
        ));
    }
    if on_demand {
        let count = streams.iter().filter(|s| s.mode == model::ON_DEMAND).count();
        if count >= MAX_ON_DEMAND {
            return Err(AwsError::new(
                "LimitExceededException",
                format!(
                    "This request would exceed the limit of {MAX_ON_DEMAND} on-demand streams for the account {} in {}.",
                    ctx.account(),
                    ctx.region()
                ),
            ));
        }
    }
    let current: usize = streams.iter().map(|s| s.open_shards().count()).sum();
    check_shard_quota(ctx, current, shards as usize)
}

/// The account-wide shard quota, with the message kinesalite recorded from AWS.
fn check_shard_quota(ctx: &Ctx<'_>, current: usize, additional: usize) -> AwsResult<()> {
    let limit = shard_quota(ctx.region());
    if current + additional <= limit {
        return Ok(());
    }
    Err(AwsError::new(
        "LimitExceededException",
        format!(
            "This request would exceed the shard limit for the account {} in {}. Current shard count for the account: {current}. Limit: {limit}. Number of additional shards that would have resulted from this request: {additional}. Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.",
            ctx.account(),
            ctx.region()
        ),
    ))
}

/// The members DescribeStream and DescribeStreamSummary share.
fn description_base(stream: &Stream) -> Value {
    let mut out = json!({
        "StreamName": stream.name,
        "StreamARN": stream.arn,
        "StreamStatus": stream.status_now(),
        "StreamModeDetails": { "StreamMode": stream.mode },
        "RetentionPeriodHours": stream.retention_hours,
        "StreamCreationTimestamp": (stream.created_ms / 1000) as f64,
        "EnhancedMonitoring": [{ "ShardLevelMetrics": [] }],
        "EncryptionType": if stream.kms_key_id.is_some() { "KMS" } else { "NONE" },
    });
    if let Some(key) = &stream.kms_key_id {
        out["KeyId"] = key.clone().into();
    }
    out
}

/// The shards a reader sees: none while the stream is being created.
fn visible_shards(stream: &Stream) -> &[model::Shard] {
    if stream.status_now() == model::CREATING {
        &[]
    } else {
        &stream.shards
    }
}

/// DescribeStream.
pub(super) fn describe_stream(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let limit = input::integer(input, "Limit")?;
    let start = input::string(input, "ExclusiveStartShardId")?;
    v.range("Limit", limit, false, (1, 10_000));
    v.text(
        "ExclusiveStartShardId",
        start,
        false,
        (1, 128),
        Some(input::STREAM_NAME),
    );
    let name = required_stream_name(ctx, input, v)?;
    let stream = ctx.store.read(|txn| load_stream(txn, ctx, &name))?;
    let limit = usize::try_from(limit.unwrap_or(100)).unwrap_or(100);
    let after: Vec<&model::Shard> = visible_shards(&stream)
        .iter()
        .filter(|s| start.is_none_or(|start| s.id.as_str() > start))
        .collect();
    let mut description = description_base(&stream);
    description["Shards"] = after.iter().take(limit).map(|s| s.to_wire()).collect();
    description["HasMoreShards"] = (after.len() > limit).into();
    Ok(json!({ "StreamDescription": description }))
}

/// DescribeStreamSummary.
pub(super) fn describe_stream_summary(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let name = required_stream_name(ctx, input, Violations::default())?;
    let stream = ctx.store.read(|txn| load_stream(txn, ctx, &name))?;
    let open = visible_shards(&stream).iter().filter(|s| s.is_open()).count();
    let mut summary = description_base(&stream);
    summary["OpenShardCount"] = open.into();
    summary["ConsumerCount"] = stream.consumers.len().into();
    Ok(json!({ "StreamDescriptionSummary": summary }))
}

/// A pagination token: base64 of a small JSON document.
pub(super) fn encode_token(value: &Value) -> String {
    base64::engine::general_purpose::STANDARD.encode(value.to_string())
}

/// Reverses [`encode_token`].
pub(super) fn decode_token(token: &str) -> AwsResult<Value> {
    base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .filter(Value::is_object)
        .ok_or_else(|| AwsError::new("InvalidArgumentException", format!("Invalid NextToken: {token}")))
}

/// ListStreams.
pub(super) fn list_streams(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let limit = input::integer(input, "Limit")?;
    let exclusive_start = input::string(input, "ExclusiveStartStreamName")?;
    let token = input::string(input, "NextToken")?;
    v.range("Limit", limit, false, (1, 10_000));
    v.text(
        "ExclusiveStartStreamName",
        exclusive_start,
        false,
        (1, 128),
        Some(input::STREAM_NAME),
    );
    v.text("NextToken", token, false, (1, 1_048_576), None);
    v.finish()?;
    let after = match token {
        Some(t) => decode_token(t)?
            .get("after")
            .and_then(Value::as_str)
            .map(str::to_owned),
        None => exclusive_start.map(str::to_owned),
    };
    // AWS: "If you specify a value greater than 100, at most 100 results are returned."
    let limit = usize::try_from(limit.unwrap_or(100)).unwrap_or(100).min(100);
    let streams = ctx.store.read(|txn| all_streams(txn, ctx))?;
    let rest: Vec<&Stream> = streams
        .iter()
        .filter(|s| after.as_deref().is_none_or(|a| s.name.as_str() > a))
        .collect();
    let page: Vec<&Stream> = rest.iter().take(limit).copied().collect();
    let has_more = rest.len() > page.len();
    let mut out = json!({
        "StreamNames": page.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        "HasMoreStreams": has_more,
        "StreamSummaries": page.iter().map(|s| json!({
            "StreamName": s.name,
            "StreamARN": s.arn,
            "StreamStatus": s.status_now(),
            "StreamModeDetails": { "StreamMode": s.mode },
            "StreamCreationTimestamp": (s.created_ms / 1000) as f64,
        })).collect::<Vec<_>>(),
    });
    if let (true, Some(last)) = (has_more, page.last()) {
        out["NextToken"] = encode_token(&json!({ "after": last.name })).into();
    }
    Ok(out)
}

/// Which shards ListShards returns (its `ShardFilter`).
#[derive(Debug, Clone)]
enum ShardFilter {
    All,
    AfterShardId(String),
    AtLatest,
    /// Shards open at the time (and, with `later`, every shard opened after it).
    AtTimestamp {
        ms: u64,
        later: bool,
    },
}

impl ShardFilter {
    fn parse(input: &Value, v: &mut Violations) -> AwsResult<ShardFilter> {
        let Some(filter) = input::object(input, "ShardFilter")? else {
            return Ok(ShardFilter::All);
        };
        let kind = input::string(filter, "Type")?;
        let shard_id = input::string(filter, "ShardId")?;
        let timestamp = match filter.get("Timestamp") {
            None | Some(Value::Null) => None,
            Some(t) => Some(t.as_f64().ok_or_else(|| {
                AwsError::new("SerializationException", "ShardFilter.Timestamp must be a number")
            })?),
        };
        let types = [
            "AFTER_SHARD_ID",
            "AT_TRIM_HORIZON",
            "FROM_TRIM_HORIZON",
            "AT_LATEST",
            "AT_TIMESTAMP",
            "FROM_TIMESTAMP",
        ];
        v.one_of("ShardFilter.Type", kind, true, &types);
        let invalid = |msg: &str| AwsError::new("InvalidArgumentException", msg.to_owned());
        Ok(match kind.unwrap_or_default() {
            "AFTER_SHARD_ID" => ShardFilter::AfterShardId(
                shard_id
                    .ok_or_else(|| {
                        invalid("ShardId must be provided for the AFTER_SHARD_ID ShardFilter type.")
                    })?
                    .to_owned(),
            ),
            "AT_LATEST" => ShardFilter::AtLatest,
            t @ ("AT_TIMESTAMP" | "FROM_TIMESTAMP") => {
                let secs = timestamp.ok_or_else(|| {
                    invalid("Timestamp must be provided for the AT_TIMESTAMP and FROM_TIMESTAMP ShardFilter types.")
                })?;
                ShardFilter::AtTimestamp {
                    ms: (secs.max(0.0) * 1000.0) as u64,
                    later: t == "FROM_TIMESTAMP",
                }
            }
            _ => ShardFilter::All,
        })
    }

    fn keeps(&self, shard: &model::Shard) -> bool {
        match self {
            ShardFilter::All => true,
            ShardFilter::AfterShardId(id) => shard.id.as_str() > id.as_str(),
            ShardFilter::AtLatest => shard.is_open(),
            ShardFilter::AtTimestamp { ms, later } => {
                let open_then = shard.created_ms <= *ms && shard.closed_ms.is_none_or(|c| c > *ms);
                open_then || (*later && shard.created_ms > *ms)
            }
        }
    }

    fn to_token(&self) -> Value {
        match self {
            ShardFilter::All => Value::Null,
            ShardFilter::AfterShardId(id) => json!({ "after": id }),
            ShardFilter::AtLatest => json!("latest"),
            ShardFilter::AtTimestamp { ms, later } => json!({ "ms": ms, "later": later }),
        }
    }

    fn from_token(value: &Value) -> ShardFilter {
        if value.as_str() == Some("latest") {
            return ShardFilter::AtLatest;
        }
        if let Some(id) = value.get("after").and_then(Value::as_str) {
            return ShardFilter::AfterShardId(id.to_owned());
        }
        match value.get("ms").and_then(Value::as_u64) {
            Some(ms) => ShardFilter::AtTimestamp {
                ms,
                later: value.get("later").and_then(Value::as_bool).unwrap_or(false),
            },
            None => ShardFilter::All,
        }
    }
}

/// ListShards.
pub(super) fn list_shards(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let token = input::string(input, "NextToken")?;
    let exclusive_start = input::string(input, "ExclusiveStartShardId")?;
    let max = input::integer(input, "MaxResults")?;
    v.text("NextToken", token, false, (1, 1_048_576), None);
    v.text(
        "ExclusiveStartShardId",
        exclusive_start,
        false,
        (1, 128),
        Some(input::STREAM_NAME),
    );
    v.range("MaxResults", max, false, (1, 10_000));
    let filter = ShardFilter::parse(input, &mut v)?;
    let named = super::stream_name_of(ctx, input, &mut v)?;
    v.finish()?;
    let (name, after, filter) = match (token, named) {
        (Some(_), Some(_)) => {
            return Err(AwsError::new(
                "InvalidArgumentException",
                "NextToken and StreamName cannot be provided together.",
            ));
        }
        (None, None) => {
            return Err(AwsError::new(
                "InvalidArgumentException",
                "Either NextToken or StreamName should be provided.",
            ));
        }
        (Some(t), None) => {
            let state = decode_token(t)?;
            let name = state
                .get("stream")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let after = state.get("after").and_then(Value::as_str).map(str::to_owned);
            let filter = ShardFilter::from_token(state.get("filter").unwrap_or(&Value::Null));
            (name, after, filter)
        }
        (None, Some(name)) => (name, exclusive_start.map(str::to_owned), filter),
    };
    let stream = ctx.store.read(|txn| load_stream(txn, ctx, &name))?;
    if stream.status_now() == model::CREATING {
        return Err(super::not_active(ctx, &stream));
    }
    let max = usize::try_from(max.unwrap_or(1000)).unwrap_or(1000);
    let rest: Vec<&model::Shard> = stream
        .shards
        .iter()
        .filter(|s| filter.keeps(s))
        .filter(|s| after.as_deref().is_none_or(|a| s.id.as_str() > a))
        .collect();
    let page = &rest[..rest.len().min(max)];
    let mut out = json!({ "Shards": page.iter().map(|s| s.to_wire()).collect::<Vec<_>>() });
    if let (true, Some(last)) = (rest.len() > page.len(), page.last()) {
        out["NextToken"] = encode_token(&json!({
            "stream": name,
            "after": last.id,
            "filter": filter.to_token(),
        }))
        .into();
    }
    Ok(out)
}

/// DeleteStream: the stream is `DELETING` until the profile's `stream_delete_ms` passes.
pub(super) fn delete_stream(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let enforce = input::boolean(input, "EnforceConsumerDeletion")?.unwrap_or(false);
    let name = required_stream_name(ctx, input, Violations::default())?;
    ctx.store.write(|txn| {
        let mut stream = load_stream(txn, ctx, &name)?;
        if stream.gone_at_ms.is_some() {
            return Ok(()); // already being deleted
        }
        // AWS keeps a stream with registered consumers unless told to delete them with it.
        if !enforce && !stream.consumers.is_empty() {
            return Err(AwsError::new(
                "ResourceInUseException",
                format!(
                    "Stream {name} under account {} has registered consumers; set EnforceConsumerDeletion to delete them with it.",
                    ctx.account()
                ),
            ));
        }
        stream.status = model::DELETING.to_owned();
        stream.gone_at_ms = Some(ctx.after(ctx.config.profile.stream_delete_ms));
        save_stream(txn, ctx, &stream)?;
        super::purge_gone_streams(txn, ctx)
    })?;
    Ok(json!({}))
}

/// UpdateShardCount (uniform scaling): the stream is `UPDATING` for the profile's
/// `stream_ready_ms`, then has `TargetShardCount` open shards.
pub(super) fn update_shard_count(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let target = input::integer(input, "TargetShardCount")?;
    let scaling = input::string(input, "ScalingType")?;
    v.range("TargetShardCount", target, true, (1, 100_000));
    v.one_of("ScalingType", scaling, true, &["UNIFORM_SCALING"]);
    let name = required_stream_name(ctx, input, v)?;
    let target = target.unwrap_or_default();
    ctx.store.write(|txn| {
        let mut stream = load_active_stream(txn, ctx, &name)?;
        if stream.mode == model::ON_DEMAND {
            return Err(AwsError::new(
                "ValidationException",
                format!(
                    "UpdateShardCount is not supported for stream {name} under account {} because it is in ON_DEMAND capacity mode.",
                    ctx.account()
                ),
            ));
        }
        let current = i64::from(stream.open_shard_count());
        check_scaling(current, target)?;
        let others: usize = all_streams(txn, ctx)?
            .iter()
            .filter(|s| s.name != stream.name)
            .map(|s| s.open_shards().count())
            .sum();
        let target_u32 = u32::try_from(target).unwrap_or(u32::MAX);
        if target > current {
            check_shard_quota(ctx, others + current as usize, (target - current) as usize)?;
        }
        stream.status = model::UPDATING.to_owned();
        stream.target_shard_count = Some(target_u32);
        stream.ready_at_ms = ctx.after(ctx.config.profile.stream_ready_ms);
        save_stream(txn, ctx, &stream)?;
        Ok(json!({
            "StreamName": stream.name,
            "StreamARN": stream.arn,
            "CurrentShardCount": current,
            "TargetShardCount": target,
        }))
    })
}

/// UpdateShardCount's limits: at most double, at least half, at most 10,000 per stream.
fn check_scaling(current: i64, target: i64) -> AwsResult<()> {
    let limit = |msg: String| Err(AwsError::new("LimitExceededException", msg));
    if target > MAX_SHARDS_PER_STREAM {
        return limit(format!(
            "Target shard count or number of open shards cannot be greater than {MAX_SHARDS_PER_STREAM}. Current open shard count: {current}, Target shard count: {target}"
        ));
    }
    if target > current * 2 {
        return limit(format!(
            "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: {current}, Target shard count: {target}"
        ));
    }
    if target * 2 < current {
        return limit(format!(
            "UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: {current}, Target shard count: {target}"
        ));
    }
    Ok(())
}

/// Which retention operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    Increase,
    Decrease,
}

/// IncreaseStreamRetentionPeriod / DecreaseStreamRetentionPeriod. Asking for the current
/// period is accepted and changes nothing (kinesalite's AWS-recorded behaviour: only a
/// strictly shorter increase or longer decrease is refused).
pub(super) fn change_retention(ctx: &Ctx<'_>, input: &Value, change: Change) -> AwsResult<Value> {
    let mut v = Violations::default();
    let hours = input::integer(input, "RetentionPeriodHours")?;
    v.range("RetentionPeriodHours", hours, true, (1, MAX_RETENTION));
    let name = required_stream_name(ctx, input, v)?;
    let hours = hours.unwrap_or_default();
    if hours < MIN_RETENTION {
        return Err(AwsError::new(
            "InvalidArgumentException",
            format!(
                "Minimum allowed retention period is {MIN_RETENTION} hours. Requested retention period ({hours} hours) is too short."
            ),
        ));
    }
    ctx.store.write(|txn| {
        let mut stream = load_active_stream(txn, ctx, &name)?;
        let existing = i64::from(stream.retention_hours);
        match change {
            Change::Increase if hours < existing => {
                return Err(AwsError::new(
                    "InvalidArgumentException",
                    format!(
                        "Requested retention period ({hours} hours) for stream {name} can not be shorter than existing retention period ({existing} hours). Use DecreaseRetentionPeriod API."
                    ),
                ));
            }
            Change::Decrease if hours > existing => {
                return Err(AwsError::new(
                    "InvalidArgumentException",
                    format!(
                        "Requested retention period ({hours} hours) for stream {name} can not be longer than existing retention period ({existing} hours). Use IncreaseRetentionPeriod API."
                    ),
                ));
            }
            _ => {}
        }
        stream.retention_hours = u32::try_from(hours).unwrap_or(24);
        save_stream(txn, ctx, &stream)
    })?;
    Ok(json!({}))
}

/// StartStreamEncryption (`on`) and StopStreamEncryption: the stream is `UPDATING` for the
/// profile's `stream_ready_ms`, as AWS makes it while it switches encryption.
pub(super) fn change_encryption(ctx: &Ctx<'_>, input: &Value, on: bool) -> AwsResult<Value> {
    let mut v = Violations::default();
    let kind = input::string(input, "EncryptionType")?;
    let key = input::string(input, "KeyId")?;
    v.one_of("EncryptionType", kind, true, &["NONE", "KMS"]);
    v.text("KeyId", key, true, (1, 2048), None);
    let name = required_stream_name(ctx, input, v)?;
    if kind != Some("KMS") {
        return Err(AwsError::new(
            "InvalidArgumentException",
            "Only KMS encryption type is supported.",
        ));
    }
    let key = key.unwrap_or_default().to_owned();
    ctx.store.write(|txn| {
        let mut stream = load_active_stream(txn, ctx, &name)?;
        stream.kms_key_id = on.then_some(key);
        stream.status = model::UPDATING.to_owned();
        stream.ready_at_ms = ctx.after(ctx.config.profile.stream_ready_ms);
        save_stream(txn, ctx, &stream)
    })?;
    Ok(json!({}))
}

/// UpdateStreamMode: switches between `PROVISIONED` and `ON_DEMAND`, keeping the open shards
/// (AWS then scales an on-demand stream itself); the stream is `UPDATING` for the profile's
/// `stream_ready_ms`.
pub(super) fn update_stream_mode(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let details = input::object(input, "StreamModeDetails")?;
    let mode = match details {
        Some(d) => input::string(d, "StreamMode")?,
        None => None,
    };
    match details {
        None => v.missing("StreamModeDetails"),
        Some(_) => v.one_of(
            "StreamModeDetails.StreamMode",
            mode,
            true,
            &[model::PROVISIONED, model::ON_DEMAND],
        ),
    }
    let name = required_stream_name(ctx, input, v)?;
    let mode = mode.unwrap_or_default().to_owned();
    ctx.store.write(|txn| {
        let mut stream = load_active_stream(txn, ctx, &name)?;
        if stream.mode == mode {
            return Err(AwsError::new(
                "ResourceInUseException",
                format!(
                    "Stream {name} under account {} is already in {mode} mode.",
                    ctx.account()
                ),
            ));
        }
        stream.mode = mode;
        stream.status = model::UPDATING.to_owned();
        stream.ready_at_ms = ctx.after(ctx.config.profile.stream_ready_ms);
        save_stream(txn, ctx, &stream)
    })?;
    Ok(json!({}))
}
