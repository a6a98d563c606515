//! IAM (awsQuery). Roles are global: keys use [`Ctx::global_key`].

use super::Ctx;
use crate::protocol::query::Params;
use crate::store::{StoreError, Txn};
use crate::{AwsError, AwsResult};

/// The XML namespace of IAM responses.
pub const XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// Handles one IAM action; returns the inner XML of `<ActionResult>`.
///
/// # Errors
/// AWS's errors for the action.
pub fn handle(_ctx: &Ctx<'_>, action: &str, _params: &Params) -> AwsResult<String> {
    Err(AwsError::new(
        "InvalidAction",
        format!("Could not find operation {action} for version 2010-05-08"),
    ))
}

/// Whether a service can use a role, for Lambda and event source mappings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleAccess {
    /// No such role.
    Missing,
    /// The role's trust policy does not let the service assume it.
    NotTrusted,
    /// The role is too new: IAM has not propagated it yet (fault injection).
    Propagating,
    /// The service can assume it.
    Usable,
}

/// The key of role `name` in `account`. Stored role documents have at least `Arn`,
/// `AssumeRolePolicyDocument` (the decoded JSON policy, as a string) and `created_ms`.
pub(crate) fn role_key(account: &str, name: &str) -> String {
    format!("{account}/global/iam/role/{}", super::escape_id(name))
}

/// Whether `principal` (e.g. `lambda.amazonaws.com`) can assume the role `role_arn`.
///
/// # Errors
/// Storage failure.
pub fn role_for_service(
    txn: &Txn<'_>,
    ctx: &Ctx<'_>,
    role_arn: &str,
    principal: &str,
) -> Result<RoleAccess, StoreError> {
    let parts: Vec<&str> = role_arn.splitn(6, ':').collect();
    let (account, name) = match parts.as_slice() {
        ["arn", _, "iam", "", account, resource] => match resource.strip_prefix("role/") {
            Some(path_and_name) => (*account, path_and_name.rsplit('/').next().unwrap_or_default()),
            None => return Ok(RoleAccess::Missing),
        },
        _ => return Ok(RoleAccess::Missing),
    };
    let Some(doc) = txn.get::<serde_json::Value>(&role_key(account, name))? else {
        return Ok(RoleAccess::Missing);
    };
    if doc.get("Arn").and_then(|a| a.as_str()) != Some(role_arn) {
        return Ok(RoleAccess::Missing);
    }
    let policy: serde_json::Value = doc
        .get("AssumeRolePolicyDocument")
        .and_then(|p| p.as_str())
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_default();
    if !trusts(&policy, principal) {
        return Ok(RoleAccess::NotTrusted);
    }
    let created = doc
        .get("created_ms")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    if ctx.now_ms < created.saturating_add(ctx.config.faults.iam_propagation_ms) {
        return Ok(RoleAccess::Propagating);
    }
    Ok(RoleAccess::Usable)
}

/// Whether a trust policy allows `principal` to `sts:AssumeRole`.
pub fn trusts(policy: &serde_json::Value, principal: &str) -> bool {
    let as_list = |v: Option<&serde_json::Value>| -> Vec<String> {
        match v {
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            Some(serde_json::Value::Array(a)) => {
                a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()
            }
            _ => Vec::new(),
        }
    };
    let statements = match policy.get("Statement") {
        Some(serde_json::Value::Array(a)) => a.clone(),
        Some(s @ serde_json::Value::Object(_)) => vec![s.clone()],
        _ => Vec::new(),
    };
    statements.iter().any(|s| {
        s.get("Effect").and_then(|e| e.as_str()) == Some("Allow")
            && as_list(s.get("Action"))
                .iter()
                .any(|a| a == "sts:AssumeRole" || a == "sts:*" || a == "*")
            && as_list(s.get("Principal").and_then(|p| p.get("Service")))
                .iter()
                .any(|p| p == principal)
    })
}
