//! Amazon Personalize (awsJson 1.1, `AmazonPersonalize.*`): the control plane for schemas,
//! dataset groups, datasets, dataset import jobs, event trackers, solutions, solution
//! versions and campaigns, with their tags. Recommendations themselves are served by
//! `personalize_runtime`.
//!
//! Lifecycles follow AWS (see `model`): dataset groups, datasets and event trackers are
//! created `CREATE PENDING` → `CREATE IN_PROGRESS` → `ACTIVE` over the profile's
//! `dataset_group_ready_ms`, `dataset_ready_ms` and `tracker_ready_ms`, and deleted over
//! `personalize_delete_ms`. Dependencies are enforced as AWS does: a dataset or tracker needs
//! an `ACTIVE` group, a group with datasets or trackers cannot be deleted, nor a schema a
//! dataset uses.

pub(crate) mod campaigns;
mod datasets;
mod groups;
mod imports;
pub(crate) mod input;
pub(crate) mod interactions;
pub(crate) mod model;
mod schemas;
mod solutions;
mod tags;
mod trackers;
pub(crate) mod versions;

use super::Ctx;
use crate::store::{StoreError, Txn};
use crate::{AwsError, AwsResult};
use base64::Engine as _;
use serde_json::{Value, json};

/// Handles one operation.
///
/// # Errors
/// AWS's errors for the operation.
pub fn handle(ctx: &Ctx<'_>, op: &str, input: &Value) -> AwsResult<Value> {
    match op {
        "CreateSchema" => schemas::create(ctx, input),
        "DescribeSchema" => schemas::describe(ctx, input),
        "ListSchemas" => schemas::list(ctx, input),
        "DeleteSchema" => schemas::delete(ctx, input),
        "CreateDatasetGroup" => groups::create(ctx, input),
        "DescribeDatasetGroup" => groups::describe(ctx, input),
        "ListDatasetGroups" => groups::list(ctx, input),
        "DeleteDatasetGroup" => groups::delete(ctx, input),
        "CreateDataset" => datasets::create(ctx, input),
        "DescribeDataset" => datasets::describe(ctx, input),
        "ListDatasets" => datasets::list(ctx, input),
        "DeleteDataset" => datasets::delete(ctx, input),
        "CreateEventTracker" => trackers::create(ctx, input),
        "DescribeEventTracker" => trackers::describe(ctx, input),
        "ListEventTrackers" => trackers::list(ctx, input),
        "DeleteEventTracker" => trackers::delete(ctx, input),
        "CreateDatasetImportJob" => imports::create(ctx, input),
        "DescribeDatasetImportJob" => imports::describe(ctx, input),
        "ListDatasetImportJobs" => imports::list(ctx, input),
        "CreateSolution" => solutions::create(ctx, input),
        "DescribeSolution" => solutions::describe(ctx, input),
        "ListSolutions" => solutions::list(ctx, input),
        "DeleteSolution" => solutions::delete(ctx, input),
        "CreateSolutionVersion" => versions::create(ctx, input),
        "DescribeSolutionVersion" => versions::describe(ctx, input),
        "ListSolutionVersions" => versions::list(ctx, input),
        "GetSolutionMetrics" => versions::metrics(ctx, input),
        "StopSolutionVersionCreation" => versions::stop(ctx, input),
        "CreateCampaign" => campaigns::create(ctx, input),
        "DescribeCampaign" => campaigns::describe(ctx, input),
        "ListCampaigns" => campaigns::list(ctx, input),
        "UpdateCampaign" => campaigns::update(ctx, input),
        "DeleteCampaign" => campaigns::delete(ctx, input),
        "TagResource" => tags::tag_resource(ctx, input),
        "UntagResource" => tags::untag_resource(ctx, input),
        "ListTagsForResource" => tags::list_tags_for_resource(ctx, input),
        _ => Err(AwsError::new(
            "UnknownOperationException",
            format!("Unknown operation {op}"),
        )),
    }
}

/// The event tracker whose `trackingId` is `tracking_id` in the caller's account and
/// region, as DescribeEventTracker's `eventTracker` (its `status` computed now), or `None`
/// when no such tracker exists (or it is gone). For PutEvents.
///
/// # Errors
/// Storage failure.
pub(crate) fn tracker_by_tracking_id(
    txn: &Txn<'_>,
    ctx: &Ctx<'_>,
    tracking_id: &str,
) -> Result<Option<Value>, StoreError> {
    let Some(index) = txn.get::<Value>(&trackers::index_key(ctx, tracking_id))? else {
        return Ok(None);
    };
    if super::is_gone(&index, ctx.now_ms) {
        return Ok(None);
    }
    let Some(arn) = index.get("arn").and_then(Value::as_str) else {
        return Ok(None);
    };
    let Some((_, id)) = model::locate(ctx, arn) else {
        return Ok(None);
    };
    let tracker = model::get(txn, &model::key(ctx, model::Kind::EventTracker, &id), ctx.now_ms)?;
    Ok(tracker.map(|t| trackers::describe_shape(ctx, &t)))
}

/// One page of `items` (sorted by ARN) after the request's `nextToken`, at most its
/// `maxResults` (1–100, default 100), and the token for the next page.
///
/// # Errors
/// `InvalidInputException` for a bad `maxResults`, `InvalidNextTokenException` for a token
/// this runtime did not issue.
pub(crate) fn page(
    input: &Value,
    mut items: Vec<model::Resource>,
    mut v: input::Violations,
) -> AwsResult<(Vec<model::Resource>, Option<String>)> {
    let token = input::string(input, "nextToken")?;
    let max = input::integer(input, "maxResults")?;
    v.text("nextToken", token, false, (0, 1500), None);
    v.range("maxResults", max, (1, 100));
    v.finish()?;
    let after = token.map(decode_token).transpose()?;
    items.sort_by(|a, b| a.arn.cmp(&b.arn));
    let rest: Vec<model::Resource> = items
        .into_iter()
        .filter(|r| after.as_deref().is_none_or(|a| r.arn.as_str() > a))
        .collect();
    let max = usize::try_from(max.unwrap_or(100)).unwrap_or(100);
    let more = rest.len() > max;
    let page: Vec<model::Resource> = rest.into_iter().take(max).collect();
    let next = match (more, page.last()) {
        (true, Some(last)) => {
            Some(base64::engine::general_purpose::STANDARD.encode(json!({ "after": last.arn }).to_string()))
        }
        _ => None,
    };
    Ok((page, next))
}

/// The ARN a `nextToken` resumes after.
fn decode_token(token: &str) -> AwsResult<String> {
    base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .and_then(|v| v.get("after").and_then(Value::as_str).map(str::to_owned))
        .ok_or_else(|| AwsError::new("InvalidNextTokenException", "Invalid next token."))
}

/// A list response: `{member: [...], nextToken?}`.
pub(crate) fn list_response(member: &str, items: Vec<Value>, next: Option<String>) -> Value {
    let mut out = json!({ member: items });
    if let Some(t) = next {
        out["nextToken"] = t.into();
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::auth::Caller;
    use crate::config::{Config, Profile};
    use crate::store::Store;

    fn with_ctx(store: &Store, config: &Config, now_ms: u64, f: impl FnOnce(&Ctx<'_>)) {
        let caller = Caller {
            access_key_id: "000000000000".into(),
            account: "000000000000".into(),
            region: "us-east-1".into(),
            service: "personalize".into(),
        };
        let ctx = Ctx {
            caller: &caller,
            request_id: "r",
            now_ms,
            store,
            config,
        };
        f(&ctx);
    }

    #[test]
    fn trackers_are_found_by_tracking_id_until_they_are_gone() {
        let store = Store::open(None).unwrap();
        let config = Config {
            profile: Profile {
                tracker_ready_ms: 100,
                personalize_delete_ms: 100,
                ..Profile::instant()
            },
            ..Config::default()
        };
        let mut tracking_id = String::new();
        let mut arn = String::new();
        with_ctx(&store, &config, 1_000, |ctx| {
            let group = handle(ctx, "CreateDatasetGroup", &json!({ "name": "g" })).unwrap();
            let created = handle(
                ctx,
                "CreateEventTracker",
                &json!({ "name": "t", "datasetGroupArn": group["datasetGroupArn"] }),
            )
            .unwrap();
            tracking_id = created["trackingId"].as_str().unwrap().to_owned();
            arn = created["eventTrackerArn"].as_str().unwrap().to_owned();
        });
        let found = |now_ms: u64, id: &str| {
            let mut out = None;
            with_ctx(&store, &config, now_ms, |ctx| {
                out = store.read(|txn| tracker_by_tracking_id(txn, ctx, id)).unwrap();
            });
            out
        };
        let pending = found(1_010, &tracking_id).unwrap();
        assert_eq!(pending["status"], "CREATE PENDING");
        assert_eq!(pending["eventTrackerArn"], arn.as_str());
        assert_eq!(found(1_200, &tracking_id).unwrap()["status"], "ACTIVE");
        assert_eq!(found(1_200, "no-such-id"), None);

        with_ctx(&store, &config, 1_200, |ctx| {
            handle(ctx, "DeleteEventTracker", &json!({ "eventTrackerArn": arn })).unwrap();
        });
        assert_eq!(found(1_210, &tracking_id).unwrap()["status"], "DELETE PENDING");
        assert_eq!(found(1_300, &tracking_id), None);
    }
}
