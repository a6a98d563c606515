//! The provider connects to the local runtime through the real SDK clients.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support::provider as common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_asks_sts_for_the_account() {
    let running = common::start().await;
    let stack = common::stack(
        "stack: s\nregion: us-east-1\nresources:\n  stream: { kinesis_stream: { name: s1 } }\n",
    );
    let aws = common::provider(&running, &stack).await;
    assert_eq!(aws.account, common::ACCOUNT);
    assert_eq!(aws.calls(), vec!["GetCallerIdentity".to_owned()]);
}
