//! How shard data is stored, and the crate-internal read API event source mappings use.
//!
//! Each shard has a small state document at `…/kinesis/shard/{stream}/{shardId}` (the next
//! counter to assign, the lowest counter still stored, the last arrival time, and the
//! current write-limit window) and one document per record at
//! `…/kinesis/shard/{stream}/{shardId}/{sequenceNumber}`. A record's sequence number is
//! [`model::sequence_number`] of the shard and a per-shard counter, so counters are dense:
//! reading from a position is a run of point lookups (no scan), writing `n` records is `n + 1`
//! puts, and record keys sort in sequence order. Arrival times never decrease along a shard,
//! so the first record at or after a time (for retention and `AT_TIMESTAMP`) is a binary
//! search. Everything lives under [`super::shard_prefix`], so it goes with the stream.

use super::model::{self, Shard, Stream};
use crate::services::{escape_id, is_gone};
use crate::store::{StoreError, Txn};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Where a read starts.
#[derive(Debug, Clone, PartialEq)]

pub(crate) enum ShardPosition {
    /// The oldest record still retained.
    TrimHorizon,
    /// Only records written after the read.
    #[cfg_attr(
        not(test),
        allow(
            dead_code,
            reason = "the poller pins LATEST as a checkpoint on first poll instead"
        )
    )]
    Latest,
    /// The first record that arrived at or after this time (epoch seconds).
    AtTimestamp(f64),
    /// The record after this sequence number (a checkpoint).
    AfterSequenceNumber(String),
}

/// A record as stored, for readers inside the crate.
#[derive(Debug, Clone, PartialEq)]

pub(crate) struct StoredRecord {
    /// Its 56-digit sequence number.
    pub sequence_number: String,
    /// Its partition key.
    pub partition_key: String,
    /// Its data, decoded.
    pub data: Vec<u8>,
    /// When it arrived, epoch seconds.
    pub approximate_arrival_timestamp: f64,
}

/// A shard's state document.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct ShardState {
    /// The counter the next record gets.
    pub next: u64,
    /// The lowest counter still stored (every counter in `first..next` is stored).
    pub first: u64,
    /// The last record's arrival time (ms); arrivals never go below it.
    pub last_ms: u64,
    /// The second (epoch) the write-limit tallies are for.
    #[serde(default)]
    pub window_s: u64,
    /// Bytes written in `window_s`.
    #[serde(default)]
    pub window_bytes: u64,
    /// Records written in `window_s`.
    #[serde(default)]
    pub window_records: u64,
}

/// A record document (short member names: there is one per record).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct RecordDoc {
    /// Partition key.
    pub k: String,
    /// Data, base64 (as it travels on the wire, so it is encoded once).
    pub d: String,
    /// Arrival, epoch ms.
    pub t: u64,
}

/// One shard of one stream: where its documents live and how its sequence numbers are made.
#[derive(Debug, Clone)]
pub(super) struct ShardLoc {
    /// The state document's key; record keys are below `{state_key}/`.
    pub state_key: String,
    /// The shard.
    pub shard: Shard,
}

impl ShardLoc {
    /// Shard `shard` of stream `stream` in `account`/`region`.
    pub fn new(account: &str, region: &str, stream: &str, shard: &Shard) -> ShardLoc {
        ShardLoc {
            state_key: format!(
                "{account}/{region}/kinesis/shard/{}/{}",
                escape_id(stream),
                shard.id
            ),
            shard: shard.clone(),
        }
    }

    /// The sequence number of counter `counter`.
    pub fn sequence_number(&self, counter: u64) -> String {
        model::sequence_number(self.shard.created_ms, self.shard.index, counter)
    }

    /// The key of the record with counter `counter`.
    pub fn record_key(&self, counter: u64) -> String {
        format!("{}/{}", self.state_key, self.sequence_number(counter))
    }

    /// The shard's state (fresh if nothing was written yet).
    pub fn state(&self, txn: &Txn<'_>) -> Result<ShardState, StoreError> {
        Ok(txn.get(&self.state_key)?.unwrap_or_default())
    }

    /// Stores the shard's state.
    pub fn save_state(&self, txn: &mut Txn<'_>, state: &ShardState) -> Result<(), StoreError> {
        txn.put(&self.state_key, state)
    }

    /// The record with counter `counter`.
    pub fn record(&self, txn: &Txn<'_>, counter: u64) -> Result<Option<RecordDoc>, StoreError> {
        txn.get(&self.record_key(counter))
    }

    /// The lowest counter in `state.first..state.next` whose record arrived at or after
    /// `ms` (`state.next` if none did): arrivals never decrease, so a binary search.
    pub fn first_arrived_since(&self, txn: &Txn<'_>, state: &ShardState, ms: u64) -> Result<u64, StoreError> {
        let (mut low, mut high) = (state.first, state.next);
        while low < high {
            let mid = low + (high - low) / 2;
            let arrived = self.record(txn, mid)?.map_or(0, |r| r.t);
            if arrived < ms {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        Ok(low)
    }

    /// The counter encoded in `sequence_number` if it is one of this shard's.
    pub fn counter_of(&self, sequence_number: &str) -> Option<u64> {
        let parts = SequenceParts::parse(sequence_number)?;
        let own = SequenceParts::parse(&self.sequence_number(0))?;
        (parts.secs == own.secs && parts.index == own.index).then_some(parts.counter)
    }

    /// Up to `limit` records from counter `from` on, skipping those older than `cutoff_ms`,
    /// stopping before the data would pass `max_bytes` (always returning at least one).
    /// Returns the records with their counters, and the counter to read next.
    pub fn read(
        &self,
        txn: &Txn<'_>,
        state: &ShardState,
        from: u64,
        cutoff_ms: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<(Vec<(u64, RecordDoc)>, u64), StoreError> {
        let mut at = from.max(state.first);
        if at < state.next && self.record(txn, at)?.is_none_or(|r| r.t < cutoff_ms) {
            at = at.max(self.first_arrived_since(txn, state, cutoff_ms)?);
        }
        let mut out = Vec::new();
        let mut bytes = 0usize;
        while at < state.next && out.len() < limit {
            let Some(record) = self.record(txn, at)? else {
                break; // cannot happen: `first..next` are all stored
            };
            let size = record.d.len() / 4 * 3 + record.k.len();
            if !out.is_empty() && bytes + size > max_bytes {
                break;
            }
            bytes += size;
            out.push((at, record));
            at += 1;
        }
        Ok((out, at))
    }

    /// Deletes up to `budget` records from the front that are older than `cutoff_ms`, so a
    /// shard's storage stays bounded by its retention; writes call it with a small budget.
    pub fn trim(
        &self,
        txn: &mut Txn<'_>,
        state: &mut ShardState,
        cutoff_ms: u64,
        budget: usize,
    ) -> Result<(), StoreError> {
        for _ in 0..budget {
            if state.first >= state.next {
                return Ok(());
            }
            let key = self.record_key(state.first);
            match txn.get::<RecordDoc>(&key)? {
                Some(r) if r.t >= cutoff_ms => return Ok(()),
                _ => {
                    txn.delete(&key)?;
                    state.first += 1;
                }
            }
        }
        Ok(())
    }

    /// Converts a stored record for readers.
    pub fn to_stored(&self, counter: u64, record: RecordDoc) -> StoredRecord {
        StoredRecord {
            sequence_number: self.sequence_number(counter),
            partition_key: record.k,
            data: base64::engine::general_purpose::STANDARD
                .decode(record.d.as_bytes())
                .unwrap_or_default(),
            approximate_arrival_timestamp: record.t as f64 / 1000.0,
        }
    }
}

/// The fields of a sequence number made by [`model::sequence_number`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SequenceParts {
    /// The shard's creation second.
    pub secs: u64,
    /// The shard's index.
    pub index: u32,
    /// The per-shard counter.
    pub counter: u64,
}

impl SequenceParts {
    /// Parses a 56-digit sequence number of this runtime's layout.
    pub fn parse(s: &str) -> Option<SequenceParts> {
        if s.len() != 56 || !s.bytes().all(|b| b.is_ascii_digit()) || !s.starts_with("49") {
            return None;
        }
        Some(SequenceParts {
            secs: s.get(2..12)?.parse().ok()?,
            index: s.get(12..18)?.parse().ok()?,
            counter: s.get(18..38)?.parse().ok()?,
        })
    }
}

/// Compares two sequence numbers (decimal strings) numerically.
#[cfg_attr(
    not(test),
    allow(
        dead_code,
        reason = "for callers that order sequence numbers; only tests do so today"
    )
)]
pub(crate) fn compare_sequence_numbers(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Epoch ms before which records are past `stream`'s retention at `now_ms`.
pub(super) fn retention_cutoff(stream: &Stream, now_ms: u64) -> u64 {
    now_ms.saturating_sub(u64::from(stream.retention_hours) * 3_600_000)
}

/// Stream `name` in `account`/`region`, settled at `now_ms`, unless absent or gone.
pub(super) fn find_stream(
    txn: &Txn<'_>,
    account: &str,
    region: &str,
    name: &str,
    now_ms: u64,
) -> Result<Option<Stream>, StoreError> {
    let key = format!("{account}/{region}/kinesis/stream/{}", escape_id(name));
    let Some(doc) = txn.get::<serde_json::Value>(&key)? else {
        return Ok(None);
    };
    if is_gone(&doc, now_ms) {
        return Ok(None);
    }
    let stream: Stream = serde_json::from_value(doc).map_err(|source| StoreError::Corrupt { key, source })?;
    Ok(Some(stream.settled(now_ms)))
}

/// The ids of stream `stream_name`'s open shards, in order (none if the stream is absent, gone
/// or still being created).
///
/// # Errors
/// Storage failure.
pub(crate) fn shard_ids(
    txn: &Txn<'_>,
    account: &str,
    region: &str,
    stream_name: &str,
) -> Result<Vec<String>, StoreError> {
    let Some(stream) = find_stream(txn, account, region, stream_name, crate::services::now_ms())? else {
        return Ok(Vec::new());
    };
    if stream.status_now() == model::CREATING {
        return Ok(Vec::new());
    }
    Ok(stream.open_shards().map(|s| s.id.clone()).collect())
}

/// A shard as a reader that follows reshards sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    not(test),
    allow(
        dead_code,
        reason = "for draining closed parent shards after a reshard, which the poller does not do yet"
    )
)]
pub(crate) struct ShardInfo {
    /// Its id.
    pub id: String,
    /// The shard it was split or scaled from.
    pub parent: Option<String>,
    /// The second shard it was merged or scaled from.
    pub adjacent_parent: Option<String>,
    /// Whether it still takes writes (a closed shard ends at [`latest_sequence_number`]).
    pub open: bool,
}

/// Every shard of stream `stream_name`, open and closed, in creation order (none if the stream
/// is absent, gone or still being created). Readers that must keep per-key order across a
/// reshard finish a closed parent before reading its children, as the KCL and Lambda do.
///
/// # Errors
/// Storage failure.
#[cfg_attr(
    not(test),
    allow(
        dead_code,
        reason = "for draining closed parent shards after a reshard, which the poller does not do yet"
    )
)]
pub(crate) fn shards(
    txn: &Txn<'_>,
    account: &str,
    region: &str,
    stream_name: &str,
) -> Result<Vec<ShardInfo>, StoreError> {
    let Some(stream) = find_stream(txn, account, region, stream_name, crate::services::now_ms())? else {
        return Ok(Vec::new());
    };
    if stream.status_now() == model::CREATING {
        return Ok(Vec::new());
    }
    Ok(stream
        .shards
        .iter()
        .map(|s| ShardInfo {
            id: s.id.clone(),
            parent: s.parent.clone(),
            adjacent_parent: s.adjacent_parent.clone(),
            open: s.is_open(),
        })
        .collect())
}

/// Up to `limit` records of shard `shard_id` from `after` on, oldest first, skipping those
/// past the stream's retention. An unknown stream or shard, or a sequence number that is not
/// this shard's, reads nothing.
///
/// # Errors
/// Storage failure.
pub(crate) fn read_shard(
    txn: &Txn<'_>,
    account: &str,
    region: &str,
    stream: &str,
    shard_id: &str,
    after: ShardPosition,
    limit: usize,
) -> Result<Vec<StoredRecord>, StoreError> {
    read_shard_at(
        txn,
        account,
        region,
        stream,
        shard_id,
        &after,
        limit,
        crate::services::now_ms(),
    )
}

/// [`read_shard`] at a given time.
#[allow(clippy::too_many_arguments, reason = "read_shard's arguments plus the clock")]
pub(super) fn read_shard_at(
    txn: &Txn<'_>,
    account: &str,
    region: &str,
    stream_name: &str,
    shard_id: &str,
    after: &ShardPosition,
    limit: usize,
    now_ms: u64,
) -> Result<Vec<StoredRecord>, StoreError> {
    let Some(stream) = find_stream(txn, account, region, stream_name, now_ms)? else {
        return Ok(Vec::new());
    };
    let Some(shard) = stream.shards.iter().find(|s| s.id == shard_id) else {
        return Ok(Vec::new());
    };
    let loc = ShardLoc::new(account, region, stream_name, shard);
    let state = loc.state(txn)?;
    let from = match after {
        ShardPosition::TrimHorizon => state.first,
        ShardPosition::Latest => state.next,
        ShardPosition::AtTimestamp(secs) => loc.first_arrived_since(txn, &state, secs_to_ms(*secs))?,
        ShardPosition::AfterSequenceNumber(seq) => match loc.counter_of(seq) {
            Some(c) => c.saturating_add(1),
            None => return Ok(Vec::new()),
        },
    };
    let cutoff = retention_cutoff(&stream, now_ms);
    let (records, _) = loc.read(txn, &state, from, cutoff, limit, usize::MAX)?;
    Ok(records
        .into_iter()
        .map(|(counter, r)| loc.to_stored(counter, r))
        .collect())
}

/// The sequence number of the last record written to shard `shard_id` (`None`: none yet, or
/// no such stream or shard).
///
/// # Errors
/// Storage failure.
pub(crate) fn latest_sequence_number(
    txn: &Txn<'_>,
    account: &str,
    region: &str,
    stream: &str,
    shard_id: &str,
) -> Result<Option<String>, StoreError> {
    let Some(found) = find_stream(txn, account, region, stream, crate::services::now_ms())? else {
        return Ok(None);
    };
    let Some(shard) = found.shards.iter().find(|s| s.id == shard_id) else {
        return Ok(None);
    };
    let loc = ShardLoc::new(account, region, stream, shard);
    let state = loc.state(txn)?;
    Ok(state
        .next
        .checked_sub(1)
        .filter(|last| *last >= state.first)
        .map(|last| loc.sequence_number(last)))
}

/// Epoch seconds (possibly fractional, possibly negative) as epoch ms.
pub(super) fn secs_to_ms(secs: f64) -> u64 {
    let ms = (secs * 1000.0).round();
    if ms.is_finite() && ms > 0.0 { ms as u64 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_compare_numerically() {
        assert_eq!(compare_sequence_numbers("9", "10"), Ordering::Less);
        assert_eq!(compare_sequence_numbers("010", "10"), Ordering::Equal);
        let a = model::sequence_number(1_700_000_000_000, 1, 9);
        let b = model::sequence_number(1_700_000_000_000, 1, 10);
        assert_eq!(compare_sequence_numbers(&a, &b), Ordering::Less);
        assert_eq!(
            SequenceParts::parse(&b),
            Some(SequenceParts {
                secs: 1_700_000_000,
                index: 1,
                counter: 10
            })
        );
        assert_eq!(SequenceParts::parse("12"), None);
    }
}
