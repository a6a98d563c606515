//! Shared harness for provider tests: a local runtime in memory, a provider connected to it
//! through the real SDK clients, stacks parsed from YAML, and the engine's plan/apply/destroy.
#![allow(dead_code, clippy::unwrap_used)]

use personalize_stack_aws::{Aws, Settings, Target};
use personalize_stack_core::engine::{self, Cancel, Outcome, Plan, Progress, Report};
use personalize_stack_core::{LoadOptions, Stack};
use personalize_stack_local::{Config, Faults, Profile, Running};
use std::sync::Arc;
use std::time::Duration;

/// The account local tests act in (its 12 digits are the access key id).
pub const ACCOUNT: &str = "000000000000";

/// Starts a runtime in memory with everything ready at once.
pub async fn start() -> Running {
    start_with(Profile::instant(), Faults::default()).await
}

/// Starts a runtime in memory with `profile` and `faults`.
pub async fn start_with(profile: Profile, faults: Faults) -> Running {
    personalize_stack_local::start(Config {
        port: 0,
        profile,
        faults,
        poll_interval_ms: 50,
        ..Config::default()
    })
    .await
    .unwrap()
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
        base_dir: std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."),
        packages: personalize_stack_aws::package::Packages::default(),
        build_progress: None,
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

/// `GET /_local/resources` as JSON: every live resource per account and region.
pub async fn resources(running: &Running) -> serde_json::Value {
    let addr = running.addr();
    let response = tokio::task::spawn_blocking(move || {
        use std::io::{Read as _, Write as _};
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .write_all(b"GET /_local/resources HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).unwrap();
        out
    })
    .await
    .unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    let start = body.find('{').unwrap();
    let end = body.rfind('}').unwrap();
    serde_json::from_str(&body[start..=end]).unwrap()
}

/// An SDK config for the default account against `running` (for direct checks in tests).
pub fn sdk(running: &Running) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(running.endpoint_url())
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new(ACCOUNT, "secret", None, None, "test"),
        ))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build()
}
