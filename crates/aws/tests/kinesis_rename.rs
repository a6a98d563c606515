//! A stream renamed in the stack is replaced, not leaked.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support::provider as common;

use personalize_stack_core::engine::Action;

const STACK: &str = "stack: rename\nregion: us-east-1\nresources:\n  stream: { kinesis_stream: { name: first-name, shards: 1 } }\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_stream_is_replaced_and_the_old_one_deleted() {
    let running = common::start().await;
    let stack = common::stack(STACK);
    let aws = common::provider(&running, &stack).await;
    common::up(&aws, &stack).await;

    let renamed = common::stack(&STACK.replace("first-name", "second-name"));
    let aws = common::provider(&running, &renamed).await;
    let plan = common::plan(&aws, &renamed).await;
    match &plan.steps[0].action {
        Action::Replace { reason, .. } => assert!(reason.contains("name"), "{reason}"),
        other => panic!("expected a replacement, got {other:?}"),
    }
    common::up(&aws, &renamed).await;
    let kinesis = aws_sdk_kinesis::Client::new(&common::sdk(&running));
    let names = kinesis
        .list_streams()
        .send()
        .await
        .unwrap()
        .stream_names()
        .to_vec();
    assert_eq!(names, vec!["second-name".to_owned()], "the old stream is gone");
    assert!(!common::plan(&aws, &renamed).await.has_changes());
    common::destroy(&aws, &renamed).await;
}
