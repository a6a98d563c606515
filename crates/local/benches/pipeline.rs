//! The pipeline end to end on the local runtime: `cargo bench -p personalize-stack-local
//! --bench pipeline`. Prints figures; asserts nothing.
//!
//! - sustained throughput from API PUT (500-record batches) to events stored by PutEvents
//!   (the drain rate of 100,000 events, and the overall rate including the first poll),
//!   4-shard stream, the workshop's trigger (batch size 100) and the real forwarder
//!   (target ≥ 20,000 events/s on this 2-core machine);
//! - end-to-end latency (API PUT → event stored) at 1,000 events/s with AWS's default 1 s
//!   poll interval (target p99 < 1.5 s).
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support as common;

use common::workshop;
use personalize_stack_local::{Config, Profile};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A 500-record PutRecords body from 50 users; item ids carry `tag` to find the batch again.
fn batch(tag: &str) -> String {
    let records: Vec<serde_json::Value> = (0..500)
        .map(|i| {
            let user = format!("user-{}", i % 50);
            let data = serde_json::json!({
                "userid": user, "itemid": format!("{tag}-{i}"), "timestamp": 1_676_975_804 + i, "event_type": "click"
            });
            serde_json::json!({ "Data": data.to_string(), "PartitionKey": user })
        })
        .collect();
    serde_json::json!({ "Records": records }).to_string()
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

async fn all_events(addr: std::net::SocketAddr, tracking_id: &str) -> Vec<serde_json::Value> {
    let tracking_id = tracking_id.to_owned();
    tokio::task::spawn_blocking(move || workshop::stored_events(addr, &tracking_id))
        .await
        .unwrap()
}

/// Cheap to poll often: the runtime counts without sending the events.
async fn count_events(addr: std::net::SocketAddr, tracking_id: &str) -> usize {
    let tracking_id = tracking_id.to_owned();
    tokio::task::spawn_blocking(move || workshop::stored_event_count(addr, &tracking_id))
        .await
        .unwrap()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let zip = tokio::task::spawn_blocking(workshop::forwarder_zip)
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("personalize-stack-pipeline-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let local = personalize_stack_local::start(Config {
        port: 0,
        data_dir: Some(dir.clone()),
        profile: Profile::instant(),
        poll_interval_ms: 1000,
        ..Config::default()
    })
    .await
    .unwrap();
    let deployed = workshop::deploy(&local.endpoint_url(), 4, zip).await;
    let addr = local.addr();

    // 1. Throughput. A warm-up PUT first, so the forwarder's instances are running; then
    //    200 PUTs of 500 (100,000 events) from 4 clients. "Sustained" is the drain rate between
    //    the moments 10 % and 90 % of the events were stored (by their `receivedAt`), which
    //    leaves out the one-off wait for the pollers' next 1 s poll at the start; the overall
    //    figure (first PUT to last event stored) keeps it in.
    let (api, key) = (deployed.api_id.clone(), deployed.key.clone());
    let warm_up = batch("w");
    tokio::task::spawn_blocking(move || workshop::put_records(addr, &api, Some(&key), &warm_up))
        .await
        .unwrap();
    while count_events(addr, &deployed.tracking_id).await < 500 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let already = 500;
    let total = 100_000;
    let batches: Vec<String> = (0..total / 500).map(|b| batch(&format!("t{b}"))).collect();
    let start = Instant::now();
    let started_at = now_secs();
    let mut clients = Vec::new();
    for chunk in batches.chunks(batches.len() / 4) {
        let chunk = chunk.to_vec();
        let (api, key) = (deployed.api_id.clone(), deployed.key.clone());
        clients.push(tokio::task::spawn_blocking(move || {
            for body in chunk {
                let (status, response) = workshop::put_records(addr, &api, Some(&key), &body);
                assert_eq!(status, 200, "{response}");
            }
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    let accepted = start.elapsed();
    while count_events(addr, &deployed.tracking_id).await < already + total
        && start.elapsed() < Duration::from_secs(600)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut received: Vec<f64> = all_events(addr, &deployed.tracking_id)
        .await
        .iter()
        .filter(|e| e["event"]["itemId"].as_str().is_some_and(|i| i.starts_with('t')))
        .filter_map(|e| e["receivedAt"].as_f64())
        .collect();
    received.sort_by(f64::total_cmp);
    if received.len() < 10 {
        println!("throughput: only {} events arrived", received.len());
    } else {
        let at = |q: f64| received[((received.len() - 1) as f64 * q) as usize];
        let (t10, t90) = (at(0.1), at(0.9));
        let overall = received[received.len() - 1] - started_at;
        println!(
            "throughput, API PUT -> stored events (4 shards, 500-record PUTs, batch size 100): sustained {:.0} events/s (10 %->90 % of {} events in {:.2} s); overall {:.0} events/s (first PUT -> last stored {:.2} s, including the first 1 s poll); API accepted all in {accepted:.2?} = {:.0} events/s; target >= 20000/s",
            0.8 * received.len() as f64 / (t90 - t10).max(0.001),
            received.len(),
            t90 - t10,
            received.len() as f64 / overall.max(0.001),
            overall,
            total as f64 / accepted.as_secs_f64()
        );
    }

    // 2. Latency at 1,000 events/s: two 500-record PUTs per second for 10 s.
    let already = count_events(addr, &deployed.tracking_id).await;
    let mut sent_at = std::collections::HashMap::new();
    let tick = Instant::now();
    for b in 0..20 {
        let target = Duration::from_millis(500 * b);
        if let Some(wait) = target.checked_sub(tick.elapsed()) {
            tokio::time::sleep(wait).await;
        }
        let tag = format!("l{b}");
        let body = batch(&tag);
        sent_at.insert(tag, now_secs());
        let (api, key) = (deployed.api_id.clone(), deployed.key.clone());
        tokio::task::spawn_blocking(move || workshop::put_records(addr, &api, Some(&key), &body))
            .await
            .unwrap();
    }
    let expected = already + 20 * 500;
    while count_events(addr, &deployed.tracking_id).await < expected
        && tick.elapsed() < Duration::from_secs(120)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events = all_events(addr, &deployed.tracking_id).await;
    let mut latencies: Vec<f64> = events
        .iter()
        .filter_map(|e| {
            let text = e.to_string();
            let tag = sent_at.keys().find(|t| text.contains(&format!("\"{t}-")))?;
            Some(e["receivedAt"].as_f64()? - sent_at[tag])
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    if latencies.is_empty() {
        println!("latency: no events arrived");
    } else {
        let p = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
        println!(
            "latency at 1,000 events/s, 1 s poll: p50 {:.3} s, p99 {:.3} s over {} events (target p99 < 1.5 s)",
            p(0.5),
            p(0.99),
            latencies.len()
        );
    }
    local.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
