//! Inline policies and managed policy attachments.

use super::validate::{
    Page, is_name_char, policy_size, truncation_xml, url_encode, validate_name, validate_permission_policy,
    validation,
};
use super::{Ctx, existing_role, modify_role};
use crate::protocol::query::{Params, Xml};
use crate::store::{StoreError, Txn};
use crate::{AwsError, AwsResult};

/// Managed policies attached per role (IAM default quota).
const MAX_ATTACHED: usize = 10;
/// Aggregate inline policy size per role, whitespace excluded (IAM quota).
const MAX_INLINE_BYTES: usize = 10_240;

pub(super) fn put_role_policy(ctx: &Ctx<'_>, params: &Params) -> AwsResult<String> {
    let name = params.required("RoleName")?;
    validate_name(name, "roleName", 64)?;
    let policy_name = params.required("PolicyName")?;
    validate_name(policy_name, "policyName", 128)?;
    let document = params.required("PolicyDocument")?;
    validate_permission_policy(document)?;
    modify_role(ctx, name, |role| {
        role.inline_policies
            .insert(policy_name.to_owned(), document.to_owned());
        let total: usize = role.inline_policies.values().map(|d| policy_size(d)).sum();
        if total > MAX_INLINE_BYTES {
            return Err(AwsError::new(
                "LimitExceeded",
                format!(
                    "Maximum policy size of {MAX_INLINE_BYTES} bytes exceeded for role {}",
                    role.role_name
                ),
            )
            .status(409));
        }
        Ok(String::new())
    })
}

pub(super) fn get_role_policy(ctx: &Ctx<'_>, params: &Params) -> AwsResult<String> {
    let name = params.required("RoleName")?;
    validate_name(name, "roleName", 64)?;
    let policy_name = params.required("PolicyName")?;
    validate_name(policy_name, "policyName", 128)?;
    let (_, role) = ctx.store.read(|txn| existing_role(txn, ctx, name))?;
    let document = role
        .inline_policies
        .get(policy_name)
        .ok_or_else(|| no_such_role_policy(policy_name))?;
    let mut x = Xml::new();
    x.elem("RoleName", &role.role_name)
        .elem("PolicyName", policy_name)
        .elem("PolicyDocument", url_encode(document));
    Ok(x.into_string())
}

pub(super) fn delete_role_policy(ctx: &Ctx<'_>, params: &Params) -> AwsResult<String> {
    let name = params.required("RoleName")?;
    validate_name(name, "roleName", 64)?;
    let policy_name = params.required("PolicyName")?;
    validate_name(policy_name, "policyName", 128)?;
    modify_role(ctx, name, |role| {
        role.inline_policies
            .remove(policy_name)
            .ok_or_else(|| no_such_role_policy(policy_name))?;
        Ok(String::new())
    })
}

pub(super) fn list_role_policies(ctx: &Ctx<'_>, params: &Params) -> AwsResult<String> {
    let name = params.required("RoleName")?;
    validate_name(name, "roleName", 64)?;
    let page = Page::of(params)?;
    let (_, role) = ctx.store.read(|txn| existing_role(txn, ctx, name))?;
    let names: Vec<String> = role.inline_policies.into_keys().collect();
    let (names, marker) = page.slice(names, Clone::clone);
    let mut x = Xml::new();
    x.wrap("PolicyNames", |list| {
        for n in &names {
            list.elem("member", n);
        }
    });
    truncation_xml(&mut x, marker);
    Ok(x.into_string())
}

fn no_such_role_policy(policy_name: &str) -> AwsError {
    AwsError::new(
        "NoSuchEntity",
        format!("The role policy with name {policy_name} cannot be found."),
    )
    .status(404)
}

// ---------------------------------------------------------------------------------------
// Managed policy attachments
// ---------------------------------------------------------------------------------------

/// AWS managed policies that live under a path other than `/`. Attaching one of these names
/// at the wrong path (a common slip: `policy/AWSLambdaKinesisExecutionRole`) fails in AWS,
/// so it fails here too.
const MANAGED_POLICY_PATHS: &[(&str, &str)] = &[
    ("AWSLambdaBasicExecutionRole", "/service-role/"),
    ("AWSLambdaKinesisExecutionRole", "/service-role/"),
    ("AWSLambdaDynamoDBExecutionRole", "/service-role/"),
    ("AWSLambdaSQSQueueExecutionRole", "/service-role/"),
    ("AWSLambdaVPCAccessExecutionRole", "/service-role/"),
    ("AWSLambdaRole", "/service-role/"),
    ("AmazonAPIGatewayPushToCloudWatchLogs", "/service-role/"),
    ("AmazonPersonalizeFullAccess", "/"),
    ("AmazonKinesisFullAccess", "/"),
    ("AmazonKinesisReadOnlyAccess", "/"),
    ("CloudWatchFullAccess", "/"),
    ("CloudWatchLogsFullAccess", "/"),
    ("AWSLambdaExecute", "/"),
    ("AWSLambda_FullAccess", "/"),
    ("AmazonS3FullAccess", "/"),
    ("AmazonS3ReadOnlyAccess", "/"),
    ("AdministratorAccess", "/"),
];

/// A parsed policy ARN: `arn:aws:iam::{aws|account}:policy{path}{name}`.
struct PolicyArn<'a> {
    owner: &'a str,
    path: &'a str,
    name: &'a str,
}

fn parse_policy_arn(arn: &str) -> Option<PolicyArn<'_>> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (owner, resource) = rest.split_once(':')?;
    let owner_ok = owner == "aws" || (owner.len() == 12 && owner.bytes().all(|b| b.is_ascii_digit()));
    let path_and_name = resource.strip_prefix("policy")?;
    let split = path_and_name.rfind('/')?;
    let (path, name) = (&path_and_name[..=split], &path_and_name[split + 1..]);
    let name_ok = !name.is_empty() && name.chars().all(is_name_char);
    (owner_ok && name_ok && path.starts_with('/')).then_some(PolicyArn { owner, path, name })
}

fn validate_policy_arn(arn: &str) -> AwsResult<PolicyArn<'_>> {
    if arn.len() < 20 || arn.len() > 2048 {
        return Err(validation(
            arn,
            "policyArn",
            "Member must have length greater than or equal to 20",
        ));
    }
    // Text that is no ARN at all (a policy's name, say) fails parsing before any check of what
    // the ARN names; AWS's message has the two spaces (recorded: LocalStack
    // test_role_attach_policy).
    if !arn.starts_with("arn:") {
        return Err(AwsError::new(
            "ValidationError",
            "Invalid ARN:  Could not be parsed!",
        ));
    }
    parse_policy_arn(arn).ok_or_else(|| AwsError::new("InvalidInput", format!("ARN {arn} is not valid.")))
}

/// Whether the policy exists: any well-formed AWS managed ARN (except a known policy at the
/// wrong path), or a customer managed policy stored in the caller's account.
fn policy_exists(txn: &Txn<'_>, ctx: &Ctx<'_>, arn: &PolicyArn<'_>) -> Result<bool, StoreError> {
    if arn.owner == "aws" {
        let known_path = MANAGED_POLICY_PATHS
            .iter()
            .find(|(n, _)| *n == arn.name)
            .map(|(_, p)| *p);
        return Ok(known_path.is_none_or(|p| p == arn.path));
    }
    if arn.owner != ctx.account() {
        return Ok(false);
    }
    txn.contains(&ctx.global_key("iam", "policy", arn.name))
}

pub(super) fn attach_role_policy(ctx: &Ctx<'_>, params: &Params) -> AwsResult<String> {
    let name = params.required("RoleName")?;
    validate_name(name, "roleName", 64)?;
    let arn = params.required("PolicyArn")?;
    let parsed = validate_policy_arn(arn)?;
    ctx.store.write(|txn| {
        let (key, mut role) = existing_role(txn, ctx, name)?;
        if !policy_exists(txn, ctx, &parsed)? {
            return Err(AwsError::new(
                "NoSuchEntity",
                format!("Policy {arn} does not exist or is not attachable."),
            )
            .status(404));
        }
        if role.attached_policies.iter().any(|a| a == arn) {
            return Ok(String::new());
        }
        if role.attached_policies.len() >= MAX_ATTACHED {
            return Err(AwsError::new(
                "LimitExceeded",
                format!("Cannot exceed quota for PoliciesPerRole: {MAX_ATTACHED}"),
            )
            .status(409));
        }
        role.attached_policies.push(arn.to_owned());
        txn.put(&key, &role)?;
        Ok(String::new())
    })
}

pub(super) fn detach_role_policy(ctx: &Ctx<'_>, params: &Params) -> AwsResult<String> {
    let name = params.required("RoleName")?;
    validate_name(name, "roleName", 64)?;
    let arn = params.required("PolicyArn")?;
    validate_policy_arn(arn)?;
    modify_role(ctx, name, |role| {
        let before = role.attached_policies.len();
        role.attached_policies.retain(|a| a != arn);
        if role.attached_policies.len() == before {
            return Err(AwsError::new("NoSuchEntity", format!("Policy {arn} was not found.")).status(404));
        }
        Ok(String::new())
    })
}

/// Fails unless `arn` names a managed policy that can be a permissions boundary.
pub(super) fn check_boundary(txn: &Txn<'_>, ctx: &Ctx<'_>, arn: &str) -> AwsResult<()> {
    let parsed = validate_policy_arn(arn)?;
    if !policy_exists(txn, ctx, &parsed)? {
        return Err(AwsError::new(
            "NoSuchEntity",
            format!("Scope ARN: {arn} does not exist or is not attachable."),
        )
        .status(404));
    }
    Ok(())
}

pub(super) fn put_role_permissions_boundary(ctx: &Ctx<'_>, params: &Params) -> AwsResult<String> {
    let name = params.required("RoleName")?;
    validate_name(name, "roleName", 64)?;
    let arn = params.required("PermissionsBoundary")?;
    ctx.store.write(|txn| {
        check_boundary(txn, ctx, arn)?;
        let (key, mut role) = existing_role(txn, ctx, name)?;
        role.permissions_boundary = Some(arn.to_owned());
        txn.put(&key, &role)?;
        Ok(String::new())
    })
}

pub(super) fn delete_role_permissions_boundary(ctx: &Ctx<'_>, params: &Params) -> AwsResult<String> {
    let name = params.required("RoleName")?;
    validate_name(name, "roleName", 64)?;
    modify_role(ctx, name, |role| {
        // IAM answers NoSuchEntity when the role has no boundary to delete.
        role.permissions_boundary.take().ok_or_else(|| {
            AwsError::new(
                "NoSuchEntity",
                format!("The role with name {name} does not have a permissions boundary."),
            )
            .status(404)
        })?;
        Ok(String::new())
    })
}

pub(super) fn list_attached_role_policies(ctx: &Ctx<'_>, params: &Params) -> AwsResult<String> {
    let name = params.required("RoleName")?;
    validate_name(name, "roleName", 64)?;
    let path_prefix = params.get("PathPrefix").unwrap_or("/");
    let page = Page::of(params)?;
    let (_, role) = ctx.store.read(|txn| existing_role(txn, ctx, name))?;
    let attached: Vec<(String, String)> = role
        .attached_policies
        .iter()
        .filter_map(|arn| {
            let parsed = parse_policy_arn(arn)?;
            parsed
                .path
                .starts_with(path_prefix)
                .then(|| (parsed.name.to_owned(), arn.clone()))
        })
        .collect();
    let (attached, marker) = page.slice(attached, |(_, arn)| arn.clone());
    let mut x = Xml::new();
    x.wrap("AttachedPolicies", |list| {
        for (policy_name, arn) in &attached {
            list.wrap("member", |m| {
                m.elem("PolicyName", policy_name).elem("PolicyArn", arn);
            });
        }
    });
    truncation_xml(&mut x, marker);
    Ok(x.into_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_arns_parse_with_paths() {
        let arn = parse_policy_arn("arn:aws:iam::aws:policy/service-role/AWSLambdaRole");
        assert!(
            arn.is_some_and(|a| a.owner == "aws" && a.path == "/service-role/" && a.name == "AWSLambdaRole")
        );
        assert!(parse_policy_arn("arn:aws:iam::aws:role/x").is_none());
        assert!(parse_policy_arn("arn:aws:iam::12:policy/x").is_none());
    }
}
