//! `test`: the post-deploy injection test, alone or as the last step of `up`.

use super::target::{self, Connected};
use super::{Failure, outputs};
use crate::cli::{GlobalArgs, Output};
use anyhow::anyhow;
use personalize_stack_aws::injection::{self, Hop, HopName, HopStatus, Recommendations, Report};
use personalize_stack_core::engine::Attrs;
use std::collections::BTreeMap;
use std::time::Duration;

/// `test`'s options (also `up`'s, for its last step).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Send this API key instead of the stack's.
    pub api_key: Option<String>,
    /// Overall timeout in seconds (default: the stack's `test.timeout_s`).
    pub timeout_s: Option<u64>,
}

impl Options {
    /// The injection test's options.
    pub fn injection(&self) -> injection::Options {
        injection::Options {
            api_key: self.api_key.clone(),
            timeout: self.timeout_s.map(Duration::from_secs),
        }
    }
}

/// Runs `test`: reads what exists, then injects.
pub async fn run(global: &GlobalArgs, options: &Options) -> Result<(), Failure> {
    let connected = target::connect(global).await?;
    let attrs = outputs::deployed(&connected).await?;
    let report = inject(global, &connected, &attrs, options).await?;
    if global.output == Output::Json {
        println!("{:#}", serde_json::to_value(&report).unwrap_or_default());
    }
    verdict(&report)
}

/// Injects and prints the table (in text mode); returns the report for the caller to print
/// as JSON.
pub async fn inject(
    global: &GlobalArgs,
    connected: &Connected,
    attrs: &BTreeMap<String, Attrs>,
    options: &Options,
) -> Result<Report, Failure> {
    let progress = HopLines::new(global.quiet);
    let report = injection::run(
        &connected.aws,
        &connected.stack,
        attrs,
        &options.injection(),
        &progress,
    )
    .await
    .map_err(|e| Failure::Error(anyhow::Error::new(e)))?;
    if global.output == Output::Text {
        print_table(&report);
    }
    Ok(report)
}

/// Exit 0 only when every hop passed.
pub fn verdict(report: &Report) -> Result<(), Failure> {
    match report.failed_hop {
        None => Ok(()),
        Some(hop) => Err(Failure::Error(anyhow!(
            "the injection test failed at the {hop} hop (marker {})",
            report.marker
        ))),
    }
}

/// The table: one row per hop, then the cause and evidence of a failure.
fn print_table(report: &Report) {
    print!("{}", table(report));
}

/// [`print_table`]'s text.
fn table(report: &Report) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Injection test, marker {} ({} record{}):",
        report.marker,
        report.records,
        if report.records == 1 { "" } else { "s" }
    );
    let width = report
        .hops
        .iter()
        .map(|h| h.hop.as_str().len())
        .max()
        .unwrap_or(0);
    let _ = writeln!(out, "  {:<width$}  {:<7}  {:>7}  DETAIL", "HOP", "RESULT", "TIME");
    for hop in &report.hops {
        let _ = writeln!(
            out,
            "  {:<width$}  {:<7}  {:>7}  {}",
            hop.hop.as_str(),
            status_word(hop.status),
            time(hop),
            hop.detail
        );
        if let Some(cause) = &hop.cause {
            let _ = writeln!(out, "  {:<width$}  cause: {cause}", "");
        }
        for line in &hop.evidence {
            for (i, part) in line.lines().enumerate() {
                let lead = if i == 0 { "evidence: " } else { "          " };
                let _ = writeln!(out, "  {:<width$}  {lead}{part}", "");
            }
        }
    }
    if let Some(recs) = &report.recommendations {
        out.push_str(&recommendations(recs));
    }
    match report.failed_hop {
        None => out.push_str("All hops passed.\n"),
        Some(hop) => {
            let _ = writeln!(out, "Failed at the {hop} hop.");
        }
    }
    out
}

/// The campaign's lists before and after, item ids in order, and whether they changed.
fn recommendations(recs: &Recommendations) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let user = recs.user_id.as_deref().unwrap_or("(none)");
    let _ = writeln!(
        out,
        "Recommendations of campaign `{}` for user {user}:",
        recs.campaign_name
    );
    let list = |items: &Option<Vec<injection::Recommended>>| match items {
        None => "(not known)".to_owned(),
        Some(items) if items.is_empty() => "(none)".to_owned(),
        Some(items) => items
            .iter()
            .map(|i| i.item_id.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let _ = writeln!(out, "  before  {}", list(&recs.before));
    let _ = writeln!(out, "  after   {}", list(&recs.after));
    match (recs.changed, recs.new_items(), &recs.error) {
        (_, _, Some(e)) => {
            let _ = writeln!(
                out,
                "  GetRecommendations {} failed: {}: {}",
                e.when, e.code, e.message
            );
        }
        (Some(true), Some(n), None) => {
            let _ = writeln!(out, "  changed: yes ({n} new)");
        }
        (Some(false), _, None) => {
            let _ = writeln!(out, "  changed: no");
        }
        _ => {}
    }
    out
}

fn status_word(status: HopStatus) -> &'static str {
    match status {
        HopStatus::Passed => "pass",
        HopStatus::Failed => "FAIL",
        HopStatus::NotRun => "not run",
        HopStatus::Skipped => "skipped",
    }
}

fn time(hop: &Hop) -> String {
    match hop.status {
        HopStatus::NotRun | HopStatus::Skipped => "-".to_owned(),
        _ => format!("{:.2}s", hop.elapsed.as_secs_f64()),
    }
}

/// On a terminal, a spinner naming the hop being checked, so a long wait shows where it is;
/// elsewhere nothing (the table says it all).
struct HopLines {
    bar: Option<indicatif::ProgressBar>,
}

impl HopLines {
    fn new(quiet: bool) -> HopLines {
        use std::io::IsTerminal as _;
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        HopLines { bar }
    }
}

impl injection::Progress for HopLines {
    fn started(&self, hop: HopName) {
        if let Some(bar) = self.bar.as_ref().filter(|b| !b.is_finished()) {
            bar.set_message(format!("injection test: checking the {hop} hop"));
        }
    }

    fn finished(&self, hop: &Hop) {
        if let Some(bar) = &self.bar
            && (hop.status == HopStatus::Failed
                || hop.hop == HopName::Personalize
                || hop.hop == HopName::Recommendations)
        {
            bar.finish_and_clear();
        }
    }
}

/// For `up --output json`: the outputs and the test in one document.
pub fn print_json_with_outputs(items: &[outputs::Item], report: Option<&Report>) {
    let doc = serde_json::json!({
        "outputs": outputs::json(items, false),
        "test": report.map(|r| serde_json::to_value(r).unwrap_or_default()),
    });
    println!("{doc:#}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use personalize_stack_aws::injection::Recommended;

    fn hop(hop: HopName, status: HopStatus, ms: u64, detail: &str) -> Hop {
        Hop {
            hop,
            status,
            elapsed: Duration::from_millis(ms),
            detail: detail.to_owned(),
            cause: None,
            evidence: Vec::new(),
        }
    }

    fn items(ids: &[&str]) -> Option<Vec<Recommended>> {
        Some(
            ids.iter()
                .map(|id| Recommended {
                    item_id: (*id).to_owned(),
                    score: None,
                })
                .collect(),
        )
    }

    #[test]
    fn a_passing_run_reads_hop_by_hop_with_the_recommendations() {
        let report = Report {
            marker: "pst-b9e64a881d88".to_owned(),
            records: 7,
            passed: true,
            failed_hop: None,
            hops: vec![
                hop(
                    HopName::Api,
                    HopStatus::Passed,
                    31,
                    "PUT http://127.0.0.1:4566/restapis/45z7irzrl5/prod/_user_request_/streams/PutEvent-datastream/records → 200, FailedRecordCount 0 (7 records)",
                ),
                hop(
                    HopName::Stream,
                    HopStatus::Passed,
                    20,
                    "7 of 7 records in `PutEvent-datastream` (shardId-000000000000)",
                ),
                hop(
                    HopName::Trigger,
                    HopStatus::Passed,
                    820,
                    "mapping d62082ab-0e9c-4487-9b48-b983fd477efd Enabled (last result: OK); `PutEvent-Function` received the records",
                ),
                hop(
                    HopName::Forwarder,
                    HopStatus::Passed,
                    0,
                    "`PutEvent-Function` sent 7 of 7 events to PutEvents (logged under their event ids)",
                ),
                hop(
                    HopName::Personalize,
                    HopStatus::Passed,
                    4,
                    "7 of 7 events stored for tracker `personalize-workshop-event-tracker`",
                ),
                hop(
                    HopName::Recommendations,
                    HopStatus::Passed,
                    12,
                    "10 items before, 10 after",
                ),
            ],
            recommendations: Some(Recommendations {
                campaign: "campaign".to_owned(),
                campaign_name: "workshop-campaign".to_owned(),
                campaign_arn: Some(
                    "arn:aws:personalize:us-east-1:000000000000:campaign/workshop-campaign".to_owned(),
                ),
                user_id: Some("zGRmEOdTo648OJoqhmazwKPuWpA=".to_owned()),
                before: items(&["i1", "i2", "i3"]),
                after: items(&["i4", "i1", "i2"]),
                changed: Some(true),
                error: None,
            }),
        };
        insta::assert_snapshot!(table(&report));
    }

    #[test]
    fn a_failed_hop_gives_its_cause_and_evidence_and_the_rest_is_not_run() {
        let mut api = hop(
            HopName::Api,
            HopStatus::Failed,
            140,
            "PUT …/streams/PutEvent-datastream/records → 400",
        );
        api.cause = Some("the deployed request template does not render valid JSON: the `Records` array misses a comma between records".to_owned());
        api.evidence = vec![
            "status 400, body {\"message\": \"Could not parse request body into json\"}".to_owned(),
            "rendered template, line 9:\n        }\n        {".to_owned(),
        ];
        let report = Report {
            marker: "pst-0123456789ab".to_owned(),
            records: 1,
            passed: false,
            failed_hop: Some(HopName::Api),
            hops: vec![
                api,
                hop(
                    HopName::Stream,
                    HopStatus::NotRun,
                    0,
                    "not run: an earlier hop failed",
                ),
                hop(
                    HopName::Trigger,
                    HopStatus::NotRun,
                    0,
                    "not run: an earlier hop failed",
                ),
                hop(
                    HopName::Forwarder,
                    HopStatus::NotRun,
                    0,
                    "not run: an earlier hop failed",
                ),
                hop(HopName::Personalize, HopStatus::Skipped, 0, "skipped"),
            ],
            recommendations: None,
        };
        insta::assert_snapshot!(table(&report));
    }
}
