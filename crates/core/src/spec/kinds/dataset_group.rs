//! `personalize_dataset_group`: an Amazon Personalize dataset group, with the interactions
//! schema and dataset an event tracker needs — or an existing group adopted by ARN.
//!
//! Exports `arn` and `name`.

use crate::spec::check::{Checker, Str};
use crate::spec::names;
use crate::spec::text::{Reference, Text};
use crate::yaml::Spanned;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// Attributes other resources may reference.
pub const ATTRIBUTES: &[&str] = &["arn", "name"];

/// `personalize_dataset_group` as written in `stack.yaml`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Name of the dataset group to create (1–63 characters: letters, digits, `-`, `_`).
    /// Omit it when `arn` names an existing dataset group.
    pub name: Option<Str>,
    /// ARN of an existing dataset group to use instead of creating one. It is never modified
    /// or deleted.
    pub arn: Option<Str>,
    /// Domain of a domain dataset group (`ECOMMERCE` or `VIDEO_ON_DEMAND`); omit for a custom
    /// dataset group.
    pub domain: Option<Spanned<Domain>>,
    /// Schema of the interactions dataset: `default` (USER_ID, ITEM_ID, TIMESTAMP,
    /// EVENT_TYPE, EVENT_VALUE) or `{ avro: <Avro record schema> }`. Defaults to `default`.
    pub interactions_schema: Option<Spanned<InteractionsSchema>>,
    /// KMS key ARN to encrypt the dataset group with; needs `kms_role_arn`.
    pub kms_key_arn: Option<Str>,
    /// Role Personalize assumes to use `kms_key_arn`.
    pub kms_role_arn: Option<Str>,
    /// Tags of the dataset group, merged over the stack's tags.
    #[serde(default)]
    pub tags: IndexMap<Str, Str>,
}

/// Personalize dataset group domains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Domain {
    /// E-commerce.
    Ecommerce,
    /// Video on demand.
    VideoOnDemand,
}

/// The interactions schema.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InteractionsSchema {
    /// USER_ID, ITEM_ID, TIMESTAMP, EVENT_TYPE, EVENT_VALUE.
    Default,
    /// An Avro record schema.
    Avro(serde_json::Value),
}

/// A checked dataset group.
#[derive(Debug, Clone, PartialEq)]
pub enum DatasetGroup {
    /// Created and owned by the stack.
    Managed {
        /// AWS name.
        name: String,
        /// Domain, if any.
        domain: Option<Domain>,
        /// Avro schema of the interactions dataset, as JSON.
        interactions_schema: serde_json::Value,
        /// KMS key and the role to use it.
        kms: Option<(Text, Text)>,
        /// Resource tags.
        tags: IndexMap<String, String>,
    },
    /// An existing dataset group, used but never changed.
    Existing {
        /// Its ARN.
        arn: Text,
    },
}

impl DatasetGroup {
    /// The AWS name, when the stack decides it.
    pub fn name(&self) -> Option<&str> {
        match self {
            DatasetGroup::Managed { name, .. } => Some(name),
            DatasetGroup::Existing { .. } => None,
        }
    }

    pub(crate) fn references(&self) -> Vec<Reference> {
        match self {
            DatasetGroup::Managed { kms, .. } => kms
                .iter()
                .flat_map(|(k, r)| k.references().chain(r.references()))
                .cloned()
                .collect(),
            DatasetGroup::Existing { arn } => arn.references().cloned().collect(),
        }
    }
}

/// The default interactions schema: what the workshop's events carry.
pub fn default_interactions_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "record",
        "name": "Interactions",
        "namespace": "com.amazonaws.personalize.schema",
        "fields": [
            { "name": "USER_ID", "type": "string" },
            { "name": "ITEM_ID", "type": "string" },
            { "name": "TIMESTAMP", "type": "long" },
            { "name": "EVENT_TYPE", "type": "string" },
            { "name": "EVENT_VALUE", "type": ["null", "float"], "default": null }
        ],
        "version": "1.0"
    })
}

impl Spec {
    pub(crate) fn validate(&self, pos: crate::yaml::Pos, cx: &mut Checker<'_>) -> DatasetGroup {
        match (&self.name, &self.arn) {
            (Some(name), Some(arn)) => {
                cx.error_hint(
                    arn.pos(),
                    "a dataset group takes either `name` (create one) or `arn` (use an existing one), not both",
                    "remove `name` to adopt the existing group, or `arn` to create one",
                );
                let _ = name;
            }
            (None, None) => {
                cx.error(
                    pos,
                    "a dataset group needs `name` (to create one) or `arn` (to use an existing one)",
                );
            }
            _ => {}
        }
        if let Some(arn) = &self.arn {
            for (field, present) in [
                ("domain", self.domain.is_some()),
                ("interactions_schema", self.interactions_schema.is_some()),
                ("kms_key_arn", self.kms_key_arn.is_some()),
            ] {
                if present {
                    cx.error(arn.pos(), format!("`{field}` applies only to a dataset group the stack creates, not to one adopted by `arn`"));
                }
            }
            let text = cx.text(arn);
            if let Some(lit) = text.as_literal()
                && !(names::is_arn(&lit) && lit.contains(":personalize:") && lit.contains(":dataset-group/"))
            {
                cx.error(arn.pos(), format!("`{lit}` is not a Personalize dataset group ARN (`arn:aws:personalize:<region>:<account>:dataset-group/<name>`)"));
            }
            return DatasetGroup::Existing { arn: text };
        }
        let name = self
            .name
            .as_ref()
            .map(|n| cx.name(n, &names::PERSONALIZE))
            .unwrap_or_default();
        let interactions_schema = match self.interactions_schema.as_ref().map(|s| (&s.value, s.pos())) {
            None | Some((InteractionsSchema::Default, _)) => default_interactions_schema(),
            Some((InteractionsSchema::Avro(schema), pos)) => {
                check_interactions_schema(schema, pos, cx);
                schema.clone()
            }
        };
        let kms = match (&self.kms_key_arn, &self.kms_role_arn) {
            (Some(k), Some(r)) => Some((cx.text(k), cx.arn_of(r, super::Kind::IamRole, "kms_role_arn"))),
            (Some(k), None) => {
                cx.error(
                    k.pos(),
                    "`kms_key_arn` needs `kms_role_arn`, a role Personalize can assume to use the key",
                );
                None
            }
            (None, Some(r)) => {
                cx.error(r.pos(), "`kms_role_arn` is only used with `kms_key_arn`");
                None
            }
            (None, None) => None,
        };
        DatasetGroup::Managed {
            name,
            domain: self.domain.as_ref().map(|d| d.value),
            interactions_schema,
            kms,
            tags: cx.tags(&self.tags),
        }
    }
}

/// Personalize requires USER_ID and ITEM_ID strings and a TIMESTAMP long in an interactions
/// schema.
fn check_interactions_schema(schema: &serde_json::Value, pos: crate::yaml::Pos, cx: &mut Checker<'_>) {
    let fields = schema.get("fields").and_then(|f| f.as_array());
    let Some(fields) = fields.filter(|_| schema.get("type").and_then(|t| t.as_str()) == Some("record"))
    else {
        cx.error(
            pos,
            "the interactions schema must be an Avro `record` with `fields`",
        );
        return;
    };
    for (required, ty) in [
        ("USER_ID", "string"),
        ("ITEM_ID", "string"),
        ("TIMESTAMP", "long"),
    ] {
        let found = fields
            .iter()
            .find(|f| f.get("name").and_then(|n| n.as_str()) == Some(required));
        match found {
            None => cx.error(
                pos,
                format!("the interactions schema has no `{required}` field; Personalize requires it"),
            ),
            Some(f) if f.get("type").and_then(|t| t.as_str()) != Some(ty) => cx.error(
                pos,
                format!("the interactions schema's `{required}` must be of type `{ty}`"),
            ),
            Some(_) => {}
        }
    }
}
