//! `iam_role`: a role an AWS service assumes. Its trust policy names the `assumed_by` service
//! principals; its inline statements are one inline policy named after the role; managed
//! policies are attached by ARN.
//!
//! Fields compared: `name`, `path`, `trust_policy` (canonical JSON), `description` (when
//! declared or set), `max_session_duration_s`, `permissions_boundary` (when declared or set),
//! `inline_policy.<policy name>` (canonical JSON of each inline policy),
//! `managed_policy.<arn>` (`attached`) and `tags.<key>`.

use super::{Cx, ResourceKind};
use crate::call::Absent as _;
use super::common::{canonical_json, changed, put_tag_fields, tag_changes};
use crate::Aws;
use aws_sdk_iam::types::Tag;
use personalize_stack_core::engine::{
    Attrs, Desired, ErrorKind, FieldChange, Fields, Observed, ProviderError, Resolver,
};
use personalize_stack_core::spec::kinds::iam_role::{CheckedStatement, Effect, IamRole};
use personalize_stack_core::spec::text::Text;
use serde_json::{Value, json};
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------------------
// Documents
// ---------------------------------------------------------------------------------------

/// The policy version every document is written in.
const POLICY_VERSION: &str = "2012-10-17";

/// A list that is one string when it has one element, as people write policies.
fn one_or_many(items: &[String]) -> Value {
    match items {
        [one] => Value::String(one.clone()),
        many => Value::Array(many.iter().cloned().map(Value::String).collect()),
    }
}

/// The trust policy letting `assumed_by` assume the role (principals sorted, so reordering
/// them in the stack file changes nothing).
fn trust_policy(spec: &IamRole) -> Value {
    let mut principals = spec.assumed_by.clone();
    principals.sort();
    principals.dedup();
    json!({
        "Version": POLICY_VERSION,
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": one_or_many(&principals) },
            "Action": "sts:AssumeRole",
        }],
    })
}

/// The inline policy of `statements`, each resource resolved by `resolve`.
fn inline_policy<E>(
    statements: &[CheckedStatement],
    resolve: impl Fn(&Text) -> Result<String, E>,
) -> Result<Value, E> {
    let mut out = Vec::new();
    for s in statements {
        let resources = s.resources.iter().map(&resolve).collect::<Result<Vec<_>, E>>()?;
        let mut statement = serde_json::Map::new();
        if let Some(sid) = &s.sid {
            statement.insert("Sid".into(), Value::String(sid.clone()));
        }
        let effect = match s.effect {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        };
        statement.insert("Effect".into(), Value::String(effect.into()));
        statement.insert("Action".into(), one_or_many(&s.actions));
        statement.insert("Resource".into(), one_or_many(&resources));
        if let Some(condition) = &s.condition {
            statement.insert("Condition".into(), condition.clone());
        }
        out.push(Value::Object(statement));
    }
    Ok(json!({ "Version": POLICY_VERSION, "Statement": out }))
}

/// A policy document as IAM returns it: URL-encoded (RFC 3986) JSON. Documents that arrive
/// as plain JSON (some endpoints decode them) are taken as they are.
fn decode_document(raw: &str) -> Value {
    if let Ok(v) = serde_json::from_str::<Value>(raw) {
        return v;
    }
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    serde_json::from_str(&decoded).unwrap_or_else(|_| Value::String(decoded.into_owned()))
}

/// The value of a `managed_policy.<arn>` field.
const ATTACHED: &str = "attached";
/// Prefix of the inline policy fields.
const INLINE_PREFIX: &str = "inline_policy.";
/// Prefix of the managed policy fields.
const MANAGED_PREFIX: &str = "managed_policy.";

fn iam_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| crate::call::error("CreateRole", "InvalidTag", e.to_string()))
        })
        .collect()
}

fn attrs_of(arn: &str, name: &str) -> Attrs {
    [
        ("arn".to_owned(), arn.to_owned()),
        ("name".to_owned(), name.to_owned()),
    ]
    .into()
}

// ---------------------------------------------------------------------------------------
// The kind
// ---------------------------------------------------------------------------------------

impl ResourceKind for IamRole {
    fn desired(&self, cx: &Cx<'_>) -> Result<Desired, ProviderError> {
        let Cx { aws, resource: r, refs } = *cx;
        let mut fields = Fields::new();
        fields.insert("name".into(), self.name.clone());
        fields.insert("path".into(), self.path.clone());
        fields.insert("trust_policy".into(), canonical_json(&trust_policy(self)));
        if let Some(d) = &self.description {
            fields.insert("description".into(), d.clone());
        }
        fields.insert(
            "max_session_duration_s".into(),
            self.max_session_duration_s.to_string(),
        );
        if let Some(b) = &self.permissions_boundary {
            fields.insert("permissions_boundary".into(), b.clone());
        }
        if !self.statements.is_empty() {
            let policy = inline_policy(&self.statements, |t| Ok::<_, ()>(refs.text(t))).unwrap_or(Value::Null);
            fields.insert(format!("{INLINE_PREFIX}{}", self.name), canonical_json(&policy));
        }
        for arn in &self.managed_policies {
            fields.insert(format!("{MANAGED_PREFIX}{arn}"), ATTACHED.into());
        }
        put_tag_fields(&mut fields, &aws.tags_for(r, &self.tags));
        Ok(Desired {
            fields,
            replace_on: [
                ("name".to_owned(), "an IAM role cannot be renamed".to_owned()),
                (
                    "path".to_owned(),
                    "an IAM role's path cannot be changed".to_owned(),
                ),
            ]
            .into(),
            ..Desired::default()
        })
    }

    async fn observe(&self, cx: &Cx<'_>) -> Result<Option<Observed>, ProviderError> {
        let Cx { aws, resource: r, .. } = *cx;
        let Some(role) = get_role(aws, &self.name).await? else {
            return Ok(None);
        };
        let tags: BTreeMap<String, String> = role
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect();
        let owned = aws.owns(r, &tags);
        let attrs = attrs_of(role.arn(), role.role_name());
        if !owned {
            return Ok(Some(Observed::foreign(role.role_name().to_owned(), attrs)));
        }
        let mut fields = Fields::new();
        fields.insert("name".into(), role.role_name().to_owned());
        fields.insert("path".into(), role.path().to_owned());
        if let Some(doc) = role.assume_role_policy_document() {
            fields.insert("trust_policy".into(), canonical_json(&decode_document(doc)));
        }
        if let Some(d) = role.description().filter(|d| !d.is_empty()) {
            fields.insert("description".into(), d.to_owned());
        }
        fields.insert(
            "max_session_duration_s".into(),
            role.max_session_duration().unwrap_or(3600).to_string(),
        );
        if let Some(b) = role
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
        {
            fields.insert("permissions_boundary".into(), b.to_owned());
        }
        for (policy, doc) in inline_policies(aws, role.role_name()).await? {
            fields.insert(format!("{INLINE_PREFIX}{policy}"), canonical_json(&doc));
        }
        for arn in attached_policies(aws, role.role_name()).await? {
            fields.insert(format!("{MANAGED_PREFIX}{arn}"), ATTACHED.into());
        }
        put_tag_fields(&mut fields, &tags);
        Ok(Some(Observed::ours(role.role_name().to_owned(), fields, attrs)))
    }

    /// Creates it.
    ///
    /// # Errors
    /// An AWS call failed, a reference is unknown, or a same-named role is not ours.
    async fn create(&self, cx: &Cx<'_>) -> Result<Attrs, ProviderError> {
        let Cx { aws, resource: r, refs } = *cx;
        // Resolve before creating anything, so an unknown reference leaves nothing half-made.
        let policy = if self.statements.is_empty() {
            None
        } else {
            Some(resolved_policy(self, refs)?)
        };
        let trust = trust_policy(self).to_string();
        let tags = iam_tags(&aws.tags_for(r, &self.tags))?;
        let iam = &aws.clients.iam;
        let created = aws
            .call("CreateRole", || {
                iam.create_role()
                    .role_name(&self.name)
                    .path(&self.path)
                    .assume_role_policy_document(&trust)
                    .set_description(self.description.clone())
                    .max_session_duration(i32::try_from(self.max_session_duration_s).unwrap_or(3600))
                    .set_permissions_boundary(self.permissions_boundary.clone())
                    .set_tags(Some(tags.clone()))
                    .send()
            })
            .await;
        let arn = match created {
            Ok(out) => out.role().map(|role| role.arn().to_owned()),
            // A previous run created it and stopped before finishing: adopt it if it is ours.
            Err(e) if e.is(ErrorKind::AlreadyExists) => None,
            Err(e) => return Err(e),
        };
        let arn = match arn {
            Some(arn) => arn,
            None => {
                let Some(found) = self.observe(cx).await? else {
                    return Err(crate::call::error(
                        "CreateRole",
                        "NoSuchEntity",
                        format!("role {} was neither created nor found", self.name),
                    ));
                };
                if !found.owned {
                    return Err(ProviderError::not_ours("CreateRole", format_args!("role {}", self.name)));
                }
                found.attrs.get("arn").cloned().unwrap_or_default()
            }
        };
        if policy.is_some() {
            put_inline_policy(aws, self, refs).await?;
        }
        for managed in &self.managed_policies {
            attach(aws, &self.name, managed).await?;
        }
        Ok(attrs_of(&arn, &self.name))
    }

    /// Updates it.
    ///
    /// # Errors
    /// An AWS call failed, or a reference is unknown.
    async fn update(
        &self,
        cx: &Cx<'_>,
        observed: &Observed,
        changes: &[FieldChange],
    ) -> Result<Attrs, ProviderError> {
        let Cx { aws, refs, .. } = *cx;
        let iam = &aws.clients.iam;
        let name = self.name.as_str();
        if changed(changes, "trust_policy") {
            let trust = trust_policy(self).to_string();
            aws.call("UpdateAssumeRolePolicy", || {
                iam.update_assume_role_policy()
                    .role_name(name)
                    .policy_document(&trust)
                    .send()
            })
            .await?;
        }
        if changed(changes, "description") || changed(changes, "max_session_duration_s") {
            // UpdateRole sets both; an empty description clears it.
            let description = self.description.clone().unwrap_or_default();
            let max = i32::try_from(self.max_session_duration_s).unwrap_or(3600);
            aws.call("UpdateRole", || {
                iam.update_role()
                    .role_name(name)
                    .description(&description)
                    .max_session_duration(max)
                    .send()
            })
            .await?;
        }
        if changed(changes, "permissions_boundary") {
            match &self.permissions_boundary {
                Some(b) => {
                    aws.call("PutRolePermissionsBoundary", || {
                        iam.put_role_permissions_boundary()
                            .role_name(name)
                            .permissions_boundary(b)
                            .send()
                    })
                    .await?;
                }
                None => {
                    let deleted = aws
                        .call("DeleteRolePermissionsBoundary", || {
                            iam.delete_role_permissions_boundary().role_name(name).send()
                        })
                        .await;
                    match deleted {
                        Ok(_) => {}
                        Err(e) if e.is(ErrorKind::NotFound) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        for c in changes {
            if let Some(policy) = c.field.strip_prefix(INLINE_PREFIX) {
                match &c.new {
                    Some(_) => put_inline_policy(aws, self, refs).await?,
                    None => {
                        let deleted = aws
                            .call("DeleteRolePolicy", || {
                                iam.delete_role_policy()
                                    .role_name(name)
                                    .policy_name(policy)
                                    .send()
                            })
                            .await;
                        match deleted {
                            Ok(_) => {}
                            Err(e) if e.is(ErrorKind::NotFound) => {}
                            Err(e) => return Err(e),
                        }
                    }
                }
            } else if let Some(arn) = c.field.strip_prefix(MANAGED_PREFIX) {
                match &c.new {
                    Some(_) => attach(aws, name, arn).await?,
                    None => detach(aws, name, arn).await?,
                }
            }
        }
        let (set, remove) = tag_changes(changes);
        if !set.is_empty() {
            let tags = iam_tags(&set)?;
            aws.call("TagRole", || {
                iam.tag_role().role_name(name).set_tags(Some(tags.clone())).send()
            })
            .await?;
        }
        if !remove.is_empty() {
            aws.call("UntagRole", || {
                iam.untag_role()
                    .role_name(name)
                    .set_tag_keys(Some(remove.clone()))
                    .send()
            })
            .await?;
        }
        Ok(match observed.attrs.get("arn") {
            Some(arn) => attrs_of(arn, name),
            None => get_role(aws, name)
                .await?
                .map(|role| attrs_of(role.arn(), role.role_name()))
                .unwrap_or_default(),
        })
    }

    /// Deletes it: IAM refuses to delete a role with policies, so they go first.
    ///
    /// # Errors
    /// An AWS call failed.
    async fn delete(&self, cx: &Cx<'_>, observed: &Observed) -> Result<(), ProviderError> {
        let Cx { aws, .. } = *cx;
        let name = observed.id.as_str();
        if get_role(aws, name).await?.is_none() {
            return Ok(());
        }
        let iam = &aws.clients.iam;
        for arn in attached_policies(aws, name).await? {
            detach(aws, name, &arn).await?;
        }
        for policy in inline_policies(aws, name).await?.into_keys() {
            let deleted = aws
                .call("DeleteRolePolicy", || {
                    iam.delete_role_policy()
                        .role_name(name)
                        .policy_name(&policy)
                        .send()
                })
                .await;
            match deleted {
                Ok(_) => {}
                Err(e) if e.is(ErrorKind::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        match aws
            .call("DeleteRole", || iam.delete_role().role_name(name).send())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is(ErrorKind::NotFound) => Ok(()),
            Err(e) if e.is(ErrorKind::InUse) => Err(e.hint(
                "something outside this stack still uses the role (an instance profile, or a policy attached meanwhile); remove it and run again",
            )),
            Err(e) => Err(e),
        }
    }
}

/// The role `name` as GetRole returns it, or `None`.
async fn get_role(aws: &Aws, name: &str) -> Result<Option<aws_sdk_iam::types::Role>, ProviderError> {
    let iam = &aws.clients.iam;
    let found = aws
        .call("GetRole", || iam.get_role().role_name(name).send())
        .await
        .found()?;
    Ok(found.and_then(|out| out.role))
}

/// Every inline policy of role `name`: policy name → document.
async fn inline_policies(aws: &Aws, name: &str) -> Result<BTreeMap<String, Value>, ProviderError> {
    let iam = &aws.clients.iam;
    let names = aws
        .list_all(
            "ListRolePolicies",
            |marker| iam.list_role_policies().role_name(name).set_marker(marker).send(),
            |out| (out.policy_names, out.marker.filter(|_| out.is_truncated)),
        )
        .await?;
    let mut policies = BTreeMap::new();
    for policy in names {
        let got = aws
            .call("GetRolePolicy", || {
                iam.get_role_policy().role_name(name).policy_name(&policy).send()
            })
            .await;
        match got {
            Ok(out) => {
                policies.insert(policy, decode_document(out.policy_document()));
            }
            // Deleted between the list and the get: it is not there.
            Err(e) if e.is(ErrorKind::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(policies)
}

/// The ARNs of the managed policies attached to role `name`.
async fn attached_policies(aws: &Aws, name: &str) -> Result<Vec<String>, ProviderError> {
    let iam = &aws.clients.iam;
    let attached = aws
        .list_all(
            "ListAttachedRolePolicies",
            |marker| iam.list_attached_role_policies().role_name(name).set_marker(marker).send(),
            |out| (out.attached_policies.unwrap_or_default(), out.marker.filter(|_| out.is_truncated)),
        )
        .await?;
    Ok(attached.into_iter().filter_map(|p| p.policy_arn).collect())
}

/// The inline policy with every reference resolved (they must be known to write it).
fn resolved_policy(spec: &IamRole, refs: &Resolver) -> Result<Value, ProviderError> {
    inline_policy(&spec.statements, |t| refs.known(t)).map_err(|r| Aws::unresolved(&r))
}

async fn put_inline_policy(aws: &Aws, spec: &IamRole, refs: &Resolver) -> Result<(), ProviderError> {
    let document = resolved_policy(spec, refs)?.to_string();
    let iam = &aws.clients.iam;
    aws.call("PutRolePolicy", || {
        iam.put_role_policy()
            .role_name(&spec.name)
            .policy_name(&spec.name)
            .policy_document(&document)
            .send()
    })
    .await?;
    Ok(())
}

async fn attach(aws: &Aws, role: &str, arn: &str) -> Result<(), ProviderError> {
    let iam = &aws.clients.iam;
    aws.call("AttachRolePolicy", || {
        iam.attach_role_policy().role_name(role).policy_arn(arn).send()
    })
    .await
    .map_err(|e| match e.kind {
        ErrorKind::NotFound => e.hint(format!(
            "check the ARN of `{arn}`: AWS managed policies for services often live under `policy/service-role/`"
        )),
        _ => e,
    })?;
    Ok(())
}

async fn detach(aws: &Aws, role: &str, arn: &str) -> Result<(), ProviderError> {
    let iam = &aws.clients.iam;
    let detached = aws
        .call("DetachRolePolicy", || {
            iam.detach_role_policy().role_name(role).policy_arn(arn).send()
        })
        .await;
    detached.or_gone()
}
