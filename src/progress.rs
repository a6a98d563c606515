//! One line per resource while `up` and `destroy` run: its state and how long it has taken.
//! On a terminal the lines update in place (indicatif); otherwise (CI, pipes) each change is
//! one plain line, so logs stay readable.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use personalize_stack_core::Stack;
use personalize_stack_core::engine::{Outcome, Progress, Status};
use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::time::Duration;

/// The resource lines drawn on the terminal now, if any. A line said meanwhile (a retry)
/// goes above them through [`say_above_bars`] instead of through them; the terminal is one
/// per process, hence one place.
static DRAWN: std::sync::Mutex<Option<MultiProgress>> = std::sync::Mutex::new(None);

/// Prints `line` on stderr, above the resource lines while they are drawn.
fn say_above_bars(line: &str) {
    let drawn = DRAWN.lock().ok().and_then(|d| d.clone());
    match drawn {
        Some(multi) if multi.println(line).is_ok() => {}
        _ => eprintln!("{line}"),
    }
}

/// Progress lines for every resource of a stack.
pub struct Lines {
    bars: BTreeMap<String, ProgressBar>,
    plain: bool,
    quiet: bool,
}

impl Drop for Lines {
    fn drop(&mut self) {
        if let Ok(mut drawn) = DRAWN.lock() {
            *drawn = None;
        }
    }
}

impl Lines {
    /// A line per resource of `stack`, in dependency order.
    pub fn new(stack: &Stack, quiet: bool) -> Lines {
        let plain = !std::io::stderr().is_terminal();
        let multi = MultiProgress::with_draw_target(if plain || quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        });
        let width = stack.resources.keys().map(String::len).max().unwrap_or(0);
        let style =
            ProgressStyle::with_template(&format!("{{spinner}} {{prefix:<{width}}} {{msg}} {{elapsed:>4}}"))
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let mut bars = BTreeMap::new();
        for logical in stack.graph.order() {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(style.clone());
            bar.set_prefix(logical.to_owned());
            bar.set_message("waiting");
            bar.enable_steady_tick(Duration::from_millis(120));
            bars.insert(logical.to_owned(), bar);
        }
        if !plain
            && !quiet
            && let Ok(mut drawn) = DRAWN.lock()
        {
            *drawn = Some(multi);
        }
        Lines { bars, plain, quiet }
    }

    fn say(&self, logical: &str, message: String) {
        if self.plain && !self.quiet {
            eprintln!("{logical}: {message}");
        }
    }
}

/// How a status reads on its line.
pub fn describe(status: &Status) -> String {
    match status {
        Status::Unchanged => "unchanged".to_owned(),
        Status::Done(verb) => (*verb).to_owned(),
        Status::Absent => "absent".to_owned(),
        Status::NotOurs(id) => format!("left alone: `{id}` is not this stack's"),
        Status::Failed(e) => format!("FAILED: {}", e.with_hint()),
        Status::NotStarted(why) => format!("not started ({why})"),
    }
}

impl Progress for Lines {
    fn started(&self, logical: &str, what: &str) {
        if let Some(bar) = self.bars.get(logical) {
            bar.set_message(what.to_owned());
        }
        self.say(logical, what.to_owned());
    }

    fn finished(&self, outcome: &Outcome) {
        let text = describe(&outcome.status);
        if let Some(bar) = self.bars.get(&outcome.logical) {
            let first_line = text.lines().next().unwrap_or_default().to_owned();
            bar.finish_with_message(first_line);
        }
        self.say(
            &outcome.logical,
            format!("{text} ({:.1}s)", outcome.elapsed.as_secs_f64()),
        );
    }
}

/// What `up` and `plan` show while a Lambda function's crate is built (a minute or more on a
/// fresh machine): on a terminal, a spinner with the step, the elapsed time and Cargo's latest
/// status line; elsewhere, one line when it starts and one when it ends. Cargo's "Blocking
/// waiting for file lock" lines are passed through either way: without them a build waiting
/// for another Cargo looks hung.
#[derive(Debug)]
pub struct BuildLine {
    quiet: bool,
    spinner: std::sync::Mutex<Option<ProgressBar>>,
}

impl BuildLine {
    /// Progress on stderr; nothing under `--quiet`.
    pub fn new(quiet: bool) -> BuildLine {
        BuildLine {
            quiet,
            spinner: std::sync::Mutex::new(None),
        }
    }

    fn spinner(&self) -> Option<ProgressBar> {
        self.spinner.lock().ok().and_then(|s| s.clone())
    }
}

/// Whether Cargo's status `line` says the build is waiting on another Cargo.
fn is_blocking(line: &str) -> bool {
    line.starts_with("Blocking")
}

/// Cargo's status lines worth showing beside the spinner (`Compiling serde v1.0.219`).
fn is_status(line: &str) -> bool {
    [
        "Compiling",
        "Downloading",
        "Downloaded",
        "Updating",
        "Locking",
        "Building",
    ]
    .iter()
    .any(|word| line.starts_with(word))
}

impl personalize_stack_aws::package::BuildProgress for BuildLine {
    fn started(&self, what: &str) {
        if self.quiet {
            return;
        }
        if !std::io::stderr().is_terminal() {
            eprintln!("Building {what} ...");
            return;
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} Building {prefix} {elapsed:>4}  {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(what.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut spinner) = self.spinner.lock() {
            *spinner = Some(bar);
        }
    }

    fn output(&self, line: &str) {
        if self.quiet {
            return;
        }
        match self.spinner() {
            Some(bar) if is_blocking(line) => bar.println(format!("  {line}")),
            Some(bar) if is_status(line) => bar.set_message(line.to_owned()),
            None if is_blocking(line) => eprintln!("  {line}"),
            _ => {}
        }
    }

    fn finished(
        &self,
        what: &str,
        outcome: Result<
            &personalize_stack_aws::package::Package,
            &personalize_stack_core::engine::ProviderError,
        >,
        elapsed: Duration,
    ) {
        if self.quiet {
            return;
        }
        if let Some(bar) = self.spinner.lock().ok().and_then(|mut s| s.take()) {
            bar.finish_and_clear();
        }
        match outcome {
            Ok(package) => eprintln!(
                "Built {what} in {:.1}s: {}",
                elapsed.as_secs_f64(),
                package.summary()
            ),
            // The error itself is printed by the command that needed the build.
            Err(_) => eprintln!("Building {what} failed after {:.1}s", elapsed.as_secs_f64()),
        }
    }
}

/// Says on stderr, from a call's third attempt on, that it is being retried and why: the
/// first retries are quick and silent, a long wait shows what it is waiting for.
#[derive(Debug)]
pub struct RetryLines {
    quiet: bool,
}

impl RetryLines {
    /// Lines on stderr; nothing under `--quiet`.
    pub fn new(quiet: bool) -> RetryLines {
        RetryLines { quiet }
    }
}

impl personalize_stack_aws::call::RetryReport for RetryLines {
    fn retrying(&self, r: &personalize_stack_aws::call::Retrying<'_>) {
        use personalize_stack_aws::call::Limit;
        if self.quiet || r.attempt < 3 {
            return;
        }
        let of = match r.limit {
            Limit::Attempts(n) => format!("{}/{n}", r.attempt),
            Limit::Until(window) => format!("attempt {}, for up to {}s", r.attempt, window.as_secs()),
        };
        say_above_bars(&format!(
            "retrying {} ({of}) in {:.1}s after {}",
            r.operation,
            r.wait.as_secs_f64(),
            first_line(&r.why)
        ));
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}
