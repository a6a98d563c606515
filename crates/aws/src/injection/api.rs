//! The `api` hop: PUT the marked records through the stage URL with the key, then read the
//! status and `FailedRecordCount`. A refusal is explained: the key (missing, disabled, not in
//! a usage plan of the stage), the integration role's missing permission, or the deployed
//! mapping template rendering a body Kinesis cannot take.

use super::pipeline::Pipeline;
use super::{Broken, Outcome, Run, clip};
use personalize_stack_core::engine::ErrorKind;
use personalize_stack_core::lint;
use personalize_stack_vtl::{Context, Request};
use serde_json::Value;

/// Sends the request and judges the answer.
pub(super) async fn put(run: &Run<'_>, p: &Pipeline, records: &[Value]) -> Outcome {
    let body = p.body(records);
    let method = p.route.method.as_str();
    let started = std::time::Instant::now();
    loop {
        let response = match run.http.send(method, &p.url, &p.headers, &body).await {
            Ok(r) => r,
            Err(e) => {
                return Outcome::Failed(
                    Broken::new(format!("{method} {} did not get an answer", p.url))
                        .cause(format!("the stage URL cannot be reached: {e}"))
                        .evidence(format!("request: {method} {}", p.url)),
                );
            }
        };
        let seen = format!("{method} {} → {}", p.url, response.status);
        let evidence_body = format!("response body: {}", clip(&response.body, 600));
        return match response.status {
            200..=299 => judge_success(p, &seen, &response.body, records.len()),
            403 => {
                let (broken, certain) = forbidden(run, p, &response.body).await;
                // On AWS a key, usage plan or deployment made seconds ago may not apply yet;
                // when nothing explains the 403, ask again for a while.
                if !certain && started.elapsed() < NEW_CONFIGURATION_GRACE && !run.expired() {
                    run.pause().await;
                    continue;
                }
                Outcome::Failed(broken.evidence(seen).evidence(evidence_body))
            }
            status => {
                let mut broken = Broken::new(format!("{seen}: {}", clip(&response.body, 200)));
                if let Some(permission) = missing_permission(&response.body) {
                    let role =
                        assumed_role(&response.body).unwrap_or_else(|| "the integration role".to_owned());
                    broken = broken.cause(format!(
                        "the integration role {role} lacks `{permission}`: API Gateway calls {} with it; add `{permission}` on the stream to the role's policy (`personalize-stack up` restores the stack's policy)",
                        p.kinesis_action()
                            .map_or_else(|| "the integration".to_owned(), |a| format!("Kinesis {a}")),
                    ));
                } else if let Some((cause, evidence)) = template_problem(run, p, &body).await {
                    broken = broken.cause(cause).evidence(evidence);
                } else if status == 500 && started.elapsed() < NEW_CONFIGURATION_GRACE && !run.expired() {
                    // API Gateway answers a bare 500 while it cannot yet assume a role made
                    // seconds ago (IAM propagation): ask again for a while, as for a 403.
                    run.pause().await;
                    continue;
                } else {
                    broken = broken.cause(format!(
                        "the integration answered {status}; the body below is the backend's error"
                    ));
                }
                Outcome::Failed(broken.evidence(evidence_body))
            }
        };
    }
}

/// How long an unexplained 403 or 500 is retried (AWS applies new keys, plans and roles within
/// seconds).
const NEW_CONFIGURATION_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// A 2xx: for PutRecords, every record must have been taken.
fn judge_success(p: &Pipeline, seen: &str, body: &str, sent: usize) -> Outcome {
    if p.kinesis_action() != Some("PutRecords") {
        return Outcome::Passed(seen.to_owned());
    }
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let failed = parsed
        .as_ref()
        .and_then(|v| v.get("FailedRecordCount"))
        .and_then(Value::as_u64);
    match failed {
        Some(0) => Outcome::Passed(format!("{seen}, FailedRecordCount 0 ({sent} records)")),
        Some(n) => {
            let mut broken = Broken::new(format!("{seen}, but FailedRecordCount {n} of {sent}"));
            let errors: Vec<String> = parsed
                .as_ref()
                .and_then(|v| v.get("Records"))
                .and_then(Value::as_array)
                .map(|rs| {
                    rs.iter()
                        .enumerate()
                        .filter_map(|(i, r)| {
                            let code = r.get("ErrorCode")?.as_str()?;
                            let message = r.get("ErrorMessage").and_then(Value::as_str).unwrap_or("");
                            Some(format!("record {}: {code}: {message}", i + 1))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let throttled = errors.iter().any(|e| e.contains("ProvisionedThroughputExceeded"));
            broken = broken.cause(if throttled {
                "the stream refused records over its per-shard write limit (1 MiB/s or 1,000 records/s); add shards or retry the failed records".to_owned()
            } else {
                "Kinesis refused some records; their error codes are below".to_owned()
            });
            for e in errors.into_iter().take(10) {
                broken = broken.evidence(e);
            }
            Outcome::Failed(broken)
        }
        None => Outcome::Failed(
            Broken::new(format!("{seen}, but the body has no FailedRecordCount"))
                .cause("the 200 response is not Kinesis PutRecords' answer: check the route's integration and its 200 response template")
                .evidence(format!("response body: {}", clip(body, 600))),
        ),
    }
}

/// Why the stage refused the request with 403.
async fn forbidden(run: &Run<'_>, p: &Pipeline, body: &str) -> (Broken, bool) {
    let broken = Broken::new(format!("403 from the stage: {}", clip(body, 200)));
    if let Some(permission) = missing_permission(body) {
        return certain(broken.cause(format!("the integration role lacks `{permission}`")));
    }
    if !p.key_required && p.key.is_none() {
        return certain(broken.cause(
            "the stage refused the request although the route needs no API key: check the stage URL, the route and a resource policy",
        ));
    }
    let Some(key) = &p.key else {
        return certain(broken.cause(format!(
            "no API key was sent, and `{}` requires one (`x-api-key`); the stack has no deployed key: run `personalize-stack up`",
            p.route_key()
        )));
    };
    let shown = mask(&key.value);
    let Some(id) = &key.id else {
        return certain(broken.cause(format!(
            "the stage refused the API key given with --api-key ({shown}): it is not a key of this stack, or not in a usage plan of stage `{}`",
            p.stage
        )));
    };
    let apigw = &run.aws.clients.apigateway;
    let name = match run
        .aws
        .call("apigateway:GetApiKey", || apigw.get_api_key().api_key(id).send())
        .await
    {
        Ok(k) if !k.enabled() => {
            return certain(broken.cause(format!(
                "API key `{}` (id {id}, {shown}) is disabled; enable it or run `personalize-stack up`",
                k.name().unwrap_or("?")
            )));
        }
        Ok(k) => k.name().unwrap_or("?").to_owned(),
        Err(e) if e.is(ErrorKind::NotFound) => {
            return certain(broken.cause(format!(
                "API key id {id} ({shown}) no longer exists; run `personalize-stack up` to create it again"
            )));
        }
        Err(_) => "?".to_owned(),
    };
    let plans = run
        .aws
        .call("apigateway:GetUsagePlans", || {
            apigw.get_usage_plans().key_id(id).send()
        })
        .await;
    if let Ok(plans) = plans {
        let serves_stage = plans.items().iter().any(|plan| {
            plan.api_stages()
                .iter()
                .any(|s| s.api_id() == Some(p.api_id.as_str()) && s.stage() == Some(p.stage.as_str()))
        });
        if !serves_stage {
            return certain(broken.cause(format!(
                "API key `{name}` (id {id}, {shown}) is not in a usage plan of stage `{}` of API {}: API Gateway refuses keys outside the stage's usage plans; run `personalize-stack up` to add it back",
                p.stage, p.api_id
            )));
        }
    }
    let broken = broken.cause(format!(
        "the stage refused API key `{name}` (id {id}, {shown}) although it is enabled and in a usage plan of stage `{}`; a new key or plan takes a few seconds to apply on AWS",
        p.stage
    ));
    (broken, false)
}

fn certain(broken: Broken) -> (Broken, bool) {
    (broken, true)
}

/// `abcd…`: enough to tell keys apart in a report that may be shared.
fn mask(value: &str) -> String {
    if value.is_empty() {
        return "an empty key".to_owned();
    }
    let shown: String = value.chars().take(4).collect();
    format!("key {shown}…")
}

/// The action in AWS's "… is not authorized to perform: kinesis:PutRecords on resource: …".
fn missing_permission(body: &str) -> Option<String> {
    let at = body.find("not authorized to perform: ")?;
    let rest = &body[at + "not authorized to perform: ".len()..];
    let action: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '-' || *c == '*')
        .collect();
    (!action.is_empty()).then_some(action)
}

/// `assumed-role/<name>` from an AccessDenied message, as `role <name>`.
fn assumed_role(body: &str) -> Option<String> {
    let at = body.find("assumed-role/")?;
    let name: String = body[at + "assumed-role/".len()..]
        .chars()
        .take_while(|c| *c != '/' && *c != ' ' && *c != '"')
        .collect();
    (!name.is_empty()).then(|| format!("`{name}`"))
}

/// Renders the route's current request template against the request sent and checks the
/// result as the integration's target would. Returns the cause and an evidence excerpt.
async fn template_problem(run: &Run<'_>, p: &Pipeline, body: &str) -> Option<(String, String)> {
    let apigw = &run.aws.clients.apigateway;
    let resources = run
        .aws
        .call("apigateway:GetResources", || {
            apigw.get_resources().rest_api_id(&p.api_id).limit(500).send()
        })
        .await
        .ok()?;
    let resource_id = resources
        .items()
        .iter()
        .find(|r| r.path() == Some(p.route.path.as_str()))?
        .id()?
        .to_owned();
    let integration = run
        .aws
        .call("apigateway:GetIntegration", || {
            apigw
                .get_integration()
                .rest_api_id(&p.api_id)
                .resource_id(&resource_id)
                .http_method(p.route.method.as_str())
                .send()
        })
        .await
        .ok()?;
    let templates = integration.request_templates()?;
    let (content_type, source) = templates
        .get_key_value("application/json")
        .or_else(|| templates.iter().next())?;
    let request = Request {
        body: body.to_owned(),
        path_params: p.path_params.clone(),
        query: p.query.clone(),
        headers: p.headers.clone(),
        stage_variables: Vec::new(),
        context: Context {
            api_id: p.api_id.clone(),
            stage: p.stage.clone(),
            http_method: p.route.method.as_str().into(),
            resource_id: resource_id.clone(),
            resource_path: p.route.path.clone(),
            ..Context::default()
        },
    };
    let where_ = format!(
        "the deployed `{content_type}` request template of `{}`",
        p.route_key()
    );
    let rendered = match personalize_stack_vtl::render(source, &request) {
        Ok(r) => r,
        Err(e) => {
            return Some((
                format!("{where_} fails to render: {e}"),
                format!("template: {}", clip(source, 400)),
            ));
        }
    };
    let problem = lint::check_rendered(&p.route.integration, &rendered, true)?;
    Some((
        format!(
            "{where_} renders a body the integration cannot take: {}; {}",
            problem.message, problem.hint
        ),
        format!("rendered body near the error:\n{}", problem.detail),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_permission_and_role_from_access_denied() {
        let body = r#"{"__type":"AccessDeniedException","Message":"User: arn:aws:sts::000000000000:assumed-role/workshop-api/BackplaneAssumeRoleSession is not authorized to perform: kinesis:PutRecords on resource: arn:aws:kinesis:us-east-1:000000000000:stream/s"}"#;
        assert_eq!(missing_permission(body).as_deref(), Some("kinesis:PutRecords"));
        assert_eq!(assumed_role(body).as_deref(), Some("`workshop-api`"));
        assert_eq!(missing_permission("{\"message\":\"Forbidden\"}"), None);
    }
}
