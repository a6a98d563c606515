//! personalize-events (restJson1, `POST /events`, signed as `personalize`): PutEvents.
//!
//! Validation follows the botocore model (`personalize-events/2018-03-22`): `trackingId` and
//! `sessionId` required (1–256), `userId` optional (1–256), `eventList` 1–10 events, each with a
//! required `eventType` (1–256) and `sentAt`, optional `eventId` (1–256), `itemId` (1–256),
//! `eventValue` (a float), `properties` (1–1,024), `recommendationId` (1–40), `impression`
//! (1–25 item ids of 1–256) and `metricAttribution.eventAttributionSource` (≤ 1,024, printable
//! ASCII, not only spaces). Model violations are one `InvalidInputException` worded as AWS's
//! request validation words them; `userId` and the events are `sensitive` in the model, so
//! their values are not printed ("Value at 'eventList' failed to satisfy constraint: ...").
//!
//! Beyond the model:
//! - `sentAt` must be a JSON number (epoch seconds): a string fails deserialization with
//!   `SerializationException` "class java.lang.String can not be converted to milliseconds
//!   since epoch", what AWS's JSON services answer (pplu/aws-sdk-perl#217 shows it with its
//!   type, #379 for PutEvents). boto3 and the AWS CLI turn a numeric string into a number
//!   before sending, so only hand-built requests see it.
//! - `properties` must parse as a JSON object ("Error parsing properties json", the message
//!   aws-sdk-js#2773 reports) without the keys the Personalize documentation reserves, compared
//!   case-insensitively: `userId`, `sessionId`, `eventType`, `timestamp`, `recommendationId`,
//!   `impression` (API reference, `Event.properties`).
//! - The `trackingId` must belong to an `ACTIVE` event tracker of the caller's account and
//!   region, else `ResourceNotFoundException` (404).
//!
//! Accepted events are stored durably, one document per event, under
//! `account/region/personalize-events/event/{datasetGroupArn}/{n}` with a per-group counter,
//! so their keys sort in arrival order (`stored_events` reads them back), and a running count
//! per tracking id, so that counting them (`stored_event_count`) reads one document.

use super::{Ctx, escape_id};
use crate::protocol::members::{list, string, wrong_type};
use crate::protocol::rest::{self, RestRequest, RestResponse};
use crate::store::{StoreError, Txn};
use crate::{AwsError, AwsResult};
use serde_json::{Map, Value, json};

/// Property keys the documentation reserves (compared case-insensitively).
const RESERVED_PROPERTY_KEYS: [&str; 6] = [
    "userId",
    "sessionId",
    "eventType",
    "timestamp",
    "recommendationId",
    "impression",
];

/// The service segment of the keys this module writes.
const SERVICE: &str = "personalize-events";

/// Handles one request.
///
/// # Errors
/// AWS's errors for the operation.
pub fn handle(ctx: &Ctx<'_>, req: &RestRequest) -> AwsResult<RestResponse> {
    match (req.method.as_str(), req.parts().as_slice()) {
        ("POST", ["events"]) => {
            let input = rest::parse_body(&req.body, "SerializationException")?;
            put_events(ctx, &input)?;
            Ok(RestResponse::empty(200))
        }
        _ => Err(AwsError::new(
            "UnknownOperationException",
            format!("Unknown operation {} {}", req.method, req.path),
        )
        .status(404)),
    }
}

/// Model constraint violations, reported together as one `InvalidInputException`.
#[derive(Debug, Default)]
struct Violations(Vec<String>);

impl Violations {
    /// Records a violation; `shown` is the value as AWS prints it, `None` for sensitive members.
    fn add(&mut self, shown: Option<&str>, member: &str, constraint: &str) {
        let value = shown.map_or_else(String::new, |v| format!(" '{v}'"));
        self.0.push(format!(
            "Value{value} at '{member}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// Checks a string's presence and length (in characters).
    fn text(
        &mut self,
        member: &str,
        value: Option<&str>,
        required: bool,
        (min, max): (usize, usize),
        sensitive: bool,
    ) {
        let Some(value) = value else {
            if required {
                self.0.push(format!(
                    "Value null at '{member}' failed to satisfy constraint: Member must not be null"
                ));
            }
            return;
        };
        let shown = (!sensitive).then_some(value);
        let len = value.chars().count();
        if len < min {
            self.add(
                shown,
                member,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if len > max {
            self.add(
                shown,
                member,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// Checks a list's length (lists of sensitive values are never printed).
    fn count(&mut self, member: &str, len: usize, (min, max): (usize, usize)) {
        if len < min {
            self.add(
                None,
                member,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if len > max {
            self.add(
                None,
                member,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    fn finish(self) -> AwsResult<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let noun = if self.0.len() == 1 { "error" } else { "errors" };
        Err(AwsError::new(
            "InvalidInputException",
            format!(
                "{} validation {noun} detected: {}",
                self.0.len(),
                self.0.join("; ")
            ),
        ))
    }
}

/// `sentAt`: a JSON number of epoch seconds.
fn sent_at(event: &Value) -> AwsResult<Option<f64>> {
    match event.get("sentAt") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(_)) => Err(AwsError::new(
            "SerializationException",
            "class java.lang.String can not be converted to milliseconds since epoch",
        )),
        Some(_) => Err(wrong_type("sentAt", "a timestamp")),
    }
}

/// Whether `s` matches `^[\x20-\x7E]*[\x21-\x7E]+[\x20-\x7E]*$`.
fn is_attribution_source(s: &str) -> bool {
    s.bytes().all(|b| (0x20..=0x7e).contains(&b)) && s.bytes().any(|b| b != b' ')
}

/// Checks one event's members (`i` is its 1-based position) against the model.
fn check_event(event: &Value, i: usize, v: &mut Violations) -> AwsResult<()> {
    if !event.is_object() {
        return Err(wrong_type("eventList", "a list of structures"));
    }
    let at = |m: &str| format!("eventList.{i}.member.{m}");
    v.text(
        &at("eventType"),
        string(event, "eventType")?,
        true,
        (1, 256),
        true,
    );
    if sent_at(event)?.is_none() {
        v.text(&at("sentAt"), None, true, (0, 0), true);
    }
    v.text(&at("eventId"), string(event, "eventId")?, false, (1, 256), true);
    v.text(&at("itemId"), string(event, "itemId")?, false, (1, 256), true);
    v.text(
        &at("properties"),
        string(event, "properties")?,
        false,
        (1, 1024),
        true,
    );
    v.text(
        &at("recommendationId"),
        string(event, "recommendationId")?,
        false,
        (1, 40),
        true,
    );
    match event.get("eventValue") {
        None | Some(Value::Null | Value::Number(_)) => {}
        Some(_) => return Err(wrong_type("eventValue", "a float")),
    }
    if let Some(items) = list(event, "impression")? {
        v.count(&at("impression"), items.len(), (1, 25));
        for (j, item) in items.iter().enumerate() {
            let id = item
                .as_str()
                .ok_or_else(|| wrong_type("impression", "a list of strings"))?;
            v.text(
                &at(&format!("impression.{}.member", j + 1)),
                Some(id),
                true,
                (1, 256),
                true,
            );
        }
    }
    match event.get("metricAttribution") {
        None | Some(Value::Null) => {}
        Some(m @ Value::Object(_)) => {
            let source = string(m, "eventAttributionSource")?;
            let member = at("metricAttribution.eventAttributionSource");
            v.text(&member, source, true, (0, 1024), true);
            if source.is_some_and(|s| !is_attribution_source(s)) {
                v.add(
                    None,
                    &member,
                    "Member must satisfy regular expression pattern: ^[\\x20-\\x7E]*[\\x21-\\x7E]+[\\x20-\\x7E]*$",
                );
            }
        }
        Some(_) => return Err(wrong_type("metricAttribution", "a structure")),
    }
    Ok(())
}

/// `properties` must be a JSON object without reserved keys.
fn check_properties(properties: &str) -> AwsResult<()> {
    let parsed: Map<String, Value> = serde_json::from_str(properties)
        .map_err(|_| AwsError::new("InvalidInputException", "Error parsing properties json"))?;
    if let Some(key) = parsed
        .keys()
        .find(|k| RESERVED_PROPERTY_KEYS.iter().any(|r| r.eq_ignore_ascii_case(k)))
    {
        return Err(AwsError::new(
            "InvalidInputException",
            format!(
                "Invalid properties: '{key}' is a reserved keyword and cannot be used as a property key. Reserved keywords (case insensitive): {}.",
                RESERVED_PROPERTY_KEYS.join(", ")
            ),
        ));
    }
    Ok(())
}

/// PutEvents: validates the call, finds the tracker, and stores every event.
fn put_events(ctx: &Ctx<'_>, input: &Value) -> AwsResult<()> {
    if !input.is_object() {
        return Err(AwsError::new(
            "SerializationException",
            "Start of structure or map found where not expected.",
        ));
    }
    let mut v = Violations::default();
    let tracking_id = string(input, "trackingId")?;
    let user_id = string(input, "userId")?;
    let session_id = string(input, "sessionId")?;
    let events = list(input, "eventList")?;
    v.text("trackingId", tracking_id, true, (1, 256), false);
    v.text("userId", user_id, false, (1, 256), true);
    v.text("sessionId", session_id, true, (1, 256), false);
    match events {
        None => v.text("eventList", None, true, (0, 0), true),
        Some(events) => {
            v.count("eventList", events.len(), (1, 10));
            for (i, event) in events.iter().enumerate() {
                check_event(event, i + 1, &mut v)?;
            }
        }
    }
    v.finish()?;
    let events = events.cloned().unwrap_or_default();
    for event in &events {
        if let Some(p) = string(event, "properties")? {
            check_properties(p)?;
        }
    }
    let tracking_id = tracking_id.unwrap_or_default();
    // Validate against a snapshot, then append in a batched write: concurrent PutEvents calls
    // share one transaction and one fsync (the tracker could be deleted in between; AWS's own
    // deletion is asynchronous, so a call racing it may be accepted there too).
    let tracker = ctx.store.read(|txn| active_tracker(txn, ctx, tracking_id))?;
    let group = tracker
        .get("datasetGroupArn")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let common = json!({
        "account": ctx.account(),
        "region": ctx.region(),
        "trackingId": tracking_id,
        "eventTrackerArn": tracker.get("eventTrackerArn").cloned().unwrap_or(Value::Null),
        "datasetGroupArn": group,
        "userId": user_id,
        "sessionId": session_id,
        "receivedAt": ctx.now_secs(),
    });
    let (account, region) = (ctx.account().to_owned(), ctx.region().to_owned());
    ctx.store
        .write_batched(move |txn| store_events(txn, &account, &region, &group, &common, events))
        .map_err(AwsError::from)
}

/// The tracker `tracking_id` names, if it is `ACTIVE`.
fn active_tracker(txn: &Txn<'_>, ctx: &Ctx<'_>, tracking_id: &str) -> AwsResult<Value> {
    let tracker = super::personalize::tracker_by_tracking_id(txn, ctx, tracking_id)?;
    match tracker {
        Some(t) if t.get("status").and_then(Value::as_str) == Some("ACTIVE") => Ok(t),
        Some(t) => Err(AwsError::new(
            "ResourceNotFoundException",
            format!(
                "The event tracker with tracking ID {tracking_id} is not ACTIVE (its status is {}).",
                t.get("status").and_then(Value::as_str).unwrap_or("unknown")
            ),
        )
        .status(404)),
        None => Err(AwsError::new(
            "ResourceNotFoundException",
            format!("Could not find an event tracker with tracking ID {tracking_id}."),
        )
        .status(404)),
    }
}

/// The key prefix of `account`/`region`'s stored events, of one dataset group if given.
fn events_prefix(account: &str, region: &str, group: Option<&str>) -> String {
    let base = format!("{account}/{region}/{SERVICE}/event/");
    match group {
        Some(g) => format!("{base}{}/", escape_id(g)),
        None => base,
    }
}

/// Stores `events` for dataset group `group`, each as `common` plus `"event"`, numbering them
/// after the group's counter so keys sort in arrival order.
fn store_events(
    txn: &mut Txn<'_>,
    account: &str,
    region: &str,
    group: &str,
    common: &Value,
    events: Vec<Value>,
) -> Result<(), StoreError> {
    let counter_key = format!("{account}/{region}/{SERVICE}/event-counter/{}", escape_id(group));
    let mut next = next_event_seq(txn, account, region, group)?;
    let prefix = events_prefix(account, region, Some(group));
    let tracking_id = common
        .get("trackingId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let tracker_count_key = tracker_count_key(account, region, tracking_id);
    let mut tracker_count = match txn.get::<Value>(&tracker_count_key)? {
        Some(c) => c.get("count").and_then(Value::as_u64).unwrap_or(0),
        // Events stored before trackers were counted: count them once.
        None => scan_count(txn, &prefix, tracking_id)? as u64,
    };
    let added = events.len() as u64;
    for event in events {
        let mut doc = common.clone();
        doc["event"] = event;
        txn.put(&format!("{prefix}{next:020}"), &doc)?;
        next += 1;
    }
    tracker_count += added;
    txn.put(&counter_key, &json!({ "next": next }))?;
    txn.put(&tracker_count_key, &json!({ "count": tracker_count }))?;
    Ok(())
}

/// Where the number of events stored for one tracking id is kept, so that counting them (which
/// test harnesses and benches poll while events pour in) reads one document, not every event.
fn tracker_count_key(account: &str, region: &str, tracking_id: &str) -> String {
    format!(
        "{account}/{region}/{SERVICE}/tracker-event-count/{}",
        escape_id(tracking_id)
    )
}

/// Counts the events under `prefix` stored for `tracking_id`, decoding only that field.
fn scan_count(txn: &Txn<'_>, prefix: &str, tracking_id: &str) -> Result<usize, StoreError> {
    #[derive(serde::Deserialize)]
    struct Tracking {
        #[serde(rename = "trackingId")]
        tracking_id: Option<String>,
    }
    Ok(txn
        .list::<Tracking>(prefix)?
        .iter()
        .filter(|(_, doc)| doc.tracking_id.as_deref() == Some(tracking_id))
        .count())
}

/// Stored events of `account`/`region`, of one dataset group and/or one tracking id if given,
/// in arrival order (per dataset group).
///
/// # Errors
/// Storage failure.
pub(crate) fn stored_events(
    txn: &Txn<'_>,
    account: &str,
    region: &str,
    dataset_group_arn: Option<&str>,
    tracking_id: Option<&str>,
) -> Result<Vec<Value>, StoreError> {
    let docs: Vec<(String, Value)> = txn.list(&events_prefix(account, region, dataset_group_arn))?;
    Ok(docs
        .into_iter()
        .map(|(_, doc)| doc)
        .filter(|doc| tracking_id.is_none_or(|t| doc.get("trackingId").and_then(Value::as_str) == Some(t)))
        .collect())
}

/// The sequence number the next event stored for dataset group `group` will get: events
/// numbered below it are stored. A trained model remembers it to catch up from there.
///
/// # Errors
/// Storage failure.
pub(crate) fn next_event_seq(
    txn: &Txn<'_>,
    account: &str,
    region: &str,
    group: &str,
) -> Result<u64, StoreError> {
    let counter_key = format!("{account}/{region}/{SERVICE}/event-counter/{}", escape_id(group));
    Ok(txn
        .get::<Value>(&counter_key)?
        .and_then(|c| c.get("next").and_then(Value::as_u64))
        .unwrap_or(0))
}

/// The events stored for dataset group `group` numbered `from` or later, with their numbers,
/// in arrival order.
///
/// # Errors
/// Storage failure.
pub(crate) fn events_from(
    txn: &Txn<'_>,
    account: &str,
    region: &str,
    group: &str,
    from: u64,
) -> Result<Vec<(u64, Value)>, StoreError> {
    let prefix = events_prefix(account, region, Some(group));
    let docs: Vec<(String, Value)> = txn.list_from(&prefix, &format!("{prefix}{from:020}"))?;
    Ok(docs
        .into_iter()
        .filter_map(|(key, doc)| Some((key.get(prefix.len()..)?.parse().ok()?, doc)))
        .collect())
}

/// Every `(account, region)` that has stored events, for searches that name neither.
///
/// # Errors
/// Storage failure.
pub(crate) fn event_scopes(txn: &Txn<'_>) -> Result<Vec<(String, String)>, StoreError> {
    // Visit each `account/region/` subtree once, skipping over its keys (there may be
    // millions of records and events) rather than scanning them.
    let mut scopes: Vec<(String, String)> = Vec::new();
    let mut from = String::new();
    while let Some(key) = txn.first_key_from(&from)? {
        let mut parts = key.splitn(3, '/');
        let (Some(account), Some(region), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
            from = crate::store::prefix_end(&key);
            continue;
        };
        let scope = format!("{account}/{region}/");
        let counters = format!("{scope}{SERVICE}/event-counter/");
        if txn
            .first_key_from(&counters)?
            .is_some_and(|k| k.starts_with(&counters))
        {
            scopes.push((account.to_owned(), region.to_owned()));
        }
        from = crate::store::prefix_end(&scope);
    }
    Ok(scopes)
}

/// How many events [`stored_events`] would return: for a tracking id alone, its running count;
/// otherwise from the keys, decoding at most each event's tracking id.
///
/// # Errors
/// Storage failure.
pub(crate) fn stored_event_count(
    txn: &Txn<'_>,
    account: &str,
    region: &str,
    dataset_group_arn: Option<&str>,
    tracking_id: Option<&str>,
) -> Result<usize, StoreError> {
    let prefix = events_prefix(account, region, dataset_group_arn);
    match tracking_id {
        None => Ok(txn.keys(&prefix)?.len()),
        Some(t) if dataset_group_arn.is_none() => {
            match txn.get::<Value>(&tracker_count_key(account, region, t))? {
                Some(c) => Ok(c.get("count").and_then(Value::as_u64).unwrap_or(0) as usize),
                None => scan_count(txn, &prefix, t),
            }
        }
        Some(t) => scan_count(txn, &prefix, t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_property_keys_are_refused_case_insensitively() {
        assert!(check_properties(r#"{"numRatings": "12"}"#).is_ok());
        assert!(check_properties(r#"{"USERID": "u"}"#).is_err());
        assert!(check_properties(r#"{"Timestamp": 1}"#).is_err());
        let err = check_properties("[1]").err().map(|e| e.message);
        assert_eq!(err.as_deref(), Some("Error parsing properties json"));
    }

    #[test]
    fn events_are_counted_per_tracking_id_including_those_stored_before_counts() {
        #![allow(clippy::unwrap_used)]
        let store = crate::store::Store::open(None).unwrap();
        let (a, r, g) = (
            "000000000000",
            "us-east-1",
            "arn:aws:personalize:us-east-1:000000000000:dataset-group/g",
        );
        let common = |t: &str| json!({ "trackingId": t, "datasetGroupArn": g });
        let events = |n: usize| {
            (0..n)
                .map(|i| json!({ "eventId": i.to_string() }))
                .collect::<Vec<_>>()
        };
        store
            .write(|t| store_events(t, a, r, g, &common("one"), events(3)))
            .unwrap();
        store
            .write(|t| store_events(t, a, r, g, &common("two"), events(2)))
            .unwrap();
        store
            .write(|t| store_events(t, a, r, g, &common("one"), events(4)))
            .unwrap();
        let count = |tracking: Option<&str>, group: Option<&str>| {
            store
                .read(|t| stored_event_count(t, a, r, group, tracking))
                .unwrap()
        };
        assert_eq!(count(Some("one"), None), 7);
        assert_eq!(count(Some("two"), None), 2);
        assert_eq!(count(Some("one"), Some(g)), 7);
        assert_eq!(count(None, Some(g)), 9);
        assert_eq!(count(Some("three"), None), 0);

        // A data dir from before the running counts: the first new event counts the old ones.
        store
            .write(|t| t.delete(&tracker_count_key(a, r, "one")))
            .unwrap();
        assert_eq!(count(Some("one"), None), 7, "counted from the events themselves");
        store
            .write(|t| store_events(t, a, r, g, &common("one"), events(1)))
            .unwrap();
        assert_eq!(count(Some("one"), None), 8);
        assert_eq!(
            store
                .read(|t| stored_events(t, a, r, None, Some("one")))
                .unwrap()
                .len(),
            8
        );
    }

    #[test]
    fn sensitive_values_are_not_printed() {
        let mut v = Violations::default();
        v.count("eventList", 11, (1, 10));
        v.text("sessionId", Some(""), true, (1, 256), false);
        let message = v.finish().err().map(|e| e.message).unwrap_or_default();
        assert_eq!(
            message,
            "2 validation errors detected: Value at 'eventList' failed to satisfy constraint: Member must have length less than or equal to 10; Value '' at 'sessionId' failed to satisfy constraint: Member must have length greater than or equal to 1"
        );
        assert!(is_attribution_source("a b"));
        assert!(!is_attribution_source("  "));
    }
}
