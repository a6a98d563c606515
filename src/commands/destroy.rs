//! `destroy`: delete what this stack owns, dependents first, then look again and say
//! exactly what is left.

use super::Failure;
use super::target;
use super::up::summarize;
use crate::cli::GlobalArgs;
use crate::progress::Lines;
use personalize_stack_core::engine;
use std::sync::Arc;

/// Runs `destroy`.
pub async fn run(global: &GlobalArgs, yes: bool, parallelism: usize) -> Result<(), Failure> {
    let connected = target::connect(global).await?;
    if !yes {
        super::confirm(
            &format!(
                "Delete every resource of stack `{}` on {}?",
                connected.stack.name, connected.description
            ),
            "delete",
            "cancelled; nothing was deleted",
        )?;
    }
    let (cancel, _interrupts) = crate::interrupt::two_stage(crate::interrupt::Messages {
        first: "Interrupted: finishing the deletions in flight. Ctrl-C again to stop at once.",
        second: None,
    });
    let lines = Arc::new(Lines::new(&connected.stack, global.quiet));
    let report = engine::destroy(
        Arc::clone(&connected.aws),
        Arc::clone(&connected.stack),
        parallelism,
        lines,
        cancel,
    )
    .await
    .map_err(Failure::from)?;
    summarize(&report, global.verbose);
    // Look again: only a fresh scan proves what is left.
    let left = engine::inventory(&connected.aws, &connected.stack)
        .await
        .map_err(|e| Failure::Error(anyhow::Error::new(e).context("re-scan failed")))?;
    let ours: Vec<String> = left
        .iter()
        .filter_map(|(logical, o)| {
            o.as_ref()
                .filter(|o| o.owned)
                .map(|o| format!("{logical} (`{}`)", o.id))
        })
        .collect();
    let foreign: Vec<String> = left
        .iter()
        .filter_map(|(logical, o)| {
            o.as_ref()
                .filter(|o| !o.owned)
                .map(|o| format!("{logical}: `{}`", o.id))
        })
        .collect();
    for f in &foreign {
        eprintln!("left alone (not this stack's): {f}");
    }
    if ours.is_empty() && report.ok() {
        println!(
            "Nothing of stack `{}` is left on {}.",
            connected.stack.name, connected.description
        );
        Ok(())
    } else {
        for o in &ours {
            println!("still there: {o}");
        }
        Err(Failure::Reported)
    }
}
