//! The `test:` section: what the post-deploy injection test sends through the API.

use super::check::{Checker, Str};
use super::kinds::rest_api::{HttpMethod, Integration};
use super::text::Text;
use super::{ResourceSpec, Stack};
use crate::yaml::Spanned;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// `test:` as written.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTest {
    /// The route to inject through, as `METHOD /path` (e.g.
    /// `PUT /streams/{stream-name}/records`).
    pub route: Str,
    /// The `rest_api` resource serving the route (needed only when several APIs have it).
    pub api: Option<Str>,
    /// Path parameters; values may reference resources (`${stream.name}`).
    #[serde(default)]
    pub params: IndexMap<Str, Str>,
    /// Query-string parameters.
    #[serde(default)]
    pub query: IndexMap<Str, Str>,
    /// Extra request headers (the API key is added automatically).
    #[serde(default)]
    pub headers: IndexMap<Str, Str>,
    /// Events to inject. The request body is the workshop's:
    /// `{"Records": [{"Data": "<the event as JSON>", "PartitionKey": "<event[partition_key]>"}]}`.
    /// Each event needs a user (`userid` or `userId`) and a type (`event_type` or `eventType`).
    #[serde(default)]
    pub records: Vec<Spanned<serde_json::Value>>,
    /// Field of each event used as the Kinesis partition key (default `userid`).
    pub partition_key: Option<Str>,
    /// A raw body to send instead of the one built from `records`.
    pub body: Option<Str>,
    /// Seconds to wait for the events to come out of PutEvents (1–900; default 120).
    pub timeout_s: Option<Spanned<u32>>,
}

/// A checked test section.
#[derive(Debug, Clone, PartialEq)]
pub struct TestSpec {
    /// Logical name of the API.
    pub api: String,
    /// Method of the route.
    pub method: HttpMethod,
    /// Path of the route.
    pub path: String,
    /// Path parameters.
    pub params: IndexMap<String, Text>,
    /// Query string.
    pub query: IndexMap<String, String>,
    /// Extra headers.
    pub headers: IndexMap<String, String>,
    /// Events.
    pub records: Vec<serde_json::Value>,
    /// Partition key field.
    pub partition_key: String,
    /// Raw body override.
    pub body: Option<String>,
    /// Timeout in seconds.
    pub timeout_s: u32,
}

impl TestSpec {
    /// The request body: the raw override, or the workshop's PutRecords-style body.
    pub fn request_body(&self) -> String {
        if let Some(body) = &self.body {
            return body.clone();
        }
        let records: Vec<serde_json::Value> = self
            .records
            .iter()
            .map(|r| {
                let pk = match r.get(&self.partition_key) {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                serde_json::json!({ "Data": r.to_string(), "PartitionKey": pk })
            })
            .collect();
        serde_json::json!({ "Records": records }).to_string()
    }
}

/// Field names a record may carry for the user and the event type.
const USER_FIELDS: &[&str] = &["userid", "userId", "user_id"];
const TYPE_FIELDS: &[&str] = &["event_type", "eventType"];

pub(super) fn check(raw: &Spanned<RawTest>, stack: &Stack, cx: &mut Checker<'_>) -> Option<TestSpec> {
    let t = &raw.value;
    let Some((method, path)) = t.route.value.split_once(' ') else {
        cx.error_hint(
            t.route.pos(),
            format!("`{}` is not a route", t.route.value),
            "write `METHOD /path`, e.g. `PUT /streams/{stream-name}/records`",
        );
        return None;
    };
    let path = path.trim();
    let candidates: Vec<(&String, &super::kinds::rest_api::CheckedRoute)> = stack
        .resources
        .iter()
        .filter(|(name, _)| t.api.as_ref().is_none_or(|a| a.value == **name))
        .filter_map(|(name, r)| match &r.spec {
            ResourceSpec::RestApi(api) => Some(api.routes.iter().map(move |route| (name, route))),
            _ => None,
        })
        .flatten()
        .filter(|(_, route)| route.method.as_str().eq_ignore_ascii_case(method.trim()) && route.path == path)
        .collect();
    let (api, route) = match candidates.as_slice() {
        [one] => *one,
        [] => {
            cx.error_hint(
                t.route.pos(),
                format!("no route `{}` in the stack's APIs", t.route.value),
                "the test injects through one of the `routes` of a `rest_api`",
            );
            return None;
        }
        _ => {
            cx.error_hint(
                t.route.pos(),
                format!("several APIs serve `{}`", t.route.value),
                "name one with `api:`",
            );
            return None;
        }
    };
    let mut params = IndexMap::new();
    for (k, v) in &t.params {
        if !route.path_params.contains(&k.value) {
            cx.error_hint(
                k.pos(),
                format!("`{}` is not a path parameter of `{path}`", k.value),
                format!(
                    "its parameters: {}",
                    route
                        .path_params
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        params.insert(k.value.clone(), cx.text(v));
    }
    for p in &route.path_params {
        if !params.contains_key(p) {
            cx.error(
                t.route.pos(),
                format!("the test gives no value for path parameter `{p}` of `{path}`"),
            );
        }
    }
    let partition_key = t
        .partition_key
        .as_ref()
        .map_or_else(|| "userid".to_owned(), |p| p.value.clone());
    if t.body.is_none() {
        if t.records.is_empty() {
            cx.error_hint(
                t.route.pos(),
                "the test has neither `records` nor `body`",
                "list the events to inject under `records:`",
            );
        }
        for r in &t.records {
            let Some(obj) = r.value.as_object() else {
                cx.error(r.pos(), "a test record must be a mapping of event fields");
                continue;
            };
            if !USER_FIELDS.iter().any(|f| obj.contains_key(*f)) {
                cx.error(r.pos(), "this test record has no user (`userid` or `userId`)");
            }
            if !TYPE_FIELDS.iter().any(|f| obj.contains_key(*f)) {
                cx.error(
                    r.pos(),
                    "this test record has no event type (`event_type` or `eventType`)",
                );
            }
            if !obj.contains_key(&partition_key) {
                cx.error_hint(
                    r.pos(),
                    format!("this test record has no `{partition_key}` to use as partition key"),
                    "set `partition_key:` to one of its fields",
                );
            }
        }
        if t.records.len() > 500
            && matches!(&route.integration, Integration::Aws { action, .. } if action == "PutRecords")
        {
            cx.error(
                t.route.pos(),
                format!(
                    "PutRecords takes at most 500 records; the test has {}",
                    t.records.len()
                ),
            );
        }
    } else if !t.records.is_empty() {
        cx.error(t.route.pos(), "give `records` or `body`, not both");
    }
    Some(TestSpec {
        api: api.clone(),
        method: route.method,
        path: path.to_owned(),
        params,
        query: t
            .query
            .iter()
            .map(|(k, v)| (k.value.clone(), v.value.clone()))
            .collect(),
        headers: t
            .headers
            .iter()
            .map(|(k, v)| (k.value.clone(), v.value.clone()))
            .collect(),
        records: t.records.iter().map(|r| r.value.clone()).collect(),
        partition_key,
        body: t.body.as_ref().map(|b| b.value.clone()),
        timeout_s: t
            .timeout_s
            .as_ref()
            .map_or(120, |s| cx.range(s, 1, 900, "`timeout_s`")),
    })
}
