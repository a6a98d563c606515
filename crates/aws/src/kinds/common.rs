//! Helpers every kind uses: tags as `tags.<key>` fields, and canonical JSON for comparing
//! policy documents and schemas.

use personalize_stack_core::engine::{FieldChange, Fields};
use serde_json::Value;
use std::collections::BTreeMap;

/// Prefix of the fields that carry tags, one per key (`tags.owner`), so a plan shows each
/// tag that changes and an update touches only those.
pub(crate) const TAG_PREFIX: &str = "tags.";

/// Adds `tags` to `fields` as `tags.<key>`. Keys AWS reserves (`aws:…`, set by services such
/// as CloudFormation) are left out: nobody can change them, so comparing them is noise.
pub(crate) fn put_tag_fields(fields: &mut Fields, tags: &BTreeMap<String, String>) {
    for (k, v) in tags {
        if !k.to_ascii_lowercase().starts_with("aws:") {
            fields.insert(format!("{TAG_PREFIX}{k}"), v.clone());
        }
    }
}

/// The tag changes among `changes`: tags to set (key → value) and keys to remove.
pub(crate) fn tag_changes(changes: &[FieldChange]) -> (BTreeMap<String, String>, Vec<String>) {
    let mut set = BTreeMap::new();
    let mut remove = Vec::new();
    for c in changes {
        if let Some(key) = c.field.strip_prefix(TAG_PREFIX) {
            match &c.new {
                Some(v) => {
                    set.insert(key.to_owned(), v.clone());
                }
                None => remove.push(key.to_owned()),
            }
        }
    }
    (set, remove)
}

/// Whether any change is to field `field`.
pub(crate) fn changed(changes: &[FieldChange], field: &str) -> bool {
    changes.iter().any(|c| c.field == field)
}

/// `value` with every object's keys sorted, recursively (serde_json keeps insertion order in
/// this workspace, so sorting has to be explicit).
pub(crate) fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// The canonical text of a JSON value: keys sorted, no whitespace.
pub(crate) fn canonical_json(value: &Value) -> String {
    sorted(value).to_string()
}
