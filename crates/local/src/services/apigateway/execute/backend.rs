//! The back ends an integration reaches: `MOCK`, and `AWS` to the local Kinesis acting with
//! the integration role's permissions. Everything else says plainly that the local runtime
//! does not do it.

use super::mapping::BackendResponse;
use super::reply::{GatewayError, Reply, unsupported};
use super::routing::Deployed;
use crate::auth::Caller;
use crate::protocol::json;
use crate::server::Runtime;
use crate::services::iam::{self, Decision, RoleAccess};
use crate::services::{Ctx, kinesis};
use crate::{AwsError, AwsResult};
use serde_json::{Value, json};

/// The service principal API Gateway assumes integration roles as.
const APIGATEWAY_PRINCIPAL: &str = "apigateway.amazonaws.com";

/// `arn:aws:apigateway:{region}:{service}:{action|path}/{what}`, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AwsUri {
    /// The region the service is called in.
    pub region: String,
    /// `kinesis`, `lambda`, ...
    pub service: String,
    /// `action` or `path`.
    pub style: String,
    /// The action name or the path.
    pub target: String,
}

impl AwsUri {
    /// Parses an `AWS`/`AWS_PROXY` integration URI.
    pub(super) fn parse(uri: &str) -> Option<AwsUri> {
        let parts: Vec<&str> = uri.splitn(6, ':').collect();
        let ["arn", _, "apigateway", region, service, rest] = parts.as_slice() else {
            return None;
        };
        let (style, target) = rest.split_once('/')?;
        Some(AwsUri {
            region: (*region).to_owned(),
            service: (*service).to_owned(),
            style: style.to_owned(),
            // `action/PutRecords&Version=...` style query suffixes are not part of the name.
            target: target.split('&').next().unwrap_or_default().to_owned(),
        })
    }
}

/// A `MOCK` integration answers with the `statusCode` its rendered request asks for
/// (`{"statusCode": 200}`), 200 when it names none, and an empty body.
pub(super) fn mock(rendered: &str) -> BackendResponse {
    let status = serde_json::from_str::<Value>(rendered)
        .ok()
        .and_then(|v| match v.get("statusCode") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        })
        .and_then(|n| u16::try_from(n).ok())
        .unwrap_or(200);
    BackendResponse::http(status, Vec::new(), String::new())
}

/// What an `AWS` integration to Kinesis needs.
pub(super) struct KinesisCall<'a> {
    /// The runtime (store and configuration).
    pub runtime: &'a Runtime,
    /// The stage being served (its account is the caller's).
    pub deployed: &'a Deployed,
    /// The integration's URI, parsed.
    pub uri: &'a AwsUri,
    /// The integration's HTTP method (must be POST).
    pub http_method: Option<&'a str>,
    /// The integration's execution role.
    pub credentials: Option<&'a str>,
    /// The integration request body.
    pub body: &'a str,
    /// This request's id.
    pub request_id: &'a str,
    /// Now, in epoch ms.
    pub now_ms: u64,
}

/// Calls the local Kinesis as the integration role would: the role must trust API Gateway
/// (else API Gateway itself fails with a 500), the body must be JSON (else Kinesis answers
/// `SerializationException`), and the role's policies must allow `kinesis:{Action}` on the
/// stream (else Kinesis answers `AccessDeniedException`). Kinesis's answers, errors included,
/// are the back-end response that integration responses select on.
pub(super) fn kinesis_call(call: &KinesisCall<'_>) -> Result<BackendResponse, Reply> {
    if call.uri.style != "action" {
        return Err(unsupported(
            500,
            "path-style Kinesis integration URIs are not supported by the local runtime; use action/{Action}",
        ));
    }
    if call.http_method != Some("POST") {
        // AWS's front door cannot tell the operation of a non-POST call to a JSON service.
        return Ok(BackendResponse::http(
            403,
            vec![("Content-Type".into(), "application/xml".into())],
            "<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>\n</AccessDeniedException>\n".into(),
        ));
    }
    let caller = Caller {
        access_key_id: call.deployed.account.clone(),
        account: call.deployed.account.clone(),
        region: call.uri.region.clone(),
        service: "kinesis".into(),
    };
    let ctx = Ctx {
        caller: &caller,
        request_id: call.request_id,
        now_ms: call.now_ms,
        store: &call.runtime.store,
        config: &call.runtime.config,
    };
    // API Gateway cannot sign the call without a role it may assume: its own 500.
    let role = call
        .credentials
        .ok_or_else(|| GatewayError::InternalServerError.reply())?;
    let access = call
        .runtime
        .store
        .read(|t| iam::role_for_service(t, &ctx, role, APIGATEWAY_PRINCIPAL))
        .map_err(|_| GatewayError::InternalServerError.reply())?;
    if access != RoleAccess::Usable {
        return Err(GatewayError::InternalServerError.reply());
    }
    Ok(kinesis_response(&ctx, &call.uri.target, role, call.body))
}

fn kinesis_response(ctx: &Ctx<'_>, action: &str, role: &str, body: &str) -> BackendResponse {
    let outcome = json::parse_body(body.as_bytes())
        .and_then(|input| authorize(ctx, role, action, &input).map(|()| input))
        .and_then(|input| kinesis::call(ctx, action, &input));
    let (status, body) = match outcome {
        Ok(v) => (200, v),
        Err(e) => (e.status, json!({ "__type": e.code, "message": e.message })),
    };
    BackendResponse::http(
        status,
        vec![
            ("Content-Type".into(), json::CONTENT_TYPE.into()),
            ("x-amzn-RequestId".into(), uuid::Uuid::new_v4().to_string()),
        ],
        serde_json::to_string(&body).unwrap_or_default(),
    )
}

/// Whether the role may perform `kinesis:{action}` on the stream the input names (or on `*`
/// for actions that name none, such as ListStreams).
fn authorize(ctx: &Ctx<'_>, role: &str, action: &str, input: &Value) -> AwsResult<()> {
    let iam_action = format!("kinesis:{action}");
    let resource = stream_resource(ctx, input);
    let decision = ctx
        .store
        .read(|t| iam::role_decision(t, role, &iam_action, &resource))?;
    if decision == Decision::Allowed {
        return Ok(());
    }
    Err(AwsError::new(
        "AccessDeniedException",
        iam::denial_message(
            &iam::api_gateway_session_arn(role),
            &iam_action,
            &resource,
            decision,
        ),
    ))
}

/// The ARN of the stream an input names (`StreamARN`, else `StreamName`), or `*`.
fn stream_resource(ctx: &Ctx<'_>, input: &Value) -> String {
    if let Some(arn) = input.get("StreamARN").and_then(Value::as_str) {
        return arn.to_owned();
    }
    match input.get("StreamName").and_then(Value::as_str) {
        Some(name) => ctx.arn("kinesis", &format!("stream/{name}")),
        None => "*".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn uris_and_mocks() {
        let uri = AwsUri::parse("arn:aws:apigateway:us-east-1:kinesis:action/PutRecords").unwrap();
        assert_eq!(
            (
                uri.region.as_str(),
                uri.service.as_str(),
                uri.style.as_str(),
                uri.target.as_str()
            ),
            ("us-east-1", "kinesis", "action", "PutRecords")
        );
        assert!(AwsUri::parse("https://example.com").is_none());
        assert_eq!(mock(r#"{"statusCode": 204}"#).selector.as_deref(), Some("204"));
        assert_eq!(mock(r#"{"statusCode": "404"}"#).selector.as_deref(), Some("404"));
        assert_eq!(mock("not json").selector.as_deref(), Some("200"));
    }
}
