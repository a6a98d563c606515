//! The API Gateway data plane: `/restapis/{id}/{stage}/_user_request_/{path}` serves the
//! stage's deployed snapshot.

use crate::protocol::rest::RestRequest;
use crate::server::Runtime;
use axum::body::Body;
use axum::http::Response;

/// Serves one API call.
pub(crate) async fn handle(_runtime: &Runtime, req: RestRequest, request_id: &str) -> Response<Body> {
    let body = serde_json::json!({ "message": format!("no route for {} {}", req.method, req.path) });
    crate::protocol::respond(
        404,
        "application/json",
        request_id,
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}
