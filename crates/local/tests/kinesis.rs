//! Kinesis's control plane through the official SDK client.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support as common;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::error::ProvideErrorMetadata;
use aws_sdk_kinesis::types::{
    ScalingType, ShardFilter, ShardFilterType, StreamMode, StreamModeDetails, StreamStatus,
};
use personalize_stack_local::{Faults, Profile, Running};
use std::time::{Duration, Instant};

const TWO_POW_128_MINUS_1: &str = "340282366920938463463374607431768211455";

fn client(local: &Running) -> Client {
    Client::new(&common::sdk(local, common::ACCOUNT))
}

async fn create(kinesis: &Client, name: &str, shards: i32) {
    kinesis
        .create_stream()
        .stream_name(name)
        .shard_count(shards)
        .send()
        .await
        .unwrap();
}

async fn status(kinesis: &Client, name: &str) -> Option<StreamStatus> {
    match kinesis.describe_stream_summary().stream_name(name).send().await {
        Ok(out) => Some(out.stream_description_summary().unwrap().stream_status().clone()),
        Err(err) => {
            let err = err.into_service_error();
            assert!(err.is_resource_not_found_exception(), "{err:?}");
            None
        }
    }
}

/// Polls the status every 20 ms until `done` holds (at most 5 s); returns every status seen.
async fn poll_status(
    kinesis: &Client,
    name: &str,
    done: impl Fn(&Option<StreamStatus>) -> bool,
) -> Vec<Option<StreamStatus>> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = Vec::new();
    loop {
        let now = status(kinesis, name).await;
        let finished = done(&now);
        seen.push(now);
        if finished {
            return seen;
        }
        assert!(Instant::now() < deadline, "gave up waiting; saw {seen:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn code<E: ProvideErrorMetadata>(err: &E) -> &str {
    err.code().unwrap_or_default()
}

#[tokio::test]
async fn a_provisioned_stream_is_described_as_aws_describes_it() {
    let local = common::start().await;
    let kinesis = client(&local);
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    create(&kinesis, "events", 3).await;

    let out = kinesis
        .describe_stream()
        .stream_name("events")
        .send()
        .await
        .unwrap();
    let d = out.stream_description().unwrap();
    assert_eq!(d.stream_name(), "events");
    assert_eq!(
        d.stream_arn(),
        "arn:aws:kinesis:us-east-1:000000000000:stream/events"
    );
    assert_eq!(d.stream_status(), &StreamStatus::Active);
    assert_eq!(d.retention_period_hours(), 24);
    assert_eq!(d.encryption_type().map(|e| e.as_str()), Some("NONE"));
    assert_eq!(
        d.stream_mode_details().unwrap().stream_mode(),
        &StreamMode::Provisioned
    );
    assert_eq!(d.enhanced_monitoring().len(), 1);
    assert!(!d.has_more_shards());
    let created = d.stream_creation_timestamp().as_secs_f64();
    assert!(
        (before - 2.0..before + 5.0).contains(&created),
        "{created} vs {before}"
    );

    let shards = d.shards();
    let ids: Vec<&str> = shards.iter().map(|s| s.shard_id()).collect();
    assert_eq!(
        ids,
        [
            "shardId-000000000000",
            "shardId-000000000001",
            "shardId-000000000002"
        ]
    );
    let ranges: Vec<(&str, &str)> = shards
        .iter()
        .map(|s| {
            let r = s.hash_key_range().unwrap();
            (r.starting_hash_key(), r.ending_hash_key())
        })
        .collect();
    assert_eq!(ranges[0], ("0", "113427455640312821154458202477256070484"));
    assert_eq!(
        ranges[1],
        (
            "113427455640312821154458202477256070485",
            "226854911280625642308916404954512140969"
        )
    );
    assert_eq!(ranges[2].1, TWO_POW_128_MINUS_1);
    for shard in shards {
        let seq = shard.sequence_number_range().unwrap();
        assert_eq!(seq.starting_sequence_number().len(), 56);
        assert!(seq.starting_sequence_number().bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(seq.ending_sequence_number(), None, "open shards have no end");
        assert_eq!(shard.parent_shard_id(), None);
    }

    // The same stream by ARN, one shard at a time.
    let page = kinesis
        .describe_stream()
        .stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/events")
        .limit(2)
        .exclusive_start_shard_id("shardId-000000000000")
        .send()
        .await
        .unwrap();
    let page = page.stream_description().unwrap();
    assert_eq!(page.shards().len(), 2);
    assert_eq!(page.shards()[0].shard_id(), "shardId-000000000001");
    assert!(!page.has_more_shards());
    let page = kinesis
        .describe_stream()
        .stream_name("events")
        .limit(1)
        .send()
        .await
        .unwrap();
    assert!(page.stream_description().unwrap().has_more_shards());

    let summary = kinesis
        .describe_stream_summary()
        .stream_name("events")
        .send()
        .await
        .unwrap();
    let s = summary.stream_description_summary().unwrap();
    assert_eq!(s.open_shard_count(), 3);
    assert_eq!(s.consumer_count(), Some(0));
    assert_eq!(s.stream_status(), &StreamStatus::Active);
    assert_eq!(s.retention_period_hours(), 24);

    let err = kinesis
        .create_stream()
        .stream_name("events")
        .shard_count(1)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_in_use_exception(), "{err:?}");
    assert_eq!(
        err.message(),
        Some("Stream events under account 000000000000 already exists.")
    );
}

#[tokio::test]
async fn an_on_demand_stream_has_four_shards_and_cannot_be_resharded() {
    let local = common::start().await;
    let kinesis = client(&local);
    let on_demand = StreamModeDetails::builder()
        .stream_mode(StreamMode::OnDemand)
        .build()
        .unwrap();
    kinesis
        .create_stream()
        .stream_name("od")
        .stream_mode_details(on_demand.clone())
        .send()
        .await
        .unwrap();
    let summary = kinesis
        .describe_stream_summary()
        .stream_name("od")
        .send()
        .await
        .unwrap();
    let s = summary.stream_description_summary().unwrap();
    assert_eq!(s.open_shard_count(), 4);
    assert_eq!(
        s.stream_mode_details().unwrap().stream_mode(),
        &StreamMode::OnDemand
    );
    let shards = kinesis.list_shards().stream_name("od").send().await.unwrap();
    assert_eq!(shards.shards().len(), 4);
    assert_eq!(
        shards.shards()[1].hash_key_range().unwrap().starting_hash_key(),
        "85070591730234615865843651857942052864"
    );

    let err = kinesis
        .create_stream()
        .stream_name("od2")
        .shard_count(2)
        .stream_mode_details(on_demand)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_argument_exception(), "{err:?}");

    let err = kinesis
        .update_shard_count()
        .stream_name("od")
        .target_shard_count(8)
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err), "ValidationException", "{err:?}");
}

#[tokio::test]
async fn streams_are_creating_then_active_and_deleting_then_gone() {
    let profile = Profile {
        stream_ready_ms: 800,
        stream_delete_ms: 800,
        ..Profile::instant()
    };
    let local = common::start_with(profile, Faults::default()).await;
    let kinesis = client(&local);
    create(&kinesis, "slow", 2).await;

    // While CREATING: no shards yet, and changes are refused.
    let d = kinesis
        .describe_stream()
        .stream_name("slow")
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.stream_description().unwrap().stream_status(),
        &StreamStatus::Creating
    );
    assert!(d.stream_description().unwrap().shards().is_empty());
    let err = kinesis
        .increase_stream_retention_period()
        .stream_name("slow")
        .retention_period_hours(48)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_in_use_exception(), "{err:?}");
    assert_eq!(
        err.message(),
        Some("Stream slow under account 000000000000 not ACTIVE, instead in state CREATING")
    );
    let err = kinesis
        .list_shards()
        .stream_name("slow")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_in_use_exception(), "{err:?}");

    let seen = poll_status(&kinesis, "slow", |s| s == &Some(StreamStatus::Active)).await;
    assert_eq!(seen[0], Some(StreamStatus::Creating));

    // Resharding: UPDATING, then the new shards.
    let out = kinesis
        .update_shard_count()
        .stream_name("slow")
        .target_shard_count(4)
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (out.current_shard_count(), out.target_shard_count()),
        (Some(2), Some(4))
    );
    let err = kinesis
        .add_tags_to_stream()
        .stream_name("slow")
        .tags("k", "v")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_in_use_exception(), "{err:?}");
    let seen = poll_status(&kinesis, "slow", |s| s == &Some(StreamStatus::Active)).await;
    assert_eq!(seen[0], Some(StreamStatus::Updating));
    let summary = kinesis
        .describe_stream_summary()
        .stream_name("slow")
        .send()
        .await
        .unwrap();
    assert_eq!(
        summary.stream_description_summary().unwrap().open_shard_count(),
        4
    );

    // Deleting: still listed and described as DELETING, then not found.
    kinesis
        .delete_stream()
        .stream_name("slow")
        .enforce_consumer_deletion(true)
        .send()
        .await
        .unwrap();
    let listed = kinesis.list_streams().send().await.unwrap();
    assert_eq!(
        listed.stream_summaries()[0].stream_status(),
        &StreamStatus::Deleting
    );
    let seen = poll_status(&kinesis, "slow", Option::is_none).await;
    assert_eq!(seen[0], Some(StreamStatus::Deleting));
    assert!(
        kinesis
            .list_streams()
            .send()
            .await
            .unwrap()
            .stream_names()
            .is_empty()
    );

    // Every key of the stream is gone: the name can be used again.
    assert!(
        !common::resources(&local).await.to_string().contains("slow"),
        "the deleted stream left keys behind"
    );
    create(&kinesis, "slow", 1).await;
}

#[tokio::test]
async fn at_most_five_streams_can_be_creating_at_once() {
    let profile = Profile {
        stream_ready_ms: 60_000,
        ..Profile::instant()
    };
    let local = common::start_with(profile, Faults::default()).await;
    let kinesis = client(&local);
    for i in 0..5 {
        create(&kinesis, &format!("s{i}"), 1).await;
    }
    let err = kinesis
        .create_stream()
        .stream_name("s5")
        .shard_count(1)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_limit_exceeded_exception(), "{err:?}");
    // A stream being deleted no longer counts.
    kinesis.delete_stream().stream_name("s0").send().await.unwrap();
    create(&kinesis, "s5", 1).await;
}

#[tokio::test]
async fn the_account_shard_quota_is_enforced() {
    let local = common::start().await;
    let kinesis = client(&local);
    create(&kinesis, "big", 400).await;
    let err = kinesis
        .create_stream()
        .stream_name("bigger")
        .shard_count(101)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_limit_exceeded_exception(), "{err:?}");
    assert!(
        err.message()
            .unwrap()
            .contains("Current shard count for the account: 400. Limit: 500.")
    );
}

#[tokio::test]
async fn list_streams_pages_by_name() {
    let local = common::start().await;
    let kinesis = client(&local);
    for name in ["c", "a", "b"] {
        create(&kinesis, name, 1).await;
    }
    let first = kinesis.list_streams().limit(2).send().await.unwrap();
    assert_eq!(first.stream_names(), ["a", "b"]);
    assert!(first.has_more_streams());
    assert_eq!(first.stream_summaries().len(), 2);
    assert_eq!(
        first.stream_summaries()[0].stream_arn(),
        "arn:aws:kinesis:us-east-1:000000000000:stream/a"
    );
    let second = kinesis
        .list_streams()
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.stream_names(), ["c"]);
    assert!(!second.has_more_streams());
    assert_eq!(second.next_token(), None);
    let after = kinesis
        .list_streams()
        .exclusive_start_stream_name("a")
        .send()
        .await
        .unwrap();
    assert_eq!(after.stream_names(), ["b", "c"]);

    // Another account sees none of them.
    let other = Client::new(&common::sdk(&local, "111122223333"));
    assert!(
        other
            .list_streams()
            .send()
            .await
            .unwrap()
            .stream_names()
            .is_empty()
    );
    let err = other
        .describe_stream()
        .stream_name("a")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
    assert_eq!(
        err.message(),
        Some("Stream a under account 111122223333 not found.")
    );
}

#[tokio::test]
async fn list_shards_filters_and_pages() {
    let local = common::start().await;
    let kinesis = client(&local);
    create(&kinesis, "s", 2).await;
    let out = kinesis
        .update_shard_count()
        .stream_name("s")
        .target_shard_count(3)
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await
        .unwrap();
    assert_eq!(out.stream_name(), Some("s"));

    let all = kinesis.list_shards().stream_name("s").send().await.unwrap();
    assert_eq!(all.shards().len(), 5);
    let closed = &all.shards()[0];
    assert!(
        closed
            .sequence_number_range()
            .unwrap()
            .ending_sequence_number()
            .is_some()
    );
    let child = &all.shards()[3];
    assert_eq!(child.shard_id(), "shardId-000000000003");
    assert_eq!(child.parent_shard_id(), Some("shardId-000000000000"));
    assert_eq!(child.adjacent_parent_shard_id(), Some("shardId-000000000001"));

    let latest = kinesis
        .list_shards()
        .stream_name("s")
        .shard_filter(
            ShardFilter::builder()
                .r#type(ShardFilterType::AtLatest)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = latest.shards().iter().map(|s| s.shard_id()).collect();
    assert_eq!(
        ids,
        [
            "shardId-000000000002",
            "shardId-000000000003",
            "shardId-000000000004"
        ]
    );

    let first = kinesis
        .list_shards()
        .stream_name("s")
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.shards().len(), 2);
    let token = first.next_token().unwrap();
    let rest = kinesis
        .list_shards()
        .next_token(token)
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(rest.shards().len(), 2);
    assert_eq!(rest.shards()[0].shard_id(), "shardId-000000000002");
    let last = kinesis
        .list_shards()
        .next_token(rest.next_token().unwrap())
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(last.shards().len(), 1);
    assert_eq!(last.next_token(), None);

    let err = kinesis
        .list_shards()
        .stream_name("s")
        .next_token(token)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_argument_exception());
    assert_eq!(
        err.message(),
        Some("NextToken and StreamName cannot be provided together.")
    );
    let err = kinesis
        .list_shards()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_argument_exception());
    let err = kinesis
        .list_shards()
        .stream_name("nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
}

#[tokio::test]
async fn update_shard_count_keeps_to_aws_scaling_limits() {
    let local = common::start().await;
    let kinesis = client(&local);
    create(&kinesis, "s", 4).await;
    for target in [9, 1] {
        let err = kinesis
            .update_shard_count()
            .stream_name("s")
            .target_shard_count(target)
            .scaling_type(ScalingType::UniformScaling)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_limit_exceeded_exception(), "{target}: {err:?}");
    }
    let down = kinesis
        .update_shard_count()
        .stream_name("s")
        .target_shard_count(2)
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (down.current_shard_count(), down.target_shard_count()),
        (Some(4), Some(2))
    );
    let summary = kinesis
        .describe_stream_summary()
        .stream_name("s")
        .send()
        .await
        .unwrap();
    assert_eq!(
        summary.stream_description_summary().unwrap().open_shard_count(),
        2
    );

    let err = kinesis
        .update_shard_count()
        .stream_name("missing")
        .target_shard_count(2)
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
}

#[tokio::test]
async fn retention_only_moves_in_the_direction_asked() {
    let local = common::start().await;
    let kinesis = client(&local);
    create(&kinesis, "r", 1).await;
    kinesis
        .increase_stream_retention_period()
        .stream_name("r")
        .retention_period_hours(168)
        .send()
        .await
        .unwrap();
    let err = kinesis
        .increase_stream_retention_period()
        .stream_name("r")
        .retention_period_hours(48)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_argument_exception());
    assert_eq!(
        err.message(),
        Some(
            "Requested retention period (48 hours) for stream r can not be shorter than existing retention period (168 hours). Use DecreaseRetentionPeriod API."
        )
    );
    let err = kinesis
        .decrease_stream_retention_period()
        .stream_name("r")
        .retention_period_hours(200)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_argument_exception());
    assert!(
        err.message()
            .unwrap()
            .ends_with("Use IncreaseRetentionPeriod API.")
    );
    let err = kinesis
        .decrease_stream_retention_period()
        .stream_name("r")
        .retention_period_hours(23)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_argument_exception());
    assert_eq!(
        err.message(),
        Some(
            "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short."
        )
    );
    let err = kinesis
        .increase_stream_retention_period()
        .stream_name("r")
        .retention_period_hours(8761)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err), "ValidationException");
    kinesis
        .decrease_stream_retention_period()
        .stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/r")
        .retention_period_hours(72)
        .send()
        .await
        .unwrap();
    let d = kinesis
        .describe_stream_summary()
        .stream_name("r")
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.stream_description_summary().unwrap().retention_period_hours(),
        72
    );
    let err = kinesis
        .increase_stream_retention_period()
        .stream_name("nope")
        .retention_period_hours(48)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
}

#[tokio::test]
async fn tags_are_added_listed_and_removed() {
    let local = common::start().await;
    let kinesis = client(&local);
    kinesis
        .create_stream()
        .stream_name("t")
        .shard_count(1)
        .tags("team", "data")
        .send()
        .await
        .unwrap();
    kinesis
        .add_tags_to_stream()
        .stream_name("t")
        .tags("env", "dev")
        .tags("app", "ps")
        .send()
        .await
        .unwrap();
    let tags = kinesis
        .list_tags_for_stream()
        .stream_name("t")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = tags.tags().iter().map(|t| t.key()).collect();
    assert_eq!(keys, ["app", "env", "team"]);
    assert!(!tags.has_more_tags());
    let page = kinesis
        .list_tags_for_stream()
        .stream_name("t")
        .limit(1)
        .exclusive_start_tag_key("app")
        .send()
        .await
        .unwrap();
    assert_eq!(page.tags()[0].key(), "env");
    assert_eq!(page.tags()[0].value(), Some("dev"));
    assert!(page.has_more_tags());

    kinesis
        .remove_tags_from_stream()
        .stream_name("t")
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/t";
    kinesis
        .tag_resource()
        .resource_arn(arn)
        .tags("owner", "me")
        .send()
        .await
        .unwrap();
    kinesis
        .untag_resource()
        .resource_arn(arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = kinesis
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = tags.tags().iter().map(|t| t.key()).collect();
    assert_eq!(keys, ["app", "owner"]);

    let mut too_many = kinesis.add_tags_to_stream().stream_name("t");
    for i in 0..49 {
        too_many = too_many.tags(format!("k{i}"), "v");
    }
    let err = too_many.send().await.unwrap_err().into_service_error();
    assert!(err.is_invalid_argument_exception(), "{err:?}");
    let err = kinesis
        .add_tags_to_stream()
        .stream_name("t")
        .tags("bad*key", "v")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_argument_exception(), "{err:?}");
    let err = kinesis
        .list_tags_for_stream()
        .stream_name("nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
}

#[tokio::test]
async fn malformed_requests_get_validation_errors() {
    let local = common::start().await;
    let kinesis = client(&local);
    let err = kinesis
        .create_stream()
        .stream_name("bad name")
        .shard_count(0)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err), "ValidationException");
    assert_eq!(
        err.message(),
        Some(
            "2 validation errors detected: Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1; Value 'bad name' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )
    );
    let long = "a".repeat(129);
    let err = kinesis
        .describe_stream()
        .stream_name(&long)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err), "ValidationException");
    let err = kinesis
        .update_shard_count()
        .stream_name("x")
        .target_shard_count(2)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err), "ValidationException", "ScalingType is required");
    let err = kinesis
        .describe_stream()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_argument_exception(), "{err:?}");
    let err = kinesis
        .delete_stream()
        .stream_name("nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
    assert_eq!(
        err.message(),
        Some("Stream nope under account 000000000000 not found.")
    );
}

#[tokio::test]
async fn encryption_and_capacity_mode_change_through_updating() {
    let local = common::start_with(
        Profile {
            stream_ready_ms: 100,
            ..Profile::instant()
        },
        Faults::default(),
    )
    .await;
    let kinesis = client(&local);
    create(&kinesis, "enc", 1).await;
    poll_status(&kinesis, "enc", |s| *s == Some(StreamStatus::Active)).await;
    kinesis
        .start_stream_encryption()
        .stream_name("enc")
        .encryption_type(aws_sdk_kinesis::types::EncryptionType::Kms)
        .key_id("alias/aws/kinesis")
        .send()
        .await
        .unwrap();
    let seen = poll_status(&kinesis, "enc", |s| *s == Some(StreamStatus::Active)).await;
    assert_eq!(seen[0], Some(StreamStatus::Updating));
    let summary = kinesis
        .describe_stream_summary()
        .stream_name("enc")
        .send()
        .await
        .unwrap();
    let summary = summary.stream_description_summary().unwrap();
    assert_eq!(
        summary.encryption_type(),
        Some(&aws_sdk_kinesis::types::EncryptionType::Kms)
    );
    assert_eq!(summary.key_id(), Some("alias/aws/kinesis"));

    let arn = summary.stream_arn().to_owned();
    let on_demand = StreamModeDetails::builder()
        .stream_mode(StreamMode::OnDemand)
        .build()
        .unwrap();
    kinesis
        .update_stream_mode()
        .stream_arn(&arn)
        .stream_mode_details(on_demand.clone())
        .send()
        .await
        .unwrap();
    let seen = poll_status(&kinesis, "enc", |s| *s == Some(StreamStatus::Active)).await;
    assert_eq!(seen[0], Some(StreamStatus::Updating));
    let summary = kinesis
        .describe_stream_summary()
        .stream_name("enc")
        .send()
        .await
        .unwrap();
    let summary = summary.stream_description_summary().unwrap();
    assert_eq!(
        summary.stream_mode_details().map(|d| d.stream_mode().clone()),
        Some(StreamMode::OnDemand)
    );
    let err = kinesis
        .update_stream_mode()
        .stream_arn(&arn)
        .stream_mode_details(on_demand)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err), "ResourceInUseException");

    kinesis
        .stop_stream_encryption()
        .stream_name("enc")
        .encryption_type(aws_sdk_kinesis::types::EncryptionType::Kms)
        .key_id("alias/aws/kinesis")
        .send()
        .await
        .unwrap();
    poll_status(&kinesis, "enc", |s| *s == Some(StreamStatus::Active)).await;
    let summary = kinesis
        .describe_stream_summary()
        .stream_name("enc")
        .send()
        .await
        .unwrap();
    let summary = summary.stream_description_summary().unwrap();
    assert_eq!(
        summary.encryption_type(),
        Some(&aws_sdk_kinesis::types::EncryptionType::None)
    );
    assert_eq!(summary.key_id(), None);
}

/// CreateStream with neither `ShardCount` nor `StreamModeDetails` makes an on-demand stream of
/// four shards, as AWS does (it used to be refused here).
#[tokio::test]
async fn a_stream_created_without_a_shard_count_or_mode_is_on_demand() {
    let local = common::start().await;
    let kinesis = client(&local);
    kinesis
        .create_stream()
        .stream_name("defaulted")
        .send()
        .await
        .unwrap();
    let summary = kinesis
        .describe_stream_summary()
        .stream_name("defaulted")
        .send()
        .await
        .unwrap();
    let s = summary.stream_description_summary().unwrap();
    assert_eq!(s.open_shard_count(), 4);
    assert_eq!(
        s.stream_mode_details().unwrap().stream_mode(),
        &StreamMode::OnDemand
    );
    // A provisioned stream still needs its count.
    let provisioned = StreamModeDetails::builder()
        .stream_mode(StreamMode::Provisioned)
        .build()
        .unwrap();
    let err = kinesis
        .create_stream()
        .stream_name("counted")
        .stream_mode_details(provisioned)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.meta().code() == Some("ValidationException"), "{err:?}");
    local.shutdown().await;
}

#[tokio::test]
async fn resource_policies_are_put_read_and_deleted() {
    let local = common::start().await;
    let kinesis = client(&local);
    create(&kinesis, "guarded", 1).await;
    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/guarded";

    // No policy yet: the empty document, as AWS answers.
    let out = kinesis
        .get_resource_policy()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(out.policy(), "{}");

    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::000000000000:root"}},"Action":"kinesis:PutRecord","Resource":"{arn}"}}]}}"#
    );
    kinesis
        .put_resource_policy()
        .resource_arn(arn)
        .policy(&policy)
        .send()
        .await
        .unwrap();
    let out = kinesis
        .get_resource_policy()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(out.policy(), policy);

    kinesis
        .delete_resource_policy()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    let out = kinesis
        .get_resource_policy()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(out.policy(), "{}");

    // Deleting again: there is no policy to delete.
    let err = kinesis
        .delete_resource_policy()
        .resource_arn(arn)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    // A missing stream, and a policy that is not a JSON document, are refused.
    let err = kinesis
        .put_resource_policy()
        .resource_arn("arn:aws:kinesis:us-east-1:000000000000:stream/nope")
        .policy(&policy)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let err = kinesis
        .put_resource_policy()
        .resource_arn(arn)
        .policy("not json")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_argument_exception(), "{err:?}");

    // The policy goes with the stream.
    kinesis
        .put_resource_policy()
        .resource_arn(arn)
        .policy(&policy)
        .send()
        .await
        .unwrap();
    kinesis
        .delete_stream()
        .stream_name("guarded")
        .send()
        .await
        .unwrap();
    create(&kinesis, "guarded", 1).await;
    let out = kinesis
        .get_resource_policy()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(out.policy(), "{}");
}

#[tokio::test]
async fn consumers_are_registered_listed_and_deregistered() {
    use aws_sdk_kinesis::types::ConsumerStatus;
    let profile = Profile {
        stream_ready_ms: 300,
        stream_delete_ms: 300,
        ..Profile::instant()
    };
    let local = common::start_with(profile, Faults::default()).await;
    let kinesis = client(&local);
    create(&kinesis, "fanout", 1).await;
    poll_status(&kinesis, "fanout", |s| s == &Some(StreamStatus::Active)).await;
    let stream_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/fanout";

    let listed = kinesis
        .list_stream_consumers()
        .stream_arn(stream_arn)
        .send()
        .await
        .unwrap();
    assert!(listed.consumers().is_empty());

    let registered = kinesis
        .register_stream_consumer()
        .stream_arn(stream_arn)
        .consumer_name("reader")
        .send()
        .await
        .unwrap();
    let consumer = registered.consumer().unwrap();
    assert_eq!(consumer.consumer_status(), &ConsumerStatus::Creating);
    let consumer_arn = consumer.consumer_arn().to_owned();
    let created = consumer.consumer_creation_timestamp().secs();
    assert_eq!(
        consumer_arn,
        format!("{stream_arn}/consumer/reader:{created}"),
        "AWS stamps the ARN with the registration second"
    );

    // A name in use is refused.
    let err = kinesis
        .register_stream_consumer()
        .stream_arn(stream_arn)
        .consumer_name("reader")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_in_use_exception(), "{err:?}");

    // CREATING, then ACTIVE; described alike by ARN and by stream ARN and name.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let d = kinesis
            .describe_stream_consumer()
            .consumer_arn(&consumer_arn)
            .send()
            .await
            .unwrap();
        if d.consumer_description().unwrap().consumer_status() == &ConsumerStatus::Active {
            break;
        }
        assert!(Instant::now() < deadline, "the consumer never became ACTIVE");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let by_name = kinesis
        .describe_stream_consumer()
        .stream_arn(stream_arn)
        .consumer_name("reader")
        .send()
        .await
        .unwrap();
    let description = by_name.consumer_description().unwrap();
    assert_eq!(description.consumer_arn(), consumer_arn);
    assert_eq!(description.stream_arn(), stream_arn);
    let summary = kinesis
        .describe_stream_summary()
        .stream_name("fanout")
        .send()
        .await
        .unwrap();
    assert_eq!(
        summary.stream_description_summary().unwrap().consumer_count(),
        Some(1)
    );

    // Paged listing.
    kinesis
        .register_stream_consumer()
        .stream_arn(stream_arn)
        .consumer_name("second")
        .send()
        .await
        .unwrap();
    let page = kinesis
        .list_stream_consumers()
        .stream_arn(stream_arn)
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.consumers()[0].consumer_name(), "reader");
    let next = kinesis
        .list_stream_consumers()
        .stream_arn(stream_arn)
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(next.consumers()[0].consumer_name(), "second");
    assert!(next.next_token().is_none());

    // A stream with consumers is only deleted when told to delete them too.
    let err = kinesis
        .delete_stream()
        .stream_name("fanout")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_in_use_exception(), "{err:?}");

    // Deregistered: DELETING, then gone.
    kinesis
        .deregister_stream_consumer()
        .consumer_arn(&consumer_arn)
        .send()
        .await
        .unwrap();
    let d = kinesis
        .describe_stream_consumer()
        .consumer_arn(&consumer_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.consumer_description().unwrap().consumer_status(),
        &ConsumerStatus::Deleting
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let err = kinesis
        .describe_stream_consumer()
        .consumer_arn(&consumer_arn)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");

    kinesis
        .delete_stream()
        .stream_name("fanout")
        .enforce_consumer_deletion(true)
        .send()
        .await
        .unwrap();
}
