//! API keys, usage plans and the keys in each plan: what makes a key valid on a stage.

use super::deployments;
use super::patch::{self, PatchOp};
use super::{
    Page, bad_request, body, child_prefix, child_prefix_in, conflict, key, new_id, not_found, now_secs,
    opt_bool, opt_f64, opt_int, opt_object, opt_str, random_from, render, respond, restapis, str_map,
    unknown_operation, validate_tags, with_empty_tags,
};
use crate::protocol::rest::{RestRequest, RestResponse};
use crate::services::Ctx;
use crate::store::{StoreError, Txn};
use crate::{AwsError, AwsResult};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The kind segment of API key documents.
const API_KEY: &str = "apikey";
/// The kind segment of usage plan documents.
const USAGE_PLAN: &str = "usageplan";
/// The kind segment of usage plan membership documents (`usageplankey/{plan}/{key}`).
const USAGE_PLAN_KEY: &str = "usageplankey";

/// The shortest API key value AWS accepts.
const MIN_KEY_LENGTH: usize = 20;
/// The longest API key value AWS accepts.
const MAX_KEY_LENGTH: usize = 128;
/// The longest API key name AWS accepts.
const MAX_KEY_NAME_LENGTH: usize = 1024;

/// An API key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ApiKey {
    pub id: String,
    pub value: String,
    /// None for a key made without a name or with `""` (recorded: LocalStack
    /// test_create_api_key_with_invalid_name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub enabled: bool,
    pub created_date: u64,
    pub last_updated_date: u64,
    /// `restApiId/stageName`, the legacy association.
    #[serde(default)]
    pub stage_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// A usage plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UsagePlan {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub api_stages: Vec<ApiStage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<Throttle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<Quota>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_code: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// A stage a usage plan covers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(super) struct ApiStage {
    pub api_id: String,
    pub stage: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub throttle: BTreeMap<String, Throttle>,
}

/// Request rate limits.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(super) struct Throttle {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst_limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<f64>,
}

/// A request quota per period.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(super) struct Quota {
    pub limit: i64,
    pub offset: i64,
    pub period: String,
}

/// An API key's membership in a usage plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PlanKey {
    /// The API key's id.
    id: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "_usagePlanId")]
    usage_plan_id: String,
}

/// Routes `/apikeys...` and `/usageplans...`.
pub(super) fn route(ctx: &Ctx<'_>, req: &RestRequest, parts: &[&str]) -> AwsResult<RestResponse> {
    let flag = |name: &str| req.query(name) == Some("true");
    match (req.method.as_str(), parts) {
        ("POST", ["apikeys"]) => create_api_key(ctx, &body(req)?),
        ("GET", ["apikeys"]) => get_api_keys(ctx, req, &Page::of(req)?),
        ("GET", ["apikeys", id]) => {
            let k = ctx.store.read(|t| load_api_key(t, ctx, id))?;
            Ok(RestResponse::json(200, render_api_key(&k, flag("includeValue"))))
        }
        ("PATCH", ["apikeys", id]) => update_api_key(ctx, id, &patch::ops(&body(req)?, "updateApiKeyInput")?),
        ("DELETE", ["apikeys", id]) => delete_api_key(ctx, id),
        ("POST", ["usageplans"]) => create_usage_plan(ctx, &body(req)?),
        ("GET", ["usageplans"]) => get_usage_plans(ctx, req.query("keyId"), &Page::of(req)?),
        ("GET", ["usageplans", id]) => ctx
            .store
            .read(|t| Ok(with_empty_tags(respond(200, &load_plan(t, ctx, id)?)))),
        ("PATCH", ["usageplans", id]) => {
            update_usage_plan(ctx, id, &patch::ops(&body(req)?, "updateUsagePlanInput")?)
        }
        ("DELETE", ["usageplans", id]) => delete_usage_plan(ctx, id),
        ("POST", ["usageplans", id, "keys"]) => create_usage_plan_key(ctx, id, &body(req)?),
        ("GET", ["usageplans", id, "keys"]) => {
            get_usage_plan_keys(ctx, id, req.query("name"), &Page::of(req)?)
        }
        ("GET", ["usageplans", id, "keys", key_id]) => ctx.store.read(|t| {
            load_plan(t, ctx, id)?;
            let member = load_plan_key(t, ctx, id, key_id)?;
            Ok(RestResponse::json(200, render_plan_key(t, ctx, &member)?))
        }),
        ("DELETE", ["usageplans", id, "keys", key_id]) => ctx.store.write(|t| {
            load_plan(t, ctx, id)?;
            load_plan_key(t, ctx, id, key_id)?;
            t.delete(&key(ctx, USAGE_PLAN_KEY, &format!("{id}/{key_id}")))?;
            Ok(RestResponse::empty(202))
        }),
        _ => Err(unknown_operation(req)),
    }
}

// ---------------------------------------------------------------------------------------------
// API keys.

fn api_key_not_found() -> AwsError {
    not_found("Invalid API Key identifier specified")
}

pub(super) fn load_api_key(t: &Txn<'_>, ctx: &Ctx<'_>, id: &str) -> AwsResult<ApiKey> {
    t.get::<ApiKey>(&key(ctx, API_KEY, id))?
        .ok_or_else(api_key_not_found)
}

/// Mutates the stored API key `id` (for tagging).
pub(super) fn edit_api_key<T>(
    t: &mut Txn<'_>,
    ctx: &Ctx<'_>,
    id: &str,
    f: impl FnOnce(&mut ApiKey) -> AwsResult<T>,
) -> AwsResult<T> {
    let mut k = load_api_key(t, ctx, id)?;
    let out = f(&mut k)?;
    t.put(&key(ctx, API_KEY, id), &k)?;
    Ok(out)
}

/// The key as the wire shows it: the value only when asked for.
fn render_api_key(k: &ApiKey, include_value: bool) -> Value {
    let mut v = render(k);
    if !include_value && let Value::Object(m) = &mut v {
        m.remove("value");
    }
    v
}

/// A fresh 40-character key value.
fn new_key_value() -> String {
    random_from(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        40,
    )
}

/// `[{restApiId, stageName}]` → `["api/stage"]`; every stage must exist.
fn stage_keys(t: &Txn<'_>, ctx: &Ctx<'_>, body: &Map<String, Value>) -> AwsResult<Vec<String>> {
    let Some(list) = body.get("stageKeys").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for item in list {
        let Value::Object(m) = item else {
            return Err(super::wrong_type(item, "Map"));
        };
        let api = opt_str(m, "restApiId")?.unwrap_or_default();
        let stage = opt_str(m, "stageName")?.unwrap_or_default();
        check_stage(t, ctx, &api, &stage)?;
        out.push(format!("{api}/{stage}"));
    }
    Ok(out)
}

/// The API and its stage must exist, or AWS's "Invalid stage identifier specified".
fn check_stage(t: &Txn<'_>, ctx: &Ctx<'_>, api: &str, stage: &str) -> AwsResult<()> {
    let exists = !api.is_empty()
        && !stage.is_empty()
        && t.contains(&key(ctx, restapis::KIND, api))?
        && deployments::stage_exists(t, ctx, api, stage)?;
    if exists {
        Ok(())
    } else {
        Err(bad_request("Invalid stage identifier specified"))
    }
}

/// A new key's name: none for `""`, at most 1024 characters (recorded: LocalStack
/// test_create_api_key_with_invalid_name).
fn key_name(name: Option<String>) -> AwsResult<Option<String>> {
    let name = name.filter(|n| !n.is_empty());
    if name
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_KEY_NAME_LENGTH)
    {
        return Err(bad_request(format!(
            "Invalid API Key name, can be at most {MAX_KEY_NAME_LENGTH} characters."
        )));
    }
    Ok(name)
}

/// A new key's value: generated for none or `""`, else 20 to 128 characters (recorded:
/// LocalStack test_create_api_key_with_invalid_value).
fn key_value(value: Option<String>) -> AwsResult<String> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(new_key_value());
    };
    let length = value.chars().count();
    if length < MIN_KEY_LENGTH {
        return Err(bad_request(format!(
            "API Key value should be at least {MIN_KEY_LENGTH} characters"
        )));
    }
    if length > MAX_KEY_LENGTH {
        return Err(bad_request(format!(
            "API Key value exceeds maximum size of {MAX_KEY_LENGTH} characters"
        )));
    }
    Ok(value)
}

/// `POST /apikeys`.
fn create_api_key(ctx: &Ctx<'_>, body: &Map<String, Value>) -> AwsResult<RestResponse> {
    let name = key_name(opt_str(body, "name")?)?;
    let value = key_value(opt_str(body, "value")?)?;
    let tags = str_map(body, "tags")?;
    validate_tags(&tags)?;
    let id = new_id(10);
    let now = now_secs(ctx);
    let mut k = ApiKey {
        id: id.clone(),
        value,
        name,
        customer_id: opt_str(body, "customerId")?,
        description: opt_str(body, "description")?,
        // AWS creates keys disabled unless asked.
        enabled: opt_bool(body, "enabled")?.unwrap_or(false),
        created_date: now,
        last_updated_date: now,
        stage_keys: Vec::new(),
        tags,
    };
    ctx.store.write(|t| {
        k.stage_keys = stage_keys(t, ctx, body)?;
        let existing: Vec<(String, ApiKey)> = t.list(&prefix(ctx, API_KEY))?;
        if existing.iter().any(|(_, other)| other.value == k.value) {
            return Err(conflict("API Key already exists"));
        }
        t.put(&key(ctx, API_KEY, &id), &k)?;
        Ok(RestResponse::json(201, render_api_key(&k, true)))
    })
}

fn prefix(ctx: &Ctx<'_>, kind: &str) -> String {
    format!("{}/{}/{}/{kind}/", ctx.account(), ctx.region(), super::SERVICE)
}

/// `GET /apikeys`, filtered by `name` (a prefix) and `customerId`.
fn get_api_keys(ctx: &Ctx<'_>, req: &RestRequest, page: &Page) -> AwsResult<RestResponse> {
    let include = req.query("includeValues") == Some("true");
    let name = req.query("name");
    let customer = req.query("customerId");
    let all: Vec<(String, ApiKey)> = ctx.store.read(|t| t.list(&prefix(ctx, API_KEY)))?;
    let items = all
        .into_iter()
        .map(|(_, k)| k)
        .filter(|k| name.is_none_or(|n| k.name.as_deref().is_some_and(|k| k.starts_with(n))))
        .filter(|k| customer.is_none_or(|c| k.customer_id.as_deref() == Some(c)))
        .map(|k| (k.id.clone(), render_api_key(&k, include)))
        .collect();
    Ok(RestResponse::json(200, page.of_items(items)))
}

/// The paths `replace` takes, as AWS lists them (recorded: LocalStack
/// test_update_api_key_immutable_field); `add` and `remove` take `/stages`.
const API_KEY_PATHS: &str = "/description, /enabled, /name, /customerId";

/// `PATCH /apikeys/{id}`.
fn update_api_key(ctx: &Ctx<'_>, id: &str, ops: &[PatchOp]) -> AwsResult<RestResponse> {
    ctx.store.write(|t| {
        let mut k = load_api_key(t, ctx, id)?;
        for op in ops {
            match (op.op.as_str(), op.path.as_str()) {
                ("replace", "/name") => k.name = key_name(op.opt_value())?,
                ("replace", "/description") => k.description = op.opt_value(),
                ("replace", "/enabled") => k.enabled = op.bool(),
                ("replace", "/customerId") => k.customer_id = op.opt_value(),
                ("add", "/stages") => {
                    let v = op.value()?;
                    let (api, stage) = v.split_once('/').unwrap_or((v, ""));
                    check_stage(t, ctx, api, stage)?;
                    if !k.stage_keys.iter().any(|s| s == v) {
                        k.stage_keys.push(v.to_owned());
                    }
                }
                ("remove", "/stages") => {
                    let v = op.value()?;
                    k.stage_keys.retain(|s| s != v);
                }
                ("replace", _) => return Err(op.invalid_path(API_KEY_PATHS)),
                _ => return Err(op.invalid_path("/stages")),
            }
        }
        k.last_updated_date = now_secs(ctx);
        t.put(&key(ctx, API_KEY, id), &k)?;
        Ok(with_empty_tags(RestResponse::json(
            200,
            render_api_key(&k, false),
        )))
    })
}

/// `DELETE /apikeys/{id}`: the key leaves every usage plan.
fn delete_api_key(ctx: &Ctx<'_>, id: &str) -> AwsResult<RestResponse> {
    ctx.store.write(|t| {
        load_api_key(t, ctx, id)?;
        let memberships: Vec<(String, PlanKey)> = t.list(&prefix(ctx, USAGE_PLAN_KEY))?;
        for (k, _) in memberships.iter().filter(|(_, m)| m.id == id) {
            t.delete(k)?;
        }
        t.delete(&key(ctx, API_KEY, id))?;
        Ok(RestResponse::empty(202))
    })
}

// ---------------------------------------------------------------------------------------------
// Usage plans.

fn plan_not_found() -> AwsError {
    not_found("Invalid Usage Plan ID specified")
}

pub(super) fn load_plan(t: &Txn<'_>, ctx: &Ctx<'_>, id: &str) -> AwsResult<UsagePlan> {
    t.get::<UsagePlan>(&key(ctx, USAGE_PLAN, id))?
        .ok_or_else(plan_not_found)
}

/// Mutates the stored usage plan `id` (for tagging).
pub(super) fn edit_plan<T>(
    t: &mut Txn<'_>,
    ctx: &Ctx<'_>,
    id: &str,
    f: impl FnOnce(&mut UsagePlan) -> AwsResult<T>,
) -> AwsResult<T> {
    let mut plan = load_plan(t, ctx, id)?;
    let out = f(&mut plan)?;
    t.put(&key(ctx, USAGE_PLAN, id), &plan)?;
    Ok(out)
}

fn parse_throttle(m: &Map<String, Value>) -> AwsResult<Throttle> {
    let throttle = Throttle {
        burst_limit: opt_int(m, "burstLimit")?,
        rate_limit: opt_f64(m, "rateLimit")?,
    };
    check_throttle(&throttle)?;
    Ok(throttle)
}

fn check_throttle(t: &Throttle) -> AwsResult<()> {
    if t.burst_limit.is_some_and(|b| b < 0) || t.rate_limit.is_some_and(|r| r < 0.0) {
        return Err(bad_request("Throttle rate and burst limits must be non-negative"));
    }
    Ok(())
}

fn check_quota(q: &Quota) -> AwsResult<()> {
    let max_offset = match q.period.as_str() {
        "DAY" => 0,
        "WEEK" => 6,
        "MONTH" => 27,
        other => {
            return Err(bad_request(format!(
                "Invalid quota period specified: {other}. Valid values are DAY, WEEK, MONTH"
            )));
        }
    };
    if q.limit < 0 {
        return Err(bad_request("Quota limit must be non-negative"));
    }
    if !(0..=max_offset).contains(&q.offset) {
        return Err(bad_request(format!(
            "Quota offset must be between 0 and {max_offset} for period {}",
            q.period
        )));
    }
    Ok(())
}

fn parse_quota(m: &Map<String, Value>) -> AwsResult<Quota> {
    let quota = Quota {
        limit: opt_int(m, "limit")?.unwrap_or(0),
        offset: opt_int(m, "offset")?.unwrap_or(0),
        period: opt_str(m, "period")?.unwrap_or_default(),
    };
    check_quota(&quota)?;
    Ok(quota)
}

fn parse_api_stages(t: &Txn<'_>, ctx: &Ctx<'_>, body: &Map<String, Value>) -> AwsResult<Vec<ApiStage>> {
    let Some(list) = body.get("apiStages").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    let mut out: Vec<ApiStage> = Vec::new();
    for item in list {
        let Value::Object(m) = item else {
            return Err(super::wrong_type(item, "Map"));
        };
        let api_id = opt_str(m, "apiId")?.unwrap_or_default();
        let stage = opt_str(m, "stage")?.unwrap_or_default();
        check_stage(t, ctx, &api_id, &stage)?;
        if out.iter().any(|s| s.api_id == api_id && s.stage == stage) {
            return Err(bad_request(format!(
                "Duplicate API Stage {api_id}:{stage} specified for the usage plan"
            )));
        }
        let throttle = match opt_object(m, "throttle")? {
            Some(per_method) => per_method
                .iter()
                .map(|(path, v)| match v {
                    Value::Object(o) => Ok((path.clone(), parse_throttle(o)?)),
                    other => Err(super::wrong_type(other, "Map")),
                })
                .collect::<AwsResult<_>>()?,
            None => BTreeMap::new(),
        };
        out.push(ApiStage {
            api_id,
            stage,
            throttle,
        });
    }
    Ok(out)
}

/// `POST /usageplans`: every API stage must exist.
fn create_usage_plan(ctx: &Ctx<'_>, body: &Map<String, Value>) -> AwsResult<RestResponse> {
    let name = opt_str(body, "name")?
        .filter(|n| !n.is_empty())
        .ok_or_else(|| bad_request("Invalid usage plan name specified"))?;
    let tags = str_map(body, "tags")?;
    validate_tags(&tags)?;
    let throttle = opt_object(body, "throttle")?.map(parse_throttle).transpose()?;
    let quota = opt_object(body, "quota")?.map(parse_quota).transpose()?;
    let description = opt_str(body, "description")?;
    ctx.store.write(|t| {
        let plan = UsagePlan {
            id: new_id(6),
            name,
            description,
            api_stages: parse_api_stages(t, ctx, body)?,
            throttle,
            quota,
            product_code: None,
            tags,
        };
        t.put(&key(ctx, USAGE_PLAN, &plan.id), &plan)?;
        Ok(respond(201, &plan))
    })
}

/// `GET /usageplans`, optionally only the plans holding `keyId`.
fn get_usage_plans(ctx: &Ctx<'_>, key_id: Option<&str>, page: &Page) -> AwsResult<RestResponse> {
    let plans: Vec<(String, UsagePlan)> = ctx.store.read(|t| t.list(&prefix(ctx, USAGE_PLAN)))?;
    let members: Vec<(String, PlanKey)> = ctx.store.read(|t| t.list(&prefix(ctx, USAGE_PLAN_KEY)))?;
    let items = plans
        .into_iter()
        .map(|(_, p)| p)
        .filter(|p| key_id.is_none_or(|k| members.iter().any(|(_, m)| m.id == k && m.usage_plan_id == p.id)))
        .map(|p| (p.id.clone(), render(&p)))
        .collect();
    Ok(RestResponse::json(200, page.of_items(items)))
}

const USAGE_PLAN_PATHS: &str = "/name, /description, /productCode, /apiStages, /throttle, \
     /throttle/rateLimit, /throttle/burstLimit, /quota, /quota/limit, /quota/offset, /quota/period";

/// `PATCH /usageplans/{id}`.
fn update_usage_plan(ctx: &Ctx<'_>, id: &str, ops: &[PatchOp]) -> AwsResult<RestResponse> {
    ctx.store.write(|t| {
        let mut plan = load_plan(t, ctx, id)?;
        for op in ops {
            patch_usage_plan(t, ctx, &mut plan, op)?;
        }
        if let Some(q) = &plan.quota {
            check_quota(q)?;
        }
        if let Some(th) = &plan.throttle {
            check_throttle(th)?;
        }
        t.put(&key(ctx, USAGE_PLAN, id), &plan)?;
        Ok(with_empty_tags(respond(200, &plan)))
    })
}

fn patch_usage_plan(t: &Txn<'_>, ctx: &Ctx<'_>, plan: &mut UsagePlan, op: &PatchOp) -> AwsResult<()> {
    match (op.op.as_str(), op.path.as_str()) {
        ("replace", "/name") => plan.name = op.value()?.to_owned(),
        ("replace", "/description") => plan.description = op.opt_value(),
        ("replace", "/productCode") => plan.product_code = op.opt_value(),
        ("add", "/apiStages") => {
            let (api, stage) = op.value()?.split_once(':').unwrap_or_default();
            check_stage(t, ctx, api, stage)?;
            if !plan
                .api_stages
                .iter()
                .any(|s| s.api_id == api && s.stage == stage)
            {
                plan.api_stages.push(ApiStage {
                    api_id: api.to_owned(),
                    stage: stage.to_owned(),
                    throttle: BTreeMap::new(),
                });
            }
        }
        ("remove", "/apiStages") => remove_api_stage(plan, op)?,
        ("remove", "/throttle") => plan.throttle = None,
        ("replace", "/throttle/rateLimit") => {
            plan.throttle.get_or_insert_with(Throttle::default).rate_limit = Some(op.float()?);
        }
        ("replace", "/throttle/burstLimit") => {
            plan.throttle.get_or_insert_with(Throttle::default).burst_limit = Some(op.int()?);
        }
        ("remove", "/quota") => plan.quota = None,
        ("replace", "/quota/limit" | "/quota/offset" | "/quota/period") => {
            let q = plan.quota.get_or_insert_with(|| Quota {
                limit: 0,
                offset: 0,
                period: "DAY".into(),
            });
            match op.path.as_str() {
                "/quota/limit" => q.limit = op.int()?,
                "/quota/offset" => q.offset = op.int()?,
                _ => op.value()?.clone_into(&mut q.period),
            }
        }
        _ => return Err(op.invalid_path(USAGE_PLAN_PATHS)),
    }
    Ok(())
}

/// `remove /apiStages` of `api:stage`: a value of another shape is a bad request, a stage the
/// plan does not name is not found (recorded: LocalStack test_usage_plan_crud).
fn remove_api_stage(plan: &mut UsagePlan, op: &PatchOp) -> AwsResult<()> {
    let (api, stage) = op
        .value
        .as_deref()
        .and_then(|v| v.split_once(':'))
        .ok_or_else(|| bad_request("Invalid API Stage specified"))?;
    let before = plan.api_stages.len();
    plan.api_stages.retain(|s| !(s.api_id == api && s.stage == stage));
    if plan.api_stages.len() == before {
        return Err(not_found(format!(
            "Invalid API Stage {{api: {api}, stage: {stage}}} specified for usageplan {}",
            plan.id
        )));
    }
    Ok(())
}

/// `DELETE /usageplans/{id}`: refused while API stages are associated, as AWS does.
fn delete_usage_plan(ctx: &Ctx<'_>, id: &str) -> AwsResult<RestResponse> {
    ctx.store.write(|t| {
        let plan = load_plan(t, ctx, id)?;
        if let Some(s) = plan.api_stages.first() {
            return Err(bad_request(format!(
                "Cannot delete Usage Plan {id} because there are API Stages associated with it, \
                 including {}:{}",
                s.api_id, s.stage
            )));
        }
        for k in t.keys(&child_prefix(ctx, USAGE_PLAN_KEY, id))? {
            t.delete(&k)?;
        }
        t.delete(&key(ctx, USAGE_PLAN, id))?;
        Ok(RestResponse::empty(202))
    })
}

/// Removes the stage `stage` (or every stage) of `api` from every usage plan and API key, when
/// the stage or the API is deleted.
pub(super) fn forget_api_stages(
    t: &mut Txn<'_>,
    ctx: &Ctx<'_>,
    api: &str,
    stage: Option<&str>,
) -> AwsResult<()> {
    let gone = |a: &str, s: &str| a == api && stage.is_none_or(|st| st == s);
    let plans: Vec<(String, UsagePlan)> = t.list(&prefix(ctx, USAGE_PLAN))?;
    for (k, mut plan) in plans {
        let before = plan.api_stages.len();
        plan.api_stages.retain(|s| !gone(&s.api_id, &s.stage));
        if plan.api_stages.len() != before {
            t.put(&k, &plan)?;
        }
    }
    let api_keys: Vec<(String, ApiKey)> = t.list(&prefix(ctx, API_KEY))?;
    for (k, mut api_key) in api_keys {
        let before = api_key.stage_keys.len();
        api_key.stage_keys.retain(|sk| {
            let (a, s) = sk.split_once('/').unwrap_or((sk, ""));
            !gone(a, s)
        });
        if api_key.stage_keys.len() != before {
            t.put(&k, &api_key)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Usage plan keys.

fn load_plan_key(t: &Txn<'_>, ctx: &Ctx<'_>, plan: &str, key_id: &str) -> AwsResult<PlanKey> {
    t.get::<PlanKey>(&key(ctx, USAGE_PLAN_KEY, &format!("{plan}/{key_id}")))?
        .ok_or_else(|| not_found("Invalid Usage Plan Key identifier specified"))
}

/// `{id, type, value, name}`, with the key's current value and name.
fn render_plan_key(t: &Txn<'_>, ctx: &Ctx<'_>, member: &PlanKey) -> AwsResult<Value> {
    let k = load_api_key(t, ctx, &member.id)?;
    let mut v = json!({ "id": k.id, "type": member.kind, "value": k.value });
    if let (Some(name), Value::Object(m)) = (k.name, &mut v) {
        m.insert("name".into(), Value::String(name));
    }
    Ok(v)
}

/// `POST /usageplans/{id}/keys`.
fn create_usage_plan_key(ctx: &Ctx<'_>, plan_id: &str, body: &Map<String, Value>) -> AwsResult<RestResponse> {
    let key_id = opt_str(body, "keyId")?.unwrap_or_default();
    let key_type = opt_str(body, "keyType")?.unwrap_or_default();
    if key_type != "API_KEY" {
        return Err(bad_request(format!(
            "Invalid key type specified: {key_type}. Valid values are API_KEY"
        )));
    }
    ctx.store.write(|t| {
        let plan = load_plan(t, ctx, plan_id)?;
        load_api_key(t, ctx, &key_id)?;
        let member_key = key(ctx, USAGE_PLAN_KEY, &format!("{plan_id}/{key_id}"));
        if t.contains(&member_key)? {
            return Err(conflict("Usage Plan Key already exists"));
        }
        check_one_plan_per_stage(t, ctx, &plan, &key_id)?;
        let member = PlanKey {
            id: key_id.clone(),
            kind: key_type.clone(),
            usage_plan_id: plan_id.to_owned(),
        };
        t.put(&member_key, &member)?;
        Ok(RestResponse::json(201, render_plan_key(t, ctx, &member)?))
    })
}

/// A key may not reach the same API stage through two usage plans.
fn check_one_plan_per_stage(t: &Txn<'_>, ctx: &Ctx<'_>, plan: &UsagePlan, key_id: &str) -> AwsResult<()> {
    let members: Vec<(String, PlanKey)> = t.list(&prefix(ctx, USAGE_PLAN_KEY))?;
    for other_id in members
        .iter()
        .filter(|(_, m)| m.id == key_id && m.usage_plan_id != plan.id)
        .map(|(_, m)| &m.usage_plan_id)
    {
        let Some(other) = t.get::<UsagePlan>(&key(ctx, USAGE_PLAN, other_id))? else {
            continue;
        };
        if let Some(shared) = plan.api_stages.iter().find(|s| {
            other
                .api_stages
                .iter()
                .any(|o| o.api_id == s.api_id && o.stage == s.stage)
        }) {
            return Err(conflict(format!(
                "Usage Plan {} cannot be added because API Key {key_id} cannot reference multiple \
                 Usage Plans with the same API Stage: {}:{}",
                plan.id, shared.api_id, shared.stage
            )));
        }
    }
    Ok(())
}

/// `GET /usageplans/{id}/keys`, filtered by key name prefix.
fn get_usage_plan_keys(
    ctx: &Ctx<'_>,
    plan_id: &str,
    name: Option<&str>,
    page: &Page,
) -> AwsResult<RestResponse> {
    // An unknown plan has no keys: AWS answers 200 with no items, not 404.
    let items = ctx.store.read(|t| {
        let members: Vec<(String, PlanKey)> = t.list(&child_prefix(ctx, USAGE_PLAN_KEY, plan_id))?;
        let mut items = Vec::new();
        for (_, m) in members {
            let v = render_plan_key(t, ctx, &m)?;
            if name.is_none_or(|n| v["name"].as_str().is_some_and(|k| k.starts_with(n))) {
                items.push((m.id.clone(), v));
            }
        }
        Ok::<_, AwsError>(items)
    })?;
    Ok(RestResponse::json(200, page.of_items(items)))
}

/// The usage plans covering `api`'s `stage`, each with its enabled keys:
/// `[{id, name, throttle, quota, apiStageThrottle, apiKeys: [{id, value}]}]`.
pub(super) fn plans_serving(
    t: &Txn<'_>,
    account: &str,
    region: &str,
    api: &str,
    stage: &str,
) -> Result<Vec<Value>, StoreError> {
    let plans: Vec<(String, UsagePlan)> =
        t.list(&format!("{account}/{region}/{}/{USAGE_PLAN}/", super::SERVICE))?;
    let mut out = Vec::new();
    for (_, plan) in plans {
        let Some(api_stage) = plan
            .api_stages
            .iter()
            .find(|s| s.api_id == api && s.stage == stage)
        else {
            continue;
        };
        let members: Vec<(String, PlanKey)> =
            t.list(&child_prefix_in(account, region, USAGE_PLAN_KEY, &plan.id))?;
        let mut keys = Vec::new();
        for (_, m) in members {
            let api_key: Option<ApiKey> = t.get(&super::key_in(account, region, API_KEY, &m.id))?;
            if let Some(k) = api_key.filter(|k| k.enabled) {
                keys.push(json!({ "id": k.id, "value": k.value }));
            }
        }
        out.push(json!({
            "id": plan.id,
            "name": plan.name,
            "throttle": plan.throttle,
            "quota": plan.quota,
            "apiStageThrottle": api_stage.throttle,
            "apiKeys": keys,
        }));
    }
    Ok(out)
}
