//! `personalize_event_tracker`: the Amazon Personalize event tracker whose tracking ID the
//! forwarder sends events with. A dataset group holds at most one; trackers cannot be
//! updated, so a changed name or group replaces it.
//!
//! Exports `arn`, `name` and `tracking_id`.

use super::{Attribute, KindSpec, Site};
use crate::spec::check::{Checker, Str};
use crate::spec::kinds::Kind;
use crate::spec::names;
use crate::spec::text::{Reference, Text};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// `personalize_event_tracker` as written in `stack.yaml`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Tracker name (1–63 characters: letters, digits, `-`, `_`).
    pub name: Str,
    /// The dataset group: `${name.arn}` of a `personalize_dataset_group`, or an ARN.
    pub dataset_group: Str,
    /// Tags of the tracker, merged over the stack's tags.
    #[serde(default)]
    pub tags: IndexMap<Str, Str>,
}

/// A checked event tracker.
#[derive(Debug, Clone, PartialEq)]
pub struct EventTracker {
    /// AWS name.
    pub name: String,
    /// Dataset group ARN.
    pub dataset_group: Text,
    /// Resource tags.
    pub tags: IndexMap<String, String>,
}

impl KindSpec for EventTracker {
    type Raw = Spec;

    const ATTRIBUTES: &'static [Attribute] = &[
        Attribute::output("tracking_id"),
        Attribute::output("arn"),
        Attribute::reference("name"),
    ];

    fn validate(raw: &Spec, _site: &Site<'_>, cx: &mut Checker<'_>) -> EventTracker {
        EventTracker {
            name: cx.name(&raw.name, &names::PERSONALIZE),
            dataset_group: cx.arn_of(&raw.dataset_group, Kind::DatasetGroup, "dataset_group"),
            tags: cx.tags(&raw.tags),
        }
    }

    fn aws_name(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn references(&self) -> Vec<Reference> {
        self.dataset_group.references().cloned().collect()
    }
}
