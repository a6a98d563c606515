//! Injected faults arrive as each service's own errors, so SDK retries and the reconciler's
//! waits are exercised for real.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support as common;

use aws_sdk_kinesis::error::ProvideErrorMetadata as _;
use personalize_stack_local::{Faults, Profile};
use std::collections::BTreeMap;

#[tokio::test]
async fn a_throttled_operation_fails_with_the_services_throttling_error() {
    let faults = Faults {
        throttle_ops: BTreeMap::from([("kinesis:CreateStream".to_owned(), 1.0)]),
        ..Faults::default()
    };
    let local = common::start_with(Profile::instant(), faults).await;
    let kinesis = aws_sdk_kinesis::Client::new(&common::sdk(&local, common::ACCOUNT));
    let err = kinesis
        .create_stream()
        .stream_name("s")
        .shard_count(1)
        .send()
        .await
        .unwrap_err();
    let err = err.into_service_error();
    assert!(err.is_limit_exceeded_exception(), "{err:?}");
    // Other operations are untouched.
    kinesis.list_streams().send().await.unwrap();
    let iam = aws_sdk_iam::Client::new(&common::sdk(&local, common::ACCOUNT));
    iam.list_role_policies()
        .role_name("nobody")
        .send()
        .await
        .unwrap_err();
}

#[tokio::test]
async fn every_service_throttles_in_its_own_words() {
    let local = common::start_with(
        Profile::instant(),
        Faults {
            throttle: 1.0,
            ..Faults::default()
        },
    )
    .await;
    let config = common::sdk(&local, common::ACCOUNT);
    let code = |e: Option<&str>| e.map(str::to_owned);
    let kinesis = aws_sdk_kinesis::Client::new(&config)
        .list_streams()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(kinesis.code()), Some("LimitExceededException".into()));
    let lambda = aws_sdk_lambda::Client::new(&config)
        .list_functions()
        .send()
        .await
        .unwrap_err();
    assert!(lambda.into_service_error().is_too_many_requests_exception());
    let apigw = aws_sdk_apigateway::Client::new(&config)
        .get_rest_apis()
        .send()
        .await
        .unwrap_err();
    assert!(apigw.into_service_error().is_too_many_requests_exception());
    let iam = aws_sdk_iam::Client::new(&config)
        .get_role()
        .role_name("r")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(iam.code()), Some("Throttling".into()));
    let personalize = aws_sdk_personalize::Client::new(&config)
        .list_dataset_groups()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(personalize.code()), Some("ThrottlingException".into()));
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config)
        .describe_log_groups()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(logs.code()), Some("ThrottlingException".into()));
}

/// With 20% of calls throttled, the SDK's own retries (here up to 10 attempts) get every
/// call through: throttling is transient, as on AWS.
#[tokio::test]
async fn sdk_retries_ride_out_partial_throttling() {
    let local = common::start_with(
        Profile::instant(),
        Faults {
            throttle: 0.2,
            ..Faults::default()
        },
    )
    .await;
    let config = common::sdk(&local, common::ACCOUNT)
        .into_builder()
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(10))
        .build();
    let kinesis = aws_sdk_kinesis::Client::new(&config);
    kinesis
        .create_stream()
        .stream_name("s")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    for _ in 0..30 {
        kinesis
            .describe_stream_summary()
            .stream_name("s")
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn server_errors_are_5xx_in_each_protocol() {
    let local = common::start_with(
        Profile::instant(),
        Faults {
            server_error: 1.0,
            ..Faults::default()
        },
    )
    .await;
    let config = common::sdk(&local, common::ACCOUNT)
        .into_builder()
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    let err = aws_sdk_kinesis::Client::new(&config)
        .list_streams()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
    let err = aws_sdk_lambda::Client::new(&config)
        .list_functions()
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_service_exception());
    let err = aws_sdk_apigateway::Client::new(&config)
        .get_rest_apis()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(503));
    assert_eq!(err.code(), Some("ServiceUnavailableException"));
}
