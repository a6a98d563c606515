//! The API Gateway data plane (`/restapis/{id}/{stage}/_user_request_/...`), driven over raw
//! HTTP as `curl` would, after building the workshop's stack through the official SDK clients:
//! IAM roles, the Kinesis stream, the REST API with its three routes and CORS, a deployment,
//! an API key in a usage plan.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support as common;

use aws_sdk_apigateway::Client as ApiGateway;
use aws_sdk_apigateway::types::{ApiStage, IntegrationType, Op, PatchOperation};
use aws_sdk_iam::Client as Iam;
use aws_sdk_kinesis::Client as Kinesis;
use aws_sdk_kinesis::types::ShardIteratorType;
use personalize_stack_local::Running;
use serde_json::{Value, json};

const STREAM: &str = "PutEvent-datastream";
const STREAM_ARN: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/PutEvent-datastream";

/// The stack's PutRecords template: the workshop's, with the comma between records.
const FIXED_TEMPLATE: &str = r#"{
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

/// The workshop's original template (seed step 54): no separator between records.
const WORKSHOP_TEMPLATE: &str = r#"{
    "StreamName": "$input.params('stream-name')",
    "Records": [
        #foreach($record in $input.path('$.Records'))
        {
            "Data": "$util.base64Encode($record.Data)",
            "PartitionKey": "$record.PartitionKey"
        }
        #end
    ]
}"#;

/// The seed's seven interactions for user 146456223 (step 56), as Kinesis `Data` strings.
fn seed_data() -> Vec<String> {
    [
        ("zGRmEOdTo648OJoqhmazwKPuWpA=", "1676975804", "click"),
        ("RZ4KlaqSK4zAVf/FdprF522ip14=", "1676975924", "click"),
        ("TmnhhnrtAe/OuxEEDAEhHFpXTTQ=", "1676975984", "click"),
        ("VcODDeZtFt9rFcj6rW0yb4iKh50=", "1676976044", "click"),
        ("zGRmEOdTo648OJoqhmazwKPuWpA=", "1676976644", "adds_to_cart"),
        ("VcODDeZtFt9rFcj6rW0yb4iKh50=", "1676977244", "adds_to_cart"),
        ("zGRmEOdTo648OJoqhmazwKPuWpA=", "1676977844", "checkouts"),
    ]
    .iter()
    .map(|(item, ts, kind)| {
        format!(r#"{{"userid":"146456223","itemid":"{item}","timestamp":"{ts}","event_type":"{kind}"}}"#)
    })
    .collect()
}

/// The request body of seed step 56.
fn seed_body() -> String {
    let records: Vec<Value> = seed_data()
        .into_iter()
        .map(|d| json!({ "Data": d, "PartitionKey": "1" }))
        .collect();
    serde_json::to_string_pretty(&json!({ "Records": records })).unwrap()
}

// -------------------------------------------------------------------------------------------
// Raw HTTP, as curl sends it.

#[derive(Debug)]
struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl HttpResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

async fn http(
    local: &Running,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> HttpResponse {
    let addr = local.addr();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    let raw = tokio::task::spawn_blocking(move || {
        use std::io::{Read as _, Write as _};
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut out = Vec::new();
        stream.read_to_end(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    })
    .await
    .unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    HttpResponse {
        status,
        headers,
        body: body.to_owned(),
    }
}

// -------------------------------------------------------------------------------------------
// The workshop's stack, built through the SDKs.

struct Workshop {
    local: Running,
    apigw: ApiGateway,
    kinesis: Kinesis,
    iam: Iam,
    api: String,
    /// Resource ids by path.
    streams: String,
    stream: String,
    records: String,
    /// The API key's value.
    key: String,
    /// The API key's id.
    key_id: String,
    /// The role the integrations use.
    role: String,
}

const TRUST_APIGATEWAY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// The stack's least-privilege API role: PutRecords and DescribeStream on the stream,
/// ListStreams on `*`.
fn api_policy() -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["kinesis:PutRecords", "kinesis:DescribeStream"], "Resource": STREAM_ARN},
            {"Effect": "Allow", "Action": "kinesis:ListStreams", "Resource": "*"}
        ]
    })
    .to_string()
}

async fn role(iam: &Iam, name: &str, trust: &str, inline: Option<&str>, managed: Option<&str>) -> String {
    let arn = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_owned();
    if let Some(doc) = inline {
        iam.put_role_policy()
            .role_name(name)
            .policy_name("kinesis")
            .policy_document(doc)
            .send()
            .await
            .unwrap();
    }
    if let Some(policy) = managed {
        iam.attach_role_policy()
            .role_name(name)
            .policy_arn(policy)
            .send()
            .await
            .unwrap();
    }
    arn
}

/// How a Kinesis route answers errors.
#[derive(Clone, Copy, PartialEq)]
enum Responses {
    /// The stack's: default 200, `4\d{2}` → 400, `5\d{2}` → 500.
    WithErrorPatterns,
    /// The workshop's: only the default 200.
    DefaultOnly,
}

impl Workshop {
    async fn new() -> Workshop {
        let local = common::start().await;
        let sdk = common::sdk(&local, common::ACCOUNT);
        let (apigw, kinesis, iam) = (ApiGateway::new(&sdk), Kinesis::new(&sdk), Iam::new(&sdk));
        let role = role(
            &iam,
            "personalize-workshop-api",
            TRUST_APIGATEWAY,
            Some(&api_policy()),
            None,
        )
        .await;
        kinesis
            .create_stream()
            .stream_name(STREAM)
            .shard_count(1)
            .send()
            .await
            .unwrap();
        let api = apigw.create_rest_api().name("PutEventAPI").send().await.unwrap();
        let (api_id, root) = (
            api.id().unwrap().to_owned(),
            api.root_resource_id().unwrap().to_owned(),
        );
        let resource = |parent: String, part: &'static str| {
            let apigw = apigw.clone();
            let api_id = api_id.clone();
            async move {
                apigw
                    .create_resource()
                    .rest_api_id(api_id)
                    .parent_id(parent)
                    .path_part(part)
                    .send()
                    .await
                    .unwrap()
                    .id()
                    .unwrap()
                    .to_owned()
            }
        };
        let streams = resource(root, "streams").await;
        let stream = resource(streams.clone(), "{stream-name}").await;
        let records = resource(stream.clone(), "records").await;
        let mut w = Workshop {
            local,
            apigw,
            kinesis,
            iam,
            api: api_id,
            streams,
            stream,
            records,
            key: String::new(),
            key_id: String::new(),
            role,
        };
        let (streams, stream, records) = (w.streams.clone(), w.stream.clone(), w.records.clone());
        w.kinesis_method(&streams, "GET", "ListStreams", "{}", Responses::WithErrorPatterns)
            .await;
        w.kinesis_method(
            &stream,
            "GET",
            "DescribeStream",
            "{\n    \"StreamName\": \"$input.params('stream-name')\"\n}",
            Responses::WithErrorPatterns,
        )
        .await;
        w.kinesis_method(
            &records,
            "PUT",
            "PutRecords",
            FIXED_TEMPLATE,
            Responses::WithErrorPatterns,
        )
        .await;
        w.cors(&records, "OPTIONS,PUT").await;
        w.deploy().await;
        w.api_key().await;
        w
    }

    /// A method integrated with Kinesis `action` exactly as fact 14 says: type AWS, POST, the
    /// static Content-Type header, the role; an API key required.
    async fn kinesis_method(
        &self,
        resource: &str,
        http: &str,
        action: &str,
        template: &str,
        responses: Responses,
    ) {
        let c = &self.apigw;
        c.put_method()
            .rest_api_id(&self.api)
            .resource_id(resource)
            .http_method(http)
            .authorization_type("NONE")
            .api_key_required(true)
            .send()
            .await
            .unwrap();
        c.put_integration()
            .rest_api_id(&self.api)
            .resource_id(resource)
            .http_method(http)
            .r#type(IntegrationType::Aws)
            .integration_http_method("POST")
            .uri(format!("arn:aws:apigateway:us-east-1:kinesis:action/{action}"))
            .credentials(&self.role)
            .request_parameters(
                "integration.request.header.Content-Type",
                "'application/x-amz-json-1.1'",
            )
            .request_templates("application/json", template)
            .passthrough_behavior("WHEN_NO_TEMPLATES")
            .send()
            .await
            .unwrap();
        let patterns: &[(&str, Option<&str>)] = match responses {
            Responses::WithErrorPatterns => {
                &[("200", None), ("400", Some(r"4\d{2}")), ("500", Some(r"5\d{2}"))]
            }
            Responses::DefaultOnly => &[("200", None)],
        };
        for (status, pattern) in patterns {
            c.put_method_response()
                .rest_api_id(&self.api)
                .resource_id(resource)
                .http_method(http)
                .status_code(*status)
                .response_parameters("method.response.header.Access-Control-Allow-Origin", false)
                .send()
                .await
                .unwrap();
            c.put_integration_response()
                .rest_api_id(&self.api)
                .resource_id(resource)
                .http_method(http)
                .status_code(*status)
                .set_selection_pattern(pattern.map(str::to_owned))
                .response_parameters("method.response.header.Access-Control-Allow-Origin", "'*'")
                .send()
                .await
                .unwrap();
        }
    }

    /// What "Enable API Gateway CORS" adds: an OPTIONS MOCK method.
    async fn cors(&self, resource: &str, methods: &str) {
        let c = &self.apigw;
        c.put_method()
            .rest_api_id(&self.api)
            .resource_id(resource)
            .http_method("OPTIONS")
            .authorization_type("NONE")
            .send()
            .await
            .unwrap();
        c.put_integration()
            .rest_api_id(&self.api)
            .resource_id(resource)
            .http_method("OPTIONS")
            .r#type(IntegrationType::Mock)
            .request_templates("application/json", "{\"statusCode\": 200}")
            .send()
            .await
            .unwrap();
        let headers = [
            "Access-Control-Allow-Headers",
            "Access-Control-Allow-Methods",
            "Access-Control-Allow-Origin",
        ];
        let mut response = c
            .put_method_response()
            .rest_api_id(&self.api)
            .resource_id(resource)
            .http_method("OPTIONS")
            .status_code("200");
        for h in headers {
            response = response.response_parameters(format!("method.response.header.{h}"), false);
        }
        response.send().await.unwrap();
        let values = [
            "'Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token'".to_owned(),
            format!("'{methods}'"),
            "'*'".to_owned(),
        ];
        let mut integration_response = c
            .put_integration_response()
            .rest_api_id(&self.api)
            .resource_id(resource)
            .http_method("OPTIONS")
            .status_code("200")
            .response_templates("application/json", "");
        for (h, v) in headers.iter().zip(values) {
            integration_response =
                integration_response.response_parameters(format!("method.response.header.{h}"), v);
        }
        integration_response.send().await.unwrap();
    }

    async fn deploy(&self) {
        self.apigw
            .create_deployment()
            .rest_api_id(&self.api)
            .stage_name("prod")
            .send()
            .await
            .unwrap();
    }

    /// An API key in a usage plan of `prod`.
    async fn api_key(&mut self) {
        let key = self
            .apigw
            .create_api_key()
            .name("workshop-client")
            .enabled(true)
            .send()
            .await
            .unwrap();
        let plan = self
            .apigw
            .create_usage_plan()
            .name("workshop-plan")
            .api_stages(ApiStage::builder().api_id(&self.api).stage("prod").build())
            .send()
            .await
            .unwrap();
        self.apigw
            .create_usage_plan_key()
            .usage_plan_id(plan.id().unwrap())
            .key_id(key.id().unwrap())
            .key_type("API_KEY")
            .send()
            .await
            .unwrap();
        self.key = key.value().unwrap().to_owned();
        self.key_id = key.id().unwrap().to_owned();
    }

    fn url(&self, path: &str) -> String {
        format!("/restapis/{}/prod/_user_request_{path}", self.api)
    }

    /// `curl -X PUT .../streams/{stream}/records -H 'x-api-key: …' -d body`.
    async fn put_records(&self, key: Option<&str>, body: &str) -> HttpResponse {
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(k) = key {
            headers.push(("x-api-key", k));
        }
        http(
            &self.local,
            "PUT",
            &self.url(&format!("/streams/{STREAM}/records")),
            &headers,
            body,
        )
        .await
    }

    async fn get(&self, path: &str) -> HttpResponse {
        http(
            &self.local,
            "GET",
            &self.url(path),
            &[("x-api-key", &self.key)],
            "",
        )
        .await
    }

    /// Replaces the PutRecords integration's template (an edit: needs a redeployment).
    async fn set_put_template(&self, template: &str) {
        self.apigw
            .update_integration()
            .rest_api_id(&self.api)
            .resource_id(&self.records)
            .http_method("PUT")
            .patch_operations(
                PatchOperation::builder()
                    .op(Op::Replace)
                    .path("/requestTemplates/application~1json")
                    .value(template)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }

    /// Every record in the stream's shard, read back through GetShardIterator/GetRecords.
    async fn stream_data(&self) -> Vec<String> {
        let shards = self
            .kinesis
            .list_shards()
            .stream_name(STREAM)
            .send()
            .await
            .unwrap();
        let mut out = Vec::new();
        for shard in shards.shards() {
            let mut iterator = self
                .kinesis
                .get_shard_iterator()
                .stream_name(STREAM)
                .shard_id(shard.shard_id())
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .unwrap()
                .shard_iterator()
                .map(str::to_owned);
            // A bounded walk: each call returns what is there; an empty page means caught up.
            for _ in 0..10 {
                let Some(it) = iterator.take() else { break };
                let page = self
                    .kinesis
                    .get_records()
                    .shard_iterator(it)
                    .send()
                    .await
                    .unwrap();
                if page.records().is_empty() {
                    break;
                }
                out.extend(
                    page.records()
                        .iter()
                        .map(|r| String::from_utf8(r.data().as_ref().to_vec()).unwrap()),
                );
                iterator = page.next_shard_iterator().map(str::to_owned);
            }
        }
        out
    }
}

// -------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_seed_records_reach_the_stream_through_the_deployed_api() {
    let w = Workshop::new().await;
    let r = w.put_records(Some(&w.key), &seed_body()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.json();
    assert_eq!(body["FailedRecordCount"], 0);
    let records = body["Records"].as_array().unwrap();
    assert_eq!(records.len(), 7);
    assert!(
        records
            .iter()
            .all(|r| r["SequenceNumber"].is_string() && r["ShardId"].is_string())
    );
    // The headers API Gateway adds, and the CORS header the integration response maps.
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(r.header("x-amzn-requestid").map(str::len), Some(36));
    assert_eq!(r.header("x-amz-apigw-id").map(str::len), Some(16));
    assert!(r.header("x-amzn-trace-id").unwrap().starts_with("Root=1-"));
    // The records really are in the stream, in order, with the seed's data.
    assert_eq!(w.stream_data().await, seed_data());
}

#[tokio::test]
async fn the_api_key_must_belong_to_a_usage_plan_of_the_stage() {
    let w = Workshop::new().await;
    let forbidden = |r: &HttpResponse| {
        assert_eq!(r.status, 403, "{}", r.body);
        assert_eq!(r.body, r#"{"message":"Forbidden"}"#);
        assert_eq!(r.header("x-amzn-errortype"), Some("ForbiddenException"));
    };
    forbidden(&w.put_records(None, &seed_body()).await);
    forbidden(
        &w.put_records(Some("not-a-key-not-a-key-not-a-key-0000000000"), &seed_body())
            .await,
    );
    // A valid key that no usage plan of this stage includes.
    let stray = w
        .apigw
        .create_api_key()
        .name("stray")
        .enabled(true)
        .send()
        .await
        .unwrap();
    forbidden(&w.put_records(stray.value(), &seed_body()).await);
    // A disabled key.
    w.apigw
        .update_api_key()
        .api_key(&w.key_id)
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/enabled")
                .value("false")
                .build(),
        )
        .send()
        .await
        .unwrap();
    forbidden(&w.put_records(Some(&w.key), &seed_body()).await);
    assert!(w.stream_data().await.is_empty());
    // Key checks come after routing: an unknown path is still a missing token.
    let r = http(&w.local, "GET", &w.url("/nowhere"), &[], "").await;
    assert_eq!(r.body, r#"{"message":"Missing Authentication Token"}"#);
}

#[tokio::test]
async fn the_workshops_comma_less_template_is_an_error_and_writes_nothing() {
    let w = Workshop::new().await;
    w.set_put_template(WORKSHOP_TEMPLATE).await;
    w.deploy().await;
    // With the stack's `4\d{2}` → 400 integration response, the client sees Kinesis's 400.
    let r = w.put_records(Some(&w.key), &seed_body()).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["__type"], "SerializationException");
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert!(w.stream_data().await.is_empty());
    // One record renders valid JSON even without the separator: the bug only shows with two.
    let one = json!({"Records": [{"Data": seed_data()[0], "PartitionKey": "1"}]}).to_string();
    let r = w.put_records(Some(&w.key), &one).await;
    assert_eq!((r.status, r.json()["FailedRecordCount"].clone()), (200, json!(0)));
    assert_eq!(w.stream_data().await.len(), 1);
}

#[tokio::test]
async fn with_only_the_default_response_kinesis_errors_come_back_as_200() {
    let w = Workshop::new().await;
    // The workshop's method: its comma-less template and only the default integration response.
    let records = w.records.clone();
    w.apigw
        .delete_method()
        .rest_api_id(&w.api)
        .resource_id(&records)
        .http_method("PUT")
        .send()
        .await
        .unwrap();
    w.kinesis_method(
        &records,
        "PUT",
        "PutRecords",
        WORKSHOP_TEMPLATE,
        Responses::DefaultOnly,
    )
    .await;
    w.deploy().await;
    let r = w.put_records(Some(&w.key), &seed_body()).await;
    // AWS's behaviour (aws-facts §2.4): HTTP 200 carrying Kinesis's error body.
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["__type"], "SerializationException");
    assert!(w.stream_data().await.is_empty());
}

#[tokio::test]
async fn a_role_without_put_records_gets_kinesis_access_denied() {
    let w = Workshop::new().await;
    // A role with only the Lambda reader's managed policy: it may describe, not write.
    let reader = role(
        &w.iam,
        "api-reader",
        TRUST_APIGATEWAY,
        None,
        Some("arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole"),
    )
    .await;
    let set_credentials = |arn: String| {
        let w = &w;
        async move {
            for (resource, http) in [(&w.records, "PUT"), (&w.stream, "GET")] {
                w.apigw
                    .update_integration()
                    .rest_api_id(&w.api)
                    .resource_id(resource)
                    .http_method(http)
                    .patch_operations(
                        PatchOperation::builder()
                            .op(Op::Replace)
                            .path("/credentials")
                            .value(&arn)
                            .build(),
                    )
                    .send()
                    .await
                    .unwrap();
            }
            w.deploy().await;
        }
    };
    set_credentials(reader.clone()).await;
    let r = w.put_records(Some(&w.key), &seed_body()).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({
            "__type": "AccessDeniedException",
            "message": format!(
                "User: arn:aws:sts::000000000000:assumed-role/api-reader/BackplaneAssumeRoleSession is not authorized \
                 to perform: kinesis:PutRecords on resource: {STREAM_ARN} because no identity-based policy allows \
                 the kinesis:PutRecords action"
            )
        })
    );
    assert!(w.stream_data().await.is_empty());
    // The same role may describe the stream.
    let r = w.get(&format!("/streams/{STREAM}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // An explicit deny wins over the full-access managed policy.
    let denied = role(
        &w.iam,
        "api-denied",
        TRUST_APIGATEWAY,
        Some(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kinesis:Put*","Resource":"*"}]}"#),
        Some("arn:aws:iam::aws:policy/AmazonKinesisFullAccess"),
    )
    .await;
    set_credentials(denied).await;
    let r = w.put_records(Some(&w.key), &seed_body()).await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .ends_with("with an explicit deny in an identity-based policy"),
        "{}",
        r.body
    );
    // A role API Gateway may not assume: API Gateway's own 500.
    let lambda_only = role(
        &w.iam,
        "lambda-only",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        None,
        Some("arn:aws:iam::aws:policy/AmazonKinesisFullAccess"),
    )
    .await;
    set_credentials(lambda_only).await;
    let r = w.put_records(Some(&w.key), &seed_body()).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (500, r#"{"message": "Internal server error"}"#)
    );
    assert!(w.stream_data().await.is_empty());
}

#[tokio::test]
async fn edits_are_served_only_after_a_new_deployment() {
    let w = Workshop::new().await;
    // A response template and a new resource, added after the deployment.
    w.apigw
        .update_integration_response()
        .rest_api_id(&w.api)
        .resource_id(&w.streams)
        .http_method("GET")
        .status_code("200")
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Add)
                .path("/responseTemplates/application~1json")
                .value("{\"count\": $input.path('$.StreamNames').size()}")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let health = w
        .apigw
        .create_resource()
        .rest_api_id(&w.api)
        .parent_id(&w.streams)
        .path_part("health")
        .send()
        .await
        .unwrap();
    let health = health.id().unwrap().to_owned();
    w.cors(&health, "GET").await;

    let before = w.get("/streams").await;
    assert_eq!(before.status, 200);
    assert!(before.json()["StreamNames"].is_array(), "{}", before.body);
    let options = http(&w.local, "OPTIONS", &w.url("/streams/health"), &[], "").await;
    // `/streams/health` is not deployed: the request matches `/streams/{stream-name}`, which
    // has no OPTIONS method.
    assert_eq!(options.status, 403);
    assert_eq!(options.body, r#"{"message":"Missing Authentication Token"}"#);

    w.deploy().await;
    let after = w.get("/streams").await;
    assert_eq!((after.status, after.json()), (200, json!({"count": 1})));
    let options = http(&w.local, "OPTIONS", &w.url("/streams/health"), &[], "").await;
    assert_eq!(options.status, 200);
    assert_eq!(options.header("access-control-allow-methods"), Some("GET"));
}

#[tokio::test]
async fn list_streams_and_describe_stream() {
    let w = Workshop::new().await;
    let r = w.get("/streams").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["StreamNames"], json!([STREAM]));
    let r = w.get(&format!("/streams/{STREAM}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let description = &r.json()["StreamDescription"];
    assert_eq!(description["StreamName"], STREAM);
    assert_eq!(description["StreamARN"], STREAM_ARN);
    assert_eq!(description["StreamStatus"], "ACTIVE");
    // The role may only describe PutEvent-datastream: another name is denied, mapped to 400.
    let r = w.get("/streams/other").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["__type"], "AccessDeniedException");
    // A stream the role may describe but that does not exist: Kinesis's not-found, as 400.
    let role_name = w.role.rsplit('/').next().unwrap().to_owned();
    w.iam
        .put_role_policy()
        .role_name(&role_name)
        .policy_name("describe-all")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:DescribeStream","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let r = w.get("/streams/other").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"__type": "ResourceNotFoundException", "message": "Stream other under account 000000000000 not found."})
    );
    // GET without the key.
    let r = http(&w.local, "GET", &w.url("/streams"), &[], "").await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn cors_preflight_is_served_by_the_deployed_options_method() {
    let w = Workshop::new().await;
    let r = http(
        &w.local,
        "OPTIONS",
        &w.url(&format!("/streams/{STREAM}/records")),
        &[
            ("Origin", "https://example.com"),
            ("Access-Control-Request-Method", "PUT"),
            ("Access-Control-Request-Headers", "content-type,x-api-key"),
        ],
        "",
    )
    .await;
    // No API key needed: the OPTIONS method does not require one.
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(r.header("access-control-allow-methods"), Some("OPTIONS,PUT"));
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token")
    );
    assert_eq!(r.body, "");
    // No OPTIONS method on /streams.
    let r = http(&w.local, "OPTIONS", &w.url("/streams"), &[], "").await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn passthrough_behaviours_and_unsupported_media_types() {
    let w = Workshop::new().await;
    // WHEN_NO_TEMPLATES with a template: another content type is refused.
    let r = http(
        &w.local,
        "PUT",
        &w.url(&format!("/streams/{STREAM}/records")),
        &[("Content-Type", "application/xml"), ("x-api-key", &w.key)],
        "<Records/>",
    )
    .await;
    assert_eq!(r.status, 415, "{}", r.body);
    assert_eq!(r.body, r#"{"message":"Unsupported Media Type"}"#);
    assert_eq!(
        r.header("x-amzn-errortype"),
        Some("UnsupportedMediaTypeException")
    );
    // No Content-Type: application/json is assumed, so the template applies.
    let r = http(
        &w.local,
        "PUT",
        &w.url(&format!("/streams/{STREAM}/records")),
        &[("x-api-key", &w.key)],
        &seed_body(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A charset parameter does not change the media type.
    let r = http(
        &w.local,
        "PUT",
        &w.url(&format!("/streams/{STREAM}/records")),
        &[
            ("Content-Type", "application/json; charset=UTF-8"),
            ("x-api-key", &w.key),
        ],
        &seed_body(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(w.stream_data().await.len(), 14);

    // A MOCK echoing the status its request asks for, to see which body reached it.
    let c = &w.apigw;
    let mock = c
        .create_resource()
        .rest_api_id(&w.api)
        .parent_id(&w.streams)
        .path_part("mock")
        .send()
        .await
        .unwrap();
    let mock = mock.id().unwrap().to_owned();
    for (http_method, passthrough, templates) in [
        ("POST", "WHEN_NO_MATCH", true),
        ("PUT", "NEVER", false),
        ("PATCH", "WHEN_NO_TEMPLATES", false),
    ] {
        c.put_method()
            .rest_api_id(&w.api)
            .resource_id(&mock)
            .http_method(http_method)
            .authorization_type("NONE")
            .send()
            .await
            .unwrap();
        let mut integration = c
            .put_integration()
            .rest_api_id(&w.api)
            .resource_id(&mock)
            .http_method(http_method)
            .r#type(IntegrationType::Mock)
            .passthrough_behavior(passthrough);
        if templates {
            integration =
                integration.request_templates("application/json", "{\"statusCode\": $input.path('$.code')}");
        }
        integration.send().await.unwrap();
        for (status, pattern) in [("200", None), ("201", Some("201")), ("404", Some(r"4\d{2}"))] {
            c.put_method_response()
                .rest_api_id(&w.api)
                .resource_id(&mock)
                .http_method(http_method)
                .status_code(status)
                .send()
                .await
                .unwrap();
            c.put_integration_response()
                .rest_api_id(&w.api)
                .resource_id(&mock)
                .http_method(http_method)
                .status_code(status)
                .set_selection_pattern(pattern.map(str::to_owned))
                .response_templates("application/json", "{\"stage\": \"$context.stage\"}")
                .send()
                .await
                .unwrap();
        }
    }
    w.deploy().await;
    let call = |method: &'static str, content_type: &'static str, body: &'static str| {
        let w = &w;
        async move {
            http(
                &w.local,
                method,
                &w.url("/streams/mock"),
                &[("Content-Type", content_type)],
                body,
            )
            .await
        }
    };
    // The template renders {"statusCode": 404}: the 4\d{2} response.
    let r = call("POST", "application/json", r#"{"code": 404}"#).await;
    assert_eq!((r.status, r.json()), (404, json!({"stage": "prod"})));
    // WHEN_NO_MATCH: text/plain has no template, so the body itself reaches the MOCK.
    let r = call("POST", "text/plain", r#"{"statusCode": 201}"#).await;
    assert_eq!(r.status, 201);
    // NEVER without templates: 415 for every content type.
    let r = call("PUT", "application/json", r#"{"statusCode": 201}"#).await;
    assert_eq!(r.status, 415);
    // WHEN_NO_TEMPLATES without templates: passthrough.
    let r = call("PATCH", "text/plain", r#"{"statusCode": 201}"#).await;
    assert_eq!(r.status, 201);
}

#[tokio::test]
async fn template_failures_and_unmapped_outcomes_are_internal_server_errors() {
    let w = Workshop::new().await;
    // `$input.path` on a body that is not JSON fails to render: 500, nothing written.
    let r = w.put_records(Some(&w.key), "this is not json").await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(r.body, r#"{"message": "Internal server error"}"#);
    assert_eq!(r.header("x-amzn-errortype"), Some("InternalServerErrorException"));
    assert!(w.stream_data().await.is_empty());

    // An outcome no integration response covers (only a 4xx pattern, no default).
    let c = &w.apigw;
    let res = c
        .create_resource()
        .rest_api_id(&w.api)
        .parent_id(&w.streams)
        .path_part("unmapped")
        .send()
        .await
        .unwrap();
    let res = res.id().unwrap().to_owned();
    c.put_method()
        .rest_api_id(&w.api)
        .resource_id(&res)
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    c.put_integration()
        .rest_api_id(&w.api)
        .resource_id(&res)
        .http_method("GET")
        .r#type(IntegrationType::Mock)
        .request_templates("application/json", "{\"statusCode\": 200}")
        .send()
        .await
        .unwrap();
    c.put_method_response()
        .rest_api_id(&w.api)
        .resource_id(&res)
        .http_method("GET")
        .status_code("400")
        .send()
        .await
        .unwrap();
    c.put_integration_response()
        .rest_api_id(&w.api)
        .resource_id(&res)
        .http_method("GET")
        .status_code("400")
        .selection_pattern(r"4\d{2}")
        .send()
        .await
        .unwrap();
    w.deploy().await;
    let r = http(&w.local, "GET", &w.url("/streams/unmapped"), &[], "").await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (500, r#"{"message": "Internal server error"}"#)
    );
}

#[tokio::test]
async fn unknown_apis_stages_paths_and_methods_are_missing_authentication_tokens() {
    let w = Workshop::new().await;
    let missing = |r: &HttpResponse| {
        assert_eq!(r.status, 403, "{}", r.body);
        assert_eq!(r.body, r#"{"message":"Missing Authentication Token"}"#);
        assert_eq!(
            r.header("x-amzn-errortype"),
            Some("MissingAuthenticationTokenException")
        );
    };
    let key = [("x-api-key", w.key.as_str())];
    missing(&http(&w.local, "GET", &w.url("/nowhere"), &key, "").await);
    missing(
        &http(
            &w.local,
            "GET",
            &w.url(&format!("/streams/{STREAM}/records/extra")),
            &key,
            "",
        )
        .await,
    );
    missing(&http(&w.local, "DELETE", &w.url("/streams"), &key, "").await);
    missing(&http(&w.local, "GET", &w.url("/"), &key, "").await);
    let other_stage = format!("/restapis/{}/dev/_user_request_/streams", w.api);
    missing(&http(&w.local, "GET", &other_stage, &key, "").await);
    missing(
        &http(
            &w.local,
            "GET",
            "/restapis/nosuchapi0/prod/_user_request_/streams",
            &key,
            "",
        )
        .await,
    );
    // The index that finds an API by id is no resource of its own.
    let listed = common::resources(&w.local).await;
    let listed = listed["resources"].as_array().unwrap();
    assert!(
        listed
            .iter()
            .any(|r| r["kind"] == "restapi" && r["id"] == w.api.as_str())
    );
    assert!(
        listed.iter().all(|r| r["account"] == common::ACCOUNT),
        "{listed:?}"
    );
    // After DeleteRestApi the API is gone from the data plane too.
    w.apigw
        .delete_rest_api()
        .rest_api_id(&w.api)
        .send()
        .await
        .unwrap();
    missing(&w.get("/streams").await);
}

// -------------------------------------------------------------------------------------------
// Lambda integrations, with the Lambda tests' echo function (tests/fixtures/echo-function).

/// The echo function's zip, built once per test process into the target directory.
fn echo_zip() -> &'static [u8] {
    static ZIP: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    ZIP.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let target = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("echo-function");
        let output =
            std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
                .args(["build", "--release", "--quiet", "--manifest-path"])
                .arg(root.join("tests/fixtures/echo-function/Cargo.toml"))
                .arg("--target-dir")
                .arg(&target)
                .env_remove("CARGO_TARGET_DIR")
                .env_remove("RUSTFLAGS")
                .env_remove("CARGO_ENCODED_RUSTFLAGS")
                .output()
                .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        common::zip_bootstrap(&std::fs::read(target.join("release/bootstrap")).unwrap())
    })
}

const ECHO_ARN: &str = "arn:aws:lambda:us-east-1:000000000000:function:echo";

fn lambda_uri(function_arn: &str) -> String {
    format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function_arn}/invocations")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_integrations_run_the_function() {
    let zip = tokio::task::spawn_blocking(|| echo_zip().to_vec()).await.unwrap();
    let local = common::start().await;
    let sdk = common::sdk(&local, common::ACCOUNT);
    let (c, iam, lambda) = (
        ApiGateway::new(&sdk),
        Iam::new(&sdk),
        aws_sdk_lambda::Client::new(&sdk),
    );
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let function_role = role(&iam, "echo-role", trust, None, None).await;
    lambda
        .create_function()
        .function_name("echo")
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .role(function_role)
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(zip))
                .build(),
        )
        .send()
        .await
        .unwrap();

    let api = c.create_rest_api().name("LambdaAPI").send().await.unwrap();
    let api_id = api.id().unwrap().to_owned();
    let resource = |parent: String, part: &'static str| {
        let (c, api_id) = (c.clone(), api_id.clone());
        async move {
            c.create_resource()
                .rest_api_id(api_id)
                .parent_id(parent)
                .path_part(part)
                .send()
                .await
                .unwrap()
                .id()
                .unwrap()
                .to_owned()
        }
    };
    let root = api.root_resource_id().unwrap().to_owned();
    let echo = resource(root.clone(), "echo").await;
    let proxy_parent = resource(root.clone(), "proxy").await;
    let proxy = resource(proxy_parent, "{proxy+}").await;
    let missing = resource(root, "missing").await;

    // Non-proxy: the rendered template is the event; `boom.*` errors become 400s.
    c.put_method()
        .rest_api_id(&api_id)
        .resource_id(&echo)
        .http_method("POST")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    c.put_integration()
        .rest_api_id(&api_id)
        .resource_id(&echo)
        .http_method("POST")
        .r#type(IntegrationType::Aws)
        .integration_http_method("POST")
        .uri(lambda_uri(ECHO_ARN))
        .request_templates(
            "application/json",
            r##"{"stage": "$context.stage", "item": "$input.path('$.item')"#if($input.path('$.fail') != ""), "fail": "$input.path('$.fail')"#end}"##,
        )
        .send()
        .await
        .unwrap();
    for (status, pattern, template) in [
        ("200", None, None),
        (
            "400",
            Some("boom.*"),
            Some(r#"{"error": "$input.path('$.errorMessage')"}"#),
        ),
    ] {
        c.put_method_response()
            .rest_api_id(&api_id)
            .resource_id(&echo)
            .http_method("POST")
            .status_code(status)
            .send()
            .await
            .unwrap();
        let mut response = c
            .put_integration_response()
            .rest_api_id(&api_id)
            .resource_id(&echo)
            .http_method("POST")
            .status_code(status)
            .set_selection_pattern(pattern.map(str::to_owned));
        if let Some(t) = template {
            response = response.response_templates("application/json", t);
        }
        response.send().await.unwrap();
    }
    // Proxy integrations: to the echo function (whose answer is not a proxy result) and to a
    // function that does not exist.
    for (resource, function) in [
        (&proxy, ECHO_ARN),
        (&missing, "arn:aws:lambda:us-east-1:000000000000:function:nosuch"),
    ] {
        c.put_method()
            .rest_api_id(&api_id)
            .resource_id(resource)
            .http_method("ANY")
            .authorization_type("NONE")
            .send()
            .await
            .unwrap();
        c.put_integration()
            .rest_api_id(&api_id)
            .resource_id(resource)
            .http_method("ANY")
            .r#type(IntegrationType::AwsProxy)
            .integration_http_method("POST")
            .uri(lambda_uri(function))
            .send()
            .await
            .unwrap();
    }
    c.create_deployment()
        .rest_api_id(&api_id)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    let url = |path: &str| format!("/restapis/{api_id}/prod/_user_request_{path}");
    let json_type = [("Content-Type", "application/json")];

    let r = http(&local, "POST", &url("/echo"), &json_type, r#"{"item": "i1"}"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!({"stage": "prod", "item": "i1"}));

    let r = http(
        &local,
        "POST",
        &url("/echo"),
        &json_type,
        r#"{"item": "i1", "fail": "boom now"}"#,
    )
    .await;
    assert_eq!((r.status, r.json()), (400, json!({"error": "boom now"})));
    // An error no pattern matches takes the default response: 200 with the error document.
    let r = http(&local, "POST", &url("/echo"), &json_type, r#"{"fail": "other"}"#).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["errorMessage"], "other");

    // The echo function returns the proxy event itself: no statusCode, so a malformed result.
    let r = http(&local, "GET", &url("/proxy/a/b?x=1"), &[], "").await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (502, r#"{"message": "Internal server error"}"#)
    );
    // Lambda refuses a function that does not exist: API Gateway's 500.
    let r = http(&local, "POST", &url("/missing"), &json_type, "{}").await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (500, r#"{"message": "Internal server error"}"#)
    );
}
