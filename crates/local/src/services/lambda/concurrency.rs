//! Reserved concurrency: `PutFunctionConcurrency`, `GetFunctionConcurrency`,
//! `DeleteFunctionConcurrency`. The reservation is kept in the function's document under
//! [`FIELD`]; `GetFunction` shows it as `Concurrency`.
//!
//! As in AWS, the account's concurrency (1,000 here, AWS's default quota) must keep at least
//! 100 unreserved, so reservations across the account's functions total at most 900. The
//! runtime does not throttle invocations by it.

use super::functions::load;
use super::{
    FunctionRef, NameShape, body_of, function_key, function_ref, invalid, missing, opt_int, out_of_range,
};
use crate::protocol::rest::{RestRequest, RestResponse};
use crate::services::Ctx;
use crate::{AwsError, AwsResult};
use serde_json::{Map, Value, json};

/// Where a function's document keeps its reservation.
pub(super) const FIELD: &str = "_reserved_concurrency";

/// The account's concurrency quota.
const ACCOUNT_CONCURRENCY: u64 = 1000;

/// What must stay unreserved.
const MIN_UNRESERVED: u64 = 100;

/// `PutFunctionConcurrency`: 200 with the reservation.
pub(super) fn put(ctx: &Ctx<'_>, req: &RestRequest, raw: &str) -> AwsResult<RestResponse> {
    let body = body_of(req)?;
    let n = opt_int(&body, "ReservedConcurrentExecutions")?
        .ok_or_else(|| missing("reservedConcurrentExecutions"))?;
    if let Some(e) = out_of_range("ReservedConcurrentExecutions", n, 0, i64::from(i32::MAX)) {
        return Err(e);
    }
    let n = u64::try_from(n).unwrap_or_default();
    let fref = function(ctx, raw)?;
    // The reservation goes to `$LATEST`, which a missing function's message names
    // (recorded: LocalStack test_function_concurrency_exceptions).
    let latest = FunctionRef {
        qualifier: Some("$LATEST".into()),
        ..fref
    };
    ctx.store.write(|t| {
        let mut doc = load(t, ctx, &latest)?;
        let name = doc
            .get("FunctionName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let others: u64 = t
            .list::<Map<String, Value>>(&ctx.prefix("lambda", "function"))?
            .into_iter()
            .filter(|(_, d)| d.get("FunctionName").and_then(Value::as_str) != Some(name.as_str()))
            .filter_map(|(_, d)| d.get(FIELD).and_then(Value::as_u64))
            .sum();
        if others + n > ACCOUNT_CONCURRENCY - MIN_UNRESERVED {
            // The account-wide check answers without `Type` (recorded: LocalStack
            // test_function_concurrency_limits).
            return Err(invalid(format!(
                "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}]."
            ))
            .bare());
        }
        doc.insert(FIELD.into(), json!(n));
        t.put(&function_key(ctx, &name), &doc)?;
        Ok::<_, AwsError>(())
    })?;
    Ok(RestResponse::json(
        200,
        json!({ "ReservedConcurrentExecutions": n }),
    ))
}

/// `GetFunctionConcurrency`: the reservation, or nothing when there is none.
pub(super) fn get(ctx: &Ctx<'_>, raw: &str) -> AwsResult<RestResponse> {
    let fref = function(ctx, raw)?;
    let doc = ctx.store.read(|t| load(t, ctx, &fref))?;
    Ok(RestResponse::json(
        200,
        match doc.get(FIELD).and_then(Value::as_u64) {
            Some(n) => json!({ "ReservedConcurrentExecutions": n }),
            None => json!({}),
        },
    ))
}

/// `DeleteFunctionConcurrency`: 204.
pub(super) fn delete(ctx: &Ctx<'_>, raw: &str) -> AwsResult<RestResponse> {
    let fref = function(ctx, raw)?;
    ctx.store.write(|t| {
        let mut doc = load(t, ctx, &fref)?;
        if doc.remove(FIELD).is_some() {
            let name = doc
                .get("FunctionName")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            t.put(&function_key(ctx, &name), &doc)?;
        }
        Ok::<_, AwsError>(())
    })?;
    Ok(RestResponse::empty(204))
}

/// The function a reservation is for: a function, never one of its versions or aliases
/// (recorded: LocalStack test_function_concurrency_exceptions).
fn function(ctx: &Ctx<'_>, raw: &str) -> AwsResult<FunctionRef> {
    let fref = function_ref(ctx, raw, None, NameShape::Function)?;
    if fref.qualifier.is_some() {
        return Err(invalid(
            "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.",
        ));
    }
    Ok(fref)
}
