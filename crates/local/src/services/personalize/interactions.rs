//! A dataset group's interactions, as training sees them: the rows its interactions dataset
//! imported (CSV files, [`parse_csv`]) and the events PutEvents recorded for it, filtered by a
//! solution's `eventType` and `eventValueThreshold`.
//!
//! Imported rows are stored once per import job as a blob of [`Row`]s (JSON), so training
//! never re-reads the user's file, which may have changed or gone since.

use crate::store::{StoreError, Txn};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One interaction: who, what, when (epoch seconds), and optionally its type and value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Row {
    /// `USER_ID` (for events: the `userId`, else the `sessionId`).
    #[serde(rename = "u")]
    pub user: String,
    /// `ITEM_ID`.
    #[serde(rename = "i")]
    pub item: String,
    /// `TIMESTAMP`, epoch seconds.
    #[serde(rename = "t")]
    pub timestamp: i64,
    /// `EVENT_TYPE`.
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// `EVENT_VALUE`.
    #[serde(rename = "v", default, skip_serializing_if = "Option::is_none")]
    pub event_value: Option<f64>,
}

impl Row {
    /// The interaction the recommender learns from.
    pub fn into_interaction(self) -> personalize_stack_recommender::Interaction {
        personalize_stack_recommender::Interaction {
            user_id: self.user,
            item_id: self.item,
            timestamp: self.timestamp,
        }
    }
}

/// Which rows a solution trains on.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Filter {
    /// Only rows of this event type.
    pub event_type: Option<String>,
    /// Only rows whose event value is at least this.
    pub event_value_threshold: Option<f64>,
}

impl Filter {
    /// Whether `row` passes. A row without a type or value fails a filter on it, as rows
    /// Personalize cannot compare are not trained on.
    pub fn keeps(&self, row: &Row) -> bool {
        let type_ok = self
            .event_type
            .as_ref()
            .is_none_or(|t| row.event_type.as_ref() == Some(t));
        let value_ok = self
            .event_value_threshold
            .is_none_or(|min| row.event_value.is_some_and(|v| v >= min));
        type_ok && value_ok
    }
}

/// Splits one CSV line into fields: commas separate, double quotes quote (`""` is a quote).
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    out.push(field);
    out
}

/// Parses an interactions CSV: a header naming `USER_ID`, `ITEM_ID` and `TIMESTAMP` (and
/// optionally `EVENT_TYPE`, `EVENT_VALUE`; other columns are ignored), then one row per line.
///
/// # Errors
/// A message naming the line and what is wrong, the `failureReason` of the import job.
pub(crate) fn parse_csv(text: &str) -> Result<Vec<Row>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(
            "The data file is empty: it needs a header row naming USER_ID, ITEM_ID and TIMESTAMP.".into(),
        );
    };
    let header: Vec<String> = fields(header)
        .into_iter()
        .map(|h| h.trim().to_ascii_uppercase())
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(user), Some(item), Some(time)) = (column("USER_ID"), column("ITEM_ID"), column("TIMESTAMP"))
    else {
        return Err(format!(
            "The header row ({}) must name the columns USER_ID, ITEM_ID and TIMESTAMP of the interactions schema.",
            header.join(",")
        ));
    };
    let (event_type, event_value) = (column("EVENT_TYPE"), column("EVENT_VALUE"));
    let mut rows = Vec::new();
    for (line, text) in lines {
        let f = fields(text);
        let get = |i: usize| f.get(i).map(|s| s.trim()).unwrap_or_default();
        let (u, it, t) = (get(user), get(item), get(time));
        if u.is_empty() || it.is_empty() {
            return Err(format!("Line {line}: USER_ID and ITEM_ID must not be empty."));
        }
        if u.chars().count() > 256 || it.chars().count() > 256 {
            return Err(format!(
                "Line {line}: USER_ID and ITEM_ID must be at most 256 characters."
            ));
        }
        let timestamp = t
            .parse::<i64>()
            .ok()
            .or_else(|| t.parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| v as i64))
            .ok_or_else(|| format!("Line {line}: TIMESTAMP '{t}' is not a Unix time in seconds."))?;
        let event_value = match event_value.map(get).filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => Some(
                v.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| format!("Line {line}: EVENT_VALUE '{v}' is not a number."))?,
            ),
        };
        rows.push(Row {
            user: u.to_owned(),
            item: it.to_owned(),
            timestamp,
            event_type: event_type.map(get).filter(|v| !v.is_empty()).map(str::to_owned),
            event_value,
        });
    }
    Ok(rows)
}

/// An event PutEvents stored, as a row: the `userId` (else the `sessionId`, as Personalize
/// serves anonymous users by session), the item and `sentAt`. Events without an item are not
/// interactions with an item, so `None`.
///
/// The item and the value may also come in `properties`: Personalize maps its keys, in
/// camel case, to the Interactions schema's fields (`{"itemId": "i1"}` is `ITEM_ID`), as the
/// seed's CLI and boto3 examples send them.
pub(crate) fn row_of_event(doc: &Value) -> Option<Row> {
    let event = doc.get("event")?;
    let properties: Option<serde_json::Map<String, Value>> = event
        .get("properties")
        .and_then(Value::as_str)
        .and_then(|p| serde_json::from_str(p).ok());
    let property = |field: &str| {
        properties
            .as_ref()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(field))
            .map(|(_, v)| v)
    };
    let item = match event.get("itemId").and_then(Value::as_str) {
        Some(item) => item.to_owned(),
        None => match property("itemId")? {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        },
    };
    let user = doc
        .get("userId")
        .and_then(Value::as_str)
        .or_else(|| doc.get("sessionId").and_then(Value::as_str))?;
    let timestamp = event.get("sentAt").and_then(Value::as_f64)? as i64;
    let event_value =
        event
            .get("eventValue")
            .and_then(Value::as_f64)
            .or_else(|| match property("eventValue")? {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.parse().ok(),
                _ => None,
            });
    Some(Row {
        user: user.to_owned(),
        item,
        timestamp,
        event_type: event.get("eventType").and_then(Value::as_str).map(str::to_owned),
        event_value,
    })
}

/// Where an import job's rows are stored.
pub(crate) fn import_blob_key(account: &str, region: &str, job_arn: &str) -> String {
    format!(
        "{account}/{region}/personalize/import-data/{}",
        crate::services::escape_id(job_arn)
    )
}

/// Where a solution version's training rows are stored.
pub(crate) fn training_blob_key(account: &str, region: &str, version_arn: &str) -> String {
    format!(
        "{account}/{region}/personalize/training-data/{}",
        crate::services::escape_id(version_arn)
    )
}

/// Rows stored as a blob at `key`; none when absent.
///
/// # Errors
/// Storage failure or a corrupt blob.
pub(crate) fn load_rows(txn: &Txn<'_>, key: &str) -> Result<Vec<Row>, StoreError> {
    match txn.get_blob(key)? {
        None => Ok(Vec::new()),
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|source| StoreError::Corrupt {
            key: key.to_owned(),
            source,
        }),
    }
}

/// Stores `rows` as a blob at `key`.
///
/// # Errors
/// Storage failure.
pub(crate) fn save_rows(txn: &mut Txn<'_>, key: &str, rows: &[Row]) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec(rows).map_err(|source| StoreError::Corrupt {
        key: key.to_owned(),
        source,
    })?;
    txn.put_blob(key, &bytes)
}

/// Personalize's training minimums, checked on the filtered rows: at least 1,000
/// interactions, and at least 25 users with two or more each.
///
/// # Errors
/// The `failureReason` of a solution version that cannot train.
pub(crate) fn check_minimum(rows: &[Row]) -> Result<(), String> {
    const MIN_INTERACTIONS: usize = 1000;
    const MIN_USERS: usize = 25;
    let mut per_user: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for row in rows {
        *per_user.entry(row.user.as_str()).or_default() += 1;
    }
    let users = per_user.values().filter(|&&n| n >= 2).count();
    if rows.len() < MIN_INTERACTIONS || users < MIN_USERS {
        return Err(format!(
            "Insufficient data for training: the training data has {} interactions after filtering (at least {MIN_INTERACTIONS} are required) and {users} users with at least 2 interactions each (at least {MIN_USERS} are required). Import more interactions or record more events, then create a new solution version.",
            rows.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The seed's CLI and boto3 examples send the item in `properties`
    /// (`--event-list '[{"eventType": "click", "properties": "{\"itemId\": \"i1\"}", …}]'`):
    /// Personalize maps it to `ITEM_ID`, so it is an interaction.
    #[test]
    fn an_item_id_in_properties_counts_as_an_interaction() {
        let stored = |event: Value| serde_json::json!({ "userId": "u1", "sessionId": "s1", "event": event });
        let row = row_of_event(&stored(serde_json::json!({
            "eventType": "click",
            "sentAt": 1_676_975_804,
            "properties": "{\"itemId\": \"i1\", \"eventValue\": \"2.5\"}",
        })))
        .unwrap();
        assert_eq!((row.user.as_str(), row.item.as_str()), ("u1", "i1"));
        assert_eq!(row.event_value, Some(2.5));
        // The field wins over the property; without either there is no interaction.
        let row = row_of_event(&stored(serde_json::json!({
            "eventType": "click", "sentAt": 1, "itemId": "i2", "properties": "{\"itemId\": \"i1\"}",
        })))
        .unwrap();
        assert_eq!(row.item, "i2");
        assert!(row_of_event(&stored(serde_json::json!({ "eventType": "click", "sentAt": 1 }))).is_none());
        assert!(
            row_of_event(&stored(serde_json::json!({
                "eventType": "click", "sentAt": 1, "properties": "{\"numRatings\": 3}",
            })))
            .is_none()
        );
    }

    #[test]
    fn csv_with_quotes_optional_columns_and_any_column_order() {
        let rows = parse_csv(
            "ITEM_ID,USER_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE,OTHER\n\
             \"a,b\",u1,1676975804,click,1.5,x\r\n\
             i2,u2,1676975805.9,,,\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].item, "a,b");
        assert_eq!(rows[0].user, "u1");
        assert_eq!(rows[0].event_type.as_deref(), Some("click"));
        assert_eq!(rows[0].event_value, Some(1.5));
        assert_eq!(rows[1].timestamp, 1_676_975_805);
        assert_eq!(rows[1].event_type, None);
    }

    #[test]
    fn bad_csv_names_the_line() {
        assert!(
            parse_csv("USER,ITEM\n")
                .unwrap_err()
                .contains("USER_ID, ITEM_ID and TIMESTAMP")
        );
        assert!(
            parse_csv("USER_ID,ITEM_ID,TIMESTAMP\nu,i,yesterday\n")
                .unwrap_err()
                .starts_with("Line 2:")
        );
        assert!(parse_csv("").unwrap_err().contains("empty"));
    }

    #[test]
    fn filters_and_minimums() {
        let row = |u: usize, t: &str, v: f64| Row {
            user: format!("u{u}"),
            item: "i".into(),
            timestamp: 0,
            event_type: Some(t.into()),
            event_value: Some(v),
        };
        let f = Filter {
            event_type: Some("click".into()),
            event_value_threshold: Some(1.0),
        };
        assert!(f.keeps(&row(1, "click", 1.0)));
        assert!(!f.keeps(&row(1, "view", 2.0)));
        assert!(!f.keeps(&row(1, "click", 0.5)));
        let enough: Vec<Row> = (0..1000).map(|i| row(i % 25, "click", 1.0)).collect();
        assert_eq!(check_minimum(&enough), Ok(()));
        let reason = check_minimum(&enough[..999]).unwrap_err();
        assert!(reason.contains("999 interactions"), "{reason}");
        let few_users: Vec<Row> = (0..1000).map(|i| row(i % 24, "click", 1.0)).collect();
        assert!(check_minimum(&few_users).unwrap_err().contains("24 users"));
    }
}
