//! Stored Personalize resources and their lifecycles.
//!
//! Every resource is one document at `account/region/personalize/{kind}/{id}`, where `kind`
//! is the ARN's resource type (`schema`, `dataset-group`, `dataset`, `event-tracker`) and `id`
//! the rest of the ARN (`{name}`, or `{group name}/{TYPE}` for a dataset). Statuses are
//! computed from stored times: `CREATE PENDING` for the first half of the create delay,
//! `CREATE IN_PROGRESS` for the second, then `ACTIVE`; a deletion is `DELETE PENDING` for the
//! first half of the delete delay, `DELETE IN_PROGRESS` for the second (dataset groups stay
//! `DELETE PENDING`, the only deletion state AWS documents for them), then the resource is
//! gone (`_gone_at_ms`).

use super::Ctx;
use crate::store::{StoreError, Txn};
use crate::{AwsError, AwsResult};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The resource kinds, as ARNs and keys name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Schema,
    DatasetGroup,
    Dataset,
    EventTracker,
    DatasetImportJob,
    Solution,
    /// ARN `…:solution/{solution name}/{version id}`; stored apart from solutions.
    SolutionVersion,
    Campaign,
}

impl Kind {
    /// The ARN resource type.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Schema => "schema",
            Kind::DatasetGroup => "dataset-group",
            Kind::Dataset => "dataset",
            Kind::EventTracker => "event-tracker",
            Kind::DatasetImportJob => "dataset-import-job",
            Kind::Solution | Kind::SolutionVersion => "solution",
            Kind::Campaign => "campaign",
        }
    }

    /// The key segment its documents are stored under: the ARN type, except for solution
    /// versions, which share their solutions' ARN type but must not be listed with them.
    fn segment(self) -> &'static str {
        match self {
            Kind::SolutionVersion => "solution-version",
            other => other.as_str(),
        }
    }

    /// The kind of an ARN's resource part `{type}/{id}`.
    fn parse(s: &str, id: &str) -> Option<Kind> {
        match s {
            "schema" => Some(Kind::Schema),
            "dataset-group" => Some(Kind::DatasetGroup),
            "dataset" => Some(Kind::Dataset),
            "event-tracker" => Some(Kind::EventTracker),
            "dataset-import-job" => Some(Kind::DatasetImportJob),
            "solution" if id.contains('/') => Some(Kind::SolutionVersion),
            "solution" => Some(Kind::Solution),
            "campaign" => Some(Kind::Campaign),
            _ => None,
        }
    }

    /// How AWS's messages name it.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Schema => "Schema",
            Kind::DatasetGroup => "Dataset group",
            Kind::Dataset => "Dataset",
            Kind::EventTracker => "Event tracker",
            Kind::DatasetImportJob => "Dataset import job",
            Kind::Solution => "Solution",
            Kind::SolutionVersion => "Solution version",
            Kind::Campaign => "Campaign",
        }
    }
}

/// Statuses.
pub(crate) const ACTIVE: &str = "ACTIVE";
/// See [`ACTIVE`].
pub(crate) const CREATE_PENDING: &str = "CREATE PENDING";
/// See [`ACTIVE`].
pub(crate) const CREATE_IN_PROGRESS: &str = "CREATE IN_PROGRESS";
/// See [`ACTIVE`].
pub(crate) const DELETE_PENDING: &str = "DELETE PENDING";
/// See [`ACTIVE`].
pub(crate) const DELETE_IN_PROGRESS: &str = "DELETE IN_PROGRESS";
/// See [`ACTIVE`]: creation finished with a `failureReason`.
pub(crate) const CREATE_FAILED: &str = "CREATE FAILED";
/// See [`ACTIVE`]: a solution version whose training is being stopped.
pub(crate) const CREATE_STOPPING: &str = "CREATE STOPPING";
/// See [`ACTIVE`]: a solution version whose training was stopped; it never becomes `ACTIVE`.
pub(crate) const CREATE_STOPPED: &str = "CREATE STOPPED";

/// A stored resource; members that only some kinds have are optional.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Resource {
    /// The ARN.
    pub arn: String,
    /// The name.
    pub name: String,
    /// When it was created.
    pub created_ms: u64,
    /// When creation finishes (`ACTIVE`).
    pub ready_at_ms: u64,
    /// When deletion started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_started_ms: Option<u64>,
    /// Solution version: when StopSolutionVersionCreation was called (`ready_at_ms` is then
    /// when stopping ends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_ms: Option<u64>,
    /// When it disappears.
    #[serde(rename = "_gone_at_ms", default, skip_serializing_if = "Option::is_none")]
    pub gone_at_ms: Option<u64>,
    /// Tags, in the order they were first set.
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// Schema: the Avro JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Schema, dataset group: the domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Dataset group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// Dataset group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
    /// Dataset, event tracker: the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_group_arn: Option<String>,
    /// Dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_type: Option<String>,
    /// Dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_arn: Option<String>,
    /// Event tracker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
    /// Import job, solution version: why creation failed (status `CREATE FAILED` once ready).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// Import job: the interactions dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_arn: Option<String>,
    /// Import job: `dataSource.dataLocation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_location: Option<String>,
    /// Import job: `FULL` or `INCREMENTAL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_mode: Option<String>,
    /// Import job: how many interactions it imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_count: Option<u64>,
    /// Solution (and its versions): the recipe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipe_arn: Option<String>,
    /// Solution: train on this event type only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// Solution: `solutionConfig` as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solution_config: Option<Value>,
    /// Solution: `performAutoTraining`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perform_auto_training: Option<bool>,
    /// Solution version: its solution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solution_arn: Option<String>,
    /// Solution version: `FULL` or `UPDATE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_mode: Option<String>,
    /// Solution version: the dataset group's events numbered below this were trained on;
    /// later ones update the model online.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events_upto: Option<u64>,
    /// Campaign: the solution version it serves (until an update takes effect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solution_version_arn: Option<String>,
    /// Campaign: `minProvisionedTPS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_provisioned_tps: Option<i64>,
    /// Campaign: `campaignConfig` as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_config: Option<Value>,
    /// Campaign: the latest UpdateCampaign, effective once its `ready_at_ms` has passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<CampaignUpdate>,
}

/// An UpdateCampaign in progress or done.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CampaignUpdate {
    /// The solution version it switches to.
    pub solution_version_arn: String,
    /// The new `minProvisionedTPS`.
    pub min_provisioned_tps: i64,
    /// The new `campaignConfig`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_config: Option<Value>,
    /// When it was asked for.
    pub created_ms: u64,
    /// When it takes effect.
    pub ready_at_ms: u64,
}

impl Resource {
    /// A new resource named `name` at `arn`, becoming `ACTIVE` at `ready_at_ms`.
    pub fn new(arn: String, name: &str, now_ms: u64, ready_at_ms: u64) -> Resource {
        Resource {
            arn,
            name: name.to_owned(),
            created_ms: now_ms,
            ready_at_ms,
            delete_started_ms: None,
            stopped_ms: None,
            gone_at_ms: None,
            tags: Vec::new(),
            schema: None,
            domain: None,
            role_arn: None,
            kms_key_arn: None,
            dataset_group_arn: None,
            dataset_type: None,
            schema_arn: None,
            tracking_id: None,
            failure_reason: None,
            dataset_arn: None,
            data_location: None,
            import_mode: None,
            record_count: None,
            recipe_arn: None,
            event_type: None,
            solution_config: None,
            perform_auto_training: None,
            solution_arn: None,
            training_mode: None,
            events_upto: None,
            solution_version_arn: None,
            min_provisioned_tps: None,
            campaign_config: None,
            update: None,
        }
    }

    /// Whether its deletion has finished.
    pub fn is_gone(&self, now_ms: u64) -> bool {
        self.gone_at_ms.is_some_and(|t| now_ms >= t)
    }

    /// The status at `now_ms`.
    pub fn status(&self, kind: Kind, now_ms: u64) -> &'static str {
        if let (Some(start), Some(gone)) = (self.delete_started_ms, self.gone_at_ms) {
            return if kind == Kind::DatasetGroup || now_ms < midpoint(start, gone) {
                DELETE_PENDING
            } else {
                DELETE_IN_PROGRESS
            };
        }
        if self.stopped_ms.is_some() {
            return if now_ms >= self.ready_at_ms {
                CREATE_STOPPED
            } else {
                CREATE_STOPPING
            };
        }
        if now_ms >= self.ready_at_ms {
            if self.failure_reason.is_some() {
                CREATE_FAILED
            } else {
                ACTIVE
            }
        } else if now_ms < midpoint(self.created_ms, self.ready_at_ms) {
            CREATE_PENDING
        } else {
            CREATE_IN_PROGRESS
        }
    }

    /// When the status last changed, as of `now_ms`.
    pub fn last_updated_ms(&self, now_ms: u64) -> u64 {
        if let (Some(start), Some(gone)) = (self.delete_started_ms, self.gone_at_ms) {
            let mid = midpoint(start, gone);
            return if now_ms >= mid { mid } else { start };
        }
        if let Some(stopped) = self.stopped_ms {
            return if now_ms >= self.ready_at_ms {
                self.ready_at_ms
            } else {
                stopped
            };
        }
        let mid = midpoint(self.created_ms, self.ready_at_ms);
        if now_ms >= self.ready_at_ms {
            self.ready_at_ms
        } else if now_ms >= mid {
            mid
        } else {
            self.created_ms
        }
    }

    /// Marks it deleted: it goes after `delay` (already scaled) from `now_ms`.
    pub fn start_deletion(&mut self, now_ms: u64, gone_at_ms: u64) {
        self.delete_started_ms = Some(now_ms);
        self.gone_at_ms = Some(gone_at_ms);
    }

    /// `creationDateTime` and `lastUpdatedDateTime` in epoch seconds.
    pub fn times(&self, now_ms: u64) -> Value {
        json!({
            "creationDateTime": secs(self.created_ms),
            "lastUpdatedDateTime": secs(self.last_updated_ms(now_ms)),
        })
    }
}

fn midpoint(start: u64, end: u64) -> u64 {
    start + end.saturating_sub(start) / 2
}

/// Epoch milliseconds as awsJson's epoch-seconds number.
pub(crate) fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// Merges the members of `extra` (an object) into `base` (an object).
pub(crate) fn merged(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    base
}

/// The key of resource `id` of `kind` in the caller's account and region.
pub(crate) fn key(ctx: &Ctx<'_>, kind: Kind, id: &str) -> String {
    ctx.key("personalize", kind.segment(), id)
}

/// `(kind, id)` of an ARN in the caller's account and region; `None` for an ARN that names
/// no Personalize resource there.
pub(crate) fn locate(ctx: &Ctx<'_>, arn: &str) -> Option<(Kind, String)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", _, "personalize", region, account, resource] = parts.as_slice() else {
        return None;
    };
    if *region != ctx.region() || *account != ctx.account() {
        return None;
    }
    let (kind, id) = resource.split_once('/')?;
    Some((Kind::parse(kind, id)?, id.to_owned()))
}

/// `ResourceNotFoundException` for `arn`, naming its kind as AWS does: "The given dataset
/// group does not exist: arn:…" (recorded in aws-samples notebooks' outputs; see the
/// conformance cases).
pub(crate) fn not_found(arn: &str) -> AwsError {
    // arn:aws:personalize:region:account:dataset-group/name → "dataset group".
    let kind = arn
        .splitn(6, ':')
        .nth(5)
        .and_then(|resource| resource.split('/').next())
        .filter(|kind| !kind.is_empty())
        .map_or_else(|| "resource".to_owned(), |kind| kind.replace('-', " "));
    AwsError::new(
        "ResourceNotFoundException",
        format!("The given {kind} does not exist: {arn}"),
    )
}

/// `ResourceAlreadyExistsException` for `arn` (AWS's wording, as seen in retail-demo-store
/// issue #219: "Another resource with Arn ... already exists.").
pub(crate) fn already_exists(arn: &str) -> AwsError {
    AwsError::new(
        "ResourceAlreadyExistsException",
        format!("Another resource with Arn {arn} already exists."),
    )
}

/// `ResourceInUseException` for a resource whose status forbids the operation.
pub(crate) fn in_use(kind: Kind, arn: &str, status: &str) -> AwsError {
    let what = kind.noun();
    AwsError::new(
        "ResourceInUseException",
        format!("{what} {arn} is in {status} state; the operation needs it ACTIVE."),
    )
}

/// The stored resource at `key`, unless absent or gone.
///
/// # Errors
/// Storage failure or a corrupt document.
pub(crate) fn get(txn: &Txn<'_>, key: &str, now_ms: u64) -> Result<Option<Resource>, StoreError> {
    Ok(txn.get::<Resource>(key)?.filter(|r| !r.is_gone(now_ms)))
}

/// The resource `arn` names, which must be of `kind`.
///
/// # Errors
/// `ResourceNotFoundException`, or a storage failure.
pub(crate) fn load(txn: &Txn<'_>, ctx: &Ctx<'_>, kind: Kind, arn: &str) -> AwsResult<Resource> {
    let Some((found, id)) = locate(ctx, arn) else {
        return Err(not_found(arn));
    };
    if found != kind {
        return Err(not_found(arn));
    }
    get(txn, &key(ctx, kind, &id), ctx.now_ms)?.ok_or_else(|| not_found(arn))
}

/// Stores `resource` of `kind`.
///
/// # Errors
/// Storage failure.
pub(crate) fn save(txn: &mut Txn<'_>, ctx: &Ctx<'_>, kind: Kind, resource: &Resource) -> AwsResult<()> {
    let id = locate(ctx, &resource.arn)
        .map(|(_, id)| id)
        .ok_or_else(|| AwsError::internal(format!("unroutable ARN {}", resource.arn)))?;
    txn.put(&key(ctx, kind, &id), resource)?;
    Ok(())
}

/// Every resource of `kind` that is not gone, in key order.
///
/// # Errors
/// Storage failure or a corrupt document.
pub(crate) fn all(txn: &Txn<'_>, ctx: &Ctx<'_>, kind: Kind) -> Result<Vec<Resource>, StoreError> {
    let docs: Vec<(String, Resource)> = txn.list(&ctx.prefix("personalize", kind.segment()))?;
    Ok(docs
        .into_iter()
        .map(|(_, r)| r)
        .filter(|r| !r.is_gone(ctx.now_ms))
        .collect())
}

/// Deletes every document of the caller's Personalize resources (and index entries) whose
/// deletion has finished, so names can be reused and nothing is left behind.
///
/// # Errors
/// Storage failure.
pub(crate) fn purge_gone(txn: &mut Txn<'_>, ctx: &Ctx<'_>) -> AwsResult<()> {
    let prefix = format!("{}/{}/personalize/", ctx.account(), ctx.region());
    let docs: Vec<(String, Value)> = txn.list(&prefix)?;
    for (key, doc) in docs {
        if crate::services::is_gone(&doc, ctx.now_ms) {
            txn.delete(&key)?;
        }
    }
    Ok(())
}
