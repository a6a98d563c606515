//! Dataset groups: CreateDatasetGroup, DescribeDatasetGroup, ListDatasetGroups,
//! DeleteDatasetGroup (refused while the group has datasets, event trackers or solutions).

use super::input::{self, Violations};
use super::model::{self, Kind, Resource};
use super::schemas::DOMAINS;
use super::{Ctx, list_response, page, tags};
use crate::{AwsError, AwsResult};
use serde_json::{Value, json};

/// CreateDatasetGroup.
pub(super) fn create(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let name = input::string(input, "name")?;
    let role_arn = input::string(input, "roleArn")?;
    let kms_key_arn = input::string(input, "kmsKeyArn")?;
    let domain = input::string(input, "domain")?;
    let tags = input::tag_list(input, "tags")?.unwrap_or_default();
    v.text("name", name, true, (1, 63), Some(input::NAME));
    v.text("roleArn", role_arn, false, (0, 256), None);
    v.text("kmsKeyArn", kms_key_arn, false, (0, 2048), None);
    v.one_of("domain", domain, DOMAINS);
    tags::check(&mut v, &tags);
    v.finish()?;
    tags::check_count(tags.len())?;
    if kms_key_arn.is_some() && role_arn.is_none() {
        return Err(AwsError::new(
            "InvalidInputException",
            "A roleArn is required when you specify a kmsKeyArn.",
        ));
    }
    // Personalize may only be passed a role of the caller's own account (recorded in an
    // aws-samples notebook's output; see the conformance cases).
    if let Some(role_account) = role_arn.and_then(|r| r.split(':').nth(4))
        && !role_account.is_empty()
        && role_account != ctx.account()
    {
        return Err(AwsError::new(
            "AccessDeniedException",
            "Cross-account pass role is not allowed.",
        ));
    }
    let name = name.unwrap_or_default();
    let arn = ctx.arn("personalize", &format!("dataset-group/{name}"));
    ctx.store.write(|txn| {
        model::purge_gone(txn, ctx)?;
        if model::get(txn, &model::key(ctx, Kind::DatasetGroup, name), ctx.now_ms)?.is_some() {
            return Err(model::already_exists(&arn));
        }
        let ready = ctx.after(ctx.config.profile.dataset_group_ready_ms);
        let mut group = Resource::new(arn.clone(), name, ctx.now_ms, ready);
        group.role_arn = role_arn.map(str::to_owned);
        group.kms_key_arn = kms_key_arn.map(str::to_owned);
        group.domain = domain.map(str::to_owned);
        group.tags = tags;
        model::save(txn, ctx, Kind::DatasetGroup, &group)
    })?;
    let mut out = json!({ "datasetGroupArn": arn });
    if let Some(d) = domain {
        out["domain"] = d.into();
    }
    Ok(out)
}

/// The group as DescribeDatasetGroup's `datasetGroup` (`full`) or a list summary.
fn shape(ctx: &Ctx<'_>, group: &Resource, full: bool) -> Value {
    let mut out = json!({
        "name": group.name,
        "datasetGroupArn": group.arn,
        "status": group.status(Kind::DatasetGroup, ctx.now_ms),
    });
    if let Some(d) = &group.domain {
        out["domain"] = d.clone().into();
    }
    if full {
        if let Some(r) = &group.role_arn {
            out["roleArn"] = r.clone().into();
        }
        if let Some(k) = &group.kms_key_arn {
            out["kmsKeyArn"] = k.clone().into();
        }
    }
    model::merged(out, group.times(ctx.now_ms))
}

/// The `datasetGroupArn` member, validated (`required`: it must be present).
pub(super) fn group_arn(input: &Value, v: &mut Violations, required: bool) -> AwsResult<Option<String>> {
    let arn = input::string(input, "datasetGroupArn")?;
    v.arn("datasetGroupArn", arn, required);
    Ok(arn.map(str::to_owned))
}

/// DescribeDatasetGroup.
pub(super) fn describe(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let arn = group_arn(input, &mut v, true)?.unwrap_or_default();
    v.finish()?;
    let group = ctx
        .store
        .read(|txn| model::load(txn, ctx, Kind::DatasetGroup, &arn))?;
    Ok(json!({ "datasetGroup": shape(ctx, &group, true) }))
}

/// ListDatasetGroups.
pub(super) fn list(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let all = ctx.store.read(|txn| model::all(txn, ctx, Kind::DatasetGroup))?;
    let (items, next) = page(input, all, Violations::default())?;
    let items = items.iter().map(|g| shape(ctx, g, false)).collect();
    Ok(list_response("datasetGroups", items, next))
}

/// DeleteDatasetGroup: the group must be `ACTIVE` and hold no datasets, event trackers or
/// solutions
/// (not even ones still being deleted), as AWS requires.
pub(super) fn delete(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let arn = group_arn(input, &mut v, true)?.unwrap_or_default();
    v.finish()?;
    ctx.store.write(|txn| {
        model::purge_gone(txn, ctx)?;
        let mut group = model::load(txn, ctx, Kind::DatasetGroup, &arn)?;
        let status = group.status(Kind::DatasetGroup, ctx.now_ms);
        if status != model::ACTIVE {
            return Err(model::in_use(Kind::DatasetGroup, &arn, status));
        }
        let member_of_group = |r: &Resource| r.dataset_group_arn.as_deref() == Some(arn.as_str());
        let datasets = model::all(txn, ctx, Kind::Dataset)?.into_iter().filter(member_of_group).count();
        let trackers = model::all(txn, ctx, Kind::EventTracker)?
            .into_iter()
            .filter(member_of_group)
            .count();
        let solutions = model::all(txn, ctx, Kind::Solution)?
            .into_iter()
            .filter(member_of_group)
            .count();
        if datasets + trackers + solutions > 0 {
            return Err(AwsError::new(
                "ResourceInUseException",
                format!(
                    "Dataset group {arn} still has {datasets} dataset(s), {trackers} event tracker(s) and {solutions} solution(s). Delete them before deleting the dataset group."
                ),
            ));
        }
        group.start_deletion(ctx.now_ms, ctx.after(ctx.config.profile.personalize_delete_ms));
        model::save(txn, ctx, Kind::DatasetGroup, &group)?;
        model::purge_gone(txn, ctx)
    })?;
    Ok(json!({}))
}
