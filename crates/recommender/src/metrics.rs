//! Personalize's offline metrics (`GetSolutionMetrics`), computed the way its developer guide
//! describes them ("Evaluating a solution version with metrics"):
//!
//! - 90 % of the users, with all their interactions, are the training set; the other 10 %
//!   are the test set (here: the users whose ids hash lowest, so the split is the same on
//!   every run);
//! - the model trained on the training set is given the oldest 90 % of each test user's
//!   interactions as input, and its top 25 are compared with the newest 10 %;
//! - `precision_at_K`: relevant items among the top K, divided by K;
//!   `normalized_discounted_cumulative_gain_at_K`: relevant items weighted by 1/log2(1 +
//!   position), divided by the best achievable; `mean_reciprocal_rank_at_25`: 1 / position of
//!   the first relevant item; each averaged over the test users; `coverage`: the share of the
//!   catalog (every item interacted with) that appears in some test user's top 25.
//!
//! SIMS answers "items like this one", so its query is the user's last input item.

use crate::{Interaction, Model, Recipe};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Share of users held out for testing.
const TEST_USER_SHARE: f64 = 0.1;
/// Share of a test user's interactions, the newest, that recommendations are scored against.
const HELD_OUT_SHARE: f64 = 0.1;
/// The longest list scored.
const DEPTH: usize = 25;

/// The metrics of a model trained with `recipe` on `interactions`, by Personalize's names.
/// Every value is 0 when no user can be tested (fewer than two users, or no test user with
/// two interactions).
pub fn solution_metrics(recipe: Recipe, interactions: &[Interaction]) -> BTreeMap<&'static str, f64> {
    let mut by_user: HashMap<&str, Vec<&Interaction>> = HashMap::new();
    for i in interactions {
        by_user.entry(i.user_id.as_str()).or_default().push(i);
    }
    let mut users: Vec<&str> = by_user.keys().copied().collect();
    users.sort_by_key(|u| (fnv1a(u), *u));
    let test_count = if users.len() < 2 {
        0
    } else {
        ((users.len() as f64 * TEST_USER_SHARE).ceil() as usize).min(users.len() - 1)
    };
    let test_users: HashSet<&str> = users[..test_count].iter().copied().collect();
    let training: Vec<Interaction> = interactions
        .iter()
        .filter(|i| !test_users.contains(i.user_id.as_str()))
        .cloned()
        .collect();
    let mut model = Model::train(recipe, training);

    // Every test user's input goes in before any is asked, as one batch of new events would.
    let mut cases: Vec<(&str, &str, HashSet<&str>)> = Vec::new();
    for user in &users[..test_count] {
        let mut own = by_user.get(user).cloned().unwrap_or_default();
        if own.len() < 2 {
            continue;
        }
        own.sort_by_key(|i| i.timestamp);
        let held_out = ((own.len() as f64 * HELD_OUT_SHARE).ceil() as usize).clamp(1, own.len() - 1);
        let (input, newest) = own.split_at(own.len() - held_out);
        for i in input {
            model.record(&i.user_id, &i.item_id, i.timestamp);
        }
        let last_input = input.last().map_or("", |i| i.item_id.as_str());
        cases.push((
            user,
            last_input,
            newest.iter().map(|i| i.item_id.as_str()).collect(),
        ));
    }

    let mut sums = Sums::default();
    let mut recommended: HashSet<String> = HashSet::new();
    for (user, last_input, relevant) in &cases {
        let list: Vec<String> = match recipe {
            Recipe::Sims => model.similar_items(last_input, DEPTH),
            _ => model.recommend(user, DEPTH),
        }
        .into_iter()
        .map(|s| s.item_id)
        .collect();
        sums.add(&list, relevant);
        recommended.extend(list);
    }
    let catalog: HashSet<&str> = interactions.iter().map(|i| i.item_id.as_str()).collect();
    let coverage = if catalog.is_empty() {
        0.0
    } else {
        recommended.len() as f64 / catalog.len() as f64
    };
    sums.averages(cases.len(), coverage)
}

/// Running totals of the per-user scores.
#[derive(Default)]
struct Sums {
    precision: [f64; 3],
    ndcg: [f64; 3],
    reciprocal_rank: f64,
}

/// The cut-offs Personalize reports precision and NDCG at.
const CUTOFFS: [usize; 3] = [5, 10, 25];

impl Sums {
    fn add(&mut self, list: &[String], relevant: &HashSet<&str>) {
        let hits: Vec<bool> = list.iter().map(|i| relevant.contains(i.as_str())).collect();
        for (n, &k) in CUTOFFS.iter().enumerate() {
            self.precision[n] += precision_at(&hits, k);
            self.ndcg[n] += ndcg_at(&hits, relevant.len(), k);
        }
        if let Some(first) = hits.iter().take(DEPTH).position(|&h| h) {
            self.reciprocal_rank += 1.0 / (first as f64 + 1.0);
        }
    }

    fn averages(&self, users: usize, coverage: f64) -> BTreeMap<&'static str, f64> {
        let mean = |sum: f64| if users == 0 { 0.0 } else { sum / users as f64 };
        BTreeMap::from([
            ("coverage", coverage),
            ("mean_reciprocal_rank_at_25", mean(self.reciprocal_rank)),
            ("normalized_discounted_cumulative_gain_at_5", mean(self.ndcg[0])),
            ("normalized_discounted_cumulative_gain_at_10", mean(self.ndcg[1])),
            ("normalized_discounted_cumulative_gain_at_25", mean(self.ndcg[2])),
            ("precision_at_5", mean(self.precision[0])),
            ("precision_at_10", mean(self.precision[1])),
            ("precision_at_25", mean(self.precision[2])),
        ])
    }
}

/// Relevant items among the first `k` of a list (`hits[i]`: whether item `i` is relevant),
/// divided by `k`.
fn precision_at(hits: &[bool], k: usize) -> f64 {
    hits.iter().take(k).filter(|&&h| h).count() as f64 / k as f64
}

/// Discounted gain of the first `k` over the best gain `relevant` items could give.
fn ndcg_at(hits: &[bool], relevant: usize, k: usize) -> f64 {
    let gain = |position: usize| 1.0 / ((position + 2) as f64).log2();
    let dcg: f64 = hits
        .iter()
        .take(k)
        .enumerate()
        .filter(|(_, h)| **h)
        .map(|(p, _)| gain(p))
        .sum();
    let ideal: f64 = (0..relevant.min(k)).map(gain).sum();
    if ideal == 0.0 { 0.0 } else { dcg / ideal }
}

/// FNV-1a: a hash that is the same in every process (std's is seeded per process).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::{Spec, generate};

    #[test]
    fn scores_of_one_list_follow_the_definitions() {
        // Relevant at positions 2 and 4 of 5; three relevant items in all.
        let hits = [false, true, false, true, false];
        assert!((precision_at(&hits, 5) - 0.4).abs() < 1e-12);
        assert!((precision_at(&hits, 10) - 0.2).abs() < 1e-12);
        let dcg = 1.0 / 3f64.log2() + 1.0 / 5f64.log2();
        let ideal = 1.0 + 1.0 / 3f64.log2() + 1.0 / 4f64.log2();
        assert!((ndcg_at(&hits, 3, 5) - dcg / ideal).abs() < 1e-12);
        assert_eq!(ndcg_at(&[true], 1, 5), 1.0);
        assert_eq!(ndcg_at(&[false], 0, 5), 0.0);

        let mut sums = Sums::default();
        let list: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        sums.add(&list, &HashSet::from(["b", "d", "z"]));
        let m = sums.averages(1, 0.5);
        assert!((m["mean_reciprocal_rank_at_25"] - 0.5).abs() < 1e-12);
        assert!((m["precision_at_5"] - 0.4).abs() < 1e-12);
        assert_eq!(m["coverage"], 0.5);
        assert_eq!(m.len(), 8);
    }

    #[test]
    fn session_knn_scores_above_popularity_on_held_out_users_and_runs_repeat() {
        let data = generate(&Spec {
            users: 600,
            items: 500,
            topics: 20,
            interactions: 20_000,
            seed: 42,
        });
        let personal = solution_metrics(Recipe::UserPersonalization, &data);
        let popular = solution_metrics(Recipe::PopularityCount, &data);
        for m in [&personal, &popular] {
            assert!(m.values().all(|v| (0.0..=1.0).contains(v)), "{m:?}");
        }
        assert!(
            personal["normalized_discounted_cumulative_gain_at_25"]
                > 2.0 * popular["normalized_discounted_cumulative_gain_at_25"],
            "{personal:?} vs {popular:?}"
        );
        assert!(
            personal["coverage"] > popular["coverage"],
            "{personal:?} vs {popular:?}"
        );
        assert_eq!(personal, solution_metrics(Recipe::UserPersonalization, &data));
    }

    #[test]
    fn too_few_users_give_zeros() {
        let one = [Interaction {
            user_id: "u".into(),
            item_id: "i".into(),
            timestamp: 1,
        }];
        let m = solution_metrics(Recipe::UserPersonalization, &one);
        assert!(m.values().all(|v| *v == 0.0), "{m:?}");
        assert_eq!(m.len(), 8);
    }
}
