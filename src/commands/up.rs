//! `up`: plan, confirm, apply with a line per resource, print the outputs.

use super::target::{self, Connected};
use super::{Failure, outputs, test};
use crate::cli::GlobalArgs;
use crate::cli::Output;
use crate::progress::{self, Lines};
use anyhow::anyhow;
use personalize_stack_core::engine::{self, Report, Status};
use std::sync::Arc;

/// `up`'s options.
pub struct Options {
    /// Skip the confirmation.
    pub yes: bool,
    /// Steps at once.
    pub parallelism: usize,
    /// The injection test to run last; `None` with `--no-test`.
    pub test: Option<test::Options>,
}

/// Runs `up`.
pub async fn run(global: &GlobalArgs, options: &Options) -> Result<(), Failure> {
    let connected = target::connect(global).await?;
    let plan = engine::plan(&connected.aws, &connected.stack)
        .await
        .map_err(Failure::from)?;
    if !global.quiet {
        eprintln!("Target: {}", connected.description);
        eprintln!("{plan}");
    }
    if plan.blocked().next().is_some() {
        return Err(Failure::Error(anyhow!(
            "resources of this stack's names exist without its tags (marked `blocked` above); nothing was changed"
        )));
    }
    let report = if plan.has_changes() {
        confirm(options.yes)?;
        let report = apply(global, &connected, options.parallelism).await?;
        summarize(&report, global.verbose);
        if !report.ok() {
            return Err(Failure::Reported);
        }
        report
    } else {
        if !global.quiet {
            eprintln!("Nothing to change.");
        }
        let found = engine::inventory(&connected.aws, &connected.stack)
            .await
            .map_err(Failure::from)?;
        Report {
            attrs: found
                .into_iter()
                .filter_map(|(k, o)| o.map(|o| (k, o.attrs)))
                .collect(),
            ..Report::default()
        }
    };
    if global.verbose {
        eprintln!("{} AWS calls", connected.aws.calls().len());
    }
    let items = outputs::collect(&connected.stack, &report.attrs);
    let Some(test_options) = &options.test else {
        outputs::print(global, &items, false);
        outputs::say_embedded(global, &connected);
        return Ok(());
    };
    if connected.stack.test.is_none() {
        outputs::print(global, &items, false);
        outputs::say_embedded(global, &connected);
        if !global.quiet {
            eprintln!("No `test:` section in the stack: skipping the injection test.");
        }
        return Ok(());
    }
    if global.output == Output::Text {
        outputs::print(global, &items, false);
    }
    // Before the test's report, so the run still ends with its verdict.
    outputs::say_embedded(global, &connected);
    let report = test::inject(global, &connected, &report.attrs, test_options).await;
    if global.output == Output::Json {
        test::print_json_with_outputs(&items, report.as_ref().ok());
    }
    test::verdict(&report?)
}

/// Asks before changing anything; without a terminal, only `--yes` may proceed.
fn confirm(yes: bool) -> Result<(), Failure> {
    if yes {
        return Ok(());
    }
    super::confirm(
        "Apply these changes?",
        "change resources",
        "cancelled; nothing was changed",
    )
}

/// Applies with progress lines and a two-stage Ctrl-C: the first lets steps in flight finish
/// and starts nothing new; the second exits at once (re-running `up` converges either way).
pub async fn apply(
    global: &GlobalArgs,
    connected: &Connected,
    parallelism: usize,
) -> Result<Report, Failure> {
    let (cancel, _interrupts) = crate::interrupt::two_stage(crate::interrupt::Messages {
        first: "Interrupted: finishing the steps in flight, starting nothing new. Ctrl-C again to stop at once.",
        second: Some("Stopped. Run the same command again to converge."),
    });
    let lines = Arc::new(Lines::new(&connected.stack, global.quiet));
    // `_interrupts` listens until the apply has returned.
    engine::apply(
        Arc::clone(&connected.aws),
        Arc::clone(&connected.stack),
        parallelism,
        lines,
        cancel,
    )
    .await
    .map_err(Failure::from)
}

/// Done / failed / not started, and why; with `verbose`, each failure's cause chain (the
/// SDK's layers) under it.
pub fn summarize(report: &Report, verbose: bool) {
    let pick = |f: fn(&Status) -> bool| -> Vec<String> {
        report
            .outcomes
            .iter()
            .filter(|o| f(&o.status))
            .map(|o| o.logical.clone())
            .collect()
    };
    let done = pick(|s| matches!(s, Status::Done(_) | Status::Unchanged | Status::Absent));
    let failed = pick(|s| matches!(s, Status::Failed(_)));
    let not_started = pick(|s| matches!(s, Status::NotStarted(_)));
    eprintln!(
        "\nDone: {}; failed: {}; not started: {}{}",
        list(&done),
        list(&failed),
        list(&not_started),
        if report.cancelled { " (interrupted)" } else { "" }
    );
    for o in &report.outcomes {
        if let Status::Failed(e) = &o.status {
            eprintln!(
                "error: {} ({}): {}",
                o.logical,
                o.kind,
                progress::describe(&o.status)
            );
            let mut cause = std::error::Error::source(e).filter(|_| verbose);
            while let Some(c) = cause {
                eprintln!("  caused by: {c}");
                cause = c.source();
            }
        }
    }
    if !report.ok() {
        eprintln!("Run the same command again to continue: it picks up from what exists.");
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}
