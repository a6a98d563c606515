//! Role tags: TagRole, UntagRole, ListRoleTags.

use super::validate::{Page, truncation_xml, validate_name, validation};
use super::{Ctx, Tag, existing_role, modify_role};
use crate::protocol::query::{Params, Xml};
use crate::{AwsError, AwsResult};

/// Tags per role (IAM quota).
pub(super) const MAX_TAGS: usize = 50;

pub(super) fn tag_role(ctx: &Ctx<'_>, params: &Params) -> AwsResult<String> {
    let name = params.required("RoleName")?;
    validate_name(name, "roleName", 64)?;
    let tags = parse_tags(params)?;
    if tags.is_empty() {
        return Err(AwsError::new(
            "ValidationError",
            "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null",
        ));
    }
    modify_role(ctx, name, |role| {
        for tag in tags {
            // Keys are case-insensitive in IAM: a new value replaces the old key's.
            match role
                .tags
                .iter_mut()
                .find(|t| t.key.eq_ignore_ascii_case(&tag.key))
            {
                Some(existing) => *existing = tag,
                None => role.tags.push(tag),
            }
        }
        if role.tags.len() > MAX_TAGS {
            return Err(too_many_tags());
        }
        Ok(String::new())
    })
}

pub(super) fn untag_role(ctx: &Ctx<'_>, params: &Params) -> AwsResult<String> {
    let name = params.required("RoleName")?;
    validate_name(name, "roleName", 64)?;
    let keys = params.list("TagKeys");
    if keys.is_empty() {
        return Err(AwsError::new(
            "ValidationError",
            "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null",
        ));
    }
    modify_role(ctx, name, |role| {
        role.tags
            .retain(|t| !keys.iter().any(|k| k.eq_ignore_ascii_case(&t.key)));
        Ok(String::new())
    })
}

pub(super) fn list_role_tags(ctx: &Ctx<'_>, params: &Params) -> AwsResult<String> {
    let name = params.required("RoleName")?;
    validate_name(name, "roleName", 64)?;
    let page = Page::of(params)?;
    let (_, role) = ctx.store.read(|txn| existing_role(txn, ctx, name))?;
    let (tags, marker) = page.slice(role.tags, |t| t.key.clone());
    let mut x = Xml::new();
    tags_xml(&mut x, &tags);
    truncation_xml(&mut x, marker);
    Ok(x.into_string())
}

pub(super) fn tags_xml(x: &mut Xml, tags: &[Tag]) {
    x.wrap("Tags", |list| {
        for tag in tags {
            list.wrap("member", |m| {
                m.elem("Key", &tag.key).elem("Value", &tag.value);
            });
        }
    });
}

/// `Tags.member.N.Key/Value`, validated as IAM does.
pub(super) fn parse_tags(params: &Params) -> AwsResult<Vec<Tag>> {
    let mut tags: Vec<Tag> = Vec::new();
    for entry in params.struct_list("Tags") {
        let key = entry.get("Key").cloned().unwrap_or_default();
        let value = entry.get("Value").cloned().unwrap_or_default();
        validate_tag(&key, &value)?;
        if tags.iter().any(|t| t.key.eq_ignore_ascii_case(&key)) {
            return Err(AwsError::new(
                "InvalidInput",
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
        tags.push(Tag { key, value });
    }
    Ok(tags)
}

fn validate_tag(key: &str, value: &str) -> AwsResult<()> {
    let allowed = |c: char| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c);
    let key_len = key.chars().count();
    if key_len == 0 || key_len > 128 {
        return Err(validation(
            key,
            "tags.member.key",
            "Member must have length less than or equal to 128",
        ));
    }
    if !key.chars().all(allowed) {
        return Err(validation(
            key,
            "tags.member.key",
            "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
        ));
    }
    if value.chars().count() > 256 {
        return Err(validation(
            value,
            "tags.member.value",
            "Member must have length less than or equal to 256",
        ));
    }
    if !value.chars().all(|c| allowed(c) || c == '*') {
        return Err(validation(
            value,
            "tags.member.value",
            "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*",
        ));
    }
    Ok(())
}

pub(super) fn too_many_tags() -> AwsError {
    AwsError::new(
        "LimitExceeded",
        format!("Cannot exceed quota for TagsPerRole: {MAX_TAGS}"),
    )
    .status(409)
}
