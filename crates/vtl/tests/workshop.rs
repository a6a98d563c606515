//! The workshop's PutRecords mapping template, which has no comma between records, against
//! the fixed one with `#if($foreach.hasNext),#end`.
#![allow(clippy::unwrap_used)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use personalize_stack_vtl::{Request, Template};
use serde_json::{Value, json};

/// The workshop's template, as published: nothing separates the records.
const WORKSHOP_TEMPLATE: &str = r##"{
    "StreamName": "$input.params('stream-name')",
    "Records": [
        #foreach($record in $input.path('$.Records'))
        {
            "Data": "$util.base64Encode($record.Data)",
            "PartitionKey": "$record.PartitionKey"
        }
        #end
    ]
}"##;

/// The same template with the separator the AWS tutorial uses.
const FIXED_TEMPLATE: &str = r##"{
    "StreamName": "$input.params('stream-name')",
    "Records": [
        #foreach($record in $input.path('$.Records'))
        {
            "Data": "$util.base64Encode($record.Data)",
            "PartitionKey": "$record.PartitionKey"
        }#if($foreach.hasNext),#end
        #end
    ]
}"##;

/// Seven click events in the workshop's shape: `Data` is JSON text inside a string.
/// The first is the workshop's own; the others follow its pattern.
const EVENTS: [(&str, &str, &str, &str); 7] = [
    ("146456223", "zGRmEOdTo648OJoqhmazwKPuWpA=", "1676975804", "click"),
    ("146456223", "a8Xq0bNd2m4RkQ1sYtWvZc3JpLo=", "1676975811", "click"),
    ("309812774", "zGRmEOdTo648OJoqhmazwKPuWpA=", "1676975815", "click"),
    ("309812774", "Qm9va3NAcmVjb21tZW5kLTAwMQ==", "1676975822", "click"),
    ("55120981", "Pp3kT9uVw0xYz1AbCdEfGhIjKlM=", "1676975830", "click"),
    ("55120981", "a8Xq0bNd2m4RkQ1sYtWvZc3JpLo=", "1676975841", "click"),
    ("146456223", "Qm9va3NAcmVjb21tZW5kLTAwMQ==", "1676975857", "click"),
];

fn event_data(userid: &str, itemid: &str, timestamp: &str, event_type: &str) -> String {
    json!({"userid": userid, "itemid": itemid, "timestamp": timestamp, "event_type": event_type}).to_string()
}

/// A request body with the first `n` events (repeating them beyond seven).
fn body(n: usize) -> (String, Vec<String>) {
    let data: Vec<String> = (0..n)
        .map(|i| {
            let (u, it, t, e) = EVENTS[i % EVENTS.len()];
            event_data(u, it, t, e)
        })
        .collect();
    let records: Vec<Value> = data
        .iter()
        .enumerate()
        .map(|(i, d)| json!({"Data": d, "PartitionKey": (i + 1).to_string()}))
        .collect();
    (json!({ "Records": records }).to_string(), data)
}

fn request(body: String) -> Request {
    Request {
        body,
        path_params: vec![("stream-name".into(), "PutEvent-datastream".into())],
        ..Request::default()
    }
}

#[test]
fn the_workshop_body_matches_its_documented_first_record() {
    let (body, _) = body(1);
    assert!(body.contains(r#"{"Data":"{\"userid\":\"146456223\",\"itemid\":\"zGRmEOdTo648OJoqhmazwKPuWpA=\",\"timestamp\":\"1676975804\",\"event_type\":\"click\"}","PartitionKey":"1"}"#));
}

#[test]
fn workshop_template_without_comma_renders_invalid_json_for_two_records() {
    let template = Template::parse(WORKSHOP_TEMPLATE).unwrap();
    let rendered = template.render(&request(body(2).0)).unwrap();
    let err = serde_json::from_str::<Value>(&rendered).unwrap_err();
    assert!(
        err.to_string().contains("expected `,` or `]`"),
        "{err}\n{rendered}"
    );
    // The records simply follow one another.
    assert!(rendered.contains("}\n        {"), "{rendered}");
}

#[test]
fn workshop_template_is_only_valid_with_a_single_record() {
    let template = Template::parse(WORKSHOP_TEMPLATE).unwrap();
    let rendered = template.render(&request(body(1).0)).unwrap();
    assert!(serde_json::from_str::<Value>(&rendered).is_ok(), "{rendered}");
}

#[test]
fn fixed_template_renders_seven_records_as_base64_of_each_data_string() {
    let template = Template::parse(FIXED_TEMPLATE).unwrap();
    let (body, data) = body(7);
    let rendered = template.render(&request(body)).unwrap();
    let value: Value = serde_json::from_str(&rendered).unwrap();
    assert_eq!(value["StreamName"], "PutEvent-datastream");
    let records = value["Records"].as_array().unwrap();
    assert_eq!(records.len(), 7);
    for (i, (record, data)) in records.iter().zip(&data).enumerate() {
        assert_eq!(record["Data"], STANDARD.encode(data), "record {i}");
        assert_eq!(record["PartitionKey"], (i + 1).to_string());
        // What the forwarder does with it: decode once, parse the event.
        let decoded = STANDARD.decode(record["Data"].as_str().unwrap()).unwrap();
        let event: Value = serde_json::from_slice(&decoded).unwrap();
        assert_eq!(event["userid"], EVENTS[i].0);
        assert_eq!(event["event_type"], "click");
    }
}

#[test]
fn fixed_template_renders_an_empty_array_when_the_key_case_differs() {
    let template = Template::parse(FIXED_TEMPLATE).unwrap();
    let rendered = template
        .render(&request(
            r#"{"records": [{"Data": "x", "PartitionKey": "1"}]}"#.into(),
        ))
        .unwrap();
    let value: Value = serde_json::from_str(&rendered).unwrap();
    assert_eq!(value["Records"], json!([]));
}

/// 500 records (PutRecords' maximum) of ~120-char events render to 500 records. How fast is
/// measured by `cargo bench --bench foundation`, not asserted here.
#[test]
fn five_hundred_records_render() {
    let template = Template::parse(FIXED_TEMPLATE).unwrap();
    let (body, data) = body(500);
    assert!(data.iter().all(|d| (100..140).contains(&d.len())));
    let rendered = template.render(&request(body)).unwrap();
    let value: Value = serde_json::from_str(&rendered).unwrap();
    assert_eq!(value["Records"].as_array().unwrap().len(), 500);
    for (record, data) in value["Records"].as_array().unwrap().iter().zip(&data) {
        assert_eq!(
            STANDARD.decode(record["Data"].as_str().unwrap()).unwrap(),
            data.as_bytes()
        );
    }
}
