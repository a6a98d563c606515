//! Deployments (snapshots of an API's definition) and stages (named pointers to a deployment,
//! with their own variables and method settings).

use super::model::{EndpointConfiguration, Resource, RestApi};
use super::patch::{self, PatchOp};
use super::{
    Page, bad_request, body, child_prefix, conflict, embeds, key, key_in, keys, limit_exceeded, new_id,
    not_found, now_secs, opt_bool, opt_str, render, respond, restapis, str_map, unknown_operation,
    validate_tags,
};
use crate::protocol::rest::{RestRequest, RestResponse};
use crate::services::Ctx;
use crate::store::{StoreError, Txn};
use crate::{AwsError, AwsResult};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The kind segment of deployment keys (`deployment/{api}/{id}`).
pub(super) const DEPLOYMENT: &str = "deployment";
/// The kind segment of stage keys (`stage/{api}/{name}`).
pub(super) const STAGE: &str = "stage";

/// AWS's fixed quota of stages per API.
const MAX_STAGES: usize = 10;

/// A deployment and the definition it froze.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Deployment {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    created_date: u64,
    #[serde(rename = "_restApiId")]
    rest_api_id: String,
    #[serde(rename = "_snapshot")]
    snapshot: Snapshot,
}

/// The API's definition when a deployment was created: what its stages serve.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Snapshot {
    api: DeployedApi,
    resources: Vec<Resource>,
}

/// The API-wide settings that take effect through a deployment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeployedApi {
    name: String,
    binary_media_types: Vec<String>,
    api_key_source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    minimum_compression_size: Option<i64>,
    disable_execute_api_endpoint: bool,
    endpoint_configuration: EndpointConfiguration,
}

impl Snapshot {
    fn of(api: &RestApi) -> Snapshot {
        Snapshot {
            api: DeployedApi {
                name: api.name.clone(),
                binary_media_types: api.binary_media_types.clone(),
                api_key_source: api.api_key_source.clone(),
                minimum_compression_size: api.minimum_compression_size,
                disable_execute_api_endpoint: api.disable_execute_api_endpoint,
                endpoint_configuration: api.endpoint_configuration.clone(),
            },
            resources: api.resources_by_path().into_iter().cloned().collect(),
        }
    }

    /// `{path: {METHOD: {authorizationType, apiKeyRequired}}}`, for `embed=apisummary`.
    fn summary(&self) -> Value {
        let mut out = Map::new();
        for r in self.resources.iter().filter(|r| !r.resource_methods.is_empty()) {
            let methods: Map<String, Value> = r
                .resource_methods
                .iter()
                .map(|(name, m)| {
                    (
                        name.clone(),
                        json!({
                            "authorizationType": m.authorization_type,
                            "apiKeyRequired": m.api_key_required,
                        }),
                    )
                })
                .collect();
            out.insert(r.path.clone(), Value::Object(methods));
        }
        Value::Object(out)
    }
}

/// A stage: a name, the deployment it serves, and its settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Stage {
    pub stage_name: String,
    pub deployment_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub cache_cluster_enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_cluster_size: Option<String>,
    pub cache_cluster_status: String,
    #[serde(default)]
    pub method_settings: BTreeMap<String, MethodSetting>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, String>,
    pub tracing_enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log_settings: Option<AccessLogSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_settings: Option<Value>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    pub created_date: u64,
    pub last_updated_date: u64,
}

/// Per-method (or `*/*`) stage settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(super) struct MethodSetting {
    metrics_enabled: bool,
    /// Only once set: AWS shows no level for a method setting whose logging was never set
    /// (recorded: LocalStack test_create_update_stages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    logging_level: Option<String>,
    data_trace_enabled: bool,
    throttling_burst_limit: i64,
    throttling_rate_limit: f64,
    caching_enabled: bool,
    cache_ttl_in_seconds: i64,
    cache_data_encrypted: bool,
    require_authorization_for_cache_control: bool,
    unauthorized_cache_control_header_strategy: String,
}

impl Default for MethodSetting {
    /// AWS's defaults for a new method setting.
    fn default() -> Self {
        MethodSetting {
            metrics_enabled: false,
            logging_level: None,
            data_trace_enabled: false,
            throttling_burst_limit: 5000,
            throttling_rate_limit: 10_000.0,
            caching_enabled: false,
            cache_ttl_in_seconds: 300,
            cache_data_encrypted: false,
            require_authorization_for_cache_control: true,
            unauthorized_cache_control_header_strategy: "SUCCEED_WITH_RESPONSE_HEADER".into(),
        }
    }
}

/// Where and how a stage writes access logs.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(super) struct AccessLogSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    destination_arn: Option<String>,
}

/// Routes `/restapis/{api}/deployments...` and `/restapis/{api}/stages...`.
pub(super) fn route(ctx: &Ctx<'_>, req: &RestRequest, api: &str, parts: &[&str]) -> AwsResult<RestResponse> {
    match (req.method.as_str(), parts) {
        ("POST", ["deployments"]) => create_deployment(ctx, api, &body(req)?),
        ("GET", ["deployments"]) => get_deployments(ctx, api, &Page::of(req)?, embeds(req, "apisummary")),
        ("GET", ["deployments", id]) => get_deployment(ctx, api, id, embeds(req, "apisummary")),
        ("PATCH", ["deployments", id]) => {
            update_deployment(ctx, api, id, &patch::ops(&body(req)?, "updateDeploymentInput")?)
        }
        ("DELETE", ["deployments", id]) => delete_deployment(ctx, api, id),
        ("POST", ["stages"]) => create_stage(ctx, api, &body(req)?),
        ("GET", ["stages"]) => get_stages(ctx, api, req.query("deploymentId")),
        ("GET", ["stages", name]) => ctx
            .store
            .read(|t| Ok(respond(200, &load_stage(t, ctx, api, name)?))),
        ("PATCH", ["stages", name]) => {
            update_stage(ctx, api, name, &patch::ops(&body(req)?, "updateStageInput")?)
        }
        ("DELETE", ["stages", name]) => delete_stage(ctx, api, name),
        _ => Err(unknown_operation(req)),
    }
}

/// `api/child`, the id of a document that belongs to an API.
fn pair(api: &str, child: &str) -> String {
    format!("{api}/{child}")
}

fn deployment_not_found() -> AwsError {
    not_found("Invalid Deployment identifier specified")
}

fn stage_not_found() -> AwsError {
    not_found("Invalid stage identifier specified")
}

// ---------------------------------------------------------------------------------------------
// Deployments.

fn load_deployment(t: &Txn<'_>, ctx: &Ctx<'_>, api: &str, id: &str) -> AwsResult<Deployment> {
    restapis::load(t, ctx, api)?;
    t.get::<Deployment>(&key(ctx, DEPLOYMENT, &pair(api, id)))?
        .ok_or_else(deployment_not_found)
}

fn render_deployment(d: &Deployment, embed_summary: bool) -> Value {
    let mut v = render(d);
    if embed_summary && let Value::Object(m) = &mut v {
        m.insert("apiSummary".into(), d.snapshot.summary());
    }
    v
}

/// Refuses to deploy an API that has no method, or a method without an integration, as AWS
/// does.
fn check_deployable(api: &RestApi) -> AwsResult<()> {
    if !api.has_methods() {
        return Err(bad_request("The REST API doesn't contain any methods"));
    }
    let unintegrated = api
        .resources
        .values()
        .flat_map(|r| r.resource_methods.values())
        .any(|m| m.method_integration.is_none());
    if unintegrated {
        return Err(bad_request("No integration defined for method"));
    }
    Ok(())
}

/// `POST /restapis/{api}/deployments`: snapshots the definition; with `stageName`, creates
/// that stage or points it at the new deployment.
fn create_deployment(ctx: &Ctx<'_>, api_id: &str, body: &Map<String, Value>) -> AwsResult<RestResponse> {
    let stage_name = opt_str(body, "stageName")?.filter(|s| !s.is_empty());
    if let Some(s) = &stage_name {
        check_stage_name(s)?;
    }
    let variables = str_map(body, "variables")?;
    check_variables(&variables)?;
    let stage_description = opt_str(body, "stageDescription")?;
    let cache = cache_settings(
        opt_bool(body, "cacheClusterEnabled")?,
        opt_str(body, "cacheClusterSize")?,
    )?;
    let tracing = opt_bool(body, "tracingEnabled")?;
    let description = opt_str(body, "description")?;
    ctx.store.write(|t| {
        let api = restapis::load(t, ctx, api_id)?;
        check_deployable(&api)?;
        let deployment = Deployment {
            id: new_id(6),
            description,
            created_date: now_secs(ctx),
            rest_api_id: api_id.to_owned(),
            snapshot: Snapshot::of(&api),
        };
        t.put(&key(ctx, DEPLOYMENT, &pair(api_id, &deployment.id)), &deployment)?;
        if let Some(name) = &stage_name {
            let stage_key = key(ctx, STAGE, &pair(api_id, name));
            let stage = match t.get::<Stage>(&stage_key)? {
                Some(mut stage) => {
                    stage.deployment_id.clone_from(&deployment.id);
                    if stage_description.is_some() {
                        stage.description.clone_from(&stage_description);
                    }
                    stage.variables.extend(variables);
                    if let Some((enabled, size)) = cache {
                        stage.set_cache(enabled, size);
                    }
                    if let Some(tracing) = tracing {
                        stage.tracing_enabled = tracing;
                    }
                    stage.last_updated_date = now_secs(ctx);
                    stage
                }
                None => {
                    check_stage_quota(t, ctx, api_id)?;
                    let mut stage = new_stage(ctx, name, &deployment.id);
                    stage.description = stage_description;
                    stage.variables = variables;
                    if let Some((enabled, size)) = cache {
                        stage.set_cache(enabled, size);
                    }
                    stage.tracing_enabled = tracing.unwrap_or(false);
                    stage
                }
            };
            t.put(&stage_key, &stage)?;
        }
        Ok(respond(201, &deployment))
    })
}

/// `GET /restapis/{api}/deployments`.
fn get_deployments(ctx: &Ctx<'_>, api: &str, page: &Page, embed: bool) -> AwsResult<RestResponse> {
    let all: Vec<(String, Deployment)> = ctx.store.read(|t| {
        restapis::load(t, ctx, api)?;
        Ok::<_, AwsError>(t.list(&child_prefix(ctx, DEPLOYMENT, api))?)
    })?;
    let items = all
        .into_iter()
        .map(|(_, d)| {
            (
                format!("{:020}{}", d.created_date, d.id),
                render_deployment(&d, embed),
            )
        })
        .collect();
    Ok(RestResponse::json(200, page.of_items(items)))
}

/// `GET /restapis/{api}/deployments/{id}`.
fn get_deployment(ctx: &Ctx<'_>, api: &str, id: &str, embed: bool) -> AwsResult<RestResponse> {
    let d = ctx.store.read(|t| load_deployment(t, ctx, api, id))?;
    Ok(RestResponse::json(200, render_deployment(&d, embed)))
}

/// `PATCH /restapis/{api}/deployments/{id}`: only the description changes.
fn update_deployment(ctx: &Ctx<'_>, api: &str, id: &str, ops: &[PatchOp]) -> AwsResult<RestResponse> {
    ctx.store.write(|t| {
        let mut d = load_deployment(t, ctx, api, id)?;
        for op in ops {
            match (op.op.as_str(), op.path.as_str()) {
                ("replace", "/description") => d.description = op.opt_value(),
                _ => return Err(op.invalid_path("/description")),
            }
        }
        t.put(&key(ctx, DEPLOYMENT, &pair(api, id)), &d)?;
        Ok(respond(200, &d))
    })
}

/// `DELETE /restapis/{api}/deployments/{id}`: refused while a stage serves it.
fn delete_deployment(ctx: &Ctx<'_>, api: &str, id: &str) -> AwsResult<RestResponse> {
    ctx.store.write(|t| {
        load_deployment(t, ctx, api, id)?;
        let stages: Vec<(String, Stage)> = t.list(&child_prefix(ctx, STAGE, api))?;
        if stages.iter().any(|(_, s)| s.deployment_id == id) {
            return Err(bad_request(
                "Active stages pointing to this deployment must be moved or deleted",
            ));
        }
        t.delete(&key(ctx, DEPLOYMENT, &pair(api, id)))?;
        Ok(RestResponse::empty(202))
    })
}

// ---------------------------------------------------------------------------------------------
// Stages.

/// The stage `name` of `api`, or AWS's not-found error.
pub(super) fn load_stage(t: &Txn<'_>, ctx: &Ctx<'_>, api: &str, name: &str) -> AwsResult<Stage> {
    restapis::load(t, ctx, api)?;
    t.get::<Stage>(&key(ctx, STAGE, &pair(api, name)))?
        .ok_or_else(stage_not_found)
}

/// Whether the stage `name` of `api` exists (for usage plans).
pub(super) fn stage_exists(t: &Txn<'_>, ctx: &Ctx<'_>, api: &str, name: &str) -> AwsResult<bool> {
    Ok(t.contains(&key(ctx, STAGE, &pair(api, name)))?)
}

fn new_stage(ctx: &Ctx<'_>, name: &str, deployment_id: &str) -> Stage {
    Stage {
        stage_name: name.to_owned(),
        deployment_id: deployment_id.to_owned(),
        description: None,
        cache_cluster_enabled: false,
        cache_cluster_size: None,
        cache_cluster_status: "NOT_AVAILABLE".into(),
        method_settings: BTreeMap::new(),
        variables: BTreeMap::new(),
        tracing_enabled: false,
        access_log_settings: None,
        client_certificate_id: None,
        documentation_version: None,
        canary_settings: None,
        tags: BTreeMap::new(),
        created_date: now_secs(ctx),
        last_updated_date: now_secs(ctx),
    }
}

impl Stage {
    fn set_cache(&mut self, enabled: bool, size: Option<String>) {
        self.cache_cluster_enabled = enabled;
        if size.is_some() {
            self.cache_cluster_size = size;
        }
        if enabled && self.cache_cluster_size.is_none() {
            self.cache_cluster_size = Some("0.5".into());
        }
        self.cache_cluster_status = if enabled { "AVAILABLE" } else { "NOT_AVAILABLE" }.into();
    }
}

/// 1–128 of `a-zA-Z0-9_`.
fn check_stage_name(name: &str) -> AwsResult<()> {
    let ok = (1..=128).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(bad_request("Stage name only allows a-zA-Z0-9_"))
    }
}

/// Names `[A-Za-z0-9_]{1,64}`, values `[A-Za-z0-9-._~:/?#&=,]{1,512}`.
fn check_variables(variables: &BTreeMap<String, String>) -> AwsResult<()> {
    for (name, value) in variables {
        check_variable(name, value)?;
    }
    Ok(())
}

fn check_variable(name: &str, value: &str) -> AwsResult<()> {
    let name_ok =
        (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !name_ok {
        return Err(bad_request(format!(
            "Stage variable name {name} does not match the regular expression: [A-Za-z0-9_]+"
        )));
    }
    let value_ok = (1..=512).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?#&=,".contains(&b));
    if !value_ok {
        return Err(bad_request(format!(
            "Stage variable value {value} does not match the regular expression: [A-Za-z0-9-._~:/?#&=,]+"
        )));
    }
    Ok(())
}

const CACHE_SIZES: [&str; 8] = ["0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237"];

fn check_cache_size(size: &str) -> AwsResult<()> {
    if CACHE_SIZES.contains(&size) {
        Ok(())
    } else {
        Err(bad_request(format!(
            "Invalid cache cluster size specified: {size}. Valid values are {}",
            CACHE_SIZES.join(", ")
        )))
    }
}

/// `(enabled, size)` when either was given.
fn cache_settings(enabled: Option<bool>, size: Option<String>) -> AwsResult<Option<(bool, Option<String>)>> {
    if let Some(s) = &size {
        check_cache_size(s)?;
    }
    Ok(match (enabled, size) {
        (None, None) => None,
        (enabled, size) => Some((enabled.unwrap_or(false), size)),
    })
}

fn check_stage_quota(t: &Txn<'_>, ctx: &Ctx<'_>, api: &str) -> AwsResult<()> {
    if t.keys(&child_prefix(ctx, STAGE, api))?.len() >= MAX_STAGES {
        return Err(limit_exceeded(format!(
            "Maximum number of Stages for this API has been reached: {MAX_STAGES}"
        )));
    }
    Ok(())
}

/// `POST /restapis/{api}/stages`.
fn create_stage(ctx: &Ctx<'_>, api: &str, body: &Map<String, Value>) -> AwsResult<RestResponse> {
    let name = opt_str(body, "stageName")?.unwrap_or_default();
    check_stage_name(&name)?;
    let deployment_id = opt_str(body, "deploymentId")?.unwrap_or_default();
    let variables = str_map(body, "variables")?;
    check_variables(&variables)?;
    let tags = str_map(body, "tags")?;
    validate_tags(&tags)?;
    let cache = cache_settings(
        opt_bool(body, "cacheClusterEnabled")?,
        opt_str(body, "cacheClusterSize")?,
    )?;
    let mut stage = new_stage(ctx, &name, &deployment_id);
    stage.description = opt_str(body, "description")?;
    stage.variables = variables;
    stage.tags = tags;
    stage.tracing_enabled = opt_bool(body, "tracingEnabled")?.unwrap_or(false);
    stage.documentation_version = opt_str(body, "documentationVersion")?;
    stage.canary_settings = body.get("canarySettings").filter(|v| !v.is_null()).cloned();
    if let Some((enabled, size)) = cache {
        stage.set_cache(enabled, size);
    }
    ctx.store.write(|t| {
        load_deployment(t, ctx, api, &deployment_id)?;
        let stage_key = key(ctx, STAGE, &pair(api, &name));
        if t.contains(&stage_key)? {
            return Err(conflict("Stage already exists"));
        }
        check_stage_quota(t, ctx, api)?;
        t.put(&stage_key, &stage)?;
        Ok(respond(201, &stage))
    })
}

/// `GET /restapis/{api}/stages`, optionally only those serving `deploymentId`.
fn get_stages(ctx: &Ctx<'_>, api: &str, deployment_id: Option<&str>) -> AwsResult<RestResponse> {
    let stages: Vec<(String, Stage)> = ctx.store.read(|t| {
        restapis::load(t, ctx, api)?;
        Ok::<_, AwsError>(t.list(&child_prefix(ctx, STAGE, api))?)
    })?;
    let items: Vec<Value> = stages
        .iter()
        .filter(|(_, s)| deployment_id.is_none_or(|d| s.deployment_id == d))
        .map(|(_, s)| render(s))
        .collect();
    Ok(RestResponse::json(200, json!({ "item": items })))
}

/// The paths AWS lists when it refuses one, verbatim, its missing commas included (recorded:
/// LocalStack test_create_update_stages).
const STAGE_PATHS: &str = "/deploymentId, /description, /cacheClusterEnabled, /cacheClusterSize, \
     /clientCertificateId, /accessLogSettings, /accessLogSettings/destinationArn, \
     /accessLogSettings/format, /{resourcePath}/{httpMethod}/metrics/enabled, \
     /{resourcePath}/{httpMethod}/logging/dataTrace, /{resourcePath}/{httpMethod}/logging/loglevel, \
     /{resourcePath}/{httpMethod}/throttling/burstLimit/{resourcePath}/{httpMethod}/throttling/rateLimit\
     /{resourcePath}/{httpMethod}/caching/ttlInSeconds, /{resourcePath}/{httpMethod}/caching/enabled, \
     /{resourcePath}/{httpMethod}/caching/dataEncrypted, \
     /{resourcePath}/{httpMethod}/caching/requireAuthorizationForCacheControl, \
     /{resourcePath}/{httpMethod}/caching/unauthorizedCacheControlHeaderStrategy, /*/*/metrics/enabled, \
     /*/*/logging/dataTrace, /*/*/logging/loglevel, /*/*/throttling/burstLimit \
     /*/*/throttling/rateLimit /*/*/caching/ttlInSeconds, /*/*/caching/enabled, \
     /*/*/caching/dataEncrypted, /*/*/caching/requireAuthorizationForCacheControl, \
     /*/*/caching/unauthorizedCacheControlHeaderStrategy, /variables/{variable_name}, /tracingEnabled";

/// A stage path AWS does not know: it reads it as a method setting's.
fn invalid_stage_path(op: &PatchOp) -> AwsError {
    bad_request(format!(
        "Invalid method setting path: {}. Must be one of: [{STAGE_PATHS}]",
        op.path
    ))
}

/// `PATCH /restapis/{api}/stages/{name}`.
fn update_stage(ctx: &Ctx<'_>, api: &str, name: &str, ops: &[PatchOp]) -> AwsResult<RestResponse> {
    ctx.store.write(|t| {
        let mut stage = load_stage(t, ctx, api, name)?;
        for op in ops {
            patch_stage(&mut stage, op)?;
        }
        t.get::<Deployment>(&key(ctx, DEPLOYMENT, &pair(api, &stage.deployment_id)))?
            .ok_or_else(deployment_not_found)?;
        stage.last_updated_date = now_secs(ctx);
        t.put(&key(ctx, STAGE, &pair(api, name)), &stage)?;
        Ok(respond(200, &stage))
    })
}

fn patch_stage(stage: &mut Stage, op: &PatchOp) -> AwsResult<()> {
    let tokens = op.tokens();
    let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
    match (op.op.as_str(), tokens.as_slice()) {
        ("replace", ["deploymentId"]) => stage.deployment_id = op.value()?.to_owned(),
        ("replace", ["description"]) => stage.description = op.opt_value(),
        ("replace", ["cacheClusterEnabled"]) => {
            let size = stage.cache_cluster_size.clone();
            stage.set_cache(op.bool(), size);
        }
        ("replace", ["cacheClusterSize"]) => {
            let size = op.value()?.to_owned();
            check_cache_size(&size)?;
            stage.cache_cluster_size = Some(size);
        }
        ("replace", ["tracingEnabled"]) => stage.tracing_enabled = op.bool(),
        ("replace", ["clientCertificateId"]) => stage.client_certificate_id = op.opt_value(),
        ("replace", ["documentationVersion"]) => stage.documentation_version = op.opt_value(),
        (_, ["variables", var]) => {
            if op.sets() {
                check_variable(var, op.value.as_deref().unwrap_or_default())?;
            }
            op.on_str_map(&mut stage.variables, var, STAGE_PATHS)?;
        }
        ("remove", ["accessLogSettings"]) => stage.access_log_settings = None,
        ("add" | "replace", ["accessLogSettings", field @ ("format" | "destinationArn")]) => {
            set_access_log(stage, field, op)?;
        }
        // `remove` reads any other two-token path as a method setting's, accessLogSettings/x
        // included (recorded: LocalStack test_stage_access_log_settings_validation).
        ("remove", [_, _]) => remove_method_setting(stage, op)?,
        (_, ["accessLogSettings", ..]) => {
            return Err(bad_request(
                "Invalid accessLogSettings path. Must be one of : [/accessLogSettings/destinationArn, \
                 /accessLogSettings/format]",
            ));
        }
        ("replace", [resource_path, method, group, setting]) if is_method_path(resource_path, method) => {
            let key = method_setting_key(op);
            // A method's own settings start from the stage-wide `*/*` ones as they are now
            // (recorded: LocalStack test_create_update_stages).
            let defaults = stage.method_settings.get("*/*").cloned().unwrap_or_default();
            let entry = stage.method_settings.entry(key).or_insert(defaults);
            patch_method_setting(entry, group, setting, op)?;
        }
        _ => return Err(invalid_stage_path(op)),
    }
    Ok(())
}

/// `add`/`replace` of one access log field; an empty value is refused (recorded: LocalStack
/// test_stage_access_log_settings_validation).
fn set_access_log(stage: &mut Stage, field: &str, op: &PatchOp) -> AwsResult<()> {
    let value = op
        .opt_value()
        .ok_or_else(|| bad_request("Access Log value must not be empty"))?;
    let settings = stage
        .access_log_settings
        .get_or_insert_with(AccessLogSettings::default);
    if field == "format" {
        settings.format = Some(value);
    } else {
        settings.destination_arn = Some(value);
    }
    Ok(())
}

/// `remove /{resourcePath}/{httpMethod}`: the method setting must exist (recorded: LocalStack
/// test_update_stage_remove_wildcard).
fn remove_method_setting(stage: &mut Stage, op: &PatchOp) -> AwsResult<()> {
    let key = method_setting_key(op);
    if stage.method_settings.remove(&key).is_none() {
        return Err(bad_request(format!(
            "Cannot remove method setting {key} because there is no method setting for this method "
        )));
    }
    Ok(())
}

/// Whether a patch path's first two tokens name a method: `*`, an escaped `~1path`, or a
/// path segment written plainly (`res/GET`, as Terraform sends it), then an HTTP method or
/// `*`.
fn is_method_path(resource_path: &str, method: &str) -> bool {
    const METHODS: [&str; 9] = [
        "*", "ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
    ];
    !resource_path.is_empty() && METHODS.contains(&method)
}

/// `{resourcePath}/{httpMethod}` as written in the patch path (`*/*`, `~1streams/GET`).
fn method_setting_key(op: &PatchOp) -> String {
    op.path.split('/').skip(1).take(2).collect::<Vec<_>>().join("/")
}

fn patch_method_setting(s: &mut MethodSetting, group: &str, setting: &str, op: &PatchOp) -> AwsResult<()> {
    match (group, setting) {
        ("metrics", "enabled") => s.metrics_enabled = op.bool(),
        ("logging", "loglevel") => {
            let level = op.value()?;
            if !["OFF", "ERROR", "INFO"].contains(&level) {
                return Err(bad_request(format!(
                    "Invalid logging level specified: {level}. Valid values are OFF, ERROR, INFO"
                )));
            }
            s.logging_level = Some(level.to_owned());
        }
        ("logging", "dataTrace") => s.data_trace_enabled = op.bool(),
        ("throttling", "burstLimit") => s.throttling_burst_limit = op.int()?,
        ("throttling", "rateLimit") => s.throttling_rate_limit = op.float()?,
        ("caching", "enabled") => s.caching_enabled = op.bool(),
        ("caching", "ttlInSeconds") => {
            let ttl = op.int()?;
            if !(0..=3600).contains(&ttl) {
                return Err(bad_request("Cache TTL must be between 0 and 3600 seconds"));
            }
            s.cache_ttl_in_seconds = ttl;
        }
        ("caching", "dataEncrypted") => s.cache_data_encrypted = op.bool(),
        ("caching", "requireAuthorizationForCacheControl") => {
            s.require_authorization_for_cache_control = op.bool();
        }
        ("caching", "unauthorizedCacheControlHeaderStrategy") => {
            op.value()?
                .clone_into(&mut s.unauthorized_cache_control_header_strategy);
        }
        _ => return Err(invalid_stage_path(op)),
    }
    Ok(())
}

/// `DELETE /restapis/{api}/stages/{name}`: the stage leaves the usage plans that named it.
fn delete_stage(ctx: &Ctx<'_>, api: &str, name: &str) -> AwsResult<RestResponse> {
    ctx.store.write(|t| {
        load_stage(t, ctx, api, name)?;
        t.delete(&key(ctx, STAGE, &pair(api, name)))?;
        keys::forget_api_stages(t, ctx, api, Some(name))?;
        Ok(RestResponse::empty(202))
    })
}

/// Mutates the stored stage `name` of `api` (for tagging).
pub(super) fn edit_stage<T>(
    t: &mut Txn<'_>,
    ctx: &Ctx<'_>,
    api: &str,
    name: &str,
    f: impl FnOnce(&mut Stage) -> AwsResult<T>,
) -> AwsResult<T> {
    let mut stage = load_stage(t, ctx, api, name)?;
    let out = f(&mut stage)?;
    t.put(&key(ctx, STAGE, &pair(api, name)), &stage)?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// What the data plane serves.

/// What the stage `stage` of `api_id` serves, or `None` when there is no such stage:
///
/// ```json
/// {
///   "restApiId": "...", "stageName": "...", "deploymentId": "...",
///   "api": {"name", "binaryMediaTypes", "apiKeySource", "minimumCompressionSize",
///           "disableExecuteApiEndpoint", "endpointConfiguration"},
///   "resources": [{"id", "parentId", "pathPart", "path",
///                  "resourceMethods": {"GET": {<Method as GetMethod shows it, with
///                                       methodResponses and methodIntegration>}}}],
///   "variables": {"name": "value"},
///   "methodSettings": {"*/*": {<MethodSetting>}},
///   "apiKeys": ["<value of each enabled key in a usage plan that names this stage>"],
///   "usagePlans": [{"id", "throttle", "quota", "apiStageThrottle", "apiKeys": [{"id", "value"}]}]
/// }
/// ```
///
/// `resources` is the definition frozen by the stage's deployment: edits made since then are
/// not served until a new deployment points the stage at a new snapshot.
///
/// # Errors
/// Storage failure or a corrupt document.
pub(crate) fn deployed_snapshot(
    txn: &Txn<'_>,
    ctx_account: &str,
    region: &str,
    api_id: &str,
    stage: &str,
) -> Result<Option<Value>, StoreError> {
    let stage_key = key_in(ctx_account, region, STAGE, &pair(api_id, stage));
    let Some(s) = txn.get::<Stage>(&stage_key)? else {
        return Ok(None);
    };
    let deployment_key = key_in(ctx_account, region, DEPLOYMENT, &pair(api_id, &s.deployment_id));
    let Some(d) = txn.get::<Deployment>(&deployment_key)? else {
        return Ok(None);
    };
    let plans = keys::plans_serving(txn, ctx_account, region, api_id, stage)?;
    let mut api_keys: Vec<String> = plans
        .iter()
        .flat_map(|p| p["apiKeys"].as_array().cloned().unwrap_or_default())
        .filter_map(|k| k["value"].as_str().map(str::to_owned))
        .collect();
    api_keys.sort();
    api_keys.dedup();
    Ok(Some(json!({
        "restApiId": api_id,
        "stageName": s.stage_name,
        "deploymentId": d.id,
        "api": d.snapshot.api,
        "resources": d.snapshot.resources,
        "variables": s.variables,
        "methodSettings": s.method_settings,
        "apiKeys": api_keys,
        "usagePlans": plans,
    })))
}
