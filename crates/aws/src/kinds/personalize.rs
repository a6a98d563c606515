//! What the Personalize kinds share: the resources' statuses, waiting for them to be ACTIVE,
//! deleting and waiting until gone, tags, and creating a resource or adopting the one a
//! previous run created.

use super::common::tag_changes;
use crate::Aws;
use aws_sdk_personalize::types::Tag;
use personalize_stack_core::engine::{ErrorKind, FieldChange, Fields, ProviderError};
use personalize_stack_core::spec::Resource;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

/// The Personalize resources this provider manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Thing {
    /// A dataset group.
    DatasetGroup,
    /// A dataset.
    Dataset,
    /// An event tracker.
    EventTracker,
    /// A dataset import job (cannot be deleted).
    DatasetImportJob,
    /// A solution.
    Solution,
    /// A solution version: a trained model (cannot be deleted).
    SolutionVersion,
    /// A campaign.
    Campaign,
}

impl Thing {
    fn noun(self) -> &'static str {
        match self {
            Thing::DatasetGroup => "dataset group",
            Thing::Dataset => "dataset",
            Thing::EventTracker => "event tracker",
            Thing::DatasetImportJob => "dataset import job",
            Thing::Solution => "solution",
            Thing::SolutionVersion => "solution version",
            Thing::Campaign => "campaign",
        }
    }

    /// What to do when it failed to create.
    fn create_failed_hint(self) -> &'static str {
        match self {
            Thing::SolutionVersion => {
                "Personalize trains on at least 1,000 interactions (after the solution's `event_type` and `event_value_threshold` filters) from at least 25 users with two or more each: import more history (`interactions_import`) or record more events, then run `up` again to train a new version"
            }
            Thing::DatasetImportJob => {
                "check that the file exists and is a CSV whose header names the schema's fields (e.g. USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE), and that the role may read it; then run `up` again to import it again"
            }
            _ => "fix the cause and run again: the failed resource is replaced",
        }
    }

    /// How long it may take to become `ACTIVE`: imports and training take tens of minutes on
    /// AWS, far longer than anything else.
    fn patience(self, aws: &Aws) -> std::time::Duration {
        match self {
            Thing::DatasetImportJob | Thing::SolutionVersion => aws.settings.training_timeout,
            _ => aws.settings.wait_timeout,
        }
    }
}

/// Statuses of Personalize resources.
pub(crate) const ACTIVE: &str = "ACTIVE";
/// See [`ACTIVE`].
pub(crate) const CREATE_FAILED: &str = "CREATE FAILED";

/// Whether a status means the resource is on its way out (`DELETE PENDING`, `DELETE
/// IN_PROGRESS`).
pub(crate) fn is_deleting(status: &str) -> bool {
    status.starts_with("DELETE")
}

/// Whether a status makes the resource unusable for good: it has to be replaced. A solution
/// version whose training was stopped (`CREATE STOPPING`, `CREATE STOPPED`) never becomes
/// `ACTIVE` either.
pub(crate) fn is_unusable(status: &str) -> bool {
    is_deleting(status) || status == CREATE_FAILED || status.starts_with("CREATE STOP")
}

/// The status of `arn` and why it failed, if it did; `None` when it does not exist.
pub(crate) async fn status_of(
    aws: &Aws,
    thing: Thing,
    arn: &str,
) -> Result<Option<(String, Option<String>)>, ProviderError> {
    let p = &aws.clients.personalize;
    let found = match thing {
        Thing::DatasetGroup => aws
            .call("DescribeDatasetGroup", || {
                p.describe_dataset_group().dataset_group_arn(arn).send()
            })
            .await
            .map(|o| {
                o.dataset_group().map(|g| {
                    (
                        g.status().unwrap_or_default().to_owned(),
                        g.failure_reason().map(str::to_owned),
                    )
                })
            }),
        Thing::Dataset => aws
            .call("DescribeDataset", || p.describe_dataset().dataset_arn(arn).send())
            .await
            .map(|o| {
                o.dataset()
                    .map(|d| (d.status().unwrap_or_default().to_owned(), None))
            }),
        Thing::EventTracker => aws
            .call("DescribeEventTracker", || {
                p.describe_event_tracker().event_tracker_arn(arn).send()
            })
            .await
            .map(|o| {
                o.event_tracker()
                    .map(|t| (t.status().unwrap_or_default().to_owned(), None))
            }),
        Thing::DatasetImportJob => aws
            .call("DescribeDatasetImportJob", || {
                p.describe_dataset_import_job().dataset_import_job_arn(arn).send()
            })
            .await
            .map(|o| {
                o.dataset_import_job().map(|j| {
                    (
                        j.status().unwrap_or_default().to_owned(),
                        j.failure_reason().map(str::to_owned),
                    )
                })
            }),
        Thing::Solution => aws
            .call("DescribeSolution", || {
                p.describe_solution().solution_arn(arn).send()
            })
            .await
            .map(|o| {
                o.solution()
                    .map(|s| (s.status().unwrap_or_default().to_owned(), None))
            }),
        Thing::SolutionVersion => aws
            .call("DescribeSolutionVersion", || {
                p.describe_solution_version().solution_version_arn(arn).send()
            })
            .await
            .map(|o| {
                o.solution_version().map(|v| {
                    (
                        v.status().unwrap_or_default().to_owned(),
                        v.failure_reason().map(str::to_owned),
                    )
                })
            }),
        Thing::Campaign => aws
            .call("DescribeCampaign", || {
                p.describe_campaign().campaign_arn(arn).send()
            })
            .await
            .map(|o| {
                o.campaign().map(|c| {
                    (
                        c.status().unwrap_or_default().to_owned(),
                        c.failure_reason().map(str::to_owned),
                    )
                })
            }),
    };
    match found {
        Ok(v) => Ok(v),
        Err(e) if e.is(ErrorKind::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Waits until `arn` is `ACTIVE`.
///
/// # Errors
/// It failed to create (with AWS's reason), disappeared, is being deleted, or the wait timed
/// out.
pub(crate) async fn wait_active(aws: &Aws, thing: Thing, arn: &str) -> Result<(), ProviderError> {
    let what = format!("{} {arn} ACTIVE", thing.noun());
    aws.wait_for_within(&what, thing.patience(aws), || async {
        match status_of(aws, thing, arn).await? {
            None => Err(crate::call::error(
                "wait",
                "ResourceNotFoundException",
                format!(
                    "{} {arn} disappeared while waiting for it to become ACTIVE",
                    thing.noun()
                ),
            )
            .hint("something else deleted it; run again to create it")),
            Some((s, _)) if s == ACTIVE => Ok(Some(())),
            Some((s, reason)) if s == CREATE_FAILED => Err(crate::call::error(
                "wait",
                "CreateFailed",
                format!(
                    "{} {arn} failed to create: {}",
                    thing.noun(),
                    reason.unwrap_or_else(|| "AWS gave no reason".to_owned())
                ),
            )
            .hint(thing.create_failed_hint())),
            Some((s, _)) if is_deleting(&s) => Err(crate::call::error(
                "wait",
                "ResourceInUseException",
                format!("{} {arn} is being deleted ({s})", thing.noun()),
            )
            .hint("run again once it is gone")),
            Some((s, _)) if s.starts_with("CREATE STOP") => Err(crate::call::error(
                "wait",
                "CreateStopped",
                format!("{} {arn} was stopped before it was ready ({s})", thing.noun()),
            )
            .hint("run again to train a new version")),
            Some(_) => Ok(None),
        }
    })
    .await
}

/// Polls in a row a resource may answer "in use" while `ACTIVE` before that is taken as
/// real: right after a dependent's deletion finished, the service may not know it yet.
const IN_USE_POLLS: u32 = 10;

/// Deletes `arn` and waits until it is gone. Describes before deleting: a delete already
/// under way is waited for (a second DeleteX would fail with `ResourceInUseException`), and a
/// resource still being created is waited for until it can be deleted.
///
/// # Errors
/// A call failed, something outside the stack keeps the resource in use, or the wait timed
/// out.
pub(crate) async fn delete_and_wait(aws: &Aws, thing: Thing, arn: &str) -> Result<(), ProviderError> {
    let p = &aws.clients.personalize;
    let in_use = AtomicU32::new(0);
    let what = format!("{} {arn} deleted", thing.noun());
    aws.wait_for(&what, || async {
        let Some((status, _)) = status_of(aws, thing, arn).await? else {
            return Ok(Some(()));
        };
        if status != ACTIVE && status != CREATE_FAILED {
            // Being created or deleted: look again on the next poll.
            return Ok(None);
        }
        let deleted = match thing {
            Thing::DatasetGroup => aws
                .call("DeleteDatasetGroup", || {
                    p.delete_dataset_group().dataset_group_arn(arn).send()
                })
                .await
                .map(|_| ()),
            Thing::Dataset => aws
                .call("DeleteDataset", || p.delete_dataset().dataset_arn(arn).send())
                .await
                .map(|_| ()),
            Thing::EventTracker => aws
                .call("DeleteEventTracker", || {
                    p.delete_event_tracker().event_tracker_arn(arn).send()
                })
                .await
                .map(|_| ()),
            Thing::Solution => aws
                .call("DeleteSolution", || p.delete_solution().solution_arn(arn).send())
                .await
                .map(|_| ()),
            Thing::Campaign => aws
                .call("DeleteCampaign", || p.delete_campaign().campaign_arn(arn).send())
                .await
                .map(|_| ()),
            Thing::DatasetImportJob | Thing::SolutionVersion => {
                return Err(crate::call::error(
                    "delete",
                    "NotDeletable",
                    format!(
                        "a {} cannot be deleted; it goes with its {}",
                        thing.noun(),
                        if thing == Thing::SolutionVersion { "solution" } else { "dataset" }
                    ),
                ));
            }
        };
        match deleted {
            Ok(()) => Ok(None),
            Err(e) if e.is(ErrorKind::NotFound) => Ok(Some(())),
            Err(e) if e.is(ErrorKind::InUse) => {
                if in_use.fetch_add(1, Ordering::SeqCst) + 1 < IN_USE_POLLS {
                    return Ok(None);
                }
                Err(e.hint(match thing {
                    Thing::DatasetGroup => "the dataset group still holds resources this stack does not manage (event trackers, solutions, campaigns, recommenders, filters, datasets); delete them and run again",
                    Thing::Solution => "a campaign outside this stack serves one of its versions; delete that campaign (or point it at another version) and run again",
                    _ => "something outside this stack still uses it; delete that and run again",
                }))
            }
            Err(e) => Err(e),
        }
    })
    .await
}

/// Personalize tags from a map.
pub(crate) fn personalize_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .tag_key(k)
                .tag_value(v)
                .build()
                .map_err(|e| crate::call::error("tags", "InvalidTag", e.to_string()))
        })
        .collect()
}

/// Every tag of `arn`.
pub(crate) async fn resource_tags(aws: &Aws, arn: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    let p = &aws.clients.personalize;
    let out = aws
        .call("ListTagsForResource", || {
            p.list_tags_for_resource().resource_arn(arn).send()
        })
        .await?;
    Ok(out
        .tags()
        .iter()
        .map(|t| (t.tag_key().to_owned(), t.tag_value().to_owned()))
        .collect())
}

/// Applies the tag changes among `changes` to `arn`.
pub(crate) async fn retag(aws: &Aws, arn: &str, changes: &[FieldChange]) -> Result<(), ProviderError> {
    let p = &aws.clients.personalize;
    let (set, remove) = tag_changes(changes);
    if !set.is_empty() {
        let tags = personalize_tags(&set)?;
        aws.call("TagResource", || {
            p.tag_resource()
                .resource_arn(arn)
                .set_tags(Some(tags.clone()))
                .send()
        })
        .await?;
    }
    if !remove.is_empty() {
        aws.call("UntagResource", || {
            p.untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(remove.clone()))
                .send()
        })
        .await?;
    }
    Ok(())
}

/// The `status` field: present only when the resource is unusable and must be replaced.
pub(crate) fn put_status_field(fields: &mut Fields, status: &str) {
    if is_unusable(status) {
        fields.insert("status".into(), status.to_owned());
    }
}

/// Why a `status` field replaces the resource.
pub(crate) const STATUS_REASON: &str = "it failed to create or is being deleted; it is created again";

/// Creates a resource, or adopts the one a previous run created (it stopped after the create
/// call, or lost its answer). `look` finds one under the resource's name and says whether to
/// use it, having removed a stale one or refused one that is not ours itself; `create` makes
/// it and gives its ARN. "Already exists" from `create` means one appeared meanwhile: look
/// again, once.
///
/// # Errors
/// `look`'s or `create`'s error, or `what` exists but cannot be found.
pub(crate) async fn create_or_adopt<L, LF, C, CF>(
    operation: &'static str,
    what: &str,
    look: L,
    create: C,
) -> Result<String, ProviderError>
where
    L: Fn() -> LF,
    LF: Future<Output = Result<Option<String>, ProviderError>>,
    C: Fn() -> CF,
    CF: Future<Output = Result<String, ProviderError>>,
{
    for _ in 0..2 {
        if let Some(existing) = look().await? {
            return Ok(existing);
        }
        match create().await {
            Ok(arn) => return Ok(arn),
            Err(e) if e.is(ErrorKind::AlreadyExists) => {}
            Err(e) => return Err(e),
        }
    }
    Err(crate::call::error(
        operation,
        "ResourceAlreadyExistsException",
        format!("{what} exists but cannot be found"),
    ))
}

/// What to make of `existing`, a tagged Personalize resource found under the name of
/// `resource`: `None` when it is gone, or was `stale` (a replaced one, or one a destroy left
/// behind, still holds the name) and has been deleted with `remove`; itself when it is this
/// stack's; refused otherwise.
///
/// # Errors
/// A call failed, or `existing` is not ours.
pub(crate) async fn adopt_or_remove<R, RF>(
    aws: &Aws,
    resource: &Resource,
    thing: Thing,
    existing: String,
    stale: fn(&str) -> bool,
    remove: R,
) -> Result<Option<String>, ProviderError>
where
    R: FnOnce(String) -> RF,
    RF: Future<Output = Result<(), ProviderError>>,
{
    match status_of(aws, thing, &existing).await? {
        Some((status, _)) if stale(&status) => {
            remove(existing).await?;
            Ok(None)
        }
        Some(_) if aws.owns(resource, &resource_tags(aws, &existing).await?) => Ok(Some(existing)),
        Some(_) => Err(ProviderError::not_ours(
            "adopt",
            format_args!("{} {existing}", thing.noun()),
        )),
        None => Ok(None),
    }
}

/// The ARN a create call answered with.
///
/// # Errors
/// The answer has none.
pub(crate) fn returned_arn(operation: &'static str, arn: Option<String>) -> Result<String, ProviderError> {
    arn.filter(|a| !a.is_empty())
        .ok_or_else(|| crate::call::error(operation, "NoArn", "the answer carries no ARN"))
}
