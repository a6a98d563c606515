//! API Gateway (REST APIs, the control plane) through the official SDK client.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support as common;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::error::ProvideErrorMetadata;
use aws_sdk_apigateway::types::{
    ApiStage, EndpointConfiguration, EndpointType, IntegrationType, Op, PatchOperation, QuotaPeriodType,
    QuotaSettings, StageKey, ThrottleSettings,
};
use personalize_stack_local::Running;

async fn client() -> (Running, Client) {
    let local = common::start().await;
    let client = Client::new(&common::sdk(&local, common::ACCOUNT));
    (local, client)
}

/// The error code and message of a failed call.
fn code_and_message<E: ProvideErrorMetadata>(e: &E) -> (String, String) {
    (
        e.code().unwrap_or_default().to_owned(),
        e.message().unwrap_or_default().to_owned(),
    )
}

fn patch(op: Op, path: &str, value: Option<&str>) -> PatchOperation {
    PatchOperation::builder()
        .op(op)
        .path(path)
        .set_value(value.map(str::to_owned))
        .build()
}

const KINESIS_ROLE: &str = "arn:aws:iam::000000000000:role/ApiGatewayKinesis";

/// An API with `/streams` (GET → Kinesis ListStreams) and its 200 responses, ready to deploy.
async fn deployable_api(c: &Client) -> (String, String) {
    let api = c.create_rest_api().name("PutEventAPI").send().await.unwrap();
    let api_id = api.id().unwrap().to_owned();
    let streams = c
        .create_resource()
        .rest_api_id(&api_id)
        .parent_id(api.root_resource_id().unwrap())
        .path_part("streams")
        .send()
        .await
        .unwrap();
    let resource_id = streams.id().unwrap().to_owned();
    c.put_method()
        .rest_api_id(&api_id)
        .resource_id(&resource_id)
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    c.put_integration()
        .rest_api_id(&api_id)
        .resource_id(&resource_id)
        .http_method("GET")
        .r#type(IntegrationType::Aws)
        .integration_http_method("POST")
        .uri("arn:aws:apigateway:us-east-1:kinesis:action/ListStreams")
        .credentials(KINESIS_ROLE)
        .request_parameters(
            "integration.request.header.Content-Type",
            "'application/x-amz-json-1.1'",
        )
        .request_templates("application/json", "{}")
        .passthrough_behavior("WHEN_NO_TEMPLATES")
        .send()
        .await
        .unwrap();
    c.put_method_response()
        .rest_api_id(&api_id)
        .resource_id(&resource_id)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .unwrap();
    c.put_integration_response()
        .rest_api_id(&api_id)
        .resource_id(&resource_id)
        .http_method("GET")
        .status_code("200")
        .response_templates("application/json", "$input.json('$')")
        .send()
        .await
        .unwrap();
    (api_id, resource_id)
}

#[tokio::test]
async fn rest_apis_are_created_listed_updated_and_deleted() {
    let (_local, c) = client().await;
    let api = c
        .create_rest_api()
        .name("PutEventAPI")
        .description("events in")
        .endpoint_configuration(
            EndpointConfiguration::builder()
                .types(EndpointType::Regional)
                .build(),
        )
        .tags("team", "data")
        .send()
        .await
        .unwrap();
    let id = api.id().unwrap().to_owned();
    assert_eq!(id.len(), 10);
    assert!(id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    assert_eq!(api.root_resource_id().map(str::len), Some(10));
    assert!(api.created_date().is_some());
    assert_eq!(
        api.endpoint_configuration().unwrap().types(),
        &[EndpointType::Regional]
    );
    assert_eq!(api.tags().unwrap().get("team").map(String::as_str), Some("data"));
    assert_eq!(api.api_key_source().map(|s| s.as_str()), Some("HEADER"));

    let edge = c.create_rest_api().name("second").send().await.unwrap();
    assert_eq!(
        edge.endpoint_configuration().unwrap().types(),
        &[EndpointType::Edge],
        "EDGE is the default"
    );

    let first_page = c.get_rest_apis().limit(1).send().await.unwrap();
    assert_eq!(first_page.items().len(), 1);
    let position = first_page.position().unwrap().to_owned();
    let second_page = c
        .get_rest_apis()
        .limit(1)
        .position(position)
        .send()
        .await
        .unwrap();
    assert_eq!(second_page.items().len(), 1);
    assert!(second_page.position().is_none());
    assert_ne!(first_page.items()[0].id(), second_page.items()[0].id());

    let updated = c
        .update_rest_api()
        .rest_api_id(&id)
        .patch_operations(patch(Op::Replace, "/name", Some("renamed")))
        .patch_operations(patch(Op::Replace, "/description", Some("new words")))
        .patch_operations(patch(Op::Add, "/binaryMediaTypes/image~1png", None))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.name(), Some("renamed"));
    assert_eq!(updated.description(), Some("new words"));
    assert_eq!(updated.binary_media_types(), &["image/png".to_owned()]);

    let err = c
        .update_rest_api()
        .rest_api_id(&id)
        .patch_operations(patch(Op::Replace, "/id", Some("x")))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_bad_request_exception());
    assert!(
        code_and_message(&err)
            .1
            .starts_with("Invalid patch path  '/id' specified for op 'replace'")
    );

    let got = c.get_rest_api().rest_api_id(&id).send().await.unwrap();
    assert_eq!(got.name(), Some("renamed"));

    c.delete_rest_api().rest_api_id(&id).send().await.unwrap();
    let err = c
        .get_rest_api()
        .rest_api_id(&id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_not_found_exception());
    assert_eq!(
        code_and_message(&err).1,
        format!("Invalid API identifier specified {}:{id}", common::ACCOUNT)
    );
    let err = c.delete_rest_api().rest_api_id(&id).send().await.unwrap_err();
    assert!(err.into_service_error().is_not_found_exception());
}

#[tokio::test]
async fn rest_api_input_is_validated() {
    let (_local, c) = client().await;
    let err = c
        .create_rest_api()
        .name("x")
        .endpoint_configuration(
            EndpointConfiguration::builder()
                .types(EndpointType::Regional)
                .types(EndpointType::Edge)
                .build(),
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_bad_request_exception());
    let err = c.create_rest_api().send().await.unwrap_err().into_service_error();
    assert!(err.is_bad_request_exception(), "a name is required");
    let err = c
        .create_rest_api()
        .name("x")
        .tags("aws:reserved", "v")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_bad_request_exception());
    let err = c
        .create_rest_api()
        .name("x")
        .minimum_compression_size(-1)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_bad_request_exception());
}

#[tokio::test]
async fn resources_form_a_tree_of_paths() {
    let (_local, c) = client().await;
    let api = c.create_rest_api().name("tree").send().await.unwrap();
    let id = api.id().unwrap();
    let root = api.root_resource_id().unwrap();
    let streams = c
        .create_resource()
        .rest_api_id(id)
        .parent_id(root)
        .path_part("streams")
        .send()
        .await
        .unwrap();
    assert_eq!(streams.path(), Some("/streams"));
    assert_eq!(streams.parent_id(), Some(root));
    let name = c
        .create_resource()
        .rest_api_id(id)
        .parent_id(streams.id().unwrap())
        .path_part("{stream-name}")
        .send()
        .await
        .unwrap();
    assert_eq!(name.path(), Some("/streams/{stream-name}"));
    let records = c
        .create_resource()
        .rest_api_id(id)
        .parent_id(name.id().unwrap())
        .path_part("records")
        .send()
        .await
        .unwrap();
    assert_eq!(records.path(), Some("/streams/{stream-name}/records"));

    let err = c
        .create_resource()
        .rest_api_id(id)
        .parent_id(root)
        .path_part("streams")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_conflict_exception());
    assert_eq!(
        code_and_message(&err).1,
        "Another resource with the same parent already has this name: streams"
    );
    let err = c
        .create_resource()
        .rest_api_id(id)
        .parent_id(streams.id().unwrap())
        .path_part("{other}")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_bad_request_exception(), "one variable path part per level");
    let err = c
        .create_resource()
        .rest_api_id(id)
        .parent_id(root)
        .path_part("bad/part")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_bad_request_exception());
    let proxy = c
        .create_resource()
        .rest_api_id(id)
        .parent_id(root)
        .path_part("{proxy+}")
        .send()
        .await
        .unwrap();
    let err = c
        .create_resource()
        .rest_api_id(id)
        .parent_id(proxy.id().unwrap())
        .path_part("below")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(code_and_message(&err).1.contains("greedy path variable"));
    let err = c
        .create_resource()
        .rest_api_id(id)
        .parent_id("nosuchres1")
        .path_part("x")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_not_found_exception());
    assert_eq!(code_and_message(&err).1, "Invalid Resource identifier specified");

    c.put_method()
        .rest_api_id(id)
        .resource_id(records.id().unwrap())
        .http_method("PUT")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    let listed = c.get_resources().rest_api_id(id).send().await.unwrap();
    let paths: Vec<&str> = listed.items().iter().filter_map(|r| r.path()).collect();
    assert_eq!(
        paths,
        [
            "/",
            "/streams",
            "/streams/{stream-name}",
            "/streams/{stream-name}/records",
            "/{proxy+}"
        ]
    );
    let plain = listed.items().iter().find(|r| r.id() == records.id()).unwrap();
    let put = plain.resource_methods().unwrap().get("PUT").unwrap();
    assert_eq!(put.http_method(), None, "without embed, methods are only named");
    let embedded = c
        .get_resources()
        .rest_api_id(id)
        .embed("methods")
        .send()
        .await
        .unwrap();
    let full = embedded.items().iter().find(|r| r.id() == records.id()).unwrap();
    let put = full.resource_methods().unwrap().get("PUT").unwrap();
    assert_eq!(put.http_method(), Some("PUT"));
    assert_eq!(put.authorization_type(), Some("NONE"));

    let paged = c.get_resources().rest_api_id(id).limit(2).send().await.unwrap();
    assert_eq!(paged.items().len(), 2);
    let rest = c
        .get_resources()
        .rest_api_id(id)
        .limit(10)
        .position(paged.position().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.items().len(), 3);

    let got = c
        .get_resource()
        .rest_api_id(id)
        .resource_id(name.id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(got.path_part(), Some("{stream-name}"));

    let err = c
        .delete_resource()
        .rest_api_id(id)
        .resource_id(root)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_bad_request_exception(), "the root cannot be deleted");
    c.delete_resource()
        .rest_api_id(id)
        .resource_id(streams.id().unwrap())
        .send()
        .await
        .unwrap();
    let left = c.get_resources().rest_api_id(id).send().await.unwrap();
    let paths: Vec<&str> = left.items().iter().filter_map(|r| r.path()).collect();
    assert_eq!(paths, ["/", "/{proxy+}"], "the subtree went with it");
    let err = c
        .get_resource()
        .rest_api_id(id)
        .resource_id(records.id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_not_found_exception());
    let err = c
        .get_resources()
        .rest_api_id("nosuchapi1")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_not_found_exception());
}

#[tokio::test]
async fn methods_hold_responses_and_integrations() {
    let (_local, c) = client().await;
    let (api, res) = deployable_api(&c).await;

    let method = c
        .get_method()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    assert_eq!(method.authorization_type(), Some("NONE"));
    assert!(!method.api_key_required().unwrap_or(true));
    assert!(method.method_responses().unwrap().contains_key("200"));
    let integration = method.method_integration().unwrap();
    assert_eq!(integration.r#type(), Some(&IntegrationType::Aws));
    assert_eq!(integration.http_method(), Some("POST"));
    assert_eq!(integration.passthrough_behavior(), Some("WHEN_NO_TEMPLATES"));
    assert_eq!(integration.timeout_in_millis(), 29_000);
    assert_eq!(
        integration.integration_responses().unwrap()["200"]
            .response_templates()
            .unwrap()["application/json"],
        "$input.json('$')"
    );

    let err = c
        .put_method()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_conflict_exception());
    assert_eq!(
        code_and_message(&err).1,
        "Method already exists for this resource"
    );
    let err = c
        .put_method()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("FETCH")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_bad_request_exception());
    let err = c
        .put_method()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .authorization_type("CUSTOM")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        code_and_message(&err)
            .1
            .starts_with("Invalid authorizer ID specified")
    );

    // A second method with a declared path parameter and an API key requirement.
    c.put_method()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .authorization_type("NONE")
        .api_key_required(true)
        .request_parameters("method.request.header.X-Trace", false)
        .operation_name("PutRecords")
        .send()
        .await
        .unwrap();
    let bad_arns = [
        (
            "kinesis:action/PutRecords",
            "Invalid ARN specified in the request",
        ),
        (
            "arn:aws:apigateway:us-east-1:kinesis:PutRecords",
            "AWS ARN for integration must contain path or action",
        ),
    ];
    for (uri, message) in bad_arns {
        let err = c
            .put_integration()
            .rest_api_id(&api)
            .resource_id(&res)
            .http_method("POST")
            .r#type(IntegrationType::Aws)
            .integration_http_method("POST")
            .uri(uri)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_bad_request_exception());
        assert_eq!(code_and_message(&err).1, message);
    }
    let err = c
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .r#type(IntegrationType::AwsProxy)
        .integration_http_method("POST")
        .uri("arn:aws:apigateway:us-east-1:kinesis:action/PutRecords")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(code_and_message(&err).1.contains("AWS_PROXY"));
    let err = c
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .r#type(IntegrationType::Mock)
        .timeout_in_millis(30_000)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        code_and_message(&err).1,
        "Timeout should be between 50 ms and 29000 ms"
    );
    let err = c
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .r#type(IntegrationType::Aws)
        .integration_http_method("POST")
        .uri("arn:aws:apigateway:us-east-1:kinesis:action/PutRecords")
        .credentials("not-a-role")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        code_and_message(&err).1,
        "Role ARNs need to be specified for Integration credentials"
    );
    let err = c
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .r#type(IntegrationType::Aws)
        .integration_http_method("POST")
        .uri("arn:aws:apigateway:us-east-1:kinesis:action/PutRecords")
        .request_parameters(
            "integration.request.header.X-Id",
            "method.request.header.X-Undeclared",
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        err.is_bad_request_exception(),
        "mapping from an undeclared method parameter"
    );
    let err = c
        .get_integration()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_not_found_exception());
    assert_eq!(
        code_and_message(&err).1,
        "Invalid Integration identifier specified"
    );

    let put = c
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .r#type(IntegrationType::Aws)
        .integration_http_method("POST")
        .uri("arn:aws:apigateway:us-east-1:kinesis:action/PutRecords")
        .credentials(KINESIS_ROLE)
        .request_parameters(
            "integration.request.header.X-Trace",
            "method.request.header.X-Trace",
        )
        .request_templates("application/json", "{\"v\": 1}")
        .send()
        .await
        .unwrap();
    assert_eq!(put.passthrough_behavior(), Some("WHEN_NO_MATCH"), "the default");
    assert_eq!(put.cache_namespace(), Some(res.as_str()));

    // AWS takes an integration response before its method response (issue [fidelity]),
    // but not a header mapping onto a method response that does not declare it.
    c.put_integration_response()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .status_code("400")
        .selection_pattern("4\\d{2}")
        .send()
        .await
        .unwrap();
    let err = c
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .status_code("400")
        .response_parameters("method.response.header.X-Error", "'bad'")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_bad_request_exception(), "{err:?}");
    c.put_method_response()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .status_code("400")
        .response_parameters("method.response.header.X-Error", false)
        .send()
        .await
        .unwrap();
    let err = c
        .put_method_response()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .status_code("400")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_conflict_exception());
    let ir = c
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .status_code("400")
        .selection_pattern("4\\d{2}")
        .response_parameters("method.response.header.X-Error", "'bad'")
        .send()
        .await
        .unwrap();
    assert_eq!(ir.selection_pattern(), Some("4\\d{2}"));
    let got = c
        .get_integration_response()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .status_code("400")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.response_parameters().unwrap()["method.response.header.X-Error"],
        "'bad'"
    );
    let mr = c
        .get_method_response()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .status_code("400")
        .send()
        .await
        .unwrap();
    assert_eq!(mr.status_code(), Some("400"));

    let updated = c
        .update_integration()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .patch_operations(patch(
            Op::Replace,
            "/requestTemplates/application~1json",
            Some("{\"v\": 2}"),
        ))
        .patch_operations(patch(Op::Replace, "/passthroughBehavior", Some("NEVER")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        updated.request_templates().unwrap()["application/json"],
        "{\"v\": 2}"
    );
    assert_eq!(updated.passthrough_behavior(), Some("NEVER"));
    let updated = c
        .update_method()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .patch_operations(patch(Op::Replace, "/apiKeyRequired", Some("false")))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.api_key_required(), Some(false));

    c.delete_integration_response()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .status_code("400")
        .send()
        .await
        .unwrap();
    c.delete_method_response()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .status_code("400")
        .send()
        .await
        .unwrap();
    let err = c
        .get_method_response()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .status_code("400")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_not_found_exception());
    c.delete_integration()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .send()
        .await
        .unwrap();
    c.delete_method()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .send()
        .await
        .unwrap();
    let err = c
        .get_method()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_not_found_exception());
    assert_eq!(code_and_message(&err).1, "Invalid Method identifier specified");
    let err = c
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .r#type(IntegrationType::Mock)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.into_service_error().is_not_found_exception(),
        "the method must exist"
    );
}

#[tokio::test]
async fn deployments_need_methods_and_stages_point_at_them() {
    let (_local, c) = client().await;
    let empty = c.create_rest_api().name("empty").send().await.unwrap();
    let err = c
        .create_deployment()
        .rest_api_id(empty.id().unwrap())
        .stage_name("prod")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_bad_request_exception());
    assert_eq!(
        code_and_message(&err).1,
        "The REST API doesn't contain any methods"
    );
    c.put_method()
        .rest_api_id(empty.id().unwrap())
        .resource_id(empty.root_resource_id().unwrap())
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    let err = c
        .create_deployment()
        .rest_api_id(empty.id().unwrap())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code_and_message(&err).1, "No integration defined for method");

    let (api, _) = deployable_api(&c).await;
    let err = c
        .create_deployment()
        .rest_api_id(&api)
        .stage_name("bad-name")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code_and_message(&err).1, "Stage name only allows a-zA-Z0-9_");
    let first = c
        .create_deployment()
        .rest_api_id(&api)
        .stage_name("prod")
        .stage_description("production")
        .description("first")
        .variables("stream", "PutEvent-datastream")
        .send()
        .await
        .unwrap();
    let first_id = first.id().unwrap().to_owned();
    assert_eq!(first.description(), Some("first"));
    let stage = c
        .get_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.deployment_id(), Some(first_id.as_str()));
    assert_eq!(stage.description(), Some("production"));
    assert_eq!(stage.variables().unwrap()["stream"], "PutEvent-datastream");
    assert!(stage.created_date().is_some());

    let err = c
        .delete_deployment()
        .rest_api_id(&api)
        .deployment_id(&first_id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_bad_request_exception());
    assert_eq!(
        code_and_message(&err).1,
        "Active stages pointing to this deployment must be moved or deleted"
    );

    let second = c.create_deployment().rest_api_id(&api).send().await.unwrap();
    let second_id = second.id().unwrap().to_owned();
    let err = c
        .create_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .deployment_id(&second_id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_conflict_exception());
    let err = c
        .create_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .deployment_id("nodeploy")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_not_found_exception());
    let dev = c
        .create_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .deployment_id(&second_id)
        .tags("env", "dev")
        .send()
        .await
        .unwrap();
    assert_eq!(dev.deployment_id(), Some(second_id.as_str()));
    assert_eq!(dev.tags().unwrap()["env"], "dev");

    let stages = c.get_stages().rest_api_id(&api).send().await.unwrap();
    assert_eq!(stages.item().len(), 2);
    let only_second = c
        .get_stages()
        .rest_api_id(&api)
        .deployment_id(&second_id)
        .send()
        .await
        .unwrap();
    assert_eq!(only_second.item().len(), 1);

    let updated = c
        .update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(patch(Op::Replace, "/deploymentId", Some(&second_id)))
        .patch_operations(patch(Op::Replace, "/variables/stream", Some("other")))
        .patch_operations(patch(Op::Replace, "/*/*/throttling/rateLimit", Some("50")))
        .patch_operations(patch(Op::Replace, "/*/*/throttling/burstLimit", Some("100")))
        .patch_operations(patch(Op::Replace, "/description", Some("moved")))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.deployment_id(), Some(second_id.as_str()));
    assert_eq!(updated.variables().unwrap()["stream"], "other");
    let all = &updated.method_settings().unwrap()["*/*"];
    assert_eq!(all.throttling_rate_limit(), 50.0);
    assert_eq!(all.throttling_burst_limit(), 100);
    let err = c
        .update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(patch(Op::Replace, "/deploymentId", Some("nodeploy")))
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_not_found_exception());

    let deployments = c.get_deployments().rest_api_id(&api).send().await.unwrap();
    assert_eq!(deployments.items().len(), 2);
    let summary = c
        .get_deployment()
        .rest_api_id(&api)
        .deployment_id(&first_id)
        .embed("apisummary")
        .send()
        .await
        .unwrap();
    let methods = &summary.api_summary().unwrap()["/streams"];
    assert_eq!(methods["GET"].authorization_type(), Some("NONE"));
    let updated = c
        .update_deployment()
        .rest_api_id(&api)
        .deployment_id(&first_id)
        .patch_operations(patch(Op::Replace, "/description", Some("old")))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.description(), Some("old"));

    // No stage serves the first deployment any more.
    c.delete_deployment()
        .rest_api_id(&api)
        .deployment_id(&first_id)
        .send()
        .await
        .unwrap();
    let err = c
        .get_deployment()
        .rest_api_id(&api)
        .deployment_id(&first_id)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_not_found_exception());
    c.delete_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let err = c
        .get_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_not_found_exception());
    assert_eq!(code_and_message(&err).1, "Invalid stage identifier specified");
}

#[tokio::test]
async fn api_keys_and_usage_plans_tie_keys_to_stages() {
    let (_local, c) = client().await;
    let (api, _) = deployable_api(&c).await;

    let err = c
        .create_usage_plan()
        .name("plan")
        .api_stages(ApiStage::builder().api_id(&api).stage("prod").build())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_bad_request_exception());
    assert_eq!(code_and_message(&err).1, "Invalid stage identifier specified");

    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    let plan = c
        .create_usage_plan()
        .name("plan")
        .api_stages(ApiStage::builder().api_id(&api).stage("prod").build())
        .throttle(
            ThrottleSettings::builder()
                .rate_limit(10.0)
                .burst_limit(20)
                .build(),
        )
        .quota(
            QuotaSettings::builder()
                .limit(1000)
                .period(QuotaPeriodType::Day)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let plan_id = plan.id().unwrap().to_owned();
    assert_eq!(plan.api_stages()[0].stage(), Some("prod"));
    assert_eq!(plan.throttle().unwrap().burst_limit(), 20);
    assert_eq!(plan.quota().unwrap().period(), Some(&QuotaPeriodType::Day));

    let key = c
        .create_api_key()
        .name("client")
        .enabled(true)
        .stage_keys(StageKey::builder().rest_api_id(&api).stage_name("prod").build())
        .send()
        .await
        .unwrap();
    let key_id = key.id().unwrap().to_owned();
    assert_eq!(key.value().map(str::len), Some(40));
    assert!(key.enabled());
    assert_eq!(key.stage_keys(), &[format!("{api}/prod")]);
    let hidden = c.get_api_key().api_key(&key_id).send().await.unwrap();
    assert_eq!(hidden.value(), None, "the value is hidden unless asked for");
    let shown = c
        .get_api_key()
        .api_key(&key_id)
        .include_value(true)
        .send()
        .await
        .unwrap();
    assert_eq!(shown.value(), key.value());
    let err = c
        .create_api_key()
        .name("dup")
        .value(key.value().unwrap())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_conflict_exception());
    let err = c
        .create_api_key()
        .value("short")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_bad_request_exception());
    let listed = c.get_api_keys().include_values(true).send().await.unwrap();
    assert_eq!(listed.items().len(), 1);
    assert_eq!(listed.items()[0].value(), key.value());

    let err = c
        .create_usage_plan_key()
        .usage_plan_id(&plan_id)
        .key_id("nosuchkey1")
        .key_type("API_KEY")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_not_found_exception());
    let member = c
        .create_usage_plan_key()
        .usage_plan_id(&plan_id)
        .key_id(&key_id)
        .key_type("API_KEY")
        .send()
        .await
        .unwrap();
    assert_eq!(member.id(), Some(key_id.as_str()));
    assert_eq!(member.value(), key.value());
    assert_eq!(member.r#type(), Some("API_KEY"));
    let err = c
        .create_usage_plan_key()
        .usage_plan_id(&plan_id)
        .key_id(&key_id)
        .key_type("API_KEY")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_conflict_exception());

    // A second plan on the same stage cannot take the same key.
    let other = c
        .create_usage_plan()
        .name("other")
        .api_stages(ApiStage::builder().api_id(&api).stage("prod").build())
        .send()
        .await
        .unwrap();
    let err = c
        .create_usage_plan_key()
        .usage_plan_id(other.id().unwrap())
        .key_id(&key_id)
        .key_type("API_KEY")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_conflict_exception());

    let keys = c
        .get_usage_plan_keys()
        .usage_plan_id(&plan_id)
        .send()
        .await
        .unwrap();
    assert_eq!(keys.items().len(), 1);
    let got = c
        .get_usage_plan_key()
        .usage_plan_id(&plan_id)
        .key_id(&key_id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.name(), Some("client"));
    let plans = c.get_usage_plans().key_id(&key_id).send().await.unwrap();
    assert_eq!(plans.items().len(), 1);
    assert_eq!(plans.items()[0].id(), Some(plan_id.as_str()));
    let got = c.get_usage_plan().usage_plan_id(&plan_id).send().await.unwrap();
    assert_eq!(got.name(), Some("plan"));

    let err = c
        .delete_usage_plan()
        .usage_plan_id(&plan_id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_bad_request_exception());
    assert!(code_and_message(&err).1.starts_with(&format!(
        "Cannot delete Usage Plan {plan_id} because there are API Stages associated with it"
    )));
    let updated = c
        .update_usage_plan()
        .usage_plan_id(&plan_id)
        .patch_operations(patch(Op::Remove, "/apiStages", Some(&format!("{api}:prod"))))
        .patch_operations(patch(Op::Replace, "/throttle/rateLimit", Some("5")))
        .send()
        .await
        .unwrap();
    assert!(updated.api_stages().is_empty());
    assert_eq!(updated.throttle().unwrap().rate_limit(), 5.0);
    c.delete_usage_plan_key()
        .usage_plan_id(&plan_id)
        .key_id(&key_id)
        .send()
        .await
        .unwrap();
    let err = c
        .get_usage_plan_key()
        .usage_plan_id(&plan_id)
        .key_id(&key_id)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_not_found_exception());
    c.delete_usage_plan()
        .usage_plan_id(&plan_id)
        .send()
        .await
        .unwrap();
    let err = c
        .get_usage_plan()
        .usage_plan_id(&plan_id)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_not_found_exception());

    let disabled = c
        .update_api_key()
        .api_key(&key_id)
        .patch_operations(patch(Op::Replace, "/enabled", Some("false")))
        .send()
        .await
        .unwrap();
    assert!(!disabled.enabled());
    c.delete_api_key().api_key(&key_id).send().await.unwrap();
    let err = c
        .get_api_key()
        .api_key(&key_id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_not_found_exception());
    assert_eq!(code_and_message(&err).1, "Invalid API Key identifier specified");
}

#[tokio::test]
async fn tags_are_managed_by_arn() {
    let (_local, c) = client().await;
    let (api, _) = deployable_api(&c).await;
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    for arn in [
        format!("arn:aws:apigateway:us-east-1::/restapis/{api}"),
        format!("arn:aws:apigateway:us-east-1::/restapis/{api}/stages/prod"),
    ] {
        c.tag_resource()
            .resource_arn(&arn)
            .tags("team", "data")
            .tags("cost", "42")
            .send()
            .await
            .unwrap();
        let tags = c.get_tags().resource_arn(&arn).send().await.unwrap();
        assert_eq!(tags.tags().unwrap().len(), 2);
        c.untag_resource()
            .resource_arn(&arn)
            .tag_keys("cost")
            .send()
            .await
            .unwrap();
        let tags = c.get_tags().resource_arn(&arn).send().await.unwrap();
        assert_eq!(tags.tags().unwrap().keys().collect::<Vec<_>>(), ["team"]);
    }
    let api_tags = c.get_rest_api().rest_api_id(&api).send().await.unwrap();
    assert_eq!(api_tags.tags().unwrap()["team"], "data");
    let err = c
        .get_tags()
        .resource_arn("arn:aws:apigateway:us-east-1::/restapis/nosuchapi1")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_not_found_exception());
    let err = c
        .tag_resource()
        .resource_arn("arn:aws:s3:::bucket")
        .tags("a", "b")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_bad_request_exception());
}

#[tokio::test]
async fn deleting_an_api_removes_its_stages_and_deployments() {
    let (local, c) = client().await;
    let (api, _) = deployable_api(&c).await;
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let plan = c
        .create_usage_plan()
        .name("plan")
        .api_stages(ApiStage::builder().api_id(&api).stage("prod").build())
        .send()
        .await
        .unwrap();
    let listed = common::resources(&local).await;
    let kinds = |v: &serde_json::Value, kind: &str| {
        v["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["service"] == "apigateway" && r["kind"] == kind)
            .count()
    };
    assert_eq!(kinds(&listed, "stage"), 2);
    assert_eq!(kinds(&listed, "deployment"), 2);
    assert_eq!(kinds(&listed, "restapi"), 1);

    c.delete_rest_api().rest_api_id(&api).send().await.unwrap();
    let listed = common::resources(&local).await;
    for kind in ["restapi", "stage", "deployment"] {
        assert_eq!(kinds(&listed, kind), 0, "{kind} left behind");
    }
    let plan = c
        .get_usage_plan()
        .usage_plan_id(plan.id().unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        plan.api_stages().is_empty(),
        "the plan no longer names the deleted stage"
    );
}

#[tokio::test]
async fn apis_are_per_account() {
    let local = common::start().await;
    let a = Client::new(&common::sdk(&local, "111111111111"));
    let b = Client::new(&common::sdk(&local, "222222222222"));
    let api = a.create_rest_api().name("mine").send().await.unwrap();
    let err = b
        .get_rest_api()
        .rest_api_id(api.id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_not_found_exception());
    assert!(b.get_rest_apis().send().await.unwrap().items().is_empty());
}

#[tokio::test]
async fn resources_move_and_apis_clone() {
    let (_local, c) = client().await;
    let (api, streams) = deployable_api(&c).await;
    let root = c.get_rest_api().rest_api_id(&api).send().await.unwrap();
    let root = root.root_resource_id().unwrap();
    let child = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&streams)
        .path_part("{stream-name}")
        .send()
        .await
        .unwrap();
    let renamed = c
        .update_resource()
        .rest_api_id(&api)
        .resource_id(&streams)
        .patch_operations(patch(Op::Replace, "/pathPart", Some("topics")))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.path(), Some("/topics"));
    let child = c
        .get_resource()
        .rest_api_id(&api)
        .resource_id(child.id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(child.path(), Some("/topics/{stream-name}"), "children follow");
    let err = c
        .update_resource()
        .rest_api_id(&api)
        .resource_id(&streams)
        .patch_operations(patch(Op::Replace, "/parentId", child.id()))
        .send()
        .await
        .unwrap_err();
    assert!(
        err.into_service_error().is_bad_request_exception(),
        "not below itself"
    );
    let err = c
        .update_resource()
        .rest_api_id(&api)
        .resource_id(root)
        .patch_operations(patch(Op::Replace, "/pathPart", Some("x")))
        .send()
        .await
        .unwrap_err();
    assert!(
        err.into_service_error().is_bad_request_exception(),
        "the root has no path part"
    );

    let copy = c
        .create_rest_api()
        .name("copy")
        .clone_from(&api)
        .send()
        .await
        .unwrap();
    let copied = c
        .get_resources()
        .rest_api_id(copy.id().unwrap())
        .embed("methods")
        .send()
        .await
        .unwrap();
    let mut paths: Vec<&str> = copied.items().iter().filter_map(|r| r.path()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["/", "/topics", "/topics/{stream-name}"]);
    assert!(
        copied.items().iter().all(|r| r.id() != Some(streams.as_str())),
        "new ids"
    );
    let topics = copied
        .items()
        .iter()
        .find(|r| r.path() == Some("/topics"))
        .unwrap();
    let get = &topics.resource_methods().unwrap()["GET"];
    assert_eq!(
        get.method_integration().unwrap().uri(),
        Some("arn:aws:apigateway:us-east-1:kinesis:action/ListStreams")
    );
    let err = c
        .create_rest_api()
        .name("copy")
        .clone_from("nosuchapi1")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.into_service_error().is_bad_request_exception(),
        "CreateRestApi has no NotFound"
    );
}

/// AWS takes an integration response before the method response of its status code (the
/// order Terraform may send them in); only a header mapping needs the method response to
/// declare the header.
#[tokio::test]
async fn an_integration_response_may_come_before_its_method_response() {
    let (local, c) = client().await;
    let (api, res) = deployable_api(&c).await;
    let ir = c
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("GET")
        .status_code("500")
        .selection_pattern("5\\d{2}")
        .send()
        .await
        .unwrap();
    assert_eq!(ir.status_code(), Some("500"));
    let err = c
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("GET")
        .status_code("502")
        .response_parameters("method.response.header.X-Error", "'bad'")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_bad_request_exception(), "{err:?}");
    local.shutdown().await;
}

/// GetUsagePlanKeys of a plan that does not exist answers 200 with no items, as AWS does
/// (GetUsagePlan of it is still a 404).
#[tokio::test]
async fn the_keys_of_an_unknown_usage_plan_are_an_empty_list() {
    let (local, c) = client().await;
    let keys = c
        .get_usage_plan_keys()
        .usage_plan_id("nosuchplan")
        .send()
        .await
        .unwrap();
    assert!(keys.items().is_empty());
    let err = c
        .get_usage_plan()
        .usage_plan_id("nosuchplan")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_not_found_exception(), "{err:?}");
    local.shutdown().await;
}

/// A MOCK integration reports no `connectionType` unless one was given, and drops a URI given
/// to it; AWS and AWS_PROXY integrations report no `connectionType` either; only HTTP ones
/// default to `INTERNET` (recorded: LocalStack test_put_integration_validation).
#[tokio::test]
async fn a_mock_integration_reports_no_connection_type() {
    let (local, c) = client().await;
    let (api, res) = deployable_api(&c).await;
    c.put_method()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("OPTIONS")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    let mock = c
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("OPTIONS")
        .r#type(IntegrationType::Mock)
        .uri("http://example.com")
        .request_templates("application/json", "{\"statusCode\": 200}")
        .send()
        .await
        .unwrap();
    assert_eq!(mock.connection_type(), None);
    assert_eq!(mock.uri(), None, "a MOCK integration calls no URI");
    let aws = c
        .get_integration()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    assert_eq!(aws.connection_type(), None);
    let http = c
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("OPTIONS")
        .r#type(IntegrationType::Http)
        .integration_http_method("GET")
        .uri("http://example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(http.connection_type().map(|t| t.as_str()), Some("INTERNET"));
    local.shutdown().await;
}

/// `none` is taken as `NONE`, in PutMethod and UpdateMethod alike (recorded: LocalStack
/// test_put_integration_responses).
#[tokio::test]
async fn authorization_type_is_case_insensitive() {
    let (local, c) = client().await;
    let api = c.create_rest_api().name("auth").send().await.unwrap();
    let (id, root) = (api.id().unwrap(), api.root_resource_id().unwrap());
    let put = c
        .put_method()
        .rest_api_id(id)
        .resource_id(root)
        .http_method("PUT")
        .authorization_type("none")
        .send()
        .await
        .unwrap();
    assert_eq!(put.authorization_type(), Some("NONE"));
    let updated = c
        .update_method()
        .rest_api_id(id)
        .resource_id(root)
        .http_method("PUT")
        .patch_operations(patch(Op::Replace, "/authorizationType", Some("aws_iam")))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.authorization_type(), Some("AWS_IAM"));
    let err = c
        .put_method()
        .rest_api_id(id)
        .resource_id(root)
        .http_method("GET")
        .authorization_type("nobody")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_bad_request_exception(), "{err:?}");
    local.shutdown().await;
}

/// An empty description is refused, not stored (recorded: LocalStack
/// test_create_rest_api_with_optional_params).
#[tokio::test]
async fn an_empty_description_is_refused() {
    let (local, c) = client().await;
    let err = c
        .create_rest_api()
        .name("x")
        .description("")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_bad_request_exception(), "{err:?}");
    assert_eq!(code_and_message(&err).1, "Description cannot be an empty string");
    assert!(c.get_rest_apis().send().await.unwrap().items().is_empty());
    local.shutdown().await;
}

/// UpdateRestApi, UpdateApiKey, GetUsagePlan and UpdateUsagePlan answer with `tags: {}` for a
/// resource without tags; Create answers leave `tags` out (recorded: LocalStack
/// test_update_rest_api_operation_add_remove, test_usage_plan_crud,
/// test_api_key_required_for_methods).
#[tokio::test]
async fn update_answers_show_empty_tags() {
    let (local, c) = client().await;
    let api = c.create_rest_api().name("plain").send().await.unwrap();
    assert!(api.tags().is_none());
    let updated = c
        .update_rest_api()
        .rest_api_id(api.id().unwrap())
        .patch_operations(patch(Op::Replace, "/description", Some("words")))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.tags().map(|t| t.len()), Some(0));

    let key = c.create_api_key().name("k").send().await.unwrap();
    assert!(key.tags().is_none());
    let updated = c
        .update_api_key()
        .api_key(key.id().unwrap())
        .patch_operations(patch(Op::Replace, "/enabled", Some("true")))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.tags().map(|t| t.len()), Some(0));

    let plan = c.create_usage_plan().name("p").send().await.unwrap();
    assert!(plan.tags().is_none());
    let got = c
        .get_usage_plan()
        .usage_plan_id(plan.id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(got.tags().map(|t| t.len()), Some(0));
    let updated = c
        .update_usage_plan()
        .usage_plan_id(plan.id().unwrap())
        .patch_operations(patch(Op::Replace, "/description", Some("words")))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.tags().map(|t| t.len()), Some(0));
    local.shutdown().await;
}

/// `remove /apiStages` of a well-formed stage the plan does not name is a 404 naming it; a
/// value that is no `api:stage` is a 400 (recorded: LocalStack test_usage_plan_crud).
#[tokio::test]
async fn removing_an_unknown_api_stage_from_a_usage_plan_is_not_found() {
    let (local, c) = client().await;
    let (api, _) = deployable_api(&c).await;
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let plan = c
        .create_usage_plan()
        .name("plan")
        .api_stages(ApiStage::builder().api_id(&api).stage("dev").build())
        .send()
        .await
        .unwrap();
    let plan_id = plan.id().unwrap();
    let remove = |value: Option<String>| {
        c.update_usage_plan()
            .usage_plan_id(plan_id)
            .patch_operations(patch(Op::Remove, "/apiStages", value.as_deref()))
            .send()
    };
    let err = remove(Some(format!("{api}:prod")))
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_not_found_exception(), "{err:?}");
    assert_eq!(
        code_and_message(&err).1,
        format!("Invalid API Stage {{api: {api}, stage: prod}} specified for usageplan {plan_id}")
    );
    for malformed in [None, Some("nocolon".to_owned())] {
        let err = remove(malformed).await.unwrap_err().into_service_error();
        assert!(err.is_bad_request_exception(), "{err:?}");
        assert_eq!(code_and_message(&err).1, "Invalid API Stage specified");
    }
    let updated = remove(Some(format!("{api}:dev"))).await.unwrap();
    assert!(updated.api_stages().is_empty());
    local.shutdown().await;
}

/// UpdateStage takes method-setting paths with the resource path written plainly
/// (`/streams/GET/throttling/burstLimit`), as Terraform sends them, besides `~1streams`.
#[tokio::test]
async fn stage_method_settings_take_plain_resource_paths_as_terraform_sends_them() {
    let (local, c) = client().await;
    let (api, _) = deployable_api(&c).await;
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    let updated = c
        .update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(patch(
            Op::Replace,
            "/streams/GET/throttling/burstLimit",
            Some("40"),
        ))
        .patch_operations(patch(Op::Replace, "/streams/GET/metrics/enabled", Some("true")))
        .send()
        .await
        .unwrap();
    let setting = &updated.method_settings().unwrap()["streams/GET"];
    assert_eq!(setting.throttling_burst_limit(), 40);
    assert!(setting.metrics_enabled());
    // A path that names no method is still refused.
    let err = c
        .update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(patch(
            Op::Replace,
            "/streams/FETCH/throttling/burstLimit",
            Some("1"),
        ))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_bad_request_exception(), "{err:?}");
    local.shutdown().await;
}

/// PutMethod looks for the resource first (a missing one is a 404 whatever the method), and
/// refuses a request validator or a model the API does not have, as AWS does.
#[tokio::test]
async fn put_method_checks_the_resource_first_and_refuses_unknown_validators_and_models() {
    let (local, c) = client().await;
    let (api, res) = deployable_api(&c).await;
    let err = c
        .put_method()
        .rest_api_id(&api)
        .resource_id("nosuchresource")
        .http_method("FETCH")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_not_found_exception(), "{err:?}");
    let refused = |validator: Option<&'static str>, model: &'static str| {
        let (c, api, res) = (c.clone(), api.clone(), res.clone());
        async move {
            let e = c
                .put_method()
                .rest_api_id(&api)
                .resource_id(&res)
                .http_method("POST")
                .authorization_type("NONE")
                .set_request_validator_id(validator.map(str::to_owned))
                .request_models("application/json", model)
                .send()
                .await
                .unwrap_err()
                .into_service_error();
            assert!(e.is_bad_request_exception(), "{e:?}");
            code_and_message(&e).1
        }
    };
    assert_eq!(
        refused(Some("v1"), "Empty").await,
        "Invalid Request Validator identifier specified"
    );
    assert_eq!(
        refused(None, "PutRecordsInput").await,
        "Invalid model identifier specified: PutRecordsInput"
    );
    // The built-in models are there.
    c.put_method()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("POST")
        .authorization_type("NONE")
        .request_models("application/json", "Empty")
        .send()
        .await
        .unwrap();
    local.shutdown().await;
}
