//! The plan as users read it: every action's text, from real diffs of desired and observed
//! fields (snapshots under `snapshots/`; `cargo insta review` after an intended change).
#![allow(clippy::unwrap_used)]

use personalize_stack_core::engine::{Action, Desired, Fields, Observed, Plan, Step, diff};
use std::collections::BTreeMap;

fn fields(pairs: &[(&str, &str)]) -> Fields {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn desired(pairs: &[(&str, &str)]) -> Desired {
    Desired {
        fields: fields(pairs),
        ..Desired::default()
    }
}

fn ours(id: &str, pairs: &[(&str, &str)]) -> Observed {
    Observed {
        id: id.to_owned(),
        owned: true,
        fields: fields(pairs),
        attrs: BTreeMap::new(),
    }
}

fn step(logical: &str, kind: &str, name: &str, want: &Desired, found: Option<&Observed>) -> Step {
    let action = diff(want, found);
    Step {
        logical: logical.to_owned(),
        kind: kind.to_owned(),
        name: Some(name.to_owned()),
        notes: want.notes_for(&action),
        action,
    }
}

/// The workshop stack after edits: one of each action, in dependency order.
fn workshop_plan() -> Plan {
    let role = desired(&[("name", "personalize-workshop-forwarder"), ("tags.team", "ml")]);
    let role_found = ours(
        "personalize-workshop-forwarder",
        &[("name", "personalize-workshop-forwarder"), ("tags.team", "data")],
    );

    let mut stream = desired(&[("name", "PutEvent-datastream"), ("shards", "2")]);
    stream.replace_on.insert(
        "encryption".to_owned(),
        "a stream's encryption key is set once".to_owned(),
    );
    let stream_found = ours(
        "PutEvent-datastream",
        &[("name", "PutEvent-datastream"), ("shards", "2")],
    );

    let mut tracker = desired(&[
        ("name", "personalize-workshop-event-tracker"),
        (
            "dataset_group",
            "arn:aws:personalize:us-east-1:000000000000:dataset-group/workshop-2",
        ),
    ]);
    tracker.replace_on.insert(
        "dataset_group".to_owned(),
        "an event tracker cannot be updated".to_owned(),
    );
    let tracker_found = ours(
        "arn:aws:personalize:us-east-1:000000000000:event-tracker/personalize-workshop-event-tracker",
        &[
            ("name", "personalize-workshop-event-tracker"),
            (
                "dataset_group",
                "arn:aws:personalize:us-east-1:000000000000:dataset-group/workshop",
            ),
        ],
    );

    let mut function = desired(&[("name", "PutEvent-Function"), ("code.sha256", "mN3x…")]);
    function.notes.insert(
        "code.sha256".to_owned(),
        "bundle: 1.9 MB zip (bootstrap 4.0 MB)".to_owned(),
    );

    let api = desired(&[("name", "PutEventAPI")]);
    let api_found = Observed {
        owned: false,
        ..ours("45z7irzrl5", &[])
    };

    Plan {
        steps: vec![
            step(
                "forwarder_role",
                "iam_role",
                "personalize-workshop-forwarder",
                &role,
                Some(&role_found),
            ),
            step(
                "stream",
                "kinesis_stream",
                "PutEvent-datastream",
                &stream,
                Some(&stream_found),
            ),
            step(
                "tracker",
                "personalize_event_tracker",
                "personalize-workshop-event-tracker",
                &tracker,
                Some(&tracker_found),
            ),
            step(
                "forwarder",
                "lambda_function",
                "PutEvent-Function",
                &function,
                None,
            ),
            step("api", "rest_api", "PutEventAPI", &api, Some(&api_found)),
            Step {
                logical: "old_queue".to_owned(),
                kind: "kinesis_stream".to_owned(),
                name: Some("old-queue".to_owned()),
                action: Action::Delete,
                notes: Vec::new(),
            },
        ],
    }
}

#[test]
fn a_plan_reads_as_one_line_per_resource_with_its_changes_reasons_and_notes() {
    let plan = workshop_plan();
    assert!(plan.has_changes());
    assert_eq!(plan.blocked().count(), 1);
    insta::assert_snapshot!(plan.to_string());
}

#[test]
fn a_plan_with_nothing_to_do_says_so() {
    let want = desired(&[("name", "PutEvent-datastream")]);
    let found = ours("PutEvent-datastream", &[("name", "PutEvent-datastream")]);
    let plan = Plan {
        steps: vec![step(
            "stream",
            "kinesis_stream",
            "PutEvent-datastream",
            &want,
            Some(&found),
        )],
    };
    assert!(!plan.has_changes());
    insta::assert_snapshot!(plan.to_string());
}
