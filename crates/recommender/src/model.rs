//! The trained model: interactions grouped into sessions, an item → sessions index, and the
//! three ways of scoring that the recipes use (session kNN, co-occurrence, popularity).

use crate::{Interaction, Params, Recipe, Scored};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

/// Items are numbered; a session is a run of one user's interactions without a long pause.
type ItemId = u32;
type SessionId = u32;

/// One session: its user and its distinct items in first-seen order.
#[derive(Debug, Clone)]
struct Session {
    user: u32,
    items: Vec<ItemId>,
    /// The same items as a set, once the session is long: keeps adding an item O(1), so one
    /// user with a huge session (say, a history imported with a constant timestamp) does not
    /// make training quadratic.
    index: Option<HashSet<ItemId>>,
}

/// From this many items on, a session keeps [`Session::index`].
const SESSION_INDEX_FROM: usize = 32;

impl Session {
    fn new(user: u32) -> Session {
        Session {
            user,
            items: Vec::new(),
            index: None,
        }
    }

    /// Adds `item` unless the session has it; whether it was added.
    fn insert(&mut self, item: ItemId) -> bool {
        let present = match &self.index {
            Some(set) => set.contains(&item),
            None => self.items.contains(&item),
        };
        if present {
            return false;
        }
        self.items.push(item);
        match &mut self.index {
            Some(set) => {
                set.insert(item);
            }
            None if self.items.len() >= SESSION_INDEX_FROM => {
                self.index = Some(self.items.iter().copied().collect());
            }
            None => {}
        }
        true
    }
}

/// What the model knows of one user.
#[derive(Debug, Clone, Default)]
struct User {
    /// The user's sessions, oldest first.
    sessions: Vec<SessionId>,
    /// When the user's last interaction happened.
    last_timestamp: Option<i64>,
    /// The user's most recent interactions, oldest first (at most `Params::query_len`).
    recent: Vec<ItemId>,
}

/// A trained recommender (see the crate docs).
#[derive(Debug, Clone)]
pub struct Model {
    recipe: Recipe,
    params: Params,
    /// Item names by number; numbers below `catalog` were seen in training.
    items: Vec<String>,
    item_numbers: HashMap<String, ItemId>,
    catalog: u32,
    /// Training interactions per catalog item.
    counts: Vec<u32>,
    /// Catalog items by popularity: most interactions first, ties by name.
    popular: Vec<ItemId>,
    /// Total training interactions.
    total_count: u64,
    sessions: Vec<Session>,
    /// For each item, the sessions holding it, oldest first.
    postings: Vec<Vec<SessionId>>,
    user_numbers: HashMap<String, u32>,
    users: Vec<User>,
    interactions: usize,
}

impl Model {
    /// Trains with the default [`Params`].
    pub fn train(recipe: Recipe, interactions: Vec<Interaction>) -> Model {
        Model::train_with(recipe, interactions, Params::default())
    }

    /// Trains on `interactions` (any order: they are sorted by time, ties kept in input
    /// order). The items seen here are the catalog: the only ones ever recommended.
    pub fn train_with(recipe: Recipe, mut interactions: Vec<Interaction>, params: Params) -> Model {
        interactions.sort_by_key(|i| i.timestamp);
        let mut model = Model {
            recipe,
            params,
            items: Vec::new(),
            item_numbers: HashMap::new(),
            catalog: 0,
            counts: Vec::new(),
            popular: Vec::new(),
            total_count: 0,
            sessions: Vec::new(),
            postings: Vec::new(),
            user_numbers: HashMap::new(),
            users: Vec::new(),
            interactions: 0,
        };
        for i in &interactions {
            let item = model.item_number(&i.item_id);
            if let Some(c) = model.counts.get_mut(item as usize) {
                *c += 1;
            } else {
                model.counts.push(1);
            }
            model.total_count += 1;
            model.append(&i.user_id, item, i.timestamp);
        }
        model.catalog = u32::try_from(model.items.len()).unwrap_or(u32::MAX);
        let mut popular: Vec<ItemId> = (0..model.catalog).collect();
        popular.sort_by(|&a, &b| {
            model.counts[b as usize]
                .cmp(&model.counts[a as usize])
                .then_with(|| model.items[a as usize].cmp(&model.items[b as usize]))
        });
        model.popular = popular;
        model
    }

    /// The recipe it imitates.
    pub fn recipe(&self) -> Recipe {
        self.recipe
    }

    /// Whether `item_id` was seen in training (and so can be recommended).
    pub fn knows_item(&self, item_id: &str) -> bool {
        self.item_numbers.get(item_id).is_some_and(|&n| n < self.catalog)
    }

    /// Whether the model has seen `user_id` interact, in training or since.
    pub fn knows_user(&self, user_id: &str) -> bool {
        self.user_numbers.contains_key(user_id)
    }

    /// Interactions seen: in training and recorded since.
    pub fn interaction_count(&self) -> usize {
        self.interactions
    }

    /// Records one event after training. User-Personalization and Personalized-Ranking
    /// models learn from it at once (the user's history and the session index); popularity
    /// and SIMS models, like Personalize's, change only with a new solution version. Items
    /// first seen here join the history but are never recommended.
    pub fn record(&mut self, user_id: &str, item_id: &str, timestamp: i64) {
        if matches!(self.recipe, Recipe::PopularityCount | Recipe::Sims) {
            return;
        }
        let item = self.item_number(item_id);
        self.append(user_id, item, timestamp);
    }

    /// The number of `name`, numbering it if new.
    fn item_number(&mut self, name: &str) -> ItemId {
        if let Some(&n) = self.item_numbers.get(name) {
            return n;
        }
        let n = u32::try_from(self.items.len()).unwrap_or(u32::MAX);
        self.items.push(name.to_owned());
        self.item_numbers.insert(name.to_owned(), n);
        self.postings.push(Vec::new());
        n
    }

    /// Adds one interaction to its user's current session (a new one after a pause longer
    /// than `session_gap_s`) and to the item's postings.
    fn append(&mut self, user_id: &str, item: ItemId, timestamp: i64) {
        self.interactions += 1;
        let next_user = u32::try_from(self.users.len()).unwrap_or(u32::MAX);
        let u = *self.user_numbers.entry(user_id.to_owned()).or_insert(next_user);
        if u == next_user {
            self.users.push(User::default());
        }
        let gap = self.params.session_gap_s;
        let user = &mut self.users[u as usize];
        let continues = user
            .last_timestamp
            .is_some_and(|last| timestamp.saturating_sub(last) <= gap)
            && !user.sessions.is_empty();
        let session = match (continues, user.sessions.last()) {
            (true, Some(&s)) => s,
            _ => {
                let s = u32::try_from(self.sessions.len()).unwrap_or(u32::MAX);
                self.sessions.push(Session::new(u));
                user.sessions.push(s);
                s
            }
        };
        user.last_timestamp = Some(user.last_timestamp.map_or(timestamp, |l| l.max(timestamp)));
        user.recent.push(item);
        let overflow = user.recent.len().saturating_sub(self.params.query_len);
        user.recent.drain(..overflow);
        if self.sessions[session as usize].insert(item) {
            self.postings[item as usize].push(session);
        }
    }

    /// The top `n` items for `user_id`: for User-Personalization, session kNN over the
    /// user's recent items without the ones just seen, then the most popular items; for a
    /// user the model has never seen, and for Popularity-Count, the most popular items.
    pub fn recommend(&self, user_id: &str, n: usize) -> Vec<Scored> {
        match (self.recipe, self.user_numbers.get(user_id)) {
            (Recipe::PopularityCount, _) | (_, None) => self.popular_items(n, &[]),
            (_, Some(&u)) => {
                let scores = self.knn_scores(u);
                let exclude: Vec<ItemId> = self.users[u as usize].recent.clone();
                self.ranked(scores, n, &exclude)
            }
        }
    }

    /// Items that occur in the same sessions as `item_id` (cosine over sessions), then the
    /// most popular items; for an item outside the catalog, the most popular items.
    pub fn similar_items(&self, item_id: &str, n: usize) -> Vec<Scored> {
        let Some(&item) = self.item_numbers.get(item_id) else {
            return self.popular_items(n, &[]);
        };
        let mut together: HashMap<ItemId, f64> = HashMap::new();
        for &s in &self.postings[item as usize] {
            for &other in &self.sessions[s as usize].items {
                if other != item {
                    *together.entry(other).or_default() += 1.0;
                }
            }
        }
        let own = self.postings[item as usize].len().max(1) as f64;
        for (other, count) in &mut together {
            let theirs = self.postings[*other as usize].len().max(1) as f64;
            *count /= (own * theirs).sqrt();
        }
        self.ranked(together, n, &[item])
    }

    /// Every item of `items` ordered for `user_id` (kNN score, then popularity, then input
    /// order); items outside the catalog last, scored 0.
    pub fn rank(&self, user_id: &str, items: &[String]) -> Vec<Scored> {
        let scores = self
            .user_numbers
            .get(user_id)
            .map(|&u| self.knn_scores(u))
            .unwrap_or_default();
        let total: f64 = items
            .iter()
            .filter_map(|i| self.catalog_number(i))
            .map(|i| scores.get(&i).copied().unwrap_or(0.0))
            .sum();
        let mut keyed: Vec<(usize, Option<ItemId>, f64)> = items
            .iter()
            .enumerate()
            .map(|(pos, name)| {
                let number = self.catalog_number(name);
                let score = number.and_then(|i| scores.get(&i)).copied().unwrap_or(0.0);
                (pos, number, score)
            })
            .collect();
        keyed.sort_by(|a, b| {
            let known = b.1.is_some().cmp(&a.1.is_some());
            known
                .then_with(|| b.2.partial_cmp(&a.2).unwrap_or(Ordering::Equal))
                .then_with(|| {
                    let count = |i: Option<ItemId>| i.map_or(0, |i| self.counts[i as usize]);
                    count(b.1).cmp(&count(a.1))
                })
                .then(a.0.cmp(&b.0))
        });
        keyed
            .into_iter()
            .map(|(pos, _, score)| Scored {
                item_id: items[pos].clone(),
                score: if total > 0.0 { score / total } else { 0.0 },
            })
            .collect()
    }

    /// The number of `name` if it is in the catalog.
    fn catalog_number(&self, name: &str) -> Option<ItemId> {
        self.item_numbers.get(name).copied().filter(|&n| n < self.catalog)
    }

    /// V-SKNN: the user's recent items, weighted by recency (linear decay) and rarity (IDF),
    /// meet the sessions holding them (the `sample` most recent per item); the `neighbours`
    /// most similar sessions of other users vote for their items with their similarity.
    fn knn_scores(&self, u: u32) -> HashMap<ItemId, f64> {
        let p = &self.params;
        let user = &self.users[u as usize];
        let sessions = self.sessions.len().max(1) as f64;
        let len = user.recent.len();
        let mut similarity: HashMap<SessionId, f64> = HashMap::new();
        let mut seen: Vec<ItemId> = Vec::with_capacity(len);
        // Most recent first, so a repeated item counts at its latest position.
        for (back, &item) in user.recent.iter().rev().enumerate() {
            if seen.contains(&item) {
                continue;
            }
            seen.push(item);
            let postings = &self.postings[item as usize];
            let weight = (len - back) as f64 / len as f64;
            let idf = (sessions / postings.len().max(1) as f64).ln().max(0.0) + 1.0;
            let start = postings.len().saturating_sub(p.sample);
            for &s in &postings[start..] {
                *similarity.entry(s).or_default() += weight * idf;
            }
        }
        let mut neighbours: Vec<(SessionId, f64)> = similarity
            .into_iter()
            .filter(|(s, _)| self.sessions[*s as usize].user != u)
            .collect();
        neighbours.sort_by(|a, b| {
            b.1.partial_cmp(&a.1)
                .unwrap_or(Ordering::Equal)
                .then(b.0.cmp(&a.0))
        });
        neighbours.truncate(p.neighbours);
        let mut scores: HashMap<ItemId, f64> = HashMap::new();
        for (s, sim) in neighbours {
            for &item in &self.sessions[s as usize].items {
                *scores.entry(item).or_default() += sim;
            }
        }
        scores
    }

    /// The `n` best catalog items of `scores` without `exclude`, scores normalised to sum to
    /// at most 1, then the most popular others.
    fn ranked(&self, scores: HashMap<ItemId, f64>, n: usize, exclude: &[ItemId]) -> Vec<Scored> {
        let mut best: Vec<(ItemId, f64)> = scores
            .into_iter()
            .filter(|(i, s)| *i < self.catalog && *s > 0.0 && !exclude.contains(i))
            .collect();
        best.sort_by(|a, b| {
            b.1.partial_cmp(&a.1)
                .unwrap_or(Ordering::Equal)
                .then_with(|| self.counts[b.0 as usize].cmp(&self.counts[a.0 as usize]))
                .then_with(|| self.items[a.0 as usize].cmp(&self.items[b.0 as usize]))
        });
        // Summed in rank order: a hash map's order would make the last digits vary.
        let total: f64 = best.iter().map(|(_, s)| s).sum();
        best.truncate(n);
        let mut out: Vec<Scored> = best
            .iter()
            .map(|&(i, s)| Scored {
                item_id: self.items[i as usize].clone(),
                score: s / total,
            })
            .collect();
        if out.len() < n {
            let mut taken: Vec<ItemId> = best.iter().map(|(i, _)| *i).collect();
            taken.extend_from_slice(exclude);
            out.extend(
                self.popular_items(n - out.len(), &taken)
                    .into_iter()
                    .map(|mut s| {
                        // Backfill ranks below every neighbour vote.
                        s.score = 0.0;
                        s
                    }),
            );
        }
        out
    }

    /// The `n` most popular catalog items not in `exclude`, scored by their share of the
    /// training interactions.
    fn popular_items(&self, n: usize, exclude: &[ItemId]) -> Vec<Scored> {
        let total = self.total_count.max(1) as f64;
        self.popular
            .iter()
            .filter(|i| !exclude.contains(i))
            .take(n)
            .map(|&i| Scored {
                item_id: self.items[i as usize].clone(),
                score: f64::from(self.counts[i as usize]) / total,
            })
            .collect()
    }
}
