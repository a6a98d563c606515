//! personalize-events PutEvents (`POST /events`): validation as AWS does it, the tracker
//! check, durable storage per dataset group, and `GET /_local/events`. There is no
//! `aws-sdk-personalizeevents` dev-dependency, so requests are sent as raw HTTP with a SigV4
//! `Authorization` header, and through boto3 and the AWS CLI (`.ci/python-tools`), which run
//! the seeds' own `put_events` examples.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support as common;

use aws_sdk_personalize::Client;
use personalize_stack_local::{Config, Faults, Profile, Running};
use serde_json::{Value, json};
use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

/// An HTTP response: status, `x-amzn-errortype`, body.
#[derive(Debug)]
struct Reply {
    status: u16,
    error_type: Option<String>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    fn message(&self) -> String {
        self.json()["message"].as_str().unwrap_or_default().to_owned()
    }
}

/// Sends one HTTP/1.1 request and reads the whole response.
async fn http(addr: SocketAddr, method: &str, path: &str, account: Option<&str>, body: &str) -> Reply {
    let auth = account
        .map(|a| {
            format!(
                "Authorization: AWS4-HMAC-SHA256 Credential={a}/20260101/us-east-1/personalize/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000\r\n"
            )
        })
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: local\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let raw = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut out = Vec::new();
        stream.read_to_end(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    })
    .await
    .unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let error_type = head
        .lines()
        .filter_map(|l| l.split_once(": "))
        .find(|(name, _)| name.eq_ignore_ascii_case("x-amzn-errortype"))
        .map(|(_, value)| value.to_owned());
    let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
    Reply {
        status,
        error_type,
        body: if chunked { dechunk(body) } else { body.to_owned() },
    }
}

/// Decodes a chunked body.
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        if n == 0 {
            break;
        }
        out.push_str(&tail[..n]);
        rest = &tail[n + 2..];
    }
    out
}

async fn put_events(local: &Running, account: &str, body: &Value) -> Reply {
    http(local.addr(), "POST", "/events", Some(account), &body.to_string()).await
}

async fn stored(local: &Running, query: &str) -> Vec<Value> {
    let reply = http(local.addr(), "GET", &format!("/_local/events?{query}"), None, "").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json()["events"].as_array().unwrap().clone()
}

/// A dataset group with an event tracker in `account`: `(group ARN, tracker ARN, trackingId)`.
async fn tracker(local: &Running, account: &str, name: &str) -> (String, String, String) {
    let personalize = Client::new(&common::sdk(local, account));
    let group = personalize
        .create_dataset_group()
        .name(name)
        .send()
        .await
        .unwrap()
        .dataset_group_arn()
        .unwrap()
        .to_owned();
    let created = personalize
        .create_event_tracker()
        .name(format!("{name}-tracker"))
        .dataset_group_arn(&group)
        .send()
        .await
        .unwrap();
    (
        group,
        created.event_tracker_arn().unwrap().to_owned(),
        created.tracking_id().unwrap().to_owned(),
    )
}

fn event(event_type: &str, sent_at: Value) -> Value {
    json!({ "eventType": event_type, "sentAt": sent_at })
}

#[tokio::test]
async fn accepted_events_are_stored_per_dataset_group_in_arrival_order() {
    let local = common::start().await;
    let (group, tracker_arn, tracking_id) = tracker(&local, common::ACCOUNT, "shop").await;
    let reply = put_events(
        &local,
        common::ACCOUNT,
        &json!({
            "trackingId": tracking_id,
            "userId": "user-7",
            "sessionId": "session-1",
            "eventList": [
                {
                    "eventId": "e1",
                    "eventType": "click",
                    "sentAt": 1_700_000_000,
                    "itemId": "item-9",
                    "eventValue": 4.5,
                    "properties": "{\"numRatings\": \"12\"}",
                    "impression": ["item-9", "item-3"],
                    "recommendationId": "rec-1",
                    "metricAttribution": { "eventAttributionSource": "email campaign" }
                },
                { "eventType": "purchase", "sentAt": 1_700_000_001.5, "itemId": "item-3" }
            ]
        }),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body, "", "AWS answers 200 with an empty body");
    let reply = put_events(
        &local,
        common::ACCOUNT,
        &json!({ "trackingId": tracking_id, "sessionId": "anonymous-2", "eventList": [event("view", json!(1_700_000_002))] }),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");

    let events = stored(&local, &format!("trackingId={tracking_id}")).await;
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["event"]["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["click", "purchase", "view"]);
    let first = &events[0];
    assert_eq!(first["trackingId"], tracking_id.as_str());
    assert_eq!(first["eventTrackerArn"], tracker_arn.as_str());
    assert_eq!(first["datasetGroupArn"], group.as_str());
    assert_eq!(first["userId"], "user-7");
    assert_eq!(first["sessionId"], "session-1");
    assert_eq!(first["event"]["itemId"], "item-9");
    assert_eq!(first["event"]["sentAt"], 1_700_000_000);
    assert_eq!(first["event"]["eventValue"], 4.5);
    assert_eq!(first["event"]["impression"], json!(["item-9", "item-3"]));
    let received = first["receivedAt"].as_f64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - received).abs() < 60.0, "receivedAt is epoch seconds");
    assert_eq!(events[2]["userId"], Value::Null, "userId is optional");

    // The same events by dataset group; another group's tracker sees only its own.
    let by_group = stored(&local, &format!("datasetGroupArn={group}")).await;
    assert_eq!(by_group, events);
    let (other_group, _, other_id) = tracker(&local, common::ACCOUNT, "other").await;
    let reply = put_events(
        &local,
        common::ACCOUNT,
        &json!({ "trackingId": other_id, "sessionId": "s", "eventList": [event("other", json!(1))] }),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        stored(&local, &format!("datasetGroupArn={other_group}"))
            .await
            .len(),
        1
    );
    assert_eq!(
        stored(&local, &format!("trackingId={tracking_id}")).await.len(),
        3
    );
    assert_eq!(
        stored(&local, &format!("trackingId={tracking_id}&account=111111111111"))
            .await
            .len(),
        0
    );
    assert_eq!(
        stored(
            &local,
            &format!(
                "trackingId={tracking_id}&account={}&region=us-east-1",
                common::ACCOUNT
            )
        )
        .await
        .len(),
        3
    );

    // Events are data, not resources.
    let resources = common::resources(&local).await;
    assert!(
        resources["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["service"] != "personalize-events"),
        "{resources}"
    );
}

#[tokio::test]
async fn invalid_calls_get_aws_errors() {
    let local = common::start().await;
    let (_, _, tracking_id) = tracker(&local, common::ACCOUNT, "strict").await;
    let call = |body: Value| {
        let local = &local;
        async move { put_events(local, common::ACCOUNT, &body).await }
    };
    let one = |ev: Value| json!({ "trackingId": tracking_id, "sessionId": "s", "eventList": [ev] });

    // A string sentAt fails deserialization, as AWS's JSON services fail it.
    let reply = call(one(event("click", json!("1700000000")))).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_type.as_deref(), Some("SerializationException"));
    assert_eq!(
        reply.message(),
        "class java.lang.String can not be converted to milliseconds since epoch"
    );

    // 11 events.
    let eleven: Vec<Value> = (0..11).map(|i| event("click", json!(i))).collect();
    let reply = call(json!({ "trackingId": tracking_id, "sessionId": "s", "eventList": eleven })).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_type.as_deref(), Some("InvalidInputException"));
    assert_eq!(
        reply.message(),
        "1 validation error detected: Value at 'eventList' failed to satisfy constraint: Member must have length less than or equal to 10"
    );
    let reply = call(json!({ "trackingId": tracking_id, "sessionId": "s", "eventList": [] })).await;
    assert_eq!(reply.error_type.as_deref(), Some("InvalidInputException"));

    // Reserved property keys, case-insensitively, and properties that are not a JSON object.
    for properties in [
        "{\"userId\": \"u\"}",
        "{\"TIMESTAMP\": 1}",
        "{\"impression\": []}",
    ] {
        let mut ev = event("click", json!(1));
        ev["properties"] = properties.into();
        let reply = call(one(ev)).await;
        assert_eq!(reply.status, 400, "{properties}");
        assert_eq!(
            reply.error_type.as_deref(),
            Some("InvalidInputException"),
            "{properties}"
        );
        assert!(reply.message().contains("reserved"), "{reply:?}");
    }
    let mut ev = event("click", json!(1));
    ev["properties"] = "{not json".into();
    let reply = call(one(ev)).await;
    assert_eq!(reply.error_type.as_deref(), Some("InvalidInputException"));
    assert_eq!(reply.message(), "Error parsing properties json");
    let mut ev = event("click", json!(1));
    ev["properties"] = format!("{{\"k\": \"{}\"}}", "v".repeat(1020)).into();
    let reply = call(one(ev)).await;
    assert_eq!(
        reply.message(),
        "1 validation error detected: Value at 'eventList.1.member.properties' failed to satisfy constraint: Member must have length less than or equal to 1024"
    );

    // Required members and lengths; sensitive values (userId, events) are not printed.
    let reply = call(json!({ "trackingId": tracking_id, "eventList": [{ "sentAt": 1 }] })).await;
    assert_eq!(reply.error_type.as_deref(), Some("InvalidInputException"));
    assert_eq!(
        reply.message(),
        "2 validation errors detected: Value null at 'sessionId' failed to satisfy constraint: Member must not be null; Value null at 'eventList.1.member.eventType' failed to satisfy constraint: Member must not be null"
    );
    let reply =
        call(json!({ "trackingId": tracking_id, "sessionId": "s", "eventList": [{ "eventType": "x" }] }))
            .await;
    assert_eq!(
        reply.message(),
        "1 validation error detected: Value null at 'eventList.1.member.sentAt' failed to satisfy constraint: Member must not be null"
    );
    let reply = call(json!({
        "trackingId": tracking_id,
        "userId": "u".repeat(257),
        "sessionId": "",
        "eventList": [event("click", json!(1))]
    }))
    .await;
    assert_eq!(
        reply.message(),
        "2 validation errors detected: Value at 'userId' failed to satisfy constraint: Member must have length less than or equal to 256; Value '' at 'sessionId' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
    let mut ev = event("click", json!(1));
    ev["recommendationId"] = "r".repeat(41).into();
    ev["impression"] = json!((0..26).map(|i| i.to_string()).collect::<Vec<_>>());
    let reply = call(one(ev)).await;
    assert_eq!(
        reply.message(),
        "2 validation errors detected: Value at 'eventList.1.member.recommendationId' failed to satisfy constraint: Member must have length less than or equal to 40; Value at 'eventList.1.member.impression' failed to satisfy constraint: Member must have length less than or equal to 25"
    );
    let mut ev = event("click", json!(1));
    ev["eventValue"] = "high".into();
    assert_eq!(
        call(one(ev)).await.error_type.as_deref(),
        Some("SerializationException")
    );

    // A tracking id no tracker has.
    let reply = call(
        json!({ "trackingId": "no-such-tracker", "sessionId": "s", "eventList": [event("click", json!(1))] }),
    )
    .await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.error_type.as_deref(), Some("ResourceNotFoundException"));
    // Another account's tracking id is unknown too.
    let reply = put_events(&local, "111111111111", &one(event("click", json!(1)))).await;
    assert_eq!(reply.error_type.as_deref(), Some("ResourceNotFoundException"));

    // Unsigned requests are refused before anything else; nothing was stored by any of this.
    let reply = http(
        local.addr(),
        "POST",
        "/events",
        None,
        &one(event("click", json!(1))).to_string(),
    )
    .await;
    assert_eq!(reply.status, 403);
    assert!(
        stored(&local, &format!("trackingId={tracking_id}"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_tracker_takes_events_only_once_active() {
    let local = common::start_with(
        Profile {
            tracker_ready_ms: 400,
            ..Profile::instant()
        },
        Faults::default(),
    )
    .await;
    let (_, tracker_arn, tracking_id) = tracker(&local, common::ACCOUNT, "slow").await;
    let body =
        json!({ "trackingId": tracking_id, "sessionId": "s", "eventList": [event("click", json!(1))] });
    let early = put_events(&local, common::ACCOUNT, &body).await;
    assert_eq!(early.status, 404, "{early:?}");
    assert_eq!(early.error_type.as_deref(), Some("ResourceNotFoundException"));
    let personalize = Client::new(&common::sdk(&local, common::ACCOUNT));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let status = personalize
            .describe_event_tracker()
            .event_tracker_arn(&tracker_arn)
            .send()
            .await
            .unwrap()
            .event_tracker()
            .unwrap()
            .status()
            .unwrap()
            .to_owned();
        if status == "ACTIVE" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "tracker never became ACTIVE"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let late = put_events(&local, common::ACCOUNT, &body).await;
    assert_eq!(late.status, 200, "{late:?}");
    assert_eq!(
        stored(&local, &format!("trackingId={tracking_id}")).await.len(),
        1
    );
}

#[tokio::test]
async fn stored_events_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("ps-put-events-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = || Config {
        port: 0,
        data_dir: Some(dir.clone()),
        profile: Profile::instant(),
        ..Config::default()
    };
    let local = personalize_stack_local::start(config()).await.unwrap();
    let (_, _, tracking_id) = tracker(&local, common::ACCOUNT, "durable").await;
    let body = json!({ "trackingId": tracking_id, "userId": "u1", "sessionId": "s", "eventList": [event("click", json!(1_700_000_000))] });
    assert_eq!(put_events(&local, common::ACCOUNT, &body).await.status, 200);
    local.shutdown().await;
    let local = personalize_stack_local::start(config()).await.unwrap();
    let events = stored(&local, &format!("trackingId={tracking_id}")).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["userId"], "u1");
    local.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs a tool with only the endpoint and dummy credentials (account 123456789012).
async fn run(program: PathBuf, args: Vec<String>) -> (bool, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(program)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", std::env::temp_dir())
            .env("AWS_ACCESS_KEY_ID", "123456789012")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn the_seeds_boto3_and_cli_examples_are_accepted_and_bad_ones_refused() {
    let local = common::start().await;
    let (_, _, tracking_id) = tracker(&local, "123456789012", "seeds").await;
    let endpoint = local.endpoint_url();
    // The seeds' examples: a numeric sentAt (seed 004), and numeric strings (seeds 000/001),
    // which boto3 turns into numbers before sending. Then what AWS refuses.
    let script = format!(
        r#"
import json, boto3
from botocore.exceptions import ClientError
pe = boto3.client("personalize-events", endpoint_url="{endpoint}")
out = {{}}
pe.put_events(trackingId="{tracking_id}", userId="user555", sessionId="session1",
    eventList=[{{"eventId": "event1", "sentAt": 1553631760, "eventType": "like",
                "properties": json.dumps({{"itemId": "choc-panama", "eventValue": 4, "numRatings": 0}})}},
               {{"eventId": "event2", "sentAt": "1553631782", "eventType": "rating",
                "properties": json.dumps({{"itemId": "movie_ten", "eventValue": 3, "numRatings": 13}})}}])
out["accepted"] = True
def code(**kw):
    try:
        pe.put_events(trackingId="{tracking_id}", sessionId="s", **kw)
        return None
    except ClientError as e:
        return [e.response["Error"]["Code"], e.response["Error"]["Message"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
out["eleven"] = code(eventList=[{{"sentAt": 1, "eventType": "t"}}] * 11)
out["reserved"] = code(eventList=[{{"sentAt": 1, "eventType": "t", "properties": json.dumps({{"sessionId": "x"}})}}])
try:
    pe.put_events(trackingId="nope", sessionId="s", eventList=[{{"sentAt": 1, "eventType": "t"}}])
except ClientError as e:
    out["unknown"] = e.response["Error"]["Code"]
print(json.dumps(out))
"#
    );
    let (ok, stdout, stderr) = run(
        common::python_tools().join("python"),
        vec!["-c".to_owned(), script],
    )
    .await;
    assert!(ok, "boto3 script failed: {stderr}");
    let out: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(out["accepted"], true);
    assert_eq!(out["eleven"][0], "InvalidInputException");
    assert_eq!(out["eleven"][2], 400);
    assert_eq!(
        out["eleven"][1],
        "1 validation error detected: Value at 'eventList' failed to satisfy constraint: Member must have length less than or equal to 10"
    );
    assert_eq!(out["reserved"][0], "InvalidInputException");
    assert_eq!(out["unknown"], "ResourceNotFoundException");

    // The seeds' AWS CLI example (sentAt as a string of digits).
    let (ok, _, stderr) = run(
        common::python_tools().join("aws"),
        [
            "--endpoint-url",
            &endpoint,
            "personalize-events",
            "put-events",
            "--tracking-id",
            &tracking_id,
            "--user-id",
            "user555",
            "--session-id",
            "session1",
            "--event-list",
            r#"[{"eventId": "event3", "sentAt": "1553631790", "eventType": "like", "properties": "{\"itemId\": \"choc-panama\", \"eventValue\": \"true\"}"}]"#,
        ]
        .map(str::to_owned)
        .to_vec(),
    )
    .await;
    assert!(ok, "aws personalize-events put-events failed: {stderr}");

    let events = stored(&local, &format!("trackingId={tracking_id}")).await;
    let summary: Vec<(String, f64)> = events
        .iter()
        .map(|e| {
            (
                e["event"]["eventId"].as_str().unwrap().to_owned(),
                e["event"]["sentAt"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("event1".to_owned(), 1_553_631_760.0),
            ("event2".to_owned(), 1_553_631_782.0),
            ("event3".to_owned(), 1_553_631_790.0)
        ]
    );
    assert_eq!(events[0]["userId"], "user555");
    assert_eq!(events[0]["account"], "123456789012");
}
