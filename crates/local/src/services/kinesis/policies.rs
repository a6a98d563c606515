//! Resource policies: GetResourcePolicy, PutResourcePolicy, DeleteResourcePolicy, on a
//! stream or an enhanced fan-out consumer, named by `ResourceARN`.
//!
//! A policy is kept as the JSON text it was put with, in the stream document (a consumer's in
//! the consumer's entry there), so it goes with the stream or the consumer. Without one,
//! GetResourcePolicy answers the empty document `{}` (recorded: LocalStack
//! `test_resource_policy_crud`, "default_policy_if_not_set").

use super::input::{self, Violations};
use super::model::Stream;
use super::{Ctx, load_stream, save_stream};
use crate::{AwsError, AwsResult};
use serde_json::{Value, json};

/// The pattern the model gives `ResourceARN`.
const RESOURCE_ARN_PATTERN: &str = "arn:aws.*:kinesis:.*:\\d{12}:.*(stream|channel|queue)/\\S+";

/// What a `ResourceARN` names.
enum Resource {
    /// A stream, by name.
    Stream(String),
    /// A consumer, by its ARN, of the stream named.
    Consumer { stream: String, arn: String },
}

impl Resource {
    fn stream(&self) -> &str {
        match self {
            Resource::Stream(name) | Resource::Consumer { stream: name, .. } => name,
        }
    }
}

/// Whether `arn` has the shape of the model's `ResourceARN` pattern.
fn matches_resource_pattern(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", partition, "kinesis", _, account, resource] = parts.as_slice() else {
        return false;
    };
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    let resource_ok = ["stream/", "channel/", "queue/"].iter().any(|kind| {
        resource
            .split_once(kind)
            .is_some_and(|(_, rest)| !rest.is_empty() && !rest.chars().any(char::is_whitespace))
    });
    partition.starts_with("aws") && account_ok && resource_ok
}

/// The validated `ResourceARN`, resolved to the caller's stream or consumer.
///
/// # Errors
/// `ValidationException` for a missing or malformed ARN, `ResourceNotFoundException` for
/// another account's or region's resource, `InvalidArgumentException` for a Kinesis ARN that
/// is neither a stream nor a consumer.
fn resource_of(ctx: &Ctx<'_>, input: &Value, mut v: Violations) -> AwsResult<(String, Resource)> {
    let arn = input::string(input, "ResourceARN")?;
    let stream_id = input::string(input, "StreamId")?;
    v.text("ResourceARN", arn, true, (1, 2048), None);
    if let Some(arn) = arn
        && !matches_resource_pattern(arn)
    {
        v.add(
            &format!("'{arn}'"),
            "ResourceARN",
            &format!("Member must satisfy regular expression pattern: {RESOURCE_ARN_PATTERN}"),
        );
    }
    v.text("StreamId", stream_id, false, (1, 24), None);
    v.finish()?;
    let arn = arn.unwrap_or_default().to_owned();
    let (account, region, resource) = if let Some((account, region, stream, _)) =
        super::parse_consumer_arn(&arn)
    {
        let resource = Resource::Consumer {
            stream,
            arn: arn.clone(),
        };
        (account, region, resource)
    } else if let Some((account, region, stream)) = super::parse_stream_arn(&arn) {
        (account, region, Resource::Stream(stream))
    } else {
        return Err(AwsError::new(
            "InvalidArgumentException",
            format!("Invalid ResourceARN: {arn}. Only stream and consumer ARNs can have a resource policy."),
        ));
    };
    if account != ctx.account() || region != ctx.region() {
        return Err(AwsError::new(
            "ResourceNotFoundException",
            format!("Stream {} under account {account} not found.", resource.stream()),
        ));
    }
    Ok((arn, resource))
}

/// The policy slot of `resource` in `stream`.
///
/// # Errors
/// `ResourceNotFoundException` for a consumer the stream does not have.
fn policy_slot<'s>(
    ctx: &Ctx<'_>,
    stream: &'s mut Stream,
    resource: &Resource,
) -> AwsResult<&'s mut Option<String>> {
    match resource {
        Resource::Stream(_) => Ok(&mut stream.policy),
        Resource::Consumer { arn, .. } => {
            let stream_name = stream.name.clone();
            stream
                .consumers
                .iter_mut()
                .find(|c| &c.arn == arn)
                .map(|c| &mut c.policy)
                .ok_or_else(|| super::consumer_not_found(ctx, &stream_name, arn))
        }
    }
}

/// `InvalidArgumentException` unless `policy` is a JSON object (a policy document).
fn check_policy_document(policy: &str) -> AwsResult<()> {
    match serde_json::from_str::<Value>(policy) {
        Ok(Value::Object(_)) => Ok(()),
        _ => Err(AwsError::new(
            "InvalidArgumentException",
            "Policy is not a valid JSON policy document.",
        )),
    }
}

/// GetResourcePolicy: the policy as put, or `{}` when there is none.
pub(super) fn get_resource_policy(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let (_, resource) = resource_of(ctx, input, Violations::default())?;
    let mut stream = ctx.store.read(|txn| load_stream(txn, ctx, resource.stream()))?;
    let policy = policy_slot(ctx, &mut stream, &resource)?.clone();
    Ok(json!({ "Policy": policy.unwrap_or_else(|| "{}".to_owned()) }))
}

/// PutResourcePolicy: attaches `Policy`, replacing any policy the resource had.
pub(super) fn put_resource_policy(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let policy = input::string(input, "Policy")?;
    if policy.is_none() {
        v.missing("Policy");
    }
    let (_, resource) = resource_of(ctx, input, v)?;
    let policy = policy.unwrap_or_default().to_owned();
    check_policy_document(&policy)?;
    ctx.store.write(|txn| {
        let mut stream = load_stream(txn, ctx, resource.stream())?;
        *policy_slot(ctx, &mut stream, &resource)? = Some(policy);
        save_stream(txn, ctx, &stream)
    })?;
    Ok(json!({}))
}

/// DeleteResourcePolicy: a resource without a policy is `ResourceNotFoundException` (AWS
/// refuses it: LocalStack `test_resource_policy_crud` expects an error; the wording, not
/// recorded, is LocalStack's).
pub(super) fn delete_resource_policy(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let (arn, resource) = resource_of(ctx, input, Violations::default())?;
    ctx.store.write(|txn| {
        let mut stream = load_stream(txn, ctx, resource.stream())?;
        if policy_slot(ctx, &mut stream, &resource)?.take().is_none() {
            return Err(AwsError::new(
                "ResourceNotFoundException",
                format!("No resource policy found for resource ARN {arn}"),
            ));
        }
        save_stream(txn, ctx, &stream)
    })?;
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_arns_are_checked_against_the_model_pattern() {
        assert!(matches_resource_pattern(
            "arn:aws:kinesis:us-east-1:123456789012:stream/s"
        ));
        assert!(matches_resource_pattern(
            "arn:aws:kinesis:us-east-1:123456789012:stream/s/consumer/c:1700000000"
        ));
        assert!(!matches_resource_pattern(
            "arn:aws:kinesis:us-east-1:1234:stream/s"
        ));
        assert!(!matches_resource_pattern(
            "arn:aws:sqs:us-east-1:123456789012:stream/s"
        ));
        assert!(!matches_resource_pattern(
            "arn:aws:kinesis:us-east-1:123456789012:stream/"
        ));
    }
}
