//! IAM (awsQuery). Roles are global: keys use [`Ctx::global_key`].
//!
//! A role is one document at `role_key`; its inline policies, attached managed policies and
//! tags live inside it, so deleting the role leaves no key behind. Policy documents are kept
//! as the caller sent them (decoded from the form) and returned URL-encoded, as IAM does.

mod evaluate;
mod policies;
mod tags;
mod validate;

use policies::{
    attach_role_policy, check_boundary, delete_role_permissions_boundary, delete_role_policy,
    detach_role_policy, get_role_policy, list_attached_role_policies, list_role_policies,
    put_role_permissions_boundary, put_role_policy,
};
use tags::{MAX_TAGS, list_role_tags, parse_tags, tag_role, tags_xml, too_many_tags, untag_role};
use validate::{
    Page, parse_max_session_duration, truncation_xml, unique_id_suffix, url_encode, validate_description,
    validate_name, validate_path, validate_trust_policy,
};

pub(crate) use evaluate::{Decision, api_gateway_session_arn, denial_message, role_decision};

use super::Ctx;
use crate::protocol::query::{Params, Xml};
use crate::store::{StoreError, Txn};
use crate::{AwsError, AwsResult};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The XML namespace of IAM responses.
pub const XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// Handles one IAM action; returns the inner XML of `<ActionResult>`.
///
/// # Errors
/// AWS's errors for the action.
pub fn handle(ctx: &Ctx<'_>, action: &str, params: &Params) -> AwsResult<String> {
    match action {
        "CreateRole" => create_role(ctx, params),
        "GetRole" => get_role(ctx, params),
        "ListRoles" => list_roles(ctx, params),
        "DeleteRole" => delete_role(ctx, params),
        "UpdateAssumeRolePolicy" => update_assume_role_policy(ctx, params),
        "UpdateRole" => update_role(ctx, params),
        "PutRolePermissionsBoundary" => put_role_permissions_boundary(ctx, params),
        "DeleteRolePermissionsBoundary" => delete_role_permissions_boundary(ctx, params),
        "TagRole" => tag_role(ctx, params),
        "UntagRole" => untag_role(ctx, params),
        "ListRoleTags" => list_role_tags(ctx, params),
        "PutRolePolicy" => put_role_policy(ctx, params),
        "GetRolePolicy" => get_role_policy(ctx, params),
        "DeleteRolePolicy" => delete_role_policy(ctx, params),
        "ListRolePolicies" => list_role_policies(ctx, params),
        "AttachRolePolicy" => attach_role_policy(ctx, params),
        "DetachRolePolicy" => detach_role_policy(ctx, params),
        "ListAttachedRolePolicies" => list_attached_role_policies(ctx, params),
        _ => Err(AwsError::new(
            "InvalidAction",
            format!("Could not find operation {action} for version 2010-05-08"),
        )),
    }
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

// ---------------------------------------------------------------------------------------
// The stored role
// ---------------------------------------------------------------------------------------

/// A role as stored. Field names are IAM's (PascalCase) so the document reads like the API;
/// `created_ms` is the one internal field [`role_for_service`] relies on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Role {
    role_name: String,
    role_id: String,
    arn: String,
    path: String,
    /// The trust policy as sent (form-decoded JSON text).
    assume_role_policy_document: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    max_session_duration: u32,
    /// ARN of the permissions boundary policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    permissions_boundary: Option<String>,
    #[serde(rename = "created_ms")]
    created_ms: u64,
    #[serde(default)]
    tags: Vec<Tag>,
    /// Inline policies by name (sorted, as ListRolePolicies returns them).
    #[serde(default)]
    inline_policies: BTreeMap<String, String>,
    /// Attached managed policy ARNs, in attachment order.
    #[serde(default)]
    attached_policies: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: String,
    value: String,
}

/// Finds a role by name. IAM role names are case-insensitive: `MyRole` and `myrole` are the
/// same role, stored under the name it was created with.
fn find_role(txn: &Txn<'_>, ctx: &Ctx<'_>, name: &str) -> Result<Option<(String, Role)>, StoreError> {
    let exact = role_key(ctx.account(), name);
    if let Some(role) = txn.get::<Role>(&exact)? {
        return Ok(Some((exact, role)));
    }
    let wanted = name.to_lowercase();
    let prefix = ctx.global_prefix("iam", "role");
    for key in txn.keys(&prefix)? {
        let stored = super::unescape_id(&key[prefix.len()..]);
        if stored.to_lowercase() == wanted
            && let Some(role) = txn.get::<Role>(&key)?
        {
            return Ok(Some((key, role)));
        }
    }
    Ok(None)
}

fn no_such_role(name: &str) -> AwsError {
    AwsError::new(
        "NoSuchEntity",
        format!("The role with name {name} cannot be found."),
    )
    .status(404)
}

/// Loads a role or fails with `NoSuchEntity`.
fn existing_role(txn: &Txn<'_>, ctx: &Ctx<'_>, name: &str) -> AwsResult<(String, Role)> {
    find_role(txn, ctx, name)?.ok_or_else(|| no_such_role(name))
}

/// Reads a role, applies `change`, stores it; returns `change`'s value.
fn modify_role<T>(ctx: &Ctx<'_>, name: &str, change: impl FnOnce(&mut Role) -> AwsResult<T>) -> AwsResult<T> {
    ctx.store.write(|txn| {
        let (key, mut role) = existing_role(txn, ctx, name)?;
        let out = change(&mut role)?;
        txn.put(&key, &role)?;
        Ok(out)
    })
}

// ---------------------------------------------------------------------------------------
// Roles
// ---------------------------------------------------------------------------------------

fn create_role(ctx: &Ctx<'_>, params: &Params) -> AwsResult<String> {
    let name = params.required("RoleName")?;
    validate_name(name, "roleName", 64)?;
    let path = params.get("Path").unwrap_or("/");
    validate_path(path)?;
    let trust = params.required("AssumeRolePolicyDocument")?;
    validate_trust_policy(trust)?;
    let description = params.get("Description");
    if let Some(d) = description {
        validate_description(d)?;
    }
    let max_session_duration = parse_max_session_duration(params.get("MaxSessionDuration"))?;
    let tags = parse_tags(params)?;
    if tags.len() > MAX_TAGS {
        return Err(too_many_tags());
    }
    let permissions_boundary = params.get("PermissionsBoundary");
    let role = Role {
        role_name: name.to_owned(),
        role_id: format!("AROA{}", unique_id_suffix()),
        arn: format!("arn:aws:iam::{}:role{path}{name}", ctx.account()),
        path: path.to_owned(),
        assume_role_policy_document: trust.to_owned(),
        description: description.map(str::to_owned),
        max_session_duration,
        permissions_boundary: permissions_boundary.map(str::to_owned),
        created_ms: ctx.now_ms,
        tags,
        inline_policies: BTreeMap::new(),
        attached_policies: Vec::new(),
    };
    ctx.store.write(|txn| {
        if let Some(boundary) = permissions_boundary {
            check_boundary(txn, ctx, boundary)?;
        }
        if find_role(txn, ctx, name)?.is_some() {
            return Err(AwsError::new(
                "EntityAlreadyExists",
                format!("Role with name {name} already exists."),
            )
            .status(409));
        }
        txn.put(&role_key(ctx.account(), name), &role)?;
        Ok::<_, AwsError>(())
    })?;
    let mut x = Xml::new();
    x.wrap("Role", |r| role_xml(r, &role, RoleView::Created));
    Ok(x.into_string())
}

fn get_role(ctx: &Ctx<'_>, params: &Params) -> AwsResult<String> {
    let name = params.required("RoleName")?;
    validate_name(name, "roleName", 64)?;
    let (_, role) = ctx.store.read(|txn| existing_role(txn, ctx, name))?;
    let mut x = Xml::new();
    x.wrap("Role", |r| role_xml(r, &role, RoleView::Full));
    Ok(x.into_string())
}

fn list_roles(ctx: &Ctx<'_>, params: &Params) -> AwsResult<String> {
    let path_prefix = params.get("PathPrefix").unwrap_or("/");
    let page = Page::of(params)?;
    let prefix = ctx.global_prefix("iam", "role");
    let mut roles: Vec<Role> = ctx
        .store
        .read(|txn| txn.list::<Role>(&prefix))?
        .into_iter()
        .map(|(_, r)| r)
        .filter(|r| r.path.starts_with(path_prefix))
        .collect();
    roles.sort_by(|a, b| a.role_name.cmp(&b.role_name));
    let (roles, marker) = page.slice(roles, |r| r.role_name.clone());
    let mut x = Xml::new();
    x.wrap("Roles", |list| {
        for role in &roles {
            list.wrap("member", |r| role_xml(r, role, RoleView::Listed));
        }
    });
    truncation_xml(&mut x, marker);
    Ok(x.into_string())
}

fn delete_role(ctx: &Ctx<'_>, params: &Params) -> AwsResult<String> {
    let name = params.required("RoleName")?;
    validate_name(name, "roleName", 64)?;
    ctx.store.write(|txn| {
        let (key, role) = existing_role(txn, ctx, name)?;
        // IAM refuses to orphan policies: the caller must remove them first.
        if !role.inline_policies.is_empty() {
            return Err(delete_conflict(
                "Cannot delete entity, must delete policies first.",
            ));
        }
        if !role.attached_policies.is_empty() {
            return Err(delete_conflict(
                "Cannot delete entity, must detach all policies first.",
            ));
        }
        txn.delete(&key)?;
        Ok(String::new())
    })
}

fn delete_conflict(message: &str) -> AwsError {
    AwsError::new("DeleteConflict", message).status(409)
}

fn update_assume_role_policy(ctx: &Ctx<'_>, params: &Params) -> AwsResult<String> {
    let name = params.required("RoleName")?;
    validate_name(name, "roleName", 64)?;
    let document = params.required("PolicyDocument")?;
    validate_trust_policy(document)?;
    modify_role(ctx, name, |role| {
        role.assume_role_policy_document = document.to_owned();
        Ok(String::new())
    })
}

/// UpdateRole: the description and the maximum session duration (each only when given).
fn update_role(ctx: &Ctx<'_>, params: &Params) -> AwsResult<String> {
    let name = params.required("RoleName")?;
    validate_name(name, "roleName", 64)?;
    let description = params.get("Description");
    if let Some(d) = description {
        validate_description(d)?;
    }
    let max_session_duration = params
        .get("MaxSessionDuration")
        .map(|raw| parse_max_session_duration(Some(raw)))
        .transpose()?;
    modify_role(ctx, name, |role| {
        if let Some(d) = description {
            // IAM stores an empty description as none.
            role.description = (!d.is_empty()).then(|| d.to_owned());
        }
        if let Some(m) = max_session_duration {
            role.max_session_duration = m;
        }
        Ok(String::new())
    })
}

/// Which members a role's XML carries: each IAM action returns a different subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RoleView {
    /// CreateRole: tags only when given.
    Created,
    /// GetRole: everything, with `RoleLastUsed`.
    Full,
    /// ListRoles: no tags, no last use.
    Listed,
}

fn role_xml(x: &mut Xml, role: &Role, view: RoleView) {
    x.elem("Path", &role.path)
        .elem("RoleName", &role.role_name)
        .elem("RoleId", &role.role_id)
        .elem("Arn", &role.arn)
        .elem("CreateDate", super::sts::iso8601(role.created_ms))
        .elem(
            "AssumeRolePolicyDocument",
            url_encode(&role.assume_role_policy_document),
        )
        .opt("Description", role.description.as_deref());
    if view != RoleView::Created {
        x.elem("MaxSessionDuration", role.max_session_duration.to_string());
    }
    // ListRoles leaves the boundary out, as it does tags (recorded: LocalStack
    // test_list_roles_with_permission_boundary).
    if let Some(boundary) = role
        .permissions_boundary
        .as_ref()
        .filter(|_| view != RoleView::Listed)
    {
        x.wrap("PermissionsBoundary", |b| {
            b.elem("PermissionsBoundaryType", "Policy")
                .elem("PermissionsBoundaryArn", boundary);
        });
    }
    if view != RoleView::Listed && !role.tags.is_empty() {
        tags_xml(x, &role.tags);
    }
    if view == RoleView::Full {
        x.wrap("RoleLastUsed", |_| {});
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::auth::Caller;
    use crate::config::Config;
    use crate::store::Store;

    #[test]
    fn created_roles_are_usable_by_the_services_they_trust() {
        let store = Store::open(None).unwrap();
        let caller = Caller {
            access_key_id: "111122223333".to_owned(),
            account: "111122223333".to_owned(),
            region: "us-east-1".to_owned(),
            service: "iam".to_owned(),
        };
        let config = Config::default();
        let ctx = Ctx {
            caller: &caller,
            request_id: "r",
            now_ms: super::super::now_ms(),
            store: &store,
            config: &config,
        };
        let trust = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let form = format!(
            "Action=CreateRole&RoleName=fwd&Path=%2Fapp%2F&AssumeRolePolicyDocument={}",
            url_encode(trust)
        );
        handle(&ctx, "CreateRole", &Params::parse(form.as_bytes())).unwrap();
        let arn = "arn:aws:iam::111122223333:role/app/fwd";
        let access = |principal: &str, arn: &str| {
            store
                .read(|txn| role_for_service(txn, &ctx, arn, principal))
                .unwrap()
        };
        assert_eq!(access("lambda.amazonaws.com", arn), RoleAccess::Usable);
        assert_eq!(access("apigateway.amazonaws.com", arn), RoleAccess::NotTrusted);
        assert_eq!(
            access("lambda.amazonaws.com", "arn:aws:iam::111122223333:role/other"),
            RoleAccess::Missing
        );
    }
}
