//! End-to-end tests of the `personalize-stack` binary. Commands that talk to AWS arrive with
//! their issues; these cover what works offline.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_personalize-stack"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn validate_accepts_the_shipped_stack_and_prints_dependency_order() {
    let out = run(&["validate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("stack `personalize-workshop` (us-east-1) is valid: 7 resources, 3 routes"),
        "{text}"
    );
    // Each resource appears after everything it references.
    let line_of = |name: &str| {
        text.lines()
            .position(|l| l.split_whitespace().any(|w| w == name))
            .unwrap_or_else(|| panic!("`{name}` missing from:\n{text}"))
    };
    for (before, after) in [
        ("dataset_group", "tracker"),
        ("tracker", "forwarder"),
        ("forwarder_role", "forwarder"),
        ("stream", "forwarder"),
        ("stream", "api_role"),
        ("api_role", "api"),
    ] {
        assert!(
            line_of(before) < line_of(after),
            "`{before}` should precede `{after}`:\n{text}"
        );
    }
}

#[test]
fn validate_json_lists_levels() {
    let out = run(&["validate", "--output", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(
        v["levels"],
        serde_json::json!([
            ["dataset_group", "stream", "forwarder_role"],
            ["tracker", "api_role"],
            ["forwarder", "api"]
        ])
    );
}

/// What `validate` prints, as users read it: the shipped stack's summary and order, and a
/// file with five mistakes (snapshots in `tests/snapshots/`; `cargo insta review` after an
/// intended change).
#[test]
fn validate_output_reads_as_recorded() {
    let ok = run(&["validate"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    insta::assert_snapshot!("validate_shipped_stack", stdout(&ok));
    let bad = run(&["validate", "-f", "tests/fixtures/five-mistakes.yaml"]);
    assert_eq!(bad.status.code(), Some(1));
    insta::assert_snapshot!("validate_five_mistakes", stderr(&bad));
}

/// Five independent mistakes in five resources: all reported in one run, each at its
/// line:column, exit 1.
#[test]
fn validate_reports_every_mistake_with_its_position() {
    let out = run(&["validate", "-f", "tests/fixtures/five-mistakes.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let f = "tests/fixtures/five-mistakes.yaml";
    for expected in [
        format!("error: {f}:34:22: unknown resource `dataset_grp` in `${{dataset_grp.arn}}`"),
        format!("error: {f}:40:15: `shards` must be between 1 and 500 (got 0)"),
        format!("error: {f}:47:19: `lambda` is not an AWS service principal"),
        format!("error: {f}:61:7: unknown field `memroy_mb`"),
        "the rendered body is not valid JSON".to_owned(),
    ] {
        assert!(err.contains(&expected), "missing `{expected}` in:\n{err}");
    }
    assert!(err.contains("hint: did you mean `memory_mb`?"), "{err}");
    assert!(err.contains("hint: did you mean `dataset_group`?"), "{err}");
    assert!(err.contains("error: 5 problems found in"), "{err}");
    assert!(stdout(&out).is_empty());
}

/// An unknown top-level key used to stop the check there and hide every other problem.
#[test]
fn an_unknown_top_level_key_is_reported_with_the_other_mistakes() {
    let f = "tests/fixtures/three-mistakes.yaml";
    let out = run(&["validate", "-f", f]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    for expected in [
        format!("error: {f}:23:1: unknown field `colour`, expected one of `stack`, `region`"),
        format!(
            "error: {f}:37:13: Kinesis stream name `PutEvent datastream` has characters AWS does not allow"
        ),
        format!("error: {f}:64:22: unknown resource `trackr` in `${{trackr.tracking_id}}`"),
        "hint: did you mean `tracker`?".to_owned(),
        "error: 3 problems found in".to_owned(),
    ] {
        assert!(err.contains(&expected), "missing `{expected}` in:\n{err}");
    }
}

#[test]
fn validate_json_reports_problems_on_stdout() {
    let out = run(&[
        "validate",
        "-f",
        "tests/fixtures/five-mistakes.yaml",
        "--output",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["problems"].as_array().unwrap().len(), 5);
    assert_eq!(v["problems"][0]["line"], 34);
    assert_eq!(v["problems"][0]["column"], 22);
}

#[test]
fn a_missing_stack_file_is_a_clear_error() {
    let out = run(&["validate", "-f", "no/such/stack.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("error: cannot read the stack file `no/such/stack.yaml`"),
        "{err}"
    );
    assert!(err.contains("caused by:"), "{err}");
}

#[test]
fn an_undeclared_var_override_is_refused() {
    let out = run(&["validate", "--var", "shard=2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("`--var shard=...` sets a variable the stack does not declare"));
}

#[test]
fn test_before_up_says_what_is_missing_and_what_to_do() {
    let dir = std::env::temp_dir().join(format!("ps-test-before-up-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/stack.yaml")).unwrap();
    std::fs::write(dir.join("stack.yaml"), &shipped).unwrap();
    let test = || {
        Command::new(env!("CARGO_BIN_EXE_personalize-stack"))
            .arg("-f")
            .arg(dir.join("stack.yaml"))
            .args(["--local", "test"])
            .output()
            .unwrap()
    };
    let out = test();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("`api` is not deployed") && stderr(&out).contains("personalize-stack up"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());

    let (without, _) = shipped.split_once("\ntest:").unwrap();
    std::fs::write(dir.join("stack.yaml"), without).unwrap();
    let out = test();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no `test:` section"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `plan` as a user would with `args` and `env` only: a clean environment, a scratch
/// `HOME` holding `~/.aws/config` with two profiles, no instance metadata.
fn plan_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    let home = std::env::temp_dir().join(format!("ps-connect-{}", std::process::id()));
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    std::fs::write(
        home.join(".aws/config"),
        "[default]\nregion = us-east-1\n[profile dev]\nregion = eu-west-1\n",
    )
    .unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_personalize-stack"));
    command
        .args(args)
        .arg("plan")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied());
    command.output().unwrap()
}

/// The resolver's own words differ between machines (no network at all, or a name that does
/// not exist): keep the message's shape.
fn without_resolver_reason(text: &str) -> String {
    text.lines()
        .map(
            |line| match line.find("` (failed to lookup address information: ") {
                Some(at) if line.contains("cannot resolve `") => {
                    format!("{}` (<the resolver's reason>)", &line[..at])
                }
                _ => line.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("\n")
}

/// The failures a facilitator meets first, each in one line with the hint its cause calls for
/// (the credentials hint only when credentials are the problem), at once (nothing answered,
/// so nothing is retried), and never an SDK `Debug` dump; `-v` adds the SDK's layers.
#[test]
fn connection_and_credential_failures_read_as_recorded() {
    let keys = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ];
    let cases = [
        (
            "a refused connection",
            plan_with(&["--endpoint-url", "http://127.0.0.1:1"], &keys),
        ),
        (
            "a host that does not resolve",
            plan_with(&["--endpoint-url", "http://nowhere.invalid:4566"], &keys),
        ),
        ("no credentials anywhere", plan_with(&[], &[])),
        (
            "a profile that does not exist",
            plan_with(&["--profile", "nope"], &[]),
        ),
        (
            "AWS_PROFILE naming one that does not exist",
            plan_with(&[], &[("AWS_PROFILE", "nope")]),
        ),
    ];
    let mut recorded = String::new();
    for (case, out) in &cases {
        assert_eq!(out.status.code(), Some(1), "{case}: {}", stderr(out));
        assert!(stdout(out).is_empty(), "{case}");
        let err = stderr(out);
        for dump in [" { ", "DispatchFailure {", "ConnectorError {"] {
            assert!(!err.contains(dump), "{case}: a Debug rendering: {err}");
        }
        assert!(
            !err.contains("caused by:"),
            "{case}: one line, then the hint: {err}"
        );
        recorded.push_str(&format!("# {case}\n{}\n", without_resolver_reason(&err)));
    }
    insta::assert_snapshot!(recorded);
    let verbose = stderr(&plan_with(&["--endpoint-url", "http://127.0.0.1:1", "-v"], &keys));
    assert!(verbose.contains("caused by: dispatch failure"), "{verbose}");
    assert!(!verbose.contains(" { "), "{verbose}");
}

/// `stack.schema.json` is what the types generate; regenerate it with
/// `personalize-stack schema > stack.schema.json`.
#[test]
fn checked_in_schema_matches_the_types() {
    let out = run(&["schema"]);
    assert!(out.status.success());
    let checked_in =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("stack.schema.json")).unwrap();
    assert!(
        stdout(&out) == checked_in,
        "stack.schema.json is stale: run `cargo run -- schema > stack.schema.json`"
    );
}

#[test]
fn the_shipped_stack_validates_against_the_schema() {
    let out = run(&["schema"]);
    let schema: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let source = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("stack.yaml")).unwrap();
    let instance = personalize_stack_core::yaml::parse(&source).unwrap().to_json();
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // And the schema is not vacuous: a misspelt field fails it.
    let mut broken = instance.clone();
    broken["resources"]["stream"]["kinesis_stream"]["shardz"] = 2.into();
    assert!(!validator.is_valid(&broken));
}

/// `validate` needs no network: in a network namespace with no interfaces up, it gives the
/// same result. (Needs `unshare -n`, i.e. root, as on CI; elsewhere the test says so.)
#[test]
fn validate_makes_no_network_call() {
    let probe = Command::new("unshare").args(["-n", "true"]).status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("skipped: `unshare -n` is not available here");
        return;
    }
    for file in ["stack.yaml", "tests/fixtures/five-mistakes.yaml"] {
        let isolated = Command::new("unshare")
            .args([
                "-n",
                env!("CARGO_BIN_EXE_personalize-stack"),
                "validate",
                "-f",
                file,
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        let normal = run(&["validate", "-f", file]);
        assert_eq!(isolated.status.code(), normal.status.code(), "{file}");
        assert_eq!(stdout(&isolated), stdout(&normal), "{file}");
        assert_eq!(stderr(&isolated), stderr(&normal), "{file}");
    }
}

#[test]
fn a_closed_stdout_ends_the_output_quietly() {
    // The reading end is closed before the command writes anything, so every write fails.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    for args in [&["schema"][..], &["validate"][..]] {
        let out = Command::new(env!("CARGO_BIN_EXE_personalize-stack"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(writer.try_clone().unwrap())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(141), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{args:?}: {}", stderr(&out));
    }
}
