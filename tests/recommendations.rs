//! `examples/recommendations/stack.yaml` as a user runs it against the local runtime: the
//! history imported, the solution trained, the campaign serving, the injection test showing
//! the test user's recommendations before and after the seven events; a renamed campaign
//! replaced; a recipe change replacing the solution (and the campaign with it); training on
//! too little history failing
//! with Personalize's reason and repaired by a new import; `destroy` leaving nothing.
#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use serde_json::Value;
use support::{Server, Workdir, text};

/// The workshop's test user.
const USER: &str = "146456223";

fn plan_json(w: &Workdir) -> Value {
    let out = w.run(&["plan", "--output", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn step<'a>(plan: &'a Value, logical: &str) -> &'a Value {
    plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["logical"] == logical)
        .unwrap_or_else(|| panic!("no step {logical}: {plan:#}"))
}

fn changed_fields(step: &Value) -> Vec<String> {
    step["changes"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|c| c["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// `plan --detailed-exitcode` exits 0: nothing to change.
fn converged(w: &Workdir) {
    let out = w.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

/// The ids of the stack's Personalize resources the runtime still holds.
fn personalize_left(server: &Server) -> Vec<String> {
    server.resources()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["service"] == "personalize")
        .map(|r| format!("{}/{}", r["kind"].as_str().unwrap(), r["id"].as_str().unwrap()))
        .filter(|id| id.contains("personalize-workshop"))
        .collect()
}

fn item_ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap_or_else(|| panic!("a list: {list:#}"))
        .iter()
        .map(|i| i["item_id"].as_str().unwrap())
        .collect()
}

#[test]
fn the_example_trains_serves_recommendations_that_the_events_change_and_destroys_cleanly() {
    let w = Workdir::example("recs", "recommendations");
    let server = Server::start(&w, &["--poll-interval-ms", "50"]);

    let out = w.run(&["up", "--yes", "--output", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let outputs = &doc["outputs"];
    let version = outputs["solution.solution_version_arn"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        version.contains(":solution/personalize-workshop-recommendations/"),
        "{outputs:#}"
    );
    assert!(
        outputs["campaign.arn"]
            .as_str()
            .unwrap()
            .ends_with(":campaign/personalize-workshop-campaign"),
        "{outputs:#}"
    );

    // The injection test asked the campaign before and after the seven events.
    let report = &doc["test"];
    assert_eq!(report["passed"], true, "{report:#}");
    let hops: Vec<&str> = report["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["hop"].as_str().unwrap())
        .collect();
    assert_eq!(
        hops,
        [
            "api",
            "stream",
            "trigger",
            "forwarder",
            "personalize",
            "recommendations"
        ]
    );
    let hop = &report["hops"][5];
    assert_eq!(hop["status"], "passed", "{hop:#}");
    let recs = &report["recommendations"];
    assert_eq!(recs["user_id"], USER, "{recs:#}");
    assert_eq!(recs["campaign_name"], "personalize-workshop-campaign");
    let (before, after) = (item_ids(&recs["before"]), item_ids(&recs["after"]));
    assert!(!before.is_empty() && !after.is_empty(), "{recs:#}");
    assert_ne!(before, after, "{recs:#}");
    assert_eq!(recs["changed"], true, "{recs:#}");
    assert!(hop["detail"].as_str().unwrap().contains("; changed ("), "{hop:#}");
    eprintln!("before: {before:?}\nafter:  {after:?}");

    // Import done, solution trained, campaign serving: nothing left to change.
    converged(&w);

    // The table shows both lists.
    let table = w.ok(&["test"]);
    assert!(
        table.contains(&format!(
            "Recommendations of campaign `personalize-workshop-campaign` for user {USER}:"
        )),
        "{table}"
    );
    assert!(
        table.contains("\n  before  ") && table.contains("\n  after   "),
        "{table}"
    );
    assert!(table.contains("All hops passed."), "{table}");

    // A renamed campaign replaces the old one rather than leaving it running (and billed).
    w.edit("name: ${stack}-campaign", "name: ${stack}-campaign-v2");
    let plan = plan_json(&w);
    assert_eq!(step(&plan, "campaign")["action"], "replace", "{plan:#}");
    w.ok(&["up", "--yes", "--no-test"]);
    converged(&w);
    let campaigns: Vec<String> = personalize_left(&server)
        .into_iter()
        .filter(|id| id.starts_with("campaign/"))
        .collect();
    assert_eq!(campaigns, ["campaign/personalize-workshop-campaign-v2"]);

    // A solution cannot be changed: a new recipe replaces it, and the campaign, which serves
    // one of its versions, follows the new version.
    w.edit("recipe: aws-user-personalization", "recipe: aws-popularity-count");
    let plan = plan_json(&w);
    let solution = step(&plan, "solution");
    assert_eq!(solution["action"], "replace", "{plan:#}");
    assert!(
        changed_fields(solution).contains(&"recipe".to_owned()),
        "{plan:#}"
    );
    let campaign = step(&plan, "campaign");
    assert!(
        changed_fields(campaign).contains(&"solution_version".to_owned()),
        "{plan:#}"
    );
    w.ok(&["up", "--yes", "--no-test"]);
    converged(&w);
    let outputs = support::outputs(&w);
    let replaced = outputs["solution.solution_version_arn"].as_str().unwrap();
    assert_ne!(replaced, version, "a new solution, a new version");

    // The campaign goes before the solution, the solution before the dataset group.
    let out = w.run(&["destroy", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let at = |what: &str| {
        stderr
            .find(&format!("{what}: deleted"))
            .unwrap_or_else(|| panic!("{what} deleted: {stderr}"))
    };
    assert!(at("campaign") < at("solution"), "{stderr}");
    assert!(at("solution") < at("dataset_group"), "{stderr}");
    assert_eq!(personalize_left(&server), Vec::<String>::new());
}

#[test]
fn too_little_history_fails_training_with_the_reason_and_a_new_import_repairs_it() {
    let w = Workdir::example("recs-small", "recommendations");
    let _server = Server::start(&w, &["--poll-interval-ms", "50"]);
    // The first 200 interactions: under Personalize's minimum of 1,000.
    let csv = std::fs::read_to_string(w.dir.join("interactions.csv")).unwrap();
    let small: String = csv.lines().take(201).map(|l| format!("{l}\n")).collect();
    std::fs::write(w.dir.join("small.csv"), small).unwrap();
    w.edit("source: ./interactions.csv", "source: ./small.csv");

    let out = w.run(&["up", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("solution version"), "{stderr}");
    assert!(stderr.contains("failed to create: "), "{stderr}");
    assert!(
        stderr.contains("1,000") && stderr.contains("import more history"),
        "Personalize's reason and what to do: {stderr}"
    );
    // The campaign cannot start without a trained version.
    assert!(stderr.contains("not started: campaign"), "{stderr}");

    // Plan says what `up` will do: train again (and create the campaign).
    let plan = plan_json(&w);
    let solution = step(&plan, "solution");
    assert_eq!(solution["action"], "update", "{plan:#}");
    assert_eq!(changed_fields(solution), ["trained"], "{plan:#}");
    assert_eq!(step(&plan, "campaign")["action"], "create", "{plan:#}");

    // A new source imports anew (the dataset group is updated, not replaced), and the
    // solution trains a new version on it.
    w.edit("source: ./small.csv", "source: ./interactions.csv");
    let plan = plan_json(&w);
    let group = step(&plan, "dataset_group");
    assert_eq!(group["action"], "update", "{plan:#}");
    assert_eq!(changed_fields(group), ["interactions_import.source"], "{plan:#}");
    w.ok(&["up", "--yes", "--no-test"]);
    converged(&w);
    w.ok(&["destroy", "--yes"]);
}
