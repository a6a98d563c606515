//! What the client receives: method responses and API Gateway's own (gateway) errors, with
//! the headers API Gateway adds to every response.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Response, StatusCode};
use rand::Rng as _;

/// A response on its way to the client.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: String,
    /// Headers from the method response's mappings (or a proxy integration).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// `x-amzn-ErrorType`, for API Gateway's own errors.
    pub error_type: Option<&'static str>,
}

/// API Gateway's own errors (its default gateway responses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GatewayError {
    /// No such stage, resource or method: 403 `Missing Authentication Token`, which AWS
    /// answers instead of a 404 so callers learn nothing about what exists.
    MissingAuthenticationToken,
    /// A missing or invalid API key (or a disabled execute-api endpoint): 403 `Forbidden`.
    Forbidden,
    /// No request template for the Content-Type and passthrough refused: 415.
    UnsupportedMediaType,
    /// A template or configuration failure: 500 `Internal server error`.
    InternalServerError,
}

impl GatewayError {
    /// The reply AWS sends, byte for byte (the 500 body has a space after the colon on AWS).
    pub(super) fn reply(self) -> Reply {
        let (status, body, error_type): (u16, &str, &'static str) = match self {
            GatewayError::MissingAuthenticationToken => (
                403,
                r#"{"message":"Missing Authentication Token"}"#,
                "MissingAuthenticationTokenException",
            ),
            GatewayError::Forbidden => (403, r#"{"message":"Forbidden"}"#, "ForbiddenException"),
            GatewayError::UnsupportedMediaType => (
                415,
                r#"{"message":"Unsupported Media Type"}"#,
                "UnsupportedMediaTypeException",
            ),
            GatewayError::InternalServerError => (
                500,
                r#"{"message": "Internal server error"}"#,
                "InternalServerErrorException",
            ),
        };
        Reply {
            status,
            content_type: "application/json".into(),
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
            error_type: Some(error_type),
        }
    }
}

/// A failure AWS would report as `status` with `{"message": "Internal server error"}`, for
/// what the local runtime cannot do: the message says so, so the developer is not left
/// guessing.
pub(super) fn unsupported(status: u16, why: &str) -> Reply {
    let body = serde_json::json!({ "message": format!("Internal server error: {why}") });
    Reply {
        status,
        content_type: "application/json".into(),
        headers: Vec::new(),
        body: serde_json::to_vec(&body).unwrap_or_default(),
        error_type: Some(if status == 502 {
            "BadGatewayException"
        } else {
            "InternalServerErrorException"
        }),
    }
}

/// An id in the shape of `x-amz-apigw-id` (`$context.extendedRequestId`), e.g. `Hk2x8FbQIAMEbXw=`.
pub(super) fn new_apigw_id() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let mut id: String = (0..15)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect();
    id.push('=');
    id
}

/// An `X-Amzn-Trace-Id` root: `Root=1-{epoch seconds hex}-{24 hex digits}`.
fn trace_id(now_ms: u64) -> String {
    let mut rng = rand::rng();
    let random: String = (0..24)
        .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
        .collect();
    format!("Root=1-{:08x}-{random}", now_ms / 1000)
}

impl Reply {
    /// The HTTP response, with the headers API Gateway adds: `x-amzn-RequestId`,
    /// `x-amz-apigw-id` and `X-Amzn-Trace-Id`.
    pub(super) fn into_response(self, request_id: &str, apigw_id: &str, now_ms: u64) -> Response<Body> {
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut all: Vec<(String, String)> = vec![
            ("content-type".into(), self.content_type),
            ("x-amzn-requestid".into(), request_id.to_owned()),
            ("x-amz-apigw-id".into(), apigw_id.to_owned()),
            ("x-amzn-trace-id".into(), trace_id(now_ms)),
        ];
        if let Some(t) = self.error_type {
            all.push(("x-amzn-errortype".into(), t.to_owned()));
        }
        // Mapped headers come last so a mapping may override the defaults (e.g. Content-Type).
        all.extend(self.headers);
        let headers = response.headers_mut();
        for (name, value) in all {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                headers.insert(n, v);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_errors_are_worded_as_aws_words_them() {
        let r = GatewayError::MissingAuthenticationToken.reply();
        assert_eq!(
            (r.status, r.body.as_slice()),
            (403, &br#"{"message":"Missing Authentication Token"}"#[..])
        );
        let r = GatewayError::InternalServerError.reply();
        assert_eq!(
            (r.status, r.body.as_slice()),
            (500, &br#"{"message": "Internal server error"}"#[..])
        );
        assert_eq!(new_apigw_id().len(), 16);
        assert!(trace_id(1_700_000_000_000).starts_with("Root=1-6553f100-"));
    }
}
