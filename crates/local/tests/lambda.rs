//! Lambda (functions, tags, Kinesis event source mappings) through the official SDK client.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support as common;

use aws_sdk_lambda::error::ProvideErrorMetadata as _;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Environment, EventSourcePosition, FunctionCode, FunctionResponseType, LastUpdateStatus, Runtime, State,
};
use personalize_stack_local::{Faults, Profile, Running};
use std::time::{Duration, Instant};

const TRUST_LAMBDA: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const TRUST_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

// ---- helpers ----

/// What Lambda reports as `CodeSha256`: base64 of the SHA-256.
fn sha256_base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
}

fn code(zip: &[u8]) -> FunctionCode {
    FunctionCode::builder().zip_file(Blob::new(zip.to_vec())).build()
}

struct Clients {
    lambda: aws_sdk_lambda::Client,
    iam: aws_sdk_iam::Client,
    kinesis: aws_sdk_kinesis::Client,
}

fn clients(local: &Running) -> Clients {
    let config = common::sdk(local, common::ACCOUNT);
    Clients {
        lambda: aws_sdk_lambda::Client::new(&config),
        iam: aws_sdk_iam::Client::new(&config),
        kinesis: aws_sdk_kinesis::Client::new(&config),
    }
}

async fn role(c: &Clients, name: &str, trust: &str) -> String {
    c.iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_owned()
}

async fn function(
    c: &Clients,
    name: &str,
    role: &str,
) -> aws_sdk_lambda::operation::create_function::CreateFunctionOutput {
    c.lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Providedal2023)
        .handler("bootstrap")
        .role(role)
        .code(code(&common::zip_bootstrap(name.as_bytes())))
        .send()
        .await
        .unwrap()
}

async fn stream(c: &Clients, name: &str) -> String {
    c.kinesis
        .create_stream()
        .stream_name(name)
        .shard_count(1)
        .send()
        .await
        .unwrap();
    format!("arn:aws:kinesis:us-east-1:{}:stream/{name}", common::ACCOUNT)
}

/// Polls `status` every 20 ms for up to 5 s until it returns `done`; the statuses seen.
async fn poll_until<F, Fut>(done: &str, mut status: F) -> Vec<String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = String>,
{
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = Vec::new();
    loop {
        let s = status().await;
        if seen.last() != Some(&s) {
            seen.push(s.clone());
        }
        if s == done {
            return seen;
        }
        assert!(Instant::now() < deadline, "never reached {done}; saw {seen:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn lifecycle_profile() -> Profile {
    Profile {
        function_ready_ms: 800,
        function_update_ms: 800,
        mapping_ready_ms: 800,
        mapping_delete_ms: 800,
        ..Profile::instant()
    }
}

// ---- functions ----

#[tokio::test]
async fn a_new_function_is_pending_then_active_and_refuses_updates_meanwhile() {
    let local = common::start_with(lifecycle_profile(), Faults::default()).await;
    let c = clients(&local);
    let role = role(&c, "fn-role", TRUST_LAMBDA).await;
    let zip = common::zip_bootstrap(b"v1");
    let created = c
        .lambda
        .create_function()
        .function_name("forwarder")
        .runtime(Runtime::Providedal2023)
        .handler("bootstrap")
        .role(&role)
        .memory_size(256)
        .timeout(30)
        .description("forwards events")
        .environment(Environment::builder().variables("TRACKING_ID", "t-1").build())
        .tags("team", "data")
        .code(code(&zip))
        .send()
        .await
        .unwrap();
    let arn = format!("arn:aws:lambda:us-east-1:{}:function:forwarder", common::ACCOUNT);
    assert_eq!(created.function_arn(), Some(arn.as_str()));
    assert_eq!(created.state(), Some(&State::Pending));
    assert_eq!(created.state_reason_code().map(|c| c.as_str()), Some("Creating"));
    assert_eq!(created.code_sha256(), Some(sha256_base64(&zip).as_str()));
    assert_eq!(created.code_size(), i64::try_from(zip.len()).unwrap());
    assert_eq!(created.version(), Some("$LATEST"));
    assert_eq!(created.memory_size(), Some(256));
    assert_eq!(created.timeout(), Some(30));
    assert_eq!(created.handler(), Some("bootstrap"));
    assert_eq!(created.runtime(), Some(&Runtime::Providedal2023));
    assert_eq!(
        created
            .environment()
            .unwrap()
            .variables()
            .unwrap()
            .get("TRACKING_ID")
            .map(String::as_str),
        Some("t-1")
    );
    let modified = created.last_modified().unwrap();
    assert!(
        modified.len() == 28 && modified.ends_with("+0000") && modified.as_bytes()[19] == b'.',
        "{modified}"
    );

    // Updating while Pending is a 409 with AWS's wording.
    let err = c
        .lambda
        .update_function_configuration()
        .function_name("forwarder")
        .timeout(60)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_conflict_exception(), "{err:?}");
    assert_eq!(
        err.message(),
        Some(
            "The operation cannot be performed at this time. The function is currently in the following state: Pending"
        )
    );

    let seen = poll_until("Active", || async {
        let f = c
            .lambda
            .get_function_configuration()
            .function_name("forwarder")
            .send()
            .await
            .unwrap();
        f.state().unwrap().as_str().to_owned()
    })
    .await;
    assert_eq!(seen, ["Pending", "Active"]);
    let active = c
        .lambda
        .get_function_configuration()
        .function_name("forwarder")
        .send()
        .await
        .unwrap();
    assert_eq!(active.last_update_status(), Some(&LastUpdateStatus::Successful));

    // New code: new CodeSha256, a new RevisionId, and InProgress for a while.
    let zip2 = common::zip_bootstrap(b"v2");
    let updated = c
        .lambda
        .update_function_code()
        .function_name("forwarder")
        .zip_file(Blob::new(zip2.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.code_sha256(), Some(sha256_base64(&zip2).as_str()));
    assert_ne!(updated.code_sha256(), created.code_sha256());
    assert_ne!(updated.revision_id(), created.revision_id());
    assert_eq!(updated.last_update_status(), Some(&LastUpdateStatus::InProgress));
    let err = c
        .lambda
        .update_function_code()
        .function_name("forwarder")
        .zip_file(Blob::new(zip2.clone()))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_conflict_exception(), "{err:?}");
    assert_eq!(
        err.message(),
        Some(
            format!(
                "The operation cannot be performed at this time. An update is in progress for resource: {arn}"
            )
            .as_str()
        )
    );
    let seen = poll_until("Successful", || async {
        let f = c
            .lambda
            .get_function_configuration()
            .function_name("forwarder")
            .send()
            .await
            .unwrap();
        f.last_update_status().unwrap().as_str().to_owned()
    })
    .await;
    assert_eq!(seen, ["InProgress", "Successful"]);

    // Configuration update, with a stale RevisionId refused first.
    let err = c
        .lambda
        .update_function_configuration()
        .function_name("forwarder")
        .revision_id(created.revision_id().unwrap())
        .timeout(60)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_precondition_failed_exception(), "{err:?}");
    let configured = c
        .lambda
        .update_function_configuration()
        .function_name("forwarder")
        .revision_id(updated.revision_id().unwrap())
        .timeout(60)
        .memory_size(512)
        .environment(Environment::builder().variables("TRACKING_ID", "t-2").build())
        .send()
        .await
        .unwrap();
    assert_eq!(configured.timeout(), Some(60));
    assert_eq!(configured.memory_size(), Some(512));
    assert_eq!(configured.code_sha256(), Some(sha256_base64(&zip2).as_str()));
    assert_eq!(
        configured.last_update_status(),
        Some(&LastUpdateStatus::InProgress)
    );

    let got = c
        .lambda
        .get_function()
        .function_name("forwarder")
        .send()
        .await
        .unwrap();
    let code_location = got.code().unwrap();
    assert_eq!(code_location.repository_type(), Some("S3"));
    assert!(code_location.location().is_some());
    assert_eq!(got.tags().unwrap().get("team").map(String::as_str), Some("data"));
    let config = got.configuration().unwrap();
    assert_eq!(
        config
            .environment()
            .unwrap()
            .variables()
            .unwrap()
            .get("TRACKING_ID")
            .map(String::as_str),
        Some("t-2")
    );

    c.lambda
        .delete_function()
        .function_name("forwarder")
        .send()
        .await
        .unwrap();
    let err = c
        .lambda
        .get_function()
        .function_name("forwarder")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    assert_eq!(err.message(), Some(format!("Function not found: {arn}").as_str()));
    let err = c
        .lambda
        .delete_function()
        .function_name("forwarder")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    local.shutdown().await;
}

#[tokio::test]
async fn create_function_validates_as_lambda_does() {
    let local = common::start().await;
    let c = clients(&local);
    let role = role(&c, "fn-role", TRUST_LAMBDA).await;
    let base = || {
        c.lambda
            .create_function()
            .function_name("f")
            .runtime(Runtime::Python312)
            .handler("app.handler")
            .role(&role)
            .code(code(&common::zip_bootstrap(b"x")))
    };

    let err = base()
        .code(code(b"definitely not a zip"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
    assert_eq!(
        err.message(),
        Some("Could not unzip uploaded file. Please check your file, then try to upload again.")
    );

    let err = base()
        .memory_size(64)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some(
            "'MemorySize' value failed to satisfy constraint: Member must have value greater than or equal to 128"
        )
    );
    let err = base()
        .memory_size(10_241)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    let err = base().timeout(901).send().await.unwrap_err().into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    assert!(
        err.message().unwrap().contains("less than or equal to 900"),
        "{err:?}"
    );

    // A runtime Lambda blocked is named in its refusal; one it no longer knows (long gone, or
    // never) is an unknown value, checked by the service (hence not a ValidationException).
    let err = base()
        .runtime(Runtime::Go1x)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
    assert_eq!(
        err.message(),
        Some(
            "The runtime parameter of go1.x is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions."
        )
    );
    for unknown in [Runtime::Python27, Runtime::from("cobol85")] {
        let err = base()
            .runtime(unknown.clone())
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
        let message = err.message().unwrap();
        assert!(
            message.starts_with(&format!(
                "Value {unknown} at 'runtime' failed to satisfy constraint"
            )) && message.ends_with("or be a valid ARN"),
            "{message}"
        );
    }

    let err = base()
        .environment(
            Environment::builder()
                .variables("AWS_REGION", "eu-west-1")
                .build(),
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
    assert!(
        err.message()
            .unwrap()
            .contains("Reserved keys used in this request: AWS_REGION")
    );
    let err = base()
        .environment(Environment::builder().variables("BIG", "x".repeat(4100)).build())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
    assert!(err.message().unwrap().contains("exceeded the 4KB limit"));

    let err = base()
        .architectures(aws_sdk_lambda::types::Architecture::from("mips"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    let err = base()
        .function_name("bad name!")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    let err = base()
        .role("not-a-role")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));

    // Nothing above was created.
    let listed = c.lambda.list_functions().send().await.unwrap();
    assert!(listed.functions().is_empty());

    let ok = base()
        .architectures(aws_sdk_lambda::types::Architecture::Arm64)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.architectures(), [aws_sdk_lambda::types::Architecture::Arm64]);
    let err = base().send().await.unwrap_err().into_service_error();
    assert!(err.is_resource_conflict_exception(), "{err:?}");
    assert_eq!(err.message(), Some("Function already exist: f"));
    local.shutdown().await;
}

#[tokio::test]
async fn roles_lambda_cannot_assume_are_refused_until_iam_propagates() {
    let local = common::start_with(
        Profile::instant(),
        Faults {
            iam_propagation_ms: 800,
            ..Faults::default()
        },
    )
    .await;
    let c = clients(&local);
    let expected = "The role defined for the function cannot be assumed by Lambda.";
    let create = |name: &'static str, role: String| {
        c.lambda
            .create_function()
            .function_name(name)
            .runtime(Runtime::Providedal2023)
            .handler("bootstrap")
            .role(role)
            .code(code(&common::zip_bootstrap(b"x")))
            .send()
    };

    let missing = format!("arn:aws:iam::{}:role/nobody", common::ACCOUNT);
    let err = create("f", missing).await.unwrap_err().into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
    assert_eq!(err.message(), Some(expected));

    let ec2 = role(&c, "ec2-role", TRUST_EC2).await;
    let err = create("f", ec2).await.unwrap_err().into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
    assert_eq!(err.message(), Some(expected));

    // A fresh role fails at first, then works: retrying is the cure, as on AWS.
    let fresh = role(&c, "fresh-role", TRUST_LAMBDA).await;
    let err = create("f", fresh.clone()).await.unwrap_err().into_service_error();
    assert_eq!(err.message(), Some(expected));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match create("f", fresh.clone()).await {
            Ok(f) => {
                assert_eq!(f.role(), Some(fresh.as_str()));
                break;
            }
            Err(e) => {
                assert_eq!(e.into_service_error().message(), Some(expected));
                assert!(Instant::now() < deadline, "the role never propagated");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    local.shutdown().await;
}

#[tokio::test]
async fn functions_are_found_by_name_or_arn_and_listed_in_pages() {
    let local = common::start().await;
    let c = clients(&local);
    let role = role(&c, "fn-role", TRUST_LAMBDA).await;
    for name in ["e", "a", "d", "b", "c"] {
        function(&c, name, &role).await;
    }
    let account = common::ACCOUNT;
    for reference in [
        "c".to_owned(),
        format!("{account}:function:c"),
        format!("arn:aws:lambda:us-east-1:{account}:function:c"),
        format!("arn:aws:lambda:us-east-1:{account}:function:c:$LATEST"),
    ] {
        let f = c
            .lambda
            .get_function_configuration()
            .function_name(&reference)
            .send()
            .await
            .unwrap();
        assert_eq!(f.function_name(), Some("c"), "{reference}");
    }
    let err = c
        .lambda
        .get_function()
        .function_name("c")
        .qualifier("7")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");

    let mut names = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = c
            .lambda
            .list_functions()
            .max_items(2)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(page.functions().len() <= 2);
        for f in page.functions() {
            assert!(f.state().is_none(), "ListFunctions leaves State out");
            names.push(f.function_name().unwrap().to_owned());
        }
        marker = page.next_marker().map(str::to_owned);
        if marker.is_none() {
            break;
        }
    }
    assert_eq!(names, ["a", "b", "c", "d", "e"]);
    assert_eq!(pages, 3);

    // The paginator the SDK ships agrees.
    let all: Vec<_> = c
        .lambda
        .list_functions()
        .max_items(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(all.len(), 5);
    let err = c
        .lambda
        .list_functions()
        .max_items(0)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    local.shutdown().await;
}

#[tokio::test]
async fn tags_are_added_listed_and_removed() {
    let local = common::start().await;
    let c = clients(&local);
    let role = role(&c, "fn-role", TRUST_LAMBDA).await;
    let arn = function(&c, "tagged", &role)
        .await
        .function_arn()
        .unwrap()
        .to_owned();
    c.lambda
        .tag_resource()
        .resource(&arn)
        .tags("stack", "personalize")
        .tags("env", "dev")
        .send()
        .await
        .unwrap();
    let tags = c.lambda.list_tags().resource(&arn).send().await.unwrap();
    assert_eq!(tags.tags().unwrap().len(), 2);
    c.lambda
        .untag_resource()
        .resource(&arn)
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    let tags = c.lambda.list_tags().resource(&arn).send().await.unwrap();
    assert_eq!(
        tags.tags().unwrap().get("stack").map(String::as_str),
        Some("personalize")
    );
    assert!(!tags.tags().unwrap().contains_key("env"));

    let missing = format!("arn:aws:lambda:us-east-1:{}:function:ghost", common::ACCOUNT);
    let err = c
        .lambda
        .list_tags()
        .resource(&missing)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    assert_eq!(
        err.message(),
        Some(format!("Function not found: {missing}").as_str())
    );

    // Mappings carry tags too, from creation on.
    let events = stream(&c, "events").await;
    let mapping = c
        .lambda
        .create_event_source_mapping()
        .function_name("tagged")
        .event_source_arn(&events)
        .starting_position(EventSourcePosition::Latest)
        .tags("stack", "personalize")
        .send()
        .await
        .unwrap();
    let mapping_arn = mapping.event_source_mapping_arn().unwrap();
    c.lambda
        .tag_resource()
        .resource(mapping_arn)
        .tags("env", "dev")
        .send()
        .await
        .unwrap();
    let tags = c.lambda.list_tags().resource(mapping_arn).send().await.unwrap();
    assert_eq!(tags.tags().unwrap().len(), 2);
    let err = c
        .lambda
        .list_tags()
        .resource("not-an-arn")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    local.shutdown().await;
}

#[tokio::test]
async fn reserved_concurrency_is_put_shown_by_get_function_and_deleted() {
    let local = common::start().await;
    let c = clients(&local);
    let role = role(&c, "fn-role", TRUST_LAMBDA).await;
    function(&c, "reserved", &role).await;
    function(&c, "greedy", &role).await;
    let got = c
        .lambda
        .get_function()
        .function_name("reserved")
        .send()
        .await
        .unwrap();
    assert!(got.concurrency().is_none());
    let put = c
        .lambda
        .put_function_concurrency()
        .function_name("reserved")
        .reserved_concurrent_executions(5)
        .send()
        .await
        .unwrap();
    assert_eq!(put.reserved_concurrent_executions(), Some(5));
    let got = c
        .lambda
        .get_function()
        .function_name("reserved")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.concurrency().and_then(|c| c.reserved_concurrent_executions()),
        Some(5)
    );
    let conc = c
        .lambda
        .get_function_concurrency()
        .function_name("reserved")
        .send()
        .await
        .unwrap();
    assert_eq!(conc.reserved_concurrent_executions(), Some(5));

    // At least 100 of the account's 1,000 stay unreserved.
    let err = c
        .lambda
        .put_function_concurrency()
        .function_name("greedy")
        .reserved_concurrent_executions(896)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InvalidParameterValueException"));
    assert!(
        err.message().unwrap().contains("minimum value of [100]"),
        "{err:?}"
    );

    c.lambda
        .delete_function_concurrency()
        .function_name("reserved")
        .send()
        .await
        .unwrap();
    let got = c
        .lambda
        .get_function()
        .function_name("reserved")
        .send()
        .await
        .unwrap();
    assert!(got.concurrency().is_none());
    let conc = c
        .lambda
        .get_function_concurrency()
        .function_name("reserved")
        .send()
        .await
        .unwrap();
    assert_eq!(conc.reserved_concurrent_executions(), None);
    let err = c
        .lambda
        .put_function_concurrency()
        .function_name("ghost")
        .reserved_concurrent_executions(1)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    local.shutdown().await;
}

// ---- resource-based policies ----

#[tokio::test]
async fn permissions_are_added_read_and_removed_as_lambda_does() {
    let local = common::start().await;
    let c = clients(&local);
    let role = role(&c, "fn-role", TRUST_LAMBDA).await;
    let created = function(&c, "guarded", &role).await;
    let function_arn = created.function_arn().unwrap().to_owned();
    let policy_of = |text: &str| -> serde_json::Value { serde_json::from_str(text).unwrap() };

    // No policy yet: GetPolicy and RemovePermission say so, each in its words.
    let err = c
        .lambda
        .get_policy()
        .function_name("guarded")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    assert_eq!(err.message(), Some("The resource you requested does not exist."));
    let err = c
        .lambda
        .remove_permission()
        .function_name("guarded")
        .statement_id("s3")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        err.message(),
        Some("No policy is associated with the given resource.")
    );

    // The statement comes back as JSON text, a service principal and a source ARN as AWS
    // writes them.
    let added = c
        .lambda
        .add_permission()
        .function_name("guarded")
        .statement_id("s3")
        .action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com")
        .source_arn("arn:aws:s3:::uploads")
        .send()
        .await
        .unwrap();
    assert_eq!(
        policy_of(added.statement().unwrap()),
        serde_json::json!({
            "Sid": "s3",
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "lambda:InvokeFunction",
            "Resource": function_arn,
            "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::uploads"}},
        })
    );
    let policy = c
        .lambda
        .get_policy()
        .function_name("guarded")
        .send()
        .await
        .unwrap();
    let document = policy_of(policy.policy().unwrap());
    assert_eq!(document["Version"], "2012-10-17");
    assert_eq!(document["Id"], "default");
    assert_eq!(document["Statement"][0]["Sid"], "s3");
    let first_revision = policy.revision_id().unwrap().to_owned();
    // The policy has its own revision: the function's stays.
    let config = c
        .lambda
        .get_function_configuration()
        .function_name("guarded")
        .send()
        .await
        .unwrap();
    assert_eq!(config.revision_id(), created.revision_id());
    assert_ne!(config.revision_id(), Some(first_revision.as_str()));

    // A taken statement id conflicts; a stale revision is refused.
    let err = c
        .lambda
        .add_permission()
        .function_name("guarded")
        .statement_id("s3")
        .action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_conflict_exception(), "{err:?}");
    let err = c
        .lambda
        .add_permission()
        .function_name("guarded")
        .statement_id("account")
        .action("lambda:InvokeFunction")
        .principal(common::ACCOUNT)
        .revision_id("stale")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_precondition_failed_exception(), "{err:?}");

    // An account is written as its root; the revision given is the policy's.
    let added = c
        .lambda
        .add_permission()
        .function_name("guarded")
        .statement_id("account")
        .action("lambda:InvokeFunction")
        .principal(common::ACCOUNT)
        .revision_id(&first_revision)
        .send()
        .await
        .unwrap();
    assert_eq!(
        policy_of(added.statement().unwrap())["Principal"],
        serde_json::json!({"AWS": format!("arn:aws:iam::{}:root", common::ACCOUNT)})
    );
    let err = c
        .lambda
        .add_permission()
        .function_name("guarded")
        .statement_id("nobody")
        .action("lambda:InvokeFunction")
        .principal("invalid.nonaws.com")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");

    // Removing renews the revision; removing the last statement removes the policy.
    c.lambda
        .remove_permission()
        .function_name("guarded")
        .statement_id("s3")
        .send()
        .await
        .unwrap();
    let policy = c
        .lambda
        .get_policy()
        .function_name("guarded")
        .send()
        .await
        .unwrap();
    let document = policy_of(policy.policy().unwrap());
    assert_eq!(document["Statement"].as_array().map(Vec::len), Some(1));
    assert_ne!(policy.revision_id(), Some(first_revision.as_str()));
    let err = c
        .lambda
        .remove_permission()
        .function_name("guarded")
        .statement_id("s3")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        err.message(),
        Some("Statement s3 is not found in resource policy.")
    );
    c.lambda
        .remove_permission()
        .function_name("guarded")
        .statement_id("account")
        .revision_id(policy.revision_id().unwrap())
        .send()
        .await
        .unwrap();
    let err = c
        .lambda
        .get_policy()
        .function_name("guarded")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");

    // The policy goes with its function.
    c.lambda
        .add_permission()
        .function_name("guarded")
        .statement_id("again")
        .action("lambda:InvokeFunction")
        .principal("*")
        .send()
        .await
        .unwrap();
    c.lambda
        .delete_function()
        .function_name("guarded")
        .send()
        .await
        .unwrap();
    function(&c, "guarded", &role).await;
    let err = c
        .lambda
        .get_policy()
        .function_name("guarded")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    local.shutdown().await;
}

// ---- event source mappings ----

#[tokio::test]
async fn a_mapping_is_created_updated_disabled_and_deleted_through_its_states() {
    let local = common::start_with(lifecycle_profile(), Faults::default()).await;
    let c = clients(&local);
    let role = role(&c, "fn-role", TRUST_LAMBDA).await;
    function(&c, "forwarder", &role).await;
    let stream_arn = stream(&c, "events").await;
    let function_arn = format!("arn:aws:lambda:us-east-1:{}:function:forwarder", common::ACCOUNT);

    let created = c
        .lambda
        .create_event_source_mapping()
        .event_source_arn(&stream_arn)
        .function_name("forwarder")
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(50)
        .maximum_batching_window_in_seconds(1)
        .bisect_batch_on_function_error(true)
        .maximum_retry_attempts(3)
        .maximum_record_age_in_seconds(3600)
        .function_response_types(FunctionResponseType::ReportBatchItemFailures)
        .send()
        .await
        .unwrap();
    let uuid = created.uuid().unwrap().to_owned();
    assert_eq!(created.state(), Some("Creating"));
    assert_eq!(created.event_source_arn(), Some(stream_arn.as_str()));
    assert_eq!(created.function_arn(), Some(function_arn.as_str()));
    assert_eq!(created.batch_size(), Some(50));
    assert_eq!(created.maximum_batching_window_in_seconds(), Some(1));
    assert_eq!(created.parallelization_factor(), Some(1));
    assert_eq!(created.bisect_batch_on_function_error(), Some(true));
    assert_eq!(created.maximum_retry_attempts(), Some(3));
    assert_eq!(created.maximum_record_age_in_seconds(), Some(3600));
    assert_eq!(
        created.starting_position(),
        Some(&EventSourcePosition::TrimHorizon)
    );
    assert_eq!(
        created.function_response_types(),
        [FunctionResponseType::ReportBatchItemFailures]
    );
    assert_eq!(created.last_processing_result(), Some("No records processed"));
    assert!(created.last_modified().is_some());
    assert_eq!(
        created.event_source_mapping_arn(),
        Some(
            format!(
                "arn:aws:lambda:us-east-1:{}:event-source-mapping:{uuid}",
                common::ACCOUNT
            )
            .as_str()
        )
    );

    // Changing a mapping that is still Creating is refused.
    let err = c
        .lambda
        .update_event_source_mapping()
        .uuid(&uuid)
        .batch_size(10)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_in_use_exception(), "{err:?}");

    let get_state = || async {
        c.lambda
            .get_event_source_mapping()
            .uuid(&uuid)
            .send()
            .await
            .unwrap()
            .state()
            .unwrap()
            .to_owned()
    };
    assert_eq!(poll_until("Enabled", get_state).await, ["Creating", "Enabled"]);

    let updated = c
        .lambda
        .update_event_source_mapping()
        .uuid(&uuid)
        .batch_size(10)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.state(), Some("Updating"));
    assert_eq!(updated.batch_size(), Some(10));
    assert_eq!(
        updated.maximum_retry_attempts(),
        Some(3),
        "untouched options stay"
    );
    assert_eq!(poll_until("Enabled", get_state).await, ["Updating", "Enabled"]);

    let disabled = c
        .lambda
        .update_event_source_mapping()
        .uuid(&uuid)
        .enabled(false)
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.state(), Some("Disabling"));
    assert_eq!(poll_until("Disabled", get_state).await, ["Disabling", "Disabled"]);

    let deleted = c
        .lambda
        .delete_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.state(), Some("Deleting"));
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut saw_deleting = false;
    loop {
        match c.lambda.get_event_source_mapping().uuid(&uuid).send().await {
            Ok(m) => {
                assert_eq!(m.state(), Some("Deleting"));
                saw_deleting = true;
            }
            Err(e) => {
                let e = e.into_service_error();
                assert!(e.is_resource_not_found_exception(), "{e:?}");
                assert_eq!(e.message(), Some("The resource you requested does not exist."));
                break;
            }
        }
        assert!(Instant::now() < deadline, "the mapping was never deleted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(saw_deleting);
    let listed = c.lambda.list_event_source_mappings().send().await.unwrap();
    assert!(listed.event_source_mappings().is_empty());
    local.shutdown().await;
}

#[tokio::test]
async fn mappings_are_validated_unique_and_listed_by_function_and_stream() {
    let local = common::start().await;
    let c = clients(&local);
    let role = role(&c, "fn-role", TRUST_LAMBDA).await;
    function(&c, "one", &role).await;
    function(&c, "two", &role).await;
    let events = stream(&c, "events").await;
    let clicks = stream(&c, "clicks").await;
    let create = |function: &str, source: &str| {
        c.lambda
            .create_event_source_mapping()
            .function_name(function)
            .event_source_arn(source)
            .starting_position(EventSourcePosition::Latest)
    };

    let err = c
        .lambda
        .create_event_source_mapping()
        .function_name("one")
        .event_source_arn(&events)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
    assert!(err.message().unwrap().contains("'startingPosition'"));
    let err = create("one", &events)
        .batch_size(0)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    let err = create("one", &events)
        .batch_size(10_001)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    let err = create("one", &events)
        .maximum_batching_window_in_seconds(301)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    let err = create("one", &events)
        .parallelization_factor(11)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    let err = create("one", &events)
        .maximum_retry_attempts(-2)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    let err = create("one", &events)
        .maximum_record_age_in_seconds(30)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
    let err = create("one", &events)
        .starting_position(EventSourcePosition::AtTimestamp)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");

    let ghost_stream = format!("arn:aws:kinesis:us-east-1:{}:stream/ghost", common::ACCOUNT);
    let err = create("one", &ghost_stream)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
    assert_eq!(
        err.message(),
        Some(format!("Stream not found: {ghost_stream}").as_str())
    );
    // A missing function is a bad parameter here, whatever the source.
    let err = create("ghost", &events)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
    assert_eq!(err.message(), Some("Function does not exist"));
    // Sources Lambda knows but the runtime does not map are refused once the function is found.
    let queue = format!("arn:aws:sqs:us-east-1:{}:queue", common::ACCOUNT);
    let err = c
        .lambda
        .create_event_source_mapping()
        .function_name("one")
        .event_source_arn(&queue)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
    assert!(
        err.message().unwrap().contains("maps only Kinesis streams"),
        "{err:?}"
    );

    let first = create("one", &events)
        .destination_config(
            aws_sdk_lambda::types::DestinationConfig::builder()
                .on_failure(
                    aws_sdk_lambda::types::OnFailure::builder()
                        .destination(format!("arn:aws:sqs:us-east-1:{}:dlq", common::ACCOUNT))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        first.state(),
        Some("Creating"),
        "the instant profile still answers Creating first"
    );
    assert_eq!(first.batch_size(), Some(100), "AWS's default batch size");
    assert_eq!(first.maximum_retry_attempts(), Some(-1));
    assert_eq!(first.maximum_record_age_in_seconds(), Some(-1));
    assert!(
        first
            .destination_config()
            .and_then(|d| d.on_failure())
            .and_then(|f| f.destination())
            .is_some_and(|d| d.ends_with(":dlq"))
    );

    // The same stream to the same function again, even named by ARN: conflict.
    let one_arn = format!("arn:aws:lambda:us-east-1:{}:function:one", common::ACCOUNT);
    let err = create(&one_arn, &events)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_conflict_exception(), "{err:?}");
    assert_eq!(
        err.message(),
        Some(
            format!(
                "The event source arn (\" {events} \") and function (\" one \") provided mapping already exists. Please update or delete the existing mapping with UUID {}",
                first.uuid().unwrap()
            )
            .as_str()
        )
    );

    create("one", &clicks).send().await.unwrap();
    create("two", &events).send().await.unwrap();

    let by_function = c
        .lambda
        .list_event_source_mappings()
        .function_name("one")
        .send()
        .await
        .unwrap();
    assert_eq!(by_function.event_source_mappings().len(), 2);
    let by_stream = c
        .lambda
        .list_event_source_mappings()
        .event_source_arn(&events)
        .send()
        .await
        .unwrap();
    assert_eq!(by_stream.event_source_mappings().len(), 2);
    let both = c
        .lambda
        .list_event_source_mappings()
        .function_name(&one_arn)
        .event_source_arn(&events)
        .send()
        .await
        .unwrap();
    assert_eq!(both.event_source_mappings().len(), 1);
    assert_eq!(both.event_source_mappings()[0].uuid(), first.uuid());
    assert_eq!(both.event_source_mappings()[0].state(), Some("Enabled"));

    let page = c
        .lambda
        .list_event_source_mappings()
        .max_items(2)
        .send()
        .await
        .unwrap();
    assert_eq!(page.event_source_mappings().len(), 2);
    let rest = c
        .lambda
        .list_event_source_mappings()
        .max_items(2)
        .marker(page.next_marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.event_source_mappings().len(), 1);
    assert!(rest.next_marker().is_none());

    let err = c
        .lambda
        .get_event_source_mapping()
        .uuid("00000000-0000-0000-0000-000000000000")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    local.shutdown().await;
}

#[tokio::test]
async fn mappings_need_a_role_lambda_can_use_and_outlive_their_function() {
    let local = common::start().await;
    let c = clients(&local);
    let role_arn = role(&c, "fn-role", TRUST_LAMBDA).await;
    function(&c, "forwarder", &role_arn).await;
    let events = stream(&c, "events").await;
    let mapping = c
        .lambda
        .create_event_source_mapping()
        .function_name("forwarder")
        .event_source_arn(&events)
        .starting_position(EventSourcePosition::TrimHorizon)
        .send()
        .await
        .unwrap();

    // AWS leaves a deleted function's mappings in place.
    c.lambda
        .delete_function()
        .function_name("forwarder")
        .send()
        .await
        .unwrap();
    let left = c
        .lambda
        .list_event_source_mappings()
        .function_name("forwarder")
        .send()
        .await
        .unwrap();
    assert_eq!(left.event_source_mappings().len(), 1);
    assert_eq!(left.event_source_mappings()[0].uuid(), mapping.uuid());
    c.lambda
        .delete_event_source_mapping()
        .uuid(mapping.uuid().unwrap())
        .send()
        .await
        .unwrap();

    // A role Lambda can no longer assume cannot read the stream.
    function(&c, "other", &role_arn).await;
    c.iam.delete_role().role_name("fn-role").send().await.unwrap();
    let err = c
        .lambda
        .create_event_source_mapping()
        .function_name("other")
        .event_source_arn(&events)
        .starting_position(EventSourcePosition::TrimHorizon)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
    assert_eq!(
        err.message(),
        Some(
            format!(
                "Cannot access stream {events}. Please ensure the role can perform the GetRecords, GetShardIterator, DescribeStream, ListShards, and ListStreams Actions on your stream in IAM."
            )
            .as_str()
        )
    );
    local.shutdown().await;
}

/// Lambda's modelled errors carry `Type` and `Message` (capital M), as AWS's do; only the
/// front end's request validation says `message`.
#[tokio::test]
async fn lambda_error_bodies_carry_type_and_message_spelled_as_the_model_spells_it() {
    use std::io::{Read as _, Write as _};
    let local = common::start().await;
    let addr = local.addr();
    let request = "GET /2015-03-31/functions/missing HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\
        Authorization: AWS4-HMAC-SHA256 Credential=000000000000/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0000\r\n\r\n";
    let raw = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).unwrap();
        out
    })
    .await
    .unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    // ResourceNotFoundException's member is `Message`; InvalidParameterValueException's is
    // `message` (the conformance cases check those against AWS's recordings).
    let start = body.find('{').unwrap();
    let end = body.rfind('}').unwrap();
    let body: serde_json::Value = serde_json::from_str(&body[start..=end]).unwrap();
    assert_eq!(body["Type"], "User", "{body}");
    assert_eq!(
        body["Message"], "Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing",
        "{body}"
    );
    assert!(body.get("message").is_none(), "{body}");
    // The SDK reads it all the same.
    let c = clients(&local);
    let e = c
        .lambda
        .get_function()
        .function_name("missing")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_resource_not_found_exception());
    assert_eq!(
        e.message(),
        Some("Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing")
    );
    local.shutdown().await;
}

/// A zip function's configuration names the runtime version it runs on, as AWS's does:
/// `RuntimeVersionConfig.RuntimeVersionArn`, `arn:aws:lambda:<region>::runtime:<64 hex>`.
#[tokio::test]
async fn function_configurations_carry_their_runtime_version() {
    let local = common::start().await;
    let c = clients(&local);
    let role_arn = role(&c, "runtime-version-role", TRUST_LAMBDA).await;
    let created = function(&c, "versioned", &role_arn).await;
    let arn = created
        .runtime_version_config()
        .and_then(|r| r.runtime_version_arn())
        .unwrap()
        .to_owned();
    let hash = arn.strip_prefix("arn:aws:lambda:us-east-1::runtime:").unwrap();
    assert_eq!(hash.len(), 64, "{arn}");
    assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{arn}");
    let read = c
        .lambda
        .get_function_configuration()
        .function_name("versioned")
        .send()
        .await
        .unwrap();
    assert_eq!(
        read.runtime_version_config()
            .and_then(|r| r.runtime_version_arn()),
        Some(arn.as_str())
    );
    local.shutdown().await;
}

/// `LoggingConfig` is kept and merged as Lambda merges it (JSON brings INFO log levels, Text
/// has none), and SnapStart is kept for the runtimes that support it.
#[tokio::test]
async fn logging_and_snap_start_settings_are_kept_as_lambda_keeps_them() {
    use aws_sdk_lambda::types::{
        ApplicationLogLevel, LogFormat, LoggingConfig, SnapStart, SnapStartApplyOn, SystemLogLevel,
    };
    let local = common::start().await;
    let c = clients(&local);
    let role = role(&c, "fn-role", TRUST_LAMBDA).await;
    let created = c
        .lambda
        .create_function()
        .function_name("logged")
        .runtime(Runtime::Providedal2023)
        .handler("bootstrap")
        .role(&role)
        .code(code(&common::zip_bootstrap(b"x")))
        .logging_config(
            LoggingConfig::builder()
                .log_format(LogFormat::Json)
                .application_log_level(ApplicationLogLevel::Debug)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let logging = created.logging_config().unwrap();
    assert_eq!(logging.log_format(), Some(&LogFormat::Json));
    assert_eq!(logging.application_log_level(), Some(&ApplicationLogLevel::Debug));
    assert_eq!(logging.system_log_level(), Some(&SystemLogLevel::Info));
    assert_eq!(logging.log_group(), Some("/aws/lambda/logged"));

    // Back to Text: the log levels go, the log group stays.
    let updated = c
        .lambda
        .update_function_configuration()
        .function_name("logged")
        .logging_config(LoggingConfig::builder().log_format(LogFormat::Text).build())
        .send()
        .await
        .unwrap();
    let logging = updated.logging_config().unwrap();
    assert_eq!(logging.log_format(), Some(&LogFormat::Text));
    assert_eq!(logging.application_log_level(), None);
    assert_eq!(logging.system_log_level(), None);
    assert_eq!(logging.log_group(), Some("/aws/lambda/logged"));
    let err = c
        .lambda
        .update_function_configuration()
        .function_name("logged")
        .logging_config(
            LoggingConfig::builder()
                .application_log_level(ApplicationLogLevel::Warn)
                .build(),
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
    assert!(
        err.message()
            .unwrap()
            .starts_with("LogLevel is not supported when LogFormat is set to \"Text\"."),
        "{err:?}"
    );

    let snap_start = || {
        SnapStart::builder()
            .apply_on(SnapStartApplyOn::PublishedVersions)
            .build()
    };
    let err = c
        .lambda
        .update_function_configuration()
        .function_name("logged")
        .snap_start(snap_start())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
    assert_eq!(
        err.message(),
        Some("provided.al2023 is not supported for SnapStart enabled functions.")
    );
    let created = c
        .lambda
        .create_function()
        .function_name("snappy")
        .runtime(Runtime::Java21)
        .handler("example.Handler")
        .role(&role)
        .code(code(&common::zip_bootstrap(b"x")))
        .snap_start(snap_start())
        .send()
        .await
        .unwrap();
    let snap = created.snap_start().unwrap();
    assert_eq!(snap.apply_on(), Some(&SnapStartApplyOn::PublishedVersions));
    // Only published versions are optimized.
    assert_eq!(
        snap.optimization_status(),
        Some(&aws_sdk_lambda::types::SnapStartOptimizationStatus::Off)
    );
    local.shutdown().await;
}

/// A name and a qualifier breaking their constraints are reported together; reservations
/// are for functions, not versions; deleting a version that was never published succeeds
/// and leaves the function.
#[tokio::test]
async fn names_qualifiers_and_versions_are_checked_as_lambda_checks_them() {
    let local = common::start().await;
    let c = clients(&local);
    let role = role(&c, "fn-role", TRUST_LAMBDA).await;
    function(&c, "kept", &role).await;

    let err = c
        .lambda
        .get_function()
        .function_name("bad!")
        .qualifier("bad!")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    let message = err.message().unwrap();
    assert!(
        message.starts_with("2 validation errors detected: Value 'bad!' at 'functionName'")
            && message.contains("; Value 'bad!' at 'qualifier' failed to satisfy constraint"),
        "{message}"
    );

    let qualified = format!(
        "arn:aws:lambda:us-east-1:{}:function:kept:$LATEST",
        common::ACCOUNT
    );
    let only_functions = "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.";
    let err = c
        .lambda
        .get_function_concurrency()
        .function_name(&qualified)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
    assert_eq!(err.message(), Some(only_functions));
    let err = c
        .lambda
        .delete_function_concurrency()
        .function_name(&qualified)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.message(), Some(only_functions));

    c.lambda
        .delete_function()
        .function_name("kept")
        .qualifier("3")
        .send()
        .await
        .unwrap();
    c.lambda
        .get_function()
        .function_name("kept")
        .send()
        .await
        .unwrap();
    local.shutdown().await;
}
