//! Methods, method responses, integrations and integration responses: all live inside the
//! API's document, on their resource.

use super::model::{Integration, IntegrationResponse, Method, MethodResponse, RestApi};
use super::patch::{self, PatchOp};
use super::restapis::{edit, read, resource, resource_mut};
use super::{
    bad_request, body, bool_map, conflict, not_found, opt_bool, opt_int, opt_str, respond, str_list, str_map,
    unknown_operation,
};
use crate::protocol::rest::{RestRequest, RestResponse};
use crate::services::Ctx;
use crate::{AwsError, AwsResult};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The path labels naming one method.
pub(super) struct MethodRef<'a> {
    pub api: &'a str,
    pub resource: &'a str,
    pub http_method: &'a str,
}

const HTTP_METHODS: [&str; 8] = ["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "ANY"];

/// Routes `/restapis/{api}/resources/{resource}/methods/{httpMethod}/...`.
pub(super) fn route(
    ctx: &Ctx<'_>,
    req: &RestRequest,
    at: &MethodRef<'_>,
    rest: &[&str],
) -> AwsResult<RestResponse> {
    match (req.method.as_str(), rest) {
        ("PUT", []) => put_method(ctx, at, &body(req)?),
        ("GET", []) => read_method(ctx, at, |m| Ok(respond(200, m))),
        ("PATCH", []) => update_method(ctx, at, &patch::ops(&body(req)?)?),
        ("DELETE", []) => delete_method(ctx, at),
        ("PUT", ["responses", code]) => put_method_response(ctx, at, code, &body(req)?),
        ("GET", ["responses", code]) => read_method(ctx, at, |m| Ok(respond(200, method_response(m, code)?))),
        ("PATCH", ["responses", code]) => update_method_response(ctx, at, code, &patch::ops(&body(req)?)?),
        ("DELETE", ["responses", code]) => edit_method(ctx, at, |m| {
            m.method_responses.remove(*code).ok_or_else(response_not_found)?;
            Ok(RestResponse::empty(204))
        }),
        ("PUT", ["integration"]) => put_integration(ctx, at, &body(req)?),
        ("GET", ["integration"]) => read_method(ctx, at, |m| Ok(respond(200, integration(m)?))),
        ("PATCH", ["integration"]) => update_integration(ctx, at, &patch::ops(&body(req)?)?),
        ("DELETE", ["integration"]) => edit_method(ctx, at, |m| {
            m.method_integration.take().ok_or_else(integration_not_found)?;
            Ok(RestResponse::empty(204))
        }),
        ("PUT", ["integration", "responses", code]) => put_integration_response(ctx, at, code, &body(req)?),
        ("GET", ["integration", "responses", code]) => read_method(ctx, at, |m| {
            Ok(respond(200, integration_response(integration(m)?, code)?))
        }),
        ("PATCH", ["integration", "responses", code]) => {
            update_integration_response(ctx, at, code, &patch::ops(&body(req)?)?)
        }
        ("DELETE", ["integration", "responses", code]) => edit_method(ctx, at, |m| {
            let i = m.method_integration.as_mut().ok_or_else(integration_not_found)?;
            i.integration_responses
                .remove(*code)
                .ok_or_else(response_not_found)?;
            Ok(RestResponse::empty(204))
        }),
        _ => Err(unknown_operation(req)),
    }
}

// ---------------------------------------------------------------------------------------------
// Lookups.

fn method_not_found() -> AwsError {
    not_found("Invalid Method identifier specified")
}

fn integration_not_found() -> AwsError {
    not_found("Invalid Integration identifier specified")
}

fn response_not_found() -> AwsError {
    not_found("Invalid Response status code specified")
}

fn method<'a>(api: &'a RestApi, at: &MethodRef<'_>) -> AwsResult<&'a Method> {
    resource(api, at.resource)?
        .resource_methods
        .get(at.http_method)
        .ok_or_else(method_not_found)
}

fn method_response<'a>(m: &'a Method, code: &str) -> AwsResult<&'a MethodResponse> {
    m.method_responses.get(code).ok_or_else(response_not_found)
}

fn integration(m: &Method) -> AwsResult<&Integration> {
    m.method_integration.as_ref().ok_or_else(integration_not_found)
}

fn integration_response<'a>(i: &'a Integration, code: &str) -> AwsResult<&'a IntegrationResponse> {
    i.integration_responses.get(code).ok_or_else(response_not_found)
}

fn read_method(
    ctx: &Ctx<'_>,
    at: &MethodRef<'_>,
    f: impl FnOnce(&Method) -> AwsResult<RestResponse>,
) -> AwsResult<RestResponse> {
    read(ctx, at.api, |api| f(method(api, at)?))
}

fn edit_method(
    ctx: &Ctx<'_>,
    at: &MethodRef<'_>,
    f: impl FnOnce(&mut Method) -> AwsResult<RestResponse>,
) -> AwsResult<RestResponse> {
    edit(ctx, at.api, |api| {
        let m = resource_mut(api, at.resource)?
            .resource_methods
            .get_mut(at.http_method)
            .ok_or_else(method_not_found)?;
        f(m)
    })
}

// ---------------------------------------------------------------------------------------------
// Validation shared by methods and integrations.

fn check_http_method(m: &str) -> AwsResult<()> {
    if HTTP_METHODS.contains(&m) {
        Ok(())
    } else {
        Err(bad_request(format!(
            "Invalid HttpMethod specified. Valid options are {}",
            HTTP_METHODS.join(",")
        )))
    }
}

fn invalid_mapping(detail: &str) -> AwsError {
    bad_request(format!(
        "Invalid mapping expression specified: Validation Result: warnings : [], errors : [{detail}]"
    ))
}

/// `method.request.{location}.{name}` as a method request parameter.
fn check_method_request_parameter(name: &str) -> AwsResult<()> {
    let valid = [
        "path",
        "querystring",
        "header",
        "multivaluequerystring",
        "multivalueheader",
    ]
    .iter()
    .any(|loc| {
        name.strip_prefix("method.request.")
            .and_then(|r| r.strip_prefix(loc))
            .and_then(|r| r.strip_prefix('.'))
            .is_some_and(|n| !n.is_empty())
    });
    if valid {
        Ok(())
    } else {
        Err(invalid_mapping(&format!(
            "Invalid method request parameter name specified: {name}"
        )))
    }
}

fn check_status_code(code: &str) -> AwsResult<()> {
    let b = code.as_bytes();
    if b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && b.iter().all(u8::is_ascii_digit) {
        Ok(())
    } else {
        Err(bad_request(format!("Invalid status code specified: {code}")))
    }
}

// ---------------------------------------------------------------------------------------------
// Methods.

const AUTHORIZATION_TYPES: [&str; 4] = ["NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"];

fn check_authorization(kind: &str, authorizer_id: Option<&str>) -> AwsResult<()> {
    if !AUTHORIZATION_TYPES.contains(&kind) {
        return Err(bad_request(format!(
            "Invalid authorization type specified: {kind}. Valid values are {}",
            AUTHORIZATION_TYPES.join(", ")
        )));
    }
    // This runtime has no authorizers, so none can be valid.
    if matches!(kind, "CUSTOM" | "COGNITO_USER_POOLS") || authorizer_id.is_some() {
        return Err(bad_request(
            "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or \
             COGNITO_USER_POOLS requires a valid authorizer.",
        ));
    }
    Ok(())
}

/// `PUT .../methods/{httpMethod}`.
fn put_method(ctx: &Ctx<'_>, at: &MethodRef<'_>, body: &Map<String, Value>) -> AwsResult<RestResponse> {
    // AWS looks for the resource before it reads the method.
    read(ctx, at.api, |api| resource(api, at.resource).map(|_| ()))?;
    check_http_method(at.http_method)?;
    let authorization_type = opt_str(body, "authorizationType")?
        .ok_or_else(|| bad_request("Invalid authorization type specified: null"))?;
    let authorizer_id = opt_str(body, "authorizerId")?;
    check_authorization(&authorization_type, authorizer_id.as_deref())?;
    let request_parameters = bool_map(body, "requestParameters")?;
    for name in request_parameters.keys() {
        check_method_request_parameter(name)?;
    }
    // No request validators exist here, and every API has only the built-in models.
    if opt_str(body, "requestValidatorId")?.is_some() {
        return Err(bad_request("Invalid Request Validator identifier specified"));
    }
    let request_models = str_map(body, "requestModels")?;
    if let Some(model) = request_models
        .values()
        .find(|m| !BUILT_IN_MODELS.contains(&m.as_str()))
    {
        return Err(bad_request(format!(
            "Invalid model identifier specified: {model}"
        )));
    }
    let new = Method {
        http_method: at.http_method.to_owned(),
        authorization_type,
        authorizer_id,
        api_key_required: opt_bool(body, "apiKeyRequired")?.unwrap_or(false),
        request_validator_id: None,
        operation_name: opt_str(body, "operationName")?,
        request_parameters,
        request_models,
        authorization_scopes: str_list(body, "authorizationScopes")?,
        method_responses: BTreeMap::new(),
        method_integration: None,
    };
    edit(ctx, at.api, |api| {
        let r = resource_mut(api, at.resource)?;
        if r.resource_methods.contains_key(at.http_method) {
            return Err(conflict("Method already exists for this resource"));
        }
        r.resource_methods.insert(at.http_method.to_owned(), new.clone());
        Ok(respond(201, &new))
    })
}

/// The models every REST API has from its creation.
const BUILT_IN_MODELS: [&str; 2] = ["Empty", "Error"];

const METHOD_PATHS: &str = "/authorizationType, /authorizerId, /apiKeyRequired, /operationName, \
     /requestValidatorId, /requestParameters/<name>, /requestModels/<contentType>";

/// `PATCH .../methods/{httpMethod}`.
fn update_method(ctx: &Ctx<'_>, at: &MethodRef<'_>, ops: &[PatchOp]) -> AwsResult<RestResponse> {
    edit_method(ctx, at, |m| {
        for op in ops {
            patch_method(m, op)?;
        }
        check_authorization(&m.authorization_type, m.authorizer_id.as_deref())?;
        Ok(respond(200, m))
    })
}

fn patch_method(m: &mut Method, op: &PatchOp) -> AwsResult<()> {
    let tokens = op.tokens();
    let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
    match (op.op.as_str(), tokens.as_slice()) {
        ("replace", ["authorizationType"]) => m.authorization_type = op.value()?.to_owned(),
        ("replace", ["authorizerId"]) => m.authorizer_id = op.opt_value(),
        ("replace", ["apiKeyRequired"]) => m.api_key_required = op.bool()?,
        ("replace", ["operationName"]) => m.operation_name = op.opt_value(),
        ("replace", ["requestValidatorId"]) => m.request_validator_id = op.opt_value(),
        (_, ["requestParameters", name]) => {
            if op.sets() {
                check_method_request_parameter(name)?;
            }
            op.on_bool_map(&mut m.request_parameters, name, METHOD_PATHS)?;
        }
        (_, ["requestModels", content_type]) => {
            op.on_str_map(&mut m.request_models, content_type, METHOD_PATHS)?;
        }
        _ => return Err(op.invalid_path(METHOD_PATHS)),
    }
    Ok(())
}

/// `DELETE .../methods/{httpMethod}`.
fn delete_method(ctx: &Ctx<'_>, at: &MethodRef<'_>) -> AwsResult<RestResponse> {
    edit(ctx, at.api, |api| {
        resource_mut(api, at.resource)?
            .resource_methods
            .remove(at.http_method)
            .ok_or_else(method_not_found)?;
        Ok(RestResponse::empty(204))
    })
}

// ---------------------------------------------------------------------------------------------
// Method responses.

fn check_method_response_parameter(name: &str) -> AwsResult<()> {
    match name.strip_prefix("method.response.header.") {
        Some(h) if !h.is_empty() => Ok(()),
        _ => Err(invalid_mapping(&format!(
            "Invalid method response parameter name specified: {name}"
        ))),
    }
}

/// `PUT .../methods/{httpMethod}/responses/{statusCode}`.
fn put_method_response(
    ctx: &Ctx<'_>,
    at: &MethodRef<'_>,
    code: &str,
    body: &Map<String, Value>,
) -> AwsResult<RestResponse> {
    check_status_code(code)?;
    let response_parameters = bool_map(body, "responseParameters")?;
    for name in response_parameters.keys() {
        check_method_response_parameter(name)?;
    }
    let new = MethodResponse {
        status_code: code.to_owned(),
        response_parameters,
        response_models: str_map(body, "responseModels")?,
    };
    edit_method(ctx, at, |m| {
        if m.method_responses.contains_key(code) {
            return Err(conflict("Response already exists for this resource"));
        }
        m.method_responses.insert(code.to_owned(), new.clone());
        Ok(respond(201, &new))
    })
}

const METHOD_RESPONSE_PATHS: &str = "/responseParameters/<name>, /responseModels/<contentType>";

/// `PATCH .../methods/{httpMethod}/responses/{statusCode}`.
fn update_method_response(
    ctx: &Ctx<'_>,
    at: &MethodRef<'_>,
    code: &str,
    ops: &[PatchOp],
) -> AwsResult<RestResponse> {
    edit_method(ctx, at, |m| {
        let r = m.method_responses.get_mut(code).ok_or_else(response_not_found)?;
        for op in ops {
            let tokens = op.tokens();
            let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
            match tokens.as_slice() {
                ["responseParameters", name] => {
                    if op.sets() {
                        check_method_response_parameter(name)?;
                    }
                    op.on_bool_map(&mut r.response_parameters, name, METHOD_RESPONSE_PATHS)?;
                }
                ["responseModels", content_type] => {
                    op.on_str_map(&mut r.response_models, content_type, METHOD_RESPONSE_PATHS)?;
                }
                _ => return Err(op.invalid_path(METHOD_RESPONSE_PATHS)),
            }
        }
        Ok(respond(200, &*r))
    })
}

// ---------------------------------------------------------------------------------------------
// Integrations.

const INTEGRATION_TYPES: [&str; 5] = ["AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK"];
const PASSTHROUGH_BEHAVIORS: [&str; 3] = ["WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"];
const CONTENT_HANDLINGS: [&str; 2] = ["CONVERT_TO_BINARY", "CONVERT_TO_TEXT"];
const TIMEOUT_RANGE: std::ops::RangeInclusive<i64> = 50..=29_000;

/// `PUT .../methods/{httpMethod}/integration`.
fn put_integration(ctx: &Ctx<'_>, at: &MethodRef<'_>, body: &Map<String, Value>) -> AwsResult<RestResponse> {
    let kind = opt_str(body, "type")?
        .ok_or_else(|| bad_request("Enumeration value for IntegrationType must be non-empty"))?;
    // AWS reports no connection type for a MOCK integration unless one was given.
    let default_connection = if kind == "MOCK" { "" } else { "INTERNET" };
    let mut new = Integration {
        kind,
        http_method: opt_str(body, "httpMethod")?,
        uri: opt_str(body, "uri")?,
        connection_type: opt_str(body, "connectionType")?.unwrap_or_else(|| default_connection.into()),
        connection_id: opt_str(body, "connectionId")?,
        credentials: opt_str(body, "credentials")?,
        request_parameters: str_map(body, "requestParameters")?,
        request_templates: str_map(body, "requestTemplates")?,
        passthrough_behavior: opt_str(body, "passthroughBehavior")?.unwrap_or_else(|| "WHEN_NO_MATCH".into()),
        content_handling: opt_str(body, "contentHandling")?,
        timeout_in_millis: opt_int(body, "timeoutInMillis")?.unwrap_or(29_000),
        cache_namespace: opt_str(body, "cacheNamespace")?.unwrap_or_else(|| at.resource.to_owned()),
        cache_key_parameters: str_list(body, "cacheKeyParameters")?,
        integration_responses: BTreeMap::new(),
    };
    check_integration(&new)?;
    edit_method(ctx, at, |m| {
        check_request_parameter_sources(&new, m)?;
        // Replacing an integration keeps the responses already defined for it.
        if let Some(old) = m.method_integration.take() {
            new.integration_responses = old.integration_responses;
        }
        m.method_integration = Some(new);
        let mut shown = integration(m)?.clone();
        shown.integration_responses.clear();
        Ok(respond(201, &shown))
    })
}

/// Everything about an integration that does not depend on its method.
fn check_integration(i: &Integration) -> AwsResult<()> {
    if !INTEGRATION_TYPES.contains(&i.kind.as_str()) {
        return Err(bad_request(format!(
            "Invalid integration type specified: {}. Valid values are {}",
            i.kind,
            INTEGRATION_TYPES.join(", ")
        )));
    }
    if i.kind != "MOCK" {
        let http = i
            .http_method
            .as_deref()
            .filter(|m| !m.is_empty())
            .ok_or_else(|| bad_request("Enumeration value for HttpMethod must be non-empty"))?;
        check_http_method(http)?;
        let uri = i
            .uri
            .as_deref()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| bad_request("Invalid integration URI specified"))?;
        match i.kind.as_str() {
            "AWS" | "AWS_PROXY" => check_aws_uri(uri, &i.kind)?,
            _ => check_http_uri(uri, &i.connection_type)?,
        }
    }
    if let Some(role) = &i.credentials {
        check_credentials(role)?;
    }
    if !PASSTHROUGH_BEHAVIORS.contains(&i.passthrough_behavior.as_str()) {
        return Err(bad_request(format!(
            "Invalid passthrough behavior specified: {}. Valid values are {}",
            i.passthrough_behavior,
            PASSTHROUGH_BEHAVIORS.join(", ")
        )));
    }
    if let Some(c) = &i.content_handling
        && !CONTENT_HANDLINGS.contains(&c.as_str())
    {
        return Err(bad_request(format!(
            "Invalid content handling specified: {c}. Valid values are {}",
            CONTENT_HANDLINGS.join(", ")
        )));
    }
    if !TIMEOUT_RANGE.contains(&i.timeout_in_millis) {
        return Err(bad_request("Timeout should be between 50 ms and 29000 ms"));
    }
    match i.connection_type.as_str() {
        "INTERNET" => {}
        "" if i.kind == "MOCK" => {}
        "VPC_LINK" if i.connection_id.as_deref().is_some_and(|c| !c.is_empty()) => {}
        "VPC_LINK" => return Err(bad_request("ConnectionId required for connectionType VPC_LINK")),
        other => {
            return Err(bad_request(format!(
                "Invalid connection type specified: {other}. Valid values are INTERNET, VPC_LINK"
            )));
        }
    }
    for (target, source) in &i.request_parameters {
        check_integration_parameter(target, source)?;
    }
    Ok(())
}

/// `arn:aws:apigateway:{region}:{service}:{action|path}/{rest}`; AWS_PROXY only reaches Lambda
/// (and Firehose).
fn check_aws_uri(uri: &str, kind: &str) -> AwsResult<()> {
    let parts: Vec<&str> = uri.splitn(6, ':').collect();
    let ["arn", partition, "apigateway", uri_region, service, rest] = parts.as_slice() else {
        return Err(bad_request("Invalid ARN specified in the request"));
    };
    if !partition.starts_with("aws") || uri_region.is_empty() || service.is_empty() {
        return Err(bad_request("Invalid ARN specified in the request"));
    }
    let (how, what) = rest.split_once('/').unwrap_or((rest, ""));
    if !matches!(how.trim(), "action" | "path") || what.is_empty() {
        return Err(bad_request("AWS ARN for integration must contain path or action"));
    }
    if kind == "AWS_PROXY" && !matches!(*service, "lambda" | "firehose") {
        return Err(bad_request(
            "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose \
             stream invocations.",
        ));
    }
    Ok(())
}

fn check_http_uri(uri: &str, connection_type: &str) -> AwsResult<()> {
    let rest = uri
        .strip_prefix("https://")
        .or_else(|| uri.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(()),
        // A VPC link may use a URI that only names a path on the load balancer.
        _ if connection_type == "VPC_LINK" => Ok(()),
        _ => Err(bad_request("Invalid HTTP endpoint specified for URI")),
    }
}

/// An execution role (or `arn:aws:iam::*:user/*` for the caller's own credentials).
fn check_credentials(arn: &str) -> AwsResult<()> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = match parts.as_slice() {
        ["arn", partition, "iam", "", account, resource] => {
            partition.starts_with("aws")
                && ((account.len() == 12
                    && account.bytes().all(|b| b.is_ascii_digit())
                    && resource.strip_prefix("role/").is_some_and(|r| !r.is_empty()))
                    || (*account == "*" && *resource == "user/*"))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(bad_request(
            "Role ARNs need to be specified for Integration credentials",
        ))
    }
}

/// `integration.request.{location}.{name}` ← a method parameter, a `'static'` value, a
/// context or stage variable, or the body.
fn check_integration_parameter(target: &str, source: &str) -> AwsResult<()> {
    let target_ok = [
        "path",
        "querystring",
        "header",
        "multivaluequerystring",
        "multivalueheader",
    ]
    .iter()
    .any(|loc| {
        target
            .strip_prefix("integration.request.")
            .and_then(|r| r.strip_prefix(loc))
            .and_then(|r| r.strip_prefix('.'))
            .is_some_and(|n| !n.is_empty())
    });
    if !target_ok {
        return Err(invalid_mapping(&format!(
            "Invalid mapping expression specified: {target}"
        )));
    }
    let source_ok = (source.len() >= 2 && source.starts_with('\'') && source.ends_with('\''))
        || source.starts_with("method.request.")
        || source.starts_with("context.")
        || source.starts_with("stageVariables.");
    if source_ok {
        Ok(())
    } else {
        Err(invalid_mapping(&format!(
            "Invalid mapping expression specified: {source}"
        )))
    }
}

/// A mapping from `method.request.{path|querystring|header}.x` needs the method to declare
/// that parameter, as AWS checks.
fn check_request_parameter_sources(i: &Integration, m: &Method) -> AwsResult<()> {
    for source in i.request_parameters.values() {
        let declared_kind = [
            "path.",
            "querystring.",
            "header.",
            "multivaluequerystring.",
            "multivalueheader.",
        ]
        .iter()
        .any(|loc| source.starts_with(&format!("method.request.{loc}")));
        if declared_kind && !m.request_parameters.contains_key(source) {
            return Err(invalid_mapping(&format!(
                "Invalid mapping expression parameter specified: {source}"
            )));
        }
    }
    Ok(())
}

const INTEGRATION_PATHS: &str = "/uri, /httpMethod, /credentials, /passthroughBehavior, \
     /contentHandling, /timeoutInMillis, /connectionType, /connectionId, /cacheNamespace, \
     /requestParameters/<name>, /requestTemplates/<contentType>, /cacheKeyParameters/<name>";

/// `PATCH .../methods/{httpMethod}/integration`.
fn update_integration(ctx: &Ctx<'_>, at: &MethodRef<'_>, ops: &[PatchOp]) -> AwsResult<RestResponse> {
    edit_method(ctx, at, |m| {
        let mut i = integration(m)?.clone();
        for op in ops {
            patch_integration(&mut i, op)?;
        }
        check_integration(&i)?;
        check_request_parameter_sources(&i, m)?;
        m.method_integration = Some(i);
        Ok(respond(200, integration(m)?))
    })
}

fn patch_integration(i: &mut Integration, op: &PatchOp) -> AwsResult<()> {
    let tokens = op.tokens();
    let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
    match (op.op.as_str(), tokens.as_slice()) {
        ("replace", ["uri"]) => i.uri = op.opt_value(),
        ("replace", ["httpMethod"]) => i.http_method = op.opt_value(),
        ("replace", ["type"]) => i.kind = op.value()?.to_owned(),
        ("replace", ["credentials"]) => i.credentials = op.opt_value(),
        ("replace", ["passthroughBehavior"]) => i.passthrough_behavior = op.value()?.to_owned(),
        ("replace", ["contentHandling"]) => i.content_handling = op.opt_value(),
        ("replace", ["timeoutInMillis"]) => i.timeout_in_millis = op.int()?,
        ("replace", ["connectionType"]) => i.connection_type = op.value()?.to_owned(),
        ("replace", ["connectionId"]) => i.connection_id = op.opt_value(),
        ("replace", ["cacheNamespace"]) => i.cache_namespace = op.value()?.to_owned(),
        (_, ["requestParameters", name]) => {
            op.on_str_map(&mut i.request_parameters, name, INTEGRATION_PATHS)?;
        }
        (_, ["requestTemplates", content_type]) => {
            op.on_str_map(&mut i.request_templates, content_type, INTEGRATION_PATHS)?;
        }
        ("add", ["cacheKeyParameters", name]) => {
            if !i.cache_key_parameters.iter().any(|p| p == name) {
                i.cache_key_parameters.push((*name).to_owned());
            }
        }
        ("remove", ["cacheKeyParameters", name]) => i.cache_key_parameters.retain(|p| p != name),
        _ => return Err(op.invalid_path(INTEGRATION_PATHS)),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Integration responses.

/// `method.response.header.x` ← an integration response header or body value, or a static one.
fn check_integration_response_parameters(
    params: &BTreeMap<String, String>,
    m: &Method,
    code: &str,
) -> AwsResult<()> {
    let declared = m.method_responses.get(code);
    for target in params.keys() {
        check_method_response_parameter(target)?;
        if !declared.is_some_and(|r| r.response_parameters.contains_key(target)) {
            return Err(invalid_mapping(&format!(
                "Invalid mapping expression specified: {target}"
            )));
        }
    }
    Ok(())
}

fn check_content_handling(c: Option<&str>) -> AwsResult<()> {
    match c {
        Some(c) if !CONTENT_HANDLINGS.contains(&c) => Err(bad_request(format!(
            "Invalid content handling specified: {c}. Valid values are {}",
            CONTENT_HANDLINGS.join(", ")
        ))),
        _ => Ok(()),
    }
}

/// `PUT .../integration/responses/{statusCode}`: the integration must exist. The method
/// response with that status code need not (AWS accepts it first), unless response
/// parameters map onto its headers.
fn put_integration_response(
    ctx: &Ctx<'_>,
    at: &MethodRef<'_>,
    code: &str,
    body: &Map<String, Value>,
) -> AwsResult<RestResponse> {
    check_status_code(code)?;
    let new = IntegrationResponse {
        status_code: code.to_owned(),
        selection_pattern: opt_str(body, "selectionPattern")?,
        response_parameters: str_map(body, "responseParameters")?,
        response_templates: str_map(body, "responseTemplates")?,
        content_handling: opt_str(body, "contentHandling")?,
    };
    check_content_handling(new.content_handling.as_deref())?;
    edit_method(ctx, at, |m| {
        integration(m)?;
        check_integration_response_parameters(&new.response_parameters, m, code)?;
        let i = m.method_integration.as_mut().ok_or_else(integration_not_found)?;
        i.integration_responses.insert(code.to_owned(), new.clone());
        Ok(respond(201, &new))
    })
}

const INTEGRATION_RESPONSE_PATHS: &str = "/selectionPattern, /contentHandling, \
     /responseParameters/<name>, /responseTemplates/<contentType>";

/// `PATCH .../integration/responses/{statusCode}`.
fn update_integration_response(
    ctx: &Ctx<'_>,
    at: &MethodRef<'_>,
    code: &str,
    ops: &[PatchOp],
) -> AwsResult<RestResponse> {
    edit_method(ctx, at, |m| {
        let mut r = integration_response(integration(m)?, code)?.clone();
        for op in ops {
            let tokens = op.tokens();
            let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
            match (op.op.as_str(), tokens.as_slice()) {
                ("replace", ["selectionPattern"]) => r.selection_pattern = op.opt_value(),
                ("replace", ["contentHandling"]) => r.content_handling = op.opt_value(),
                (_, ["responseParameters", name]) => {
                    op.on_str_map(&mut r.response_parameters, name, INTEGRATION_RESPONSE_PATHS)?;
                }
                (_, ["responseTemplates", content_type]) => {
                    op.on_str_map(
                        &mut r.response_templates,
                        content_type,
                        INTEGRATION_RESPONSE_PATHS,
                    )?;
                }
                _ => return Err(op.invalid_path(INTEGRATION_RESPONSE_PATHS)),
            }
        }
        check_content_handling(r.content_handling.as_deref())?;
        check_integration_response_parameters(&r.response_parameters, m, code)?;
        let i = m.method_integration.as_mut().ok_or_else(integration_not_found)?;
        i.integration_responses.insert(code.to_owned(), r.clone());
        Ok(respond(200, &r))
    })
}
