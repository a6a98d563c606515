//! One module per command.

pub mod destroy;
pub mod local;
pub mod outputs;
pub mod plan;
pub mod schema;
pub mod target;
pub mod test;
pub mod up;
pub mod validate;

use crate::cli::GlobalArgs;
use crate::report;
use anyhow::Context as _;
use personalize_stack_core::{LoadOptions, Stack};

/// Why a command failed, beyond what it already printed.
#[derive(Debug)]
pub enum Failure {
    /// The problems were printed; exit 1.
    Reported,
    /// An error to print with its causes; exit 1.
    Error(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Error(e)
    }
}

/// Reads and checks the stack file, printing every problem on failure.
pub fn load_stack(global: &GlobalArgs) -> Result<Stack, Failure> {
    let path = &global.file;
    let source = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the stack file `{}`", path.display()))?;
    let options = LoadOptions {
        vars: global.vars.clone(),
        region: global.region.clone(),
        attendee: None,
        account_id: None,
    };
    personalize_stack_core::parse(&path.display().to_string(), &source, &options).map_err(|d| {
        match global.output {
            crate::cli::Output::Json => println!("{:#}", report::diagnostics_json(&d)),
            crate::cli::Output::Text => {}
        }
        eprint!("{}", report::render_diagnostics(&d));
        Failure::Reported
    })
}
