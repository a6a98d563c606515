//! Reading and validating Personalize's awsJson input: a member of the wrong JSON type is a
//! `SerializationException`; model constraints are reported together as one
//! `InvalidInputException` ("1 validation error detected: Value 'x' at 'name' ...").

use crate::protocol::members::wrong_type;
pub(crate) use crate::protocol::members::{integer, string, string_list};
use crate::{AwsError, AwsResult};
use serde_json::Value;

/// A `tags` list of `{tagKey, tagValue}`, if present.
///
/// # Errors
/// `SerializationException` if it is not such a list.
pub(crate) fn tag_list(input: &Value, member: &str) -> AwsResult<Option<Vec<(String, String)>>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|tag| {
                let key = string(tag, "tagKey")?.unwrap_or_default().to_owned();
                let value = string(tag, "tagValue")?.unwrap_or_default().to_owned();
                Ok((key, value))
            })
            .collect::<AwsResult<Vec<_>>>()
            .map(Some),
        Some(_) => Err(wrong_type(member, "a list of tags")),
    }
}

/// A pattern: the regular expression AWS names in its message, and the per-character test
/// that implements it (`first` for the first character, `rest` for the others).
#[derive(Clone, Copy)]
pub(crate) struct Pattern {
    /// As AWS prints it.
    pub regex: &'static str,
    /// The first character.
    pub first: fn(char) -> bool,
    /// Every other character.
    pub rest: fn(char) -> bool,
}

impl Pattern {
    fn matches(&self, value: &str) -> bool {
        let mut chars = value.chars();
        chars.next().is_some_and(self.first) && chars.all(self.rest)
    }
}

fn name_first(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

fn name_rest(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Resource names: `^[a-zA-Z0-9][a-zA-Z0-9\-_]*`.
pub(crate) const NAME: Pattern = Pattern {
    regex: "^[a-zA-Z0-9][a-zA-Z0-9\\-_]*",
    first: name_first,
    rest: name_rest,
};

/// Constraint violations, reported together as AWS's request validation does.
#[derive(Debug, Default)]
pub(crate) struct Violations(Vec<String>);

impl Violations {
    /// Records that `value` (already rendered: `null` or `'x'`) breaks `constraint`.
    pub fn add(&mut self, value: &str, member: &str, constraint: &str) {
        self.0.push(format!(
            "Value {value} at '{member}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// Checks a string's presence, length and pattern.
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
                self.add("null", member, "Member must not be null");
            }
            return;
        };
        let shown = format!("'{value}'");
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
        if let Some(p) = pattern
            && !p.matches(value)
        {
            self.add(
                &shown,
                member,
                &format!("Member must satisfy regular expression pattern: {}", p.regex),
            );
        }
    }

    /// Checks a Personalize ARN: `arn:([a-z\d-]+):personalize:.*:.*:.+`, at most 256.
    pub fn arn(&mut self, member: &str, value: Option<&str>, required: bool) {
        self.text(member, value, required, (0, 256), None);
        if let Some(v) = value
            && !is_personalize_arn(v)
        {
            self.add(
                &format!("'{v}'"),
                member,
                "Member must satisfy regular expression pattern: arn:([a-z\\d-]+):personalize:.*:.*:.+",
            );
        }
    }

    /// Checks that a string is one of `allowed`.
    pub fn one_of(&mut self, member: &str, value: Option<&str>, allowed: &[&str]) {
        if let Some(v) = value
            && !allowed.contains(&v)
        {
            self.add(
                &format!("'{v}'"),
                member,
                &format!("Member must satisfy enum value set: [{}]", allowed.join(", ")),
            );
        }
    }

    /// Checks an integer's range.
    pub fn range(&mut self, member: &str, value: Option<i64>, (min, max): (i64, i64)) {
        let Some(value) = value else { return };
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

    /// `Ok` when nothing was violated, else one `InvalidInputException` naming every violation.
    ///
    /// # Errors
    /// The collected violations.
    pub fn finish(self) -> AwsResult<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let noun = if self.0.len() == 1 { "error" } else { "errors" };
        Err(AwsError::new(
            "InvalidInputException",
            format!(
                "{} validation {noun} detected: {}",
                self.0.len(),
                self.0.join("; ")
            ),
        ))
    }
}

/// Whether `arn` matches `arn:([a-z\d-]+):personalize:.*:.*:.+`.
pub(crate) fn is_personalize_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(
        parts.as_slice(),
        ["arn", partition, "personalize", _, _, resource]
            if !partition.is_empty()
                && partition.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !resource.is_empty()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_personalize_pattern() {
        assert!(NAME.matches("my-group_1"));
        assert!(!NAME.matches("-leading"));
        assert!(!NAME.matches("has space"));
        assert!(!NAME.matches(""));
        assert!(is_personalize_arn(
            "arn:aws:personalize:us-east-1:1:dataset-group/x"
        ));
        assert!(!is_personalize_arn("arn:aws:kinesis:us-east-1:1:stream/x"));
    }
}
