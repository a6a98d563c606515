//! `personalize-stack local` as a user runs it: a separate process, its state on disk, the
//! official SDK clients talking to it — and `kill -9` in the middle.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A `personalize-stack local` process; killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    endpoint: String,
}

impl Server {
    fn start(data_dir: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_personalize-stack"))
            .args([
                "local",
                "--port",
                "0",
                "--latency",
                "instant",
                "--quiet",
                "--data-dir",
            ])
            .arg(data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let endpoint = line.trim().to_owned();
        assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint:?}");
        Server { child, endpoint }
    }

    /// SIGKILL: no chance to flush or close anything.
    fn kill_9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sdk(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
            aws_sdk_sts::config::Credentials::new("123456789012", "secret", None, None, "test"),
        ))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("personalize-stack-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9_and_restart() {
    let dir = temp_dir("kill9");
    let server = Server::start(&dir);
    let config = sdk(&server.endpoint);
    let kinesis = aws_sdk_kinesis::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    kinesis
        .create_stream()
        .stream_name("PutEvent-datastream")
        .shard_count(2)
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("forwarder")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("forwarder")
        .policy_name("put-events")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"personalize:PutEvents","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    server.kill_9();

    let server = Server::start(&dir);
    let config = sdk(&server.endpoint);
    let summary = aws_sdk_kinesis::Client::new(&config)
        .describe_stream_summary()
        .stream_name("PutEvent-datastream")
        .send()
        .await
        .unwrap();
    let summary = summary.stream_description_summary().unwrap();
    assert_eq!(summary.open_shard_count(), 2);
    let iam = aws_sdk_iam::Client::new(&config);
    let role = iam.get_role().role_name("forwarder").send().await.unwrap();
    assert_eq!(
        role.role().unwrap().arn(),
        "arn:aws:iam::123456789012:role/forwarder"
    );
    let policies = iam
        .list_role_policies()
        .role_name("forwarder")
        .send()
        .await
        .unwrap();
    assert_eq!(policies.policy_names(), ["put-events"]);
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn local_prints_its_address_and_stops_on_ctrl_c() {
    let dir = temp_dir("sigint");
    let server = Server::start(&dir);
    let pid = server.child.id().to_string();
    let status = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(status.success());
    let mut server = server;
    let exit = server.child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_second_runtime_on_the_same_data_dir_is_refused_clearly() {
    let dir = temp_dir("locked");
    let _first = Server::start(&dir);
    let second = Command::new(env!("CARGO_BIN_EXE_personalize-stack"))
        .args(["local", "--port", "0", "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(1));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("cannot open the local runtime's state"), "{err}");
}

#[tokio::test]
async fn local_resources_and_events_inspect_a_running_runtime() {
    let dir = temp_dir("inspect");
    let server = Server::start(&dir);
    aws_sdk_kinesis::Client::new(&sdk(&server.endpoint))
        .create_stream()
        .stream_name("inspected")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_personalize-stack"))
            .args(["local"])
            .args(args)
            .args(["--endpoint-url", &server.endpoint, "--output", "json"])
            .output()
            .unwrap()
    };
    let out = run(&["resources", "--account", "123456789012"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let streams: Vec<&serde_json::Value> = listed["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["service"] == "kinesis" && r["kind"] == "stream")
        .collect();
    assert_eq!(streams.len(), 1);
    assert_eq!(streams[0]["id"], "inspected");
    let out = run(&["events", "--tracking-id", "no-such-tracker"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let events: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(events["events"], serde_json::json!([]));
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn local_events_without_a_runtime_says_so() {
    let out = Command::new(env!("CARGO_BIN_EXE_personalize-stack"))
        .args(["local", "events", "--endpoint-url", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nothing listens on 127.0.0.1:9"), "{err}");
}
