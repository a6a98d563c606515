//! Solutions: CreateSolution (a recipe and what to train on, in an `ACTIVE` dataset group),
//! DescribeSolution, ListSolutions, DeleteSolution.
//!
//! The recipes the local recommender implements (`personalize_stack_recommender::Recipe`):
//! `aws-user-personalization` (and `-v2`), `aws-personalized-ranking` (and `-v2`),
//! `aws-popularity-count` and `aws-sims`. Others are refused with `InvalidInputException`
//! rather than trained as something they are not.

use super::groups::group_arn;
use super::input::{self, Violations};
use super::model::{self, Kind, Resource};
use super::{Ctx, list_response, page, tags, versions};
use crate::{AwsError, AwsResult};
use personalize_stack_recommender::Recipe;
use serde_json::{Value, json};

/// CreateSolution.
pub(super) fn create(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let name = input::string(input, "name")?;
    let recipe_arn = input::string(input, "recipeArn")?;
    let event_type = input::string(input, "eventType")?;
    let tags = input::tag_list(input, "tags")?.unwrap_or_default();
    v.text("name", name, true, (1, 63), Some(input::NAME));
    let group_arn = group_arn(input, &mut v, true)?.unwrap_or_default();
    v.arn("recipeArn", recipe_arn, false);
    v.text("eventType", event_type, false, (0, 256), None);
    let config = match input.get("solutionConfig") {
        None | Some(Value::Null) => None,
        Some(c @ Value::Object(_)) => Some(c.clone()),
        Some(_) => {
            return Err(AwsError::new(
                "SerializationException",
                "Start of structure or map expected for solutionConfig.",
            ));
        }
    };
    let threshold = match &config {
        Some(c) => input::string(c, "eventValueThreshold")?,
        None => None,
    };
    v.text(
        "solutionConfig.eventValueThreshold",
        threshold,
        false,
        (0, 256),
        None,
    );
    tags::check(&mut v, &tags);
    v.finish()?;
    tags::check_count(tags.len())?;
    let flag = |member: &str| input.get(member).and_then(Value::as_bool);
    if flag("performAutoML") == Some(true) || flag("performHPO") == Some(true) {
        return Err(AwsError::new(
            "InvalidInputException",
            "The local runtime does not run AutoML or hyperparameter optimization: give a recipeArn and leave performAutoML and performHPO false.",
        ));
    }
    let Some(recipe_arn) = recipe_arn else {
        return Err(AwsError::new(
            "InvalidInputException",
            "recipeArn is required when performAutoML is false.",
        ));
    };
    if Recipe::from_arn(recipe_arn).is_none() {
        return Err(AwsError::new(
            "InvalidInputException",
            format!(
                "Recipe {recipe_arn} is not one the local runtime trains. Use arn:aws:personalize:::recipe/ followed by aws-user-personalization, aws-user-personalization-v2, aws-personalized-ranking, aws-personalized-ranking-v2, aws-popularity-count or aws-sims."
            ),
        ));
    }
    if let Some(t) = threshold
        && !t.trim().parse::<f64>().is_ok_and(f64::is_finite)
    {
        return Err(AwsError::new(
            "InvalidInputException",
            format!("Invalid eventValueThreshold: {t} is not a number."),
        ));
    }
    let name = name.unwrap_or_default();
    let arn = ctx.arn("personalize", &format!("solution/{name}"));
    ctx.store.write(|txn| {
        model::purge_gone(txn, ctx)?;
        let group = model::load(txn, ctx, Kind::DatasetGroup, &group_arn)?;
        let status = group.status(Kind::DatasetGroup, ctx.now_ms);
        if status != model::ACTIVE {
            return Err(model::in_use(Kind::DatasetGroup, &group_arn, status));
        }
        if model::get(txn, &model::key(ctx, Kind::Solution, name), ctx.now_ms)?.is_some() {
            return Err(model::already_exists(&arn));
        }
        let ready = ctx.after(ctx.config.profile.solution_ready_ms);
        let mut solution = Resource::new(arn.clone(), name, ctx.now_ms, ready);
        solution.dataset_group_arn = Some(group_arn.clone());
        solution.recipe_arn = Some(recipe_arn.to_owned());
        solution.event_type = event_type.filter(|t| !t.is_empty()).map(str::to_owned);
        solution.solution_config = config.clone();
        solution.perform_auto_training = Some(flag("performAutoTraining").unwrap_or(true));
        solution.tags = tags;
        model::save(txn, ctx, Kind::Solution, &solution)?;
        Ok(())
    })?;
    Ok(json!({ "solutionArn": arn }))
}

/// The solution's `eventValueThreshold`, if it has one.
pub(super) fn threshold(solution: &Resource) -> Option<f64> {
    solution
        .solution_config
        .as_ref()?
        .get("eventValueThreshold")?
        .as_str()?
        .trim()
        .parse()
        .ok()
}

/// The solution as DescribeSolution's `solution` (`full`) or a list summary; `latest` is its
/// newest version, if any.
fn shape(ctx: &Ctx<'_>, solution: &Resource, latest: Option<&Resource>, full: bool) -> Value {
    let mut out = json!({
        "name": solution.name,
        "solutionArn": solution.arn,
        "status": solution.status(Kind::Solution, ctx.now_ms),
        "recipeArn": solution.recipe_arn,
    });
    if full {
        out["datasetGroupArn"] = solution.dataset_group_arn.clone().into();
        out["performHPO"] = false.into();
        out["performAutoML"] = false.into();
        out["performAutoTraining"] = solution.perform_auto_training.unwrap_or(true).into();
        if let Some(t) = &solution.event_type {
            out["eventType"] = t.clone().into();
        }
        if let Some(c) = &solution.solution_config {
            out["solutionConfig"] = c.clone();
        }
        if let Some(version) = latest {
            out["latestSolutionVersion"] = versions::summary_shape(ctx, version);
        }
    }
    model::merged(out, solution.times(ctx.now_ms))
}

/// The `solutionArn` member, validated.
pub(super) fn solution_arn(input: &Value, required: bool) -> AwsResult<Option<String>> {
    let mut v = Violations::default();
    let arn = input::string(input, "solutionArn")?;
    v.arn("solutionArn", arn, required);
    v.finish()?;
    Ok(arn.map(str::to_owned))
}

/// DescribeSolution.
pub(super) fn describe(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let arn = solution_arn(input, true)?.unwrap_or_default();
    let (solution, latest) = ctx.store.read(|txn| {
        let solution = model::load(txn, ctx, Kind::Solution, &arn)?;
        let latest = versions::of_solution(txn, ctx, &arn)?.into_iter().last();
        Ok::<_, AwsError>((solution, latest))
    })?;
    Ok(json!({ "solution": shape(ctx, &solution, latest.as_ref(), true) }))
}

/// ListSolutions, optionally of one dataset group.
pub(super) fn list(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let group = group_arn(input, &mut v, false)?;
    let all = ctx.store.read(|txn| model::all(txn, ctx, Kind::Solution))?;
    let mine = all
        .into_iter()
        .filter(|s| group.is_none() || s.dataset_group_arn == group)
        .collect();
    let (items, next) = page(input, mine, v)?;
    let items = items.iter().map(|s| shape(ctx, s, None, false)).collect();
    Ok(list_response("solutions", items, next))
}

/// DeleteSolution: refused while it is being created or deleted, while one of its versions is
/// training or stopping, or while a campaign serves one of its versions (or is being updated
/// to one); its versions (and their training data) go with it.
pub(super) fn delete(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let arn = solution_arn(input, true)?.unwrap_or_default();
    ctx.store.write(|txn| {
        model::purge_gone(txn, ctx)?;
        let mut solution = model::load(txn, ctx, Kind::Solution, &arn)?;
        let status = solution.status(Kind::Solution, ctx.now_ms);
        if status != model::ACTIVE {
            return Err(model::in_use(Kind::Solution, &arn, status));
        }
        // AWS: a solution can't be deleted while a version is CREATE PENDING or IN PROGRESS.
        if let Some(training) = versions::of_solution(txn, ctx, &arn)?
            .into_iter()
            .find(|v| v.ready_at_ms > ctx.now_ms)
        {
            let status = training.status(Kind::SolutionVersion, ctx.now_ms);
            return Err(AwsError::new(
                "ResourceInUseException",
                format!(
                    "Solution {arn} has a solution version in {status} state ({}); wait for it, or stop it with StopSolutionVersionCreation, before deleting the solution.",
                    training.arn
                ),
            ));
        }
        let prefix = format!("{arn}/");
        let serving = model::all(txn, ctx, Kind::Campaign)?.into_iter().find(|c| {
            // What it serves now (a finished update included) and what a pending update will.
            let pending = c
                .update
                .as_ref()
                .filter(|u| ctx.now_ms < u.ready_at_ms)
                .map(|u| u.solution_version_arn.clone());
            [Some(super::campaigns::serving(c, ctx.now_ms).solution_version_arn), pending]
                .into_iter()
                .flatten()
                .any(|v| v.starts_with(&prefix))
        });
        if let Some(campaign) = serving {
            return Err(AwsError::new(
                "ResourceInUseException",
                format!(
                    "Solution {arn} has a version that campaign {} uses. Delete the campaign before deleting the solution.",
                    campaign.arn
                ),
            ));
        }
        let gone_at = ctx.after(ctx.config.profile.personalize_delete_ms);
        versions::forget_solution(txn, ctx, &arn, gone_at)?;
        solution.start_deletion(ctx.now_ms, gone_at);
        model::save(txn, ctx, Kind::Solution, &solution)?;
        model::purge_gone(txn, ctx)
    })?;
    Ok(json!({}))
}
