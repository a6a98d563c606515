//! Event trackers: CreateEventTracker (one per dataset group, in an `ACTIVE` group),
//! DescribeEventTracker, ListEventTrackers, DeleteEventTracker.
//!
//! Each tracker's `trackingId` is indexed at `…/personalize/tracking-id/{id}` → its ARN, so
//! PutEvents can find it ([`super::tracker_by_tracking_id`]); the index entry is deleted
//! along with the tracker.

use super::groups::group_arn;
use super::input::{self, Violations};
use super::model::{self, Kind, Resource};
use super::{Ctx, list_response, page, tags};
use crate::{AwsError, AwsResult};
use serde_json::{Value, json};

/// The key of the index entry for `tracking_id`.
pub(super) fn index_key(ctx: &Ctx<'_>, tracking_id: &str) -> String {
    ctx.key("personalize", "tracking-id", tracking_id)
}

/// CreateEventTracker.
pub(super) fn create(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let name = input::string(input, "name")?;
    let tags = input::tag_list(input, "tags")?.unwrap_or_default();
    v.text("name", name, true, (1, 63), Some(input::NAME));
    let group_arn = group_arn(input, &mut v, true)?.unwrap_or_default();
    tags::check(&mut v, &tags);
    v.finish()?;
    tags::check_count(tags.len())?;
    let name = name.unwrap_or_default();
    // A tracker's ARN ends in an id of 8 hex digits, not its name (recorded in aws-samples
    // notebooks: `event-tracker/ca4f41f3`), so names are unique by search, not by key.
    let tracking_id = uuid::Uuid::new_v4().to_string();
    let arn = ctx.arn(
        "personalize",
        &format!(
            "event-tracker/{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        ),
    );
    ctx.store.write(|txn| {
        model::purge_gone(txn, ctx)?;
        let group = model::load(txn, ctx, Kind::DatasetGroup, &group_arn)?;
        let status = group.status(Kind::DatasetGroup, ctx.now_ms);
        if status != model::ACTIVE {
            return Err(model::in_use(Kind::DatasetGroup, &group_arn, status));
        }
        let trackers = model::all(txn, ctx, Kind::EventTracker)?;
        if let Some(same_name) = trackers.iter().find(|t| t.name == name) {
            return Err(model::already_exists(&same_name.arn));
        }
        // AWS allows one event tracker per dataset group and documents only that "you will
        // get an error"; of CreateEventTracker's modelled errors, ResourceAlreadyExists is
        // the one that means "this already exists" (LimitExceeded is documented as the
        // requests-per-second limit), so that is what a second tracker gets.
        let existing = trackers
            .into_iter()
            .find(|t| t.dataset_group_arn.as_deref() == Some(group_arn.as_str()));
        if let Some(existing) = existing {
            return Err(AwsError::new(
                "ResourceAlreadyExistsException",
                format!(
                    "Dataset group {group_arn} already has event tracker {}; only one event tracker can be associated with a dataset group.",
                    existing.arn
                ),
            ));
        }
        let ready = ctx.after(ctx.config.profile.tracker_ready_ms);
        let mut tracker = Resource::new(arn.clone(), name, ctx.now_ms, ready);
        tracker.dataset_group_arn = Some(group_arn.clone());
        tracker.tracking_id = Some(tracking_id.clone());
        tracker.tags = tags;
        model::save(txn, ctx, Kind::EventTracker, &tracker)?;
        txn.put(&index_key(ctx, &tracking_id), &json!({ "arn": arn }))?;
        Ok(())
    })?;
    Ok(json!({ "eventTrackerArn": arn, "trackingId": tracking_id }))
}

/// The tracker as DescribeEventTracker's `eventTracker`.
pub(super) fn describe_shape(ctx: &Ctx<'_>, tracker: &Resource) -> Value {
    let out = json!({
        "name": tracker.name,
        "eventTrackerArn": tracker.arn,
        "accountId": ctx.account(),
        "trackingId": tracker.tracking_id,
        "datasetGroupArn": tracker.dataset_group_arn,
        "status": tracker.status(Kind::EventTracker, ctx.now_ms),
    });
    model::merged(out, tracker.times(ctx.now_ms))
}

/// The tracker as a ListEventTrackers summary.
fn summary_shape(ctx: &Ctx<'_>, tracker: &Resource) -> Value {
    let out = json!({
        "name": tracker.name,
        "eventTrackerArn": tracker.arn,
        "status": tracker.status(Kind::EventTracker, ctx.now_ms),
    });
    model::merged(out, tracker.times(ctx.now_ms))
}

/// The `eventTrackerArn` member, validated.
fn tracker_arn(input: &Value) -> AwsResult<String> {
    let mut v = Violations::default();
    let arn = input::string(input, "eventTrackerArn")?;
    v.arn("eventTrackerArn", arn, true);
    v.finish()?;
    Ok(arn.unwrap_or_default().to_owned())
}

/// DescribeEventTracker.
pub(super) fn describe(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let arn = tracker_arn(input)?;
    let tracker = ctx
        .store
        .read(|txn| model::load(txn, ctx, Kind::EventTracker, &arn))?;
    Ok(json!({ "eventTracker": describe_shape(ctx, &tracker) }))
}

/// ListEventTrackers, optionally of one dataset group.
pub(super) fn list(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let group = group_arn(input, &mut v, false)?;
    let all = ctx.store.read(|txn| model::all(txn, ctx, Kind::EventTracker))?;
    let mine = all
        .into_iter()
        .filter(|t| group.is_none() || t.dataset_group_arn == group)
        .collect();
    let (items, next) = page(input, mine, v)?;
    let items = items.iter().map(|t| summary_shape(ctx, t)).collect();
    Ok(list_response("eventTrackers", items, next))
}

/// DeleteEventTracker: `DELETE PENDING` → `DELETE IN_PROGRESS` → gone, with its index
/// entry; refused unless `ACTIVE` (a repeated delete gets `ResourceInUseException`, as
/// retail-demo-store #527 reports for Personalize deletes).
pub(super) fn delete(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let arn = tracker_arn(input)?;
    ctx.store.write(|txn| {
        model::purge_gone(txn, ctx)?;
        let mut tracker = model::load(txn, ctx, Kind::EventTracker, &arn)?;
        let status = tracker.status(Kind::EventTracker, ctx.now_ms);
        if status != model::ACTIVE {
            return Err(model::in_use(Kind::EventTracker, &arn, status));
        }
        let gone_at = ctx.after(ctx.config.profile.personalize_delete_ms);
        tracker.start_deletion(ctx.now_ms, gone_at);
        model::save(txn, ctx, Kind::EventTracker, &tracker)?;
        if let Some(id) = &tracker.tracking_id {
            txn.put(
                &index_key(ctx, id),
                &json!({ "arn": arn, "_gone_at_ms": gone_at }),
            )?;
        }
        model::purge_gone(txn, ctx)
    })?;
    Ok(json!({}))
}
