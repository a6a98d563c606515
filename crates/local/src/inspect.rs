//! Inspection endpoints, for tests and for `personalize-stack local`:
//! - `GET /_local/resources`: every live resource, per account and region, as JSON — for
//!   proving that `destroy` left nothing. Data (Kinesis records, recorded events) is not a
//!   resource and is not listed.
//! - `GET /_local/events?trackingId=…` or `?datasetGroupArn=…` (optionally `&account=…`,
//!   `&region=…`; by default every account and region is searched): the events PutEvents
//!   accepted, `{"events": [...]}` in arrival order; with `&count=true`, only how many:
//!   `{"count": n}` (cheap enough to poll while events pour in); with `&eventIdPrefix=…`,
//!   only the events whose `eventId` starts with it (how the injection test finds its run's).
//! - `GET /_local/pollers`: what each running event source mapping poller is doing,
//!   `{"pollers": [{"uuid", "shardId", "held", "delivering", "idle"}]}` (tests wait on it
//!   instead of sleeping: a batching window holding records, a disabled mapping's poller
//!   gone, everything written delivered).
//! - `GET /_local/lambda/code/{account}/{region}/{function}?CodeSha256=…`: the function's zip,
//!   where `GetFunction`'s `Code.Location` points (AWS's is a presigned S3 URL); 404 once the
//!   function is gone or has other code.

use crate::protocol::respond;
use crate::server::Runtime;
use crate::services::{is_gone, now_ms, personalize_events, unescape_id};
use axum::body::Body;
use axum::http::{Method, Response};

pub(crate) fn handle(rt: &Runtime, method: &Method, path: &str, query: Option<&str>) -> Response<Body> {
    let request_id = uuid::Uuid::new_v4().to_string();
    match (method == Method::GET, path) {
        (true, "/_local/resources") => resources(rt, query, &request_id),
        (true, "/_local/events") => events(rt, query, &request_id),
        (true, "/_local/pollers") => respond(
            200,
            "application/json",
            &request_id,
            serde_json::to_vec(&serde_json::json!({ "pollers": rt.pollers.snapshot() })).unwrap_or_default(),
        ),
        (true, p) if p.starts_with(CODE_PREFIX) => {
            function_code(rt, &p[CODE_PREFIX.len()..], query, &request_id)
        }
        _ => respond(
            404,
            "application/json",
            &request_id,
            br#"{"message":"unknown inspection endpoint; try GET /_local/resources or GET /_local/events"}"#
                .to_vec(),
        ),
    }
}

const CODE_PREFIX: &str = "/_local/lambda/code/";

/// `GET /_local/lambda/code/{account}/{region}/{function}?CodeSha256=…`.
fn function_code(rt: &Runtime, rest: &str, query: Option<&str>, request_id: &str) -> Response<Body> {
    let parts: Vec<String> = rest
        .split('/')
        .map(|p| {
            percent_encoding::percent_decode_str(p)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let [account, region, name] = parts.as_slice() else {
        return json_response(404, request_id, &serde_json::json!({ "message": "no such code" }));
    };
    let sha = param(query, "CodeSha256").unwrap_or_default();
    let zip = rt
        .store
        .read(|t| crate::services::lambda::code::download(t, account, region, name, &sha));
    match zip {
        Ok(Some(zip)) => respond(200, "application/zip", request_id, zip),
        Ok(None) => json_response(
            404,
            request_id,
            &serde_json::json!({ "message": "The function is gone or its code has changed since this location was given." }),
        ),
        Err(e) => json_response(500, request_id, &serde_json::json!({ "message": e.to_string() })),
    }
}

/// The first query parameter called `name`.
fn param(query: Option<&str>, name: &str) -> Option<String> {
    query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    })
}

/// A JSON response.
fn json_response(status: u16, request_id: &str, body: &serde_json::Value) -> Response<Body> {
    respond(
        status,
        "application/json",
        request_id,
        serde_json::to_vec_pretty(body).unwrap_or_default(),
    )
}

/// Whether a key holds data rather than a resource: Kinesis shard records and state, and
/// recorded events.
fn is_data(service: &str, kind: &str) -> bool {
    (service == "kinesis" && kind == "shard")
        || service == "personalize-events"
        || (service == "sts" && kind == "session")
}

/// `GET /_local/events`.
fn events(rt: &Runtime, query: Option<&str>, request_id: &str) -> Response<Body> {
    let tracking_id = param(query, "trackingId");
    let group = param(query, "datasetGroupArn");
    if tracking_id.is_none() && group.is_none() {
        return json_response(
            400,
            request_id,
            &serde_json::json!({ "message": "give trackingId or datasetGroupArn" }),
        );
    }
    let account = param(query, "account");
    let region = param(query, "region");
    let count_only = param(query, "count").is_some_and(|c| c == "true");
    let id_prefix = param(query, "eventIdPrefix");
    let found: Result<serde_json::Value, crate::store::StoreError> = rt.store.read(|txn| {
        let mut events = Vec::new();
        let mut count = 0;
        for (a, r) in personalize_events::event_scopes(txn)? {
            if account.as_deref().is_some_and(|x| x != a) || region.as_deref().is_some_and(|x| x != r) {
                continue;
            }
            let (group, tracking_id) = (group.as_deref(), tracking_id.as_deref());
            if count_only && id_prefix.is_none() {
                count += personalize_events::stored_event_count(txn, &a, &r, group, tracking_id)?;
            } else {
                let stored = personalize_events::stored_events(txn, &a, &r, group, tracking_id)?;
                let wanted = |doc: &serde_json::Value| {
                    id_prefix.as_deref().is_none_or(|p| {
                        doc.pointer("/event/eventId")
                            .and_then(serde_json::Value::as_str)
                            .is_some_and(|id| id.starts_with(p))
                    })
                };
                let before = events.len();
                events.extend(stored.into_iter().filter(wanted));
                count += events.len() - before;
            }
        }
        Ok(if count_only {
            serde_json::json!({ "count": count })
        } else {
            serde_json::json!({ "events": events })
        })
    });
    match found {
        Ok(body) => json_response(200, request_id, &body),
        Err(e) => json_response(500, request_id, &serde_json::json!({ "message": e.to_string() })),
    }
}

/// `GET /_local/resources`.
fn resources(rt: &Runtime, query: Option<&str>, request_id: &str) -> Response<Body> {
    let account_filter = param(query, "account");
    let now = now_ms();
    let listed: Result<Vec<(String, serde_json::Value)>, crate::store::StoreError> = rt.store.read(|t| {
        let mut out = Vec::new();
        for key in t.keys("")? {
            let mut parts = key.splitn(5, '/').skip(2);
            if let (Some(service), Some(kind)) = (parts.next(), parts.next())
                && is_data(service, kind)
            {
                continue; // data, not resources; and there may be a lot of it
            }
            if let Some(doc) = t.get::<serde_json::Value>(&key)? {
                out.push((key, doc));
            }
        }
        Ok(out)
    });
    let items = match listed {
        Ok(items) => items,
        Err(e) => return json_response(500, request_id, &serde_json::json!({ "message": e.to_string() })),
    };
    let resources: Vec<serde_json::Value> = items
        .into_iter()
        .filter(|(_, doc)| !is_gone(doc, now))
        .filter_map(|(key, _)| {
            let mut parts = key.splitn(5, '/');
            let (account, region, service, kind, id) = (
                parts.next()?,
                parts.next()?,
                parts.next()?,
                parts.next()?,
                parts.next()?,
            );
            if account_filter.as_deref().is_some_and(|a| a != account) {
                return None;
            }
            Some(serde_json::json!({
                "account": account,
                "region": region,
                "service": service,
                "kind": kind,
                "id": unescape_id(id),
            }))
        })
        .collect();
    json_response(200, request_id, &serde_json::json!({ "resources": resources }))
}
