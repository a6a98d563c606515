//! `lambda_function`: the forwarding Lambda, its `/aws/lambda/<name>` log group, and its
//! Kinesis trigger (an event source mapping with every failure-handling option).
//!
//! Exports `arn`, `name` and `log_group`.

use super::{Attribute, KindSpec, Site};
use super::Kind;
use crate::spec::check::{Checker, Str};
use crate::spec::names;
use crate::spec::text::{Reference, Text};
use crate::yaml::Spanned;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// `lambda_function` as written in `stack.yaml`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Function name (1–64 characters: letters, digits, `-`, `_`).
    pub name: Str,
    /// Description.
    pub description: Option<Str>,
    /// Where the code comes from: `{ crate: <path to a Cargo package> }` (built for the
    /// function's architecture) or `{ zip: <path to a bundle> }`. Paths are relative to the
    /// stack file.
    pub code: Spanned<Code>,
    /// Runtime (default `provided.al2023`).
    pub runtime: Option<Str>,
    /// Handler (default `bootstrap`, what `provided.*` runtimes ignore).
    pub handler: Option<Str>,
    /// `x86_64` (default) or `arm64`.
    pub architecture: Option<Spanned<Architecture>>,
    /// Memory in MB (128–10240; default 128).
    pub memory_mb: Option<Spanned<u32>>,
    /// Timeout in seconds (1–900; default 3).
    pub timeout_s: Option<Spanned<u32>>,
    /// Reserved concurrency (0–1000).
    pub reserved_concurrency: Option<Spanned<u32>>,
    /// The execution role: `${name.arn}` of an `iam_role`, or an ARN.
    pub role: Str,
    /// Environment variables; values may reference other resources
    /// (`TRACKING_ID: ${tracker.tracking_id}`).
    #[serde(default)]
    pub environment: IndexMap<Str, Str>,
    /// Days the function's log group keeps events (a CloudWatch Logs retention value;
    /// default: never expire).
    pub log_retention_days: Option<Spanned<u32>>,
    /// The Kinesis trigger.
    pub trigger: Option<Trigger>,
    /// Tags of the function, merged over the stack's tags.
    #[serde(default)]
    pub tags: IndexMap<Str, Str>,
}

/// Where a function's code comes from.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// A Cargo package to build into a `bootstrap` binary.
    Crate(String),
    /// A prebuilt deployment package.
    Zip(String),
}

/// Instruction set architectures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    /// x86-64.
    #[serde(rename = "x86_64")]
    X86_64,
    /// 64-bit ARM (Graviton).
    Arm64,
}

/// A Kinesis event source mapping.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// The stream: `${name.arn}` of a `kinesis_stream`, or an ARN.
    pub stream: Str,
    /// `TRIM_HORIZON` (default here: no event is missed), `LATEST` or `AT_TIMESTAMP`.
    pub starting_position: Option<Spanned<StartingPosition>>,
    /// With `AT_TIMESTAMP`: the time to start reading from (RFC 3339 or epoch seconds).
    pub starting_position_timestamp: Option<Str>,
    /// Records per batch (1–10000; default 100).
    pub batch_size: Option<Spanned<u32>>,
    /// Seconds to gather records before invoking (0–300; default 0).
    pub batching_window_s: Option<Spanned<u32>>,
    /// Split a failing batch in two and retry each half (default false).
    #[serde(default)]
    pub bisect_on_error: bool,
    /// Retries of a failing batch (-1 = until the record expires, 0–10000).
    pub max_retries: Option<Spanned<i32>>,
    /// Discard records older than this (-1 = never, 60–604800 seconds).
    pub max_record_age_s: Option<Spanned<i32>>,
    /// Honour `batchItemFailures` in the function's response (default false).
    #[serde(default)]
    pub report_batch_item_failures: bool,
    /// Concurrent batches per shard (1–10; default 1).
    pub parallelization_factor: Option<Spanned<u32>>,
    /// Whether the mapping polls (default true).
    pub enabled: Option<bool>,
    /// SQS queue or SNS topic ARN that receives records discarded after failures.
    pub on_failure: Option<Str>,
}

/// Where a new mapping starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StartingPosition {
    /// The oldest record kept.
    TrimHorizon,
    /// Only records written after the mapping starts (can miss events).
    Latest,
    /// Records from `starting_position_timestamp`.
    AtTimestamp,
}

/// A checked function.
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaFunction {
    /// AWS name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Code source (paths relative to the stack file).
    pub code: Code,
    /// Runtime.
    pub runtime: String,
    /// Handler.
    pub handler: String,
    /// Architecture.
    pub architecture: Architecture,
    /// Memory in MB.
    pub memory_mb: u32,
    /// Timeout in seconds.
    pub timeout_s: u32,
    /// Reserved concurrency.
    pub reserved_concurrency: Option<u32>,
    /// Execution role ARN.
    pub role: Text,
    /// Environment.
    pub environment: IndexMap<String, Text>,
    /// Log retention.
    pub log_retention_days: Option<u32>,
    /// Kinesis trigger.
    pub trigger: Option<CheckedTrigger>,
    /// Resource tags.
    pub tags: IndexMap<String, String>,
}

/// A checked event source mapping, with AWS's defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedTrigger {
    /// Stream ARN.
    pub stream: Text,
    /// Starting position.
    pub starting_position: StartingPosition,
    /// Epoch seconds for `AT_TIMESTAMP`.
    pub starting_position_timestamp: Option<i64>,
    /// Batch size.
    pub batch_size: u32,
    /// Batching window.
    pub batching_window_s: u32,
    /// Bisect on error.
    pub bisect_on_error: bool,
    /// Maximum retry attempts (-1 = infinite).
    pub max_retries: i32,
    /// Maximum record age (-1 = infinite).
    pub max_record_age_s: i32,
    /// Report batch item failures.
    pub report_batch_item_failures: bool,
    /// Parallelization factor.
    pub parallelization_factor: u32,
    /// Enabled.
    pub enabled: bool,
    /// On-failure destination.
    pub on_failure: Option<Text>,
}

impl LambdaFunction {
    /// The log group Lambda writes to: `/aws/lambda/<name>`.
    pub fn log_group_name(&self) -> String {
        format!("/aws/lambda/{}", self.name)
    }

}

impl KindSpec for LambdaFunction {
    type Raw = Spec;

    const ATTRIBUTES: &'static [Attribute] = &[
        Attribute::output("arn"),
        Attribute::reference("name"),
        Attribute::reference("log_group"),
    ];

    fn validate(raw: &Spec, _site: &Site<'_>, cx: &mut Checker<'_>) -> LambdaFunction {
        let runtime = raw.runtime.as_ref().map_or_else(
            || "provided.al2023".to_owned(),
            |r| {
                if !names::LAMBDA_RUNTIMES.contains(&r.value.as_str()) {
                    let hint = crate::yaml::de::closest(&r.value, names::LAMBDA_RUNTIMES.iter().copied())
                        .map_or_else(
                            || format!("supported: {}", names::LAMBDA_RUNTIMES.join(", ")),
                            |c| format!("did you mean `{c}`?"),
                        );
                    cx.error_hint(r.pos(), format!("unknown Lambda runtime `{}`", r.value), hint);
                }
                r.value.clone()
            },
        );
        let code = raw.code.value.clone();
        let (Code::Crate(path) | Code::Zip(path)) = &code;
        if path.trim().is_empty() {
            cx.error(raw.code.pos(), "`code` needs a path");
        }
        if matches!(code, Code::Crate(_)) && !runtime.starts_with("provided.") {
            cx.error_hint(
                raw.code.pos(),
                format!("`code: {{ crate: ... }}` builds a native `bootstrap`, which runtime `{runtime}` cannot run"),
                "use `runtime: provided.al2023`, or ship a `zip` for this runtime",
            );
        }
        let mut environment = IndexMap::new();
        let mut env_size = 0;
        for (k, v) in &raw.environment {
            let valid = k.value.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && k.value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                cx.error(
                    k.pos(),
                    format!(
                        "environment variable name `{}` must match `[a-zA-Z][a-zA-Z0-9_]*`",
                        k.value
                    ),
                );
            } else if names::LAMBDA_RESERVED_ENV.contains(&k.value.as_str()) {
                cx.error(
                    k.pos(),
                    format!("environment variable `{}` is reserved by Lambda", k.value),
                );
            }
            env_size += k.value.len() + v.value.len();
            environment.insert(k.value.clone(), cx.text(v));
        }
        if env_size > 4096
            && let Some((k, _)) = raw.environment.first()
        {
            cx.error(
                k.pos(),
                format!("environment variables total {env_size} bytes; Lambda allows 4 KB"),
            );
        }
        let log_retention_days = raw.log_retention_days.as_ref().map(|d| {
            if !names::LOG_RETENTION_DAYS.contains(&d.value) {
                cx.error_hint(
                    d.pos(),
                    format!("CloudWatch Logs does not accept a retention of {} days", d.value),
                    format!(
                        "use one of {}",
                        names::LOG_RETENTION_DAYS
                            .iter()
                            .map(u32::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
            d.value
        });
        LambdaFunction {
            name: cx.name(&raw.name, &names::LAMBDA_FUNCTION),
            description: raw.description.as_ref().map(|d| d.value.clone()),
            code,
            runtime,
            handler: raw
                .handler
                .as_ref()
                .map_or_else(|| "bootstrap".to_owned(), |h| h.value.clone()),
            architecture: raw
                .architecture
                .as_ref()
                .map_or(Architecture::X86_64, |a| a.value),
            memory_mb: raw
                .memory_mb
                .as_ref()
                .map_or(128, |m| cx.range(m, 128, 10240, "`memory_mb`")),
            timeout_s: raw
                .timeout_s
                .as_ref()
                .map_or(3, |t| cx.range(t, 1, 900, "`timeout_s`")),
            reserved_concurrency: raw
                .reserved_concurrency
                .as_ref()
                .map(|c| cx.range(c, 0, 1000, "`reserved_concurrency`")),
            role: cx.arn_of(&raw.role, Kind::IamRole, "role"),
            environment,
            log_retention_days,
            trigger: raw.trigger.as_ref().map(|t| t.validate(cx)),
            tags: cx.tags(&raw.tags),
        }
    }

    fn aws_name(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn references(&self) -> Vec<Reference> {
        let mut refs: Vec<Reference> = self.role.references().cloned().collect();
        refs.extend(self.environment.values().flat_map(Text::references).cloned());
        if let Some(t) = &self.trigger {
            refs.extend(t.stream.references().cloned());
            refs.extend(t.on_failure.iter().flat_map(Text::references).cloned());
        }
        refs
    }

    fn static_attribute(&self, attribute: &str) -> Option<String> {
        (attribute == "log_group").then(|| self.log_group_name())
    }
}

impl Trigger {
    fn validate(&self, cx: &mut Checker<'_>) -> CheckedTrigger {
        let starting_position = self
            .starting_position
            .as_ref()
            .map_or(StartingPosition::TrimHorizon, |p| p.value);
        let starting_position_timestamp = match (starting_position, &self.starting_position_timestamp) {
            (StartingPosition::AtTimestamp, None) => {
                let pos = self
                    .starting_position
                    .as_ref()
                    .map_or(self.stream.pos(), Spanned::pos);
                cx.error(pos, "`AT_TIMESTAMP` needs `starting_position_timestamp`");
                None
            }
            (StartingPosition::AtTimestamp, Some(ts)) => {
                let parsed = parse_timestamp(&ts.value);
                if parsed.is_none() {
                    cx.error_hint(
                        ts.pos(),
                        format!("`{}` is not a timestamp", ts.value),
                        "write RFC 3339 (`2026-11-23T10:00:00Z`) or epoch seconds",
                    );
                }
                parsed
            }
            (_, Some(ts)) => {
                cx.error(
                    ts.pos(),
                    "`starting_position_timestamp` applies only to `starting_position: AT_TIMESTAMP`",
                );
                None
            }
            (_, None) => None,
        };
        let max_retries = self
            .max_retries
            .as_ref()
            .map_or(-1, |r| cx.range(r, -1, 10000, "`max_retries`"));
        let max_record_age_s = self.max_record_age_s.as_ref().map_or(-1, |a| {
            if a.value != -1 && !(60..=604_800).contains(&a.value) {
                cx.error(
                    a.pos(),
                    format!(
                        "`max_record_age_s` must be -1 or between 60 and 604800 (got {})",
                        a.value
                    ),
                );
            }
            a.value
        });
        CheckedTrigger {
            stream: cx.arn_of(&self.stream, Kind::KinesisStream, "trigger.stream"),
            starting_position,
            starting_position_timestamp,
            batch_size: self
                .batch_size
                .as_ref()
                .map_or(100, |b| cx.range(b, 1, 10000, "`batch_size`")),
            batching_window_s: self
                .batching_window_s
                .as_ref()
                .map_or(0, |w| cx.range(w, 0, 300, "`batching_window_s`")),
            bisect_on_error: self.bisect_on_error,
            max_retries,
            max_record_age_s,
            report_batch_item_failures: self.report_batch_item_failures,
            parallelization_factor: self
                .parallelization_factor
                .as_ref()
                .map_or(1, |p| cx.range(p, 1, 10, "`parallelization_factor`")),
            enabled: self.enabled.unwrap_or(true),
            on_failure: self.on_failure.as_ref().map(|d| cx.text(d)),
        }
    }
}

/// Epoch seconds from epoch seconds or an RFC 3339 UTC timestamp (`YYYY-MM-DDTHH:MM:SSZ`).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    if let Ok(n) = s.trim().parse::<i64>() {
        return Some(n);
    }
    let s = s.trim().strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let d: Vec<i64> = date.split('-').map(str::parse).collect::<Result<_, _>>().ok()?;
    let t: Vec<i64> = time
        .split(':')
        .map(|p| p.split('.').next().unwrap_or(p).parse())
        .collect::<Result<_, _>>()
        .ok()?;
    let ([y, m, day], [hh, mm, ss]) = (d.as_slice(), t.as_slice()) else {
        return None;
    };
    if *hh > 23 || *mm > 59 || *ss > 60 {
        return None;
    }
    let month = time::Month::try_from(u8::try_from(*m).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(i32::try_from(*y).ok()?, month, u8::try_from(*day).ok()?).ok()?;
    let days = i64::from(date.to_julian_day() - time::OffsetDateTime::UNIX_EPOCH.date().to_julian_day());
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

#[cfg(test)]
mod tests {
    use super::parse_timestamp;

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1676975804"), Some(1_676_975_804));
        assert_eq!(parse_timestamp("2023-02-21T10:36:44Z"), Some(1_676_975_804));
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp("2024-02-29T12:34:56Z"), Some(1_709_210_096));
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        // Days a month does not have, and months a year does not have.
        assert_eq!(parse_timestamp("2026-02-30T00:00:00Z"), None);
        assert_eq!(parse_timestamp("2026-13-01T00:00:00Z"), None);
    }
}
