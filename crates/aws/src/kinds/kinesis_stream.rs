//! `kinesis_stream`: a Kinesis data stream, found by name.
//!
//! Fields compared: `name`, `mode` (`provisioned` / `on_demand`), `shards` (open shards of a
//! provisioned stream), `retention_hours`, `encryption.kms_key` (when encrypted or declared),
//! `tags.<key>`, and `status` (present only while the stream is being deleted, which makes it
//! a replacement: it is created again once gone).
//!
//! Create and update share one convergence of the stream's settings read afresh from AWS
//! (`converge_settings`), so a run interrupted between two steps (say after CreateStream,
//! before the retention change) finishes the rest on the next run.

use super::{Cx, ResourceKind};
use super::common::{put_tag_fields, tag_changes};
use crate::Aws;
use aws_sdk_kinesis::types::{
    EncryptionType, ScalingType, StreamDescriptionSummary, StreamMode as SdkStreamMode, StreamModeDetails,
    StreamStatus,
};
use personalize_stack_core::engine::{
    Attrs, Desired, ErrorKind, FieldChange, Fields, Observed, ProviderError,
};
use personalize_stack_core::spec::Resource;
use personalize_stack_core::spec::kinds::kinesis_stream::{KinesisStream, StreamMode};
use std::collections::BTreeMap;

fn mode_name(mode: StreamMode) -> &'static str {
    match mode {
        StreamMode::Provisioned => "provisioned",
        StreamMode::OnDemand => "on_demand",
    }
}

/// The stack's mode of a live stream (streams from before capacity modes have no details and
/// are provisioned).
fn live_mode(s: &StreamDescriptionSummary) -> StreamMode {
    match s.stream_mode_details().map(StreamModeDetails::stream_mode) {
        Some(SdkStreamMode::OnDemand) => StreamMode::OnDemand,
        _ => StreamMode::Provisioned,
    }
}

fn attrs_of(arn: &str, name: &str) -> Attrs {
    [
        ("arn".to_owned(), arn.to_owned()),
        ("name".to_owned(), name.to_owned()),
    ]
    .into()
}

impl ResourceKind for KinesisStream {
    fn desired(&self, cx: &Cx<'_>) -> Result<Desired, ProviderError> {
        let Cx { aws, resource: r, .. } = *cx;
        let mut fields = Fields::new();
        fields.insert("name".into(), self.name.clone());
        fields.insert("mode".into(), mode_name(self.mode).into());
        if let (StreamMode::Provisioned, Some(n)) = (self.mode, self.shards) {
            fields.insert("shards".into(), n.to_string());
        }
        fields.insert("retention_hours".into(), self.retention_hours.to_string());
        if let Some(key) = &self.kms_key {
            fields.insert("encryption.kms_key".into(), key.clone());
        }
        put_tag_fields(&mut fields, &aws.tags_for(r, &self.tags));
        Ok(Desired {
            fields,
            replace_on: [
                ("name".to_owned(), "a stream cannot be renamed".to_owned()),
                (
                    "status".to_owned(),
                    "the stream is being deleted; it is created again once gone".to_owned(),
                ),
            ]
            .into(),
            ..Desired::default()
        })
    }

    async fn observe(&self, cx: &Cx<'_>) -> Result<Option<Observed>, ProviderError> {
        let Cx { aws, resource: r, .. } = *cx;
        let found = match summary(aws, &self.name).await? {
            Some(s) => Some(s),
            // Renamed in the stack: the old stream still carries our tags. Finding it makes the
            // plan a replacement instead of a create that would leak it.
            None => match renamed_from(aws, r, &self.name).await? {
                Some(old) => summary(aws, &old).await?,
                None => None,
            },
        };
        let Some(s) = found else {
            return Ok(None);
        };
        let tags = stream_tags(aws, s.stream_name()).await?;
        let owned = aws.owns(r, &tags);
        let attrs = attrs_of(s.stream_arn(), s.stream_name());
        if !owned {
            return Ok(Some(Observed::foreign(s.stream_name().to_owned(), attrs)));
        }
        let mut fields = Fields::new();
        fields.insert("name".into(), s.stream_name().to_owned());
        let mode = live_mode(&s);
        fields.insert("mode".into(), mode_name(mode).into());
        if mode == StreamMode::Provisioned {
            fields.insert("shards".into(), s.open_shard_count().to_string());
        }
        fields.insert("retention_hours".into(), s.retention_period_hours().to_string());
        if s.encryption_type() == Some(&EncryptionType::Kms) {
            fields.insert(
                "encryption.kms_key".into(),
                s.key_id().unwrap_or_default().to_owned(),
            );
        }
        if *s.stream_status() == StreamStatus::Deleting {
            fields.insert("status".into(), s.stream_status().as_str().to_owned());
        }
        put_tag_fields(&mut fields, &tags);
        Ok(Some(Observed::ours(s.stream_name().to_owned(), fields, attrs)))
    }

    /// Creates it.
    ///
    /// # Errors
    /// An AWS call failed, or a same-named stream is not ours.
    async fn create(&self, cx: &Cx<'_>) -> Result<Attrs, ProviderError> {
        let Cx { aws, resource: r, .. } = *cx;
        let kinesis = &aws.clients.kinesis;
        let name = self.name.as_str();
        // A replaced stream, or one a previous destroy left DELETING, still holds the name.
        if summary(aws, name)
            .await?
            .is_some_and(|s| *s.stream_status() == StreamStatus::Deleting)
        {
            wait_gone(aws, name).await?;
        }
        let tags = aws.tags_for(r, &self.tags);
        let (shard_count, details) = match self.mode {
            StreamMode::Provisioned => (Some(i32::try_from(self.shards.unwrap_or(1)).unwrap_or(1)), None),
            StreamMode::OnDemand => (
                None,
                Some(
                    StreamModeDetails::builder()
                        .stream_mode(SdkStreamMode::OnDemand)
                        .build()
                        .map_err(|e| crate::call::error("CreateStream", "InvalidInput", e.to_string()))?,
                ),
            ),
        };
        let created = aws
            .call("CreateStream", || {
                kinesis
                    .create_stream()
                    .stream_name(name)
                    .set_shard_count(shard_count)
                    .set_stream_mode_details(details.clone())
                    .set_tags(Some(tags.clone().into_iter().collect()))
                    .send()
            })
            .await;
        match created {
            Ok(_) => {}
            // A previous run created it and stopped before it finished: adopt it if it is ours.
            Err(e) if e.is(ErrorKind::InUse) => match self.observe(cx).await? {
                Some(found) if found.owned => {}
                Some(found) => {
                    return Err(ProviderError::not_ours("CreateStream", format_args!("stream {}", found.id)));
                }
                None => return Err(e),
            },
            Err(e) => return Err(e),
        }
        let s = converge_settings(aws, self).await?;
        Ok(attrs_of(s.stream_arn(), s.stream_name()))
    }

    /// Updates it.
    ///
    /// # Errors
    /// An AWS call failed.
    async fn update(
        &self,
        cx: &Cx<'_>,
        _observed: &Observed,
        changes: &[FieldChange],
    ) -> Result<Attrs, ProviderError> {
        let Cx { aws, .. } = *cx;
        let kinesis = &aws.clients.kinesis;
        let name = self.name.as_str();
        let s = converge_settings(aws, self).await?;
        let (set, remove) = tag_changes(changes);
        if !set.is_empty() {
            aws.call("AddTagsToStream", || {
                kinesis
                    .add_tags_to_stream()
                    .stream_name(name)
                    .set_tags(Some(set.clone().into_iter().collect()))
                    .send()
            })
            .await?;
        }
        if !remove.is_empty() {
            aws.call("RemoveTagsFromStream", || {
                kinesis
                    .remove_tags_from_stream()
                    .stream_name(name)
                    .set_tag_keys(Some(remove.clone()))
                    .send()
            })
            .await?;
        }
        Ok(attrs_of(s.stream_arn(), s.stream_name()))
    }

    /// Deletes it and waits until it is gone.
    ///
    /// # Errors
    /// An AWS call failed.
    async fn delete(&self, cx: &Cx<'_>, observed: &Observed) -> Result<(), ProviderError> {
        let Cx { aws, .. } = *cx;
        let kinesis = &aws.clients.kinesis;
        let name = observed.id.as_str();
        aws.wait_for(&format!("stream {name} deleted"), || async {
            let Some(s) = summary(aws, name).await? else {
                return Ok(Some(()));
            };
            if *s.stream_status() == StreamStatus::Deleting {
                return Ok(None);
            }
            // Registered consumers (enhanced fan-out) would make DeleteStream fail otherwise.
            let deleted = aws
                .call("DeleteStream", || {
                    kinesis
                        .delete_stream()
                        .stream_name(name)
                        .enforce_consumer_deletion(true)
                        .send()
                })
                .await;
            match deleted {
                Ok(_) => Ok(None),
                Err(e) if e.is(ErrorKind::NotFound) => Ok(Some(())),
                // Not ACTIVE yet (CREATING, UPDATING): try again on the next poll.
                Err(e) if e.is(ErrorKind::InUse) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await
    }
}

/// DescribeStreamSummary of stream `name`, or `None` when there is none.
async fn summary(aws: &Aws, name: &str) -> Result<Option<StreamDescriptionSummary>, ProviderError> {
    let kinesis = &aws.clients.kinesis;
    match aws
        .call("DescribeStreamSummary", || {
            kinesis.describe_stream_summary().stream_name(name).send()
        })
        .await
    {
        Ok(out) => Ok(out.stream_description_summary),
        Err(e) if e.is(ErrorKind::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A stream of this stack and logical resource under another name than `name`, found by
/// its tags (ListStreams, then the tags of each: only when the declared name is absent).
async fn renamed_from(aws: &Aws, r: &Resource, name: &str) -> Result<Option<String>, ProviderError> {
    let kinesis = &aws.clients.kinesis;
    let names = aws
        .list_all(
            "ListStreams",
            |token| kinesis.list_streams().set_next_token(token).send(),
            |out| (out.stream_names, out.next_token.filter(|_| out.has_more_streams)),
        )
        .await?;
    for candidate in names.into_iter().filter(|n| n != name) {
        match stream_tags(aws, &candidate).await {
            Ok(tags) if aws.owns(r, &tags) => return Ok(Some(candidate)),
            Ok(_) => {}
            // Deleted meanwhile: not ours to find.
            Err(e) if e.is(ErrorKind::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// Every tag of stream `name`.
async fn stream_tags(aws: &Aws, name: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    let kinesis = &aws.clients.kinesis;
    let mut tags = BTreeMap::new();
    let mut start: Option<String> = None;
    loop {
        let out = aws
            .call("ListTagsForStream", || {
                kinesis
                    .list_tags_for_stream()
                    .stream_name(name)
                    .set_exclusive_start_tag_key(start.clone())
                    .send()
            })
            .await?;
        for t in out.tags() {
            tags.insert(t.key().to_owned(), t.value().unwrap_or_default().to_owned());
        }
        match out.tags().last() {
            Some(last) if out.has_more_tags() => start = Some(last.key().to_owned()),
            _ => break,
        }
    }
    Ok(tags)
}

/// Waits until stream `name` is `ACTIVE`; its summary then.
async fn wait_active(aws: &Aws, name: &str) -> Result<StreamDescriptionSummary, ProviderError> {
    aws.wait_for(&format!("stream {name} ACTIVE"), || async {
        match summary(aws, name).await? {
            None => Err(crate::call::error(
                "DescribeStreamSummary",
                "ResourceNotFoundException",
                format!("stream {name} disappeared while waiting for it to become ACTIVE"),
            )
            .hint("something else deleted it; run again to create it")),
            Some(s) if *s.stream_status() == StreamStatus::Active => Ok(Some(s)),
            Some(s) if *s.stream_status() == StreamStatus::Deleting => Err(crate::call::error(
                "DescribeStreamSummary",
                "ResourceInUseException",
                format!("stream {name} is being deleted"),
            )
            .hint("run again once it is gone")),
            Some(_) => Ok(None),
        }
    })
    .await
}

/// Waits until stream `name` no longer exists.
async fn wait_gone(aws: &Aws, name: &str) -> Result<(), ProviderError> {
    aws.wait_for(&format!("stream {name} deleted"), || async {
        Ok(summary(aws, name).await?.is_none().then_some(()))
    })
    .await
}

/// The next target of a uniform reshard from `current` towards `target`: UpdateShardCount
/// takes at most double and at least half the open shards in one call.
fn next_shard_count(current: i32, target: i32) -> i32 {
    let current = current.max(1);
    if target > current {
        target.min(current.saturating_mul(2))
    } else {
        target.max((current + 1) / 2)
    }
}

/// Makes the live stream's mode, shards, retention and encryption what `spec` says, reading
/// each from AWS first and waiting for `ACTIVE` after every change.
async fn converge_settings(
    aws: &Aws,
    spec: &KinesisStream,
) -> Result<StreamDescriptionSummary, ProviderError> {
    let kinesis = &aws.clients.kinesis;
    let name = spec.name.as_str();
    let mut s = wait_active(aws, name).await?;
    if live_mode(&s) != spec.mode {
        let mode = match spec.mode {
            StreamMode::Provisioned => SdkStreamMode::Provisioned,
            StreamMode::OnDemand => SdkStreamMode::OnDemand,
        };
        let details = StreamModeDetails::builder()
            .stream_mode(mode)
            .build()
            .map_err(|e| crate::call::error("UpdateStreamMode", "InvalidInput", e.to_string()))?;
        let arn = s.stream_arn().to_owned();
        aws.call("UpdateStreamMode", || {
            kinesis
                .update_stream_mode()
                .stream_arn(&arn)
                .stream_mode_details(details.clone())
                .send()
        })
        .await?;
        s = wait_active(aws, name).await?;
    }
    if let (StreamMode::Provisioned, Some(target)) = (spec.mode, spec.shards) {
        let target = i32::try_from(target).unwrap_or(i32::MAX);
        while s.open_shard_count() != target {
            let next = next_shard_count(s.open_shard_count(), target);
            aws.call("UpdateShardCount", || {
                kinesis
                    .update_shard_count()
                    .stream_name(name)
                    .target_shard_count(next)
                    .scaling_type(ScalingType::UniformScaling)
                    .send()
            })
            .await?;
            s = wait_active(aws, name).await?;
        }
    }
    let retention = i32::try_from(spec.retention_hours).unwrap_or(24);
    let current = s.retention_period_hours();
    if retention > current {
        aws.call("IncreaseStreamRetentionPeriod", || {
            kinesis
                .increase_stream_retention_period()
                .stream_name(name)
                .retention_period_hours(retention)
                .send()
        })
        .await?;
        s = wait_active(aws, name).await?;
    } else if retention < current {
        aws.call("DecreaseStreamRetentionPeriod", || {
            kinesis
                .decrease_stream_retention_period()
                .stream_name(name)
                .retention_period_hours(retention)
                .send()
        })
        .await?;
        s = wait_active(aws, name).await?;
    }
    let encrypted_with = (s.encryption_type() == Some(&EncryptionType::Kms))
        .then(|| s.key_id().unwrap_or_default().to_owned());
    match (&spec.kms_key, encrypted_with) {
        (Some(key), current) if current.as_deref() != Some(key.as_str()) => {
            // StartStreamEncryption also switches an encrypted stream to another key.
            aws.call("StartStreamEncryption", || {
                kinesis
                    .start_stream_encryption()
                    .stream_name(name)
                    .encryption_type(EncryptionType::Kms)
                    .key_id(key)
                    .send()
            })
            .await?;
            s = wait_active(aws, name).await?;
        }
        (None, Some(current)) => {
            aws.call("StopStreamEncryption", || {
                kinesis
                    .stop_stream_encryption()
                    .stream_name(name)
                    .encryption_type(EncryptionType::Kms)
                    .key_id(&current)
                    .send()
            })
            .await?;
            s = wait_active(aws, name).await?;
        }
        _ => {}
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::next_shard_count;

    #[test]
    fn reshards_step_by_at_most_double_or_half() {
        assert_eq!(next_shard_count(1, 2), 2);
        assert_eq!(next_shard_count(1, 5), 2);
        assert_eq!(next_shard_count(4, 5), 5);
        assert_eq!(next_shard_count(8, 1), 4);
        assert_eq!(next_shard_count(3, 1), 2);
        assert_eq!(next_shard_count(2, 1), 1);
    }
}
