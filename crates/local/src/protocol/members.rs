//! Typed reading of JSON request members, shared by the awsJson and restJson services: a
//! member of the wrong JSON type is the `SerializationException` AWS's front ends return
//! before any validation; absent and `null` members read as `None`.

use crate::{AwsError, AwsResult};
use serde_json::Value;

/// A member of the wrong JSON type.
pub(crate) fn wrong_type(member: &str, expected: &str) -> AwsError {
    AwsError::new(
        "SerializationException",
        format!("Unexpected value type for member {member}: expected {expected}"),
    )
}

/// A string member, if present.
///
/// # Errors
/// `SerializationException` if it is not a string.
pub(crate) fn string<'a>(input: &'a Value, member: &str) -> AwsResult<Option<&'a str>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong_type(member, "a string")),
    }
}

/// An integer member, if present.
///
/// # Errors
/// `SerializationException` if it is not an integer.
pub(crate) fn integer(input: &Value, member: &str) -> AwsResult<Option<i64>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| wrong_type(member, "an integer")),
    }
}

/// A boolean member, if present.
///
/// # Errors
/// `SerializationException` if it is not a boolean.
pub(crate) fn boolean(input: &Value, member: &str) -> AwsResult<Option<bool>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(wrong_type(member, "a boolean")),
    }
}

/// A map of strings to strings, if present.
///
/// # Errors
/// `SerializationException` if it is not an object of strings.
pub(crate) fn string_map(input: &Value, member: &str) -> AwsResult<Option<Vec<(String, String)>>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Null => Ok((k.clone(), String::new())),
                _ => Err(wrong_type(member, "a map of strings")),
            })
            .collect::<AwsResult<Vec<_>>>()
            .map(Some),
        Some(_) => Err(wrong_type(member, "a map")),
    }
}

/// A list of strings, if present.
///
/// # Errors
/// `SerializationException` if it is not an array of strings.
pub(crate) fn string_list(input: &Value, member: &str) -> AwsResult<Option<Vec<String>>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| wrong_type(member, "a list of strings"))
            })
            .collect::<AwsResult<Vec<_>>>()
            .map(Some),
        Some(_) => Err(wrong_type(member, "a list")),
    }
}

/// An object member, if present.
///
/// # Errors
/// `SerializationException` if it is not an object.
pub(crate) fn object<'a>(input: &'a Value, member: &str) -> AwsResult<Option<&'a Value>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v)),
        Some(_) => Err(wrong_type(member, "a structure")),
    }
}

/// A list member, if present.
///
/// # Errors
/// `SerializationException` if it is not a list.
pub(crate) fn list<'a>(input: &'a Value, member: &str) -> AwsResult<Option<&'a Vec<Value>>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(_) => Err(wrong_type(member, "a list")),
    }
}
