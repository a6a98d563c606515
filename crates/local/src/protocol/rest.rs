//! restJson1: operations are HTTP method + path; bodies are JSON; errors carry the code in
//! `X-Amzn-ErrorType` and a `message` in the body.

use super::respond;
use crate::AwsError;
use axum::body::Body;
use axum::http::{HeaderValue, Response};

/// What a restJson operation returns.
#[derive(Debug, Clone, PartialEq)]
pub struct RestResponse {
    /// HTTP status.
    pub status: u16,
    /// JSON body, if any.
    pub body: Option<serde_json::Value>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
}

impl RestResponse {
    /// `status` with a JSON body.
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        RestResponse {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }

    /// `status` with no body.
    pub fn empty(status: u16) -> Self {
        RestResponse {
            status,
            body: None,
            headers: Vec::new(),
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// Renders a successful response.
pub fn ok(r: &RestResponse, request_id: &str) -> Response<Body> {
    let body = r
        .body
        .as_ref()
        .map(|b| serde_json::to_vec(b).unwrap_or_default())
        .unwrap_or_default();
    let mut response = respond(r.status, "application/json", request_id, body);
    for (k, v) in &r.headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// How a service words its error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorStyle {
    /// Lambda: `{"Type": "User", "Message": "..."}` or `{"Type": "User", "message": "..."}`,
    /// as the error's shape in Lambda's model spells it (see [`LAMBDA_LOWERCASE_MESSAGE`]).
    Lambda,
    /// API Gateway: `{"message": "..."}`.
    ApiGateway,
}

/// Lambda's modelled errors whose message member is `message`; the others say `Message`.
/// SDKs copy the member into the error they return under the model's spelling, so the
/// spelling is part of the answer (botocore `lambda/2015-03-31`, and the error bodies LocalStack
/// recorded on AWS in test_lambda_api).
pub const LAMBDA_LOWERCASE_MESSAGE: &[&str] = &[
    "AliasLimitExceededException",
    "CodeStorageExceededException",
    "InvalidParameterValueException",
    "InvalidRequestContentException",
    "ModeNotSupportedException",
    "PolicyLengthExceededException",
    "PreconditionFailedException",
    "ProvisionedConcurrencyConfigNotFoundException",
    "RequestTooLargeException",
    "ResourceConflictException",
    "ResourceNotReadyException",
    "SerializedRequestEntityTooLargeException",
    "TooManyRequestsException",
    "UnsupportedMediaTypeException",
];

/// Lambda errors that are not in its model (the front end's): a bare `message`.
const LAMBDA_UNMODELLED: &[&str] = &[
    "ValidationException",
    "AccessDeniedException",
    "RequestEntityTooLargeException",
];

/// Renders an error.
pub fn error(err: &AwsError, style: ErrorStyle, request_id: &str) -> Response<Body> {
    let body = match style {
        ErrorStyle::Lambda if LAMBDA_UNMODELLED.contains(&err.code.as_str()) || err.bare => {
            serde_json::json!({ "message": err.message })
        }
        ErrorStyle::Lambda => {
            let member = if LAMBDA_LOWERCASE_MESSAGE.contains(&err.code.as_str()) {
                "message"
            } else {
                "Message"
            };
            serde_json::json!({
                "Type": if err.status >= 500 { "Service" } else { "User" },
                member: err.message,
            })
        }
        ErrorStyle::ApiGateway => serde_json::json!({ "message": err.message }),
    };
    let mut response = respond(
        err.status,
        "application/json",
        request_id,
        serde_json::to_vec(&body).unwrap_or_default(),
    );
    if let Ok(v) = HeaderValue::from_str(&err.code) {
        response.headers_mut().insert("x-amzn-errortype", v);
    }
    response
}

/// Parses a JSON request body (empty → `{}`).
///
/// # Errors
/// `BadRequestException`-style error with `code` for a body that is not JSON.
pub fn parse_body(body: &[u8], code: &str) -> Result<serde_json::Value, AwsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|e| AwsError::new(code, format!("Could not parse request body into json: {e}")))
}

/// Splits a path into its percent-decoded segments.
pub fn segments(path: &str) -> Vec<String> {
    path.trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

/// A restJson request, as a service handler sees it.
#[derive(Debug, Clone)]
pub struct RestRequest {
    /// HTTP method, upper case.
    pub method: String,
    /// The raw path.
    pub path: String,
    /// Percent-decoded path segments.
    pub segments: Vec<String>,
    /// Query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    /// Headers.
    pub headers: axum::http::HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl RestRequest {
    /// The first query parameter called `name`.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path segments as `&str`s, for matching with slice patterns.
    pub fn parts(&self) -> Vec<&str> {
        self.segments.iter().map(String::as_str).collect()
    }
}
