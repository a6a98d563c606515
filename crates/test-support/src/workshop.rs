//! The workshop's pipeline deployed by hand through the official SDK clients: roles, stream,
//! tracker, the forwarder with its trigger, the API with its key. Shared by the end-to-end test
//! and the pipeline benchmark.

use aws_sdk_apigateway::types::IntegrationType;
use std::io::{Read as _, Write as _};

/// The account everything is deployed in.
pub const ACCOUNT: &str = "123456789012";

/// The seed's seven events (seeds/000, step 56).
pub const EVENTS: [(&str, &str, &str); 7] = [
    ("zGRmEOdTo648OJoqhmazwKPuWpA=", "1676975804", "click"),
    ("RZ4KlaqSK4zAVf/FdprF522ip14=", "1676975924", "click"),
    ("TmnhhnrtAe/OuxEEDAEhHFpXTTQ=", "1676975984", "click"),
    ("VcODDeZtFt9rFcj6rW0yb4iKh50=", "1676976044", "click"),
    ("zGRmEOdTo648OJoqhmazwKPuWpA=", "1676976644", "adds_to_cart"),
    ("VcODDeZtFt9rFcj6rW0yb4iKh50=", "1676977244", "adds_to_cart"),
    ("zGRmEOdTo648OJoqhmazwKPuWpA=", "1676977844", "checkouts"),
];

/// The shipped stack.yaml's PutRecords template (the workshop's, with the comma fixed).
pub const PUT_RECORDS: &str = r#"{
    "StreamName": "$input.params('stream-name')",
    "Records": [
        #foreach($record in $input.path('$.Records'))
        {
            "Data": "$util.base64Encode($record.Data)",
            "PartitionKey": "$record.PartitionKey"
        }#if($foreach.hasNext),#end
        #end
    ]
}"#;

/// Builds the forwarder exactly as `up` builds `code: { crate: lambda }` (same command, same
/// profile, same environment), so tests and `up` share one build; its zip.
pub fn forwarder_zip() -> Vec<u8> {
    use personalize_stack_core::spec::kinds::lambda_function::{Architecture, Code};
    let package = personalize_stack_aws::package::load(
        &crate::workspace_root(),
        &Code::Crate("lambda".to_owned()),
        Architecture::X86_64,
        &personalize_stack_aws::package::Silent,
    )
    .unwrap_or_else(|e| panic!("building the forwarder failed: {}", e.with_hint()));
    package.zip
}

/// Sends the raw HTTP/1.1 `request` to `addr`; the status and the whole response.
pub fn http(addr: std::net::SocketAddr, request: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// What the deployment left to use.
pub struct Deployed {
    /// The REST API's id.
    pub api_id: String,
    /// The API key's value.
    pub key: String,
    /// The event tracker's tracking id.
    pub tracking_id: String,
    /// The dataset group's ARN.
    pub group_arn: String,
    /// The interactions dataset's ARN.
    pub dataset_arn: String,
}

/// Deploys the workshop's pipeline with a `shards`-shard stream, with the forwarder `zip`.
pub async fn deploy(endpoint: &str, shards: i32, zip: Vec<u8>) -> Deployed {
    deploy_in(endpoint, ACCOUNT, shards, zip).await
}

/// [`deploy`] into `account`.
pub async fn deploy_in(endpoint: &str, account: &str, shards: i32, zip: Vec<u8>) -> Deployed {
    let config = super::sdk_at(endpoint, account);

    // IAM: the forwarder's role and the API's integration role, least privilege.
    let iam = aws_sdk_iam::Client::new(&config);
    let trust = |service: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}"#
        )
    };
    let forwarder_role = iam
        .create_role()
        .role_name("forwarder")
        .assume_role_policy_document(trust("lambda.amazonaws.com"))
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("forwarder")
        .policy_arn("arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole")
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
    let api_role = iam
        .create_role()
        .role_name("api")
        .assume_role_policy_document(trust("apigateway.amazonaws.com"))
        .send()
        .await
        .unwrap();
    let stream_arn = format!("arn:aws:kinesis:us-east-1:{account}:stream/PutEvent-datastream");
    iam.put_role_policy()
        .role_name("api")
        .policy_name("put-records")
        .policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"kinesis:PutRecords","Resource":"{stream_arn}"}}]}}"#
        ))
        .send()
        .await
        .unwrap();

    // The stream, and the tracker with its dataset group.
    aws_sdk_kinesis::Client::new(&config)
        .create_stream()
        .stream_name("PutEvent-datastream")
        .shard_count(shards)
        .send()
        .await
        .unwrap();
    let personalize = aws_sdk_personalize::Client::new(&config);
    let schema = personalize
        .create_schema()
        .name("interactions")
        .schema(r#"{"type":"record","name":"Interactions","namespace":"com.amazonaws.personalize.schema","fields":[{"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},{"name":"TIMESTAMP","type":"long"},{"name":"EVENT_TYPE","type":"string"}],"version":"1.0"}"#)
        .send()
        .await
        .unwrap();
    let group = personalize
        .create_dataset_group()
        .name("personalize-workshop")
        .send()
        .await
        .unwrap();
    let group_arn = group.dataset_group_arn().unwrap().to_owned();
    let dataset_arn = personalize
        .create_dataset()
        .name("interactions")
        .dataset_group_arn(&group_arn)
        .dataset_type("Interactions")
        .schema_arn(schema.schema_arn().unwrap())
        .send()
        .await
        .unwrap()
        .dataset_arn()
        .unwrap()
        .to_owned();
    let tracker = personalize
        .create_event_tracker()
        .name("personalize-workshop-event-tracker")
        .dataset_group_arn(&group_arn)
        .send()
        .await
        .unwrap();
    let tracking_id = tracker.tracking_id().unwrap().to_owned();

    // The forwarder and its trigger.
    let lambda = aws_sdk_lambda::Client::new(&config);
    lambda
        .create_function()
        .function_name("PutEvent-Function")
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .timeout(30)
        .role(forwarder_role.role().unwrap().arn())
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(zip.into())
                .build(),
        )
        .environment(
            aws_sdk_lambda::types::Environment::builder()
                .variables("TRACKING_ID", &tracking_id)
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
        .batch_size(100)
        .bisect_batch_on_function_error(true)
        .maximum_retry_attempts(3)
        .function_response_types(aws_sdk_lambda::types::FunctionResponseType::ReportBatchItemFailures)
        .send()
        .await
        .unwrap();

    // The API: PUT /streams/{stream-name}/records → kinesis:PutRecords, key required.
    let apigw = aws_sdk_apigateway::Client::new(&config);
    let api = apigw.create_rest_api().name("PutEventAPI").send().await.unwrap();
    let api_id = api.id().unwrap().to_owned();
    let mut parent = api.root_resource_id().unwrap().to_owned();
    for part in ["streams", "{stream-name}", "records"] {
        let r = apigw
            .create_resource()
            .rest_api_id(&api_id)
            .parent_id(&parent)
            .path_part(part)
            .send()
            .await
            .unwrap();
        parent = r.id().unwrap().to_owned();
    }
    apigw
        .put_method()
        .rest_api_id(&api_id)
        .resource_id(&parent)
        .http_method("PUT")
        .authorization_type("NONE")
        .api_key_required(true)
        .request_parameters("method.request.path.stream-name", true)
        .send()
        .await
        .unwrap();
    apigw
        .put_integration()
        .rest_api_id(&api_id)
        .resource_id(&parent)
        .http_method("PUT")
        .r#type(IntegrationType::Aws)
        .integration_http_method("POST")
        .uri("arn:aws:apigateway:us-east-1:kinesis:action/PutRecords")
        .credentials(api_role.role().unwrap().arn())
        .request_parameters(
            "integration.request.header.Content-Type",
            "'application/x-amz-json-1.1'",
        )
        .request_templates("application/json", PUT_RECORDS)
        .passthrough_behavior("WHEN_NO_TEMPLATES")
        .send()
        .await
        .unwrap();
    for (status, pattern) in [("200", None), ("400", Some("4\\d{2}")), ("500", Some("5\\d{2}"))] {
        apigw
            .put_method_response()
            .rest_api_id(&api_id)
            .resource_id(&parent)
            .http_method("PUT")
            .status_code(status)
            .send()
            .await
            .unwrap();
        apigw
            .put_integration_response()
            .rest_api_id(&api_id)
            .resource_id(&parent)
            .http_method("PUT")
            .status_code(status)
            .set_selection_pattern(pattern.map(str::to_owned))
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
    let key_value = key.value().unwrap().to_owned();

    Deployed {
        api_id,
        key: key_value,
        tracking_id,
        group_arn,
        dataset_arn,
    }
}

/// `PUT /streams/PutEvent-datastream/records` with `body` and the key; (status, body).
pub fn put_records(addr: std::net::SocketAddr, api_id: &str, key: Option<&str>, body: &str) -> (u16, String) {
    let path = format!("/restapis/{api_id}/prod/_user_request_/streams/PutEvent-datastream/records");
    let key_header = key.map(|k| format!("x-api-key: {k}\r\n")).unwrap_or_default();
    let request = format!(
        "PUT {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{key_header}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    http(addr, &request)
}

/// The events stored for `tracking_id`, in arrival order.
pub fn stored_event_count(addr: std::net::SocketAddr, tracking_id: &str) -> usize {
    let (_, body) = http(
        addr,
        &format!(
            "GET /_local/events?trackingId={tracking_id}&count=true HTTP/1.1\r\nHost: l\r\nConnection: close\r\n\r\n"
        ),
    );
    let start = body.find('{').unwrap_or(0);
    let end = body.rfind('}').map_or(body.len(), |e| e + 1);
    let parsed: serde_json::Value = serde_json::from_str(&body[start..end]).unwrap_or_default();
    parsed["count"].as_u64().map_or(0, |n| n as usize)
}

/// Every event PutEvents stored for `tracking_id`, through `GET /_local/events`.
pub fn stored_events(addr: std::net::SocketAddr, tracking_id: &str) -> Vec<serde_json::Value> {
    let (_, body) = http(
        addr,
        &format!(
            "GET /_local/events?trackingId={tracking_id} HTTP/1.1\r\nHost: l\r\nConnection: close\r\n\r\n"
        ),
    );
    let start = body.find('{').unwrap_or(0);
    let end = body.rfind('}').map_or(body.len(), |e| e + 1);
    let parsed: serde_json::Value = serde_json::from_str(&body[start..end]).unwrap_or_default();
    parsed["events"].as_array().cloned().unwrap_or_default()
}

/// Whether every event source mapping poller of the runtime at `addr` is idle: its last read
/// found nothing, and nothing is held or being delivered (`GET /_local/pollers`). Records
/// written before then have all been delivered, and none will be again.
pub fn pollers_idle(addr: std::net::SocketAddr) -> bool {
    let (_, body) = http(
        addr,
        "GET /_local/pollers HTTP/1.1\r\nHost: l\r\nConnection: close\r\n\r\n",
    );
    let start = body.find('{').unwrap_or(0);
    let end = body.rfind('}').map_or(body.len(), |e| e + 1);
    let parsed: serde_json::Value = serde_json::from_str(&body[start..end]).unwrap_or_default();
    parsed["pollers"]
        .as_array()
        .is_some_and(|pollers| pollers.iter().all(|p| p["idle"] == true))
}
