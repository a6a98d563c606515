//! Reading and validating awsJson input as Kinesis does: a member of the wrong JSON type is a
//! `SerializationException`; model constraints (required, length, pattern, range) are
//! collected into one `ValidationException` ("2 validation errors detected: ...; ...").

pub(crate) use crate::protocol::members::{boolean, integer, object, string, string_list, string_map};
use crate::{AwsError, AwsResult};

/// Constraint violations, reported together as AWS's request validation does.
#[derive(Debug, Default)]
pub(crate) struct Violations(Vec<String>);

/// The member name as AWS's validation messages spell it: `StreamName` → `streamName`.
fn wire_name(member: &str) -> String {
    let mut chars = member.chars();
    chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

impl Violations {
    /// Records that `value` (already rendered: `null` or `'x'`) breaks `constraint`.
    pub fn add(&mut self, value: &str, member: &str, constraint: &str) {
        self.0.push(format!(
            "Value {value} at '{}' failed to satisfy constraint: {constraint}",
            wire_name(member)
        ));
    }

    /// Records that `member` breaks `constraint`, for values AWS does not print (lists and
    /// blobs: "Value at 'records' failed to satisfy constraint: ...").
    pub fn add_unshown(&mut self, member: &str, constraint: &str) {
        self.0.push(format!(
            "Value at '{}' failed to satisfy constraint: {constraint}",
            wire_name(member)
        ));
    }

    /// A required member is absent.
    pub fn missing(&mut self, member: &str) {
        self.add("null", member, "Member must not be null");
    }

    /// Checks a string's length and, when given, its pattern (`allowed` per character).
    pub fn text(
        &mut self,
        member: &str,
        value: Option<&str>,
        required: bool,
        (min, max): (usize, usize),
        pattern: Option<Pattern>,
    ) {
        let Some(value) = value else {
            if required {
                self.missing(member);
            }
            return;
        };
        let shown = format!("'{value}'");
        if let Some((regex, allowed)) = pattern
            && (value.is_empty() || !value.chars().all(allowed))
        {
            self.add(
                &shown,
                member,
                &format!("Member must satisfy regular expression pattern: {regex}"),
            );
        }
        let len = value.chars().count();
        if len < min {
            self.add(
                &shown,
                member,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if len > max {
            self.add(
                &shown,
                member,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// Checks an integer's range.
    pub fn range(&mut self, member: &str, value: Option<i64>, required: bool, (min, max): (i64, i64)) {
        let Some(value) = value else {
            if required {
                self.missing(member);
            }
            return;
        };
        if value < min {
            self.add(
                &format!("'{value}'"),
                member,
                &format!("Member must have value greater than or equal to {min}"),
            );
        }
        if value > max {
            self.add(
                &format!("'{value}'"),
                member,
                &format!("Member must have value less than or equal to {max}"),
            );
        }
    }

    /// Checks that a string is one of `allowed`.
    pub fn one_of(&mut self, member: &str, value: Option<&str>, required: bool, allowed: &[&str]) {
        match value {
            None if required => self.missing(member),
            Some(v) if !allowed.contains(&v) => self.add(
                &format!("'{v}'"),
                member,
                &format!("Member must satisfy enum value set: [{}]", allowed.join(", ")),
            ),
            _ => {}
        }
    }

    /// `Ok` when nothing was violated, else one `ValidationException` naming every violation.
    ///
    /// # Errors
    /// The collected violations.
    pub fn finish(self) -> AwsResult<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let noun = if self.0.len() == 1 { "error" } else { "errors" };
        Err(AwsError::new(
            "ValidationException",
            format!(
                "{} validation {noun} detected: {}",
                self.0.len(),
                self.0.join("; ")
            ),
        ))
    }
}

/// Characters of a stream name: `[a-zA-Z0-9_.-]+`.
pub(crate) fn stream_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// A pattern: the regular expression AWS names in its message, and the per-character test
/// that implements it.
pub(crate) type Pattern = (&'static str, fn(char) -> bool);

/// Stream name constraints.
pub(crate) const STREAM_NAME: Pattern = ("[a-zA-Z0-9_.-]+", stream_name_char);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_are_reported_together() {
        let mut v = Violations::default();
        v.range("ShardCount", Some(0), true, (1, 100_000));
        v.text("StreamName", Some(""), true, (1, 128), Some(STREAM_NAME));
        let err = v.finish().err().map(|e| e.message).unwrap_or_default();
        assert!(
            err.starts_with("3 validation errors detected: Value '0' at 'shardCount'"),
            "{err}"
        );
        assert!(err.contains("Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"));
    }
}
