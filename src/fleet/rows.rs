//! One row per attendee: the summary table, its JSON, and the hand-out (`.csv` or `.md`)
//! a facilitator gives attendees.

use anyhow::{Context as _, anyhow};
use personalize_stack_core::fleet::{Access, Attendee};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

/// What happened in one attendee's account.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Attendee name.
    pub attendee: String,
    /// Account id (from STS once connected; from the fleet file before).
    pub account: String,
    /// `created`, `updated`, `unchanged`, `changes`, `empty`, `failed`, …
    pub status: String,
    /// Whether this account is where the command wanted it.
    pub ok: bool,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The API's invoke URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    /// The API key (hand-out only; masked in tables).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// The event tracker's tracking id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
    /// `passed`, `passed earlier`, `failed at <hop>`, `not run`, `skipped`.
    pub test: String,
    /// Seconds the account's job took.
    #[serde(rename = "seconds", serialize_with = "seconds")]
    pub duration: Duration,
    /// AWS calls that changed something (0 for an account left as it was).
    pub writes: usize,
    /// A `curl` that injects the stack's test records through the attendee's API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curl: Option<String>,
    /// Command-specific detail: plan steps, resources to delete or left.
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub detail: serde_json::Value,
    /// The account's provider while the job runs (its calls are counted into `writes`).
    #[serde(skip)]
    pub aws: Option<std::sync::Arc<personalize_stack_aws::Aws>>,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 100.0).round() / 100.0)
}

impl Row {
    /// A row for `attendee` before anything is known.
    pub fn new(attendee: &Attendee) -> Row {
        Row {
            attendee: attendee.name.clone(),
            account: match &attendee.access {
                Access::Account(a) => a.clone(),
                Access::Profile(_) => String::new(),
            },
            status: "pending".to_owned(),
            ok: false,
            reason: None,
            api_url: None,
            api_key: None,
            tracking_id: None,
            test: "not run".to_owned(),
            duration: Duration::ZERO,
            writes: 0,
            curl: None,
            detail: serde_json::Value::Null,
            aws: None,
        }
    }

    /// A failed row.
    pub fn failed(attendee: &Attendee, reason: &str) -> Row {
        Row::new(attendee).fail(reason)
    }

    /// This row, failed for `reason`.
    #[must_use]
    pub fn fail(mut self, reason: &str) -> Row {
        self.status = "failed".to_owned();
        self.ok = false;
        self.reason = Some(reason.to_owned());
        self
    }
}

/// The summary table on stdout; reasons of failed rows below it.
pub fn print_table(rows: &[Row], columns: &[Column]) {
    let cell = |row: &Row, c: Column| -> String {
        match c {
            Column::Attendee => row.attendee.clone(),
            Column::Account => row.account.clone(),
            Column::Status => row.status.clone(),
            Column::Url => row.api_url.clone().unwrap_or_else(|| "-".to_owned()),
            Column::TrackingId => row.tracking_id.clone().unwrap_or_else(|| "-".to_owned()),
            Column::Test => row.test.clone(),
            Column::Duration => format!("{:.1}s", row.duration.as_secs_f64()),
        }
    };
    let widths: Vec<usize> = columns
        .iter()
        .map(|&c| {
            rows.iter()
                .map(|r| cell(r, c).chars().count())
                .chain([c.title().len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| {
        let mut out = String::new();
        for (i, (text, width)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(text);
            } else {
                let _ = write!(out, "{text:<width$}  ");
            }
        }
        println!("{}", out.trim_end());
    };
    line(columns.iter().map(|c| c.title().to_owned()).collect());
    for row in rows {
        line(columns.iter().map(|&c| cell(row, c)).collect());
    }
    let failed: Vec<&Row> = rows.iter().filter(|r| !r.ok).collect();
    if !failed.is_empty() {
        println!();
        for row in failed {
            println!(
                "{} ({}): {}",
                row.attendee,
                if row.account.is_empty() {
                    "account unknown"
                } else {
                    &row.account
                },
                row.reason.as_deref().unwrap_or("failed")
            );
        }
    }
}

/// A column of the summary table.
#[derive(Debug, Clone, Copy)]
pub enum Column {
    /// Attendee name.
    Attendee,
    /// Account id.
    Account,
    /// Status.
    Status,
    /// API URL.
    Url,
    /// Tracking id.
    TrackingId,
    /// Test result.
    Test,
    /// Duration.
    Duration,
}

impl Column {
    fn title(self) -> &'static str {
        match self {
            Column::Attendee => "ATTENDEE",
            Column::Account => "ACCOUNT",
            Column::Status => "STATUS",
            Column::Url => "API URL",
            Column::TrackingId => "TRACKING ID",
            Column::Test => "TEST",
            Column::Duration => "TIME",
        }
    }
}

/// The rows as one JSON document, API keys masked unless `show_secrets`.
pub fn json(fleet: &str, rows: &[Row], show_secrets: bool) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if !show_secrets {
                r.api_key = r.api_key.as_deref().map(crate::commands::outputs::mask);
                r.curl = r
                    .curl
                    .as_ref()
                    .map(|_| "(contains the API key; --show-secrets shows it)".to_owned());
            }
            serde_json::to_value(&r).unwrap_or_default()
        })
        .collect();
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| r["ok"] != true)
        .filter_map(|r| r["attendee"].as_str())
        .collect();
    serde_json::json!({
        "fleet": fleet,
        "ok": failed.is_empty(),
        "failed": failed,
        "attendees": rows,
    })
}

/// Writes the hand-out: `.csv` (one line per attendee) or `.md` (a section per attendee).
/// Only attendees whose stack is up are listed; the others are named in the summary.
///
/// # Errors
/// Another extension, or the file cannot be written.
pub fn write_handout(path: &Path, fleet: &str, rows: &[Row]) -> anyhow::Result<usize> {
    let ready: Vec<&Row> = rows.iter().filter(|r| r.api_url.is_some()).collect();
    let text = match path.extension().and_then(|e| e.to_str()) {
        Some("csv") => csv(&ready),
        Some("md") => markdown(fleet, &ready),
        _ => {
            return Err(anyhow!("`{}`: a hand-out is `.csv` or `.md`", path.display()));
        }
    };
    std::fs::write(path, text).with_context(|| format!("cannot write the hand-out `{}`", path.display()))?;
    Ok(ready.len())
}

fn csv(rows: &[&Row]) -> String {
    let field = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    let mut out = String::from("attendee,account,api_url,api_key,tracking_id,curl\n");
    for r in rows {
        let cells = [
            r.attendee.as_str(),
            r.account.as_str(),
            r.api_url.as_deref().unwrap_or_default(),
            r.api_key.as_deref().unwrap_or_default(),
            r.tracking_id.as_deref().unwrap_or_default(),
            r.curl.as_deref().unwrap_or_default(),
        ];
        let line: Vec<String> = cells.iter().map(|c| field(c)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

fn markdown(fleet: &str, rows: &[&Row]) -> String {
    let mut out = format!("# {fleet}: your Personalize event pipeline\n");
    for r in rows {
        let _ = write!(
            out,
            "\n## {}\n\n| | |\n|---|---|\n| Account | `{}` |\n| API URL | `{}` |\n| API key | `{}` |\n| Tracking ID | `{}` |\n",
            r.attendee,
            r.account,
            r.api_url.as_deref().unwrap_or_default(),
            r.api_key.as_deref().unwrap_or("(none)"),
            r.tracking_id.as_deref().unwrap_or("(none)"),
        );
        if let Some(curl) = &r.curl {
            let _ = write!(out, "\nSend the sample events:\n\n```sh\n{curl}\n```\n");
        }
    }
    out
}

/// A `curl` command sending `body` to `url` with the key: single-quoted for POSIX shells.
pub fn curl(method: &str, url: &str, api_key: Option<&str>, body: &str) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut cmd = format!(
        "curl -sS -X {method} {} -H 'Content-Type: application/json'",
        quote(url)
    );
    if let Some(key) = api_key {
        let _ = write!(cmd, " -H {}", quote(&format!("x-api-key: {key}")));
    }
    let _ = write!(cmd, " --data {}", quote(body));
    cmd
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn curl_quotes_for_the_shell() {
        assert_eq!(
            curl("PUT", "http://h/x", Some("k"), r#"{"a":"it's"}"#),
            r#"curl -sS -X PUT 'http://h/x' -H 'Content-Type: application/json' -H 'x-api-key: k' --data '{"a":"it'\''s"}'"#
        );
    }

    #[test]
    fn csv_quotes_fields_with_commas_and_quotes() {
        let attendee = Attendee {
            name: "alice".into(),
            access: Access::Account("111111111111".into()),
            vars: vec![],
            line: 1,
        };
        let mut row = Row::new(&attendee);
        row.api_url = Some("http://u".into());
        row.curl = Some(r#"curl --data '{"a":1,"b":2}'"#.into());
        let text = csv(&[&row]);
        assert_eq!(
            text.lines().nth(1).unwrap(),
            r#"alice,111111111111,http://u,,,"curl --data '{""a"":1,""b"":2}'""#
        );
    }
}
