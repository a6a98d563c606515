//! `plan`: what `up` would change, from what exists. Read calls only.

use super::Failure;
use super::target;
use crate::cli::{GlobalArgs, Output};
use anyhow::anyhow;
use personalize_stack_core::engine;

/// Exit status for `--detailed-exitcode` when there are changes (Terraform's convention).
pub const CHANGES: u8 = 2;

/// Runs `plan`; `Ok(true)` when there are changes.
pub async fn run(global: &GlobalArgs) -> Result<bool, Failure> {
    let connected = target::connect(global).await?;
    let plan = engine::plan(&connected.aws, &connected.stack)
        .await
        .map_err(Failure::from)?;
    match global.output {
        Output::Json => println!(
            "{:#}",
            serde_json::json!({
                "target": connected.description,
                "changes": plan.has_changes(),
                "steps": plan.steps,
                "calls": connected.aws.calls(),
            })
        ),
        Output::Text => {
            if !global.quiet {
                eprintln!("Target: {}", connected.description);
            }
            println!("{plan}");
            if global.verbose {
                eprintln!(
                    "{} AWS calls: {}",
                    connected.aws.calls().len(),
                    connected.aws.calls().join(", ")
                );
            }
        }
    }
    if plan.blocked().next().is_some() {
        return Err(Failure::Error(anyhow!(
            "resources of this stack's names exist without its tags (marked `blocked` above): `up` will not touch them"
        )));
    }
    Ok(plan.has_changes())
}
