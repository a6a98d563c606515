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

use super::{Cx, ResourceKind};
use crate::call::Absent as _;
use super::common::{canonical_json, changed, put_tag_fields, tag_changes};
use super::personalize::{
    ACTIVE, STATUS_REASON, Thing, delete_and_wait, is_deleting, is_unusable,
    personalize_tags, put_status_field, resource_tags, retag, status_of, wait_active,
    adopt_or_remove, create_or_adopt, returned_arn,
};
use crate::{Aws, STACK_TAG};
use aws_sdk_personalize::types::Domain as SdkDomain;
use personalize_stack_core::engine::{
    Attrs, Desired, ErrorKind, FieldChange, Fields, Observed, ProviderError, Resolver,
};
use personalize_stack_core::spec::Resource;
use personalize_stack_core::spec::kinds::dataset_group::{DatasetGroup, Domain};
use personalize_stack_core::spec::text::Text;
use serde_json::Value;

mod import;

use import::{ensure_import, import_location, newest_import};

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

impl ResourceKind for DatasetGroup {
    fn desired(&self, cx: &Cx<'_>) -> Result<Desired, ProviderError> {
        let Cx { aws, resource: r, refs } = *cx;
        let DatasetGroup::Managed {
            name,
            domain,
            interactions_schema,
            kms,
            interactions_import,
            tags,
        } = self
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

    async fn observe(&self, cx: &Cx<'_>) -> Result<Option<Observed>, ProviderError> {
        let Cx { aws, resource: r, refs } = *cx;
        let p = &aws.clients.personalize;
        let (arn, interactions_schema) = match self {
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
        let described = aws
            .call("DescribeDatasetGroup", || {
                p.describe_dataset_group().dataset_group_arn(&arn).send()
            })
            .await
            .found()?
            .and_then(|out| out.dataset_group);
        let Some(group) = described else {
            return Ok(None);
        };
        let name = group.name().unwrap_or_else(|| name_in_arn(&arn)).to_owned();
        let tags = resource_tags(aws, &arn).await?;
        let owned = aws.owns(r, &tags);
        let attrs = attrs_of(&arn, &name);
        if !owned {
            return Ok(Some(Observed::foreign(arn, attrs)));
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
            self,
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
        Ok(Some(Observed::ours(arn, fields, attrs)))
    }

    /// Creates it.
    ///
    /// # Errors
    /// An AWS call failed, the group failed to create, a same-named group is not ours, or (for
    /// an existing group) it does not exist.
    async fn create(&self, cx: &Cx<'_>) -> Result<Attrs, ProviderError> {
        let Cx { aws, resource: r, refs } = *cx;
        let DatasetGroup::Managed {
            name,
            domain,
            kms,
            tags,
            ..
        } = self
        else {
            return match self.observe(cx).await? {
                Some(found) => Ok(found.attrs),
                None => {
                    let arn = match self {
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
        let look = || async {
            let Some(existing) = find_group(aws, name).await? else {
                return Ok(None);
            };
            let remove = |arn: String| async move { delete_and_wait(aws, Thing::DatasetGroup, &arn).await };
            adopt_or_remove(aws, r, Thing::DatasetGroup, existing, is_deleting, remove)
                .await
                .map_err(|e| match e.kind {
                    ErrorKind::NotOurs => e.hint("it is never adopted: use it with `arn:` instead of `name:`, or pick another name"),
                    _ => e,
                })
        };
        let create = || async {
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
                Ok(out) => returned_arn("CreateDatasetGroup", out.dataset_group_arn),
                Err(e) if e.is(ErrorKind::LimitExceeded) => Err(e.hint("Personalize allows few active dataset groups per region (5 in some accounts): delete unused ones or ask for a higher quota in Service Quotas")),
                Err(e) => Err(e),
            }
        };
        let arn = create_or_adopt("CreateDatasetGroup", &format!("dataset group {name}"), look, create).await?;
        wait_active(aws, Thing::DatasetGroup, &arn).await?;
        ensure_interactions(aws, r, self, &arn).await?;
        ensure_import(aws, r, self, refs, &arn).await?;
        Ok(attrs_of(&arn, name))
    }

    /// Updates it: tags, the Interactions dataset when it is missing, and a new import when the
    /// import's source or role changed or its newest job is not `ACTIVE`.
    ///
    /// # Errors
    /// An AWS call failed.
    async fn update(
        &self,
        cx: &Cx<'_>,
        observed: &Observed,
        changes: &[FieldChange],
    ) -> Result<Attrs, ProviderError> {
        let Cx { aws, resource: r, refs } = *cx;
        if let DatasetGroup::Existing { .. } = self {
            return Ok(observed.attrs.clone());
        }
        let arn = observed.id.as_str();
        if changed(changes, "interactions_dataset") {
            wait_active(aws, Thing::DatasetGroup, arn).await?;
            ensure_interactions(aws, r, self, arn).await?;
        }
        if changes.iter().any(|c| c.field.starts_with(IMPORT_PREFIX)) {
            ensure_import(aws, r, self, refs, arn).await?;
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
    async fn delete(&self, cx: &Cx<'_>, observed: &Observed) -> Result<(), ProviderError> {
        let Cx { aws, .. } = *cx;
        let DatasetGroup::Managed { name, .. } = self else {
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
}

/// The ARN of the dataset group called `name`, if there is one.
async fn find_group(aws: &Aws, name: &str) -> Result<Option<String>, ProviderError> {
    let p = &aws.clients.personalize;
    let groups = aws
        .list_all(
            "ListDatasetGroups",
            |token| p.list_dataset_groups().set_next_token(token).send(),
            |out| (out.dataset_groups.unwrap_or_default(), out.next_token),
        )
        .await?;
    Ok(groups
        .into_iter()
        .find(|g| g.name() == Some(name))
        .and_then(|g| g.dataset_group_arn))
}

/// The ARN of the schema called `name`, if there is one.
async fn find_schema(aws: &Aws, name: &str) -> Result<Option<String>, ProviderError> {
    let p = &aws.clients.personalize;
    let schemas = aws
        .list_all(
            "ListSchemas",
            |token| p.list_schemas().set_next_token(token).send(),
            |out| (out.schemas.unwrap_or_default(), out.next_token),
        )
        .await?;
    Ok(schemas
        .into_iter()
        .find(|s| s.name() == Some(name))
        .and_then(|s| s.schema_arn))
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
    let datasets = aws
        .list_all(
            "ListDatasets",
            |token| p.list_datasets().dataset_group_arn(group_arn).set_next_token(token).send(),
            |out| (out.datasets.unwrap_or_default(), out.next_token),
        )
        .await?;
    Ok(datasets
        .into_iter()
        .filter_map(|d| Some((d.dataset_arn?, d.dataset_type.unwrap_or_default())))
        .collect())
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
    // Schemas carry no tags: one of the same name is adopted when its definition is the same.
    let look = || async {
        let Some(arn) = find_schema(aws, &name).await? else {
            return Ok(None);
        };
        let existing = schema_definition(aws, &arn).await?;
        if existing.as_ref().map(canonical_json) == Some(canonical_json(schema)) {
            return Ok(Some(arn));
        }
        Err(crate::call::error(
            "CreateSchema",
            "ResourceAlreadyExistsException",
            format!("schema {name} exists with another definition"),
        )
        .kind(ErrorKind::NotOurs)
        .hint("it is not this stack's: delete it, or rename the dataset group"))
    };
    let create = || async {
        let out = aws
            .call("CreateSchema", || {
                p.create_schema()
                    .name(&name)
                    .schema(&text)
                    .set_domain(domain.map(|d| SdkDomain::from(domain_name(d))))
                    .send()
            })
            .await?;
        returned_arn("CreateSchema", out.schema_arn)
    };
    create_or_adopt("CreateSchema", &format!("schema {name}"), look, create).await
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
    // The group's Interactions dataset is ours with the group; one that failed is replaced.
    let look = || async {
        match interactions_dataset(aws, group_arn).await? {
            Some(dataset) if is_unusable(&dataset.status) => {
                delete_and_wait(aws, Thing::Dataset, &dataset.arn).await?;
                Ok(None)
            }
            found => Ok(found.map(|d| d.arn)),
        }
    };
    let dataset_tags = personalize_tags(&aws.tags_for(r, tags))?;
    let dataset_name = interactions_name(name);
    let create = || async {
        let out = aws
            .call("CreateDataset", || {
                p.create_dataset()
                    .name(&dataset_name)
                    .schema_arn(&schema_arn)
                    .dataset_group_arn(group_arn)
                    .dataset_type(INTERACTIONS)
                    .set_tags(Some(dataset_tags.clone()))
                    .send()
            })
            .await?;
        returned_arn("CreateDataset", out.dataset_arn)
    };
    let what = format!("the Interactions dataset of {group_arn}");
    let arn = create_or_adopt("CreateDataset", &what, look, create).await?;
    wait_active(aws, Thing::Dataset, &arn).await
}

fn resolve(refs: &Resolver, text: &Text) -> Result<String, ProviderError> {
    refs.known(text).map_err(|r| Aws::unresolved(&r))
}
