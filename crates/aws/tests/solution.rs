//! `personalize_solution` against the local runtime: `destroy` while a solution version is
//! still training (an `up` stopped by its training timeout, or by Ctrl-C, during hours of
//! training on AWS) stops the training and deletes the solution; Personalize refuses to
//! delete a solution while one of its versions trains.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support::provider as common;

use personalize_stack_core::engine::{self, Cancel};
use personalize_stack_local::{Faults, Profile};
use std::sync::Arc;
use std::time::Duration;

const STACK: &str = r#"
stack: training
region: us-east-1
resources:
  import_role:
    iam_role:
      name: ${stack}-import
      assumed_by: personalize.amazonaws.com
      policies:
        - actions: [s3:GetObject, s3:ListBucket]
          resources: "*"
  dataset_group:
    personalize_dataset_group:
      name: ${stack}
      interactions_schema: default
      interactions_import:
        source: ./examples/recommendations/interactions.csv
        role: ${import_role.arn}
  solution:
    personalize_solution:
      name: ${stack}-recommendations
      dataset_group: ${dataset_group.arn}
      recipe: aws-user-personalization
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_stops_a_version_still_training_and_deletes_the_solution() {
    // Training takes ten minutes; everything else is instant.
    let profile = Profile {
        solution_version_ready_ms: 600_000,
        ..Profile::instant()
    };
    let running = common::start_with(profile, Faults::default()).await;
    let stack = common::stack(STACK);
    let settings = personalize_stack_aws::Settings {
        training_timeout: Duration::from_millis(300),
        ..common::settings()
    };
    let aws = common::provider_with(&running, &stack, settings).await;

    // `up` gives up waiting for the training; the version goes on training.
    let report = engine::apply(
        Arc::clone(&aws),
        Arc::clone(&stack),
        8,
        Arc::new(common::Print),
        Cancel::never(),
    )
    .await
    .unwrap();
    assert!(!report.ok(), "{report:#?}");
    let p = aws_sdk_personalize::Client::new(&common::sdk(&running));
    let solution_arn = "arn:aws:personalize:us-east-1:000000000000:solution/training-recommendations";
    let versions = p
        .list_solution_versions()
        .solution_arn(solution_arn)
        .send()
        .await
        .unwrap();
    let version = versions.solution_versions()[0]
        .solution_version_arn()
        .unwrap()
        .to_owned();
    let status = versions.solution_versions()[0].status().unwrap().to_owned();
    assert!(status.starts_with("CREATE "), "{status}");

    // Personalize refuses to delete it now.
    let err = p
        .delete_solution()
        .solution_arn(solution_arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_personalize::error::ProvideErrorMetadata::code(&err),
        Some("ResourceInUseException")
    );

    common::destroy(&aws, &stack).await;
    let left = p.list_solutions().send().await.unwrap();
    assert!(left.solutions().is_empty(), "{left:?}");
    assert!(
        p.describe_solution_version()
            .solution_version_arn(&version)
            .send()
            .await
            .is_err(),
        "the version goes with its solution"
    );
    let calls = aws.calls();
    assert!(
        calls.iter().any(|c| c == "StopSolutionVersionCreation"),
        "{calls:?}"
    );
}
