//! Dataset import jobs: CreateDatasetImportJob, DescribeDatasetImportJob,
//! ListDatasetImportJobs.
//!
//! S3 stands in as the local file system: `dataSource.dataLocation` is a `file://` URL or a
//! path. The file is read and checked when the job is created (an interactions CSV, see
//! [`super::interactions::parse_csv`]) and its rows are stored with the job, so the job's
//! outcome does not depend on the file afterwards. A file that cannot be read or parsed
//! does not fail the call: like AWS, the job goes `CREATE PENDING` → `CREATE IN_PROGRESS` →
//! `CREATE FAILED` with a `failureReason`. The rows count as the dataset's once the job is
//! `ACTIVE`; a `FULL` import replaces what earlier jobs imported, `INCREMENTAL` adds to it.

use super::input::{self, Violations};
use super::interactions::{self, Row};
use super::model::{self, Kind, Resource};
use super::{Ctx, list_response, page, tags};
use crate::AwsResult;
use serde_json::{Value, json};

/// CreateDatasetImportJob.
pub(super) fn create(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let name = input::string(input, "jobName")?;
    let dataset_arn = input::string(input, "datasetArn")?;
    let role_arn = input::string(input, "roleArn")?;
    let mode = input::string(input, "importMode")?;
    let location = match input.get("dataSource") {
        None | Some(Value::Null) => None,
        Some(source) => input::string(source, "dataLocation")?,
    };
    let tags = input::tag_list(input, "tags")?.unwrap_or_default();
    v.text("jobName", name, true, (1, 63), Some(input::NAME));
    v.arn("datasetArn", dataset_arn, true);
    if input.get("dataSource").is_none_or(Value::is_null) {
        v.add("null", "dataSource", "Member must not be null");
    }
    v.text("dataSource.dataLocation", location, false, (0, 256), None);
    v.text("roleArn", role_arn, false, (0, 256), None);
    v.one_of("importMode", mode, &["FULL", "INCREMENTAL"]);
    tags::check(&mut v, &tags);
    v.finish()?;
    tags::check_count(tags.len())?;
    let (name, dataset_arn) = (name.unwrap_or_default(), dataset_arn.unwrap_or_default());
    let location = location.unwrap_or_default().to_owned();
    let arn = ctx.arn("personalize", &format!("dataset-import-job/{name}"));
    // Read the file outside the write transaction: it may be large.
    let parsed = read_location(&location);
    let blob_key = interactions::import_blob_key(ctx.account(), ctx.region(), &arn);
    ctx.store.write(|txn| {
        model::purge_gone(txn, ctx)?;
        let dataset = model::load(txn, ctx, Kind::Dataset, dataset_arn)?;
        let status = dataset.status(Kind::Dataset, ctx.now_ms);
        if status != model::ACTIVE {
            return Err(model::in_use(Kind::Dataset, dataset_arn, status));
        }
        if model::get(txn, &model::key(ctx, Kind::DatasetImportJob, name), ctx.now_ms)?.is_some() {
            return Err(model::already_exists(&arn));
        }
        let ready = ctx.after(ctx.config.profile.import_job_ready_ms);
        let mut job = Resource::new(arn.clone(), name, ctx.now_ms, ready);
        job.dataset_arn = Some(dataset_arn.to_owned());
        job.dataset_group_arn = dataset.dataset_group_arn.clone();
        job.data_location = Some(location.clone());
        job.role_arn = role_arn.map(str::to_owned);
        job.import_mode = Some(mode.unwrap_or("FULL").to_owned());
        job.tags = tags;
        // Only interactions are trained on; other dataset types are accepted and kept empty.
        let is_interactions = dataset.dataset_type.as_deref() == Some("Interactions");
        match (&parsed, is_interactions) {
            (Err(reason), _) => job.failure_reason = Some(reason.clone()),
            (Ok(text), true) => match interactions::parse_csv(text) {
                Ok(rows) => {
                    job.record_count = Some(rows.len() as u64);
                    interactions::save_rows(txn, &blob_key, &rows)?;
                }
                Err(reason) => job.failure_reason = Some(reason),
            },
            (Ok(_), false) => job.record_count = Some(0),
        }
        model::save(txn, ctx, Kind::DatasetImportJob, &job)?;
        Ok(())
    })?;
    Ok(json!({ "datasetImportJobArn": arn }))
}

/// The file `location` names, read: a `file://` URL or a path. `s3://` needs AWS.
fn read_location(location: &str) -> Result<String, String> {
    if location.starts_with("s3://") {
        return Err(format!(
            "The local runtime cannot read {location}: give dataSource.dataLocation as a file:// URL or a local path."
        ));
    }
    let path = location.strip_prefix("file://").unwrap_or(location);
    if path.is_empty() {
        return Err("dataSource.dataLocation is empty.".into());
    }
    std::fs::read_to_string(path).map_err(|e| format!("Could not read the data file {path}: {e}."))
}

/// The job as DescribeDatasetImportJob's `datasetImportJob` (`full`) or a list summary.
fn shape(ctx: &Ctx<'_>, job: &Resource, full: bool) -> Value {
    let mut out = json!({
        "jobName": job.name,
        "datasetImportJobArn": job.arn,
        "status": job.status(Kind::DatasetImportJob, ctx.now_ms),
        "importMode": job.import_mode,
    });
    if job.status(Kind::DatasetImportJob, ctx.now_ms) == model::CREATE_FAILED {
        out["failureReason"] = job.failure_reason.clone().into();
    }
    if full {
        out["datasetArn"] = job.dataset_arn.clone().into();
        out["dataSource"] = json!({ "dataLocation": job.data_location });
        if let Some(role) = &job.role_arn {
            out["roleArn"] = role.clone().into();
        }
        out["publishAttributionMetricsToS3"] = false.into();
    }
    model::merged(out, job.times(ctx.now_ms))
}

/// The `datasetImportJobArn` member, validated.
fn job_arn(input: &Value) -> AwsResult<String> {
    let mut v = Violations::default();
    let arn = input::string(input, "datasetImportJobArn")?;
    v.arn("datasetImportJobArn", arn, true);
    v.finish()?;
    Ok(arn.unwrap_or_default().to_owned())
}

/// DescribeDatasetImportJob.
pub(super) fn describe(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let arn = job_arn(input)?;
    let job = ctx
        .store
        .read(|txn| model::load(txn, ctx, Kind::DatasetImportJob, &arn))?;
    Ok(json!({ "datasetImportJob": shape(ctx, &job, true) }))
}

/// ListDatasetImportJobs, optionally of one dataset.
pub(super) fn list(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let dataset = input::string(input, "datasetArn")?;
    v.arn("datasetArn", dataset, false);
    let all = ctx
        .store
        .read(|txn| model::all(txn, ctx, Kind::DatasetImportJob))?;
    let mine = all
        .into_iter()
        .filter(|j| dataset.is_none() || j.dataset_arn.as_deref() == dataset)
        .collect();
    let (items, next) = page(input, mine, v)?;
    let items = items.iter().map(|j| shape(ctx, j, false)).collect();
    Ok(list_response("datasetImportJobs", items, next))
}

/// The rows dataset `dataset` holds now from its finished import jobs: from the newest `FULL`
/// import on, in creation order. Jobs older than the dataset (a dataset deleted and created
/// again under the same ARN) are not its.
///
/// # Errors
/// Storage failure.
pub(super) fn imported_rows(
    txn: &crate::store::Txn<'_>,
    ctx: &Ctx<'_>,
    dataset: &Resource,
) -> AwsResult<Vec<Row>> {
    let mut jobs: Vec<Resource> = model::all(txn, ctx, Kind::DatasetImportJob)?
        .into_iter()
        .filter(|j| {
            j.dataset_arn.as_deref() == Some(dataset.arn.as_str())
                && j.created_ms >= dataset.created_ms
                && j.status(Kind::DatasetImportJob, ctx.now_ms) == model::ACTIVE
        })
        .collect();
    jobs.sort_by_key(|j| (j.ready_at_ms, j.created_ms));
    let start = jobs
        .iter()
        .rposition(|j| j.import_mode.as_deref() != Some("INCREMENTAL"))
        .unwrap_or(0);
    let mut rows = Vec::new();
    for job in &jobs[start..] {
        let key = interactions::import_blob_key(ctx.account(), ctx.region(), &job.arn);
        rows.extend(interactions::load_rows(txn, &key)?);
    }
    Ok(rows)
}

/// Marks the import jobs of dataset `dataset_arn` gone with it (at `gone_at_ms`) and drops
/// their stored rows, which nothing can read once the dataset is gone.
///
/// # Errors
/// Storage failure.
pub(super) fn forget_dataset(
    txn: &mut crate::store::Txn<'_>,
    ctx: &Ctx<'_>,
    dataset_arn: &str,
    gone_at_ms: u64,
) -> AwsResult<()> {
    let jobs = model::all(txn, ctx, Kind::DatasetImportJob)?;
    for mut job in jobs
        .into_iter()
        .filter(|j| j.dataset_arn.as_deref() == Some(dataset_arn))
    {
        txn.delete_blob(&interactions::import_blob_key(
            ctx.account(),
            ctx.region(),
            &job.arn,
        ))?;
        job.start_deletion(ctx.now_ms, gone_at_ms);
        model::save(txn, ctx, Kind::DatasetImportJob, &job)?;
    }
    Ok(())
}
