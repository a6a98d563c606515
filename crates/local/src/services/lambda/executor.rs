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

// ---- the registry: how `Invoke` (a synchronous handler seeing only the store) finds the
// executor of the runtime it runs in ----

type Registry = Vec<(usize, Weak<Executor>)>;

static REGISTRY: Mutex<Registry> = Mutex::new(Vec::new());

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The runtime a store belongs to is identified by the store's address: it lives inside the
/// runtime's `Arc` for the runtime's whole life.
fn store_id(store: &crate::store::Store) -> usize {
    std::ptr::from_ref(store).addr()
}

/// The executor of the runtime whose store is `store`, waiting briefly for it to start (the
/// background task that starts it may not have run yet when the first request arrives).
pub(crate) fn executor_for(store: &crate::store::Store) -> Option<Arc<Executor>> {
    let id = store_id(store);
    for _ in 0..200 {
        let found = registry()
            .iter()
            .find(|(k, _)| *k == id)
            .and_then(|(_, e)| e.upgrade());
        if found.is_some() {
            return found;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

// ---- the executor ----

/// Runs the functions of one runtime.
pub(crate) struct Executor {
    /// Weak, so the runtime's store closes at shutdown even while the executor's own
    /// threads are still winding down.
    rt: Weak<Runtime>,
    store_id: usize,
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
    /// Starts the executor of `rt` and registers it for `Invoke`.
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
            store_id: store_id(&rt.store),
            rt: Arc::downgrade(&rt),
            endpoint,
            work_dir,
            owns_work_dir,
            pools: Mutex::new(HashMap::new()),
            unpacking: Mutex::new(()),
            stopped: AtomicBool::new(false),
        });
        let id = executor.store_id;
        let mut registry = registry();
        registry.retain(|(k, e)| *k != id && e.strong_count() > 0);
        registry.push((id, Arc::downgrade(&executor)));
        Ok(executor)
    }

    /// Stops every instance and the executor's threads.
    pub(crate) fn shutdown(&self) {
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        let id = self.store_id;
        registry().retain(|(k, _)| *k != id);
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

    /// The directory holding the function's unpacked code, unpacked now if need be.
    fn unpacked_code(&self, spec: &Spec) -> Result<PathBuf, StartFailure> {
        // One unpacked copy per zip, shared by every function running it (see `code`): a
        // fleet's fifty forwarders unpack once. The digest names the directory.
        let code_root = self.work_dir.join("lambda").join("code");
        let name = super::code::hex_of_code_sha256(&spec.code_sha256)
            .unwrap_or_else(|| spec.code_sha256.replace('/', "_").replace('+', "-"));
        let dir = code_root.join(&name);
        let _guard = self.unpacking.lock().unwrap_or_else(PoisonError::into_inner);
        if dir.join(".unpacked").is_file() {
            return Ok(dir);
        }
        let runtime = self.runtime().map_err(StartFailure::Rejected)?;
        let zip = runtime
            .store
            .read(|t| t.get_blob(&spec.code_blob))
            .map_err(|e| StartFailure::Rejected(e.into()))?
            .ok_or_else(|| StartFailure::Rejected(AwsError::internal("the function's code is missing")))?;
        // Copies no function uses any more are not needed (a running process keeps its
        // executable even when the file is removed).
        remove_unused_code(&code_root, &runtime.store);
        let staging = code_root.join(format!(".staging-{}", uuid::Uuid::new_v4().simple()));
        let io = |e: std::io::Error| {
            StartFailure::Rejected(AwsError::internal(format!(
                "cannot unpack the function's code: {e}"
            )))
        };
        std::fs::create_dir_all(&staging).map_err(io)?;
        super::zip::unpack(&zip, &staging).map_err(|e| {
            let _ = std::fs::remove_dir_all(&staging);
            StartFailure::Rejected(
                AwsError::new(
                    "InvalidZipFileException",
                    format!("Lambda was unable to unzip the deployment package: {e}"),
                )
                .status(502),
            )
        })?;
        make_executable(&staging.join("bootstrap")).map_err(io)?;
        std::fs::write(staging.join(".unpacked"), b"").map_err(io)?;
        // A stale copy without its marker (a crash mid-unpack) would block the rename.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::rename(&staging, &dir).map_err(io)?;
        Ok(dir)
    }

    fn environment(
        &self,
        spec: &Spec,
        code_dir: &Path,
        server: &Server,
        log_stream: &str,
    ) -> Vec<(String, String)> {
        let task_root = code_dir.display().to_string();
        let endpoint = self.endpoint.clone();
        let mut env: Vec<(String, String)> = spec.variables.clone();
        let fixed = [
            ("AWS_LAMBDA_RUNTIME_API", server.addr.to_string()),
            ("AWS_LAMBDA_FUNCTION_NAME", spec.name.clone()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", spec.memory_mb.to_string()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", spec.log_group.clone()),
            ("AWS_LAMBDA_LOG_STREAM_NAME", log_stream.to_owned()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
            ("AWS_REGION", spec.region.clone()),
            ("AWS_DEFAULT_REGION", spec.region.clone()),
            ("AWS_ACCESS_KEY_ID", spec.account.clone()),
            ("AWS_SECRET_ACCESS_KEY", "local-function-secret".to_owned()),
            ("AWS_SESSION_TOKEN", format!("local-session-for-{}", spec.role)),
            ("AWS_ENDPOINT_URL", endpoint),
            ("LAMBDA_TASK_ROOT", task_root.clone()),
            ("LAMBDA_RUNTIME_DIR", task_root.clone()),
            ("_HANDLER", spec.handler.clone()),
            ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".to_owned()),
            (
                "LD_LIBRARY_PATH",
                format!("/lib64:/usr/lib64:{task_root}:{task_root}/lib:/opt/lib"),
            ),
            ("TZ", ":UTC".to_owned()),
            ("LANG", "en_US.UTF-8".to_owned()),
        ];
        env.retain(|(k, _)| !fixed.iter().any(|(f, _)| f == k));
        env.extend(fixed.into_iter().map(|(k, v)| (k.to_owned(), v)));
        env
    }

    // ---- logs ----

    /// Writes the invocation's log lines (init output, `START`, the function's output,
    /// `END`, `REPORT`) and returns them as text.
    fn write_invocation_log(
        &self,
        spec: &Spec,
        instance: &Instance,
        invocation: &Invocation,
        ran: &Ran,
    ) -> String {
        let id = &invocation.request_id;
        let end_ms = ms_i64(now_ms());
        let mut events: Vec<(i64, String)> = Vec::new();
        if ran.init_ms.is_some() {
            events.push((
                ms_i64(instance.spawned_ms),
                format!(
                    "INIT_START Runtime Version: {}.local\tRuntime Version ARN: arn:aws:lambda:{}::runtime:local\n",
                    spec.runtime.replace('.', ":"),
                    spec.region
                ),
            ));
        }
        events.extend(ran.before.iter().cloned());
        events.push((
            ms_i64(ran.started_ms),
            format!("START RequestId: {id} Version: $LATEST\n"),
        ));
        events.extend(ran.during.iter().cloned());
        let duration_ms = end_ms.saturating_sub(ms_i64(ran.started_ms)).max(0) as f64;
        let mut status = "";
        match &ran.result {
            RunResult::Failed {
                error_type,
                message,
                timed_out,
            } => {
                if *timed_out {
                    status = "\tStatus: timeout";
                    events.push((end_ms, format!("{} {id} {message}\n", iso_ms(now_ms()))));
                } else {
                    status = "\tStatus: error\tError Type: Runtime.ExitError";
                    events.push((
                        end_ms,
                        format!("RequestId: {id} Error: {message}\n{error_type}\n"),
                    ));
                }
            }
            RunResult::InitFailed(_) => status = "\tStatus: error\tError Type: Runtime.InitError",
            RunResult::Completed(_) => {}
        }
        events.push((end_ms, format!("END RequestId: {id}\n")));
        let init = ran
            .init_ms
            .map(|ms| format!("\tInit Duration: {ms:.2} ms"))
            .unwrap_or_default();
        events.push((
            end_ms,
            format!(
                "REPORT RequestId: {id}\tDuration: {duration_ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB{init}{status}\t\n",
                duration_ms.ceil().max(1.0),
                spec.memory_mb,
                max_memory_mb(instance.pid),
            ),
        ));
        self.append_logs(
            &spec.account,
            &spec.region,
            &spec.log_group,
            &instance.log_stream,
            &events,
        );
        events.into_iter().map(|(_, m)| m).collect()
    }

    /// Output an instance produced after its last invocation (or while being stopped).
    fn flush_leftover_logs(&self, account: &str, region: &str, name: &str, instance: &Instance) {
        let lines = instance.logs.drain();
        if !lines.is_empty() {
            self.append_logs(
                account,
                region,
                &format!("/aws/lambda/{name}"),
                &instance.log_stream,
                &lines,
            );
        }
    }

    fn append_logs(&self, account: &str, region: &str, group: &str, stream: &str, events: &[(i64, String)]) {
        let Ok(rt) = self.runtime() else {
            return;
        };
        let caller = scope_caller(account, region);
        let ctx = ctx_for(&rt, &caller);
        // A failed log write must not fail the invocation; the function already ran. Logs need
        // not be on disk before the invocation's result is used (CloudWatch is asynchronous).
        let _ = rt
            .store
            .write_unsynced(|t| crate::services::logs::append_events(t, &ctx, group, stream, events));
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        self.shutdown();
    }
}

// ---- what an invocation needs to know about its function ----

/// The function's settings, read when an invocation starts.
#[derive(Debug, Clone)]
struct Spec {
    account: String,
    region: String,
    name: String,
    arn: String,
    state: String,
    runtime: String,
    handler: String,
    role: String,
    timeout_ms: u64,
    memory_mb: i64,
    variables: Vec<(String, String)>,
    code_sha256: String,
    revision: String,
    code_blob: String,
    log_group: String,
}

impl Spec {
    fn from_doc(account: &str, region: &str, doc: &Value) -> Spec {
        let s = |field: &str| {
            doc.get(field)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let name = s("FunctionName");
        Spec {
            account: account.to_owned(),
            region: region.to_owned(),
            arn: s("FunctionArn"),
            state: s("State"),
            runtime: s("Runtime"),
            handler: s("Handler"),
            role: s("Role"),
            timeout_ms: doc.get("Timeout").and_then(Value::as_u64).unwrap_or(3) * 1000,
            memory_mb: doc.get("MemorySize").and_then(Value::as_i64).unwrap_or(128),
            variables: doc["Environment"]["Variables"]
                .as_object()
                .map(|vars| {
                    vars.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                        .collect()
                })
                .unwrap_or_default(),
            code_sha256: s("CodeSha256"),
            revision: s("RevisionId"),
            code_blob: s("_code_blob"),
            log_group: doc["LoggingConfig"]["LogGroup"]
                .as_str()
                .map_or_else(|| format!("/aws/lambda/{name}"), str::to_owned),
            name,
        }
    }

    fn pool_key(&self) -> String {
        format!("{}/{}/{}", self.account, self.region, self.name)
    }

    /// What identifies the code and configuration an instance runs.
    fn generation(&self) -> String {
        format!("{}/{}", self.code_sha256, self.revision)
    }
}

/// Why no instance could be started.
enum StartFailure {
    /// Lambda's own error (internal failure, unusable zip).
    Rejected(AwsError),
    /// The package has no runnable `bootstrap`: the invocation fails as a function error.
    Entrypoint(String),
}

// ---- an instance ----

/// One running `bootstrap` process and its Runtime API.
struct Instance {
    generation: String,
    log_stream: String,
    server: Server,
    child: Arc<Mutex<Child>>,
    pid: u32,
    exited: watch::Receiver<Option<String>>,
    logs: Arc<LogBuffer>,
    spawned_ms: u64,
    cold: AtomicBool,
    last_used_ms: AtomicU64,
}

/// What happened to one invocation on an instance.
struct Ran {
    started_ms: u64,
    /// Set on the instance's first invocation: how long its initialization took.
    init_ms: Option<f64>,
    /// Output from before the invocation (initialization, or after the previous one).
    before: Vec<(i64, String)>,
    /// Output during the invocation.
    during: Vec<(i64, String)>,
    result: RunResult,
}

enum RunResult {
    /// The runtime posted a response or an error.
    Completed(Completion),
    /// The process timed out or exited.
    Failed {
        error_type: String,
        message: String,
        timed_out: bool,
    },
    /// The runtime posted to `/init/error`.
    InitFailed(Vec<u8>),
}

impl Instance {
    fn is_dead(&self) -> bool {
        self.exited.borrow().is_some()
    }

    fn kill(&self) {
        kill(&self.child);
    }

    /// Runs one invocation; the output it produced is collected by the caller.
    async fn run(&self, spec: &Spec, invocation: &Invocation) -> Ran {
        let before = self.logs.drain();
        let cold = self.cold.swap(false, Ordering::SeqCst);
        let (result, started_ms) = self.dispatch(spec, invocation).await;
        let init_ms = cold.then(|| {
            let first = self.server.first_next_ms().unwrap_or(started_ms);
            first.saturating_sub(self.spawned_ms) as f64
        });
        Ran {
            started_ms,
            init_ms,
            before,
            during: Vec::new(),
            result,
        }
    }

    /// Queues the invocation and waits for its end; also returns when it started.
    async fn dispatch(&self, spec: &Spec, invocation: &Invocation) -> (RunResult, u64) {
        let (taken_tx, taken_rx) = oneshot::channel();
        let (done_tx, done_rx) = oneshot::channel();
        let dispatch = Dispatch {
            request_id: invocation.request_id.clone(),
            payload: invocation.payload.clone(),
            timeout_ms: spec.timeout_ms,
            function_arn: spec.arn.clone(),
            client_context: invocation.client_context.clone(),
            taken: taken_tx,
            done: done_tx,
        };
        let queued_ms = now_ms();
        if self.server.queue.send(dispatch).await.is_err() {
            return (self.exit_failure(), queued_ms);
        }
        let deadline_ms = match self.wait_taken(taken_rx).await {
            Ok(deadline) => deadline,
            Err(failed) => return (failed, queued_ms),
        };
        let started_ms = deadline_ms.saturating_sub(spec.timeout_ms);
        (self.wait_done(done_rx, deadline_ms, spec).await, started_ms)
    }

    /// Waits for the runtime to take the invocation (`/next`): a new process gets Lambda's
    /// init allowance for that.
    async fn wait_taken(&self, taken: oneshot::Receiver<u64>) -> Result<u64, RunResult> {
        let mut exited = self.exited.clone();
        let mut init_error = self.server.init_error.clone();
        tokio::select! {
            biased;
            taken = taken => taken.map_err(|_| self.exit_failure()),
            body = posted_init_error(&mut init_error) => Err(RunResult::InitFailed(body)),
            _ = exited.wait_for(Option::is_some) => Err(self.exit_failure()),
            () = tokio::time::sleep(INIT_LIMIT) => {
                self.kill();
                Err(RunResult::Failed {
                    error_type: "Sandbox.Timedout".to_owned(),
                    message: format!("Init timed out after {:.2} seconds", INIT_LIMIT.as_secs_f64()),
                    timed_out: true,
                })
            }
        }
    }

    /// Waits for `/response` or `/error` until the deadline.
    async fn wait_done(
        &self,
        done: oneshot::Receiver<Completion>,
        deadline_ms: u64,
        spec: &Spec,
    ) -> RunResult {
        let remaining = Duration::from_millis(deadline_ms.saturating_sub(now_ms()));
        let mut exited = self.exited.clone();
        let mut init_error = self.server.init_error.clone();
        tokio::select! {
            biased;
            completion = done => completion.map_or_else(|_| self.exit_failure(), RunResult::Completed),
            _ = exited.wait_for(Option::is_some) => self.exit_failure(),
            body = posted_init_error(&mut init_error) => RunResult::InitFailed(body),
            () = tokio::time::sleep(remaining) => {
                self.kill();
                RunResult::Failed {
                    error_type: "Sandbox.Timedout".to_owned(),
                    message: format!("Task timed out after {:.2} seconds", spec.timeout_ms as f64 / 1000.0),
                    timed_out: true,
                }
            }
        }
    }

    fn exit_failure(&self) -> RunResult {
        let status = self
            .exited
            .borrow()
            .clone()
            .unwrap_or_else(|| "exit status unknown".to_owned());
        RunResult::Failed {
            error_type: "Runtime.ExitError".to_owned(),
            message: format!("Runtime exited with error: {status}"),
            timed_out: false,
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The body the runtime posted to `/init/error` (never, if the server went away).
async fn posted_init_error(rx: &mut watch::Receiver<Option<Vec<u8>>>) -> Vec<u8> {
    let posted = rx
        .wait_for(Option::is_some)
        .await
        .map(|body| body.clone().unwrap_or_default());
    match posted {
        Ok(body) => body,
        Err(_) => std::future::pending().await,
    }
}

// ---- the process and its output ----

/// Removes the unpacked copies under `code_root` whose zip no function uses any more, and
/// staging directories an interrupted unpack left. Best effort: a copy that cannot be removed
/// now is tried again at the next unpack.
fn remove_unused_code(code_root: &Path, store: &crate::store::Store) {
    let Ok(entries) = std::fs::read_dir(code_root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let unused = name.starts_with(".staging-")
            || store
                .read(|t| super::code::is_in_use(t, &name))
                .is_ok_and(|in_use| !in_use);
        if unused {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Starts `bootstrap` with a clean environment, stdout and stderr into `output`.
fn spawn(code_dir: &Path, env: &[(String, String)], output: std::io::PipeWriter) -> std::io::Result<Child> {
    // A relative data dir would be resolved against `current_dir` below, i.e. twice.
    let code_dir = std::path::absolute(code_dir)?;
    let mut attempts = 0;
    loop {
        let mut command = Command::new(code_dir.join("bootstrap"));
        command
            .current_dir(&code_dir)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output.try_clone()?);
        match command.spawn() {
            Ok(child) => return Ok(child),
            // Another thread forked while the freshly unpacked file was open for writing.
            Err(e) if e.raw_os_error() == Some(TEXT_FILE_BUSY) && attempts < 50 => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Lambda runs `bootstrap` whatever mode bits the zip recorded (zips made on Windows have
/// none).
#[cfg(unix)]
fn make_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => {
            let mode = meta.permissions().mode() | 0o555;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        }
        _ => Ok(()),
    }
}

/// The message Lambda gives when `bootstrap` cannot be executed.
fn exec_failure(e: &std::io::Error) -> String {
    format!("fork/exec /var/task/bootstrap: {e}")
}

/// Kills the process and reaps it.
fn kill(child: &Mutex<Child>) {
    let mut child = child.lock().unwrap_or_else(PoisonError::into_inner);
    let _ = child.kill();
    let _ = child.wait();
}

/// The process's output (stdout and stderr share one pipe), as log events waiting to be
/// written. The pipe is read without blocking, both by [`watch_process`] as output arrives
/// and by [`LogBuffer::drain`]: so when an invocation ends, everything the process wrote
/// before answering is collected with it, exactly.
struct LogBuffer {
    pipe: tokio::net::unix::pipe::Receiver,
    state: Mutex<LogState>,
}

#[derive(Default)]
struct LogState {
    lines: Vec<(i64, String)>,
    partial: Vec<u8>,
    closed: bool,
}

/// Longest line kept as one event (CloudWatch's event limit is 256 KB).
const MAX_LINE: usize = 256 * 1024 - 26;

impl LogBuffer {
    /// Must be called on a Tokio runtime (the pipe joins its reactor).
    fn new(reader: std::io::PipeReader) -> std::io::Result<LogBuffer> {
        Ok(LogBuffer {
            pipe: tokio::net::unix::pipe::Receiver::from_owned_fd(reader.into())?,
            state: Mutex::new(LogState::default()),
        })
    }

    /// Reads what the pipe holds now, splitting it into lines; false once it is closed.
    fn pump(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut chunk = [0u8; 16 * 1024];
        while !state.closed {
            match self.pipe.try_read(&mut chunk) {
                Ok(0) => state.closed = true,
                Ok(n) => {
                    state.partial.extend_from_slice(&chunk[..n]);
                    state.split_lines();
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => state.closed = true,
            }
        }
        if !state.partial.is_empty() {
            let rest = std::mem::take(&mut state.partial);
            state.push(&rest);
        }
        false
    }

    /// The lines written so far.
    fn drain(&self) -> Vec<(i64, String)> {
        self.pump();
        std::mem::take(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner).lines)
    }
}

impl LogState {
    fn split_lines(&mut self) {
        while let Some(end) = self.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            self.push(&line);
        }
        if self.partial.len() >= MAX_LINE {
            let line = std::mem::take(&mut self.partial);
            self.push(&line);
        }
    }

    /// One event; messages end with a newline, as Lambda's do.
    fn push(&mut self, line: &[u8]) {
        let mut message = String::from_utf8_lossy(line).into_owned();
        if !message.ends_with('\n') {
            message.push('\n');
        }
        self.lines.push((ms_i64(now_ms()), message));
    }
}

/// Collects the process's output as it comes until the process closes it, then waits for
/// the process to exit and announces how it ended.
async fn watch_process(
    logs: Arc<LogBuffer>,
    child: Arc<Mutex<Child>>,
    exited: watch::Sender<Option<String>>,
) {
    loop {
        if logs.pipe.readable().await.is_err() || !logs.pump() {
            break;
        }
    }
    loop {
        let status = child.lock().unwrap_or_else(PoisonError::into_inner).try_wait();
        match status {
            Ok(Some(status)) => {
                exited.send_replace(Some(describe_exit(status)));
                return;
            }
            Ok(None) => tokio::time::sleep(Duration::from_millis(5)).await,
            Err(_) => {
                exited.send_replace(Some("exit status unknown".to_owned()));
                return;
            }
        }
    }
}

/// How Lambda words an exit: `exit status 1`, `signal: killed`.
fn describe_exit(status: std::process::ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            let name = match signal {
                6 => "aborted".to_owned(),
                9 => "killed".to_owned(),
                11 => "segmentation fault".to_owned(),
                15 => "terminated".to_owned(),
                n => n.to_string(),
            };
            return format!("signal: {name}");
        }
    }
    "exit status unknown".to_owned()
}

/// `Max Memory Used` of `REPORT`: the process's peak resident set (Linux), MB.
fn max_memory_mb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb.div_ceil(1024))
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

fn ms_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// `YYYY/MM/DD`, as log stream names start.
fn date_path(ms: u64) -> String {
    crate::services::sts::iso8601(ms)
        .get(..10)
        .unwrap_or_default()
        .replace('-', "/")
}

/// `2026-11-23T10:00:00.123Z`.
fn iso_ms(ms: u64) -> String {
    let seconds = crate::services::sts::iso8601(ms);
    format!("{}.{:03}Z", seconds.trim_end_matches('Z'), ms % 1000)
}

/// Base64 of the last 4 KB of `log` (cut at a character boundary).
fn log_tail(log: &str) -> String {
    let mut start = log.len().saturating_sub(LOG_TAIL_BYTES);
    while !log.is_char_boundary(start) {
        start += 1;
    }
    base64::engine::general_purpose::STANDARD.encode(&log.as_bytes()[start..])
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
