//! Lambda (restJson1, `/2015-03-31/...`): functions and event source mappings.

use super::Ctx;
use crate::protocol::rest::{RestRequest, RestResponse};
use crate::{AwsError, AwsResult};

/// Handles one request.
///
/// # Errors
/// AWS's errors for the operation; `UnknownOperationException` (404) for no route.
pub fn handle(_ctx: &Ctx<'_>, req: &RestRequest) -> AwsResult<RestResponse> {
    Err(AwsError::new(
        "UnknownOperationException",
        format!("Unknown operation {} {}", req.method, req.path),
    )
    .status(404))
}
