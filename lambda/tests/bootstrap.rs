//! The `bootstrap` binary against a fake runtime API and a fake PutEvents endpoint on
//! 127.0.0.1: init errors, one invocation through the real SDK client (wire format, error
//! classification).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::collections::VecDeque;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::http::{Request, Response, serve};
use common::{TRACKING_ID, fixture_text};
use serde_json::{Value, json};

/// A fake runtime API that hands out `events` one per `/next`, then holds `/next` open.
fn runtime_api(events: Vec<Value>) -> (std::net::SocketAddr, std::sync::mpsc::Receiver<Request>) {
    let queue = Arc::new(Mutex::new(VecDeque::from(events)));
    let counter = Arc::new(Mutex::new(0u32));
    serve(move |req| {
        if req.method == "GET" && req.path == "/2018-06-01/runtime/invocation/next" {
            let event = queue.lock().unwrap().pop_front()?;
            let mut n = counter.lock().unwrap();
            *n += 1;
            let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() + 30_000;
            Some(
                Response::json(200, &event)
                    .with_header("lambda-runtime-aws-request-id", &format!("req-{n}"))
                    .with_header("lambda-runtime-deadline-ms", &deadline.to_string())
                    .with_header(
                        "lambda-runtime-invoked-function-arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:PutEvent-Function",
                    )
                    .with_header(
                        "lambda-runtime-trace-id",
                        "Root=1-00000000-000000000000000000000000",
                    ),
            )
        } else {
            Some(Response::json(202, &json!({"status": "OK"})))
        }
    })
}

fn spawn_bootstrap(
    runtime: std::net::SocketAddr,
    endpoint: Option<std::net::SocketAddr>,
    tracking_id: Option<&str>,
) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bootstrap"));
    cmd.env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "PutEvent-Function")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(endpoint) = endpoint {
        cmd.env("AWS_ENDPOINT_URL", format!("http://{endpoint}"));
    }
    if let Some(id) = tracking_id {
        cmd.env("TRACKING_ID", id);
    }
    cmd.spawn().unwrap()
}

fn wait_for(rx: &std::sync::mpsc::Receiver<Request>, pred: impl Fn(&Request) -> bool) -> Request {
    let until = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = until.saturating_duration_since(std::time::Instant::now());
        let req = rx.recv_timeout(left).expect("timed out waiting for a request");
        if pred(&req) {
            return req;
        }
    }
}

fn stop(mut child: Child) -> String {
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn missing_tracking_id_is_an_init_error() {
    let (runtime, rx) = runtime_api(vec![]);
    let child = spawn_bootstrap(runtime, None, None);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("init error"), "{stderr}");
    assert!(stderr.contains("TRACKING_ID"), "{stderr}");
    let report = wait_for(&rx, |r| r.path == "/2018-06-01/runtime/init/error");
    assert_eq!(report.method, "POST");
    assert_eq!(
        report.header("lambda-runtime-function-error-type"),
        Some("Runtime.InitError")
    );
    let body = report.json();
    assert!(body["errorMessage"].as_str().unwrap().contains("TRACKING_ID"));
    assert_eq!(body["errorType"], "ConfigError");
}

#[test]
fn without_a_runtime_api_it_exits_with_a_clear_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_bootstrap"))
        .env_clear()
        .env("TRACKING_ID", TRACKING_ID)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("AWS_LAMBDA_RUNTIME_API"), "{stderr}");
}

#[test]
fn one_invocation_through_the_sdk_sends_numeric_sent_at_and_stable_ids() {
    let event: Value = serde_json::from_str(&fixture_text("workshop_seed.json")).unwrap();
    let (runtime, runtime_rx) = runtime_api(vec![event.clone()]);
    let (endpoint, events_rx) = serve(|_| Some(Response::json(200, &json!({}))));
    let child = spawn_bootstrap(runtime, Some(endpoint), Some(TRACKING_ID));

    let response = wait_for(&runtime_rx, |r| r.path.ends_with("/response"));
    assert_eq!(response.path, "/2018-06-01/runtime/invocation/req-1/response");
    assert_eq!(response.json(), json!({"batchItemFailures": []}));

    let put = events_rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(put.method, "POST");
    assert_eq!(put.path, "/events");
    let body = put.json();
    assert_eq!(body["trackingId"], TRACKING_ID);
    assert_eq!(body["userId"], "146456223");
    assert_eq!(body["sessionId"], "146456223");
    let list = body["eventList"].as_array().unwrap();
    assert_eq!(list.len(), 7);
    assert!(
        list[0]["sentAt"].is_number(),
        "sentAt must be a JSON number: {}",
        list[0]
    );
    assert_eq!(list[0]["sentAt"].as_f64(), Some(1_676_975_804.0));
    assert_eq!(list[0]["itemId"], "zGRmEOdTo648OJoqhmazwKPuWpA=");
    assert_eq!(list[0]["eventType"], "click");
    assert!(list[0].get("properties").is_none());
    let first_id = event["Records"][0]["eventID"].as_str().unwrap();
    assert_eq!(list[0]["eventId"], first_id);
    assert!(
        events_rx.try_recv().is_err(),
        "one PutEvents call for the whole batch"
    );

    let stdout = stop(child);
    let lines: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let forwarded: Vec<&Value> = lines.iter().filter(|l| l["msg"] == "forwarded").collect();
    assert_eq!(forwarded.len(), 7);
    assert_eq!(forwarded[0]["eventId"], first_id);
    let summary = lines.iter().find(|l| l["msg"] == "invocation").unwrap();
    assert_eq!(summary["forwarded"], 7);
    assert_eq!(summary["requestId"], "req-1");
}

#[test]
fn sdk_errors_are_classified_throttling_retried_not_found_reported() {
    let event: Value = serde_json::from_str(&fixture_text("interleaved_users.json")).unwrap();
    let (runtime, runtime_rx) = runtime_api(vec![event.clone()]);
    let throttled_once = Arc::new(Mutex::new(false));
    let (endpoint, _events_rx) = serve(move |req| {
        let body = req.json();
        match body["userId"].as_str() {
            // alice (session alice): throttled once, then accepted.
            Some("alice") if body["sessionId"] == "alice" => {
                let mut t = throttled_once.lock().unwrap();
                if *t {
                    Some(Response::json(200, &json!({})))
                } else {
                    *t = true;
                    Some(
                        Response::json(400, &json!({"message": "Rate exceeded"}))
                            .with_header("x-amzn-errortype", "ThrottlingException"),
                    )
                }
            }
            // bob: the tracker is missing → reported.
            Some("bob") => Some(
                Response::json(404, &json!({"message": "tracker not found"}))
                    .with_header("x-amzn-errortype", "ResourceNotFoundException"),
            ),
            // carol: invalid input → rejected, not reported.
            Some("carol") => Some(
                Response::json(400, &json!({"message": "bad event"}))
                    .with_header("x-amzn-errortype", "InvalidInputException"),
            ),
            _ => Some(Response::json(200, &json!({}))),
        }
    });
    let child = spawn_bootstrap(runtime, Some(endpoint), Some(TRACKING_ID));
    let response = wait_for(&runtime_rx, |r| r.path.ends_with("/response"));
    let bob: Vec<Value> = event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kinesis"]["partitionKey"] == "bob")
        .map(|r| json!({"itemIdentifier": r["kinesis"]["sequenceNumber"]}))
        .collect();
    assert_eq!(response.json(), json!({ "batchItemFailures": bob }));
    let stdout = stop(child);
    let lines: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let count = |msg: &str| lines.iter().filter(|l| l["msg"] == msg).count();
    assert_eq!(count("retry"), 1);
    assert_eq!(count("failed"), 3);
    assert_eq!(count("rejected"), 2);
    assert_eq!(count("forwarded"), 5);
}
