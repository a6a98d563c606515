//! `rest_api`: an API Gateway REST API with its resources, methods, integrations, responses,
//! CORS preflight methods, the stage (through deployments), and the API key in its usage plan.
//!
//! # Finding it
//! The API is found by name (GetRestApis); among several with that name, the one carrying our
//! ownership tags wins. Its sub-objects are found as follows:
//! - the stage by the stack's stage name (GetStages: GetStage's "Invalid stage identifier
//!   specified" is a message the call wrapper retries as IAM propagation, so a missing stage is
//!   read from the list instead);
//! - the usage plan and the API key by our ownership tags (same stack, same logical resource):
//!   the plan among GetUsagePlans (preferring the declared name), the key among the keys
//!   named `<api name>-key` (GetApiKeys `nameQuery`). Plans and keys without our tags are
//!   never changed or deleted.
//!
//! # Fields
//! `name`, `description` (when declared), `endpoint`, `binary_media_types`, `tags.<key>`,
//! `stage`, `stage.variables.<name>`, `api_key_required`, `usage_plan.{name, api_stages,
//! api_key, throttle.rate_limit, throttle.burst_limit, quota.limit, quota.period,
//! quota.offset}`, one `route.<METHOD> <path>` per method (its whole definition as canonical
//! JSON: method settings, integration, integration and method responses; the CORS `OPTIONS`
//! methods included) and `deployment`: a hash of the definition the stage should serve.
//! Observed, `deployment` is the hash written into the description of the deployment the stage
//! points at (`personalize-stack:<hash>`), so an edit of a route shows both the route's change
//! and `deployment: <old> → <new>`: API Gateway serves nothing new until a new deployment
//! (aws-facts §0 fact 6).
//!
//! # Converging
//! Create makes the bare API and then runs the same convergence as update, which compares the
//! live API with the stack afresh and fixes only what differs: a half-built API (a create killed
//! part-way) is observed as ours next run and completed. Order (DESIGN.md §5): API settings →
//! undeclared methods and resources deleted → missing resources → methods, integrations,
//! responses → a new deployment when the hash differs (this creates the stage) → stage variables
//! → usage plan (needs the stage) → API key → the key in the plan → stray stages deleted.

use crate::Aws;
use aws_sdk_apigateway::types::{
    ApiKey, ApiStage, EndpointConfiguration, EndpointType as SdkEndpointType, IntegrationType,
    Method as SdkMethod, MethodResponse as SdkMethodResponse, Op, PatchOperation, QuotaPeriodType,
    QuotaSettings, Resource as SdkResource, RestApi as SdkRestApi, Stage, ThrottleSettings, UsagePlan,
};
use personalize_stack_core::engine::{
    Attrs, Desired, ErrorKind, FieldChange, Fields, Observed, ProviderError, Resolver,
};
use personalize_stack_core::spec::Resource;
use personalize_stack_core::spec::kinds::rest_api::{
    CheckedRoute, DEFAULT_CORS_HEADERS, EndpointType, HttpMethod, Integration, Passthrough, QuotaPeriod,
    RestApi,
};
use personalize_stack_core::spec::text::Text;
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Written before the definition's hash in each deployment's description.
const DEPLOYMENT_PREFIX: &str = "personalize-stack:";

/// The request template of a CORS preflight's mock integration, as the console writes it.
const CORS_MOCK_TEMPLATE: &str = "{\"statusCode\": 200}";

/// Response header a non-proxy method maps for browsers when CORS is on.
const ALLOW_ORIGIN: &str = "method.response.header.Access-Control-Allow-Origin";

// ---------------------------------------------------------------------------------------------
// The definition: what each method should be, comparable between the stack and AWS.

/// One method, as compared: the same shape is built from the stack and from GetResources, and
/// its JSON (maps are sorted) is the `route.<METHOD> <path>` field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
struct RouteDef {
    authorization: String,
    api_key_required: bool,
    method_parameters: BTreeMap<String, bool>,
    integration: Option<IntegrationDef>,
    integration_responses: BTreeMap<String, IntegrationResponseDef>,
    method_responses: BTreeMap<String, BTreeMap<String, bool>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
struct IntegrationDef {
    #[serde(rename = "type")]
    kind: String,
    /// The back end's method (POST for AWS services and Lambda); none for MOCK.
    http_method: Option<String>,
    /// None for MOCK.
    uri: Option<String>,
    credentials: Option<String>,
    request_parameters: BTreeMap<String, String>,
    /// Empty templates are left out on both sides: AWS may return them as null.
    request_templates: BTreeMap<String, String>,
    passthrough: String,
    timeout_ms: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
struct IntegrationResponseDef {
    selection_pattern: Option<String>,
    templates: BTreeMap<String, String>,
    headers: BTreeMap<String, String>,
}

/// `(path, METHOD)`.
type RouteKey = (String, String);

/// Every method the API should have and the hash of what the stage should serve.
struct Definition {
    routes: BTreeMap<RouteKey, RouteDef>,
    hash: String,
}

fn route_field(path: &str, method: &str) -> String {
    format!("route.{method} {path}")
}

fn canonical(def: &RouteDef) -> String {
    serde_json::to_string(def).unwrap_or_default()
}

fn passthrough_str(p: Passthrough) -> &'static str {
    match p {
        Passthrough::WhenNoMatch => "WHEN_NO_MATCH",
        Passthrough::WhenNoTemplates => "WHEN_NO_TEMPLATES",
        Passthrough::Never => "NEVER",
    }
}

fn endpoint_str(e: EndpointType) -> &'static str {
    match e {
        EndpointType::Regional => "REGIONAL",
        EndpointType::Edge => "EDGE",
        EndpointType::Private => "PRIVATE",
    }
}

fn period_str(p: QuotaPeriod) -> &'static str {
    match p {
        QuotaPeriod::Day => "DAY",
        QuotaPeriod::Week => "WEEK",
        QuotaPeriod::Month => "MONTH",
    }
}

/// The templates worth comparing: AWS may render an empty template as null (dropped by the
/// SDK), so empty ones count as absent on both sides.
fn templates<'a>(items: impl IntoIterator<Item = (&'a String, String)>) -> BTreeMap<String, String> {
    items
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.clone(), v))
        .collect()
}

/// The stack's definition of every method, references resolved by `resolve`.
fn definition<F>(aws: &Aws, spec: &RestApi, resolve: F) -> Result<Definition, ProviderError>
where
    F: Fn(&Text) -> Result<String, ProviderError>,
{
    let cors_origin = spec
        .cors
        .as_ref()
        .map(|c| c.allow_origin.clone().unwrap_or_else(|| "*".to_owned()));
    let mut routes = BTreeMap::new();
    for route in &spec.routes {
        let def = route_def(aws, route, cors_origin.as_deref(), &resolve)?;
        routes.insert((route.path.clone(), route.method.as_str().to_owned()), def);
    }
    if let Some(cors) = &spec.cors {
        // The console's "Enable CORS": an OPTIONS mock method on every path with routes,
        // unless the stack declares its own OPTIONS there.
        let mut methods_by_path: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for route in &spec.routes {
            methods_by_path
                .entry(route.path.as_str())
                .or_default()
                .insert(route.method.as_str());
        }
        for (path, methods) in methods_by_path {
            if methods.contains(HttpMethod::Options.as_str()) {
                continue;
            }
            let allow_methods = cors.allow_methods.clone().unwrap_or_else(|| {
                let mut all: BTreeSet<&str> = if methods.contains("ANY") {
                    ["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"].into()
                } else {
                    methods.clone()
                };
                all.insert("OPTIONS");
                all.into_iter().collect::<Vec<_>>().join(",")
            });
            let values = [
                (
                    "method.response.header.Access-Control-Allow-Headers",
                    cors.allow_headers.as_deref().unwrap_or(DEFAULT_CORS_HEADERS),
                ),
                (
                    "method.response.header.Access-Control-Allow-Methods",
                    &allow_methods,
                ),
                (ALLOW_ORIGIN, cors.allow_origin.as_deref().unwrap_or("*")),
            ];
            let def = RouteDef {
                authorization: "NONE".into(),
                api_key_required: false,
                method_parameters: BTreeMap::new(),
                integration: Some(IntegrationDef {
                    kind: "MOCK".into(),
                    request_templates: [("application/json".to_owned(), CORS_MOCK_TEMPLATE.to_owned())]
                        .into(),
                    passthrough: "WHEN_NO_MATCH".into(),
                    timeout_ms: 29_000,
                    ..IntegrationDef::default()
                }),
                integration_responses: [(
                    "200".to_owned(),
                    IntegrationResponseDef {
                        selection_pattern: None,
                        templates: BTreeMap::new(),
                        headers: values
                            .iter()
                            .map(|(h, v)| ((*h).to_owned(), format!("'{v}'")))
                            .collect(),
                    },
                )]
                .into(),
                method_responses: [(
                    "200".to_owned(),
                    values.iter().map(|(h, _)| ((*h).to_owned(), false)).collect(),
                )]
                .into(),
            };
            routes.insert((path.to_owned(), "OPTIONS".to_owned()), def);
        }
    }
    let mut binary: Vec<&String> = spec.binary_media_types.iter().collect();
    binary.sort();
    let deployed = serde_json::json!({
        "routes": routes.iter().map(|((p, m), d)| (route_field(p, m), canonical(d))).collect::<BTreeMap<_, _>>(),
        "binary_media_types": binary,
    });
    let digest = Sha256::digest(deployed.to_string().as_bytes());
    let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    Ok(Definition { routes, hash })
}

fn route_def<F>(
    aws: &Aws,
    route: &CheckedRoute,
    cors_origin: Option<&str>,
    resolve: &F,
) -> Result<RouteDef, ProviderError>
where
    F: Fn(&Text) -> Result<String, ProviderError>,
{
    let (kind, http_method, uri, maps_cors) = match &route.integration {
        Integration::Aws {
            service,
            action,
            region,
        } => (
            "AWS",
            Some("POST".to_owned()),
            Some(format!(
                "arn:aws:apigateway:{}:{service}:action/{action}",
                region.as_deref().unwrap_or(&aws.region)
            )),
            true,
        ),
        Integration::LambdaProxy { function } => (
            "AWS_PROXY",
            Some("POST".to_owned()),
            Some(format!(
                "arn:aws:apigateway:{}:lambda:path/2015-03-31/functions/{}/invocations",
                aws.region,
                resolve(function)?
            )),
            // A proxy integration's response comes from the function: it sets its own headers.
            false,
        ),
        Integration::Mock => ("MOCK", None, None, true),
    };
    let mut request_templates = Vec::new();
    for (ct, t) in &route.request_templates {
        request_templates.push((ct, resolve(&t.text)?));
    }
    let mut integration_responses = BTreeMap::new();
    for ir in &route.integration_responses {
        let mut resolved = Vec::new();
        for (ct, t) in &ir.templates {
            resolved.push((ct, resolve(&t.text)?));
        }
        let mut headers: BTreeMap<String, String> =
            ir.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        if let (Some(origin), true) = (cors_origin, maps_cors) {
            headers
                .entry(ALLOW_ORIGIN.to_owned())
                .or_insert_with(|| format!("'{origin}'"));
        }
        integration_responses.insert(
            ir.status.to_string(),
            IntegrationResponseDef {
                selection_pattern: ir.selection_pattern.clone().filter(|p| !p.is_empty()),
                templates: templates(resolved),
                headers,
            },
        );
    }
    let method_responses = route
        .method_responses
        .iter()
        .map(|m| {
            let mut headers: BTreeMap<String, bool> =
                m.headers.iter().map(|(k, v)| (k.clone(), *v)).collect();
            if cors_origin.is_some() && maps_cors {
                headers.entry(ALLOW_ORIGIN.to_owned()).or_insert(false);
            }
            (m.status.to_string(), headers)
        })
        .collect();
    Ok(RouteDef {
        authorization: "NONE".into(),
        api_key_required: route.api_key_required,
        method_parameters: route
            .method_parameters
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect(),
        integration: Some(IntegrationDef {
            kind: kind.into(),
            http_method,
            uri,
            credentials: route.credentials.as_ref().map(resolve).transpose()?,
            request_parameters: route
                .request_parameters
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            request_templates: templates(request_templates),
            passthrough: passthrough_str(route.passthrough).into(),
            timeout_ms: i64::from(route.timeout_ms),
        }),
        integration_responses,
        method_responses,
    })
}

/// A method as AWS shows it (from GetResources `embed=methods` or GetMethod), in the
/// comparable shape.
fn observed_def(
    authorization: Option<&str>,
    api_key_required: Option<bool>,
    request_parameters: Option<&HashMap<String, bool>>,
    method_responses: Option<&HashMap<String, SdkMethodResponse>>,
    integration: Option<&aws_sdk_apigateway::types::Integration>,
) -> RouteDef {
    let sorted_bools = |m: Option<&HashMap<String, bool>>| -> BTreeMap<String, bool> {
        m.map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default()
    };
    let sorted_strings = |m: Option<&HashMap<String, String>>| -> BTreeMap<String, String> {
        m.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    };
    let integration_def = integration.map(|i| {
        let kind = i.r#type().map(|t| t.as_str().to_owned()).unwrap_or_default();
        let mock = kind == "MOCK";
        IntegrationDef {
            http_method: i.http_method().filter(|_| !mock).map(str::to_owned),
            uri: i.uri().filter(|_| !mock).map(str::to_owned),
            kind,
            credentials: i.credentials().map(str::to_owned),
            request_parameters: sorted_strings(i.request_parameters()),
            request_templates: templates(
                i.request_templates()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k, v.clone())),
            ),
            passthrough: i.passthrough_behavior().unwrap_or("WHEN_NO_MATCH").to_owned(),
            timeout_ms: i64::from(i.timeout_in_millis()),
        }
    });
    let integration_responses = integration
        .and_then(|i| i.integration_responses())
        .map(|rs| {
            rs.iter()
                .map(|(status, r)| {
                    (
                        status.clone(),
                        IntegrationResponseDef {
                            selection_pattern: r
                                .selection_pattern()
                                .filter(|p| !p.is_empty())
                                .map(str::to_owned),
                            templates: templates(
                                r.response_templates()
                                    .into_iter()
                                    .flatten()
                                    .map(|(k, v)| (k, v.clone())),
                            ),
                            headers: sorted_strings(r.response_parameters()),
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    RouteDef {
        authorization: authorization.unwrap_or("NONE").to_owned(),
        api_key_required: api_key_required.unwrap_or(false),
        method_parameters: sorted_bools(request_parameters),
        integration: integration_def,
        integration_responses,
        method_responses: method_responses
            .map(|rs| {
                rs.iter()
                    .map(|(status, r)| (status.clone(), sorted_bools(r.response_parameters())))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn sdk_method_def(m: &SdkMethod) -> RouteDef {
    observed_def(
        m.authorization_type(),
        m.api_key_required(),
        m.request_parameters(),
        m.method_responses(),
        m.method_integration(),
    )
}

// ---------------------------------------------------------------------------------------------
// Names, ARNs, attributes.

/// The API key's name: deterministic, so a run finds the key an earlier run created.
fn key_name(spec: &RestApi) -> String {
    format!("{}-key", spec.name)
}

fn api_arn(aws: &Aws, id: &str) -> String {
    format!("arn:aws:apigateway:{}::/restapis/{id}", aws.region)
}

fn attrs_of(aws: &Aws, spec: &RestApi, id: &str, stage: bool, key: Option<&ApiKey>) -> Attrs {
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), id.to_owned());
    attrs.insert("arn".into(), api_arn(aws, id));
    attrs.insert(
        "execution_arn".into(),
        format!("arn:aws:execute-api:{}:{}:{id}", aws.region, aws.account),
    );
    attrs.insert("stage".into(), spec.stage.clone());
    if stage {
        let url = match &aws.endpoint_url {
            // The local runtime serves stages under the path LocalStack also uses.
            Some(e) => format!(
                "{}/restapis/{id}/{}/_user_request_",
                e.trim_end_matches('/'),
                spec.stage
            ),
            None => format!(
                "https://{id}.execute-api.{}.amazonaws.com/{}",
                aws.region, spec.stage
            ),
        };
        attrs.insert("url".into(), url);
    }
    if let Some(k) = key {
        if let Some(id) = k.id() {
            attrs.insert("api_key_id".into(), id.to_owned());
        }
        if let Some(v) = k.value() {
            attrs.insert("api_key".into(), v.to_owned());
        }
    }
    attrs
}

fn tags_of(m: Option<&HashMap<String, String>>) -> BTreeMap<String, String> {
    m.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn is_not_found(e: &ProviderError) -> bool {
    e.is(ErrorKind::NotFound)
}

/// `Ok` when the call succeeded or the thing was already gone.
fn gone_ok<T>(r: Result<T, ProviderError>) -> Result<(), ProviderError> {
    match r {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

fn patch(op: Op, path: impl Into<String>, value: Option<String>) -> PatchOperation {
    PatchOperation::builder()
        .op(op)
        .path(path)
        .set_value(value)
        .build()
}

/// A JSON-pointer token: `/` and `~` escaped as API Gateway's patch paths require.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn rate_str(rate: f64) -> String {
    format!("{rate}")
}

// ---------------------------------------------------------------------------------------------
// Reading.

/// Every REST API named `name`, ours first.
async fn find_apis(aws: &Aws, r: &Resource, name: &str) -> Result<Vec<(SdkRestApi, bool)>, ProviderError> {
    let client = &aws.clients.apigateway;
    let mut found = Vec::new();
    let mut position: Option<String> = None;
    loop {
        let page = aws
            .call("apigateway:GetRestApis", || {
                client
                    .get_rest_apis()
                    .limit(500)
                    .set_position(position.clone())
                    .send()
            })
            .await?;
        for api in page.items() {
            if api.name() == Some(name) {
                let owned = aws.owns(r, &tags_of(api.tags()));
                found.push((api.clone(), owned));
            }
        }
        match page.position() {
            Some(p) if !p.is_empty() && Some(p) != position.as_deref() => position = Some(p.to_owned()),
            _ => break,
        }
    }
    // Ours first, then the oldest: a duplicate left by a lost CreateRestApi response is not
    // preferred over the API the stack has been using.
    found.sort_by(|(a, a_owned), (b, b_owned)| {
        b_owned
            .cmp(a_owned)
            .then_with(|| a.created_date().cmp(&b.created_date()))
    });
    Ok(found)
}

async fn get_resources(aws: &Aws, api_id: &str) -> Result<Vec<SdkResource>, ProviderError> {
    let client = &aws.clients.apigateway;
    let mut out = Vec::new();
    let mut position: Option<String> = None;
    loop {
        let page = aws
            .call("apigateway:GetResources", || {
                client
                    .get_resources()
                    .rest_api_id(api_id)
                    .embed("methods")
                    .limit(500)
                    .set_position(position.clone())
                    .send()
            })
            .await?;
        out.extend(page.items().iter().cloned());
        match page.position() {
            Some(p) if !p.is_empty() && Some(p) != position.as_deref() => position = Some(p.to_owned()),
            _ => break,
        }
    }
    Ok(out)
}

/// Every method of the API by `(path, METHOD)`, with its resource id, and every resource's id
/// by path.
async fn read_methods(
    aws: &Aws,
    api_id: &str,
) -> Result<(BTreeMap<RouteKey, RouteDef>, BTreeMap<String, String>), ProviderError> {
    let client = &aws.clients.apigateway;
    let mut methods = BTreeMap::new();
    let mut ids = BTreeMap::new();
    for res in get_resources(aws, api_id).await? {
        let (Some(id), Some(path)) = (res.id(), res.path()) else {
            continue;
        };
        ids.insert(path.to_owned(), id.to_owned());
        for (name, m) in res.resource_methods().into_iter().flatten() {
            let def = if m.http_method().is_some() {
                sdk_method_def(m)
            } else {
                // Not embedded (an endpoint that ignores `embed`): read the method itself.
                let full = aws
                    .call("apigateway:GetMethod", || {
                        client
                            .get_method()
                            .rest_api_id(api_id)
                            .resource_id(id)
                            .http_method(name)
                            .send()
                    })
                    .await?;
                observed_def(
                    full.authorization_type(),
                    full.api_key_required(),
                    full.request_parameters(),
                    full.method_responses(),
                    full.method_integration(),
                )
            };
            methods.insert((path.to_owned(), name.clone()), def);
        }
    }
    Ok((methods, ids))
}

async fn get_stages(aws: &Aws, api_id: &str) -> Result<Vec<Stage>, ProviderError> {
    let client = &aws.clients.apigateway;
    let out = aws
        .call("apigateway:GetStages", || {
            client.get_stages().rest_api_id(api_id).send()
        })
        .await?;
    Ok(out.item().to_vec())
}

/// The definition hash the stage's deployment was made from, if it was made by us.
async fn deployed_hash(aws: &Aws, api_id: &str, stage: &Stage) -> Result<Option<String>, ProviderError> {
    let Some(deployment_id) = stage.deployment_id() else {
        return Ok(None);
    };
    let client = &aws.clients.apigateway;
    let deployment = match aws
        .call("apigateway:GetDeployment", || {
            client
                .get_deployment()
                .rest_api_id(api_id)
                .deployment_id(deployment_id)
                .send()
        })
        .await
    {
        Ok(d) => d,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(
        deployment
            .description()
            .and_then(|d| d.strip_prefix(DEPLOYMENT_PREFIX))
            .map_or_else(|| "(not deployed by personalize-stack)".to_owned(), str::to_owned),
    ))
}

/// Usage plans carrying our tags, the one named as declared first.
async fn our_plans(aws: &Aws, r: &Resource, spec: &RestApi) -> Result<Vec<UsagePlan>, ProviderError> {
    let client = &aws.clients.apigateway;
    let mut out = Vec::new();
    let mut position: Option<String> = None;
    loop {
        let page = aws
            .call("apigateway:GetUsagePlans", || {
                client
                    .get_usage_plans()
                    .limit(500)
                    .set_position(position.clone())
                    .send()
            })
            .await?;
        out.extend(
            page.items()
                .iter()
                .filter(|p| aws.owns(r, &tags_of(p.tags())))
                .cloned(),
        );
        match page.position() {
            Some(p) if !p.is_empty() && Some(p) != position.as_deref() => position = Some(p.to_owned()),
            _ => break,
        }
    }
    let wanted = spec.usage_plan.as_ref().map(|p| p.name.as_str());
    out.sort_by_key(|p| p.name() != wanted);
    Ok(out)
}

/// API keys named `<api>-key` carrying our tags, with their values; enabled ones first.
async fn our_keys(aws: &Aws, r: &Resource, spec: &RestApi) -> Result<Vec<ApiKey>, ProviderError> {
    let client = &aws.clients.apigateway;
    let name = key_name(spec);
    let mut out = Vec::new();
    let mut position: Option<String> = None;
    loop {
        let page = aws
            .call("apigateway:GetApiKeys", || {
                client
                    .get_api_keys()
                    .name_query(&name)
                    .include_values(true)
                    .limit(500)
                    .set_position(position.clone())
                    .send()
            })
            .await?;
        out.extend(
            page.items()
                .iter()
                .filter(|k| k.name() == Some(name.as_str()) && aws.owns(r, &tags_of(k.tags())))
                .cloned(),
        );
        match page.position() {
            Some(p) if !p.is_empty() && Some(p) != position.as_deref() => position = Some(p.to_owned()),
            _ => break,
        }
    }
    out.sort_by_key(|k| !k.enabled());
    Ok(out)
}

/// `(key id, key name)` of every key in the plan.
async fn plan_keys(aws: &Aws, plan_id: &str) -> Result<Vec<(String, String)>, ProviderError> {
    let client = &aws.clients.apigateway;
    let mut out = Vec::new();
    let mut position: Option<String> = None;
    loop {
        let page = aws
            .call("apigateway:GetUsagePlanKeys", || {
                client
                    .get_usage_plan_keys()
                    .usage_plan_id(plan_id)
                    .limit(500)
                    .set_position(position.clone())
                    .send()
            })
            .await?;
        out.extend(
            page.items()
                .iter()
                .filter_map(|k| Some((k.id()?.to_owned(), k.name().unwrap_or_default().to_owned()))),
        );
        match page.position() {
            Some(p) if !p.is_empty() && Some(p) != position.as_deref() => position = Some(p.to_owned()),
            _ => break,
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The provider interface.

/// Desired fields; unknown references show as "(known after apply)" inside route definitions.
///
/// # Errors
/// None in practice: references that are not known yet are shown, not refused.
pub fn desired(aws: &Aws, r: &Resource, spec: &RestApi, refs: &Resolver) -> Result<Desired, ProviderError> {
    let def = definition(aws, spec, |t| Ok(refs.text(t)))?;
    let mut fields = Fields::new();
    fields.insert("name".into(), spec.name.clone());
    if let Some(d) = &spec.description {
        fields.insert("description".into(), d.clone());
    }
    fields.insert("endpoint".into(), endpoint_str(spec.endpoint).into());
    let mut binary = spec.binary_media_types.clone();
    binary.sort();
    fields.insert("binary_media_types".into(), binary.join(","));
    for (k, v) in aws.tags_for(r, &spec.tags) {
        fields.insert(format!("tags.{k}"), v);
    }
    fields.insert("stage".into(), spec.stage.clone());
    for (k, v) in &spec.stage_variables {
        fields.insert(format!("stage.variables.{k}"), v.clone());
    }
    fields.insert("api_key_required".into(), spec.api_key_required.to_string());
    if let Some(plan) = &spec.usage_plan {
        fields.insert("usage_plan.name".into(), plan.name.clone());
        fields.insert("usage_plan.api_stages".into(), spec.stage.clone());
        fields.insert("usage_plan.api_key".into(), key_name(spec));
        if let Some((rate, burst)) = plan.throttle {
            fields.insert("usage_plan.throttle.rate_limit".into(), rate_str(rate));
            fields.insert("usage_plan.throttle.burst_limit".into(), burst.to_string());
        }
        if let Some((limit, period, offset)) = plan.quota {
            fields.insert("usage_plan.quota.limit".into(), limit.to_string());
            fields.insert("usage_plan.quota.period".into(), period_str(period).into());
            fields.insert("usage_plan.quota.offset".into(), offset.to_string());
        }
    }
    for ((path, method), d) in &def.routes {
        fields.insert(route_field(path, method), canonical(d));
    }
    fields.insert("deployment".into(), def.hash);
    Ok(Desired {
        fields,
        replace_on: BTreeMap::new(),
        ..Desired::default()
    })
}

/// Observes it: the API by name, then its methods, stage, deployment, usage plan and key.
///
/// # Errors
/// A read failed.
pub async fn observe(
    aws: &Aws,
    r: &Resource,
    spec: &RestApi,
    _refs: &Resolver,
) -> Result<Option<Observed>, ProviderError> {
    let Some((api, owned)) = find_apis(aws, r, &spec.name).await?.into_iter().next() else {
        return Ok(None);
    };
    let id = api.id().unwrap_or_default().to_owned();
    if !owned {
        return Ok(Some(Observed {
            id,
            owned: false,
            ..Observed::default()
        }));
    }
    let mut fields = Fields::new();
    fields.insert("name".into(), api.name().unwrap_or_default().to_owned());
    if spec.description.is_some() {
        fields.insert(
            "description".into(),
            api.description().unwrap_or_default().to_owned(),
        );
    }
    if let Some(t) = api.endpoint_configuration().and_then(|e| e.types().first()) {
        fields.insert("endpoint".into(), t.as_str().to_owned());
    }
    let mut binary = api.binary_media_types().to_vec();
    binary.sort();
    fields.insert("binary_media_types".into(), binary.join(","));
    for (k, v) in tags_of(api.tags()) {
        // AWS-reserved tags (aws:cloudformation:…) are not ours to compare or remove.
        if !k.starts_with("aws:") {
            fields.insert(format!("tags.{k}"), v);
        }
    }

    let (methods, _) = read_methods(aws, &id).await?;
    for ((path, method), d) in &methods {
        fields.insert(route_field(path, method), canonical(d));
    }

    let stages = get_stages(aws, &id).await?;
    let stage = stages
        .iter()
        .find(|s| s.stage_name() == Some(spec.stage.as_str()));
    if let Some(s) = stage {
        fields.insert("stage".into(), spec.stage.clone());
        for (k, v) in s.variables().into_iter().flatten() {
            fields.insert(format!("stage.variables.{k}"), v.clone());
        }
        if let Some(hash) = deployed_hash(aws, &id, s).await? {
            fields.insert("deployment".into(), hash);
        }
    } else if let Some(other) = stages.iter().find_map(Stage::stage_name) {
        // The stage was renamed in the stack: show which one exists.
        fields.insert("stage".into(), other.to_owned());
    }

    let keys = our_keys(aws, r, spec).await?;
    let key = keys.first().filter(|k| k.enabled());
    fields.insert("api_key_required".into(), key.is_some().to_string());
    if let Some(plan) = our_plans(aws, r, spec).await?.first() {
        fields.insert(
            "usage_plan.name".into(),
            plan.name().unwrap_or_default().to_owned(),
        );
        let mut stages: Vec<&str> = plan
            .api_stages()
            .iter()
            .filter(|s| s.api_id() == Some(id.as_str()))
            .filter_map(ApiStage::stage)
            .collect();
        stages.sort_unstable();
        fields.insert("usage_plan.api_stages".into(), stages.join(","));
        if let (Some(k), Some(plan_id)) = (key, plan.id())
            && let Some(key_id) = k.id()
            && plan_keys(aws, plan_id).await?.iter().any(|(id, _)| id == key_id)
        {
            fields.insert("usage_plan.api_key".into(), key_name(spec));
        }
        if let Some(t) = plan.throttle() {
            fields.insert("usage_plan.throttle.rate_limit".into(), rate_str(t.rate_limit()));
            fields.insert(
                "usage_plan.throttle.burst_limit".into(),
                t.burst_limit().to_string(),
            );
        }
        if let Some(q) = plan.quota() {
            fields.insert("usage_plan.quota.limit".into(), q.limit().to_string());
            fields.insert(
                "usage_plan.quota.period".into(),
                q.period().map(|p| p.as_str().to_owned()).unwrap_or_default(),
            );
            fields.insert("usage_plan.quota.offset".into(), q.offset().to_string());
        }
    }
    let attrs = attrs_of(aws, spec, &id, stage.is_some(), key);
    Ok(Some(Observed {
        id,
        owned: true,
        fields,
        attrs,
    }))
}

/// Creates the API (or adopts ours if a previous run created it), then converges it.
///
/// # Errors
/// A reference is not known, or a call failed.
pub async fn create(
    aws: &Aws,
    r: &Resource,
    spec: &RestApi,
    refs: &Resolver,
) -> Result<Attrs, ProviderError> {
    // Check the references before creating anything.
    definition(aws, spec, |t| refs.known(t).map_err(|e| Aws::unresolved(&e)))?;
    let existing = find_apis(aws, r, &spec.name)
        .await?
        .into_iter()
        .find(|(_, owned)| *owned);
    let api_id = match existing.and_then(|(api, _)| api.id().map(str::to_owned)) {
        Some(id) => id,
        None => {
            let client = &aws.clients.apigateway;
            let tags: HashMap<String, String> = aws.tags_for(r, &spec.tags).into_iter().collect();
            let endpoint = EndpointConfiguration::builder()
                .types(SdkEndpointType::from(endpoint_str(spec.endpoint)))
                .build();
            let binary = (!spec.binary_media_types.is_empty()).then(|| spec.binary_media_types.clone());
            let created = aws
                .call("apigateway:CreateRestApi", || {
                    client
                        .create_rest_api()
                        .name(&spec.name)
                        .set_description(spec.description.clone())
                        .endpoint_configuration(endpoint.clone())
                        .set_binary_media_types(binary.clone())
                        .set_tags(Some(tags.clone()))
                        .send()
                })
                .await?;
            created.id().unwrap_or_default().to_owned()
        }
    };
    converge(aws, r, spec, refs, &api_id).await
}

/// Brings the API to what the stack declares; only what differs is changed.
///
/// # Errors
/// A reference is not known, or a call failed.
pub async fn update(
    aws: &Aws,
    r: &Resource,
    spec: &RestApi,
    refs: &Resolver,
    observed: &Observed,
    _changes: &[FieldChange],
) -> Result<Attrs, ProviderError> {
    // Every step compares the live API with the stack again, so the changes the plan showed and
    // anything a killed run left half-done are handled alike.
    converge(aws, r, spec, refs, &observed.id).await
}

/// Deletes our usage plans and API keys, then every API of this name that carries our tags
/// (its stages and deployments go with it).
///
/// # Errors
/// A call failed.
pub async fn delete(
    aws: &Aws,
    r: &Resource,
    spec: &RestApi,
    observed: &Observed,
) -> Result<(), ProviderError> {
    remove_usage(aws, r, spec).await?;
    let mut ids: Vec<String> = find_apis(aws, r, &spec.name)
        .await?
        .into_iter()
        .filter(|(_, owned)| *owned)
        .filter_map(|(api, _)| api.id().map(str::to_owned))
        .collect();
    if observed.owned && !ids.contains(&observed.id) {
        ids.push(observed.id.clone());
    }
    let client = &aws.clients.apigateway;
    for id in ids {
        gone_ok(
            aws.call("apigateway:DeleteRestApi", || {
                client.delete_rest_api().rest_api_id(&id).send()
            })
            .await,
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Converging.

async fn converge(
    aws: &Aws,
    r: &Resource,
    spec: &RestApi,
    refs: &Resolver,
    api_id: &str,
) -> Result<Attrs, ProviderError> {
    let def = definition(aws, spec, |t| refs.known(t).map_err(|e| Aws::unresolved(&e)))?;
    converge_settings(aws, r, spec, api_id).await?;
    converge_routes(aws, api_id, &def).await?;
    let stages = converge_stage(aws, spec, api_id, &def).await?;
    let key = converge_usage(aws, r, spec, api_id).await?;
    // Stages the stack no longer names (it renamed its stage): out of the usage plan above,
    // now deleted.
    let client = &aws.clients.apigateway;
    for stale in stages.iter().filter(|s| *s != &spec.stage) {
        gone_ok(
            aws.call("apigateway:DeleteStage", || {
                client.delete_stage().rest_api_id(api_id).stage_name(stale).send()
            })
            .await,
        )?;
    }
    Ok(attrs_of(aws, spec, api_id, true, key.as_ref()))
}

/// Description, endpoint type, binary media types (UpdateRestApi) and tags.
async fn converge_settings(
    aws: &Aws,
    r: &Resource,
    spec: &RestApi,
    api_id: &str,
) -> Result<(), ProviderError> {
    let client = &aws.clients.apigateway;
    let api = aws
        .call("apigateway:GetRestApi", || {
            client.get_rest_api().rest_api_id(api_id).send()
        })
        .await?;
    let mut ops = Vec::new();
    if let Some(d) = &spec.description
        && api.description() != Some(d.as_str())
    {
        ops.push(patch(Op::Replace, "/description", Some(d.clone())));
    }
    let want_endpoint = endpoint_str(spec.endpoint);
    let current_endpoint = api
        .endpoint_configuration()
        .and_then(|e| e.types().first())
        .map(|t| t.as_str().to_owned());
    if let Some(current) = current_endpoint
        && current != want_endpoint
    {
        // AWS names the type being replaced in the path.
        ops.push(patch(
            Op::Replace,
            format!("/endpointConfiguration/types/{current}"),
            Some(want_endpoint.to_owned()),
        ));
    }
    let have: BTreeSet<&str> = api.binary_media_types().iter().map(String::as_str).collect();
    let want: BTreeSet<&str> = spec.binary_media_types.iter().map(String::as_str).collect();
    for t in want.difference(&have) {
        ops.push(patch(Op::Add, format!("/binaryMediaTypes/{}", escape(t)), None));
    }
    for t in have.difference(&want) {
        ops.push(patch(
            Op::Remove,
            format!("/binaryMediaTypes/{}", escape(t)),
            None,
        ));
    }
    if !ops.is_empty() {
        aws.call("apigateway:UpdateRestApi", || {
            client
                .update_rest_api()
                .rest_api_id(api_id)
                .set_patch_operations(Some(ops.clone()))
                .send()
        })
        .await?;
    }
    let arn = api_arn(aws, api_id);
    let have = tags_of(api.tags());
    let want = aws.tags_for(r, &spec.tags);
    let add: HashMap<String, String> = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !add.is_empty() {
        aws.call("apigateway:TagResource", || {
            client
                .tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(add.clone()))
                .send()
        })
        .await?;
    }
    let remove: Vec<String> = have
        .keys()
        .filter(|k| !want.contains_key(*k) && !k.starts_with("aws:"))
        .cloned()
        .collect();
    if !remove.is_empty() {
        aws.call("apigateway:UntagResource", || {
            client
                .untag_resource()
                .resource_arn(&arn)
                .set_tag_keys(Some(remove.clone()))
                .send()
        })
        .await?;
    }
    Ok(())
}

fn parent_path(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// Deletes undeclared methods and resources, creates missing resources, and makes every
/// declared method match.
async fn converge_routes(aws: &Aws, api_id: &str, def: &Definition) -> Result<(), ProviderError> {
    let client = &aws.clients.apigateway;
    let (methods, mut ids) = read_methods(aws, api_id).await?;
    let mut needed: BTreeSet<String> = BTreeSet::from(["/".to_owned()]);
    for (path, _) in def.routes.keys() {
        let mut p = path.as_str();
        while p != "/" {
            needed.insert(p.to_owned());
            p = parent_path(p);
        }
    }
    // Deletions first: a stale `{name}` sibling would block a new `{other}` one.
    for (path, method) in methods.keys() {
        if def.routes.contains_key(&(path.clone(), method.clone())) || !needed.contains(path) {
            continue;
        }
        let Some(rid) = ids.get(path) else { continue };
        gone_ok(
            aws.call("apigateway:DeleteMethod", || {
                client
                    .delete_method()
                    .rest_api_id(api_id)
                    .resource_id(rid)
                    .http_method(method)
                    .send()
            })
            .await,
        )?;
    }
    let stale: Vec<String> = ids
        .keys()
        .filter(|p| !needed.contains(*p) && needed.contains(parent_path(p)))
        .cloned()
        .collect();
    for path in &stale {
        let Some(rid) = ids.get(path) else { continue };
        // Deletes the resource and everything below it.
        gone_ok(
            aws.call("apigateway:DeleteResource", || {
                client
                    .delete_resource()
                    .rest_api_id(api_id)
                    .resource_id(rid)
                    .send()
            })
            .await,
        )?;
    }
    ids.retain(|p, _| needed.contains(p));
    // A path sorts after its parent, so parents are created first.
    for path in &needed {
        if ids.contains_key(path) {
            continue;
        }
        let parent = parent_path(path);
        let parent_id = ids.get(parent).cloned().ok_or_else(|| {
            crate::call::error(
                "apigateway:CreateResource",
                "MissingParent",
                format!("no resource for `{parent}`, the parent of `{path}`"),
            )
        })?;
        let part = path.rsplit('/').next().unwrap_or_default();
        let created = aws
            .call("apigateway:CreateResource", || {
                client
                    .create_resource()
                    .rest_api_id(api_id)
                    .parent_id(&parent_id)
                    .path_part(part)
                    .send()
            })
            .await?;
        ids.insert(path.clone(), created.id().unwrap_or_default().to_owned());
    }
    for ((path, method), want) in &def.routes {
        let have = methods.get(&(path.clone(), method.clone()));
        if have == Some(want) {
            continue;
        }
        let Some(rid) = ids.get(path) else { continue };
        converge_method(aws, api_id, rid, method, have, want).await?;
    }
    Ok(())
}

/// Makes one method match. Additions come before the integration that uses them and removals
/// after it, so no step refers to something missing.
async fn converge_method(
    aws: &Aws,
    api_id: &str,
    rid: &str,
    method: &str,
    have: Option<&RouteDef>,
    want: &RouteDef,
) -> Result<(), ProviderError> {
    let client = &aws.clients.apigateway;
    let empty = RouteDef::default();
    match have {
        None => {
            let params: HashMap<String, bool> = want
                .method_parameters
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect();
            aws.call("apigateway:PutMethod", || {
                client
                    .put_method()
                    .rest_api_id(api_id)
                    .resource_id(rid)
                    .http_method(method)
                    .authorization_type(&want.authorization)
                    .api_key_required(want.api_key_required)
                    .set_request_parameters(Some(params.clone()))
                    .send()
            })
            .await?;
        }
        Some(h) => {
            let mut ops = Vec::new();
            if h.authorization != want.authorization {
                ops.push(patch(
                    Op::Replace,
                    "/authorizationType",
                    Some(want.authorization.clone()),
                ));
            }
            if h.api_key_required != want.api_key_required {
                ops.push(patch(
                    Op::Replace,
                    "/apiKeyRequired",
                    Some(want.api_key_required.to_string()),
                ));
            }
            for (k, v) in &want.method_parameters {
                match h.method_parameters.get(k) {
                    Some(old) if old == v => {}
                    Some(_) => ops.push(patch(
                        Op::Replace,
                        format!("/requestParameters/{}", escape(k)),
                        Some(v.to_string()),
                    )),
                    None => ops.push(patch(
                        Op::Add,
                        format!("/requestParameters/{}", escape(k)),
                        Some(v.to_string()),
                    )),
                }
            }
            update_method(aws, api_id, rid, method, ops).await?;
        }
    }
    let have = have.unwrap_or(&empty);

    let integration_changed = have.integration != want.integration;
    if integration_changed && let Some(i) = &want.integration {
        put_integration(aws, api_id, rid, method, i).await?;
    }
    for status in have.integration_responses.keys() {
        if !want.integration_responses.contains_key(status) {
            gone_ok(
                aws.call("apigateway:DeleteIntegrationResponse", || {
                    client
                        .delete_integration_response()
                        .rest_api_id(api_id)
                        .resource_id(rid)
                        .http_method(method)
                        .status_code(status)
                        .send()
                })
                .await,
            )?;
        }
    }
    // Method responses declare the headers integration responses map: add before, remove after.
    for (status, headers) in &want.method_responses {
        match have.method_responses.get(status) {
            None => {
                let params: HashMap<String, bool> = headers.iter().map(|(k, v)| (k.clone(), *v)).collect();
                aws.call("apigateway:PutMethodResponse", || {
                    client
                        .put_method_response()
                        .rest_api_id(api_id)
                        .resource_id(rid)
                        .http_method(method)
                        .status_code(status)
                        .set_response_parameters(Some(params.clone()))
                        .send()
                })
                .await?;
            }
            Some(old) => {
                let ops: Vec<PatchOperation> = headers
                    .iter()
                    .filter(|(k, v)| old.get(*k) != Some(*v))
                    .map(|(k, v)| {
                        let op = if old.contains_key(k) { Op::Replace } else { Op::Add };
                        patch(
                            op,
                            format!("/responseParameters/{}", escape(k)),
                            Some(v.to_string()),
                        )
                    })
                    .collect();
                update_method_response(aws, api_id, rid, method, status, ops).await?;
            }
        }
    }
    for (status, ir) in &want.integration_responses {
        // After a PutIntegration every response is written again: whether AWS keeps the old
        // ones across a replaced integration is not something to rely on.
        if !integration_changed && have.integration_responses.get(status) == Some(ir) {
            continue;
        }
        let params: HashMap<String, String> =
            ir.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let tpl: HashMap<String, String> = ir.templates.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        aws.call("apigateway:PutIntegrationResponse", || {
            client
                .put_integration_response()
                .rest_api_id(api_id)
                .resource_id(rid)
                .http_method(method)
                .status_code(status)
                .set_selection_pattern(ir.selection_pattern.clone())
                .set_response_parameters(Some(params.clone()))
                .set_response_templates(Some(tpl.clone()))
                .send()
        })
        .await?;
    }
    for (status, old) in &have.method_responses {
        match want.method_responses.get(status) {
            None => {
                gone_ok(
                    aws.call("apigateway:DeleteMethodResponse", || {
                        client
                            .delete_method_response()
                            .rest_api_id(api_id)
                            .resource_id(rid)
                            .http_method(method)
                            .status_code(status)
                            .send()
                    })
                    .await,
                )?;
            }
            Some(headers) => {
                let ops: Vec<PatchOperation> = old
                    .keys()
                    .filter(|k| !headers.contains_key(*k))
                    .map(|k| patch(Op::Remove, format!("/responseParameters/{}", escape(k)), None))
                    .collect();
                update_method_response(aws, api_id, rid, method, status, ops).await?;
            }
        }
    }
    let removed: Vec<PatchOperation> = have
        .method_parameters
        .keys()
        .filter(|k| !want.method_parameters.contains_key(*k))
        .map(|k| patch(Op::Remove, format!("/requestParameters/{}", escape(k)), None))
        .collect();
    update_method(aws, api_id, rid, method, removed).await
}

async fn update_method(
    aws: &Aws,
    api_id: &str,
    rid: &str,
    method: &str,
    ops: Vec<PatchOperation>,
) -> Result<(), ProviderError> {
    if ops.is_empty() {
        return Ok(());
    }
    let client = &aws.clients.apigateway;
    aws.call("apigateway:UpdateMethod", || {
        client
            .update_method()
            .rest_api_id(api_id)
            .resource_id(rid)
            .http_method(method)
            .set_patch_operations(Some(ops.clone()))
            .send()
    })
    .await?;
    Ok(())
}

async fn update_method_response(
    aws: &Aws,
    api_id: &str,
    rid: &str,
    method: &str,
    status: &str,
    ops: Vec<PatchOperation>,
) -> Result<(), ProviderError> {
    if ops.is_empty() {
        return Ok(());
    }
    let client = &aws.clients.apigateway;
    aws.call("apigateway:UpdateMethodResponse", || {
        client
            .update_method_response()
            .rest_api_id(api_id)
            .resource_id(rid)
            .http_method(method)
            .status_code(status)
            .set_patch_operations(Some(ops.clone()))
            .send()
    })
    .await?;
    Ok(())
}

/// PutIntegration writes the whole integration (AWS type, POST, the role, templates…).
async fn put_integration(
    aws: &Aws,
    api_id: &str,
    rid: &str,
    method: &str,
    i: &IntegrationDef,
) -> Result<(), ProviderError> {
    let client = &aws.clients.apigateway;
    let params: HashMap<String, String> = i
        .request_parameters
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let tpl: HashMap<String, String> = i
        .request_templates
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let timeout = i32::try_from(i.timeout_ms).unwrap_or(29_000);
    aws.call("apigateway:PutIntegration", || {
        client
            .put_integration()
            .rest_api_id(api_id)
            .resource_id(rid)
            .http_method(method)
            .r#type(IntegrationType::from(i.kind.as_str()))
            .set_integration_http_method(i.http_method.clone())
            .set_uri(i.uri.clone())
            .set_credentials(i.credentials.clone())
            .set_request_parameters(Some(params.clone()))
            .set_request_templates(Some(tpl.clone()))
            .passthrough_behavior(&i.passthrough)
            .timeout_in_millis(timeout)
            .send()
    })
    .await?;
    Ok(())
}

/// A new deployment when the stage does not serve the declared definition (creating the stage
/// if missing), then the stage variables. The names of every stage of the API.
async fn converge_stage(
    aws: &Aws,
    spec: &RestApi,
    api_id: &str,
    def: &Definition,
) -> Result<Vec<String>, ProviderError> {
    let client = &aws.clients.apigateway;
    let stages = get_stages(aws, api_id).await?;
    let names: Vec<String> = stages
        .iter()
        .filter_map(|s| s.stage_name().map(str::to_owned))
        .collect();
    let current = stages
        .iter()
        .find(|s| s.stage_name() == Some(spec.stage.as_str()));
    let deployed = match current {
        Some(s) => deployed_hash(aws, api_id, s).await?,
        None => None,
    };
    let want_vars: BTreeMap<String, String> = spec
        .stage_variables
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if deployed.as_deref() != Some(def.hash.as_str()) {
        // A new stage gets its variables with its first deployment.
        let variables: Option<HashMap<String, String>> = (current.is_none() && !want_vars.is_empty())
            .then(|| want_vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
        let description = format!("{DEPLOYMENT_PREFIX}{}", def.hash);
        aws.call("apigateway:CreateDeployment", || {
            client
                .create_deployment()
                .rest_api_id(api_id)
                .stage_name(&spec.stage)
                .description(&description)
                .set_variables(variables.clone())
                .send()
        })
        .await?;
    }
    let have_vars: BTreeMap<String, String> = match current {
        Some(s) => s
            .variables()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        None => want_vars.clone(),
    };
    let mut ops = Vec::new();
    for (k, v) in &want_vars {
        if have_vars.get(k) != Some(v) {
            ops.push(patch(
                Op::Replace,
                format!("/variables/{}", escape(k)),
                Some(v.clone()),
            ));
        }
    }
    for k in have_vars.keys().filter(|k| !want_vars.contains_key(*k)) {
        ops.push(patch(Op::Remove, format!("/variables/{}", escape(k)), None));
    }
    if !ops.is_empty() {
        aws.call("apigateway:UpdateStage", || {
            client
                .update_stage()
                .rest_api_id(api_id)
                .stage_name(&spec.stage)
                .set_patch_operations(Some(ops.clone()))
                .send()
        })
        .await?;
    }
    Ok(names)
}

/// The usage plan on the stage, the API key, and the key in the plan; or none of them when
/// the stack requires no key. The key when there is one.
async fn converge_usage(
    aws: &Aws,
    r: &Resource,
    spec: &RestApi,
    api_id: &str,
) -> Result<Option<ApiKey>, ProviderError> {
    let Some(want) = spec.usage_plan.as_ref().filter(|_| spec.api_key_required) else {
        remove_usage(aws, r, spec).await?;
        return Ok(None);
    };
    let client = &aws.clients.apigateway;
    let plans = our_plans(aws, r, spec).await?;
    let plan_id = match plans.first() {
        None => {
            let tags: HashMap<String, String> = aws.tags_for(r, &spec.tags).into_iter().collect();
            let throttle = want.throttle.map(|(rate, burst)| {
                ThrottleSettings::builder()
                    .rate_limit(rate)
                    .burst_limit(i32::try_from(burst).unwrap_or(i32::MAX))
                    .build()
            });
            let quota = want.quota.map(|(limit, period, offset)| {
                QuotaSettings::builder()
                    .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                    .period(QuotaPeriodType::from(period_str(period)))
                    .offset(i32::try_from(offset).unwrap_or(0))
                    .build()
            });
            let stage = ApiStage::builder().api_id(api_id).stage(&spec.stage).build();
            // After the deployment: a plan naming a stage that does not exist yet is refused
            // ("Invalid stage identifier specified"; the call wrapper retries that message).
            let created = aws
                .call("apigateway:CreateUsagePlan", || {
                    client
                        .create_usage_plan()
                        .name(&want.name)
                        .api_stages(stage.clone())
                        .set_throttle(throttle.clone())
                        .set_quota(quota.clone())
                        .set_tags(Some(tags.clone()))
                        .send()
                })
                .await?;
            created.id().unwrap_or_default().to_owned()
        }
        Some(plan) => {
            let plan_id = plan.id().unwrap_or_default().to_owned();
            let ops = usage_plan_ops(plan, want, api_id, &spec.stage);
            // One call for every change: AWS allows one UpdateUsagePlan per 20 s.
            if !ops.is_empty() {
                aws.call("apigateway:UpdateUsagePlan", || {
                    client
                        .update_usage_plan()
                        .usage_plan_id(&plan_id)
                        .set_patch_operations(Some(ops.clone()))
                        .send()
                })
                .await?;
            }
            plan_id
        }
    };
    // Extra plans of ours (a duplicate from an interrupted run) would give the key two plans
    // on one stage, which AWS refuses.
    for extra in plans.iter().skip(1) {
        remove_plan(aws, extra).await?;
    }

    let keys = our_keys(aws, r, spec).await?;
    let key = match keys.first() {
        Some(k) if k.enabled() => k.clone(),
        Some(k) => {
            let id = k.id().unwrap_or_default().to_owned();
            aws.call("apigateway:UpdateApiKey", || {
                client
                    .update_api_key()
                    .api_key(&id)
                    .patch_operations(patch(Op::Replace, "/enabled", Some("true".into())))
                    .send()
            })
            .await?;
            k.clone()
        }
        None => {
            let tags: HashMap<String, String> = aws.tags_for(r, &spec.tags).into_iter().collect();
            let name = key_name(spec);
            let created = aws
                .call("apigateway:CreateApiKey", || {
                    client
                        .create_api_key()
                        .name(&name)
                        .description(format!("API key of {}", spec.name))
                        .enabled(true)
                        .set_tags(Some(tags.clone()))
                        .send()
                })
                .await?;
            ApiKey::builder()
                .set_id(created.id().map(str::to_owned))
                .set_value(created.value().map(str::to_owned))
                .set_name(created.name().map(str::to_owned))
                .enabled(true)
                .build()
        }
    };
    let key_id = key.id().unwrap_or_default().to_owned();
    if !plan_keys(aws, &plan_id)
        .await?
        .iter()
        .any(|(id, _)| *id == key_id)
    {
        match aws
            .call("apigateway:CreateUsagePlanKey", || {
                client
                    .create_usage_plan_key()
                    .usage_plan_id(&plan_id)
                    .key_id(&key_id)
                    .key_type("API_KEY")
                    .send()
            })
            .await
        {
            Ok(_) => {}
            // Already in the plan (added since we looked) is what we want; any other conflict
            // (the key in another plan of the same stage) is a real error.
            Err(e) if e.is(ErrorKind::Conflict) => {
                if !plan_keys(aws, &plan_id)
                    .await?
                    .iter()
                    .any(|(id, _)| *id == key_id)
                {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Some(key))
}

fn usage_plan_ops(
    plan: &UsagePlan,
    want: &personalize_stack_core::spec::kinds::rest_api::CheckedUsagePlan,
    api_id: &str,
    stage: &str,
) -> Vec<PatchOperation> {
    let mut ops = Vec::new();
    if plan.name() != Some(want.name.as_str()) {
        ops.push(patch(Op::Replace, "/name", Some(want.name.clone())));
    }
    match (want.throttle, plan.throttle()) {
        (Some((rate, burst)), have) => {
            if have.map(|t| rate_str(t.rate_limit())) != Some(rate_str(rate)) {
                ops.push(patch(Op::Replace, "/throttle/rateLimit", Some(rate_str(rate))));
            }
            if have.map(ThrottleSettings::burst_limit) != i32::try_from(burst).ok() {
                ops.push(patch(
                    Op::Replace,
                    "/throttle/burstLimit",
                    Some(burst.to_string()),
                ));
            }
        }
        (None, Some(_)) => ops.push(patch(Op::Remove, "/throttle", None)),
        (None, None) => {}
    }
    match (want.quota, plan.quota()) {
        (Some((limit, period, offset)), have) => {
            if have.map(QuotaSettings::limit) != i32::try_from(limit).ok() {
                ops.push(patch(Op::Replace, "/quota/limit", Some(limit.to_string())));
            }
            if have.and_then(|q| q.period()).map(QuotaPeriodType::as_str) != Some(period_str(period)) {
                ops.push(patch(
                    Op::Replace,
                    "/quota/period",
                    Some(period_str(period).into()),
                ));
            }
            if have.map(QuotaSettings::offset) != i32::try_from(offset).ok() {
                ops.push(patch(Op::Replace, "/quota/offset", Some(offset.to_string())));
            }
        }
        (None, Some(_)) => ops.push(patch(Op::Remove, "/quota", None)),
        (None, None) => {}
    }
    let ours: Vec<&str> = plan
        .api_stages()
        .iter()
        .filter(|s| s.api_id() == Some(api_id))
        .filter_map(ApiStage::stage)
        .collect();
    if !ours.contains(&stage) {
        ops.push(patch(Op::Add, "/apiStages", Some(format!("{api_id}:{stage}"))));
    }
    for other in ours.iter().filter(|s| **s != stage) {
        ops.push(patch(Op::Remove, "/apiStages", Some(format!("{api_id}:{other}"))));
    }
    ops
}

/// Removes a usage plan of ours: its keys, its stages (AWS refuses to delete a plan that has
/// any), then the plan.
async fn remove_plan(aws: &Aws, plan: &UsagePlan) -> Result<(), ProviderError> {
    let client = &aws.clients.apigateway;
    let Some(plan_id) = plan.id() else {
        return Ok(());
    };
    let members = match plan_keys(aws, plan_id).await {
        Ok(m) => m,
        Err(e) if is_not_found(&e) => return Ok(()),
        Err(e) => return Err(e),
    };
    for (key_id, _) in &members {
        gone_ok(
            aws.call("apigateway:DeleteUsagePlanKey", || {
                client
                    .delete_usage_plan_key()
                    .usage_plan_id(plan_id)
                    .key_id(key_id)
                    .send()
            })
            .await,
        )?;
    }
    let ops: Vec<PatchOperation> = plan
        .api_stages()
        .iter()
        .filter_map(|s| Some(format!("{}:{}", s.api_id()?, s.stage()?)))
        .map(|v| patch(Op::Remove, "/apiStages", Some(v)))
        .collect();
    if !ops.is_empty() {
        gone_ok(
            aws.call("apigateway:UpdateUsagePlan", || {
                client
                    .update_usage_plan()
                    .usage_plan_id(plan_id)
                    .set_patch_operations(Some(ops.clone()))
                    .send()
            })
            .await,
        )?;
    }
    gone_ok(
        aws.call("apigateway:DeleteUsagePlan", || {
            client.delete_usage_plan().usage_plan_id(plan_id).send()
        })
        .await,
    )
}

/// Deletes every usage plan and API key of ours.
async fn remove_usage(aws: &Aws, r: &Resource, spec: &RestApi) -> Result<(), ProviderError> {
    for plan in our_plans(aws, r, spec).await? {
        remove_plan(aws, &plan).await?;
    }
    let client = &aws.clients.apigateway;
    for key in our_keys(aws, r, spec).await? {
        let Some(id) = key.id() else { continue };
        gone_ok(
            aws.call("apigateway:DeleteApiKey", || {
                client.delete_api_key().api_key(id).send()
            })
            .await,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_and_escapes() {
        assert_eq!(parent_path("/streams"), "/");
        assert_eq!(
            parent_path("/streams/{stream-name}/records"),
            "/streams/{stream-name}"
        );
        assert_eq!(escape("application/json"), "application~1json");
    }
}
