//! `personalize_campaign`: a campaign serving a solution version's recommendations.
//!
//! Fields compared: `name`, `solution_version` (its ARN), `min_provisioned_tps`,
//! `tags.<key>`, `status` (present only when the campaign failed to create or is being
//! deleted: it is then replaced), `active` (`true` once it is `ACTIVE`, its status while it is
//! being created: a run stopped then is finished by waiting), and `update_status` (present
//! while the latest UpdateCampaign is not done). A new name replaces it; the version and the throughput are
//! updated in place with UpdateCampaign, which is waited for through
//! `latestCampaignUpdate.status` (the campaign's own status stays `ACTIVE` while it keeps
//! serving the old version).
//!
//! While an update is under way (or done), the version and throughput compared are the
//! update's: that is what the campaign is becoming. A failed update is compared with what
//! the campaign still serves, so the next `up` tries again.
//!
//! Found among the campaigns serving its solution by this resource's tags (so a renamed
//! campaign is replaced), else by name (campaign names are unique in a region: the ARN is
//! `campaign/<name>`).

use super::{Cx, ResourceKind};
use crate::call::Absent as _;
use super::common::{changed, put_tag_fields};
use super::personalize::{
    adopt_or_remove, create_or_adopt, returned_arn,
    ACTIVE, CREATE_FAILED, STATUS_REASON, Thing, delete_and_wait, is_deleting, is_unusable, personalize_tags,
    put_status_field, resource_tags, retag, wait_active,
};
use crate::Aws;
use personalize_stack_core::engine::{
    Attrs, Desired, ErrorKind, FieldChange, Fields, Observed, ProviderError, Resolver,
};
use personalize_stack_core::spec::Resource;
use personalize_stack_core::spec::kinds::campaign::Campaign;

impl ResourceKind for Campaign {
    fn desired(&self, cx: &Cx<'_>) -> Result<Desired, ProviderError> {
        let Cx { aws, resource: r, refs } = *cx;
        let mut fields = Fields::new();
        fields.insert("name".into(), self.name.clone());
        fields.insert("solution_version".into(), refs.text(&self.solution_version));
        fields.insert("min_provisioned_tps".into(), self.min_provisioned_tps.to_string());
        fields.insert("active".into(), TRUE.into());
        put_tag_fields(&mut fields, &aws.tags_for(r, &self.tags));
        Ok(Desired {
            fields,
            replace_on: [
                ("name".to_owned(), "a campaign cannot be renamed".to_owned()),
                ("status".to_owned(), STATUS_REASON.to_owned()),
            ]
            .into(),
            ..Desired::default()
        })
    }

    async fn observe(&self, cx: &Cx<'_>) -> Result<Option<Observed>, ProviderError> {
        let Cx { aws, resource: r, refs } = *cx;
        let Some(arn) = find(aws, r, self, refs).await? else {
            return Ok(None);
        };
        let p = &aws.clients.personalize;
        let described = aws
            .call("DescribeCampaign", || {
                p.describe_campaign().campaign_arn(&arn).send()
            })
            .await
            .found()?
            .and_then(|out| out.campaign);
        let Some(campaign) = described else {
            return Ok(None);
        };
        let name = campaign.name().unwrap_or_default().to_owned();
        let attrs = attrs_of(&arn, &name);
        let tags = resource_tags(aws, &arn).await?;
        let owned = aws.owns(r, &tags);
        if !owned {
            return Ok(Some(Observed::foreign(arn, attrs)));
        }
        let mut fields = Fields::new();
        fields.insert("name".into(), name);
        let own = (
            campaign.solution_version_arn().unwrap_or_default().to_owned(),
            campaign.min_provisioned_tps().unwrap_or(1),
        );
        let (version, tps) = match campaign.latest_campaign_update() {
            Some(u) if u.status() != Some(CREATE_FAILED) => {
                let status = u.status().unwrap_or_default();
                if status != ACTIVE {
                    fields.insert("update_status".into(), status.to_owned());
                }
                (
                    u.solution_version_arn()
                        .map_or_else(|| own.0.clone(), str::to_owned),
                    u.min_provisioned_tps().unwrap_or(own.1),
                )
            }
            _ => own,
        };
        fields.insert("solution_version".into(), version);
        fields.insert("min_provisioned_tps".into(), tps.to_string());
        let status = campaign.status().unwrap_or_default();
        if status == ACTIVE {
            fields.insert("active".into(), TRUE.into());
        } else if !is_unusable(status) {
            fields.insert("active".into(), status.to_owned());
        }
        put_status_field(&mut fields, status);
        put_tag_fields(&mut fields, &tags);
        Ok(Some(Observed::ours(arn, fields, attrs)))
    }

    /// Creates it and waits until it is `ACTIVE`.
    ///
    /// # Errors
    /// An AWS call failed, the solution version is not known (its solution is not trained), a
    /// same-named campaign is not ours, or the campaign failed to create.
    async fn create(&self, cx: &Cx<'_>) -> Result<Attrs, ProviderError> {
        let Cx { aws, resource: r, refs } = *cx;
        let version = refs.known(&self.solution_version).map_err(|reference| {
            Aws::unresolved(&reference)
                .hint("the solution has no trained version yet: run `up` again once its training succeeds")
        })?;
        let tags = personalize_tags(&aws.tags_for(r, &self.tags))?;
        let p = &aws.clients.personalize;
        // A previous run's campaign is adopted before it is ACTIVE (a later run updates what
        // differs); a failed one is replaced.
        let look = || async {
            let Some(existing) = find_named(aws, &self.name).await? else {
                return Ok(None);
            };
            let remove = |arn: String| async move { delete_and_wait(aws, Thing::Campaign, &arn).await };
            adopt_or_remove(aws, r, Thing::Campaign, existing, is_stale, remove).await
        };
        let create = || async {
            let created = aws
                .call("CreateCampaign", || {
                    p.create_campaign()
                        .name(&self.name)
                        .solution_version_arn(&version)
                        .min_provisioned_tps(tps(self))
                        .set_tags(Some(tags.clone()))
                        .send()
                })
                .await;
            match created {
                Ok(out) => returned_arn("CreateCampaign", out.campaign_arn),
                Err(e) if e.is(ErrorKind::InUse) || e.is(ErrorKind::Validation) => Err(e.hint(
                    "a campaign serves an ACTIVE solution version only: check that the solution's training succeeded",
                )),
                Err(e) => Err(e),
            }
        };
        let what = format!("campaign {}", self.name);
        let arn = create_or_adopt("CreateCampaign", &what, look, create).await?;
        wait_active(aws, Thing::Campaign, &arn).await?;
        Ok(attrs_of(&arn, &self.name))
    }

    /// Updates it: tags, and the solution version and throughput with UpdateCampaign (waiting
    /// for an update already under way first, and for this one after).
    ///
    /// # Errors
    /// An AWS call failed, the solution version is not known, or the update failed.
    async fn update(
        &self,
        cx: &Cx<'_>,
        observed: &Observed,
        changes: &[FieldChange],
    ) -> Result<Attrs, ProviderError> {
        let Cx { aws, refs, .. } = *cx;
        let arn = observed.id.as_str();
        if changed(changes, "active") {
            // A run stopped right after CreateCampaign: let it finish (an update needs it ACTIVE).
            wait_active(aws, Thing::Campaign, arn).await?;
        }
        retag(aws, arn, changes).await?;
        let serving_changed = changed(changes, "solution_version") || changed(changes, "min_provisioned_tps");
        if serving_changed || changed(changes, "update_status") {
            // An update under way refuses another (ResourceInUseException): let it finish.
            wait_updated(aws, arn).await?;
        }
        if serving_changed {
            let version = refs
                .known(&self.solution_version)
                .map_err(|reference| Aws::unresolved(&reference))?;
            let p = &aws.clients.personalize;
            aws.call("UpdateCampaign", || {
                p.update_campaign()
                    .campaign_arn(arn)
                    .solution_version_arn(&version)
                    .min_provisioned_tps(tps(self))
                    .send()
            })
            .await?;
            wait_updated(aws, arn).await?;
        }
        Ok(observed.attrs.clone())
    }

    /// Deletes it and waits until it is gone.
    ///
    /// # Errors
    /// An AWS call failed.
    async fn delete(&self, cx: &Cx<'_>, observed: &Observed) -> Result<(), ProviderError> {
        let Cx { aws, .. } = *cx;
        delete_and_wait(aws, Thing::Campaign, &observed.id).await
    }
}

/// The `active` value of an `ACTIVE` campaign.
const TRUE: &str = "true";

/// The campaign this resource is: among the campaigns serving a version of its solution (the
/// version's ARN is `<solution ARN>/<id>`), the one carrying this resource's tags whatever its
/// name (so a renamed campaign is replaced, not left running and billed), else the one called
/// by its name.
async fn find(
    aws: &Aws,
    r: &Resource,
    spec: &Campaign,
    refs: &Resolver,
) -> Result<Option<String>, ProviderError> {
    if let Ok(version) = refs.known(&spec.solution_version)
        && let Some((solution, _)) = version.rsplit_once('/')
        && solution.contains(":solution/")
    {
        let p = &aws.clients.personalize;
        let campaigns = aws
            .list_all(
                "ListCampaigns",
                |token| p.list_campaigns().solution_arn(solution).set_next_token(token).send(),
                |out| (out.campaigns.unwrap_or_default(), out.next_token),
            )
            .await?;
        let mut ours = None;
        for c in campaigns {
            let Some(arn) = c.campaign_arn else { continue };
            if aws.owns(r, &resource_tags(aws, &arn).await?) {
                if c.name.as_deref() == Some(spec.name.as_str()) {
                    return Ok(Some(arn));
                }
                ours.get_or_insert(arn);
            }
        }
        if ours.is_some() {
            return Ok(ours);
        }
    }
    find_named(aws, &spec.name).await
}

/// The ARN of the campaign called `name`, if there is one.
async fn find_named(aws: &Aws, name: &str) -> Result<Option<String>, ProviderError> {
    let p = &aws.clients.personalize;
    let campaigns = aws
        .list_all(
            "ListCampaigns",
            |token| p.list_campaigns().set_next_token(token).send(),
            |out| (out.campaigns.unwrap_or_default(), out.next_token),
        )
        .await?;
    Ok(campaigns
        .into_iter()
        .find(|c| c.name() == Some(name))
        .and_then(|c| c.campaign_arn))
}

/// A campaign that holds the name without serving: being deleted, or failed to create.
fn is_stale(status: &str) -> bool {
    is_deleting(status) || status == CREATE_FAILED
}

fn attrs_of(arn: &str, name: &str) -> Attrs {
    [
        ("arn".to_owned(), arn.to_owned()),
        ("name".to_owned(), name.to_owned()),
    ]
    .into()
}

/// `min_provisioned_tps` as the API takes it (the spec bounds it to `i32`).
fn tps(spec: &Campaign) -> i32 {
    i32::try_from(spec.min_provisioned_tps).unwrap_or(i32::MAX)
}

/// Waits until the campaign's latest update is done (`latestCampaignUpdate.status` `ACTIVE`,
/// or no update at all).
///
/// # Errors
/// The update failed (with Personalize's reason), the campaign disappeared, or the wait
/// timed out.
async fn wait_updated(aws: &Aws, arn: &str) -> Result<(), ProviderError> {
    let p = &aws.clients.personalize;
    aws.wait_for(&format!("campaign {arn} updated"), || async {
        let out = aws
            .call("DescribeCampaign", || {
                p.describe_campaign().campaign_arn(arn).send()
            })
            .await?;
        let Some(update) = out.campaign().and_then(|c| c.latest_campaign_update()) else {
            return Ok(Some(()));
        };
        match update.status() {
            None | Some(ACTIVE) => Ok(Some(())),
            Some(CREATE_FAILED) => Err(crate::call::error(
                "wait",
                "CreateFailed",
                format!(
                    "the update of campaign {arn} failed: {}",
                    update.failure_reason().unwrap_or("AWS gave no reason")
                ),
            )
            .hint("the campaign keeps serving its previous version; fix the cause and run again")),
            Some(_) => Ok(None),
        }
    })
    .await
}
