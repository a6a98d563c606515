//! Event source mappings from Kinesis streams: create, read, list, update, delete.
//!
//! # The stored mapping document
//! Under `ctx.key("lambda", "event-source-mapping", uuid)`, with AWS's wire names: `UUID`,
//! `EventSourceMappingArn`, `EventSourceArn`, `FunctionArn`, `StartingPosition`,
//! `StartingPositionTimestamp` (epoch seconds, `AT_TIMESTAMP` only), `BatchSize`,
//! `MaximumBatchingWindowInSeconds`, `ParallelizationFactor`, `BisectBatchOnFunctionError`,
//! `MaximumRetryAttempts` and `MaximumRecordAgeInSeconds` (-1: forever),
//! `TumblingWindowInSeconds`, `FunctionResponseTypes`, `DestinationConfig`
//! (`{"OnFailure": {"Destination": arn}}`), `FilterCriteria`, `LastModified` (epoch seconds),
//! `LastProcessingResult` (the poller updates it through [`set_processing_result`]),
//! `StateTransitionReason` and `Tags`; and for the runtime itself:
//! - `_enabled`: whether the mapping is (to be) `Enabled` rather than `Disabled`;
//! - `_transition` (`Creating`, `Updating`, `Enabling`, `Disabling`) shown as the `State`
//!   until `_transition_until_ms`;
//! - `_created_ms`, the listing order;
//! - `_gone_at_ms`: set by `DeleteEventSourceMapping`; `Deleting` until then, absent after.

use super::{
    FunctionRef, NameShape, body_of, conflict, function_arn, function_ref, invalid, missing, not_in_enum,
    opt_bool, opt_int, opt_str, opt_string_map, validation,
};
use crate::protocol::rest::{RestRequest, RestResponse};
use crate::services::iam::{RoleAccess, role_for_service};
use crate::services::{Ctx, is_gone, kinesis};
use crate::store::{StoreError, Txn};
use crate::{AwsError, AwsResult};
use serde_json::{Map, Value, json};

/// A mapping document as stored.
type Doc = Map<String, Value>;

/// The key kind of mappings.
pub(super) const KIND: &str = "event-source-mapping";

// ---- operations ----

/// `CreateEventSourceMapping`: 202, `State: Creating`.
///
/// Lambda checks the request (the destination among the options first), then the source's
/// kind, then that the function exists, then the source itself (recorded: LocalStack
/// test_event_source_mapping_exceptions). Sources other than Kinesis streams are refused once
/// the function is found.
pub(super) fn create(ctx: &Ctx<'_>, req: &RestRequest) -> AwsResult<RestResponse> {
    let body = body_of(req)?;
    let raw_function = opt_str(&body, "FunctionName")?.ok_or_else(|| missing("functionName"))?;
    let fref = function_ref(ctx, raw_function, None, NameShape::Namespaced)?;
    let mut options = options(&body)?;
    let source = opt_str(&body, "EventSourceArn")?
        .ok_or_else(|| invalid("Unrecognized event source."))?
        .to_owned();
    let kind = source_kind(&source)?;
    let start = if kind == SourceKind::Kinesis {
        starting_position(&body)?
    } else {
        Doc::new()
    };
    let enabled = opt_bool(&body, "Enabled")?.unwrap_or(true);
    let tags = opt_string_map(&body, "Tags")?.unwrap_or_default();
    super::tags::check_count(tags.len())?;
    let doc = ctx.store.write(|t| {
        purge_gone(t, ctx)?;
        let function = mapped_function(t, ctx, &fref)?;
        if kind != SourceKind::Kinesis {
            return Err(invalid(format!(
                "The local runtime maps only Kinesis streams to functions; unsupported event source: {source}"
            )));
        }
        let arn = function_arn(ctx, &fref.name);
        check_source(t, ctx, &source, &function)?;
        check_unique(t, ctx, &source, &arn, &fref.name, None)?;
        let uuid = uuid::Uuid::new_v4().to_string();
        let mut doc = defaults(ctx, &uuid, &source, &arn);
        doc.extend(start);
        doc.append(&mut options);
        doc.insert("Tags".into(), Value::Object(tags));
        doc.insert("_enabled".into(), json!(enabled));
        begin_transition(ctx, &mut doc, "Creating");
        t.put(&ctx.key("lambda", KIND, &uuid), &doc)?;
        t.put(&mapping_scope_key(ctx.account(), ctx.region()), &json!({}))?;
        Ok::<_, AwsError>(doc)
    })?;
    Ok(RestResponse::json(202, render(&doc, announced(&doc))))
}

/// `GetEventSourceMapping`.
pub(super) fn get(ctx: &Ctx<'_>, uuid: &str) -> AwsResult<RestResponse> {
    let doc = ctx.store.read(|t| load(t, ctx, uuid))?;
    Ok(RestResponse::json(200, render(&doc, ctx.now_ms)))
}

/// `ListEventSourceMappings`: filtered by `EventSourceArn` and/or `FunctionName`, oldest
/// first, `MaxItems` (default 100) per page.
pub(super) fn list(ctx: &Ctx<'_>, req: &RestRequest) -> AwsResult<RestResponse> {
    let page_size = super::max_items(req, 100)?;
    let start = req.query("Marker").map(super::decode_marker).transpose()?;
    let function = req
        .query("FunctionName")
        .map(|raw| function_ref(ctx, raw, None, NameShape::Namespaced))
        .transpose()?
        .map(|fref| (!fref.elsewhere).then(|| function_arn(ctx, &fref.name)));
    let source = req.query("EventSourceArn");
    let docs = ctx.store.read(|t| live(t, ctx))?;
    let mut matching = docs
        .into_iter()
        .filter(|d| source.is_none_or(|s| str_of(d, "EventSourceArn") == s))
        .filter(|d| {
            function
                .as_ref()
                .is_none_or(|f| f.as_deref() == Some(str_of(d, "FunctionArn")))
        })
        .filter(|d| start.as_deref().is_none_or(|s| position(d).as_str() >= s));
    let page: Vec<Value> = matching
        .by_ref()
        .take(page_size)
        .map(|d| render(&d, ctx.now_ms))
        .collect();
    let mut out = json!({ "EventSourceMappings": page });
    if let Some(next) = matching.next() {
        out["NextMarker"] = json!(super::encode_marker(&position(&next)));
    }
    Ok(RestResponse::json(200, out))
}

/// `UpdateEventSourceMapping`: 202, `State: Updating` (or `Enabling`/`Disabling`).
pub(super) fn update(ctx: &Ctx<'_>, req: &RestRequest, uuid: &str) -> AwsResult<RestResponse> {
    let body = body_of(req)?;
    let fref = opt_str(&body, "FunctionName")?
        .map(|raw| function_ref(ctx, raw, None, NameShape::Namespaced))
        .transpose()?;
    let mut options = options(&body)?;
    let enabled = opt_bool(&body, "Enabled")?;
    let doc = ctx.store.write(|t| {
        let mut doc = load(t, ctx, uuid)?;
        ensure_settled(&doc, ctx.now_ms)?;
        if let Some(fref) = &fref {
            let function = mapped_function(t, ctx, fref)?;
            let arn = function_arn(ctx, &fref.name);
            let source = str_of(&doc, "EventSourceArn").to_owned();
            check_source(t, ctx, &source, &function)?;
            check_unique(t, ctx, &source, &arn, &fref.name, Some(uuid))?;
            doc.insert("FunctionArn".into(), json!(arn));
        }
        doc.append(&mut options);
        let was_enabled = doc.get("_enabled").and_then(Value::as_bool).unwrap_or(true);
        let transition = match enabled {
            Some(true) if !was_enabled => "Enabling",
            Some(false) if was_enabled => "Disabling",
            _ => "Updating",
        };
        if let Some(e) = enabled {
            doc.insert("_enabled".into(), json!(e));
        }
        doc.insert("LastModified".into(), json!(ctx.now_secs()));
        begin_transition(ctx, &mut doc, transition);
        t.put(&ctx.key("lambda", KIND, uuid), &doc)?;
        Ok::<_, AwsError>(doc)
    })?;
    Ok(RestResponse::json(202, render(&doc, announced(&doc))))
}

/// `DeleteEventSourceMapping`: 202 with the mapping, `State: Deleting`; it disappears after
/// `profile.mapping_delete_ms`.
pub(super) fn delete(ctx: &Ctx<'_>, uuid: &str) -> AwsResult<RestResponse> {
    let doc = ctx.store.write(|t| {
        purge_gone(t, ctx)?;
        let mut doc = load(t, ctx, uuid)?;
        ensure_settled(&doc, ctx.now_ms)?;
        doc.insert(
            "_gone_at_ms".into(),
            json!(ctx.after(ctx.config.profile.mapping_delete_ms)),
        );
        t.put(&ctx.key("lambda", KIND, uuid), &doc)?;
        // The poller's state goes with the mapping (it writes none once it is `Deleting`).
        for prefix in [
            super::poller::checkpoint_prefix(ctx.account(), ctx.region(), uuid),
            super::poller::on_failure_prefix(ctx.account(), ctx.region(), uuid),
        ] {
            for key in t.keys(&prefix)? {
                t.delete(&key)?;
            }
        }
        Ok::<_, AwsError>(doc)
    })?;
    Ok(RestResponse::json(202, render(&doc, ctx.now_ms)))
}

// ---- for the poller ----

/// Every mapping of the caller's account and region that is not gone, oldest first: the
/// stored documents (see the module docs) with `State` computed for now.
///
/// # Errors
/// Storage failure.
pub fn list_mappings(txn: &Txn<'_>, ctx: &Ctx<'_>) -> Result<Vec<Value>, StoreError> {
    Ok(live(txn, ctx)?
        .into_iter()
        .map(|mut d| {
            let state = state(&d, ctx.now_ms);
            d.insert("State".into(), json!(state));
            Value::Object(d)
        })
        .collect())
}

/// Mapping `uuid` of the caller's account and region unless it is gone: the stored document
/// with `State` computed for now.
///
/// # Errors
/// Storage failure.
pub fn mapping_doc(txn: &Txn<'_>, ctx: &Ctx<'_>, uuid: &str) -> Result<Option<Value>, StoreError> {
    let Some(mut doc) = txn
        .get::<Doc>(&ctx.key("lambda", KIND, uuid))?
        .filter(|d| !gone(d, ctx.now_ms))
    else {
        return Ok(None);
    };
    let state = state(&doc, ctx.now_ms);
    doc.insert("State".into(), json!(state));
    Ok(Some(Value::Object(doc)))
}

/// The key recording that `account`/`region` has (or had) event source mappings, so the
/// poller finds every mapping without scanning the whole store. It has four segments, so
/// `/_local/resources` does not list it as a resource.
pub fn mapping_scope_key(account: &str, region: &str) -> String {
    format!("{MAPPING_SCOPES}{account}/{region}")
}

/// The prefix of [`mapping_scope_key`]s.
pub const MAPPING_SCOPES: &str = "_local/event-source-mapping-scopes/";

/// Records what the poller's last batch did (`OK`, `PROBLEM: Function call failed`, ...);
/// whether the mapping exists.
///
/// # Errors
/// Storage failure, or a read transaction.
pub fn set_processing_result(
    txn: &mut Txn<'_>,
    ctx: &Ctx<'_>,
    uuid: &str,
    result: &str,
) -> Result<bool, StoreError> {
    let key = ctx.key("lambda", KIND, uuid);
    let Some(mut doc) = txn
        .get::<Doc>(&key)?
        .filter(|d| !is_gone(&Value::Object(d.clone()), ctx.now_ms))
    else {
        return Ok(false);
    };
    doc.insert("LastProcessingResult".into(), json!(result));
    txn.put(&key, &doc)?;
    Ok(true)
}

// ---- loading and state ----

fn not_found() -> AwsError {
    super::not_found("The resource you requested does not exist.")
}

/// The function a mapping is for; a missing one is a bad parameter here, not a missing
/// resource (recorded: LocalStack test_event_source_mapping_exceptions).
fn mapped_function(txn: &Txn<'_>, ctx: &Ctx<'_>, fref: &FunctionRef) -> AwsResult<Doc> {
    match super::functions::load(txn, ctx, fref) {
        Err(e) if e.code == "ResourceNotFoundException" => Err(invalid("Function does not exist")),
        found => found,
    }
}

fn load(txn: &Txn<'_>, ctx: &Ctx<'_>, uuid: &str) -> AwsResult<Doc> {
    txn.get::<Doc>(&ctx.key("lambda", KIND, uuid))?
        .filter(|d| !gone(d, ctx.now_ms))
        .ok_or_else(not_found)
}

fn gone(doc: &Doc, now_ms: u64) -> bool {
    doc.get("_gone_at_ms")
        .and_then(Value::as_u64)
        .is_some_and(|t| now_ms >= t)
}

/// Live mappings, oldest first.
fn live(txn: &Txn<'_>, ctx: &Ctx<'_>) -> Result<Vec<Doc>, StoreError> {
    let mut docs: Vec<Doc> = txn
        .list::<Doc>(&ctx.prefix("lambda", KIND))?
        .into_iter()
        .map(|(_, d)| d)
        .filter(|d| !gone(d, ctx.now_ms))
        .collect();
    docs.sort_by_key(position);
    Ok(docs)
}

/// Deleted mappings stay as documents until their time is up; drop the finished ones.
fn purge_gone(txn: &mut Txn<'_>, ctx: &Ctx<'_>) -> Result<(), StoreError> {
    let finished: Vec<String> = txn
        .list::<Doc>(&ctx.prefix("lambda", KIND))?
        .into_iter()
        .filter(|(_, d)| gone(d, ctx.now_ms))
        .map(|(k, _)| k)
        .collect();
    for key in finished {
        txn.delete(&key)?;
    }
    Ok(())
}

/// A sortable position: creation time, then UUID.
fn position(doc: &Doc) -> String {
    let created = doc.get("_created_ms").and_then(Value::as_u64).unwrap_or(0);
    format!("{created:020}/{}", str_of(doc, "UUID"))
}

fn state(doc: &Doc, now_ms: u64) -> String {
    if doc.contains_key("_gone_at_ms") {
        return "Deleting".to_owned();
    }
    let until = doc
        .get("_transition_until_ms")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    match doc.get("_transition").and_then(Value::as_str) {
        Some(t) if now_ms < until => t.to_owned(),
        _ if doc.get("_enabled").and_then(Value::as_bool).unwrap_or(true) => "Enabled".to_owned(),
        _ => "Disabled".to_owned(),
    }
}

/// The instant just before the transition ends: the response to the call that starts it
/// always shows it (`Creating`, `Updating`, ...), as AWS's does, even with no delay.
fn announced(doc: &Doc) -> u64 {
    doc.get("_transition_until_ms")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .saturating_sub(1)
}

fn begin_transition(ctx: &Ctx<'_>, doc: &mut Doc, transition: &str) {
    doc.insert("_transition".into(), json!(transition));
    doc.insert(
        "_transition_until_ms".into(),
        json!(ctx.after(ctx.config.profile.mapping_ready_ms)),
    );
}

/// Lambda refuses to change a mapping while it is changing already.
fn ensure_settled(doc: &Doc, now_ms: u64) -> AwsResult<()> {
    let state = state(doc, now_ms);
    if state == "Enabled" || state == "Disabled" {
        return Ok(());
    }
    Err(AwsError::new(
        "ResourceInUseException",
        format!(
            "Cannot modify the event source mapping {} because it is in use: its state is {state}. Please try again later.",
            str_of(doc, "UUID")
        ),
    ))
}

fn str_of<'a>(doc: &'a Doc, field: &str) -> &'a str {
    doc.get(field).and_then(Value::as_str).unwrap_or_default()
}

fn defaults(ctx: &Ctx<'_>, uuid: &str, source: &str, function_arn: &str) -> Doc {
    let doc = json!({
        "UUID": uuid,
        "EventSourceMappingArn": ctx.arn("lambda", &format!("event-source-mapping:{uuid}")),
        "EventSourceArn": source,
        "FunctionArn": function_arn,
        "BatchSize": 100,
        "MaximumBatchingWindowInSeconds": 0,
        "ParallelizationFactor": 1,
        "BisectBatchOnFunctionError": false,
        "MaximumRetryAttempts": -1,
        "MaximumRecordAgeInSeconds": -1,
        "TumblingWindowInSeconds": 0,
        "FunctionResponseTypes": [],
        "DestinationConfig": { "OnFailure": {} },
        "LastModified": ctx.now_secs(),
        "LastProcessingResult": "No records processed",
        // AWS words it so for stream sources (SQS mappings say `USER_INITIATED`).
        "StateTransitionReason": "User action",
        "_created_ms": ctx.now_ms,
    });
    match doc {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The wire `EventSourceMappingConfiguration`.
fn render(doc: &Doc, now_ms: u64) -> Value {
    let mut out: Map<String, Value> = doc
        .iter()
        .filter(|(k, _)| !k.starts_with('_') && k.as_str() != "Tags")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    out.insert("State".into(), json!(state(doc, now_ms)));
    Value::Object(out)
}

// ---- checks against other resources ----

/// The stream must exist, and the function's role must be usable by Lambda to read it.
fn check_source(txn: &Txn<'_>, ctx: &Ctx<'_>, source: &str, function: &Map<String, Value>) -> AwsResult<()> {
    let status = kinesis::stream_status_by_arn(txn, ctx, source)?;
    if status.is_none_or(|s| s == "DELETING") {
        return Err(invalid(format!("Stream not found: {source}")));
    }
    let role = function.get("Role").and_then(Value::as_str).unwrap_or_default();
    match role_for_service(txn, ctx, role, "lambda.amazonaws.com")? {
        RoleAccess::Usable => Ok(()),
        RoleAccess::Missing | RoleAccess::NotTrusted | RoleAccess::Propagating => Err(invalid(format!(
            "Cannot access stream {source}. Please ensure the role can perform the GetRecords, GetShardIterator, DescribeStream, ListShards, and ListStreams Actions on your stream in IAM."
        ))),
    }
}

/// One mapping per stream and function.
fn check_unique(
    txn: &Txn<'_>,
    ctx: &Ctx<'_>,
    source: &str,
    function_arn: &str,
    function_name: &str,
    except: Option<&str>,
) -> AwsResult<()> {
    let existing = live(txn, ctx)?.into_iter().find(|d| {
        str_of(d, "EventSourceArn") == source
            && str_of(d, "FunctionArn") == function_arn
            && Some(str_of(d, "UUID")) != except
    });
    match existing {
        Some(d) => Err(conflict(format!(
            "The event source arn (\" {source} \") and function (\" {function_name} \") provided mapping already exists. Please update or delete the existing mapping with UUID {}",
            str_of(&d, "UUID")
        ))),
        None => Ok(()),
    }
}

// ---- validating input ----

/// The kinds of event source Lambda knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SourceKind {
    /// The only kind mapped here.
    Kinesis,
    /// SQS, DynamoDB streams, MSK, MQ, DocumentDB: known to Lambda, not mapped here.
    Other,
}

fn source_kind(arn: &str) -> AwsResult<SourceKind> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "kinesis", _, _, resource] if resource.starts_with("stream/") => Ok(SourceKind::Kinesis),
        ["arn", _, "sqs" | "dynamodb" | "kafka" | "mq" | "docdb", ..] => Ok(SourceKind::Other),
        _ => Err(invalid(format!(
            "Unrecognized event source, must be kinesis, dynamodb stream or sqs. Unsupported source arn : {arn}"
        ))),
    }
}

/// `StartingPosition` (required for Kinesis) and, for `AT_TIMESTAMP`, its timestamp.
fn starting_position(body: &Value) -> AwsResult<Doc> {
    let position = opt_str(body, "StartingPosition")?.ok_or_else(|| {
        invalid(
            "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null.",
        )
    })?;
    if !["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"].contains(&position) {
        return Err(not_in_enum(
            "startingPosition",
            position,
            &["LATEST", "AT_TIMESTAMP", "TRIM_HORIZON"],
        ));
    }
    let mut out = Doc::new();
    out.insert("StartingPosition".into(), json!(position));
    let timestamp = body.get("StartingPositionTimestamp").and_then(Value::as_f64);
    match (position, timestamp) {
        ("AT_TIMESTAMP", Some(ts)) => {
            out.insert("StartingPositionTimestamp".into(), json!(ts));
        }
        ("AT_TIMESTAMP", None) => {
            return Err(invalid(
                "StartingPositionTimestamp must be provided when StartingPosition is AT_TIMESTAMP.",
            ));
        }
        (_, Some(_)) => {
            return Err(invalid(
                "StartingPositionTimestamp can only be provided when StartingPosition is AT_TIMESTAMP.",
            ));
        }
        _ => {}
    }
    Ok(out)
}

/// A number outside its modelled range, worded as the mapping API words it.
fn range(member: &str, value: i64, min: i64, max: i64) -> AwsResult<()> {
    let bound = if value < min {
        format!("greater than or equal to {min}")
    } else if value > max {
        format!("less than or equal to {max}")
    } else {
        return Ok(());
    };
    Err(validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must have value {bound}"
    )))
}

/// The options both create and update accept, validated; only those present.
fn options(body: &Value) -> AwsResult<Doc> {
    let mut out = Doc::new();
    let ranged: [(&str, &str, i64, i64); 6] = [
        ("BatchSize", "batchSize", 1, 10_000),
        (
            "MaximumBatchingWindowInSeconds",
            "maximumBatchingWindowInSeconds",
            0,
            300,
        ),
        ("ParallelizationFactor", "parallelizationFactor", 1, 10),
        ("MaximumRetryAttempts", "maximumRetryAttempts", -1, 10_000),
        (
            "MaximumRecordAgeInSeconds",
            "maximumRecordAgeInSeconds",
            -1,
            604_800,
        ),
        ("TumblingWindowInSeconds", "tumblingWindowInSeconds", 0, 900),
    ];
    for (member, wire, min, max) in ranged {
        if let Some(v) = opt_int(body, member)? {
            range(wire, v, min, max)?;
            out.insert(member.into(), json!(v));
        }
    }
    if let Some(age) = out.get("MaximumRecordAgeInSeconds").and_then(Value::as_i64)
        && (0..60).contains(&age)
    {
        return Err(invalid(
            "MaximumRecordAgeInSeconds must be -1 (infinite) or between 60 and 604800 seconds.",
        ));
    }
    if let Some(bisect) = opt_bool(body, "BisectBatchOnFunctionError")? {
        out.insert("BisectBatchOnFunctionError".into(), json!(bisect));
    }
    if let Some(types) = function_response_types(body)? {
        out.insert("FunctionResponseTypes".into(), json!(types));
    }
    if let Some(destination) = destination_config(body)? {
        out.insert("DestinationConfig".into(), destination);
    }
    if let Some(filter) = body.get("FilterCriteria").filter(|v| v.is_object()) {
        out.insert("FilterCriteria".into(), filter.clone());
    }
    Ok(out)
}

fn function_response_types(body: &Value) -> AwsResult<Option<Vec<String>>> {
    let Some(list) = body.get("FunctionResponseTypes").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let items: Vec<String> = list
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .ok_or_else(|| super::bad_body("`FunctionResponseTypes` must be a list"))?;
    if let Some(bad) = items.iter().find(|t| t.as_str() != "ReportBatchItemFailures") {
        return Err(not_in_enum(
            "functionResponseTypes",
            bad,
            &["ReportBatchItemFailures"],
        ));
    }
    Ok(Some(items))
}

/// `DestinationConfig`: only `OnFailure` for stream sources, to an SQS queue, SNS topic or
/// S3 bucket.
fn destination_config(body: &Value) -> AwsResult<Option<Value>> {
    let Some(config) = body.get("DestinationConfig").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    if config.get("OnSuccess").is_some_and(|v| !v.is_null()) {
        return Err(invalid(
            "Unsupported DestinationConfig parameter for given event source mapping type.",
        ));
    }
    let on_failure = config.get("OnFailure").filter(|v| !v.is_null());
    let Some(destination) = on_failure
        .map(|f| opt_str(f, "Destination"))
        .transpose()?
        .flatten()
    else {
        return Ok(Some(json!({ "OnFailure": {} })));
    };
    let supported = ["arn:aws:sqs:", "arn:aws:sns:", "arn:aws:s3:::"]
        .iter()
        .any(|p| destination.starts_with(p));
    if !supported {
        return Err(invalid(format!(
            "The provided destination config DestinationConfig(onSuccess=null, onFailure=OnFailure(destination={destination})) is invalid."
        )));
    }
    Ok(Some(json!({ "OnFailure": { "Destination": destination } })))
}
