//! Tags on dataset groups, datasets and event trackers: TagResource, UntagResource,
//! ListTagsForResource (and the `tags` member of the Create operations).

use super::Ctx;
use super::input::{self, Violations};
use super::model::{self, Kind};
use crate::{AwsError, AwsResult};
use serde_json::{Value, json};

/// Tags a resource may carry.
const MAX_TAGS: usize = 200;

/// Checks each tag's key (1–128, not `aws:`-prefixed) and value (0–256).
pub(super) fn check(v: &mut Violations, tags: &[(String, String)]) {
    for (key, value) in tags {
        v.text("tags.member.tagKey", Some(key), true, (1, 128), None);
        v.text("tags.member.tagValue", Some(value), true, (0, 256), None);
        if key.to_ascii_lowercase().starts_with("aws:") {
            v.add(
                &format!("'{key}'"),
                "tags.member.tagKey",
                "Member must not begin with the reserved prefix aws:",
            );
        }
    }
}

/// `TooManyTagsException` past 200 tags.
pub(super) fn check_count(count: usize) -> AwsResult<()> {
    if count > MAX_TAGS {
        return Err(AwsError::new(
            "TooManyTagsException",
            format!("A resource can have at most {MAX_TAGS} tags; this request would give it {count}."),
        ));
    }
    Ok(())
}

/// The `resourceArn` member, validated, and the kind it names (taggable kinds only).
fn resource(ctx: &Ctx<'_>, input: &Value, mut v: Violations) -> AwsResult<(String, Kind)> {
    let arn = input::string(input, "resourceArn")?;
    v.arn("resourceArn", arn, true);
    v.finish()?;
    let arn = arn.unwrap_or_default().to_owned();
    match model::locate(ctx, &arn) {
        Some((Kind::Schema, _)) => Err(AwsError::new(
            "InvalidInputException",
            format!("Resource {arn} does not support tagging."),
        )),
        Some((kind, _)) => Ok((arn, kind)),
        None => Err(model::not_found(&arn)),
    }
}

/// TagResource: adds or overwrites tags.
pub(super) fn tag_resource(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let tags = input::tag_list(input, "tags")?;
    if tags.is_none() {
        v.add("null", "tags", "Member must not be null");
    }
    let tags = tags.unwrap_or_default();
    check(&mut v, &tags);
    let (arn, kind) = resource(ctx, input, v)?;
    ctx.store.write(|txn| {
        let mut resource = model::load(txn, ctx, kind, &arn)?;
        for (key, value) in tags {
            match resource.tags.iter_mut().find(|(k, _)| *k == key) {
                Some(existing) => existing.1 = value,
                None => resource.tags.push((key, value)),
            }
        }
        check_count(resource.tags.len())?;
        model::save(txn, ctx, kind, &resource)
    })?;
    Ok(json!({}))
}

/// UntagResource: removes tags by key (absent keys are ignored).
pub(super) fn untag_resource(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let keys = input::string_list(input, "tagKeys")?;
    if keys.is_none() {
        v.add("null", "tagKeys", "Member must not be null");
    }
    let keys = keys.unwrap_or_default();
    let (arn, kind) = resource(ctx, input, v)?;
    if keys.len() > MAX_TAGS {
        return Err(AwsError::new(
            "TooManyTagKeysException",
            format!("At most {MAX_TAGS} tag keys can be removed at once."),
        ));
    }
    ctx.store.write(|txn| {
        let mut resource = model::load(txn, ctx, kind, &arn)?;
        resource.tags.retain(|(k, _)| !keys.contains(k));
        model::save(txn, ctx, kind, &resource)
    })?;
    Ok(json!({}))
}

/// ListTagsForResource.
pub(super) fn list_tags_for_resource(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let (arn, kind) = resource(ctx, input, Violations::default())?;
    let resource = ctx.store.read(|txn| model::load(txn, ctx, kind, &arn))?;
    let tags: Vec<Value> = resource
        .tags
        .iter()
        .map(|(k, v)| json!({ "tagKey": k, "tagValue": v }))
        .collect();
    Ok(json!({ "tags": tags }))
}
