//! `kinesis_stream`: the Kinesis data stream between the API and the forwarder.
//!
//! Exports `arn` and `name`. A new name replaces the stream; shard count, retention,
//! encryption and tags are updated in place.

use super::{Attribute, KindSpec, Site};
use crate::spec::check::{Checker, Str};
use crate::spec::names;
use crate::yaml::Spanned;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// `kinesis_stream` as written in `stack.yaml`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Stream name (1–128 characters: letters, digits, `_`, `.`, `-`).
    pub name: Str,
    /// Capacity mode: `provisioned` (default) or `on_demand`.
    pub mode: Option<Spanned<StreamMode>>,
    /// Shard count of a provisioned stream (1–500; default 1). Not allowed on demand.
    pub shards: Option<Spanned<u32>>,
    /// Hours records are kept (24–8760; default 24).
    pub retention_hours: Option<Spanned<u32>>,
    /// Server-side encryption with a KMS key.
    pub encryption: Option<Encryption>,
    /// Tags of the stream, merged over the stack's tags.
    #[serde(default)]
    pub tags: IndexMap<Str, Str>,
}

/// Kinesis capacity modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StreamMode {
    /// A fixed number of shards.
    Provisioned,
    /// Capacity that scales with traffic.
    OnDemand,
}

/// Server-side encryption.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Encryption {
    /// KMS key id, ARN or alias (`alias/aws/kinesis` for the AWS-managed key).
    pub kms_key: Str,
}

/// A checked stream.
#[derive(Debug, Clone, PartialEq)]
pub struct KinesisStream {
    /// AWS name.
    pub name: String,
    /// Capacity mode.
    pub mode: StreamMode,
    /// Shard count (provisioned only).
    pub shards: Option<u32>,
    /// Retention in hours.
    pub retention_hours: u32,
    /// KMS key for server-side encryption.
    pub kms_key: Option<String>,
    /// Resource tags.
    pub tags: IndexMap<String, String>,
}

impl KindSpec for KinesisStream {
    type Raw = Spec;

    const ATTRIBUTES: &'static [Attribute] = &[
        Attribute::output("arn"),
        Attribute::reference("name"),
    ];

    fn validate(raw: &Spec, _site: &Site<'_>, cx: &mut Checker<'_>) -> KinesisStream {
        let mode = raw.mode.as_ref().map_or(StreamMode::Provisioned, |m| m.value);
        let shards = match (mode, &raw.shards) {
            (StreamMode::Provisioned, None) => Some(1),
            (StreamMode::Provisioned, Some(s)) => Some(cx.range(s, 1, 500, "`shards`")),
            (StreamMode::OnDemand, Some(s)) => {
                cx.error_hint(
                    s.pos(),
                    "`shards` does not apply to an on-demand stream",
                    "remove `shards`, or set `mode: provisioned`",
                );
                None
            }
            (StreamMode::OnDemand, None) => None,
        };
        let retention_hours = raw
            .retention_hours
            .as_ref()
            .map_or(24, |r| cx.range(r, 24, 8760, "`retention_hours`"));
        let kms_key = raw.encryption.as_ref().map(|e| {
            if e.kms_key.value.trim().is_empty() {
                cx.error(e.kms_key.pos(), "`encryption.kms_key` must name a KMS key");
            }
            e.kms_key.value.clone()
        });
        KinesisStream {
            name: cx.name(&raw.name, &names::KINESIS_STREAM),
            mode,
            shards,
            retention_hours,
            kms_key,
            tags: cx.tags(&raw.tags),
        }
    }

    fn aws_name(&self) -> Option<&str> {
        Some(&self.name)
    }
}
