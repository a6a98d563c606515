//! The injection test (`personalize-stack test`, and the last step of `up`) on the shipped
//! stack deployed into a local runtime: healthy, then with one hop broken on purpose at a
//! time through the SDK, as a console click would. Each failure must name its hop and cause
//! and end long before the timeout; `up` then repairs the drift and the test passes again.
#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use serde_json::Value;
use std::process::Output;
use std::time::{Duration, Instant};
use support::{Server, Workdir, common, outputs, text};

/// The stack's default timeout: a failure that is certain must not wait for it.
const TIMEOUT_S: u64 = 120;

/// A deployed stack, its runtime and SDK clients to break it with.
struct Deployed {
    w: Workdir,
    server: Server,
    rt: tokio::runtime::Runtime,
}

impl Deployed {
    fn new(name: &str) -> Deployed {
        let w = Workdir::prebuilt(name);
        let server = Server::start(&w, &["--poll-interval-ms", "50"]);
        let d = Deployed {
            w,
            server,
            rt: tokio::runtime::Runtime::new().unwrap(),
        };
        d.up_passes();
        d
    }

    /// `up --yes` succeeds and ends with every hop passed.
    fn up_passes(&self) {
        let out = self.w.run(&["up", "--yes"]);
        assert!(out.status.success(), "{}", text(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("All hops passed."), "{}", text(&out));
    }

    fn sdk(&self) -> aws_config::SdkConfig {
        common::sdk_at(&self.server.endpoint, "000000000000")
    }

    /// `test --output json` with `extra` flags: the exit, the report, the time taken.
    fn test(&self, extra: &[&str]) -> (Output, Value, Duration) {
        let mut args = vec!["test", "--output", "json"];
        args.extend_from_slice(extra);
        let started = Instant::now();
        let out = self.w.run(&args);
        let took = started.elapsed();
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not a JSON report ({e}): {}", text(&out)));
        (out, report, took)
    }

    /// `test` fails at `hop`, before the timeout; returns the hop's cause and evidence.
    fn fails_at(&self, hop: &str, extra: &[&str]) -> (String, String) {
        let (out, report, took) = self.test(extra);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert_eq!(report["passed"], false, "{report:#}");
        assert_eq!(report["failed_hop"], hop, "{report:#}");
        let failed = hop_of(&report, hop);
        assert_eq!(failed["status"], "failed");
        // Every hop after the broken one is reported as not run.
        let hops = report["hops"].as_array().unwrap();
        let at = hops.iter().position(|h| h["hop"] == hop).unwrap();
        assert!(
            hops[at + 1..].iter().all(|h| h["status"] == "not_run"),
            "{report:#}"
        );
        assert!(
            took < Duration::from_secs(TIMEOUT_S / 2),
            "a certain cause stops the run long before the {TIMEOUT_S} s timeout: {took:?}"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("failed at the {hop} hop")), "{stderr}");
        let evidence = failed["evidence"]
            .as_array()
            .map(|e| {
                e.iter()
                    .map(|l| l.as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default();
        (failed["cause"].as_str().unwrap_or_default().to_owned(), evidence)
    }
}

fn hop_of<'a>(report: &'a Value, hop: &str) -> &'a Value {
    report["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["hop"] == hop)
        .unwrap_or_else(|| panic!("no hop {hop}: {report:#}"))
}

#[test]
fn a_healthy_stack_passes_every_hop_and_the_report_has_their_timings() {
    let d = Deployed::new("healthy");
    let (out, report, took) = d.test(&[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(report["passed"], true, "{report:#}");
    assert_eq!(report["records"], 7);
    let marker = report["marker"].as_str().unwrap();
    assert!(marker.starts_with("pst-"), "{marker}");
    let names: Vec<&str> = report["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            assert_eq!(h["status"], "passed", "{h:#}");
            assert!(h["seconds"].as_f64().unwrap() >= 0.0);
            h["hop"].as_str().unwrap()
        })
        .collect();
    assert_eq!(names, ["api", "stream", "trigger", "forwarder", "personalize"]);
    let personalize = hop_of(&report, "personalize")["detail"].as_str().unwrap();
    assert!(personalize.contains("7 of 7 events stored"), "{personalize}");
    eprintln!("healthy injection test: {took:?} for the whole command");

    // A second run is told apart from the first by its marker: it finds its own seven.
    let (out, again, _) = d.test(&[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_ne!(again["marker"], report["marker"]);
    let tracking_id = outputs(&d.w)["tracker.tracking_id"].as_str().unwrap().to_owned();
    let stored = common::workshop::stored_events(support::server_addr(&d.server), &tracking_id);
    for m in [
        report["marker"].as_str().unwrap(),
        again["marker"].as_str().unwrap(),
    ] {
        let ours = stored
            .iter()
            .filter(|e| {
                e["event"]["eventId"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{m}-"))
            })
            .count();
        assert_eq!(ours, 7, "run {m} stored its seven events once");
    }

    // The table, for people.
    let table = d.w.ok(&["test"]);
    assert!(table.contains("HOP"), "{table}");
    assert!(table.contains("All hops passed."), "{table}");
}

#[test]
fn a_wrong_or_missing_api_key_fails_at_the_api_hop_naming_the_key() {
    let d = Deployed::new("key");

    let (cause, evidence) = d.fails_at("api", &["--api-key", "not-the-stacks-key"]);
    assert!(cause.contains("--api-key"), "{cause}");
    assert!(
        cause.contains("not-…") || cause.contains("key not-"),
        "names the key sent: {cause}"
    );
    assert!(evidence.contains("403"), "{evidence}");

    // The stack's key taken out of its usage plan, as a console click would.
    let o = outputs(&d.w);
    let api_id = o["api.id"].as_str().unwrap().to_owned();
    let apigw = aws_sdk_apigateway::Client::new(&d.sdk());
    d.rt.block_on(async {
        let plans = apigw.get_usage_plans().send().await.unwrap();
        for plan in plans.items() {
            if !plan
                .api_stages()
                .iter()
                .any(|s| s.api_id() == Some(api_id.as_str()))
            {
                continue;
            }
            let plan_id = plan.id().unwrap();
            let keys = apigw
                .get_usage_plan_keys()
                .usage_plan_id(plan_id)
                .send()
                .await
                .unwrap();
            for key in keys.items() {
                apigw
                    .delete_usage_plan_key()
                    .usage_plan_id(plan_id)
                    .key_id(key.id().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    });
    let (cause, _) = d.fails_at("api", &[]);
    assert!(
        cause.contains("is not in a usage plan of stage `prod`"),
        "{cause}"
    );
    assert!(cause.contains("API key `"), "names the key: {cause}");

    d.up_passes();
}

#[test]
fn the_workshops_comma_less_template_fails_at_the_api_hop_showing_the_rendered_body() {
    let d = Deployed::new("template");
    let comma_less = r#"{
    "StreamName": "$input.params('stream-name')",
    "Records": [
        #foreach($record in $input.path('$.Records'))
        {
            "Data": "$util.base64Encode($record.Data)",
            "PartitionKey": "$record.PartitionKey"
        }
        #end
    ]
}"#;
    let api_id = outputs(&d.w)["api.id"].as_str().unwrap().to_owned();
    let apigw = aws_sdk_apigateway::Client::new(&d.sdk());
    d.rt.block_on(async {
        let resources = apigw.get_resources().rest_api_id(&api_id).send().await.unwrap();
        let records = resources
            .items()
            .iter()
            .find(|r| r.path() == Some("/streams/{stream-name}/records"))
            .unwrap();
        apigw
            .update_integration()
            .rest_api_id(&api_id)
            .resource_id(records.id().unwrap())
            .http_method("PUT")
            .patch_operations(
                aws_sdk_apigateway::types::PatchOperation::builder()
                    .op(aws_sdk_apigateway::types::Op::Replace)
                    .path("/requestTemplates/application~1json")
                    .value(comma_less)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        apigw
            .create_deployment()
            .rest_api_id(&api_id)
            .stage_name("prod")
            .send()
            .await
            .unwrap();
    });
    let (cause, evidence) = d.fails_at("api", &[]);
    assert!(
        cause.contains("request template of `PUT /streams/{stream-name}/records`"),
        "names the template: {cause}"
    );
    assert!(cause.contains("not valid JSON"), "{cause}");
    assert!(
        evidence.contains("rendered body"),
        "shows the rendered body: {evidence}"
    );
    assert!(evidence.contains("}"), "{evidence}");

    d.up_passes();
}

#[test]
fn an_integration_role_without_put_records_fails_at_the_api_hop_naming_the_permission() {
    let d = Deployed::new("role");
    let iam = aws_sdk_iam::Client::new(&d.sdk());
    d.rt.block_on(async {
        let role = "personalize-workshop-api";
        let names = iam.list_role_policies().role_name(role).send().await.unwrap();
        let read_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:DescribeStream","kinesis:ListStreams"],"Resource":"*"}]}"#;
        for name in names.policy_names() {
            iam.put_role_policy()
                .role_name(role)
                .policy_name(name)
                .policy_document(read_only)
                .send()
                .await
                .unwrap();
        }
    });
    let (cause, evidence) = d.fails_at("api", &[]);
    assert!(cause.contains("lacks `kinesis:PutRecords`"), "{cause}");
    assert!(
        cause.contains("personalize-workshop-api"),
        "names the role: {cause}"
    );
    assert!(evidence.contains("AccessDenied"), "{evidence}");

    d.up_passes();
}

#[test]
fn a_disabled_mapping_fails_at_the_trigger_hop() {
    let d = Deployed::new("mapping");
    let lambda = aws_sdk_lambda::Client::new(&d.sdk());
    d.rt.block_on(async {
        let mappings = lambda
            .list_event_source_mappings()
            .function_name("PutEvent-Function")
            .send()
            .await
            .unwrap();
        for m in mappings.event_source_mappings() {
            lambda
                .update_event_source_mapping()
                .uuid(m.uuid().unwrap())
                .enabled(false)
                .send()
                .await
                .unwrap();
        }
    });
    let (cause, evidence) = d.fails_at("trigger", &[]);
    assert!(cause.contains("disabled"), "{cause}");
    assert!(evidence.contains("State Disabled"), "{evidence}");
    // The records did reach the stream: the earlier hops passed.
    let (_, report, _) = d.test(&[]);
    assert_eq!(hop_of(&report, "api")["status"], "passed");
    assert_eq!(hop_of(&report, "stream")["status"], "passed");

    d.up_passes();
}

#[test]
fn a_wrong_tracking_id_fails_at_the_personalize_hop_naming_it() {
    let d = Deployed::new("tracking");
    let tracking_id = outputs(&d.w)["tracker.tracking_id"].as_str().unwrap().to_owned();
    let lambda = aws_sdk_lambda::Client::new(&d.sdk());
    d.rt.block_on(async {
        let config = lambda
            .get_function_configuration()
            .function_name("PutEvent-Function")
            .send()
            .await
            .unwrap();
        let mut vars = config.environment().unwrap().variables().unwrap().clone();
        vars.insert(
            "TRACKING_ID".into(),
            "00000000-0000-0000-0000-000000000000".into(),
        );
        lambda
            .update_function_configuration()
            .function_name("PutEvent-Function")
            .environment(
                aws_sdk_lambda::types::Environment::builder()
                    .set_variables(Some(vars))
                    .build(),
            )
            .send()
            .await
            .unwrap();
    });
    let (cause, evidence) = d.fails_at("personalize", &[]);
    assert!(
        cause.contains("TRACKING_ID `00000000-0000-0000-0000-000000000000`"),
        "names the tracking id sent: {cause}"
    );
    assert!(cause.contains(&tracking_id), "and the tracker's: {cause}");
    assert!(evidence.contains("ResourceNotFoundException"), "{evidence}");

    d.up_passes();
}
