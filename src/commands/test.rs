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
    println!();
    println!(
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
    println!("  {:<width$}  {:<7}  {:>7}  DETAIL", "HOP", "RESULT", "TIME");
    for hop in &report.hops {
        println!(
            "  {:<width$}  {:<7}  {:>7}  {}",
            hop.hop.as_str(),
            status_word(hop.status),
            time(hop),
            hop.detail
        );
        if let Some(cause) = &hop.cause {
            println!("  {:<width$}  cause: {cause}", "");
        }
        for line in &hop.evidence {
            for (i, part) in line.lines().enumerate() {
                let lead = if i == 0 { "evidence: " } else { "          " };
                println!("  {:<width$}  {lead}{part}", "");
            }
        }
    }
    if let Some(recs) = &report.recommendations {
        print_recommendations(recs);
    }
    match report.failed_hop {
        None => println!("All hops passed."),
        Some(hop) => println!("Failed at the {hop} hop."),
    }
}

/// The campaign's lists before and after, item ids in order, and whether they changed.
fn print_recommendations(recs: &Recommendations) {
    let user = recs.user_id.as_deref().unwrap_or("(none)");
    println!(
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
    println!("  before  {}", list(&recs.before));
    println!("  after   {}", list(&recs.after));
    match (recs.changed, recs.new_items(), &recs.error) {
        (_, _, Some(e)) => println!(
            "  GetRecommendations {} failed: {}: {}",
            e.when, e.code, e.message
        ),
        (Some(true), Some(n), None) => println!("  changed: yes ({n} new)"),
        (Some(false), _, None) => println!("  changed: no"),
        _ => {}
    }
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
