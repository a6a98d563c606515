//! API Gateway REST APIs (restJson1): the control plane — REST APIs, resources, methods,
//! integrations, deployments, stages, API keys, usage plans and tags.
//!
//! # Storage
//! - `restapi/{api}`: one document per API holding its whole definition (resources, methods,
//!   integrations, responses, templates) under `_resources`: an API is small and edited as a
//!   whole.
//! - `deployment/{api}/{id}`: a deployment and the snapshot (`_snapshot`) of the definition taken
//!   when it was created. A stage (`stage/{api}/{name}`) points at one deployment and serves its
//!   snapshot, so later edits do nothing until a new deployment (as on AWS).
//! - `apikey/{id}`, `usageplan/{id}`, `usageplankey/{plan}/{key}`.
//!
//! Fields whose names start with `_` are internal and never rendered.

mod deployments;
pub mod execute;
mod keys;
mod methods;
mod model;
mod patch;
mod restapis;
mod tags;

// The data plane (`execute-api`) serves stages through this; until it lands, only tests call it.
#[allow(unused_imports)]
pub(crate) use deployments::deployed_snapshot;

use super::{Ctx, escape_id};
use crate::protocol::rest::{self, RestRequest, RestResponse};
use crate::{AwsError, AwsResult};
use base64::Engine as _;
use rand::Rng as _;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The service segment of every key.
const SERVICE: &str = "apigateway";

/// Handles one request.
///
/// # Errors
/// AWS's errors for the operation; `UnknownOperationException` (404) for no route.
pub fn handle(ctx: &Ctx<'_>, req: &RestRequest) -> AwsResult<RestResponse> {
    let parts = req.parts();
    match parts.first().copied() {
        Some("restapis") => restapi_routes(ctx, req, &parts[1..]),
        Some("apikeys" | "usageplans") => keys::route(ctx, req, &parts),
        Some("tags") => tags::route(ctx, req, &parts[1..]),
        _ => Err(unknown_operation(req)),
    }
}

fn restapi_routes(ctx: &Ctx<'_>, req: &RestRequest, parts: &[&str]) -> AwsResult<RestResponse> {
    let method = req.method.as_str();
    match (method, parts) {
        ("POST", []) => restapis::create_rest_api(ctx, &body(req)?),
        ("GET", []) => restapis::get_rest_apis(ctx, &Page::of(req)?),
        ("GET", [api]) => restapis::get_rest_api(ctx, api),
        ("PATCH", [api]) => {
            restapis::update_rest_api(ctx, api, &patch::ops(&body(req)?, "updateRestApiInput")?)
        }
        ("DELETE", [api]) => restapis::delete_rest_api(ctx, api),
        ("GET", [api, "resources"]) => {
            restapis::get_resources(ctx, api, &Page::of(req)?, embeds(req, "methods"))
        }
        ("GET", [api, "resources", id]) => restapis::get_resource(ctx, api, id, embeds(req, "methods")),
        ("POST", [api, "resources", parent]) => restapis::create_resource(ctx, api, parent, &body(req)?),
        ("PATCH", [api, "resources", id]) => {
            restapis::update_resource(ctx, api, id, &patch::ops(&body(req)?, "updateResourceInput")?)
        }
        ("DELETE", [api, "resources", id]) => restapis::delete_resource(ctx, api, id),
        (_, [api, "resources", resource, "methods", http_method, rest @ ..]) => methods::route(
            ctx,
            req,
            &methods::MethodRef {
                api,
                resource,
                http_method,
            },
            rest,
        ),
        (_, [api, "deployments" | "stages", ..]) => deployments::route(ctx, req, api, &parts[1..]),
        _ => Err(unknown_operation(req)),
    }
}

fn unknown_operation(req: &RestRequest) -> AwsError {
    AwsError::new(
        "UnknownOperationException",
        format!("Unknown operation {} {}", req.method, req.path),
    )
    .status(404)
}

// ---------------------------------------------------------------------------------------------
// Errors, worded as API Gateway words them.

/// `BadRequestException` (400).
fn bad_request(message: impl Into<String>) -> AwsError {
    AwsError::new("BadRequestException", message)
}

/// `NotFoundException` (404).
fn not_found(message: impl Into<String>) -> AwsError {
    AwsError::new("NotFoundException", message).status(404)
}

/// `ConflictException` (409).
fn conflict(message: impl Into<String>) -> AwsError {
    AwsError::new("ConflictException", message).status(409)
}

/// `LimitExceededException` (429), for fixed quotas such as resources per API.
fn limit_exceeded(message: impl Into<String>) -> AwsError {
    AwsError::new("LimitExceededException", message).status(429)
}

/// The API does not exist in the caller's account and region.
fn api_not_found(ctx: &Ctx<'_>, api: &str) -> AwsError {
    not_found(format!(
        "Invalid API identifier specified {}:{api}",
        ctx.account()
    ))
}

// ---------------------------------------------------------------------------------------------
// Keys and ids.

/// The key of an API Gateway document in `account`/`region`.
fn key_in(account: &str, region: &str, kind: &str, id: &str) -> String {
    format!("{account}/{region}/{SERVICE}/{kind}/{}", escape_id(id))
}

/// The prefix of every document of `kind` that belongs to `parent` (ids `parent/child`).
fn child_prefix_in(account: &str, region: &str, kind: &str, parent: &str) -> String {
    format!("{account}/{region}/{SERVICE}/{kind}/{}%2F", escape_id(parent))
}

/// Where the data plane finds an API by id alone (execute-api requests carry no credentials
/// naming an account): `_index/apigateway/restapi/{id}` → `{"account", "region"}`, written by
/// CreateRestApi and removed by DeleteRestApi. Four segments, so it is not an
/// `account/region/service/kind/id` resource.
pub(super) fn api_index_key(id: &str) -> String {
    format!("_index/{SERVICE}/restapi/{}", escape_id(id))
}

/// The key of a document in the caller's account and region.
fn key(ctx: &Ctx<'_>, kind: &str, id: &str) -> String {
    key_in(ctx.account(), ctx.region(), kind, id)
}

/// The prefix of every document of `kind` that belongs to `parent`, for the caller.
fn child_prefix(ctx: &Ctx<'_>, kind: &str, parent: &str) -> String {
    child_prefix_in(ctx.account(), ctx.region(), kind, parent)
}

/// A fresh identifier of `len` lowercase letters and digits, the shape AWS uses.
fn new_id(len: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    random_from(CHARS, len)
}

fn random_from(chars: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(chars[rng.random_range(0..chars.len())]))
        .collect()
}

/// Now in epoch seconds, as API Gateway's timestamps are written.
fn now_secs(ctx: &Ctx<'_>) -> u64 {
    ctx.now_ms / 1000
}

// ---------------------------------------------------------------------------------------------
// Requests and responses.

/// The request body as a JSON object (`{}` when empty).
fn body(req: &RestRequest) -> AwsResult<Map<String, Value>> {
    match rest::parse_body(&req.body, "BadRequestException")? {
        Value::Object(m) => Ok(m),
        _ => Err(bad_request(
            "Could not parse request body into json: expected an object",
        )),
    }
}

/// Whether `?embed=` asks for `what`.
fn embeds(req: &RestRequest, what: &str) -> bool {
    req.query
        .iter()
        .filter(|(k, _)| k == "embed")
        .flat_map(|(_, v)| v.split(','))
        .any(|v| v.trim() == what)
}

/// `status` with `value` rendered as the body.
fn respond<T: Serialize>(status: u16, value: &T) -> RestResponse {
    RestResponse::json(status, render(value))
}

/// `answer` with `tags: {}` when it has no tags: UpdateRestApi, UpdateApiKey, GetUsagePlan and
/// UpdateUsagePlan answer so for a resource without tags, where the Create, Get (of APIs and
/// keys) and list answers leave `tags` out (recorded: LocalStack
/// test_update_rest_api_operation_add_remove, test_usage_plan_crud,
/// test_api_key_required_for_methods).
fn with_empty_tags(mut answer: RestResponse) -> RestResponse {
    if let Some(Value::Object(fields)) = answer.body.as_mut() {
        fields.entry("tags").or_insert_with(|| Value::Object(Map::new()));
    }
    answer
}

/// A document as the wire shows it: internal `_` fields removed.
fn render<T: Serialize>(value: &T) -> Value {
    let mut v = serde_json::to_value(value).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.retain(|k, _| !k.starts_with('_'));
    }
    v
}

/// `position`/`limit` paging, as every API Gateway listing takes it.
struct Page {
    position: Option<String>,
    limit: usize,
}

impl Page {
    fn of(req: &RestRequest) -> AwsResult<Page> {
        // A limit below 1 is no error: the page is empty (recorded: LocalStack
        // test_negative_get_usage_plan_api_keys, `limit=-1`).
        let limit = match req.query("limit") {
            None => 25,
            Some(l) => match l.parse::<i64>() {
                Ok(n) if n < 1 => 0,
                Ok(n) => usize::try_from(n)
                    .ok()
                    .filter(|n| *n <= 500)
                    .ok_or_else(|| bad_request("Invalid limit specified. Limit must be between 1 and 500"))?,
                Err(_) => {
                    return Err(bad_request(
                        "Invalid limit specified. Limit must be between 1 and 500",
                    ));
                }
            },
        };
        let position = match req.query("position") {
            None | Some("") => None,
            Some(p) => Some(
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| bad_request("Invalid position parameter specified"))?,
            ),
        };
        Ok(Page { position, limit })
    }

    /// One page of `items` (each with the key it is ordered by): `{"item": [...], "position"}`.
    fn of_items(&self, mut items: Vec<(String, Value)>) -> Value {
        items.sort_by(|a, b| a.0.cmp(&b.0));
        let start = self
            .position
            .as_ref()
            .map_or(0, |p| items.partition_point(|(k, _)| k < p));
        let mut page = items.split_off(start.min(items.len()));
        let next = page
            .get(self.limit)
            .filter(|_| self.limit > 0)
            .map(|(k, _)| k.clone());
        page.truncate(self.limit);
        let mut out = Map::new();
        out.insert(
            "item".into(),
            Value::Array(page.into_iter().map(|(_, v)| v).collect()),
        );
        if let Some(next) = next {
            out.insert(
                "position".into(),
                Value::String(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(next)),
            );
        }
        Value::Object(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Typed access to request members. API Gateway's front end (Coral) reads the body before the
// service sees it: a member of the wrong JSON type is a `SerializationException` worded after
// the Java classes involved (recorded: LocalStack test_put_integration_request_parameter_bool_type,
// test_integration_response_invalid_responsetemplates).

/// The `SerializationException` for `value` where a `target` (`String`, `Boolean`, `Integer`,
/// `Double`, a structure or map, a list) was expected.
fn wrong_type(value: &Value, target: &str) -> AwsError {
    let message = match value {
        Value::Object(_) => "Start of structure or map found where not expected.".to_owned(),
        Value::Array(_) => "Start of list found where not expected.".to_owned(),
        Value::Bool(_) => format!("class java.lang.Boolean can not be converted to an {target}"),
        Value::Number(_) => format!(
            "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an {target}"
        ),
        Value::String(_) | Value::Null => {
            format!("class java.lang.String can not be converted to an {target}")
        }
    };
    AwsError::new("SerializationException", message)
}

// ---------------------------------------------------------------------------------------------
// The front end's model validation: enum members and patterns, every violation of a request
// in one `ValidationException` (`1 validation error detected: ...` / `N validation errors
// detected: a; b`).

/// One `ValidationException` listing `violations`, or `Ok` when there are none.
fn validated(violations: &[String]) -> AwsResult<()> {
    match violations {
        [] => Ok(()),
        [one] => Err(AwsError::validation(format!(
            "1 validation error detected: {one}"
        ))),
        many => Err(AwsError::validation(format!(
            "{} validation errors detected: {}",
            many.len(),
            many.join("; ")
        ))),
    }
}

/// A value outside its member's enum (`at` names the member as `createRestApiInput.x.y`).
fn enum_violation(value: &str, at: &str, allowed: &[&str]) -> String {
    format!(
        "Value '{value}' at '{at}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
        allowed.join(", ")
    )
}

/// A status code (a path label) outside `[1-5]\d\d`, or `None`.
fn status_code_violation(code: &str) -> Option<String> {
    let b = code.as_bytes();
    let valid = b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && b.iter().all(u8::is_ascii_digit);
    (!valid).then(|| {
        format!(
            "Value '{code}' at 'statusCode' failed to satisfy constraint: Member must satisfy regular \
             expression pattern: [1-5]\\d\\d"
        )
    })
}

fn opt_str(body: &Map<String, Value>, name: &str) -> AwsResult<Option<String>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(wrong_type(other, "String")),
    }
}

fn opt_bool(body: &Map<String, Value>, name: &str) -> AwsResult<Option<bool>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(wrong_type(other, "Boolean")),
    }
}

fn opt_int(body: &Map<String, Value>, name: &str) -> AwsResult<Option<i64>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| wrong_type(v, "Integer")),
    }
}

fn opt_f64(body: &Map<String, Value>, name: &str) -> AwsResult<Option<f64>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or_else(|| wrong_type(v, "Double")),
    }
}

fn opt_object<'a>(body: &'a Map<String, Value>, name: &str) -> AwsResult<Option<&'a Map<String, Value>>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => Err(wrong_type(other, "Map")),
    }
}

/// A list member: `None` when absent.
fn opt_list<'a>(body: &'a Map<String, Value>, name: &str) -> AwsResult<Option<&'a Vec<Value>>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(other) => Err(wrong_type(other, "List")),
    }
}

fn str_list(body: &Map<String, Value>, name: &str) -> AwsResult<Vec<String>> {
    opt_list(body, name)?
        .into_iter()
        .flatten()
        .map(|v| match v {
            Value::String(s) => Ok(s.clone()),
            other => Err(wrong_type(other, "String")),
        })
        .collect()
}

/// A map of strings; a `null` value counts as the empty string (e.g. a pass-through template).
fn str_map(body: &Map<String, Value>, name: &str) -> AwsResult<BTreeMap<String, String>> {
    let Some(m) = opt_object(body, name)? else {
        return Ok(BTreeMap::new());
    };
    m.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            Value::Null => Ok((k.clone(), String::new())),
            other => Err(wrong_type(other, "String")),
        })
        .collect()
}

fn bool_map(body: &Map<String, Value>, name: &str) -> AwsResult<BTreeMap<String, bool>> {
    let Some(m) = opt_object(body, name)? else {
        return Ok(BTreeMap::new());
    };
    m.iter()
        .map(|(k, v)| match v {
            Value::Bool(b) => Ok((k.clone(), *b)),
            Value::Null => Ok((k.clone(), false)),
            other => Err(wrong_type(other, "Boolean")),
        })
        .collect()
}

/// Checks tags as API Gateway does: at most 50, keys 1–128 characters not starting with
/// `aws:`, values at most 256 characters.
fn validate_tags(tags: &BTreeMap<String, String>) -> AwsResult<()> {
    if tags.len() > 50 {
        return Err(bad_request("Too many tags: a resource can have at most 50 tags"));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 {
            return Err(bad_request(format!(
                "Tag key '{k}' must be between 1 and 128 characters long"
            )));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(bad_request(format!(
                "Tag key '{k}' is invalid: keys prefixed with 'aws:' are reserved"
            )));
        }
        if v.chars().count() > 256 {
            return Err(bad_request(format!(
                "Tag value for key '{k}' must be at most 256 characters long"
            )));
        }
    }
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

    struct Local {
        store: Store,
        config: Config,
        caller: Caller,
    }

    impl Local {
        fn new() -> Local {
            Local {
                store: Store::open(None).unwrap(),
                config: Config::default(),
                caller: Caller {
                    access_key_id: "000000000000".into(),
                    account: "000000000000".into(),
                    region: "us-east-1".into(),
                    service: SERVICE.into(),
                },
            }
        }

        /// One request through [`handle`]; the JSON body of the answer.
        fn call(&self, method: &str, path: &str, body: Value) -> Value {
            let ctx = Ctx {
                caller: &self.caller,
                request_id: "test",
                now_ms: crate::services::now_ms(),
                store: &self.store,
                config: &self.config,
            };
            let req = RestRequest {
                method: method.into(),
                path: path.into(),
                segments: rest::segments(path),
                query: Vec::new(),
                headers: axum::http::HeaderMap::new(),
                body: serde_json::to_vec(&body).unwrap(),
            };
            let response = handle(&ctx, &req).unwrap();
            response.body.unwrap_or(Value::Null)
        }

        fn snapshot(&self, api: &str, stage: &str) -> Option<Value> {
            self.store
                .read(|t| deployed_snapshot(t, "000000000000", "us-east-1", api, stage))
                .unwrap()
        }
    }

    fn template_of(snapshot: &Value) -> &str {
        let streams = snapshot["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["path"] == "/streams")
            .unwrap();
        streams["resourceMethods"]["GET"]["methodIntegration"]["requestTemplates"]["application/json"]
            .as_str()
            .unwrap()
    }

    #[test]
    fn a_stage_serves_its_deployments_snapshot_until_redeployed() {
        let local = Local::new();
        let api = local.call("POST", "/restapis", json!({"name": "events"}));
        let (id, root) = (
            api["id"].as_str().unwrap(),
            api["rootResourceId"].as_str().unwrap(),
        );
        let streams = local.call(
            "POST",
            &format!("/restapis/{id}/resources/{root}"),
            json!({"pathPart": "streams"}),
        );
        let method = format!(
            "/restapis/{id}/resources/{}/methods/GET",
            streams["id"].as_str().unwrap()
        );
        local.call(
            "PUT",
            &method,
            json!({"authorizationType": "NONE", "apiKeyRequired": true}),
        );
        local.call(
            "PUT",
            &format!("{method}/integration"),
            json!({"type": "MOCK", "requestTemplates": {"application/json": "{\"v\": 1}"}}),
        );
        let key = local.call(
            "POST",
            "/apikeys",
            json!({"name": "client", "enabled": true, "value": "abcdefghijklmnopqrstuvwxyz"}),
        );
        let disabled = local.call("POST", "/apikeys", json!({"name": "off"}));
        local.call(
            "POST",
            &format!("/restapis/{id}/deployments"),
            json!({"stageName": "prod", "variables": {"stream": "events"}}),
        );
        let plan = local.call(
            "POST",
            "/usageplans",
            json!({"name": "plan", "apiStages": [{"apiId": id, "stage": "prod"}]}),
        );
        for k in [&key, &disabled] {
            local.call(
                "POST",
                &format!("/usageplans/{}/keys", plan["id"].as_str().unwrap()),
                json!({"keyId": k["id"], "keyType": "API_KEY"}),
            );
        }

        local.call(
            "PATCH",
            &format!("{method}/integration"),
            json!({"patchOperations": [
                {"op": "replace", "path": "/requestTemplates/application~1json", "value": "{\"v\": 2}"}
            ]}),
        );
        let live = local.call("GET", &format!("{method}/integration"), json!({}));
        assert_eq!(live["requestTemplates"]["application/json"], "{\"v\": 2}");
        let served = local.snapshot(id, "prod").unwrap();
        assert_eq!(
            template_of(&served),
            "{\"v\": 1}",
            "the stage still serves the old snapshot"
        );
        assert_eq!(served["variables"]["stream"], "events");
        assert_eq!(
            served["apiKeys"],
            json!(["abcdefghijklmnopqrstuvwxyz"]),
            "only enabled keys"
        );
        assert_eq!(
            served["resources"][1]["resourceMethods"]["GET"]["apiKeyRequired"],
            json!(true)
        );

        local.call(
            "POST",
            &format!("/restapis/{id}/deployments"),
            json!({"stageName": "prod"}),
        );
        let served = local.snapshot(id, "prod").unwrap();
        assert_eq!(
            template_of(&served),
            "{\"v\": 2}",
            "a new deployment updates what is served"
        );
        assert_eq!(
            served["variables"]["stream"], "events",
            "redeploying keeps stage variables"
        );
        assert!(local.snapshot(id, "dev").is_none());
        assert!(local.snapshot("nosuchapi1", "prod").is_none());
    }
}
