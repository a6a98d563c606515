//! Solution versions: CreateSolutionVersion (training), DescribeSolutionVersion,
//! ListSolutionVersions, StopSolutionVersionCreation, GetSolutionMetrics.
//!
//! Training takes the dataset group's interactions as they are when the call is made: the
//! rows of the interactions dataset's finished import jobs and every event PutEvents has
//! recorded for the group, filtered by the solution's `eventType` and `eventValueThreshold`.
//! Personalize's minimums are checked on what is left (1,000 interactions, 25 users with two
//! or more); too little data does not fail the call, it fails the version (`CREATE FAILED`
//! with a `failureReason`), as in AWS.
//!
//! What a version trained on is stored with it (a blob of rows, and the number of the first
//! event it did not see), so its model can be rebuilt identically after a restart; the model
//! itself lives in memory in the personalize-runtime service, which builds it on first use
//! and then follows the events recorded after training.

use super::input::{self, Violations};
use super::interactions::{self, Filter, Row};
use super::model::{self, Kind, Resource};
use super::solutions::{self, solution_arn};
use super::{Ctx, imports, list_response, page, tags};
use crate::services::personalize_events;
use crate::store::Txn;
use crate::{AwsError, AwsResult};
use serde_json::{Value, json};

/// CreateSolutionVersion.
pub(super) fn create(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let solution_arn = solution_arn(input, true)?.unwrap_or_default();
    let name = input::string(input, "name")?;
    let mode = input::string(input, "trainingMode")?;
    let tags = input::tag_list(input, "tags")?.unwrap_or_default();
    v.text("name", name, false, (1, 63), Some(input::NAME));
    v.one_of("trainingMode", mode, &["FULL", "UPDATE", "AUTOTRAIN"]);
    tags::check(&mut v, &tags);
    v.finish()?;
    tags::check_count(tags.len())?;
    let mode = mode.unwrap_or("FULL").to_owned();
    let id = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let arn = format!("{solution_arn}/{id}");
    ctx.store.write(|txn| {
        model::purge_gone(txn, ctx)?;
        let solution = model::load(txn, ctx, Kind::Solution, &solution_arn)?;
        let status = solution.status(Kind::Solution, ctx.now_ms);
        if status != model::ACTIVE {
            return Err(model::in_use(Kind::Solution, &solution_arn, status));
        }
        let earlier = of_solution(txn, ctx, &solution_arn)?;
        if let Some(training) = earlier.iter().find(|v| v.ready_at_ms > ctx.now_ms) {
            return Err(AwsError::new(
                "ResourceInUseException",
                format!(
                    "Solution version {} of solution {solution_arn} is still being created; wait for it before creating another.",
                    training.arn
                ),
            ));
        }
        if mode == "UPDATE" {
            check_update_allowed(&solution, &earlier, ctx.now_ms)?;
        }
        let ready = ctx.after(ctx.config.profile.solution_version_ready_ms);
        let mut version = Resource::new(arn.clone(), name.unwrap_or(&id), ctx.now_ms, ready);
        version.solution_arn = Some(solution_arn.clone());
        version.dataset_group_arn = solution.dataset_group_arn.clone();
        version.recipe_arn = solution.recipe_arn.clone();
        version.event_type = solution.event_type.clone();
        version.solution_config = solution.solution_config.clone();
        version.training_mode = Some(mode.clone());
        version.tags = tags;
        match training_rows(txn, ctx, &solution)? {
            Ok((rows, events_upto)) => {
                version.record_count = Some(rows.len() as u64);
                version.events_upto = Some(events_upto);
                let key = interactions::training_blob_key(ctx.account(), ctx.region(), &arn);
                interactions::save_rows(txn, &key, &rows)?;
            }
            Err(reason) => version.failure_reason = Some(reason),
        }
        model::save(txn, ctx, Kind::SolutionVersion, &version)?;
        Ok(())
    })?;
    Ok(json!({ "solutionVersionArn": arn }))
}

/// `trainingMode` `UPDATE` needs a user-personalization recipe and an `ACTIVE` version.
fn check_update_allowed(solution: &Resource, earlier: &[Resource], now_ms: u64) -> AwsResult<()> {
    let recipe = solution
        .recipe_arn
        .as_deref()
        .and_then(personalize_stack_recommender::Recipe::from_arn);
    if recipe != Some(personalize_stack_recommender::Recipe::UserPersonalization) {
        return Err(AwsError::new(
            "InvalidInputException",
            "trainingMode UPDATE is only supported for solutions using the aws-user-personalization recipe.",
        ));
    }
    if !earlier
        .iter()
        .any(|v| v.status(Kind::SolutionVersion, now_ms) == model::ACTIVE)
    {
        return Err(AwsError::new(
            "InvalidInputException",
            format!(
                "trainingMode UPDATE needs an ACTIVE solution version of solution {} trained with FULL.",
                solution.arn
            ),
        ));
    }
    Ok(())
}

/// The rows `solution` trains on now and the number of the first event left out, or why it
/// cannot train.
fn training_rows(
    txn: &Txn<'_>,
    ctx: &Ctx<'_>,
    solution: &Resource,
) -> AwsResult<Result<(Vec<Row>, u64), String>> {
    let group = solution.dataset_group_arn.clone().unwrap_or_default();
    let dataset = model::all(txn, ctx, Kind::Dataset)?.into_iter().find(|d| {
        d.dataset_group_arn.as_deref() == Some(group.as_str())
            && d.dataset_type.as_deref() == Some("Interactions")
            && d.status(Kind::Dataset, ctx.now_ms) == model::ACTIVE
    });
    let Some(dataset) = dataset else {
        return Ok(Err(format!(
            "Dataset group {group} has no ACTIVE interactions dataset to train on."
        )));
    };
    let filter = filter_of(solution);
    let mut rows: Vec<Row> = imports::imported_rows(txn, ctx, &dataset)?
        .into_iter()
        .filter(|r| filter.keeps(r))
        .collect();
    let upto = personalize_events::next_event_seq(txn, ctx.account(), ctx.region(), &group)?;
    let events = personalize_events::events_from(txn, ctx.account(), ctx.region(), &group, 0)?;
    // Events are kept by group ARN: those of an earlier group of the same name (deleted,
    // then created again) are not this group's data.
    let group_created_ms = model::load(txn, ctx, Kind::DatasetGroup, &group)?.created_ms;
    let received_ms = |doc: &Value| {
        doc.get("receivedAt")
            .and_then(Value::as_f64)
            .map_or(0.0, |s| (s * 1000.0).round())
    };
    rows.extend(
        events
            .iter()
            .filter(|(seq, doc)| *seq < upto && received_ms(doc) >= group_created_ms as f64)
            .filter_map(|(_, doc)| interactions::row_of_event(doc))
            .filter(|r| filter.keeps(r)),
    );
    Ok(interactions::check_minimum(&rows).map(|()| (rows, upto)))
}

/// What a solution (or a version, which copies its solution's settings) trains on.
pub(crate) fn filter_of(solution: &Resource) -> Filter {
    Filter {
        event_type: solution.event_type.clone(),
        event_value_threshold: solutions::threshold(solution),
    }
}

/// The versions of solution `solution_arn` that are not gone, oldest first.
///
/// # Errors
/// Storage failure.
pub(super) fn of_solution(txn: &Txn<'_>, ctx: &Ctx<'_>, solution_arn: &str) -> AwsResult<Vec<Resource>> {
    let mut versions: Vec<Resource> = model::all(txn, ctx, Kind::SolutionVersion)?
        .into_iter()
        .filter(|v| v.solution_arn.as_deref() == Some(solution_arn))
        .collect();
    versions.sort_by_key(|v| v.created_ms);
    Ok(versions)
}

/// Marks the versions of solution `solution_arn` gone at `gone_at_ms` and drops their
/// training data.
///
/// # Errors
/// Storage failure.
pub(super) fn forget_solution(
    txn: &mut Txn<'_>,
    ctx: &Ctx<'_>,
    solution_arn: &str,
    gone_at_ms: u64,
) -> AwsResult<()> {
    for mut version in of_solution(txn, ctx, solution_arn)? {
        txn.delete_blob(&interactions::training_blob_key(
            ctx.account(),
            ctx.region(),
            &version.arn,
        ))?;
        version.start_deletion(ctx.now_ms, gone_at_ms);
        model::save(txn, ctx, Kind::SolutionVersion, &version)?;
    }
    Ok(())
}

/// The version as a summary (ListSolutionVersions, `latestSolutionVersion`).
pub(super) fn summary_shape(ctx: &Ctx<'_>, version: &Resource) -> Value {
    let status = version.status(Kind::SolutionVersion, ctx.now_ms);
    let mut out = json!({
        "solutionVersionArn": version.arn,
        "status": status,
        "trainingMode": version.training_mode,
        "trainingType": "MANUAL",
    });
    if status == model::CREATE_FAILED {
        out["failureReason"] = version.failure_reason.clone().into();
    }
    model::merged(out, version.times(ctx.now_ms))
}

/// The version as DescribeSolutionVersion's `solutionVersion`.
fn describe_shape(ctx: &Ctx<'_>, version: &Resource) -> Value {
    let mut out = summary_shape(ctx, version);
    out["name"] = version.name.clone().into();
    out["solutionArn"] = version.solution_arn.clone().into();
    out["datasetGroupArn"] = version.dataset_group_arn.clone().into();
    out["recipeArn"] = version.recipe_arn.clone().into();
    out["performHPO"] = false.into();
    out["performAutoML"] = false.into();
    if let Some(t) = &version.event_type {
        out["eventType"] = t.clone().into();
    }
    if let Some(c) = &version.solution_config {
        out["solutionConfig"] = c.clone();
    }
    out
}

/// The `solutionVersionArn` member, validated.
pub(super) fn version_arn(input: &Value) -> AwsResult<String> {
    let mut v = Violations::default();
    let arn = input::string(input, "solutionVersionArn")?;
    v.arn("solutionVersionArn", arn, true);
    v.finish()?;
    Ok(arn.unwrap_or_default().to_owned())
}

/// DescribeSolutionVersion.
pub(super) fn describe(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let arn = version_arn(input)?;
    let version = ctx
        .store
        .read(|txn| model::load(txn, ctx, Kind::SolutionVersion, &arn))?;
    Ok(json!({ "solutionVersion": describe_shape(ctx, &version) }))
}

/// StopSolutionVersionCreation: a version still training (`CREATE PENDING`, `CREATE
/// IN_PROGRESS`) goes `CREATE STOPPING`, then `CREATE STOPPED` (after the profile's Personalize
/// deletion delay); it never becomes `ACTIVE`.
pub(super) fn stop(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let arn = version_arn(input)?;
    ctx.store.write(|txn| {
        let mut version = model::load(txn, ctx, Kind::SolutionVersion, &arn)?;
        let status = version.status(Kind::SolutionVersion, ctx.now_ms);
        if status != model::CREATE_PENDING && status != model::CREATE_IN_PROGRESS {
            return Err(AwsError::new(
                "ResourceInUseException",
                format!(
                    "Solution version {arn} is in {status} state; only a version in CREATE PENDING or CREATE IN_PROGRESS can be stopped."
                ),
            ));
        }
        version.stopped_ms = Some(ctx.now_ms);
        version.ready_at_ms = ctx.after(ctx.config.profile.personalize_delete_ms);
        model::save(txn, ctx, Kind::SolutionVersion, &version)
    })?;
    Ok(json!({}))
}

/// GetSolutionMetrics of an `ACTIVE` version: Personalize's offline metrics, computed from the
/// rows the version trained on as its documentation describes (10 % of the users held out;
/// see `personalize_stack_recommender::metrics`). Computed on each call: a model of 100,000
/// interactions trains in tens of milliseconds.
pub(super) fn metrics(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let arn = version_arn(input)?;
    let version = ctx
        .store
        .read(|txn| model::load(txn, ctx, Kind::SolutionVersion, &arn))?;
    let status = version.status(Kind::SolutionVersion, ctx.now_ms);
    if status != model::ACTIVE {
        return Err(model::in_use(Kind::SolutionVersion, &arn, status));
    }
    let (recipe, interactions) = training_set(ctx, &version)?;
    let metrics = personalize_stack_recommender::metrics::solution_metrics(recipe, &interactions);
    Ok(json!({ "solutionVersionArn": arn, "metrics": metrics }))
}

/// What `version` trained on: its recipe and the interactions stored with it (the model
/// personalize-runtime serves and the metrics are both built from these).
///
/// # Errors
/// Storage failure, or a version without a known recipe.
pub(crate) fn training_set(
    ctx: &Ctx<'_>,
    version: &Resource,
) -> AwsResult<(
    personalize_stack_recommender::Recipe,
    Vec<personalize_stack_recommender::Interaction>,
)> {
    let recipe = version
        .recipe_arn
        .as_deref()
        .and_then(personalize_stack_recommender::Recipe::from_arn)
        .ok_or_else(|| AwsError::internal(format!("solution version {} has no known recipe", version.arn)))?;
    let key = interactions::training_blob_key(ctx.account(), ctx.region(), &version.arn);
    let rows = ctx.store.read(|txn| interactions::load_rows(txn, &key))?;
    Ok((recipe, rows.into_iter().map(Row::into_interaction).collect()))
}

/// ListSolutionVersions, optionally of one solution (which must exist).
pub(super) fn list(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let solution = solution_arn(input, false)?;
    let all = ctx.store.read(|txn| {
        if let Some(arn) = &solution {
            model::load(txn, ctx, Kind::Solution, arn)?;
        }
        Ok::<_, AwsError>(model::all(txn, ctx, Kind::SolutionVersion)?)
    })?;
    let mine = all
        .into_iter()
        .filter(|v| solution.is_none() || v.solution_arn == solution)
        .collect();
    let (items, next) = page(input, mine, Violations::default())?;
    let items = items.iter().map(|v| summary_shape(ctx, v)).collect();
    Ok(list_response("solutionVersions", items, next))
}
