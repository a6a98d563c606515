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

/// Fields `UpdateFunctionConfiguration` changes.
const CONFIG_FIELDS: &[&str] = &[
    "description",
    "runtime",
    "handler",
    "memory_mb",
    "timeout_s",
    "role",
];

/// Desired fields. Builds the function's package on first use (it needs the code's hash).
///
/// # Errors
/// The code does not build or cannot be read.
pub fn desired(
    aws: &Aws,
    r: &Resource,
    spec: &LambdaFunction,
    refs: &Resolver,
) -> Result<Desired, ProviderError> {
    let package = package::for_function(aws, &spec.code, platform(spec))?;
    let mut f = Fields::new();
    f.insert("name".into(), spec.name.clone());
    if let Some(d) = spec.description.as_deref().filter(|d| !d.is_empty()) {
        f.insert("description".into(), d.to_owned());
    }
    f.insert("runtime".into(), spec.runtime.clone());
    f.insert("handler".into(), spec.handler.clone());
    f.insert("architecture".into(), arch_name(spec.architecture).to_owned());
    f.insert("memory_mb".into(), spec.memory_mb.to_string());
    f.insert("timeout_s".into(), spec.timeout_s.to_string());
    f.insert("role".into(), refs.text(&spec.role));
    for (k, v) in &spec.environment {
        f.insert(format!("environment.{k}"), refs.text(v));
    }
    if let Some(n) = spec.reserved_concurrency {
        f.insert("reserved_concurrency".into(), n.to_string());
    }
    f.insert("code.sha256".into(), package.sha256.clone());
    let mut notes = BTreeMap::new();
    notes.insert("code.sha256".to_owned(), package.summary());
    f.insert("log_group".into(), spec.log_group_name());
    if let Some(days) = spec.log_retention_days {
        f.insert("log_group.retention_days".into(), days.to_string());
    }
    for (k, v) in aws.tags_for(r, &spec.tags) {
        f.insert(format!("tags.{k}"), v);
    }
    if let Some(t) = &spec.trigger {
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
pub async fn observe(
    aws: &Aws,
    r: &Resource,
    spec: &LambdaFunction,
    refs: &Resolver,
) -> Result<Option<Observed>, ProviderError> {
    let lambda = &aws.clients.lambda;
    let got = match aws
        .call("GetFunction", || {
            lambda.get_function().function_name(&spec.name).send()
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
        .map_or_else(|| function_arn(aws, &spec.name), str::to_owned);
    let mut attrs = base_attrs(spec, &arn);
    let owned = aws.owns(r, &tags);
    if !owned {
        return Ok(Some(Observed {
            id: spec.name.clone(),
            owned,
            fields: Fields::new(),
            attrs,
        }));
    }
    let mut f = Fields::new();
    if let Some(c) = config {
        f.insert("name".into(), c.function_name().unwrap_or(&spec.name).to_owned());
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
    let group_name = spec.log_group_name();
    if let Some(group) = find_log_group(aws, &group_name).await? {
        f.insert("log_group".into(), group_name);
        if let Some(days) = group.retention_in_days() {
            f.insert("log_group.retention_days".into(), days.to_string());
        }
    }
    let stream = spec.trigger.as_ref().and_then(|t| refs.known(&t.stream).ok());
    if let Some(m) = find_mapping(aws, &spec.name, stream.as_deref()).await? {
        mapping_fields(&m, &mut f);
        if let Some(uuid) = m.uuid() {
            attrs.insert("mapping_uuid".into(), uuid.to_owned());
        }
    }
    Ok(Some(Observed {
        id: spec.name.clone(),
        owned,
        fields: f,
        attrs,
    }))
}

/// Creates the function, waits until Active, then its log group and trigger.
///
/// # Errors
/// A call failed, a reference is unknown, or the function ended `Failed`.
pub async fn create(
    aws: &Aws,
    r: &Resource,
    spec: &LambdaFunction,
    refs: &Resolver,
) -> Result<Attrs, ProviderError> {
    let package = package::for_function(aws, &spec.code, platform(spec))?;
    let role = known(refs, &spec.role)?;
    let environment = environment(spec, refs)?;
    let tags: HashMap<String, String> = aws.tags_for(r, &spec.tags).into_iter().collect();
    let lambda = &aws.clients.lambda;
    // Role propagation ("cannot be assumed by Lambda") is retried by the call wrapper.
    let created = aws
        .call("CreateFunction", || {
            lambda
                .create_function()
                .function_name(&spec.name)
                .runtime(Runtime::from(spec.runtime.as_str()))
                .handler(&spec.handler)
                .role(&role)
                .set_description(spec.description.clone())
                .memory_size(to_i32(spec.memory_mb))
                .timeout(to_i32(spec.timeout_s))
                .architectures(arch(spec.architecture))
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
        Err(e) if e.is(ErrorKind::Conflict) && !e.message.contains("in progress") => {
            return converge_existing(aws, r, spec, refs).await;
        }
        Err(e) => return Err(e),
    }
    let arn = wait_active(aws, &spec.name).await?;
    if let Some(n) = spec.reserved_concurrency {
        put_concurrency(aws, &spec.name, n).await?;
    }
    ensure_log_group(aws, r, spec).await?;
    let mut attrs = base_attrs(spec, &arn);
    if let Some(t) = &spec.trigger {
        let uuid = ensure_mapping(aws, r, spec, t, refs).await?;
        attrs.insert("mapping_uuid".into(), uuid);
    }
    Ok(attrs)
}

/// A function that exists already (found on create): observed, diffed and updated.
async fn converge_existing(
    aws: &Aws,
    r: &Resource,
    spec: &LambdaFunction,
    refs: &Resolver,
) -> Result<Attrs, ProviderError> {
    let want = desired(aws, r, spec, refs)?;
    let Some(observed) = observe(aws, r, spec, refs).await? else {
        return Err(crate::call::error(
            "CreateFunction",
            "ResourceConflictException",
            format!("function {} was reported to exist but cannot be found", spec.name),
        )
        .kind(ErrorKind::Conflict)
        .hint("run again"));
    };
    match diff(&want, Some(&observed)) {
        Action::Foreign { id } => Err(crate::call::error(
            "ownership",
            "NotOurs",
            format!("`{id}` exists without the tags of this stack"),
        )),
        Action::Update { changes } | Action::Replace { changes, .. } => {
            update(aws, r, spec, refs, &observed, &changes).await
        }
        _ => Ok(observed.attrs),
    }
}

/// Applies `changes` in place: configuration, code, concurrency, tags, log group, mapping.
///
/// # Errors
/// A call failed or a reference is unknown.
pub async fn update(
    aws: &Aws,
    r: &Resource,
    spec: &LambdaFunction,
    refs: &Resolver,
    observed: &Observed,
    changes: &[FieldChange],
) -> Result<Attrs, ProviderError> {
    let changed = |field: &str| changes.iter().any(|c| c.field == field);
    let changed_under = |prefix: &str| changes.iter().any(|c| c.field.starts_with(prefix));
    let lambda = &aws.clients.lambda;
    let name = spec.name.as_str();
    let arn = observed
        .attrs
        .get("arn")
        .cloned()
        .unwrap_or_else(|| function_arn(aws, name));
    let mut attrs = observed.attrs.clone();
    attrs.extend(base_attrs(spec, &arn));

    let config_changed = CONFIG_FIELDS.iter().any(|f| changed(f)) || changed_under("environment.");
    let code_changed = changed("code.sha256") || changed("architecture");
    if config_changed || code_changed {
        // Lambda refuses a change while the function is Pending or another update runs.
        wait_updatable(aws, name).await?;
    }
    if config_changed {
        let role = known(refs, &spec.role)?;
        let environment = environment(spec, refs)?;
        aws.call("UpdateFunctionConfiguration", || {
            lambda
                .update_function_configuration()
                .function_name(name)
                .runtime(Runtime::from(spec.runtime.as_str()))
                .handler(&spec.handler)
                .role(&role)
                .description(spec.description.clone().unwrap_or_default())
                .memory_size(to_i32(spec.memory_mb))
                .timeout(to_i32(spec.timeout_s))
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
        let package = package::for_function(aws, &spec.code, platform(spec))?;
        aws.call("UpdateFunctionCode", || {
            lambda
                .update_function_code()
                .function_name(name)
                .zip_file(Blob::new(package.zip.clone()))
                .architectures(arch(spec.architecture))
                .send()
        })
        .await?;
        wait_updated(aws, name).await?;
    }
    if changed("reserved_concurrency") {
        match spec.reserved_concurrency {
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
        ensure_log_group(aws, r, spec).await?;
        let had_retention = observed.fields.contains_key("log_group.retention_days");
        if spec.log_retention_days.is_none() && had_retention {
            let logs = &aws.clients.logs;
            let group = spec.log_group_name();
            aws.call("DeleteRetentionPolicy", || {
                logs.delete_retention_policy().log_group_name(&group).send()
            })
            .await?;
        }
    }
    if changed_under("trigger.") {
        let current = observed.attrs.get("mapping_uuid").cloned();
        match (&spec.trigger, current) {
            (None, Some(uuid)) => {
                delete_mapping(aws, &uuid).await?;
                attrs.remove("mapping_uuid");
            }
            (None, None) => {}
            (Some(t), None) => {
                let uuid = ensure_mapping(aws, r, spec, t, refs).await?;
                attrs.insert("mapping_uuid".into(), uuid);
            }
            (Some(t), Some(uuid)) => {
                // Neither can change on a mapping: a new stream or starting position is a
                // new mapping (the function stays).
                let uuid = if changed("trigger.stream") || changed("trigger.starting_position") {
                    delete_mapping(aws, &uuid).await?;
                    ensure_mapping(aws, r, spec, t, refs).await?
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
pub async fn delete(
    aws: &Aws,
    _r: &Resource,
    spec: &LambdaFunction,
    _observed: &Observed,
) -> Result<(), ProviderError> {
    let lambda = &aws.clients.lambda;
    let name = spec.name.as_str();
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
    let group = spec.log_group_name();
    match aws
        .call("DeleteLogGroup", || {
            logs.delete_log_group().log_group_name(&group).send()
        })
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.is(ErrorKind::NotFound) => Ok(()),
        Err(e) => Err(e),
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

// ---- the log group ----

/// The log group named exactly `name`, if it exists.
async fn find_log_group(aws: &Aws, name: &str) -> Result<Option<LogGroup>, ProviderError> {
    let logs = &aws.clients.logs;
    let mut token: Option<String> = None;
    loop {
        let page = aws
            .call("DescribeLogGroups", || {
                logs.describe_log_groups()
                    .log_group_name_prefix(name)
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
        if let Some(g) = page
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(name))
        {
            return Ok(Some(g.clone()));
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return Ok(None),
        }
    }
}

/// Creates `/aws/lambda/<name>` with our tags, or adopts it (Lambda creates it itself on the
/// first invocation); sets the retention when declared.
async fn ensure_log_group(aws: &Aws, r: &Resource, spec: &LambdaFunction) -> Result<(), ProviderError> {
    let logs = &aws.clients.logs;
    let group = spec.log_group_name();
    let tags: HashMap<String, String> = aws.tags_for(r, &spec.tags).into_iter().collect();
    match aws
        .call("CreateLogGroup", || {
            logs.create_log_group()
                .log_group_name(&group)
                .set_tags(Some(tags.clone()))
                .send()
        })
        .await
    {
        Ok(_) => {}
        Err(e) if e.is(ErrorKind::AlreadyExists) => {
            if let Some(arn) = find_log_group(aws, &group)
                .await?
                .and_then(|g| g.log_group_arn().map(str::to_owned))
            {
                aws.call("TagResource", || {
                    logs.tag_resource()
                        .resource_arn(&arn)
                        .set_tags(Some(tags.clone()))
                        .send()
                })
                .await?;
            }
        }
        Err(e) => return Err(e),
    }
    if let Some(days) = spec.log_retention_days {
        aws.call("PutRetentionPolicy", || {
            logs.put_retention_policy()
                .log_group_name(&group)
                .retention_in_days(to_i32(days))
                .send()
        })
        .await?;
    }
    Ok(())
}

// ---- the trigger ----

fn is_kinesis(m: &EventSourceMappingConfiguration) -> bool {
    m.event_source_arn().is_some_and(|a| a.contains(":kinesis:"))
}

/// The function's mappings (of `source` only, when given), every page.
async fn list_mappings(
    aws: &Aws,
    function: &str,
    source: Option<&str>,
) -> Result<Vec<EventSourceMappingConfiguration>, ProviderError> {
    let lambda = &aws.clients.lambda;
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = match aws
            .call("ListEventSourceMappings", || {
                lambda
                    .list_event_source_mappings()
                    .function_name(function)
                    .set_event_source_arn(source.map(str::to_owned))
                    .set_marker(marker.clone())
                    .send()
            })
            .await
        {
            Ok(page) => page,
            Err(e) if e.is(ErrorKind::NotFound) => return Ok(out),
            Err(e) => return Err(e),
        };
        out.extend(page.event_source_mappings().iter().cloned());
        match page.next_marker() {
            Some(m) if !m.is_empty() => marker = Some(m.to_owned()),
            _ => return Ok(out),
        }
    }
}

/// The function's Kinesis mapping: the one reading `stream` when known, else the only (or
/// oldest) one. Mappings being deleted do not count.
async fn find_mapping(
    aws: &Aws,
    function: &str,
    stream: Option<&str>,
) -> Result<Option<EventSourceMappingConfiguration>, ProviderError> {
    let mappings: Vec<EventSourceMappingConfiguration> = list_mappings(aws, function, None)
        .await?
        .into_iter()
        .filter(|m| is_kinesis(m) && m.state() != Some("Deleting"))
        .collect();
    let exact = stream.and_then(|s| mappings.iter().find(|m| m.event_source_arn() == Some(s)));
    Ok(exact.or_else(|| mappings.first()).cloned())
}

/// A mapping's fields, in the keys and forms of [`desired`].
fn mapping_fields(m: &EventSourceMappingConfiguration, f: &mut Fields) {
    let mut set = |k: &str, v: String| f.insert(format!("trigger.{k}"), v);
    set("stream", m.event_source_arn().unwrap_or_default().to_owned());
    if let Some(p) = m.starting_position() {
        set("starting_position", p.as_str().to_owned());
    }
    set("batch_size", m.batch_size().unwrap_or(100).to_string());
    set(
        "batching_window_s",
        m.maximum_batching_window_in_seconds().unwrap_or(0).to_string(),
    );
    set(
        "bisect_on_error",
        m.bisect_batch_on_function_error().unwrap_or(false).to_string(),
    );
    set(
        "max_retries",
        m.maximum_retry_attempts().unwrap_or(-1).to_string(),
    );
    set(
        "max_record_age_s",
        m.maximum_record_age_in_seconds().unwrap_or(-1).to_string(),
    );
    set(
        "report_batch_item_failures",
        m.function_response_types()
            .contains(&FunctionResponseType::ReportBatchItemFailures)
            .to_string(),
    );
    set(
        "parallelization_factor",
        m.parallelization_factor().unwrap_or(1).to_string(),
    );
    // A mapping has no `Enabled` member: its state says it (a transition reads as enabled
    // unless it is heading to Disabled).
    let disabled = matches!(m.state(), Some("Disabled" | "Disabling"));
    set("enabled", (!disabled).to_string());
    if let Some(d) = m
        .destination_config()
        .and_then(DestinationConfig::on_failure)
        .and_then(OnFailure::destination)
        .filter(|d| !d.is_empty())
    {
        set("on_failure", d.to_owned());
    }
}

fn destination(on_failure: Option<&str>) -> DestinationConfig {
    DestinationConfig::builder()
        .on_failure(
            OnFailure::builder()
                .set_destination(on_failure.map(str::to_owned))
                .build(),
        )
        .build()
}

/// Creates the mapping of this function to the trigger's stream, or adopts the one that
/// exists (Lambda allows one per function and stream) and updates it; waits until it is
/// Enabled (Disabled when so declared). Its UUID.
async fn ensure_mapping(
    aws: &Aws,
    r: &Resource,
    spec: &LambdaFunction,
    t: &CheckedTrigger,
    refs: &Resolver,
) -> Result<String, ProviderError> {
    let lambda = &aws.clients.lambda;
    let stream = known(refs, &t.stream)?;
    let on_failure = t.on_failure.as_ref().map(|d| known(refs, d)).transpose()?;
    let tags: HashMap<String, String> = aws.tags_for(r, &spec.tags).into_iter().collect();
    // A mapping being deleted still counts as existing: wait for it once, then create again.
    for _ in 0..2 {
        // "Cannot access stream" (role propagation) is retried by the call wrapper.
        let created = aws
            .call("CreateEventSourceMapping", || {
                lambda
                    .create_event_source_mapping()
                    .function_name(&spec.name)
                    .event_source_arn(&stream)
                    .starting_position(EventSourcePosition::from(position_name(t.starting_position)))
                    .set_starting_position_timestamp(t.starting_position_timestamp.map(DateTime::from_secs))
                    .batch_size(to_i32(t.batch_size))
                    .maximum_batching_window_in_seconds(to_i32(t.batching_window_s))
                    .bisect_batch_on_function_error(t.bisect_on_error)
                    .maximum_retry_attempts(t.max_retries)
                    .maximum_record_age_in_seconds(t.max_record_age_s)
                    .set_function_response_types(
                        t.report_batch_item_failures
                            .then(|| vec![FunctionResponseType::ReportBatchItemFailures]),
                    )
                    .parallelization_factor(to_i32(t.parallelization_factor))
                    .enabled(t.enabled)
                    .set_destination_config(on_failure.as_deref().map(|d| destination(Some(d))))
                    .set_tags(Some(tags.clone()))
                    .send()
            })
            .await;
        let uuid = match created {
            Ok(m) => m.uuid().map(str::to_owned).ok_or_else(|| {
                crate::call::error(
                    "CreateEventSourceMapping",
                    "NoUuid",
                    "the new mapping has no UUID",
                )
            })?,
            Err(e) if e.is(ErrorKind::Conflict) && e.message.contains("already exists") => {
                let found = list_mappings(aws, &spec.name, Some(&stream))
                    .await?
                    .into_iter()
                    .find_map(|m| m.uuid().map(str::to_owned))
                    .or_else(|| uuid_in(&e.message));
                let Some(uuid) = found else {
                    return Err(e);
                };
                // Adopt it: it maps our function, so it is ours to bring in line.
                if !update_mapping(aws, &uuid, t, refs, true).await? {
                    // It was being deleted: now gone, create ours.
                    continue;
                }
                uuid
            }
            Err(e) => return Err(e),
        };
        wait_mapping(aws, &uuid, t.enabled).await?;
        return Ok(uuid);
    }
    Err(crate::call::error(
        "CreateEventSourceMapping",
        "ResourceConflictException",
        format!("a mapping of {} to {stream} keeps reappearing", spec.name),
    )
    .kind(ErrorKind::Conflict)
    .hint("another process is managing this function's trigger; run again"))
}

/// The UUID in Lambda's "… the existing mapping with UUID <uuid>" message.
fn uuid_in(message: &str) -> Option<String> {
    let rest = &message[message.rfind("UUID ")? + 5..];
    let uuid: String = rest
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect();
    (uuid.len() == 36).then_some(uuid)
}

/// Brings mapping `uuid` to the trigger's settings (all but stream and starting position,
/// which a mapping cannot change) and waits until it settles. `false` when the mapping is
/// gone or being deleted (it is then waited out).
async fn update_mapping(
    aws: &Aws,
    uuid: &str,
    t: &CheckedTrigger,
    refs: &Resolver,
    clear_destination: bool,
) -> Result<bool, ProviderError> {
    let lambda = &aws.clients.lambda;
    let on_failure = t.on_failure.as_ref().map(|d| known(refs, d)).transpose()?;
    // Lambda refuses to change a mapping in transition (ResourceInUseException).
    match settled_state(aws, uuid).await? {
        None => return Ok(false),
        Some(state) if state == "Deleting" => {
            wait_mapping_gone(aws, uuid).await?;
            return Ok(false);
        }
        Some(_) => {}
    }
    // Without a destination, `OnFailure: {}` removes one that was set; sent only then.
    let destination_config = match on_failure.as_deref() {
        Some(d) => Some(destination(Some(d))),
        None if clear_destination => Some(destination(None)),
        None => None,
    };
    let response_types = if t.report_batch_item_failures {
        vec![FunctionResponseType::ReportBatchItemFailures]
    } else {
        Vec::new()
    };
    aws.call("UpdateEventSourceMapping", || {
        lambda
            .update_event_source_mapping()
            .uuid(uuid)
            .batch_size(to_i32(t.batch_size))
            .maximum_batching_window_in_seconds(to_i32(t.batching_window_s))
            .bisect_batch_on_function_error(t.bisect_on_error)
            .maximum_retry_attempts(t.max_retries)
            .maximum_record_age_in_seconds(t.max_record_age_s)
            .set_function_response_types(Some(response_types.clone()))
            .parallelization_factor(to_i32(t.parallelization_factor))
            .enabled(t.enabled)
            .set_destination_config(destination_config.clone())
            .send()
    })
    .await?;
    wait_mapping(aws, uuid, t.enabled).await?;
    Ok(true)
}

/// Waits until mapping `uuid` is out of transition: its state (`Enabled`, `Disabled`,
/// `Deleting`), or `None` when it does not exist.
async fn settled_state(aws: &Aws, uuid: &str) -> Result<Option<String>, ProviderError> {
    let lambda = &aws.clients.lambda;
    aws.wait_for("event source mapping settled", || async {
        match aws
            .call("GetEventSourceMapping", || {
                lambda.get_event_source_mapping().uuid(uuid).send()
            })
            .await
        {
            Ok(m) => match m.state() {
                Some(s @ ("Enabled" | "Disabled" | "Deleting")) => Ok(Some(Some(s.to_owned()))),
                _ => Ok(None),
            },
            Err(e) if e.is(ErrorKind::NotFound) => Ok(Some(None)),
            Err(e) => Err(e),
        }
    })
    .await
}

/// Waits until mapping `uuid` is Enabled (Disabled when `enabled` is false).
async fn wait_mapping(aws: &Aws, uuid: &str, enabled: bool) -> Result<(), ProviderError> {
    let lambda = &aws.clients.lambda;
    let want = if enabled { "Enabled" } else { "Disabled" };
    aws.wait_for(&format!("event source mapping {uuid} {want}"), || async {
        let m = aws
            .call("GetEventSourceMapping", || {
                lambda.get_event_source_mapping().uuid(uuid).send()
            })
            .await?;
        Ok((m.state() == Some(want)).then_some(()))
    })
    .await
}

/// Deletes mapping `uuid` and waits until it is gone.
async fn delete_mapping(aws: &Aws, uuid: &str) -> Result<(), ProviderError> {
    let lambda = &aws.clients.lambda;
    match settled_state(aws, uuid).await? {
        None => return Ok(()),
        Some(state) if state == "Deleting" => {}
        Some(_) => {
            match aws
                .call("DeleteEventSourceMapping", || {
                    lambda.delete_event_source_mapping().uuid(uuid).send()
                })
                .await
            {
                Ok(_) => {}
                Err(e) if e.is(ErrorKind::NotFound) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }
    wait_mapping_gone(aws, uuid).await
}

async fn wait_mapping_gone(aws: &Aws, uuid: &str) -> Result<(), ProviderError> {
    let lambda = &aws.clients.lambda;
    aws.wait_for("event source mapping deleted", || async {
        match aws
            .call("GetEventSourceMapping", || {
                lambda.get_event_source_mapping().uuid(uuid).send()
            })
            .await
        {
            Ok(_) => Ok(None),
            Err(e) if e.is(ErrorKind::NotFound) => Ok(Some(())),
            Err(e) => Err(e),
        }
    })
    .await
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
