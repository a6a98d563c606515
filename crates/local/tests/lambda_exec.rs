//! Lambda execution through the official SDKs: a real `provided.al2023` function built on
//! `lambda_runtime` (tests/fixtures/echo-function, built once per test process into the
//! target directory) deployed with CreateFunction, invoked synchronously and asynchronously,
//! and fed Kinesis batches by event source mappings with AWS's semantics.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support as common;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_lambda::types::{
    DestinationConfig, Environment, EventSourcePosition, FunctionCode, FunctionResponseType, InvocationType,
    LogType, OnFailure, Runtime,
};
use base64::Engine as _;
use personalize_stack_local::{Config, Profile, Running};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const ACCOUNT: &str = common::ACCOUNT;
const TRUST_LAMBDA: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const POLL_MS: u64 = 20;

// ---- the fixture function ----

/// The echo function's zip: built once per test process (cargo's lock on the target
/// directory serializes concurrent test processes, and the second finds it fresh).
fn fixture_zip() -> &'static [u8] {
    static ZIP: OnceLock<Vec<u8>> = OnceLock::new();
    ZIP.get_or_init(|| common::zip_bootstrap(fixture_binary()))
}

/// The echo function's executable, built once per test process.
fn fixture_binary() -> &'static [u8] {
    static BINARY: OnceLock<Vec<u8>> = OnceLock::new();
    BINARY.get_or_init(|| {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/echo-function/Cargo.toml");
        let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("echo-function");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let output = std::process::Command::new(cargo)
            .args(["build", "--release", "--quiet", "--manifest-path"])
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target)
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "building the fixture function failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::read(target.join("release/bootstrap")).unwrap()
    })
}

async fn echo_zip() -> Vec<u8> {
    tokio::task::spawn_blocking(|| fixture_zip().to_vec())
        .await
        .unwrap()
}

// ---- runtime and resources ----

async fn start(profile: Profile, data_dir: Option<PathBuf>) -> Running {
    personalize_stack_local::start(Config {
        port: 0,
        profile,
        data_dir,
        poll_interval_ms: POLL_MS,
        ..Config::default()
    })
    .await
    .unwrap()
}

struct Clients {
    lambda: aws_sdk_lambda::Client,
    kinesis: aws_sdk_kinesis::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
}

fn clients(running: &Running) -> Clients {
    let sdk = common::sdk(running, ACCOUNT);
    Clients {
        lambda: aws_sdk_lambda::Client::new(&sdk),
        kinesis: aws_sdk_kinesis::Client::new(&sdk),
        logs: aws_sdk_cloudwatchlogs::Client::new(&sdk),
    }
}

async fn role(running: &Running, name: &str) -> String {
    let iam = aws_sdk_iam::Client::new(&common::sdk(running, ACCOUNT));
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(TRUST_LAMBDA)
        .send()
        .await
        .unwrap()
        .role
        .unwrap()
        .arn
}

async fn create_function(running: &Running, name: &str, zip: Vec<u8>, timeout: i32) {
    let role = role(running, &format!("{name}-role")).await;
    clients(running)
        .lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Providedal2023)
        .handler("bootstrap")
        .role(role)
        .timeout(timeout)
        .memory_size(256)
        .environment(Environment::builder().variables("MY_VAR", "first").build())
        .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
        .send()
        .await
        .unwrap();
}

async fn invoke(
    running: &Running,
    name: &str,
    payload: Value,
) -> aws_sdk_lambda::operation::invoke::InvokeOutput {
    clients(running)
        .lambda
        .invoke()
        .function_name(name)
        .log_type(LogType::Tail)
        .payload(Blob::new(serde_json::to_vec(&payload).unwrap()))
        .send()
        .await
        .unwrap()
}

fn payload_of(out: &aws_sdk_lambda::operation::invoke::InvokeOutput) -> Value {
    serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap()
}

async fn stream(running: &Running, name: &str, shards: i32) -> String {
    let kinesis = clients(running).kinesis;
    kinesis
        .create_stream()
        .stream_name(name)
        .shard_count(shards)
        .send()
        .await
        .unwrap();
    format!("arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{name}")
}

/// Puts `(partition key, data)` records in one PutRecords call.
async fn put(running: &Running, stream: &str, records: &[(&str, String)]) {
    let entries: Vec<_> = records
        .iter()
        .map(|(key, data)| {
            aws_sdk_kinesis::types::PutRecordsRequestEntry::builder()
                .partition_key(*key)
                .data(Blob::new(data.as_bytes()))
                .build()
                .unwrap()
        })
        .collect();
    let out = clients(running)
        .kinesis
        .put_records()
        .stream_name(stream)
        .set_records(Some(entries))
        .send()
        .await
        .unwrap();
    assert_eq!(out.failed_record_count(), Some(0));
}

/// One batch the function logged.
#[derive(Debug, Clone)]
struct Batch {
    records: Vec<(String, String, String)>,
    failed: Vec<String>,
    outcome: String,
}

impl Batch {
    fn data(&self) -> Vec<String> {
        self.records.iter().map(|(_, _, d)| d.clone()).collect()
    }
}

/// Every Kinesis batch function `name` logged, in log order.
async fn logged_batches(running: &Running, name: &str) -> Vec<Batch> {
    let logs = clients(running).logs;
    let mut token = None;
    let mut batches = Vec::new();
    loop {
        let out = logs
            .filter_log_events()
            .log_group_name(format!("/aws/lambda/{name}"))
            .set_next_token(token)
            .send()
            .await;
        let Ok(out) = out else {
            return batches; // no log group yet
        };
        for event in out.events() {
            let Ok(line) = serde_json::from_str::<Value>(event.message().unwrap_or_default().trim()) else {
                continue;
            };
            let Some(records) = line["kinesis_batch"].as_array() else {
                continue;
            };
            let decode = |d: &Value| {
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(d.as_str().unwrap())
                        .unwrap(),
                )
                .unwrap()
            };
            batches.push(Batch {
                records: records
                    .iter()
                    .map(|r| {
                        (
                            r["seq"].as_str().unwrap().to_owned(),
                            r["key"].as_str().unwrap().to_owned(),
                            decode(&r["data"]),
                        )
                    })
                    .collect(),
                failed: line["failed"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["itemIdentifier"].as_str().unwrap_or_default().to_owned())
                    .collect(),
                outcome: line["outcome"].as_str().unwrap().to_owned(),
            });
        }
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            return batches;
        }
    }
}

/// Polls `check` (bounded) until it returns `Some`.
async fn eventually<T, F: Future<Output = Option<T>>>(what: &str, mut check: impl FnMut() -> F) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The data of the successfully processed records, in processing order: what an `ok`
/// batch carried, and what a `partial` one carried before its lowest failure.
fn processed(batches: &[Batch]) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        match b.outcome.as_str() {
            "ok" => out.extend(b.data()),
            "partial" => out.extend(
                b.records
                    .iter()
                    .take_while(|(seq, _, _)| !b.failed.contains(seq))
                    .map(|(_, _, d)| d.clone()),
            ),
            _ => {}
        }
    }
    out
}

fn log_text(out: &aws_sdk_lambda::operation::invoke::InvokeOutput) -> String {
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(out.log_result().unwrap())
            .unwrap(),
    )
    .unwrap()
}

// ---- invoking ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lambda_runtime_function_answers_synchronous_and_asynchronous_invocations() {
    let zip = echo_zip().await;
    let running = start(Profile::instant(), None).await;
    create_function(&running, "echo", zip, 10).await;

    let out = invoke(
        &running,
        "echo",
        json!({
            "hello": "world",
            "print": "hi from the function",
            "http_get": "/_local/resources",
            "env": ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
                    "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_ENDPOINT_URL", "AWS_LAMBDA_LOG_GROUP_NAME",
                    "AWS_LAMBDA_LOG_STREAM_NAME", "MY_VAR", "_HANDLER", "HOME"],
        }),
    )
    .await;
    assert_eq!(out.status_code(), 200);
    assert_eq!(out.function_error(), None);
    assert_eq!(out.executed_version(), Some("$LATEST"));
    let body = payload_of(&out);
    assert_eq!(body["hello"], "world", "the event is echoed: {body}");
    let env = &body["env"];
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "echo");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(env["AWS_REGION"], "us-east-1");
    assert_eq!(
        env["AWS_ACCESS_KEY_ID"], ACCOUNT,
        "credentials act in the function's account"
    );
    assert_eq!(env["AWS_ENDPOINT_URL"], running.endpoint_url().as_str());
    assert_eq!(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/echo");
    assert_eq!(env["MY_VAR"], "first");
    assert_eq!(env["_HANDLER"], "bootstrap");
    assert_eq!(env["HOME"], Value::Null, "a clean environment, as in Lambda");
    assert_eq!(
        body["http_get"], "HTTP/1.1 200 OK",
        "the function reaches the runtime through AWS_ENDPOINT_URL"
    );
    let stream_name = env["AWS_LAMBDA_LOG_STREAM_NAME"].as_str().unwrap().to_owned();
    assert!(stream_name.contains("/[$LATEST]"), "{stream_name}");
    let log = log_text(&out);
    assert!(log.contains("INIT_START"), "a cold start: {log}");
    assert!(log.contains("START RequestId: "), "{log}");
    assert!(log.contains("hi from the function"), "{log}");
    assert!(log.contains("END RequestId: "), "{log}");
    assert!(
        log.contains("REPORT RequestId: ") && log.contains("Init Duration"),
        "{log}"
    );

    // Warm: the same process (same log stream), no init.
    let out = invoke(&running, "echo", json!({"env": ["AWS_LAMBDA_LOG_STREAM_NAME"]})).await;
    assert_eq!(
        payload_of(&out)["env"]["AWS_LAMBDA_LOG_STREAM_NAME"],
        stream_name.as_str()
    );
    assert!(!log_text(&out).contains("INIT_START"));

    // A function error: 200, X-Amz-Function-Error, the error document.
    let out = invoke(&running, "echo", json!({"fail": "boom"})).await;
    assert_eq!(out.status_code(), 200);
    assert_eq!(out.function_error(), Some("Unhandled"));
    let error = payload_of(&out);
    assert_eq!(error["errorMessage"], "boom", "{error}");
    assert!(error["errorType"].is_string());

    // A crash: Runtime.ExitError; the next invocation gets a fresh process.
    let out = invoke(&running, "echo", json!({"exit": 3})).await;
    assert_eq!(out.function_error(), Some("Unhandled"));
    let error = payload_of(&out);
    assert_eq!(error["errorType"], "Runtime.ExitError");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .ends_with("Error: Runtime exited with error: exit status 3"),
        "{error}"
    );
    let out = invoke(&running, "echo", json!({"env": ["AWS_LAMBDA_LOG_STREAM_NAME"]})).await;
    assert_eq!(out.function_error(), None);
    assert_ne!(
        payload_of(&out)["env"]["AWS_LAMBDA_LOG_STREAM_NAME"],
        stream_name.as_str()
    );

    // A configuration update retires the warm instance: the new variables are seen.
    let lambda = clients(&running).lambda;
    lambda
        .update_function_configuration()
        .function_name("echo")
        .environment(Environment::builder().variables("MY_VAR", "second").build())
        .send()
        .await
        .unwrap();
    let out = invoke(&running, "echo", json!({"env": ["MY_VAR"]})).await;
    assert_eq!(payload_of(&out)["env"]["MY_VAR"], "second");

    // Event: 202 at once, run in the background; DryRun: 204.
    let out = lambda
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(br#"{"print":"from an async invocation"}"#.to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status_code(), 202);
    let out = lambda
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::DryRun)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status_code(), 204);

    // The output is in CloudWatch Logs.
    let logs = clients(&running).logs;
    eventually("the async invocation's output in the logs", || {
        let logs = logs.clone();
        async move {
            let out = logs
                .filter_log_events()
                .log_group_name("/aws/lambda/echo")
                .filter_pattern("\"from an async invocation\"")
                .send()
                .await
                .ok()?;
            (!out.events().is_empty()).then_some(())
        }
    })
    .await;
    let streams = logs
        .describe_log_streams()
        .log_group_name("/aws/lambda/echo")
        .send()
        .await
        .unwrap();
    assert!(streams.log_streams().len() >= 3, "one stream per instance");
    assert!(
        streams
            .log_streams()
            .iter()
            .any(|s| s.log_stream_name() == Some(stream_name.as_str()))
    );

    // Errors Lambda returns itself.
    let err = lambda
        .invoke()
        .function_name("missing")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let err = lambda
        .invoke()
        .function_name("echo")
        .payload(Blob::new(b"{not json".to_vec()))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_request_content_exception(), "{err:?}");
    let err = lambda
        .invoke()
        .function_name("echo")
        .payload(Blob::new(vec![b' '; 7 * 1024 * 1024]))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_request_too_large_exception(), "{err:?}");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invocations_run_on_separate_warm_instances() {
    let zip = echo_zip().await;
    let running = start(Profile::instant(), None).await;
    create_function(&running, "parallel", zip, 10).await;
    let started = Instant::now();
    let calls = (0..3).map(|_| {
        let running = &running;
        async move {
            let out = invoke(
                running,
                "parallel",
                json!({"sleep_ms": 800, "env": ["AWS_LAMBDA_LOG_STREAM_NAME"]}),
            )
            .await;
            payload_of(&out)["env"]["AWS_LAMBDA_LOG_STREAM_NAME"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    });
    let mut streams = futures_join_all(calls).await;
    assert!(
        started.elapsed() < Duration::from_millis(2400),
        "they ran side by side (one after another takes at least 2.4 s)"
    );
    streams.sort();
    streams.dedup();
    assert_eq!(streams.len(), 3, "one instance each");
    // Afterwards the warm instances are reused, not new ones started.
    let out = invoke(
        &running,
        "parallel",
        json!({"env": ["AWS_LAMBDA_LOG_STREAM_NAME"]}),
    )
    .await;
    let reused = payload_of(&out)["env"]["AWS_LAMBDA_LOG_STREAM_NAME"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(streams.contains(&reused));
    running.shutdown().await;
}

/// Runs futures concurrently and collects their outputs in order.
async fn futures_join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in set.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(Option::unwrap).collect()
}

/// On a current-thread runtime a synchronous Invoke blocks the server's only thread; the
/// function still runs (on the executor's own threads) and answers.
#[tokio::test]
async fn synchronous_invoke_works_on_a_current_thread_runtime() {
    let zip = echo_zip().await;
    let running = start(Profile::instant(), None).await;
    create_function(&running, "single", zip, 10).await;
    let out = invoke(&running, "single", json!({"on": "one thread"})).await;
    assert_eq!(out.function_error(), None);
    assert_eq!(payload_of(&out)["on"], "one thread");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_past_its_timeout_is_killed_with_sandbox_timedout() {
    let zip = echo_zip().await;
    let running = start(Profile::instant(), None).await;
    create_function(&running, "slow", zip, 1).await;
    let started = Instant::now();
    let out = invoke(&running, "slow", json!({"sleep_ms": 5000})).await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "killed at the deadline"
    );
    assert_eq!(out.function_error(), Some("Unhandled"));
    let error = payload_of(&out);
    assert_eq!(error["errorType"], "Sandbox.Timedout");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .ends_with("Task timed out after 1.00 seconds"),
        "{error}"
    );
    let log = log_text(&out);
    assert!(
        log.contains("Task timed out after 1.00 seconds") && log.contains("Status: timeout"),
        "{log}"
    );
    let out = invoke(&running, "slow", json!({"after": "timeout"})).await;
    assert_eq!(
        out.function_error(),
        None,
        "a fresh process serves the next invocation"
    );
    assert_eq!(payload_of(&out)["after"], "timeout");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_that_cannot_run_fail_as_lambda_fails_them() {
    let running = start(
        Profile {
            function_ready_ms: 60_000,
            ..Profile::instant()
        },
        None,
    )
    .await;
    let lambda = clients(&running).lambda;
    let role = role(&running, "r").await;
    let script = common::zip_bootstrap(b"#!/bin/sh\nexit 0\n");
    lambda
        .create_function()
        .function_name("pending")
        .runtime(Runtime::Providedal2023)
        .handler("bootstrap")
        .role(&role)
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(script.clone()))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let err = lambda
        .invoke()
        .function_name("pending")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_conflict_exception(), "{err:?}");
    running.shutdown().await;

    let running = start(Profile::instant(), None).await;
    let lambda = clients(&running).lambda;
    let role = self::role(&running, "r").await;
    lambda
        .create_function()
        .function_name("python")
        .runtime(Runtime::Python312)
        .handler("app.handler")
        .role(&role)
        .code(FunctionCode::builder().zip_file(Blob::new(script)).build())
        .send()
        .await
        .unwrap();
    let out = lambda.invoke().function_name("python").send().await.unwrap();
    assert_eq!(out.function_error(), Some("Unhandled"));
    assert_eq!(payload_of(&out)["errorType"], "Runtime.InvalidEntrypoint");

    // A zip without bootstrap.
    let mut no_bootstrap = common::zip_bootstrap(b"echo");
    let name_at = no_bootstrap.windows(9).position(|w| w == b"bootstrap").unwrap();
    no_bootstrap[name_at..name_at + 9].copy_from_slice(b"README.md");
    let central_at = no_bootstrap.windows(9).rposition(|w| w == b"bootstrap").unwrap();
    no_bootstrap[central_at..central_at + 9].copy_from_slice(b"README.md");
    lambda
        .create_function()
        .function_name("empty")
        .runtime(Runtime::Providedal2)
        .handler("bootstrap")
        .role(&role)
        .code(FunctionCode::builder().zip_file(Blob::new(no_bootstrap)).build())
        .send()
        .await
        .unwrap();
    let out = lambda.invoke().function_name("empty").send().await.unwrap();
    let error = payload_of(&out);
    assert_eq!(error["errorType"], "Runtime.InvalidEntrypoint");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .contains("Couldn't find valid bootstrap(s)"),
        "{error}"
    );
    running.shutdown().await;
}

// ---- event source mappings ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kinesis_batches_reach_the_function_in_order_exactly_once() {
    let zip = echo_zip().await;
    let running = start(Profile::instant(), None).await;
    create_function(&running, "consumer", zip, 10).await;
    let arn = stream(&running, "events", 2).await;
    let lambda = clients(&running).lambda;
    let mapping = lambda
        .create_event_source_mapping()
        .function_name("consumer")
        .event_source_arn(&arn)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(10)
        .send()
        .await
        .unwrap();
    let uuid = mapping.uuid().unwrap().to_owned();

    // Three users' events, in two calls.
    let records: Vec<(&str, String)> = (0..30)
        .map(|i| (["user-a", "user-b", "user-c"][i % 3], format!("event-{i:02}")))
        .collect();
    put(&running, "events", &records[..17]).await;
    put(&running, "events", &records[17..]).await;

    let batches = eventually("every record processed", || {
        let running = &running;
        async move {
            let batches = logged_batches(running, "consumer").await;
            (processed(&batches).len() >= 30).then_some(batches)
        }
    })
    .await;
    let mut seen = processed(&batches);
    assert_eq!(seen.len(), 30, "exactly once: {seen:?}");
    for user in ["user-a", "user-b", "user-c"] {
        let expected: Vec<&String> = records
            .iter()
            .filter(|(k, _)| *k == user)
            .map(|(_, d)| d)
            .collect();
        let delivered: Vec<&String> = batches
            .iter()
            .flat_map(|b| b.records.iter())
            .filter(|(_, k, _)| k == user)
            .map(|(_, _, d)| d)
            .collect();
        assert_eq!(delivered, expected, "order kept for {user}");
    }
    assert!(
        batches.iter().all(|b| b.records.len() <= 10),
        "BatchSize honoured"
    );
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 30);
    let result = lambda
        .get_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(result.last_processing_result(), Some("OK"));

    // Checkpoints exist per shard while the mapping does, and go with it.
    let checkpoints = |resources: Value| {
        resources["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["kind"] == "checkpoint" && r["id"].as_str().unwrap().starts_with(uuid.as_str()))
            .count()
    };
    assert_eq!(checkpoints(common::resources(&running).await), 2);
    lambda
        .delete_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .unwrap();
    eventually("the checkpoints deleted with the mapping", || {
        let running = &running;
        async move { (checkpoints(common::resources(running).await) == 0).then_some(()) }
    })
    .await;

    // LATEST: records already in the stream are not delivered, later ones are.
    let arn = stream(&running, "later", 1).await;
    put(
        &running,
        "later",
        &[("k", "old-1".to_owned()), ("k", "old-2".to_owned())],
    )
    .await;
    let mapping = lambda
        .create_event_source_mapping()
        .function_name("consumer")
        .event_source_arn(&arn)
        .starting_position(EventSourcePosition::Latest)
        .send()
        .await
        .unwrap();
    let latest_uuid = mapping.uuid().unwrap().to_owned();
    eventually("the LATEST position pinned", || {
        let running = &running;
        let uuid = latest_uuid.clone();
        async move {
            let resources = common::resources(running).await;
            resources["resources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["kind"] == "checkpoint" && r["id"].as_str().unwrap().starts_with(uuid.as_str()))
                .then_some(())
        }
    })
    .await;
    put(&running, "later", &[("k", "new-1".to_owned())]).await;
    let batches = eventually("the new record processed", || {
        let running = &running;
        async move {
            let batches = logged_batches(running, "consumer").await;
            processed(&batches)
                .contains(&"new-1".to_owned())
                .then_some(batches)
        }
    })
    .await;
    assert!(!processed(&batches).iter().any(|d| d.starts_with("old-")));
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batching_windows_fill_batches_and_disabled_mappings_wait() {
    let zip = echo_zip().await;
    let running = start(Profile::instant(), None).await;
    create_function(&running, "windowed", zip, 10).await;
    let lambda = clients(&running).lambda;
    let arn = stream(&running, "window", 1).await;
    let mapping = lambda
        .create_event_source_mapping()
        .function_name("windowed")
        .event_source_arn(&arn)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(10)
        // Long enough for the test to see the window holding records under any load.
        .maximum_batching_window_in_seconds(3)
        .send()
        .await
        .unwrap();
    let uuid = mapping.uuid().unwrap().to_owned();
    put(
        &running,
        "window",
        &[("k", "w0".to_owned()), ("k", "w1".to_owned())],
    )
    .await;
    // The poller has read both and holds them while its window fills: a record put now joins
    // them.
    eventually("the window holding w0 and w1", || {
        let (running, uuid) = (&running, &uuid);
        async move {
            common::pollers(running)
                .await
                .iter()
                .any(|p| p["uuid"] == uuid.as_str() && p["held"] == 2)
                .then_some(())
        }
    })
    .await;
    put(&running, "window", &[("k", "w2".to_owned())]).await;
    let batches = eventually("the window's batch", || {
        let running = &running;
        async move {
            let batches = logged_batches(running, "windowed").await;
            (!batches.is_empty()).then_some(batches)
        }
    })
    .await;
    assert_eq!(
        batches[0].data(),
        ["w0", "w1", "w2"],
        "one batch for the whole window"
    );

    // Disabled: nothing is delivered; enabled again: delivery resumes where it stopped.
    lambda
        .update_event_source_mapping()
        .uuid(&uuid)
        .enabled(false)
        .send()
        .await
        .unwrap();
    // Once its poller is gone nothing can deliver w3, however long it waits.
    eventually("the disabled mapping's poller stopped", || {
        let (running, uuid) = (&running, &uuid);
        async move {
            let pollers = common::pollers(running).await;
            (!pollers.iter().any(|p| p["uuid"] == uuid.as_str())).then_some(())
        }
    })
    .await;
    put(&running, "window", &[("k", "w3".to_owned())]).await;
    assert_eq!(
        processed(&logged_batches(&running, "windowed").await),
        ["w0", "w1", "w2"]
    );
    lambda
        .update_event_source_mapping()
        .uuid(&uuid)
        .enabled(true)
        .send()
        .await
        .unwrap();
    let seen = eventually("delivery resumed", || {
        let running = &running;
        async move {
            let seen = processed(&logged_batches(running, "windowed").await);
            (seen.len() >= 4).then_some(seen)
        }
    })
    .await;
    assert_eq!(seen, ["w0", "w1", "w2", "w3"]);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reported_item_failures_checkpoint_at_the_lowest_failed_record() {
    let zip = echo_zip().await;
    let running = start(Profile::instant(), None).await;
    create_function(&running, "partial", zip, 10).await;
    let lambda = clients(&running).lambda;

    // r2 and r4 fail once: the batch is retried from r2; r0 and r1 are not delivered again.
    let arn = stream(&running, "items", 1).await;
    let keys = ["ok", "ok", "fail-item-once", "ok", "fail-item-once", "ok"];
    let records: Vec<(&str, String)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (*k, format!("r{i}")))
        .collect();
    put(&running, "items", &records).await;
    lambda
        .create_event_source_mapping()
        .function_name("partial")
        .event_source_arn(&arn)
        .starting_position(EventSourcePosition::TrimHorizon)
        .function_response_types(FunctionResponseType::ReportBatchItemFailures)
        .send()
        .await
        .unwrap();
    let batches = eventually("every record processed", || {
        let running = &running;
        async move {
            let batches = logged_batches(running, "partial").await;
            (processed(&batches).len() >= 6).then_some(batches)
        }
    })
    .await;
    let data: Vec<Vec<String>> = batches.iter().map(Batch::data).collect();
    assert_eq!(
        data,
        [
            vec!["r0", "r1", "r2", "r3", "r4", "r5"],
            vec!["r2", "r3", "r4", "r5"]
        ],
        "the retry starts at the lowest failed record"
    );
    assert_eq!(batches[0].failed.len(), 2);
    assert_eq!(processed(&batches), ["r0", "r1", "r2", "r3", "r4", "r5"]);

    // An empty itemIdentifier fails the whole batch: it is delivered again from its start.
    let arn = stream(&running, "blank", 1).await;
    put(
        &running,
        "blank",
        &[("ok", "b0".to_owned()), ("fail-item-blank", "b1".to_owned())],
    )
    .await;
    lambda
        .create_event_source_mapping()
        .function_name("partial")
        .event_source_arn(&arn)
        .starting_position(EventSourcePosition::TrimHorizon)
        .function_response_types(FunctionResponseType::ReportBatchItemFailures)
        .send()
        .await
        .unwrap();
    let batches = eventually("the blank failure retried", || {
        let running = &running;
        async move {
            let batches: Vec<Batch> = logged_batches(running, "partial")
                .await
                .into_iter()
                .filter(|b| b.data().iter().any(|d| d.starts_with('b')))
                .collect();
            (batches.len() >= 2 && batches.last().unwrap().outcome == "ok").then_some(batches)
        }
    })
    .await;
    assert_eq!(batches[0].data(), ["b0", "b1"]);
    assert_eq!(batches[1].data(), ["b0", "b1"], "the whole batch again");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bisection_isolates_a_bad_record_and_exhausted_retries_skip_it() {
    let zip = echo_zip().await;
    let running = start(Profile::instant(), None).await;
    create_function(&running, "bisect", zip, 10).await;
    let lambda = clients(&running).lambda;
    let arn = stream(&running, "poison", 1).await;
    let keys = ["ok", "fail-always", "ok", "ok"];
    let records: Vec<(&str, String)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (*k, format!("p{i}")))
        .collect();
    put(&running, "poison", &records).await;
    let destination = format!("arn:aws:sqs:us-east-1:{ACCOUNT}:failures");
    let mapping = lambda
        .create_event_source_mapping()
        .function_name("bisect")
        .event_source_arn(&arn)
        .starting_position(EventSourcePosition::TrimHorizon)
        .bisect_batch_on_function_error(true)
        .maximum_retry_attempts(1)
        .destination_config(
            DestinationConfig::builder()
                .on_failure(OnFailure::builder().destination(&destination).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let uuid = mapping.uuid().unwrap().to_owned();
    let batches = eventually("the good records processed", || {
        let running = &running;
        async move {
            let batches = logged_batches(running, "bisect").await;
            (processed(&batches).len() >= 3).then_some(batches)
        }
    })
    .await;
    let data: Vec<Vec<String>> = batches.iter().map(Batch::data).collect();
    assert_eq!(
        data,
        [
            vec!["p0", "p1", "p2", "p3"],
            vec!["p0", "p1"],
            vec!["p0"],
            vec!["p1"],
            vec!["p1"],
            vec!["p2", "p3"]
        ],
        "halves until the bad record is alone, one retry, then skipped"
    );
    assert_eq!(processed(&batches), ["p0", "p2", "p3"]);
    let resources = common::resources(&running).await;
    let failures: Vec<&Value> = resources["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "on-failure" && r["id"].as_str().unwrap().starts_with(uuid.as_str()))
        .collect();
    assert_eq!(
        failures.len(),
        1,
        "the skipped record goes to the OnFailure destination"
    );

    // With infinite retries the shard stays blocked, and the mapping says so.
    let arn = stream(&running, "blocked", 1).await;
    put(&running, "blocked", &[("fail-always", "x".to_owned())]).await;
    let mapping = lambda
        .create_event_source_mapping()
        .function_name("bisect")
        .event_source_arn(&arn)
        .starting_position(EventSourcePosition::TrimHorizon)
        .send()
        .await
        .unwrap();
    let blocked = mapping.uuid().unwrap().to_owned();
    eventually("the problem reported", || {
        let lambda = lambda.clone();
        let uuid = blocked.clone();
        async move {
            let m = lambda.get_event_source_mapping().uuid(uuid).send().await.ok()?;
            (m.last_processing_result() == Some("PROBLEM: Function call failed")).then_some(())
        }
    })
    .await;
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_runtime_resumes_from_the_durable_checkpoint() {
    let zip = echo_zip().await;
    let dir = std::env::temp_dir().join(format!("ps-lambda-exec-{}", uuid::Uuid::new_v4()));
    let running = start(Profile::instant(), Some(dir.clone())).await;
    create_function(&running, "durable", zip, 10).await;
    let arn = stream(&running, "durable", 1).await;
    clients(&running)
        .lambda
        .create_event_source_mapping()
        .function_name("durable")
        .event_source_arn(&arn)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(2)
        .send()
        .await
        .unwrap();
    let first: Vec<(&str, String)> = (0..5).map(|i| ("k", format!("before-{i}"))).collect();
    put(&running, "durable", &first).await;
    eventually("the first records processed", || {
        let running = &running;
        async move { (processed(&logged_batches(running, "durable").await).len() >= 5).then_some(()) }
    })
    .await;
    running.shutdown().await;

    let running = start(Profile::instant(), Some(dir.clone())).await;
    let second: Vec<(&str, String)> = (0..3).map(|i| ("k", format!("after-{i}"))).collect();
    put(&running, "durable", &second).await;
    let seen = eventually("the new records processed after the restart", || {
        let running = &running;
        async move {
            let seen = processed(&logged_batches(running, "durable").await);
            (seen.len() >= 8).then_some(seen)
        }
    })
    .await;
    let expected: Vec<String> = first.iter().chain(&second).map(|(_, d)| d.clone()).collect();
    assert_eq!(seen, expected, "nothing redelivered, nothing skipped");
    running.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The unpacked copies of deployment packages in a runtime's data dir.
fn unpacked_copies(data_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data_dir.join("lambda/code"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn sha256_base64(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
}

/// `GET url` (on the runtime at `addr`): the status and the body's bytes.
fn get_bytes(addr: std::net::SocketAddr, url: &str) -> (u16, Vec<u8>) {
    use std::io::{Read as _, Write as _};
    let path = url.splitn(4, '/').nth(3).map(|p| format!("/{p}")).unwrap();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: l\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(!head.to_ascii_lowercase().contains("chunked"), "{head}");
    (status, response[split + 4..].to_vec())
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fleet deploys one zip to many functions: it is unpacked once and shared, and the copy
/// goes when no function uses that zip any more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_with_the_same_zip_share_one_unpacked_copy() {
    let zip = echo_zip().await;
    let dir = std::env::temp_dir().join(format!("ps-lambda-exec-{}", uuid::Uuid::new_v4()));
    let running = start(Profile::instant(), Some(dir.clone())).await;
    create_function(&running, "first", zip.clone(), 10).await;
    create_function(&running, "second", zip.clone(), 10).await;
    for name in ["first", "second"] {
        let out = invoke(&running, name, json!({ "env": ["AWS_LAMBDA_FUNCTION_NAME"] })).await;
        assert_eq!(out.function_error(), None, "{name}: {}", log_text(&out));
        assert_eq!(payload_of(&out)["env"]["AWS_LAMBDA_FUNCTION_NAME"], name);
    }
    assert_eq!(unpacked_copies(&dir), [hex_sha256(&zip)], "one copy for both");

    // The first one going leaves the second one its code: after a restart with the unpacked
    // copies gone (as when a temp dir is wiped), the second one runs from the stored zip.
    clients(&running)
        .lambda
        .delete_function()
        .function_name("first")
        .send()
        .await
        .unwrap();
    running.shutdown().await;
    std::fs::remove_dir_all(dir.join("lambda/code")).unwrap();
    let running = start(Profile::instant(), Some(dir.clone())).await;
    let out = invoke(&running, "second", json!({ "n": 1 })).await;
    assert_eq!(out.function_error(), None, "{}", log_text(&out));
    assert_eq!(payload_of(&out)["n"], 1);

    // New code for the second one (the same executable with padding after it): the old copy,
    // which nothing uses now, is removed when the new one is unpacked.
    let mut padded = fixture_binary().to_vec();
    padded.extend_from_slice(&[0; 64]);
    let new_zip = common::zip_bootstrap(&padded);
    clients(&running)
        .lambda
        .update_function_code()
        .function_name("second")
        .zip_file(Blob::new(new_zip.clone()))
        .send()
        .await
        .unwrap();
    let out = invoke(&running, "second", json!({ "n": 2 })).await;
    assert_eq!(out.function_error(), None, "{}", log_text(&out));
    assert_eq!(payload_of(&out)["n"], 2);
    assert_eq!(unpacked_copies(&dir), [hex_sha256(&new_zip)]);

    // GetFunction's Code.Location downloads the zip (AWS's is a presigned S3 URL).
    let location = clients(&running)
        .lambda
        .get_function()
        .function_name("second")
        .send()
        .await
        .unwrap()
        .code
        .unwrap()
        .location
        .unwrap();
    let (status, body) = get_bytes(running.addr(), &location);
    assert_eq!(status, 200, "{location}");
    assert_eq!(body, new_zip, "the location serves the current zip");
    let old = location.replace(
        &percent_encoding::utf8_percent_encode(&sha256_base64(&new_zip), percent_encoding::NON_ALPHANUMERIC)
            .to_string(),
        &percent_encoding::utf8_percent_encode(&sha256_base64(&zip), percent_encoding::NON_ALPHANUMERIC)
            .to_string(),
    );
    assert_ne!(old, location);
    assert_eq!(
        get_bytes(running.addr(), &old).0,
        404,
        "code that was replaced is gone"
    );

    running.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
