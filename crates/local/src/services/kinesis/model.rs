//! The stored stream: its shards, their hash-key ranges and sequence-number ranges, and the
//! lazily applied transitions (CREATING → ACTIVE, UPDATING → ACTIVE with the new shards).
//!
//! A stream is one document at `account/region/kinesis/stream/{name}`. Data written to a shard
//! (a later issue) lives under its own keys below [`shard_prefix`], so a shard's records never
//! rewrite the stream document; when a stream is gone every key under that prefix goes with it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The stream statuses AWS reports.
pub(crate) const CREATING: &str = "CREATING";
/// See [`CREATING`].
pub(crate) const ACTIVE: &str = "ACTIVE";
/// See [`CREATING`].
pub(crate) const UPDATING: &str = "UPDATING";
/// See [`CREATING`].
pub(crate) const DELETING: &str = "DELETING";

/// Capacity modes.
pub(crate) const PROVISIONED: &str = "PROVISIONED";
/// See [`PROVISIONED`].
pub(crate) const ON_DEMAND: &str = "ON_DEMAND";

/// How many shards an on-demand stream starts with (4 MiB/s of write capacity).
pub(crate) const ON_DEMAND_SHARDS: u32 = 4;

/// A stream as stored. Field names `StreamARN`, `status` and `ready_at_ms` are read by
/// [`super::effective_status`] and [`super::stream_status_by_arn`] on the raw document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Stream {
    /// The name.
    #[serde(rename = "StreamName")]
    pub name: String,
    /// The ARN.
    #[serde(rename = "StreamARN")]
    pub arn: String,
    /// The status last set (see [`super::effective_status`] for the one to report).
    pub status: String,
    /// When a `CREATING`/`UPDATING` stream becomes `ACTIVE`.
    pub ready_at_ms: u64,
    /// When the stream was created.
    pub created_ms: u64,
    /// `PROVISIONED` or `ON_DEMAND`.
    pub mode: String,
    /// Hours records are kept.
    pub retention_hours: u32,
    /// Every shard, open and closed, in creation order.
    pub shards: Vec<Shard>,
    /// While `UPDATING`: the open shard count once the update is done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_shard_count: Option<u32>,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The KMS key of server-side encryption (`None`: not encrypted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// When the stream disappears (set by DeleteStream).
    #[serde(rename = "_gone_at_ms", default, skip_serializing_if = "Option::is_none")]
    pub gone_at_ms: Option<u64>,
    /// The resource policy (JSON text, as put) attached to the stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Enhanced fan-out consumers, in registration order. They live in the stream document
    /// because AWS deletes them with the stream.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consumers: Vec<Consumer>,
}

/// An enhanced fan-out consumer as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Consumer {
    /// The name, unique among the stream's consumers.
    pub name: String,
    /// `{stream ARN}/consumer/{name}:{creation epoch seconds}`.
    pub arn: String,
    /// When it was registered.
    pub created_ms: u64,
    /// When it becomes `ACTIVE`.
    pub ready_at_ms: u64,
    /// When it disappears (set by DeregisterStreamConsumer; `DELETING` until then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gone_at_ms: Option<u64>,
    /// The tags given at registration.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// The resource policy (JSON text, as put) attached to the consumer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

impl Consumer {
    /// The status to report at `now_ms`.
    pub fn status_at(&self, now_ms: u64) -> &'static str {
        if self.gone_at_ms.is_some() {
            DELETING
        } else if now_ms < self.ready_at_ms {
            CREATING
        } else {
            ACTIVE
        }
    }

    /// Whether its deregistration has finished by `now_ms`.
    pub fn is_gone(&self, now_ms: u64) -> bool {
        self.gone_at_ms.is_some_and(|at| now_ms >= at)
    }
}

/// One shard as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Shard {
    /// `shardId-000000000000`.
    pub id: String,
    /// Its index within the stream (the number in its id).
    pub index: u32,
    /// The shard it was split or scaled from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The second shard it was merged or scaled from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjacent_parent: Option<String>,
    /// The lowest hash key it owns (stored as a decimal string: JSON numbers cannot hold it).
    #[serde(with = "decimal")]
    pub start_hash: u128,
    /// The highest hash key it owns.
    #[serde(with = "decimal")]
    pub end_hash: u128,
    /// When it opened.
    pub created_ms: u64,
    /// When it closed (a reshard replaced it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_ms: Option<u64>,
}

impl Shard {
    /// Whether the shard still takes writes.
    pub fn is_open(&self) -> bool {
        self.closed_ms.is_none()
    }

    /// The shard's first sequence number.
    pub fn starting_sequence_number(&self) -> String {
        sequence_number(self.created_ms, self.index, 0)
    }

    /// The shard's last sequence number, once it is closed.
    pub fn ending_sequence_number(&self) -> Option<String> {
        self.closed_ms
            .map(|_| sequence_number(self.created_ms, self.index, u64::MAX))
    }

    /// The shard as the `Shard` structure of DescribeStream and ListShards.
    pub fn to_wire(&self) -> serde_json::Value {
        let mut range = serde_json::json!({ "StartingSequenceNumber": self.starting_sequence_number() });
        if let Some(end) = self.ending_sequence_number() {
            range["EndingSequenceNumber"] = end.into();
        }
        let mut shard = serde_json::json!({
            "ShardId": self.id,
            "HashKeyRange": {
                "StartingHashKey": self.start_hash.to_string(),
                "EndingHashKey": self.end_hash.to_string(),
            },
            "SequenceNumberRange": range,
        });
        if let Some(p) = &self.parent {
            shard["ParentShardId"] = p.clone().into();
        }
        if let Some(p) = &self.adjacent_parent {
            shard["AdjacentParentShardId"] = p.clone().into();
        }
        shard
    }
}

/// `shardId-` and the index padded to 12 digits, as AWS names shards.
pub(crate) fn shard_id(index: u32) -> String {
    format!("shardId-{index:012}")
}

/// A 56-digit decimal sequence number, the length AWS's have: `49`, the shard's creation
/// second (10 digits), the shard index (6), a per-shard counter (20) and 18 zeros. Numbers of
/// one shard sort as strings in counter order, so records can be keyed by them.
pub(crate) fn sequence_number(shard_created_ms: u64, shard_index: u32, counter: u64) -> String {
    let secs = (shard_created_ms / 1000) % 10_000_000_000;
    let index = shard_index % 1_000_000;
    format!("49{secs:010}{index:06}{counter:020}{:018}", 0)
}

/// The `i`-th of `n` even slices of the hash key space `0..=2^128-1`:
/// it starts at `floor(i * 2^128 / n)`, as AWS splits a new stream.
pub(crate) fn hash_range(i: u32, n: u32) -> (u128, u128) {
    let start = slice_start(i, n);
    let end = if i + 1 >= n {
        u128::MAX
    } else {
        slice_start(i + 1, n) - 1
    };
    (start, end)
}

/// `floor(i * 2^128 / n)` without overflowing: 2^128 = q·n + r, computed from `u128::MAX`.
fn slice_start(i: u32, n: u32) -> u128 {
    if i == 0 {
        return 0; // also spares n = 1, whose quotient 2^128 does not fit
    }
    let n = u128::from(n.max(1));
    let i = u128::from(i);
    let (mut q, mut r) = (u128::MAX / n, u128::MAX % n + 1);
    if r == n {
        q += 1;
        r = 0;
    }
    i * q + i * r / n
}

/// `n` fresh shards covering the hash key space, numbered from `first_index`, with no parents.
pub(crate) fn fresh_shards(n: u32, first_index: u32, now_ms: u64) -> Vec<Shard> {
    (0..n)
        .map(|i| {
            let (start_hash, end_hash) = hash_range(i, n);
            Shard {
                id: shard_id(first_index + i),
                index: first_index + i,
                parent: None,
                adjacent_parent: None,
                start_hash,
                end_hash,
                created_ms: now_ms,
                closed_ms: None,
            }
        })
        .collect()
}

impl Stream {
    /// The shards that take writes.
    pub fn open_shards(&self) -> impl Iterator<Item = &Shard> {
        self.shards.iter().filter(|s| s.is_open())
    }

    /// How many shards take writes.
    pub fn open_shard_count(&self) -> u32 {
        u32::try_from(self.open_shards().count()).unwrap_or(u32::MAX)
    }

    /// The stream with every transition due by `now_ms` applied: a finished create or
    /// update becomes `ACTIVE`, a finished update closes the old shards and opens the new, and
    /// consumers whose deregistration has finished are dropped.
    pub fn settled(mut self, now_ms: u64) -> Stream {
        let due = now_ms >= self.ready_at_ms;
        if due && self.status == UPDATING {
            if let Some(target) = self.target_shard_count.take() {
                self.reshard(target, self.ready_at_ms);
            }
            self.status = ACTIVE.to_owned();
        }
        if due && self.status == CREATING {
            self.status = ACTIVE.to_owned();
        }
        self.consumers.retain(|c| !c.is_gone(now_ms));
        self
    }

    /// The status to report now.
    pub fn status_now(&self) -> &str {
        if self.gone_at_ms.is_some() {
            DELETING
        } else {
            &self.status
        }
    }

    /// Uniform scaling: closes every open shard and opens `target` even slices, each child
    /// naming the old shard(s) whose ranges hold its first and last hash keys as parents.
    fn reshard(&mut self, target: u32, at_ms: u64) {
        let old: Vec<Shard> = self.open_shards().cloned().collect();
        if old.len() == target as usize {
            return; // already that many even slices
        }
        let first_index = u32::try_from(self.shards.len()).unwrap_or(u32::MAX);
        let mut children = fresh_shards(target, first_index, at_ms);
        for child in &mut children {
            let owner = |hash: u128| {
                old.iter()
                    .find(|s| s.start_hash <= hash && hash <= s.end_hash)
                    .map(|s| s.id.clone())
            };
            child.parent = owner(child.start_hash);
            let adjacent = owner(child.end_hash);
            if adjacent != child.parent {
                child.adjacent_parent = adjacent;
            }
        }
        for shard in &mut self.shards {
            if shard.is_open() {
                shard.closed_ms = Some(at_ms);
            }
        }
        self.shards.extend(children);
    }
}

/// `u128` as a decimal string.
mod decimal {
    use serde::{Deserialize as _, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&value.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_ranges_split_the_space_as_aws_does() {
        assert_eq!(hash_range(0, 1), (0, u128::MAX));
        assert_eq!(hash_range(1, 2).0, 1u128 << 127);
        assert_eq!(
            hash_range(1, 3).0.to_string(),
            "113427455640312821154458202477256070485"
        );
        assert_eq!(
            hash_range(2, 3).0.to_string(),
            "226854911280625642308916404954512140970"
        );
        assert_eq!(hash_range(0, 3).1 + 1, hash_range(1, 3).0);
        assert_eq!(hash_range(2, 3).1, u128::MAX);
    }

    #[test]
    fn sequence_numbers_have_56_digits_and_sort_by_counter() {
        let a = sequence_number(1_700_000_000_000, 3, 0);
        let b = sequence_number(1_700_000_000_000, 3, 9);
        let end = sequence_number(1_700_000_000_000, 3, u64::MAX);
        assert_eq!(a.len(), 56);
        assert_eq!(end.len(), 56);
        assert!(a < b && b < end);
    }

    #[test]
    fn uniform_scaling_closes_the_old_shards_and_names_parents() {
        let mut stream = Stream {
            name: "s".into(),
            arn: "arn".into(),
            status: UPDATING.into(),
            ready_at_ms: 10,
            created_ms: 0,
            mode: PROVISIONED.into(),
            retention_hours: 24,
            shards: fresh_shards(2, 0, 0),
            target_shard_count: Some(3),
            tags: BTreeMap::new(),
            kms_key_id: None,
            gone_at_ms: None,
            policy: None,
            consumers: Vec::new(),
        };
        stream = stream.settled(5);
        assert_eq!(stream.status, UPDATING);
        stream = stream.settled(10);
        assert_eq!(stream.status, ACTIVE);
        assert_eq!(stream.shards.len(), 5);
        assert_eq!(stream.open_shard_count(), 3);
        let middle = &stream.shards[3];
        assert_eq!(middle.id, "shardId-000000000003");
        assert_eq!(middle.parent.as_deref(), Some("shardId-000000000000"));
        assert_eq!(middle.adjacent_parent.as_deref(), Some("shardId-000000000001"));
        assert!(stream.shards[0].ending_sequence_number().is_some());
    }
}
