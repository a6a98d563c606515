//! The post-deploy injection test: marked records go in through the deployed API and are
//! followed hop by hop (API → stream → trigger → forwarder → Personalize) until PutEvents has
//! them, or the hop that broke is named with its likely cause and the evidence.
//!
//! Each run marks its records with a unique `event_id` (`<marker>-<n>`), so runs never
//! confuse each other: the forwarder logs every event under that id and Personalize stores it.
//! A hop whose failure is certain (a 403, a disabled mapping, a refused tracking ID) stops
//! the run at once rather than waiting for the timeout.
//!
//! A stack with a `personalize_campaign` gets a sixth hop, `recommendations`: the campaign's
//! recommendations for the records' user before the PUT and after Personalize took them,
//! both in the report (see [`recommendations`]).

mod api;
mod http;
mod logs;
mod pipeline;
pub mod recommendations;
mod stream;

use crate::Aws;
use personalize_stack_core::Stack;
use personalize_stack_core::engine::Attrs;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

pub use pipeline::LocateError;
pub use recommendations::{Recommendations, Recommended};

/// The hops, in the order records travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HopName {
    /// The PUT through the stage URL: status and `FailedRecordCount`.
    Api,
    /// The records read back from the stream.
    Stream,
    /// The event source mapping delivering them to the function.
    Trigger,
    /// The forwarder parsing and sending each event.
    Forwarder,
    /// PutEvents accepting them for the tracker.
    Personalize,
    /// The campaign's recommendations before and after (only with a campaign).
    Recommendations,
}

impl HopName {
    /// The hops of every stack's pipeline (`recommendations` comes after them when the
    /// stack declares a campaign).
    pub const ALL: [HopName; 5] = [
        HopName::Api,
        HopName::Stream,
        HopName::Trigger,
        HopName::Forwarder,
        HopName::Personalize,
    ];

    /// `api`, `stream`, …
    pub fn as_str(self) -> &'static str {
        match self {
            HopName::Api => "api",
            HopName::Stream => "stream",
            HopName::Trigger => "trigger",
            HopName::Forwarder => "forwarder",
            HopName::Personalize => "personalize",
            HopName::Recommendations => "recommendations",
        }
    }
}

impl fmt::Display for HopName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a hop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HopStatus {
    /// Proven.
    Passed,
    /// Broken; the report says why.
    Failed,
    /// An earlier hop failed.
    NotRun,
    /// Cannot be checked for this stack (e.g. no function reads the stream).
    Skipped,
}

/// One hop's result.
#[derive(Debug, Clone, Serialize)]
pub struct Hop {
    /// Which hop.
    pub hop: HopName,
    /// How it ended.
    pub status: HopStatus,
    /// Time spent on it.
    #[serde(rename = "seconds", serialize_with = "seconds")]
    pub elapsed: Duration,
    /// What was observed.
    pub detail: String,
    /// The likely cause and what to do, on failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// Evidence: status and body, rendered template excerpts, log lines.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The run marker every record carries (`<marker>-<n>` as its event id).
    pub marker: String,
    /// Records sent.
    pub records: usize,
    /// Whether every hop that could be checked passed.
    pub passed: bool,
    /// The first failed hop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_hop: Option<HopName>,
    /// Every hop, in order.
    pub hops: Vec<Hop>,
    /// The campaign's recommendations before and after, when the stack declares one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommendations: Option<Recommendations>,
}

/// What the caller may override.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Send this API key instead of the stack's (to test a client's key).
    pub api_key: Option<String>,
    /// Overall timeout (default: the stack's `test.timeout_s`).
    pub timeout: Option<Duration>,
}

/// Told as hops start and end, for progress lines.
pub trait Progress: Send + Sync {
    /// `hop` started.
    fn started(&self, hop: HopName);
    /// `hop` ended.
    fn finished(&self, hop: &Hop);
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {
    fn started(&self, _hop: HopName) {}
    fn finished(&self, _hop: &Hop) {}
}

/// Why a hop failed: what was seen, the likely cause, the evidence.
#[derive(Debug, Clone, Default)]
pub(crate) struct Broken {
    pub detail: String,
    pub cause: Option<String>,
    pub evidence: Vec<String>,
}

impl Broken {
    pub fn new(detail: impl Into<String>) -> Broken {
        Broken {
            detail: detail.into(),
            ..Broken::default()
        }
    }

    pub fn cause(mut self, cause: impl Into<String>) -> Broken {
        self.cause = Some(cause.into());
        self
    }

    pub fn evidence(mut self, line: impl Into<String>) -> Broken {
        self.evidence.push(line.into());
        self
    }
}

/// A hop's outcome before timing is added.
pub(crate) enum Outcome {
    Passed(String),
    Failed(Broken),
    Skipped(String),
}

/// Shared by the hops: the clock, the poll interval, the client.
pub(crate) struct Run<'a> {
    pub aws: &'a Aws,
    pub http: http::Http,
    pub deadline: Instant,
    pub poll: Duration,
    pub started_ms: i64,
}

impl Run<'_> {
    /// Whether the overall timeout has passed.
    pub fn expired(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Sleeps one poll interval (never past the deadline).
    pub async fn pause(&self) {
        let left = self.deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(self.poll.min(left)).await;
    }
}

/// The stack's test request with its sample records as written (no run markers): what an
/// attendee pastes to send events through their own API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleRequest {
    /// `PUT`.
    pub method: String,
    /// The deployed stage's URL of the test route, path parameters filled in.
    pub url: String,
    /// The stack's API key, when it has one.
    pub api_key: Option<String>,
    /// The request body carrying the records.
    pub body: String,
}

/// The sample request of a deployed stack; `None` without a `test:` section or before the
/// API is deployed.
pub fn sample_request(stack: &Stack, attrs: &BTreeMap<String, Attrs>) -> Option<SampleRequest> {
    let pipeline = pipeline::Pipeline::locate(stack, attrs, &Options::default()).ok()?;
    Some(SampleRequest {
        method: pipeline.route.method.as_str().to_owned(),
        body: pipeline.body(&pipeline.test.records),
        api_key: pipeline.key.map(|k| k.value),
        url: pipeline.url,
    })
}

/// Runs the injection test against the deployed `stack` whose resources have `attrs`.
///
/// # Errors
/// The stack has no `test:` section, or a resource the test needs is not deployed.
pub async fn run(
    aws: &Aws,
    stack: &Stack,
    attrs: &BTreeMap<String, Attrs>,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Report, LocateError> {
    let pipeline = pipeline::Pipeline::locate(stack, attrs, options)?;
    let timeout = options
        .timeout
        .unwrap_or(Duration::from_secs(u64::from(pipeline.test.timeout_s)));
    let http = http::Http::new(timeout.min(Duration::from_secs(30))).map_err(LocateError::Client)?;
    let run = Run {
        aws,
        http,
        deadline: Instant::now() + timeout,
        poll: aws.settings.poll_interval,
        started_ms: now_ms(),
    };
    let marker = pipeline::new_marker();
    let records = pipeline.marked_records(&marker);

    let mut hops: Vec<Hop> = Vec::new();
    let failed = |hops: &[Hop]| hops.iter().any(|h| h.status == HopStatus::Failed);
    let timed = |hop: HopName, started: Instant, outcome: Outcome, hops: &mut Vec<Hop>| {
        let (status, detail, cause, evidence) = match outcome {
            Outcome::Passed(detail) => (HopStatus::Passed, detail, None, Vec::new()),
            Outcome::Skipped(detail) => (HopStatus::Skipped, detail, None, Vec::new()),
            Outcome::Failed(b) => (HopStatus::Failed, b.detail, b.cause, b.evidence),
        };
        let hop = Hop {
            hop,
            status,
            elapsed: started.elapsed(),
            detail,
            cause,
            evidence,
        };
        progress.finished(&hop);
        hops.push(hop);
    };

    // Before the PUT: the mapping has started, and where each shard ends now (so the
    // read-back starts there).
    logs::wait_until_observable(&run, &pipeline).await;
    let before = stream::Positions::take(&run, &pipeline).await;
    // The campaign's recommendations as they are before the records go in.
    let mut recs = pipeline.campaign.as_ref().map(Recommendations::new);
    let asking = Instant::now();
    if let Some(recs) = recs.as_mut() {
        recommendations::before(&run, recs).await;
    }
    let asked_before = asking.elapsed();

    progress.started(HopName::Api);
    let t = Instant::now();
    let outcome = api::put(&run, &pipeline, &records).await;
    timed(HopName::Api, t, outcome, &mut hops);

    // A raw `body` carries no marker: nothing after the API can be told apart.
    if pipeline.test.body.is_some() && !failed(&hops) {
        for hop in [
            HopName::Stream,
            HopName::Trigger,
            HopName::Forwarder,
            HopName::Personalize,
        ] {
            let reason = "the test sends a raw `body`, which carries no run marker to follow".to_owned();
            timed(hop, Instant::now(), Outcome::Skipped(reason), &mut hops);
        }
    }
    let mut found = stream::Found::default();
    if !failed(&hops) && hops.len() == 1 {
        progress.started(HopName::Stream);
        let t = Instant::now();
        let outcome = match &before {
            Ok(positions) => {
                let (outcome, f) =
                    stream::read_back(&run, &pipeline, positions, &marker, records.len()).await;
                found = f;
                outcome
            }
            Err(b) => Outcome::Failed(b.clone()),
        };
        timed(HopName::Stream, t, outcome, &mut hops);
    }

    let mut follow = logs::Follow::new(&pipeline, &marker, records.len());
    for hop in [HopName::Trigger, HopName::Forwarder, HopName::Personalize] {
        if failed(&hops) || hops.iter().any(|h| h.hop == hop) {
            break;
        }
        progress.started(hop);
        let t = Instant::now();
        let outcome = match hop {
            HopName::Trigger => follow.trigger(&run, &pipeline).await,
            HopName::Forwarder => follow.forwarder(&run, &pipeline, &found).await,
            _ => follow.personalize(&run, &pipeline, &records).await,
        };
        timed(hop, t, outcome, &mut hops);
    }

    // Once Personalize has the records (or could not be checked), ask again.
    if let Some(recs) = recs.as_mut()
        && !failed(&hops)
    {
        progress.started(HopName::Recommendations);
        let t = Instant::now();
        let outcome = recommendations::after(&run, recs).await;
        // The hop's time includes the call made before the PUT.
        timed(
            HopName::Recommendations,
            t.checked_sub(asked_before).unwrap_or(t),
            outcome,
            &mut hops,
        );
    }

    let expected = HopName::ALL
        .into_iter()
        .chain(recs.is_some().then_some(HopName::Recommendations));
    for hop in expected {
        if !hops.iter().any(|h| h.hop == hop) {
            let h = Hop {
                hop,
                status: HopStatus::NotRun,
                elapsed: Duration::ZERO,
                detail: "not run: an earlier hop failed".into(),
                cause: None,
                evidence: Vec::new(),
            };
            progress.finished(&h);
            hops.push(h);
        }
    }
    let failed_hop = hops.iter().find(|h| h.status == HopStatus::Failed).map(|h| h.hop);
    Ok(Report {
        marker,
        records: records.len(),
        passed: failed_hop.is_none(),
        failed_hop,
        hops,
        recommendations: recs,
    })
}

/// Milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// At most `max` characters of `text`, marked when cut.
pub(crate) fn clip(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}… ({} characters in all)", text.chars().count())
    }
}
