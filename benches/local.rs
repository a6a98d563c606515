//! Local runtime benchmarks: `cargo bench --bench local`. Prints figures; asserts nothing.
//!
//! - sequential SDK `DescribeStreamSummary` calls per second (target ≥ 2,000/s on 2 cores);
//! - resident memory of a `personalize-stack local` process holding 50 accounts' stacks
//!   (target < 100 MB).
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn sdk(endpoint: &str, account: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
            aws_sdk_sts::config::Credentials::new(account, "secret", None, None, "bench"),
        ))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build()
}

/// A stored (uncompressed) zip holding one `bootstrap` file.
fn tiny_zip(content: &[u8]) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let name = b"bootstrap";
    let crc = crc32(content);
    let size = u32::try_from(content.len()).unwrap();
    let mut z = Vec::new();
    z.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    z.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
    z.extend_from_slice(&crc.to_le_bytes());
    z.extend_from_slice(&size.to_le_bytes());
    z.extend_from_slice(&size.to_le_bytes());
    z.extend_from_slice(&(name.len() as u16).to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z.extend_from_slice(name);
    z.extend_from_slice(content);
    let central = z.len() as u32;
    z.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    z.extend_from_slice(&[20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
    z.extend_from_slice(&crc.to_le_bytes());
    z.extend_from_slice(&size.to_le_bytes());
    z.extend_from_slice(&size.to_le_bytes());
    z.extend_from_slice(&(name.len() as u16).to_le_bytes());
    z.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend_from_slice(&(0o100_755u32 << 16).to_le_bytes());
    z.extend_from_slice(&0u32.to_le_bytes());
    z.extend_from_slice(name);
    let central_size = z.len() as u32 - central;
    z.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    z.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
    z.extend_from_slice(&central_size.to_le_bytes());
    z.extend_from_slice(&central.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z
}

const TRUST_LAMBDA: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const TRUST_APIGW: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const PUT_RECORDS: &str = r#"{
    "StreamName": "$input.params('stream-name')",
    "Records": [
        #foreach($record in $input.path('$.Records'))
        { "Data": "$util.base64Encode($record.Data)", "PartitionKey": "$record.PartitionKey" }#if($foreach.hasNext),#end
        #end
    ]
}"#;

/// The workshop's stack, created through the SDK in `account`.
async fn create_stack(endpoint: &str, account: &str, zip: &[u8]) {
    use aws_sdk_apigateway::types::IntegrationType;
    let config = sdk(endpoint, account);
    let iam = aws_sdk_iam::Client::new(&config);
    let role = iam
        .create_role()
        .role_name("forwarder")
        .assume_role_policy_document(TRUST_LAMBDA)
        .send()
        .await
        .unwrap();
    let role_arn = role.role().unwrap().arn().to_owned();
    iam.put_role_policy()
        .role_name("forwarder")
        .policy_name("put-events")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"personalize:PutEvents","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let api_role = iam
        .create_role()
        .role_name("api")
        .assume_role_policy_document(TRUST_APIGW)
        .send()
        .await
        .unwrap();
    let api_role_arn = api_role.role().unwrap().arn().to_owned();

    let kinesis = aws_sdk_kinesis::Client::new(&config);
    kinesis
        .create_stream()
        .stream_name("PutEvent-datastream")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    let stream_arn = format!("arn:aws:kinesis:us-east-1:{account}:stream/PutEvent-datastream");

    let personalize = aws_sdk_personalize::Client::new(&config);
    let schema = personalize
        .create_schema()
        .name("interactions")
        .schema(r#"{"type":"record","name":"Interactions","namespace":"com.amazonaws.personalize.schema","fields":[{"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},{"name":"TIMESTAMP","type":"long"}],"version":"1.0"}"#)
        .send()
        .await
        .unwrap();
    let group = personalize
        .create_dataset_group()
        .name("workshop")
        .send()
        .await
        .unwrap();
    let group_arn = group.dataset_group_arn().unwrap().to_owned();
    personalize
        .create_dataset()
        .name("interactions")
        .dataset_group_arn(&group_arn)
        .dataset_type("Interactions")
        .schema_arn(schema.schema_arn().unwrap())
        .send()
        .await
        .unwrap();
    let tracker = personalize
        .create_event_tracker()
        .name("tracker")
        .dataset_group_arn(&group_arn)
        .send()
        .await
        .unwrap();

    let lambda = aws_sdk_lambda::Client::new(&config);
    lambda
        .create_function()
        .function_name("PutEvent-Function")
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .role(&role_arn)
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(zip.to_vec().into())
                .build(),
        )
        .environment(
            aws_sdk_lambda::types::Environment::builder()
                .variables("TRACKING_ID", tracker.tracking_id().unwrap())
                .build(),
        )
        .send()
        .await
        .unwrap();
    lambda
        .create_event_source_mapping()
        .function_name("PutEvent-Function")
        .event_source_arn(&stream_arn)
        .starting_position(aws_sdk_lambda::types::EventSourcePosition::TrimHorizon)
        .send()
        .await
        .unwrap();
    aws_sdk_cloudwatchlogs::Client::new(&config)
        .create_log_group()
        .log_group_name("/aws/lambda/PutEvent-Function")
        .send()
        .await
        .unwrap();

    let apigw = aws_sdk_apigateway::Client::new(&config);
    let api = apigw.create_rest_api().name("PutEventAPI").send().await.unwrap();
    let api_id = api.id().unwrap().to_owned();
    let root = api.root_resource_id().unwrap().to_owned();
    let streams = apigw
        .create_resource()
        .rest_api_id(&api_id)
        .parent_id(&root)
        .path_part("streams")
        .send()
        .await
        .unwrap();
    let named = apigw
        .create_resource()
        .rest_api_id(&api_id)
        .parent_id(streams.id().unwrap())
        .path_part("{stream-name}")
        .send()
        .await
        .unwrap();
    let records = apigw
        .create_resource()
        .rest_api_id(&api_id)
        .parent_id(named.id().unwrap())
        .path_part("records")
        .send()
        .await
        .unwrap();
    for (resource, method, action, template) in [
        (streams.id().unwrap(), "GET", "ListStreams", "{}"),
        (
            named.id().unwrap(),
            "GET",
            "DescribeStream",
            r#"{"StreamName": "$input.params('stream-name')"}"#,
        ),
        (records.id().unwrap(), "PUT", "PutRecords", PUT_RECORDS),
    ] {
        apigw
            .put_method()
            .rest_api_id(&api_id)
            .resource_id(resource)
            .http_method(method)
            .authorization_type("NONE")
            .api_key_required(true)
            .send()
            .await
            .unwrap();
        apigw
            .put_integration()
            .rest_api_id(&api_id)
            .resource_id(resource)
            .http_method(method)
            .r#type(IntegrationType::Aws)
            .integration_http_method("POST")
            .uri(format!("arn:aws:apigateway:us-east-1:kinesis:action/{action}"))
            .credentials(&api_role_arn)
            .request_parameters(
                "integration.request.header.Content-Type",
                "'application/x-amz-json-1.1'",
            )
            .request_templates("application/json", template)
            .passthrough_behavior("WHEN_NO_TEMPLATES")
            .send()
            .await
            .unwrap();
        apigw
            .put_method_response()
            .rest_api_id(&api_id)
            .resource_id(resource)
            .http_method(method)
            .status_code("200")
            .send()
            .await
            .unwrap();
        apigw
            .put_integration_response()
            .rest_api_id(&api_id)
            .resource_id(resource)
            .http_method(method)
            .status_code("200")
            .send()
            .await
            .unwrap();
    }
    apigw
        .create_deployment()
        .rest_api_id(&api_id)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    let key = apigw
        .create_api_key()
        .name("workshop")
        .enabled(true)
        .send()
        .await
        .unwrap();
    let plan = apigw
        .create_usage_plan()
        .name("workshop")
        .api_stages(
            aws_sdk_apigateway::types::ApiStage::builder()
                .api_id(&api_id)
                .stage("prod")
                .build(),
        )
        .send()
        .await
        .unwrap();
    apigw
        .create_usage_plan_key()
        .usage_plan_id(plan.id().unwrap())
        .key_id(key.id().unwrap())
        .key_type("API_KEY")
        .send()
        .await
        .unwrap();
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // 1. Sequential DescribeStreamSummary through the SDK against an in-process runtime.
    let local = personalize_stack_local::start(personalize_stack_local::Config {
        port: 0,
        profile: personalize_stack_local::Profile::instant(),
        ..Default::default()
    })
    .await
    .unwrap();
    let kinesis = aws_sdk_kinesis::Client::new(&sdk(&local.endpoint_url(), "000000000000"));
    kinesis
        .create_stream()
        .stream_name("bench")
        .shard_count(4)
        .send()
        .await
        .unwrap();
    for _ in 0..200 {
        kinesis
            .describe_stream_summary()
            .stream_name("bench")
            .send()
            .await
            .unwrap();
    }
    let mut latencies = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        let t = Instant::now();
        kinesis
            .describe_stream_summary()
            .stream_name("bench")
            .send()
            .await
            .unwrap();
        latencies.push(t.elapsed());
    }
    let rate = latencies.len() as f64 / start.elapsed().as_secs_f64();
    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    println!(
        "sequential SDK DescribeStreamSummary: {rate:.0} calls/s (p50 {:?}, p99 {:?}; target >= 2000/s)",
        p(0.5),
        p(0.99)
    );
    local.shutdown().await;

    // 2. RSS of a separate `personalize-stack local` process holding 50 accounts' stacks.
    let dir = std::env::temp_dir().join(format!("personalize-stack-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
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
        .arg(&dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let endpoint = line.trim().to_owned();
    let idle = rss_kb(child.id());
    let zip = tiny_zip(&vec![0x7f; 4096]);
    let start = Instant::now();
    for i in 0..50 {
        create_stack(&endpoint, &format!("{:012}", 100_000_000_000u64 + i), &zip).await;
    }
    let created = start.elapsed();
    let full = rss_kb(child.id());
    println!(
        "RSS of `personalize-stack local` with 50 accounts' stacks: {:.1} MB (idle {:.1} MB; created in {created:.1?}; target < 100 MB)",
        full as f64 / 1024.0,
        idle as f64 / 1024.0
    );
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
