//! Turning one Kinesis record into one PutEvents event, or into a reason to skip it.

use std::fmt;

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::event::KinesisEventRecord;

/// Most characters in `userId`, `sessionId`, `eventId`, `eventType`, `itemId` and each impression
/// id.
pub const MAX_ID_CHARS: usize = 256;
/// Most characters in `recommendationId`.
pub const MAX_RECOMMENDATION_ID_CHARS: usize = 40;
/// Most characters in the JSON-encoded `properties`.
pub const MAX_PROPERTIES_CHARS: usize = 1024;
/// Most item ids in `impression`.
pub const MAX_IMPRESSION_ITEMS: usize = 25;
/// Most bytes in one event (PutEvents' 10 KB limit, estimated from the fields' lengths).
pub const MAX_EVENT_BYTES: usize = 10 * 1024;
/// Epoch values below this are seconds; from it up to [`MAX_EPOCH_MILLIS`] they are
/// milliseconds (1e11 s is the year 5138; 1e11 ms is 1973-03-03).
pub const SECONDS_MILLIS_BOUNDARY: f64 = 1e11;
/// Largest accepted epoch value in milliseconds (9999-12-31T23:59:59.999Z).
pub const MAX_EPOCH_MILLIS: i64 = 253_402_300_799_999;

/// Keys PutEvents refuses inside `properties` (compared case-insensitively).
const RESERVED_PROPERTY_KEYS: [&str; 6] = [
    "userid",
    "sessionid",
    "eventtype",
    "timestamp",
    "recommendationid",
    "impression",
];

/// Which record shape a payload used; the user-id key decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The workshop's snake/lower-case keys (`userid`, `itemid`, `timestamp`, `event_type`, ...).
    Workshop,
    /// PutEvents' own camelCase keys (`userId`, `itemId`, `sentAt`, `eventType`, ...).
    CamelCase,
}

impl Shape {
    /// `"workshop"` or `"camelCase"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Workshop => "workshop",
            Self::CamelCase => "camelCase",
        }
    }
}

/// Where an event's `eventId` came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventIdSource {
    /// The payload's own `eventId` / `event_id`.
    Record,
    /// The Kinesis record's `eventID` (`shardId-…:<sequenceNumber>`).
    KinesisEventId,
    /// The Kinesis sequence number alone (when the record has no usable `eventID`).
    SequenceNumber,
}

/// Where an event's `sentAt` came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentAtSource {
    /// The payload's `timestamp` / `sentAt`.
    Record,
    /// The Kinesis `approximateArrivalTimestamp` (the payload had no timestamp).
    ArrivalTime,
}

/// One event ready for PutEvents, with the Kinesis record it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardEvent {
    /// The Kinesis sequence number of the record (what `batchItemFailures` reports).
    pub sequence_number: String,
    /// The user the event belongs to.
    pub user_id: String,
    /// The session: the record's, else the user id.
    pub session_id: String,
    /// Stable across retries and redelivery (see [`EventIdSource`]).
    pub event_id: String,
    /// Where `event_id` came from.
    pub event_id_source: EventIdSource,
    /// The interaction type (`click`, ...).
    pub event_type: String,
    /// Event time in epoch milliseconds; sent as a numeric `sentAt` (seconds, fractional).
    pub sent_at_ms: i64,
    /// Where `sent_at_ms` came from.
    pub sent_at_source: SentAtSource,
    /// The item interacted with.
    pub item_id: Option<String>,
    /// The event's value (for event-value thresholds).
    pub event_value: Option<f32>,
    /// `properties` JSON-encoded (at most 1,024 characters).
    pub properties: Option<String>,
    /// Item ids shown to the user (1–25), empty when absent.
    pub impression: Vec<String>,
    /// The recommendation the event answers.
    pub recommendation_id: Option<String>,
    /// Which payload shape the record used.
    pub shape: Shape,
}

/// Why a record is skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkipKind {
    /// The Kinesis record has no sequence number (it cannot be reported or identified).
    MissingSequenceNumber,
    /// The Kinesis record has no `data`.
    MissingData,
    /// `data` is not valid base64.
    BadBase64,
    /// The decoded bytes are not UTF-8.
    NotUtf8,
    /// The text is not JSON.
    NotJson,
    /// The JSON is not an object.
    NotObject,
    /// Neither `userid` nor `userId` (or an empty one).
    MissingUser,
    /// Both `userid` and `userId`: the shape cannot be told.
    AmbiguousShape,
    /// No item: a workshop record without `itemid`, or a camelCase one without `itemId`,
    /// `impression` and `properties`.
    MissingItem,
    /// No event type and no `DEFAULT_EVENT_TYPE`.
    MissingEventType,
    /// The timestamp is not epoch seconds, epoch milliseconds or RFC 3339, or out of range;
    /// or there is none and no arrival time either.
    BadTimestamp,
    /// `properties` is not a JSON object, uses a reserved key, or encodes to more than 1,024
    /// characters.
    BadProperties,
    /// Another field has the wrong type or length (ids, event value, impression,
    /// recommendation id, event size).
    BadField,
}

impl SkipKind {
    /// A stable snake_case name, used in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingSequenceNumber => "missing_sequence_number",
            Self::MissingData => "missing_data",
            Self::BadBase64 => "bad_base64",
            Self::NotUtf8 => "not_utf8",
            Self::NotJson => "not_json",
            Self::NotObject => "not_object",
            Self::MissingUser => "missing_user",
            Self::AmbiguousShape => "ambiguous_shape",
            Self::MissingItem => "missing_item",
            Self::MissingEventType => "missing_event_type",
            Self::BadTimestamp => "bad_timestamp",
            Self::BadProperties => "bad_properties",
            Self::BadField => "bad_field",
        }
    }
}

impl fmt::Display for SkipKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A malformed record: logged with its sequence number and reason, never retried, never
/// reported in `batchItemFailures`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// The kind of defect.
    pub kind: SkipKind,
    /// A human-readable explanation.
    pub detail: String,
}

impl Skip {
    fn new(kind: SkipKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }
}

/// Decodes one Kinesis record (base64 once, UTF-8, JSON) and maps it to a [`ForwardEvent`].
pub fn parse_record(
    record: &KinesisEventRecord,
    default_event_type: Option<&str>,
) -> Result<ForwardEvent, Skip> {
    let sequence_number = record.kinesis.sequence_number.trim();
    if sequence_number.is_empty() {
        return Err(Skip::new(
            SkipKind::MissingSequenceNumber,
            "the Kinesis record has no sequenceNumber",
        ));
    }
    let data = record
        .kinesis
        .data
        .as_deref()
        .ok_or_else(|| Skip::new(SkipKind::MissingData, "the Kinesis record has no data"))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| Skip::new(SkipKind::BadBase64, format!("data is not base64: {e}")))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| Skip::new(SkipKind::NotUtf8, format!("data is not UTF-8: {e}")))?;
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Skip::new(SkipKind::NotJson, format!("data is not JSON: {e}")))?;
    let Value::Object(object) = value else {
        return Err(Skip::new(
            SkipKind::NotObject,
            format!("data is JSON {}, not an object", json_type(&value)),
        ));
    };
    build_event(record, sequence_number, &object, default_event_type)
}

/// Field names of one shape.
struct Keys {
    user: &'static str,
    session: &'static [&'static str],
    item: &'static str,
    event_type: &'static str,
    timestamp: &'static str,
    event_value: &'static str,
    recommendation: &'static str,
    event_id: &'static str,
}

const WORKSHOP_KEYS: Keys = Keys {
    user: "userid",
    session: &["sessionid", "session_id"],
    item: "itemid",
    event_type: "event_type",
    timestamp: "timestamp",
    event_value: "event_value",
    recommendation: "recommendation_id",
    event_id: "event_id",
};

const CAMEL_KEYS: Keys = Keys {
    user: "userId",
    session: &["sessionId"],
    item: "itemId",
    event_type: "eventType",
    timestamp: "sentAt",
    event_value: "eventValue",
    recommendation: "recommendationId",
    event_id: "eventId",
};

fn build_event(
    record: &KinesisEventRecord,
    sequence_number: &str,
    object: &Map<String, Value>,
    default_event_type: Option<&str>,
) -> Result<ForwardEvent, Skip> {
    let shape = match (object.contains_key("userid"), object.contains_key("userId")) {
        (true, true) => {
            return Err(Skip::new(
                SkipKind::AmbiguousShape,
                "the record has both userid and userId",
            ));
        }
        (true, false) => Shape::Workshop,
        (false, true) => Shape::CamelCase,
        (false, false) => {
            return Err(Skip::new(
                SkipKind::MissingUser,
                "the record has no userid (workshop shape) or userId (camelCase shape)",
            ));
        }
    };
    let keys = match shape {
        Shape::Workshop => &WORKSHOP_KEYS,
        Shape::CamelCase => &CAMEL_KEYS,
    };

    let user_id = id_field(object, keys.user, MAX_ID_CHARS)?
        .ok_or_else(|| Skip::new(SkipKind::MissingUser, format!("{} is empty or null", keys.user)))?;
    let mut session_id = None;
    for key in keys.session {
        if let Some(s) = id_field(object, key, MAX_ID_CHARS)? {
            session_id = Some(s);
            break;
        }
    }
    let session_id = session_id.unwrap_or_else(|| user_id.clone());

    let item_id = id_field(object, keys.item, MAX_ID_CHARS)?;
    let event_type = match id_field(object, keys.event_type, MAX_ID_CHARS)? {
        Some(t) => t,
        None => default_event_type.map(str::to_owned).ok_or_else(|| {
            Skip::new(
                SkipKind::MissingEventType,
                format!(
                    "the record has no {} and DEFAULT_EVENT_TYPE is not set",
                    keys.event_type
                ),
            )
        })?,
    };

    let (sent_at_ms, sent_at_source) = match object.get(keys.timestamp) {
        Some(v) if !v.is_null() => (
            parse_timestamp(v).map_err(|reason| {
                Skip::new(SkipKind::BadTimestamp, format!("{}: {reason}", keys.timestamp))
            })?,
            SentAtSource::Record,
        ),
        _ => match record.kinesis.approximate_arrival_timestamp {
            Some(secs) => (
                epoch_to_millis(secs).map_err(|reason| {
                    Skip::new(
                        SkipKind::BadTimestamp,
                        format!(
                            "the record has no {} and approximateArrivalTimestamp is unusable: \
                             {reason}",
                            keys.timestamp
                        ),
                    )
                })?,
                SentAtSource::ArrivalTime,
            ),
            None => {
                return Err(Skip::new(
                    SkipKind::BadTimestamp,
                    format!(
                        "the record has no {} and no approximateArrivalTimestamp",
                        keys.timestamp
                    ),
                ));
            }
        },
    };

    let event_value = match object.get(keys.event_value) {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_event_value(v).ok_or_else(|| {
            Skip::new(
                SkipKind::BadField,
                format!("{} must be a finite number", keys.event_value),
            )
        })?),
    };
    let properties = parse_properties(object.get("properties"))?;
    let impression = parse_impression(object.get("impression"))?;
    let recommendation_id = id_field(object, keys.recommendation, MAX_RECOMMENDATION_ID_CHARS)?;

    if item_id.is_none() {
        let allowed = shape == Shape::CamelCase && (!impression.is_empty() || properties.is_some());
        if !allowed {
            return Err(Skip::new(
                SkipKind::MissingItem,
                match shape {
                    Shape::Workshop => "the workshop-shape record has no itemid",
                    Shape::CamelCase => {
                        "the record has no itemId, impression or properties to say what it is about"
                    }
                },
            ));
        }
    }

    let (event_id, event_id_source) = match id_field(object, keys.event_id, MAX_ID_CHARS)? {
        Some(id) => (id, EventIdSource::Record),
        None => match record.event_id.as_deref().map(str::trim) {
            Some(id) if !id.is_empty() && id.chars().count() <= MAX_ID_CHARS => {
                (id.to_owned(), EventIdSource::KinesisEventId)
            }
            _ => (sequence_number.to_owned(), EventIdSource::SequenceNumber),
        },
    };

    let size = event_id.len()
        + event_type.len()
        + item_id.as_deref().map_or(0, str::len)
        + properties.as_deref().map_or(0, str::len)
        + recommendation_id.as_deref().map_or(0, str::len)
        + impression.iter().map(|i| i.len() + 3).sum::<usize>()
        + 64;
    if size > MAX_EVENT_BYTES {
        return Err(Skip::new(
            SkipKind::BadField,
            format!("the event would be about {size} bytes, over PutEvents' 10 KB"),
        ));
    }

    Ok(ForwardEvent {
        sequence_number: sequence_number.to_owned(),
        user_id,
        session_id,
        event_id,
        event_id_source,
        event_type,
        sent_at_ms,
        sent_at_source,
        item_id,
        event_value,
        properties,
        impression,
        recommendation_id,
        shape,
    })
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An id-like field: a string (trimmed) or a number (its JSON text). Absent, null or empty is
/// `None`; other types and over-long values skip the record.
fn id_field(object: &Map<String, Value>, key: &str, max_chars: usize) -> Result<Option<String>, Skip> {
    let text = match object.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => {
            let kind = if key.eq_ignore_ascii_case("userid") {
                SkipKind::MissingUser
            } else {
                SkipKind::BadField
            };
            return Err(Skip::new(
                kind,
                format!("{key} must be a string or a number, not {}", json_type(other)),
            ));
        }
    };
    if text.is_empty() {
        return Ok(None);
    }
    let chars = text.chars().count();
    if chars > max_chars {
        return Err(Skip::new(
            SkipKind::BadField,
            format!("{key} has {chars} characters, more than {max_chars}"),
        ));
    }
    Ok(Some(text))
}

fn parse_event_value(value: &Value) -> Option<f32> {
    let v = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    let v = v as f32;
    v.is_finite().then_some(v)
}

fn parse_properties(value: Option<&Value>) -> Result<Option<String>, Skip> {
    let object = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(map)) => map.clone(),
        // PutEvents' own field is a JSON string: accept one that holds an object.
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(map)) => map,
            _ => {
                return Err(Skip::new(
                    SkipKind::BadProperties,
                    "properties is a string that does not hold a JSON object",
                ));
            }
        },
        Some(other) => {
            return Err(Skip::new(
                SkipKind::BadProperties,
                format!("properties must be an object, not {}", json_type(other)),
            ));
        }
    };
    if object.is_empty() {
        return Ok(None);
    }
    if let Some(key) = object
        .keys()
        .find(|k| RESERVED_PROPERTY_KEYS.iter().any(|r| k.eq_ignore_ascii_case(r)))
    {
        return Err(Skip::new(
            SkipKind::BadProperties,
            format!("properties uses the reserved key {key:?}"),
        ));
    }
    let encoded = Value::Object(object).to_string();
    let chars = encoded.chars().count();
    if chars > MAX_PROPERTIES_CHARS {
        return Err(Skip::new(
            SkipKind::BadProperties,
            format!("properties encodes to {chars} characters, more than {MAX_PROPERTIES_CHARS}"),
        ));
    }
    Ok(Some(encoded))
}

fn parse_impression(value: Option<&Value>) -> Result<Vec<String>, Skip> {
    let items: Vec<String> = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => {
            let mut items = Vec::with_capacity(list.len());
            for v in list {
                match v {
                    Value::String(s) if !s.trim().is_empty() => items.push(s.trim().to_owned()),
                    Value::Number(n) => items.push(n.to_string()),
                    _ => {
                        return Err(Skip::new(
                            SkipKind::BadField,
                            "impression must be a list of non-empty item ids",
                        ));
                    }
                }
            }
            items
        }
        // Personalize's bulk format writes impressions as "a|b|c".
        Some(Value::String(s)) => s
            .split('|')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(other) => {
            return Err(Skip::new(
                SkipKind::BadField,
                format!("impression must be a list, not {}", json_type(other)),
            ));
        }
    };
    if items.len() > MAX_IMPRESSION_ITEMS {
        return Err(Skip::new(
            SkipKind::BadField,
            format!(
                "impression has {} items, more than {MAX_IMPRESSION_ITEMS}",
                items.len()
            ),
        ));
    }
    if let Some(long) = items.iter().find(|i| i.chars().count() > MAX_ID_CHARS) {
        return Err(Skip::new(
            SkipKind::BadField,
            format!(
                "an impression item id has {} characters, more than {MAX_ID_CHARS}",
                long.chars().count()
            ),
        ));
    }
    Ok(items)
}

/// Reads a timestamp: a JSON number or numeric string of epoch seconds or milliseconds (told
/// apart by [`SECONDS_MILLIS_BOUNDARY`]), or an RFC 3339 string. Returns epoch milliseconds.
pub fn parse_timestamp(value: &Value) -> Result<i64, String> {
    match value {
        Value::Number(n) => epoch_to_millis(
            n.as_f64()
                .ok_or_else(|| "not a representable number".to_owned())?,
        ),
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty() {
                return Err("empty string".to_owned());
            }
            if s.bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+')
                && let Ok(v) = s.parse::<f64>()
            {
                return epoch_to_millis(v);
            }
            parse_rfc3339(s)
                .ok_or_else(|| format!("{s:?} is neither epoch seconds, epoch milliseconds nor RFC 3339"))
                .and_then(check_millis)
        }
        other => Err(format!("must be a number or a string, not {}", json_type(other))),
    }
}

/// Epoch seconds or milliseconds (by magnitude) to milliseconds.
pub fn epoch_to_millis(value: f64) -> Result<i64, String> {
    if !value.is_finite() {
        return Err("not a finite number".to_owned());
    }
    if value <= 0.0 {
        return Err(format!("{value} is not after 1970-01-01"));
    }
    let millis = if value < SECONDS_MILLIS_BOUNDARY {
        (value * 1000.0).round()
    } else {
        value.round()
    };
    if millis > MAX_EPOCH_MILLIS as f64 {
        return Err(format!(
            "{value} is too large for epoch milliseconds (microseconds are not accepted)"
        ));
    }
    check_millis(millis as i64)
}

fn check_millis(ms: i64) -> Result<i64, String> {
    if ms <= 0 {
        Err("not after 1970-01-01".to_owned())
    } else if ms > MAX_EPOCH_MILLIS {
        Err("after 9999-12-31".to_owned())
    } else {
        Ok(ms)
    }
}

/// Parses `YYYY-MM-DD(T|t| )HH:MM:SS[.fraction](Z|z|±HH:MM)` to epoch milliseconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(range)?;
        if part.iter().all(u8::is_ascii_digit) {
            Some(part.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
        } else {
            None
        }
    };
    let year = num(0..4)?;
    let month = num(5..7)?;
    let day = num(8..10)?;
    let hour = num(11..13)?;
    let minute = num(14..16)?;
    let second = num(17..19)?;
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':'
    {
        return None;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > i64::from(days_in_month(year, month)?)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        let digits = i - start;
        if digits == 0 {
            return None;
        }
        for _ in digits..3 {
            millis *= 10;
        }
    }
    let offset_minutes = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let h = num(i + 1..i + 3)?;
            let m = num(i + 4..i + 6)?;
            if h > 23 || m > 59 {
                return None;
            }
            let total = h * 60 + m;
            if *sign == b'+' { total } else { -total }
        }
        _ => return None,
    };
    // A leap second (:60) is taken as the last millisecond of :59.
    let (second, millis) = if second == 60 { (59, 999) } else { (second, millis) };
    let days = days_from_civil(year, month, day)?;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(secs * 1000 + millis)
}

/// The number of days in `month` of `year` (the `time` crate's calendar).
fn days_in_month(year: i64, month: i64) -> Option<u8> {
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    Some(month.length(i32::try_from(year).ok()?))
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> Option<i64> {
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()?;
    Some(i64::from(
        date.to_julian_day() - time::OffsetDateTime::UNIX_EPOCH.date().to_julian_day(),
    ))
}
