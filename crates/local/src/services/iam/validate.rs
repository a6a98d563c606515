//! Input validation as IAM words it, policy documents, pagination markers, encoding and
//! ids.

use crate::AwsError;
use crate::AwsResult;
use crate::protocol::query::{Params, Xml};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

/// Trust policy size, whitespace excluded (IAM default quota).
const MAX_TRUST_BYTES: usize = 2_048;

/// `1 validation error detected: Value 'v' at 'member' failed to satisfy constraint: …`.
pub(super) fn validation(value: &str, member: &str, constraint: &str) -> AwsError {
    AwsError::new(
        "ValidationError",
        format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
        ),
    )
}

pub(super) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// Role and policy names: `[\w+=,.@-]+`, 1 to `max` characters.
pub(super) fn validate_name(name: &str, member: &str, max: usize) -> AwsResult<()> {
    if name.is_empty() {
        return Err(validation(
            name,
            member,
            "Member must have length greater than or equal to 1",
        ));
    }
    if name.chars().count() > max {
        return Err(validation(
            name,
            member,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    if !name.chars().all(is_name_char) {
        return Err(validation(
            name,
            member,
            "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
        ));
    }
    Ok(())
}

/// Paths: `/` or `/segments/`, printable ASCII, at most 512 characters.
pub(super) fn validate_path(path: &str) -> AwsResult<()> {
    let printable = path.chars().all(|c| ('\u{21}'..='\u{7E}').contains(&c));
    let shaped = path == "/" || (path.len() >= 2 && path.starts_with('/') && path.ends_with('/'));
    if path.len() > 512 {
        return Err(validation(
            path,
            "path",
            "Member must have length less than or equal to 512",
        ));
    }
    if !printable || !shaped {
        return Err(validation(
            path,
            "path",
            "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
        ));
    }
    Ok(())
}

pub(super) fn validate_description(description: &str) -> AwsResult<()> {
    if description.chars().count() > 1000 {
        return Err(validation(
            description,
            "description",
            "Member must have length less than or equal to 1000",
        ));
    }
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{A1}'..='\u{FF}');
    if !description.chars().all(allowed) {
        return Err(validation(
            description,
            "description",
            "Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*",
        ));
    }
    Ok(())
}

pub(super) fn parse_max_session_duration(raw: Option<&str>) -> AwsResult<u32> {
    let Some(raw) = raw else { return Ok(3600) };
    match raw.parse::<u32>() {
        Ok(n) if (3600..=43_200).contains(&n) => Ok(n),
        Ok(n) if n > 43_200 => Err(validation(
            raw,
            "maxSessionDuration",
            "Member must have value less than or equal to 43200",
        )),
        _ => Err(validation(
            raw,
            "maxSessionDuration",
            "Member must have value greater than or equal to 3600",
        )),
    }
}

fn malformed(message: &str) -> AwsError {
    AwsError::new("MalformedPolicyDocument", message)
}

/// The statements of a policy document, after the checks every IAM policy gets.
fn policy_statements(document: &str) -> AwsResult<Vec<serde_json::Map<String, serde_json::Value>>> {
    if document.is_empty() || document.chars().count() > 131_072 {
        return Err(validation(
            "",
            "policyDocument",
            "Member must have length less than or equal to 131072",
        ));
    }
    let policy: serde_json::Value =
        serde_json::from_str(document).map_err(|_| malformed("This policy contains invalid Json"))?;
    let Some(policy) = policy.as_object() else {
        return Err(malformed("Syntax errors in policy."));
    };
    if let Some(version) = policy.get("Version")
        && !matches!(version.as_str(), Some("2012-10-17" | "2008-10-17"))
    {
        return Err(malformed("The policy failed legacy parsing"));
    }
    let statements = match policy.get("Statement") {
        Some(serde_json::Value::Array(list)) if !list.is_empty() => list.clone(),
        Some(single @ serde_json::Value::Object(_)) => vec![single.clone()],
        _ => return Err(malformed("Syntax errors in policy.")),
    };
    statements
        .into_iter()
        .map(|s| match s {
            serde_json::Value::Object(statement) => {
                match statement.get("Effect").and_then(serde_json::Value::as_str) {
                    Some("Allow" | "Deny") => Ok(statement),
                    None => Err(malformed("Missing required field Effect")),
                    Some(other) => Err(malformed(&format!("Invalid effect: {other}"))),
                }
            }
            _ => Err(malformed("Syntax errors in policy.")),
        })
        .collect()
}

/// A trust policy names principals and no resources.
pub(super) fn validate_trust_policy(document: &str) -> AwsResult<()> {
    let statements = policy_statements(document)?;
    for statement in &statements {
        if statement.contains_key("Resource") || statement.contains_key("NotResource") {
            return Err(malformed("Has prohibited field Resource"));
        }
        if !statement.contains_key("Principal") && !statement.contains_key("NotPrincipal") {
            return Err(malformed("Missing required field Principal"));
        }
        if !statement.contains_key("Action") && !statement.contains_key("NotAction") {
            return Err(malformed("Policy statement must contain actions."));
        }
    }
    if policy_size(document) > MAX_TRUST_BYTES {
        return Err(AwsError::new(
            "LimitExceeded",
            format!("Cannot exceed quota for ACLSizePerRole: {MAX_TRUST_BYTES}"),
        )
        .status(409));
    }
    Ok(())
}

/// An identity policy names actions and resources and no principal.
pub(super) fn validate_permission_policy(document: &str) -> AwsResult<()> {
    for statement in policy_statements(document)? {
        if statement.contains_key("Principal") || statement.contains_key("NotPrincipal") {
            return Err(malformed("Policy document should not specify a principal."));
        }
        if !statement.contains_key("Action") && !statement.contains_key("NotAction") {
            return Err(malformed("Policy statement must contain actions."));
        }
        if !statement.contains_key("Resource") && !statement.contains_key("NotResource") {
            return Err(malformed("Policy statement must contain resources."));
        }
    }
    Ok(())
}

/// IAM counts policy size without whitespace.
pub(super) fn policy_size(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}

/// One page request. The marker is the (opaque, hex-encoded) key of the first item of the
/// next page, so pages stay correct when items before it are removed.
pub(super) struct Page {
    after: Option<String>,
    max_items: usize,
}

impl Page {
    pub(super) fn of(params: &Params) -> AwsResult<Page> {
        let max_items = match params.get("MaxItems") {
            None => 100,
            Some(raw) => match raw.parse::<usize>() {
                Ok(n) if (1..=1000).contains(&n) => n,
                _ => {
                    return Err(validation(
                        raw,
                        "maxItems",
                        "Member must have value greater than or equal to 1",
                    ));
                }
            },
        };
        let after = match params.get("Marker") {
            None => None,
            Some(m) => {
                Some(hex_decode(m).ok_or_else(|| AwsError::new("ValidationError", "Invalid Marker."))?)
            }
        };
        Ok(Page { after, max_items })
    }

    /// The items of this page and the marker of the next, if any.
    pub(super) fn slice<T>(&self, items: Vec<T>, key: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
        // Lists in insertion order (attachments, tags) resume at the exact item; sorted
        // lists also resume correctly when that item has since been removed.
        let start = match &self.after {
            Some(first) => items
                .iter()
                .position(|i| key(i) == *first)
                .or_else(|| items.iter().position(|i| key(i) >= *first))
                .unwrap_or(items.len()),
            None => 0,
        };
        let mut rest: Vec<T> = items.into_iter().skip(start).collect();
        let marker = rest.get(self.max_items).map(|next| hex_encode(&key(next)));
        rest.truncate(self.max_items);
        (rest, marker)
    }
}

pub(super) fn truncation_xml(x: &mut Xml, marker: Option<String>) {
    x.elem("IsTruncated", if marker.is_some() { "true" } else { "false" })
        .opt("Marker", marker);
}

fn hex_encode(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(s: &str) -> Option<String> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect();
    String::from_utf8(bytes?).ok()
}

/// RFC 3986 unreserved characters stay; everything else is percent-encoded, as IAM returns
/// policy documents.
const POLICY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub(super) fn url_encode(document: &str) -> String {
    percent_encoding::utf8_percent_encode(document, POLICY_ENCODE).to_string()
}

/// 17 characters of IAM's unique-id alphabet (upper-case letters and digits 2–7).
pub(super) fn unique_id_suffix() -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = uuid::Uuid::new_v4().as_u128();
    (0..17)
        .map(|_| {
            let c = ALPHABET[(bits & 31) as usize];
            bits >>= 5;
            char::from(c)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip() {
        assert_eq!(hex_decode(&hex_encode("Role-1")).as_deref(), Some("Role-1"));
        assert_eq!(hex_decode("zz"), None);
    }

    #[test]
    fn documents_are_encoded_like_iam() {
        assert_eq!(url_encode("{\"a\": \"b-c\"}"), "%7B%22a%22%3A%20%22b-c%22%7D");
    }
}
