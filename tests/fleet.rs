//! `--fleet`: the shipped stack in 25 attendee accounts of one `personalize-stack local`
//! (STS AssumeRole into each account), as a facilitator runs it.
#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use support::{Server, Workdir, common, text};

const ATTENDEES: usize = 25;

/// `attendee-01` … in accounts `100000000001` ….
fn account(n: usize) -> String {
    format!("{:012}", 100_000_000_000_u64 + n as u64)
}

fn write_fleet(w: &Workdir) -> std::path::PathBuf {
    let mut text = String::from("name: workshop-test\nconcurrency: 10\nattendees:\n");
    for n in 1..=ATTENDEES {
        text.push_str(&format!(
            "  - {{ name: attendee-{n:02}, account: \"{}\" }}\n",
            account(n)
        ));
    }
    let path = w.dir.join("attendees.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", text(out)))
}

fn rows(doc: &Value) -> &Vec<Value> {
    doc["attendees"].as_array().unwrap()
}

fn row<'a>(doc: &'a Value, attendee: &str) -> &'a Value {
    rows(doc).iter().find(|r| r["attendee"] == attendee).unwrap()
}

/// The CSV hand-out's lines after the header, split into cells (URLs, keys and ids have no
/// commas; the quoted `curl` is last).
fn handout_cells(path: &std::path::Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("attendee,account,api_url,api_key,tracking_id,curl")
    );
    lines
        .map(|l| l.splitn(6, ',').map(str::to_owned).collect())
        .collect()
}

#[test]
fn twenty_five_attendees_converge_pass_get_a_handout_and_are_destroyed_to_empty() {
    let w = Workdir::prebuilt("fleet25");
    let server = Server::start(&w, &["--poll-interval-ms", "50"]);
    let fleet = write_fleet(&w);
    let fleet = fleet.to_str().unwrap();
    let handout = w.dir.join("handout.csv");

    let out = w.run(&[
        "--fleet",
        fleet,
        "up",
        "--yes",
        "--output",
        "json",
        "--handout",
        handout.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let doc = json_of(&out);
    assert_eq!(doc["ok"], true, "{doc:#}");
    assert_eq!(rows(&doc).len(), ATTENDEES);
    for n in 1..=ATTENDEES {
        let r = row(&doc, &format!("attendee-{n:02}"));
        assert_eq!(r["account"], account(n), "{r:#}");
        assert_eq!(r["status"], "created", "{r:#}");
        assert_eq!(r["test"], "passed", "{r:#}");
        assert!(
            r["api_key"].as_str().unwrap().contains("hidden"),
            "keys are masked in the summary: {r:#}"
        );
    }
    // The summary's URLs and tracking ids, the hand-out's keys: 25 distinct of each.
    let distinct = |field: &str| -> BTreeSet<String> {
        rows(&doc)
            .iter()
            .map(|r| r[field].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(distinct("api_url").len(), ATTENDEES);
    assert_eq!(distinct("tracking_id").len(), ATTENDEES);
    let cells = handout_cells(&handout);
    assert_eq!(cells.len(), ATTENDEES);
    let column = |i: usize| -> BTreeSet<&str> { cells.iter().map(|c| c[i].as_str()).collect() };
    assert_eq!(column(2).len(), ATTENDEES, "URLs");
    assert_eq!(column(3).len(), ATTENDEES, "keys");
    assert_eq!(column(4).len(), ATTENDEES, "tracking ids");
    assert_eq!(
        column(2),
        distinct("api_url").iter().map(String::as_str).collect()
    );
    for c in &cells {
        assert!(
            c[5].contains(&c[2]) && c[5].contains(&format!("x-api-key: {}", c[3])),
            "the curl uses the attendee's URL and key: {c:?}"
        );
        assert!(c[5].contains("146456223"), "and the sample records: {c:?}");
    }

    // The text summary: a row per attendee.
    let out = w.run(&["--fleet", fleet, "outputs"]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("ATTENDEE"), "{stdout}");
    assert_eq!(stdout.lines().count(), ATTENDEES + 1, "{stdout}");

    // Without --yes and without a terminal, nothing is deleted.
    let refused = w.run(&["--fleet", fleet, "destroy"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("pass --yes"));

    let out = w.run(&["--fleet", fleet, "destroy", "--yes", "--output", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let doc = json_of(&out);
    assert!(rows(&doc).iter().all(|r| r["status"] == "empty"), "{doc:#}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("attendee-07 ({}): dataset_group", account(7))),
        "what goes is listed per account first:\n{stderr}"
    );
    for n in 1..=ATTENDEES {
        let left = server.resources_of(&account(n));
        assert_eq!(
            left["resources"].as_array().unwrap().len(),
            0,
            "account {} is empty: {left:#}",
            account(n)
        );
    }
}

#[test]
fn three_broken_accounts_are_named_and_a_rerun_touches_only_them() {
    let w = Workdir::prebuilt("fleet-broken");
    let server = Server::start(&w, &["--poll-interval-ms", "50"]);
    let fleet = write_fleet(&w);
    let fleet = fleet.to_str().unwrap();
    let broken = [4, 13, 22];

    // A same-named stream without the stack's tags in three accounts.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let kinesis = |n: usize| aws_sdk_kinesis::Client::new(&common::sdk_at(&server.endpoint, &account(n)));
    for n in broken {
        runtime
            .block_on(
                kinesis(n)
                    .create_stream()
                    .stream_name("PutEvent-datastream")
                    .shard_count(1)
                    .send(),
            )
            .unwrap();
    }

    let out = w.run(&["--fleet", fleet, "up", "--yes", "--output", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let doc = json_of(&out);
    let failed: Vec<String> = broken.iter().map(|n| format!("attendee-{n:02}")).collect();
    assert_eq!(doc["failed"], serde_json::json!(failed), "{doc:#}");
    for n in 1..=ATTENDEES {
        let r = row(&doc, &format!("attendee-{n:02}"));
        if broken.contains(&n) {
            assert_eq!(r["status"], "failed", "{r:#}");
            let reason = r["reason"].as_str().unwrap();
            assert!(
                reason.contains("kinesis_stream `PutEvent-datastream` exists without this stack's tags"),
                "{reason}"
            );
            assert_eq!(r["writes"], 0, "nothing was changed there: {r:#}");
        } else {
            assert_eq!(r["status"], "created", "{r:#}");
            assert_eq!(r["test"], "passed", "{r:#}");
        }
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("up failed for 3 of 25 attendees: attendee-04, attendee-13, attendee-22"),
        "{stderr}"
    );

    for n in broken {
        runtime
            .block_on(
                kinesis(n)
                    .delete_stream()
                    .stream_name("PutEvent-datastream")
                    .send(),
            )
            .unwrap();
    }
    let out = w.run(&["--fleet", fleet, "up", "--yes", "--output", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let doc = json_of(&out);
    for n in 1..=ATTENDEES {
        let r = row(&doc, &format!("attendee-{n:02}"));
        if broken.contains(&n) {
            assert_eq!(r["status"], "created", "{r:#}");
            assert_eq!(r["test"], "passed", "{r:#}");
        } else {
            assert_eq!(r["status"], "unchanged", "{r:#}");
            assert_eq!(r["test"], "passed earlier", "no new test events: {r:#}");
            assert_eq!(
                r["writes"], 0,
                "an account already converged is not touched: {r:#}"
            );
        }
    }

    // `plan --fleet --detailed-exitcode`: nothing left to do anywhere.
    let out = w.run(&["--fleet", fleet, "plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn a_fleet_file_with_mistakes_is_reported_with_positions_before_any_call() {
    let w = Workdir::prebuilt("fleet-bad");
    let path = w.dir.join("bad.yaml");
    std::fs::write(
        &path,
        "attendees:\n  - { name: alice, account: \"123\" }\n  - { name: bob, profile: p, vars: { shards: 2 } }\n",
    )
    .unwrap();
    let out = w.run(&["--fleet", path.to_str().unwrap(), "plan"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.yaml:2:29: `123` is not a 12-digit account id"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bad.yaml:3:38: `shards` is not a variable the stack declares"),
        "{stderr}"
    );
}

/// An attendee whose profile is missing gets one line naming the profile and where it was
/// looked for; the other attendee converges.
#[test]
fn a_missing_profile_fails_its_attendee_in_one_line_and_the_others_converge() {
    let w = Workdir::prebuilt("fleet-profile");
    let server = Server::start(&w, &["--poll-interval-ms", "50"]);
    let config = w.dir.join("aws-config");
    let credentials = w.dir.join("aws-credentials");
    std::fs::write(&config, "[default]\nregion = us-east-1\n").unwrap();
    std::fs::write(
        &credentials,
        "[present]\naws_access_key_id = 200000000001\naws_secret_access_key = secret\n",
    )
    .unwrap();
    let fleet = w.dir.join("attendees.yaml");
    std::fs::write(
        &fleet,
        "name: profiles\nattendees:\n  - { name: present, profile: present }\n  - { name: absent, profile: nope }\n",
    )
    .unwrap();
    let env = [
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
        ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
    ];
    let out = w.run_env(
        &[
            "--fleet",
            fleet.to_str().unwrap(),
            "up",
            "--yes",
            "--no-test",
            "--output",
            "json",
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let doc = json_of(&out);
    assert_eq!(row(&doc, "present")["ok"], true, "{doc:#}");
    assert_eq!(row(&doc, "present")["account"], "200000000001", "{doc:#}");
    let reason = row(&doc, "absent")["reason"].as_str().unwrap().to_owned();
    assert_eq!(
        reason,
        format!(
            "cannot connect to the account: profile `nope` is not in {} or {} (profiles there: default, present); hint: use one of those, or create it with `aws configure --profile nope`",
            config.display(),
            credentials.display()
        )
    );
    drop(server);
}
