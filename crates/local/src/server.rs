//! The HTTP front: one port for every service. A request is routed by its SigV4 credential
//! scope (the signing service), then by `X-Amz-Target`, form `Action` or path, as AWS's own
//! endpoints would; faults are injected here, before the service sees the request.

use crate::auth::{self, Caller};
use crate::config::Config;
use crate::protocol::rest::{ErrorStyle, RestRequest};
use crate::protocol::{cbor, json, query, rest};
use crate::services::lambda::executor::Executor;
use crate::services::{self, Ctx};
use crate::store::Store;
use crate::{AwsError, inspect};
use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, Response};
use rand::Rng as _;
use std::sync::{Arc, Mutex};

/// Shared runtime state.
pub(crate) struct Runtime {
    pub store: Store,
    pub config: Config,
    pub rng: Mutex<rand::rngs::StdRng>,
    /// Where the runtime listens (functions it runs call back to it here).
    pub addr: std::net::SocketAddr,
    /// The recommendation models campaigns serve, built on first use.
    pub models: services::personalize_runtime::Models,
    /// Runs the functions: `Invoke`, Lambda integrations and event source mappings. Set once
    /// the runtime exists (it needs the runtime's address), before anything is served.
    pub executor: std::sync::OnceLock<Arc<Executor>>,
    /// What each running event source mapping poller is doing (`GET /_local/pollers`).
    pub pollers: services::lambda::poller::Board,
}

impl Runtime {
    /// The function executor; `None` only when its threads could not be started.
    pub fn executor(&self) -> Option<&Arc<Executor>> {
        self.executor.get()
    }
}

/// Largest request body accepted (Lambda zips arrive base64-encoded in JSON).
const MAX_BODY: usize = 100 * 1024 * 1024;

/// The one handler behind every path.
pub(crate) async fn handle(State(rt): State<Arc<Runtime>>, request: Request<Body>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let request_id = uuid::Uuid::new_v4().to_string();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b.to_vec(),
        Err(_) => {
            return json::error(
                &AwsError::new("SerializationException", "request body too large or unreadable"),
                &request_id,
            );
        }
    };
    let path = parts.uri.path().to_owned();
    if path.starts_with("/_local/") {
        return inspect::handle(&rt, &parts.method, &path, parts.uri.query());
    }
    // API Gateway's data plane is public (API keys, not SigV4): `/restapis/{id}/{stage}/_user_request_/…`.
    if is_execute_api(&path) {
        let req = rest_request(&parts, path, body);
        return services::apigateway::execute::handle(&rt, req, &request_id).await;
    }
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let caller = match parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(auth::parse_authorization)
    {
        Some(c) => c,
        None => {
            let err = AwsError::missing_authentication();
            return match target {
                Some(_) => json::error(&err, &request_id),
                None if is_form(&parts.headers) => query::error(
                    &AwsError::new(
                        "MissingAuthenticationToken",
                        "Request is missing Authentication Token",
                    )
                    .status(403),
                    services::iam::XMLNS,
                    &request_id,
                ),
                None => rest::error(
                    &AwsError::new(
                        "MissingAuthenticationTokenException",
                        "Missing Authentication Token",
                    )
                    .status(403),
                    ErrorStyle::ApiGateway,
                    &request_id,
                ),
            };
        }
    };
    let service = Service::of(&caller, target.as_deref(), &path);
    if let Some(fault) = inject_fault(
        &rt,
        service,
        &operation_name(service, target.as_deref(), &body, &parts.method, &path),
    ) {
        return render_error(service, &fault, &request_id);
    }
    // Services are synchronous and their writes wait for an fsync (shared by concurrent writers,
    // see `store`): run them on a blocking thread so the async workers keep accepting requests
    // and concurrent writes can meet in one durable commit.
    let call = Call {
        parts,
        path,
        body,
        caller,
        target,
        request_id,
        service,
    };
    let blocking_rt = rt.clone();
    match tokio::task::spawn_blocking(move || dispatch(&blocking_rt, call)).await {
        Ok(response) => response,
        Err(_) => json::error(
            &AwsError::new("InternalFailure", "the request's handler panicked").status(500),
            &uuid::Uuid::new_v4().to_string(),
        ),
    }
}

/// A signed service request, ready for its service.
struct Call {
    parts: axum::http::request::Parts,
    path: String,
    body: Vec<u8>,
    caller: Caller,
    target: Option<String>,
    request_id: String,
    service: Service,
}

/// Runs a signed request through its service (blocking).
fn dispatch(rt: &Runtime, call: Call) -> Response<Body> {
    let Call {
        parts,
        path,
        body,
        caller,
        target,
        request_id,
        service,
    } = call;
    let ctx = Ctx {
        caller: &caller,
        request_id: &request_id,
        now_ms: services::now_ms(),
        store: &rt.store,
        config: &rt.config,
    };
    match service {
        Service::PersonalizeEvents => {
            let req = rest_request(&parts, path, body);
            match services::personalize_events::handle(&ctx, &req) {
                Ok(r) => rest::ok(&r, &request_id),
                Err(e) => rest::error(&e, ErrorStyle::ApiGateway, &request_id),
            }
        }
        Service::PersonalizeRuntime => {
            let req = rest_request(&parts, path, body);
            match services::personalize_runtime::handle(&ctx, &rt.models, &req) {
                Ok(r) => rest::ok(&r, &request_id),
                Err(e) => rest::error(&e, ErrorStyle::ApiGateway, &request_id),
            }
        }
        Service::Kinesis | Service::Personalize | Service::Logs => {
            let Some(op) = target
                .as_deref()
                .and_then(|t| t.split_once('.'))
                .map(|(_, op)| op.to_owned())
            else {
                return json::error(
                    &AwsError::new("UnknownOperationException", "missing X-Amz-Target"),
                    &request_id,
                );
            };
            // Kinesis also takes CBOR (the Java SDK's default) and answers in kind.
            if service == Service::Kinesis && cbor::is_cbor(&parts.headers) {
                let result =
                    cbor::parse_body(&body).and_then(|input| services::kinesis::handle(&ctx, &op, &input));
                return match result {
                    Ok(v) => cbor::ok(&v, services::kinesis::CBOR_SHAPES, &request_id),
                    Err(e) => cbor::error(&e, &request_id),
                };
            }
            let result = json::parse_body(&body).and_then(|input| match service {
                Service::Kinesis => services::kinesis::handle(&ctx, &op, &input),
                Service::Personalize => services::personalize::handle(&ctx, &op, &input),
                _ => services::logs::handle(&ctx, &op, &input),
            });
            match result {
                Ok(v) => json::ok(&v, &request_id),
                Err(e) => json::error(&e, &request_id),
            }
        }
        Service::Iam | Service::Sts => {
            let params = query::Params::parse(&body);
            let action = params.get("Action").unwrap_or_default().to_owned();
            let (result, xmlns) = match service {
                Service::Iam => (
                    services::iam::handle(&ctx, &action, &params),
                    services::iam::XMLNS,
                ),
                _ => (
                    services::sts::handle(&ctx, &action, &params),
                    services::sts::XMLNS,
                ),
            };
            match result {
                Ok(xml) => query::ok(&action, xmlns, &xml, &request_id),
                Err(e) => query::error(&e, xmlns, &request_id),
            }
        }
        Service::Lambda | Service::ApiGateway => {
            let req = rest_request(&parts, path, body);
            let (result, style) = match service {
                Service::Lambda => (
                    services::lambda::handle(&ctx, rt.executor(), &req),
                    ErrorStyle::Lambda,
                ),
                _ => (services::apigateway::handle(&ctx, &req), ErrorStyle::ApiGateway),
            };
            match result {
                Ok(r) => rest::ok(&r, &request_id),
                Err(e) => rest::error(&e, style, &request_id),
            }
        }
        Service::Unknown => json::error(
            &AwsError::new(
                "UnknownServiceException",
                format!("the local runtime does not serve `{}`", caller.service),
            )
            .status(400),
            &request_id,
        ),
    }
}

/// `/restapis/{id}/{stage}/_user_request_/...`: an API call, not a control-plane call.
fn is_execute_api(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_start_matches('/').splitn(5, '/').collect();
    matches!(segments.as_slice(), ["restapis", _, _, "_user_request_", ..])
}

fn rest_request(parts: &axum::http::request::Parts, path: String, body: Vec<u8>) -> RestRequest {
    RestRequest {
        method: parts.method.as_str().to_owned(),
        segments: rest::segments(&path),
        path,
        query: parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default(),
        headers: parts.headers.clone(),
        body,
    }
}

fn is_form(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// The services the runtime serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    Kinesis,
    Personalize,
    /// personalize-events (`POST /events`), signed as `personalize` too.
    PersonalizeEvents,
    /// personalize-runtime (`POST /recommendations`, `POST /personalize-ranking`), signed as
    /// `personalize` too.
    PersonalizeRuntime,
    Logs,
    Iam,
    Sts,
    Lambda,
    ApiGateway,
    Unknown,
}

impl Service {
    /// The credential scope names the service; `X-Amz-Target` and the path confirm it.
    fn of(caller: &Caller, target: Option<&str>, path: &str) -> Service {
        if let Some(t) = target {
            if t.starts_with("Kinesis_20131202.") {
                return Service::Kinesis;
            }
            if t.starts_with("AmazonPersonalize.") {
                return Service::Personalize;
            }
            if t.starts_with("Logs_20140328.") {
                return Service::Logs;
            }
        }
        match caller.service.as_str() {
            "kinesis" => Service::Kinesis,
            // personalize-events and personalize-runtime sign as `personalize`: the path decides.
            "personalize" if target.is_none() && path.starts_with("/events") => Service::PersonalizeEvents,
            "personalize" if target.is_none() && services::personalize_runtime::serves(path) => {
                Service::PersonalizeRuntime
            }
            "personalize" => Service::Personalize,
            "logs" => Service::Logs,
            "iam" => Service::Iam,
            "sts" => Service::Sts,
            "lambda" => Service::Lambda,
            "apigateway" => Service::ApiGateway,
            _ if path.starts_with("/2015-03-31/") || path.starts_with("/2017-03-31/") => Service::Lambda,
            _ if path.starts_with("/restapis")
                || path.starts_with("/apikeys")
                || path.starts_with("/usageplans") =>
            {
                Service::ApiGateway
            }
            _ => Service::Unknown,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Service::Kinesis => "kinesis",
            Service::Personalize => "personalize",
            Service::PersonalizeEvents => "personalize-events",
            Service::PersonalizeRuntime => "personalize-runtime",
            Service::Logs => "logs",
            Service::Iam => "iam",
            Service::Sts => "sts",
            Service::Lambda => "lambda",
            Service::ApiGateway => "apigateway",
            Service::Unknown => "unknown",
        }
    }
}

/// `service:Operation` for fault rules; REST operations are named `METHOD /path-shape`.
fn operation_name(
    service: Service,
    target: Option<&str>,
    body: &[u8],
    method: &axum::http::Method,
    path: &str,
) -> String {
    let op = match service {
        Service::Kinesis | Service::Personalize | Service::Logs => target
            .and_then(|t| t.split_once('.'))
            .map(|(_, op)| op.to_owned())
            .unwrap_or_default(),
        Service::Iam | Service::Sts => query::Params::parse(body)
            .get("Action")
            .unwrap_or_default()
            .to_owned(),
        _ => format!("{method} {path}"),
    };
    format!("{}:{op}", service.name())
}

/// Rolls the configured fault dice for one request.
fn inject_fault(rt: &Runtime, service: Service, operation: &str) -> Option<AwsError> {
    let faults = &rt.config.faults;
    let throttle = faults
        .throttle_ops
        .get(operation)
        .copied()
        .unwrap_or(faults.throttle);
    if throttle <= 0.0 && faults.server_error <= 0.0 {
        return None;
    }
    let (roll_throttle, roll_error) = {
        let mut rng = rt.rng.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        (rng.random::<f64>(), rng.random::<f64>())
    };
    if roll_throttle < throttle {
        return Some(throttling_error(service));
    }
    if roll_error < faults.server_error {
        return Some(server_error(service));
    }
    None
}

/// Each service's own throttling error.
fn throttling_error(service: Service) -> AwsError {
    match service {
        Service::Kinesis => AwsError::new("LimitExceededException", "Rate exceeded"),
        Service::Personalize | Service::PersonalizeEvents | Service::PersonalizeRuntime | Service::Logs => {
            AwsError::new("ThrottlingException", "Rate exceeded")
        }
        Service::Iam | Service::Sts => AwsError::new("Throttling", "Rate exceeded"),
        Service::Lambda => AwsError::new("TooManyRequestsException", "Rate exceeded").status(429),
        Service::ApiGateway | Service::Unknown => {
            AwsError::new("TooManyRequestsException", "Too Many Requests").status(429)
        }
    }
}

/// Each service's own internal error.
fn server_error(service: Service) -> AwsError {
    match service {
        Service::Kinesis
        | Service::Personalize
        | Service::PersonalizeEvents
        | Service::PersonalizeRuntime => AwsError::new(
            "InternalFailure",
            "We encountered an internal error. Please try again.",
        )
        .status(500),
        Service::Logs => AwsError::new(
            "ServiceUnavailableException",
            "The service cannot complete the request.",
        )
        .status(500),
        Service::Iam | Service::Sts => AwsError::new("ServiceFailure", "Service failure").status(500),
        Service::Lambda => {
            AwsError::new("ServiceException", "An internal service error occurred.").status(500)
        }
        Service::ApiGateway | Service::Unknown => {
            AwsError::new("ServiceUnavailableException", "Service Unavailable").status(503)
        }
    }
}

fn render_error(service: Service, err: &AwsError, request_id: &str) -> Response<Body> {
    match service {
        Service::Iam => query::error(err, services::iam::XMLNS, request_id),
        Service::Sts => query::error(err, services::sts::XMLNS, request_id),
        Service::Lambda => rest::error(err, ErrorStyle::Lambda, request_id),
        Service::ApiGateway | Service::PersonalizeEvents | Service::PersonalizeRuntime => {
            rest::error(err, ErrorStyle::ApiGateway, request_id)
        }
        _ => json::error(err, request_id),
    }
}
