//! `personalize_dataset_group`: an Amazon Personalize dataset group with the interactions
//! schema and Interactions dataset an event tracker needs (`Managed`), or an existing group
//! used by ARN and never changed (`Existing`).
//!
//! Fields compared (`Managed`): `name`, `domain` (when set), `kms_key_arn` and `kms_role_arn`
//! (when set), `interactions_schema` (canonical JSON of the Interactions dataset's schema),
//! `interactions_dataset` (`present` once the dataset exists), `tags.<key>`, and `status`
//! (present only when the group failed to create or is being deleted: it is then replaced).
//! A dataset group cannot be updated, so every field but the tags and the dataset's presence
//! replaces it.
//!
//! The schema is named `<group>-interactions` (schemas carry no tags; one found with that
//! name and the same definition is adopted), and so is the dataset. Deleting removes the
//! stack's trackers, campaigns and solutions left in the group (a replacement), the group's
//! datasets, then the group, then the schema, waiting for each (DESIGN.md §5: no hidden
//! dataset is left behind).
//!
//! With `interactions_import`, the fields `interactions_import.source` and
//! `interactions_import.role` come from the Interactions dataset's newest import job, and
//! `interactions_import.status` is present while that job is not `ACTIVE` (being imported, or
//! failed). Any change to them runs a new `FULL` import job and waits for it; import jobs
//! cannot be deleted (they go with the dataset), so destroy has nothing more to do.
//!
//! This file also holds what the Personalize kinds share: statuses, waits, deletes and tags.

use super::common::{canonical_json, changed, put_tag_fields, tag_changes};
use crate::{Aws, STACK_TAG};
use aws_sdk_personalize::types::{DataSource, ImportMode};
use aws_sdk_personalize::types::{Domain as SdkDomain, Tag};
use personalize_stack_core::engine::{
    Attrs, Desired, ErrorKind, FieldChange, Fields, Observed, ProviderError, Resolver,
};
use personalize_stack_core::spec::Resource;
use personalize_stack_core::spec::kinds::dataset_group::{DatasetGroup, Domain, InteractionsImport};
use personalize_stack_core::spec::text::Text;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

// ---------------------------------------------------------------------------------------
// What the Personalize kinds share
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// The dataset group
// ---------------------------------------------------------------------------------------

/// The type of the dataset the group holds for events.
const INTERACTIONS: &str = "Interactions";
/// Where the newest import job read from.
const IMPORT_SOURCE: &str = "interactions_import.source";
/// The role the newest import job read with.
const IMPORT_ROLE: &str = "interactions_import.role";
/// The newest import job's status, while it is not `ACTIVE`.
const IMPORT_STATUS: &str = "interactions_import.status";
/// Prefix of the import fields.
const IMPORT_PREFIX: &str = "interactions_import.";
/// The value of the `interactions_dataset` field once the dataset exists.
const PRESENT: &str = "present";

fn domain_name(d: Domain) -> &'static str {
    match d {
        Domain::Ecommerce => "ECOMMERCE",
        Domain::VideoOnDemand => "VIDEO_ON_DEMAND",
    }
}

/// The name of the group's interactions schema and dataset. Personalize names hold at most
/// 63 characters, so a long group name is shortened to make room for the suffix.
fn interactions_name(group: &str) -> String {
    const SUFFIX: &str = "-interactions";
    let keep: String = group.chars().take(63 - SUFFIX.len()).collect();
    format!("{keep}{SUFFIX}")
}

fn attrs_of(arn: &str, name: &str) -> Attrs {
    [
        ("arn".to_owned(), arn.to_owned()),
        ("name".to_owned(), name.to_owned()),
    ]
    .into()
}

/// The name in a dataset group ARN (`…:dataset-group/<name>`).
fn name_in_arn(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Desired fields.
///
/// # Errors
/// None today; the signature is shared by every kind.
pub fn desired(
    aws: &Aws,
    r: &Resource,
    spec: &DatasetGroup,
    refs: &Resolver,
) -> Result<Desired, ProviderError> {
    let DatasetGroup::Managed {
        name,
        domain,
        interactions_schema,
        kms,
        interactions_import,
        tags,
    } = spec
    else {
        // Used, never changed: nothing to compare.
        return Ok(Desired::default());
    };
    let mut fields = Fields::new();
    fields.insert("name".into(), name.clone());
    if let Some(d) = domain {
        fields.insert("domain".into(), domain_name(*d).into());
    }
    if let Some((key, role)) = kms {
        fields.insert("kms_key_arn".into(), refs.text(key));
        fields.insert("kms_role_arn".into(), refs.text(role));
    }
    fields.insert("interactions_schema".into(), canonical_json(interactions_schema));
    fields.insert("interactions_dataset".into(), PRESENT.into());
    if let Some(import) = interactions_import {
        fields.insert(
            IMPORT_SOURCE.into(),
            import_location(&aws.settings.base_dir, &refs.text(&import.source)),
        );
        fields.insert(IMPORT_ROLE.into(), refs.text(&import.role));
    }
    put_tag_fields(&mut fields, &aws.tags_for(r, tags));
    let cannot = "a dataset group cannot be changed once created".to_owned();
    Ok(Desired {
        fields,
        replace_on: [
            ("name".to_owned(), cannot.clone()),
            ("domain".to_owned(), cannot.clone()),
            ("kms_key_arn".to_owned(), cannot.clone()),
            ("kms_role_arn".to_owned(), cannot),
            (
                "interactions_schema".to_owned(),
                "the Interactions dataset keeps the schema it was created with; a new schema means a new dataset group".to_owned(),
            ),
            ("status".to_owned(), STATUS_REASON.to_owned()),
        ]
        .into(),
        ..Desired::default()
    })
}

/// The ARN of the dataset group called `name`, if there is one.
async fn find_group(aws: &Aws, name: &str) -> Result<Option<String>, ProviderError> {
    let p = &aws.clients.personalize;
    let mut token: Option<String> = None;
    loop {
        let out = aws
            .call("ListDatasetGroups", || {
                p.list_dataset_groups().set_next_token(token.clone()).send()
            })
            .await?;
        if let Some(arn) = out
            .dataset_groups()
            .iter()
            .find(|g| g.name() == Some(name))
            .and_then(|g| g.dataset_group_arn())
        {
            return Ok(Some(arn.to_owned()));
        }
        match out.next_token() {
            Some(t) => token = Some(t.to_owned()),
            None => return Ok(None),
        }
    }
}

/// The ARN of the schema called `name`, if there is one.
async fn find_schema(aws: &Aws, name: &str) -> Result<Option<String>, ProviderError> {
    let p = &aws.clients.personalize;
    let mut token: Option<String> = None;
    loop {
        let out = aws
            .call("ListSchemas", || {
                p.list_schemas().set_next_token(token.clone()).send()
            })
            .await?;
        if let Some(arn) = out
            .schemas()
            .iter()
            .find(|s| s.name() == Some(name))
            .and_then(|s| s.schema_arn())
        {
            return Ok(Some(arn.to_owned()));
        }
        match out.next_token() {
            Some(t) => token = Some(t.to_owned()),
            None => return Ok(None),
        }
    }
}

/// The definition of schema `arn` as JSON (`None`: it does not exist).
async fn schema_definition(aws: &Aws, arn: &str) -> Result<Option<Value>, ProviderError> {
    let p = &aws.clients.personalize;
    match aws
        .call("DescribeSchema", || p.describe_schema().schema_arn(arn).send())
        .await
    {
        Ok(out) => Ok(out
            .schema()
            .and_then(|s| s.schema())
            .map(|text| serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned())))),
        Err(e) if e.is(ErrorKind::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Every dataset of group `group_arn`: (ARN, type).
async fn datasets_of(aws: &Aws, group_arn: &str) -> Result<Vec<(String, String)>, ProviderError> {
    let p = &aws.clients.personalize;
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = aws
            .call("ListDatasets", || {
                p.list_datasets()
                    .dataset_group_arn(group_arn)
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
        found.extend(out.datasets().iter().filter_map(|d| {
            Some((
                d.dataset_arn()?.to_owned(),
                d.dataset_type().unwrap_or_default().to_owned(),
            ))
        }));
        match out.next_token() {
            Some(t) => token = Some(t.to_owned()),
            None => return Ok(found),
        }
    }
}

/// The group's Interactions dataset.
struct InteractionsDataset {
    arn: String,
    status: String,
    schema_arn: Option<String>,
    /// When it was created, in seconds since the epoch.
    created: f64,
}

/// The group's Interactions dataset, if it has one.
async fn interactions_dataset(
    aws: &Aws,
    group_arn: &str,
) -> Result<Option<InteractionsDataset>, ProviderError> {
    let Some((arn, _)) = datasets_of(aws, group_arn)
        .await?
        .into_iter()
        .find(|(_, kind)| kind.eq_ignore_ascii_case(INTERACTIONS))
    else {
        return Ok(None);
    };
    let p = &aws.clients.personalize;
    match aws
        .call("DescribeDataset", || {
            p.describe_dataset().dataset_arn(&arn).send()
        })
        .await
    {
        Ok(out) => Ok(out.dataset().map(|d| InteractionsDataset {
            arn: arn.clone(),
            status: d.status().unwrap_or_default().to_owned(),
            schema_arn: d.schema_arn().map(str::to_owned),
            created: d.creation_date_time().map_or(0.0, |t| t.as_secs_f64()),
        })),
        Err(e) if e.is(ErrorKind::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Observes it.
///
/// # Errors
/// A read call failed.
pub async fn observe(
    aws: &Aws,
    r: &Resource,
    spec: &DatasetGroup,
    refs: &Resolver,
) -> Result<Option<Observed>, ProviderError> {
    let p = &aws.clients.personalize;
    let (arn, interactions_schema) = match spec {
        DatasetGroup::Existing { arn } => {
            // An ARN that references a resource not created yet cannot be looked up.
            let Ok(arn) = refs.known(arn) else {
                return Ok(None);
            };
            return match status_of(aws, Thing::DatasetGroup, &arn).await? {
                None => Ok(None),
                Some(_) => Ok(Some(Observed {
                    id: arn.clone(),
                    // Not ours to change, but ours to use: its attributes must resolve.
                    owned: true,
                    fields: Fields::new(),
                    attrs: attrs_of(&arn, name_in_arn(&arn)),
                })),
            };
        }
        DatasetGroup::Managed {
            name,
            interactions_schema,
            ..
        } => match find_group(aws, name).await? {
            None => return Ok(None),
            Some(arn) => (arn, interactions_schema),
        },
    };
    let described = match aws
        .call("DescribeDatasetGroup", || {
            p.describe_dataset_group().dataset_group_arn(&arn).send()
        })
        .await
    {
        Ok(out) => out.dataset_group,
        Err(e) if e.is(ErrorKind::NotFound) => None,
        Err(e) => return Err(e),
    };
    let Some(group) = described else {
        return Ok(None);
    };
    let name = group.name().unwrap_or_else(|| name_in_arn(&arn)).to_owned();
    let tags = resource_tags(aws, &arn).await?;
    let owned = aws.owns(r, &tags);
    let attrs = attrs_of(&arn, &name);
    if !owned {
        return Ok(Some(Observed {
            id: arn,
            owned,
            fields: Fields::new(),
            attrs,
        }));
    }
    let mut fields = Fields::new();
    fields.insert("name".into(), name.clone());
    if let Some(d) = group.domain() {
        fields.insert("domain".into(), d.as_str().to_owned());
    }
    if let Some(k) = group.kms_key_arn() {
        fields.insert("kms_key_arn".into(), k.to_owned());
    }
    if let (Some(_), Some(role)) = (group.kms_key_arn(), group.role_arn()) {
        fields.insert("kms_role_arn".into(), role.to_owned());
    }
    put_status_field(&mut fields, group.status().unwrap_or_default());
    let imports = matches!(
        spec,
        DatasetGroup::Managed {
            interactions_import: Some(_),
            ..
        }
    );
    match interactions_dataset(aws, &arn).await? {
        Some(dataset) => {
            if !is_unusable(&dataset.status) {
                fields.insert("interactions_dataset".into(), PRESENT.into());
            }
            // Only a stack that imports compares imports: jobs cannot be undone, so one that
            // stopped declaring an import has nothing to change.
            if imports && let Some(job) = newest_import(aws, &dataset).await? {
                fields.insert(IMPORT_SOURCE.into(), job.location);
                fields.insert(IMPORT_ROLE.into(), job.role);
                if job.status != ACTIVE {
                    fields.insert(IMPORT_STATUS.into(), job.status);
                }
            }
            let schema = match dataset.schema_arn {
                Some(s) => schema_definition(aws, &s).await?,
                None => None,
            };
            if let Some(schema) = schema {
                fields.insert("interactions_schema".into(), canonical_json(&schema));
            }
        }
        None => {
            // No dataset yet (a create stopped half-way): there is no schema in use to
            // compare, and the update that creates the dataset uses the stack's.
            fields.insert("interactions_schema".into(), canonical_json(interactions_schema));
        }
    }
    put_tag_fields(&mut fields, &tags);
    Ok(Some(Observed {
        id: arn,
        owned,
        fields,
        attrs,
    }))
}

/// The schema `<group>-interactions` with `schema`'s definition: created, or adopted when it
/// exists with the same definition (schemas carry no tags, so the definition is the test).
async fn ensure_schema(
    aws: &Aws,
    group: &str,
    domain: Option<Domain>,
    schema: &Value,
) -> Result<String, ProviderError> {
    let p = &aws.clients.personalize;
    let name = interactions_name(group);
    let text = schema.to_string();
    for _ in 0..2 {
        if let Some(arn) = find_schema(aws, &name).await? {
            let existing = schema_definition(aws, &arn).await?;
            if existing.as_ref().map(canonical_json) == Some(canonical_json(schema)) {
                return Ok(arn);
            }
            return Err(crate::call::error(
                "CreateSchema",
                "ResourceAlreadyExistsException",
                format!("schema {name} exists with another definition"),
            )
            .hint("it is not this stack's: delete it, or rename the dataset group"));
        }
        let created = aws
            .call("CreateSchema", || {
                p.create_schema()
                    .name(&name)
                    .schema(&text)
                    .set_domain(domain.map(|d| SdkDomain::from(domain_name(d))))
                    .send()
            })
            .await;
        match created {
            Ok(out) => return Ok(out.schema_arn().unwrap_or_default().to_owned()),
            // Created meanwhile (another run): look again.
            Err(e) if e.is(ErrorKind::AlreadyExists) => {}
            Err(e) => return Err(e),
        }
    }
    Err(crate::call::error(
        "CreateSchema",
        "ResourceAlreadyExistsException",
        format!("schema {name} exists but cannot be found"),
    ))
}

/// The group's interactions schema and ACTIVE Interactions dataset: created, adopted, or
/// (when it failed to create) replaced.
async fn ensure_interactions(
    aws: &Aws,
    r: &Resource,
    spec: &DatasetGroup,
    group_arn: &str,
) -> Result<(), ProviderError> {
    let DatasetGroup::Managed {
        name,
        domain,
        interactions_schema,
        tags,
        ..
    } = spec
    else {
        return Ok(());
    };
    let schema_arn = ensure_schema(aws, name, *domain, interactions_schema).await?;
    let p = &aws.clients.personalize;
    for _ in 0..2 {
        if let Some(dataset) = interactions_dataset(aws, group_arn).await? {
            if is_unusable(&dataset.status) {
                delete_and_wait(aws, Thing::Dataset, &dataset.arn).await?;
            } else {
                return wait_active(aws, Thing::Dataset, &dataset.arn).await;
            }
        }
        let dataset_tags = personalize_tags(&aws.tags_for(r, tags))?;
        let dataset_name = interactions_name(name);
        let created = aws
            .call("CreateDataset", || {
                p.create_dataset()
                    .name(&dataset_name)
                    .schema_arn(&schema_arn)
                    .dataset_group_arn(group_arn)
                    .dataset_type(INTERACTIONS)
                    .set_tags(Some(dataset_tags.clone()))
                    .send()
            })
            .await;
        match created {
            Ok(out) => {
                let arn = out.dataset_arn().unwrap_or_default().to_owned();
                return wait_active(aws, Thing::Dataset, &arn).await;
            }
            // Created meanwhile: look again.
            Err(e) if e.is(ErrorKind::AlreadyExists) => {}
            Err(e) => return Err(e),
        }
    }
    Err(crate::call::error(
        "CreateDataset",
        "ResourceAlreadyExistsException",
        format!("the Interactions dataset of {group_arn} exists but cannot be found"),
    ))
}

fn resolve(refs: &Resolver, text: &Text) -> Result<String, ProviderError> {
    refs.known(text).map_err(|r| Aws::unresolved(&r))
}

/// Creates it.
///
/// # Errors
/// An AWS call failed, the group failed to create, a same-named group is not ours, or (for
/// an existing group) it does not exist.
pub async fn create(
    aws: &Aws,
    r: &Resource,
    spec: &DatasetGroup,
    refs: &Resolver,
) -> Result<Attrs, ProviderError> {
    let DatasetGroup::Managed {
        name,
        domain,
        kms,
        tags,
        ..
    } = spec
    else {
        return match observe(aws, r, spec, refs).await? {
            Some(found) => Ok(found.attrs),
            None => {
                let arn = match spec {
                    DatasetGroup::Existing { arn } => refs.text(arn),
                    DatasetGroup::Managed { .. } => String::new(),
                };
                Err(crate::call::error(
                    "DescribeDatasetGroup",
                    "ResourceNotFoundException",
                    format!("dataset group {arn} does not exist"),
                )
                .hint(format!(
                    "check the ARN (its account and region must be {} and {}), or give the group a `name` instead of an `arn` to let the stack create it",
                    aws.account, aws.region
                )))
            }
        };
    };
    let p = &aws.clients.personalize;
    let kms = match kms {
        Some((key, role)) => Some((resolve(refs, key)?, resolve(refs, role)?)),
        None => None,
    };
    let group_tags = personalize_tags(&aws.tags_for(r, tags))?;
    let mut arn = None;
    for _ in 0..2 {
        if let Some(existing) = find_group(aws, name).await? {
            match status_of(aws, Thing::DatasetGroup, &existing).await? {
                // A replaced group, or one a destroy left behind, still holds the name.
                Some((s, _)) if is_deleting(&s) => {
                    delete_and_wait(aws, Thing::DatasetGroup, &existing).await?;
                }
                Some(_) => {
                    // A previous run created it and stopped before finishing: adopt it if
                    // it is ours.
                    if !aws.owns(r, &resource_tags(aws, &existing).await?) {
                        return Err(crate::call::error(
                            "CreateDatasetGroup",
                            "ResourceAlreadyExistsException",
                            format!("dataset group {existing} exists without the tags of this stack"),
                        )
                        .hint("it is never adopted: use it with `arn:` instead of `name:`, or pick another name"));
                    }
                    arn = Some(existing);
                    break;
                }
                None => {}
            }
        }
        let created = aws
            .call("CreateDatasetGroup", || {
                p.create_dataset_group()
                    .name(name)
                    .set_domain(domain.map(|d| SdkDomain::from(domain_name(d))))
                    .set_kms_key_arn(kms.as_ref().map(|(k, _)| k.clone()))
                    .set_role_arn(kms.as_ref().map(|(_, r)| r.clone()))
                    .set_tags(Some(group_tags.clone()))
                    .send()
            })
            .await;
        match created {
            Ok(out) => {
                arn = out.dataset_group_arn().map(str::to_owned);
                break;
            }
            Err(e) if e.is(ErrorKind::AlreadyExists) => {}
            Err(e) if e.is(ErrorKind::LimitExceeded) => {
                return Err(e.hint("Personalize allows few active dataset groups per region (5 in some accounts): delete unused ones or ask for a higher quota in Service Quotas"));
            }
            Err(e) => return Err(e),
        }
    }
    let Some(arn) = arn else {
        return Err(crate::call::error(
            "CreateDatasetGroup",
            "ResourceAlreadyExistsException",
            format!("dataset group {name} exists but cannot be found"),
        ));
    };
    wait_active(aws, Thing::DatasetGroup, &arn).await?;
    ensure_interactions(aws, r, spec, &arn).await?;
    ensure_import(aws, r, spec, refs, &arn).await?;
    Ok(attrs_of(&arn, name))
}

/// Updates it: tags, the Interactions dataset when it is missing, and a new import when the
/// import's source or role changed or its newest job is not `ACTIVE`.
///
/// # Errors
/// An AWS call failed.
pub async fn update(
    aws: &Aws,
    r: &Resource,
    spec: &DatasetGroup,
    refs: &Resolver,
    observed: &Observed,
    changes: &[FieldChange],
) -> Result<Attrs, ProviderError> {
    if let DatasetGroup::Existing { .. } = spec {
        return Ok(observed.attrs.clone());
    }
    let arn = observed.id.as_str();
    if changed(changes, "interactions_dataset") {
        wait_active(aws, Thing::DatasetGroup, arn).await?;
        ensure_interactions(aws, r, spec, arn).await?;
    }
    if changes.iter().any(|c| c.field.starts_with(IMPORT_PREFIX)) {
        ensure_import(aws, r, spec, refs, arn).await?;
    }
    let (set, remove) = tag_changes(changes);
    if !set.is_empty() || !remove.is_empty() {
        retag(aws, arn, changes).await?;
        if let Some(dataset) = interactions_dataset(aws, arn).await? {
            // The dataset carries the group's tags too.
            retag(aws, &dataset.arn, changes).await?;
        }
    }
    Ok(observed.attrs.clone())
}

/// Deletes it: the group's datasets, then the group, then its interactions schema, waiting
/// for each. An existing group is never deleted.
///
/// # Errors
/// An AWS call failed, or something outside the stack keeps the group in use.
pub async fn delete(
    aws: &Aws,
    _r: &Resource,
    spec: &DatasetGroup,
    observed: &Observed,
) -> Result<(), ProviderError> {
    let DatasetGroup::Managed { name, .. } = spec else {
        return Ok(());
    };
    let arn = observed.id.as_str();
    if status_of(aws, Thing::DatasetGroup, arn).await?.is_some() {
        // Destroy deletes the stack's tracker first, but a replacement of the group does not:
        // the group cannot go while it holds a tracker, so this stack's trackers in it go
        // now (their own step then creates them again in the new group). A tracker without
        // the stack's tag is left alone, and the group's deletion then fails with a hint.
        for (_, tracker) in super::event_tracker::list_trackers(aws, Some(arn)).await? {
            let tags = resource_tags(aws, &tracker).await?;
            if tags.get(STACK_TAG) == Some(&aws.stack) {
                delete_and_wait(aws, Thing::EventTracker, &tracker).await?;
            }
        }
        // Likewise its solutions (and the campaigns serving them), which keep a group in use.
        for (_, solution) in super::solution::list_solutions(aws, Some(arn)).await? {
            let tags = resource_tags(aws, &solution).await?;
            if tags.get(STACK_TAG) == Some(&aws.stack) {
                super::solution::delete_with_campaigns(aws, &solution).await?;
            }
        }
        // Every dataset: the Interactions dataset, and any the service created for the
        // group; the group cannot go while one is left.
        for (dataset, _) in datasets_of(aws, arn).await? {
            delete_and_wait(aws, Thing::Dataset, &dataset).await?;
        }
        delete_and_wait(aws, Thing::DatasetGroup, arn).await?;
    }
    if let Some(schema) = find_schema(aws, &interactions_name(name)).await? {
        let p = &aws.clients.personalize;
        match aws
            .call("DeleteSchema", || p.delete_schema().schema_arn(&schema).send())
            .await
        {
            Ok(_) => {}
            Err(e) if e.is(ErrorKind::NotFound) => {}
            // A dataset outside this stack uses a schema of the same name: it is not ours.
            Err(e) if e.is(ErrorKind::InUse) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The interactions import
// ---------------------------------------------------------------------------------------

/// `source` as Personalize's `dataLocation`: `s3://` and `file://` URLs as written; a path
/// becomes an absolute `file://` URL, relative to `base_dir` (the stack file's directory), so
/// a local runtime serving from another working directory reads the same file.
pub(crate) fn import_location(base_dir: &Path, source: &str) -> String {
    if source.starts_with("s3://") || source.starts_with("file://") {
        return source.to_owned();
    }
    let joined = base_dir.join(source);
    let absolute = std::path::absolute(&joined).unwrap_or(joined);
    // `./interactions.csv` under `./examples`: drop the `.` segments, which only make the same
    // file look like another source.
    let clean: PathBuf = absolute
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect();
    format!("file://{}", clean.display())
}

/// An import job of the Interactions dataset.
struct ImportJob {
    arn: String,
    status: String,
    location: String,
    role: String,
}

/// Every import job of `dataset`: (ARN, name, creation time in seconds). Jobs created before
/// the dataset are left out: they belonged to an earlier dataset of the same name (and so the
/// same ARN), and its data went with it.
async fn import_jobs(
    aws: &Aws,
    dataset: &InteractionsDataset,
) -> Result<Vec<(String, String, f64)>, ProviderError> {
    let p = &aws.clients.personalize;
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = aws
            .call("ListDatasetImportJobs", || {
                p.list_dataset_import_jobs()
                    .dataset_arn(&dataset.arn)
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
        found.extend(out.dataset_import_jobs().iter().filter_map(|j| {
            let created = j.creation_date_time().map_or(0.0, |t| t.as_secs_f64());
            if created < dataset.created {
                return None;
            }
            Some((
                j.dataset_import_job_arn()?.to_owned(),
                j.job_name().unwrap_or_default().to_owned(),
                created,
            ))
        }));
        match out.next_token() {
            Some(t) => token = Some(t.to_owned()),
            None => return Ok(found),
        }
    }
}

/// The newest import job of `dataset`, described; `None` when it has none.
async fn newest_import(aws: &Aws, dataset: &InteractionsDataset) -> Result<Option<ImportJob>, ProviderError> {
    // The list's order is not documented: the newest is the latest created (the last listed
    // among equals).
    let newest =
        import_jobs(aws, dataset)
            .await?
            .into_iter()
            .fold(None::<(String, String, f64)>, |best, job| match best {
                Some(b) if b.2 > job.2 => Some(b),
                _ => Some(job),
            });
    let Some((arn, _, _)) = newest else {
        return Ok(None);
    };
    let p = &aws.clients.personalize;
    let described = match aws
        .call("DescribeDatasetImportJob", || {
            p.describe_dataset_import_job()
                .dataset_import_job_arn(&arn)
                .send()
        })
        .await
    {
        Ok(out) => out.dataset_import_job,
        Err(e) if e.is(ErrorKind::NotFound) => None,
        Err(e) => return Err(e),
    };
    Ok(described.map(|j| ImportJob {
        status: j.status().unwrap_or_default().to_owned(),
        location: j
            .data_source()
            .and_then(DataSource::data_location)
            .unwrap_or_default()
            .to_owned(),
        role: j.role_arn().unwrap_or_default().to_owned(),
        arn: arn.clone(),
    }))
}

/// The name of an import job of group `group` from `location`: the group's name, a short
/// hash of the location (so the jobs of one source are recognisable) and a sequence number
/// (job names are unique in a region, and the same file may be imported again).
fn import_job_name(group: &str, location: &str, n: usize) -> String {
    let digest = Sha256::digest(location.as_bytes());
    let hash: String = digest.iter().take(3).map(|b| format!("{b:02x}")).collect();
    let suffix = format!("-import-{hash}-{n}");
    let keep: String = group.chars().take(63 - suffix.len()).collect();
    format!("{keep}{suffix}")
}

/// The stack's import, done: when the newest job of the Interactions dataset read this
/// source with this role and did not fail, it is waited for; otherwise a new `FULL` import
/// job is created and waited for.
async fn ensure_import(
    aws: &Aws,
    r: &Resource,
    spec: &DatasetGroup,
    refs: &Resolver,
    group_arn: &str,
) -> Result<(), ProviderError> {
    let DatasetGroup::Managed {
        name,
        interactions_import: Some(import),
        tags,
        ..
    } = spec
    else {
        return Ok(());
    };
    let InteractionsImport { source, role } = import;
    let location = import_location(&aws.settings.base_dir, &resolve(refs, source)?);
    let role = resolve(refs, role)?;
    let Some(dataset) = interactions_dataset(aws, group_arn).await? else {
        return Err(crate::call::error(
            "CreateDatasetImportJob",
            "ResourceNotFoundException",
            format!("dataset group {group_arn} has no Interactions dataset to import into"),
        )
        .hint("run again: the dataset is created first"));
    };
    if let Some(job) = newest_import(aws, &dataset).await?
        && job.location == location
        && job.role == role
        && !is_unusable(&job.status)
    {
        // A previous run started it (or it is done): wait rather than import twice.
        return wait_active(aws, Thing::DatasetImportJob, &job.arn).await;
    }
    let job_tags = personalize_tags(&aws.tags_for(r, tags))?;
    let p = &aws.clients.personalize;
    let first = import_jobs(aws, &dataset).await?.len() + 1;
    for n in first..first + 5 {
        let job_name = import_job_name(name, &location, n);
        let created = aws
            .call("CreateDatasetImportJob", || {
                p.create_dataset_import_job()
                    .job_name(&job_name)
                    .dataset_arn(&dataset.arn)
                    .data_source(DataSource::builder().data_location(&location).build())
                    .role_arn(&role)
                    .import_mode(ImportMode::Full)
                    .set_tags(Some(job_tags.clone()))
                    .send()
            })
            .await;
        match created {
            Ok(out) => {
                let arn = out.dataset_import_job_arn().unwrap_or_default().to_owned();
                return wait_active(aws, Thing::DatasetImportJob, &arn).await;
            }
            // The name is taken (a job of an earlier dataset of the same group name): the
            // next number.
            Err(e) if e.is(ErrorKind::AlreadyExists) => {}
            Err(e) => return Err(e),
        }
    }
    Err(crate::call::error(
        "CreateDatasetImportJob",
        "ResourceAlreadyExistsException",
        format!("no free import job name for {name} after five tries"),
    ))
}

#[cfg(test)]
mod tests {
    use super::{import_job_name, import_location};
    use std::path::Path;

    #[test]
    fn import_sources_become_absolute_file_urls_and_job_names_fit() {
        assert_eq!(
            import_location(Path::new("/work/stack"), "./data/i.csv"),
            "file:///work/stack/data/i.csv"
        );
        assert_eq!(
            import_location(Path::new("/x"), "/abs/i.csv"),
            "file:///abs/i.csv"
        );
        assert_eq!(import_location(Path::new("/x"), "s3://b/k.csv"), "s3://b/k.csv");
        assert_eq!(import_location(Path::new("/x"), "file:///a.csv"), "file:///a.csv");
        let relative = import_location(Path::new("."), "i.csv");
        assert!(
            relative.starts_with("file:///") && relative.ends_with("/i.csv"),
            "{relative}"
        );
        assert!(!relative.contains("/./"), "{relative}");

        let name = import_job_name("personalize-workshop", "file:///a.csv", 1);
        assert!(
            name.starts_with("personalize-workshop-import-") && name.ends_with("-1"),
            "{name}"
        );
        assert_eq!(name, import_job_name("personalize-workshop", "file:///a.csv", 1));
        assert_ne!(name, import_job_name("personalize-workshop", "file:///b.csv", 1));
        let long = import_job_name(&"g".repeat(63), "s3://b/k", 12);
        assert_eq!(long.chars().count(), 63, "{long}");
    }
}
