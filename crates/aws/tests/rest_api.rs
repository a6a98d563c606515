//! `rest_api` against the local runtime: the workshop's API (Kinesis routes with mapping
//! templates, CORS, an API key in a usage plan) is created from nothing, found unchanged, edited
//! (a new deployment is served), completed when half-built, left alone when not ours, and
//! destroyed without leftovers.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support::provider as common;

use aws_sdk_apigateway::Client as ApiGateway;
use aws_sdk_kinesis::Client as Kinesis;
use aws_sdk_kinesis::types::ShardIteratorType;
use personalize_stack_core::engine::{Action, Plan};
use personalize_stack_local::Running;
use serde_json::{Value, json};

const STREAM: &str = "events";
const ROLE: &str = "apitest-api";

const TEMPLATE_V1: &str = r#"{
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

/// The same with every partition key prefixed, so the served version shows in the stream.
const TEMPLATE_V2: &str = r#"{
    "StreamName": "$input.params('stream-name')",
    "Records": [
        #foreach($record in $input.path('$.Records'))
        {
            "Data": "$util.base64Encode($record.Data)",
            "PartitionKey": "v2-$record.PartitionKey"
        }#if($foreach.hasNext),#end
        #end
    ]
}"#;

/// The stack's `api`, with the role's ARN written out (the role is made through the SDK).
fn stack_yaml(
    role: &str,
    template: &str,
    throttle_rate: u32,
    with_list_route: bool,
    api_key: bool,
) -> String {
    let indented: String = template.lines().map(|l| format!("            {l}\n")).collect();
    let list_route = if with_list_route {
        "        - path: /streams\n          method: GET\n          kinesis: ListStreams\n          template: \"{}\"\n"
    } else {
        ""
    };
    let usage = if api_key {
        format!(
            "      api_key: required\n      usage_plan:\n        throttle: {{ rate_limit: {throttle_rate}, burst_limit: 200 }}\n        quota: {{ limit: 100000, period: DAY }}\n"
        )
    } else {
        String::new()
    };
    format!(
        "stack: apitest
region: us-east-1
resources:
  api:
    rest_api:
      name: EventsAPI
      description: Proxies /streams to Kinesis
      endpoint: REGIONAL
      stage: prod
{usage}      cors: true
      credentials: {role}
      stage_variables:
        env: test
      routes:
{list_route}        - path: /streams/{{stream-name}}/records
          method: PUT
          kinesis: PutRecords
          template: |
{indented}          integration_responses:
            - {{ status: 200 }}
            - {{ selection_pattern: \"4\\\\d{{2}}\", status: 400 }}
            - {{ selection_pattern: \"5\\\\d{{2}}\", status: 500 }}
"
    )
}

/// The role API Gateway assumes (the `iam_role` kind's job in the real stack) and the stream.
async fn prerequisites(running: &Running) -> String {
    let sdk = common::sdk(running);
    let iam = aws_sdk_iam::Client::new(&sdk);
    let arn = iam
        .create_role()
        .role_name(ROLE)
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_owned();
    iam.put_role_policy()
        .role_name(ROLE)
        .policy_name("kinesis")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:PutRecords","kinesis:ListStreams"],"Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    Kinesis::new(&sdk)
        .create_stream()
        .stream_name(STREAM)
        .shard_count(1)
        .send()
        .await
        .unwrap();
    arn
}

fn step<'a>(plan: &'a Plan, logical: &str) -> &'a Action {
    &plan.steps.iter().find(|s| s.logical == logical).unwrap().action
}

fn changes(plan: &Plan) -> Vec<(String, Option<String>, Option<String>)> {
    match step(plan, "api") {
        Action::Update { changes } => changes
            .iter()
            .map(|c| (c.field.clone(), c.old.clone(), c.new.clone()))
            .collect(),
        other => panic!("expected an update, got {other:?}\n{plan}"),
    }
}

fn field<'a>(
    changes: &'a [(String, Option<String>, Option<String>)],
    name: &str,
) -> &'a (String, Option<String>, Option<String>) {
    changes
        .iter()
        .find(|c| c.0 == name)
        .unwrap_or_else(|| panic!("no change of `{name}` in {changes:?}"))
}

/// API Gateway documents left in the runtime.
async fn apigateway_left(running: &Running) -> Vec<Value> {
    common::resources(running).await["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["service"] == "apigateway")
        .cloned()
        .collect()
}

// -------------------------------------------------------------------------------------------
// The data plane over raw HTTP, as curl sends it.

struct HttpResponse {
    status: u16,
    body: String,
}

async fn http(
    running: &Running,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> HttpResponse {
    let addr = running.addr();
    let path = url.strip_prefix(&running.endpoint_url()).unwrap().to_owned();
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
    let status = head
        .lines()
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    HttpResponse {
        status,
        body: body.to_owned(),
    }
}

async fn put_records(running: &Running, url: &str, key: Option<&str>, partition_key: &str) -> HttpResponse {
    let body = json!({"Records": [
        {"Data": "{\"userid\":\"1\"}", "PartitionKey": partition_key},
        {"Data": "{\"userid\":\"2\"}", "PartitionKey": partition_key},
    ]})
    .to_string();
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(k) = key {
        headers.push(("x-api-key", k));
    }
    http(
        running,
        "PUT",
        &format!("{url}/streams/{STREAM}/records"),
        &headers,
        &body,
    )
    .await
}

/// The partition keys of every record in the stream, in order.
async fn partition_keys(running: &Running) -> Vec<String> {
    let kinesis = Kinesis::new(&common::sdk(running));
    let shards = kinesis.list_shards().stream_name(STREAM).send().await.unwrap();
    let mut out = Vec::new();
    for shard in shards.shards() {
        let mut iterator = kinesis
            .get_shard_iterator()
            .stream_name(STREAM)
            .shard_id(shard.shard_id())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator()
            .map(str::to_owned);
        for _ in 0..10 {
            let Some(it) = iterator.take() else { break };
            let page = kinesis.get_records().shard_iterator(it).send().await.unwrap();
            if page.records().is_empty() {
                break;
            }
            out.extend(page.records().iter().map(|r| r.partition_key().to_owned()));
            iterator = page.next_shard_iterator().map(str::to_owned);
        }
    }
    out
}

async fn deployment_of_stage(apigw: &ApiGateway, api: &str) -> String {
    apigw
        .get_stages()
        .rest_api_id(api)
        .send()
        .await
        .unwrap()
        .item()
        .iter()
        .find(|s| s.stage_name() == Some("prod"))
        .unwrap()
        .deployment_id()
        .unwrap()
        .to_owned()
}

// -------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workshop_api_is_created_served_redeployed_on_edit_and_destroyed() {
    let running = common::start().await;
    let role = prerequisites(&running).await;
    let apigw = ApiGateway::new(&common::sdk(&running));

    // Create from nothing.
    let stack = common::stack(&stack_yaml(&role, TEMPLATE_V1, 100, true, true));
    let aws = common::provider(&running, &stack).await;
    let plan = common::plan(&aws, &stack).await;
    assert_eq!(step(&plan, "api"), &Action::Create, "{plan}");
    let report = common::up(&aws, &stack).await;
    let attrs = &report.attrs["api"];
    let (api_id, url, key) = (&attrs["id"], &attrs["url"], &attrs["api_key"]);
    assert_eq!(
        url,
        &format!("{}/restapis/{api_id}/prod/_user_request_", running.endpoint_url())
    );
    assert_eq!(
        attrs["arn"],
        format!("arn:aws:apigateway:us-east-1::/restapis/{api_id}")
    );
    assert_eq!(
        attrs["execution_arn"],
        format!("arn:aws:execute-api:us-east-1:{}:{api_id}", common::ACCOUNT)
    );
    assert!(key.len() >= 20, "the key's value: {key}");

    // Nothing to do the second time.
    let plan = common::plan(&aws, &stack).await;
    assert!(!plan.has_changes(), "{plan}");

    // The stage serves it, with the key and only with the key.
    let r = put_records(&running, url, Some(key), "user-1").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        serde_json::from_str::<Value>(&r.body).unwrap()["FailedRecordCount"],
        0
    );
    assert_eq!(put_records(&running, url, None, "user-1").await.status, 403);
    assert_eq!(partition_keys(&running).await, ["user-1", "user-1"]);
    // CORS preflight, served by the OPTIONS mock method without a key.
    let r = http(
        &running,
        "OPTIONS",
        &format!("{url}/streams/{STREAM}/records"),
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = http(
        &running,
        "GET",
        &format!("{url}/streams"),
        &[("x-api-key", key)],
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        serde_json::from_str::<Value>(&r.body).unwrap()["StreamNames"],
        json!([STREAM])
    );

    // The usage plan and the key exist, carry our tags, and the key is in the plan.
    let plans = apigw.get_usage_plans().send().await.unwrap();
    let plan_of_api = plans
        .items()
        .iter()
        .find(|p| p.name() == Some("EventsAPI-plan"))
        .unwrap();
    assert_eq!(plan_of_api.api_stages()[0].api_id(), Some(api_id.as_str()));
    assert_eq!(plan_of_api.throttle().unwrap().burst_limit(), 200);
    assert_eq!(plan_of_api.quota().unwrap().limit(), 100_000);
    assert_eq!(plan_of_api.tags().unwrap()["personalize-stack:resource"], "api");
    let members = apigw
        .get_usage_plan_keys()
        .usage_plan_id(plan_of_api.id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(members.items()[0].id(), Some(attrs["api_key_id"].as_str()));
    let stage = apigw
        .get_stage()
        .rest_api_id(api_id)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.variables().unwrap()["env"], "test");

    // Editing the PutRecords template: the route and the deployment change in the plan.
    let before = deployment_of_stage(&apigw, api_id).await;
    let edited = common::stack(&stack_yaml(&role, TEMPLATE_V2, 100, true, true));
    let aws = common::provider(&running, &edited).await;
    let plan = common::plan(&aws, &edited).await;
    let c = changes(&plan);
    assert_eq!(c.len(), 2, "{plan}");
    let route = field(&c, "route.PUT /streams/{stream-name}/records");
    assert!(route.1.as_ref().unwrap().contains("$record.PartitionKey"));
    assert!(route.2.as_ref().unwrap().contains("v2-$record.PartitionKey"));
    let deployment = field(&c, "deployment");
    assert_ne!(deployment.1, deployment.2);
    assert!(plan.to_string().contains("deployment: "), "{plan}");
    common::up(&aws, &edited).await;
    let after = deployment_of_stage(&apigw, api_id).await;
    assert_ne!(before, after, "the stage points at a new deployment");
    let described = apigw
        .get_deployment()
        .rest_api_id(api_id)
        .deployment_id(&after)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.description(),
        Some(format!("personalize-stack:{}", deployment.2.as_ref().unwrap()).as_str())
    );
    // The stage serves the new template.
    let r = put_records(&running, url, Some(key), "user-2").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        partition_keys(&running).await,
        ["user-1", "user-1", "v2-user-2", "v2-user-2"]
    );
    let plan = common::plan(&aws, &edited).await;
    assert!(!plan.has_changes(), "{plan}");

    // A usage plan setting: updated in place, no new deployment.
    let throttled = common::stack(&stack_yaml(&role, TEMPLATE_V2, 50, true, true));
    let aws = common::provider(&running, &throttled).await;
    let plan = common::plan(&aws, &throttled).await;
    assert_eq!(
        changes(&plan),
        [(
            "usage_plan.throttle.rate_limit".to_owned(),
            Some("100".to_owned()),
            Some("50".to_owned())
        )],
        "{plan}"
    );
    common::up(&aws, &throttled).await;
    let plans = apigw.get_usage_plans().send().await.unwrap();
    assert!((plans.items()[0].throttle().unwrap().rate_limit() - 50.0).abs() < f64::EPSILON);
    assert_eq!(deployment_of_stage(&apigw, api_id).await, after);
    assert!(!common::plan(&aws, &throttled).await.has_changes());

    // Dropping a route and the API key: the method, its CORS method, the usage plan and the
    // key go; the stage serves the smaller API.
    let smaller = common::stack(&stack_yaml(&role, TEMPLATE_V2, 50, false, false));
    let aws = common::provider(&running, &smaller).await;
    let plan = common::plan(&aws, &smaller).await;
    let c = changes(&plan);
    assert_eq!(field(&c, "route.GET /streams").2, None);
    assert_eq!(field(&c, "route.OPTIONS /streams").2, None);
    assert_eq!(field(&c, "api_key_required").2.as_deref(), Some("false"));
    assert_eq!(field(&c, "usage_plan.name").2, None);
    common::up(&aws, &smaller).await;
    assert!(!common::plan(&aws, &smaller).await.has_changes());
    assert!(apigw.get_usage_plans().send().await.unwrap().items().is_empty());
    assert!(apigw.get_api_keys().send().await.unwrap().items().is_empty());
    let r = put_records(&running, url, None, "user-3").await;
    assert_eq!(r.status, 200, "no key needed any more: {}", r.body);
    let r = http(&running, "GET", &format!("{url}/streams"), &[], "").await;
    assert_eq!(r.status, 403, "GET /streams is no longer deployed: {}", r.body);

    // Destroy leaves nothing of the API behind.
    common::destroy(&aws, &smaller).await;
    assert_eq!(apigateway_left(&running).await, Vec::<Value>::new());
    assert_eq!(step(&common::plan(&aws, &smaller).await, "api"), &Action::Create);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_built_api_of_ours_is_completed() {
    let running = common::start().await;
    let role = prerequisites(&running).await;
    let stack = common::stack(&stack_yaml(&role, TEMPLATE_V1, 100, true, true));
    let aws = common::provider(&running, &stack).await;
    let apigw = ApiGateway::new(&common::sdk(&running));
    // What a run killed after a few calls leaves: the tagged API, one resource, a method
    // without an integration, and a resource the stack does not declare.
    let api = apigw
        .create_rest_api()
        .name("EventsAPI")
        .tags("personalize-stack:stack", "apitest")
        .tags("personalize-stack:resource", "api")
        .send()
        .await
        .unwrap();
    let (id, root) = (api.id().unwrap(), api.root_resource_id().unwrap());
    let streams = apigw
        .create_resource()
        .rest_api_id(id)
        .parent_id(root)
        .path_part("streams")
        .send()
        .await
        .unwrap();
    apigw
        .put_method()
        .rest_api_id(id)
        .resource_id(streams.id().unwrap())
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    apigw
        .create_resource()
        .rest_api_id(id)
        .parent_id(root)
        .path_part("old")
        .send()
        .await
        .unwrap();

    let plan = common::plan(&aws, &stack).await;
    let c = changes(&plan);
    assert_eq!(field(&c, "stage").1, None);
    assert_eq!(field(&c, "endpoint").1.as_deref(), Some("EDGE"));
    let report = common::up(&aws, &stack).await;
    let plan = common::plan(&aws, &stack).await;
    assert!(!plan.has_changes(), "{plan}");
    let resources = apigw.get_resources().rest_api_id(id).send().await.unwrap();
    let mut paths: Vec<&str> = resources.items().iter().filter_map(|r| r.path()).collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "/",
            "/streams",
            "/streams/{stream-name}",
            "/streams/{stream-name}/records"
        ]
    );
    // The completed API serves.
    let attrs = &report.attrs["api"];
    let r = put_records(&running, &attrs["url"], Some(&attrs["api_key"]), "user-1").await;
    assert_eq!(r.status, 200, "{}", r.body);
    common::destroy(&aws, &stack).await;
    assert_eq!(apigateway_left(&running).await, Vec::<Value>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_same_named_api_without_our_tags_is_foreign_and_left_alone() {
    let running = common::start().await;
    let role = prerequisites(&running).await;
    let stack = common::stack(&stack_yaml(&role, TEMPLATE_V1, 100, true, true));
    let aws = common::provider(&running, &stack).await;
    let apigw = ApiGateway::new(&common::sdk(&running));
    let theirs = apigw.create_rest_api().name("EventsAPI").send().await.unwrap();
    let plan = common::plan(&aws, &stack).await;
    assert_eq!(
        step(&plan, "api"),
        &Action::Foreign {
            id: theirs.id().unwrap().to_owned()
        }
    );
    common::destroy(&aws, &stack).await;
    let left = apigateway_left(&running).await;
    assert!(
        left.iter()
            .any(|r| r["kind"] == "restapi" && r["id"] == theirs.id().unwrap()),
        "{left:?}"
    );
}

/// `yaml` (a stack file) with only the `keep` resources, and without its `test:` section.
fn only(yaml: &str, keep: &[&str]) -> String {
    let mut out = String::new();
    let mut section = "";
    let mut kept = true;
    for line in yaml.lines() {
        if !line.starts_with(' ') && !line.is_empty() && !line.starts_with('#') {
            section = line.split(':').next().unwrap_or_default();
            kept = section != "test";
        } else if section == "resources" && line.len() > 2 && !line[2..].starts_with(' ') {
            kept = keep.contains(&line.trim().trim_end_matches(':'));
        }
        if kept {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The shipped stack's stream, API role and API, references and all: the API's credentials
/// are `${api_role.arn}`, known only once the role exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_api_with_its_role_and_stream_deploys_and_serves() {
    let running = common::start().await;
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../stack.yaml")).unwrap();
    let stack = common::stack(&only(&shipped, &["stream", "api_role", "api"]));
    let aws = common::provider(&running, &stack).await;
    let plan = common::plan(&aws, &stack).await;
    assert!(plan.steps.iter().all(|s| s.action == Action::Create), "{plan}");
    let report = common::up(&aws, &stack).await;
    let attrs = &report.attrs["api"];
    let r = http(
        &running,
        "PUT",
        &format!("{}/streams/PutEvent-datastream/records", attrs["url"]),
        &[
            ("Content-Type", "application/json"),
            ("x-api-key", &attrs["api_key"]),
        ],
        &json!({"Records": [
            {"Data": "{\"userid\":\"146456223\"}", "PartitionKey": "146456223"},
            {"Data": "{\"userid\":\"146456223\"}", "PartitionKey": "146456223"},
        ]})
        .to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        serde_json::from_str::<Value>(&r.body).unwrap()["FailedRecordCount"],
        0
    );
    let plan = common::plan(&aws, &stack).await;
    assert!(!plan.has_changes(), "{plan}");
    common::destroy(&aws, &stack).await;
    assert_eq!(apigateway_left(&running).await, Vec::<Value>::new());
}
