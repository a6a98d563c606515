//! GetRecommendations through the wire, on the local runtime: `cargo bench -p
//! personalize-stack-local --bench recommendations`. Prints figures; asserts nothing.
//!
//! A seeded synthetic history of 100,000 interactions (`personalize_stack_recommender::
//! synthetic`) is imported from a CSV, a User-Personalization solution version trained on it
//! and deployed as a campaign; then GetRecommendations is called through the official SDK
//! client for known users, one after another, and timed end to end (target p99 < 5 ms), with
//! a PutEvents for the same user before every tenth call so the model's online catch-up is
//! part of the figures.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support as common;

use aws_sdk_personalize::types::DataSource;
use personalize_stack_local::{Config, Profile};
use personalize_stack_recommender::synthetic::{Spec, generate};
use std::time::Instant;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let data = generate(&Spec {
        users: 5_000,
        items: 5_000,
        topics: 50,
        interactions: 100_000,
        seed: 2018,
    });
    let dir = std::env::temp_dir().join(format!("personalize-stack-recs-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("interactions.csv");
    let mut text = String::from("USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n");
    for i in &data {
        text.push_str(&format!("{},{},{},click\n", i.user_id, i.item_id, i.timestamp));
    }
    std::fs::write(&csv, text).unwrap();

    let local = personalize_stack_local::start(Config {
        port: 0,
        profile: Profile::instant(),
        data_dir: Some(dir.join("data")),
        ..Config::default()
    })
    .await
    .unwrap();
    let config = common::sdk(&local, common::ACCOUNT);
    let p = aws_sdk_personalize::Client::new(&config);
    let schema = p
        .create_schema()
        .name("interactions")
        .schema(r#"{"type":"record","name":"Interactions","namespace":"com.amazonaws.personalize.schema","fields":[{"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},{"name":"TIMESTAMP","type":"long"},{"name":"EVENT_TYPE","type":"string"}],"version":"1.0"}"#)
        .send()
        .await
        .unwrap();
    let group = p.create_dataset_group().name("bench").send().await.unwrap();
    let group = group.dataset_group_arn().unwrap().to_owned();
    let dataset = p
        .create_dataset()
        .name("interactions")
        .dataset_group_arn(&group)
        .dataset_type("Interactions")
        .schema_arn(schema.schema_arn().unwrap())
        .send()
        .await
        .unwrap();
    let started = Instant::now();
    p.create_dataset_import_job()
        .job_name("history")
        .dataset_arn(dataset.dataset_arn().unwrap())
        .data_source(
            DataSource::builder()
                .data_location(csv.display().to_string())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let import_s = started.elapsed().as_secs_f64();
    let solution = p
        .create_solution()
        .name("bench")
        .dataset_group_arn(&group)
        .recipe_arn("arn:aws:personalize:::recipe/aws-user-personalization")
        .send()
        .await
        .unwrap();
    let started = Instant::now();
    let version = p
        .create_solution_version()
        .solution_arn(solution.solution_arn().unwrap())
        .send()
        .await
        .unwrap();
    let train_s = started.elapsed().as_secs_f64();
    let campaign = p
        .create_campaign()
        .name("bench")
        .solution_version_arn(version.solution_version_arn().unwrap())
        .send()
        .await
        .unwrap();
    let campaign = campaign.campaign_arn().unwrap().to_owned();
    let tracking_id = p
        .create_event_tracker()
        .name("bench")
        .dataset_group_arn(&group)
        .send()
        .await
        .unwrap()
        .tracking_id()
        .unwrap()
        .to_owned();

    let runtime = aws_sdk_personalizeruntime::Client::new(&config);
    let events = aws_sdk_personalizeevents::Client::new(&config);
    let started = Instant::now();
    runtime
        .get_recommendations()
        .campaign_arn(&campaign)
        .user_id("user-1")
        .send()
        .await
        .unwrap();
    let first_ms = started.elapsed().as_secs_f64() * 1000.0;
    println!(
        "{} interactions: import {import_s:.2} s, CreateSolutionVersion {train_s:.2} s, first GetRecommendations (builds the model) {first_ms:.0} ms",
        data.len()
    );

    let mut latencies = Vec::new();
    for n in 0..3_000usize {
        let user = format!("user-{}", (n * 7919) % 5_000);
        if n % 10 == 0 {
            events
                .put_events()
                .tracking_id(&tracking_id)
                .user_id(&user)
                .session_id(format!("s-{n}"))
                .event_list(
                    aws_sdk_personalizeevents::types::Event::builder()
                        .event_type("click")
                        .item_id(format!("item-{}", n % 5_000))
                        .sent_at(aws_sdk_personalizeevents::primitives::DateTime::from_secs(
                            1_700_000_000 + n as i64,
                        ))
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap();
        }
        let started = Instant::now();
        let out = runtime
            .get_recommendations()
            .campaign_arn(&campaign)
            .user_id(&user)
            .num_results(25)
            .send()
            .await
            .unwrap();
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(out.item_list().len(), 25);
    }
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    println!(
        "GetRecommendations (25 items, SDK client → HTTP → campaign, 3,000 calls, a PutEvents before every 10th): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (target p99 < 5 ms)",
        at(0.5),
        at(0.99),
        latencies[latencies.len() - 1]
    );
    local.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
