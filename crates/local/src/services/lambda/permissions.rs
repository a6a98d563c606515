//! Resource-based policies: `AddPermission`, `GetPolicy`, `RemovePermission`.
//!
//! A function's policy is kept in its document under [`FIELD`] (`{"RevisionId": ..,
//! "Statement": [..]}`), so it goes with the function on `DeleteFunction`; it is absent while
//! the function has no statement. `GetPolicy` answers it as AWS does, a JSON text:
//! `{"Version":"2012-10-17","Id":"default","Statement":[..]}`.
//!
//! The policy has a revision of its own, new at each change: AWS's recordings show its
//! `RevisionId` is not the function's (a policy keeps its revision while `PublishVersion`
//! changes the function's, recorded: LocalStack test_lambda_permission_fn_versioning), so
//! adding or removing a statement leaves the function's `RevisionId` as it is.
//!
//! The policy is served, not enforced: `Invoke` does not consult it.

use super::functions::function_not_found;
use super::names::{
    NameShape, check_constraints, function_name_violations, function_ref, is_account, is_region, is_word,
    qualifier_violations,
};
use super::{
    FunctionRef, body_of, conflict, function_arn, function_key, invalid, not_found, opt_bool, opt_str,
};
use crate::protocol::rest::{RestRequest, RestResponse};
use crate::services::Ctx;
use crate::store::Txn;
use crate::{AwsError, AwsResult};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Where a function's document keeps its policy.
pub(super) const FIELD: &str = "_policy";

/// The largest policy Lambda keeps, in bytes of its JSON text.
const MAX_POLICY_BYTES: usize = 20_480;

/// A function's policy as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Policy {
    #[serde(rename = "RevisionId")]
    revision_id: String,
    #[serde(rename = "Statement")]
    statements: Vec<Value>,
}

impl Policy {
    /// The policy document, as `GetPolicy` gives it and as its size is measured.
    fn text(&self) -> String {
        json!({ "Version": "2012-10-17", "Id": "default", "Statement": self.statements }).to_string()
    }
}

// ---- operations ----

/// `AddPermission`: 201 with the new statement, as JSON text.
pub(super) fn add(ctx: &Ctx<'_>, req: &RestRequest, raw: &str) -> AwsResult<RestResponse> {
    let body = body_of(req)?;
    let grant = grant(&body, raw, req.query("Qualifier"))?;
    let fref = function_ref(ctx, raw, req.query("Qualifier"), NameShape::Namespaced)?;
    // Checked before the function is looked for (recorded: LocalStack
    // test_permission_exceptions, add_permission_fn_qualifier_latest).
    if fref.qualifier.as_deref() == Some("$LATEST") {
        return Err(invalid(
            "We currently do not support adding policies for $LATEST.",
        ));
    }
    let key = function_key(ctx, &fref.name);
    let resource = function_arn(ctx, &fref.name);
    let statement = ctx.store.write(|t| {
        let mut doc = function(t, ctx, &fref)?;
        if let Some(q) = &fref.qualifier {
            return Err(qualifier_not_found(ctx, &fref.name, q));
        }
        let mut policy = stored(&doc).unwrap_or_else(|| Policy {
            revision_id: String::new(),
            statements: Vec::new(),
        });
        // A policy's revision is the only one AddPermission accepts; with no policy there is
        // none to give. AWS refused the function's own RevisionId for a function without a
        // policy (inferred: LocalStack test_function_revisions_permissions, re-recorded on AWS
        // in 2025, stops right after its wrong-revision step).
        if let Some(given) = grant.revision
            && (policy.statements.is_empty() || given != policy.revision_id)
        {
            return Err(precondition_failed("GetPolicy API"));
        }
        if policy.statements.iter().any(|s| s.get("Sid").and_then(Value::as_str) == Some(grant.sid)) {
            return Err(conflict(format!(
                "The statement id ({}) provided already exists. Please provide a new statement id, or remove the existing statement.",
                grant.sid
            )));
        }
        let statement = statement(&grant, &resource)?;
        policy.statements.push(statement.clone());
        // The limit and its wording, as AWS answers past it (reported by users of AWS:
        // github.com/adobe/helix-deploy/issues/24,
        // github.com/amplify-education/serverless-log-forwarding/issues/25).
        let size = policy.text().len();
        if size > MAX_POLICY_BYTES {
            return Err(AwsError::new(
                "PolicyLengthExceededException",
                format!("The final policy size ({size}) is bigger than the limit ({MAX_POLICY_BYTES})."),
            ));
        }
        policy.revision_id = uuid::Uuid::new_v4().to_string();
        doc.insert(FIELD.into(), serde_json::to_value(&policy).unwrap_or_default());
        t.put(&key, &doc)?;
        Ok::<_, AwsError>(statement)
    })?;
    Ok(RestResponse::json(
        201,
        json!({ "Statement": statement.to_string() }),
    ))
}

/// `GetPolicy`: the policy as JSON text and its revision.
///
/// Whatever is missing — the function, the version or alias, the policy — AWS answers alike
/// (recorded: LocalStack test_permission_exceptions, get_policy_fn_doesnotexist,
/// get_policy_fn_version_doesnotexist; test_remove_multi_permissions,
/// get_policy_exception_removed_all).
pub(super) fn get(ctx: &Ctx<'_>, req: &RestRequest, raw: &str) -> AwsResult<RestResponse> {
    let fref = function_ref(ctx, raw, req.query("Qualifier"), NameShape::Namespaced)?;
    let policy = ctx
        .store
        .read(|t| {
            if fref.elsewhere || !is_function_itself(&fref) {
                return Ok(None);
            }
            Ok::<_, AwsError>(t.get(&function_key(ctx, &fref.name))?.as_ref().and_then(stored))
        })?
        .ok_or_else(|| not_found("The resource you requested does not exist."))?;
    Ok(RestResponse::json(
        200,
        json!({ "Policy": policy.text(), "RevisionId": policy.revision_id }),
    ))
}

/// `RemovePermission`: 204. The policy goes when its last statement does.
pub(super) fn remove(ctx: &Ctx<'_>, req: &RestRequest, raw: &str, sid: &str) -> AwsResult<RestResponse> {
    let qualifier = req.query("Qualifier");
    let mut failures = function_name_violations(raw, NameShape::Namespaced);
    failures.extend(NAMESPACED_STATEMENT_ID.violations(sid));
    if let Some(q) = qualifier {
        failures.extend(qualifier_violations(q));
    }
    check_constraints(&failures)?;
    let fref = function_ref(ctx, raw, qualifier, NameShape::Namespaced)?;
    let revision = req.query("RevisionId");
    let key = function_key(ctx, &fref.name);
    ctx.store.write(|t| {
        // A missing function is a missing policy, named by the function's ARN (recorded:
        // LocalStack test_permission_exceptions, remove_permission_fn_doesnotexist).
        let mut doc = t
            .get::<Map<String, Value>>(&key)?
            .filter(|_| !fref.elsewhere)
            .ok_or_else(|| not_found(format!("No policy found for: {}", function_arn(ctx, &fref.name))))?;
        if !is_function_itself(&fref) {
            return Err(qualifier_not_found(
                ctx,
                &fref.name,
                fref.qualifier.as_deref().unwrap_or_default(),
            ));
        }
        let mut policy =
            stored(&doc).ok_or_else(|| not_found("No policy is associated with the given resource."))?;
        let index = policy
            .statements
            .iter()
            .position(|s| s.get("Sid").and_then(Value::as_str) == Some(sid))
            .ok_or_else(|| not_found(format!("Statement {sid} is not found in resource policy.")))?;
        if revision.is_some_and(|r| r != policy.revision_id) {
            // Worded as recorded for RemovePermission (LocalStack test_lambda_permission_revisions,
            // 2022); AddPermission's has since been reworded to name GetPolicy.
            return Err(precondition_failed("GetFunction/GetAlias API"));
        }
        policy.statements.remove(index);
        if policy.statements.is_empty() {
            doc.remove(FIELD);
        } else {
            policy.revision_id = uuid::Uuid::new_v4().to_string();
            doc.insert(FIELD.into(), serde_json::to_value(&policy).unwrap_or_default());
        }
        t.put(&key, &doc)?;
        Ok::<_, AwsError>(())
    })?;
    Ok(RestResponse::empty(204))
}

// ---- the function and its policy ----

/// The document of the function `fref` names, qualifier aside; a missing one is named
/// without its qualifier (recorded: LocalStack test_permission_exceptions,
/// add_permission_fn_doesnotexist).
fn function(txn: &Txn<'_>, ctx: &Ctx<'_>, fref: &FunctionRef) -> AwsResult<Map<String, Value>> {
    let unqualified = FunctionRef {
        qualifier: None,
        ..fref.clone()
    };
    if fref.elsewhere {
        return Err(function_not_found(ctx, &unqualified));
    }
    txn.get(&function_key(ctx, &fref.name))?
        .ok_or_else(|| function_not_found(ctx, &unqualified))
}

/// Whether `fref` names the function's own policy: no qualifier, or `$LATEST` (its policy is
/// the function's; AddPermission refuses it by name).
fn is_function_itself(fref: &FunctionRef) -> bool {
    fref.qualifier.as_deref().is_none_or(|q| q == "$LATEST")
}

/// A version or alias that does not exist (none do here): a qualifier that could name an
/// alias is a missing alias, any other a missing version (recorded: LocalStack
/// test_permission_exceptions, add_permission_fn_alias_doesnotexist,
/// add_permission_fn_version_doesnotexist, add_permission_fn_qualifier_valid_doesnotexist).
fn qualifier_not_found(ctx: &Ctx<'_>, name: &str, qualifier: &str) -> AwsError {
    let arn = format!("{}:{qualifier}", function_arn(ctx, name));
    // An alias name is `(?!^[0-9]+$)([a-zA-Z0-9-_]+)`.
    if is_word(qualifier) && !qualifier.bytes().all(|b| b.is_ascii_digit()) {
        not_found(format!("Cannot find alias arn: {arn}"))
    } else {
        not_found(format!("Function not found: {arn}"))
    }
}

fn stored(doc: &Map<String, Value>) -> Option<Policy> {
    doc.get(FIELD)
        .and_then(|p| serde_json::from_value::<Policy>(p.clone()).ok())
        .filter(|p| !p.statements.is_empty())
}

/// `PreconditionFailedException` (412), naming the API that gives the current revision.
fn precondition_failed(api: &str) -> AwsError {
    AwsError::new(
        "PreconditionFailedException",
        format!(
            "The Revision Id provided does not match the latest Revision Id. Call the {api} to retrieve the latest Revision Id"
        ),
    )
    .status(412)
}

// ---- the statement ----

/// What an `AddPermission` request asks for, its members checked against the model.
struct Grant<'a> {
    sid: &'a str,
    action: &'a str,
    principal: &'a str,
    source_arn: Option<&'a str>,
    source_account: Option<&'a str>,
    event_source_token: Option<&'a str>,
    principal_org_id: Option<&'a str>,
    url_auth_type: Option<&'a str>,
    via_url: bool,
    revision: Option<&'a str>,
}

/// Reads an `AddPermission` body. The front end reports every broken constraint at once, the
/// function's name and the `Qualifier` parameter with the members, in the model's order.
fn grant<'a>(body: &'a Value, raw_name: &str, qualifier: Option<&str>) -> AwsResult<Grant<'a>> {
    let mut failures = function_name_violations(raw_name, NameShape::Namespaced);
    let mut required = |member: &str, constraint: &Constraint| -> AwsResult<&'a str> {
        let value = opt_str(body, member)?;
        match value {
            Some(v) => failures.extend(constraint.violations(v)),
            None => failures.push(format!(
                "Value null at '{}' failed to satisfy constraint: Member must not be null",
                constraint.path
            )),
        }
        Ok(value.unwrap_or_default())
    };
    let sid = required("StatementId", &STATEMENT_ID)?;
    let action = required("Action", &ACTION)?;
    let principal = required("Principal", &PRINCIPAL)?;
    let mut optional = |member: &str, constraint: &Constraint| -> AwsResult<Option<&'a str>> {
        let value = opt_str(body, member)?;
        if let Some(v) = value {
            failures.extend(constraint.violations(v));
        }
        Ok(value)
    };
    let source_arn = optional("SourceArn", &SOURCE_ARN)?;
    let source_account = optional("SourceAccount", &SOURCE_ACCOUNT)?;
    let event_source_token = optional("EventSourceToken", &EVENT_SOURCE_TOKEN)?;
    let principal_org_id = optional("PrincipalOrgID", &PRINCIPAL_ORG_ID)?;
    if let Some(q) = qualifier {
        failures.extend(qualifier_violations(q));
    }
    let url_auth_type = opt_str(body, "FunctionUrlAuthType")?;
    if let Some(t) = url_auth_type.filter(|t| *t != "NONE" && *t != "AWS_IAM") {
        failures.push(format!(
            "Value '{t}' at 'functionUrlAuthType' failed to satisfy constraint: Member must satisfy enum value set: [NONE, AWS_IAM]"
        ));
    }
    check_constraints(&failures)?;
    Ok(Grant {
        sid,
        action,
        principal,
        source_arn,
        source_account,
        event_source_token,
        principal_org_id,
        url_auth_type,
        via_url: opt_bool(body, "InvokedViaFunctionUrl")?.unwrap_or(false),
        revision: opt_str(body, "RevisionId")?,
    })
}

/// The statement AWS writes for `grant` on `resource`, members in AWS's order (recorded:
/// LocalStack test_add_lambda_permission_fields, test_add_lambda_permission_aws).
fn statement(grant: &Grant<'_>, resource: &str) -> AwsResult<Value> {
    let mut statement = json!({
        "Sid": grant.sid,
        "Effect": "Allow",
        "Principal": principal(grant.principal)?,
        "Action": grant.action,
        "Resource": resource,
    });
    if let Some(condition) = condition(grant) {
        statement["Condition"] = condition;
    }
    Ok(statement)
}

/// The statement's `Principal`: `*` as is, an account as its root, a service by name, an IAM
/// ARN as given; anything else is refused (recorded: LocalStack test_add_lambda_permission_fields,
/// test_permission_exceptions add_permission_principal_invalid). Services are told by their
/// domain: `*.amazonaws.com`, and `*.amazon.com` for Alexa's (`alexa-appkit.amazon.com`, as
/// AWS's Alexa documentation gives it); AWS also refuses unknown services of those domains,
/// which this does not.
fn principal(given: &str) -> AwsResult<Value> {
    if given == "*" {
        return Ok(json!("*"));
    }
    if is_account(given) {
        return Ok(json!({ "AWS": format!("arn:aws:iam::{given}:root") }));
    }
    let service = [".amazonaws.com", ".amazon.com"].iter().any(|domain| {
        given.strip_suffix(domain).is_some_and(|host| {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b))
        })
    });
    if service {
        return Ok(json!({ "Service": given }));
    }
    if is_iam_arn(given) {
        return Ok(json!({ "AWS": given }));
    }
    Err(invalid(
        "The provided principal was invalid. Please check the principal and try again.",
    ))
}

/// `arn:aws…:iam::<account>:<resource>`: a role, a user, an account's root.
fn is_iam_arn(s: &str) -> bool {
    matches!(
        s.splitn(6, ':').collect::<Vec<_>>().as_slice(),
        ["arn", partition, "iam", "", account, resource]
            if partition.starts_with("aws") && is_account(account) && !resource.is_empty()
    )
}

/// The statement's `Condition`: `StringEquals` on the source account, the URL auth type, the
/// organization and the event source token, `ArnLike` on the source ARN (recorded: LocalStack
/// test_add_lambda_permission_fields, add_permission_optional_fields and
/// add_permission_alexa_skill). `InvokedViaFunctionUrl` adds the `Bool` condition AWS's
/// function URL documentation shows (`"lambda:InvokedViaFunctionUrl": "true"`); no recording
/// has it.
fn condition(grant: &Grant<'_>) -> Option<Value> {
    let string_equals: Map<String, Value> = [
        ("AWS:SourceAccount", grant.source_account),
        ("lambda:FunctionUrlAuthType", grant.url_auth_type),
        ("aws:PrincipalOrgID", grant.principal_org_id),
        ("lambda:EventSourceToken", grant.event_source_token),
    ]
    .into_iter()
    .filter_map(|(key, value)| value.map(|v| (key.to_owned(), json!(v))))
    .collect();
    let mut condition = Map::new();
    if !string_equals.is_empty() {
        condition.insert("StringEquals".into(), Value::Object(string_equals));
    }
    if let Some(arn) = grant.source_arn {
        condition.insert("ArnLike".into(), json!({ "AWS:SourceArn": arn }));
    }
    if grant.via_url {
        condition.insert("Bool".into(), json!({ "lambda:InvokedViaFunctionUrl": "true" }));
    }
    (!condition.is_empty()).then_some(Value::Object(condition))
}

// ---- model constraints ----

/// A string member's constraints in Lambda's model (botocore `lambda/2015-03-31`).
struct Constraint {
    /// The member as the front end names it.
    path: &'static str,
    min: usize,
    max: usize,
    /// The expression the front end quotes.
    pattern: &'static str,
    matches: fn(&str) -> bool,
}

impl Constraint {
    /// What `value` breaks, worded as the front end words it (recorded: LocalStack
    /// test_permission_exceptions, add_permission_invalid_statement_id).
    fn violations(&self, value: &str) -> Vec<String> {
        let at = format!(
            "Value '{value}' at '{}' failed to satisfy constraint: Member must",
            self.path
        );
        let mut out = Vec::new();
        let length = value.chars().count();
        if length < self.min {
            out.push(format!("{at} have length greater than or equal to {}", self.min));
        } else if length > self.max {
            out.push(format!("{at} have length less than or equal to {}", self.max));
        }
        if !(self.matches)(value) {
            out.push(format!(
                "{at} satisfy regular expression pattern: {}",
                self.pattern
            ));
        }
        out
    }
}

/// `StatementId`, as AddPermission takes it.
const STATEMENT_ID: Constraint = Constraint {
    path: "statementId",
    min: 1,
    max: 100,
    pattern: "([a-zA-Z0-9-_]+)",
    matches: is_word,
};

/// `NamespacedStatementId`, as RemovePermission takes it: dots allowed.
const NAMESPACED_STATEMENT_ID: Constraint = Constraint {
    path: "statementId",
    min: 1,
    max: 100,
    pattern: "([a-zA-Z0-9-_.]+)",
    matches: is_namespaced_statement_id,
};

const ACTION: Constraint = Constraint {
    path: "action",
    min: 0,
    max: 10_000,
    pattern: "(lambda:[*]|lambda:[a-zA-Z]+|[*])",
    matches: is_action,
};

const PRINCIPAL: Constraint = Constraint {
    path: "principal",
    min: 0,
    max: 2048,
    pattern: r"[^\s]+",
    matches: is_non_blank,
};

const SOURCE_ARN: Constraint = Constraint {
    path: "sourceArn",
    min: 0,
    max: 10_000,
    pattern: r"arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)",
    matches: is_source_arn,
};

const SOURCE_ACCOUNT: Constraint = Constraint {
    path: "sourceAccount",
    min: 0,
    max: 12,
    pattern: r"\d{12}",
    matches: is_account,
};

const EVENT_SOURCE_TOKEN: Constraint = Constraint {
    path: "eventSourceToken",
    min: 0,
    max: 256,
    pattern: r"[a-zA-Z0-9._\-]+",
    matches: is_event_source_token,
};

const PRINCIPAL_ORG_ID: Constraint = Constraint {
    path: "principalOrgID",
    min: 12,
    max: 34,
    pattern: "o-[a-z0-9]{10,32}",
    matches: is_org_id,
};

/// `[a-zA-Z0-9-_.]+`.
fn is_namespaced_statement_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// `lambda:[*]|lambda:[a-zA-Z]+|[*]`.
fn is_action(s: &str) -> bool {
    s == "*"
        || s.strip_prefix("lambda:")
            .is_some_and(|a| a == "*" || (!a.is_empty() && a.bytes().all(|b| b.is_ascii_alphabetic())))
}

/// `[^\s]+`.
fn is_non_blank(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(char::is_whitespace)
}

/// `arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:(region)?:(\d{12})?:(.*)`.
fn is_source_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let ["arn", partition, service, region, account, _rest] = parts.as_slice() else {
        return false;
    };
    partition
        .strip_prefix("aws")
        .is_some_and(|p| p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        && !service.is_empty()
        && service.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && (region.is_empty() || is_region(region))
        && (account.is_empty() || is_account(account))
}

/// `[a-zA-Z0-9._\-]+`.
fn is_event_source_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// `o-[a-z0-9]{10,32}`.
fn is_org_id(s: &str) -> bool {
    s.strip_prefix("o-").is_some_and(|id| {
        (10..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_read_as_aws_writes_them() {
        assert_eq!(principal("*").ok(), Some(json!("*")));
        assert_eq!(
            principal("123456789012").ok(),
            Some(json!({ "AWS": "arn:aws:iam::123456789012:root" }))
        );
        assert_eq!(
            principal("s3.amazonaws.com").ok(),
            Some(json!({ "Service": "s3.amazonaws.com" }))
        );
        assert_eq!(
            principal("arn:aws:iam::123456789012:user/u").ok(),
            Some(json!({ "AWS": "arn:aws:iam::123456789012:user/u" }))
        );
        for bad in ["invalid.nonaws.com", ".amazonaws.com", "12345", "arn:aws:s3:::b"] {
            assert!(principal(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn members_follow_their_model_patterns() {
        assert!(STATEMENT_ID.violations("s3_2-x").is_empty());
        assert_eq!(STATEMENT_ID.violations("example.com").len(), 1);
        assert!(NAMESPACED_STATEMENT_ID.violations("example.com").is_empty());
        assert_eq!(STATEMENT_ID.violations("").len(), 2);
        for ok in ["lambda:InvokeFunction", "lambda:*", "*"] {
            assert!(is_action(ok), "{ok}");
        }
        for bad in ["lambda:", "s3:GetObject", "lambda:Invoke1"] {
            assert!(!is_action(bad), "{bad}");
        }
        assert!(is_source_arn("arn:aws:s3:::test-bucket"));
        assert!(is_source_arn(
            "arn:aws:execute-api:us-east-1:123456789012:abc/*/GET/x:y"
        ));
        assert!(!is_source_arn("arn:aws:s3::bucket"));
        assert!(!is_source_arn("arn:aws:s3:nowhere::b"));
        assert!(is_org_id("o-1234567890"));
        assert!(!is_org_id("o-123"));
    }

    #[test]
    fn conditions_group_as_aws_groups_them() {
        let grant = Grant {
            sid: "s",
            action: "lambda:InvokeFunctionUrl",
            principal: "*",
            source_arn: Some("arn:aws:s3:::b"),
            source_account: Some("123456789012"),
            event_source_token: None,
            principal_org_id: Some("o-1234567890"),
            url_auth_type: Some("NONE"),
            via_url: false,
            revision: None,
        };
        assert_eq!(
            condition(&grant),
            Some(json!({
                "StringEquals": {
                    "AWS:SourceAccount": "123456789012",
                    "lambda:FunctionUrlAuthType": "NONE",
                    "aws:PrincipalOrgID": "o-1234567890",
                },
                "ArnLike": { "AWS:SourceArn": "arn:aws:s3:::b" },
            }))
        );
        let bare = Grant {
            source_arn: None,
            source_account: None,
            principal_org_id: None,
            url_auth_type: None,
            ..grant
        };
        assert_eq!(condition(&bare), None);
    }
}
