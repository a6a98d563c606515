//! Progress while a fleet runs: one line per attendee (phase, resources done/total, elapsed)
//! and an overall bar, on a terminal. Off a terminal (CI, pipes) the bars are hidden and each
//! attendee's end is one plain line, so logs stay readable.

use super::rows::Row;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use personalize_stack_core::engine::{Outcome, Progress};
use std::io::IsTerminal as _;
use std::time::Duration;

/// Every attendee's line and the overall bar.
#[derive(Clone)]
pub struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    plain: bool,
    quiet: bool,
    width: usize,
}

impl Bars {
    /// Bars for `accounts` attendees whose longest name is `width` long.
    pub fn new(what: &str, accounts: usize, width: usize, quiet: bool) -> Bars {
        let plain = !std::io::stderr().is_terminal();
        let multi = MultiProgress::with_draw_target(if plain || quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        });
        let overall = multi.add(ProgressBar::new(u64::try_from(accounts).unwrap_or(0)));
        overall.set_style(
            ProgressStyle::with_template(&format!(
                "{what:<width$} [{{bar:30}}] {{pos}}/{{len}} accounts {{elapsed:>4}}",
                width = width + 2
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        Bars {
            multi,
            overall,
            plain,
            quiet,
            width,
        }
    }

    /// The line of one attendee (waiting until its job starts).
    pub fn line(&self, attendee: &str) -> Line {
        let bar = self.multi.insert_before(&self.overall, ProgressBar::new(0));
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{spinner}} {{prefix:<{}}} {{msg:<40!}} {{pos:>2}}/{{len:<2}} {{elapsed:>4}}",
                self.width
            ))
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(attendee.to_owned());
        bar.set_message("waiting for a slot");
        Line {
            bar,
            attendee: attendee.to_owned(),
            plain: self.plain && !self.quiet,
        }
    }

    /// One more account finished.
    pub fn account_done(&self) {
        self.overall.inc(1);
    }

    /// Clears the bars before the summary is printed.
    pub fn finish(&self) {
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
    }
}

/// One attendee's line; also the engine's progress for that account's resources.
#[derive(Clone)]
pub struct Line {
    bar: ProgressBar,
    attendee: String,
    plain: bool,
}

impl Line {
    /// The job started: the clock starts now.
    pub fn start(&self) {
        self.bar.reset_elapsed();
        self.bar.enable_steady_tick(Duration::from_millis(150));
        self.phase("connecting");
    }

    /// The job is in `phase` (`planning`, `applying`, `testing: api hop`, …).
    pub fn phase(&self, phase: &str) {
        self.bar.set_message(phase.to_owned());
    }

    /// `total` resources to go through.
    pub fn resources(&self, total: usize) {
        self.bar.set_length(u64::try_from(total).unwrap_or(0));
        self.bar.set_position(0);
    }

    /// The job ended with `row`.
    pub fn done(&self, row: &Row) {
        let text = if row.ok && row.test != "-" {
            format!("{} (test: {})", row.status, row.test)
        } else if row.ok {
            row.status.clone()
        } else {
            format!("FAILED: {}", row.reason.as_deref().unwrap_or("failed"))
        };
        let first = text.lines().next().unwrap_or_default().to_owned();
        self.bar.finish_with_message(first);
        if self.plain {
            eprintln!("{}: {text} ({:.1}s)", self.attendee, row.duration.as_secs_f64());
        }
    }
}

impl Progress for Line {
    fn started(&self, logical: &str, what: &str) {
        self.bar.set_message(format!("{what} {logical}"));
    }

    fn finished(&self, _outcome: &Outcome) {
        self.bar.inc(1);
    }
}

impl personalize_stack_aws::injection::Progress for Line {
    fn started(&self, hop: personalize_stack_aws::injection::HopName) {
        self.bar.set_message(format!("testing: {hop} hop"));
    }

    fn finished(&self, _hop: &personalize_stack_aws::injection::Hop) {}
}
