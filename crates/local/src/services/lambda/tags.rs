//! Tags (`/2017-03-31/tags/{arn}`) on functions and event source mappings. They live in the
//! resource's document, under `Tags`.

use super::names::{Taggable, taggable};
use super::{FunctionRef, body_of, function_key, invalid, not_found, opt_string_map};
use crate::protocol::rest::{RestRequest, RestResponse};
use crate::services::{Ctx, is_gone};
use crate::{AwsError, AwsResult};
use serde_json::{Map, Value, json};

/// Lambda allows 50 tags per resource.
const MAX_TAGS: usize = 50;

/// A resource may hold [`MAX_TAGS`] tags, at creation as afterwards (recorded: LocalStack
/// test_tag_limits).
pub(super) fn check_count(count: usize) -> AwsResult<()> {
    if count > MAX_TAGS {
        return Err(invalid("Number of tags exceeds resource tag limit."));
    }
    Ok(())
}

/// `ListTags`.
pub(super) fn list(ctx: &Ctx<'_>, arn: &str) -> AwsResult<RestResponse> {
    let resource = resource(ctx, arn)?;
    let doc = ctx.store.read(|t| load(t, ctx, &resource))?;
    Ok(RestResponse::json(200, json!({ "Tags": tags_of(&doc) })))
}

/// `TagResource`: 204. Tags must be given, and not none (recorded: LocalStack
/// test_tag_exceptions).
pub(super) fn tag(ctx: &Ctx<'_>, req: &RestRequest, arn: &str) -> AwsResult<RestResponse> {
    let resource = resource(ctx, arn)?;
    let body = body_of(req)?;
    let added = opt_string_map(&body, "Tags")?.ok_or_else(|| super::missing("tags"))?;
    if added.is_empty() {
        return Err(invalid("An error occurred and the request cannot be processed."));
    }
    ctx.store.write(|t| {
        let mut doc = load(t, ctx, &resource)?;
        let mut tags = tags_of(&doc);
        tags.extend(added);
        check_count(tags.len())?;
        doc.insert("Tags".into(), Value::Object(tags));
        t.put(&resource.key, &doc)?;
        Ok::<_, AwsError>(())
    })?;
    Ok(RestResponse::empty(204))
}

/// `UntagResource`: 204; the keys come as repeated `tagKeys` query parameters, and there
/// must be some: SDKs send none for an empty list, which the model refuses as null
/// (recorded: LocalStack test_tag_exceptions).
pub(super) fn untag(ctx: &Ctx<'_>, req: &RestRequest, arn: &str) -> AwsResult<RestResponse> {
    let resource = resource(ctx, arn)?;
    let removed: Vec<&str> = req
        .query
        .iter()
        .filter(|(k, _)| k == "tagKeys")
        .map(|(_, v)| v.as_str())
        .collect();
    if removed.is_empty() {
        return Err(super::missing("tagKeys"));
    }
    ctx.store.write(|t| {
        let mut doc = load(t, ctx, &resource)?;
        let mut tags = tags_of(&doc);
        for k in &removed {
            tags.remove(*k);
        }
        doc.insert("Tags".into(), Value::Object(tags));
        t.put(&resource.key, &doc)?;
        Ok::<_, AwsError>(())
    })?;
    Ok(RestResponse::empty(204))
}

/// A tagged resource: where its document is and what Lambda says when it is not there.
struct Resource {
    key: String,
    not_found: AwsError,
}

/// The function or mapping `arn` names.
fn resource(ctx: &Ctx<'_>, arn: &str) -> AwsResult<Resource> {
    let (region, account, named) = taggable(arn)?;
    let here = region == ctx.region() && account == ctx.account();
    match named {
        // Checked before the function is looked for (recorded: LocalStack test_tag_exceptions).
        Taggable::Function { qualified: true, .. } => Err(invalid(
            "Tags on function aliases and versions are not supported. Please specify a function ARN.",
        )),
        Taggable::Function { name, .. } => Ok(Resource {
            key: function_key(ctx, name),
            not_found: super::functions::function_not_found(
                ctx,
                &FunctionRef {
                    name: name.to_owned(),
                    qualifier: None,
                    elsewhere: !here,
                },
            ),
        }),
        // The mapping is named by its ARN (recorded: LocalStack test_tag_exceptions).
        Taggable::Mapping { uuid } => Ok(Resource {
            key: ctx.key("lambda", super::mappings::KIND, uuid),
            not_found: not_found(format!("Event source mapping not found: {arn}")),
        }),
        Taggable::Other => Err(not_found("The resource you requested does not exist.")),
    }
    .and_then(|r| if here { Ok(r) } else { Err(r.not_found) })
}

fn load(txn: &crate::store::Txn<'_>, ctx: &Ctx<'_>, resource: &Resource) -> AwsResult<Map<String, Value>> {
    let doc = txn
        .get::<Map<String, Value>>(&resource.key)?
        .ok_or_else(|| resource.not_found.clone())?;
    if is_gone(&Value::Object(doc.clone()), ctx.now_ms) {
        return Err(resource.not_found.clone());
    }
    Ok(doc)
}

fn tags_of(doc: &Map<String, Value>) -> Map<String, Value> {
    doc.get("Tags")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}
