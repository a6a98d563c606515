//! API Gateway's JSON-Patch (`patchOperations`): `op`, `path` (a JSON pointer whose tokens
//! escape `/` as `~1` and `~` as `~0`), `value` (always a string on the wire) and `from`.

use super::{bad_request, enum_violation, validated, wrong_type};
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

/// The operations the model's `op` enum has, in the order AWS lists them.
const OPS: [&str; 6] = ["add", "remove", "move", "test", "replace", "copy"];

/// The request's `patchOperations`. `input` names the request as the front end's validation
/// messages do (`updateMethodResponseInput`); an op outside the enum is a violation there.
pub(super) fn ops(body: &Map<String, Value>, input: &str) -> AwsResult<Vec<PatchOp>> {
    ops_and(body, input, Vec::new())
}

/// [`ops`], with the path labels' own `violations`, which AWS reports after the operations'
/// (recorded: LocalStack test_update_method_response_negative_tests).
pub(super) fn ops_and(
    body: &Map<String, Value>,
    input: &str,
    violations: Vec<String>,
) -> AwsResult<Vec<PatchOp>> {
    let list = match body.get("patchOperations") {
        None | Some(Value::Null) => &Vec::new(),
        Some(Value::Array(list)) => list,
        Some(other) => return Err(wrong_type(other, "List")),
    };
    let ops: Vec<PatchOp> = list.iter().map(one_op).collect::<AwsResult<_>>()?;
    // Positions count from 1 (recorded: LocalStack test_update_method_response_wrong_operations).
    let mut all: Vec<String> = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| !OPS.contains(&o.op.as_str()))
        .map(|(i, o)| {
            enum_violation(
                &o.op,
                &format!("{input}.patchOperations.{}.member.op", i + 1),
                &OPS,
            )
        })
        .collect();
    all.extend(violations);
    validated(&all)?;
    Ok(ops)
}

fn one_op(v: &Value) -> AwsResult<PatchOp> {
    let Value::Object(m) = v else {
        return Err(wrong_type(v, "Map"));
    };
    let text = |name: &str| -> AwsResult<Option<String>> {
        match m.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(wrong_type(other, "String")),
        }
    };
    let op = text("op")?.ok_or_else(|| {
        bad_request(
            "Invalid patch operation specified. Must be one of: [add, remove, replace, move, copy, test]",
        )
    })?;
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

    /// `Invalid patch path {path}`: how AWS refuses a path it does not know for most resources
    /// (recorded: LocalStack test_update_method_validation, test_update_rest_api_behaviour).
    pub fn unknown_path(&self) -> AwsError {
        bad_request(format!("Invalid patch path {}", self.path))
    }

    /// A known path under an op it does not take: `allowed` lists the ops it does
    /// (recorded: LocalStack test_update_rest_api_compression, test_update_method_validation).
    pub fn unsupported_op(&self, allowed: &str) -> AwsError {
        bad_request(format!(
            "Invalid patch operation specified. Must be one of: [{allowed}]"
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

    /// The value as a boolean, read as Java's `Boolean.parseBoolean` reads it: `true` in any
    /// case is true, anything else false (recorded: LocalStack test_update_method_validation
    /// `whatever`, test_update_api_key_invalid_enabled_type `not-a-boolean`).
    pub fn bool(&self) -> bool {
        self.value
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
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
                map.insert(name.to_owned(), self.bool());
            }
            "remove" => {
                map.remove(name);
            }
            _ => return Err(self.invalid_path(allowed)),
        }
        Ok(())
    }
}
