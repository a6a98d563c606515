//! An instance: one process of a function serving its own Runtime API, running one
//! invocation at a time.

use super::*;

/// One running `bootstrap` process and its Runtime API.
pub(super) struct Instance {
    pub(super) generation: String,
    pub(super) log_stream: String,
    pub(super) server: Server,
    pub(super) child: Arc<Mutex<Child>>,
    pub(super) pid: u32,
    pub(super) exited: watch::Receiver<Option<String>>,
    pub(super) logs: Arc<LogBuffer>,
    pub(super) spawned_ms: u64,
    pub(super) cold: AtomicBool,
    pub(super) last_used_ms: AtomicU64,
}

/// What happened to one invocation on an instance.
pub(super) struct Ran {
    pub(super) started_ms: u64,
    /// Set on the instance's first invocation: how long its initialization took.
    pub(super) init_ms: Option<f64>,
    /// Output from before the invocation (initialization, or after the previous one).
    pub(super) before: Vec<(i64, String)>,
    /// Output during the invocation.
    pub(super) during: Vec<(i64, String)>,
    pub(super) result: RunResult,
}

pub(super) enum RunResult {
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
    pub(super) fn is_dead(&self) -> bool {
        self.exited.borrow().is_some()
    }

    pub(super) fn kill(&self) {
        kill(&self.child);
    }

    /// Runs one invocation; the output it produced is collected by the caller.
    pub(super) async fn run(&self, spec: &Spec, invocation: &Invocation) -> Ran {
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
    pub(super) async fn dispatch(&self, spec: &Spec, invocation: &Invocation) -> (RunResult, u64) {
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
    pub(super) async fn wait_taken(&self, taken: oneshot::Receiver<u64>) -> Result<u64, RunResult> {
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
    pub(super) async fn wait_done(
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

    pub(super) fn exit_failure(&self) -> RunResult {
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
pub(super) async fn posted_init_error(rx: &mut watch::Receiver<Option<Vec<u8>>>) -> Vec<u8> {
    let posted = rx
        .wait_for(Option::is_some)
        .await
        .map(|body| body.clone().unwrap_or_default());
    match posted {
        Ok(body) => body,
        Err(_) => std::future::pending().await,
    }
}
