//! API Gateway's JSON-Patch (`patchOperations`): `op`, `path` (a JSON pointer whose tokens
//! escape `/` as `~1` and `~` as `~0`), `value` (always a string on the wire) and `from`.

use super::{bad_request, wrong_type};
use crate::{AwsError, AwsResult};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One patch operation.
#[derive(Debug, Clone)]
pub(super) struct PatchOp {
    pub op: String,
    pub path: String,
    pub value: Option<String>,
}

/// The request's `patchOperations`.
pub(super) fn ops(body: &Map<String, Value>) -> AwsResult<Vec<PatchOp>> {
    let list = match body.get("patchOperations") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(wrong_type("patchOperations", "a list")),
    };
    list.iter().map(one_op).collect()
}

fn one_op(v: &Value) -> AwsResult<PatchOp> {
    let Value::Object(m) = v else {
        return Err(wrong_type("patchOperations", "a list of objects"));
    };
    let text = |name: &str| -> AwsResult<Option<String>> {
        match m.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(wrong_type(name, "a string")),
        }
    };
    let op = text("op")?.unwrap_or_default();
    if !["add", "remove", "replace", "move", "copy", "test"].contains(&op.as_str()) {
        return Err(bad_request(format!(
            "Invalid patch operation specified. Must be one of: [add, remove, replace, move, copy, test], \
             but was '{op}'"
        )));
    }
    let path = text("path")?.unwrap_or_default();
    if !path.starts_with('/') {
        return Err(bad_request(format!("Invalid patch path '{path}'")));
    }
    Ok(PatchOp {
        op,
        path,
        value: text("value")?,
    })
}

impl PatchOp {
    /// The path's tokens, unescaped (`/a~1b/c` → `["a/b", "c"]`).
    pub fn tokens(&self) -> Vec<String> {
        self.path
            .split('/')
            .skip(1)
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect()
    }

    /// The error for a path this resource does not support, worded as AWS words it.
    pub fn invalid_path(&self, allowed: &str) -> AwsError {
        bad_request(format!(
            "Invalid patch path  '{}' specified for op '{}'. Must be one of: [{allowed}]",
            self.path, self.op
        ))
    }

    /// The value, required.
    pub fn value(&self) -> AwsResult<&str> {
        self.value
            .as_deref()
            .ok_or_else(|| bad_request(format!("Invalid null value for path '{}'", self.path)))
    }

    /// The value as an optional string: an empty or missing value clears the field.
    pub fn opt_value(&self) -> Option<String> {
        self.value.clone().filter(|v| !v.is_empty())
    }

    /// The value as a boolean.
    pub fn bool(&self) -> AwsResult<bool> {
        match self.value()? {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(bad_request(format!(
                "Invalid boolean value '{other}' specified for path '{}'",
                self.path
            ))),
        }
    }

    /// The value as an integer.
    pub fn int(&self) -> AwsResult<i64> {
        let v = self.value()?;
        v.parse().map_err(|_| {
            bad_request(format!(
                "Invalid integer value '{v}' specified for path '{}'",
                self.path
            ))
        })
    }

    /// The value as a number.
    pub fn float(&self) -> AwsResult<f64> {
        let v = self.value()?;
        v.parse::<f64>().ok().filter(|f| f.is_finite()).ok_or_else(|| {
            bad_request(format!(
                "Invalid number value '{v}' specified for path '{}'",
                self.path
            ))
        })
    }

    /// Whether this is `add`/`replace` (set) rather than `remove`.
    pub fn sets(&self) -> bool {
        matches!(self.op.as_str(), "add" | "replace")
    }

    /// Applies this operation to one entry `name` of a string map.
    pub fn on_str_map(&self, map: &mut BTreeMap<String, String>, name: &str, allowed: &str) -> AwsResult<()> {
        match self.op.as_str() {
            "add" | "replace" => {
                map.insert(name.to_owned(), self.value.clone().unwrap_or_default());
            }
            "remove" => {
                map.remove(name);
            }
            _ => return Err(self.invalid_path(allowed)),
        }
        Ok(())
    }

    /// Applies this operation to one entry `name` of a boolean map.
    pub fn on_bool_map(&self, map: &mut BTreeMap<String, bool>, name: &str, allowed: &str) -> AwsResult<()> {
        match self.op.as_str() {
            "add" | "replace" => {
                let flag = match self.value.as_deref() {
                    None | Some("") => false,
                    Some(_) => self.bool()?,
                };
                map.insert(name.to_owned(), flag);
            }
            "remove" => {
                map.remove(name);
            }
            _ => return Err(self.invalid_path(allowed)),
        }
        Ok(())
    }
}
