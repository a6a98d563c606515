//! Tags (`/2017-03-31/tags/{arn}`) on functions and event source mappings. They live in the
//! resource's document, under `Tags`.

use super::{FunctionRef, body_of, function_key, invalid, not_found, opt_string_map, validation};
use crate::protocol::rest::{RestRequest, RestResponse};
use crate::services::{Ctx, is_gone};
use crate::{AwsError, AwsResult};
use serde_json::{Map, Value, json};

/// Lambda allows 50 tags per resource.
const MAX_TAGS: usize = 50;

/// `ListTags`.
pub(super) fn list(ctx: &Ctx<'_>, arn: &str) -> AwsResult<RestResponse> {
    let key = resource_key(ctx, arn)?;
    let doc = ctx.store.read(|t| load(t, ctx, &key, arn))?;
    Ok(RestResponse::json(200, json!({ "Tags": tags_of(&doc) })))
}

/// `TagResource`: 204.
pub(super) fn tag(ctx: &Ctx<'_>, req: &RestRequest, arn: &str) -> AwsResult<RestResponse> {
    let key = resource_key(ctx, arn)?;
    let body = body_of(req)?;
    let added = opt_string_map(&body, "Tags")?.ok_or_else(|| super::missing("tags"))?;
    ctx.store.write(|t| {
        let mut doc = load(t, ctx, &key, arn)?;
        let mut tags = tags_of(&doc);
        tags.extend(added);
        if tags.len() > MAX_TAGS {
            return Err(invalid(format!(
                "Number of tags exceeds resource tag limit. A resource can have at most {MAX_TAGS} tags."
            )));
        }
        doc.insert("Tags".into(), Value::Object(tags));
        t.put(&key, &doc)?;
        Ok::<_, AwsError>(())
    })?;
    Ok(RestResponse::empty(204))
}

/// `UntagResource`: 204; the keys come as repeated `tagKeys` query parameters.
pub(super) fn untag(ctx: &Ctx<'_>, req: &RestRequest, arn: &str) -> AwsResult<RestResponse> {
    let key = resource_key(ctx, arn)?;
    let removed: Vec<&str> = req
        .query
        .iter()
        .filter(|(k, _)| k == "tagKeys")
        .map(|(_, v)| v.as_str())
        .collect();
    ctx.store.write(|t| {
        let mut doc = load(t, ctx, &key, arn)?;
        let mut tags = tags_of(&doc);
        for k in &removed {
            tags.remove(*k);
        }
        doc.insert("Tags".into(), Value::Object(tags));
        t.put(&key, &doc)?;
        Ok::<_, AwsError>(())
    })?;
    Ok(RestResponse::empty(204))
}

/// The store key of the function or mapping `arn` names.
fn resource_key(ctx: &Ctx<'_>, arn: &str) -> AwsResult<String> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "lambda", region, account, "function", name]
            if *region == ctx.region() && *account == ctx.account() && super::is_function_name(name) =>
        {
            Ok(function_key(ctx, name))
        }
        ["arn", _, "lambda", _, _, "function", _, _] => Err(invalid(
            "Tags on function aliases and versions are not supported. Please specify a function ARN.",
        )),
        ["arn", _, "lambda", region, account, "event-source-mapping", uuid]
            if *region == ctx.region() && *account == ctx.account() =>
        {
            Ok(ctx.key("lambda", super::mappings::KIND, uuid))
        }
        ["arn", _, "lambda", _, _, "function", name] => Err(super::functions::function_not_found(
            ctx,
            &FunctionRef {
                name: (*name).to_owned(),
                qualifier: None,
                elsewhere: true,
            },
        )),
        _ => Err(validation(format!(
            "1 validation error detected: Value '{arn}' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z]{{2}}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{{1}}:\\d{{12}}:(function:[a-zA-Z0-9-_]+|event-source-mapping:[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}})"
        ))),
    }
}

fn load(txn: &crate::store::Txn<'_>, ctx: &Ctx<'_>, key: &str, arn: &str) -> AwsResult<Map<String, Value>> {
    let missing = || {
        if arn.contains(":function:") {
            not_found(format!("Function not found: {arn}"))
        } else {
            not_found("The resource you requested does not exist.")
        }
    };
    let doc = txn.get::<Map<String, Value>>(key)?.ok_or_else(missing)?;
    if is_gone(&Value::Object(doc.clone()), ctx.now_ms) {
        return Err(missing());
    }
    Ok(doc)
}

fn tags_of(doc: &Map<String, Value>) -> Map<String, Value> {
    doc.get("Tags")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}
