//! `iam_role`, `kinesis_stream`, `personalize_dataset_group` and `personalize_event_tracker`
//! against the local runtime: created from nothing, unchanged on a second plan, updated in
//! place, replaced where AWS cannot update, destroyed without leftovers, and never touching
//! what is not theirs.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support::provider as common;

use personalize_stack_aws::{RESOURCE_TAG, STACK_TAG};
use personalize_stack_core::engine::{Action, Plan};
use personalize_stack_local::{Faults, Profile};

const ACCOUNT: &str = common::ACCOUNT;

/// The four kinds together; `shards`, `retention`, `tracker` and the role's `session` vary.
fn four_kinds(shards: u32, retention: u32, tracker: &str, session: u32) -> String {
    format!(
        r#"
stack: pipeline
region: us-east-1
tags:
  owner: tests
resources:
  role:
    iam_role:
      name: pipeline-forwarder
      description: reads the stream, sends events
      assumed_by: lambda.amazonaws.com
      max_session_duration_s: {session}
      managed_policies:
        - arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole
      policies:
        - actions: [kinesis:GetRecords, kinesis:DescribeStream]
          resources: ${{stream.arn}}
        - actions: personalize:PutEvents
  stream:
    kinesis_stream:
      name: pipeline-stream
      shards: {shards}
      retention_hours: {retention}
  dataset_group:
    personalize_dataset_group:
      name: pipeline-group
      interactions_schema: default
  tracker:
    personalize_event_tracker:
      name: {tracker}
      dataset_group: ${{dataset_group.arn}}
"#
    )
}

fn action<'a>(plan: &'a Plan, logical: &str) -> &'a Action {
    &plan
        .steps
        .iter()
        .find(|s| s.logical == logical)
        .unwrap_or_else(|| panic!("no step for {logical} in\n{plan}"))
        .action
}

fn assert_all_unchanged(plan: &Plan) {
    assert!(
        plan.steps.iter().all(|s| s.action == Action::NoChange),
        "expected no changes:\n{plan}\n{plan:#?}"
    );
}

/// Live resources of the test account (the runtime's inspection endpoint).
async fn live(running: &personalize_stack_local::Running) -> Vec<serde_json::Value> {
    common::resources(running).await["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["account"] == ACCOUNT)
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_kinds_are_created_updated_replaced_and_destroyed() {
    // Non-zero lifecycles, so every wait (stream ACTIVE, group/dataset/tracker ACTIVE,
    // deletions) is exercised.
    let running = common::start_with(Profile::fast(), Faults::default()).await;
    let stack = common::stack(&four_kinds(1, 24, "pipeline-tracker", 3600));
    let aws = common::provider(&running, &stack).await;

    let plan = common::plan(&aws, &stack).await;
    for logical in ["role", "stream", "dataset_group", "tracker"] {
        assert_eq!(action(&plan, logical), &Action::Create, "{plan}");
    }
    let report = common::up(&aws, &stack).await;
    let first_tracking_id = report.attrs["tracker"]["tracking_id"].clone();
    assert!(!first_tracking_id.is_empty());
    assert_eq!(report.attrs["role"]["name"], "pipeline-forwarder");
    assert_all_unchanged(&common::plan(&aws, &stack).await);

    // What exists is what was declared.
    let sdk = common::sdk(&running);
    let iam = aws_sdk_iam::Client::new(&sdk);
    let kinesis = aws_sdk_kinesis::Client::new(&sdk);
    let personalize = aws_sdk_personalize::Client::new(&sdk);
    let stream_arn = report.attrs["stream"]["arn"].clone();
    let policy = iam
        .get_role_policy()
        .role_name("pipeline-forwarder")
        .policy_name("pipeline-forwarder")
        .send()
        .await
        .unwrap();
    let policy = percent_encoding::percent_decode_str(policy.policy_document())
        .decode_utf8()
        .unwrap()
        .into_owned();
    assert!(policy.contains(&stream_arn), "{policy}");
    let attached = iam
        .list_attached_role_policies()
        .role_name("pipeline-forwarder")
        .send()
        .await
        .unwrap();
    assert_eq!(attached.attached_policies().len(), 1);
    let group_arn = report.attrs["dataset_group"]["arn"].clone();
    let datasets = personalize
        .list_datasets()
        .dataset_group_arn(&group_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(datasets.datasets().len(), 1);
    assert_eq!(datasets.datasets()[0].dataset_type(), Some("INTERACTIONS"));
    assert_eq!(datasets.datasets()[0].status(), Some("ACTIVE"));
    let tracker = personalize
        .describe_event_tracker()
        .event_tracker_arn(&report.attrs["tracker"]["arn"])
        .send()
        .await
        .unwrap();
    assert_eq!(tracker.event_tracker().unwrap().status(), Some("ACTIVE"));

    // Shards, retention and the role's session length change in place.
    let stack = common::stack(&four_kinds(2, 48, "pipeline-tracker", 7200));
    let aws = common::provider(&running, &stack).await;
    let plan = common::plan(&aws, &stack).await;
    match action(&plan, "stream") {
        Action::Update { changes } => {
            let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
            assert_eq!(fields, ["retention_hours", "shards"], "{plan}");
            assert_eq!(changes[1].to_string(), "shards: 1 → 2");
        }
        other => panic!("stream: {other:?}\n{plan}"),
    }
    match action(&plan, "role") {
        Action::Update { changes } => {
            assert_eq!(changes.len(), 1, "{plan}");
            assert_eq!(changes[0].to_string(), "max_session_duration_s: 3600 → 7200");
        }
        other => panic!("role: {other:?}\n{plan}"),
    }
    assert_eq!(action(&plan, "dataset_group"), &Action::NoChange);
    assert_eq!(action(&plan, "tracker"), &Action::NoChange);
    common::up(&aws, &stack).await;
    assert_all_unchanged(&common::plan(&aws, &stack).await);
    let summary = kinesis
        .describe_stream_summary()
        .stream_name("pipeline-stream")
        .send()
        .await
        .unwrap();
    let summary = summary.stream_description_summary().unwrap();
    assert_eq!(summary.open_shard_count(), 2);
    assert_eq!(summary.retention_period_hours(), 48);
    let role = iam
        .get_role()
        .role_name("pipeline-forwarder")
        .send()
        .await
        .unwrap();
    assert_eq!(role.role().unwrap().max_session_duration(), Some(7200));

    // A tracker cannot be renamed: the old one is found through its group and replaced.
    let stack = common::stack(&four_kinds(2, 48, "pipeline-tracker-2", 7200));
    let aws = common::provider(&running, &stack).await;
    let plan = common::plan(&aws, &stack).await;
    match action(&plan, "tracker") {
        Action::Replace { reason, changes } => {
            assert_eq!(reason, "name: an event tracker cannot be updated");
            assert_eq!(
                changes[0].to_string(),
                "name: pipeline-tracker → pipeline-tracker-2"
            );
        }
        other => panic!("tracker: {other:?}\n{plan}"),
    }
    let report = common::up(&aws, &stack).await;
    let second_tracking_id = report.attrs["tracker"]["tracking_id"].clone();
    assert!(!second_tracking_id.is_empty());
    assert_ne!(first_tracking_id, second_tracking_id);
    assert_eq!(report.attrs["tracker"]["name"], "pipeline-tracker-2");
    assert_all_unchanged(&common::plan(&aws, &stack).await);
    let trackers = personalize
        .list_event_trackers()
        .dataset_group_arn(&group_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(trackers.event_trackers().len(), 1);

    // Destroy leaves nothing: no role, stream, group, dataset, schema or tracker.
    common::destroy(&aws, &stack).await;
    assert_eq!(live(&running).await, Vec::<serde_json::Value>::new());
    let plan = common::plan(&aws, &stack).await;
    for logical in ["role", "stream", "dataset_group", "tracker"] {
        assert_eq!(action(&plan, logical), &Action::Create, "{plan}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_without_our_tags_is_foreign_and_survives_destroy() {
    let running = common::start().await;
    let kinesis = aws_sdk_kinesis::Client::new(&common::sdk(&running));
    kinesis
        .create_stream()
        .stream_name("someone-elses")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    let stack = common::stack(
        r"
stack: pipeline
region: us-east-1
resources:
  stream:
    kinesis_stream:
      name: someone-elses
      shards: 2
",
    );
    let aws = common::provider(&running, &stack).await;
    let plan = common::plan(&aws, &stack).await;
    assert_eq!(
        action(&plan, "stream"),
        &Action::Foreign {
            id: "someone-elses".into()
        }
    );
    common::destroy(&aws, &stack).await;
    let summary = kinesis
        .describe_stream_summary()
        .stream_name("someone-elses")
        .send()
        .await
        .unwrap();
    let summary = summary.stream_description_summary().unwrap();
    assert_eq!(summary.stream_status().as_str(), "ACTIVE");
    assert_eq!(summary.open_shard_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_without_our_tags_is_foreign_and_tags_update_in_place() {
    let running = common::start().await;
    let iam = aws_sdk_iam::Client::new(&common::sdk(&running));
    iam.create_role()
        .role_name("hand-made")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let yaml = |name: &str, team: &str| {
        format!(
            "stack: roles\nregion: us-east-1\nresources:\n  role:\n    iam_role:\n      name: {name}\n      assumed_by: [lambda.amazonaws.com, apigateway.amazonaws.com]\n      tags: {{ team: {team} }}\n"
        )
    };
    let stack = common::stack(&yaml("hand-made", "a"));
    let aws = common::provider(&running, &stack).await;
    let plan = common::plan(&aws, &stack).await;
    assert_eq!(
        action(&plan, "role"),
        &Action::Foreign {
            id: "hand-made".into()
        }
    );
    common::destroy(&aws, &stack).await;
    iam.get_role().role_name("hand-made").send().await.unwrap();

    let stack = common::stack(&yaml("ours", "a"));
    let aws = common::provider(&running, &stack).await;
    common::up(&aws, &stack).await;
    assert_all_unchanged(&common::plan(&aws, &stack).await);
    let stack = common::stack(&yaml("ours", "b"));
    let aws = common::provider(&running, &stack).await;
    let plan = common::plan(&aws, &stack).await;
    match action(&plan, "role") {
        Action::Update { changes } => {
            assert_eq!(changes.len(), 1);
            assert_eq!(changes[0].to_string(), "tags.team: a → b");
        }
        other => panic!("{other:?}\n{plan}"),
    }
    common::up(&aws, &stack).await;
    assert_all_unchanged(&common::plan(&aws, &stack).await);
    common::destroy(&aws, &stack).await;
    assert!(iam.get_role().role_name("ours").send().await.is_err());
    iam.get_role().role_name("hand-made").send().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_created_dataset_group_is_finished_and_an_existing_one_is_only_used() {
    let running = common::start().await;
    let personalize = aws_sdk_personalize::Client::new(&common::sdk(&running));
    let tag = |k: &str, v: &str| {
        aws_sdk_personalize::types::Tag::builder()
            .tag_key(k)
            .tag_value(v)
            .build()
            .unwrap()
    };
    // A run that stopped right after CreateDatasetGroup: the group, with our tags, and no
    // schema or dataset yet.
    personalize
        .create_dataset_group()
        .name("half")
        .tags(tag(STACK_TAG, "groups"))
        .tags(tag(RESOURCE_TAG, "group"))
        .send()
        .await
        .unwrap();
    let stack = common::stack(
        "stack: groups\nregion: us-east-1\nresources:\n  group:\n    personalize_dataset_group: { name: half }\n",
    );
    let aws = common::provider(&running, &stack).await;
    let plan = common::plan(&aws, &stack).await;
    match action(&plan, "group") {
        Action::Update { changes } => {
            assert_eq!(changes.len(), 1, "{plan}");
            assert_eq!(changes[0].field, "interactions_dataset");
        }
        other => panic!("{other:?}\n{plan}"),
    }
    common::up(&aws, &stack).await;
    assert_all_unchanged(&common::plan(&aws, &stack).await);

    // A group made by hand, used by ARN: a tracker goes into it; destroy removes only the
    // tracker.
    let existing = personalize
        .create_dataset_group()
        .name("workshop")
        .send()
        .await
        .unwrap();
    let existing_arn = existing.dataset_group_arn().unwrap().to_owned();
    let used = common::stack(&format!(
        "stack: used\nregion: us-east-1\nresources:\n  group:\n    personalize_dataset_group: {{ arn: \"{existing_arn}\" }}\n  tracker:\n    personalize_event_tracker: {{ name: used-tracker, dataset_group: \"${{group.arn}}\" }}\n"
    ));
    let aws_used = common::provider(&running, &used).await;
    let plan = common::plan(&aws_used, &used).await;
    assert_eq!(action(&plan, "group"), &Action::NoChange, "{plan}");
    assert_eq!(action(&plan, "tracker"), &Action::Create, "{plan}");
    let report = common::up(&aws_used, &used).await;
    assert_eq!(report.attrs["group"]["name"], "workshop");
    assert_all_unchanged(&common::plan(&aws_used, &used).await);
    common::destroy(&aws_used, &used).await;
    let group = personalize
        .describe_dataset_group()
        .dataset_group_arn(&existing_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(group.dataset_group().unwrap().status(), Some("ACTIVE"));
    let trackers = personalize
        .list_event_trackers()
        .dataset_group_arn(&existing_arn)
        .send()
        .await
        .unwrap();
    assert!(trackers.event_trackers().is_empty());

    // The half-created group's stack destroys everything it made, schema included.
    common::destroy(&aws, &stack).await;
    let left: Vec<String> = live(&running)
        .await
        .iter()
        .map(|r| format!("{}/{}", r["kind"].as_str().unwrap(), r["id"].as_str().unwrap()))
        .collect();
    assert_eq!(left, ["dataset-group/workshop"], "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_mode_encryption_and_role_settings_change_in_place() {
    let running = common::start_with(Profile::fast(), Faults::default()).await;
    let yaml = |stream: &str, role: &str| {
        format!(
            "stack: modes\nregion: us-east-1\nresources:\n  stream:\n    kinesis_stream: {{ name: modes, {stream} }}\n  role:\n    iam_role: {{ name: modes-role, assumed_by: lambda.amazonaws.com, {role} }}\n"
        )
    };
    let stack = common::stack(&yaml("shards: 1", "description: first"));
    let aws = common::provider(&running, &stack).await;
    common::up(&aws, &stack).await;
    assert_all_unchanged(&common::plan(&aws, &stack).await);

    let boundary = "arn:aws:iam::aws:policy/AmazonKinesisReadOnlyAccess";
    let stack = common::stack(&yaml(
        "mode: on_demand, encryption: { kms_key: alias/aws/kinesis }",
        &format!("permissions_boundary: \"{boundary}\""),
    ));
    let aws = common::provider(&running, &stack).await;
    let plan = common::plan(&aws, &stack).await;
    match action(&plan, "stream") {
        Action::Update { changes } => {
            let shown: Vec<String> = changes.iter().map(ToString::to_string).collect();
            assert_eq!(
                shown,
                [
                    "encryption.kms_key: (none) → alias/aws/kinesis",
                    "mode: provisioned → on_demand",
                    "shards: 1 → (none)"
                ],
                "{plan}"
            );
        }
        other => panic!("{other:?}\n{plan}"),
    }
    match action(&plan, "role") {
        Action::Update { changes } => {
            let shown: Vec<String> = changes.iter().map(ToString::to_string).collect();
            assert_eq!(
                shown,
                [
                    format!("permissions_boundary: (none) → {boundary}"),
                    "description: first → (none)".to_owned()
                ],
                "{plan}"
            );
        }
        other => panic!("{other:?}\n{plan}"),
    }
    common::up(&aws, &stack).await;
    assert_all_unchanged(&common::plan(&aws, &stack).await);

    // Back to provisioned, two shards, no encryption.
    let stack = common::stack(&yaml("shards: 2", "description: second"));
    let aws = common::provider(&running, &stack).await;
    common::up(&aws, &stack).await;
    assert_all_unchanged(&common::plan(&aws, &stack).await);
    let kinesis = aws_sdk_kinesis::Client::new(&common::sdk(&running));
    let summary = kinesis
        .describe_stream_summary()
        .stream_name("modes")
        .send()
        .await
        .unwrap();
    let summary = summary.stream_description_summary().unwrap();
    assert_eq!(summary.open_shard_count(), 2);
    assert_eq!(
        summary.encryption_type(),
        Some(&aws_sdk_kinesis::types::EncryptionType::None)
    );
    common::destroy(&aws, &stack).await;
    assert_eq!(live(&running).await, Vec::<serde_json::Value>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_schema_replaces_the_group_and_its_tracker() {
    let running = common::start_with(Profile::fast(), Faults::default()).await;
    let yaml = |schema: &str| {
        format!(
            "stack: schemas\nregion: us-east-1\nresources:\n  group:\n    personalize_dataset_group: {{ name: schemas, interactions_schema: {schema} }}\n  tracker:\n    personalize_event_tracker: {{ name: schemas-tracker, dataset_group: \"${{group.arn}}\" }}\n"
        )
    };
    let stack = common::stack(&yaml("default"));
    let aws = common::provider(&running, &stack).await;
    let first = common::up(&aws, &stack).await.attrs["tracker"]["tracking_id"].clone();

    let custom = r#"{ avro: { type: record, name: Interactions, namespace: com.amazonaws.personalize.schema, fields: [ { name: USER_ID, type: string }, { name: ITEM_ID, type: string }, { name: TIMESTAMP, type: long } ], version: "1.0" } }"#;
    let stack = common::stack(&yaml(custom));
    let aws = common::provider(&running, &stack).await;
    let plan = common::plan(&aws, &stack).await;
    match action(&plan, "group") {
        Action::Replace { reason, .. } => assert!(reason.starts_with("interactions_schema: "), "{reason}"),
        other => panic!("{other:?}\n{plan}"),
    }
    match action(&plan, "tracker") {
        Action::Replace { reason, .. } => {
            assert_eq!(reason, "dataset_group: an event tracker cannot be updated");
        }
        other => panic!("{other:?}\n{plan}"),
    }
    let second = common::up(&aws, &stack).await.attrs["tracker"]["tracking_id"].clone();
    assert_ne!(first, second);
    assert_all_unchanged(&common::plan(&aws, &stack).await);
    common::destroy(&aws, &stack).await;
    assert_eq!(live(&running).await, Vec::<serde_json::Value>::new());
}
