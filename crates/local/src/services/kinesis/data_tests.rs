//! Data-plane behaviour that depends on the clock (iterator expiry, retention, per-second
//! write limits), driven through [`super::handle`] with a chosen `now_ms` instead of sleeping.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::auth::Caller;
use crate::config::{Config, Profile};
use crate::store::Store;
use base64::Engine as _;
use serde_json::{Value, json};

const T0: u64 = 1_700_000_000_000;

struct World {
    store: Store,
    config: Config,
    caller: Caller,
}

impl World {
    fn new() -> World {
        World {
            store: Store::open(None).unwrap(),
            config: Config {
                profile: Profile::instant(),
                ..Config::default()
            },
            caller: Caller {
                access_key_id: "000000000000".into(),
                account: "000000000000".into(),
                region: "us-east-1".into(),
                service: "kinesis".into(),
            },
        }
    }

    fn ctx(&self, now_ms: u64) -> Ctx<'_> {
        Ctx {
            caller: &self.caller,
            request_id: "r",
            now_ms,
            store: &self.store,
            config: &self.config,
        }
    }

    fn call(&self, now_ms: u64, op: &str, input: Value) -> AwsResult<Value> {
        handle(&self.ctx(now_ms), op, &input)
    }

    fn put(&self, now_ms: u64, data: &str) -> String {
        let out = self
            .call(
                now_ms,
                "PutRecord",
                json!({ "StreamName": "s", "PartitionKey": "k", "Data": b64(data) }),
            )
            .unwrap();
        out["SequenceNumber"].as_str().unwrap().to_owned()
    }

    fn iterator(&self, now_ms: u64, kind: &str) -> String {
        let out = self
            .call(
                now_ms,
                "GetShardIterator",
                json!({ "StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": kind }),
            )
            .unwrap();
        out["ShardIterator"].as_str().unwrap().to_owned()
    }

    fn data_at(&self, now_ms: u64, iterator: &str) -> Vec<String> {
        let out = self
            .call(now_ms, "GetRecords", json!({ "ShardIterator": iterator }))
            .unwrap();
        out["Records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| decode(r["Data"].as_str().unwrap()))
            .collect()
    }
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn decode(s: &str) -> String {
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(s).unwrap()).unwrap()
}

fn world_with_stream(shards: u32) -> World {
    let world = World::new();
    world
        .call(
            T0,
            "CreateStream",
            json!({ "StreamName": "s", "ShardCount": shards }),
        )
        .unwrap();
    world
}

#[test]
fn iterators_expire_after_300_seconds() {
    let world = world_with_stream(1);
    world.put(T0, "one");
    let iterator = world.iterator(T0, "TRIM_HORIZON");
    assert_eq!(world.data_at(T0 + ITERATOR_TTL_MS, &iterator), ["one"]);
    let err = world
        .call(
            T0 + ITERATOR_TTL_MS + 1,
            "GetRecords",
            json!({ "ShardIterator": iterator }),
        )
        .unwrap_err();
    assert_eq!(err.code, "ExpiredIteratorException");
    assert!(
        err.message.starts_with("Iterator expired. The iterator was created at time Tue Nov 14 22:13:20 UTC 2023 while right now it is Tue Nov 14 22:18:20 UTC 2023"),
        "{}",
        err.message
    );
    // The next iterator is issued at the time of the read, so a reader that keeps reading
    // keeps a live iterator.
    let out = world
        .call(T0 + 200_000, "GetRecords", json!({ "ShardIterator": iterator }))
        .unwrap();
    let next = out["NextShardIterator"].as_str().unwrap();
    assert!(world.data_at(T0 + 450_000, next).is_empty());
}

#[test]
fn records_past_retention_are_not_returned_and_are_trimmed_by_later_writes() {
    let world = world_with_stream(1);
    world.put(T0, "old-1");
    world.put(T0 + 1, "old-2");
    let day = 24 * 3_600_000;
    world.put(T0 + day, "new");
    let reader = T0 + day + 2;
    assert_eq!(
        world.data_at(reader, &world.iterator(reader, "TRIM_HORIZON")),
        ["new"]
    );
    let at_old = world
        .call(
            reader,
            "GetShardIterator",
            json!({ "StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": (T0 as f64) / 1000.0 }),
        )
        .unwrap();
    assert_eq!(
        world.data_at(reader, at_old["ShardIterator"].as_str().unwrap()),
        ["new"]
    );
    // Writes delete what is past retention, so storage stays bounded.
    let prefix = "000000000000/us-east-1/kinesis/shard/s/shardId-000000000000/";
    world.put(reader, "newer");
    let keys = world.store.read(|t| t.keys(prefix)).unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    // Raising the retention does not bring trimmed records back, but keeps the rest.
    world
        .call(
            reader,
            "IncreaseStreamRetentionPeriod",
            json!({ "StreamName": "s", "RetentionPeriodHours": 48 }),
        )
        .unwrap();
    let later = T0 + 2 * day - 10;
    assert_eq!(
        world.data_at(later, &world.iterator(later, "TRIM_HORIZON")),
        ["new", "newer"]
    );
    // The crate-internal reader applies retention too.
    let read = |now_ms| {
        world
            .store
            .read(|t| {
                records::read_shard_at(
                    t,
                    "000000000000",
                    "us-east-1",
                    "s",
                    "shardId-000000000000",
                    &ShardPosition::TrimHorizon,
                    10,
                    now_ms,
                )
            })
            .unwrap()
    };
    assert_eq!(read(later).len(), 2);
    assert_eq!(read(T0 + 3 * day + 5).len(), 0);
}

#[test]
fn shard_write_limits_fail_single_records_per_second() {
    let world = world_with_stream(1);
    let ctx = world.ctx(T0);
    let records: Vec<Value> = (0..500)
        .map(|i| json!({ "PartitionKey": format!("k{i}"), "Data": b64("x") }))
        .collect();
    let input = json!({ "StreamName": "s", "Records": records });
    let put = |ctx: &Ctx<'_>, limits: bool| {
        world
            .store
            .write(|t| put::put_records_with(t, ctx, &input, limits))
            .unwrap()
    };
    assert_eq!(put(&ctx, true)["FailedRecordCount"], 0);
    assert_eq!(put(&ctx, true)["FailedRecordCount"], 0);
    let third = put(&ctx, true);
    assert_eq!(third["FailedRecordCount"], 500);
    assert_eq!(
        third["Records"][0],
        json!({
            "ErrorCode": "ProvisionedThroughputExceededException",
            "ErrorMessage": "Rate exceeded for shard shardId-000000000000 in stream s under account 000000000000."
        })
    );
    // Off (the default), nothing is throttled; in the next second the budget is back.
    assert_eq!(put(&ctx, false)["FailedRecordCount"], 0);
    assert_eq!(put(&world.ctx(T0 + 1000), true)["FailedRecordCount"], 0);

    // 1 MiB per second: two 600 KiB records, the second one fails alone.
    let big = b64(&"y".repeat(600 * 1024));
    let input = json!({ "StreamName": "s", "Records": [
        { "PartitionKey": "a", "Data": big },
        { "PartitionKey": "b", "Data": big },
    ] });
    let out = world
        .store
        .write(|t| put::put_records_with(t, &world.ctx(T0 + 5000), &input, true))
        .unwrap();
    assert_eq!(out["FailedRecordCount"], 1);
    assert!(out["Records"][0]["SequenceNumber"].is_string());
    assert_eq!(
        out["Records"][1]["ErrorCode"],
        "ProvisionedThroughputExceededException"
    );
}

#[test]
fn arrival_times_never_go_backwards_on_a_shard() {
    let world = world_with_stream(1);
    world.put(T0 + 5_000, "late-clock");
    world.put(T0 + 1_000, "early-clock");
    let out = world
        .call(
            T0 + 6_000,
            "GetRecords",
            json!({ "ShardIterator": world.iterator(T0 + 6_000, "TRIM_HORIZON") }),
        )
        .unwrap();
    let times: Vec<f64> = out["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ApproximateArrivalTimestamp"].as_f64().unwrap())
        .collect();
    assert_eq!(times, [(T0 + 5_000) as f64 / 1000.0; 2]);
}

#[test]
fn millis_behind_latest_counts_from_the_first_unread_record() {
    let world = world_with_stream(1);
    world.put(T0, "a");
    world.put(T0 + 2_000, "b");
    let iterator = world.iterator(T0 + 2_000, "TRIM_HORIZON");
    let out = world
        .call(
            T0 + 10_000,
            "GetRecords",
            json!({ "ShardIterator": iterator, "Limit": 1 }),
        )
        .unwrap();
    assert_eq!(out["MillisBehindLatest"], 8_000);
    let next = out["NextShardIterator"].as_str().unwrap();
    let out = world
        .call(T0 + 10_000, "GetRecords", json!({ "ShardIterator": next }))
        .unwrap();
    assert_eq!(out["MillisBehindLatest"], 0);
}

#[test]
fn the_crate_internal_reader_reads_from_every_position() {
    let world = world_with_stream(1);
    let seqs: Vec<String> = ["a", "b", "c"]
        .iter()
        .enumerate()
        .map(|(i, d)| world.put(T0 + i as u64 * 1000, d))
        .collect();
    let read = |position: ShardPosition, limit: usize| -> Vec<String> {
        world
            .store
            .read(|t| {
                records::read_shard_at(
                    t,
                    "000000000000",
                    "us-east-1",
                    "s",
                    "shardId-000000000000",
                    &position,
                    limit,
                    T0 + 5000,
                )
            })
            .unwrap()
            .into_iter()
            .map(|r| {
                assert!(r.approximate_arrival_timestamp >= T0 as f64 / 1000.0);
                assert_eq!(r.partition_key, "k");
                String::from_utf8(r.data).unwrap()
            })
            .collect()
    };
    assert_eq!(read(ShardPosition::TrimHorizon, 2), ["a", "b"]);
    assert_eq!(read(ShardPosition::TrimHorizon, 10), ["a", "b", "c"]);
    assert_eq!(
        read(ShardPosition::AfterSequenceNumber(seqs[1].clone()), 10),
        ["c"]
    );
    assert!(read(ShardPosition::AfterSequenceNumber(seqs[2].clone()), 10).is_empty());
    assert!(read(ShardPosition::AfterSequenceNumber("12".into()), 10).is_empty());
    assert!(read(ShardPosition::Latest, 10).is_empty());
    assert_eq!(
        read(ShardPosition::AtTimestamp((T0 + 1000) as f64 / 1000.0), 10),
        ["b", "c"]
    );
    let (ids, all, latest) = world
        .store
        .read(|t| {
            Ok::<_, crate::store::StoreError>((
                shard_ids(t, "000000000000", "us-east-1", "s")?,
                shards(t, "000000000000", "us-east-1", "s")?,
                latest_sequence_number(t, "000000000000", "us-east-1", "s", "shardId-000000000000")?,
            ))
        })
        .unwrap();
    assert_eq!(ids, ["shardId-000000000000"]);
    assert_eq!(all.len(), 1);
    assert!(all[0].open && all[0].parent.is_none());
    assert_eq!(latest.as_deref(), Some(seqs[2].as_str()));
    assert_eq!(
        compare_sequence_numbers(&seqs[0], &seqs[2]),
        std::cmp::Ordering::Less
    );
}
