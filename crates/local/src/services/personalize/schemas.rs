//! Schemas: CreateSchema (the schema must be an Avro record), DescribeSchema, ListSchemas,
//! DeleteSchema (refused while a dataset uses it). Schemas have no status.

use super::input::{self, Violations};
use super::model::{self, Kind, Resource};
use super::{Ctx, list_response, page};
use crate::{AwsError, AwsResult};
use serde_json::{Value, json};

/// The domains of domain dataset groups and their schemas.
pub(super) const DOMAINS: &[&str] = &["ECOMMERCE", "VIDEO_ON_DEMAND"];

/// Avro's primitive types.
const PRIMITIVES: &[&str] = &[
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

/// CreateSchema.
pub(super) fn create(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let name = input::string(input, "name")?;
    let schema = input::string(input, "schema")?;
    let domain = input::string(input, "domain")?;
    v.text("name", name, true, (1, 63), Some(input::NAME));
    v.text("schema", schema, true, (0, 20_000), None);
    v.one_of("domain", domain, DOMAINS);
    v.finish()?;
    let (name, schema) = (name.unwrap_or_default(), schema.unwrap_or_default());
    avro_field_names(schema).map_err(|why| {
        AwsError::new(
            "InvalidInputException",
            format!("The schema is not a valid Avro schema: {why}"),
        )
    })?;
    let arn = ctx.arn("personalize", &format!("schema/{name}"));
    ctx.store.write(|txn| {
        model::purge_gone(txn, ctx)?;
        if model::get(txn, &model::key(ctx, Kind::Schema, name), ctx.now_ms)?.is_some() {
            return Err(model::already_exists(&arn));
        }
        let mut resource = Resource::new(arn.clone(), name, ctx.now_ms, ctx.now_ms);
        resource.schema = Some(schema.to_owned());
        resource.domain = domain.map(str::to_owned);
        model::save(txn, ctx, Kind::Schema, &resource)
    })?;
    Ok(json!({ "schemaArn": arn }))
}

/// The schema as DescribeSchema's `schema` (or, without the Avro text, a list summary).
fn shape(ctx: &Ctx<'_>, schema: &Resource, full: bool) -> Value {
    let mut out = json!({ "name": schema.name, "schemaArn": schema.arn });
    if let Some(d) = &schema.domain {
        out["domain"] = d.clone().into();
    }
    if full {
        out["schema"] = schema.schema.clone().unwrap_or_default().into();
    }
    model::merged(out, schema.times(ctx.now_ms))
}

/// The `schemaArn` member, validated.
fn schema_arn(input: &Value) -> AwsResult<String> {
    let mut v = Violations::default();
    let arn = input::string(input, "schemaArn")?;
    v.arn("schemaArn", arn, true);
    v.finish()?;
    Ok(arn.unwrap_or_default().to_owned())
}

/// DescribeSchema.
pub(super) fn describe(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let arn = schema_arn(input)?;
    let schema = ctx.store.read(|txn| model::load(txn, ctx, Kind::Schema, &arn))?;
    Ok(json!({ "schema": shape(ctx, &schema, true) }))
}

/// ListSchemas.
pub(super) fn list(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let all = ctx.store.read(|txn| model::all(txn, ctx, Kind::Schema))?;
    let (items, next) = page(input, all, Violations::default())?;
    let items = items.iter().map(|s| shape(ctx, s, false)).collect();
    Ok(list_response("schemas", items, next))
}

/// DeleteSchema: immediate, unless a dataset still uses the schema.
pub(super) fn delete(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let arn = schema_arn(input)?;
    ctx.store.write(|txn| {
        model::purge_gone(txn, ctx)?;
        let schema = model::load(txn, ctx, Kind::Schema, &arn)?;
        let users: Vec<String> = model::all(txn, ctx, Kind::Dataset)?
            .into_iter()
            .filter(|d| d.schema_arn.as_deref() == Some(arn.as_str()))
            .map(|d| d.arn)
            .collect();
        if let Some(dataset) = users.first() {
            return Err(AwsError::new(
                "ResourceInUseException",
                format!("Schema {arn} is in use by dataset {dataset}. Delete the dataset first."),
            ));
        }
        let key = model::key(ctx, Kind::Schema, &schema.name);
        txn.delete(&key)?;
        Ok(())
    })?;
    Ok(json!({}))
}

/// The field names of an Avro `record` schema, or why it is not one.
pub(super) fn avro_field_names(text: &str) -> Result<Vec<String>, String> {
    let schema: Value = serde_json::from_str(text).map_err(|e| format!("it is not JSON ({e})"))?;
    if schema.get("type").and_then(Value::as_str) != Some("record") {
        return Err("the top-level type must be \"record\"".to_owned());
    }
    let name = schema.get("name").and_then(Value::as_str).unwrap_or_default();
    if !is_avro_name(name) {
        return Err(format!("the record name \"{name}\" is not a valid Avro name"));
    }
    let fields = schema
        .get("fields")
        .and_then(Value::as_array)
        .filter(|f| !f.is_empty())
        .ok_or("the record must have a non-empty \"fields\" array")?;
    let mut names: Vec<String> = Vec::new();
    for field in fields {
        let field_name = field.get("name").and_then(Value::as_str).unwrap_or_default();
        if !is_avro_name(field_name) {
            return Err(format!(
                "the field name \"{field_name}\" is not a valid Avro name"
            ));
        }
        if names.iter().any(|n| n == field_name) {
            return Err(format!("the field \"{field_name}\" is defined twice"));
        }
        let valid = field.get("type").is_some_and(|t| is_avro_type(t, true));
        if !valid {
            return Err(format!("the field \"{field_name}\" has no valid Avro type"));
        }
        names.push(field_name.to_owned());
    }
    Ok(names)
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
fn is_avro_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `t` is an Avro type: a primitive name, a union (not nested in another union) or a
/// complex type object.
fn is_avro_type(t: &Value, union_allowed: bool) -> bool {
    match t {
        Value::String(s) => PRIMITIVES.contains(&s.as_str()),
        Value::Array(members) => {
            union_allowed && !members.is_empty() && members.iter().all(|m| is_avro_type(m, false))
        }
        Value::Object(o) => match o.get("type").and_then(Value::as_str) {
            Some("array") => o.get("items").is_some_and(|i| is_avro_type(i, true)),
            Some("map") => o.get("values").is_some_and(|i| is_avro_type(i, true)),
            Some("enum") => o.get("symbols").is_some_and(Value::is_array),
            Some("fixed") => o.get("size").is_some_and(Value::is_u64),
            Some("record") => avro_field_names(&t.to_string()).is_ok(),
            Some(p) => PRIMITIVES.contains(&p),
            None => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::avro_field_names;

    #[test]
    fn avro_records_are_checked() {
        let ok = r#"{"type":"record","name":"Interactions","namespace":"com.amazonaws.personalize.schema",
            "fields":[{"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},
            {"name":"EVENT_VALUE","type":["null","float"]},{"name":"TIMESTAMP","type":"long"}],"version":"1.0"}"#;
        assert_eq!(
            avro_field_names(ok).unwrap_or_default(),
            ["USER_ID", "ITEM_ID", "EVENT_VALUE", "TIMESTAMP"]
        );
        assert!(avro_field_names("not json").is_err());
        assert!(avro_field_names(r#"{"type":"record","name":"X","fields":[]}"#).is_err());
        assert!(
            avro_field_names(r#"{"type":"record","name":"X","fields":[{"name":"A","type":"text"}]}"#)
                .is_err()
        );
        assert!(avro_field_names(r#"{"type":"enum","name":"X","symbols":["A"]}"#).is_err());
    }
}
