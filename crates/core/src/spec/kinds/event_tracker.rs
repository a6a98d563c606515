//! `personalize_event_tracker`: the Amazon Personalize event tracker whose tracking ID the
//! forwarder sends events with. A dataset group holds at most one; trackers cannot be
//! updated, so a changed name or group replaces it.
//!
//! Exports `arn`, `name` and `tracking_id`.

use crate::spec::check::{Checker, Str};
use crate::spec::kinds::Kind;
use crate::spec::names;
use crate::spec::text::{Reference, Text};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// Attributes other resources may reference.
pub const ATTRIBUTES: &[&str] = &["arn", "name", "tracking_id"];

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

impl EventTracker {
    pub(crate) fn references(&self) -> Vec<Reference> {
        self.dataset_group.references().cloned().collect()
    }
}

impl Spec {
    pub(crate) fn validate(&self, cx: &mut Checker<'_>) -> EventTracker {
        EventTracker {
            name: cx.name(&self.name, &names::PERSONALIZE),
            dataset_group: cx.arn_of(&self.dataset_group, Kind::DatasetGroup, "dataset_group"),
            tags: cx.tags(&self.tags),
        }
    }
}
