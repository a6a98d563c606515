//! Amazon Personalize's control plane through the official SDK client.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support as common;

use aws_sdk_personalize::Client;
use aws_sdk_personalize::error::ProvideErrorMetadata;
use aws_sdk_personalize::types::{Domain, Tag};
use personalize_stack_local::{Faults, Profile, Running};
use std::future::Future;
use std::time::{Duration, Instant};

const INTERACTIONS: &str = r#"{"type": "record", "name": "Interactions",
  "namespace": "com.amazonaws.personalize.schema",
  "fields": [
    {"name": "USER_ID", "type": "string"},
    {"name": "ITEM_ID", "type": "string"},
    {"name": "EVENT_TYPE", "type": "string"},
    {"name": "TIMESTAMP", "type": "long"}
  ], "version": "1.0"}"#;

const ITEMS: &str = r#"{"type": "record", "name": "Items",
  "fields": [{"name": "ITEM_ID", "type": "string"}, {"name": "GENRE", "type": ["null", "string"]}]}"#;

const ARN: &str = "arn:aws:personalize:us-east-1:000000000000";

fn client(local: &Running) -> Client {
    Client::new(&common::sdk(local, common::ACCOUNT))
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().tag_key(key).tag_value(value).build().unwrap()
}

async fn schema(p: &Client, name: &str, avro: &str) -> String {
    let out = p.create_schema().name(name).schema(avro).send().await.unwrap();
    out.schema_arn().unwrap().to_owned()
}

async fn group(p: &Client, name: &str) -> String {
    let out = p.create_dataset_group().name(name).send().await.unwrap();
    out.dataset_group_arn().unwrap().to_owned()
}

async fn dataset(p: &Client, group: &str, schema: &str, kind: &str) -> String {
    let out = p
        .create_dataset()
        .name(format!("ds-{}", kind.to_lowercase()))
        .dataset_group_arn(group)
        .schema_arn(schema)
        .dataset_type(kind)
        .send()
        .await
        .unwrap();
    out.dataset_arn().unwrap().to_owned()
}

/// Polls `status` every 20 ms until it returns `done` or `None` (gone), at most 5 s; returns
/// the distinct statuses seen, in order (`"gone"` for `None`).
async fn poll<F, Fut>(status: F, done: &str) -> Vec<String>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<String>>,
{
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen: Vec<String> = Vec::new();
    loop {
        let now = status().await.unwrap_or_else(|| "gone".to_owned());
        if seen.last() != Some(&now) {
            seen.push(now.clone());
        }
        if now == done || now == "gone" {
            return seen;
        }
        assert!(Instant::now() < deadline, "gave up waiting; saw {seen:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn tracker_status(p: &Client, arn: &str) -> Option<String> {
    match p.describe_event_tracker().event_tracker_arn(arn).send().await {
        Ok(out) => out.event_tracker().unwrap().status().map(str::to_owned),
        Err(err) => {
            let err = err.into_service_error();
            assert!(err.is_resource_not_found_exception(), "{err:?}");
            None
        }
    }
}

async fn group_status(p: &Client, arn: &str) -> Option<String> {
    match p.describe_dataset_group().dataset_group_arn(arn).send().await {
        Ok(out) => out.dataset_group().unwrap().status().map(str::to_owned),
        Err(err) => {
            let err = err.into_service_error();
            assert!(err.is_resource_not_found_exception(), "{err:?}");
            None
        }
    }
}

#[tokio::test]
async fn schemas_are_created_described_listed_and_deleted() {
    let local = common::start().await;
    let p = client(&local);
    let arn = schema(&p, "interactions-schema", INTERACTIONS).await;
    assert_eq!(arn, format!("{ARN}:schema/interactions-schema"));
    let domain = p
        .create_schema()
        .name("ecommerce-schema")
        .schema(INTERACTIONS)
        .domain(Domain::Ecommerce)
        .send()
        .await
        .unwrap();

    let described = p.describe_schema().schema_arn(&arn).send().await.unwrap();
    let s = described.schema().unwrap();
    assert_eq!(s.name(), Some("interactions-schema"));
    assert_eq!(s.schema(), Some(INTERACTIONS));
    assert_eq!(s.domain(), None);
    let created = s.creation_date_time().unwrap().secs();
    assert!(created > 1_600_000_000, "{created}");
    assert!(s.last_updated_date_time().is_some());

    let listed = p.list_schemas().send().await.unwrap();
    let names: Vec<&str> = listed.schemas().iter().filter_map(|s| s.name()).collect();
    assert_eq!(names, ["ecommerce-schema", "interactions-schema"]);
    assert_eq!(listed.schemas()[0].domain(), Some(&Domain::Ecommerce));
    assert_eq!(listed.next_token(), None);

    let err = p
        .create_schema()
        .name("interactions-schema")
        .schema(INTERACTIONS)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_already_exists_exception(), "{err:?}");
    assert_eq!(
        err.message(),
        Some(format!("Another resource with Arn {arn} already exists.").as_str())
    );

    p.delete_schema()
        .schema_arn(domain.schema_arn().unwrap())
        .send()
        .await
        .unwrap();
    let err = p
        .describe_schema()
        .schema_arn(domain.schema_arn().unwrap())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
    assert_eq!(
        err.message(),
        Some(format!("The given schema does not exist: {ARN}:schema/ecommerce-schema").as_str())
    );
    let err = p
        .delete_schema()
        .schema_arn(format!("{ARN}:schema/none"))
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_resource_not_found_exception());
}

#[tokio::test]
async fn invalid_input_is_refused_with_invalid_input_exception() {
    let local = common::start().await;
    let p = client(&local);
    let bad_avro = [
        "not json",
        r#"{"type": "enum", "name": "X", "symbols": ["A"]}"#,
        r#"{"type": "record", "name": "X", "fields": []}"#,
        r#"{"type": "record", "name": "X", "fields": [{"name": "A", "type": "varchar"}]}"#,
        r#"{"type": "record", "name": "X", "fields": [{"name": "A", "type": "string"}, {"name": "A", "type": "int"}]}"#,
    ];
    for avro in bad_avro {
        let err = p
            .create_schema()
            .name("s")
            .schema(avro)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_invalid_input_exception(), "{avro}: {err:?}");
    }
    let err = p
        .create_dataset_group()
        .name("-bad")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_input_exception());
    assert_eq!(
        err.message(),
        Some(
            "1 validation error detected: Value '-bad' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9][a-zA-Z0-9\\-_]*"
        )
    );
    let err = p
        .create_dataset_group()
        .name("a".repeat(64))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_input_exception());
    let err = p
        .describe_dataset_group()
        .dataset_group_arn("not-an-arn")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_input_exception(), "{err:?}");
    let err = p
        .create_dataset_group()
        .name("kms")
        .kms_key_arn("arn:aws:kms:us-east-1:000000000000:key/abc")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_input_exception(), "a KMS key needs a role");
}

#[tokio::test]
async fn datasets_need_an_active_group_a_fitting_schema_and_a_free_type() {
    let local = common::start().await;
    let p = client(&local);
    let interactions = schema(&p, "interactions", INTERACTIONS).await;
    let items = schema(&p, "items", ITEMS).await;
    let g = group(&p, "shop").await;

    let described = p
        .describe_dataset_group()
        .dataset_group_arn(&g)
        .send()
        .await
        .unwrap();
    let dg = described.dataset_group().unwrap();
    assert_eq!(dg.status(), Some("ACTIVE"));
    assert_eq!(dg.name(), Some("shop"));
    assert!(dg.creation_date_time().is_some() && dg.last_updated_date_time().is_some());

    let ds = dataset(&p, &g, &interactions, "Interactions").await;
    assert_eq!(ds, format!("{ARN}:dataset/shop/INTERACTIONS"));
    let items_ds = dataset(&p, &g, &items, "Items").await;
    assert_eq!(items_ds, format!("{ARN}:dataset/shop/ITEMS"));

    let d = p.describe_dataset().dataset_arn(&ds).send().await.unwrap();
    let d = d.dataset().unwrap();
    assert_eq!(d.dataset_type(), Some("INTERACTIONS"));
    assert_eq!(d.dataset_group_arn(), Some(g.as_str()));
    assert_eq!(d.schema_arn(), Some(interactions.as_str()));
    assert_eq!(d.status(), Some("ACTIVE"));

    // One dataset per type per group.
    let err = p
        .create_dataset()
        .name("again")
        .dataset_group_arn(&g)
        .schema_arn(&interactions)
        .dataset_type("Interactions")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_already_exists_exception(), "{err:?}");
    // The schema must carry the type's required fields.
    let err = p
        .create_dataset()
        .name("users")
        .dataset_group_arn(&g)
        .schema_arn(&items)
        .dataset_type("Users")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_input_exception(), "{err:?}");
    assert!(err.message().unwrap().contains("USER_ID"));
    let err = p
        .create_dataset()
        .name("odd")
        .dataset_group_arn(&g)
        .schema_arn(&items)
        .dataset_type("Clicks")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_input_exception(), "{err:?}");
    let err = p
        .create_dataset()
        .name("lost")
        .dataset_group_arn(format!("{ARN}:dataset-group/none"))
        .schema_arn(&items)
        .dataset_type("Items")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");

    // A domain schema does not fit a custom group.
    let domain_schema = p
        .create_schema()
        .name("vod")
        .schema(INTERACTIONS)
        .domain(Domain::VideoOnDemand)
        .send()
        .await
        .unwrap();
    let other = group(&p, "other").await;
    let err = p
        .create_dataset()
        .name("vod")
        .dataset_group_arn(&other)
        .schema_arn(domain_schema.schema_arn().unwrap())
        .dataset_type("Interactions")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_input_exception(), "{err:?}");

    let listed = p.list_datasets().dataset_group_arn(&g).send().await.unwrap();
    let arns: Vec<&str> = listed.datasets().iter().filter_map(|d| d.dataset_arn()).collect();
    assert_eq!(arns, [ds.as_str(), items_ds.as_str()]);
    assert!(
        p.list_datasets()
            .dataset_group_arn(&other)
            .send()
            .await
            .unwrap()
            .datasets()
            .is_empty()
    );

    // Dependencies hold deletions back.
    let err = p
        .delete_schema()
        .schema_arn(&items)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_in_use_exception(), "{err:?}");
    let err = p
        .delete_dataset_group()
        .dataset_group_arn(&g)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_in_use_exception(), "{err:?}");

    p.delete_dataset().dataset_arn(&ds).send().await.unwrap();
    p.delete_dataset().dataset_arn(&items_ds).send().await.unwrap();
    let err = p
        .describe_dataset()
        .dataset_arn(&ds)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
    p.delete_schema().schema_arn(&items).send().await.unwrap();
    p.delete_dataset_group()
        .dataset_group_arn(&g)
        .send()
        .await
        .unwrap();
    assert_eq!(group_status(&p, &g).await, None);
    let left = p.list_dataset_groups().send().await.unwrap();
    assert_eq!(left.dataset_groups().len(), 1);
}

#[tokio::test]
async fn one_event_tracker_per_dataset_group() {
    let local = common::start().await;
    let p = client(&local);
    let g = group(&p, "shop").await;
    let created = p
        .create_event_tracker()
        .name("tracker")
        .dataset_group_arn(&g)
        .send()
        .await
        .unwrap();
    let arn = created.event_tracker_arn().unwrap();
    // As on AWS, the ARN ends in an id of 8 hex digits, not the name.
    let id = arn.strip_prefix(&format!("{ARN}:event-tracker/")).unwrap();
    assert!(
        id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{arn}"
    );
    let tracking_id = created.tracking_id().unwrap();
    assert!(uuid_like(tracking_id), "{tracking_id}");

    let described = p
        .describe_event_tracker()
        .event_tracker_arn(arn)
        .send()
        .await
        .unwrap();
    let t = described.event_tracker().unwrap();
    assert_eq!(t.status(), Some("ACTIVE"));
    assert_eq!(t.tracking_id(), Some(tracking_id));
    assert_eq!(t.account_id(), Some(common::ACCOUNT));
    assert_eq!(t.dataset_group_arn(), Some(g.as_str()));
    assert_eq!(t.name(), Some("tracker"));

    let err = p
        .create_event_tracker()
        .name("second")
        .dataset_group_arn(&g)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_already_exists_exception(), "{err:?}");
    let other = group(&p, "other").await;
    let err = p
        .create_event_tracker()
        .name("tracker")
        .dataset_group_arn(&other)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        err.is_resource_already_exists_exception(),
        "names are unique too: {err:?}"
    );
    let err = p
        .create_event_tracker()
        .name("t")
        .dataset_group_arn(format!("{ARN}:dataset-group/none"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());

    let mine = p
        .list_event_trackers()
        .dataset_group_arn(&g)
        .send()
        .await
        .unwrap();
    assert_eq!(mine.event_trackers().len(), 1);
    assert_eq!(mine.event_trackers()[0].status(), Some("ACTIVE"));
    let theirs = p
        .list_event_trackers()
        .dataset_group_arn(&other)
        .send()
        .await
        .unwrap();
    assert!(theirs.event_trackers().is_empty());
    assert_eq!(
        p.list_event_trackers()
            .send()
            .await
            .unwrap()
            .event_trackers()
            .len(),
        1
    );

    let err = p
        .delete_dataset_group()
        .dataset_group_arn(&g)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_in_use_exception(), "{err:?}");
    p.delete_event_tracker()
        .event_tracker_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tracker_status(&p, arn).await, None);
    // With the tracker gone, the group takes a new one and can be deleted.
    let again = p
        .create_event_tracker()
        .name("again")
        .dataset_group_arn(&g)
        .send()
        .await
        .unwrap();
    p.delete_event_tracker()
        .event_tracker_arn(again.event_tracker_arn().unwrap())
        .send()
        .await
        .unwrap();
    p.delete_dataset_group()
        .dataset_group_arn(&g)
        .send()
        .await
        .unwrap();
    p.delete_dataset_group()
        .dataset_group_arn(&other)
        .send()
        .await
        .unwrap();
    let left = common::resources(&local).await;
    assert_eq!(left["resources"], serde_json::json!([]), "{left}");
}

fn uuid_like(s: &str) -> bool {
    let parts: Vec<usize> = s.split('-').map(str::len).collect();
    parts == [8, 4, 4, 4, 12] && s.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

#[tokio::test]
async fn lifecycles_pass_through_pending_and_in_progress() {
    let profile = Profile {
        dataset_group_ready_ms: 400,
        dataset_ready_ms: 800,
        tracker_ready_ms: 1000,
        personalize_delete_ms: 1000,
        ..Profile::instant()
    };
    let local = common::start_with(profile, Faults::default()).await;
    let p = client(&local);
    let interactions = schema(&p, "interactions", INTERACTIONS).await;
    let g = group(&p, "shop").await;

    // Nothing can be added to a group that is not ACTIVE yet.
    let err = p
        .create_event_tracker()
        .name("early")
        .dataset_group_arn(&g)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_in_use_exception(), "{err:?}");
    let seen = poll(|| group_status(&p, &g), "ACTIVE").await;
    assert_eq!(seen.first().map(String::as_str), Some("CREATE PENDING"));
    assert_eq!(seen.last().map(String::as_str), Some("ACTIVE"));

    let ds = dataset(&p, &g, &interactions, "Interactions").await;
    let d = p.describe_dataset().dataset_arn(&ds).send().await.unwrap();
    assert_eq!(d.dataset().unwrap().status(), Some("CREATE PENDING"));

    let created = p
        .create_event_tracker()
        .name("tracker")
        .dataset_group_arn(&g)
        .send()
        .await
        .unwrap();
    let arn = created.event_tracker_arn().unwrap().to_owned();
    // Deleting a tracker that is still being created is refused.
    let err = p
        .delete_event_tracker()
        .event_tracker_arn(&arn)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_in_use_exception(), "{err:?}");
    let seen = poll(|| tracker_status(&p, &arn), "ACTIVE").await;
    assert_eq!(seen, ["CREATE PENDING", "CREATE IN_PROGRESS", "ACTIVE"]);
    let t = p
        .describe_event_tracker()
        .event_tracker_arn(&arn)
        .send()
        .await
        .unwrap();
    let t = t.event_tracker().unwrap();
    assert!(
        t.last_updated_date_time().unwrap().as_secs_f64() > t.creation_date_time().unwrap().as_secs_f64(),
        "becoming ACTIVE updates lastUpdatedDateTime"
    );

    p.delete_event_tracker()
        .event_tracker_arn(&arn)
        .send()
        .await
        .unwrap();
    // A second delete while the first is under way is refused, as AWS does.
    let err = p
        .delete_event_tracker()
        .event_tracker_arn(&arn)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_in_use_exception(), "{err:?}");
    let listed = p.list_event_trackers().send().await.unwrap();
    assert_eq!(listed.event_trackers()[0].status(), Some("DELETE PENDING"));
    let seen = poll(|| tracker_status(&p, &arn), "gone").await;
    assert_eq!(seen, ["DELETE PENDING", "DELETE IN_PROGRESS", "gone"]);

    // The group waits for its dataset to go.
    poll(
        || async {
            let d = p.describe_dataset().dataset_arn(&ds).send().await.unwrap();
            d.dataset().unwrap().status().map(str::to_owned)
        },
        "ACTIVE",
    )
    .await;
    p.delete_dataset().dataset_arn(&ds).send().await.unwrap();
    let err = p
        .delete_dataset_group()
        .dataset_group_arn(&g)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        err.is_resource_in_use_exception(),
        "a dataset being deleted still counts: {err:?}"
    );
    poll(
        || async {
            match p.describe_dataset().dataset_arn(&ds).send().await {
                Ok(d) => d.dataset().unwrap().status().map(str::to_owned),
                Err(_) => None,
            }
        },
        "gone",
    )
    .await;
    p.delete_dataset_group()
        .dataset_group_arn(&g)
        .send()
        .await
        .unwrap();
    let seen = poll(|| group_status(&p, &g), "gone").await;
    assert_eq!(seen, ["DELETE PENDING", "gone"]);
}

#[tokio::test]
async fn tags_are_set_at_creation_and_changed_later() {
    let local = common::start().await;
    let p = client(&local);
    let g = p
        .create_dataset_group()
        .name("tagged")
        .tags(tag("team", "data"))
        .send()
        .await
        .unwrap();
    let g = g.dataset_group_arn().unwrap();
    p.tag_resource()
        .resource_arn(g)
        .tags(tag("env", "dev"))
        .tags(tag("team", "ml"))
        .send()
        .await
        .unwrap();
    let tags = p.list_tags_for_resource().resource_arn(g).send().await.unwrap();
    let pairs: Vec<(&str, &str)> = tags.tags().iter().map(|t| (t.tag_key(), t.tag_value())).collect();
    assert_eq!(pairs, [("team", "ml"), ("env", "dev")]);
    p.untag_resource()
        .resource_arn(g)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = p.list_tags_for_resource().resource_arn(g).send().await.unwrap();
    assert_eq!(tags.tags().len(), 1);

    let tracker = p
        .create_event_tracker()
        .name("t")
        .dataset_group_arn(g)
        .tags(tag("k", "v"))
        .send()
        .await
        .unwrap();
    let tags = p
        .list_tags_for_resource()
        .resource_arn(tracker.event_tracker_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags()[0].tag_key(), "k");

    let mut too_many = p.tag_resource().resource_arn(g);
    for i in 0..200 {
        too_many = too_many.tags(tag(&format!("k{i}"), "v"));
    }
    let err = too_many.send().await.unwrap_err().into_service_error();
    assert!(err.is_too_many_tags_exception(), "{err:?}");
    let err = p
        .tag_resource()
        .resource_arn(format!("{ARN}:dataset-group/none"))
        .tags(tag("a", "b"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
    let err = p
        .tag_resource()
        .resource_arn(g)
        .tags(tag("aws:reserved", "b"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_input_exception());
    let err = p
        .list_tags_for_resource()
        .resource_arn(format!("{ARN}:event-tracker/none"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
}

#[tokio::test]
async fn lists_page_with_next_tokens() {
    let local = common::start().await;
    let p = client(&local);
    for name in ["a", "b", "c"] {
        group(&p, name).await;
    }
    let first = p.list_dataset_groups().max_results(2).send().await.unwrap();
    let names: Vec<&str> = first.dataset_groups().iter().filter_map(|g| g.name()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(first.dataset_groups()[0].status(), Some("ACTIVE"));
    let second = p
        .list_dataset_groups()
        .max_results(2)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = second.dataset_groups().iter().filter_map(|g| g.name()).collect();
    assert_eq!(names, ["c"]);
    assert_eq!(second.next_token(), None);

    let err = p
        .list_dataset_groups()
        .next_token("garbage")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_next_token_exception(), "{err:?}");
    let err = p.list_dataset_groups().max_results(101).send().await.unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("InvalidInputException"));

    // Another account sees none of them.
    let other = Client::new(&common::sdk(&local, "111122223333"));
    assert!(
        other
            .list_dataset_groups()
            .send()
            .await
            .unwrap()
            .dataset_groups()
            .is_empty()
    );
    let err = other
        .describe_dataset_group()
        .dataset_group_arn(format!("{ARN}:dataset-group/a"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
}
