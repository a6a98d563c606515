//! Lambda integrations, run by the runtime's Lambda executor:
//! - `AWS_PROXY`: the REST API proxy event (payload format 1.0) goes in; the function's
//!   `{statusCode, headers, multiValueHeaders, body, isBase64Encoded}` comes out as the
//!   response. A function error or a malformed answer is a 502 `Internal server error`, as on
//!   AWS.
//! - `AWS` (non-proxy): the rendered integration request is the event; the function's result
//!   is the back-end body, and its `errorMessage` is what `selectionPattern`s match.
//!
//! The function is named by the URI
//! `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{functionArn}/invocations`
//! (stage variables substituted). A function Lambda refuses to run (missing, `Pending`) is
//! API Gateway's 500.

use super::backend::AwsUri;
use super::mapping::BackendResponse;
use super::reply::{GatewayError, Reply};
use super::routing::Deployed;
use crate::server::Runtime;
use crate::services::lambda::executor::{Invocation, Outcome};
use base64::Engine as _;
use personalize_stack_vtl::Request;
use serde_json::{Map, Value, json};

/// The function an integration URI names: `(account, region, name or ARN)`.
pub(super) fn function_of(uri: &AwsUri, deployed: &Deployed) -> Option<(String, String, String)> {
    let mut target = uri.target.clone();
    for (name, value) in &deployed.variables {
        target = target.replace(&format!("${{stageVariables.{name}}}"), value);
    }
    let function = target
        .strip_prefix("2015-03-31/functions/")?
        .strip_suffix("/invocations")?
        .to_owned();
    let parts: Vec<&str> = function.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "lambda", region, account, "function", ..] => {
            Some(((*account).to_owned(), (*region).to_owned(), function.clone()))
        }
        _ if !function.is_empty() && !function.contains(':') => {
            Some((deployed.account.clone(), uri.region.clone(), function))
        }
        _ => None,
    }
}

/// Runs the function with `payload`.
pub(super) async fn invoke(
    runtime: &Runtime,
    (account, region, function): (String, String, String),
    payload: Vec<u8>,
    request_id: &str,
) -> Option<Outcome> {
    let executor = runtime.executor()?;
    Some(
        executor
            .invoke(Invocation {
                account,
                region,
                function,
                payload,
                request_id: request_id.to_owned(),
                tail: false,
                client_context: None,
            })
            .await,
    )
}

/// The back-end response of a non-proxy Lambda integration: 200 with the result, or the
/// error document with its `errorMessage` as the selector; `Err` when Lambda refused.
pub(super) fn backend_response(outcome: Outcome) -> Result<BackendResponse, Reply> {
    match outcome {
        Outcome::Success { payload, .. } => Ok(BackendResponse {
            headers: Vec::new(),
            body: String::from_utf8_lossy(&payload).into_owned(),
            selector: None,
        }),
        Outcome::FunctionError { payload, .. } => {
            let message = serde_json::from_slice::<Value>(&payload)
                .ok()
                .and_then(|v| v.get("errorMessage").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default();
            Ok(BackendResponse {
                headers: Vec::new(),
                body: String::from_utf8_lossy(&payload).into_owned(),
                selector: Some(message),
            })
        }
        Outcome::Rejected(_) => Err(GatewayError::InternalServerError.reply()),
    }
}

/// The proxy event for a method request (REST API payload format 1.0).
pub(super) fn proxy_event(request: &Request, body: &[u8], deployment_id: &str) -> Value {
    let c = &request.context;
    let (body, encoded) = match std::str::from_utf8(body) {
        Ok("") => (Value::Null, false),
        Ok(text) => (Value::String(text.to_owned()), false),
        Err(_) => (
            Value::String(base64::engine::general_purpose::STANDARD.encode(body)),
            true,
        ),
    };
    let identity = &c.identity;
    let or_null = |s: &str| {
        if s.is_empty() {
            Value::Null
        } else {
            Value::String(s.to_owned())
        }
    };
    json!({
        "resource": c.resource_path,
        "path": path_without_stage(&c.path, &c.stage),
        "httpMethod": c.http_method,
        "headers": single(&request.headers),
        "multiValueHeaders": multi(&request.headers),
        "queryStringParameters": single(&request.query),
        "multiValueQueryStringParameters": multi(&request.query),
        "pathParameters": single(&request.path_params),
        "stageVariables": single(&request.stage_variables),
        "requestContext": {
            "resourceId": c.resource_id,
            "resourcePath": c.resource_path,
            "httpMethod": c.http_method,
            "extendedRequestId": c.extended_request_id,
            "requestTime": c.request_time,
            "path": c.path,
            "accountId": c.account_id,
            "protocol": c.protocol,
            "stage": c.stage,
            "domainPrefix": c.domain_prefix,
            "requestTimeEpoch": c.request_time_epoch,
            "requestId": c.request_id,
            "identity": {
                "cognitoIdentityPoolId": null,
                "accountId": or_null(&identity.account_id),
                "cognitoIdentityId": null,
                "caller": null,
                "apiKey": or_null(&identity.api_key),
                "apiKeyId": or_null(&identity.api_key_id),
                "sourceIp": identity.source_ip,
                "principalOrgId": null,
                "accessKey": null,
                "cognitoAuthenticationType": null,
                "cognitoAuthenticationProvider": null,
                "userArn": null,
                "userAgent": or_null(&identity.user_agent),
                "user": null
            },
            "domainName": c.domain_name,
            "deploymentId": deployment_id,
            "apiId": c.api_id
        },
        "body": body,
        "isBase64Encoded": encoded
    })
}

/// `/prod/streams/x` → `/streams/x`.
fn path_without_stage(path: &str, stage: &str) -> String {
    let rest = path
        .strip_prefix('/')
        .and_then(|p| p.strip_prefix(stage))
        .unwrap_or(path);
    if rest.is_empty() {
        "/".to_owned()
    } else {
        rest.to_owned()
    }
}

/// Name → last value, or `null` when there are none (as the proxy event writes it).
fn single(pairs: &[(String, String)]) -> Value {
    if pairs.is_empty() {
        return Value::Null;
    }
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// Name → every value, or `null` when there are none.
fn multi(pairs: &[(String, String)]) -> Value {
    if pairs.is_empty() {
        return Value::Null;
    }
    let mut out: Map<String, Value> = Map::new();
    for (k, v) in pairs {
        let entry = out.entry(k.clone()).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(values) = entry {
            values.push(Value::String(v.clone()));
        }
    }
    Value::Object(out)
}

/// The client's response from a proxy integration's outcome.
pub(super) fn proxy_reply(outcome: Outcome) -> Reply {
    match outcome {
        Outcome::Success { payload, .. } => proxy_result(&payload).unwrap_or_else(malformed),
        // An unhandled function error reaches the client as a 502.
        Outcome::FunctionError { .. } => malformed(),
        Outcome::Rejected(_) => GatewayError::InternalServerError.reply(),
    }
}

/// A 502 `Internal server error`: what AWS answers for a failed or malformed proxy result.
fn malformed() -> Reply {
    Reply {
        status: 502,
        ..GatewayError::InternalServerError.reply()
    }
}

/// Parses `{statusCode, headers, multiValueHeaders, body, isBase64Encoded}`; `None` when it
/// is malformed.
fn proxy_result(payload: &[u8]) -> Option<Reply> {
    let v: Value = serde_json::from_slice(payload).ok()?;
    let object = v.as_object()?;
    let status = match object.get("statusCode") {
        Some(Value::Number(n)) => u16::try_from(n.as_u64()?).ok()?,
        Some(Value::String(s)) => s.trim().parse().ok()?,
        _ => return None,
    };
    if !(100..=599).contains(&status) {
        return None;
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(map) = object.get("multiValueHeaders").and_then(Value::as_object) {
        for (k, values) in map {
            let joined: Vec<String> = values.as_array()?.iter().map(scalar).collect::<Option<_>>()?;
            headers.push((k.clone(), joined.join(",")));
        }
    }
    if let Some(map) = object.get("headers").and_then(Value::as_object) {
        for (k, value) in map {
            headers.retain(|(name, _)| !name.eq_ignore_ascii_case(k));
            headers.push((k.clone(), scalar(value)?));
        }
    }
    let body = match object.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) if object.get("isBase64Encoded") == Some(&Value::Bool(true)) => {
            base64::engine::general_purpose::STANDARD.decode(s).ok()?
        }
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(_) => return None,
    };
    let content_type = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map_or_else(|| "application/json".to_owned(), |(_, v)| v.clone());
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
    Some(Reply {
        status,
        content_type,
        headers,
        body,
        error_type: None,
    })
}

/// A header value the proxy result may give as a string, number or boolean.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use personalize_stack_vtl::Context;

    fn deployed() -> Deployed {
        Deployed {
            account: "000000000000".into(),
            region: "us-east-1".into(),
            api_id: "abc".into(),
            stage: "prod".into(),
            deployment_id: "d1".into(),
            resources: Vec::new(),
            variables: vec![("fn".into(), "PutEvent-Function".into())],
            api_keys: Vec::new(),
            api_key_source: "HEADER".into(),
            endpoint_disabled: false,
        }
    }

    #[test]
    fn functions_are_found_from_the_uri() {
        let uri = |s: &str| AwsUri::parse(s).unwrap();
        let arn = "arn:aws:lambda:eu-west-1:111122223333:function:f";
        assert_eq!(
            function_of(
                &uri(&format!(
                    "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/{arn}/invocations"
                )),
                &deployed()
            ),
            Some(("111122223333".into(), "eu-west-1".into(), arn.into()))
        );
        assert_eq!(
            function_of(
                &uri(
                    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${stageVariables.fn}/invocations"
                ),
                &deployed()
            ),
            Some((
                "000000000000".into(),
                "us-east-1".into(),
                "PutEvent-Function".into()
            ))
        );
        assert!(
            function_of(
                &uri("arn:aws:apigateway:us-east-1:lambda:action/Invoke"),
                &deployed()
            )
            .is_none()
        );
    }

    #[test]
    fn proxy_events_and_results() {
        let request = Request {
            headers: vec![("accept".into(), "a".into()), ("accept".into(), "b".into())],
            path_params: vec![("stream-name".into(), "s".into())],
            context: Context {
                path: "/prod/streams/s".into(),
                stage: "prod".into(),
                http_method: "GET".into(),
                resource_path: "/streams/{stream-name}".into(),
                ..Context::default()
            },
            ..Request::default()
        };
        let event = proxy_event(&request, b"", "d1");
        assert_eq!(event["path"], "/streams/s");
        assert_eq!(event["resource"], "/streams/{stream-name}");
        assert_eq!(event["headers"], json!({"accept": "b"}));
        assert_eq!(event["multiValueHeaders"], json!({"accept": ["a", "b"]}));
        assert_eq!(event["queryStringParameters"], Value::Null);
        assert_eq!(event["pathParameters"], json!({"stream-name": "s"}));
        assert_eq!(event["body"], Value::Null);
        assert_eq!(event["requestContext"]["deploymentId"], "d1");

        let ok = proxy_result(
            br#"{"statusCode": 201, "headers": {"X-A": 1, "Content-Type": "text/plain"}, "body": "hi"}"#,
        )
        .unwrap();
        assert_eq!(
            (ok.status, ok.content_type.as_str(), ok.body.as_slice()),
            (201, "text/plain", &b"hi"[..])
        );
        assert_eq!(ok.headers, vec![("X-A".to_owned(), "1".to_owned())]);
        let binary =
            proxy_result(br#"{"statusCode": "200", "body": "aGk=", "isBase64Encoded": true}"#).unwrap();
        assert_eq!(binary.body, b"hi");
        assert!(proxy_result(br#"{"body": "no status"}"#).is_none());
        assert!(proxy_result(br#"{"statusCode": 200, "body": {"not": "a string"}}"#).is_none());
        let bad = proxy_reply(Outcome::Success {
            payload: b"null".to_vec(),
            log: None,
        });
        assert_eq!(
            (bad.status, bad.body.as_slice()),
            (502, &br#"{"message": "Internal server error"}"#[..])
        );
    }
}
