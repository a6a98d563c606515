//! Next-item evaluation with a temporal split, as session-based recommendation papers do it:
//! train on the earlier interactions, then walk the later ones in time order and, at every
//! position of a session after its first, ask for 20 items before revealing the next one.

use crate::{Interaction, Model, Params, Recipe, Scored};
use std::collections::HashMap;

/// The methods compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The most popular items, the same for everyone.
    Popularity,
    /// Items that co-occur with the last item (item kNN, cosine over sessions).
    ItemKnn,
    /// V-SKNN over the user's recent items, updated with every revealed interaction.
    VSknn,
}

impl Method {
    /// Every method.
    pub const ALL: [Method; 3] = [Method::Popularity, Method::ItemKnn, Method::VSknn];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Method::Popularity => "popularity",
            Method::ItemKnn => "item-kNN",
            Method::VSknn => "V-SKNN",
        }
    }
}

/// Hit rate and mean reciprocal rank at a cut-off, over a number of predictions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    /// Share of predictions whose target was in the list.
    pub hit_rate: f64,
    /// Mean of 1/rank of the target (0 when missed).
    pub mrr: f64,
    /// How many predictions were made.
    pub predictions: usize,
}

/// Splits `interactions` (time-ordered) so the last `test_share` of them are the test.
pub fn split(interactions: &[Interaction], test_share: f64) -> (Vec<Interaction>, Vec<Interaction>) {
    let cut = ((interactions.len() as f64) * (1.0 - test_share.clamp(0.0, 1.0))) as usize;
    (interactions[..cut].to_vec(), interactions[cut..].to_vec())
}

/// Evaluates `method` at cut-off `k`: trained on `train`, predicting each next item of `test`
/// that continues a session (same user within `Params::session_gap_s`) and is in the catalog.
pub fn evaluate(method: Method, train: &[Interaction], test: &[Interaction], k: usize) -> Scores {
    let recipe = match method {
        Method::Popularity => Recipe::PopularityCount,
        Method::ItemKnn => Recipe::Sims,
        Method::VSknn => Recipe::UserPersonalization,
    };
    let gap = Params::default().session_gap_s;
    let mut model = Model::train(recipe, train.to_vec());
    let mut last: HashMap<&str, (i64, &str)> = HashMap::new();
    let (mut predictions, mut hits, mut reciprocal) = (0usize, 0usize, 0.0f64);
    for event in test {
        let previous = last.get(event.user_id.as_str()).copied();
        if let Some((when, last_item)) = previous
            && event.timestamp - when <= gap
            && model.knows_item(&event.item_id)
        {
            let list: Vec<Scored> = match method {
                Method::Popularity | Method::VSknn => model.recommend(&event.user_id, k),
                Method::ItemKnn => model.similar_items(last_item, k),
            };
            predictions += 1;
            if let Some(rank) = list.iter().position(|s| s.item_id == event.item_id) {
                hits += 1;
                reciprocal += 1.0 / (rank as f64 + 1.0);
            }
        }
        model.record(&event.user_id, &event.item_id, event.timestamp);
        last.insert(&event.user_id, (event.timestamp, &event.item_id));
    }
    let n = predictions.max(1) as f64;
    Scores {
        hit_rate: hits as f64 / n,
        mrr: reciprocal / n,
        predictions,
    }
}
