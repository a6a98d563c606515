//! A seeded synthetic session dataset for tests and benchmarks: no public dataset ships on
//! this machine, so quality is measured on data whose structure is known.
//!
//! Items belong to latent topics and are Zipf-popular within them. Each user prefers one or
//! two topics. A session stays mostly in one topic, and often moves from an item to its
//! "successor" (a fixed item of the same topic): the sequential signal a session kNN can
//! use and popularity cannot. Some interactions are globally popular noise.

use crate::Interaction;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Number of users.
    pub users: usize,
    /// Number of items.
    pub items: usize,
    /// Number of latent topics.
    pub topics: usize,
    /// Roughly how many interactions (whole sessions are generated).
    pub interactions: usize,
    /// The random seed.
    pub seed: u64,
}

/// Cumulative Zipf weights (exponent 1) for `n` ranks, for sampling by binary search.
fn zipf_cumulative(n: usize) -> Vec<f64> {
    let mut total = 0.0;
    (0..n)
        .map(|rank| {
            total += 1.0 / (rank as f64 + 1.0);
            total
        })
        .collect()
}

/// A rank drawn from cumulative weights.
fn draw(rng: &mut StdRng, cumulative: &[f64]) -> usize {
    let total = cumulative.last().copied().unwrap_or(0.0);
    let x = rng.random::<f64>() * total;
    cumulative
        .partition_point(|&c| c < x)
        .min(cumulative.len().saturating_sub(1))
}

/// Generates interactions in time order (epoch seconds from 2023-01-01).
pub fn generate(spec: &Spec) -> Vec<Interaction> {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let topics = spec.topics.max(1);
    let items = spec.items.max(topics);
    // Topic t holds items t, t + topics, …; within a topic, rank order is popularity.
    let members: Vec<Vec<usize>> = (0..topics)
        .map(|t| (t..items).step_by(topics).collect())
        .collect();
    let cumulative: Vec<Vec<f64>> = members.iter().map(|m| zipf_cumulative(m.len())).collect();
    let global = zipf_cumulative(items);
    // Each item's successor: another item of its topic, fixed.
    let successor: Vec<usize> = (0..items)
        .map(|i| {
            let m = &members[i % topics];
            m[rng.random_range(0..m.len())]
        })
        .collect();
    let preferences: Vec<Vec<usize>> = (0..spec.users)
        .map(|_| {
            let first = rng.random_range(0..topics);
            if rng.random_bool(0.5) {
                vec![first, rng.random_range(0..topics)]
            } else {
                vec![first]
            }
        })
        .collect();
    let mut out = Vec::with_capacity(spec.interactions + 16);
    let mut clock: i64 = 1_672_531_200;
    while out.len() < spec.interactions && spec.users > 0 {
        let user = rng.random_range(0..spec.users);
        let prefs = &preferences[user];
        let topic = if rng.random_bool(0.85) {
            prefs[rng.random_range(0..prefs.len())]
        } else {
            rng.random_range(0..topics)
        };
        let length = 2 + (0..13).take_while(|_| rng.random_bool(0.75)).count();
        clock += rng.random_range(30..300);
        let mut t = clock;
        let mut item = members[topic][draw(&mut rng, &cumulative[topic])];
        for _ in 0..length {
            out.push(Interaction {
                user_id: format!("user-{user}"),
                item_id: format!("item-{item}"),
                timestamp: t,
            });
            t += rng.random_range(10..120);
            let roll = rng.random::<f64>();
            item = if roll < 0.5 {
                successor[item]
            } else if roll < 0.9 {
                members[topic][draw(&mut rng, &cumulative[topic])]
            } else {
                draw(&mut rng, &global)
            };
        }
    }
    out.sort_by_key(|i| i.timestamp);
    out
}
