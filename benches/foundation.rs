//! Foundation benchmarks: `cargo bench --bench foundation`.
//!
//! Prints figures; asserts nothing. Targets (issue [foundation]): validating the shipped
//! stack < 50 ms; rendering a 500-record PutRecords body < 5 ms.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_core::{LoadOptions, parse};
use personalize_stack_vtl::{Request, Template};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Runs `f` repeatedly for about `budget` and returns (median, p99, iterations).
fn measure(budget: Duration, mut f: impl FnMut()) -> (Duration, Duration, usize) {
    for _ in 0..3 {
        f();
    }
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget || samples.len() < 10 {
        let t = Instant::now();
        f();
        samples.push(t.elapsed());
    }
    samples.sort();
    let p = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (p(0.5), p(0.99), samples.len())
}

fn report(name: &str, target: &str, (median, p99, n): (Duration, Duration, usize)) {
    println!("{name:<48} median {median:>10.3?}  p99 {p99:>10.3?}  ({n} runs; target {target})");
}

fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let source = std::fs::read_to_string(format!("{root}/stack.yaml")).unwrap();
    let options = LoadOptions::default();
    report(
        "validate shipped stack.yaml (parse+check+lint)",
        "< 50 ms",
        measure(Duration::from_secs(2), || {
            black_box(parse("stack.yaml", black_box(&source), &options).unwrap());
        }),
    );

    // Process start to exit of `personalize-stack validate`, as a user sees it.
    let exe = format!("{root}/target/release/personalize-stack");
    if std::path::Path::new(&exe).exists() {
        report(
            "`personalize-stack validate` process, end to end",
            "< 50 ms",
            measure(Duration::from_secs(2), || {
                let out = std::process::Command::new(&exe)
                    .arg("validate")
                    .current_dir(root)
                    .output()
                    .unwrap();
                assert!(out.status.success());
            }),
        );
    }

    let stack = parse("stack.yaml", &source, &options).unwrap();
    let template = stack
        .resources
        .values()
        .find_map(|r| match &r.spec {
            personalize_stack_core::spec::ResourceSpec::RestApi(api) => api
                .routes
                .iter()
                .find(|r| r.path.ends_with("/records"))
                .and_then(|r| r.request_templates.get("application/json"))
                .map(|t| t.source.clone()),
            _ => None,
        })
        .unwrap();
    let template = Template::parse(&template).unwrap();
    let records: Vec<serde_json::Value> = (0..500)
        .map(|i| {
            let data = serde_json::json!({
                "userid": format!("{}", 146_456_223 + i % 50),
                "itemid": "zGRmEOdTo648OJoqhmazwKPuWpA=",
                "timestamp": format!("{}", 1_676_975_804 + i),
                "event_type": "click",
            });
            serde_json::json!({ "Data": data.to_string(), "PartitionKey": format!("{}", 146_456_223 + i % 50) })
        })
        .collect();
    let request = Request {
        body: serde_json::json!({ "Records": records }).to_string(),
        path_params: vec![("stream-name".into(), "PutEvent-datastream".into())],
        ..Request::default()
    };
    let rendered = template.render(&request).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&rendered).unwrap();
    assert_eq!(parsed["Records"].as_array().unwrap().len(), 500);
    report(
        "render PutRecords template, 500 records",
        "< 5 ms",
        measure(Duration::from_secs(2), || {
            black_box(template.render(black_box(&request)).unwrap());
        }),
    );
}
