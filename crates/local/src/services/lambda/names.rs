//! Function names, qualifiers and taggable ARNs, checked as Lambda's front end checks them.
//!
//! Lambda's model gives a `FunctionName` a regular expression and a length, and the front end
//! answers a value breaking them with a `ValidationException` quoting the constraint. The
//! expressions are matched here by hand: each part of the expression is one `:`-separated
//! segment of the value, so a value matches when some choice of the optional parts fits its
//! segments, tried in the order a backtracking regex engine tries them (present before
//! absent, left to right) — which also decides how an ambiguous value reads
//! (`arn:aws:lambda:us-east-1:123456789012:function` names the function `function`).

use super::{invalid, not_found, validation};
use crate::AwsResult;
use crate::services::Ctx;

/// Lambda's two models of a function name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NameShape {
    /// `FunctionName`: what creates and changes a function (CreateFunction, the updates,
    /// reserved concurrency) takes.
    Function,
    /// `NamespacedFunctionName`: what reads, invokes or deletes one (and event source
    /// mappings) takes; names may hold dots, and `$LATEST.PUBLISHED` is a qualifier.
    Namespaced,
}

impl NameShape {
    /// The expression the front end quotes (botocore `lambda/2015-03-31`, and the messages
    /// recorded: LocalStack test_function_arns, test_function_name_and_qualifier_validation).
    fn pattern(self) -> &'static str {
        match self {
            NameShape::Function => {
                r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"
            }
            NameShape::Namespaced => {
                r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
            }
        }
    }

    /// The model's longest value.
    fn max_len(self) -> usize {
        match self {
            NameShape::Function => 140,
            NameShape::Namespaced => 256,
        }
    }

    fn is_name(self, s: &str) -> bool {
        !s.is_empty()
            && s.bytes().all(|b| {
                b.is_ascii_alphanumeric()
                    || b == b'-'
                    || b == b'_'
                    || (b == b'.' && self == NameShape::Namespaced)
            })
    }

    fn is_qualifier(self, s: &str) -> bool {
        s == "$LATEST" || (self == NameShape::Namespaced && s == "$LATEST.PUBLISHED") || is_word(s)
    }
}

/// `[a-zA-Z0-9-_]+`.
pub(super) fn is_word(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `(aws[a-zA-Z-]*)`.
fn is_partition(s: &str) -> bool {
    s.strip_prefix("aws")
        .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-'))
}

/// `\d{12}`.
pub(super) fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}`.
pub(super) fn is_region(s: &str) -> bool {
    // `-[a-z]+-\d`, what follows the optional partition marker.
    let tail = |t: &str| {
        t.strip_prefix('-')
            .and_then(|t| t.split_once('-'))
            .is_some_and(|(word, digit)| {
                !word.is_empty()
                    && word.bytes().all(|b| b.is_ascii_lowercase())
                    && digit.len() == 1
                    && digit.bytes().all(|b| b.is_ascii_digit())
            })
    };
    let after_code = |t: &str| {
        let bytes = t.as_bytes();
        if bytes.len() < 2 || !bytes.iter().take(2).all(u8::is_ascii_lowercase) {
            return false;
        }
        let rest = t.get(2..).unwrap_or_default();
        let iso = rest.strip_prefix("-iso");
        tail(rest)
            || rest.strip_prefix("-gov").is_some_and(tail)
            || iso.is_some_and(tail)
            || iso.is_some_and(|i| {
                i.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
                    && tail(i.get(1..).unwrap_or_default())
            })
    };
    after_code(s) || s.strip_prefix("eusc-").is_some_and(after_code)
}

/// What a function name matching its expression holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct NameParts<'a> {
    pub(super) region: Option<&'a str>,
    pub(super) account: Option<&'a str>,
    pub(super) name: &'a str,
    pub(super) qualifier: Option<&'a str>,
}

/// Matches `raw` against `shape`'s expression (lengths aside).
pub(super) fn match_function_name(raw: &str, shape: NameShape) -> Option<NameParts<'_>> {
    let segments: Vec<&str> = raw.split(':').collect();
    // The optional parts, most significant first: `arn:...:lambda:`, region, account,
    // `function:`, qualifier. Counting down tries "present" before "absent", leftmost first.
    (0..32u8).rev().find_map(|mask| {
        let has = |bit: u8| mask & (1 << bit) != 0;
        let (arn, region, account, function, qualifier) = (has(4), has(3), has(2), has(1), has(0));
        let wanted = 3 * usize::from(arn)
            + usize::from(region)
            + usize::from(account)
            + usize::from(function)
            + 1
            + usize::from(qualifier);
        if wanted != segments.len() {
            return None;
        }
        let mut rest = segments.iter().copied();
        if arn {
            let (a, partition, service) = (rest.next()?, rest.next()?, rest.next()?);
            if a != "arn" || !(partition.is_empty() || is_partition(partition)) || service != "lambda" {
                return None;
            }
        }
        let region = if region {
            Some(rest.next().filter(|r| is_region(r))?)
        } else {
            None
        };
        let account = if account {
            Some(rest.next().filter(|a| is_account(a))?)
        } else {
            None
        };
        if function && rest.next()? != "function" {
            return None;
        }
        let name = rest.next().filter(|n| shape.is_name(n))?;
        let qualifier = if qualifier {
            Some(rest.next().filter(|q| shape.is_qualifier(q))?)
        } else {
            None
        };
        Some(NameParts {
            region,
            account,
            name,
            qualifier,
        })
    })
}

/// The constraints `raw` breaks as a `functionName` of `shape`, worded as the front end words
/// each (`Value '...' at 'functionName' failed to satisfy constraint: ...`).
pub(super) fn function_name_violations(raw: &str, shape: NameShape) -> Vec<String> {
    let mut out = Vec::new();
    if raw.chars().count() > shape.max_len() {
        out.push(format!(
            "Value '{raw}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to {}",
            shape.max_len()
        ));
    }
    if match_function_name(raw, shape).is_none() {
        out.push(format!(
            "Value '{raw}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: {}",
            shape.pattern()
        ));
    }
    out
}

/// The pattern of the `Qualifier` parameter (`NumericLatestPublishedOrAliasQualifier`).
const QUALIFIER_PATTERN: &str = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+";

/// The constraints a `Qualifier` parameter breaks: 1 to 128 characters of its pattern
/// (recorded: LocalStack test_function_name_and_qualifier_validation).
pub(super) fn qualifier_violations(q: &str) -> Vec<String> {
    let mut out = Vec::new();
    let at = format!("Value '{q}' at 'qualifier' failed to satisfy constraint: Member must");
    match q.chars().count() {
        0 => out.push(format!("{at} have length greater than or equal to 1")),
        n if n > 128 => out.push(format!("{at} have length less than or equal to 128")),
        _ => {}
    }
    let matches = q == "$LATEST"
        || q == "$LATEST.PUBLISHED"
        || (!q.is_empty()
            && q.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_$".contains(&b)));
    if !matches {
        out.push(format!(
            "{at} satisfy regular expression pattern: {QUALIFIER_PATTERN}"
        ));
    }
    out
}

/// Model-constraint failures as the front end reports them: all at once, counted.
pub(super) fn check_constraints(failures: &[String]) -> AwsResult<()> {
    match failures.len() {
        0 => Ok(()),
        1 => Err(validation(format!(
            "1 validation error detected: {}",
            failures.join("; ")
        ))),
        n => Err(validation(format!(
            "{n} validation errors detected: {}",
            failures.join("; ")
        ))),
    }
}

/// A function reference as AWS accepts it: `name`, `name:qualifier`,
/// `123456789012:function:name[:qualifier]` or the full ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FunctionRef {
    pub(super) name: String,
    /// The qualifier the name or the `Qualifier` parameter gives.
    pub(super) qualifier: Option<String>,
    /// An ARN of another account: no function of the caller's is meant.
    pub(super) elsewhere: bool,
}

/// The function an operation names: `raw` (a `FunctionName` of `shape`) and, for the
/// operations that have one, its `Qualifier` parameter (`parameter`).
///
/// # Errors
/// - `ValidationException`: the name or the qualifier breaks its model constraints (both
///   reported together);
/// - `ResourceNotFoundException` (404): an ARN of another region ("Functions from 'R' are not
///   reachable in this region ('R2')", recorded: LocalStack test_get_function_wrong_region,
///   test_function_arns);
/// - `InvalidParameterValueException`: the name's qualifier is not the parameter's (recorded:
///   LocalStack test_ops_with_arn_qualifier_mismatch).
pub(super) fn function_ref(
    ctx: &Ctx<'_>,
    raw: &str,
    parameter: Option<&str>,
    shape: NameShape,
) -> AwsResult<FunctionRef> {
    let mut failures = function_name_violations(raw, shape);
    if let Some(q) = parameter {
        failures.extend(qualifier_violations(q));
    }
    check_constraints(&failures)?;
    let parts = match_function_name(raw, shape).ok_or_else(|| {
        validation(format!(
            "1 validation error detected: {}",
            function_name_violations(raw, shape).join("; ")
        ))
    })?;
    if let Some(region) = parts.region.filter(|r| *r != ctx.region()) {
        return Err(not_found(format!(
            "Functions from '{region}' are not reachable in this region ('{}')",
            ctx.region()
        )));
    }
    if let (Some(given), Some(derived)) = (parameter, parts.qualifier)
        && given != derived
    {
        return Err(invalid(
            "The derived qualifier from the function name does not match the specified qualifier.",
        ));
    }
    Ok(FunctionRef {
        name: parts.name.to_owned(),
        qualifier: parameter.or(parts.qualifier).map(str::to_owned),
        elsewhere: parts.account.is_some_and(|a| a != ctx.account()),
    })
}

/// The pattern the tagging operations quote for a `Resource` (recorded: LocalStack
/// test_tag_exceptions; newer than botocore's, which has `network-connector` for `layer`).
const TAGGABLE_RESOURCE_PATTERN: &str = r"arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)";

/// What a taggable ARN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Taggable<'a> {
    Function {
        name: &'a str,
        qualified: bool,
    },
    Mapping {
        uuid: &'a str,
    },
    /// Layers, code-signing configs, capacity providers: none exist here.
    Other,
}

/// A tagging operation's `Resource`: its region, account and what it names.
///
/// # Errors
/// `ValidationException` quoting the resource pattern.
pub(super) fn taggable(arn: &str) -> AwsResult<(&str, &str, Taggable<'_>)> {
    let bad = || {
        validation(format!(
            "1 validation error detected: Value '{arn}' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: {TAGGABLE_RESOURCE_PATTERN}"
        ))
    };
    let segments: Vec<&str> = arn.split(':').collect();
    let ["arn", partition, "lambda", region, account, kind @ ..] = segments.as_slice() else {
        return Err(bad());
    };
    if !is_partition(partition) || !is_region(region) || !is_account(account) {
        return Err(bad());
    }
    let named = match kind {
        ["function", name] if is_word(name) => Taggable::Function {
            name,
            qualified: false,
        },
        ["function", name, q] if is_word(name) && (*q == "$LATEST" || is_word(q)) => Taggable::Function {
            name,
            qualified: true,
        },
        ["event-source-mapping", uuid] if is_uuid(uuid) => Taggable::Mapping { uuid },
        ["layer" | "capacity-provider", name] if is_word(name) => Taggable::Other,
        ["code-signing-config", id]
            if id.strip_prefix("csc-").is_some_and(|i| {
                i.len() == 17 && i.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            }) =>
        {
            Taggable::Other
        }
        _ => return Err(bad()),
    };
    Ok((region, account, named))
}

/// `[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_as_a_backtracking_regex_engine_reads_them() {
        let parts = |raw| match_function_name(raw, NameShape::Namespaced);
        assert_eq!(
            parts("arn:aws:lambda:us-east-1:123456789012:function:f:1"),
            Some(NameParts {
                region: Some("us-east-1"),
                account: Some("123456789012"),
                name: "f",
                qualifier: Some("1"),
            })
        );
        // No `function:` part: the last segment is the name.
        assert_eq!(
            parts("arn:aws:lambda:us-east-1:123456789012:function").map(|p| p.name),
            Some("function")
        );
        assert_eq!(
            parts("function:f").map(|p| (p.name, p.qualifier)),
            Some(("f", None))
        );
        assert_eq!(parts("f:$LATEST").and_then(|p| p.qualifier), Some("$LATEST"));
        assert_eq!(
            parts("eu-central-1:f").and_then(|p| p.region),
            Some("eu-central-1")
        );
        assert_eq!(
            parts("us-gov-west-1:f").and_then(|p| p.region),
            Some("us-gov-west-1")
        );
        assert_eq!(
            parts("us-isob-east-1:f").and_then(|p| p.region),
            Some("us-isob-east-1")
        );
        assert_eq!(
            parts("eusc-de-east-1:f").and_then(|p| p.region),
            Some("eusc-de-east-1")
        );
        assert_eq!(parts("my.function").map(|p| p.name), Some("my.function"));
        assert_eq!(match_function_name("my.function", NameShape::Function), None);
        for bad in [
            "my-function!",
            "*",
            "invalid-account:function:my-function",
            "arn:aws:lambda:us-east-1:123456789012:function:f:1:2",
            "function:f:$LATEST:extra",
            "arn:aws:lambda::123456789012:function:f",
            "arn:aws:lambda:us-east-1::function:f",
            "arn:aws:ec2:us-east-1:123456789012:instance:i-1",
            "f:$LATES",
        ] {
            assert_eq!(parts(bad), None, "{bad}");
        }
    }

    #[test]
    fn qualifiers_follow_their_own_pattern_and_length() {
        assert!(qualifier_violations("$LATEST").is_empty());
        assert!(qualifier_violations("$latest").is_empty());
        assert!(qualifier_violations("v1").is_empty());
        assert_eq!(qualifier_violations("invalid!").len(), 1);
        assert_eq!(qualifier_violations(&"a".repeat(129)).len(), 1);
        assert_eq!(qualifier_violations(&"!".repeat(129)).len(), 2);
    }

    #[test]
    fn taggable_arns_name_functions_and_mappings() {
        let uuid = "3f5c1f0e-8a7b-4c2d-9e6f-0a1b2c3d4e5f";
        let mapping = format!("arn:aws:lambda:us-east-1:123456789012:event-source-mapping:{uuid}");
        assert_eq!(
            taggable(&mapping).ok(),
            Some(("us-east-1", "123456789012", Taggable::Mapping { uuid }))
        );
        assert!(matches!(
            taggable("arn:aws:lambda:us-east-1:123456789012:function:f:v1"),
            Ok((
                _,
                _,
                Taggable::Function {
                    name: "f",
                    qualified: true
                }
            ))
        ));
        assert!(taggable(&format!("{mapping}:alias")).is_err());
        assert!(taggable("arn:aws:something").is_err());
        assert!(taggable("arn:aws:lambda:us-east-1:123456789012:foobar:f").is_err());
    }
}
