//! Fleets (`--fleet attendees.yaml`): the same stack in every attendee's account, many
//! accounts at once.
//!
//! - [`load`] reads the fleet file (problems with file:line:column, like `stack.yaml`);
//! - [`each`] runs one job per attendee, `concurrency` at once, each job isolated: an error,
//!   or even a panic, in one account becomes that attendee's row and never stops the others.
//!   The first Ctrl-C starts no new account and tells running ones to start no new step
//!   (their safe point); the second exits at once;
//! - [`member`] connects to one attendee's account (AssumeRole or profile) and loads the
//!   stack with its `${attendee}`, `${account_id}` and variables;
//! - `commands` has `plan`, `up`, `test`, `outputs` and `destroy` over a fleet; `rows` the
//!   summary table, JSON and hand-out; `bars` the progress lines; `state` what earlier runs
//!   proved, so a re-run touches only accounts that are not converged.

mod bars;
pub mod commands;
mod rows;
mod state;

use crate::cli::GlobalArgs;
use crate::commands::Failure;
use crate::commands::target::{self, Connected, Endpoint};
use anyhow::{Context as _, anyhow};
use bars::Bars;
use personalize_stack_aws::{AssumeRole, Settings, Target};
use personalize_stack_core::LoadOptions;
use personalize_stack_core::engine::Cancel;
use personalize_stack_core::fleet::{Access, Attendee, Fleet};
use rows::Row;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;

/// Reads and checks the fleet file named by `--fleet`, printing every problem on failure.
pub fn load(global: &GlobalArgs, path: &Path) -> Result<Fleet, Failure> {
    let stack = crate::commands::load_stack(global)?;
    let source = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the fleet file `{}`", path.display()))?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "fleet".to_owned());
    let declared: Vec<String> = stack
        .vars
        .keys()
        .filter(|k| !personalize_stack_core::spec::BUILTIN_VARS.contains(&k.as_str()))
        .cloned()
        .collect();
    personalize_stack_core::fleet::parse(&path.display().to_string(), &source, &stem, &declared).map_err(
        |d| {
            eprint!("{}", crate::report::render_diagnostics(&d));
            Failure::Reported
        },
    )
}

/// Connects to `attendee`'s account through `endpoint` and loads the stack for it.
async fn member(
    global: &GlobalArgs,
    endpoint: &Endpoint,
    fleet: &Fleet,
    attendee: &Attendee,
    settings: Settings,
) -> anyhow::Result<Connected> {
    let region = global.region.clone().or_else(|| fleet.region.clone());
    // The stack's own region when neither `--region` nor the fleet names one.
    let offline = target::load_for(global, &load_options(global, fleet, attendee, None))
        .map_err(|_| anyhow!("the stack does not load with this attendee's variables"))?;
    let region = region.unwrap_or_else(|| offline.region.clone());
    let (profile, credentials, assume_role) = match &attendee.access {
        Access::Account(account) => (
            global.profile.clone(),
            endpoint.credentials.clone(),
            Some(AssumeRole {
                role_arn: fleet.role_arn(account),
                external_id: fleet.external_id.clone(),
                session_name: fleet.session_name.clone(),
            }),
        ),
        // The profile's own credentials, even against the local runtime (its access key id
        // names the account there).
        Access::Profile(profile) => (Some(profile.clone()), None, None),
    };
    let target = Target {
        endpoint_url: endpoint.url.clone(),
        region,
        profile,
        credentials,
        assume_role,
    };
    let aws = personalize_stack_aws::connect(&target, settings)
        .await
        .map_err(|e| crate::commands::cannot_connect(e, "the account"))?;
    if let Access::Account(account) = &attendee.access
        && &aws.account != account
    {
        return Err(anyhow!(
            "the assumed role acts in account {}, not {account}",
            aws.account
        ));
    }
    let stack = target::load_for(
        global,
        &load_options(global, fleet, attendee, Some(aws.account.clone())),
    )
    .map_err(|_| anyhow!("the stack does not load for account {}", aws.account))?;
    let aws = aws.for_stack(&stack);
    let description = format!(
        "{}, attendee {}, account {}, region {}",
        endpoint.description, attendee.name, aws.account, aws.region
    );
    Ok(Connected {
        aws: Arc::new(aws),
        stack: Arc::new(stack),
        description,
        embedded: None,
    })
}

/// The attendee's variables first, then `--var` (the command line wins, as in Terraform).
fn load_options(
    global: &GlobalArgs,
    fleet: &Fleet,
    attendee: &Attendee,
    account: Option<String>,
) -> LoadOptions {
    LoadOptions {
        vars: attendee.vars.iter().chain(&global.vars).cloned().collect(),
        region: global.region.clone().or_else(|| fleet.region.clone()),
        attendee: Some(attendee.name.clone()),
        account_id: account,
    }
}

/// What a job gets: its attendee, its progress line, the shared cancel token.
pub struct Job {
    /// The attendee.
    pub attendee: Attendee,
    /// The attendee's progress line.
    pub bar: bars::Line,
    /// Tripped by the first Ctrl-C.
    pub cancel: Cancel,
}

/// Runs `job` for every attendee, `concurrency` at once; rows in fleet order.
///
/// A job that errors or panics becomes a failed row; attendees not started when Ctrl-C came
/// are reported as such.
async fn each<F, Fut>(fleet: &Fleet, bars: &Bars, job: F) -> Vec<Row>
where
    F: Fn(Job) -> Fut,
    Fut: Future<Output = Row> + Send + 'static,
{
    let (cancel, _interrupts) = crate::interrupt::two_stage(crate::interrupt::Messages {
        first: "Interrupted: starting no new account; accounts in progress finish the steps in flight. Ctrl-C again to stop at once.",
        second: Some("Stopped. Run the same command again: it picks up from what exists."),
    });
    let permits = Arc::new(tokio::sync::Semaphore::new(fleet.concurrency));
    let mut handles = Vec::new();
    for attendee in &fleet.attendees {
        let line = bars.line(&attendee.name);
        let permits = Arc::clone(&permits);
        let cancel = cancel.clone();
        // Built now, but an async job does nothing until polled: after the permit.
        let fut = job(Job {
            attendee: attendee.clone(),
            bar: line.clone(),
            cancel: cancel.clone(),
        });
        let (bars, attendee) = (bars.clone(), attendee.clone());
        handles.push((
            attendee.clone(),
            tokio::spawn(async move {
                let _permit = permits.acquire_owned().await.ok()?;
                if cancel.is_cancelled() {
                    return None;
                }
                line.start();
                // Its own task: a panic in one account's job is a failed row, nothing more.
                let row = match tokio::spawn(fut).await {
                    Ok(row) => row,
                    Err(e) => Row::failed(&attendee, &format!("internal error: {e}")),
                };
                line.done(&row);
                bars.account_done();
                Some(row)
            }),
        ));
    }
    let mut rows = Vec::new();
    for (attendee, handle) in handles {
        let row = match handle.await {
            Ok(Some(row)) => row,
            Ok(None) => Row::failed(&attendee, "not started: interrupted"),
            Err(e) => Row::failed(&attendee, &format!("internal error: {e}")),
        };
        rows.push(row);
    }
    bars.finish();
    rows
}
