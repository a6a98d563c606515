//! REST APIs and their resources.

use super::model::{EndpointConfiguration, Resource, RestApi};
use super::patch::PatchOp;
use super::{
    Page, api_not_found, bad_request, child_prefix, conflict, key, keys, limit_exceeded, new_id, not_found,
    now_secs, opt_bool, opt_int, opt_object, opt_str, render, respond, str_list, str_map, validate_tags,
};
use crate::protocol::rest::RestResponse;
use crate::services::Ctx;
use crate::store::Txn;
use crate::{AwsError, AwsResult};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The kind segment of REST API keys.
pub(super) const KIND: &str = "restapi";

/// AWS's fixed quota of resources per API.
const MAX_RESOURCES: usize = 300;

/// The largest `minimumCompressionSize` (10 MiB).
const MAX_COMPRESSION_SIZE: i64 = 10_485_760;

// ---------------------------------------------------------------------------------------------
// Loading and saving the API document.

/// The API `id`, or AWS's not-found error.
pub(super) fn load(txn: &Txn<'_>, ctx: &Ctx<'_>, id: &str) -> AwsResult<RestApi> {
    txn.get::<RestApi>(&key(ctx, KIND, id))?
        .ok_or_else(|| api_not_found(ctx, id))
}

/// Reads the API `id` and computes something from it.
pub(super) fn read<T>(ctx: &Ctx<'_>, id: &str, f: impl FnOnce(&RestApi) -> AwsResult<T>) -> AwsResult<T> {
    ctx.store.read(|t| f(&load(t, ctx, id)?))
}

/// Changes the API `id` in one transaction; nothing is written when `f` fails.
pub(super) fn edit<T>(ctx: &Ctx<'_>, id: &str, f: impl FnOnce(&mut RestApi) -> AwsResult<T>) -> AwsResult<T> {
    ctx.store.write(|t| {
        let mut api = load(t, ctx, id)?;
        let out = f(&mut api)?;
        t.put(&key(ctx, KIND, id), &api)?;
        Ok(out)
    })
}

/// The resource `id` of `api`, or AWS's not-found error.
pub(super) fn resource<'a>(api: &'a RestApi, id: &str) -> AwsResult<&'a Resource> {
    api.resources.get(id).ok_or_else(resource_not_found)
}

/// The resource `id` of `api`, mutably.
pub(super) fn resource_mut<'a>(api: &'a mut RestApi, id: &str) -> AwsResult<&'a mut Resource> {
    api.resources.get_mut(id).ok_or_else(resource_not_found)
}

fn resource_not_found() -> AwsError {
    not_found("Invalid Resource identifier specified")
}

// ---------------------------------------------------------------------------------------------
// REST APIs.

/// `POST /restapis`.
pub(super) fn create_rest_api(ctx: &Ctx<'_>, body: &Map<String, Value>) -> AwsResult<RestResponse> {
    let name = opt_str(body, "name")?
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| bad_request("Invalid REST API name specified"))?;
    let tags = str_map(body, "tags")?;
    validate_tags(&tags)?;
    let minimum_compression_size = opt_int(body, "minimumCompressionSize")?;
    check_compression_size(minimum_compression_size)?;
    let id = new_id(10);
    let root_id = new_id(10);
    let mut api = RestApi {
        id: id.clone(),
        name,
        description: opt_str(body, "description")?,
        created_date: now_secs(ctx),
        version: opt_str(body, "version")?,
        binary_media_types: str_list(body, "binaryMediaTypes")?,
        minimum_compression_size,
        api_key_source: api_key_source(opt_str(body, "apiKeySource")?.as_deref().unwrap_or("HEADER"))?,
        endpoint_configuration: endpoint_configuration(opt_object(body, "endpointConfiguration")?)?,
        policy: opt_str(body, "policy")?,
        disable_execute_api_endpoint: opt_bool(body, "disableExecuteApiEndpoint")?.unwrap_or(false),
        root_resource_id: root_id.clone(),
        tags,
        resources: BTreeMap::from([(
            root_id.clone(),
            Resource {
                id: root_id,
                parent_id: None,
                path_part: None,
                path: "/".into(),
                resource_methods: BTreeMap::new(),
            },
        )]),
    };
    ctx.store.write(|t| {
        if let Some(source) = opt_str(body, "cloneFrom")? {
            // CreateRestApi has no NotFoundException: a missing source is a bad request.
            let source = load(t, ctx, &source).map_err(|e| bad_request(e.message))?;
            clone_definition(&source, &mut api);
        }
        t.put(&key(ctx, KIND, &id), &api)?;
        t.put(
            &super::api_index_key(&id),
            &serde_json::json!({ "account": ctx.account(), "region": ctx.region() }),
        )?;
        Ok::<_, AwsError>(())
    })?;
    Ok(respond(201, &api))
}

/// Copies `source`'s resources and methods into the fresh `api`, under new ids.
fn clone_definition(source: &RestApi, api: &mut RestApi) {
    let mut new_ids: BTreeMap<String, String> = source
        .resources
        .keys()
        .map(|old| (old.clone(), new_id(10)))
        .collect();
    new_ids.insert(source.root_resource_id.clone(), api.root_resource_id.clone());
    api.resources = source
        .resources
        .values()
        .filter_map(|r| {
            let id = new_ids.get(&r.id)?.clone();
            let mut copy = r.clone();
            copy.id = id.clone();
            copy.parent_id = r.parent_id.as_ref().and_then(|p| new_ids.get(p).cloned());
            for m in copy.resource_methods.values_mut() {
                if let Some(i) = &mut m.method_integration {
                    i.cache_namespace = id.clone();
                }
            }
            Some((id, copy))
        })
        .collect();
    api.binary_media_types = source.binary_media_types.clone();
}

fn check_compression_size(size: Option<i64>) -> AwsResult<()> {
    match size {
        Some(s) if !(0..=MAX_COMPRESSION_SIZE).contains(&s) => Err(bad_request(format!(
            "Invalid minimum compression size, must be between 0 and {MAX_COMPRESSION_SIZE}"
        ))),
        _ => Ok(()),
    }
}

fn api_key_source(source: &str) -> AwsResult<String> {
    match source {
        "HEADER" | "AUTHORIZER" => Ok(source.to_owned()),
        other => Err(bad_request(format!(
            "Invalid API Key source specified: {other}. Valid values are HEADER, AUTHORIZER"
        ))),
    }
}

/// The endpoint configuration: one type of EDGE (the default), REGIONAL or PRIVATE.
fn endpoint_configuration(input: Option<&Map<String, Value>>) -> AwsResult<EndpointConfiguration> {
    let Some(input) = input else {
        return Ok(EndpointConfiguration {
            types: vec!["EDGE".into()],
            ip_address_type: Some("ipv4".into()),
            vpc_endpoint_ids: Vec::new(),
        });
    };
    let types = str_list(input, "types")?;
    let types = if types.is_empty() {
        vec!["EDGE".to_owned()]
    } else {
        types
    };
    if types.len() > 1 {
        return Err(bad_request("Cannot create an api with multiple Endpoint Types."));
    }
    for t in &types {
        endpoint_type(t)?;
    }
    let ip_address_type = opt_str(input, "ipAddressType")?.unwrap_or_else(|| "ipv4".into());
    if !["ipv4", "dualstack"].contains(&ip_address_type.as_str()) {
        return Err(bad_request(format!(
            "Invalid IP address type specified: {ip_address_type}. Valid values are ipv4, dualstack"
        )));
    }
    let vpc_endpoint_ids = str_list(input, "vpcEndpointIds")?;
    if !vpc_endpoint_ids.is_empty() && types.first().map(String::as_str) != Some("PRIVATE") {
        return Err(bad_request(
            "VPC endpoint IDs can only be specified for APIs of endpoint type PRIVATE",
        ));
    }
    Ok(EndpointConfiguration {
        types,
        ip_address_type: Some(ip_address_type),
        vpc_endpoint_ids,
    })
}

fn endpoint_type(t: &str) -> AwsResult<()> {
    match t {
        "EDGE" | "REGIONAL" | "PRIVATE" => Ok(()),
        other => Err(bad_request(format!(
            "Invalid EndpointType specified: {other}. Valid values are EDGE, REGIONAL, PRIVATE"
        ))),
    }
}

/// `GET /restapis`.
pub(super) fn get_rest_apis(ctx: &Ctx<'_>, page: &Page) -> AwsResult<RestResponse> {
    let prefix = format!("{}/{}/{}/{KIND}/", ctx.account(), ctx.region(), super::SERVICE);
    let apis: Vec<(String, RestApi)> = ctx.store.read(|t| t.list(&prefix))?;
    let items = apis
        .into_iter()
        .map(|(_, api)| (api.id.clone(), render(&api)))
        .collect();
    Ok(RestResponse::json(200, page.of_items(items)))
}

/// `GET /restapis/{id}`.
pub(super) fn get_rest_api(ctx: &Ctx<'_>, id: &str) -> AwsResult<RestResponse> {
    read(ctx, id, |api| Ok(respond(200, api)))
}

const REST_API_PATHS: &str = "/name, /description, /version, /policy, /apiKeySource, \
     /minimumCompressionSize, /disableExecuteApiEndpoint, /binaryMediaTypes/<type>, \
     /endpointConfiguration/types/0, /endpointConfiguration/ipAddressType";

/// `PATCH /restapis/{id}`.
pub(super) fn update_rest_api(ctx: &Ctx<'_>, id: &str, ops: &[PatchOp]) -> AwsResult<RestResponse> {
    edit(ctx, id, |api| {
        for op in ops {
            patch_rest_api(api, op)?;
        }
        Ok(respond(200, api))
    })
}

fn patch_rest_api(api: &mut RestApi, op: &PatchOp) -> AwsResult<()> {
    let tokens = op.tokens();
    let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
    match (op.op.as_str(), tokens.as_slice()) {
        ("replace", ["name"]) => {
            api.name = op
                .opt_value()
                .ok_or_else(|| bad_request("Invalid REST API name specified"))?;
        }
        ("replace", ["description"]) => api.description = op.opt_value(),
        ("replace", ["version"]) => api.version = op.opt_value(),
        ("replace", ["policy"]) => api.policy = op.opt_value(),
        ("replace", ["apiKeySource"]) => api.api_key_source = api_key_source(op.value()?)?,
        ("replace", ["minimumCompressionSize"]) => {
            api.minimum_compression_size = match op.opt_value() {
                None => None,
                Some(_) => Some(op.int()?),
            };
            check_compression_size(api.minimum_compression_size)?;
        }
        ("replace", ["disableExecuteApiEndpoint"]) => api.disable_execute_api_endpoint = op.bool()?,
        ("add", ["binaryMediaTypes", media_type]) => {
            if !api.binary_media_types.iter().any(|t| t == media_type) {
                api.binary_media_types.push((*media_type).to_owned());
            }
        }
        ("remove", ["binaryMediaTypes", media_type]) => {
            api.binary_media_types.retain(|t| t != media_type);
        }
        ("replace", ["binaryMediaTypes", media_type]) => {
            let new = op.value()?.to_owned();
            api.binary_media_types.retain(|t| t != media_type);
            if !api.binary_media_types.contains(&new) {
                api.binary_media_types.push(new);
            }
        }
        ("replace", ["endpointConfiguration", "types", _]) => {
            let t = op.value()?;
            endpoint_type(t)?;
            api.endpoint_configuration.types = vec![t.to_owned()];
            if t != "PRIVATE" {
                api.endpoint_configuration.vpc_endpoint_ids.clear();
            }
        }
        ("replace", ["endpointConfiguration", "ipAddressType"]) => {
            let t = op.value()?;
            if !["ipv4", "dualstack"].contains(&t) {
                return Err(bad_request(format!("Invalid IP address type specified: {t}")));
            }
            api.endpoint_configuration.ip_address_type = Some(t.to_owned());
        }
        _ => return Err(op.invalid_path(REST_API_PATHS)),
    }
    Ok(())
}

/// `DELETE /restapis/{id}`: the API with every stage and deployment, and its stages'
/// memberships in usage plans.
pub(super) fn delete_rest_api(ctx: &Ctx<'_>, id: &str) -> AwsResult<RestResponse> {
    ctx.store.write(|t| {
        load(t, ctx, id)?;
        for kind in [super::deployments::DEPLOYMENT, super::deployments::STAGE] {
            for k in t.keys(&child_prefix(ctx, kind, id))? {
                t.delete(&k)?;
            }
        }
        keys::forget_api_stages(t, ctx, id, None)?;
        t.delete(&key(ctx, KIND, id))?;
        t.delete(&super::api_index_key(id))?;
        Ok::<_, AwsError>(())
    })?;
    Ok(RestResponse::empty(202))
}

// ---------------------------------------------------------------------------------------------
// Resources.

/// A resource as the wire shows it: with `embed=methods` its methods in full, otherwise only
/// their names (each mapped to `{}`), as AWS does.
pub(super) fn render_resource(r: &Resource, embed_methods: bool) -> Value {
    let mut v = render(r);
    if !embed_methods && let Some(Value::Object(methods)) = v.get_mut("resourceMethods") {
        for m in methods.values_mut() {
            *m = json!({});
        }
    }
    v
}

/// `GET /restapis/{id}/resources`.
pub(super) fn get_resources(ctx: &Ctx<'_>, id: &str, page: &Page, embed: bool) -> AwsResult<RestResponse> {
    read(ctx, id, |api| {
        let items = api
            .resources_by_path()
            .into_iter()
            .map(|r| (format!("{}\u{0}{}", r.path, r.id), render_resource(r, embed)))
            .collect();
        Ok(RestResponse::json(200, page.of_items(items)))
    })
}

/// `GET /restapis/{id}/resources/{resource}`.
pub(super) fn get_resource(
    ctx: &Ctx<'_>,
    id: &str,
    resource_id: &str,
    embed: bool,
) -> AwsResult<RestResponse> {
    read(ctx, id, |api| {
        Ok(RestResponse::json(
            200,
            render_resource(resource(api, resource_id)?, embed),
        ))
    })
}

/// `POST /restapis/{id}/resources/{parent}`.
pub(super) fn create_resource(
    ctx: &Ctx<'_>,
    id: &str,
    parent_id: &str,
    body: &Map<String, Value>,
) -> AwsResult<RestResponse> {
    let path_part = opt_str(body, "pathPart")?.unwrap_or_default();
    edit(ctx, id, |api| {
        resource(api, parent_id)?;
        check_path_part(&path_part)?;
        check_placement(api, parent_id, &path_part, None)?;
        if api.resources.len() >= MAX_RESOURCES {
            return Err(limit_exceeded(format!(
                "Maximum number of Resources for this API has been reached: {MAX_RESOURCES}"
            )));
        }
        let resource_id = new_id(10);
        api.resources.insert(
            resource_id.clone(),
            Resource {
                id: resource_id.clone(),
                parent_id: Some(parent_id.to_owned()),
                path_part: Some(path_part.clone()),
                path: String::new(),
                resource_methods: BTreeMap::new(),
            },
        );
        api.recompute_paths();
        Ok(RestResponse::json(
            201,
            render_resource(resource(api, &resource_id)?, false),
        ))
    })
}

/// `a-zA-Z0-9._-`, or a `{variable}` / greedy `{variable+}`.
fn check_path_part(part: &str) -> AwsResult<()> {
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'))
    };
    let ok = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
        Some(var) => plain(var.strip_suffix('+').unwrap_or(var)),
        None => plain(part),
    };
    if ok {
        Ok(())
    } else {
        Err(bad_request(
            "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end \
             and an optional plus sign before the closing brace.",
        ))
    }
}

fn is_variable(part: &str) -> bool {
    part.starts_with('{') && part.ends_with('}')
}

/// Checks that `part` may live under `parent_id` (ignoring the resource `moving`, if any):
/// no child of a greedy variable, no sibling with the same name, one variable per level.
fn check_placement(api: &RestApi, parent_id: &str, part: &str, moving: Option<&str>) -> AwsResult<()> {
    let parent = resource(api, parent_id)?;
    if let Some(p) = &parent.path_part
        && p.ends_with("+}")
    {
        return Err(bad_request(format!(
            "Cannot create a child of a resource with a greedy path variable: {p}"
        )));
    }
    let siblings = api
        .resources
        .values()
        .filter(|r| r.parent_id.as_deref() == Some(parent_id) && Some(r.id.as_str()) != moving);
    for sibling in siblings {
        let Some(existing) = sibling.path_part.as_deref() else {
            continue;
        };
        if existing == part {
            return Err(conflict(format!(
                "Another resource with the same parent already has this name: {part}"
            )));
        }
        if is_variable(existing) && is_variable(part) {
            return Err(bad_request(format!(
                "A sibling ({existing}) of this resource already has a variable path part -- only one is allowed"
            )));
        }
    }
    Ok(())
}

const RESOURCE_PATHS: &str = "/pathPart, /parentId";

/// `PATCH /restapis/{id}/resources/{resource}`: rename or move (the subtree follows).
pub(super) fn update_resource(
    ctx: &Ctx<'_>,
    id: &str,
    resource_id: &str,
    ops: &[PatchOp],
) -> AwsResult<RestResponse> {
    edit(ctx, id, |api| {
        for op in ops {
            let current = resource(api, resource_id)?.clone();
            let is_root = current.parent_id.is_none();
            match (op.op.as_str(), op.path.as_str()) {
                ("replace", "/pathPart") if !is_root => {
                    let part = op.value()?.to_owned();
                    check_path_part(&part)?;
                    let parent = current.parent_id.clone().unwrap_or_default();
                    check_placement(api, &parent, &part, Some(resource_id))?;
                    resource_mut(api, resource_id)?.path_part = Some(part);
                }
                ("replace", "/parentId") if !is_root => {
                    let parent = op.value()?.to_owned();
                    if api.subtree(resource_id).contains(&parent) {
                        return Err(bad_request("Cannot move a resource below itself"));
                    }
                    let part = current.path_part.clone().unwrap_or_default();
                    check_placement(api, &parent, &part, Some(resource_id))?;
                    resource_mut(api, resource_id)?.parent_id = Some(parent);
                }
                _ => return Err(op.invalid_path(RESOURCE_PATHS)),
            }
            api.recompute_paths();
        }
        Ok(RestResponse::json(
            200,
            render_resource(resource(api, resource_id)?, false),
        ))
    })
}

/// `DELETE /restapis/{id}/resources/{resource}`: the resource and everything below it.
pub(super) fn delete_resource(ctx: &Ctx<'_>, id: &str, resource_id: &str) -> AwsResult<RestResponse> {
    edit(ctx, id, |api| {
        if resource(api, resource_id)?.parent_id.is_none() {
            return Err(bad_request("Cannot delete root resource"));
        }
        for gone in api.subtree(resource_id) {
            api.resources.remove(&gone);
        }
        Ok(RestResponse::empty(202))
    })
}
