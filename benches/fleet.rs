//! Fleet benchmark: `cargo bench --bench fleet`. Prints figures; asserts nothing.
//!
//! Wall time of `up --fleet` (reconcile and injection test in every account) for 1, 10 and 50
//! attendees, all at once (`concurrency` = attendees), against a `personalize-stack local`
//! with the `realistic` readiness profile scaled by 0.1 (tracker ≈ 6 s, stream ≈ 3 s,
//! mapping ≈ 1 s). Target: 50 attendees take at most twice the time of 1.
#![allow(clippy::unwrap_used, missing_docs, dead_code)]

use personalize_stack_test_support::cli as support;

use std::time::Instant;
use support::{Server, Workdir, text};

fn fleet_up(n: usize) -> f64 {
    let w = Workdir::prebuilt(&format!("bench-fleet-{n}"));
    let _server = Server::start(
        &w,
        &[
            "--latency",
            "realistic",
            "--time-scale",
            "0.1",
            "--poll-interval-ms",
            "100",
        ],
    );
    let mut fleet = format!("name: bench\nconcurrency: {n}\nattendees:\n");
    for i in 1..=n {
        fleet.push_str(&format!(
            "  - {{ name: a{i:02}, account: \"{:012}\" }}\n",
            200_000_000_000_u64 + i as u64
        ));
    }
    let path = w.dir.join("fleet.yaml");
    std::fs::write(&path, fleet).unwrap();
    let started = Instant::now();
    let out = w.run_env(
        &["--fleet", path.to_str().unwrap(), "up", "--yes", "--quiet"],
        &[("PERSONALIZE_STACK_POLL_INTERVAL_MS", "100")],
    );
    let seconds = started.elapsed().as_secs_f64();
    assert!(out.status.success(), "{}", text(&out));
    seconds
}

fn main() {
    // Build the forwarder once before timing anything.
    let _ = support::forwarder_zip();
    let one = fleet_up(1);
    println!("fleet up, 1 attendee:   {one:6.1} s");
    let ten = fleet_up(10);
    println!("fleet up, 10 attendees: {ten:6.1} s ({:.2}x of 1)", ten / one);
    let fifty = fleet_up(50);
    println!(
        "fleet up, 50 attendees: {fifty:6.1} s ({:.2}x of 1; target <= 2x)",
        fifty / one
    );
}
