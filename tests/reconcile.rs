//! `plan`, `up`, `destroy` and `outputs` as a user runs them, on the shipped `stack.yaml`,
//! against the local runtime (`--local`: embedded, or a `personalize-stack local` serving the
//! stack's data dir).
#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use support::{Server, Workdir, api_of, common, outputs, server_addr, text};

/// The JSON `plan --output json` prints.
fn plan_json(w: &Workdir) -> serde_json::Value {
    let out = w.run(&["plan", "--output", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn step<'a>(plan: &'a serde_json::Value, logical: &str) -> &'a serde_json::Value {
    plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["logical"] == logical)
        .unwrap()
}

fn changed_fields(step: &serde_json::Value) -> Vec<String> {
    step["changes"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|c| c["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn up_converges_from_nothing_and_a_second_plan_only_reads() {
    let w = Workdir::new("converge");
    // As on a fresh machine: in the stack's directory, `-f stack.yaml` relative, so the
    // function's code is unpacked under a relative data dir.
    let out = w.run_here(&["up", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("api.url"),
        "outputs name the invoke URL:\n{stdout}"
    );
    assert!(stdout.contains("tracker.tracking_id"), "{stdout}");
    assert!(stdout.contains("hidden"), "the API key is masked:\n{stdout}");
    assert!(
        stdout.contains("All hops passed."),
        "up ends with the injection test:\n{stdout}"
    );
    // Off a terminal the function's build is one line when it starts and one when it ends,
    // and the plan gives the bundle's size.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lambda = Path::new(env!("CARGO_MANIFEST_DIR")).join("lambda");
    let building = format!(
        "Building {} (cargo build --profile release-lambda) ...",
        lambda.display()
    );
    assert!(stderr.contains(&building), "{stderr}");
    let built = stderr
        .lines()
        .find(|l| l.starts_with(&format!("Built {}", lambda.display())))
        .unwrap_or_else(|| panic!("no `Built` line in:\n{stderr}"));
    let bundle = &built[built.find("bundle: ").unwrap()..];
    assert!(
        stderr.contains(&format!(
            "+ create lambda_function forwarder (PutEvent-Function)\n      {bundle}\n"
        )),
        "the plan shows `{bundle}`:\n{stderr}"
    );
    // The embedded runtime stops with `up`: its URLs would not answer afterwards.
    assert!(
        stderr.contains("note: the URLs above are served by the local runtime this command started"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: keep one serving with `personalize-stack local` in another terminal"),
        "{stderr}"
    );

    let again = w.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let plan = plan_json(&w);
    assert_eq!(plan["changes"], false, "{plan:#}");
    let calls: Vec<String> = plan["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().trim_start_matches("apigateway:").to_owned())
        .collect();
    assert!(
        calls
            .iter()
            .all(|c| c.starts_with("Get") || c.starts_with("Describe") || c.starts_with("List")),
        "plan made only read calls: {calls:?}"
    );
    eprintln!("no-op plan: {} AWS calls", calls.len());

    let outputs: serde_json::Value =
        serde_json::from_str(&w.ok(&["outputs", "--output", "json", "--show-secrets"])).unwrap();
    assert!(outputs["api.url"].as_str().unwrap().contains("/_user_request_"));
    assert!(!outputs["api.api_key"].as_str().unwrap().contains("hidden"));

    w.ok(&["destroy", "--yes"]);
}

#[test]
fn plan_refuses_nothing_but_up_without_yes_and_without_a_terminal_refuses() {
    let w = Workdir::new("confirm");
    let out = w.run(&["up"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--yes"),
        "{}",
        text(&out)
    );
    let plan = w.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "changes pending: {}", text(&plan));
}

#[test]
fn template_batch_size_and_tracker_changes_are_planned_and_applied() {
    let w = Workdir::new("changes");
    w.ok(&["up", "--yes"]);

    // The PutRecords template: the route changes and a new deployment is planned.
    w.edit(
        "\"PartitionKey\": \"$record.PartitionKey\"",
        "\"PartitionKey\": \"$record.PartitionKey\", \"ExplicitHashKey\": \"1\"",
    );
    let plan = plan_json(&w);
    let api = step(&plan, "api");
    assert_eq!(api["action"], "update", "{plan:#}");
    let fields = changed_fields(api);
    assert!(fields.iter().any(|f| f.contains("/records")), "{fields:?}");
    assert!(
        fields.iter().any(|f| f == "deployment"),
        "a new deployment: {fields:?}"
    );
    w.ok(&["up", "--yes"]);
    assert_eq!(plan_json(&w)["changes"], false);

    // The batch size: the mapping is updated in place.
    w.edit("batch_size: 100", "batch_size: 200");
    let plan = plan_json(&w);
    let forwarder = step(&plan, "forwarder");
    assert_eq!(forwarder["action"], "update", "{plan:#}");
    let change = forwarder["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "trigger.batch_size")
        .unwrap();
    assert_eq!(
        (change["old"].as_str(), change["new"].as_str()),
        (Some("100"), Some("200"))
    );
    w.ok(&["up", "--yes"]);
    assert_eq!(plan_json(&w)["changes"], false);

    // Renaming the tracker replaces it, and the function's TRACKING_ID follows.
    let before: serde_json::Value = serde_json::from_str(&w.ok(&["outputs", "--output", "json"])).unwrap();
    w.edit("name: ${stack}-event-tracker", "name: ${stack}-tracker-2");
    let plan = plan_json(&w);
    assert_eq!(step(&plan, "tracker")["action"], "replace", "{plan:#}");
    w.ok(&["up", "--yes"]);
    assert_eq!(
        plan_json(&w)["changes"],
        false,
        "the function follows the new tracking id"
    );
    let after: serde_json::Value = serde_json::from_str(&w.ok(&["outputs", "--output", "json"])).unwrap();
    assert_ne!(before["tracker.tracking_id"], after["tracker.tracking_id"]);

    w.ok(&["destroy", "--yes"]);
}

/// Every resource listed, as `service/kind/id`.
fn resource_ids(listing: &serde_json::Value) -> Vec<String> {
    listing["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}/{}/{}",
                r["service"].as_str().unwrap(),
                r["kind"].as_str().unwrap(),
                r["id"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_foreign_stream_of_the_same_name_stops_up_and_survives_destroy() {
    let w = Workdir::prebuilt("foreign");
    let server = Server::start(&w, &[]);
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(&server.endpoint)
        .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
            aws_sdk_sts::config::Credentials::new("000000000000", "s", None, None, "test"),
        ))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    let kinesis = aws_sdk_kinesis::Client::new(&sdk);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime
        .block_on(
            kinesis
                .create_stream()
                .stream_name("PutEvent-datastream")
                .shard_count(1)
                .send(),
        )
        .unwrap();

    let out = w.run(&["up", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("PutEvent-datastream"),
        "the error names it:\n{stderr}"
    );
    assert!(stderr.contains("nothing was changed"), "{stderr}");

    let destroyed = w.run(&["destroy", "--yes"]);
    assert!(
        String::from_utf8_lossy(&destroyed.stderr).contains("not this stack's"),
        "{}",
        text(&destroyed)
    );
    let summary = runtime
        .block_on(
            kinesis
                .describe_stream_summary()
                .stream_name("PutEvent-datastream")
                .send(),
        )
        .unwrap();
    assert_eq!(
        summary.stream_description_summary().unwrap().stream_name(),
        "PutEvent-datastream",
        "the foreign stream is untouched"
    );
}

#[test]
fn up_converges_under_throttling_and_slow_iam_propagation() {
    let w = Workdir::prebuilt("faults");
    let server = Server::start(&w, &["--throttle", "0.2", "--iam-propagation-ms", "10000"]);
    let out = w.run(&["up", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    // The long waits for IAM say so as they happen.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("retrying ") && l.contains(", for up to ") && l.contains(" after ")),
        "{stderr}"
    );
    drop(server);
    // Without faults, nothing is left to change.
    let plan = w.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    w.ok(&["destroy", "--yes"]);
}

/// What exists, as sorted `service/kind` (ids differ between runs; counts must not).
fn inventory(w: &Workdir) -> Vec<String> {
    let server = Server::start(w, &[]);
    let mut kinds: Vec<String> = server.resources()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}/{}",
                r["service"].as_str().unwrap(),
                r["kind"].as_str().unwrap()
            )
        })
        .collect();
    kinds.sort();
    kinds
}

#[test]
fn up_killed_at_twenty_points_always_converges_without_duplicates() {
    let w = Workdir::prebuilt("kill");
    // How many calls a full `up` makes, to spread the kill points over it, and what a full
    // stack consists of.
    let full = w.run(&["up", "--yes", "--no-test", "-v"]);
    assert!(full.status.success(), "{}", text(&full));
    let total: u64 = String::from_utf8_lossy(&full.stderr)
        .lines()
        .find_map(|l| l.strip_suffix(" AWS calls").and_then(|n| n.trim().parse().ok()))
        .unwrap();
    let complete = inventory(&w);
    w.ok(&["destroy", "--yes"]);
    // A run's call count varies with its readiness polls: spread the points over the first
    // two thirds, which every run reaches.
    let span = (total * 2 / 3).max(21);
    let points: Vec<u64> = (1..=20).map(|i| 1 + (span - 1) * i / 21).collect();
    for n in points {
        let killed = w.run_env(
            &["up", "--yes", "--no-test"],
            &[("PERSONALIZE_STACK_ABORT_AFTER_CALLS", &n.to_string())],
        );
        assert!(!killed.status.success(), "aborted at call {n}: {}", text(&killed));
        let again = w.run(&["up", "--yes", "--no-test"]);
        assert!(
            again.status.success(),
            "re-run after a kill at call {n}: {}",
            text(&again)
        );
        let plan = w.run(&["plan", "--detailed-exitcode"]);
        assert_eq!(
            plan.status.code(),
            Some(0),
            "converged after a kill at call {n}: {}",
            text(&plan)
        );
        assert_eq!(
            inventory(&w),
            complete,
            "after a kill at call {n}: the same resources, none twice"
        );
        w.ok(&["destroy", "--yes"]);
    }
    assert!(inventory(&w).is_empty(), "destroy after every kill left nothing");
}

#[test]
fn destroy_after_a_half_finished_up_leaves_nothing() {
    let w = Workdir::prebuilt("half");
    let killed = w.run_env(&["up", "--yes"], &[("PERSONALIZE_STACK_ABORT_AFTER_CALLS", "25")]);
    assert!(!killed.status.success(), "{}", text(&killed));
    w.ok(&["destroy", "--yes"]);
    let server = Server::start(&w, &[]);
    let left = resource_ids(&server.resources());
    assert!(left.is_empty(), "left: {left:#?}");
}

#[test]
fn the_first_ctrl_c_finishes_steps_in_flight_and_a_rerun_converges() {
    use std::io::BufRead as _;
    let w = Workdir::prebuilt("ctrlc");
    // Slow enough readiness that the interrupt lands mid-run.
    let _server = Server::start(&w, &["--latency", "realistic", "--time-scale", "0.05"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_personalize-stack"))
        .arg("-f")
        .arg(w.stack_file())
        .args(["--local", "up", "--yes"])
        .env("PERSONALIZE_STACK_POLL_INTERVAL_MS", "20")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "up ended before starting: {seen}"
        );
        seen.push_str(&line);
        if line.contains("tracker: creating") || line.contains("dataset_group: creating") {
            break;
        }
    }
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    seen.push_str(&rest);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{seen}");
    assert!(seen.contains("Interrupted"), "{seen}");
    assert!(seen.contains("(interrupted)"), "{seen}");
    assert!(
        !seen.contains("not started: none"),
        "the report names what did not start:\n{seen}"
    );
    w.ok(&["up", "--yes"]);
    let plan = w.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
}

/// Waits (polling, bounded) until `n` events are stored for `tracking_id` and every poller
/// is idle (so duplicates, if any, have arrived too); all of them.
fn events_when(server: &Server, tracking_id: &str, n: usize) -> Vec<serde_json::Value> {
    let addr = server_addr(server);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !(common::workshop::stored_event_count(addr, tracking_id) >= n
        && common::workshop::pollers_idle(addr))
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    common::workshop::stored_events(addr, tracking_id)
}

/// The forwarder's log lines with `"msg":"<msg>"`.
fn forwarder_log_lines(server: &Server, msg: &str) -> usize {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The runtime may be throttling: let the SDK retry.
    let logs = aws_sdk_cloudwatchlogs::Client::from_conf(
        aws_sdk_cloudwatchlogs::config::Builder::from(&common::sdk_at(&server.endpoint, "000000000000"))
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(20))
            .build(),
    );
    runtime.block_on(async {
        let mut count = 0;
        let mut token = None;
        loop {
            let out = logs
                .filter_log_events()
                .log_group_name("/aws/lambda/PutEvent-Function")
                .set_next_token(token)
                .send()
                .await
                .unwrap();
            count += out
                .events()
                .iter()
                .filter(|e| {
                    e.message()
                        .unwrap_or_default()
                        .contains(&format!("\"msg\":\"{msg}\""))
                })
                .count();
            token = out.next_token().map(str::to_owned);
            if token.is_none() {
                break count;
            }
        }
    })
}

/// Deploys the shipped stack (its forwarder built from `lambda/` by `up`) with `up --local`
/// into a serving runtime (`extra` flags).
fn deployed(name: &str, extra: &[&str]) -> (Workdir, Server, serde_json::Value) {
    let w = Workdir::new(name);
    let mut flags = vec!["--poll-interval-ms", "100"];
    flags.extend_from_slice(extra);
    let server = Server::start(&w, &flags);
    // Without the injection test: these tests count every event the tracker stores.
    let out = w.run(&["up", "--yes", "--no-test"]);
    assert!(out.status.success(), "{}", text(&out));
    let o = outputs(&w);
    (w, server, o)
}

#[test]
fn the_seeds_seven_records_put_through_the_deployed_api_are_stored_exactly_once() {
    let (w, server, o) = deployed("seven", &[]);
    let (api, key) = api_of(&o);
    let tracking_id = o["tracker.tracking_id"].as_str().unwrap().to_owned();
    let stack = personalize_stack_core::parse(
        "stack.yaml",
        &std::fs::read_to_string(w.stack_file()).unwrap(),
        &personalize_stack_core::LoadOptions::default(),
    )
    .unwrap();
    let test = stack.test.unwrap();
    let (status, body) =
        common::workshop::put_records(server_addr(&server), &api, Some(&key), &test.request_body());
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"FailedRecordCount\":0"), "{body}");
    let events = events_when(&server, &tracking_id, 7);
    assert_eq!(events.len(), 7, "exactly once each: {events:#?}");
    for (event, record) in events.iter().zip(&test.records) {
        assert_eq!(event["userId"], record["userid"]);
        assert_eq!(event["event"]["itemId"], record["itemid"]);
        assert_eq!(event["event"]["eventType"], record["event_type"]);
        let ts: f64 = record["timestamp"].as_str().unwrap().parse().unwrap();
        assert_eq!(event["event"]["sentAt"].as_f64(), Some(ts));
    }
}

/// 1,000 records from 50 users, 10 of them malformed; their Kinesis bodies.
fn thousand_with_ten_malformed() -> Vec<String> {
    let records: Vec<serde_json::Value> = (0..1000)
        .map(|i| {
            let user = format!("user-{}", i % 50);
            let data = match i {
                // Five records that are not JSON, five without an item: ten in all.
                i if i % 100 == 7 && i < 500 => "not json {".to_owned(),
                i if i % 100 == 57 && i >= 500 => serde_json::json!({ "userid": user, "event_type": "click", "timestamp": 1_676_975_804 }).to_string(),
                _ => serde_json::json!({
                    "userid": user, "itemid": format!("item-{i}"), "timestamp": 1_676_975_804 + i, "event_type": "click"
                })
                .to_string(),
            };
            serde_json::json!({ "Data": data, "PartitionKey": user })
        })
        .collect();
    records
        .chunks(500)
        .map(|c| serde_json::json!({ "Records": c }).to_string())
        .collect()
}

fn thousand_records_flow(name: &str, extra: &[&str]) {
    let (_w, server, o) = deployed(name, extra);
    let (api, key) = api_of(&o);
    let tracking_id = o["tracker.tracking_id"].as_str().unwrap().to_owned();
    for body in thousand_with_ten_malformed() {
        let (status, response) = common::workshop::put_records(server_addr(&server), &api, Some(&key), &body);
        assert_eq!(status, 200, "{response}");
        assert!(response.contains("\"FailedRecordCount\":0"), "{response}");
    }
    let events = events_when(&server, &tracking_id, 990);
    let distinct: std::collections::BTreeSet<String> = events
        .iter()
        .map(|e| e["event"]["itemId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(events.len(), 990, "990 stored");
    assert_eq!(distinct.len(), 990, "none duplicated");
    assert_eq!(forwarder_log_lines(&server, "skipped"), 10, "10 reported skipped");
}

#[test]
fn a_thousand_records_with_ten_malformed_store_990_once_and_report_10() {
    thousand_records_flow("thousand", &[]);
}

#[test]
fn the_same_with_thirty_percent_of_calls_throttled() {
    thousand_records_flow("throttled", &["--throttle", "0.3"]);
}
