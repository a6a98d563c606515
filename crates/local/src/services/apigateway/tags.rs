//! Tags by ARN: `arn:aws:apigateway:{region}::/restapis/{id}`, `.../restapis/{id}/stages/{name}`,
//! `::/apikeys/{id}` and `::/usageplans/{id}`.

use super::{bad_request, body, deployments, key, keys, restapis, str_map, unknown_operation, validate_tags};
use crate::protocol::rest::{RestRequest, RestResponse};
use crate::services::Ctx;
use crate::store::Txn;
use crate::{AwsError, AwsResult};
use serde_json::json;
use std::collections::BTreeMap;

/// What an ARN names.
enum Target<'a> {
    RestApi(&'a str),
    Stage(&'a str, &'a str),
    ApiKey(&'a str),
    UsagePlan(&'a str),
}

/// Routes `/tags/{arn}`.
pub(super) fn route(ctx: &Ctx<'_>, req: &RestRequest, parts: &[&str]) -> AwsResult<RestResponse> {
    let [arn] = parts else {
        return Err(unknown_operation(req));
    };
    let target = parse_arn(ctx, arn)?;
    match req.method.as_str() {
        "GET" => {
            let tags = ctx.store.read(|t| current_tags(t, ctx, &target))?;
            Ok(RestResponse::json(200, json!({ "tags": tags })))
        }
        "PUT" => {
            let new = str_map(&body(req)?, "tags")?;
            ctx.store.write(|t| {
                with_tags(t, ctx, &target, |tags| {
                    tags.extend(new);
                    validate_tags(tags)
                })?
            })?;
            Ok(RestResponse::empty(204))
        }
        "DELETE" => {
            let gone: Vec<&str> = req
                .query
                .iter()
                .filter(|(k, _)| k == "tagKeys")
                .map(|(_, v)| v.as_str())
                .collect();
            ctx.store.write(|t| {
                with_tags(t, ctx, &target, |tags| {
                    tags.retain(|k, _| !gone.contains(&k.as_str()))
                })
            })?;
            Ok(RestResponse::empty(204))
        }
        _ => Err(unknown_operation(req)),
    }
}

fn invalid_arn(arn: &str) -> AwsError {
    bad_request(format!("Invalid resource ARN specified: {arn}"))
}

fn parse_arn<'a>(ctx: &Ctx<'_>, arn: &'a str) -> AwsResult<Target<'a>> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", partition, "apigateway", region, "", path] = parts.as_slice() else {
        return Err(invalid_arn(arn));
    };
    if !partition.starts_with("aws") || *region != ctx.region() {
        return Err(invalid_arn(arn));
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["restapis", api] => Ok(Target::RestApi(api)),
        ["restapis", api, "stages", stage] => Ok(Target::Stage(api, stage)),
        ["apikeys", id] => Ok(Target::ApiKey(id)),
        ["usageplans", id] => Ok(Target::UsagePlan(id)),
        _ => Err(invalid_arn(arn)),
    }
}

/// The tags of `target`.
fn current_tags(t: &Txn<'_>, ctx: &Ctx<'_>, target: &Target<'_>) -> AwsResult<BTreeMap<String, String>> {
    Ok(match target {
        Target::RestApi(id) => restapis::load(t, ctx, id)?.tags,
        Target::Stage(api, stage) => deployments::load_stage(t, ctx, api, stage)?.tags,
        Target::ApiKey(id) => keys::load_api_key(t, ctx, id)?.tags,
        Target::UsagePlan(id) => keys::load_plan(t, ctx, id)?.tags,
    })
}

/// Runs `f` on the tags of `target` and stores the result.
fn with_tags<T>(
    t: &mut Txn<'_>,
    ctx: &Ctx<'_>,
    target: &Target<'_>,
    f: impl FnOnce(&mut BTreeMap<String, String>) -> T,
) -> AwsResult<T> {
    match target {
        Target::RestApi(id) => {
            let mut api = restapis::load(t, ctx, id)?;
            let out = f(&mut api.tags);
            t.put(&key(ctx, restapis::KIND, id), &api)?;
            Ok(out)
        }
        Target::Stage(api, stage) => deployments::edit_stage(t, ctx, api, stage, |s| Ok(f(&mut s.tags))),
        Target::ApiKey(id) => keys::edit_api_key(t, ctx, id, |k| Ok(f(&mut k.tags))),
        Target::UsagePlan(id) => keys::edit_plan(t, ctx, id, |p| Ok(f(&mut p.tags))),
    }
}
