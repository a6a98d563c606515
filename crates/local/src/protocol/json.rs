//! awsJson 1.1: `POST /` with `X-Amz-Target: <Prefix>.<Operation>` and a JSON body; errors
//! are `{"__type": "<Code>", "message": "..."}` with a 4xx/5xx status.

use super::respond;
use crate::AwsError;
use axum::body::Body;
use axum::http::Response;

/// The content type of requests and responses.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// A successful response.
pub fn ok(value: &serde_json::Value, request_id: &str) -> Response<Body> {
    respond(
        200,
        CONTENT_TYPE,
        request_id,
        serde_json::to_vec(value).unwrap_or_default(),
    )
}

/// An error response.
pub fn error(err: &AwsError, request_id: &str) -> Response<Body> {
    let body = serde_json::json!({ "__type": err.code, "message": err.message });
    respond(
        err.status,
        CONTENT_TYPE,
        request_id,
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}

/// The request body as JSON (an empty body is `{}`, as the SDKs send for no input).
///
/// # Errors
/// `SerializationException` for a body that is not a JSON object.
pub fn parse_body(body: &[u8]) -> Result<serde_json::Value, AwsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::json!({}));
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v @ serde_json::Value::Object(_)) => Ok(v),
        Ok(_) => Err(AwsError::new(
            "SerializationException",
            "Start of structure or map found where not expected.",
        )),
        Err(e) => Err(AwsError::new(
            "SerializationException",
            format!("Invalid JSON: {e}"),
        )),
    }
}
