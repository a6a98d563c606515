//! Running functions: a function's zip unpacked once per code version, its `bootstrap` run as
//! a child process against its own Runtime API ([`super::runtime_api`]), warm instances
//! reused, output captured into CloudWatch Logs.
//!
//! # How it runs
//! - One executor per running runtime, on a Tokio runtime of its own (two workers): a
//!   synchronous `Invoke` blocks its request thread while the function runs, and the
//!   function's Runtime API must keep being served meanwhile, whatever runtime the server
//!   itself runs on.
//! - Only `provided.al2023` and `provided.al2` run (an executable `bootstrap` at the root of
//!   the zip); other runtimes fail every invocation with `Runtime.InvalidEntrypoint`.
//! - Code is unpacked to `{data_dir}/lambda/{account}/{region}/{function}/{CodeSha256}` (a
//!   temporary directory, removed at shutdown, when the runtime keeps state in memory).
//! - An instance runs one invocation at a time. A function has up to
//!   [`MAX_INSTANCES_PER_FUNCTION`] instances; invocations beyond that wait for one to be
//!   free (AWS would throttle; waiting keeps local pipelines simple).
//! - An update of the code or configuration (a new `RevisionId`) retires the old instances:
//!   idle ones at once, busy ones when their invocation ends. Idle instances are stopped
//!   after [`IDLE_MS`], or when their function is deleted.
//! - A timeout kills the process (`Sandbox.Timedout`, "Task timed out after N.NN seconds");
//!   a process that exits mid-invocation gives `Runtime.ExitError`; `/init/error` fails the
//!   invocation with the error the runtime posted. The next invocation starts a fresh process.
//! - stdout and stderr (one pipe, as in Lambda) become events of `/aws/lambda/{name}` in the
//!   stream `YYYY/MM/DD/[$LATEST]{instance id}`, with Lambda's `INIT_START`, `START`, `END`
//!   and `REPORT` lines; the lines of one invocation are written in one transaction when it
//!   ends.
//!
//! The process environment is a clean one, as in Lambda: `AWS_LAMBDA_RUNTIME_API`, the
//! function's name, memory, version, log group and stream, `AWS_REGION`, credentials acting
//! in the function's account (its 12-digit id as access key), `AWS_ENDPOINT_URL` pointing
//! at this runtime, `LAMBDA_TASK_ROOT`, `_HANDLER`, `PATH`, `TZ`, `LANG`, and the
//! function's own variables.

use super::runtime_api::{Completion, Dispatch, Server};
use crate::AwsError;
use crate::auth::Caller;
use crate::server::Runtime;
use crate::services::{Ctx, now_ms};
use base64::Engine as _;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;
use tokio::sync::{Notify, oneshot, watch};

/// How many instances of one function may run at once.
pub const MAX_INSTANCES_PER_FUNCTION: usize = 10;

/// How long an instance may stay idle before it is stopped.
pub const IDLE_MS: u64 = 5 * 60 * 1000;

/// How long a new process may take to ask for its first invocation (Lambda's init limit).
const INIT_LIMIT: Duration = Duration::from_secs(10);

/// Lambda's limit on a synchronous response (6 MB plus a little, as AWS reports it).
const MAX_RESPONSE_BYTES: usize = 6_291_556;

/// How much of an invocation's log `X-Amz-Log-Result` carries.
const LOG_TAIL_BYTES: usize = 4096;

/// `ETXTBSY`: exec raced a concurrent fork that still held the freshly written file open.
const TEXT_FILE_BUSY: i32 = 26;

/// One invocation to run.
#[derive(Debug, Clone)]
pub(crate) struct Invocation {
    /// The function's account.
    pub account: String,
    /// The function's region.
    pub region: String,
    /// The function: a name or an ARN.
    pub function: String,
    /// The event.
    pub payload: Vec<u8>,
    /// Its request id.
    pub request_id: String,
    /// Whether the caller wants the tail of the log.
    pub tail: bool,
    /// `Lambda-Runtime-Client-Context` (decoded JSON), if any.
    pub client_context: Option<String>,
}

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// The function returned `payload`.
    Success {
        /// The response.
        payload: Vec<u8>,
        /// Base64 of the log's last 4 KB, when asked for.
        log: Option<String>,
    },
    /// The function failed (`X-Amz-Function-Error: Unhandled`).
    FunctionError {
        /// `{"errorMessage", "errorType", ...}`.
        payload: Vec<u8>,
        /// The error type.
        error_type: String,
        /// Base64 of the log's last 4 KB, when asked for.
        log: Option<String>,
    },
    /// Lambda refused the invocation (no such function, not active, internal failure).
    Rejected(AwsError),
}

mod function;
mod instance;
mod logs;
mod process;

use function::*;
use instance::*;
use logs::*;
use process::*;

// ---- the executor ----

/// Runs the functions of one runtime.
pub(crate) struct Executor {
    /// Weak, so the runtime's store closes at shutdown even while the executor's own
    /// threads are still winding down.
    rt: Weak<Runtime>,
    /// `AWS_ENDPOINT_URL` for functions: the runtime itself.
    endpoint: String,
    tokio: Mutex<Option<tokio::runtime::Runtime>>,
    handle: tokio::runtime::Handle,
    work_dir: PathBuf,
    owns_work_dir: bool,
    pools: Mutex<HashMap<String, Pool>>,
    unpacking: Mutex<()>,
    stopped: AtomicBool,
}

/// The instances of one function.
struct Pool {
    account: String,
    region: String,
    name: String,
    live: Vec<Arc<Instance>>,
    idle: Vec<Arc<Instance>>,
    starting: usize,
    freed: Arc<Notify>,
}

impl Executor {
    /// Starts the executor of `rt` (which keeps it: [`Runtime::executor`]).
    ///
    /// # Errors
    /// Its threads cannot be started.
    pub(crate) fn start(rt: Arc<Runtime>) -> std::io::Result<Arc<Executor>> {
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("lambda-executor")
            .enable_all()
            .build()?;
        let (work_dir, owns_work_dir) = match &rt.config.data_dir {
            Some(dir) => (dir.clone(), false),
            None => (
                std::env::temp_dir().join(format!(
                    "personalize-stack-local-{}",
                    uuid::Uuid::new_v4().simple()
                )),
                true,
            ),
        };
        let endpoint = if rt.addr.ip().is_unspecified() {
            format!("http://127.0.0.1:{}", rt.addr.port())
        } else {
            format!("http://{}", rt.addr)
        };
        let executor = Arc::new(Executor {
            handle: tokio.handle().clone(),
            tokio: Mutex::new(Some(tokio)),
            rt: Arc::downgrade(&rt),
            endpoint,
            work_dir,
            owns_work_dir,
            pools: Mutex::new(HashMap::new()),
            unpacking: Mutex::new(()),
            stopped: AtomicBool::new(false),
        });
        Ok(executor)
    }

    /// Stops every instance and the executor's threads.
    pub(crate) fn shutdown(&self) {
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        let instances: Vec<Arc<Instance>> = self.pools().drain().flat_map(|(_, pool)| pool.live).collect();
        for instance in &instances {
            instance.kill();
        }
        if let Some(tokio) = self.tokio.lock().unwrap_or_else(PoisonError::into_inner).take() {
            tokio.shutdown_background();
        }
        if self.owns_work_dir {
            let _ = std::fs::remove_dir_all(&self.work_dir);
        }
    }

    /// The runtime, unless it has shut down.
    fn runtime(&self) -> Result<Arc<Runtime>, AwsError> {
        self.rt.upgrade().ok_or_else(service_error)
    }

    fn pools(&self) -> MutexGuard<'_, HashMap<String, Pool>> {
        self.pools.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `invocation` on the executor's threads and waits for it.
    pub(crate) async fn invoke(self: &Arc<Self>, invocation: Invocation) -> Outcome {
        let this = Arc::clone(self);
        match self.handle.spawn(async move { this.run(invocation).await }).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::Rejected(service_error()),
        }
    }

    /// Runs `invocation` and blocks the calling thread until it ends (synchronous `Invoke`).
    /// On a multi-threaded Tokio runtime the thread is first handed over with
    /// `block_in_place`, so the server's other requests keep being served.
    pub(crate) fn invoke_blocking(self: &Arc<Self>, invocation: Invocation) -> Outcome {
        let (tx, rx) = std::sync::mpsc::channel();
        let this = Arc::clone(self);
        self.handle.spawn(async move {
            let _ = tx.send(this.run(invocation).await);
        });
        let wait = move || rx.recv().unwrap_or(Outcome::Rejected(service_error()));
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(wait),
            _ => wait(),
        }
    }

    /// Starts `invocation` in the background (`InvocationType: Event`).
    pub(crate) fn invoke_detached(self: &Arc<Self>, invocation: Invocation) {
        let this = Arc::clone(self);
        self.handle.spawn(async move {
            let _ = this.run(invocation).await;
        });
    }

    /// Stops instances idle for too long, dead, or running code or configuration that is no
    /// longer the function's (updated or deleted); called by the background supervisor.
    pub(crate) fn reap(&self) {
        let now = now_ms();
        let scopes: Vec<(String, String, String, String)> = self
            .pools()
            .iter()
            .map(|(k, p)| (k.clone(), p.account.clone(), p.region.clone(), p.name.clone()))
            .collect();
        for (key, account, region, name) in scopes {
            let current = self
                .load_spec(&account, &region, &name)
                .ok()
                .flatten()
                .map(|s| s.generation());
            let (retired, idle): (Vec<Arc<Instance>>, Vec<Arc<Instance>>) = {
                let mut pools = self.pools();
                let Some(pool) = pools.get_mut(&key) else {
                    continue;
                };
                let (retired, kept): (Vec<_>, Vec<_>) = pool.idle.drain(..).partition(|i| {
                    i.is_dead()
                        || now.saturating_sub(i.last_used_ms.load(Ordering::Relaxed)) > IDLE_MS
                        || current.as_deref() != Some(i.generation.as_str())
                });
                pool.idle.clone_from(&kept);
                pool.live.retain(|l| !retired.iter().any(|r| Arc::ptr_eq(l, r)));
                if pool.live.is_empty() && pool.starting == 0 {
                    pools.remove(&key);
                }
                (retired, kept)
            };
            for instance in retired {
                instance.kill();
                self.flush_leftover_logs(&account, &region, &name, &instance);
            }
            // Output written after an invocation ended (by background work) is logged too.
            for instance in idle {
                self.flush_leftover_logs(&account, &region, &name, &instance);
            }
        }
    }

    // ---- one invocation ----

    async fn run(self: Arc<Self>, invocation: Invocation) -> Outcome {
        let spec = match self.load_spec(&invocation.account, &invocation.region, &invocation.function) {
            Ok(Some(spec)) => spec,
            Ok(None) => return Outcome::Rejected(not_found(&invocation)),
            Err(e) => return Outcome::Rejected(e),
        };
        if spec.state == "Pending" {
            return Outcome::Rejected(
                AwsError::new(
                    "ResourceConflictException",
                    "The operation cannot be performed at this time. The function is currently in the following state: Pending",
                )
                .status(409),
            );
        }
        if !spec.runtime.starts_with("provided") {
            return function_error(
                "Runtime.InvalidEntrypoint",
                &format!(
                    "RequestId: {} Error: the local runtime runs only provided.al2023 and provided.al2 functions (an executable bootstrap); this function's runtime is {}",
                    invocation.request_id, spec.runtime
                ),
            );
        }
        let instance = match self.acquire(&spec).await {
            Ok(instance) => instance,
            Err(StartFailure::Rejected(e)) => return Outcome::Rejected(e),
            Err(StartFailure::Entrypoint(message)) => {
                return function_error(
                    "Runtime.InvalidEntrypoint",
                    &format!("RequestId: {} Error: {message}", invocation.request_id),
                );
            }
        };
        let mut ran = instance.run(&spec, &invocation).await;
        // Everything the process wrote before it answered is in the pipe by now.
        ran.during = instance.logs.drain();
        let log = self.write_invocation_log(&spec, &instance, &invocation, &ran);
        let healthy = matches!(ran.result, RunResult::Completed(_)) && !instance.is_dead();
        self.release(&spec, instance, healthy);
        let log = invocation.tail.then(|| log_tail(&log));
        match ran.result {
            RunResult::Completed(Completion::Response(payload)) if payload.len() > MAX_RESPONSE_BYTES => {
                let mut outcome = function_error(
                    "Function.ResponseSizeTooLarge",
                    &format!(
                        "Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
                    ),
                );
                if let Outcome::FunctionError { log: l, .. } = &mut outcome {
                    *l = log;
                }
                outcome
            }
            RunResult::Completed(Completion::Response(payload)) => Outcome::Success { payload, log },
            RunResult::Completed(Completion::Error { body, error_type }) => Outcome::FunctionError {
                payload: body,
                error_type,
                log,
            },
            RunResult::Failed {
                error_type, message, ..
            } => Outcome::FunctionError {
                payload: error_body(
                    &error_type,
                    &format!("RequestId: {} Error: {message}", invocation.request_id),
                ),
                error_type,
                log,
            },
            RunResult::InitFailed(body) => Outcome::FunctionError {
                error_type: error_type_of(&body).unwrap_or_else(|| "Runtime.Unknown".to_owned()),
                payload: body,
                log,
            },
        }
    }

    /// The function as it is now: `None` if it does not exist.
    fn load_spec(&self, account: &str, region: &str, function: &str) -> Result<Option<Spec>, AwsError> {
        let rt = self.runtime()?;
        let caller = scope_caller(account, region);
        let ctx = ctx_for(&rt, &caller);
        let doc = rt
            .store
            .read(|t| super::function_doc(t, &ctx, function))
            .map_err(AwsError::from)?;
        Ok(doc.map(|d| Spec::from_doc(account, region, &d)))
    }

    /// A free instance running the function's current code and configuration, started if
    /// need be.
    async fn acquire(self: &Arc<Self>, spec: &Spec) -> Result<Arc<Instance>, StartFailure> {
        let key = spec.pool_key();
        let generation = spec.generation();
        loop {
            let (found, stale, wait) = {
                let mut pools = self.pools();
                let pool = pools.entry(key.clone()).or_insert_with(|| Pool {
                    account: spec.account.clone(),
                    region: spec.region.clone(),
                    name: spec.name.clone(),
                    live: Vec::new(),
                    idle: Vec::new(),
                    starting: 0,
                    freed: Arc::new(Notify::new()),
                });
                let (stale, usable): (Vec<_>, Vec<_>) = pool
                    .idle
                    .drain(..)
                    .partition(|i| i.generation != generation || i.is_dead());
                pool.idle = usable;
                pool.live.retain(|l| !stale.iter().any(|s| Arc::ptr_eq(l, s)));
                if let Some(instance) = pool.idle.pop() {
                    (Some(instance), stale, None)
                } else if pool.live.len() + pool.starting < MAX_INSTANCES_PER_FUNCTION {
                    pool.starting += 1;
                    (None, stale, None)
                } else {
                    (None, stale, Some(Arc::clone(&pool.freed)))
                }
            };
            for instance in stale {
                instance.kill();
                self.flush_leftover_logs(&spec.account, &spec.region, &spec.name, &instance);
            }
            if let Some(instance) = found {
                return Ok(instance);
            }
            if let Some(freed) = wait {
                // Bounded, so a missed wake-up only costs a little time.
                let _ = tokio::time::timeout(Duration::from_millis(100), freed.notified()).await;
                continue;
            }
            let started = self.start_instance(spec).await;
            let mut pools = self.pools();
            if let Some(pool) = pools.get_mut(&key) {
                pool.starting = pool.starting.saturating_sub(1);
                if let Ok(instance) = &started {
                    pool.live.push(Arc::clone(instance));
                }
                pool.freed.notify_one();
            }
            return started;
        }
    }

    /// Returns an instance after an invocation: kept warm if it is healthy, else stopped.
    fn release(&self, spec: &Spec, instance: Arc<Instance>, healthy: bool) {
        instance.last_used_ms.store(now_ms(), Ordering::Relaxed);
        let keep = healthy && !self.stopped.load(Ordering::SeqCst);
        {
            let mut pools = self.pools();
            if let Some(pool) = pools.get_mut(&spec.pool_key()) {
                if keep {
                    pool.idle.push(Arc::clone(&instance));
                } else {
                    pool.live.retain(|l| !Arc::ptr_eq(l, &instance));
                }
                pool.freed.notify_one();
            }
        }
        if !keep {
            instance.kill();
            self.flush_leftover_logs(&spec.account, &spec.region, &spec.name, &instance);
        }
    }

    // ---- starting an instance ----

    async fn start_instance(self: &Arc<Self>, spec: &Spec) -> Result<Arc<Instance>, StartFailure> {
        let this = Arc::clone(self);
        let unpack_spec = spec.clone();
        let code_dir = tokio::task::spawn_blocking(move || this.unpacked_code(&unpack_spec))
            .await
            .map_err(|_| StartFailure::Rejected(service_error()))??;
        if !code_dir.join("bootstrap").is_file() {
            return Err(StartFailure::Entrypoint(
                "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]".to_owned(),
            ));
        }
        let server = Server::start().await.map_err(|e| {
            StartFailure::Rejected(AwsError::internal(format!("cannot start the Runtime API: {e}")))
        })?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let spawned_ms = now_ms();
        let log_stream = format!("{}/[$LATEST]{id}", date_path(spawned_ms));
        let env = self.environment(spec, &code_dir, &server, &log_stream);
        let pipe_failure = |e: std::io::Error| {
            StartFailure::Rejected(AwsError::internal(format!("cannot create a pipe: {e}")))
        };
        let (reader, writer) = std::io::pipe().map_err(pipe_failure)?;
        let child = spawn(&code_dir, &env, writer).map_err(|e| StartFailure::Entrypoint(exec_failure(&e)))?;
        let pid = child.id();
        let child = Arc::new(Mutex::new(child));
        let logs = match LogBuffer::new(reader) {
            Ok(logs) => Arc::new(logs),
            Err(e) => {
                kill(&child);
                return Err(pipe_failure(e));
            }
        };
        let (exited_tx, exited) = watch::channel(None);
        tokio::spawn(watch_process(Arc::clone(&logs), Arc::clone(&child), exited_tx));
        let instance = Instance {
            generation: spec.generation(),
            log_stream,
            server,
            child,
            pid,
            exited,
            logs,
            spawned_ms,
            cold: AtomicBool::new(true),
            last_used_ms: AtomicU64::new(spawned_ms),
        };
        Ok(Arc::new(instance))
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        self.shutdown();
    }
}

// ---- small helpers ----

fn scope_caller(account: &str, region: &str) -> Caller {
    Caller {
        access_key_id: account.to_owned(),
        account: account.to_owned(),
        region: region.to_owned(),
        service: "lambda".to_owned(),
    }
}

fn ctx_for<'a>(rt: &'a Runtime, caller: &'a Caller) -> Ctx<'a> {
    Ctx {
        caller,
        request_id: "",
        now_ms: now_ms(),
        store: &rt.store,
        config: &rt.config,
    }
}

fn error_body(error_type: &str, message: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "errorMessage": message, "errorType": error_type }))
        .unwrap_or_default()
}

fn function_error(error_type: &str, message: &str) -> Outcome {
    Outcome::FunctionError {
        payload: error_body(error_type, message),
        error_type: error_type.to_owned(),
        log: None,
    }
}

fn error_type_of(body: &[u8]) -> Option<String> {
    super::runtime_api::error_type_of(body)
}

fn service_error() -> AwsError {
    AwsError::new("ServiceException", "An internal service error occurred.").status(500)
}

fn not_found(invocation: &Invocation) -> AwsError {
    let name = invocation
        .function
        .split_once(":function:")
        .map_or(invocation.function.as_str(), |(_, rest)| rest);
    let name = name.split(':').next().unwrap_or(name);
    AwsError::new(
        "ResourceNotFoundException",
        format!(
            "Function not found: arn:aws:lambda:{}:{}:function:{name}",
            invocation.region, invocation.account
        ),
    )
    .status(404)
}
