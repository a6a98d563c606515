//! Kinesis (awsJson 1.1, `Kinesis_20131202.*`): the control plane.

use super::Ctx;
use crate::store::{StoreError, Txn};
use crate::{AwsError, AwsResult};

/// Handles one Kinesis operation.
///
/// # Errors
/// AWS's errors for the operation.
pub fn handle(_ctx: &Ctx<'_>, op: &str, _input: &serde_json::Value) -> AwsResult<serde_json::Value> {
    Err(AwsError::new(
        "UnknownOperationException",
        format!("Unknown operation {op}"),
    ))
}

/// Stored stream document fields this module relies on: `StreamARN`, `status` (the status
/// last set: `CREATING`, `ACTIVE`, `UPDATING`, `DELETING`) and `ready_at_ms` (when a
/// `CREATING`/`UPDATING` stream becomes `ACTIVE`).
pub fn effective_status(doc: &serde_json::Value, now_ms: u64) -> String {
    let status = doc.get("status").and_then(|s| s.as_str()).unwrap_or("ACTIVE");
    let ready = doc
        .get("ready_at_ms")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    match status {
        "CREATING" | "UPDATING" if now_ms >= ready => "ACTIVE".to_owned(),
        other => other.to_owned(),
    }
}

/// The status of the stream `arn` (`None`: no such stream), for event source mappings.
///
/// # Errors
/// Storage failure.
pub fn stream_status_by_arn(txn: &Txn<'_>, ctx: &Ctx<'_>, arn: &str) -> Result<Option<String>, StoreError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", _, "kinesis", region, account, resource] = parts.as_slice() else {
        return Ok(None);
    };
    let Some(name) = resource.strip_prefix("stream/") else {
        return Ok(None);
    };
    let key = format!("{account}/{region}/kinesis/stream/{}", super::escape_id(name));
    Ok(txn
        .get::<serde_json::Value>(&key)?
        .filter(|doc| !super::is_gone(doc, ctx.now_ms))
        .map(|doc| effective_status(&doc, ctx.now_ms)))
}
