//! PutRecord and PutRecords: validation, shard placement (MD5 of the partition key, or the
//! ExplicitHashKey, over the open shards' hash ranges), sequence numbering, and the per-shard
//! write limits (1 MiB/s and 1,000 records/s) when they are switched on.

use super::input::{self, Violations};
use super::model::{self, Stream};
use super::records::{RecordDoc, ShardLoc, ShardState, retention_cutoff};
use super::{Ctx, load_stream, md5, not_found, required_stream_name};
use crate::store::Txn;
use crate::{AwsError, AwsResult};
use base64::Engine as _;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A record may hold 1 MiB, data and partition key together.
const MAX_RECORD_BYTES: usize = 1024 * 1024;
/// A PutRecords call may carry 5 MiB.
const MAX_CALL_BYTES: usize = 5 * 1024 * 1024;
/// A PutRecords call may carry 500 records.
const MAX_RECORDS: usize = 500;
/// Per shard and second: bytes written.
const SHARD_BYTES_PER_SECOND: u64 = 1024 * 1024;
/// Per shard and second: records written.
const SHARD_RECORDS_PER_SECOND: u64 = 1000;
/// How many expired records a write may delete per record written (keeps storage bounded by
/// the retention period without a background sweeper).
const TRIM_PER_RECORD: usize = 2;

/// Whether per-shard write limits apply for this request.
pub(crate) fn write_limits_enabled(ctx: &Ctx<'_>) -> bool {
    // Off by default: AWS throttles only under real load, which local tests should not hit
    // by accident.
    ctx.config.profile.shard_write_limits
}

/// A validated record to write.
#[derive(Debug, Clone)]
struct Entry {
    /// Canonical base64 of the data.
    data_b64: String,
    /// Data plus partition key, in bytes: what the limits count.
    size: usize,
    partition_key: String,
    hash_key: u128,
}

/// The outcome for one record.
enum Placed {
    Written {
        shard_id: String,
        sequence_number: String,
    },
    Throttled {
        shard_id: String,
    },
}

/// PutRecord.
pub(super) fn put_record(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let entry = parse_entry(input, "", &mut v)?;
    let ordering = input::string(input, "SequenceNumberForOrdering")?;
    if ordering.is_some_and(|s| !is_decimal(s, 129)) {
        v.add(
            &format!("'{}'", ordering.unwrap_or_default()),
            "SequenceNumberForOrdering",
            "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})",
        );
    }
    let name = required_stream_name(ctx, input, v)?;
    let entry = checked_hash_key(entry, input)?;
    let limits = write_limits_enabled(ctx);
    ctx.store.write(|txn| {
        let stream = writable_stream(txn, ctx, &name)?;
        // Ordering: this runtime's sequence numbers always increase per shard, which is what
        // SequenceNumberForOrdering asks for.
        match place(txn, ctx, &stream, &[entry], limits)?.pop() {
            Some(Placed::Written {
                shard_id,
                sequence_number,
            }) => Ok(json!({ "ShardId": shard_id, "SequenceNumber": sequence_number })),
            Some(Placed::Throttled { shard_id }) => Err(AwsError::new(
                "ProvisionedThroughputExceededException",
                throttled_message(ctx, &name, &shard_id),
            )),
            None => Err(AwsError::internal("no record was placed")),
        }
    })
}

/// PutRecords as an operation of its own (in its own transaction).
pub(super) fn put_records_op(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    ctx.store.write(|txn| put_records(txn, ctx, input))
}

/// PutRecords in the caller's transaction (also API Gateway's Kinesis integration): validates
/// the whole call, then writes every record it can; records over a shard's write limit fail
/// alone with `ProvisionedThroughputExceededException` and count in `FailedRecordCount`.
///
/// # Errors
/// `ValidationException`, `SerializationException`, `InvalidArgumentException`,
/// `ResourceNotFoundException`, or a storage failure.
pub(crate) fn put_records(txn: &mut Txn<'_>, ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    put_records_with(txn, ctx, input, write_limits_enabled(ctx))
}

/// [`put_records`] with the write limits on or off.
pub(super) fn put_records_with(
    txn: &mut Txn<'_>,
    ctx: &Ctx<'_>,
    input: &Value,
    limits: bool,
) -> AwsResult<Value> {
    let mut v = Violations::default();
    let raw: &[Value] = match input.get("Records") {
        None | Some(Value::Null) => {
            v.missing("Records");
            &[]
        }
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(AwsError::new(
                "SerializationException",
                "Unexpected value type for member Records: expected a list",
            ));
        }
    };
    if input.get("Records").is_some_and(Value::is_array) {
        if raw.is_empty() {
            v.add_unshown("records", "Member must have length greater than or equal to 1");
        }
        if raw.len() > MAX_RECORDS {
            v.add_unshown("records", "Member must have length less than or equal to 500");
        }
    }
    let mut entries = Vec::with_capacity(raw.len());
    for (i, item) in raw.iter().enumerate() {
        if !item.is_object() {
            return Err(AwsError::new(
                "SerializationException",
                "Unexpected value type for member Records: expected a list of structures",
            ));
        }
        entries.push(parse_entry(item, &format!("records.{}.member.", i + 1), &mut v)?);
    }
    let name = required_stream_name(ctx, input, v)?;
    let total: usize = entries.iter().map(|e| e.size).sum();
    if total > MAX_CALL_BYTES {
        return Err(AwsError::new(
            "InvalidArgumentException",
            "Records size exceeds 5 MB limit",
        ));
    }
    let entries = entries
        .into_iter()
        .zip(raw)
        .map(|(e, item)| checked_hash_key(e, item))
        .collect::<AwsResult<Vec<_>>>()?;
    let stream = writable_stream(txn, ctx, &name)?;
    let placed = place(txn, ctx, &stream, &entries, limits)?;
    let failed = placed
        .iter()
        .filter(|p| matches!(p, Placed::Throttled { .. }))
        .count();
    let records: Vec<Value> = placed
        .into_iter()
        .map(|p| match p {
            Placed::Written {
                shard_id,
                sequence_number,
            } => json!({ "SequenceNumber": sequence_number, "ShardId": shard_id }),
            Placed::Throttled { shard_id } => json!({
                "ErrorCode": "ProvisionedThroughputExceededException",
                "ErrorMessage": throttled_message(ctx, &name, &shard_id),
            }),
        })
        .collect();
    Ok(json!({ "FailedRecordCount": failed, "Records": records }))
}

/// AWS's message for a record over its shard's write limit.
fn throttled_message(ctx: &Ctx<'_>, stream: &str, shard_id: &str) -> String {
    format!(
        "Rate exceeded for shard {shard_id} in stream {stream} under account {}.",
        ctx.account()
    )
}

/// Stream `name` if it takes writes (`ACTIVE` or `UPDATING`); otherwise, as AWS answers for a
/// stream being created or deleted, `ResourceNotFoundException`.
fn writable_stream(txn: &Txn<'_>, ctx: &Ctx<'_>, name: &str) -> AwsResult<Stream> {
    let stream = load_stream(txn, ctx, name)?;
    match stream.status_now() {
        model::ACTIVE | model::UPDATING => Ok(stream),
        _ => Err(not_found(ctx, name)),
    }
}

/// Whether `s` matches `0|([1-9]\d{0,max-1})`.
fn is_decimal(s: &str, max: usize) -> bool {
    s == "0"
        || (!s.is_empty() && s.len() <= max && !s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit()))
}

/// Reads one record's members (`prefix` names it in messages: `records.1.member.`), adding
/// constraint violations to `v`. The hash key is the partition key's MD5 until
/// [`checked_hash_key`] applies an ExplicitHashKey.
fn parse_entry(item: &Value, prefix: &str, v: &mut Violations) -> AwsResult<Entry> {
    let partition_key = input::string(item, "PartitionKey")?;
    let explicit = input::string(item, "ExplicitHashKey")?;
    let data = match item.get("Data") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(s.as_bytes())
                .map_err(|_| {
                    AwsError::new(
                        "SerializationException",
                        format!("Invalid base64 in member Data: {s}"),
                    )
                })?,
        ),
        Some(_) => {
            return Err(AwsError::new(
                "SerializationException",
                "Unexpected value type for member Data: expected a blob (base64 string)",
            ));
        }
    };
    let member = |name: &str| format!("{prefix}{name}");
    let key_len = partition_key.map_or(0, str::len);
    match &data {
        None => v.missing(&member("Data")),
        // AWS counts the partition key against the 1 MiB, and reports it on the data.
        Some(d) if d.len() + key_len > MAX_RECORD_BYTES => v.add_unshown(
            &member("data"),
            "Member must have length less than or equal to 1048576",
        ),
        Some(_) => {}
    }
    v.text(&member("PartitionKey"), partition_key, true, (1, 256), None);
    if let Some(e) = explicit
        && !is_decimal(e, 39)
    {
        v.add(
            &format!("'{e}'"),
            &member("ExplicitHashKey"),
            "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})",
        );
    }
    let partition_key = partition_key.unwrap_or_default().to_owned();
    let data = data.unwrap_or_default();
    Ok(Entry {
        size: data.len() + partition_key.len(),
        data_b64: base64::engine::general_purpose::STANDARD.encode(&data),
        hash_key: md5::hash_key(&partition_key),
        partition_key,
    })
}

/// Applies `item`'s ExplicitHashKey (already pattern-checked) to `entry`.
///
/// # Errors
/// `InvalidArgumentException` for a key above 2^128 - 1.
fn checked_hash_key(mut entry: Entry, item: &Value) -> AwsResult<Entry> {
    if let Some(explicit) = input::string(item, "ExplicitHashKey")? {
        entry.hash_key = explicit.parse::<u128>().map_err(|_| {
            AwsError::new(
                "InvalidArgumentException",
                format!(
                    "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was {explicit}"
                ),
            )
        })?;
    }
    Ok(entry)
}

/// Writes `entries` to their shards in order, returning each one's outcome.
fn place(
    txn: &mut Txn<'_>,
    ctx: &Ctx<'_>,
    stream: &Stream,
    entries: &[Entry],
    limits: bool,
) -> AwsResult<Vec<Placed>> {
    let mut shards: BTreeMap<String, (ShardLoc, ShardState, usize)> = BTreeMap::new();
    let now_s = ctx.now_ms / 1000;
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let Some(shard) = stream
            .open_shards()
            .find(|s| s.start_hash <= entry.hash_key && entry.hash_key <= s.end_hash)
        else {
            return Err(AwsError::internal(format!(
                "stream {} has no open shard for hash key {}",
                stream.name, entry.hash_key
            )));
        };
        if !shards.contains_key(&shard.id) {
            let loc = ShardLoc::new(ctx.account(), ctx.region(), &stream.name, shard);
            let state = loc.state(txn)?;
            shards.insert(shard.id.clone(), (loc, state, 0));
        }
        let Some((loc, state, written)) = shards.get_mut(&shard.id) else {
            continue; // inserted just above
        };
        if state.window_s != now_s {
            state.window_s = now_s;
            state.window_bytes = 0;
            state.window_records = 0;
        }
        let size = entry.size as u64;
        if limits
            && (state.window_records + 1 > SHARD_RECORDS_PER_SECOND
                || state.window_bytes + size > SHARD_BYTES_PER_SECOND)
        {
            out.push(Placed::Throttled {
                shard_id: shard.id.clone(),
            });
            continue;
        }
        state.window_records += 1;
        state.window_bytes += size;
        let counter = state.next;
        // Arrival times never go backwards along a shard, even if the clock does.
        let arrived = ctx.now_ms.max(state.last_ms);
        txn.put(
            &loc.record_key(counter),
            &RecordDoc {
                k: entry.partition_key.clone(),
                d: entry.data_b64.clone(),
                t: arrived,
            },
        )?;
        state.next = counter + 1;
        state.last_ms = arrived;
        *written += 1;
        out.push(Placed::Written {
            shard_id: shard.id.clone(),
            sequence_number: loc.sequence_number(counter),
        });
    }
    let cutoff = retention_cutoff(stream, ctx.now_ms);
    for (loc, mut state, written) in shards.into_values() {
        loc.trim(txn, &mut state, cutoff, written * TRIM_PER_RECORD + 1)?;
        loc.save_state(txn, &state)?;
    }
    Ok(out)
}
