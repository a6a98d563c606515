//! The definition: what each method should be, comparable between the stack and AWS, and
//! the hash of it that names a deployment.

use super::*;

/// One method, as compared: the same shape is built from the stack and from GetResources, and
/// its JSON (maps are sorted) is the `route.<METHOD> <path>` field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(super) struct RouteDef {
    pub(super) authorization: String,
    pub(super) api_key_required: bool,
    pub(super) method_parameters: BTreeMap<String, bool>,
    pub(super) integration: Option<IntegrationDef>,
    pub(super) integration_responses: BTreeMap<String, IntegrationResponseDef>,
    pub(super) method_responses: BTreeMap<String, BTreeMap<String, bool>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(super) struct IntegrationDef {
    #[serde(rename = "type")]
    pub(super) kind: String,
    /// The back end's method (POST for AWS services and Lambda); none for MOCK.
    pub(super) http_method: Option<String>,
    /// None for MOCK.
    pub(super) uri: Option<String>,
    pub(super) credentials: Option<String>,
    pub(super) request_parameters: BTreeMap<String, String>,
    /// Empty templates are left out on both sides: AWS may return them as null.
    pub(super) request_templates: BTreeMap<String, String>,
    pub(super) passthrough: String,
    pub(super) timeout_ms: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(super) struct IntegrationResponseDef {
    pub(super) selection_pattern: Option<String>,
    pub(super) templates: BTreeMap<String, String>,
    pub(super) headers: BTreeMap<String, String>,
}

/// `(path, METHOD)`.
pub(super) type RouteKey = (String, String);

/// Every method the API should have and the hash of what the stage should serve.
pub(super) struct Definition {
    pub(super) routes: BTreeMap<RouteKey, RouteDef>,
    pub(super) hash: String,
}

pub(super) fn route_field(path: &str, method: &str) -> String {
    format!("route.{method} {path}")
}

pub(super) fn canonical(def: &RouteDef) -> String {
    serde_json::to_string(def).unwrap_or_default()
}

pub(super) fn passthrough_str(p: Passthrough) -> &'static str {
    match p {
        Passthrough::WhenNoMatch => "WHEN_NO_MATCH",
        Passthrough::WhenNoTemplates => "WHEN_NO_TEMPLATES",
        Passthrough::Never => "NEVER",
    }
}

pub(super) fn endpoint_str(e: EndpointType) -> &'static str {
    match e {
        EndpointType::Regional => "REGIONAL",
        EndpointType::Edge => "EDGE",
        EndpointType::Private => "PRIVATE",
    }
}

pub(super) fn period_str(p: QuotaPeriod) -> &'static str {
    match p {
        QuotaPeriod::Day => "DAY",
        QuotaPeriod::Week => "WEEK",
        QuotaPeriod::Month => "MONTH",
    }
}

/// The templates worth comparing: AWS may render an empty template as null (dropped by the
/// SDK), so empty ones count as absent on both sides.
pub(super) fn templates<'a>(items: impl IntoIterator<Item = (&'a String, String)>) -> BTreeMap<String, String> {
    items
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.clone(), v))
        .collect()
}

/// The stack's definition of every method, references resolved by `resolve`.
pub(super) fn definition<F>(aws: &Aws, spec: &RestApi, resolve: F) -> Result<Definition, ProviderError>
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

pub(super) fn route_def<F>(
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
pub(super) fn observed_def(
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

pub(super) fn sdk_method_def(m: &SdkMethod) -> RouteDef {
    observed_def(
        m.authorization_type(),
        m.api_key_required(),
        m.request_parameters(),
        m.method_responses(),
        m.method_integration(),
    )
}
