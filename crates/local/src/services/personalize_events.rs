//! personalize-events (restJson1, `POST /events`): PutEvents.

use super::Ctx;
use crate::protocol::rest::{RestRequest, RestResponse};
use crate::{AwsError, AwsResult};

/// Handles one request.
///
/// # Errors
/// AWS's errors for the operation.
pub fn handle(_ctx: &Ctx<'_>, req: &RestRequest) -> AwsResult<RestResponse> {
    Err(AwsError::new(
        "UnknownOperationException",
        format!("Unknown operation {} {}", req.method, req.path),
    )
    .status(404))
}
