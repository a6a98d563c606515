//! Methods, method responses, integrations and integration responses: all live inside the
//! API's document, on their resource.

use super::model::{Integration, IntegrationResponse, Method, MethodResponse, RestApi};
use super::patch::{self, PatchOp};
use super::restapis::{edit_or, read_or, resource, resource_mut, resource_not_found};
use super::{
    bad_request, body, bool_map, conflict, enum_violation, not_found, opt_bool, opt_int, opt_str, respond,
    status_code_violation, str_list, str_map, unknown_operation, validated,
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

/// Routes `/restapis/{api}/resources/{resource}/methods/{httpMethod}/...`. A status code
/// label is validated by the front end, before anything is looked up (recorded: LocalStack
/// test_integration_response_invalid_statuscode).
pub(super) fn route(
    ctx: &Ctx<'_>,
    req: &RestRequest,
    at: &MethodRef<'_>,
    rest: &[&str],
) -> AwsResult<RestResponse> {
    let code_violation = match rest {
        ["responses", code] | ["integration", "responses", code] => status_code_violation(code),
        _ => None,
    };
    match (req.method.as_str(), rest) {
        ("PATCH", ["responses", code]) => {
            let ops = patch::ops_and(
                &body(req)?,
                "updateMethodResponseInput",
                code_violation.into_iter().collect(),
            )?;
            return update_method_response(ctx, at, code, &ops);
        }
        ("PATCH", ["integration", "responses", code]) => {
            let input = "updateIntegrationResponseInput";
            let ops = patch::ops_and(&body(req)?, input, code_violation.into_iter().collect())?;
            return update_integration_response(ctx, at, code, &ops);
        }
        _ => validated(&code_violation.into_iter().collect::<Vec<_>>())?,
    }
    match (req.method.as_str(), rest) {
        ("PUT", []) => put_method(ctx, at, &body(req)?),
        ("GET", []) => read_method(ctx, at, |m| Ok(respond(200, m))),
        ("PATCH", []) => update_method(ctx, at, &patch::ops(&body(req)?, "updateMethodInput")?),
        ("DELETE", []) => delete_method(ctx, at),
        ("PUT", ["responses", code]) => put_method_response(ctx, at, code, &body(req)?),
        ("GET", ["responses", code]) => read_method(ctx, at, |m| Ok(respond(200, method_response(m, code)?))),
        ("DELETE", ["responses", code]) => edit_method(ctx, at, |m| {
            m.method_responses.remove(*code).ok_or_else(response_not_found)?;
            Ok(RestResponse::empty(204))
        }),
        ("PUT", ["integration"]) => put_integration(ctx, at, &body(req)?),
        ("GET", ["integration"]) => read_method(ctx, at, |m| Ok(respond(200, integration(m)?))),
        ("PATCH", ["integration"]) => {
            update_integration(ctx, at, &patch::ops(&body(req)?, "updateIntegrationInput")?)
        }
        ("DELETE", ["integration"]) => edit_method(ctx, at, |m| {
            m.method_integration.take().ok_or_else(integration_not_found)?;
            Ok(RestResponse::empty(204))
        }),
        ("PUT", ["integration", "responses", code]) => put_integration_response(ctx, at, code, &body(req)?),
        ("GET", ["integration", "responses", code]) => read_method(ctx, at, |m| {
            Ok(respond(200, integration_response(integration(m)?, code)?))
        }),
        ("DELETE", ["integration", "responses", code]) => delete_integration_response(ctx, at, code),
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

/// Reads the API of `at`. AWS finds a method through its resource, so an unknown API reads
/// as an unknown resource (recorded: LocalStack test_put_method_validation,
/// test_get_integration_non_existent, test_integration_response_wrong_api).
fn read_api<T>(ctx: &Ctx<'_>, at: &MethodRef<'_>, f: impl FnOnce(&RestApi) -> AwsResult<T>) -> AwsResult<T> {
    read_or(ctx, at.api, resource_not_found, f)
}

/// Changes the API of `at`; an unknown API reads as an unknown resource, as in [`read_api`].
fn edit_api<T>(
    ctx: &Ctx<'_>,
    at: &MethodRef<'_>,
    f: impl FnOnce(&mut RestApi) -> AwsResult<T>,
) -> AwsResult<T> {
    edit_or(ctx, at.api, resource_not_found, f)
}

fn read_method(
    ctx: &Ctx<'_>,
    at: &MethodRef<'_>,
    f: impl FnOnce(&Method) -> AwsResult<RestResponse>,
) -> AwsResult<RestResponse> {
    read_api(ctx, at, |api| f(method(api, at)?))
}

/// Changes the method of `at`; `missing()` is the error when the resource has no such method.
fn edit_method_or(
    ctx: &Ctx<'_>,
    at: &MethodRef<'_>,
    missing: fn() -> AwsError,
    f: impl FnOnce(&mut Method) -> AwsResult<RestResponse>,
) -> AwsResult<RestResponse> {
    edit_api(ctx, at, |api| {
        let m = resource_mut(api, at.resource)?
            .resource_methods
            .get_mut(at.http_method)
            .ok_or_else(missing)?;
        f(m)
    })
}

fn edit_method(
    ctx: &Ctx<'_>,
    at: &MethodRef<'_>,
    f: impl FnOnce(&mut Method) -> AwsResult<RestResponse>,
) -> AwsResult<RestResponse> {
    edit_method_or(ctx, at, method_not_found, f)
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

/// The locations a method request parameter may come from.
const PARAMETER_LOCATIONS: [&str; 5] = [
    "path",
    "querystring",
    "header",
    "multivaluequerystring",
    "multivalueheader",
];

/// The name of a method request parameter `method.request.{location}.{name}`, or `None` for
/// another shape.
fn method_parameter_name(parameter: &str) -> Option<&str> {
    let rest = parameter.strip_prefix("method.request.")?;
    PARAMETER_LOCATIONS
        .iter()
        .find_map(|loc| rest.strip_prefix(loc).and_then(|r| r.strip_prefix('.')))
        .filter(|n| !n.is_empty())
}

/// `method.request.{location}.{name}` as a method request parameter (recorded: LocalStack
/// test_put_integration_request_parameter_bool_type, for the wording).
fn check_method_request_parameter(name: &str) -> AwsResult<()> {
    match method_parameter_name(name) {
        Some(_) => Ok(()),
        None => Err(invalid_mapping(&format!(
            "Invalid mapping expression specified: {name}"
        ))),
    }
}

/// A method's parameters: each well formed, and no name in two locations (recorded:
/// LocalStack test_method_request_parameters).
fn check_method_request_parameters(parameters: &BTreeMap<String, bool>) -> AwsResult<()> {
    let mut names = std::collections::BTreeSet::new();
    for parameter in parameters.keys() {
        check_method_request_parameter(parameter)?;
        if !names.insert(method_parameter_name(parameter).unwrap_or_default()) {
            return Err(bad_request(
                "Parameter names must be unique across querystring, header and path",
            ));
        }
    }
    Ok(())
}

/// A template's content type must be a media type, `type/subtype` (recorded: LocalStack
/// test_integration_response_invalid_responsetemplates, `123`).
fn check_content_types(templates: &BTreeMap<String, String>) -> AwsResult<()> {
    for content_type in templates.keys() {
        let valid = content_type
            .split_once('/')
            .is_some_and(|(kind, sub)| !kind.trim().is_empty() && !sub.trim().is_empty());
        if !valid {
            return Err(bad_request(format!(
                "Validation Result: warnings : [], errors : [Invalid content type specified: {content_type}]"
            )));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Methods.

const AUTHORIZATION_TYPES: [&str; 4] = ["NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"];

/// An authorization type in any case, as AWS takes it (`none` is NONE; recorded: LocalStack
/// test_put_integration_responses).
fn authorization_type(kind: &str) -> AwsResult<String> {
    let upper = kind.to_ascii_uppercase();
    if AUTHORIZATION_TYPES.contains(&upper.as_str()) {
        Ok(upper)
    } else {
        Err(bad_request(format!(
            "Invalid authorization type specified: {kind}. Valid values are {}",
            AUTHORIZATION_TYPES.join(", ")
        )))
    }
}

/// Whether the authorization type is one an authorizer serves.
fn uses_authorizer(kind: &str) -> bool {
    matches!(kind, "CUSTOM" | "COGNITO_USER_POOLS")
}

/// This runtime has no authorizers, so none can be valid.
fn check_authorizer(kind: &str, authorizer_id: Option<&str>) -> AwsResult<()> {
    if uses_authorizer(kind) || authorizer_id.is_some() {
        return Err(bad_request(
            "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or \
             COGNITO_USER_POOLS requires a valid authorizer.",
        ));
    }
    Ok(())
}

fn invalid_validator() -> AwsError {
    bad_request("Invalid Request Validator identifier specified")
}

/// `PUT .../methods/{httpMethod}`.
fn put_method(ctx: &Ctx<'_>, at: &MethodRef<'_>, body: &Map<String, Value>) -> AwsResult<RestResponse> {
    // AWS looks for the resource before it reads the method.
    read_api(ctx, at, |api| resource(api, at.resource).map(|_| ()))?;
    check_http_method(at.http_method)?;
    let authorization_type = authorization_type(
        &opt_str(body, "authorizationType")?
            .ok_or_else(|| bad_request("Invalid authorization type specified: null"))?,
    )?;
    let authorizer_id = opt_str(body, "authorizerId")?;
    check_authorizer(&authorization_type, authorizer_id.as_deref())?;
    let request_parameters = bool_map(body, "requestParameters")?;
    check_method_request_parameters(&request_parameters)?;
    // No request validators exist here, and every API has only the built-in models.
    if opt_str(body, "requestValidatorId")?.is_some() {
        return Err(invalid_validator());
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
    edit_api(ctx, at, |api| {
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

/// The method's own fields: only `replace` changes them (recorded: LocalStack
/// test_update_method_validation).
const METHOD_FIELDS: [&str; 5] = [
    "authorizationType",
    "authorizerId",
    "apiKeyRequired",
    "operationName",
    "requestValidatorId",
];

const METHOD_PATHS: &str = "/authorizationType, /authorizerId, /apiKeyRequired, /operationName, \
     /requestValidatorId, /requestParameters/<name>, /requestModels/<contentType>";

/// `PATCH .../methods/{httpMethod}`.
fn update_method(ctx: &Ctx<'_>, at: &MethodRef<'_>, ops: &[PatchOp]) -> AwsResult<RestResponse> {
    edit_method(ctx, at, |m| {
        for op in ops {
            patch_method(m, op)?;
        }
        check_method_request_parameters(&m.request_parameters)?;
        // An authorizer only counts for the types that use one: with another, AWS takes an
        // authorizer id and forgets it (recorded: LocalStack test_update_method_validation).
        if uses_authorizer(&m.authorization_type) {
            check_authorizer(&m.authorization_type, m.authorizer_id.as_deref())?;
        } else {
            m.authorizer_id = None;
        }
        Ok(respond(200, m))
    })
}

fn patch_method(m: &mut Method, op: &PatchOp) -> AwsResult<()> {
    let tokens = op.tokens();
    let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
    if let [field] = tokens.as_slice()
        && op.op != "replace"
        && METHOD_FIELDS.contains(field)
    {
        return Err(op.unsupported_op("replace"));
    }
    match (op.op.as_str(), tokens.as_slice()) {
        ("replace", ["authorizationType"]) => m.authorization_type = authorization_type(op.value()?)?,
        ("replace", ["authorizerId"]) => m.authorizer_id = op.opt_value(),
        ("replace", ["apiKeyRequired"]) => m.api_key_required = op.bool(),
        ("replace", ["operationName"]) => m.operation_name = op.opt_value(),
        // No request validators exist here: only clearing it is valid.
        ("replace", ["requestValidatorId"]) => {
            if op.opt_value().is_some() {
                return Err(invalid_validator());
            }
            m.request_validator_id = None;
        }
        (_, ["requestParameters", name]) => {
            if op.sets() {
                check_method_request_parameter(name)?;
            }
            op.on_bool_map(&mut m.request_parameters, name, METHOD_PATHS)?;
        }
        (_, ["requestModels", content_type]) => {
            op.on_str_map(&mut m.request_models, content_type, METHOD_PATHS)?;
        }
        // Any other path, a `/` left unescaped included (recorded: LocalStack
        // test_update_method_validation).
        _ => return Err(op.unknown_path()),
    }
    Ok(())
}

/// `DELETE .../methods/{httpMethod}`.
fn delete_method(ctx: &Ctx<'_>, at: &MethodRef<'_>) -> AwsResult<RestResponse> {
    edit_api(ctx, at, |api| {
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
    let response_parameters = given(body, "responseParameters", bool_map)?;
    for name in response_parameters.iter().flat_map(BTreeMap::keys) {
        check_method_response_parameter(name)?;
    }
    let new = MethodResponse {
        status_code: code.to_owned(),
        response_parameters,
        response_models: given(body, "responseModels", str_map)?,
    };
    edit_method(ctx, at, |m| {
        if m.method_responses.contains_key(code) {
            return Err(conflict("Response already exists for this resource"));
        }
        m.method_responses.insert(code.to_owned(), new.clone());
        Ok(respond(201, &new))
    })
}

/// How a map member is read ([`str_map`], [`bool_map`]).
type MapReader<T> = fn(&Map<String, Value>, &str) -> AwsResult<BTreeMap<String, T>>;

/// A map member as given: `None` when absent, `{}` when given empty.
fn given<T>(
    body: &Map<String, Value>,
    name: &str,
    read: MapReader<T>,
) -> AwsResult<Option<BTreeMap<String, T>>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => read(body, name).map(Some),
    }
}

/// `PATCH .../methods/{httpMethod}/responses/{statusCode}`: answered with 201, as AWS does
/// (recorded: LocalStack test_lifecycle_method_response).
fn update_method_response(
    ctx: &Ctx<'_>,
    at: &MethodRef<'_>,
    code: &str,
    ops: &[PatchOp],
) -> AwsResult<RestResponse> {
    edit_method(ctx, at, |m| {
        let r = m.method_responses.get_mut(code).ok_or_else(response_not_found)?;
        for op in ops {
            patch_method_response(r, op)?;
        }
        Ok(respond(201, &*r))
    })
}

/// `add` sets an entry; `replace` and `remove` need it to exist; a map left empty is dropped
/// (recorded: LocalStack test_update_method_wrong_param_names,
/// test_update_method_lack_response_parameters_and_models, test_update_method_response).
fn patch_method_response(r: &mut MethodResponse, op: &PatchOp) -> AwsResult<()> {
    let tokens = op.tokens();
    let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
    match (op.op.as_str(), tokens.as_slice()) {
        ("add", ["responseParameters", name]) => {
            check_method_response_parameter(name)?;
            r.response_parameters
                .get_or_insert_with(BTreeMap::new)
                .insert((*name).to_owned(), op.bool());
        }
        ("replace" | "remove", ["responseParameters", name]) => {
            let params = r
                .response_parameters
                .as_mut()
                .filter(|p| p.contains_key(*name))
                .ok_or_else(|| not_found("Invalid parameter name specified"))?;
            if op.op == "replace" {
                params.insert((*name).to_owned(), op.bool());
            } else {
                params.remove(*name);
            }
            if params.is_empty() {
                r.response_parameters = None;
            }
        }
        ("add", ["responseModels", content_type]) => {
            r.response_models
                .get_or_insert_with(BTreeMap::new)
                .insert((*content_type).to_owned(), op.value.clone().unwrap_or_default());
        }
        ("replace" | "remove", ["responseModels", content_type]) => {
            let models = r
                .response_models
                .as_mut()
                .filter(|p| p.contains_key(*content_type))
                .ok_or_else(|| not_found("Content-Type specified was not found"))?;
            if op.op == "replace" {
                models.insert((*content_type).to_owned(), op.value.clone().unwrap_or_default());
            } else {
                models.remove(*content_type);
            }
            if models.is_empty() {
                r.response_models = None;
            }
        }
        _ => return Err(op.unknown_path()),
    }
    Ok(())
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
    // The type is an enum of the model: the front end refuses another value, before the
    // method is looked up (recorded: LocalStack test_put_integration_wrong_type).
    if !INTEGRATION_TYPES.contains(&kind.as_str()) {
        validated(&[enum_violation(
            &kind,
            "putIntegrationInput.type",
            &["HTTP", "MOCK", "AWS_PROXY", "HTTP_PROXY", "AWS"],
        )])?;
    }
    // Only HTTP integrations reach the back end over a connection: AWS reports none for the
    // others unless one was given (recorded: LocalStack test_put_integration_validation).
    let default_connection = if kind.starts_with("HTTP") { "INTERNET" } else { "" };
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
    drop_mock_uri(&mut new);
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

/// A MOCK integration calls nothing: AWS drops a URI given to it (recorded: LocalStack
/// test_put_integration_validation).
fn drop_mock_uri(i: &mut Integration) {
    if i.kind == "MOCK" {
        i.uri = None;
    }
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
        "" if !i.kind.starts_with("HTTP") => {}
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
    check_content_types(&i.request_templates)
}

/// `arn:aws:apigateway:{region}:{service}:{action|path}/{rest}`; AWS_PROXY only reaches Lambda
/// (and Firehose). What is no ARN is an invalid ARN; an ARN of another shape (another service's,
/// say) lacks the path or action (recorded: LocalStack test_put_integration_validation).
fn check_aws_uri(uri: &str, kind: &str) -> AwsResult<()> {
    let parts: Vec<&str> = uri.splitn(6, ':').collect();
    let ["arn", partition, _, _, _, _] = parts.as_slice() else {
        return Err(bad_request("Invalid ARN specified in the request"));
    };
    if !partition.starts_with("aws") {
        return Err(bad_request("Invalid ARN specified in the request"));
    }
    let lacks_path_or_action = || bad_request("AWS ARN for integration must contain path or action");
    let ["arn", _, "apigateway", uri_region, service, rest] = parts.as_slice() else {
        return Err(lacks_path_or_action());
    };
    if uri_region.is_empty() || service.is_empty() {
        return Err(bad_request("Invalid ARN specified in the request"));
    }
    let (how, what) = rest.split_once('/').unwrap_or((rest, ""));
    if !matches!(how.trim(), "action" | "path") || what.is_empty() {
        return Err(lacks_path_or_action());
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
        drop_mock_uri(&mut i);
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
        if !declared.is_some_and(|r| {
            r.response_parameters
                .as_ref()
                .is_some_and(|p| p.contains_key(target))
        }) {
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
    let new = IntegrationResponse {
        status_code: code.to_owned(),
        selection_pattern: opt_str(body, "selectionPattern")?,
        response_parameters: str_map(body, "responseParameters")?,
        response_templates: given(body, "responseTemplates", str_map)?,
        content_handling: opt_str(body, "contentHandling")?,
    };
    check_content_handling(new.content_handling.as_deref())?;
    check_content_types(new.templates())?;
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
                    let templates = r.response_templates.get_or_insert_with(BTreeMap::new);
                    op.on_str_map(templates, content_type, INTEGRATION_RESPONSE_PATHS)?;
                    if templates.is_empty() {
                        r.response_templates = None;
                    }
                }
                _ => return Err(op.invalid_path(INTEGRATION_RESPONSE_PATHS)),
            }
        }
        check_content_handling(r.content_handling.as_deref())?;
        check_content_types(r.templates())?;
        check_integration_response_parameters(&r.response_parameters, m, code)?;
        let i = m.method_integration.as_mut().ok_or_else(integration_not_found)?;
        i.integration_responses.insert(code.to_owned(), r.clone());
        Ok(respond(200, &r))
    })
}

/// `DELETE .../integration/responses/{statusCode}`: a missing method reads as a missing
/// integration (recorded: LocalStack test_delete_integration_response_errors).
fn delete_integration_response(ctx: &Ctx<'_>, at: &MethodRef<'_>, code: &str) -> AwsResult<RestResponse> {
    edit_method_or(ctx, at, integration_not_found, |m| {
        let i = m.method_integration.as_mut().ok_or_else(integration_not_found)?;
        i.integration_responses
            .remove(code)
            .ok_or_else(response_not_found)?;
        Ok(RestResponse::empty(204))
    })
}
