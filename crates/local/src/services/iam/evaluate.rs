//! IAM policy evaluation for a role acting on another service's behalf (API Gateway's
//! integration credentials): does the role's identity-based policy set allow `action` on
//! `resource`?
//!
//! What is modelled, as IAM evaluates it:
//! - the role's inline policies and its attached managed policies; AWS managed policies are
//!   the documents in [`aws_managed_policy`] (the ones this project uses; any other AWS
//!   managed policy grants nothing here);
//! - `Action`/`NotAction` (case-insensitive) and `Resource`/`NotResource` (case-sensitive)
//!   with `*` and `?` wildcards;
//! - an explicit `Deny` overrides any `Allow`; no matching `Allow` is an implicit deny.
//!
//! Not modelled: `Condition` blocks (a statement with one is not applied, so a conditional
//! `Allow` grants nothing and a conditional `Deny` denies nothing), policy variables,
//! permission boundaries, session policies and SCPs.

use crate::store::{StoreError, Txn};
use serde_json::{Value, json};

/// The outcome of evaluating a request against a policy set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// A statement allows it and none denies it.
    Allowed,
    /// No statement allows it.
    ImplicitlyDenied,
    /// A statement denies it.
    ExplicitlyDenied,
}

/// Evaluates `action` (e.g. `kinesis:PutRecords`) on `resource` (an ARN, or `*` for actions
/// without a resource type) against the policies of the role `role_arn`. A role that does
/// not exist has no policies: implicitly denied.
///
/// # Errors
/// Storage failure.
pub(crate) fn role_decision(
    txn: &Txn<'_>,
    role_arn: &str,
    action: &str,
    resource: &str,
) -> Result<Decision, StoreError> {
    let Some((account, name)) = role_account_and_name(role_arn) else {
        return Ok(Decision::ImplicitlyDenied);
    };
    let Some(role) = txn.get::<Value>(&super::role_key(account, name))? else {
        return Ok(Decision::ImplicitlyDenied);
    };
    let mut documents: Vec<Value> = role
        .get("InlinePolicies")
        .and_then(Value::as_object)
        .map(|m| {
            m.values()
                .filter_map(Value::as_str)
                .filter_map(|d| serde_json::from_str(d).ok())
                .collect()
        })
        .unwrap_or_default();
    let attached = role
        .get("AttachedPolicies")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    documents.extend(
        attached
            .iter()
            .filter_map(Value::as_str)
            .filter_map(aws_managed_policy),
    );
    Ok(evaluate(&documents, action, resource))
}

/// `(account, role name)` of `arn:aws:iam::{account}:role/{path}{name}`.
fn role_account_and_name(role_arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = role_arn.splitn(6, ':').collect();
    let ["arn", _, "iam", "", account, resource] = parts.as_slice() else {
        return None;
    };
    let path_and_name = resource.strip_prefix("role/")?;
    let name = path_and_name.rsplit('/').next().filter(|n| !n.is_empty())?;
    Some((account, name))
}

/// The principal a service uses when it assumes `role_arn` for API Gateway, as AWS names it
/// in AccessDenied messages: `arn:aws:sts::{account}:assumed-role/{name}/BackplaneAssumeRoleSession`.
pub(crate) fn api_gateway_session_arn(role_arn: &str) -> String {
    let (account, name) = role_account_and_name(role_arn).unwrap_or(("", role_arn));
    format!("arn:aws:sts::{account}:assumed-role/{name}/BackplaneAssumeRoleSession")
}

/// AWS's wording for a denied request: `User: {principal} is not authorized to perform:
/// {action} on resource: {resource} because no identity-based policy allows the {action}
/// action` (or `with an explicit deny in an identity-based policy`).
pub(crate) fn denial_message(principal: &str, action: &str, resource: &str, decision: Decision) -> String {
    let why = match decision {
        Decision::ExplicitlyDenied => "with an explicit deny in an identity-based policy".to_owned(),
        _ => format!("because no identity-based policy allows the {action} action"),
    };
    format!("User: {principal} is not authorized to perform: {action} on resource: {resource} {why}")
}

/// Evaluates `action` on `resource` against policy `documents`.
pub(crate) fn evaluate(documents: &[Value], action: &str, resource: &str) -> Decision {
    let mut allowed = false;
    for statement in documents.iter().flat_map(statements) {
        if !applies(statement, action, resource) {
            continue;
        }
        match statement.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return Decision::ExplicitlyDenied,
            Some("Allow") => allowed = true,
            _ => {}
        }
    }
    if allowed {
        Decision::Allowed
    } else {
        Decision::ImplicitlyDenied
    }
}

/// A document's statements (`Statement` may be one object or a list).
fn statements(document: &Value) -> Vec<&Value> {
    match document.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => Vec::new(),
    }
}

/// Whether a statement covers the request (its effect aside).
fn applies(statement: &Value, action: &str, resource: &str) -> bool {
    if statement.get("Condition").is_some_and(|c| !c.is_null()) {
        return false;
    }
    let action_matches = |p: &str| wildcard_match(&p.to_ascii_lowercase(), &action.to_ascii_lowercase());
    let resource_matches = |p: &str| wildcard_match(p, resource);
    let action_ok = match (statement.get("Action"), statement.get("NotAction")) {
        (Some(a), _) => strings(a).iter().any(|p| action_matches(p)),
        (None, Some(na)) => !strings(na).iter().any(|p| action_matches(p)),
        (None, None) => false,
    };
    let resource_ok = match (statement.get("Resource"), statement.get("NotResource")) {
        (Some(r), _) => strings(r).iter().any(|p| resource_matches(p)),
        (None, Some(nr)) => !strings(nr).iter().any(|p| resource_matches(p)),
        (None, None) => false,
    };
    action_ok && resource_ok
}

/// A policy element that is a string or a list of strings.
fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// IAM's glob: `*` matches any run of characters, `?` exactly one.
pub(crate) fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    // Where the last `*` was and which text position it is currently standing for.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The documents of the AWS managed policies this runtime models (the permission sets that
/// matter to the services it emulates); `None` for any other ARN.
pub(crate) fn aws_managed_policy(arn: &str) -> Option<Value> {
    let name = arn.strip_prefix("arn:aws:iam::aws:policy/")?.rsplit('/').next()?;
    let allow = |actions: &[&str]| {
        Some(json!({
            "Version": "2012-10-17",
            "Statement": [{ "Effect": "Allow", "Action": actions, "Resource": "*" }]
        }))
    };
    const LOG_WRITE: [&str; 3] = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"];
    match name {
        "AdministratorAccess" => allow(&["*"]),
        "AmazonKinesisFullAccess" => allow(&["kinesis:*"]),
        "AmazonKinesisReadOnlyAccess" => allow(&["kinesis:Get*", "kinesis:List*", "kinesis:Describe*"]),
        "AWSLambdaKinesisExecutionRole" => allow(&[
            "kinesis:DescribeStream",
            "kinesis:DescribeStreamSummary",
            "kinesis:GetRecords",
            "kinesis:GetShardIterator",
            "kinesis:ListShards",
            "kinesis:ListStreams",
            "kinesis:SubscribeToShard",
            LOG_WRITE[0],
            LOG_WRITE[1],
            LOG_WRITE[2],
        ]),
        "AWSLambdaBasicExecutionRole" => allow(&LOG_WRITE),
        "AmazonAPIGatewayPushToCloudWatchLogs" => allow(&[
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:DescribeLogGroups",
            "logs:DescribeLogStreams",
            "logs:PutLogEvents",
            "logs:GetLogEvents",
            "logs:FilterLogEvents",
        ]),
        "CloudWatchLogsFullAccess" => allow(&["logs:*"]),
        "CloudWatchFullAccess" => allow(&["cloudwatch:*", "logs:*"]),
        "AmazonPersonalizeFullAccess" => allow(&["personalize:*"]),
        "AWSLambda_FullAccess" => allow(&[
            "lambda:*",
            "logs:*",
            "kinesis:DescribeStream",
            "kinesis:ListStreams",
        ]),
        "AWSLambdaRole" => allow(&["lambda:InvokeFunction"]),
        "AWSLambdaExecute" => allow(&["logs:*", "s3:GetObject", "s3:PutObject"]),
        "AmazonS3FullAccess" => allow(&["s3:*"]),
        "AmazonS3ReadOnlyAccess" => allow(&["s3:Get*", "s3:List*"]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/PutEvent-datastream";

    fn policy(statements: Value) -> Vec<Value> {
        vec![json!({ "Version": "2012-10-17", "Statement": statements })]
    }

    #[test]
    fn wildcards_match_as_iam_does() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("kinesis:put*", "kinesis:putrecords"));
        assert!(wildcard_match("kinesis:?utRecord", "kinesis:PutRecord"));
        assert!(!wildcard_match("kinesis:?utRecord", "kinesis:PutRecords"));
        assert!(wildcard_match("arn:aws:kinesis:*:*:stream/Put*", STREAM));
        assert!(!wildcard_match("arn:aws:kinesis:*:*:stream/other", STREAM));
        assert!(wildcard_match("a*b*c", "aXXbYYc"));
        assert!(!wildcard_match("a*b*c", "aXXbYY"));
    }

    #[test]
    fn allow_needs_action_and_resource_and_deny_wins() {
        let allow = json!({"Effect": "Allow", "Action": ["kinesis:PutRecords", "kinesis:DescribeStream"], "Resource": STREAM});
        let docs = policy(json!([allow.clone()]));
        assert_eq!(evaluate(&docs, "kinesis:PutRecords", STREAM), Decision::Allowed);
        assert_eq!(evaluate(&docs, "Kinesis:putrecords", STREAM), Decision::Allowed);
        assert_eq!(
            evaluate(&docs, "kinesis:PutRecord", STREAM),
            Decision::ImplicitlyDenied
        );
        assert_eq!(
            evaluate(
                &docs,
                "kinesis:PutRecords",
                "arn:aws:kinesis:us-east-1:000000000000:stream/x"
            ),
            Decision::ImplicitlyDenied
        );
        let deny = json!({"Effect": "Deny", "Action": "kinesis:Put*", "Resource": "*"});
        let docs = policy(json!([allow, deny]));
        assert_eq!(
            evaluate(&docs, "kinesis:PutRecords", STREAM),
            Decision::ExplicitlyDenied
        );
        assert_eq!(
            evaluate(&docs, "kinesis:DescribeStream", STREAM),
            Decision::Allowed
        );
    }

    #[test]
    fn not_action_not_resource_and_conditions() {
        let docs = policy(
            json!({"Effect": "Allow", "NotAction": "kinesis:Delete*", "NotResource": "arn:aws:kinesis:*:*:stream/secret"}),
        );
        assert_eq!(evaluate(&docs, "kinesis:PutRecords", STREAM), Decision::Allowed);
        assert_eq!(
            evaluate(&docs, "kinesis:DeleteStream", STREAM),
            Decision::ImplicitlyDenied
        );
        assert_eq!(
            evaluate(
                &docs,
                "kinesis:PutRecords",
                "arn:aws:kinesis:us-east-1:1:stream/secret"
            ),
            Decision::ImplicitlyDenied
        );
        let conditional = policy(
            json!({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}),
        );
        assert_eq!(
            evaluate(&conditional, "kinesis:PutRecords", STREAM),
            Decision::ImplicitlyDenied
        );
    }

    #[test]
    fn managed_policies_and_messages() {
        let full = aws_managed_policy("arn:aws:iam::aws:policy/AmazonKinesisFullAccess")
            .into_iter()
            .collect::<Vec<_>>();
        assert_eq!(evaluate(&full, "kinesis:PutRecords", STREAM), Decision::Allowed);
        let read = aws_managed_policy("arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole")
            .into_iter()
            .collect::<Vec<_>>();
        assert_eq!(evaluate(&read, "kinesis:GetRecords", STREAM), Decision::Allowed);
        assert_eq!(
            evaluate(&read, "kinesis:PutRecords", STREAM),
            Decision::ImplicitlyDenied
        );
        assert!(aws_managed_policy("arn:aws:iam::aws:policy/SomethingElse").is_none());
        let principal = api_gateway_session_arn("arn:aws:iam::000000000000:role/app/api");
        assert_eq!(
            principal,
            "arn:aws:sts::000000000000:assumed-role/api/BackplaneAssumeRoleSession"
        );
        assert_eq!(
            denial_message(
                &principal,
                "kinesis:PutRecords",
                STREAM,
                Decision::ImplicitlyDenied
            ),
            format!(
                "User: {principal} is not authorized to perform: kinesis:PutRecords on resource: {STREAM} \
                 because no identity-based policy allows the kinesis:PutRecords action"
            )
        );
    }
}
