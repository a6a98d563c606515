//! PutLogEvents, GetLogEvents and FilterLogEvents.

use super::filter::Pattern;
use super::input::{
    constraint, invalid, limit, null_member, opt_bool, opt_i64, opt_str, page, req_str, serialization,
    target_group, validate_group_name, validate_stream_name,
};
use super::{
    Ctx, DAY_MS, Event, Stream, group_key, load_group, load_stream, ms_i64, read_events, stream_key,
    streams_prefix, write_batch,
};
use crate::{AwsError, AwsResult};
use serde_json::{Value, json};

/// Events older than this are refused by PutLogEvents.
const MAX_AGE_MS: i64 = 14 * DAY_MS;
/// Events further in the future than this are refused by PutLogEvents.
const MAX_AHEAD_MS: i64 = 2 * 3_600_000;
/// A PutLogEvents batch may not span more than this.
const MAX_SPAN_MS: i64 = DAY_MS;
/// Events per PutLogEvents call.
const MAX_EVENTS_PER_PUT: usize = 10_000;
/// Batch size: the UTF-8 bytes of every message plus 26 bytes per event.
const MAX_BATCH_BYTES: usize = 1_048_576;
/// What CloudWatch Logs adds to each message when it counts a batch's size.
const EVENT_OVERHEAD: usize = 26;

/// The events of a PutLogEvents call, checked for the errors that fail the whole call.
fn parse_put_events(input: &Value) -> AwsResult<Vec<(i64, String)>> {
    let raw = match input.get("logEvents") {
        None | Some(Value::Null) => return Err(null_member("logEvents")),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(serialization("logEvents")),
    };
    if raw.is_empty() || raw.len() > MAX_EVENTS_PER_PUT {
        return Err(constraint(
            "[]",
            "logEvents",
            if raw.is_empty() {
                "Member must have length greater than or equal to 1"
            } else {
                "Member must have length less than or equal to 10000"
            },
        ));
    }
    let mut events = Vec::with_capacity(raw.len());
    let mut bytes = 0usize;
    for (i, event) in raw.iter().enumerate() {
        let member = format!("logEvents.{}.member", i + 1);
        let timestamp =
            opt_i64(event, "timestamp")?.ok_or_else(|| null_member(&format!("{member}.timestamp")))?;
        let message = opt_str(event, "message")?.ok_or_else(|| null_member(&format!("{member}.message")))?;
        if message.is_empty() {
            return Err(constraint(
                "",
                &format!("{member}.message"),
                "Member must have length greater than or equal to 1",
            ));
        }
        bytes += message.len() + EVENT_OVERHEAD;
        events.push((timestamp, message.to_owned()));
    }
    if bytes > MAX_BATCH_BYTES {
        return Err(invalid(format!(
            "Upload too large: {bytes} bytes exceeds limit of {MAX_BATCH_BYTES}"
        )));
    }
    if events.windows(2).any(|w| w[1].0 < w[0].0) {
        return Err(invalid(
            "Log events in a single PutLogEvents request must be in chronological order.",
        ));
    }
    if let (Some(first), Some(last)) = (events.first(), events.last())
        && last.0 - first.0 > MAX_SPAN_MS
    {
        return Err(invalid(
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
        ));
    }
    Ok(events)
}

/// Which events CloudWatch Logs refuses: too far ahead, older than 14 days, or older than
/// the retention. Indexes are CloudWatch's: the last too-old/expired one, the first too-new.
#[derive(Debug, Default)]
struct Rejected {
    too_new_start: Option<usize>,
    too_old_end: Option<usize>,
    expired_end: Option<usize>,
}

impl Rejected {
    fn of(events: &[(i64, String)], now_ms: i64, oldest_kept: i64) -> Rejected {
        let mut rejected = Rejected::default();
        for (i, (t, _)) in events.iter().enumerate() {
            if *t > now_ms + MAX_AHEAD_MS {
                rejected.too_new_start.get_or_insert(i);
            } else if *t < now_ms - MAX_AGE_MS {
                rejected.too_old_end = Some(i);
            } else if *t < oldest_kept {
                rejected.expired_end = Some(i);
            }
        }
        rejected
    }

    fn accepts(&self, index: usize) -> bool {
        self.too_new_start.is_none_or(|s| index < s)
            && self.too_old_end.is_none_or(|e| index > e)
            && self.expired_end.is_none_or(|e| index > e)
    }

    fn to_json(&self) -> Option<Value> {
        if self.too_new_start.is_none() && self.too_old_end.is_none() && self.expired_end.is_none() {
            return None;
        }
        let mut out = json!({});
        if let Some(i) = self.too_new_start {
            out["tooNewLogEventStartIndex"] = json!(i);
        }
        if let Some(i) = self.too_old_end {
            out["tooOldLogEventEndIndex"] = json!(i);
        }
        if let Some(i) = self.expired_end {
            out["expiredLogEventEndIndex"] = json!(i);
        }
        Some(out)
    }
}

pub(super) fn put_log_events(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let group = req_str(input, "logGroupName")?;
    validate_group_name(group, "logGroupName")?;
    let stream = req_str(input, "logStreamName")?;
    validate_stream_name(stream)?;
    let events = parse_put_events(input)?;
    ctx.store.write(|txn| {
        let mut group_doc = load_group(txn, ctx, group)?;
        let mut stream_doc = load_stream(txn, ctx, group, stream)?;
        let rejected = Rejected::of(&events, ms_i64(ctx.now_ms), group_doc.oldest_kept_ms(ctx.now_ms));
        let accepted: Vec<(i64, String)> = events
            .iter()
            .enumerate()
            .filter(|(i, _)| rejected.accepts(*i))
            .map(|(_, e)| e.clone())
            .collect();
        if !accepted.is_empty() {
            write_batch(txn, ctx, &mut group_doc, &mut stream_doc, &accepted)?;
            txn.put(&group_key(ctx, group), &group_doc)?;
            txn.put(&stream_key(ctx, group, stream), &stream_doc)?;
        }
        let mut out = json!({ "nextSequenceToken": stream_doc.sequence_token() });
        if let Some(info) = rejected.to_json() {
            out["rejectedLogEventsInfo"] = info;
        }
        Ok(out)
    })
}

/// A GetLogEvents position: `f/…` reads forward from an index, `b/…` backward to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor {
    Forward(usize),
    Backward(usize),
}

impl Cursor {
    fn parse(token: &str) -> AwsResult<Cursor> {
        let bad = || invalid("The specified nextToken is invalid.");
        let (direction, rest) = token.split_once('/').ok_or_else(bad)?;
        let index: usize = rest
            .strip_suffix("/s")
            .and_then(|n| n.parse().ok())
            .ok_or_else(bad)?;
        match direction {
            "f" => Ok(Cursor::Forward(index)),
            "b" => Ok(Cursor::Backward(index)),
            _ => Err(bad()),
        }
    }

    fn token(self) -> String {
        match self {
            Cursor::Forward(i) => format!("f/{i:056}/s"),
            Cursor::Backward(i) => format!("b/{i:056}/s"),
        }
    }
}

/// How many events from `events` fit one response: `limit` and 1 MB.
fn fitting(events: &[Event], limit: usize) -> usize {
    let mut bytes = 0;
    events
        .iter()
        .take(limit)
        .take_while(|e| {
            bytes += e.message.len() + EVENT_OVERHEAD;
            bytes <= MAX_BATCH_BYTES
        })
        .count()
}

pub(super) fn get_log_events(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let group = target_group(ctx, input)?;
    let stream = req_str(input, "logStreamName")?;
    validate_stream_name(stream)?;
    let start = opt_i64(input, "startTime")?.unwrap_or(i64::MIN);
    let end = opt_i64(input, "endTime")?.unwrap_or(i64::MAX);
    let limit = limit(input, 10_000, 10_000)?;
    let from_head = opt_bool(input, "startFromHead")?.unwrap_or(false);
    let cursor = match opt_str(input, "nextToken")? {
        Some(token) => Some(Cursor::parse(token)?),
        None => None,
    };
    let events = ctx.store.read(|txn| {
        let group_doc = load_group(txn, ctx, &group)?;
        let stream_doc = load_stream(txn, ctx, &group, stream)?;
        read_events(txn, ctx, &group_doc, &stream_doc)
    })?;
    // endTime is exclusive for GetLogEvents.
    let window: Vec<Event> = events
        .into_iter()
        .filter(|e| e.timestamp >= start && e.timestamp < end)
        .collect();
    let cursor = cursor.unwrap_or(if from_head {
        Cursor::Forward(0)
    } else {
        Cursor::Backward(window.len())
    });
    let (from, to) = match cursor {
        Cursor::Forward(at) => {
            let at = at.min(window.len());
            (at, at + fitting(&window[at..], limit))
        }
        Cursor::Backward(at) => {
            let at = at.min(window.len());
            let mut reversed: Vec<Event> = window[..at].to_vec();
            reversed.reverse();
            (at - fitting(&reversed, limit), at)
        }
    };
    let out: Vec<Value> = window[from..to]
        .iter()
        .map(|e| {
            json!({
                "timestamp": e.timestamp,
                "message": e.message,
                "ingestionTime": e.ingested_ms,
            })
        })
        .collect();
    Ok(json!({
        "events": out,
        "nextForwardToken": Cursor::Forward(to).token(),
        "nextBackwardToken": Cursor::Backward(from).token(),
    }))
}

pub(super) fn filter_log_events(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let group = target_group(ctx, input)?;
    let names: Option<Vec<String>> = match input.get("logStreamNames") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => Some(
            list.iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| serialization("logStreamNames"))
                })
                .collect::<AwsResult<_>>()?,
        ),
        Some(_) => return Err(serialization("logStreamNames")),
    };
    let prefix = opt_str(input, "logStreamNamePrefix")?;
    if names.is_some() && prefix.is_some() {
        return Err(invalid(
            "logStreamNames and logStreamNamePrefix are mutually exclusive.",
        ));
    }
    if names.as_ref().is_some_and(|n| n.is_empty() || n.len() > 100) {
        return Err(constraint(
            "[]",
            "logStreamNames",
            "Member must have length less than or equal to 100",
        ));
    }
    let start = opt_i64(input, "startTime")?.unwrap_or(i64::MIN);
    // endTime is inclusive for FilterLogEvents.
    let end = opt_i64(input, "endTime")?.unwrap_or(i64::MAX);
    let limit = limit(input, 10_000, 10_000)?;
    let pattern = Pattern::parse(opt_str(input, "filterPattern")?.unwrap_or_default())?;
    let (streams, events) = ctx.store.read(|txn| {
        let group_doc = load_group(txn, ctx, &group)?;
        let streams: Vec<Stream> = txn
            .list::<Stream>(&streams_prefix(ctx, &group))?
            .into_iter()
            .map(|(_, s)| s)
            .filter(|s| names.as_ref().is_none_or(|n| n.contains(&s.name)))
            .filter(|s| prefix.is_none_or(|p| s.name.starts_with(p)))
            .collect();
        let mut found = Vec::new();
        for stream in &streams {
            for event in read_events(txn, ctx, &group_doc, stream)? {
                if event.timestamp >= start && event.timestamp <= end && pattern.matches(&event.message) {
                    found.push((stream.name.clone(), event));
                }
            }
        }
        Ok::<_, AwsError>((streams, found))
    })?;
    // Sort key: timestamp, stream, then ingestion order; zero-padded so strings sort as the
    // tuple does (timestamps shifted to be non-negative).
    let mut keyed: Vec<(String, (String, Event))> = events
        .into_iter()
        .map(|(stream, e)| {
            let key = format!(
                "{:020}/{}/{:012}/{:06}",
                i128::from(e.timestamp) - i128::from(i64::MIN),
                stream,
                e.batch,
                e.position
            );
            (key, (stream, e))
        })
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let (page, next) = page(keyed, false, opt_str(input, "nextToken")?, limit)?;
    let out: Vec<Value> = page
        .iter()
        .map(|(stream, e)| {
            json!({
                "logStreamName": stream,
                "timestamp": e.timestamp,
                "message": e.message,
                "ingestionTime": e.ingested_ms,
                "eventId": event_id(stream, e),
            })
        })
        .collect();
    let searched: Vec<Value> = streams
        .iter()
        .map(|s| json!({ "logStreamName": s.name, "searchedCompletely": true }))
        .collect();
    let mut result = json!({ "events": out, "searchedLogStreams": searched });
    if let Some(next) = next {
        result["nextToken"] = json!(next);
    }
    Ok(result)
}

/// A stable, unique, digits-only id, shaped like CloudWatch's 56-digit event ids.
fn event_id(stream: &str, event: &Event) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(stream.as_bytes());
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    let stream_part = u64::from_be_bytes(head) % 10_000_000_000_000_000;
    format!(
        "{:020}{stream_part:016}{:014}{:06}",
        event.timestamp.max(0),
        event.batch,
        event.position
    )
}
