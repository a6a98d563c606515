//! A local runtime for tests, and SDK configurations pointing at it.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use personalize_stack_local::{Config, Faults, Profile, Running};

/// The default account (its 12 digits are the access key id).
pub const ACCOUNT: &str = "000000000000";

/// Starts a runtime in memory with everything ready at once.
pub async fn start() -> Running {
    start_with(Profile::instant(), Faults::default()).await
}

/// Starts a runtime in memory with `profile` and `faults`.
pub async fn start_with(profile: Profile, faults: Faults) -> Running {
    start_config(Config {
        profile,
        faults,
        ..Config::default()
    })
    .await
}

/// Starts a runtime with `config`, on a free port.
pub async fn start_config(config: Config) -> Running {
    personalize_stack_local::start(Config { port: 0, ..config })
        .await
        .unwrap()
}

/// An SDK config for `account` (its 12 digits are the access key id) in `us-east-1`.
pub fn sdk(running: &Running, account: &str) -> SdkConfig {
    sdk_at(&running.endpoint_url(), account)
}

/// An SDK config for `account` against `endpoint`.
pub fn sdk_at(endpoint: &str, account: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
            aws_sdk_sts::config::Credentials::new(account, "secret", None, None, "test"),
        ))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build()
}

/// `GET /_local/resources` as JSON: every live resource per account and region.
pub async fn resources(running: &Running) -> serde_json::Value {
    inspect(running, "/_local/resources").await
}

/// `GET /_local/pollers`: what each running event source mapping poller is doing
/// (`uuid`, `shardId`, `held`, `delivering`, `idle`).
pub async fn pollers(running: &Running) -> Vec<serde_json::Value> {
    let found = inspect(running, "/_local/pollers").await;
    found["pollers"].as_array().cloned().unwrap_or_default()
}

/// `GET {path}` of the runtime's inspection endpoints, as JSON.
pub async fn inspect(running: &Running, path: &str) -> serde_json::Value {
    let addr = running.addr();
    let request = format!("GET {path} HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n");
    let response = tokio::task::spawn_blocking(move || {
        use std::io::{Read as _, Write as _};
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).unwrap();
        out
    })
    .await
    .unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    // The server may answer chunked; the JSON starts at the first `{`.
    let start = body.find('{').unwrap();
    let end = body.rfind('}').unwrap();
    serde_json::from_str(&body[start..=end]).unwrap()
}

/// A stored (uncompressed) zip holding one executable `bootstrap`, dated 1980-01-01.
pub fn zip_bootstrap(content: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o755);
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file("bootstrap", options).unwrap();
    w.write_all(content).unwrap();
    w.finish().unwrap().into_inner()
}
