//! `GET /_local/resources`: every live resource, per account and region, as JSON — for tests
//! and for proving that `destroy` left nothing.

use crate::protocol::respond;
use crate::server::Runtime;
use crate::services::{is_gone, now_ms, unescape_id};
use axum::body::Body;
use axum::http::{Method, Response};

pub(crate) fn handle(rt: &Runtime, method: &Method, path: &str, query: Option<&str>) -> Response<Body> {
    let request_id = uuid::Uuid::new_v4().to_string();
    if method != Method::GET || path != "/_local/resources" {
        return respond(
            404,
            "application/json",
            &request_id,
            br#"{"message":"unknown inspection endpoint; try GET /_local/resources"}"#.to_vec(),
        );
    }
    let account_filter = query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "account")
            .map(|(_, v)| v.into_owned())
    });
    let now = now_ms();
    let listed: Result<Vec<(String, serde_json::Value)>, crate::store::StoreError> =
        rt.store.read(|t| t.list(""));
    let items = match listed {
        Ok(items) => items,
        Err(e) => {
            let body = serde_json::json!({ "message": e.to_string() });
            return respond(
                500,
                "application/json",
                &request_id,
                serde_json::to_vec(&body).unwrap_or_default(),
            );
        }
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
    let body = serde_json::json!({ "resources": resources });
    respond(
        200,
        "application/json",
        &request_id,
        serde_json::to_vec_pretty(&body).unwrap_or_default(),
    )
}
