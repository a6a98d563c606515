//! The provider: observe, create, update and delete each resource kind of a stack through
//! aws-sdk-rust. One file per kind under [`kinds`]; this module holds what they share: the
//! SDK clients, ownership tags, the call wrapper (retries, pacing, errors: [`call`]) and
//! readiness waits.
//!
//! The same code talks to AWS and to the local runtime: only the endpoint and credentials
//! differ (DESIGN.md §2.3).

pub mod call;
mod connect;
pub mod injection;
pub mod kinds;
mod pace;
pub mod package;

pub use call::RetryPolicy;
pub use connect::{AssumeRole, Target, connect};

use indexmap::IndexMap;
use personalize_stack_core::engine::ProviderError;
use personalize_stack_core::spec::Resource;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

/// The tag naming the stack that owns a resource.
pub const STACK_TAG: &str = "personalize-stack:stack";
/// The tag naming the logical resource (the key under `resources:`).
pub const RESOURCE_TAG: &str = "personalize-stack:resource";

/// How the provider behaves.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Retries.
    pub retry: RetryPolicy,
    /// Interval between readiness polls (tracker ACTIVE, stream ACTIVE, function Active).
    pub poll_interval: Duration,
    /// Longest readiness wait.
    pub wait_timeout: Duration,
    /// Longest wait for a Personalize dataset import job or a solution version (training):
    /// these take tens of minutes to hours on AWS.
    pub training_timeout: Duration,
    /// Pace API Gateway control-plane calls to AWS's documented per-account rates.
    pub pace_api_gateway: bool,
    /// Fault injection: abort the process at this AWS call (tests of `kill -9` recovery).
    pub abort_after_calls: Option<u64>,
    /// The directory of the stack file: `code: { crate: lambda }` and `zip:` paths are
    /// relative to it.
    pub base_dir: PathBuf,
    /// Lambda packages built so far (shared by clones of these settings).
    pub packages: package::Packages,
    /// Told when a Lambda package is built, and what Cargo prints meanwhile.
    pub build_progress: Option<std::sync::Arc<dyn package::BuildProgress>>,
    /// Told before each retry of a call.
    pub retry_report: Option<std::sync::Arc<dyn call::RetryReport>>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            retry: RetryPolicy::default(),
            poll_interval: Duration::from_secs(2),
            wait_timeout: Duration::from_secs(600),
            training_timeout: Duration::from_secs(4 * 3600),
            pace_api_gateway: true,
            abort_after_calls: None,
            base_dir: PathBuf::from("."),
            packages: package::Packages::default(),
            build_progress: None,
            retry_report: None,
        }
    }
}

/// The SDK clients of one account and region.
#[derive(Debug, Clone)]
pub struct Clients {
    /// IAM.
    pub iam: aws_sdk_iam::Client,
    /// Kinesis.
    pub kinesis: aws_sdk_kinesis::Client,
    /// Personalize (control plane).
    pub personalize: aws_sdk_personalize::Client,
    /// personalize-runtime (GetRecommendations), for the injection test.
    pub personalize_runtime: aws_sdk_personalizeruntime::Client,
    /// Lambda.
    pub lambda: aws_sdk_lambda::Client,
    /// API Gateway (REST, v1).
    pub apigateway: aws_sdk_apigateway::Client,
    /// CloudWatch Logs.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// STS.
    pub sts: aws_sdk_sts::Client,
}

/// The provider for one stack in one account and region.
#[derive(Debug)]
pub struct Aws {
    /// SDK clients.
    pub clients: Clients,
    /// The account (from STS GetCallerIdentity).
    pub account: String,
    /// The region.
    pub region: String,
    /// The endpoint, when not AWS's own (the local runtime): invoke URLs are built from it.
    pub endpoint_url: Option<String>,
    /// The stack's name (the value of the ownership tag).
    pub stack: String,
    /// The stack's own tags, put on every resource.
    pub stack_tags: IndexMap<String, String>,
    /// Behaviour.
    pub settings: Settings,
    calls: AtomicU64,
    /// Whether the endpoint has answered any call yet (see [`call`]'s fail-fast rule).
    answered: std::sync::atomic::AtomicBool,
    call_log: Mutex<Vec<String>>,
    pacer: pace::Pacer,
}

impl Aws {
    /// A provider over `clients`.
    pub fn new(
        clients: Clients,
        account: String,
        region: String,
        endpoint_url: Option<String>,
        settings: Settings,
    ) -> Aws {
        Aws {
            clients,
            account,
            region,
            endpoint_url,
            stack: String::new(),
            stack_tags: IndexMap::new(),
            settings,
            calls: AtomicU64::new(0),
            answered: std::sync::atomic::AtomicBool::new(false),
            call_log: Mutex::new(Vec::new()),
            pacer: pace::Pacer::default(),
        }
    }

    /// For `stack`: its name tags resources, its tags go on every one.
    #[must_use]
    pub fn for_stack(mut self, stack: &personalize_stack_core::Stack) -> Aws {
        self.stack = stack.name.clone();
        self.stack_tags = stack.tags.clone();
        self
    }

    /// The AWS operations called so far, in order.
    pub fn calls(&self) -> Vec<String> {
        self.call_log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The tags to put on `resource`: the stack's, the resource's own, and ownership.
    pub fn tags_for(&self, resource: &Resource, own: &IndexMap<String, String>) -> BTreeMap<String, String> {
        let mut tags: BTreeMap<String, String> = self
            .stack_tags
            .iter()
            .chain(own)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        tags.insert(STACK_TAG.to_owned(), self.stack.clone());
        tags.insert(RESOURCE_TAG.to_owned(), resource.logical.clone());
        tags
    }

    /// Whether `tags` (as found on a resource) say it is `resource` of this stack.
    pub fn owns(&self, resource: &Resource, tags: &BTreeMap<String, String>) -> bool {
        tags.get(STACK_TAG) == Some(&self.stack) && tags.get(RESOURCE_TAG) == Some(&resource.logical)
    }

    /// Polls `check` every `poll_interval` until it yields a value, or fails after
    /// `wait_timeout` with an error naming `what`.
    ///
    /// # Errors
    /// `check`'s error, or the timeout.
    pub async fn wait_for<T, F, Fut>(&self, what: &str, check: F) -> Result<T, ProviderError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Option<T>, ProviderError>>,
    {
        self.wait_for_within(what, self.settings.wait_timeout, check)
            .await
    }

    /// Like [`Aws::wait_for`], giving up after `timeout` instead.
    ///
    /// # Errors
    /// `check`'s error, or the timeout.
    pub async fn wait_for_within<T, F, Fut>(
        &self,
        what: &str,
        timeout: Duration,
        check: F,
    ) -> Result<T, ProviderError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Option<T>, ProviderError>>,
    {
        let started = Instant::now();
        loop {
            if let Some(v) = check().await? {
                return Ok(v);
            }
            if started.elapsed() >= timeout {
                return Err(crate::call::error(
                    "wait",
                    "Timeout",
                    format!("{what}: not ready after {timeout:?}"),
                )
                .hint("run again to keep waiting; nothing is lost"));
            }
            tokio::time::sleep(self.settings.poll_interval).await;
        }
    }

    /// The error for a reference that must be known when a resource is created.
    pub fn unresolved(reference: &personalize_stack_core::spec::text::Reference) -> ProviderError {
        crate::call::error(
            "resolve",
            "UnknownReference",
            format!("{reference} is not known: its resource does not exist"),
        )
    }

    async fn pace(&self, operation: &str) {
        if self.settings.pace_api_gateway {
            self.pacer.wait(operation).await;
        }
    }
}
