//! CloudWatch Logs (awsJson 1.1, `Logs_20140328.*`).

use super::Ctx;
use crate::{AwsError, AwsResult};

/// Handles one operation.
///
/// # Errors
/// AWS's errors for the operation.
pub fn handle(_ctx: &Ctx<'_>, op: &str, _input: &serde_json::Value) -> AwsResult<serde_json::Value> {
    Err(AwsError::new(
        "UnknownOperationException",
        format!("Unknown operation {op}"),
    ))
}
