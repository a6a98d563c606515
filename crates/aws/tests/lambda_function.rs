//! `lambda_function` against the local runtime: the function, its log group and its Kinesis
//! trigger are created, left alone when unchanged, updated in place, adopted after an
//! interrupted run, never touched when foreign, and destroyed without leftovers.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support::provider as common;

use aws_sdk_lambda::types::EventSourcePosition;
use personalize_stack_aws::package;
use personalize_stack_core::engine::{
    Action, FieldChange, Plan, Provider as _, ProviderError, Resolver, diff,
};
use personalize_stack_core::spec::kinds::lambda_function::{Architecture, Code};
use personalize_stack_local::{Faults, Profile, Running};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const TRUST_LAMBDA: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

struct Sdk {
    lambda: aws_sdk_lambda::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
}

fn sdk(running: &Running) -> Sdk {
    let config = common::sdk(running);
    Sdk {
        lambda: aws_sdk_lambda::Client::new(&config),
        logs: aws_sdk_cloudwatchlogs::Client::new(&config),
    }
}

/// The role and the stream the function needs, made directly (not by the stack); their ARNs.
async fn role_and_stream(running: &Running, role: &str, stream: &str) -> (String, String) {
    let config = common::sdk(running);
    let iam = aws_sdk_iam::Client::new(&config);
    let role_arn = iam
        .create_role()
        .role_name(role)
        .assume_role_policy_document(TRUST_LAMBDA)
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_owned();
    let kinesis = aws_sdk_kinesis::Client::new(&config);
    kinesis
        .create_stream()
        .stream_name(stream)
        .shard_count(1)
        .send()
        .await
        .unwrap();
    for _ in 0..200 {
        let d = kinesis
            .describe_stream_summary()
            .stream_name(stream)
            .send()
            .await
            .unwrap();
        let summary = d.stream_description_summary().unwrap();
        if summary.stream_status().as_str() == "ACTIVE" {
            return (role_arn, summary.stream_arn().to_owned());
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("stream {stream} never became ACTIVE");
}

/// A zip whose `bootstrap` is a tiny shell script saying `tag`, in a fresh directory.
fn write_zip(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ps-lambda-test-{}-{}", std::process::id(), uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("function.zip");
    let script = format!("#!/bin/sh\n# {tag}\nexit 0\n");
    std::fs::write(&path, package::zip_bootstrap(script.as_bytes()).unwrap()).unwrap();
    path
}

fn uuid_like() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// The stack: one function with a trigger; `extra` goes under the function, `trigger_extra`
/// under its trigger.
fn yaml(zip: &Path, role: &str, stream: &str, env: &str, batch_size: u32, extra: &str) -> String {
    format!(
        r#"stack: lambda-test
region: us-east-1
tags:
  owner: tests
resources:
  forwarder:
    lambda_function:
      name: fwd
      description: Forwards records
      code: {{ zip: "{zip}" }}
      memory_mb: 128
      timeout_s: 30
      role: {role}
      environment:
        TRACKING_ID: {env}
      log_retention_days: 14
{extra}      trigger:
        stream: {stream}
        starting_position: TRIM_HORIZON
        batch_size: {batch_size}
        bisect_on_error: true
        max_retries: 3
        max_record_age_s: 3600
        report_batch_item_failures: true
"#,
        zip = zip.display()
    )
}

fn only_step(plan: &Plan) -> &Action {
    assert_eq!(plan.steps.len(), 1, "{plan}");
    &plan.steps[0].action
}

fn changes(action: &Action) -> Vec<String> {
    match action {
        Action::Update { changes } => changes.iter().map(FieldChange::to_string).collect(),
        other => panic!("expected an update, got {other:?}"),
    }
}

async fn mappings(s: &Sdk, function: &str) -> Vec<aws_sdk_lambda::types::EventSourceMappingConfiguration> {
    s.lambda
        .list_event_source_mappings()
        .function_name(function)
        .send()
        .await
        .unwrap()
        .event_source_mappings()
        .to_vec()
}

async fn retention(s: &Sdk, group: &str) -> Option<Option<i32>> {
    let out = s
        .logs
        .describe_log_groups()
        .log_group_name_prefix(group)
        .send()
        .await
        .unwrap();
    out.log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(group))
        .map(|g| g.retention_in_days())
}

/// Live resources of `service`/`kind` in the local runtime.
async fn live(running: &Running, service: &str, kind: &str) -> Vec<String> {
    common::resources(running).await["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["service"] == service && r["kind"] == kind)
        .map(|r| r["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_is_created_left_alone_updated_in_place_and_destroyed_without_leftovers() {
    // Small delays, so every wait (Active, update finished, mapping Enabled, gone) is
    // exercised; and a role IAM has not propagated yet, so CreateFunction is refused with
    // "cannot be assumed by Lambda" at first and retried.
    let running = common::start_with(
        Profile::fast(),
        Faults {
            iam_propagation_ms: 1_000,
            ..Faults::default()
        },
    )
    .await;
    let s = sdk(&running);
    let (role, stream) = role_and_stream(&running, "fwd-role", "events").await;
    let zip = write_zip("v1");

    // Create from nothing.
    let stack = common::stack(&yaml(&zip, &role, &stream, "t-1", 100, ""));
    let aws = common::provider(&running, &stack).await;
    assert_eq!(only_step(&common::plan(&aws, &stack).await), &Action::Create);
    let report = common::up(&aws, &stack).await;
    assert!(
        aws.calls().iter().filter(|c| *c == "CreateFunction").count() > 1,
        "the role was still propagating: {:?}",
        aws.calls()
    );
    let attrs = &report.attrs["forwarder"];
    assert_eq!(
        attrs["arn"],
        format!("arn:aws:lambda:us-east-1:{}:function:fwd", common::ACCOUNT)
    );
    assert_eq!(attrs["log_group"], "/aws/lambda/fwd");
    let got = s.lambda.get_function().function_name("fwd").send().await.unwrap();
    let config = got.configuration().unwrap();
    assert_eq!(config.state().unwrap().as_str(), "Active");
    assert_eq!(
        config.code_sha256().unwrap(),
        package::code_sha256(&std::fs::read(&zip).unwrap())
    );
    assert_eq!(
        config.environment().unwrap().variables().unwrap()["TRACKING_ID"],
        "t-1"
    );
    let tags = got.tags().unwrap();
    assert_eq!(tags["personalize-stack:stack"], "lambda-test");
    assert_eq!(tags["personalize-stack:resource"], "forwarder");
    assert_eq!(tags["owner"], "tests");
    let found = mappings(&s, "fwd").await;
    assert_eq!(found.len(), 1);
    let uuid = found[0].uuid().unwrap().to_owned();
    assert_eq!(attrs["mapping_uuid"], uuid);
    assert_eq!(found[0].state(), Some("Enabled"));
    assert_eq!(found[0].event_source_arn(), Some(stream.as_str()));
    assert_eq!(found[0].batch_size(), Some(100));
    assert_eq!(found[0].maximum_retry_attempts(), Some(3));
    assert_eq!(found[0].bisect_batch_on_function_error(), Some(true));
    assert_eq!(found[0].function_response_types().len(), 1);
    assert_eq!(retention(&s, "/aws/lambda/fwd").await, Some(Some(14)));

    // Unchanged: the same zip is the same hash, nothing to do.
    let aws = common::provider(&running, &stack).await;
    let plan = common::plan(&aws, &stack).await;
    assert_eq!(only_step(&plan), &Action::NoChange, "{plan}");

    // A bigger batch: the mapping is updated in place (same UUID), the function untouched.
    let stack = common::stack(&yaml(&zip, &role, &stream, "t-1", 200, ""));
    let aws = common::provider(&running, &stack).await;
    let plan = common::plan(&aws, &stack).await;
    assert_eq!(
        changes(only_step(&plan)),
        vec!["trigger.batch_size: 100 → 200"],
        "{plan}"
    );
    common::up(&aws, &stack).await;
    assert!(
        !aws.calls().iter().any(|c| c.starts_with("UpdateFunction")),
        "{:?}",
        aws.calls()
    );
    let found = mappings(&s, "fwd").await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].uuid(), Some(uuid.as_str()));
    assert_eq!(found[0].batch_size(), Some(200));
    assert_eq!(found[0].state(), Some("Enabled"));

    // A new tracking id: the configuration is updated, the code is not re-uploaded.
    let stack = common::stack(&yaml(&zip, &role, &stream, "t-2", 200, ""));
    let aws = common::provider(&running, &stack).await;
    let plan = common::plan(&aws, &stack).await;
    assert_eq!(
        changes(only_step(&plan)),
        vec!["environment.TRACKING_ID: t-1 → t-2"]
    );
    common::up(&aws, &stack).await;
    assert!(aws.calls().contains(&"UpdateFunctionConfiguration".to_owned()));
    assert!(!aws.calls().contains(&"UpdateFunctionCode".to_owned()));
    let config = s
        .lambda
        .get_function_configuration()
        .function_name("fwd")
        .send()
        .await
        .unwrap();
    assert_eq!(
        config.environment().unwrap().variables().unwrap()["TRACKING_ID"],
        "t-2"
    );

    // New code, a reservation and a tag: code uploaded, concurrency reserved, tag added.
    let zip2 = write_zip("v2");
    let stack = common::stack(&yaml(
        &zip2,
        &role,
        &stream,
        "t-2",
        200,
        "      reserved_concurrency: 5\n      tags: { team: data }\n",
    ));
    let aws = common::provider(&running, &stack).await;
    let plan = common::plan(&aws, &stack).await;
    let shown = changes(only_step(&plan));
    assert!(shown.iter().any(|c| c.starts_with("code.sha256: ")), "{shown:?}");
    assert!(
        shown.contains(&"reserved_concurrency: (none) → 5".to_owned()),
        "{shown:?}"
    );
    assert!(
        shown.contains(&"tags.team: (none) → data".to_owned()),
        "{shown:?}"
    );
    common::up(&aws, &stack).await;
    let got = s.lambda.get_function().function_name("fwd").send().await.unwrap();
    assert_eq!(
        got.configuration().unwrap().code_sha256().unwrap(),
        package::code_sha256(&std::fs::read(&zip2).unwrap())
    );
    assert_eq!(
        got.concurrency().unwrap().reserved_concurrent_executions(),
        Some(5)
    );
    assert_eq!(got.tags().unwrap()["team"], "data");
    let aws = common::provider(&running, &stack).await;
    assert_eq!(only_step(&common::plan(&aws, &stack).await), &Action::NoChange);

    // Destroy: no function, no mapping, no log group.
    let aws = common::provider(&running, &stack).await;
    common::destroy(&aws, &stack).await;
    assert!(live(&running, "lambda", "function").await.is_empty());
    assert!(live(&running, "lambda", "event-source-mapping").await.is_empty());
    assert!(live(&running, "logs", "log-group").await.is_empty());
    assert!(mappings(&s, "fwd").await.is_empty());
    assert_eq!(only_step(&common::plan(&aws, &stack).await), &Action::Create);
    // Destroying again finds nothing to do.
    common::destroy(&aws, &stack).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_stream_is_a_new_mapping_and_removing_the_trigger_deletes_it() {
    let running = common::start_with(Profile::fast(), Faults::default()).await;
    let s = sdk(&running);
    let (role, stream) = role_and_stream(&running, "fwd-role", "events").await;
    let (_, other) = role_and_stream(&running, "unused-role", "events-2").await;
    let zip = write_zip("v1");
    let stack = common::stack(&yaml(&zip, &role, &stream, "t", 100, ""));
    let aws = common::provider(&running, &stack).await;
    common::up(&aws, &stack).await;
    let before = mappings(&s, "fwd").await[0].uuid().unwrap().to_owned();

    let stack = common::stack(&yaml(&zip, &role, &other, "t", 100, ""));
    let aws = common::provider(&running, &stack).await;
    let plan = common::plan(&aws, &stack).await;
    assert_eq!(
        changes(only_step(&plan)),
        vec![format!("trigger.stream: {stream} → {other}")]
    );
    common::up(&aws, &stack).await;
    assert!(!aws.calls().contains(&"DeleteFunction".to_owned()));
    let found = mappings(&s, "fwd").await;
    assert_eq!(found.len(), 1);
    assert_ne!(found[0].uuid(), Some(before.as_str()));
    assert_eq!(found[0].event_source_arn(), Some(other.as_str()));
    assert_eq!(found[0].state(), Some("Enabled"));

    // Without a trigger the mapping goes; without a retention the log group keeps events.
    let no_trigger = yaml(&zip, &role, &other, "t", 100, "");
    let no_trigger = no_trigger[..no_trigger.find("      trigger:").unwrap()]
        .replace("      log_retention_days: 14\n", "");
    let stack = common::stack(&no_trigger);
    let aws = common::provider(&running, &stack).await;
    let plan = common::plan(&aws, &stack).await;
    let shown = changes(only_step(&plan));
    assert!(
        shown.contains(&format!("trigger.stream: {other} → (none)")),
        "{shown:?}"
    );
    assert!(
        shown.contains(&"log_group.retention_days: 14 → (none)".to_owned()),
        "{shown:?}"
    );
    common::up(&aws, &stack).await;
    assert!(mappings(&s, "fwd").await.is_empty());
    assert_eq!(retention(&s, "/aws/lambda/fwd").await, Some(None));
    let aws = common::provider(&running, &stack).await;
    assert_eq!(only_step(&common::plan(&aws, &stack).await), &Action::NoChange);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_made_behind_our_back_is_adopted_not_duplicated() {
    let running = common::start().await;
    let s = sdk(&running);
    let (role, stream) = role_and_stream(&running, "fwd-role", "events").await;
    let zip = write_zip("v1");
    // First without a trigger.
    let with_trigger = yaml(&zip, &role, &stream, "t", 100, "");
    let without = with_trigger[..with_trigger.find("      trigger:").unwrap()].to_owned();
    let stack = common::stack(&without);
    let aws = common::provider(&running, &stack).await;
    common::up(&aws, &stack).await;

    // The trigger is declared; the run observes no mapping...
    let stack = common::stack(&with_trigger);
    let aws = common::provider(&running, &stack).await;
    let resource = &stack.resources["forwarder"];
    let refs = Resolver::default();
    let observed = aws.observe(resource, &refs).await.unwrap().unwrap();
    assert!(!observed.fields.contains_key("trigger.stream"));
    let desired = aws.desired(resource, &refs).unwrap();
    let Action::Update { changes } = diff(&desired, Some(&observed)) else {
        panic!("expected an update");
    };
    // ...then, before it acts, another run (or a person) maps the function to the stream.
    let theirs = s
        .lambda
        .create_event_source_mapping()
        .function_name("fwd")
        .event_source_arn(&stream)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(7)
        .send()
        .await
        .unwrap()
        .uuid()
        .unwrap()
        .to_owned();
    let attrs = aws.update(resource, &refs, &observed, &changes).await.unwrap();
    assert_eq!(attrs["mapping_uuid"], theirs);
    assert!(aws.calls().contains(&"CreateEventSourceMapping".to_owned()));
    let found = mappings(&s, "fwd").await;
    assert_eq!(found.len(), 1, "no duplicate");
    assert_eq!(found[0].uuid(), Some(theirs.as_str()));
    assert_eq!(found[0].batch_size(), Some(100));
    assert_eq!(found[0].maximum_retry_attempts(), Some(3));
    assert_eq!(found[0].state(), Some("Enabled"));
    let aws = common::provider(&running, &stack).await;
    let plan = common::plan(&aws, &stack).await;
    assert_eq!(only_step(&plan), &Action::NoChange, "{plan}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stopped_after_create_function_is_finished_by_the_next() {
    let running = common::start_with(Profile::fast(), Faults::default()).await;
    let s = sdk(&running);
    let (role, stream) = role_and_stream(&running, "fwd-role", "events").await;
    let zip = write_zip("v1");
    let stack = common::stack(&yaml(&zip, &role, &stream, "t", 100, ""));
    let aws = common::provider(&running, &stack).await;
    // Only the function, with our tags, as a run killed right after CreateFunction leaves it.
    let resource = &stack.resources["forwarder"];
    let tags = aws.tags_for(resource, &Default::default());
    let mut create = s
        .lambda
        .create_function()
        .function_name("fwd")
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .role(&role)
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(
                    std::fs::read(&zip).unwrap(),
                ))
                .build(),
        );
    for (k, v) in tags {
        create = create.tags(k, v);
    }
    create.send().await.unwrap();

    let plan = common::plan(&aws, &stack).await;
    let shown = changes(only_step(&plan));
    assert!(
        shown.contains(&"log_group: (none) → /aws/lambda/fwd".to_owned()),
        "{shown:?}"
    );
    assert!(
        shown.contains(&"trigger.batch_size: (none) → 100".to_owned()),
        "{shown:?}"
    );
    assert!(shown.contains(&"timeout_s: 3 → 30".to_owned()), "{shown:?}");
    common::up(&aws, &stack).await;
    assert_eq!(mappings(&s, "fwd").await.len(), 1);
    assert_eq!(retention(&s, "/aws/lambda/fwd").await, Some(Some(14)));
    let aws = common::provider(&running, &stack).await;
    assert_eq!(only_step(&common::plan(&aws, &stack).await), &Action::NoChange);

    // And a create that finds the function there (a race) converges instead of failing.
    let stack2 = common::stack(&yaml(&zip, &role, &stream, "t-race", 100, ""));
    let aws = common::provider(&running, &stack2).await;
    let attrs = aws
        .create(&stack2.resources["forwarder"], &Resolver::default())
        .await
        .unwrap();
    assert!(attrs.contains_key("mapping_uuid"));
    assert_eq!(mappings(&s, "fwd").await.len(), 1);
    let config = s
        .lambda
        .get_function_configuration()
        .function_name("fwd")
        .send()
        .await
        .unwrap();
    assert_eq!(
        config.environment().unwrap().variables().unwrap()["TRACKING_ID"],
        "t-race"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_same_named_function_without_our_tags_is_foreign_and_left_alone() {
    let running = common::start().await;
    let s = sdk(&running);
    let (role, stream) = role_and_stream(&running, "fwd-role", "events").await;
    let zip = write_zip("v1");
    s.lambda
        .create_function()
        .function_name("fwd")
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .role(&role)
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(
                    std::fs::read(&zip).unwrap(),
                ))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let stack = common::stack(&yaml(&zip, &role, &stream, "t", 100, ""));
    let aws = common::provider(&running, &stack).await;
    let plan = common::plan(&aws, &stack).await;
    assert_eq!(only_step(&plan), &Action::Foreign { id: "fwd".to_owned() });
    let report = common::destroy(&aws, &stack).await;
    assert!(matches!(
        report.outcomes[0].status,
        personalize_stack_core::engine::Status::NotOurs(_)
    ));
    assert_eq!(live(&running, "lambda", "function").await, vec!["fwd".to_owned()]);
    assert!(
        !aws.calls()
            .iter()
            .any(|c| c.starts_with("Delete") || c.starts_with("Update") || c.starts_with("Create")),
        "{:?}",
        aws.calls()
    );
}

/// What a build reported, in order.
#[derive(Debug, Default)]
struct Recorded(std::sync::Mutex<Vec<String>>);

impl package::BuildProgress for Recorded {
    fn started(&self, what: &str) {
        self.0.lock().unwrap().push(format!("started {what}"));
    }
    fn output(&self, _line: &str) {}
    fn finished(&self, what: &str, outcome: Result<&package::Package, &ProviderError>, _: Duration) {
        let outcome = outcome.map_or_else(|e| e.code.clone(), |p| p.summary());
        self.0.lock().unwrap().push(format!("finished {what}: {outcome}"));
    }
}

/// Builds the workspace's forwarder (`lambda/`) the way `code: { crate: lambda }` does: the
/// size-optimised, stripped profile, deflated, the same bytes every time, and refused for a
/// runtime whose glibc is older than the binary needs. Slow the first time (a release build).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forwarder_crate_builds_to_a_small_stable_bundle_checked_against_its_runtime() {
    let base = common::settings().base_dir;
    let code = Code::Crate("lambda".to_owned());
    let first = package::load(&base, &code, Architecture::X86_64, &package::Silent);
    let first = match first {
        Ok(p) => p,
        // Only on hosts that can neither build natively nor with Cargo Lambda.
        Err(e) if e.code == "CannotCrossCompile" => {
            eprintln!("skipped: {e}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let second = package::load(&base, &code, Architecture::X86_64, &package::Silent).unwrap();
    assert_eq!(first.sha256, second.sha256);
    assert_eq!(first.zip, second.zip);
    // Small enough to upload fifty times over conference Wi-Fi.
    assert!(first.zip.len() <= 4_000_000, "{}", first.summary());
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&first.zip)).unwrap();
    let entry = archive.by_name("bootstrap").unwrap();
    assert_eq!(entry.compression(), zip::CompressionMethod::Deflated);
    assert_eq!(Some(entry.size()), first.bootstrap_size);
    drop(entry);

    // Through the provider: desired() reports the package's hash, built once per run, and
    // the plan shows the bundle's size.
    let running = common::start().await;
    let stack_for = |runtime: &str| {
        common::stack(&format!(
            "stack: s\nregion: us-east-1\nresources:\n  forwarder:\n    lambda_function:\n      name: fwd\n      code: {{ crate: lambda }}\n      runtime: {runtime}\n      role: arn:aws:iam::000000000000:role/r\n"
        ))
    };
    let stack = stack_for("provided.al2023");
    let recorded = Arc::new(Recorded::default());
    let settings = personalize_stack_aws::Settings {
        build_progress: Some(recorded.clone()),
        ..common::settings()
    };
    let aws = common::provider_with(&running, &stack, settings.clone()).await;
    let plan = personalize_stack_core::engine::plan(&aws, &stack).await;
    let glibc = first.glibc.clone();
    let al2023 = package::runtime_glibc("provided.al2023").unwrap();
    match &glibc {
        Some(need) if need.version > al2023 => {
            assert_eq!(plan.unwrap_err().code, "GlibcTooNew");
        }
        _ => {
            let plan = plan.unwrap().to_string();
            assert!(plan.contains(&format!("      {}\n", first.summary())), "{plan}");
            let desired = aws
                .desired(&stack.resources["forwarder"], &Resolver::default())
                .unwrap();
            assert_eq!(desired.fields["code.sha256"], first.sha256);
        }
    }
    assert_eq!(
        recorded.0.lock().unwrap().as_slice(),
        [
            "started lambda (cargo build --profile release-lambda)".to_owned(),
            format!(
                "finished lambda (cargo build --profile release-lambda): {}",
                first.summary()
            ),
        ],
        "built once, reported from start to end (no musl target or Cargo Lambda here)"
    );

    // Amazon Linux 2 has glibc 2.26. A binary built here against a newer glibc would fail to
    // start there: `plan` refuses it, before anything is uploaded, and says what to do.
    let al2 = stack_for("provided.al2");
    let aws = common::provider_with(&running, &al2, settings).await;
    let result = personalize_stack_core::engine::plan(&aws, &al2).await;
    match &glibc {
        Some(need) if need.version > package::runtime_glibc("provided.al2").unwrap() => {
            let e = result.unwrap_err();
            assert_eq!(e.code, "GlibcTooNew", "{e}");
            assert!(
                e.message.contains(&format!("needs glibc {}", need.version)),
                "{e}"
            );
            assert!(
                e.hint.as_deref().unwrap_or_default().contains("provided.al2023"),
                "{e}"
            );
        }
        // Built statically, or on a system as old as Amazon Linux 2: it starts there.
        _ => assert!(result.is_ok()),
    }
    assert!(
        live(&running, "lambda", "function").await.is_empty(),
        "nothing was uploaded"
    );
}
