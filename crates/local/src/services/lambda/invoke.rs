//! `Invoke` (`POST /2015-03-31/functions/{name}/invocations`).
//!
//! - `X-Amz-Invocation-Type: RequestResponse` (default): 200 with the function's response;
//!   a function error is still 200, with `X-Amz-Function-Error: Unhandled` and the error
//!   document as body. `Event`: 202 at once, the function runs in the background. `DryRun`:
//!   204 once the request is known to be valid.
//! - `X-Amz-Log-Type: Tail` adds `X-Amz-Log-Result`: base64 of the invocation's last 4 KB of
//!   log.
//! - An unknown function is `ResourceNotFoundException` (404); a `Pending` one is
//!   `ResourceConflictException` (409); a payload over 6 MB (256 KB for `Event`) is
//!   `RequestTooLargeException` (413); a payload that is not JSON is
//!   `InvalidRequestContentException`.
//!
//! # Bridging to the executor
//! Service handlers are synchronous, and `Invoke` must wait for a process. The handler hands
//! the invocation to the runtime's executor, which runs it on its own Tokio threads, and
//! blocks on a channel for the outcome (inside `block_in_place` on a multi-threaded runtime,
//! so the server keeps serving other requests, including the function's own calls back to
//! it). On a current-thread runtime the server is stalled while a synchronous invocation
//! runs: a function that calls back into the runtime then waits until it times out.

use super::executor::{Executor, Invocation, Outcome};
use super::functions::function_not_found;
use super::{NameShape, conflict, function_ref, validation};
use crate::protocol::rest::{RestRequest, RestResponse};
use crate::services::Ctx;
use crate::{AwsError, AwsResult};
use base64::Engine as _;
use std::sync::Arc;

/// Largest payload of a synchronous invocation.
const MAX_SYNC_PAYLOAD: usize = 6 * 1024 * 1024;
/// Largest payload of an asynchronous (`Event`) invocation.
const MAX_ASYNC_PAYLOAD: usize = 256 * 1024;

/// The invocation types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

/// `Invoke`.
pub(super) fn invoke(
    ctx: &Ctx<'_>,
    executor: Option<&Arc<Executor>>,
    req: &RestRequest,
    raw: &str,
) -> AwsResult<RestResponse> {
    let fref = function_ref(ctx, raw, req.query("Qualifier"), NameShape::Namespaced)?;
    let kind = invocation_type(req)?;
    let tail = log_type(req)?;
    let function = ctx
        .store
        .read(|t| super::function_doc(t, ctx, &fref.name))?
        .filter(|_| !fref.elsewhere && fref.qualifier.as_deref().is_none_or(|q| q == "$LATEST"))
        .ok_or_else(|| function_not_found(ctx, &fref))?;
    if function["State"] == "Pending" {
        return Err(conflict(
            "The operation cannot be performed at this time. The function is currently in the following state: Pending",
        ));
    }
    check_payload(&req.body, kind)?;
    if kind == InvocationType::DryRun {
        return Ok(RestResponse::empty(204));
    }
    let executor = executor.ok_or_else(|| {
        AwsError::new(
            "ServiceException",
            "The local runtime's function executor is not running.",
        )
        .status(500)
    })?;
    let invocation = Invocation {
        account: ctx.account().to_owned(),
        region: ctx.region().to_owned(),
        function: fref.name.clone(),
        payload: if req.body.iter().all(u8::is_ascii_whitespace) {
            b"{}".to_vec()
        } else {
            req.body.clone()
        },
        request_id: ctx.request_id.to_owned(),
        tail,
        client_context: client_context(req),
    };
    if kind == InvocationType::Event {
        executor.invoke_detached(invocation);
        return Ok(RestResponse::empty(202));
    }
    respond(executor.invoke_blocking(invocation))
}

/// The HTTP answer for an outcome.
fn respond(outcome: Outcome) -> AwsResult<RestResponse> {
    let (payload, log, error) = match outcome {
        Outcome::Success { payload, log } => (payload, log, false),
        Outcome::FunctionError { payload, log, .. } => (payload, log, true),
        Outcome::Rejected(e) => return Err(e),
    };
    let mut response = RestResponse::json(200, as_json(&payload)).header("X-Amz-Executed-Version", "$LATEST");
    if error {
        response = response.header("X-Amz-Function-Error", "Unhandled");
    }
    if let Some(log) = log {
        response = response.header("X-Amz-Log-Result", log);
    }
    Ok(response)
}

/// The response body as JSON (responses are JSON documents; anything else is passed on as
/// a JSON string of its text).
fn as_json(payload: &[u8]) -> serde_json::Value {
    if payload.is_empty() {
        return serde_json::Value::Null;
    }
    serde_json::from_slice(payload)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(payload).into_owned()))
}

fn invocation_type(req: &RestRequest) -> AwsResult<InvocationType> {
    match header(req, "x-amz-invocation-type").as_deref() {
        None | Some("RequestResponse") => Ok(InvocationType::RequestResponse),
        Some("Event") => Ok(InvocationType::Event),
        Some("DryRun") => Ok(InvocationType::DryRun),
        Some(other) => Err(validation(format!(
            "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
        ))),
    }
}

/// Whether `X-Amz-Log-Type: Tail` was asked for.
fn log_type(req: &RestRequest) -> AwsResult<bool> {
    match header(req, "x-amz-log-type").as_deref() {
        None | Some("None") => Ok(false),
        Some("Tail") => Ok(true),
        Some(other) => Err(validation(format!(
            "1 validation error detected: Value '{other}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]"
        ))),
    }
}

fn check_payload(body: &[u8], kind: InvocationType) -> AwsResult<()> {
    let limit = if kind == InvocationType::Event {
        MAX_ASYNC_PAYLOAD
    } else {
        MAX_SYNC_PAYLOAD
    };
    if body.len() > limit {
        return Err(AwsError::new(
            "RequestTooLargeException",
            format!("Request must be smaller than {limit} bytes for the InvokeFunction operation"),
        )
        .status(413));
    }
    if !body.iter().all(u8::is_ascii_whitespace)
        && let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(body)
    {
        return Err(AwsError::new(
            "InvalidRequestContentException",
            format!("Could not parse request body into json: Could not parse payload into json: {e}"),
        ));
    }
    Ok(())
}

/// `X-Amz-Client-Context` (base64 JSON), decoded for the Runtime API.
fn client_context(req: &RestRequest) -> Option<String> {
    let raw = header(req, "x-amz-client-context")?;
    base64::engine::general_purpose::STANDARD
        .decode(raw.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
}

fn header(req: &RestRequest, name: &str) -> Option<String> {
    req.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
