//! Lambda (restJson1, `/2015-03-31/...`): functions, `Invoke`, event source mappings,
//! reserved concurrency (`concurrency`) and resource-based policies (`permissions`).
//!
//! # Running functions
//! - `executor`: unpacks a function's zip (stored or deflated entries: `zip`, over the `zip` crate)
//!   and runs its `bootstrap` against a per-instance Runtime API (`runtime_api`), with
//!   warm reuse, timeouts and CloudWatch Logs output.
//! - `invoke`: the `Invoke` operation (`RequestResponse`, `Event`, `DryRun`).
//! - `poller`: the Kinesis poller of one shard for one mapping (the supervisor that
//!   starts and stops pollers is `crate::background`).
//!
//! # What is stored
//! - A function is one document under `ctx.key("lambda", "function", name)` (its fields are
//!   listed in the `functions` submodule); its zip is a blob whose key the document names
//!   in `_code_blob`, stored once per content however many functions use it (`code`); its
//!   resource-based policy is kept in it too (`permissions`), so it goes with the function.
//! - An event source mapping is one document under
//!   `ctx.key("lambda", "event-source-mapping", uuid)` (fields in the `mappings` submodule).
//!
//! Wire names (`Runtime`, `Handler`, ...) are stored as AWS spells them, so the documents read
//! like `GetFunctionConfiguration`; fields the runtime keeps for itself start with `_`.
//! States (`Pending`/`Active`, `Creating`/`Enabled`, ...) are computed from stored times
//! when read: [`function_doc`] and [`list_mappings`] return them computed, for the poller.
//!
//! # AWS behaviours reproduced
//! - A function is `Pending` for `profile.function_ready_ms`, and each update keeps
//!   `LastUpdateStatus: InProgress` for `profile.function_update_ms`; updating meanwhile is a
//!   `ResourceConflictException` (409) with AWS's wording.
//! - A role Lambda cannot assume (missing, not trusting `lambda.amazonaws.com`, or too new
//!   for IAM to have propagated it) fails `CreateFunction` with AWS's exact message.
//! - Deleting a function leaves its event source mappings in place, as AWS does: they stay
//!   until deleted and the poller finds no function behind them.
//! - Function names, qualifiers and taggable ARNs are checked against Lambda's model
//!   patterns, quoted as its front end quotes them (`names`); an ARN of another region is
//!   "not reachable in this region", and a name's qualifier must agree with `Qualifier`.

pub(crate) mod code;
mod concurrency;
pub(crate) mod executor;
mod functions;
mod invoke;
mod mappings;
mod names;
mod permissions;
pub(crate) mod poller;
mod runtime_api;
mod tags;
mod zip;

pub use functions::function_doc;
pub use mappings::{MAPPING_SCOPES, list_mappings, mapping_doc, mapping_scope_key, set_processing_result};

use super::Ctx;
use crate::protocol::rest::{RestRequest, RestResponse};
use crate::{AwsError, AwsResult};
use executor::Executor;
use names::{FunctionRef, NameShape, function_ref};
use std::sync::Arc;

/// Handles one request.
///
/// # Errors
/// AWS's errors for the operation; `UnknownOperationException` (404) for no route.
pub(crate) fn handle(
    ctx: &Ctx<'_>,
    executor: Option<&Arc<Executor>>,
    req: &RestRequest,
) -> AwsResult<RestResponse> {
    let parts = req.parts();
    match (req.method.as_str(), parts.as_slice()) {
        ("POST", ["2015-03-31", "functions"]) => functions::create(ctx, req),
        ("GET", ["2015-03-31", "functions"]) => functions::list(ctx, req),
        ("GET", ["2015-03-31", "functions", name]) => functions::get(ctx, req, name),
        ("DELETE", ["2015-03-31", "functions", name]) => functions::delete(ctx, req, name),
        ("GET", ["2015-03-31", "functions", name, "configuration"]) => {
            functions::get_configuration(ctx, req, name)
        }
        ("PUT", ["2015-03-31", "functions", name, "configuration"]) => {
            functions::update_configuration(ctx, req, name)
        }
        ("PUT", ["2015-03-31", "functions", name, "code"]) => functions::update_code(ctx, req, name),
        ("POST", ["2015-03-31", "functions", name, "invocations"]) => {
            invoke::invoke(ctx, executor, req, name)
        }
        ("PUT", ["2017-10-31", "functions", name, "concurrency"]) => concurrency::put(ctx, req, name),
        ("DELETE", ["2017-10-31", "functions", name, "concurrency"]) => concurrency::delete(ctx, name),
        ("GET", ["2019-09-30", "functions", name, "concurrency"]) => concurrency::get(ctx, name),
        ("POST", ["2015-03-31", "functions", name, "policy"]) => permissions::add(ctx, req, name),
        ("GET", ["2015-03-31", "functions", name, "policy"]) => permissions::get(ctx, req, name),
        ("DELETE", ["2015-03-31", "functions", name, "policy", sid]) => {
            permissions::remove(ctx, req, name, sid)
        }
        ("POST", ["2015-03-31", "event-source-mappings"]) => mappings::create(ctx, req),
        ("GET", ["2015-03-31", "event-source-mappings"]) => mappings::list(ctx, req),
        ("GET", ["2015-03-31", "event-source-mappings", uuid]) => mappings::get(ctx, uuid),
        ("PUT", ["2015-03-31", "event-source-mappings", uuid]) => mappings::update(ctx, req, uuid),
        ("DELETE", ["2015-03-31", "event-source-mappings", uuid]) => mappings::delete(ctx, uuid),
        ("GET", ["2017-03-31", "tags", arn]) => tags::list(ctx, arn),
        ("POST", ["2017-03-31", "tags", arn]) => tags::tag(ctx, req, arn),
        ("DELETE", ["2017-03-31", "tags", arn]) => tags::untag(ctx, req, arn),
        _ => Err(AwsError::new(
            "UnknownOperationException",
            format!("Unknown operation {} {}", req.method, req.path),
        )
        .status(404)),
    }
}

// ---- errors, worded and coded as Lambda does ----

/// `InvalidParameterValueException` (400): a value Lambda understood and refused.
fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidParameterValueException", message)
}

/// `ValidationException` (400): a member breaking the API model's constraints.
fn validation(message: impl Into<String>) -> AwsError {
    AwsError::new("ValidationException", message)
}

/// `ResourceConflictException` (409).
fn conflict(message: impl Into<String>) -> AwsError {
    AwsError::new("ResourceConflictException", message).status(409)
}

/// `ResourceNotFoundException` (404).
fn not_found(message: impl Into<String>) -> AwsError {
    AwsError::new("ResourceNotFoundException", message).status(404)
}

/// A member that must be present but is not.
fn missing(member: &str) -> AwsError {
    validation(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    ))
}

/// A number outside its modelled range, in Lambda's current wording
/// (`'MemorySize' value failed to satisfy constraint: ...`).
fn out_of_range(member: &str, value: i64, min: i64, max: i64) -> Option<AwsError> {
    let bound = if value < min {
        format!("greater than or equal to {min}")
    } else if value > max {
        format!("less than or equal to {max}")
    } else {
        return None;
    };
    Some(validation(format!(
        "'{member}' value failed to satisfy constraint: Member must have value {bound}"
    )))
}

/// A value outside its modelled enum.
fn not_in_enum(member: &str, value: &str, allowed: &[&str]) -> AwsError {
    validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
        allowed.join(", ")
    ))
}

// ---- reading JSON members ----

/// A request body that is not the JSON Lambda expects.
fn bad_body(detail: impl std::fmt::Display) -> AwsError {
    AwsError::new(
        "InvalidRequestContentException",
        format!("Could not parse request body into json: {detail}"),
    )
}

fn body_of(req: &RestRequest) -> AwsResult<serde_json::Value> {
    let body = crate::protocol::rest::parse_body(&req.body, "InvalidRequestContentException")?;
    if body.is_object() {
        Ok(body)
    } else {
        Err(bad_body("expected a JSON object"))
    }
}

/// An optional string member.
fn opt_str<'a>(body: &'a serde_json::Value, member: &str) -> AwsResult<Option<&'a str>> {
    match body.get(member) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad_body(format!("`{member}` must be a string"))),
    }
}

/// An optional integer member.
fn opt_int(body: &serde_json::Value, member: &str) -> AwsResult<Option<i64>> {
    match body.get(member) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| bad_body(format!("`{member}` must be an integer"))),
    }
}

/// An optional boolean member.
fn opt_bool(body: &serde_json::Value, member: &str) -> AwsResult<Option<bool>> {
    match body.get(member) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(bad_body(format!("`{member}` must be a boolean"))),
    }
}

/// An optional `{string: string}` member (tags, environment variables).
fn opt_string_map(
    body: &serde_json::Value,
    member: &str,
) -> AwsResult<Option<serde_json::Map<String, serde_json::Value>>> {
    match body.get(member) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Object(m)) if m.values().all(serde_json::Value::is_string) => {
            Ok(Some(m.clone()))
        }
        Some(_) => Err(bad_body(format!("`{member}` must map strings to strings"))),
    }
}

// ---- names and ARNs ----

/// `arn:aws:lambda:{region}:{account}:function:{name}`.
fn function_arn(ctx: &Ctx<'_>, name: &str) -> String {
    ctx.arn("lambda", &format!("function:{name}"))
}

/// The store key of function `name`.
fn function_key(ctx: &Ctx<'_>, name: &str) -> String {
    ctx.key("lambda", "function", name)
}

/// Lambda's `LastModified` string: `2026-11-23T10:00:00.000+0000`.
fn lambda_timestamp(ms: u64) -> String {
    let seconds = super::sts::iso8601(ms);
    format!("{}.{:03}+0000", seconds.trim_end_matches('Z'), ms % 1000)
}

// ---- pagination ----

/// `MaxItems`, checked against the model's 1–10000, or `default`.
fn max_items(req: &RestRequest, default: usize) -> AwsResult<usize> {
    let Some(raw) = req.query("MaxItems") else {
        return Ok(default);
    };
    let n: i64 = raw
        .parse()
        .map_err(|_| invalid(format!("Invalid value for MaxItems: {raw}")))?;
    if let Some(e) = out_of_range("MaxItems", n, 1, 10_000) {
        return Err(e);
    }
    usize::try_from(n).map_err(|_| invalid(format!("Invalid value for MaxItems: {raw}")))
}

/// An opaque marker naming the first item of the next page.
fn encode_marker(position: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(position)
}

/// The position a `Marker` names.
fn decode_marker(marker: &str) -> AwsResult<String> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(marker)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| invalid(format!("Invalid marker: {marker}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::store::{Store, StoreError};
    use crate::{Caller, Config, Profile};

    fn request(method: &str, path: &str, body: serde_json::Value) -> RestRequest {
        RestRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            segments: crate::protocol::rest::segments(path),
            query: Vec::new(),
            headers: axum::http::HeaderMap::new(),
            body: serde_json::to_vec(&body).unwrap(),
        }
    }

    /// What the poller relies on: the function's run settings and zip, the mappings with
    /// their options and computed states, and a place to report processing results.
    #[test]
    fn the_poller_reads_functions_and_mappings_and_reports_results() {
        let store = Store::open(None).unwrap();
        let config = Config {
            profile: Profile::instant(),
            ..Config::default()
        };
        let caller = Caller {
            access_key_id: "000000000000".into(),
            account: "000000000000".into(),
            region: "us-east-1".into(),
            service: "lambda".into(),
        };
        let ctx = Ctx {
            caller: &caller,
            request_id: "r",
            now_ms: 1_000_000,
            store: &store,
            config: &config,
        };
        let role = "arn:aws:iam::000000000000:role/r";
        let stream = "arn:aws:kinesis:us-east-1:000000000000:stream/events";
        store
            .write(|t| {
                t.put(
                    &crate::services::iam::role_key("000000000000", "r"),
                    &serde_json::json!({
                        "Arn": role,
                        "AssumeRolePolicyDocument": r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
                        "created_ms": 0,
                    }),
                )?;
                t.put(
                    "000000000000/us-east-1/kinesis/stream/events",
                    &serde_json::json!({ "StreamARN": stream, "status": "ACTIVE" }),
                )
            })
            .unwrap();
        let zip = b"PK\x03\x04rest of a zip".to_vec();
        let created = handle(
            &ctx,
            None,
            &request(
                "POST",
                "/2015-03-31/functions",
                serde_json::json!({
                    "FunctionName": "f", "Runtime": "provided.al2023", "Handler": "bootstrap",
                    "Role": role, "Timeout": 30, "Environment": {"Variables": {"KEY": "v"}},
                    "Code": {"ZipFile": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &zip)},
                }),
            ),
        )
        .unwrap();
        assert_eq!(created.status, 201);
        let mapped = handle(
            &ctx,
            None,
            &request(
                "POST",
                "/2015-03-31/event-source-mappings",
                serde_json::json!({
                    "FunctionName": "f", "EventSourceArn": stream, "StartingPosition": "TRIM_HORIZON",
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                }),
            ),
        )
        .unwrap();
        let uuid = mapped.body.unwrap()["UUID"].as_str().unwrap().to_owned();

        let later = Ctx {
            now_ms: 1_000_001,
            ..ctx
        };
        let (function, mappings) = store
            .read(|t| Ok::<_, StoreError>((function_doc(t, &later, "f")?, list_mappings(t, &later)?)))
            .unwrap();
        let function = function.unwrap();
        assert_eq!(function["State"], "Active");
        assert_eq!(function["Handler"], "bootstrap");
        assert_eq!(function["Timeout"], 30);
        assert_eq!(function["Environment"]["Variables"]["KEY"], "v");
        let blob = function["_code_blob"].as_str().unwrap();
        assert_eq!(store.read(|t| t.get_blob(blob)).unwrap(), Some(zip));
        assert_eq!(mappings.len(), 1);
        assert_eq!(mappings[0]["State"], "Enabled");
        assert_eq!(mappings[0]["BatchSize"], 100);
        assert_eq!(mappings[0]["FunctionArn"], function["FunctionArn"]);

        let found = store
            .write(|t| set_processing_result(t, &later, &uuid, "OK"))
            .unwrap();
        assert!(found);
        let mappings = store.read(|t| list_mappings(t, &later)).unwrap();
        assert_eq!(mappings[0]["LastProcessingResult"], "OK");
    }

    #[test]
    fn lambda_timestamps_carry_milliseconds_and_offset() {
        assert_eq!(
            super::lambda_timestamp(1_676_975_804_123),
            "2023-02-21T10:36:44.123+0000"
        );
    }
}
