//! personalize-runtime (restJson1, signed as `personalize`): GetRecommendations
//! (`POST /recommendations`) and GetPersonalizedRanking (`POST /personalize-ranking`) from a
//! campaign.
//!
//! Each solution version's model (`personalize_stack_recommender::Model`) is built in memory
//! on first use from the rows the version trained on, then kept. Before answering, the model
//! catches up with the events PutEvents recorded for the dataset group since it last looked
//! (numbered, so none is applied twice or missed), filtered as training was: a user's events
//! change their next recommendations at once, without retraining, as User-Personalization
//! documents. Popularity-count and SIMS models ignore them until a new version, as AWS's do.
//!
//! Errors follow the botocore model: `InvalidInputException` (400) and
//! `ResourceNotFoundException` (404).

use super::Ctx;
use super::personalize::campaigns::{self, campaign_arn};
use super::personalize::interactions::{self, Filter};
use super::personalize::model::{self, Kind};
use super::personalize::versions;
use super::personalize_events;
use crate::protocol::members::{integer, list, string};
use crate::protocol::rest::{self, RestRequest, RestResponse};
use crate::{AwsError, AwsResult};
use personalize_stack_recommender::{Model, Recipe, Scored};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// A solution version's model and how far it has followed the group's events.
struct Served {
    model: Model,
    /// When the version was created: an ARN reused after a delete is another version.
    created_ms: u64,
    group: String,
    filter: Filter,
    /// The number of the next event of the group to apply.
    next_event: u64,
}

/// The models of the solution versions campaigns have served, by version ARN.
#[derive(Default)]
pub(crate) struct Models(Mutex<HashMap<String, Arc<Mutex<Served>>>>);

/// `true` when `path` is one of this service's.
pub(crate) fn serves(path: &str) -> bool {
    path == "/recommendations" || path == "/personalize-ranking"
}

/// Handles one request.
///
/// # Errors
/// AWS's errors for the operation.
pub(crate) fn handle(ctx: &Ctx<'_>, models: &Models, req: &RestRequest) -> AwsResult<RestResponse> {
    let input = || rest::parse_body(&req.body, "SerializationException");
    let body = match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/recommendations") => get_recommendations(ctx, models, &input()?)?,
        ("POST", "/personalize-ranking") => get_personalized_ranking(ctx, models, &input()?)?,
        _ => {
            return Err(AwsError::new(
                "UnknownOperationException",
                format!("Unknown operation {} {}", req.method, req.path),
            ));
        }
    };
    Ok(RestResponse::json(200, body))
}

fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidInputException", message)
}

fn not_found(message: impl Into<String>) -> AwsError {
    AwsError::new("ResourceNotFoundException", message).status(404)
}

/// Checks a string member's length, as the model constrains it.
fn text(input: &Value, member: &str, (min, max): (usize, usize)) -> AwsResult<Option<String>> {
    let Some(value) = string(input, member)? else {
        return Ok(None);
    };
    let len = value.chars().count();
    if len < min || len > max {
        return Err(invalid(format!(
            "1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have length between {min} and {max}"
        )));
    }
    Ok(Some(value.to_owned()))
}

/// GetRecommendations: for a user (user recipes) or an item (SIMS).
fn get_recommendations(ctx: &Ctx<'_>, models: &Models, input: &Value) -> AwsResult<Value> {
    if input.get("recommenderArn").is_some_and(|v| !v.is_null()) {
        return Err(invalid(
            "The local runtime serves campaigns, not domain recommenders: give a campaignArn.",
        ));
    }
    if input.get("filterArn").is_some_and(|v| !v.is_null()) {
        return Err(invalid(
            "The local runtime does not apply recommendation filters: leave filterArn out.",
        ));
    }
    let campaign = campaign_arn(input)?;
    let user = text(input, "userId", (0, 256))?.filter(|u| !u.is_empty());
    let item = text(input, "itemId", (0, 256))?.filter(|i| !i.is_empty());
    let n = integer(input, "numResults")?.unwrap_or(25);
    if !(0..=500).contains(&n) {
        return Err(invalid(format!(
            "1 validation error detected: Value '{n}' at 'numResults' failed to satisfy constraint: Member must have value between 0 and 500"
        )));
    }
    let n = usize::try_from(n).unwrap_or(0);
    let served = models.serving(ctx, &campaign)?;
    let mut served = served.lock().unwrap_or_else(PoisonError::into_inner);
    served.catch_up(ctx)?;
    let recipe = served.model.recipe();
    let items = match recipe {
        Recipe::Sims => {
            let Some(item) = item else {
                return Err(invalid(format!(
                    "Campaign {campaign} uses a RELATED_ITEMS recipe: itemId is required."
                )));
            };
            served.model.similar_items(&item, n)
        }
        Recipe::PersonalizedRanking => {
            return Err(invalid(format!(
                "Campaign {campaign} uses a PERSONALIZED_RANKING recipe: call GetPersonalizedRanking."
            )));
        }
        Recipe::UserPersonalization | Recipe::PopularityCount => {
            let Some(user) = user else {
                return Err(invalid(format!(
                    "Campaign {campaign} uses a USER_PERSONALIZATION recipe: userId is required."
                )));
            };
            served.model.recommend(&user, n)
        }
    };
    Ok(json!({
        "itemList": item_list(&items),
        "recommendationId": recommendation_id(),
    }))
}

/// GetPersonalizedRanking: `inputList` reordered for `userId`.
fn get_personalized_ranking(ctx: &Ctx<'_>, models: &Models, input: &Value) -> AwsResult<Value> {
    if input.get("filterArn").is_some_and(|v| !v.is_null()) {
        return Err(invalid(
            "The local runtime does not apply recommendation filters: leave filterArn out.",
        ));
    }
    let campaign = campaign_arn(input)?;
    let user = text(input, "userId", (1, 256))?;
    let items: Vec<String> = list(input, "inputList")?
        .map(|l| l.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let Some(user) = user else {
        return Err(invalid(
            "1 validation error detected: Value null at 'userId' failed to satisfy constraint: Member must not be null",
        ));
    };
    if items.is_empty() || items.len() > 500 {
        return Err(invalid(format!(
            "1 validation error detected: Value at 'inputList' failed to satisfy constraint: Member must have length between 1 and 500 (it has {})",
            items.len()
        )));
    }
    let served = models.serving(ctx, &campaign)?;
    let mut served = served.lock().unwrap_or_else(PoisonError::into_inner);
    served.catch_up(ctx)?;
    if served.model.recipe() != Recipe::PersonalizedRanking {
        return Err(invalid(format!(
            "Campaign {campaign} does not use a PERSONALIZED_RANKING recipe: call GetRecommendations."
        )));
    }
    let ranked = served.model.rank(&user, &items);
    Ok(json!({
        "personalizedRanking": item_list(&ranked),
        "recommendationId": recommendation_id(),
    }))
}

fn item_list(items: &[Scored]) -> Vec<Value> {
    items
        .iter()
        .map(|s| json!({ "itemId": s.item_id, "score": s.score }))
        .collect()
}

fn recommendation_id() -> String {
    format!("RID-{}", uuid::Uuid::new_v4())
}

impl Models {
    /// The model campaign `campaign_arn` serves now, built if it is not in memory yet.
    fn serving(&self, ctx: &Ctx<'_>, campaign_arn: &str) -> AwsResult<Arc<Mutex<Served>>> {
        let version = ctx.store.read(|txn| {
            // A campaign missing and one not serving yet are the same answer on AWS (recorded in
            // aws-samples notebooks' outputs): InvalidInputException, 400.
            let not_serving = || {
                AwsError::new(
                    "InvalidInputException",
                    format!("{campaign_arn} does not exist or is not active yet."),
                )
            };
            let campaign = model::load(txn, ctx, Kind::Campaign, campaign_arn).map_err(|_| not_serving())?;
            if campaign.status(Kind::Campaign, ctx.now_ms) != model::ACTIVE {
                return Err(not_serving());
            }
            let serving = campaigns::serving(&campaign, ctx.now_ms);
            let version = model::load(txn, ctx, Kind::SolutionVersion, &serving.solution_version_arn)
                .map_err(|_| {
                    not_found(format!(
                        "Solution version {} of campaign {campaign_arn} does not exist.",
                        serving.solution_version_arn
                    ))
                })?;
            Ok::<_, AwsError>(version)
        })?;
        let mut cache = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = cache.get(&version.arn) {
            let same = found.lock().unwrap_or_else(PoisonError::into_inner).created_ms == version.created_ms;
            if same {
                return Ok(Arc::clone(found));
            }
        }
        // Building under the cache lock keeps two first requests from training twice; other
        // versions wait, which only happens while a new version is first used.
        let built = Arc::new(Mutex::new(build(ctx, &version)?));
        cache.insert(version.arn.clone(), Arc::clone(&built));
        Ok(built)
    }
}

/// Trains the model of `version` from the rows it stored.
fn build(ctx: &Ctx<'_>, version: &model::Resource) -> AwsResult<Served> {
    let (recipe, training) = versions::training_set(ctx, version)?;
    Ok(Served {
        model: Model::train(recipe, training),
        created_ms: version.created_ms,
        group: version.dataset_group_arn.clone().unwrap_or_default(),
        filter: versions::filter_of(version),
        next_event: version.events_upto.unwrap_or(0),
    })
}

impl Served {
    /// Applies the group's events recorded since the model last looked.
    fn catch_up(&mut self, ctx: &Ctx<'_>) -> AwsResult<()> {
        let events = ctx.store.read(|txn| {
            personalize_events::events_from(txn, ctx.account(), ctx.region(), &self.group, self.next_event)
        })?;
        for (seq, doc) in events {
            self.next_event = seq + 1;
            if let Some(row) = interactions::row_of_event(&doc).filter(|r| self.filter.keeps(r)) {
                self.model.record(&row.user, &row.item, row.timestamp);
            }
        }
        Ok(())
    }
}
