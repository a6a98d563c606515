//! Stream tags: AddTagsToStream, RemoveTagsFromStream, ListTagsForStream, and the newer
//! ARN-addressed TagResource, UntagResource, ListTagsForResource.

use super::input::{self, Violations};
use super::{Ctx, load_active_stream, load_stream, required_stream_name, save_stream};
use crate::{AwsError, AwsResult};
use serde_json::{Value, json};

/// Tags a stream may carry.
const MAX_TAGS: usize = 50;

/// Checks a tag map's size and each key's and value's length.
pub(super) fn check_tag_map(v: &mut Violations, tags: &[(String, String)]) {
    if tags.len() > MAX_TAGS {
        v.add(
            "'{...}'",
            "Tags",
            &format!("Member must have length less than or equal to {MAX_TAGS}"),
        );
    }
    for (key, value) in tags {
        v.text("Tags.key", Some(key), true, (1, 128), None);
        v.text("Tags.value", Some(value), true, (0, 256), None);
    }
}

/// Characters AWS allows in tags: Unicode letters, digits, white space, `_ . / = + - % @`.
fn tag_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_./=+-%@:".contains(c)
}

/// `InvalidArgumentException` if a tag key or value has a character AWS refuses.
pub(super) fn invalid_tag_chars(key: &str, value: &str) -> Option<AwsError> {
    (!key.chars().chain(value.chars()).all(tag_char)).then(|| {
        AwsError::new(
            "InvalidArgumentException",
            "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @.",
        )
    })
}

/// Adds `tags` to stream `name` (at most 50 in all).
fn add_tags(ctx: &Ctx<'_>, name: &str, tags: Vec<(String, String)>) -> AwsResult<Value> {
    if let Some(err) = tags.iter().find_map(|(k, v)| invalid_tag_chars(k, v)) {
        return Err(err);
    }
    ctx.store.write(|txn| {
        let mut stream = load_active_stream(txn, ctx, name)?;
        let new_keys = tags.iter().filter(|(k, _)| !stream.tags.contains_key(k)).count();
        if stream.tags.len() + new_keys > MAX_TAGS {
            return Err(AwsError::new(
                "InvalidArgumentException",
                format!(
                    "Failed to add tags to stream {name} under account {} because a given stream cannot have more than {MAX_TAGS} tags associated with it.",
                    ctx.account()
                ),
            ));
        }
        stream.tags.extend(tags);
        save_stream(txn, ctx, &stream)
    })?;
    Ok(json!({}))
}

/// Removes `keys` from stream `name`'s tags (absent keys are ignored).
fn remove_tags(ctx: &Ctx<'_>, name: &str, keys: &[String]) -> AwsResult<Value> {
    ctx.store.write(|txn| {
        let mut stream = load_active_stream(txn, ctx, name)?;
        for key in keys {
            stream.tags.remove(key);
        }
        save_stream(txn, ctx, &stream)
    })?;
    Ok(json!({}))
}

/// The `Tags` member: required, 1–50 entries.
fn required_tags(input: &Value, v: &mut Violations) -> AwsResult<Vec<(String, String)>> {
    let tags = input::string_map(input, "Tags")?;
    match &tags {
        None => v.missing("Tags"),
        Some(t) if t.is_empty() => v.add(
            "'{}'",
            "Tags",
            "Member must have length greater than or equal to 1",
        ),
        Some(t) => check_tag_map(v, t),
    }
    Ok(tags.unwrap_or_default())
}

/// The `TagKeys` member: required, 1–50 keys of 1–128 characters.
fn required_tag_keys(input: &Value, v: &mut Violations) -> AwsResult<Vec<String>> {
    let keys = input::string_list(input, "TagKeys")?;
    match &keys {
        None => v.missing("TagKeys"),
        Some(k) if k.is_empty() || k.len() > MAX_TAGS => v.add(
            &format!("'{k:?}'"),
            "TagKeys",
            &format!("Member must have length between 1 and {MAX_TAGS}"),
        ),
        Some(k) => {
            for key in k {
                v.text("TagKeys.member", Some(key), true, (1, 128), None);
            }
        }
    }
    Ok(keys.unwrap_or_default())
}

/// AddTagsToStream.
pub(super) fn add_tags_to_stream(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let tags = required_tags(input, &mut v)?;
    let name = required_stream_name(ctx, input, v)?;
    add_tags(ctx, &name, tags)
}

/// RemoveTagsFromStream.
pub(super) fn remove_tags_from_stream(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let keys = required_tag_keys(input, &mut v)?;
    let name = required_stream_name(ctx, input, v)?;
    remove_tags(ctx, &name, &keys)
}

/// ListTagsForStream: tags in key order, `Limit` (1–50, default 50) at a time.
pub(super) fn list_tags_for_stream(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let start = input::string(input, "ExclusiveStartTagKey")?;
    let limit = input::integer(input, "Limit")?;
    v.text("ExclusiveStartTagKey", start, false, (1, 128), None);
    v.range("Limit", limit, false, (1, 50));
    let name = required_stream_name(ctx, input, v)?;
    let stream = ctx.store.read(|txn| load_stream(txn, ctx, &name))?;
    let limit = usize::try_from(limit.unwrap_or(50)).unwrap_or(50);
    let rest: Vec<(&String, &String)> = stream
        .tags
        .iter()
        .filter(|(k, _)| start.is_none_or(|s| k.as_str() > s))
        .collect();
    Ok(json!({
        "Tags": rest.iter().take(limit).map(|(k, v)| json!({ "Key": k, "Value": v })).collect::<Vec<_>>(),
        "HasMoreTags": rest.len() > limit,
    }))
}

/// The stream named by `ResourceARN` (only stream ARNs carry tags here).
fn stream_of_resource(ctx: &Ctx<'_>, input: &Value, mut v: Violations) -> AwsResult<String> {
    let arn = input::string(input, "ResourceARN")?;
    v.text("ResourceARN", arn, true, (1, 2048), None);
    v.finish()?;
    let arn = arn.unwrap_or_default();
    let Some((account, region, name)) = super::parse_stream_arn(arn) else {
        return Err(AwsError::new(
            "InvalidArgumentException",
            format!("Invalid ResourceARN: {arn}. Only stream ARNs can be tagged."),
        ));
    };
    if account != ctx.account() || region != ctx.region() {
        return Err(AwsError::new(
            "ResourceNotFoundException",
            format!("Stream {name} under account {account} not found."),
        ));
    }
    Ok(name)
}

/// TagResource.
pub(super) fn tag_resource(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let tags = required_tags(input, &mut v)?;
    let name = stream_of_resource(ctx, input, v)?;
    add_tags(ctx, &name, tags)
}

/// UntagResource.
pub(super) fn untag_resource(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let keys = required_tag_keys(input, &mut v)?;
    let name = stream_of_resource(ctx, input, v)?;
    remove_tags(ctx, &name, &keys)
}

/// ListTagsForResource.
pub(super) fn list_tags_for_resource(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let name = stream_of_resource(ctx, input, Violations::default())?;
    let stream = ctx.store.read(|txn| load_stream(txn, ctx, &name))?;
    Ok(json!({
        "Tags": stream.tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect::<Vec<_>>(),
    }))
}
