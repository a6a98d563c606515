//! CloudWatch Logs groups, streams, events, filters and tags through the official SDK client.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support as common;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata as _;
use aws_sdk_cloudwatchlogs::types::{InputLogEvent, OrderBy};

const GROUP: &str = "/aws/lambda/forwarder";
const STREAM: &str = "2024/01/01/[$LATEST]0123456789abcdef";

async fn client() -> (personalize_stack_local::Running, Client) {
    let local = common::start().await;
    let logs = Client::new(&common::sdk(&local, common::ACCOUNT));
    (local, logs)
}

fn now_ms() -> i64 {
    i64::try_from(personalize_stack_local::services::now_ms()).unwrap()
}

fn event(timestamp: i64, message: &str) -> InputLogEvent {
    InputLogEvent::builder()
        .timestamp(timestamp)
        .message(message)
        .build()
        .unwrap()
}

async fn group_and_stream(logs: &Client) {
    logs.create_log_group()
        .log_group_name(GROUP)
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn log_groups_are_created_described_paged_and_deleted() {
    let (local, logs) = client().await;
    for name in ["/app/a", "/app/b", "/app/c", "/other/x"] {
        logs.create_log_group().log_group_name(name).send().await.unwrap();
    }
    let err = logs
        .create_log_group()
        .log_group_name("/app/a")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_already_exists_exception());

    let all = logs.describe_log_groups().send().await.unwrap();
    let names: Vec<&str> = all
        .log_groups()
        .iter()
        .map(|g| g.log_group_name().unwrap())
        .collect();
    assert_eq!(names, ["/app/a", "/app/b", "/app/c", "/other/x"]);
    let a = &all.log_groups()[0];
    assert_eq!(
        a.arn(),
        Some("arn:aws:logs:us-east-1:000000000000:log-group:/app/a:*")
    );
    assert_eq!(
        a.log_group_arn(),
        Some("arn:aws:logs:us-east-1:000000000000:log-group:/app/a")
    );
    assert!(a.creation_time().unwrap() > 1_600_000_000_000, "epoch ms");
    assert_eq!(a.retention_in_days(), None);

    let first = logs
        .describe_log_groups()
        .log_group_name_prefix("/app/")
        .limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.log_groups().len(), 2);
    let token = first.next_token().unwrap();
    let second = logs
        .describe_log_groups()
        .log_group_name_prefix("/app/")
        .limit(2)
        .next_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(second.log_groups().len(), 1);
    assert_eq!(second.log_groups()[0].log_group_name(), Some("/app/c"));
    assert_eq!(second.next_token(), None);

    let by_pattern = logs
        .describe_log_groups()
        .log_group_name_pattern("OTHER")
        .send()
        .await
        .unwrap();
    assert_eq!(by_pattern.log_groups().len(), 1);
    let listed = logs
        .list_log_groups()
        .log_group_name_pattern("APP")
        .limit(2)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = listed
        .log_groups()
        .iter()
        .map(|g| g.log_group_name().unwrap())
        .collect();
    assert_eq!(names, ["/app/a", "/app/b"]);
    assert_eq!(
        listed.log_groups()[0].log_group_arn(),
        Some("arn:aws:logs:us-east-1:000000000000:log-group:/app/a")
    );
    let rest = logs
        .list_log_groups()
        .log_group_name_pattern("APP")
        .next_token(listed.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.log_groups().len(), 1);
    let err = logs
        .describe_log_groups()
        .log_group_name_prefix("/app")
        .log_group_name_pattern("app")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_exception());

    let err = logs
        .create_log_group()
        .log_group_name("has spaces")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_exception());
    assert!(err.message().unwrap().contains("logGroupName"));

    for name in ["/app/a", "/app/b", "/app/c", "/other/x"] {
        logs.delete_log_group().log_group_name(name).send().await.unwrap();
    }
    let err = logs
        .delete_log_group()
        .log_group_name("/app/a")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
    assert_eq!(err.message(), Some("The specified log group does not exist."));
    assert_eq!(
        common::resources(&local).await["resources"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn retention_accepts_only_cloudwatch_values() {
    let (_local, logs) = client().await;
    logs.create_log_group()
        .log_group_name(GROUP)
        .send()
        .await
        .unwrap();
    logs.put_retention_policy()
        .log_group_name(GROUP)
        .retention_in_days(14)
        .send()
        .await
        .unwrap();
    let described = logs.describe_log_groups().send().await.unwrap();
    assert_eq!(described.log_groups()[0].retention_in_days(), Some(14));

    let err = logs
        .put_retention_policy()
        .log_group_name(GROUP)
        .retention_in_days(4)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_exception());
    assert!(err.message().unwrap().contains("enum value set"));

    let err = logs
        .put_retention_policy()
        .log_group_name("/missing")
        .retention_in_days(7)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());

    logs.delete_retention_policy()
        .log_group_name(GROUP)
        .send()
        .await
        .unwrap();
    let described = logs.describe_log_groups().send().await.unwrap();
    assert_eq!(described.log_groups()[0].retention_in_days(), None);
}

#[tokio::test]
async fn log_streams_are_created_described_ordered_and_deleted() {
    let (local, logs) = client().await;
    group_and_stream(&logs).await;
    let err = logs
        .create_log_stream()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_already_exists_exception());
    let err = logs
        .create_log_stream()
        .log_group_name("/missing")
        .log_stream_name("s")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
    assert_eq!(err.message(), Some("The specified log group does not exist."));
    let err = logs
        .create_log_stream()
        .log_group_name(GROUP)
        .log_stream_name("bad:name")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_exception());

    logs.create_log_stream()
        .log_group_name(GROUP)
        .log_stream_name("older")
        .send()
        .await
        .unwrap();
    let now = now_ms();
    logs.put_log_events()
        .log_group_name(GROUP)
        .log_stream_name("older")
        .log_events(event(now - 5_000, "early"))
        .send()
        .await
        .unwrap();
    logs.put_log_events()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .log_events(event(now, "late"))
        .send()
        .await
        .unwrap();

    let by_name = logs
        .describe_log_streams()
        .log_group_name(GROUP)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = by_name
        .log_streams()
        .iter()
        .map(|s| s.log_stream_name().unwrap())
        .collect();
    assert_eq!(names, [STREAM, "older"]);
    let latest = &by_name.log_streams()[0];
    assert_eq!(latest.last_event_timestamp(), Some(now));
    assert_eq!(latest.first_event_timestamp(), Some(now));
    assert!(latest.last_ingestion_time().is_some());
    // AWS stopped sending it with the end of sequence tokens (recorded in LocalStack's
    // test_logs_streams snapshots).
    assert!(latest.upload_sequence_token().is_none());
    assert_eq!(
        latest.arn(),
        Some(format!("arn:aws:logs:us-east-1:000000000000:log-group:{GROUP}:log-stream:{STREAM}").as_str())
    );

    let by_time = logs
        .describe_log_streams()
        .log_group_identifier(format!("arn:aws:logs:us-east-1:000000000000:log-group:{GROUP}"))
        .order_by(OrderBy::LastEventTime)
        .descending(true)
        .limit(1)
        .send()
        .await
        .unwrap();
    assert_eq!(by_time.log_streams()[0].log_stream_name(), Some(STREAM));
    let rest = logs
        .describe_log_streams()
        .log_group_name(GROUP)
        .order_by(OrderBy::LastEventTime)
        .descending(true)
        .limit(1)
        .next_token(by_time.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.log_streams()[0].log_stream_name(), Some("older"));
    assert_eq!(rest.next_token(), None);

    let prefixed = logs
        .describe_log_streams()
        .log_group_name(GROUP)
        .log_stream_name_prefix("old")
        .send()
        .await
        .unwrap();
    assert_eq!(prefixed.log_streams().len(), 1);
    let err = logs
        .describe_log_streams()
        .log_group_name(GROUP)
        .log_stream_name_prefix("old")
        .order_by(OrderBy::LastEventTime)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_exception());
    let err = logs
        .describe_log_streams()
        .log_group_name("/missing")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());

    logs.delete_log_stream()
        .log_group_name(GROUP)
        .log_stream_name("older")
        .send()
        .await
        .unwrap();
    let err = logs
        .delete_log_stream()
        .log_group_name(GROUP)
        .log_stream_name("older")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
    assert_eq!(err.message(), Some("The specified log stream does not exist."));

    // Deleting the group takes its streams along.
    logs.delete_log_group()
        .log_group_name(GROUP)
        .send()
        .await
        .unwrap();
    assert_eq!(
        common::resources(&local).await["resources"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn put_log_events_validates_order_and_rejects_old_and_new_events() {
    let (_local, logs) = client().await;
    group_and_stream(&logs).await;
    let now = now_ms();
    // A batch may span at most 24 hours, so too-old and too-new events come in separate puts.
    let put = logs
        .put_log_events()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .log_events(event(now - 15 * 86_400_000, "too old"))
        .log_events(event(now - 15 * 86_400_000 + 1, "too old too"))
        .send()
        .await
        .unwrap();
    assert!(put.next_sequence_token().is_some());
    let rejected = put.rejected_log_events_info().unwrap();
    assert_eq!(rejected.too_old_log_event_end_index(), Some(1));
    assert_eq!(rejected.too_new_log_event_start_index(), None);
    let put = logs
        .put_log_events()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .log_events(event(now - 1_000, "kept 1"))
        .log_events(event(now, "kept 2"))
        .log_events(event(now + 3 * 3_600_000, "too new"))
        .send()
        .await
        .unwrap();
    let rejected = put.rejected_log_events_info().unwrap();
    assert_eq!(rejected.too_new_log_event_start_index(), Some(2));
    assert_eq!(rejected.too_old_log_event_end_index(), None);
    assert_eq!(rejected.expired_log_event_end_index(), None);

    let got = logs
        .get_log_events()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .start_from_head(true)
        .send()
        .await
        .unwrap();
    let messages: Vec<&str> = got.events().iter().map(|e| e.message().unwrap()).collect();
    assert_eq!(messages, ["kept 1", "kept 2"]);

    // Retention: stored events past it disappear from reads, and new ones are "expired".
    let three_days_ago = now - 3 * 86_400_000;
    logs.put_log_events()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .log_events(event(three_days_ago, "old but accepted"))
        .send()
        .await
        .unwrap();
    logs.put_retention_policy()
        .log_group_name(GROUP)
        .retention_in_days(1)
        .send()
        .await
        .unwrap();
    let got = logs
        .get_log_events()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .start_from_head(true)
        .send()
        .await
        .unwrap();
    assert_eq!(got.events().len(), 2, "the 3-day-old event has expired");
    let put = logs
        .put_log_events()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .log_events(event(three_days_ago, "expired"))
        .log_events(event(three_days_ago + 1, "expired too"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        put.rejected_log_events_info()
            .unwrap()
            .expired_log_event_end_index(),
        Some(1)
    );

    let err = logs
        .put_log_events()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .log_events(event(now, "second"))
        .log_events(event(now - 10, "first"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_exception());
    assert_eq!(
        err.message(),
        Some("Log events in a single PutLogEvents request must be in chronological order.")
    );

    let err = logs
        .put_log_events()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .set_log_events(Some((0..10_001).map(|i| event(now + i, "x")).collect()))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_exception(), "more than 10,000 events");

    let err = logs
        .put_log_events()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .log_events(event(now - 2 * 86_400_000 + 1, "a"))
        .log_events(event(now, "b"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_exception(), "spans more than 24 h");

    let err = logs
        .put_log_events()
        .log_group_name(GROUP)
        .log_stream_name("missing")
        .log_events(event(now, "x"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
    assert_eq!(err.message(), Some("The specified log stream does not exist."));
    let err = logs
        .put_log_events()
        .log_group_name("/missing")
        .log_stream_name(STREAM)
        .log_events(event(now, "x"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
    assert_eq!(err.message(), Some("The specified log group does not exist."));
}

#[tokio::test]
async fn get_log_events_pages_forward_and_backward_in_timestamp_order() {
    let (_local, logs) = client().await;
    group_and_stream(&logs).await;
    let base = now_ms() - 60_000;
    // Two puts whose timestamps interleave: reads come back in timestamp order.
    logs.put_log_events()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .set_log_events(Some(
            [0, 2, 4]
                .iter()
                .map(|i| event(base + i, &format!("e{i}")))
                .collect(),
        ))
        .send()
        .await
        .unwrap();
    logs.put_log_events()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .set_log_events(Some(
            [1, 3].iter().map(|i| event(base + i, &format!("e{i}"))).collect(),
        ))
        .send()
        .await
        .unwrap();

    let head = logs
        .get_log_events()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .start_from_head(true)
        .limit(2)
        .send()
        .await
        .unwrap();
    let messages: Vec<&str> = head.events().iter().map(|e| e.message().unwrap()).collect();
    assert_eq!(messages, ["e0", "e1"]);
    assert!(head.events()[0].ingestion_time().is_some());
    let mut token = head.next_forward_token().unwrap().to_owned();
    let mut seen = messages.iter().map(|m| (*m).to_owned()).collect::<Vec<_>>();
    loop {
        let page = logs
            .get_log_events()
            .log_group_name(GROUP)
            .log_stream_name(STREAM)
            .limit(2)
            .next_token(&token)
            .send()
            .await
            .unwrap();
        let next = page.next_forward_token().unwrap().to_owned();
        seen.extend(page.events().iter().map(|e| e.message().unwrap().to_owned()));
        // The end of the stream returns the token that was passed in.
        if next == token {
            assert!(page.events().is_empty());
            break;
        }
        token = next;
    }
    assert_eq!(seen, ["e0", "e1", "e2", "e3", "e4"]);

    // Without startFromHead, the latest events come first, and the backward token goes on.
    let tail = logs
        .get_log_events()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .limit(2)
        .send()
        .await
        .unwrap();
    let messages: Vec<&str> = tail.events().iter().map(|e| e.message().unwrap()).collect();
    assert_eq!(messages, ["e3", "e4"]);
    let before = logs
        .get_log_events()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .limit(2)
        .next_token(tail.next_backward_token().unwrap())
        .send()
        .await
        .unwrap();
    let messages: Vec<&str> = before.events().iter().map(|e| e.message().unwrap()).collect();
    assert_eq!(messages, ["e1", "e2"]);

    let window = logs
        .get_log_events()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .start_time(base + 1)
        .end_time(base + 3)
        .start_from_head(true)
        .send()
        .await
        .unwrap();
    let messages: Vec<&str> = window.events().iter().map(|e| e.message().unwrap()).collect();
    assert_eq!(messages, ["e1", "e2"], "endTime is exclusive");

    let err = logs
        .get_log_events()
        .log_group_name(GROUP)
        .log_stream_name("missing")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
    let err = logs
        .get_log_events()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .next_token("garbage")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_exception());
}

#[tokio::test]
async fn filter_log_events_matches_terms_phrases_and_json() {
    let (_local, logs) = client().await;
    group_and_stream(&logs).await;
    logs.create_log_stream()
        .log_group_name(GROUP)
        .log_stream_name("other")
        .send()
        .await
        .unwrap();
    let base = now_ms() - 60_000;
    logs.put_log_events()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .log_events(event(base, "START RequestId: 1"))
        .log_events(event(base + 10, "ERROR put failed for user 146456223"))
        .log_events(event(
            base + 20,
            r#"{"level":"error","latency":250,"user":"146456223"}"#,
        ))
        .send()
        .await
        .unwrap();
    logs.put_log_events()
        .log_group_name(GROUP)
        .log_stream_name("other")
        .log_events(event(base + 5, "ERROR timeout"))
        .log_events(event(base + 30, r#"{"level":"info","latency":12}"#))
        .send()
        .await
        .unwrap();

    let filter = |pattern: &str| {
        logs.filter_log_events()
            .log_group_name(GROUP)
            .filter_pattern(pattern)
    };
    let messages = |out: &aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsOutput| {
        out.events()
            .iter()
            .map(|e| e.message().unwrap().to_owned())
            .collect::<Vec<_>>()
    };

    let all = logs
        .filter_log_events()
        .log_group_name(GROUP)
        .send()
        .await
        .unwrap();
    assert_eq!(all.events().len(), 5);
    let streams: Vec<&str> = all
        .events()
        .iter()
        .map(|e| e.log_stream_name().unwrap())
        .collect();
    assert_eq!(
        streams,
        [STREAM, "other", STREAM, STREAM, "other"],
        "timestamp order across streams"
    );
    assert!(all.events().iter().all(|e| e.event_id().is_some()));
    assert_eq!(all.searched_log_streams().len(), 2);

    let errors = filter("ERROR").send().await.unwrap();
    assert_eq!(
        messages(&errors),
        ["ERROR timeout", "ERROR put failed for user 146456223"]
    );
    let phrase = filter("\"put failed\"").send().await.unwrap();
    assert_eq!(messages(&phrase).len(), 1);
    let optional = filter("?timeout ?START").send().await.unwrap();
    assert_eq!(messages(&optional).len(), 2);
    let excluded = filter("ERROR -timeout").send().await.unwrap();
    assert_eq!(messages(&excluded).len(), 1);
    let json = filter(r#"{ $.level = "error" && $.latency > 100 }"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        messages(&json),
        [r#"{"level":"error","latency":250,"user":"146456223"}"#]
    );

    let in_stream = filter("ERROR").log_stream_names("other").send().await.unwrap();
    assert_eq!(messages(&in_stream), ["ERROR timeout"]);
    let in_time = logs
        .filter_log_events()
        .log_group_name(GROUP)
        .start_time(base + 5)
        .end_time(base + 20)
        .send()
        .await
        .unwrap();
    assert_eq!(in_time.events().len(), 3, "both bounds inclusive");

    let first = logs
        .filter_log_events()
        .log_group_name(GROUP)
        .limit(3)
        .send()
        .await
        .unwrap();
    assert_eq!(first.events().len(), 3);
    let second = logs
        .filter_log_events()
        .log_group_name(GROUP)
        .limit(3)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.events().len(), 2);
    assert_eq!(second.next_token(), None);

    let err = filter("{ $.level = ")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_exception());
    let err = logs
        .filter_log_events()
        .log_group_name("/missing")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
}

#[tokio::test]
async fn tags_by_arn_and_by_name() {
    let (_local, logs) = client().await;
    logs.create_log_group()
        .log_group_name(GROUP)
        .tags("stack", "demo")
        .send()
        .await
        .unwrap();
    let arn = format!("arn:aws:logs:us-east-1:000000000000:log-group:{GROUP}");
    logs.tag_resource()
        .resource_arn(&arn)
        .tags("team", "data")
        .send()
        .await
        .unwrap();
    let tags = logs
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let tags = tags.tags().unwrap();
    assert_eq!(tags.len(), 2);
    assert_eq!(tags.get("stack").map(String::as_str), Some("demo"));
    assert_eq!(tags.get("team").map(String::as_str), Some("data"));

    logs.untag_resource()
        .resource_arn(&arn)
        .tag_keys("stack")
        .send()
        .await
        .unwrap();
    #[allow(deprecated)]
    let by_name = logs
        .list_tags_log_group()
        .log_group_name(GROUP)
        .send()
        .await
        .unwrap();
    assert_eq!(by_name.tags().unwrap().len(), 1);

    #[allow(deprecated)]
    {
        logs.tag_log_group()
            .log_group_name(GROUP)
            .tags("env", "local")
            .send()
            .await
            .unwrap();
        logs.untag_log_group()
            .log_group_name(GROUP)
            .tags("team")
            .send()
            .await
            .unwrap();
        let by_name = logs
            .list_tags_log_group()
            .log_group_name(GROUP)
            .send()
            .await
            .unwrap();
        let keys: Vec<&String> = by_name.tags().unwrap().keys().collect();
        assert_eq!(keys, ["env"]);
        let err = logs
            .list_tags_log_group()
            .log_group_name("/missing")
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_resource_not_found_exception());
    }

    let mut too_many = logs.tag_resource().resource_arn(&arn);
    for i in 0..50 {
        too_many = too_many.tags(format!("k{i}"), "v");
    }
    let err = too_many.send().await.unwrap_err().into_service_error();
    assert!(err.is_too_many_tags_exception());

    let err = logs
        .list_tags_for_resource()
        .resource_arn("arn:aws:logs:us-east-1:000000000000:log-group:/missing")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception());
    let err = logs
        .tag_resource()
        .resource_arn("not-an-arn")
        .tags("k", "v")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_exception());
    let err = logs
        .tag_resource()
        .resource_arn(&arn)
        .tags("aws:reserved", "v")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_exception());
}

#[tokio::test]
async fn unknown_operations_are_refused() {
    let (_local, logs) = client().await;
    let err = logs
        .describe_destinations()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("UnknownOperationException"));
}

/// DescribeLogGroups reports `deletionProtectionEnabled` (false unless CreateLogGroup set it),
/// as AWS's current API does: the SDK's `LogGroup` has the field.
#[tokio::test]
async fn log_groups_report_deletion_protection() {
    let (local, logs) = client().await;
    logs.create_log_group()
        .log_group_name("/plain")
        .send()
        .await
        .unwrap();
    logs.create_log_group()
        .log_group_name("/protected")
        .deletion_protection_enabled(true)
        .send()
        .await
        .unwrap();
    let groups = logs.describe_log_groups().send().await.unwrap();
    let protection = |name: &str| {
        groups
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(name))
            .and_then(|g| g.deletion_protection_enabled())
    };
    assert_eq!(protection("/plain"), Some(false));
    assert_eq!(protection("/protected"), Some(true));
    local.shutdown().await;
}
