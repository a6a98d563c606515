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

/// GetCallerIdentity with the keys AssumeRole gave answers as the assumed role, as AWS does:
/// `AROA…:<session>` and `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
#[tokio::test]
async fn caller_identity_with_assumed_keys_is_the_assumed_role() {
    let local = common::start().await;
    let sts = aws_sdk_sts::Client::new(&common::sdk(&local, common::ACCOUNT));
    let assumed = sts
        .assume_role()
        .role_arn("arn:aws:iam::444455556666:role/Facilitator")
        .role_session_name("attendee-07")
        .send()
        .await
        .unwrap();
    let user = assumed.assumed_role_user().unwrap();
    assert!(user.assumed_role_id().starts_with("AROA"), "{user:?}");
    assert!(user.assumed_role_id().ends_with(":attendee-07"), "{user:?}");
    let config = common::sdk_at(
        &local.endpoint_url(),
        assumed.credentials().unwrap().access_key_id(),
    );
    let me = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.account(), Some("444455556666"));
    assert_eq!(
        me.arn(),
        Some("arn:aws:sts::444455556666:assumed-role/Facilitator/attendee-07")
    );
    assert_eq!(me.user_id(), Some(user.assumed_role_id()));
    // The session is data, not a resource left behind.
    let resources = common::resources(&local).await;
    assert!(!resources.to_string().contains("\"sts\""), "{resources}");
    local.shutdown().await;
}

/// STS names the constraint a session name breaks first: its length, then its pattern; and
/// a duration over the limit says so.
#[tokio::test]
async fn sts_validation_messages_name_the_constraint_broken() {
    let local = common::start().await;
    let sts = aws_sdk_sts::Client::new(&common::sdk(&local, common::ACCOUNT));
    let refused = |session: &'static str, duration: i32| {
        let sts = sts.clone();
        async move {
            let e = sts
                .assume_role()
                .role_arn("arn:aws:iam::444455556666:role/R")
                .role_session_name(session)
                .duration_seconds(duration)
                .send()
                .await
                .unwrap_err()
                .into_service_error();
            aws_sdk_sts::error::ProvideErrorMetadata::message(&e)
                .unwrap_or_default()
                .to_owned()
        }
    };
    assert!(
        refused("a", 3600)
            .await
            .ends_with("failed to satisfy constraint: Member must have length greater than or equal to 2")
    );
    assert!(refused("a b", 3600).await.ends_with(
        "failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
    ));
    assert!(
        refused("fine", 50_000)
            .await
            .ends_with("failed to satisfy constraint: Member must have value less than or equal to 43200")
    );
    local.shutdown().await;
}
