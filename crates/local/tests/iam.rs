//! IAM roles, inline and managed policies and tags through the official SDK client.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support as common;

use aws_sdk_iam::error::ProvideErrorMetadata as _;
use aws_sdk_iam::types::Tag;

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const PERMISSIONS: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "personalize:PutEvents", "Resource": "*"}]}"#;
const KINESIS_ROLE: &str = "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole";

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

/// IAM returns policy documents URL-encoded.
fn decode(document: &str) -> String {
    percent_encoding::percent_decode_str(document)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

async fn client() -> (personalize_stack_local::Running, aws_sdk_iam::Client) {
    let local = common::start().await;
    let iam = aws_sdk_iam::Client::new(&common::sdk(&local, common::ACCOUNT));
    (local, iam)
}

#[tokio::test]
async fn create_get_list_and_delete_a_role() {
    let (local, iam) = client().await;
    let created = iam
        .create_role()
        .role_name("forwarder-role")
        .path("/stack/")
        .assume_role_policy_document(TRUST)
        .description("forwards events")
        .tags(tag("stack", "demo"))
        .send()
        .await
        .unwrap();
    let role = created.role().unwrap();
    assert_eq!(role.role_name(), "forwarder-role");
    assert_eq!(role.path(), "/stack/");
    assert_eq!(role.arn(), "arn:aws:iam::000000000000:role/stack/forwarder-role");
    assert!(role.role_id().starts_with("AROA"));
    assert_eq!(role.role_id().len(), 21);
    assert!(
        role.role_id()[4..]
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    );
    assert!(role.create_date().secs() > 1_600_000_000);
    assert_eq!(decode(role.assume_role_policy_document().unwrap()), TRUST);
    assert!(
        role.assume_role_policy_document()
            .unwrap()
            .starts_with("%7B%22Version%22"),
        "documents come back URL-encoded"
    );

    let got = iam.get_role().role_name("forwarder-role").send().await.unwrap();
    let got = got.role().unwrap();
    assert_eq!(got.role_id(), role.role_id());
    assert_eq!(got.description(), Some("forwards events"));
    assert_eq!(got.max_session_duration(), Some(3600));
    assert_eq!(got.tags().len(), 1);
    assert_eq!(decode(got.assume_role_policy_document().unwrap()), TRUST);

    // Role names are case-insensitive in IAM.
    let same = iam.get_role().role_name("FORWARDER-ROLE").send().await.unwrap();
    assert_eq!(same.role().unwrap().role_name(), "forwarder-role");

    iam.create_role()
        .role_name("api-role")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    let listed = iam.list_roles().send().await.unwrap();
    let names: Vec<&str> = listed.roles().iter().map(|r| r.role_name()).collect();
    assert_eq!(names, ["api-role", "forwarder-role"]);
    let under_stack = iam.list_roles().path_prefix("/stack/").send().await.unwrap();
    assert_eq!(under_stack.roles().len(), 1);
    let first_page = iam.list_roles().max_items(1).send().await.unwrap();
    assert!(first_page.is_truncated());
    let second_page = iam
        .list_roles()
        .marker(first_page.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert!(!second_page.is_truncated());
    assert_eq!(second_page.roles()[0].role_name(), "forwarder-role");

    let resources = common::resources(&local).await;
    assert!(
        resources["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["service"] == "iam" && r["region"] == "global" && r["id"] == "forwarder-role")
    );

    iam.delete_role()
        .role_name("forwarder-role")
        .send()
        .await
        .unwrap();
    iam.delete_role().role_name("api-role").send().await.unwrap();
    let err = iam
        .get_role()
        .role_name("forwarder-role")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_no_such_entity_exception());
    assert_eq!(
        err.message(),
        Some("The role with name forwarder-role cannot be found.")
    );
    let resources = common::resources(&local).await;
    assert_eq!(resources["resources"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn duplicates_missing_roles_and_invalid_input_fail_as_in_aws() {
    let (_local, iam) = client().await;
    iam.create_role()
        .role_name("Dup")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    let err = iam
        .create_role()
        .role_name("dup")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_entity_already_exists_exception());
    assert_eq!(err.message(), Some("Role with name dup already exists."));

    let err = iam
        .delete_role()
        .role_name("ghost")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_no_such_entity_exception());

    let err = iam
        .create_role()
        .role_name("bad name!")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationError"));
    assert!(err.message().unwrap().contains("roleName"));

    let err = iam
        .create_role()
        .role_name("x".repeat(65))
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationError"));

    let err = iam
        .create_role()
        .role_name("badpath")
        .path("no-slashes")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationError"));

    for document in ["not json", r#"{"Version":"2012-10-17"}"#] {
        let err = iam
            .create_role()
            .role_name("malformed")
            .assume_role_policy_document(document)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_malformed_policy_document_exception(), "{document}");
    }

    let err = iam
        .create_role()
        .role_name("toomanytags")
        .assume_role_policy_document(TRUST)
        .set_tags(Some((0..51).map(|i| tag(&format!("k{i}"), "v")).collect()))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_limit_exceeded_exception());
}

#[tokio::test]
async fn trust_policy_updates_are_returned_and_validated() {
    let (_local, iam) = client().await;
    iam.create_role()
        .role_name("trust")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    let api_trust = TRUST.replace("lambda.amazonaws.com", "apigateway.amazonaws.com");
    iam.update_assume_role_policy()
        .role_name("trust")
        .policy_document(&api_trust)
        .send()
        .await
        .unwrap();
    let got = iam.get_role().role_name("trust").send().await.unwrap();
    assert_eq!(
        decode(got.role().unwrap().assume_role_policy_document().unwrap()),
        api_trust
    );

    let err = iam
        .update_assume_role_policy()
        .role_name("trust")
        .policy_document("{")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_malformed_policy_document_exception());

    let err = iam
        .update_assume_role_policy()
        .role_name("missing")
        .policy_document(TRUST)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_no_such_entity_exception());
}

#[tokio::test]
async fn tags_are_added_replaced_listed_and_removed() {
    let (_local, iam) = client().await;
    iam.create_role()
        .role_name("tagged")
        .assume_role_policy_document(TRUST)
        .tags(tag("a", "1"))
        .send()
        .await
        .unwrap();
    iam.tag_role()
        .role_name("tagged")
        .tags(tag("b", "2"))
        .tags(tag("A", "replaced"))
        .send()
        .await
        .unwrap();
    let tags = iam.list_role_tags().role_name("tagged").send().await.unwrap();
    assert!(!tags.is_truncated());
    let pairs: Vec<(&str, &str)> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(pairs, [("A", "replaced"), ("b", "2")]);

    iam.untag_role()
        .role_name("tagged")
        .tag_keys("a")
        .send()
        .await
        .unwrap();
    let tags = iam.list_role_tags().role_name("tagged").send().await.unwrap();
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(tags.tags()[0].key(), "b");

    let err = iam
        .tag_role()
        .role_name("tagged")
        .set_tags(Some((0..50).map(|i| tag(&format!("t{i}"), "v")).collect()))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_limit_exceeded_exception(), "51 tags in total");

    let err = iam
        .tag_role()
        .role_name("tagged")
        .tags(tag("bad{key}", "v"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationError"));

    let err = iam
        .tag_role()
        .role_name("tagged")
        .tags(tag("k", "1"))
        .tags(tag("K", "2"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_input_exception());

    for err in [
        iam.tag_role()
            .role_name("ghost")
            .tags(tag("k", "v"))
            .send()
            .await
            .unwrap_err()
            .into_service_error()
            .is_no_such_entity_exception(),
        iam.untag_role()
            .role_name("ghost")
            .tag_keys("k")
            .send()
            .await
            .unwrap_err()
            .into_service_error()
            .is_no_such_entity_exception(),
        iam.list_role_tags()
            .role_name("ghost")
            .send()
            .await
            .unwrap_err()
            .into_service_error()
            .is_no_such_entity_exception(),
    ] {
        assert!(err);
    }
}

#[tokio::test]
async fn inline_policies_block_deletion_until_deleted() {
    let (local, iam) = client().await;
    iam.create_role()
        .role_name("inline")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    for name in ["put-events", "logs"] {
        iam.put_role_policy()
            .role_name("inline")
            .policy_name(name)
            .policy_document(PERMISSIONS)
            .send()
            .await
            .unwrap();
    }
    let got = iam
        .get_role_policy()
        .role_name("inline")
        .policy_name("put-events")
        .send()
        .await
        .unwrap();
    assert_eq!(got.role_name(), "inline");
    assert_eq!(got.policy_name(), "put-events");
    assert_eq!(decode(got.policy_document()), PERMISSIONS);
    assert!(got.policy_document().contains("%22"), "URL-encoded");

    let listed = iam.list_role_policies().role_name("inline").send().await.unwrap();
    assert_eq!(listed.policy_names(), ["logs", "put-events"]);
    let page = iam
        .list_role_policies()
        .role_name("inline")
        .max_items(1)
        .send()
        .await
        .unwrap();
    assert!(page.is_truncated());
    assert_eq!(page.policy_names(), ["logs"]);

    let err = iam
        .delete_role()
        .role_name("inline")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_delete_conflict_exception());
    assert_eq!(
        err.message(),
        Some("Cannot delete entity, must delete policies first.")
    );

    let err = iam
        .put_role_policy()
        .role_name("inline")
        .policy_name("bad")
        .policy_document(r#"{"Statement": "nope"}"#)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_malformed_policy_document_exception());
    let err = iam
        .put_role_policy()
        .role_name("inline")
        .policy_name("bad name")
        .policy_document(PERMISSIONS)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationError"));
    let err = iam
        .put_role_policy()
        .role_name("ghost")
        .policy_name("p")
        .policy_document(PERMISSIONS)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_no_such_entity_exception());
    let err = iam
        .get_role_policy()
        .role_name("inline")
        .policy_name("nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_no_such_entity_exception());
    assert_eq!(
        err.message(),
        Some("The role policy with name nope cannot be found.")
    );

    for name in ["put-events", "logs"] {
        iam.delete_role_policy()
            .role_name("inline")
            .policy_name(name)
            .send()
            .await
            .unwrap();
    }
    let err = iam
        .delete_role_policy()
        .role_name("inline")
        .policy_name("logs")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_no_such_entity_exception());
    let err = iam
        .list_role_policies()
        .role_name("ghost")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_no_such_entity_exception());

    iam.delete_role().role_name("inline").send().await.unwrap();
    let resources = common::resources(&local).await;
    assert_eq!(resources["resources"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn managed_policies_attach_detach_and_block_deletion() {
    let (_local, iam) = client().await;
    iam.create_role()
        .role_name("managed")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    for arn in [
        KINESIS_ROLE,
        "arn:aws:iam::aws:policy/AmazonPersonalizeFullAccess",
    ] {
        iam.attach_role_policy()
            .role_name("managed")
            .policy_arn(arn)
            .send()
            .await
            .unwrap();
    }
    // Attaching twice is a no-op, as in AWS.
    iam.attach_role_policy()
        .role_name("managed")
        .policy_arn(KINESIS_ROLE)
        .send()
        .await
        .unwrap();
    let attached = iam
        .list_attached_role_policies()
        .role_name("managed")
        .send()
        .await
        .unwrap();
    let pairs: Vec<(&str, &str)> = attached
        .attached_policies()
        .iter()
        .map(|p| (p.policy_name().unwrap(), p.policy_arn().unwrap()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("AWSLambdaKinesisExecutionRole", KINESIS_ROLE),
            (
                "AmazonPersonalizeFullAccess",
                "arn:aws:iam::aws:policy/AmazonPersonalizeFullAccess"
            )
        ]
    );
    let service_role_only = iam
        .list_attached_role_policies()
        .role_name("managed")
        .path_prefix("/service-role/")
        .send()
        .await
        .unwrap();
    assert_eq!(service_role_only.attached_policies().len(), 1);

    let err = iam
        .delete_role()
        .role_name("managed")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_delete_conflict_exception());
    assert_eq!(
        err.message(),
        Some("Cannot delete entity, must detach all policies first.")
    );

    // The well-known slip: the Kinesis execution policy lives under service-role/.
    let err = iam
        .attach_role_policy()
        .role_name("managed")
        .policy_arn("arn:aws:iam::aws:policy/AWSLambdaKinesisExecutionRole")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_no_such_entity_exception());
    let err = iam
        .attach_role_policy()
        .role_name("managed")
        .policy_arn("arn:aws:iam::000000000000:policy/never-created")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_no_such_entity_exception());
    let err = iam
        .attach_role_policy()
        .role_name("managed")
        .policy_arn("not-an-arn-at-all-really")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    // Text that is no ARN fails parsing (AWS's words, two spaces and all).
    assert_eq!(err.meta().code(), Some("ValidationError"));
    assert_eq!(err.meta().message(), Some("Invalid ARN:  Could not be parsed!"));
    let err = iam
        .attach_role_policy()
        .role_name("managed")
        .policy_arn("arn:aws:iam::000000000000:user/not-a-policy")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_input_exception());
    let err = iam
        .attach_role_policy()
        .role_name("ghost")
        .policy_arn(KINESIS_ROLE)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_no_such_entity_exception());

    for i in 0..8 {
        iam.attach_role_policy()
            .role_name("managed")
            .policy_arn(format!("arn:aws:iam::aws:policy/Extra{i}"))
            .send()
            .await
            .unwrap();
    }
    let err = iam
        .attach_role_policy()
        .role_name("managed")
        .policy_arn("arn:aws:iam::aws:policy/OneTooMany")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_limit_exceeded_exception(), "10 managed policies per role");

    let all = iam
        .list_attached_role_policies()
        .role_name("managed")
        .send()
        .await
        .unwrap();
    for policy in all.attached_policies() {
        iam.detach_role_policy()
            .role_name("managed")
            .policy_arn(policy.policy_arn().unwrap())
            .send()
            .await
            .unwrap();
    }
    let err = iam
        .detach_role_policy()
        .role_name("managed")
        .policy_arn(KINESIS_ROLE)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_no_such_entity_exception());
    let err = iam
        .list_attached_role_policies()
        .role_name("ghost")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_no_such_entity_exception());
    iam.delete_role().role_name("managed").send().await.unwrap();
}

#[tokio::test]
async fn unknown_actions_are_invalid_action() {
    let (_local, iam) = client().await;
    let err = iam
        .create_user()
        .user_name("someone")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InvalidAction"));
}

#[tokio::test]
async fn update_role_and_permissions_boundaries() {
    let (_local, iam) = client().await;
    let boundary = "arn:aws:iam::aws:policy/AmazonKinesisReadOnlyAccess";
    iam.create_role()
        .role_name("bounded")
        .assume_role_policy_document(TRUST)
        .description("first")
        .permissions_boundary(boundary)
        .send()
        .await
        .unwrap();
    let get = || async {
        iam.get_role()
            .role_name("bounded")
            .send()
            .await
            .unwrap()
            .role
            .unwrap()
    };
    let role = get().await;
    assert_eq!(
        role.permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn()),
        Some(boundary)
    );

    iam.update_role()
        .role_name("bounded")
        .max_session_duration(7200)
        .send()
        .await
        .unwrap();
    let role = get().await;
    assert_eq!(role.max_session_duration(), Some(7200));
    assert_eq!(role.description(), Some("first"));
    iam.update_role()
        .role_name("bounded")
        .description("")
        .send()
        .await
        .unwrap();
    assert_eq!(get().await.description(), None);
    let err = iam
        .update_role()
        .role_name("bounded")
        .max_session_duration(60)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationError"));

    iam.delete_role_permissions_boundary()
        .role_name("bounded")
        .send()
        .await
        .unwrap();
    assert!(get().await.permissions_boundary().is_none());
    let err = iam
        .delete_role_permissions_boundary()
        .role_name("bounded")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("NoSuchEntity"));
    let err = iam
        .put_role_permissions_boundary()
        .role_name("bounded")
        .permissions_boundary("arn:aws:iam::aws:policy/AWSLambdaKinesisExecutionRole")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("NoSuchEntity"));
    iam.put_role_permissions_boundary()
        .role_name("bounded")
        .permissions_boundary(boundary)
        .send()
        .await
        .unwrap();
    assert!(get().await.permissions_boundary().is_some());
}
