//! The Lambda Runtime API one function instance talks to, on its own loopback port
//! (`AWS_LAMBDA_RUNTIME_API=127.0.0.1:{port}`; one port per instance is what every runtime
//! client supports, see local-runtime.md §3):
//!
//! - `GET /2018-06-01/runtime/invocation/next`: a long poll that answers when an invocation
//!   is queued, with the event as body and the headers `Lambda-Runtime-Aws-Request-Id`,
//!   `Lambda-Runtime-Deadline-Ms` (absolute epoch ms: `lambda_runtime` panics without it),
//!   `Lambda-Runtime-Invoked-Function-Arn`, `Lambda-Runtime-Trace-Id` and, when the caller
//!   sent one, `Lambda-Runtime-Client-Context`;
//! - `POST …/invocation/{id}/response` and `…/{id}/error` (202) complete it;
//! - `POST /2018-06-01/runtime/init/error` (202) reports that initialization failed.
//!
//! An instance runs one invocation at a time: the executor queues the next only after the
//! previous completed.

use crate::protocol::respond;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Request, Response};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{mpsc, oneshot, watch};

/// Largest body a runtime may post (Lambda's synchronous response limit is 6 MB; leave room
/// so an oversized response is reported as such rather than cut).
const MAX_POST: usize = 16 * 1024 * 1024;

/// One invocation handed to the runtime.
pub(super) struct Dispatch {
    /// Its request id.
    pub request_id: String,
    /// The event.
    pub payload: Vec<u8>,
    /// The function's timeout, ms: the deadline is counted from when the runtime takes it.
    pub timeout_ms: u64,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub function_arn: String,
    /// `Lambda-Runtime-Client-Context`, if any.
    pub client_context: Option<String>,
    /// Told the absolute deadline (epoch ms) when the runtime takes the invocation.
    pub taken: oneshot::Sender<u64>,
    /// Told how the invocation ended.
    pub done: oneshot::Sender<Completion>,
}

/// How the runtime completed an invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Completion {
    /// `/response`: the function's result.
    Response(Vec<u8>),
    /// `/error`: the error document and its type.
    Error {
        /// The body as posted (`{"errorMessage", "errorType", ...}`).
        body: Vec<u8>,
        /// `Lambda-Runtime-Function-Error-Type`, else the body's `errorType`.
        error_type: String,
    },
}

/// The invocation the runtime is working on.
struct InFlight {
    request_id: String,
    done: oneshot::Sender<Completion>,
}

/// The state behind one instance's Runtime API.
pub(super) struct Api {
    queue: tokio::sync::Mutex<mpsc::Receiver<Dispatch>>,
    current: Mutex<Option<InFlight>>,
    init_error: watch::Sender<Option<Vec<u8>>>,
    /// When the runtime first asked for work (epoch ms): the end of its initialization.
    first_next_ms: Mutex<Option<u64>>,
}

/// What the executor keeps of a running Runtime API.
pub(super) struct Server {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    /// Queues invocations.
    pub queue: mpsc::Sender<Dispatch>,
    /// Becomes `Some(body)` when the runtime reports an initialization error.
    pub init_error: watch::Receiver<Option<Vec<u8>>>,
    api: Arc<Api>,
    stop: Option<oneshot::Sender<()>>,
}

impl Server {
    /// Binds `127.0.0.1:0` and serves on the current Tokio runtime until dropped.
    ///
    /// # Errors
    /// The port cannot be bound.
    pub async fn start() -> std::io::Result<Server> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (queue_tx, queue_rx) = mpsc::channel(1);
        let (init_tx, init_rx) = watch::channel(None);
        let api = Arc::new(Api {
            queue: tokio::sync::Mutex::new(queue_rx),
            current: Mutex::new(None),
            init_error: init_tx,
            first_next_ms: Mutex::new(None),
        });
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let app = axum::Router::new().fallback(handle).with_state(Arc::clone(&api));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await;
        });
        Ok(Server {
            addr,
            queue: queue_tx,
            init_error: init_rx,
            api,
            stop: Some(stop_tx),
        })
    }

    /// When the runtime first called `/next`, if it has.
    pub fn first_next_ms(&self) -> Option<u64> {
        *self
            .api
            .first_next_ms
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Every Runtime API request.
async fn handle(State(api): State<Arc<Api>>, request: Request<Body>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let error_type_header = parts
        .headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match (parts.method.as_str(), segments.as_slice()) {
        ("GET", ["2018-06-01", "runtime", "invocation", "next"]) => next(&api).await,
        ("POST", ["2018-06-01", "runtime", "invocation", id, "response"]) => {
            let id = (*id).to_owned();
            let Some(body) = read_body(body).await else {
                return too_large();
            };
            complete(&api, &id, Completion::Response(body))
        }
        ("POST", ["2018-06-01", "runtime", "invocation", id, "error"]) => {
            let id = (*id).to_owned();
            let body = read_body(body).await.unwrap_or_default();
            let error_type = error_type_header
                .or_else(|| error_type_of(&body))
                .unwrap_or_else(|| "Unhandled".to_owned());
            complete(&api, &id, Completion::Error { body, error_type })
        }
        ("POST", ["2018-06-01", "runtime", "init", "error"]) => {
            let body = read_body(body).await.unwrap_or_default();
            let body = if body.is_empty() {
                br#"{"errorMessage":"The runtime failed to initialize","errorType":"Runtime.Unknown"}"#
                    .to_vec()
            } else {
                body
            };
            api.init_error.send_replace(Some(body));
            accepted()
        }
        _ => answer(
            404,
            format!(r#"{{"errorMessage":"Unknown Runtime API path {path}","errorType":"InvalidRequest"}}"#),
        ),
    }
}

/// The long poll: waits for the executor to queue an invocation.
async fn next(api: &Arc<Api>) -> Response<Body> {
    {
        let mut first = api.first_next_ms.lock().unwrap_or_else(PoisonError::into_inner);
        first.get_or_insert_with(crate::services::now_ms);
    }
    let dispatch = api.queue.lock().await.recv().await;
    let Some(dispatch) = dispatch else {
        // The instance is being retired; its process is killed right after.
        return answer(
            500,
            r#"{"errorMessage":"The instance is shutting down","errorType":"Runtime.Shutdown"}"#.to_owned(),
        );
    };
    let deadline = crate::services::now_ms().saturating_add(dispatch.timeout_ms);
    *api.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(InFlight {
        request_id: dispatch.request_id.clone(),
        done: dispatch.done,
    });
    let _ = dispatch.taken.send(deadline);
    let mut response = respond(200, "application/json", &dispatch.request_id, dispatch.payload);
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set("lambda-runtime-aws-request-id", &dispatch.request_id);
    set("lambda-runtime-deadline-ms", &deadline.to_string());
    set("lambda-runtime-invoked-function-arn", &dispatch.function_arn);
    set("lambda-runtime-trace-id", &trace_id());
    if let Some(context) = &dispatch.client_context {
        set("lambda-runtime-client-context", context);
    }
    response
}

/// Hands the result of invocation `id` to whoever waits for it.
fn complete(api: &Api, id: &str, completion: Completion) -> Response<Body> {
    let in_flight = {
        let mut current = api.current.lock().unwrap_or_else(PoisonError::into_inner);
        match current.as_ref() {
            Some(f) if f.request_id == id => current.take(),
            _ => None,
        }
    };
    match in_flight {
        Some(f) => {
            let _ = f.done.send(completion);
            accepted()
        }
        None => answer(
            400,
            format!(r#"{{"errorMessage":"Invalid request ID: {id}","errorType":"InvalidRequestID"}}"#),
        ),
    }
}

async fn read_body(body: Body) -> Option<Vec<u8>> {
    axum::body::to_bytes(body, MAX_POST)
        .await
        .ok()
        .map(|b| b.to_vec())
}

/// The `errorType` of an error document.
pub(super) fn error_type_of(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("errorType")?
        .as_str()
        .map(str::to_owned)
}

fn accepted() -> Response<Body> {
    answer(202, r#"{"status":"OK"}"#.to_owned())
}

fn too_large() -> Response<Body> {
    answer(
        413,
        r#"{"errorMessage":"Payload too large","errorType":"RequestEntityTooLarge"}"#.to_owned(),
    )
}

fn answer(status: u16, body: String) -> Response<Body> {
    respond(status, "application/json", "", body.into_bytes())
}

/// An X-Ray trace header: `Root=1-{epoch secs hex}-{24 hex};Parent={16 hex};Sampled=0`.
fn trace_id() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    let secs = crate::services::now_ms() / 1000;
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=0",
        &hex[..24],
        &hex[16..32]
    )
}
