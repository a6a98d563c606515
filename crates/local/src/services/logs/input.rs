//! Reading awsJson input as CloudWatch Logs does: members, limits, names, tags, and the
//! opaque pagination tokens.

use super::{Ctx, group_arn, group_not_found};
use crate::{AwsError, AwsResult};
use base64::Engine as _;
use serde_json::Value;
use std::collections::BTreeMap;

pub(super) fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidParameterException", message)
}

/// `1 validation error detected: Value 'v' at 'member' failed to satisfy constraint: …`.
pub(super) fn constraint(value: &str, member: &str, constraint: &str) -> AwsError {
    invalid(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    ))
}

pub(super) fn null_member(member: &str) -> AwsError {
    invalid(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    ))
}

pub(super) fn serialization(member: &str) -> AwsError {
    AwsError::new(
        "SerializationException",
        format!("Unexpected value type for '{member}'"),
    )
}

pub(super) fn opt_str<'v>(input: &'v Value, member: &str) -> AwsResult<Option<&'v str>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(serialization(member)),
    }
}

pub(super) fn req_str<'v>(input: &'v Value, member: &str) -> AwsResult<&'v str> {
    opt_str(input, member)?.ok_or_else(|| null_member(member))
}

pub(super) fn opt_i64(input: &Value, member: &str) -> AwsResult<Option<i64>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| serialization(member)),
    }
}

pub(super) fn opt_bool(input: &Value, member: &str) -> AwsResult<Option<bool>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_bool().map(Some).ok_or_else(|| serialization(member)),
    }
}

/// `limit` within `1..=max`, or `default`.
pub(super) fn limit(input: &Value, max: i64, default: usize) -> AwsResult<usize> {
    match opt_i64(input, "limit")? {
        None => Ok(default),
        Some(n) if n < 1 => Err(constraint(
            &n.to_string(),
            "limit",
            "Member must have value greater than or equal to 1",
        )),
        Some(n) if n > max => Err(constraint(
            &n.to_string(),
            "limit",
            &format!("Member must have value less than or equal to {max}"),
        )),
        Some(n) => Ok(usize::try_from(n).unwrap_or(default)),
    }
}

pub(super) fn validate_group_name(name: &str, member: &str) -> AwsResult<()> {
    if name.len() > 512 {
        // AWS's own words for this one (recorded: LocalStack
        // test_create_log_group_invalid_name_length), not the generic constraint message.
        return Err(invalid(
            "Invalid LogGroup or LogStream, both must have length less than or equal to 512.",
        ));
    }
    if name.is_empty() {
        return Err(constraint(
            name,
            member,
            "Member must have length greater than or equal to 1",
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-/#".contains(c))
    {
        return Err(constraint(
            name,
            member,
            "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+",
        ));
    }
    Ok(())
}

pub(super) fn validate_stream_name(name: &str) -> AwsResult<()> {
    if name.len() > 512 {
        return Err(invalid(
            "Invalid LogGroup or LogStream, both must have length less than or equal to 512.",
        ));
    }
    if name.is_empty() {
        return Err(constraint(
            name,
            "logStreamName",
            "Member must have length greater than or equal to 1",
        ));
    }
    if name.contains([':', '*']) {
        return Err(constraint(
            name,
            "logStreamName",
            "Member must satisfy regular expression pattern: [^:*]*",
        ));
    }
    Ok(())
}

/// The group an operation targets: `logGroupName`, or `logGroupIdentifier` (a name or an
/// ARN), never both.
pub(super) fn target_group(ctx: &Ctx<'_>, input: &Value) -> AwsResult<String> {
    let name = opt_str(input, "logGroupName")?;
    let identifier = opt_str(input, "logGroupIdentifier")?;
    match (name, identifier) {
        (Some(_), Some(_)) => Err(AwsError::new(
            "ValidationException",
            "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
        )),
        (Some(n), None) => {
            validate_group_name(n, "logGroupName")?;
            Ok(n.to_owned())
        }
        (None, Some(id)) if id.starts_with("arn:") => group_of_arn(ctx, id),
        (None, Some(id)) => {
            validate_group_name(id, "logGroupIdentifier")?;
            Ok(id.to_owned())
        }
        (None, None) => Err(null_member("logGroupName")),
    }
}

/// The group named by `arn:aws:logs:{region}:{account}:log-group:{name}[:*]`.
pub(super) fn group_of_arn(ctx: &Ctx<'_>, arn: &str) -> AwsResult<String> {
    let prefix = group_arn(ctx, "");
    let name = arn.strip_prefix(&prefix).ok_or_else(|| {
        if arn.starts_with("arn:aws:logs:") {
            group_not_found()
        } else {
            invalid(format!("Invalid ARN: {arn}"))
        }
    })?;
    let name = name.strip_suffix(":*").unwrap_or(name);
    validate_group_name(name, "resourceArn")?;
    Ok(name.to_owned())
}

/// Tags as a map, validated as CloudWatch Logs does.
pub(super) fn parse_tags(input: &Value, member: &str) -> AwsResult<BTreeMap<String, String>> {
    let Some(raw) = input.get(member) else {
        return Ok(BTreeMap::new());
    };
    let map = raw.as_object().ok_or_else(|| serialization(member))?;
    let mut tags = BTreeMap::new();
    for (key, value) in map {
        let value = value.as_str().ok_or_else(|| serialization(member))?;
        validate_tag(key, value)?;
        tags.insert(key.clone(), value.to_owned());
    }
    Ok(tags)
}

fn validate_tag(key: &str, value: &str) -> AwsResult<()> {
    let allowed = |c: char| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c);
    let key_len = key.chars().count();
    if key_len == 0 || key_len > 128 || !key.chars().all(allowed) {
        return Err(constraint(
            key,
            "tags",
            "Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$]",
        ));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(invalid("Tag keys prefixed with 'aws:' are reserved for AWS."));
    }
    if value.chars().count() > 256 || !value.chars().all(allowed) {
        return Err(constraint(
            value,
            "tags",
            "Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$]",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Pagination
// ---------------------------------------------------------------------------------------

/// Opaque tokens carry the sort key of the last item returned.
pub(super) fn encode_token(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

fn decode_token(token: &str) -> AwsResult<String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| invalid("The specified nextToken is invalid."))
}

/// One page of `items` (sorted ascending by key), after the token's key, and the next token.
pub(super) fn page<T>(
    mut items: Vec<(String, T)>,
    descending: bool,
    token: Option<&str>,
    limit: usize,
) -> AwsResult<(Vec<T>, Option<String>)> {
    if descending {
        items.reverse();
    }
    if let Some(token) = token {
        let after = decode_token(token)?;
        items.retain(|(k, _)| if descending { *k < after } else { *k > after });
    }
    let more = items.len() > limit;
    items.truncate(limit);
    let next = more.then(|| items.last().map(|(k, _)| encode_token(k))).flatten();
    Ok((items.into_iter().map(|(_, v)| v).collect(), next))
}
