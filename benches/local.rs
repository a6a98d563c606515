//! Local runtime benchmarks: `cargo bench --bench local`. Prints figures; asserts nothing.
//!
//! - sequential SDK `DescribeStreamSummary` calls per second (target ≥ 2,000/s on 2 cores);
//! - resident memory of a `personalize-stack local` process holding 50 accounts' stacks — the
//!   workshop's, deployed as the end-to-end test deploys it (target < 100 MB).
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support as common;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // 1. Sequential DescribeStreamSummary through the SDK against an in-process runtime.
    let local = personalize_stack_local::start(personalize_stack_local::Config {
        port: 0,
        profile: personalize_stack_local::Profile::instant(),
        ..Default::default()
    })
    .await
    .unwrap();
    let kinesis = aws_sdk_kinesis::Client::new(&common::sdk_at(&local.endpoint_url(), "000000000000"));
    kinesis
        .create_stream()
        .stream_name("bench")
        .shard_count(4)
        .send()
        .await
        .unwrap();
    for _ in 0..200 {
        kinesis
            .describe_stream_summary()
            .stream_name("bench")
            .send()
            .await
            .unwrap();
    }
    let mut latencies = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        let t = Instant::now();
        kinesis
            .describe_stream_summary()
            .stream_name("bench")
            .send()
            .await
            .unwrap();
        latencies.push(t.elapsed());
    }
    let rate = latencies.len() as f64 / start.elapsed().as_secs_f64();
    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    println!(
        "sequential SDK DescribeStreamSummary: {rate:.0} calls/s (p50 {:?}, p99 {:?}; target >= 2000/s)",
        p(0.5),
        p(0.99)
    );
    local.shutdown().await;

    // 2. RSS of a separate `personalize-stack local` process holding 50 accounts' stacks.
    let dir = std::env::temp_dir().join(format!("personalize-stack-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_personalize-stack"))
        .args([
            "local",
            "--port",
            "0",
            "--latency",
            "instant",
            "--quiet",
            "--data-dir",
        ])
        .arg(&dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let endpoint = line.trim().to_owned();
    let idle = rss_kb(child.id());
    let zip = common::zip_bootstrap(&[0x7f; 4096]);
    let start = Instant::now();
    for i in 0..50 {
        let account = format!("{:012}", 100_000_000_000u64 + i);
        common::workshop::deploy_in(&endpoint, &account, 1, zip.clone()).await;
    }
    let created = start.elapsed();
    let full = rss_kb(child.id());
    println!(
        "RSS of `personalize-stack local` with 50 accounts' stacks: {:.1} MB (idle {:.1} MB; created in {created:.1?}; target < 100 MB)",
        full as f64 / 1024.0,
        idle as f64 / 1024.0
    );
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
