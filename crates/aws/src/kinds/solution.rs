//! `personalize_solution`: a solution (recipe, dataset group, what to train on) and its
//! trained model, the newest `ACTIVE` solution version.
//!
//! Fields compared: `name`, `dataset_group` (its ARN), `recipe` (its ARN), `event_type` and
//! `event_value_threshold` (when set), `tags.<key>`, `status` (present only when the solution
//! failed to create or is being deleted), and `trained`: `true` once a version is `ACTIVE`;
//! otherwise `training` while the newest version is being created, `failed` when it failed,
//! absent without any version. A solution cannot be updated, so every field but the tags and
//! `trained` replaces it; a `trained` change trains a new version (so a stack whose training
//! failed is repaired by `up` once there is enough data).
//!
//! Found among its dataset group's solutions by this resource's tags (so a renamed solution
//! is replaced, not left behind), else by name (solution names are unique in a region: the
//! ARN is `solution/<name>`). Deleting removes the stack's campaigns that
//! serve one of its versions first (a replacement: their own step creates them again), and
//! stops its versions still training (Personalize refuses to delete a solution while one
//! trains: training can take hours), then deletes the solution, waiting until it is gone;
//! its versions go with it.

use super::{Cx, ResourceKind};
use crate::call::Absent as _;
use super::common::{changed, put_tag_fields};
use super::personalize::{
    adopt_or_remove, create_or_adopt, returned_arn,
    ACTIVE, STATUS_REASON, Thing, delete_and_wait, is_unusable, personalize_tags, put_status_field,
    resource_tags, retag, wait_active,
};
use crate::{Aws, STACK_TAG};
use aws_sdk_personalize::types::{SolutionConfig, TrainingMode};
use personalize_stack_core::engine::{
    Attrs, Desired, ErrorKind, FieldChange, Fields, Observed, ProviderError, Resolver,
};
use personalize_stack_core::spec::Resource;
use personalize_stack_core::spec::kinds::solution::Solution;

/// The `trained` value once a version is `ACTIVE`.
const TRAINED: &str = "true";
/// The `trained` value while the newest version is being created.
const TRAINING: &str = "training";
/// The `trained` value when the newest version failed (and none is `ACTIVE`).
const FAILED: &str = "failed";

impl ResourceKind for Solution {
    fn desired(&self, cx: &Cx<'_>) -> Result<Desired, ProviderError> {
        let Cx { aws, resource: r, refs } = *cx;
        let mut fields = Fields::new();
        fields.insert("name".into(), self.name.clone());
        fields.insert("dataset_group".into(), refs.text(&self.dataset_group));
        fields.insert("recipe".into(), self.recipe_arn.clone());
        if let Some(t) = &self.event_type {
            fields.insert("event_type".into(), t.clone());
        }
        if let Some(t) = self.event_value_threshold_text() {
            fields.insert("event_value_threshold".into(), t);
        }
        fields.insert("trained".into(), TRAINED.into());
        put_tag_fields(&mut fields, &aws.tags_for(r, &self.tags));
        let cannot = "a solution cannot be updated once created".to_owned();
        Ok(Desired {
            fields,
            replace_on: [
                ("name".to_owned(), cannot.clone()),
                ("dataset_group".to_owned(), cannot.clone()),
                ("recipe".to_owned(), cannot.clone()),
                ("event_type".to_owned(), cannot.clone()),
                ("event_value_threshold".to_owned(), cannot),
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
            .call("DescribeSolution", || {
                p.describe_solution().solution_arn(&arn).send()
            })
            .await
            .found()?
            .and_then(|out| out.solution);
        let Some(solution) = described else {
            return Ok(None);
        };
        let name = solution.name().unwrap_or_default().to_owned();
        let mut attrs: Attrs = [("arn".to_owned(), arn.clone()), ("name".to_owned(), name.clone())].into();
        let tags = resource_tags(aws, &arn).await?;
        let owned = aws.owns(r, &tags);
        if !owned {
            return Ok(Some(Observed::foreign(arn, attrs)));
        }
        let status = solution.status().unwrap_or_default();
        let (active, trained) = if is_unusable(status) {
            (None, None)
        } else {
            let since = solution.creation_date_time().map_or(0.0, |t| t.as_secs_f64());
            training_state(&versions(aws, &arn, since).await?)
        };
        if let Some(version) = active {
            attrs.insert("solution_version_arn".into(), version);
        }
        let mut fields = Fields::new();
        fields.insert("name".into(), name);
        fields.insert(
            "dataset_group".into(),
            solution.dataset_group_arn().unwrap_or_default().to_owned(),
        );
        fields.insert(
            "recipe".into(),
            solution.recipe_arn().unwrap_or_default().to_owned(),
        );
        if let Some(t) = solution.event_type().filter(|t| !t.is_empty()) {
            fields.insert("event_type".into(), t.to_owned());
        }
        if let Some(t) = solution
            .solution_config()
            .and_then(SolutionConfig::event_value_threshold)
        {
            fields.insert("event_value_threshold".into(), t.to_owned());
        }
        if let Some(t) = trained {
            fields.insert("trained".into(), t.to_owned());
        }
        put_status_field(&mut fields, status);
        put_tag_fields(&mut fields, &tags);
        Ok(Some(Observed::ours(arn, fields, attrs)))
    }

    /// Creates it (without automatic training: the stack trains explicitly), waits until it is
    /// `ACTIVE`, then trains a version and waits for that.
    ///
    /// # Errors
    /// An AWS call failed, the group is not known, a same-named solution is not ours, or the
    /// solution or its training failed (with Personalize's reason and a hint).
    async fn create(&self, cx: &Cx<'_>) -> Result<Attrs, ProviderError> {
        let Cx { aws, resource: r, refs } = *cx;
        let group = refs
            .known(&self.dataset_group)
            .map_err(|reference| Aws::unresolved(&reference))?;
        let tags = personalize_tags(&aws.tags_for(r, &self.tags))?;
        let p = &aws.clients.personalize;
        let config = self
            .event_value_threshold_text()
            .map(|t| SolutionConfig::builder().event_value_threshold(t).build());
        // A previous run's solution is adopted before it is trained; a failed one is replaced.
        let look = || async {
            let Some(existing) = find_named(aws, self, refs).await? else {
                return Ok(None);
            };
            let remove = |arn: String| async move { delete_with_campaigns(aws, &arn).await };
            adopt_or_remove(aws, r, Thing::Solution, existing, is_unusable, remove).await
        };
        let create = || async {
            let out = aws
                .call("CreateSolution", || {
                    p.create_solution()
                        .name(&self.name)
                        .dataset_group_arn(&group)
                        .recipe_arn(&self.recipe_arn)
                        .set_event_type(self.event_type.clone())
                        .perform_auto_training(false)
                        .set_solution_config(config.clone())
                        .set_tags(Some(tags.clone()))
                        .send()
                })
                .await?;
            returned_arn("CreateSolution", out.solution_arn)
        };
        let what = format!("solution {}", self.name);
        let arn = create_or_adopt("CreateSolution", &what, look, create).await?;
        wait_active(aws, Thing::Solution, &arn).await?;
        let version = ensure_trained(aws, r, self, &arn).await?;
        Ok(attrs_of(&arn, &self.name, version))
    }

    /// Updates it: its tags, and a new trained version when none is `ACTIVE`.
    ///
    /// # Errors
    /// An AWS call failed, or training failed.
    async fn update(
        &self,
        cx: &Cx<'_>,
        observed: &Observed,
        changes: &[FieldChange],
    ) -> Result<Attrs, ProviderError> {
        let Cx { aws, resource: r, .. } = *cx;
        retag(aws, &observed.id, changes).await?;
        let mut attrs = observed.attrs.clone();
        if changed(changes, "trained") {
            // A run stopped right after CreateSolution leaves it being created: training has to
            // wait for it.
            wait_active(aws, Thing::Solution, &observed.id).await?;
            let version = ensure_trained(aws, r, self, &observed.id).await?;
            attrs.insert("solution_version_arn".into(), version);
        }
        Ok(attrs)
    }

    /// Deletes it (after the stack's campaigns serving it, on a replacement) and waits until it
    /// is gone.
    ///
    /// # Errors
    /// An AWS call failed, or a campaign outside the stack serves it.
    async fn delete(&self, cx: &Cx<'_>, observed: &Observed) -> Result<(), ProviderError> {
        let Cx { aws, .. } = *cx;
        delete_with_campaigns(aws, &observed.id).await
    }
}

/// Solutions (name, ARN), of dataset group `group` or of the whole account and region.
pub(crate) async fn list_solutions(
    aws: &Aws,
    group: Option<&str>,
) -> Result<Vec<(String, String)>, ProviderError> {
    let p = &aws.clients.personalize;
    let solutions = aws
        .list_all(
            "ListSolutions",
            |token| {
                p.list_solutions()
                    .set_dataset_group_arn(group.map(str::to_owned))
                    .set_next_token(token)
                    .send()
            },
            |out| (out.solutions.unwrap_or_default(), out.next_token),
        )
        .await?;
    Ok(solutions
        .into_iter()
        .filter_map(|s| Some((s.name?, s.solution_arn?)))
        .collect())
}

/// The solution this resource is: the one in its group carrying this resource's tags, whatever
/// its name (so a renamed solution is replaced, not left behind), else the one called by its
/// name.
async fn find(
    aws: &Aws,
    r: &Resource,
    spec: &Solution,
    refs: &Resolver,
) -> Result<Option<String>, ProviderError> {
    if let Ok(group) = refs.known(&spec.dataset_group) {
        let mut ours = None;
        for (name, arn) in list_solutions(aws, Some(&group)).await? {
            if aws.owns(r, &resource_tags(aws, &arn).await?) {
                if name == spec.name {
                    return Ok(Some(arn));
                }
                ours.get_or_insert(arn);
            }
        }
        if ours.is_some() {
            return Ok(ours);
        }
    }
    find_named(aws, spec, refs).await
}

/// The ARN of the solution called `name`: among the group's solutions when the group is
/// known, else (a group not created yet, or a solution left in another group) in the region.
async fn find_named(aws: &Aws, spec: &Solution, refs: &Resolver) -> Result<Option<String>, ProviderError> {
    if let Ok(group) = refs.known(&spec.dataset_group)
        && let Some((_, arn)) = list_solutions(aws, Some(&group))
            .await?
            .into_iter()
            .find(|(name, _)| *name == spec.name)
    {
        return Ok(Some(arn));
    }
    Ok(list_solutions(aws, None)
        .await?
        .into_iter()
        .find(|(name, _)| *name == spec.name)
        .map(|(_, arn)| arn))
}

/// A solution's versions: (ARN, status, creation time in seconds), newest first. Versions
/// created before `since` (the solution's creation) are left out: they belonged to an earlier
/// solution of the same name, and so the same ARN.
async fn versions(
    aws: &Aws,
    solution: &str,
    since: f64,
) -> Result<Vec<(String, String, f64)>, ProviderError> {
    let p = &aws.clients.personalize;
    let listed = aws
        .list_all(
            "ListSolutionVersions",
            |token| p.list_solution_versions().solution_arn(solution).set_next_token(token).send(),
            |out| (out.solution_versions.unwrap_or_default(), out.next_token),
        )
        .await?;
    let mut found: Vec<(String, String, f64)> = listed
        .into_iter()
        .filter_map(|v| {
            let created = v.creation_date_time().map_or(0.0, |t| t.as_secs_f64());
            Some((v.solution_version_arn?, v.status.unwrap_or_default(), created))
        })
        .collect();
    found.retain(|v| v.2 >= since);
    // The list's order is not documented: sort it (stable, so equal times keep theirs).
    found.sort_by(|a, b| b.2.total_cmp(&a.2));
    Ok(found)
}

/// What the versions say: the newest `ACTIVE` one (what a campaign should serve), and the
/// `trained` field.
fn training_state(versions: &[(String, String, f64)]) -> (Option<String>, Option<&'static str>) {
    let active = versions
        .iter()
        .find(|(_, status, _)| status == ACTIVE)
        .map(|(arn, _, _)| arn.clone());
    let trained = match (&active, versions.first()) {
        (Some(_), _) => Some(TRAINED),
        (None, None) => None,
        (None, Some((_, status, _))) if is_unusable(status) => Some(FAILED),
        (None, Some(_)) => Some(TRAINING),
    };
    (active, trained)
}

/// When `solution` was created, in seconds since the epoch.
async fn created_at(aws: &Aws, solution: &str) -> Result<f64, ProviderError> {
    let p = &aws.clients.personalize;
    let out = aws
        .call("DescribeSolution", || {
            p.describe_solution().solution_arn(solution).send()
        })
        .await?;
    Ok(out
        .solution()
        .and_then(|s| s.creation_date_time())
        .map_or(0.0, |t| t.as_secs_f64()))
}

/// A trained version of `solution` (which must be `ACTIVE`): the newest `ACTIVE` one, else the
/// one being created (waited for), else a new one (`FULL` training, waited for). Returns its
/// ARN.
async fn ensure_trained(
    aws: &Aws,
    r: &Resource,
    spec: &Solution,
    solution: &str,
) -> Result<String, ProviderError> {
    let existing = versions(aws, solution, created_at(aws, solution).await?).await?;
    if let (Some(active), _) = training_state(&existing) {
        return Ok(active);
    }
    if let Some((arn, status, _)) = existing.first()
        && !is_unusable(status)
    {
        // A previous run started training and stopped: wait for it rather than train twice.
        wait_active(aws, Thing::SolutionVersion, arn).await?;
        return Ok(arn.clone());
    }
    let tags = personalize_tags(&aws.tags_for(r, &spec.tags))?;
    let p = &aws.clients.personalize;
    let out = aws
        .call("CreateSolutionVersion", || {
            p.create_solution_version()
                .solution_arn(solution)
                .training_mode(TrainingMode::Full)
                .set_tags(Some(tags.clone()))
                .send()
        })
        .await?;
    let arn = out.solution_version_arn().unwrap_or_default().to_owned();
    wait_active(aws, Thing::SolutionVersion, &arn).await?;
    Ok(arn)
}

fn attrs_of(arn: &str, name: &str, version: String) -> Attrs {
    [
        ("arn".to_owned(), arn.to_owned()),
        ("name".to_owned(), name.to_owned()),
        ("solution_version_arn".to_owned(), version),
    ]
    .into()
}

/// The campaigns serving a version of `solution`: (ARN, whether this stack owns one).
async fn campaigns_of(aws: &Aws, solution: &str) -> Result<Vec<(String, bool)>, ProviderError> {
    let p = &aws.clients.personalize;
    let campaigns = aws
        .list_all(
            "ListCampaigns",
            |token| p.list_campaigns().solution_arn(solution).set_next_token(token).send(),
            |out| (out.campaigns.unwrap_or_default(), out.next_token),
        )
        .await?;
    let mut found = Vec::new();
    for arn in campaigns.into_iter().filter_map(|c| c.campaign_arn) {
        let ours = resource_tags(aws, &arn).await?.get(STACK_TAG) == Some(&aws.stack);
        found.push((arn, ours));
    }
    Ok(found)
}

/// Deletes `solution` after this stack's campaigns serving it (a campaign keeps a solution in
/// use), waiting for each. A campaign outside the stack is left alone: the solution's
/// deletion then fails with a hint.
pub(crate) async fn delete_with_campaigns(aws: &Aws, solution: &str) -> Result<(), ProviderError> {
    for (campaign, ours) in campaigns_of(aws, solution).await? {
        if ours {
            delete_and_wait(aws, Thing::Campaign, &campaign).await?;
        }
    }
    stop_training(aws, solution).await?;
    delete_and_wait(aws, Thing::Solution, solution).await
}

/// Whether a version's status means it is still being created or stopped.
fn still_training(status: &str) -> bool {
    matches!(
        status,
        "CREATE PENDING" | "CREATE IN_PROGRESS" | "CREATE STOPPING"
    )
}

/// Stops the versions of `solution` still training and waits until none is.
async fn stop_training(aws: &Aws, solution: &str) -> Result<(), ProviderError> {
    let p = &aws.clients.personalize;
    let Some(since) = created_at_if_exists(aws, solution).await? else {
        return Ok(());
    };
    for (version, status, _) in versions(aws, solution, since).await? {
        if status == "CREATE STOPPING" || !still_training(&status) {
            continue;
        }
        let stopped = aws
            .call("StopSolutionVersionCreation", || {
                p.stop_solution_version_creation()
                    .solution_version_arn(&version)
                    .send()
            })
            .await;
        match stopped {
            Ok(_) => {}
            // It finished, failed or went meanwhile: nothing left to stop.
            Err(e) if e.is(ErrorKind::InUse) || e.is(ErrorKind::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    aws.wait_for(&format!("training of solution {solution} stopped"), || async {
        let training = versions(aws, solution, since)
            .await?
            .iter()
            .any(|(_, status, _)| still_training(status));
        Ok((!training).then_some(()))
    })
    .await
}

/// [`created_at`], or `None` when the solution is gone.
async fn created_at_if_exists(aws: &Aws, solution: &str) -> Result<Option<f64>, ProviderError> {
    match created_at(aws, solution).await {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.is(ErrorKind::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::training_state;

    fn v(arn: &str, status: &str, t: f64) -> (String, String, f64) {
        (arn.to_owned(), status.to_owned(), t)
    }

    #[test]
    fn trained_means_an_active_version_exists() {
        assert_eq!(training_state(&[]), (None, None));
        assert_eq!(
            training_state(&[v("s/2", "CREATE FAILED", 2.0), v("s/1", "ACTIVE", 1.0)]),
            (Some("s/1".to_owned()), Some("true"))
        );
        assert_eq!(
            training_state(&[v("s/1", "CREATE FAILED", 1.0)]),
            (None, Some("failed"))
        );
        assert_eq!(
            training_state(&[
                v("s/2", "CREATE IN_PROGRESS", 2.0),
                v("s/1", "CREATE FAILED", 1.0)
            ]),
            (None, Some("training"))
        );
        // Training stopped by hand (StopSolutionVersionCreation) will not finish: train again.
        for stopped in ["CREATE STOPPING", "CREATE STOPPED"] {
            assert_eq!(training_state(&[v("s/1", stopped, 1.0)]), (None, Some("failed")));
        }
    }
}
