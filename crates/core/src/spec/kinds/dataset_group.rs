//! `personalize_dataset_group`: an Amazon Personalize dataset group, with the interactions
//! schema and dataset an event tracker needs — or an existing group adopted by ARN. A group
//! the stack creates may import a history of interactions (`interactions_import`), which a
//! `personalize_solution` then trains on.
//!
//! Exports `arn` and `name`.

use super::{Attribute, KindSpec, Site};
use crate::spec::check::{Checker, Str};
use crate::spec::names;
use crate::spec::text::{Reference, Text};
use crate::yaml::Spanned;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

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
    /// A history of interactions (a CSV with a header naming the schema's fields) imported
    /// into the Interactions dataset once it exists, replacing what was imported before. A
    /// changed `source` imports again.
    pub interactions_import: Option<RawImport>,
    /// Tags of the dataset group, merged over the stack's tags.
    #[serde(default)]
    pub tags: IndexMap<Str, Str>,
}

/// `interactions_import` as written.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawImport {
    /// Where the CSV is: `s3://bucket/key` on AWS; for the local runtime a path (relative to
    /// the stack file's directory) or a `file://` URL.
    pub source: Str,
    /// The role Personalize assumes to read `source` (AWS requires one): `${name.arn}` of an
    /// `iam_role` assumed by `personalize.amazonaws.com`, or an ARN.
    pub role: Str,
}

/// A checked `interactions_import`.
#[derive(Debug, Clone, PartialEq)]
pub struct InteractionsImport {
    /// `s3://…`, `file://…`, or a path; the provider makes a relative path absolute.
    pub source: Text,
    /// The role's ARN.
    pub role: Text,
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
#[allow(
    clippy::large_enum_variant,
    reason = "a stack holds a handful, built once: not worth boxing fields every `match` reads"
)]
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
        /// The history to import, if any.
        interactions_import: Option<InteractionsImport>,
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

impl KindSpec for DatasetGroup {
    type Raw = Spec;

    const ATTRIBUTES: &'static [Attribute] = &[
        Attribute::output("arn"),
        Attribute::reference("name"),
    ];

    fn validate(raw: &Spec, site: &Site<'_>, cx: &mut Checker<'_>) -> DatasetGroup {
        let pos = site.pos;
        match (&raw.name, &raw.arn) {
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
        if let Some(arn) = &raw.arn {
            for (field, present) in [
                ("domain", raw.domain.is_some()),
                ("interactions_schema", raw.interactions_schema.is_some()),
                ("kms_key_arn", raw.kms_key_arn.is_some()),
                ("interactions_import", raw.interactions_import.is_some()),
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
        let name = raw
            .name
            .as_ref()
            .map(|n| cx.name(n, &names::PERSONALIZE))
            .unwrap_or_default();
        let interactions_schema = match raw.interactions_schema.as_ref().map(|s| (&s.value, s.pos())) {
            None | Some((InteractionsSchema::Default, _)) => default_interactions_schema(),
            Some((InteractionsSchema::Avro(schema), pos)) => {
                check_interactions_schema(schema, pos, cx);
                schema.clone()
            }
        };
        let kms = match (&raw.kms_key_arn, &raw.kms_role_arn) {
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
        let interactions_import = raw.interactions_import.as_ref().map(|i| i.validate(cx));
        DatasetGroup::Managed {
            name,
            domain: raw.domain.as_ref().map(|d| d.value),
            interactions_schema,
            kms,
            interactions_import,
            tags: cx.tags(&raw.tags),
        }
    }

    fn aws_name(&self) -> Option<&str> {
        self.name()
    }

    fn references(&self) -> Vec<Reference> {
        match self {
            DatasetGroup::Managed {
                kms,
                interactions_import,
                ..
            } => kms
                .iter()
                .flat_map(|(k, r)| k.references().chain(r.references()))
                .chain(
                    interactions_import
                        .iter()
                        .flat_map(|i| i.source.references().chain(i.role.references())),
                )
                .cloned()
                .collect(),
            DatasetGroup::Existing { arn } => arn.references().cloned().collect(),
        }
    }
}

impl RawImport {
    fn validate(&self, cx: &mut Checker<'_>) -> InteractionsImport {
        let source = cx.text(&self.source);
        if let Some(lit) = source.as_literal()
            && let Some(problem) = source_problem(&lit)
        {
            cx.error_hint(
                self.source.pos(),
                problem,
                "write `s3://bucket/key` for AWS, or a path or `file://` URL for the local runtime",
            );
        }
        InteractionsImport {
            source,
            role: cx.arn_of(&self.role, super::Kind::IamRole, "interactions_import.role"),
        }
    }
}

/// What is wrong with an import `source`, if anything: it must be an `s3://bucket/key` URL, a
/// `file://` URL or a path.
fn source_problem(source: &str) -> Option<String> {
    if source.trim().is_empty() {
        return Some("`interactions_import.source` is empty".to_owned());
    }
    if let Some(rest) = source.strip_prefix("s3://") {
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() || key.is_empty() {
            return Some(format!(
                "`{source}` names no object: an S3 source is `s3://bucket/key`"
            ));
        }
        return None;
    }
    if let Some(path) = source.strip_prefix("file://") {
        // `file:///abs/path`: a file URL names an absolute path (its host part is empty).
        if !path.starts_with('/') {
            return Some(format!(
                "`{source}` is not an absolute `file://` URL (`file:///path/to/file.csv`)"
            ));
        }
        return None;
    }
    source.split_once("://").map(|(scheme, _)| {
        format!(
            "`{scheme}://` sources cannot be imported: Personalize reads `s3://` (and the local runtime files)"
        )
    })
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
