//! Datasets: CreateDataset (one per type per dataset group, in an `ACTIVE` group, with a
//! schema that fits the type and the group's domain), DescribeDataset, ListDatasets,
//! DeleteDataset.

use super::groups::group_arn;
use super::input::{self, Violations};
use super::model::{self, Kind, Resource};
use super::schemas::avro_field_names;
use super::{Ctx, list_response, page, tags};
use crate::{AwsError, AwsResult};
use serde_json::{Value, json};

/// Dataset types as AWS spells them, and the schema fields each requires.
const TYPES: &[(&str, &[&str])] = &[
    ("Interactions", &["USER_ID", "ITEM_ID", "TIMESTAMP"]),
    ("Items", &["ITEM_ID"]),
    ("Users", &["USER_ID"]),
    ("Actions", &["ACTION_ID"]),
    (
        "Action_Interactions",
        &["USER_ID", "ACTION_ID", "TIMESTAMP", "EVENT_TYPE"],
    ),
];

/// The canonical spelling and required fields of `dataset_type` (matched case-insensitively).
fn dataset_type(dataset_type: &str) -> AwsResult<(&'static str, &'static [&'static str])> {
    TYPES
        .iter()
        .find(|(t, _)| t.eq_ignore_ascii_case(dataset_type))
        .copied()
        .ok_or_else(|| {
            let valid: Vec<&str> = TYPES.iter().map(|(t, _)| *t).collect();
            AwsError::new(
                "InvalidInputException",
                format!(
                    "Invalid dataset type: {dataset_type}. Valid values are {}.",
                    valid.join(", ")
                ),
            )
        })
}

/// CreateDataset.
pub(super) fn create(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let name = input::string(input, "name")?;
    let schema_arn = input::string(input, "schemaArn")?;
    let kind = input::string(input, "datasetType")?;
    let tags = input::tag_list(input, "tags")?.unwrap_or_default();
    v.text("name", name, true, (1, 63), Some(input::NAME));
    v.arn("schemaArn", schema_arn, true);
    let group_arn = group_arn(input, &mut v, true)?.unwrap_or_default();
    v.text("datasetType", kind, true, (0, 256), None);
    tags::check(&mut v, &tags);
    v.finish()?;
    tags::check_count(tags.len())?;
    let (name, schema_arn) = (name.unwrap_or_default(), schema_arn.unwrap_or_default());
    let (kind, required_fields) = dataset_type(kind.unwrap_or_default())?;
    ctx.store.write(|txn| {
        model::purge_gone(txn, ctx)?;
        let group = model::load(txn, ctx, Kind::DatasetGroup, &group_arn)?;
        let status = group.status(Kind::DatasetGroup, ctx.now_ms);
        if status != model::ACTIVE {
            return Err(model::in_use(Kind::DatasetGroup, &group_arn, status));
        }
        let schema = model::load(txn, ctx, Kind::Schema, schema_arn)?;
        check_schema_fits(&schema, &group, kind, required_fields)?;
        let id = format!("{}/{}", group.name, kind.to_ascii_uppercase());
        let arn = ctx.arn("personalize", &format!("dataset/{id}"));
        // One dataset per type per group: the ARN is the group and the type.
        if model::get(txn, &model::key(ctx, Kind::Dataset, &id), ctx.now_ms)?.is_some() {
            return Err(model::already_exists(&arn));
        }
        let ready = ctx.after(ctx.config.profile.dataset_ready_ms);
        let mut dataset = Resource::new(arn.clone(), name, ctx.now_ms, ready);
        dataset.dataset_group_arn = Some(group_arn.clone());
        dataset.dataset_type = Some(kind.to_owned());
        dataset.schema_arn = Some(schema_arn.to_owned());
        dataset.tags = tags;
        model::save(txn, ctx, Kind::Dataset, &dataset)?;
        Ok(json!({ "datasetArn": arn }))
    })
}

/// A dataset's schema must have the type's required fields and the group's domain.
fn check_schema_fits(schema: &Resource, group: &Resource, kind: &str, required: &[&str]) -> AwsResult<()> {
    if schema.domain != group.domain {
        return Err(AwsError::new(
            "InvalidInputException",
            format!(
                "The domain of schema {} ({}) does not match the domain of dataset group {} ({}).",
                schema.arn,
                schema.domain.as_deref().unwrap_or("none"),
                group.arn,
                group.domain.as_deref().unwrap_or("none"),
            ),
        ));
    }
    let fields = avro_field_names(schema.schema.as_deref().unwrap_or_default()).unwrap_or_default();
    let missing: Vec<&str> = required
        .iter()
        .filter(|f| !fields.iter().any(|have| have == *f))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(AwsError::new(
            "InvalidInputException",
            format!(
                "Schema {} is not valid for dataset type {kind}: required field(s) {} missing.",
                schema.arn,
                missing.join(", ")
            ),
        ));
    }
    Ok(())
}

/// The dataset as DescribeDataset's `dataset` (`full`) or a list summary.
fn shape(ctx: &Ctx<'_>, dataset: &Resource, full: bool) -> Value {
    let mut out = json!({
        "name": dataset.name,
        "datasetArn": dataset.arn,
        // However it was spelled at creation, AWS answers the type in capitals (recorded in
        // aws-samples notebooks: created as "Interactions", described as "INTERACTIONS").
        "datasetType": dataset.dataset_type.as_deref().map(str::to_uppercase),
        "status": dataset.status(Kind::Dataset, ctx.now_ms),
    });
    if full {
        out["datasetGroupArn"] = dataset.dataset_group_arn.clone().into();
        out["schemaArn"] = dataset.schema_arn.clone().into();
    }
    model::merged(out, dataset.times(ctx.now_ms))
}

/// The `datasetArn` member, validated.
fn dataset_arn(input: &Value) -> AwsResult<String> {
    let mut v = Violations::default();
    let arn = input::string(input, "datasetArn")?;
    v.arn("datasetArn", arn, true);
    v.finish()?;
    Ok(arn.unwrap_or_default().to_owned())
}

/// DescribeDataset.
pub(super) fn describe(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let arn = dataset_arn(input)?;
    let dataset = ctx.store.read(|txn| model::load(txn, ctx, Kind::Dataset, &arn))?;
    Ok(json!({ "dataset": shape(ctx, &dataset, true) }))
}

/// ListDatasets, optionally of one dataset group.
pub(super) fn list(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let group = group_arn(input, &mut v, false)?;
    let all = ctx.store.read(|txn| model::all(txn, ctx, Kind::Dataset))?;
    let mine = all
        .into_iter()
        .filter(|d| group.is_none() || d.dataset_group_arn == group)
        .collect();
    let (items, next) = page(input, mine, v)?;
    let items = items.iter().map(|d| shape(ctx, d, false)).collect();
    Ok(list_response("datasets", items, next))
}

/// DeleteDataset: `DELETE PENDING` → `DELETE IN_PROGRESS` → gone; refused unless `ACTIVE`.
pub(super) fn delete(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let arn = dataset_arn(input)?;
    ctx.store.write(|txn| {
        model::purge_gone(txn, ctx)?;
        let mut dataset = model::load(txn, ctx, Kind::Dataset, &arn)?;
        let status = dataset.status(Kind::Dataset, ctx.now_ms);
        if status != model::ACTIVE {
            return Err(model::in_use(Kind::Dataset, &arn, status));
        }
        let gone_at = ctx.after(ctx.config.profile.personalize_delete_ms);
        super::imports::forget_dataset(txn, ctx, &arn, gone_at)?;
        dataset.start_deletion(ctx.now_ms, gone_at);
        model::save(txn, ctx, Kind::Dataset, &dataset)?;
        model::purge_gone(txn, ctx)
    })?;
    Ok(json!({}))
}
