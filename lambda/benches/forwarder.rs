//! Forwarder benchmarks (printed, not asserted): handler time per 100-record batch without
//! network, PutEvents calls per 100 records against the seed function's one per record, the
//! `bootstrap` binary's size, and cold start (process start → first `/next`).
//!
//! `cargo bench -p personalize-stack-forwarder` (build the size-tuned binary first with
//! `cargo build -p personalize-stack-forwarder --profile release-lambda` to have it measured).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use personalize_stack_test_support::http_stub as http;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use personalize_stack_forwarder::plan::plan;
use personalize_stack_forwarder::{
    Config, Forwarder, KinesisBatch, NullSink, PutEventsClient, PutEventsRequest, SendError,
};
use serde_json::json;

/// Accepts every call at once and counts them.
#[derive(Default)]
struct CountingClient {
    calls: AtomicUsize,
}

impl PutEventsClient for CountingClient {
    async fn put_events(&self, _request: PutEventsRequest<'_>) -> Result<(), SendError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// `n` workshop-shape records spread round-robin over `users` users.
fn batch(n: usize, users: usize) -> KinesisBatch {
    let records: Vec<_> = (0..n)
        .map(|i| {
            let seq = format!(
                "4959033827149025660855969253836157109592157598913{:07}",
                i * 10 + 2
            );
            let payload = json!({
                "userid": format!("{}", 146_456_223 + i % users),
                "itemid": format!("zGRmEOdTo648OJoqhmazwKPu{i:04}="),
                "timestamp": format!("{}", 1_676_975_804 + i),
                "event_type": if i % 3 == 0 { "adds_to_cart" } else { "click" },
            });
            json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": format!("{}", 146_456_223 + i % users),
                    "sequenceNumber": seq,
                    "data": base64::engine::general_purpose::STANDARD.encode(payload.to_string()),
                    "approximateArrivalTimestamp": 1_676_975_900.5,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("shardId-000000000000:{seq}"),
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/forwarder",
                "awsRegion": "us-east-1",
                "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/PutEvent-datastream",
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

fn stats(mut samples: Vec<Duration>) -> (f64, f64, f64) {
    samples.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let mean = samples.iter().map(|d| us(*d)).sum::<f64>() / samples.len() as f64;
    (
        us(samples[samples.len() / 2]),
        mean,
        us(samples[samples.len() * 99 / 100]),
    )
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let iterations = 2000;

    println!("== forwarder benchmarks ==");
    // 1. Planning (decode base64 + UTF-8 + JSON, validate, group, chunk) per 100 records.
    let mix = batch(100, 10);
    for _ in 0..200 {
        black_box(plan(black_box(&mix), None));
    }
    let samples: Vec<Duration> = (0..iterations)
        .map(|_| {
            let t = Instant::now();
            black_box(plan(black_box(&mix), None));
            t.elapsed()
        })
        .collect();
    let (median, mean, p99) = stats(samples);
    println!(
        "plan, 100 records / 10 users:           median {median:8.1} µs  mean {mean:8.1} µs  p99 {p99:8.1} µs"
    );

    // 2. The whole handler without network: event JSON → plan → send (instant client) → logs
    //    built (then dropped) → response.
    let event_json = serde_json::to_string(&json!({ "Records": batch_json(100, 10) })).unwrap();
    let forwarder = Forwarder::new(
        Config::new("tracking"),
        CountingClient::default(),
        Arc::new(NullSink),
    );
    let samples: Vec<Duration> = (0..iterations)
        .map(|_| {
            let t = Instant::now();
            let batch: KinesisBatch = serde_json::from_str(black_box(&event_json)).unwrap();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            let outcome = rt.block_on(forwarder.handle(&batch, deadline, "bench"));
            black_box(serde_json::to_string(&outcome.response).unwrap());
            t.elapsed()
        })
        .collect();
    let (median, mean, p99) = stats(samples);
    println!(
        "handler (parse event + plan + send + respond), 100 records, no network: median {median:8.1} µs  mean {mean:8.1} µs  p99 {p99:8.1} µs  (target < 2000 µs)"
    );

    // 3. PutEvents calls per 100 records.
    for (label, users) in [
        ("1 user", 1),
        ("10 users (realistic mix)", 10),
        ("100 users (worst case)", 100),
    ] {
        let client = CountingClient::default();
        let forwarder = Forwarder::new(Config::new("tracking"), client, Arc::new(NullSink));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        rt.block_on(forwarder.handle(&batch(100, users), deadline, "bench"));
        let calls = forwarder.client().calls.load(Ordering::Relaxed);
        println!("PutEvents calls per 100 records, {label:26}: {calls:3}  (seed function: 100)");
    }

    // 4. Binary size.
    let target = target_dir();
    let lambda_bin = target.join("release-lambda").join("bootstrap");
    match std::fs::metadata(&lambda_bin) {
        Ok(m) => println!(
            "bootstrap size (release-lambda): {} bytes ({:.2} MiB)",
            m.len(),
            m.len() as f64 / 1048576.0
        ),
        Err(_) => println!(
            "bootstrap size: not built (cargo build -p personalize-stack-forwarder --profile release-lambda)"
        ),
    }

    // 5. Cold start: process start → first GET /next on a fake runtime API.
    let bench_bin = PathBuf::from(env!("CARGO_BIN_EXE_bootstrap"));
    for (label, bin) in [("bench profile", bench_bin), ("release-lambda", lambda_bin)] {
        if !bin.exists() {
            continue;
        }
        let samples: Vec<Duration> = (0..15).filter_map(|_| cold_start(&bin)).collect();
        if samples.is_empty() {
            println!("cold start ({label}): not measured");
            continue;
        }
        let (median, _, _) = stats(samples.clone());
        let min = samples.iter().min().copied().unwrap_or_default();
        println!(
            "cold start ({label}), process start → first /next: median {:.2} ms  min {:.2} ms  ({} runs)",
            median / 1000.0,
            min.as_secs_f64() * 1000.0,
            samples.len()
        );
    }
}

fn batch_json(n: usize, users: usize) -> serde_json::Value {
    let b = batch(n, users);
    // Rebuild the wire form (the lenient type is not Serialize).
    let records: Vec<_> = b
        .records
        .iter()
        .map(|r| {
            json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": r.kinesis.partition_key,
                    "sequenceNumber": r.kinesis.sequence_number,
                    "data": r.kinesis.data,
                    "approximateArrivalTimestamp": r.kinesis.approximate_arrival_timestamp,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": r.event_id,
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/forwarder",
                "awsRegion": "us-east-1",
                "eventSourceARN": r.event_source_arn,
            })
        })
        .collect();
    serde_json::Value::Array(records)
}

fn target_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    // CARGO_BIN_EXE_bootstrap is <target>/<profile>/bootstrap.
    Path::new(env!("CARGO_BIN_EXE_bootstrap"))
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("target"))
}

fn cold_start(bin: &Path) -> Option<Duration> {
    let (addr, rx) = http::serve(|req| {
        if req.path.ends_with("/invocation/next") {
            None
        } else {
            Some(http::Response::json(202, &json!({})))
        }
    });
    let started = Instant::now();
    let mut child = Command::new(bin)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "PutEvent-Function")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("TRACKING_ID", "tracking")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let first = rx.recv_timeout(Duration::from_secs(10)).ok();
    let _ = child.kill();
    let _ = child.wait();
    first.map(|req| req.at.duration_since(started))
}
