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

use personalize_stack_test_support as local_common;

/// Polls `cond` every 100 ms for at most `secs` seconds.
async fn eventually(secs: u64, mut cond: impl AsyncFnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if cond().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

/// PutEvents answered 200, then `kill -9`: the events are there after restart. Records PUT
/// through the API but not yet delivered (the mapping was disabled) survive `kill -9` too and
/// reach the forwarder — and PutEvents — once the mapping is enabled again: at-least-once,
/// never skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_and_undelivered_records_survive_kill_9() {
    use local_common::workshop;
    let zip = tokio::task::spawn_blocking(workshop::forwarder_zip)
        .await
        .unwrap();
    let dir = temp_dir("kill9-data");
    let server = Server::start(&dir);
    let deployed = workshop::deploy(&server.endpoint, 1, zip).await;
    let addr: std::net::SocketAddr = server.endpoint.trim_start_matches("http://").parse().unwrap();

    // 1. The seven records go all the way through; then the mapping is disabled.
    let body = |tag: &str| {
        let records: Vec<serde_json::Value> = workshop::EVENTS
            .iter()
            .map(|(item, ts, ty)| {
                let data = serde_json::json!({"userid": "146456223", "itemid": format!("{tag}{item}"), "timestamp": ts, "event_type": ty});
                serde_json::json!({"Data": data.to_string(), "PartitionKey": "146456223"})
            })
            .collect();
        serde_json::json!({ "Records": records }).to_string()
    };
    let (status, _) = workshop::put_records(addr, &deployed.api_id, Some(&deployed.key), &body("a-"));
    assert_eq!(status, 200);
    let tracking = deployed.tracking_id.clone();
    assert!(
        eventually(60, async || workshop::stored_events(addr, &tracking).len() == 7).await,
        "the first seven events were not stored"
    );
    let lambda = aws_sdk_lambda::Client::new(&local_common::sdk_at(&server.endpoint, workshop::ACCOUNT));
    let mapping = lambda
        .list_event_source_mappings()
        .function_name("PutEvent-Function")
        .send()
        .await
        .unwrap();
    let uuid = mapping.event_source_mappings()[0].uuid().unwrap().to_owned();
    lambda
        .update_event_source_mapping()
        .uuid(&uuid)
        .enabled(false)
        .send()
        .await
        .unwrap();
    assert!(
        eventually(30, async || {
            let m = lambda
                .get_event_source_mapping()
                .uuid(&uuid)
                .send()
                .await
                .unwrap();
            m.state() == Some("Disabled")
        })
        .await
    );

    // 2. Seven more records reach the stream but not the function; then SIGKILL.
    let (status, response) = workshop::put_records(addr, &deployed.api_id, Some(&deployed.key), &body("b-"));
    assert_eq!(status, 200, "{response}");
    server.kill_9();

    // 3. After restart: the first seven are still stored; enabling the mapping delivers the rest.
    let server = Server::start(&dir);
    let addr: std::net::SocketAddr = server.endpoint.trim_start_matches("http://").parse().unwrap();
    assert_eq!(workshop::stored_events(addr, &deployed.tracking_id).len(), 7);
    let lambda = aws_sdk_lambda::Client::new(&local_common::sdk_at(&server.endpoint, workshop::ACCOUNT));
    lambda
        .update_event_source_mapping()
        .uuid(&uuid)
        .enabled(true)
        .send()
        .await
        .unwrap();
    let tracking = deployed.tracking_id.clone();
    assert!(
        eventually(60, async || workshop::stored_events(addr, &tracking).len() >= 14).await,
        "the undelivered records did not arrive after restart"
    );
    let events = workshop::stored_events(addr, &deployed.tracking_id);
    assert_eq!(events.len(), 14, "exactly once each: {events:#?}");
    assert_eq!(
        events.iter().filter(|e| e.to_string().contains("\"b-")).count(),
        7
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
