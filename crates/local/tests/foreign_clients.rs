//! Clients nobody here wrote — the AWS CLI and boto3, installed from PyPI by
//! `.ci/python-tools` — work against the runtime with nothing but an endpoint URL.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support as common;

use std::path::PathBuf;
use std::process::Command;

/// Runs a tool with only the endpoint and dummy credentials configured.
async fn run(program: PathBuf, args: Vec<String>) -> (bool, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(program)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", std::env::temp_dir())
            .env("AWS_ACCESS_KEY_ID", "123456789012")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

async fn aws(endpoint: &str, args: &[&str]) -> serde_json::Value {
    let mut all = vec![
        "--endpoint-url".to_owned(),
        endpoint.to_owned(),
        "--output".to_owned(),
        "json".to_owned(),
    ];
    all.extend(args.iter().map(|s| (*s).to_owned()));
    let (ok, stdout, stderr) = run(common::python_tools().join("aws"), all).await;
    assert!(ok, "aws {args:?} failed: {stderr}");
    if stdout.trim().is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&stdout).unwrap()
    }
}

#[tokio::test]
async fn the_aws_cli_works_with_only_an_endpoint_url() {
    let local = common::start().await;
    let endpoint = local.endpoint_url();
    let me = aws(&endpoint, &["sts", "get-caller-identity"]).await;
    assert_eq!(me["Account"], "123456789012");

    aws(
        &endpoint,
        &[
            "kinesis",
            "create-stream",
            "--stream-name",
            "cli-stream",
            "--shard-count",
            "2",
        ],
    )
    .await;
    let summary = aws(
        &endpoint,
        &[
            "kinesis",
            "describe-stream-summary",
            "--stream-name",
            "cli-stream",
        ],
    )
    .await;
    assert_eq!(summary["StreamDescriptionSummary"]["OpenShardCount"], 2);
    let listed = aws(&endpoint, &["kinesis", "list-streams"]).await;
    assert_eq!(listed["StreamNames"], serde_json::json!(["cli-stream"]));

    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role = aws(
        &endpoint,
        &[
            "iam",
            "create-role",
            "--role-name",
            "cli-role",
            "--assume-role-policy-document",
            trust,
        ],
    )
    .await;
    assert_eq!(role["Role"]["Arn"], "arn:aws:iam::123456789012:role/cli-role");
    let fetched = aws(&endpoint, &["iam", "get-role", "--role-name", "cli-role"]).await;
    assert_eq!(
        fetched["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
        "lambda.amazonaws.com"
    );

    let group = aws(
        &endpoint,
        &["personalize", "create-dataset-group", "--name", "cli-group"],
    )
    .await;
    assert!(
        group["datasetGroupArn"]
            .as_str()
            .unwrap()
            .ends_with(":dataset-group/cli-group")
    );

    let api = aws(&endpoint, &["apigateway", "create-rest-api", "--name", "cli-api"]).await;
    let id = api["id"].as_str().unwrap();
    let resources = aws(&endpoint, &["apigateway", "get-resources", "--rest-api-id", id]).await;
    assert_eq!(resources["items"][0]["path"], "/");

    // A typed error comes through as the CLI's error, with AWS's code.
    let (ok, _, stderr) = run(
        common::python_tools().join("aws"),
        [
            "--endpoint-url",
            &endpoint,
            "kinesis",
            "describe-stream",
            "--stream-name",
            "missing",
        ]
        .map(str::to_owned)
        .to_vec(),
    )
    .await;
    assert!(!ok);
    assert!(stderr.contains("ResourceNotFoundException"), "{stderr}");
}

#[tokio::test]
async fn boto3_works_with_only_an_endpoint_url() {
    let local = common::start().await;
    let script = format!(
        r#"
import json, boto3
kw = dict(endpoint_url="{endpoint}")
kinesis = boto3.client("kinesis", **kw)
kinesis.create_stream(StreamName="boto-stream", ShardCount=1)
desc = kinesis.describe_stream(StreamName="boto-stream")["StreamDescription"]
logs = boto3.client("logs", **kw)
logs.create_log_group(logGroupName="/aws/lambda/boto")
groups = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"]
lam = boto3.client("lambda", **kw)
functions = lam.list_functions()["Functions"]
try:
    lam.get_function(FunctionName="missing")
    missing = None
except lam.exceptions.ResourceNotFoundException as e:
    missing = e.response["Error"]["Code"]
print(json.dumps({{"shards": len(desc["Shards"]), "arn": desc["StreamARN"],
                  "groups": [g["logGroupName"] for g in groups], "functions": functions, "missing": missing}}))
"#,
        endpoint = local.endpoint_url()
    );
    let (ok, stdout, stderr) = run(
        common::python_tools().join("python"),
        vec!["-c".to_owned(), script],
    )
    .await;
    assert!(ok, "boto3 script failed: {stderr}");
    let out: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(out["shards"], 1);
    assert_eq!(
        out["arn"],
        "arn:aws:kinesis:us-east-1:123456789012:stream/boto-stream"
    );
    assert_eq!(out["groups"], serde_json::json!(["/aws/lambda/boto"]));
    assert_eq!(out["functions"], serde_json::json!([]));
    assert_eq!(out["missing"], "ResourceNotFoundException");
}
