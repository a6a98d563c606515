//! The local runtime's recommender: what stands behind a local Amazon Personalize campaign.
//!
//! A [`Model`] is trained from interactions (a solution version), answers for users
//! ([`Model::recommend`], [`Model::rank`]) and items ([`Model::similar_items`]), and learns
//! from each event recorded after training ([`Model::record`]) without retraining, as
//! Personalize's User-Personalization does.
//!
//! The user model is V-SKNN, the vector-multiplication session-based kNN of Ludewig &
//! Jannach ("Evaluation of session-based recommendation algorithms", UMUAI 28, 2018): each
//! user's history is cut into sessions at pauses; a user's recent items, weighted by recency
//! and rarity, find the most similar sessions of other users, which vote for their items.
//! It needs no training beyond indexing, is deterministic, and is strong on session data.
//! Popularity-Count ranks by training counts; SIMS by co-occurrence in sessions (cosine).
//!
//! Everything is deterministic: ties are broken by popularity, then item id.

pub mod evaluate;
pub mod metrics;
mod model;
pub mod synthetic;

pub use model::Model;

/// One user-item interaction; `timestamp` is epoch seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interaction {
    /// The user (or, for anonymous events, the session).
    pub user_id: String,
    /// The item.
    pub item_id: String,
    /// When, in epoch seconds.
    pub timestamp: i64,
}

/// The Personalize recipe a model imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipe {
    /// `aws-user-personalization` (and `-v2`): V-SKNN with online updates.
    UserPersonalization,
    /// `aws-personalized-ranking` (and `-v2`): V-SKNN scores of a given item list.
    PersonalizedRanking,
    /// `aws-popularity-count`: the most interacted-with items.
    PopularityCount,
    /// `aws-sims`: items that occur in the same sessions.
    Sims,
}

impl Recipe {
    /// The recipe an ARN `arn:aws:personalize:::recipe/<name>` names, if one of these.
    pub fn from_arn(arn: &str) -> Option<Recipe> {
        let name = arn.strip_prefix("arn:aws:personalize:::recipe/")?;
        match name {
            "aws-user-personalization" | "aws-user-personalization-v2" => Some(Recipe::UserPersonalization),
            "aws-personalized-ranking" | "aws-personalized-ranking-v2" => Some(Recipe::PersonalizedRanking),
            "aws-popularity-count" => Some(Recipe::PopularityCount),
            "aws-sims" => Some(Recipe::Sims),
            _ => None,
        }
    }

    /// Personalize's `recipeType`.
    pub fn recipe_type(self) -> &'static str {
        match self {
            Recipe::UserPersonalization | Recipe::PopularityCount => "USER_PERSONALIZATION",
            Recipe::PersonalizedRanking => "PERSONALIZED_RANKING",
            Recipe::Sims => "RELATED_ITEMS",
        }
    }
}

/// A recommended item and its score (higher is better; a list's scores sum to at most 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// The item.
    pub item_id: String,
    /// Its score.
    pub score: f64,
}

/// Tunables of the session kNN.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// A pause longer than this (seconds) starts a new session.
    pub session_gap_s: i64,
    /// How many of a user's most recent interactions make the query.
    pub query_len: usize,
    /// How many of the most recent sessions holding an item are considered per query item.
    pub sample: usize,
    /// How many of the most similar sessions vote.
    pub neighbours: usize,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            session_gap_s: 30 * 60,
            query_len: 10,
            sample: 500,
            neighbours: 100,
        }
    }
}

#[cfg(test)]
mod tests;
