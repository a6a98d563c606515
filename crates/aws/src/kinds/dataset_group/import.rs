//! The dataset group's interactions import: the newest import job of its Interactions
//! dataset read back as fields, and a new `FULL` import job when they differ.

use super::super::personalize::{Thing, is_unusable, personalize_tags, wait_active};
use super::{InteractionsDataset, interactions_dataset, resolve};
use crate::Aws;
use aws_sdk_personalize::types::{DataSource, ImportMode};
use personalize_stack_core::engine::{ErrorKind, ProviderError, Resolver};
use personalize_stack_core::spec::Resource;
use personalize_stack_core::spec::kinds::dataset_group::{DatasetGroup, InteractionsImport};
use sha2::{Digest as _, Sha256};
use std::path::{Component, Path, PathBuf};

/// `source` as Personalize's `dataLocation`: `s3://` and `file://` URLs as written; a path
/// becomes an absolute `file://` URL, relative to `base_dir` (the stack file's directory), so
/// a local runtime serving from another working directory reads the same file.
pub(super) fn import_location(base_dir: &Path, source: &str) -> String {
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
pub(super) struct ImportJob {
    /// Its ARN.
    pub arn: String,
    /// `ACTIVE`, `CREATE PENDING`, `CREATE FAILED`, …
    pub status: String,
    /// Its `dataLocation`.
    pub location: String,
    /// The role it read with.
    pub role: String,
}

/// Every import job of `dataset`: (ARN, name, creation time in seconds). Jobs created before
/// the dataset are left out: they belonged to an earlier dataset of the same name (and so the
/// same ARN), and its data went with it.
async fn import_jobs(
    aws: &Aws,
    dataset: &InteractionsDataset,
) -> Result<Vec<(String, String, f64)>, ProviderError> {
    let p = &aws.clients.personalize;
    let jobs = aws
        .list_all(
            "ListDatasetImportJobs",
            |token| {
                p.list_dataset_import_jobs()
                    .dataset_arn(&dataset.arn)
                    .set_next_token(token)
                    .send()
            },
            |out| (out.dataset_import_jobs.unwrap_or_default(), out.next_token),
        )
        .await?;
    Ok(jobs
        .into_iter()
        .filter_map(|j| {
            let created = j.creation_date_time().map_or(0.0, |t| t.as_secs_f64());
            if created < dataset.created {
                return None;
            }
            Some((j.dataset_import_job_arn?, j.job_name.unwrap_or_default(), created))
        })
        .collect())
}

/// The newest import job of `dataset`, described; `None` when it has none.
pub(super) async fn newest_import(aws: &Aws, dataset: &InteractionsDataset) -> Result<Option<ImportJob>, ProviderError> {
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
pub(super) async fn ensure_import(
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
