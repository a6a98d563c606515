//! Campaigns: CreateCampaign (serving an `ACTIVE` solution version), DescribeCampaign,
//! ListCampaigns, UpdateCampaign, DeleteCampaign.
//!
//! An update is recorded beside the campaign and takes effect when it is done: until then the
//! campaign stays `ACTIVE` and serves its old version, and `latestCampaignUpdate` shows the
//! update going `CREATE PENDING` → `CREATE IN_PROGRESS` → `ACTIVE`, as AWS describes it.

use super::input::{self, Violations};
use super::model::{self, CampaignUpdate, Kind, Resource};
use super::solutions::solution_arn;
use super::versions::version_arn;
use super::{Ctx, list_response, page, tags};
use crate::store::Txn;
use crate::{AwsError, AwsResult};
use serde_json::{Value, json};

/// What a campaign serves at a moment: the solution version, `minProvisionedTPS` and
/// `campaignConfig`.
pub(crate) struct Serving {
    /// The solution version's ARN.
    pub solution_version_arn: String,
    /// `minProvisionedTPS`.
    pub min_provisioned_tps: i64,
    /// `campaignConfig`.
    pub campaign_config: Option<Value>,
}

/// What `campaign` serves at `now_ms`: its latest update once that is done, else its own.
pub(crate) fn serving(campaign: &Resource, now_ms: u64) -> Serving {
    match &campaign.update {
        Some(u) if now_ms >= u.ready_at_ms => Serving {
            solution_version_arn: u.solution_version_arn.clone(),
            min_provisioned_tps: u.min_provisioned_tps,
            campaign_config: u.campaign_config.clone(),
        },
        _ => Serving {
            solution_version_arn: campaign.solution_version_arn.clone().unwrap_or_default(),
            min_provisioned_tps: campaign.min_provisioned_tps.unwrap_or(1),
            campaign_config: campaign.campaign_config.clone(),
        },
    }
}

/// The `campaignConfig` member: an object, if given.
fn campaign_config(input: &Value) -> AwsResult<Option<Value>> {
    match input.get("campaignConfig") {
        None | Some(Value::Null) => Ok(None),
        Some(c @ Value::Object(_)) => Ok(Some(c.clone())),
        Some(_) => Err(AwsError::new(
            "SerializationException",
            "Start of structure or map expected for campaignConfig.",
        )),
    }
}

/// The solution version `arn`, which a campaign may only serve once it is `ACTIVE`.
fn servable_version(txn: &Txn<'_>, ctx: &Ctx<'_>, arn: &str) -> AwsResult<Resource> {
    let version = model::load(txn, ctx, Kind::SolutionVersion, arn)?;
    let status = version.status(Kind::SolutionVersion, ctx.now_ms);
    if status != model::ACTIVE {
        return Err(model::in_use(Kind::SolutionVersion, arn, status));
    }
    Ok(version)
}

/// CreateCampaign.
pub(super) fn create(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let name = input::string(input, "name")?;
    let tps = input::integer(input, "minProvisionedTPS")?;
    let tags = input::tag_list(input, "tags")?.unwrap_or_default();
    v.text("name", name, true, (1, 63), Some(input::NAME));
    v.range("minProvisionedTPS", tps, (1, i64::from(i32::MAX)));
    tags::check(&mut v, &tags);
    v.finish()?;
    let version_arn = version_arn(input)?;
    let config = campaign_config(input)?;
    tags::check_count(tags.len())?;
    let name = name.unwrap_or_default();
    let arn = ctx.arn("personalize", &format!("campaign/{name}"));
    ctx.store.write(|txn| {
        model::purge_gone(txn, ctx)?;
        servable_version(txn, ctx, &version_arn)?;
        if model::get(txn, &model::key(ctx, Kind::Campaign, name), ctx.now_ms)?.is_some() {
            return Err(model::already_exists(&arn));
        }
        let ready = ctx.after(ctx.config.profile.campaign_ready_ms);
        let mut campaign = Resource::new(arn.clone(), name, ctx.now_ms, ready);
        campaign.solution_version_arn = Some(version_arn.clone());
        campaign.min_provisioned_tps = Some(tps.unwrap_or(1));
        campaign.campaign_config = config.clone();
        campaign.tags = tags;
        model::save(txn, ctx, Kind::Campaign, &campaign)?;
        Ok(())
    })?;
    Ok(json!({ "campaignArn": arn }))
}

/// The campaign as DescribeCampaign's `campaign` (`full`) or a list summary.
fn shape(ctx: &Ctx<'_>, campaign: &Resource, full: bool) -> Value {
    let mut out = json!({
        "name": campaign.name,
        "campaignArn": campaign.arn,
        "status": campaign.status(Kind::Campaign, ctx.now_ms),
    });
    if full {
        let now = serving(campaign, ctx.now_ms);
        out["solutionVersionArn"] = now.solution_version_arn.into();
        out["minProvisionedTPS"] = now.min_provisioned_tps.into();
        if let Some(c) = now.campaign_config {
            out["campaignConfig"] = c;
        }
        if let Some(u) = &campaign.update {
            out["latestCampaignUpdate"] = update_shape(u, ctx.now_ms);
        }
    }
    model::merged(out, campaign.times(ctx.now_ms))
}

/// `latestCampaignUpdate`.
fn update_shape(update: &CampaignUpdate, now_ms: u64) -> Value {
    let mut as_resource = Resource::new(String::new(), "", update.created_ms, update.ready_at_ms);
    as_resource.solution_version_arn = Some(update.solution_version_arn.clone());
    let mut out = json!({
        "solutionVersionArn": update.solution_version_arn,
        "minProvisionedTPS": update.min_provisioned_tps,
        "status": as_resource.status(Kind::Campaign, now_ms),
    });
    if let Some(c) = &update.campaign_config {
        out["campaignConfig"] = c.clone();
    }
    model::merged(out, as_resource.times(now_ms))
}

/// The `campaignArn` member, validated.
pub(crate) fn campaign_arn(input: &Value) -> AwsResult<String> {
    let mut v = Violations::default();
    let arn = input::string(input, "campaignArn")?;
    v.arn("campaignArn", arn, true);
    v.finish()?;
    Ok(arn.unwrap_or_default().to_owned())
}

/// DescribeCampaign.
pub(super) fn describe(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let arn = campaign_arn(input)?;
    let campaign = ctx
        .store
        .read(|txn| model::load(txn, ctx, Kind::Campaign, &arn))?;
    Ok(json!({ "campaign": shape(ctx, &campaign, true) }))
}

/// ListCampaigns, optionally of one solution (campaigns serving one of its versions).
pub(super) fn list(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let solution = solution_arn(input, false)?;
    let all = ctx.store.read(|txn| model::all(txn, ctx, Kind::Campaign))?;
    let mine = all
        .into_iter()
        .filter(|c| {
            solution.as_ref().is_none_or(|s| {
                serving(c, ctx.now_ms)
                    .solution_version_arn
                    .starts_with(&format!("{s}/"))
            })
        })
        .collect();
    let (items, next) = page(input, mine, Violations::default())?;
    let items = items.iter().map(|c| shape(ctx, c, false)).collect();
    Ok(list_response("campaigns", items, next))
}

/// UpdateCampaign: another solution version, `minProvisionedTPS` or `campaignConfig`.
/// Refused while the campaign is being created, deleted or updated.
pub(super) fn update(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let arn = campaign_arn(input)?;
    let mut v = Violations::default();
    let version = input::string(input, "solutionVersionArn")?;
    let tps = input::integer(input, "minProvisionedTPS")?;
    v.arn("solutionVersionArn", version, false);
    v.range("minProvisionedTPS", tps, (1, i64::from(i32::MAX)));
    v.finish()?;
    let config = campaign_config(input)?;
    ctx.store.write(|txn| {
        model::purge_gone(txn, ctx)?;
        let mut campaign = model::load(txn, ctx, Kind::Campaign, &arn)?;
        let status = campaign.status(Kind::Campaign, ctx.now_ms);
        if status != model::ACTIVE {
            return Err(model::in_use(Kind::Campaign, &arn, status));
        }
        if campaign
            .update
            .as_ref()
            .is_some_and(|u| ctx.now_ms < u.ready_at_ms)
        {
            return Err(AwsError::new(
                "ResourceInUseException",
                format!("Campaign {arn} is being updated; wait for the update to finish."),
            ));
        }
        let now = serving(&campaign, ctx.now_ms);
        let version = version.map_or(now.solution_version_arn, str::to_owned);
        servable_version(txn, ctx, &version)?;
        campaign.update = Some(CampaignUpdate {
            solution_version_arn: version,
            min_provisioned_tps: tps.unwrap_or(now.min_provisioned_tps),
            campaign_config: config.or(now.campaign_config),
            created_ms: ctx.now_ms,
            ready_at_ms: ctx.after(ctx.config.profile.campaign_ready_ms),
        });
        model::save(txn, ctx, Kind::Campaign, &campaign)?;
        Ok(())
    })?;
    Ok(json!({ "campaignArn": arn }))
}

/// DeleteCampaign: `DELETE PENDING` → `DELETE IN_PROGRESS` → gone; refused unless `ACTIVE`.
pub(super) fn delete(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let arn = campaign_arn(input)?;
    ctx.store.write(|txn| {
        model::purge_gone(txn, ctx)?;
        let mut campaign = model::load(txn, ctx, Kind::Campaign, &arn)?;
        let status = campaign.status(Kind::Campaign, ctx.now_ms);
        if status != model::ACTIVE {
            return Err(model::in_use(Kind::Campaign, &arn, status));
        }
        campaign.start_deletion(ctx.now_ms, ctx.after(ctx.config.profile.personalize_delete_ms));
        model::save(txn, ctx, Kind::Campaign, &campaign)?;
        model::purge_gone(txn, ctx)
    })?;
    Ok(json!({}))
}
