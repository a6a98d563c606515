//! The JSON Schema of `stack.yaml`, generated from the raw types so it cannot drift from
//! what the parser accepts.

use crate::spec::RawStack;

/// The JSON Schema (draft 2020-12) of a stack file, pretty-printed.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(RawStack);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
