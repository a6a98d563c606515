//! GetShardIterator and GetRecords.
//!
//! A shard iterator is opaque to clients: base64 of `issued/account/region/stream/shard/counter`
//! and a checksum, so a string this runtime did not issue (or one edited by hand) is
//! `InvalidArgumentException "Invalid ShardIterator."`, and one issued more than 300 s ago is
//! `ExpiredIteratorException`, as on AWS. `counter` is the next record to read (see
//! [`super::records`]).

use super::input::{self, Violations};
use super::model::{self, Shard, Stream};
use super::records::{SequenceParts, ShardLoc, retention_cutoff, secs_to_ms};
use super::{Ctx, load_stream, required_stream_name};
use crate::{AwsError, AwsResult};
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::Digest as _;

/// How long an iterator stays valid.
pub(crate) const ITERATOR_TTL_MS: u64 = 300_000;
/// GetRecords returns at most this much data per call.
const MAX_GET_BYTES: usize = 10 * 1024 * 1024;
/// GetRecords' default and largest `Limit`.
const MAX_GET_RECORDS: i64 = 10_000;

/// A decoded shard iterator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ShardIterator {
    /// When it was issued (epoch ms).
    pub issued_ms: u64,
    /// The stream's account.
    pub account: String,
    /// The stream's region.
    pub region: String,
    /// The stream.
    pub stream: String,
    /// The shard.
    pub shard_id: String,
    /// The counter of the next record to read.
    pub counter: u64,
}

/// Checksum of an iterator's payload: catches strings not issued here.
fn checksum(payload: &str) -> String {
    let digest = sha2::Sha256::digest(format!("personalize-stack-local/shard-iterator/{payload}"));
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

impl ShardIterator {
    /// The opaque string.
    pub fn encode(&self) -> String {
        let payload = format!(
            "{}/{}/{}/{}/{}/{}",
            self.issued_ms, self.account, self.region, self.stream, self.shard_id, self.counter
        );
        let sum = checksum(&payload);
        base64::engine::general_purpose::STANDARD.encode(format!("{payload}/{sum}"))
    }

    /// Decodes a string [`ShardIterator::encode`] made.
    pub fn decode(s: &str) -> Option<ShardIterator> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (payload, sum) = text.rsplit_once('/')?;
        if checksum(payload) != sum {
            return None;
        }
        let parts: Vec<&str> = payload.split('/').collect();
        let [issued, account, region, stream, shard_id, counter] = parts.as_slice() else {
            return None;
        };
        Some(ShardIterator {
            issued_ms: issued.parse().ok()?,
            account: (*account).to_owned(),
            region: (*region).to_owned(),
            stream: (*stream).to_owned(),
            shard_id: (*shard_id).to_owned(),
            counter: counter.parse().ok()?,
        })
    }
}

/// `ResourceNotFoundException` for a shard the stream does not have.
fn shard_not_found(ctx: &Ctx<'_>, stream: &str, shard_id: &str) -> AwsError {
    AwsError::new(
        "ResourceNotFoundException",
        format!(
            "Shard {shard_id} in stream {stream} under account {} does not exist",
            ctx.account()
        ),
    )
}

/// The shard `shard_id` of `stream` (none while the stream is being created).
fn find_shard<'s>(ctx: &Ctx<'_>, stream: &'s Stream, shard_id: &str) -> AwsResult<&'s Shard> {
    if stream.status_now() == model::CREATING {
        return Err(shard_not_found(ctx, &stream.name, shard_id));
    }
    stream
        .shards
        .iter()
        .find(|s| s.id == shard_id)
        .ok_or_else(|| shard_not_found(ctx, &stream.name, shard_id))
}

/// GetShardIterator.
pub(super) fn get_shard_iterator(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let shard_id = input::string(input, "ShardId")?;
    let kind = input::string(input, "ShardIteratorType")?;
    let starting = input::string(input, "StartingSequenceNumber")?;
    let timestamp = match input.get("Timestamp") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_f64(),
        // What AWS answers a string here (pplu/aws-sdk-perl#217).
        Some(Value::String(_)) => {
            return Err(AwsError::new(
                "SerializationException",
                "class java.lang.String can not be converted to milliseconds since epoch",
            ));
        }
        Some(_) => {
            return Err(AwsError::new(
                "SerializationException",
                "Unexpected value type for member Timestamp: expected a timestamp",
            ));
        }
    };
    v.text("ShardId", shard_id, true, (1, 128), Some(input::STREAM_NAME));
    v.one_of(
        "ShardIteratorType",
        kind,
        true,
        &[
            "AT_SEQUENCE_NUMBER",
            "AFTER_SEQUENCE_NUMBER",
            "TRIM_HORIZON",
            "LATEST",
            "AT_TIMESTAMP",
        ],
    );
    if let Some(s) = starting
        && !(s == "0" || (!s.starts_with('0') && s.len() <= 129 && s.bytes().all(|b| b.is_ascii_digit())))
    {
        v.add(
            &format!("'{s}'"),
            "StartingSequenceNumber",
            "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})",
        );
    }
    let name = required_stream_name(ctx, input, v)?;
    let (shard_id, kind) = (shard_id.unwrap_or_default(), kind.unwrap_or_default());
    check_position_arguments(ctx, kind, starting, timestamp)?;
    let iterator = ctx.store.read(|txn| {
        let stream = load_stream(txn, ctx, &name)?;
        let shard = find_shard(ctx, &stream, shard_id)?;
        let loc = ShardLoc::new(ctx.account(), ctx.region(), &name, shard);
        let state = loc.state(txn)?;
        let counter = match kind {
            "TRIM_HORIZON" => state.first,
            "LATEST" => state.next,
            "AT_TIMESTAMP" => {
                loc.first_arrived_since(txn, &state, secs_to_ms(timestamp.unwrap_or_default()))?
            }
            after_or_at => {
                let seq = starting.unwrap_or_default();
                let counter = counter_for(ctx, &loc, &name, seq)?;
                if after_or_at == "AFTER_SEQUENCE_NUMBER" {
                    counter.saturating_add(1)
                } else {
                    counter
                }
            }
        };
        Ok::<_, AwsError>(ShardIterator {
            issued_ms: ctx.now_ms,
            account: ctx.account().to_owned(),
            region: ctx.region().to_owned(),
            stream: name.clone(),
            shard_id: shard_id.to_owned(),
            counter,
        })
    })?;
    Ok(json!({ "ShardIterator": iterator.encode() }))
}

/// AWS's checks that the iterator type and its arguments go together.
fn check_position_arguments(
    ctx: &Ctx<'_>,
    kind: &str,
    starting: Option<&str>,
    timestamp: Option<f64>,
) -> AwsResult<()> {
    let invalid = |m: String| Err(AwsError::new("InvalidArgumentException", m));
    match kind {
        "AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER" if starting.is_none() => invalid(format!(
            "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified {kind} and no StartingSequenceNumber."
        )),
        "TRIM_HORIZON" | "LATEST" | "AT_TIMESTAMP" if starting.is_some() => invalid(format!(
            "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified {kind} and also a StartingSequenceNumber."
        )),
        "AT_TIMESTAMP" => match timestamp {
            None => invalid(
                "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.".to_owned(),
            ),
            Some(t) if secs_to_ms(t) > ctx.now_ms => invalid(format!(
                "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: {}, currentTimestampInMillis: {}",
                secs_to_ms(t),
                ctx.now_ms
            )),
            Some(_) => Ok(()),
        },
        _ if timestamp.is_some() => invalid(format!(
            "Must specify timestampInMillis parameter only for iterator of type AT_TIMESTAMP. Current request has {kind} iterator type."
        )),
        _ => Ok(()),
    }
}

/// The counter of sequence number `seq` in `loc`'s shard, with AWS's messages for a number
/// that is malformed, belongs to another shard, or to another incarnation of the stream.
fn counter_for(ctx: &Ctx<'_>, loc: &ShardLoc, stream: &str, seq: &str) -> AwsResult<u64> {
    let invalid = |m: String| AwsError::new("InvalidArgumentException", m);
    let parts = SequenceParts::parse(seq).ok_or_else(|| {
        invalid(format!(
            "StartingSequenceNumber {seq} used in GetShardIterator on shard {} in stream {stream} under account {} is invalid.",
            loc.shard.id,
            ctx.account()
        ))
    })?;
    if parts.index != loc.shard.index {
        return Err(invalid(format!(
            "Invalid StartingSequenceNumber. It encodes {}, while it was used in a call to a shard with {}",
            model::shard_id(parts.index),
            loc.shard.id
        )));
    }
    loc.counter_of(seq).ok_or_else(|| {
        invalid(format!(
            "StartingSequenceNumber {seq} used in GetShardIterator on shard {} in stream {stream} under account {} is invalid because it did not come from this stream.",
            loc.shard.id,
            ctx.account()
        ))
    })
}

/// GetRecords.
pub(super) fn get_records(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let raw = input::string(input, "ShardIterator")?;
    let limit = input::integer(input, "Limit")?;
    v.text("ShardIterator", raw, true, (1, 512), None);
    v.range("Limit", limit, false, (1, MAX_GET_RECORDS));
    // StreamARN is optional here; when given it must be well formed and the caller's.
    let _ = super::stream_name_of(ctx, input, &mut v)?;
    v.finish()?;
    let invalid = || AwsError::new("InvalidArgumentException", "Invalid ShardIterator.");
    // AWS takes an iterator wrapped in double quotes (as a shell or a JSON-encoding client
    // may pass it) as the iterator itself.
    let raw = raw.unwrap_or_default();
    let unquoted = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    let iterator = ShardIterator::decode(unquoted).ok_or_else(invalid)?;
    if iterator.account != ctx.account() || iterator.region != ctx.region() {
        return Err(invalid());
    }
    if ctx.now_ms.saturating_sub(iterator.issued_ms) > ITERATOR_TTL_MS {
        return Err(AwsError::new(
            "ExpiredIteratorException",
            format!(
                "Iterator expired. The iterator was created at time {} while right now it is {} which is further in the future than the tolerated delay of {ITERATOR_TTL_MS} milliseconds.",
                java_date(iterator.issued_ms),
                java_date(ctx.now_ms)
            ),
        ));
    }
    let limit = usize::try_from(limit.unwrap_or(MAX_GET_RECORDS)).unwrap_or(10_000);
    ctx.store.read(|txn| {
        let stream = load_stream(txn, ctx, &iterator.stream)?;
        let shard = find_shard(ctx, &stream, &iterator.shard_id)?;
        let loc = ShardLoc::new(ctx.account(), ctx.region(), &stream.name, shard);
        let state = loc.state(txn)?;
        let cutoff = retention_cutoff(&stream, ctx.now_ms);
        let (records, next) = loc.read(txn, &state, iterator.counter, cutoff, limit, MAX_GET_BYTES)?;
        let behind = if next >= state.next {
            0
        } else {
            loc.record(txn, next)?
                .map_or(0, |r| ctx.now_ms.saturating_sub(r.t))
        };
        let records: Vec<Value> = records
            .into_iter()
            .map(|(counter, r)| {
                json!({
                    "SequenceNumber": loc.sequence_number(counter),
                    "ApproximateArrivalTimestamp": r.t as f64 / 1000.0,
                    "Data": r.d,
                    "PartitionKey": r.k,
                })
            })
            .collect();
        let mut out = json!({ "Records": records, "MillisBehindLatest": behind });
        // A closed shard read to its end has no next iterator: the reader moves to the children.
        if shard.is_open() || next < state.next {
            let next_iterator = ShardIterator {
                issued_ms: ctx.now_ms,
                counter: next,
                ..iterator.clone()
            };
            out["NextShardIterator"] = next_iterator.encode().into();
        } else {
            out["ChildShards"] = child_shards(&stream, shard).into();
        }
        Ok(out)
    })
}

/// The shards that replaced `closed`, as GetRecords' `ChildShards`.
fn child_shards(stream: &Stream, closed: &Shard) -> Vec<Value> {
    stream
        .shards
        .iter()
        .filter(|s| {
            s.parent.as_deref() == Some(closed.id.as_str())
                || s.adjacent_parent.as_deref() == Some(closed.id.as_str())
        })
        .map(|s| {
            let parents: Vec<&str> = [s.parent.as_deref(), s.adjacent_parent.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            json!({
                "ShardId": s.id,
                "ParentShards": parents,
                "HashKeyRange": {
                    "StartingHashKey": s.start_hash.to_string(),
                    "EndingHashKey": s.end_hash.to_string(),
                },
            })
        })
        .collect()
}

/// Epoch ms as Java's `Date.toString()` in UTC (`Thu Jan 01 00:00:00 UTC 2015`), as Kinesis
/// prints times in its iterator messages.
fn java_date(ms: u64) -> String {
    let t = crate::services::sts::utc(ms);
    let weekday = format!("{:?}", t.weekday());
    let month = format!("{:?}", t.month());
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        &weekday[..3],
        &month[..3],
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.year()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iterators_round_trip_and_reject_tampering() {
        let it = ShardIterator {
            issued_ms: 1_700_000_000_123,
            account: "000000000000".into(),
            region: "us-east-1".into(),
            stream: "s.1".into(),
            shard_id: "shardId-000000000002".into(),
            counter: 42,
        };
        let encoded = it.encode();
        assert!(encoded.len() <= 512);
        assert_eq!(ShardIterator::decode(&encoded), Some(it.clone()));
        let forged = base64::engine::general_purpose::STANDARD
            .encode("1700000000123/000000000000/us-east-1/s.1/shardId-000000000002/43/0000000000000000");
        assert_eq!(ShardIterator::decode(&forged), None);
        assert_eq!(ShardIterator::decode("not base64!"), None);
    }

    #[test]
    fn dates_print_as_java_does() {
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(java_date(1_420_070_400_000), "Thu Jan 01 00:00:00 UTC 2015");
        assert_eq!(java_date(1_709_210_096_000), "Thu Feb 29 12:34:56 UTC 2024");
    }
}
