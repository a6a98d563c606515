//! Mapping templates checked offline: each request template is rendered with the VTL engine
//! against the test request (for the test route) and a request synthesised for its route,
//! and the result must be what the integration's target accepts — for Kinesis, JSON with
//! the fields the action requires.

use crate::spec::kinds::rest_api::{CheckedRoute, Integration, MappingTemplate, RestApi};
use crate::spec::{Diagnostic, ResourceSpec, Stack};
use base64::Engine as _;
use personalize_stack_vtl::{Context, Request, Template};

/// Checks every request template of every API; returns the problems found.
pub fn lint_templates(stack: &Stack) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (logical, resource) in &stack.resources {
        let ResourceSpec::RestApi(api) = &resource.spec else {
            continue;
        };
        for route in &api.routes {
            for (content_type, template) in &route.request_templates {
                let unknown = unknown_parameters(route, template);
                let found_unknown = !unknown.is_empty();
                diagnostics.extend(unknown);
                // A missing parameter also breaks the rendered body; say it once.
                if found_unknown {
                    continue;
                }
                if let Some(d) = lint_template(stack, logical, api, route, content_type, template) {
                    diagnostics.push(d);
                }
            }
            // Response templates render backend responses we cannot know offline; they must
            // at least parse.
            for response in &route.integration_responses {
                for (content_type, template) in &response.templates {
                    let source = resolve_offline(stack, &template.text);
                    if let Err(e) = Template::parse(&source) {
                        let pos = template.span.at_line_column(to_u32(e.line), to_u32(e.column));
                        diagnostics.push(Diagnostic::at(
                            pos,
                            format!(
                                "the `{content_type}` response template for status {} of `{}` does not parse: {}",
                                response.status,
                                route.key(),
                                e.message
                            ),
                        ));
                    }
                }
            }
        }
    }
    diagnostics
}

/// Parameters a template reads with `$input.params('x')` (or `$input.params().path.x`, …)
/// that the route neither has in its path nor declares as query-string or header parameter.
fn unknown_parameters(route: &CheckedRoute, template: &MappingTemplate) -> Vec<Diagnostic> {
    static READS: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r#"\$!?\{?input\.params\(\s*(?:'([^']*)'|"([^"]*)")\s*\)|\$!?\{?input\.params\(\)\.path(?:\.get\(\s*(?:'([^']*)'|"([^"]*)")\s*\)|\.([A-Za-z_][A-Za-z0-9_]*))"#,
        )
        .ok()
    });
    let Some(reads) = READS.as_ref() else {
        return Vec::new();
    };
    let declared = |name: &str| {
        route.path_params.iter().any(|p| p == name)
            || route.method_parameters.keys().any(|k| {
                k.strip_prefix("method.request.")
                    .and_then(|rest| rest.split_once('.'))
                    .is_some_and(|(_, n)| n.eq_ignore_ascii_case(name))
            })
    };
    let mut out = Vec::new();
    for caps in reads.captures_iter(&template.source) {
        let path_only = caps.get(3).or(caps.get(4)).or(caps.get(5));
        let Some(name) = caps.get(1).or(caps.get(2)).or(path_only) else {
            continue;
        };
        let known = if path_only.is_some() {
            route.path_params.iter().any(|p| p == name.as_str())
        } else {
            declared(name.as_str())
        };
        if known {
            continue;
        }
        let char_index = template.source[..name.start()].chars().count();
        let pos = template.span.at_char(&template.source, char_index);
        let hint = crate::yaml::de::closest(name.as_str(), route.path_params.iter().map(String::as_str))
            .map_or_else(
                || "declare query-string and header parameters under the route's `parameters:`".to_owned(),
                |c| format!("did you mean `{c}`?"),
            );
        out.push(
            Diagnostic::at(
                pos,
                format!(
                    "the template of `{}` reads parameter `{}`, which is not a path parameter of `{}` nor a declared parameter",
                    route.key(),
                    name.as_str(),
                    route.path
                ),
            )
            .hint(hint),
        );
    }
    out
}

/// The requests a template is rendered against: the test request when this is the test
/// route, then one synthesised from the route.
pub fn sample_requests(
    stack: &Stack,
    api_logical: &str,
    api: &RestApi,
    route: &CheckedRoute,
) -> Vec<(String, Request)> {
    let mut requests = Vec::new();
    let context = |path: &str| Context {
        request_id: "00000000-0000-0000-0000-000000000000".into(),
        extended_request_id: "lint".into(),
        api_id: "lintapi000".into(),
        stage: api.stage.clone(),
        http_method: route.method.as_str().into(),
        resource_id: "lint00".into(),
        resource_path: route.path.clone(),
        path: format!("/{}{}", api.stage, path),
        protocol: "HTTP/1.1".into(),
        domain_name: format!("lintapi000.execute-api.{}.amazonaws.com", stack.region),
        domain_prefix: "lintapi000".into(),
        account_id: stack.account_id.clone(),
        request_time: "23/Nov/2026:10:00:00 +0000".into(),
        request_time_epoch: 1_795_428_000_000,
        ..Context::default()
    };
    let stage_variables: Vec<(String, String)> = api.stage_variables.clone().into_iter().collect();
    if let Some(test) = &stack.test
        && test.api == api_logical
        && test.method == route.method
        && test.path == route.path
    {
        let path_params: Vec<(String, String)> = test
            .params
            .iter()
            .map(|(k, v)| (k.clone(), resolve_offline(stack, v)))
            .collect();
        let path = fill_path(&route.path, &path_params);
        requests.push((
            "the test request".to_owned(),
            Request {
                body: test.request_body(),
                path_params,
                query: test.query.clone().into_iter().collect(),
                headers: vec![("Content-Type".into(), "application/json".into())],
                stage_variables: stage_variables.clone(),
                context: context(&path),
            },
        ));
    }
    let path_params: Vec<(String, String)> = route
        .path_params
        .iter()
        .map(|p| (p.clone(), format!("sample-{p}")))
        .collect();
    let path = fill_path(&route.path, &path_params);
    requests.push((
        format!("a sample `{}` request", route.key()),
        Request {
            body: "{}".into(),
            path_params,
            query: Vec::new(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            stage_variables,
            context: context(&path),
        },
    ));
    requests
}

fn fill_path(path: &str, params: &[(String, String)]) -> String {
    let mut out = path.to_owned();
    for (k, v) in params {
        out = out
            .replace(&format!("{{{k}}}"), v)
            .replace(&format!("{{{k}+}}"), v);
    }
    out
}

/// A text with references resolved to what is known offline, or readable placeholders.
pub fn resolve_offline(stack: &Stack, text: &crate::spec::text::Text) -> String {
    text.resolve(|r| {
        Some(
            stack
                .static_attribute(&r.resource, &r.attribute)
                .unwrap_or_else(|| format!("<{}.{}>", r.resource, r.attribute)),
        )
    })
    .unwrap_or_default()
}

fn lint_template(
    stack: &Stack,
    api_logical: &str,
    api: &RestApi,
    route: &CheckedRoute,
    content_type: &str,
    template: &MappingTemplate,
) -> Option<Diagnostic> {
    let source = resolve_offline(stack, &template.text);
    let where_ = format!("the `{content_type}` template of `{}`", route.key());
    let parsed = match Template::parse(&source) {
        Ok(t) => t,
        Err(e) => {
            let pos = template.span.at_line_column(to_u32(e.line), to_u32(e.column));
            return Some(Diagnostic::at(
                pos,
                format!("{where_} does not parse: {}", e.message),
            ));
        }
    };
    for (label, request) in sample_requests(stack, api_logical, api, route) {
        let rendered = match parsed.render(&request) {
            Ok(r) => r,
            Err(e) => {
                let pos = template.span.at_line_column(to_u32(e.line), to_u32(e.column));
                return Some(Diagnostic::at(
                    pos,
                    format!("{where_} fails to render for {label}: {}", e.message),
                ));
            }
        };
        // Only the test request carries a real body; a synthesised one can show that the
        // template renders JSON, not that body-derived fields are filled.
        let body_is_real = label == "the test request";
        if let Some(problem) = check_rendered(&route.integration, &rendered, body_is_real) {
            return Some(
                Diagnostic::at(
                    template.span.start,
                    format!("{where_}, rendered for {label}: {}", problem.message),
                )
                .detail(problem.detail)
                .hint(problem.hint),
            );
        }
    }
    None
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// What is wrong with a rendered integration request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderProblem {
    /// The problem.
    pub message: String,
    /// The rendered body, or the part of it around the problem.
    pub detail: String,
    /// What to do.
    pub hint: String,
}

/// Checks a rendered body against what the integration's target needs. With
/// `body_is_real` false (a synthesised request), only the JSON syntax and the presence of
/// fields are checked, not values that come from the request body.
pub fn check_rendered(
    integration: &Integration,
    rendered: &str,
    body_is_real: bool,
) -> Option<RenderProblem> {
    let json_needed = match integration {
        Integration::Aws { service, .. } => service == "kinesis",
        Integration::Mock => true,
        Integration::LambdaProxy { .. } => false,
    };
    if !json_needed {
        return None;
    }
    let value: serde_json::Value = match serde_json::from_str(rendered) {
        Ok(v) => v,
        Err(e) => {
            return Some(RenderProblem {
                message: format!(
                    "the rendered body is not valid JSON: {} at line {} column {} of the rendered body",
                    strip_position(&e.to_string()),
                    e.line(),
                    e.column()
                ),
                detail: excerpt(rendered, e.line(), e.column()),
                hint: "in a `#foreach`, separate items with `#if($foreach.hasNext),#end`; quote strings; check `$input.path` results".into(),
            });
        }
    };
    let Integration::Aws { action, .. } = integration else {
        return value.get("statusCode").is_none().then(|| RenderProblem {
            message: "a mock integration's template must render `{\"statusCode\": <status>}`".into(),
            detail: rendered.to_owned(),
            hint: "e.g. `{\"statusCode\": 200}`".into(),
        });
    };
    if !body_is_real {
        return None;
    }
    kinesis_requirements(action, &value).map(|message| RenderProblem {
        message,
        detail: truncate(rendered),
        hint: format!("see the Kinesis `{action}` API reference for the request fields"),
    })
}

/// What a Kinesis action needs in its request body.
fn kinesis_requirements(action: &str, body: &serde_json::Value) -> Option<String> {
    let Some(obj) = body.as_object() else {
        return Some(format!(
            "`{action}` takes a JSON object, but the template renders {}",
            kind_of(body)
        ));
    };
    let needs_stream = !matches!(action, "ListStreams" | "GetRecords" | "ListShards");
    if needs_stream {
        let stream = obj.get("StreamName").or_else(|| obj.get("StreamARN"));
        match stream {
            None => {
                return Some(format!(
                    "`{action}` needs `StreamName` (or `StreamARN`), which the rendered body lacks"
                ));
            }
            Some(serde_json::Value::String(s)) if s.is_empty() => {
                return Some(format!(
                    "`{action}` gets an empty `StreamName`: the template reads a parameter the request does not have"
                ));
            }
            Some(serde_json::Value::String(_)) => {}
            Some(other) => return Some(format!("`StreamName` must be a string, not {}", kind_of(other))),
        }
    }
    match action {
        "PutRecords" => {
            let Some(records) = obj.get("Records").and_then(|r| r.as_array()) else {
                return Some("`PutRecords` needs a `Records` array, which the rendered body lacks".into());
            };
            if records.is_empty() {
                return Some(
                    "`PutRecords` needs at least one record; the rendered `Records` is empty".into(),
                );
            }
            if records.len() > 500 {
                return Some(format!(
                    "`PutRecords` takes at most 500 records; the rendered body has {}",
                    records.len()
                ));
            }
            for (i, r) in records.iter().enumerate() {
                if let Some(problem) = record_problem(r) {
                    return Some(format!("`Records[{i}]`: {problem}"));
                }
            }
            None
        }
        "PutRecord" => record_problem(body),
        "GetShardIterator" => ["ShardId", "ShardIteratorType"]
            .into_iter()
            .find(|f| !obj.contains_key(*f))
            .map(|f| format!("`GetShardIterator` needs `{f}`")),
        "GetRecords" => {
            (!obj.contains_key("ShardIterator")).then(|| "`GetRecords` needs `ShardIterator`".to_owned())
        }
        _ => None,
    }
}

fn record_problem(r: &serde_json::Value) -> Option<String> {
    let data = match r.get("Data") {
        Some(serde_json::Value::String(d)) => d,
        Some(other) => return Some(format!("`Data` must be a base64 string, not {}", kind_of(other))),
        None => return Some("`Data` is missing".into()),
    };
    if base64::engine::general_purpose::STANDARD.decode(data).is_err() {
        return Some(format!(
            "`Data` is not base64 (`{}`): use `$util.base64Encode(...)`",
            truncate(data)
        ));
    }
    match r.get("PartitionKey") {
        Some(serde_json::Value::String(k)) if !k.is_empty() && k.chars().count() <= 256 => None,
        Some(serde_json::Value::String(_)) => Some("`PartitionKey` must be 1–256 characters".into()),
        Some(other) => Some(format!("`PartitionKey` must be a string, not {}", kind_of(other))),
        None => Some("`PartitionKey` is missing".into()),
    }
}

fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// serde_json appends " at line L column C"; we say where ourselves.
fn strip_position(message: &str) -> &str {
    message.find(" at line ").map_or(message, |i| &message[..i])
}

fn truncate(s: &str) -> String {
    const MAX: usize = 400;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    }
}

/// Up to three lines before `line` and the line itself, with a caret under `column`.
fn excerpt(text: &str, line: usize, column: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let end = line.min(lines.len()).max(1);
    let start = end.saturating_sub(3).max(1);
    let width = end.to_string().len();
    let mut out = String::new();
    for n in start..=end {
        let content = lines.get(n - 1).copied().unwrap_or_default();
        out.push_str(&format!("{n:>width$} | {}\n", truncate(content)));
    }
    out.push_str(&format!(
        "{:>width$} | {}^",
        "",
        " ".repeat(column.saturating_sub(1))
    ));
    out
}
