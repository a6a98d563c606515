//! The reconciler on the local runtime: `cargo bench -p personalize-stack-aws --bench reconcile`.
//! Prints figures; asserts nothing.
//!
//! - `up` of the shipped stack from nothing under the `realistic` profile scaled 1/10, as a
//!   ratio to the critical path of its readiness delays (target ≤ 1.15): how much the engine
//!   adds to the waits AWS imposes;
//! - a no-op `plan`: wall time (target < 300 ms) and number of AWS calls;
//! - the injection test on the deployed stack with test-speed polling (mapping polls every
//!   50 ms, the test every 100 ms): wall time of a passing run (target < 5 s) and per hop.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support::provider as common;

use personalize_stack_core::Stack;
use personalize_stack_core::engine;
use personalize_stack_core::spec::kinds::ResourceSpec;
use personalize_stack_local::{Faults, Profile};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The shipped stack, its `crate: lambda` made absolute.
fn shipped_stack() -> Arc<Stack> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("stack.yaml")).unwrap().replace(
        "code: { crate: lambda }",
        &format!("code: {{ crate: \"{}\" }}", root.join("lambda").display()),
    );
    common::stack(&text)
}

/// The readiness delays each resource's creation waits for under `profile`.
fn own_delay(spec: &ResourceSpec, profile: &Profile) -> f64 {
    let ms = match spec {
        ResourceSpec::DatasetGroup(_) => profile.dataset_group_ready_ms + profile.dataset_ready_ms,
        ResourceSpec::KinesisStream(_) => profile.stream_ready_ms,
        ResourceSpec::EventTracker(_) => profile.tracker_ready_ms,
        ResourceSpec::LambdaFunction(f) => {
            profile.function_ready_ms
                + if f.trigger.is_some() {
                    profile.mapping_ready_ms
                } else {
                    0
                }
        }
        _ => 0,
    };
    ms as f64 * profile.time_scale / 1000.0
}

/// The longest chain of readiness delays through the dependency graph, in seconds.
fn critical_path(stack: &Stack, profile: &Profile) -> f64 {
    let mut finish: BTreeMap<String, f64> = BTreeMap::new();
    for logical in stack.graph.order() {
        let r = &stack.resources[logical];
        let start = r.depends_on.iter().map(|d| finish[d]).fold(0.0, f64::max);
        finish.insert(logical.to_owned(), start + own_delay(&r.spec, profile));
    }
    finish.values().copied().fold(0.0, f64::max)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut profile = Profile::realistic();
    profile.time_scale = 0.1;
    let running = common::start_with(profile.clone(), Faults::default()).await;
    let stack = shipped_stack();
    let mut settings = common::settings();
    settings.poll_interval = Duration::from_millis(100);
    let aws = common::provider_with(&running, &stack, settings).await;
    // Build the function's package outside the measurement (a plan computes desired state).
    engine::plan(&aws, &stack).await.unwrap();

    let started = Instant::now();
    common::up(&aws, &stack).await;
    let wall = started.elapsed().as_secs_f64();
    let critical = critical_path(&stack, &profile);
    println!(
        "up from nothing, realistic profile x0.1: {wall:.2} s; critical path of readiness delays {critical:.2} s; ratio {:.3} (target <= 1.15)",
        wall / critical
    );

    let calls_before = aws.calls().len();
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let plan = engine::plan(&aws, &stack).await.unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(!plan.has_changes(), "{plan}");
    }
    times.sort_by(f64::total_cmp);
    let calls = (aws.calls().len() - calls_before) / 5;
    println!(
        "no-op plan: median {:.1} ms (min {:.1}, max {:.1}; target < 300 ms), {calls} AWS calls, all reads",
        times[2], times[0], times[4]
    );

    let attrs: BTreeMap<String, engine::Attrs> = engine::inventory(&aws, &stack)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|(k, o)| o.map(|o| (k, o.attrs)))
        .collect();
    let options = personalize_stack_aws::injection::Options::default();
    let mut runs = Vec::new();
    let mut hops: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    for _ in 0..7 {
        let t = Instant::now();
        let report = personalize_stack_aws::injection::run(
            &aws,
            &stack,
            &attrs,
            &options,
            &personalize_stack_aws::injection::Silent,
        )
        .await
        .unwrap();
        runs.push(t.elapsed().as_secs_f64());
        assert!(report.passed, "{report:#?}");
        for h in &report.hops {
            hops.entry(h.hop.as_str())
                .or_default()
                .push(h.elapsed.as_secs_f64() * 1000.0);
        }
    }
    runs.sort_by(f64::total_cmp);
    let per_hop: Vec<String> = hops
        .iter_mut()
        .map(|(name, t)| {
            t.sort_by(f64::total_cmp);
            format!("{name} {:.0} ms", t[t.len() / 2])
        })
        .collect();
    println!(
        "injection test (7 records, passing): median {:.2} s, max {:.2} s (target < 5 s); median per hop: {}",
        runs[runs.len() / 2],
        runs[runs.len() - 1],
        per_hop.join(", ")
    );
}
