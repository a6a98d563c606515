//! awsJson over CBOR (`application/x-amz-cbor-1.1`): the same operations, targets and members
//! as [`super::json`], with the body in CBOR. The AWS SDK for Java (v1 and v2), the KPL and
//! the KCL speak it to Kinesis by default.
//!
//! Two members differ from JSON, in both directions:
//! - a blob is a CBOR byte string, not base64 text;
//! - a timestamp is tag 1 holding an integer count of epoch *milliseconds* (RFC 8949 says
//!   seconds; AWS's legacy CBOR protocol does not follow it — aws/aws-sdk-java-v2#184, #4661).
//!
//! Requests are translated to the JSON the services read (bytes to base64, tagged
//! milliseconds to fractional seconds), so no service code knows CBOR. Answers go the other
//! way, which needs to know which members are blobs and timestamps: the service names them
//! in a [`Shapes`].
//!
//! The encoding itself is the `ciborium` crate's.

use super::respond;
use crate::AwsError;
use axum::body::Body;
use axum::http::{HeaderMap, Response};
use base64::Engine as _;
use ciborium::value::{Integer, Value as Cbor};
use serde_json::{Map, Number, Value as Json};

/// The content type of CBOR requests and responses.
pub const CONTENT_TYPE: &str = "application/x-amz-cbor-1.1";

/// CBOR's tag for an epoch-based date/time.
const EPOCH_TAG: u64 = 1;

/// The members of a service's answers that JSON cannot tell apart from text or numbers.
#[derive(Debug, Clone, Copy)]
pub struct Shapes {
    /// Members holding bytes (base64 text in the JSON answer).
    pub blobs: &'static [&'static str],
    /// Members holding timestamps (epoch seconds in the JSON answer).
    pub timestamps: &'static [&'static str],
}

/// Whether a request's body is CBOR.
pub fn is_cbor(headers: &HeaderMap) -> bool {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().starts_with("application/x-amz-cbor"))
}

/// The request body as the JSON the services read (an empty body is `{}`).
///
/// # Errors
/// `SerializationException` for a body that is not a CBOR map.
pub fn parse_body(body: &[u8]) -> Result<Json, AwsError> {
    if body.is_empty() {
        return Ok(serde_json::json!({}));
    }
    let value: Cbor = ciborium::de::from_reader(body).map_err(|e| {
        AwsError::new(
            "SerializationException",
            format!("The request body is not valid CBOR: {e}"),
        )
    })?;
    if !value.is_map() {
        return Err(AwsError::new(
            "SerializationException",
            "Start of structure or map found where not expected.",
        ));
    }
    to_json(value)
}

fn to_json(value: Cbor) -> Result<Json, AwsError> {
    let unsupported = |what: &str| {
        AwsError::new(
            "SerializationException",
            format!("CBOR {what} is not a value any member takes"),
        )
    };
    Ok(match value {
        Cbor::Null => Json::Null,
        Cbor::Bool(b) => Json::Bool(b),
        Cbor::Text(s) => Json::String(s),
        Cbor::Bytes(b) => Json::String(base64::engine::general_purpose::STANDARD.encode(b)),
        Cbor::Integer(i) => integer_to_json(i).ok_or_else(|| unsupported("an integer this large"))?,
        Cbor::Float(f) => Number::from_f64(f)
            .map(Json::Number)
            .ok_or_else(|| unsupported("a float that is not finite"))?,
        Cbor::Tag(EPOCH_TAG, inner) => {
            let millis = match *inner {
                Cbor::Integer(i) => i128::from(i) as f64,
                Cbor::Float(f) => f,
                _ => return Err(unsupported("a timestamp that is not a number")),
            };
            Number::from_f64(millis / 1000.0)
                .map(Json::Number)
                .ok_or_else(|| unsupported("a timestamp that is not finite"))?
        }
        Cbor::Tag(_, inner) => to_json(*inner)?,
        Cbor::Array(items) => Json::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?),
        Cbor::Map(entries) => {
            let mut map = Map::new();
            for (key, value) in entries {
                let Cbor::Text(key) = key else {
                    return Err(unsupported("a map key that is not text"));
                };
                map.insert(key, to_json(value)?);
            }
            Json::Object(map)
        }
        _ => return Err(unsupported("data of this type")),
    })
}

fn integer_to_json(i: Integer) -> Option<Json> {
    let wide = i128::from(i);
    if let Ok(n) = i64::try_from(wide) {
        return Some(Json::from(n));
    }
    u64::try_from(wide).ok().map(Json::from)
}

/// A successful answer: `value` in CBOR, its blobs and timestamps typed as `shapes` says.
pub fn ok(value: &Json, shapes: Shapes, request_id: &str) -> Response<Body> {
    respond(
        200,
        CONTENT_TYPE,
        request_id,
        encode(&to_cbor(value, None, shapes)),
    )
}

/// An error answer: `{"__type": code, "message": text}` in CBOR.
pub fn error(err: &AwsError, request_id: &str) -> Response<Body> {
    let body = Cbor::Map(vec![
        (Cbor::Text("__type".into()), Cbor::Text(err.code.clone())),
        (Cbor::Text("message".into()), Cbor::Text(err.message.clone())),
    ]);
    respond(err.status, CONTENT_TYPE, request_id, encode(&body))
}

fn encode(value: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing a `Value` into a Vec cannot fail: there is no I/O and every variant encodes.
    let _ = ciborium::ser::into_writer(value, &mut out);
    out
}

fn to_cbor(value: &Json, member: Option<&str>, shapes: Shapes) -> Cbor {
    let named = |list: &[&str]| member.is_some_and(|m| list.contains(&m));
    match value {
        Json::String(s) if named(shapes.blobs) => match base64::engine::general_purpose::STANDARD.decode(s) {
            Ok(bytes) => Cbor::Bytes(bytes),
            Err(_) => Cbor::Text(s.clone()),
        },
        Json::Number(n) if named(shapes.timestamps) => {
            let millis = (n.as_f64().unwrap_or_default() * 1000.0).round() as i64;
            Cbor::Tag(EPOCH_TAG, Box::new(Cbor::Integer(millis.into())))
        }
        Json::Null => Cbor::Null,
        Json::Bool(b) => Cbor::Bool(*b),
        Json::String(s) => Cbor::Text(s.clone()),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Cbor::Integer(i.into()),
            (None, Some(u)) => Cbor::Integer(u.into()),
            _ => Cbor::Float(n.as_f64().unwrap_or_default()),
        },
        // A list's items carry the list's member name: `Records: [...]` items are records,
        // and a blob list's items are blobs.
        Json::Array(items) => Cbor::Array(items.iter().map(|v| to_cbor(v, member, shapes)).collect()),
        Json::Object(map) => Cbor::Map(
            map.iter()
                .map(|(k, v)| (Cbor::Text(k.clone()), to_cbor(v, Some(k), shapes)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    const SHAPES: Shapes = Shapes {
        blobs: &["Data"],
        timestamps: &["ApproximateArrivalTimestamp"],
    };

    fn cbor(value: &Cbor) -> Vec<u8> {
        encode(value)
    }

    #[test]
    fn requests_read_bytes_as_base64_and_tagged_millis_as_seconds() {
        let body = cbor(&Cbor::Map(vec![
            (Cbor::Text("Data".into()), Cbor::Bytes(b"hi".to_vec())),
            (
                Cbor::Text("Timestamp".into()),
                Cbor::Tag(1, Box::new(Cbor::Integer(1_787_036_486_712_i64.into()))),
            ),
            (Cbor::Text("Limit".into()), Cbor::Integer(5.into())),
        ]));
        assert_eq!(
            parse_body(&body).unwrap(),
            json!({"Data": "aGk=", "Timestamp": 1_787_036_486.712, "Limit": 5})
        );
    }

    #[test]
    fn answers_write_blobs_as_bytes_and_timestamps_as_tagged_millis() {
        let answer =
            json!({"Records": [{"Data": "aGk=", "ApproximateArrivalTimestamp": 1.5, "PartitionKey": "k"}]});
        let Cbor::Map(top) = to_cbor(&answer, None, SHAPES) else {
            panic!()
        };
        let Cbor::Array(records) = &top[0].1 else { panic!() };
        let Cbor::Map(record) = &records[0] else { panic!() };
        assert_eq!(record[0].1, Cbor::Bytes(b"hi".to_vec()));
        assert_eq!(record[1].1, Cbor::Tag(1, Box::new(Cbor::Integer(1500.into()))));
        assert_eq!(record[2].1, Cbor::Text("k".into()));
    }

    #[test]
    fn a_body_that_is_not_a_cbor_map_is_a_serialization_error() {
        for body in [&b"\xff\x00"[..], &cbor(&Cbor::Array(vec![]))] {
            assert_eq!(parse_body(body).unwrap_err().code, "SerializationException");
        }
    }
}
