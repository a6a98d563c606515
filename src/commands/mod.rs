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
use personalize_stack_core::engine::ProviderError;
use personalize_stack_core::{LoadOptions, Stack};

/// Why a command failed, beyond what it already printed.
#[derive(Debug)]
pub enum Failure {
    /// The problems were printed; exit 1.
    Reported,
    /// An error to print with its causes; exit 1.
    Error(anyhow::Error),
}

impl From<ProviderError> for Failure {
    /// Keeps the error itself (and so its cause chain) for `main` to render.
    fn from(e: ProviderError) -> Self {
        Failure::Error(anyhow::Error::new(e))
    }
}

/// `cannot connect to AWS: <why>`: a failure to connect, in one line. A connection or
/// credentials failure says it all in its message (the host that did not resolve, the profile
/// that is missing); the provider error stays in the chain for `-v`.
pub fn cannot_connect(error: ProviderError, description: &str) -> anyhow::Error {
    use personalize_stack_core::engine::ErrorKind;
    let summary = match error.kind {
        ErrorKind::Connection | ErrorKind::Credentials => {
            format!("cannot connect to {description}: {}", error.message)
        }
        _ => format!("cannot connect to {description}"),
    };
    anyhow::Error::new(error).context(summary)
}

/// The causes of `error` worth printing: down to the first provider error, which already
/// says what its SDK error does in one line (and not even that when the line above has said
/// its message); the SDK's own layers ("dispatch failure", "io error", …) too when
/// `verbose`.
pub fn causes(error: &anyhow::Error, verbose: bool) -> Vec<String> {
    let mut shown = Vec::new();
    let mut chain = error.chain();
    let mut said = error.to_string();
    // The chain's own links, not `anyhow::Error::is`, which also sees through context.
    let mut past_provider = chain.next().is_some_and(|top| top.is::<ProviderError>());
    for cause in chain {
        if past_provider && !verbose {
            break;
        }
        let repeated = cause
            .downcast_ref::<ProviderError>()
            .is_some_and(|p| said.contains(&p.message));
        if verbose || !repeated {
            shown.push(cause.to_string());
        }
        said = cause.to_string();
        past_provider |= cause.is::<ProviderError>();
    }
    shown
}

/// The hint of the first provider error in `error`'s chain: printed once, after the causes.
pub fn hint_of(error: &anyhow::Error) -> Option<&str> {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<ProviderError>())
        .and_then(|e| e.hint.as_deref())
}

/// `error` on one line, for a table row: the message and its causes (as [`causes`] picks
/// them) joined by `: `, then `; hint: …`.
pub fn one_line(error: &anyhow::Error) -> String {
    let mut line = std::iter::once(error.to_string())
        .chain(causes(error, false))
        .collect::<Vec<_>>()
        .join(": ");
    if let Some(hint) = hint_of(error) {
        line.push_str("; hint: ");
        line.push_str(hint);
    }
    line
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Error(e)
    }
}

/// Refuses to go on without an answer nobody can give: stdin is not a terminal (and the
/// caller was not given `--yes`). `doing` completes "refusing to … without confirmation".
pub fn require_terminal(doing: &str) -> Result<(), Failure> {
    use std::io::IsTerminal as _;
    if std::io::stdin().is_terminal() {
        Ok(())
    } else {
        Err(Failure::Error(anyhow::anyhow!(
            "refusing to {doing} without confirmation: stdin is not a terminal; pass --yes"
        )))
    }
}

/// Prints `question` on stderr and reads one line of answer from stdin, trimmed.
pub fn ask(question: &str) -> String {
    use std::io::{BufRead as _, Write as _};
    eprint!("{question} ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    answer.trim().to_owned()
}

/// A y/N question on a terminal: `Ok` on yes, else the error `cancelled`.
pub fn confirm(question: &str, doing: &str, cancelled: &str) -> Result<(), Failure> {
    require_terminal(doing)?;
    if matches!(ask(&format!("{question} [y/N]")).as_str(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(Failure::Error(anyhow::anyhow!("{cancelled}")))
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
