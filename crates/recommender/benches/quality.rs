//! Recommendation quality and speed, measured (`cargo bench -p personalize-stack-recommender
//! --bench quality`): on a seeded synthetic session dataset split by time, HR@20 and MRR@20 of
//! popularity, item-kNN and V-SKNN predicting each next item; then `recommend` latency on a
//! model trained with 100,000 interactions. Prints figures; asserts nothing.
#![allow(missing_docs, clippy::unwrap_used)]

use personalize_stack_recommender::evaluate::{Method, evaluate, split};
use personalize_stack_recommender::synthetic::{Spec, generate};
use personalize_stack_recommender::{Model, Recipe};
use std::time::Instant;

fn main() {
    let spec = Spec {
        users: 5_000,
        items: 5_000,
        topics: 50,
        interactions: 100_000,
        seed: 2018,
    };
    let data = generate(&spec);
    let users: std::collections::HashSet<&str> = data.iter().map(|i| i.user_id.as_str()).collect();
    let items: std::collections::HashSet<&str> = data.iter().map(|i| i.item_id.as_str()).collect();
    println!(
        "dataset: {} interactions, {} users, {} items, {} topics (seed {})",
        data.len(),
        users.len(),
        items.len(),
        spec.topics,
        spec.seed
    );
    let (train, test) = split(&data, 0.2);
    println!("split by time: {} train, {} test", train.len(), test.len());
    println!(
        "{:<12} {:>8} {:>8} {:>12} {:>10}",
        "method", "HR@20", "MRR@20", "predictions", "time"
    );
    for method in Method::ALL {
        let started = Instant::now();
        let s = evaluate(method, &train, &test, 20);
        println!(
            "{:<12} {:>8.4} {:>8.4} {:>12} {:>9.2}s",
            method.name(),
            s.hit_rate,
            s.mrr,
            s.predictions,
            started.elapsed().as_secs_f64()
        );
    }

    let started = Instant::now();
    let model = Model::train(Recipe::UserPersonalization, data.clone());
    println!(
        "training on {} interactions: {:.1} ms",
        data.len(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    let users: Vec<&str> = {
        let mut u: Vec<&str> = users.into_iter().collect();
        u.sort_unstable();
        u
    };
    let mut latencies = Vec::with_capacity(10_000);
    let mut checksum = 0usize;
    for n in 0..10_000usize {
        let user = users[(n * 7919) % users.len()];
        let started = Instant::now();
        let list = model.recommend(user, 25);
        latencies.push(started.elapsed().as_secs_f64() * 1e6);
        checksum += list.len();
    }
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    println!(
        "recommend (25 items) over 10,000 requests on 100,000 interactions: p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs ({checksum} items)",
        at(0.5),
        at(0.99),
        latencies[latencies.len() - 1]
    );
}
