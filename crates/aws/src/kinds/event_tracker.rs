//! `personalize_event_tracker`: the event tracker whose tracking ID the forwarder sends
//! events with. A dataset group holds at most one, and a tracker cannot be updated.
//!
//! Fields compared: `name`, `dataset_group` (its ARN), `tags.<key>`, and `status` (present
//! only when it failed to create or is being deleted). A new name or group replaces it.
//!
//! Found by its dataset group first: because a group holds one tracker, the tracker to
//! replace after a rename is the one in our group that carries our tags, not the one with the
//! new name (which does not exist yet). Without a known group, or when the group holds none
//! of ours, it is found by name.

use super::{Cx, ResourceKind};
use crate::call::Absent as _;
use super::common::put_tag_fields;
use super::personalize::{
    STATUS_REASON, Thing, delete_and_wait, personalize_tags, put_status_field, resource_tags, retag,
    wait_active,
};
use crate::Aws;
use personalize_stack_core::engine::{
    Attrs, Desired, ErrorKind, FieldChange, Fields, Observed, ProviderError, Resolver,
};
use personalize_stack_core::spec::Resource;
use personalize_stack_core::spec::kinds::event_tracker::EventTracker;

impl ResourceKind for EventTracker {
    fn desired(&self, cx: &Cx<'_>) -> Result<Desired, ProviderError> {
        let Cx { aws, resource: r, refs } = *cx;
        let mut fields = Fields::new();
        fields.insert("name".into(), self.name.clone());
        fields.insert("dataset_group".into(), refs.text(&self.dataset_group));
        put_tag_fields(&mut fields, &aws.tags_for(r, &self.tags));
        let cannot = "an event tracker cannot be updated".to_owned();
        Ok(Desired {
            fields,
            replace_on: [
                ("name".to_owned(), cannot.clone()),
                ("dataset_group".to_owned(), cannot),
                ("status".to_owned(), STATUS_REASON.to_owned()),
            ]
            .into(),
            ..Desired::default()
        })
    }

    async fn observe(&self, cx: &Cx<'_>) -> Result<Option<Observed>, ProviderError> {
        let Cx { aws, resource: r, refs } = *cx;
        let Some((arn, owned)) = find(aws, r, self, refs).await? else {
            return Ok(None);
        };
        let p = &aws.clients.personalize;
        let described = aws
            .call("DescribeEventTracker", || {
                p.describe_event_tracker().event_tracker_arn(&arn).send()
            })
            .await
            .found()?
            .and_then(|out| out.event_tracker);
        let Some(tracker) = described else {
            return Ok(None);
        };
        let name = tracker.name().unwrap_or_default().to_owned();
        let mut attrs: Attrs = [("arn".to_owned(), arn.clone()), ("name".to_owned(), name.clone())].into();
        if let Some(id) = tracker.tracking_id() {
            attrs.insert("tracking_id".into(), id.to_owned());
        }
        if !owned {
            return Ok(Some(Observed::foreign(arn, attrs)));
        }
        let mut fields = Fields::new();
        fields.insert("name".into(), name);
        fields.insert(
            "dataset_group".into(),
            tracker.dataset_group_arn().unwrap_or_default().to_owned(),
        );
        put_status_field(&mut fields, tracker.status().unwrap_or_default());
        put_tag_fields(&mut fields, &resource_tags(aws, &arn).await?);
        Ok(Some(Observed::ours(arn, fields, attrs)))
    }

    /// Creates it and waits until it is ACTIVE (its tracking ID is only usable then).
    ///
    /// # Errors
    /// An AWS call failed, the group is not known, the tracker failed to create, or the group
    /// already holds a tracker that is not ours.
    async fn create(&self, cx: &Cx<'_>) -> Result<Attrs, ProviderError> {
        let Cx { aws, resource: r, refs } = *cx;
        let group = refs
            .known(&self.dataset_group)
            .map_err(|reference| Aws::unresolved(&reference))?;
        let tags = personalize_tags(&aws.tags_for(r, &self.tags))?;
        let p = &aws.clients.personalize;
        let created = aws
            .call("CreateEventTracker", || {
                p.create_event_tracker()
                    .name(&self.name)
                    .dataset_group_arn(&group)
                    .set_tags(Some(tags.clone()))
                    .send()
            })
            .await;
        let arn = match created {
            Ok(out) => out.event_tracker_arn().unwrap_or_default().to_owned(),
            // A previous run created it and stopped before it was ACTIVE: adopt it if it is
            // ours, this name and in this group.
            Err(e) if e.is(ErrorKind::AlreadyExists) => {
                let found = self.observe(cx).await?;
                match found {
                    Some(o)
                        if o.owned
                            && o.fields.get("name") == Some(&self.name)
                            && o.fields.get("dataset_group") == Some(&group)
                            && !o.fields.contains_key("status") =>
                    {
                        o.id
                    }
                    _ => {
                        return Err(e.hint(
                            "a dataset group holds one event tracker, and tracker names are unique in a region: delete the tracker in the way or choose another name",
                        ));
                    }
                }
            }
            Err(e) => return Err(e),
        };
        wait_active(aws, Thing::EventTracker, &arn).await?;
        // The tracking ID comes from the description: an adopted tracker has no create output.
        let Some(observed) = self.observe(cx).await? else {
            return Err(crate::call::error(
                "DescribeEventTracker",
                "ResourceNotFoundException",
                format!("event tracker {arn} disappeared after it was created"),
            ));
        };
        Ok(observed.attrs)
    }

    /// Updates it: only its tags can change.
    ///
    /// # Errors
    /// An AWS call failed.
    async fn update(
        &self,
        cx: &Cx<'_>,
        observed: &Observed,
        changes: &[FieldChange],
    ) -> Result<Attrs, ProviderError> {
        let Cx { aws, .. } = *cx;
        retag(aws, &observed.id, changes).await?;
        Ok(observed.attrs.clone())
    }

    /// Deletes it and waits until it is gone.
    ///
    /// # Errors
    /// An AWS call failed.
    async fn delete(&self, cx: &Cx<'_>, observed: &Observed) -> Result<(), ProviderError> {
        let Cx { aws, .. } = *cx;
        delete_and_wait(aws, Thing::EventTracker, &observed.id).await
    }
}

/// Event trackers (name, ARN), of dataset group `group` or of the whole account and region.
pub(crate) async fn list_trackers(
    aws: &Aws,
    group: Option<&str>,
) -> Result<Vec<(String, String)>, ProviderError> {
    let p = &aws.clients.personalize;
    let trackers = aws
        .list_all(
            "ListEventTrackers",
            |token| {
                p.list_event_trackers()
                    .set_dataset_group_arn(group.map(str::to_owned))
                    .set_next_token(token)
                    .send()
            },
            |out| (out.event_trackers.unwrap_or_default(), out.next_token),
        )
        .await?;
    Ok(trackers
        .into_iter()
        .filter_map(|t| Some((t.name?, t.event_tracker_arn?)))
        .collect())
}

/// The tracker this resource is, if any: (ARN, owned).
async fn find(
    aws: &Aws,
    r: &Resource,
    spec: &EventTracker,
    refs: &Resolver,
) -> Result<Option<(String, bool)>, ProviderError> {
    if let Ok(group) = refs.known(&spec.dataset_group) {
        let in_group = list_trackers(aws, Some(&group)).await?;
        let mut foreign = None;
        for (name, arn) in in_group {
            if aws.owns(r, &resource_tags(aws, &arn).await?) {
                return Ok(Some((arn, true)));
            }
            // The group's one tracker is someone else's: it blocks ours whatever its name.
            if foreign.is_none() || name == spec.name {
                foreign = Some(arn);
            }
        }
        if let Some(arn) = foreign {
            return Ok(Some((arn, false)));
        }
    }
    let Some((_, arn)) = list_trackers(aws, None)
        .await?
        .into_iter()
        .find(|(name, _)| *name == spec.name)
    else {
        return Ok(None);
    };
    let owned = aws.owns(r, &resource_tags(aws, &arn).await?);
    Ok(Some((arn, owned)))
}
