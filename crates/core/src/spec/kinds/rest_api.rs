//! `rest_api`: an API Gateway REST API — resources built from route paths, methods,
//! integrations (AWS service actions such as `kinesis:PutRecords`, Lambda proxy, mock) with
//! their mapping templates and responses, CORS, the stage, and the API key with its usage
//! plan.
//!
//! Exports `id`, `arn`, `execution_arn`, `url` (the stage's invoke URL), `stage`,
//! `api_key_id` and `api_key` (secret).

use super::{Attribute, KindSpec, Site};
use super::Kind;
use crate::spec::check::{Checker, Str};
use crate::spec::names;
use crate::spec::text::{Reference, Text};
use crate::yaml::{Span, Spanned};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// Kinesis actions an API Gateway AWS integration can call.
pub const KINESIS_ACTIONS: &[&str] = &[
    "AddTagsToStream",
    "CreateStream",
    "DecreaseStreamRetentionPeriod",
    "DeleteStream",
    "DescribeStream",
    "DescribeStreamSummary",
    "GetRecords",
    "GetShardIterator",
    "IncreaseStreamRetentionPeriod",
    "ListShards",
    "ListStreams",
    "ListTagsForStream",
    "MergeShards",
    "PutRecord",
    "PutRecords",
    "RemoveTagsFromStream",
    "SplitShard",
    "UpdateShardCount",
];

/// `rest_api` as written in `stack.yaml`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// API name.
    pub name: Str,
    /// Description.
    pub description: Option<Str>,
    /// `REGIONAL` (default), `EDGE` or `PRIVATE`.
    pub endpoint: Option<Spanned<EndpointType>>,
    /// Stage name (default `prod`): letters, digits, `-`, `_`.
    pub stage: Option<Str>,
    /// Stage variables, available to templates as `$stageVariables`.
    #[serde(default)]
    pub stage_variables: IndexMap<Str, Str>,
    /// `required`: every route needs an `x-api-key` header with the stack's key (unless the
    /// route says `api_key_required: false`); `none` (default): no key.
    pub api_key: Option<Spanned<ApiKeyMode>>,
    /// Usage plan of the API key: throttling and quota.
    pub usage_plan: Option<Spanned<UsagePlan>>,
    /// CORS: `true` for `*` origins, or the allowed origin, headers and methods.
    pub cors: Option<Spanned<Cors>>,
    /// Role API Gateway assumes for AWS integrations: `${name.arn}` of an `iam_role`, or an ARN.
    pub credentials: Option<Str>,
    /// Media types served as binary.
    #[serde(default)]
    pub binary_media_types: Vec<Str>,
    /// The routes.
    pub routes: Vec<crate::yaml::Tolerant<Spanned<Route>>>,
    /// Tags of the API, merged over the stack's tags.
    #[serde(default)]
    pub tags: IndexMap<Str, Str>,
}

/// Endpoint types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum EndpointType {
    /// In-region endpoint.
    Regional,
    /// CloudFront-distributed endpoint.
    Edge,
    /// VPC-only endpoint.
    Private,
}

/// API key modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyMode {
    /// Routes require the stack's API key.
    Required,
    /// No API key.
    None,
}

/// A usage plan.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UsagePlan {
    /// Plan name (default `<api name>-plan`).
    pub name: Option<Str>,
    /// Steady-state request rate and burst.
    pub throttle: Option<Throttle>,
    /// Requests allowed per period.
    pub quota: Option<Quota>,
}

/// Throttling settings.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Throttle {
    /// Requests per second.
    pub rate_limit: Spanned<f64>,
    /// Burst size.
    pub burst_limit: Spanned<u32>,
}

/// A request quota.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    /// Requests per period.
    pub limit: Spanned<u32>,
    /// `DAY`, `WEEK` or `MONTH`.
    pub period: Spanned<QuotaPeriod>,
    /// Requests already counted in the first period.
    pub offset: Option<Spanned<u32>>,
}

/// Quota periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum QuotaPeriod {
    /// Per day.
    Day,
    /// Per week.
    Week,
    /// Per month.
    Month,
}

/// CORS settings: `true`, `false`, or the details.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum Cors {
    /// `true`: allow any origin with the default headers; `false`: no CORS.
    Enabled(bool),
    /// Explicit settings.
    Custom(CorsConfig),
}

/// Explicit CORS settings.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorsConfig {
    /// `Access-Control-Allow-Origin` (default `*`).
    pub allow_origin: Option<String>,
    /// `Access-Control-Allow-Headers` (default
    /// `Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token`).
    pub allow_headers: Option<String>,
    /// `Access-Control-Allow-Methods` (default: the methods of each path, plus OPTIONS).
    pub allow_methods: Option<String>,
}

// Hand-written: `untagged` would lose the positions of errors inside the mapping.
impl<'de> Deserialize<'de> for Cors {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Cors;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "`true`, `false` or a mapping of `allow_origin`, `allow_headers`, `allow_methods`",
                )
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Cors, E> {
                Ok(Cors::Enabled(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Cors, A::Error> {
                CorsConfig::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Cors::Custom)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// One method on one path.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Resource path, e.g. `/streams/{stream-name}/records`.
    pub path: Str,
    /// HTTP method.
    pub method: Spanned<HttpMethod>,
    /// Shorthand for an AWS integration with Kinesis: the action, e.g. `PutRecords`.
    pub kinesis: Option<Str>,
    /// An AWS service integration.
    pub aws: Option<Spanned<AwsIntegration>>,
    /// A Lambda proxy integration: the function's `${name.arn}` or ARN.
    pub lambda_proxy: Option<Str>,
    /// A mock integration (`mock: true`), answered by API Gateway itself.
    #[serde(default)]
    pub mock: bool,
    /// Overrides the API's `api_key` for this route.
    pub api_key_required: Option<bool>,
    /// Role for this route's AWS integration (default: the API's `credentials`).
    pub credentials: Option<Str>,
    /// Method request parameters other than the path's: `querystring.<name>` or
    /// `header.<name>`, each `true` when required.
    #[serde(default)]
    pub parameters: IndexMap<Str, bool>,
    /// Integration request parameters: `integration.request.<header|querystring|path>.<name>`
    /// → `method.request.<...>.<name>` or a quoted static value (`"'application/json'"`).
    /// Kinesis integrations get `Content-Type: 'application/x-amz-json-1.1'` by default.
    #[serde(default)]
    pub request_parameters: IndexMap<Str, Str>,
    /// Shorthand for `request_templates: { application/json: ... }`.
    pub template: Option<Str>,
    /// Mapping templates by request content type.
    #[serde(default)]
    pub request_templates: IndexMap<Str, Str>,
    /// `WHEN_NO_MATCH` (AWS's default), `WHEN_NO_TEMPLATES` (default here when templates
    /// exist) or `NEVER`.
    pub passthrough: Option<Spanned<Passthrough>>,
    /// Integration responses, chosen by matching `selection_pattern` against the backend's
    /// HTTP status (AWS integrations) or error message (Lambda). Exactly one has no pattern:
    /// the default. Default: a single `200`.
    #[serde(default)]
    pub integration_responses: Vec<Spanned<IntegrationResponse>>,
    /// Method responses (default: one per integration response status).
    #[serde(default)]
    pub method_responses: Vec<Spanned<MethodResponse>>,
    /// Integration timeout in milliseconds (50–29000; default 29000).
    pub timeout_ms: Option<Spanned<u32>>,
}

/// HTTP methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// GET
    Get,
    /// PUT
    Put,
    /// POST
    Post,
    /// DELETE
    Delete,
    /// PATCH
    Patch,
    /// HEAD
    Head,
    /// OPTIONS
    Options,
    /// Any method.
    Any,
}

impl HttpMethod {
    /// As API Gateway spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Put => "PUT",
            HttpMethod::Post => "POST",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Head => "HEAD",
            HttpMethod::Options => "OPTIONS",
            HttpMethod::Any => "ANY",
        }
    }
}

/// An AWS service integration.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsIntegration {
    /// Service, e.g. `kinesis`.
    pub service: String,
    /// Action, e.g. `PutRecords`.
    pub action: String,
    /// Region of the service (default: the stack's).
    pub region: Option<String>,
}

/// Passthrough behaviours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Passthrough {
    /// Pass bodies of unmatched content types through.
    WhenNoMatch,
    /// Pass through only when no template is defined; otherwise 415.
    WhenNoTemplates,
    /// Never pass through: 415 for unmatched content types.
    Never,
}

/// An integration response.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationResponse {
    /// Regular expression matched against the backend status (or Lambda error message);
    /// omit for the default response.
    pub selection_pattern: Option<Str>,
    /// Status returned to the client.
    pub status: Spanned<u16>,
    /// Response templates by content type.
    #[serde(default)]
    pub templates: IndexMap<Str, Str>,
    /// Response headers: header name → `integration.response.header.<name>` or a quoted
    /// static value.
    #[serde(default)]
    pub headers: IndexMap<Str, Str>,
}

/// A method response.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MethodResponse {
    /// Status.
    pub status: Spanned<u16>,
    /// Declared response headers (name → required).
    #[serde(default)]
    pub headers: IndexMap<Str, bool>,
}

/// A checked API.
#[derive(Debug, Clone, PartialEq)]
pub struct RestApi {
    /// AWS name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Endpoint type.
    pub endpoint: EndpointType,
    /// Stage name.
    pub stage: String,
    /// Stage variables.
    pub stage_variables: IndexMap<String, String>,
    /// Whether routes require the API key by default.
    pub api_key_required: bool,
    /// The usage plan (always present when an API key is required).
    pub usage_plan: Option<CheckedUsagePlan>,
    /// CORS settings, when enabled.
    pub cors: Option<CorsConfig>,
    /// Integration credentials.
    pub credentials: Option<Text>,
    /// Binary media types.
    pub binary_media_types: Vec<String>,
    /// Routes, in file order.
    pub routes: Vec<CheckedRoute>,
    /// Resource tags.
    pub tags: IndexMap<String, String>,
}

/// A checked usage plan.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedUsagePlan {
    /// Name.
    pub name: String,
    /// Rate (requests/s) and burst.
    pub throttle: Option<(f64, u32)>,
    /// Limit, period, offset.
    pub quota: Option<(u32, QuotaPeriod, u32)>,
}

/// A checked route.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedRoute {
    /// Resource path.
    pub path: String,
    /// Method.
    pub method: HttpMethod,
    /// Path parameter names, in order.
    pub path_params: Vec<String>,
    /// Integration.
    pub integration: Integration,
    /// Whether the API key is required.
    pub api_key_required: bool,
    /// Integration credentials (AWS integrations).
    pub credentials: Option<Text>,
    /// Method request parameters (`method.request.<where>.<name>` → required).
    pub method_parameters: IndexMap<String, bool>,
    /// Integration request parameters.
    pub request_parameters: IndexMap<String, String>,
    /// Mapping templates by content type.
    pub request_templates: IndexMap<String, MappingTemplate>,
    /// Passthrough behaviour.
    pub passthrough: Passthrough,
    /// Integration responses.
    pub integration_responses: Vec<CheckedIntegrationResponse>,
    /// Method responses.
    pub method_responses: Vec<CheckedMethodResponse>,
    /// Integration timeout.
    pub timeout_ms: u32,
    /// Where the route is written.
    pub span: Span,
}

impl CheckedRoute {
    /// `METHOD /path`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method.as_str(), self.path)
    }
}

/// A mapping template with where it was written, so template errors map to file positions.
#[derive(Debug, Clone, PartialEq)]
pub struct MappingTemplate {
    /// The template (with `${resource.attribute}` references split out).
    pub text: Text,
    /// The template's span in the stack file.
    pub span: Span,
    /// The template source as written.
    pub source: String,
}

/// A checked integration.
#[derive(Debug, Clone, PartialEq)]
pub enum Integration {
    /// `arn:aws:apigateway:{region}:{service}:action/{action}`, called with POST.
    Aws {
        /// Service.
        service: String,
        /// Action.
        action: String,
        /// Region override.
        region: Option<String>,
    },
    /// Lambda proxy (`AWS_PROXY`).
    LambdaProxy {
        /// Function ARN.
        function: Text,
    },
    /// Mock.
    Mock,
}

/// A checked integration response.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedIntegrationResponse {
    /// Selection pattern; `None` for the default response.
    pub selection_pattern: Option<String>,
    /// Status.
    pub status: u16,
    /// Response templates by content type.
    pub templates: IndexMap<String, MappingTemplate>,
    /// Header mappings (`method.response.header.<name>` → expression).
    pub headers: IndexMap<String, String>,
}

/// A checked method response.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedMethodResponse {
    /// Status.
    pub status: u16,
    /// Declared headers (`method.response.header.<name>` → required).
    pub headers: IndexMap<String, bool>,
}

/// The default `Access-Control-Allow-Headers`.
pub const DEFAULT_CORS_HEADERS: &str = "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token";

impl KindSpec for RestApi {
    type Raw = Spec;

    const ATTRIBUTES: &'static [Attribute] = &[
        Attribute::output("url"),
        Attribute::secret("api_key"),
        Attribute::output("id"),
        Attribute::reference("arn"),
        Attribute::reference("execution_arn"),
        Attribute::reference("stage"),
        Attribute::reference("api_key_id"),
    ];

    fn validate(raw: &Spec, _site: &Site<'_>, cx: &mut Checker<'_>) -> RestApi {
        let name = cx.name(&raw.name, &names::REST_API);
        let stage = raw
            .stage
            .as_ref()
            .map_or_else(|| "prod".to_owned(), |s| cx.name(s, &names::STAGE));
        let api_key_required = raw
            .api_key
            .as_ref()
            .is_some_and(|k| k.value == ApiKeyMode::Required);
        let usage_plan = match (&raw.usage_plan, api_key_required) {
            (Some(p), false) => {
                cx.error_hint(
                    p.pos(),
                    "a usage plan only applies to requests with an API key",
                    "add `api_key: required`, or remove `usage_plan`",
                );
                None
            }
            (Some(p), true) => Some(check_usage_plan(&p.value, &name, cx)),
            (None, true) => Some(CheckedUsagePlan {
                name: format!("{name}-plan"),
                throttle: None,
                quota: None,
            }),
            (None, false) => None,
        };
        let cors = match raw.cors.as_ref().map(|c| &c.value) {
            None | Some(Cors::Enabled(false)) => None,
            Some(Cors::Enabled(true)) => Some(CorsConfig {
                allow_origin: None,
                allow_headers: None,
                allow_methods: None,
            }),
            Some(Cors::Custom(c)) => Some(c.clone()),
        };
        let credentials = raw
            .credentials
            .as_ref()
            .map(|c| cx.arn_of(c, Kind::IamRole, "credentials"));
        let mut routes: Vec<CheckedRoute> = Vec::new();
        for route in raw.routes.iter().filter_map(crate::yaml::Tolerant::as_ref) {
            let Some(checked) = check_route(route, api_key_required, credentials.as_ref(), cx) else {
                continue;
            };
            if let Some(first) = routes
                .iter()
                .find(|r| r.method == checked.method && r.path == checked.path)
            {
                cx.error(
                    route.pos(),
                    format!(
                        "duplicate route `{}` (first declared at line {})",
                        checked.key(),
                        first.span.start.line
                    ),
                );
                continue;
            }
            routes.push(checked);
        }
        if raw.routes.is_empty() {
            cx.error_hint(
                raw.name.pos(),
                "a REST API needs at least one route",
                "API Gateway refuses to deploy an API without methods",
            );
        }
        RestApi {
            name,
            description: raw.description.as_ref().map(|d| d.value.clone()),
            endpoint: raw.endpoint.as_ref().map_or(EndpointType::Regional, |e| e.value),
            stage,
            stage_variables: raw
                .stage_variables
                .iter()
                .map(|(k, v)| {
                    if !k.value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                        cx.error(
                            k.pos(),
                            format!(
                                "stage variable name `{}` may use only letters, digits and `_`",
                                k.value
                            ),
                        );
                    }
                    (k.value.clone(), v.value.clone())
                })
                .collect(),
            api_key_required,
            usage_plan,
            cors,
            credentials,
            binary_media_types: raw.binary_media_types.iter().map(|b| b.value.clone()).collect(),
            routes,
            tags: cx.tags(&raw.tags),
        }
    }

    fn aws_name(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn references(&self) -> Vec<Reference> {
        let mut refs: Vec<Reference> = self
            .credentials
            .iter()
            .flat_map(Text::references)
            .cloned()
            .collect();
        for r in &self.routes {
            refs.extend(r.credentials.iter().flat_map(Text::references).cloned());
            if let Integration::LambdaProxy { function } = &r.integration {
                refs.extend(function.references().cloned());
            }
            refs.extend(
                r.request_templates
                    .values()
                    .chain(r.integration_responses.iter().flat_map(|i| i.templates.values()))
                    .flat_map(|t| t.text.references())
                    .cloned(),
            );
        }
        refs
    }

    fn static_attribute(&self, attribute: &str) -> Option<String> {
        (attribute == "stage").then(|| self.stage.clone())
    }
}

fn check_usage_plan(p: &UsagePlan, api: &str, cx: &mut Checker<'_>) -> CheckedUsagePlan {
    let throttle = p.throttle.as_ref().map(|t| {
        if t.rate_limit.value.is_nan() || t.rate_limit.value <= 0.0 {
            cx.error(t.rate_limit.pos(), "`throttle.rate_limit` must be positive");
        }
        (
            t.rate_limit.value,
            cx.range(&t.burst_limit, 0, 5000, "`throttle.burst_limit`"),
        )
    });
    let quota = p.quota.as_ref().map(|q| {
        if q.limit.value == 0 {
            cx.error(q.limit.pos(), "`quota.limit` must be at least 1");
        }
        let offset = q.offset.as_ref().map_or(0, |o| {
            if o.value >= q.limit.value {
                cx.error(o.pos(), "`quota.offset` must be below `quota.limit`");
            }
            o.value
        });
        (q.limit.value, q.period.value, offset)
    });
    CheckedUsagePlan {
        name: p
            .name
            .as_ref()
            .map_or_else(|| format!("{api}-plan"), |n| n.value.clone()),
        throttle,
        quota,
    }
}

/// Path parameter names of a resource path, or what is wrong with the path.
pub fn parse_path(path: &str) -> Result<Vec<String>, String> {
    if path == "/" {
        return Ok(Vec::new());
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!("route path `{path}` must start with `/`"));
    };
    let mut params = Vec::new();
    for segment in rest.split('/') {
        if segment.is_empty() {
            return Err(format!(
                "route path `{path}` has an empty segment (`//` or a trailing `/`)"
            ));
        }
        if let Some(inner) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let name = inner.strip_suffix('+').unwrap_or(inner);
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(format!(
                    "path parameter `{{{inner}}}` in `{path}` must be a name of letters, digits, `-`, `_`, `.`"
                ));
            }
            if params.iter().any(|p| p == name) {
                return Err(format!("path parameter `{{{name}}}` appears twice in `{path}`"));
            }
            params.push(name.to_owned());
        } else if !segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@' | '~'))
        {
            return Err(format!(
                "path segment `{segment}` in `{path}` has characters API Gateway does not allow"
            ));
        }
    }
    Ok(params)
}

fn check_route(
    route: &Spanned<Route>,
    api_key_default: bool,
    api_credentials: Option<&Text>,
    cx: &mut Checker<'_>,
) -> Option<CheckedRoute> {
    let r = &route.value;
    let path_params = match parse_path(&r.path.value) {
        Ok(p) => p,
        Err(problem) => {
            cx.error(r.path.pos(), problem);
            return None;
        }
    };
    let chosen: Vec<&str> = [
        ("kinesis", r.kinesis.is_some()),
        ("aws", r.aws.is_some()),
        ("lambda_proxy", r.lambda_proxy.is_some()),
        ("mock", r.mock),
    ]
    .into_iter()
    .filter_map(|(n, set)| set.then_some(n))
    .collect();
    let integration = match chosen.as_slice() {
        ["kinesis"] => {
            let action = r.kinesis.as_ref().map(|k| k.value.clone()).unwrap_or_default();
            check_kinesis_action(&action, r.kinesis.as_ref().map_or(route.pos(), Spanned::pos), cx);
            Integration::Aws {
                service: "kinesis".into(),
                action,
                region: None,
            }
        }
        ["aws"] => {
            let aws = r.aws.as_ref().map(|a| a.value.clone()).unwrap_or(AwsIntegration {
                service: String::new(),
                action: String::new(),
                region: None,
            });
            if aws.service == "kinesis" {
                check_kinesis_action(&aws.action, r.aws.as_ref().map_or(route.pos(), Spanned::pos), cx);
            }
            if let Some(region) = &aws.region
                && !names::is_region(region)
            {
                cx.error(
                    r.aws.as_ref().map_or(route.pos(), Spanned::pos),
                    format!("`{region}` is not an AWS region"),
                );
            }
            Integration::Aws {
                service: aws.service,
                action: aws.action,
                region: aws.region,
            }
        }
        ["lambda_proxy"] => Integration::LambdaProxy {
            function: r
                .lambda_proxy
                .as_ref()
                .map(|f| cx.arn_of(f, Kind::LambdaFunction, "lambda_proxy"))
                .unwrap_or_default(),
        },
        ["mock"] => Integration::Mock,
        [] => {
            cx.error_hint(
                route.pos(),
                format!("route `{} {}` has no integration", r.method.value.as_str(), r.path.value),
                "add one of `kinesis: <Action>`, `aws: {service, action}`, `lambda_proxy: ${fn.arn}`, `mock: true`",
            );
            return None;
        }
        many => {
            cx.error(
                route.pos(),
                format!(
                    "route `{} {}` has several integrations ({}); choose one",
                    r.method.value.as_str(),
                    r.path.value,
                    many.iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            return None;
        }
    };
    let credentials = match (&r.credentials, &integration) {
        (Some(c), _) => Some(cx.arn_of(c, Kind::IamRole, "credentials")),
        (None, Integration::Aws { .. }) => {
            if api_credentials.is_none() {
                cx.error_hint(
                    route.pos(),
                    format!("route `{} {}` calls an AWS service but has no `credentials` role", r.method.value.as_str(), r.path.value),
                    "set `credentials: ${role.arn}` on the API (or the route) to a role that trusts `apigateway.amazonaws.com`",
                );
            }
            api_credentials.cloned()
        }
        (None, _) => None,
    };

    let mut method_parameters: IndexMap<String, bool> = path_params
        .iter()
        .map(|p| (format!("method.request.path.{p}"), true))
        .collect();
    for (k, required) in &r.parameters {
        match k.value.split_once('.') {
            Some(("querystring" | "header", name)) if !name.is_empty() => {
                method_parameters.insert(format!("method.request.{}", k.value), *required);
            }
            _ => cx.error_hint(
                k.pos(),
                format!(
                    "method parameter `{}` must be `querystring.<name>` or `header.<name>`",
                    k.value
                ),
                "path parameters come from `{name}` segments of the path",
            ),
        }
    }
    let mut request_parameters = IndexMap::new();
    for (k, v) in &r.request_parameters {
        let target_ok = k
            .value
            .strip_prefix("integration.request.")
            .and_then(|rest| rest.split_once('.'))
            .is_some_and(|(loc, name)| matches!(loc, "header" | "querystring" | "path") && !name.is_empty());
        if !target_ok {
            cx.error(
                k.pos(),
                format!(
                    "`{}` must be `integration.request.<header|querystring|path>.<name>`",
                    k.value
                ),
            );
        }
        let source = &v.value;
        let static_value = source.len() >= 2 && source.starts_with('\'') && source.ends_with('\'');
        if !static_value {
            if let Some(m) = source.strip_prefix("method.request.") {
                let key = format!("method.request.{m}");
                if !method_parameters.contains_key(&key) {
                    let hint = if m.starts_with("path.") {
                        format!("the path `{}` has parameters {:?}", r.path.value, path_params)
                    } else {
                        format!("declare it under `parameters:` as `{m}: false`")
                    };
                    cx.error_hint(
                        v.pos(),
                        format!("`{source}` is not a parameter of this method"),
                        hint,
                    );
                }
            } else if !(source.starts_with("context.") || source.starts_with("stageVariables.")) {
                cx.error_hint(
                    v.pos(),
                    format!("`{source}` is not a valid integration request parameter source"),
                    "use `method.request.<where>.<name>`, `context.<var>`, `stageVariables.<name>` or a quoted static value such as `'application/json'`",
                );
            }
        }
        request_parameters.insert(k.value.clone(), source.clone());
    }
    if matches!(&integration, Integration::Aws { service, .. } if service == "kinesis") {
        // Kinesis refuses any other content type; the workshop sets it by hand on every method.
        request_parameters
            .entry("integration.request.header.Content-Type".into())
            .or_insert_with(|| "'application/x-amz-json-1.1'".into());
    }

    let mut request_templates = IndexMap::new();
    if let Some(t) = &r.template {
        request_templates.insert("application/json".to_owned(), mapping_template(t, cx));
    }
    for (ct, t) in &r.request_templates {
        if !ct.value.contains('/') {
            cx.error(ct.pos(), format!("`{}` is not a content type", ct.value));
        }
        if request_templates.contains_key(&ct.value) {
            cx.error_hint(
                ct.pos(),
                format!("a template for `{}` is given twice", ct.value),
                "`template:` is the `application/json` template",
            );
        }
        request_templates.insert(ct.value.clone(), mapping_template(t, cx));
    }
    if matches!(integration, Integration::LambdaProxy { .. }) && !request_templates.is_empty() {
        cx.error(
            route.pos(),
            "a Lambda proxy integration ignores mapping templates; remove them",
        );
    }
    let passthrough = r.passthrough.as_ref().map_or(
        if request_templates.is_empty() {
            Passthrough::WhenNoMatch
        } else {
            Passthrough::WhenNoTemplates
        },
        |p| p.value,
    );

    let integration_responses = check_integration_responses(r, route.pos(), cx);
    let method_responses = if r.method_responses.is_empty() {
        let mut derived: Vec<CheckedMethodResponse> = Vec::new();
        for ir in &integration_responses {
            if !derived.iter().any(|m| m.status == ir.status) {
                derived.push(CheckedMethodResponse {
                    status: ir.status,
                    headers: ir.headers.keys().map(|h| (h.clone(), false)).collect(),
                });
            }
        }
        derived
    } else {
        let declared: Vec<CheckedMethodResponse> = r
            .method_responses
            .iter()
            .map(|m| CheckedMethodResponse {
                status: cx.range(&m.value.status, 100, 599, "`status`"),
                headers: m
                    .value
                    .headers
                    .iter()
                    .map(|(h, req)| (format!("method.response.header.{}", h.value), *req))
                    .collect(),
            })
            .collect();
        for (ir, raw) in integration_responses.iter().zip(&r.integration_responses) {
            if !declared.iter().any(|m| m.status == ir.status) {
                cx.error(
                    raw.value.status.pos(),
                    format!(
                        "status {} has no method response; add it to `method_responses`",
                        ir.status
                    ),
                );
            }
        }
        declared
    };

    Some(CheckedRoute {
        path: r.path.value.clone(),
        method: r.method.value,
        path_params,
        integration,
        api_key_required: r.api_key_required.unwrap_or(api_key_default),
        credentials,
        method_parameters,
        request_parameters,
        request_templates,
        passthrough,
        integration_responses,
        method_responses,
        timeout_ms: r
            .timeout_ms
            .as_ref()
            .map_or(29_000, |t| cx.range(t, 50, 29_000, "`timeout_ms`")),
        span: route.span,
    })
}

fn mapping_template(t: &Str, cx: &mut Checker<'_>) -> MappingTemplate {
    if t.value.len() > 300 * 1024 {
        cx.error(t.pos(), "mapping templates are limited to 300 KB");
    }
    MappingTemplate {
        text: cx.template(t),
        span: t.span,
        source: t.value.clone(),
    }
}

fn check_kinesis_action(action: &str, pos: crate::yaml::Pos, cx: &mut Checker<'_>) {
    if !KINESIS_ACTIONS.contains(&action) {
        let hint = crate::yaml::de::closest(action, KINESIS_ACTIONS.iter().copied()).map_or_else(
            || format!("Kinesis actions: {}", KINESIS_ACTIONS.join(", ")),
            |c| format!("did you mean `{c}`?"),
        );
        cx.error_hint(pos, format!("`{action}` is not a Kinesis action"), hint);
    }
}

fn check_integration_responses(
    r: &Route,
    route_pos: crate::yaml::Pos,
    cx: &mut Checker<'_>,
) -> Vec<CheckedIntegrationResponse> {
    if r.integration_responses.is_empty() {
        return vec![CheckedIntegrationResponse {
            selection_pattern: None,
            status: 200,
            templates: IndexMap::new(),
            headers: IndexMap::new(),
        }];
    }
    let defaults = r
        .integration_responses
        .iter()
        .filter(|i| i.value.selection_pattern.is_none())
        .count();
    if defaults != 1 {
        cx.error_hint(
            route_pos,
            format!("a route needs exactly one default integration response (without `selection_pattern`); found {defaults}"),
            "API Gateway uses the default response when no pattern matches",
        );
    }
    r.integration_responses
        .iter()
        .map(|i| {
            let i = &i.value;
            if let Some(p) = &i.selection_pattern
                && let Err(e) = regex::Regex::new(&format!("^(?:{})$", p.value))
            {
                cx.error(
                    p.pos(),
                    format!("`selection_pattern` is not a valid regular expression: {e}"),
                );
            }
            CheckedIntegrationResponse {
                selection_pattern: i.selection_pattern.as_ref().map(|p| p.value.clone()),
                status: cx.range(&i.status, 100, 599, "`status`"),
                templates: i
                    .templates
                    .iter()
                    .map(|(k, v)| (k.value.clone(), mapping_template(v, cx)))
                    .collect(),
                headers: i
                    .headers
                    .iter()
                    .map(|(k, v)| (format!("method.response.header.{}", k.value), v.value.clone()))
                    .collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_path;

    #[test]
    fn paths_and_parameters() {
        assert_eq!(
            parse_path("/streams/{stream-name}/records"),
            Ok(vec!["stream-name".to_owned()])
        );
        assert_eq!(parse_path("/"), Ok(vec![]));
        assert!(parse_path("streams").is_err());
        assert!(parse_path("/a//b").is_err());
        assert!(parse_path("/a/{x}/{x}").is_err());
        assert_eq!(parse_path("/{proxy+}"), Ok(vec!["proxy".to_owned()]));
    }
}
