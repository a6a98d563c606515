//! `lambda_function`: the function, its `/aws/lambda/<name>` log group, and its Kinesis
//! trigger (an event source mapping).
//!
//! Fields compared: `name`, `description`, `runtime`, `handler`, `architecture`, `memory_mb`,
//! `timeout_s`, `role`, `environment.<KEY>`, `reserved_concurrency`, `code.sha256` (Lambda's
//! `CodeSha256`: base64 of the zip's SHA-256), `log_group` (its name, when it exists),
//! `log_group.retention_days`, `tags.<key>`, and `trigger.*` for the mapping. Observation
//! reports what exists even where the stack declares nothing (a reservation, a retention, a
//! mapping), so removing it from the stack shows up as a change that removes it.
//!
//! Only the name forces a replacement. A new stream or starting position needs a new
//! mapping, not a new function: `update` deletes the old mapping and creates the new one.
//!
//! Every step is idempotent, so a run killed anywhere is finished by the next: a function
//! that exists already is brought in line instead of created, a log group that exists is
//! adopted, and a mapping of this function to this stream that exists (Lambda refuses a
//! second one) is adopted and updated, never duplicated.

use super::{Cx, ResourceKind};
use crate::call::Absent as _;
use crate::{Aws, package};
use aws_sdk_cloudwatchlogs::types::LogGroup;
use aws_sdk_lambda::primitives::{Blob, DateTime};
use aws_sdk_lambda::types::{
    DestinationConfig, Environment, EventSourceMappingConfiguration, EventSourcePosition,
    FunctionResponseType, LastUpdateStatus, OnFailure, Runtime, State,
};
use personalize_stack_core::engine::{
    Action, Attrs, Desired, ErrorKind, FieldChange, Fields, Observed, ProviderError, Resolver, diff,
};
use personalize_stack_core::spec::Resource;
use personalize_stack_core::spec::kinds::lambda_function::{
    Architecture, CheckedTrigger, LambdaFunction, StartingPosition,
};
use personalize_stack_core::spec::text::Text;
use std::collections::{BTreeMap, HashMap};

mod log_group;
mod mapping;

use log_group::*;
use mapping::*;

/// Fields `UpdateFunctionConfiguration` changes.
const CONFIG_FIELDS: &[&str] = &[
    "description",
    "runtime",
    "handler",
    "memory_mb",
    "timeout_s",
    "role",
];

impl ResourceKind for LambdaFunction {
    /// Desired fields. Builds the function's package on first use (it needs the code's hash).
    ///
    /// # Errors
    /// The code does not build or cannot be read.
    fn desired(&self, cx: &Cx<'_>) -> Result<Desired, ProviderError> {
        let Cx { aws, resource: r, refs } = *cx;
        let package = package::for_function(aws, &self.code, platform(self))?;
        let mut f = Fields::new();
        f.insert("name".into(), self.name.clone());
        if let Some(d) = self.description.as_deref().filter(|d| !d.is_empty()) {
            f.insert("description".into(), d.to_owned());
        }
        f.insert("runtime".into(), self.runtime.clone());
        f.insert("handler".into(), self.handler.clone());
        f.insert("architecture".into(), arch_name(self.architecture).to_owned());
        f.insert("memory_mb".into(), self.memory_mb.to_string());
        f.insert("timeout_s".into(), self.timeout_s.to_string());
        f.insert("role".into(), refs.text(&self.role));
        for (k, v) in &self.environment {
            f.insert(format!("environment.{k}"), refs.text(v));
        }
        if let Some(n) = self.reserved_concurrency {
            f.insert("reserved_concurrency".into(), n.to_string());
        }
        f.insert("code.sha256".into(), package.sha256.clone());
        let mut notes = BTreeMap::new();
        notes.insert("code.sha256".to_owned(), package.summary());
        f.insert("log_group".into(), self.log_group_name());
        if let Some(days) = self.log_retention_days {
            f.insert("log_group.retention_days".into(), days.to_string());
        }
        for (k, v) in aws.tags_for(r, &self.tags) {
            f.insert(format!("tags.{k}"), v);
        }
        if let Some(t) = &self.trigger {
            let set = |f: &mut Fields, k: &str, v: String| f.insert(format!("trigger.{k}"), v);
            set(&mut f, "stream", refs.text(&t.stream));
            set(
                &mut f,
                "starting_position",
                position_name(t.starting_position).to_owned(),
            );
            set(&mut f, "batch_size", t.batch_size.to_string());
            set(&mut f, "batching_window_s", t.batching_window_s.to_string());
            set(&mut f, "bisect_on_error", t.bisect_on_error.to_string());
            set(&mut f, "max_retries", t.max_retries.to_string());
            set(&mut f, "max_record_age_s", t.max_record_age_s.to_string());
            set(
                &mut f,
                "report_batch_item_failures",
                t.report_batch_item_failures.to_string(),
            );
            set(
                &mut f,
                "parallelization_factor",
                t.parallelization_factor.to_string(),
            );
            set(&mut f, "enabled", t.enabled.to_string());
            if let Some(d) = &t.on_failure {
                set(&mut f, "on_failure", refs.text(d));
            }
        }
        Ok(Desired {
            fields: f,
            replace_on: [(
                "name".to_owned(),
                "a Lambda function cannot be renamed".to_owned(),
            )]
            .into(),
            notes,
        })
    }

    /// Observes the function by name, with its log group and Kinesis mapping.
    ///
    /// # Errors
    /// A read call failed.
    async fn observe(&self, cx: &Cx<'_>) -> Result<Option<Observed>, ProviderError> {
        let Cx { aws, resource: r, refs } = *cx;
        let lambda = &aws.clients.lambda;
        let got = match aws
            .call("GetFunction", || {
                lambda.get_function().function_name(&self.name).send()
            })
            .await
        {
            Ok(got) => got,
            Err(e) if e.is(ErrorKind::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        let tags: BTreeMap<String, String> = got
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let config = got.configuration();
        let arn = config
            .and_then(|c| c.function_arn())
            .map_or_else(|| function_arn(aws, &self.name), str::to_owned);
        let mut attrs = base_attrs(self, &arn);
        let owned = aws.owns(r, &tags);
        if !owned {
            return Ok(Some(Observed::foreign(self.name.clone(), attrs)));
        }
        let mut f = Fields::new();
        if let Some(c) = config {
            f.insert("name".into(), c.function_name().unwrap_or(&self.name).to_owned());
            if let Some(d) = c.description().filter(|d| !d.is_empty()) {
                f.insert("description".into(), d.to_owned());
            }
            if let Some(rt) = c.runtime() {
                f.insert("runtime".into(), rt.as_str().to_owned());
            }
            if let Some(h) = c.handler() {
                f.insert("handler".into(), h.to_owned());
            }
            let arch = c.architectures().first().map_or("x86_64", |a| a.as_str());
            f.insert("architecture".into(), arch.to_owned());
            if let Some(m) = c.memory_size() {
                f.insert("memory_mb".into(), m.to_string());
            }
            if let Some(t) = c.timeout() {
                f.insert("timeout_s".into(), t.to_string());
            }
            if let Some(role) = c.role() {
                f.insert("role".into(), role.to_owned());
            }
            if let Some(vars) = c.environment().and_then(|e| e.variables()) {
                for (k, v) in vars {
                    f.insert(format!("environment.{k}"), v.clone());
                }
            }
            if let Some(sha) = c.code_sha256() {
                f.insert("code.sha256".into(), sha.to_owned());
            }
        }
        if let Some(n) = got.concurrency().and_then(|c| c.reserved_concurrent_executions()) {
            f.insert("reserved_concurrency".into(), n.to_string());
        }
        for (k, v) in tags.iter().filter(|(k, _)| !k.starts_with("aws:")) {
            f.insert(format!("tags.{k}"), v.clone());
        }
        let group_name = self.log_group_name();
        if let Some(group) = find_log_group(aws, &group_name).await? {
            f.insert("log_group".into(), group_name);
            if let Some(days) = group.retention_in_days() {
                f.insert("log_group.retention_days".into(), days.to_string());
            }
        }
        let stream = self.trigger.as_ref().and_then(|t| refs.known(&t.stream).ok());
        if let Some(m) = find_mapping(aws, &self.name, stream.as_deref()).await? {
            mapping_fields(&m, &mut f);
            if let Some(uuid) = m.uuid() {
                attrs.insert("mapping_uuid".into(), uuid.to_owned());
            }
        }
        Ok(Some(Observed::ours(self.name.clone(), f, attrs)))
    }

    /// Creates the function, waits until Active, then its log group and trigger.
    ///
    /// # Errors
    /// A call failed, a reference is unknown, or the function ended `Failed`.
    async fn create(&self, cx: &Cx<'_>) -> Result<Attrs, ProviderError> {
        let Cx { aws, resource: r, refs } = *cx;
        let package = package::for_function(aws, &self.code, platform(self))?;
        let role = known(refs, &self.role)?;
        let environment = environment(self, refs)?;
        let tags: HashMap<String, String> = aws.tags_for(r, &self.tags).into_iter().collect();
        let lambda = &aws.clients.lambda;
        // Role propagation ("cannot be assumed by Lambda") is retried by the call wrapper.
        let created = aws
            .call("CreateFunction", || {
                lambda
                    .create_function()
                    .function_name(&self.name)
                    .runtime(Runtime::from(self.runtime.as_str()))
                    .handler(&self.handler)
                    .role(&role)
                    .set_description(self.description.clone())
                    .memory_size(to_i32(self.memory_mb))
                    .timeout(to_i32(self.timeout_s))
                    .architectures(arch(self.architecture))
                    .code(
                        aws_sdk_lambda::types::FunctionCode::builder()
                            .zip_file(Blob::new(package.zip.clone()))
                            .build(),
                    )
                    .set_environment((!environment.is_empty()).then(|| {
                        Environment::builder()
                            .set_variables(Some(environment.clone()))
                            .build()
                    }))
                    .set_tags(Some(tags.clone()))
                    .send()
            })
            .await;
        match created {
            Ok(_) => {}
            // A run stopped after creating it, or another run raced us: bring it in line.
            Err(e) if e.is(ErrorKind::AlreadyExists) => {
                return converge_existing(self, cx).await;
            }
            Err(e) => return Err(e),
        }
        let arn = wait_active(aws, &self.name).await?;
        if let Some(n) = self.reserved_concurrency {
            put_concurrency(aws, &self.name, n).await?;
        }
        ensure_log_group(aws, r, self).await?;
        let mut attrs = base_attrs(self, &arn);
        if let Some(t) = &self.trigger {
            let uuid = ensure_mapping(aws, r, self, t, refs).await?;
            attrs.insert("mapping_uuid".into(), uuid);
        }
        Ok(attrs)
    }

    /// Applies `changes` in place: configuration, code, concurrency, tags, log group, mapping.
    ///
    /// # Errors
    /// A call failed or a reference is unknown.
    async fn update(
        &self,
        cx: &Cx<'_>,
        observed: &Observed,
        changes: &[FieldChange],
    ) -> Result<Attrs, ProviderError> {
        let Cx { aws, resource: r, refs } = *cx;
        let changed = |field: &str| changes.iter().any(|c| c.field == field);
        let changed_under = |prefix: &str| changes.iter().any(|c| c.field.starts_with(prefix));
        let lambda = &aws.clients.lambda;
        let name = self.name.as_str();
        let arn = observed
            .attrs
            .get("arn")
            .cloned()
            .unwrap_or_else(|| function_arn(aws, name));
        let mut attrs = observed.attrs.clone();
        attrs.extend(base_attrs(self, &arn));

        let config_changed = CONFIG_FIELDS.iter().any(|f| changed(f)) || changed_under("environment.");
        let code_changed = changed("code.sha256") || changed("architecture");
        if config_changed || code_changed {
            // Lambda refuses a change while the function is Pending or another update runs.
            wait_updatable(aws, name).await?;
        }
        if config_changed {
            let role = known(refs, &self.role)?;
            let environment = environment(self, refs)?;
            aws.call("UpdateFunctionConfiguration", || {
                lambda
                    .update_function_configuration()
                    .function_name(name)
                    .runtime(Runtime::from(self.runtime.as_str()))
                    .handler(&self.handler)
                    .role(&role)
                    .description(self.description.clone().unwrap_or_default())
                    .memory_size(to_i32(self.memory_mb))
                    .timeout(to_i32(self.timeout_s))
                    .environment(
                        Environment::builder()
                            .set_variables(Some(environment.clone()))
                            .build(),
                    )
                    .send()
            })
            .await?;
            wait_updated(aws, name).await?;
        }
        if code_changed {
            let package = package::for_function(aws, &self.code, platform(self))?;
            aws.call("UpdateFunctionCode", || {
                lambda
                    .update_function_code()
                    .function_name(name)
                    .zip_file(Blob::new(package.zip.clone()))
                    .architectures(arch(self.architecture))
                    .send()
            })
            .await?;
            wait_updated(aws, name).await?;
        }
        if changed("reserved_concurrency") {
            match self.reserved_concurrency {
                Some(n) => put_concurrency(aws, name, n).await?,
                None => {
                    aws.call("DeleteFunctionConcurrency", || {
                        lambda.delete_function_concurrency().function_name(name).send()
                    })
                    .await?;
                }
            }
        }
        update_tags(aws, &arn, changes).await?;
        if changed("log_group") || changed("log_group.retention_days") {
            ensure_log_group(aws, r, self).await?;
            let had_retention = observed.fields.contains_key("log_group.retention_days");
            if self.log_retention_days.is_none() && had_retention {
                let logs = &aws.clients.logs;
                let group = self.log_group_name();
                aws.call("DeleteRetentionPolicy", || {
                    logs.delete_retention_policy().log_group_name(&group).send()
                })
                .await?;
            }
        }
        if changed_under("trigger.") {
            let current = observed.attrs.get("mapping_uuid").cloned();
            match (&self.trigger, current) {
                (None, Some(uuid)) => {
                    delete_mapping(aws, &uuid).await?;
                    attrs.remove("mapping_uuid");
                }
                (None, None) => {}
                (Some(t), None) => {
                    let uuid = ensure_mapping(aws, r, self, t, refs).await?;
                    attrs.insert("mapping_uuid".into(), uuid);
                }
                (Some(t), Some(uuid)) => {
                    // Neither can change on a mapping: a new stream or starting position is a
                    // new mapping (the function stays).
                    let uuid = if changed("trigger.stream") || changed("trigger.starting_position") {
                        delete_mapping(aws, &uuid).await?;
                        ensure_mapping(aws, r, self, t, refs).await?
                    } else {
                        let had_destination = observed.fields.contains_key("trigger.on_failure");
                        update_mapping(aws, &uuid, t, refs, had_destination).await?;
                        uuid
                    };
                    attrs.insert("mapping_uuid".into(), uuid);
                }
            }
        }
        Ok(attrs)
    }

    /// Deletes the function's mappings, the function, and its log group, waiting until gone.
    ///
    /// # Errors
    /// A call failed.
    async fn delete(&self, cx: &Cx<'_>, _observed: &Observed) -> Result<(), ProviderError> {
        let Cx { aws, .. } = *cx;
        let lambda = &aws.clients.lambda;
        let name = self.name.as_str();
        // Lambda keeps a function's mappings after the function is gone: remove them first.
        for m in list_mappings(aws, name, None).await? {
            if let Some(uuid) = m.uuid() {
                delete_mapping(aws, uuid).await?;
            }
        }
        match aws
            .call("DeleteFunction", || {
                lambda.delete_function().function_name(name).send()
            })
            .await
        {
            Ok(_) => {}
            Err(e) if e.is(ErrorKind::NotFound) => {}
            Err(e) => return Err(e),
        }
        aws.wait_for("function deleted", || async {
            match aws
                .call("GetFunction", || lambda.get_function().function_name(name).send())
                .await
            {
                Ok(_) => Ok(None),
                Err(e) if e.is(ErrorKind::NotFound) => Ok(Some(())),
                Err(e) => Err(e),
            }
        })
        .await?;
        // Lambda creates the log group on first invocation and never deletes it.
        let logs = &aws.clients.logs;
        let group = self.log_group_name();
        aws.call("DeleteLogGroup", || {
            logs.delete_log_group().log_group_name(&group).send()
        })
        .await
        .or_gone()
    }
}

/// A function that exists already (found on create): observed, diffed and updated.
async fn converge_existing(spec: &LambdaFunction, cx: &Cx<'_>) -> Result<Attrs, ProviderError> {
    let want = spec.desired(cx)?;
    let Some(observed) = spec.observe(cx).await? else {
        return Err(crate::call::error(
            "CreateFunction",
            "ResourceConflictException",
            format!("function {} was reported to exist but cannot be found", spec.name),
        )
        .kind(ErrorKind::Conflict)
        .hint("run again"));
    };
    match diff(&want, Some(&observed)) {
        Action::Foreign { id } => Err(ProviderError::not_ours("CreateFunction", format_args!("function `{id}`"))),
        Action::Update { changes } | Action::Replace { changes, .. } => {
            spec.update(cx, &observed, &changes).await
        }
        _ => Ok(observed.attrs),
    }
}

// ---- the function ----

fn base_attrs(spec: &LambdaFunction, arn: &str) -> Attrs {
    [
        ("arn".to_owned(), arn.to_owned()),
        ("name".to_owned(), spec.name.clone()),
        ("log_group".to_owned(), spec.log_group_name()),
    ]
    .into()
}

fn function_arn(aws: &Aws, name: &str) -> String {
    format!("arn:aws:lambda:{}:{}:function:{name}", aws.region, aws.account)
}

fn known(refs: &Resolver, text: &Text) -> Result<String, ProviderError> {
    refs.known(text).map_err(|r| Aws::unresolved(&r))
}

/// The environment with every reference resolved.
fn environment(spec: &LambdaFunction, refs: &Resolver) -> Result<HashMap<String, String>, ProviderError> {
    spec.environment
        .iter()
        .map(|(k, v)| Ok((k.clone(), known(refs, v)?)))
        .collect()
}

/// Where the function runs: what its package is built for and checked against.
fn platform(spec: &LambdaFunction) -> package::Platform<'_> {
    package::Platform {
        architecture: spec.architecture,
        runtime: &spec.runtime,
    }
}

fn arch_name(a: Architecture) -> &'static str {
    match a {
        Architecture::X86_64 => "x86_64",
        Architecture::Arm64 => "arm64",
    }
}

fn arch(a: Architecture) -> aws_sdk_lambda::types::Architecture {
    aws_sdk_lambda::types::Architecture::from(arch_name(a))
}

fn position_name(p: StartingPosition) -> &'static str {
    match p {
        StartingPosition::TrimHorizon => "TRIM_HORIZON",
        StartingPosition::Latest => "LATEST",
        StartingPosition::AtTimestamp => "AT_TIMESTAMP",
    }
}

/// The checked spec bounds every number far below `i32::MAX`.
fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Waits until the function is Active; its ARN.
async fn wait_active(aws: &Aws, name: &str) -> Result<String, ProviderError> {
    let lambda = &aws.clients.lambda;
    aws.wait_for("function Active", || async {
        let c = aws
            .call("GetFunctionConfiguration", || {
                lambda.get_function_configuration().function_name(name).send()
            })
            .await?;
        match c.state() {
            Some(State::Active) => Ok(Some(c.function_arn().map(str::to_owned).unwrap_or_default())),
            Some(State::Failed) => Err(crate::call::error(
                "CreateFunction",
                "FunctionFailed",
                format!(
                    "function {name} failed: {}",
                    c.state_reason().unwrap_or("no reason given")
                ),
            )),
            _ => Ok(None),
        }
    })
    .await
}

/// Waits until the function accepts a change: Active and no update in progress.
async fn wait_updatable(aws: &Aws, name: &str) -> Result<(), ProviderError> {
    wait_update_status(aws, name, false).await
}

/// Waits until the last update finished; an error if it failed.
async fn wait_updated(aws: &Aws, name: &str) -> Result<(), ProviderError> {
    wait_update_status(aws, name, true).await
}

async fn wait_update_status(aws: &Aws, name: &str, fail_on_failed: bool) -> Result<(), ProviderError> {
    let lambda = &aws.clients.lambda;
    aws.wait_for("function update", || async {
        let c = aws
            .call("GetFunctionConfiguration", || {
                lambda.get_function_configuration().function_name(name).send()
            })
            .await?;
        if c.state() == Some(&State::Failed) {
            return Err(crate::call::error(
                "GetFunctionConfiguration",
                "FunctionFailed",
                format!(
                    "function {name} failed: {}",
                    c.state_reason().unwrap_or("no reason given")
                ),
            ));
        }
        if c.state() != Some(&State::Active) {
            return Ok(None);
        }
        match c.last_update_status() {
            Some(LastUpdateStatus::InProgress) => Ok(None),
            Some(LastUpdateStatus::Failed) if fail_on_failed => Err(crate::call::error(
                "UpdateFunction",
                "UpdateFailed",
                format!(
                    "the update of function {name} failed: {}",
                    c.last_update_status_reason().unwrap_or("no reason given")
                ),
            )),
            _ => Ok(Some(())),
        }
    })
    .await
}

async fn put_concurrency(aws: &Aws, name: &str, n: u32) -> Result<(), ProviderError> {
    let lambda = &aws.clients.lambda;
    aws.call("PutFunctionConcurrency", || {
        lambda
            .put_function_concurrency()
            .function_name(name)
            .reserved_concurrent_executions(to_i32(n))
            .send()
    })
    .await?;
    Ok(())
}

/// Tags the changes add or change, untags those they remove.
async fn update_tags(aws: &Aws, arn: &str, changes: &[FieldChange]) -> Result<(), ProviderError> {
    let lambda = &aws.clients.lambda;
    let mut set = HashMap::new();
    let mut removed = Vec::new();
    for c in changes {
        let Some(key) = c.field.strip_prefix("tags.") else {
            continue;
        };
        match &c.new {
            Some(v) => {
                set.insert(key.to_owned(), v.clone());
            }
            None => removed.push(key.to_owned()),
        }
    }
    if !set.is_empty() {
        aws.call("TagResource", || {
            lambda
                .tag_resource()
                .resource(arn)
                .set_tags(Some(set.clone()))
                .send()
        })
        .await?;
    }
    if !removed.is_empty() {
        aws.call("UntagResource", || {
            lambda
                .untag_resource()
                .resource(arn)
                .set_tag_keys(Some(removed.clone()))
                .send()
        })
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::uuid_in;

    #[test]
    fn the_uuid_of_an_existing_mapping_is_read_from_lambdas_message() {
        let m = "The event source arn (\" arn:aws:kinesis:us-east-1:000000000000:stream/s \") and function (\" f \") provided mapping already exists. Please update or delete the existing mapping with UUID 6c4a2f0e-3e4b-4c1e-9a55-2b0f1c3d4e5f";
        assert_eq!(
            uuid_in(m).as_deref(),
            Some("6c4a2f0e-3e4b-4c1e-9a55-2b0f1c3d4e5f")
        );
        assert_eq!(uuid_in("no uuid here"), None);
    }
}
