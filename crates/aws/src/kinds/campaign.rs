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

use super::common::{changed, put_tag_fields};
use super::dataset_group::{
    ACTIVE, CREATE_FAILED, STATUS_REASON, Thing, delete_and_wait, is_deleting, is_unusable, personalize_tags,
    put_status_field, resource_tags, retag, wait_active,
};
use crate::Aws;
use personalize_stack_core::engine::{
    Attrs, Desired, ErrorKind, FieldChange, Fields, Observed, ProviderError, Resolver,
};
use personalize_stack_core::spec::Resource;
use personalize_stack_core::spec::kinds::campaign::Campaign;

/// Desired fields.
///
/// # Errors
/// None today; the signature is shared by every kind.
pub fn desired(aws: &Aws, r: &Resource, spec: &Campaign, refs: &Resolver) -> Result<Desired, ProviderError> {
    let mut fields = Fields::new();
    fields.insert("name".into(), spec.name.clone());
    fields.insert("solution_version".into(), refs.text(&spec.solution_version));
    fields.insert("min_provisioned_tps".into(), spec.min_provisioned_tps.to_string());
    fields.insert("active".into(), TRUE.into());
    put_tag_fields(&mut fields, &aws.tags_for(r, &spec.tags));
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
        let mut ours = None;
        let mut token: Option<String> = None;
        loop {
            let out = aws
                .call("ListCampaigns", || {
                    p.list_campaigns()
                        .solution_arn(solution)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
            for c in out.campaigns() {
                let Some(arn) = c.campaign_arn() else { continue };
                if aws.owns(r, &resource_tags(aws, arn).await?) {
                    if c.name() == Some(spec.name.as_str()) {
                        return Ok(Some(arn.to_owned()));
                    }
                    ours.get_or_insert_with(|| arn.to_owned());
                }
            }
            match out.next_token() {
                Some(t) => token = Some(t.to_owned()),
                None => break,
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
    let mut token: Option<String> = None;
    loop {
        let out = aws
            .call("ListCampaigns", || {
                p.list_campaigns().set_next_token(token.clone()).send()
            })
            .await?;
        if let Some(arn) = out
            .campaigns()
            .iter()
            .find(|c| c.name() == Some(name))
            .and_then(|c| c.campaign_arn())
        {
            return Ok(Some(arn.to_owned()));
        }
        match out.next_token() {
            Some(t) => token = Some(t.to_owned()),
            None => return Ok(None),
        }
    }
}

fn attrs_of(arn: &str, name: &str) -> Attrs {
    [
        ("arn".to_owned(), arn.to_owned()),
        ("name".to_owned(), name.to_owned()),
    ]
    .into()
}

/// Observes it.
///
/// # Errors
/// A read call failed.
pub async fn observe(
    aws: &Aws,
    r: &Resource,
    spec: &Campaign,
    refs: &Resolver,
) -> Result<Option<Observed>, ProviderError> {
    let Some(arn) = find(aws, r, spec, refs).await? else {
        return Ok(None);
    };
    let p = &aws.clients.personalize;
    let described = match aws
        .call("DescribeCampaign", || {
            p.describe_campaign().campaign_arn(&arn).send()
        })
        .await
    {
        Ok(out) => out.campaign,
        Err(e) if e.is(ErrorKind::NotFound) => None,
        Err(e) => return Err(e),
    };
    let Some(campaign) = described else {
        return Ok(None);
    };
    let name = campaign.name().unwrap_or_default().to_owned();
    let attrs = attrs_of(&arn, &name);
    let tags = resource_tags(aws, &arn).await?;
    let owned = aws.owns(r, &tags);
    if !owned {
        return Ok(Some(Observed {
            id: arn,
            owned,
            fields: Fields::new(),
            attrs,
        }));
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
    Ok(Some(Observed {
        id: arn,
        owned,
        fields,
        attrs,
    }))
}

/// `min_provisioned_tps` as the API takes it (the spec bounds it to `i32`).
fn tps(spec: &Campaign) -> i32 {
    i32::try_from(spec.min_provisioned_tps).unwrap_or(i32::MAX)
}

/// Creates it and waits until it is `ACTIVE`.
///
/// # Errors
/// An AWS call failed, the solution version is not known (its solution is not trained), a
/// same-named campaign is not ours, or the campaign failed to create.
pub async fn create(
    aws: &Aws,
    r: &Resource,
    spec: &Campaign,
    refs: &Resolver,
) -> Result<Attrs, ProviderError> {
    let version = refs.known(&spec.solution_version).map_err(|reference| {
        Aws::unresolved(&reference)
            .hint("the solution has no trained version yet: run `up` again once its training succeeds")
    })?;
    let tags = personalize_tags(&aws.tags_for(r, &spec.tags))?;
    let p = &aws.clients.personalize;
    let mut arn = None;
    for _ in 0..2 {
        if let Some(existing) = find_named(aws, &spec.name).await? {
            match super::dataset_group::status_of(aws, Thing::Campaign, &existing).await? {
                // A replaced campaign, or one a destroy left behind, still holds the name.
                Some((s, _)) if is_deleting(&s) || s == CREATE_FAILED => {
                    delete_and_wait(aws, Thing::Campaign, &existing).await?;
                }
                Some(_) => {
                    // A previous run created it and stopped before it was ACTIVE: adopt it if
                    // it is ours (a later run updates what differs).
                    if !aws.owns(r, &resource_tags(aws, &existing).await?) {
                        return Err(crate::call::error(
                            "CreateCampaign",
                            "ResourceAlreadyExistsException",
                            format!("campaign {existing} exists without the tags of this stack"),
                        )
                        .hint("it is never adopted: delete it or give this campaign another name"));
                    }
                    arn = Some(existing);
                    break;
                }
                None => {}
            }
        }
        let created = aws
            .call("CreateCampaign", || {
                p.create_campaign()
                    .name(&spec.name)
                    .solution_version_arn(&version)
                    .min_provisioned_tps(tps(spec))
                    .set_tags(Some(tags.clone()))
                    .send()
            })
            .await;
        match created {
            Ok(out) => {
                arn = out.campaign_arn().map(str::to_owned);
                break;
            }
            // Created meanwhile: look again.
            Err(e) if e.is(ErrorKind::AlreadyExists) => {}
            Err(e) if e.is(ErrorKind::InUse) || e.is(ErrorKind::Validation) => {
                return Err(e.hint(
                    "a campaign serves an ACTIVE solution version only: check that the solution's training succeeded",
                ));
            }
            Err(e) => return Err(e),
        }
    }
    let Some(arn) = arn else {
        return Err(crate::call::error(
            "CreateCampaign",
            "ResourceAlreadyExistsException",
            format!("campaign {} exists but cannot be found", spec.name),
        ));
    };
    wait_active(aws, Thing::Campaign, &arn).await?;
    Ok(attrs_of(&arn, &spec.name))
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

/// Updates it: tags, and the solution version and throughput with UpdateCampaign (waiting
/// for an update already under way first, and for this one after).
///
/// # Errors
/// An AWS call failed, the solution version is not known, or the update failed.
pub async fn update(
    aws: &Aws,
    _r: &Resource,
    spec: &Campaign,
    refs: &Resolver,
    observed: &Observed,
    changes: &[FieldChange],
) -> Result<Attrs, ProviderError> {
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
            .known(&spec.solution_version)
            .map_err(|reference| Aws::unresolved(&reference))?;
        let p = &aws.clients.personalize;
        aws.call("UpdateCampaign", || {
            p.update_campaign()
                .campaign_arn(arn)
                .solution_version_arn(&version)
                .min_provisioned_tps(tps(spec))
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
pub async fn delete(
    aws: &Aws,
    _r: &Resource,
    _spec: &Campaign,
    observed: &Observed,
) -> Result<(), ProviderError> {
    delete_and_wait(aws, Thing::Campaign, &observed.id).await
}
