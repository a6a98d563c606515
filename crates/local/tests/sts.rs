//! STS through the official SDK client.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support as common;

#[tokio::test]
async fn caller_identity_names_the_account_of_the_access_key() {
    let local = common::start().await;
    let sts = aws_sdk_sts::Client::new(&common::sdk(&local, "111122223333"));
    let me = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some("111122223333"));
    assert_eq!(me.arn(), Some("arn:aws:iam::111122223333:root"));

    let default = aws_sdk_sts::Client::new(&common::sdk_at(&local.endpoint_url(), "AKIAEXAMPLE"));
    let me = default.get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some("000000000000"));
}

#[tokio::test]
async fn assumed_role_credentials_act_in_the_roles_account() {
    let local = common::start().await;
    let sts = aws_sdk_sts::Client::new(&common::sdk(&local, common::ACCOUNT));
    let assumed = sts
        .assume_role()
        .role_arn("arn:aws:iam::444455556666:role/OrganizationAccountAccessRole")
        .role_session_name("personalize-stack")
        .send()
        .await
        .unwrap();
    let creds = assumed.credentials().unwrap();
    assert_eq!(
        assumed.assumed_role_user().unwrap().arn(),
        "arn:aws:sts::444455556666:assumed-role/OrganizationAccountAccessRole/personalize-stack"
    );
    let config = common::sdk_at(&local.endpoint_url(), creds.access_key_id());
    let me = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.account(), Some("444455556666"));
}

#[tokio::test]
async fn a_malformed_role_arn_is_a_validation_error() {
    let local = common::start().await;
    let sts = aws_sdk_sts::Client::new(&common::sdk(&local, common::ACCOUNT));
    let err = sts
        .assume_role()
        .role_arn("not-an-arn")
        .role_session_name("s1")
        .send()
        .await
        .unwrap_err();
    let service_err = err.into_service_error();
    assert_eq!(
        aws_sdk_sts::error::ProvideErrorMetadata::code(&service_err),
        Some("ValidationError")
    );
}

#[tokio::test]
async fn unsigned_requests_get_missing_authentication() {
    let local = common::start().await;
    let addr = local.addr();
    let response = tokio::task::spawn_blocking(move || {
        use std::io::{Read as _, Write as _};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        let body = "{}";
        write!(
            s,
            "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    })
    .await
    .unwrap();
    assert!(response.starts_with("HTTP/1.1 403"), "{response}");
    assert!(
        response.contains("MissingAuthenticationTokenException"),
        "{response}"
    );
}
