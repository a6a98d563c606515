//! The three AWS protocols the services speak: awsJson 1.1 (Kinesis, Personalize, Logs),
//! restJson1 (Lambda, API Gateway) and awsQuery (IAM, STS), plus awsJson's CBOR form for
//! Kinesis. Each renders successes and [`AwsError`](crate::AwsError)s in its exact wire shape.

pub mod cbor;
pub mod json;
pub(crate) mod members;
pub mod query;
pub mod rest;

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode};

/// A response with `status`, `content_type`, the request id header and `body`.
pub(crate) fn respond(status: u16, content_type: &str, request_id: &str, body: Vec<u8>) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        headers.insert("content-type", v);
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", v.clone());
        headers.insert("x-amz-request-id", v);
    }
    response
}
