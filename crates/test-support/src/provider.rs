//! A provider connected to a local runtime through the real SDK clients, stacks parsed from
//! YAML, and the engine's plan, apply and destroy, for the provider's tests and benches.

pub use crate::{ACCOUNT, resources};
use personalize_stack_aws::{Aws, Settings, Target};
use personalize_stack_core::engine::{self, Cancel, Outcome, Plan, Progress, Report};
use personalize_stack_core::{LoadOptions, Stack};
use personalize_stack_local::{Config, Faults, Profile, Running};
use std::sync::Arc;
use std::time::Duration;

/// Starts a runtime in memory with everything ready at once, polling mappings every 50 ms.
pub async fn start() -> Running {
    start_with(Profile::instant(), Faults::default()).await
}

/// Starts a runtime in memory with `profile` and `faults`, polling mappings every 50 ms.
pub async fn start_with(profile: Profile, faults: Faults) -> Running {
    crate::start_config(Config {
        profile,
        faults,
        poll_interval_ms: 50,
        ..Config::default()
    })
    .await
}

/// An SDK config for [`ACCOUNT`] against `running` (for direct checks in tests).
pub fn sdk(running: &Running) -> aws_config::SdkConfig {
    crate::sdk(running, ACCOUNT)
}

/// Provider settings for tests: fast polls and backoffs.
pub fn settings() -> Settings {
    Settings {
        retry: personalize_stack_aws::RetryPolicy {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(200),
            max_attempts: 12,
            propagation_window: Duration::from_secs(30),
        },
        poll_interval: Duration::from_millis(20),
        wait_timeout: Duration::from_secs(30),
        training_timeout: Duration::from_secs(30),
        pace_api_gateway: false,
        abort_after_calls: None,
        base_dir: crate::workspace_root(),
        packages: personalize_stack_aws::package::Packages::default(),
        build_progress: None,
        retry_report: None,
    }
}

/// Parses `yaml` as a stack file (panics with the diagnostics if it is invalid).
pub fn stack(yaml: &str) -> Arc<Stack> {
    let options = LoadOptions {
        account_id: Some(ACCOUNT.to_owned()),
        ..LoadOptions::default()
    };
    match personalize_stack_core::parse("stack.yaml", yaml, &options) {
        Ok(s) => Arc::new(s),
        Err(d) => panic!("{d:?}"),
    }
}

/// A provider for `stack` connected to `running`.
pub async fn provider(running: &Running, stack: &Stack) -> Arc<Aws> {
    provider_with(running, stack, settings()).await
}

/// [`provider`] with `settings`.
pub async fn provider_with(running: &Running, stack: &Stack, settings: Settings) -> Arc<Aws> {
    let target = Target {
        endpoint_url: Some(running.endpoint_url()),
        region: stack.region.clone(),
        profile: None,
        credentials: Some((ACCOUNT.to_owned(), "secret".to_owned())),
        assume_role: None,
    };
    Arc::new(
        personalize_stack_aws::connect(&target, settings)
            .await
            .unwrap()
            .for_stack(stack),
    )
}

/// Progress that prints to stderr (visible with `--no-capture`).
pub struct Print;

impl Progress for Print {
    fn started(&self, logical: &str, what: &str) {
        eprintln!("{logical}: {what}");
    }
    fn finished(&self, outcome: &Outcome) {
        eprintln!(
            "{}: {:?} in {:?}",
            outcome.logical, outcome.status, outcome.elapsed
        );
    }
}

/// The engine's plan.
pub async fn plan(aws: &Arc<Aws>, stack: &Arc<Stack>) -> Plan {
    engine::plan(aws, stack).await.unwrap()
}

/// The engine's apply; panics unless every step succeeded.
pub async fn up(aws: &Arc<Aws>, stack: &Arc<Stack>) -> Report {
    let report = engine::apply(
        Arc::clone(aws),
        Arc::clone(stack),
        8,
        Arc::new(Print),
        Cancel::never(),
    )
    .await
    .unwrap();
    assert!(report.ok(), "{report:#?}");
    report
}

/// The engine's destroy; panics unless every step succeeded.
pub async fn destroy(aws: &Arc<Aws>, stack: &Arc<Stack>) -> Report {
    let report = engine::destroy(
        Arc::clone(aws),
        Arc::clone(stack),
        8,
        Arc::new(Print),
        Cancel::never(),
    )
    .await
    .unwrap();
    assert!(report.ok(), "{report:#?}");
    report
}
