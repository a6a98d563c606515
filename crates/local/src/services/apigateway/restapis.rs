//! REST APIs and their resources.

use super::model::{EndpointConfiguration, Resource, RestApi};
use super::patch::PatchOp;
use super::{
    Page, api_not_found, bad_request, child_prefix, conflict, enum_violation, key, keys, limit_exceeded,
    new_id, not_found, now_secs, opt_bool, opt_int, opt_object, opt_str, render, respond, str_list, str_map,
    validate_tags, validated, with_empty_tags,
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
    read_or(ctx, id, || api_not_found(ctx, id), f)
}

/// [`read`], with `missing()` the error for an unknown API.
pub(super) fn read_or<T>(
    ctx: &Ctx<'_>,
    id: &str,
    missing: impl FnOnce() -> AwsError,
    f: impl FnOnce(&RestApi) -> AwsResult<T>,
) -> AwsResult<T> {
    ctx.store
        .read(|t| f(&t.get::<RestApi>(&key(ctx, KIND, id))?.ok_or_else(missing)?))
}

/// Changes the API `id` in one transaction; nothing is written when `f` fails.
pub(super) fn edit<T>(ctx: &Ctx<'_>, id: &str, f: impl FnOnce(&mut RestApi) -> AwsResult<T>) -> AwsResult<T> {
    edit_or(ctx, id, || api_not_found(ctx, id), f)
}

/// [`edit`], with `missing()` the error for an unknown API.
pub(super) fn edit_or<T>(
    ctx: &Ctx<'_>,
    id: &str,
    missing: impl FnOnce() -> AwsError,
    f: impl FnOnce(&mut RestApi) -> AwsResult<T>,
) -> AwsResult<T> {
    ctx.store.write(|t| {
        let mut api = t.get::<RestApi>(&key(ctx, KIND, id))?.ok_or_else(missing)?;
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

pub(super) fn resource_not_found() -> AwsError {
    not_found("Invalid Resource identifier specified")
}

// ---------------------------------------------------------------------------------------------
// REST APIs.

/// `POST /restapis`. The front end checks the enums first; then the description, the
/// compression size and the endpoint configuration, in that order (recorded: LocalStack
/// test_create_rest_api_with_endpoint_configuration, test_create_rest_api_private_type).
pub(super) fn create_rest_api(ctx: &Ctx<'_>, body: &Map<String, Value>) -> AwsResult<RestResponse> {
    let endpoint_input = opt_object(body, "endpointConfiguration")?;
    let api_key_source = opt_str(body, "apiKeySource")?;
    check_create_enums(api_key_source.as_deref(), endpoint_input)?;
    let name = opt_str(body, "name")?
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| bad_request("Invalid REST API name specified"))?;
    let description = opt_str(body, "description")?;
    if description.as_deref() == Some("") {
        return Err(bad_request("Description cannot be an empty string"));
    }
    let tags = str_map(body, "tags")?;
    validate_tags(&tags)?;
    let minimum_compression_size = opt_int(body, "minimumCompressionSize")?;
    check_compression_size(minimum_compression_size)?;
    let endpoint_configuration = endpoint_configuration(endpoint_input)?;
    let id = new_id(10);
    let root_id = new_id(10);
    let mut api = RestApi {
        id: id.clone(),
        name,
        description,
        created_date: now_secs(ctx),
        version: opt_str(body, "version")?,
        binary_media_types: str_list(body, "binaryMediaTypes")?,
        minimum_compression_size,
        api_key_source: api_key_source.unwrap_or_else(|| "HEADER".into()),
        endpoint_configuration,
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

const API_KEY_SOURCES: [&str; 2] = ["HEADER", "AUTHORIZER"];
/// In the order AWS's validation message lists them.
const ENDPOINT_TYPES: [&str; 3] = ["PRIVATE", "EDGE", "REGIONAL"];
const IP_ADDRESS_TYPES: [&str; 2] = ["ipv4", "dualstack"];

/// CreateRestApi's enum members, as the front end validates them: `types` (shown as the whole
/// list) before `ipAddressType`, whatever their order in the request.
fn check_create_enums(api_key_source: Option<&str>, endpoint: Option<&Map<String, Value>>) -> AwsResult<()> {
    let mut violations = Vec::new();
    if let Some(source) = api_key_source.filter(|s| !API_KEY_SOURCES.contains(s)) {
        violations.push(enum_violation(
            source,
            "createRestApiInput.apiKeySource",
            &API_KEY_SOURCES,
        ));
    }
    if let Some(endpoint) = endpoint {
        let types = str_list(endpoint, "types")?;
        if types.iter().any(|t| !ENDPOINT_TYPES.contains(&t.as_str())) {
            violations.push(format!(
                "Value '[{}]' at 'createRestApiInput.endpointConfiguration.types' failed to satisfy \
                 constraint: Member must satisfy constraint: [Member must satisfy enum value set: [{}]]",
                types.join(", "),
                ENDPOINT_TYPES.join(", ")
            ));
        }
        if let Some(ip) =
            opt_str(endpoint, "ipAddressType")?.filter(|ip| !IP_ADDRESS_TYPES.contains(&ip.as_str()))
        {
            violations.push(enum_violation(
                &ip,
                "createRestApiInput.endpointConfiguration.ipAddressType",
                &IP_ADDRESS_TYPES,
            ));
        }
    }
    validated(&violations)
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
        Some(s) if !(0..=MAX_COMPRESSION_SIZE).contains(&s) => Err(compression_size_error()),
        _ => Ok(()),
    }
}

fn compression_size_error() -> AwsError {
    bad_request(format!(
        "Invalid minimum compression size, must be between 0 and {MAX_COMPRESSION_SIZE}"
    ))
}

fn api_key_source(source: &str) -> AwsResult<String> {
    match source {
        "HEADER" | "AUTHORIZER" => Ok(source.to_owned()),
        other => Err(bad_request(format!(
            "Invalid API Key source specified: {other}. Valid values are HEADER, AUTHORIZER"
        ))),
    }
}

/// The endpoint configuration (its enums already checked): one type, EDGE when none is
/// given. A PRIVATE API is dualstack only, and dualstack by default; the others default to
/// ipv4 (recorded: LocalStack test_create_rest_api_verify_defaults,
/// test_create_rest_api_private_type).
fn endpoint_configuration(input: Option<&Map<String, Value>>) -> AwsResult<EndpointConfiguration> {
    let Some(input) = input else {
        return Ok(EndpointConfiguration {
            types: vec!["EDGE".into()],
            ip_address_type: Some("ipv4".into()),
            vpc_endpoint_ids: Vec::new(),
        });
    };
    let types = match input.get("types") {
        None | Some(Value::Null) => vec!["EDGE".to_owned()],
        Some(_) => str_list(input, "types")?,
    };
    // An empty list disables every type (recorded: LocalStack
    // test_create_rest_api_with_endpoint_configuration).
    if types.is_empty() {
        return Err(bad_request(
            "REGIONAL Configuration and EDGE Configuration cannot be both DISABLED.",
        ));
    }
    if types.len() > 1 {
        return Err(bad_request("Cannot create an api with multiple Endpoint Types."));
    }
    let private = types.iter().any(|t| t == "PRIVATE");
    let ip_address_type =
        opt_str(input, "ipAddressType")?.unwrap_or_else(|| if private { "dualstack" } else { "ipv4" }.into());
    check_private_dualstack(private, &ip_address_type)?;
    let vpc_endpoint_ids = str_list(input, "vpcEndpointIds")?;
    if !vpc_endpoint_ids.is_empty() && !private {
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

fn check_private_dualstack(private: bool, ip_address_type: &str) -> AwsResult<()> {
    if private && ip_address_type != "dualstack" {
        return Err(bad_request(
            "Only dualstack ipAddressType is supported for Private APIs.",
        ));
    }
    Ok(())
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
        let endpoint = &api.endpoint_configuration;
        check_private_dualstack(
            endpoint.types.iter().any(|t| t == "PRIVATE"),
            endpoint.ip_address_type.as_deref().unwrap_or("ipv4"),
        )?;
        Ok(with_empty_tags(respond(200, api)))
    })
}

/// The API's own fields that only `replace` changes (recorded for `minimumCompressionSize` and
/// `endpointConfiguration/ipAddressType`: LocalStack test_update_rest_api_compression,
/// test_update_rest_api_ip_address_type).
const REPLACE_ONLY: [&str; 7] = [
    "/name",
    "/version",
    "/policy",
    "/apiKeySource",
    "/minimumCompressionSize",
    "/disableExecuteApiEndpoint",
    "/endpointConfiguration/ipAddressType",
];

fn patch_rest_api(api: &mut RestApi, op: &PatchOp) -> AwsResult<()> {
    let tokens = op.tokens();
    let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
    if op.op != "replace" && REPLACE_ONLY.contains(&op.path.as_str()) {
        return Err(op.unsupported_op("replace"));
    }
    match (op.op.as_str(), tokens.as_slice()) {
        ("replace", ["name"]) => {
            api.name = op
                .opt_value()
                .ok_or_else(|| bad_request("Invalid REST API name specified"))?;
        }
        ("replace", ["description"]) => api.description = op.opt_value(),
        ("remove", ["description"]) => api.description = None,
        ("replace", ["version"]) => api.version = op.opt_value(),
        ("replace", ["policy"]) => api.policy = op.opt_value(),
        ("replace", ["apiKeySource"]) => api.api_key_source = api_key_source(op.value()?)?,
        ("replace", ["minimumCompressionSize"]) => {
            // A value that is no number reads as out of range (recorded: LocalStack
            // test_update_rest_api_compression).
            api.minimum_compression_size = match op.opt_value() {
                None => None,
                Some(v) => Some(v.parse::<i64>().map_err(|_| compression_size_error())?),
            };
            check_compression_size(api.minimum_compression_size)?;
        }
        ("replace", ["disableExecuteApiEndpoint"]) => api.disable_execute_api_endpoint = op.bool(),
        // The list itself is no path: a patch names a type in it (recorded: LocalStack
        // test_update_rest_api_behaviour).
        (_, ["binaryMediaTypes"]) => return Err(op.unknown_path()),
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
        ("replace", ["endpointConfiguration", "types", _]) => set_endpoint_type(api, op.value()?)?,
        // AWS's wording, recorded for `remove` (LocalStack test_update_rest_api_ip_address_type).
        (_, ["endpointConfiguration", "types", _]) => {
            return Err(bad_request(
                "Invalid patch operation specified. Must be 'add'|'remove'|'replace'",
            ));
        }
        ("replace", ["endpointConfiguration", "ipAddressType"]) => {
            let t = op.value()?;
            if !IP_ADDRESS_TYPES.contains(&t) {
                return Err(bad_request("ipAddressType must be either ipv4 or dualstack."));
            }
            api.endpoint_configuration.ip_address_type = Some(t.to_owned());
        }
        _ => return Err(op.invalid_path(REST_API_PATHS)),
    }
    Ok(())
}

/// A new endpoint type; becoming PRIVATE switches the API to dualstack, the only address type
/// a private API has (recorded: LocalStack test_update_rest_api_ip_address_type).
fn set_endpoint_type(api: &mut RestApi, t: &str) -> AwsResult<()> {
    if !ENDPOINT_TYPES.contains(&t) {
        return Err(bad_request(
            "Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE",
        ));
    }
    let endpoint = &mut api.endpoint_configuration;
    endpoint.types = vec![t.to_owned()];
    if t == "PRIVATE" {
        endpoint.ip_address_type = Some("dualstack".into());
    } else {
        endpoint.vpc_endpoint_ids.clear();
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

/// As AWS lists them (recorded: LocalStack test_update_resource_behaviour).
const RESOURCE_PATHS: &str = "/parentId, /pathPart";

/// `PATCH /restapis/{id}/resources/{resource}`: rename or move (the subtree follows).
pub(super) fn update_resource(
    ctx: &Ctx<'_>,
    id: &str,
    resource_id: &str,
    ops: &[PatchOp],
) -> AwsResult<RestResponse> {
    edit(ctx, id, |api| {
        for op in ops {
            patch_resource(api, resource_id, op)?;
            api.recompute_paths();
        }
        Ok(RestResponse::json(
            200,
            render_resource(resource(api, resource_id)?, false),
        ))
    })
}

/// One operation on a resource: only `replace`, of `/pathPart` or `/parentId`, and never on
/// the root (recorded: LocalStack test_update_resource_behaviour,
/// test_update_resource_on_root).
fn patch_resource(api: &mut RestApi, resource_id: &str, op: &PatchOp) -> AwsResult<()> {
    let current = resource(api, resource_id)?.clone();
    let field = match op.path.as_str() {
        "/pathPart" => "pathPart",
        "/parentId" => "parentId",
        _ => return Err(op.invalid_path(RESOURCE_PATHS)),
    };
    if op.op != "replace" {
        return Err(bad_request(format!(
            "Invalid patch path  '{}' specified for op '{}'. Please choose supported operations",
            op.path, op.op
        )));
    }
    if current.parent_id.is_none() {
        return Err(bad_request(format!("Root resource cannot update its {field}.")));
    }
    if field == "pathPart" {
        let part = op.value()?.to_owned();
        check_path_part(&part)?;
        let parent = current.parent_id.clone().unwrap_or_default();
        check_placement(api, &parent, &part, Some(resource_id))?;
        resource_mut(api, resource_id)?.path_part = Some(part);
    } else {
        let parent = op.value()?.to_owned();
        if api.subtree(resource_id).contains(&parent) {
            return Err(bad_request("Resources cannot be cyclical."));
        }
        let part = current.path_part.clone().unwrap_or_default();
        check_placement(api, &parent, &part, Some(resource_id))?;
        resource_mut(api, resource_id)?.parent_id = Some(parent);
    }
    Ok(())
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
