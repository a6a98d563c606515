//! Kinesis's data plane through the official SDK client: PutRecord, PutRecords,
//! GetShardIterator and GetRecords. (Iterator expiry, retention and per-second write limits
//! depend on the clock; they are tested inside the crate with a chosen time, in
//! `services/kinesis/data_tests.rs`.)
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support as common;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::error::ProvideErrorMetadata;
use aws_sdk_kinesis::primitives::{Blob, DateTime};
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, Record, ScalingType, ShardIteratorType};
use personalize_stack_local::{Faults, Profile, Running};

fn client(local: &Running) -> Client {
    Client::new(&common::sdk(local, common::ACCOUNT))
}

fn code<E: ProvideErrorMetadata>(err: &E) -> &str {
    err.code().unwrap_or_default()
}

fn message<E: ProvideErrorMetadata>(err: &E) -> &str {
    err.message().unwrap_or_default()
}

async fn create(kinesis: &Client, name: &str, shards: i32) {
    kinesis
        .create_stream()
        .stream_name(name)
        .shard_count(shards)
        .send()
        .await
        .unwrap();
}

fn entry(key: &str, data: &[u8]) -> PutRecordsRequestEntry {
    PutRecordsRequestEntry::builder()
        .partition_key(key)
        .data(Blob::new(data))
        .build()
        .unwrap()
}

async fn put(kinesis: &Client, stream: &str, key: &str, data: &[u8]) -> (String, String) {
    let out = kinesis
        .put_record()
        .stream_name(stream)
        .partition_key(key)
        .data(Blob::new(data))
        .send()
        .await
        .unwrap();
    (out.shard_id().to_owned(), out.sequence_number().to_owned())
}

async fn iterator(
    kinesis: &Client,
    stream: &str,
    shard: &str,
    kind: ShardIteratorType,
    sequence: Option<&str>,
) -> String {
    kinesis
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id(shard)
        .shard_iterator_type(kind)
        .set_starting_sequence_number(sequence.map(str::to_owned))
        .send()
        .await
        .unwrap()
        .shard_iterator()
        .unwrap()
        .to_owned()
}

async fn records(kinesis: &Client, it: &str) -> Vec<Record> {
    kinesis
        .get_records()
        .shard_iterator(it)
        .send()
        .await
        .unwrap()
        .records()
        .to_vec()
}

fn data_of(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| String::from_utf8(r.data().as_ref().to_vec()).unwrap())
        .collect()
}

/// MD5 of each partition key as a 128-bit big-endian integer, computed outside this crate
/// (Python's `hashlib.md5`), so placement is checked against an independent MD5.
const MD5_HASH_KEYS: [(&str, u128); 10] = [
    ("a", 16955237001963240173058271559858726497),
    ("user-1", 285573413173782752570879317399258818820),
    ("user-2", 81544010656874607678696621737415172275),
    ("user-3", 25643827420764883787405505484921093982),
    ("1", 261578874264819908609102035485573088411),
    ("partition-key-42", 83989209188138350449592802230066768018),
    ("x", 209794194358692857395451740504350025638),
    ("seed", 338018833582390396719064571870391845266),
    ("c", 99079589977253916124855502156832923443),
    ("item-1", 157014837346478178299725358768380047884),
];

/// `(shard id, start, end)` of the stream's open shards, from ListShards.
async fn hash_ranges(kinesis: &Client, stream: &str) -> Vec<(String, u128, u128)> {
    let out = kinesis.list_shards().stream_name(stream).send().await.unwrap();
    out.shards()
        .iter()
        .filter(|s| {
            s.sequence_number_range()
                .unwrap()
                .ending_sequence_number()
                .is_none()
        })
        .map(|s| {
            let range = s.hash_key_range().unwrap();
            (
                s.shard_id().to_owned(),
                range.starting_hash_key().parse().unwrap(),
                range.ending_hash_key().parse().unwrap(),
            )
        })
        .collect()
}

fn owner(ranges: &[(String, u128, u128)], hash: u128) -> String {
    ranges
        .iter()
        .find(|(_, start, end)| *start <= hash && hash <= *end)
        .map(|(id, _, _)| id.clone())
        .unwrap()
}

#[tokio::test]
async fn records_go_to_the_shard_whose_range_holds_the_md5_of_their_key() {
    let local = common::start().await;
    let kinesis = client(&local);
    create(&kinesis, "placed", 4).await;
    let ranges = hash_ranges(&kinesis, "placed").await;
    assert_eq!(ranges.len(), 4);
    let mut shards_used = std::collections::BTreeSet::new();
    for (key, hash) in MD5_HASH_KEYS {
        let (shard, _) = put(&kinesis, "placed", key, b"x").await;
        assert_eq!(shard, owner(&ranges, hash), "partition key {key:?}");
        shards_used.insert(shard);
    }
    assert_eq!(shards_used.len(), 4, "the keys spread over every shard");

    // PutRecords places each record the same way, and an ExplicitHashKey overrides the key.
    let entries: Vec<PutRecordsRequestEntry> = MD5_HASH_KEYS
        .iter()
        .map(|(key, _)| entry(key, b"y"))
        .chain([PutRecordsRequestEntry::builder()
            .partition_key("a")
            .explicit_hash_key("340282366920938463463374607431768211455")
            .data(Blob::new("z"))
            .build()
            .unwrap()])
        .collect();
    let out = kinesis
        .put_records()
        .stream_name("placed")
        .set_records(Some(entries))
        .send()
        .await
        .unwrap();
    assert_eq!(out.failed_record_count(), Some(0));
    let placed: Vec<&str> = out.records().iter().map(|r| r.shard_id().unwrap()).collect();
    for ((key, hash), shard) in MD5_HASH_KEYS.iter().zip(&placed) {
        assert_eq!(*shard, owner(&ranges, *hash), "PutRecords key {key:?}");
    }
    assert_eq!(placed[10], "shardId-000000000003", "2^128-1 is the last shard's");

    let err = kinesis
        .put_record()
        .stream_name("placed")
        .partition_key("a")
        .explicit_hash_key("340282366920938463463374607431768211456")
        .data(Blob::new("z"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_argument_exception(), "{err:?}");
    assert_eq!(
        message(&err),
        "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was 340282366920938463463374607431768211456"
    );
    let err = kinesis
        .put_record()
        .stream_name("placed")
        .partition_key("a")
        .explicit_hash_key("0x10")
        .data(Blob::new("z"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err), "ValidationException");
    assert!(message(&err).contains("at 'explicitHashKey'"), "{err:?}");
}

#[tokio::test]
async fn every_iterator_type_reads_from_its_position_in_order() {
    let local = common::start().await;
    let kinesis = client(&local);
    create(&kinesis, "ordered", 1).await;
    let shard = "shardId-000000000000";
    let latest = iterator(&kinesis, "ordered", shard, ShardIteratorType::Latest, None).await;
    let mut sequence_numbers = Vec::new();
    for i in 0..5 {
        let (_, seq) = put(
            &kinesis,
            "ordered",
            &format!("key-{i}"),
            format!("r{i}").as_bytes(),
        )
        .await;
        assert_eq!(seq.len(), 56, "AWS's sequence numbers have 56 digits: {seq}");
        sequence_numbers.push(seq);
    }
    let mut sorted = sequence_numbers.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, sequence_numbers, "strictly increasing");

    let all = records(
        &kinesis,
        &iterator(&kinesis, "ordered", shard, ShardIteratorType::TrimHorizon, None).await,
    )
    .await;
    assert_eq!(data_of(&all), ["r0", "r1", "r2", "r3", "r4"]);
    let got: Vec<&str> = all.iter().map(Record::sequence_number).collect();
    assert_eq!(got, sequence_numbers);
    assert_eq!(all[3].partition_key(), "key-3");

    // LATEST, taken before the writes, sees exactly what came after it.
    assert_eq!(data_of(&records(&kinesis, &latest).await).len(), 5);
    let latest_now = iterator(&kinesis, "ordered", shard, ShardIteratorType::Latest, None).await;
    assert!(records(&kinesis, &latest_now).await.is_empty());

    let at = iterator(
        &kinesis,
        "ordered",
        shard,
        ShardIteratorType::AtSequenceNumber,
        Some(&sequence_numbers[2]),
    )
    .await;
    assert_eq!(data_of(&records(&kinesis, &at).await), ["r2", "r3", "r4"]);
    let after = iterator(
        &kinesis,
        "ordered",
        shard,
        ShardIteratorType::AfterSequenceNumber,
        Some(&sequence_numbers[2]),
    )
    .await;
    assert_eq!(data_of(&records(&kinesis, &after).await), ["r3", "r4"]);

    // AT_TIMESTAMP starts at the first record that arrived at or after the time.
    let arrivals: Vec<f64> = all
        .iter()
        .map(|r| r.approximate_arrival_timestamp().unwrap().as_secs_f64())
        .collect();
    assert!(arrivals.windows(2).all(|w| w[0] <= w[1]));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - arrivals[0]).abs() < 60.0, "epoch seconds: {}", arrivals[0]);
    for (i, ts) in arrivals.iter().enumerate() {
        let it = kinesis
            .get_shard_iterator()
            .stream_name("ordered")
            .shard_id(shard)
            .shard_iterator_type(ShardIteratorType::AtTimestamp)
            .timestamp(DateTime::from_secs_f64(*ts))
            .send()
            .await
            .unwrap();
        let from = records(&kinesis, it.shard_iterator().unwrap()).await;
        let first_at_time = arrivals.iter().position(|a| a >= ts).unwrap();
        assert!(first_at_time <= i);
        assert_eq!(from.len(), 5 - first_at_time);
    }

    // Limit, NextShardIterator and MillisBehindLatest.
    let it = iterator(&kinesis, "ordered", shard, ShardIteratorType::TrimHorizon, None).await;
    let page = kinesis
        .get_records()
        .shard_iterator(&it)
        .limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(data_of(page.records()), ["r0", "r1"]);
    assert!(page.millis_behind_latest().is_some());
    let rest = kinesis
        .get_records()
        .shard_iterator(page.next_shard_iterator().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(data_of(rest.records()), ["r2", "r3", "r4"]);
    assert_eq!(rest.millis_behind_latest(), Some(0), "caught up");
    let tail = rest.next_shard_iterator().unwrap();
    put(&kinesis, "ordered", "key-5", b"r5").await;
    assert_eq!(
        data_of(&records(&kinesis, tail).await),
        ["r5"],
        "an open shard's iterator keeps reading"
    );
}

#[tokio::test]
async fn data_survives_the_wire_byte_for_byte_and_streams_are_named_by_arn() {
    let local = common::start().await;
    let kinesis = client(&local);
    create(&kinesis, "bytes", 2).await;
    let arn = kinesis
        .describe_stream_summary()
        .stream_name("bytes")
        .send()
        .await
        .unwrap()
        .stream_description_summary()
        .unwrap()
        .stream_arn()
        .to_owned();
    let binary: Vec<u8> = (0..=255).collect();
    let out = kinesis
        .put_records()
        .stream_arn(&arn)
        .records(entry("k", &binary))
        .records(entry("k", b""))
        .send()
        .await
        .unwrap();
    let shard = out.records()[0].shard_id().unwrap().to_owned();
    let it = kinesis
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(&shard)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap();
    let got = kinesis
        .get_records()
        .stream_arn(&arn)
        .shard_iterator(it.shard_iterator().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(got.records()[0].data().as_ref(), binary.as_slice());
    assert!(got.records()[1].data().as_ref().is_empty());
}

#[tokio::test]
async fn put_limits_are_aws_limits() {
    let local = common::start().await;
    let kinesis = client(&local);
    create(&kinesis, "limits", 1).await;
    let many: Vec<PutRecordsRequestEntry> = (0..501).map(|i| entry(&i.to_string(), b"x")).collect();
    let err = kinesis
        .put_records()
        .stream_name("limits")
        .set_records(Some(many[..500].to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(err.records().len(), 500, "500 records are allowed");
    let err = kinesis
        .put_records()
        .stream_name("limits")
        .set_records(Some(many))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err), "ValidationException");
    assert_eq!(
        message(&err),
        "1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length less than or equal to 500"
    );
    let err = kinesis
        .put_records()
        .stream_name("limits")
        .set_records(Some(Vec::new()))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err), "ValidationException");

    // 1 MiB per record, data and partition key together.
    let mib = 1024 * 1024;
    let exact = vec![b'a'; mib - 3];
    kinesis
        .put_records()
        .stream_name("limits")
        .records(entry("key", &exact))
        .send()
        .await
        .unwrap();
    let over = vec![b'a'; mib - 2];
    let err = kinesis
        .put_records()
        .stream_name("limits")
        .records(entry("key", &over))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        message(&err),
        "1 validation error detected: Value at 'records.1.member.data' failed to satisfy constraint: Member must have length less than or equal to 1048576"
    );
    let err = kinesis
        .put_record()
        .stream_name("limits")
        .partition_key("key")
        .data(Blob::new(over))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err), "ValidationException");

    // 5 MiB per call.
    let err = kinesis
        .put_records()
        .stream_name("limits")
        .set_records(Some(vec![entry("key", &exact); 6]))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_argument_exception(), "{err:?}");
    assert_eq!(message(&err), "Records size exceeds 5 MB limit");

    let err = kinesis
        .put_record()
        .stream_name("limits")
        .partition_key("k".repeat(257))
        .data(Blob::new("x"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err), "ValidationException");
    assert!(message(&err).contains("at 'partitionKey'"), "{err:?}");
}

#[tokio::test]
async fn data_plane_errors_are_kinesis_errors() {
    let local = common::start().await;
    let kinesis = client(&local);
    create(&kinesis, "errs", 2).await;
    let shard0 = "shardId-000000000000";

    let err = kinesis
        .put_record()
        .stream_name("nope")
        .partition_key("k")
        .data(Blob::new("x"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    assert_eq!(message(&err), "Stream nope under account 000000000000 not found.");

    let err = kinesis
        .get_shard_iterator()
        .stream_name("errs")
        .shard_id("shardId-000000000009")
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    assert_eq!(
        message(&err),
        "Shard shardId-000000000009 in stream errs under account 000000000000 does not exist"
    );

    let err = kinesis
        .get_shard_iterator()
        .stream_name("errs")
        .shard_id(shard0)
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_argument_exception(), "{err:?}");

    // A sequence number of another shard, and one that is not a sequence number at all.
    let entries: Vec<PutRecordsRequestEntry> = MD5_HASH_KEYS.iter().map(|(k, _)| entry(k, b"x")).collect();
    let out = kinesis
        .put_records()
        .stream_name("errs")
        .set_records(Some(entries))
        .send()
        .await
        .unwrap();
    let other = out
        .records()
        .iter()
        .find(|r| r.shard_id() == Some("shardId-000000000001"))
        .unwrap()
        .sequence_number()
        .unwrap();
    let err = kinesis
        .get_shard_iterator()
        .stream_name("errs")
        .shard_id(shard0)
        .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
        .starting_sequence_number(other)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_argument_exception(), "{err:?}");
    assert_eq!(
        message(&err),
        "Invalid StartingSequenceNumber. It encodes shardId-000000000001, while it was used in a call to a shard with shardId-000000000000"
    );
    let err = kinesis
        .get_shard_iterator()
        .stream_name("errs")
        .shard_id(shard0)
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .starting_sequence_number("12345")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_argument_exception(), "{err:?}");

    // A timestamp in the future.
    let err = kinesis
        .get_shard_iterator()
        .stream_name("errs")
        .shard_id(shard0)
        .shard_iterator_type(ShardIteratorType::AtTimestamp)
        .timestamp(DateTime::from_secs(4_000_000_000))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_argument_exception(), "{err:?}");

    // Iterators this runtime did not issue.
    for forged in [
        "garbage",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let err = kinesis
            .get_records()
            .shard_iterator(forged)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_invalid_argument_exception(), "{err:?}");
        assert_eq!(message(&err), "Invalid ShardIterator.");
    }
    let it = iterator(&kinesis, "errs", shard0, ShardIteratorType::TrimHorizon, None).await;
    for limit in [0, 10_001] {
        let err = kinesis
            .get_records()
            .shard_iterator(&it)
            .limit(limit)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(code(&err), "ValidationException", "Limit {limit}");
    }
    // Another account cannot use the iterator.
    let other_account = Client::new(&common::sdk(&local, "111111111111"));
    let err = other_account
        .get_records()
        .shard_iterator(&it)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_argument_exception(), "{err:?}");
}

#[tokio::test]
async fn a_shard_iterator_wrapped_in_quotes_reads_as_the_iterator() {
    // AWS strips the quotes (LocalStack test_get_records_shard_iterator_with_surrounding_quotes,
    // validated on AWS); a half-quoted one is still invalid.
    let local = common::start().await;
    let kinesis = client(&local);
    create(&kinesis, "quoted", 1).await;
    let (shard, _) = put(&kinesis, "quoted", "1", b"Hello world").await;
    let it = iterator(&kinesis, "quoted", &shard, ShardIteratorType::TrimHorizon, None).await;
    assert_eq!(
        data_of(&records(&kinesis, &format!("\"{it}\"")).await),
        ["Hello world"]
    );
    let err = kinesis
        .get_records()
        .shard_iterator(format!("\"{it}"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_argument_exception(), "{err:?}");
}

#[tokio::test]
async fn a_stream_being_created_takes_no_records() {
    let local = common::start_with(
        Profile {
            stream_ready_ms: 60_000,
            ..Profile::instant()
        },
        Faults::default(),
    )
    .await;
    let kinesis = client(&local);
    create(&kinesis, "slow", 1).await;
    let err = kinesis
        .put_record()
        .stream_name("slow")
        .partition_key("k")
        .data(Blob::new("x"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
}

#[tokio::test]
async fn a_resharded_stream_closes_its_old_shards_after_their_last_record() {
    let local = common::start().await;
    let kinesis = client(&local);
    create(&kinesis, "grow", 1).await;
    let shard0 = "shardId-000000000000";
    put(&kinesis, "grow", "k", b"before").await;
    let it = iterator(&kinesis, "grow", shard0, ShardIteratorType::TrimHorizon, None).await;
    kinesis
        .update_shard_count()
        .stream_name("grow")
        .target_shard_count(2)
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await
        .unwrap();
    let (shard, _) = put(&kinesis, "grow", "k", b"after").await;
    assert_ne!(shard, shard0, "new records go to the new shards");
    let out = kinesis.get_records().shard_iterator(&it).send().await.unwrap();
    assert_eq!(data_of(out.records()), ["before"]);
    assert_eq!(out.next_shard_iterator(), None, "a closed shard read to its end");
    let children: Vec<&str> = out.child_shards().iter().map(|c| c.shard_id()).collect();
    assert_eq!(children, ["shardId-000000000001", "shardId-000000000002"]);
}

#[tokio::test]
async fn a_deleted_streams_records_go_with_it() {
    let local = common::start().await;
    let kinesis = client(&local);
    create(&kinesis, "again", 1).await;
    put(&kinesis, "again", "k", b"first life").await;
    kinesis.delete_stream().stream_name("again").send().await.unwrap();
    create(&kinesis, "again", 1).await;
    let it = iterator(
        &kinesis,
        "again",
        "shardId-000000000000",
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    assert!(records(&kinesis, &it).await.is_empty());
    let (_, seq) = put(&kinesis, "again", "k", b"second life").await;
    assert_eq!(data_of(&records(&kinesis, &it).await), ["second life"]);
    assert_eq!(seq.len(), 56);
    let resources = common::resources(&local).await;
    let kinds: Vec<&str> = resources["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["stream"], "records are data, not resources");
}

/// One Kinesis call the way the AWS SDK for Java sends it: CBOR body, `application/x-amz-cbor-1.1`,
/// a SigV4 credential scope. Returns the status, the content type and the decoded answer.
async fn java_sdk_cbor_call(
    local: &Running,
    operation: &str,
    body: ciborium::Value,
) -> (u16, String, ciborium::Value) {
    let mut payload = Vec::new();
    ciborium::ser::into_writer(&body, &mut payload).unwrap();
    let addr = local.addr();
    let operation = operation.to_owned();
    let raw = tokio::task::spawn_blocking(move || {
        use std::io::{Read as _, Write as _};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "POST / HTTP/1.1\r\nHost: kinesis.us-east-1.amazonaws.com\r\n\
             X-Amz-Target: Kinesis_20131202.{operation}\r\n\
             Content-Type: application/x-amz-cbor-1.1\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential={}/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            common::ACCOUNT,
            payload.len()
        )
        .unwrap();
        s.write_all(&payload).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        out
    })
    .await
    .unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let status = head[9..12].parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let value = ciborium::de::from_reader(&raw[split + 4..]).unwrap();
    (status, content_type, value)
}

fn cbor_map(entries: Vec<(&str, ciborium::Value)>) -> ciborium::Value {
    ciborium::Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

fn cbor_get<'a>(value: &'a ciborium::Value, key: &str) -> &'a ciborium::Value {
    let ciborium::Value::Map(entries) = value else {
        panic!("not a map: {value:?}")
    };
    &entries
        .iter()
        .find(|(k, _)| k.as_text() == Some(key))
        .unwrap_or_else(|| panic!("no {key} in {value:?}"))
        .1
}

#[tokio::test]
async fn a_cbor_put_records_get_records_round_trip_works_as_the_java_sdk_sends_it() {
    use ciborium::Value as Cbor;
    let local = common::start().await;
    let kinesis = client(&local);
    create(&kinesis, "java", 1).await;
    let before_ms = u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();

    // PutRecords: data as CBOR byte strings (not base64 text), binary included.
    let bytes = vec![0_u8, 159, 255, b'j', b'v'];
    let (status, content_type, out) = java_sdk_cbor_call(
        &local,
        "PutRecords",
        cbor_map(vec![
            ("StreamName", "java".into()),
            (
                "Records",
                Cbor::Array(vec![
                    cbor_map(vec![
                        ("Data", Cbor::Bytes(bytes.clone())),
                        ("PartitionKey", "a".into()),
                    ]),
                    cbor_map(vec![
                        ("Data", Cbor::Bytes(b"{\"x\":1}".to_vec())),
                        ("PartitionKey", "b".into()),
                    ]),
                ]),
            ),
        ]),
    )
    .await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "application/x-amz-cbor-1.1"),
        "{out:?}"
    );
    assert_eq!(cbor_get(&out, "FailedRecordCount"), &Cbor::Integer(0.into()));
    let shard = cbor_get(&cbor_get(&out, "Records").as_array().unwrap()[0], "ShardId")
        .as_text()
        .unwrap()
        .to_owned();

    // GetShardIterator AT_TIMESTAMP: the Java SDK's timestamp is tag 1 over epoch milliseconds.
    let (status, _, out) = java_sdk_cbor_call(
        &local,
        "GetShardIterator",
        cbor_map(vec![
            ("StreamName", "java".into()),
            ("ShardId", shard.as_str().into()),
            ("ShardIteratorType", "AT_TIMESTAMP".into()),
            (
                "Timestamp",
                Cbor::Tag(1, Box::new(Cbor::Integer((before_ms - 1000).into()))),
            ),
        ]),
    )
    .await;
    assert_eq!(status, 200, "{out:?}");
    let cbor_iterator = cbor_get(&out, "ShardIterator").clone();

    // GetRecords: data comes back as bytes, the arrival time as tag 1 over milliseconds.
    let (status, _, out) = java_sdk_cbor_call(
        &local,
        "GetRecords",
        cbor_map(vec![("ShardIterator", cbor_iterator)]),
    )
    .await;
    assert_eq!(status, 200, "{out:?}");
    let got = cbor_get(&out, "Records").as_array().unwrap();
    assert_eq!(got.len(), 2, "{out:?}");
    assert_eq!(cbor_get(&got[0], "Data"), &Cbor::Bytes(bytes));
    assert_eq!(cbor_get(&got[1], "Data"), &Cbor::Bytes(b"{\"x\":1}".to_vec()));
    let Cbor::Tag(1, arrival) = cbor_get(&got[0], "ApproximateArrivalTimestamp") else {
        panic!("not a tagged timestamp: {out:?}")
    };
    let arrival_ms = u64::try_from(i128::from(arrival.as_integer().unwrap())).unwrap();
    assert!(
        arrival_ms >= before_ms - 1000 && arrival_ms < before_ms + 60_000,
        "{arrival_ms} vs {before_ms}"
    );

    // What was put over CBOR reads the same through the JSON SDK client.
    let it = iterator(&kinesis, "java", &shard, ShardIteratorType::TrimHorizon, None).await;
    let read = records(&kinesis, &it).await;
    assert_eq!(read[1].data().as_ref(), b"{\"x\":1}");

    // Errors are CBOR too: `__type` and `message`, as recorded on AWS
    // (LocalStack test_cbor_exceptions).
    let (status, content_type, out) = java_sdk_cbor_call(
        &local,
        "DescribeStream",
        cbor_map(vec![("StreamName", "wrong-stream-name".into())]),
    )
    .await;
    assert_eq!(
        (status, content_type.as_str()),
        (400, "application/x-amz-cbor-1.1")
    );
    assert_eq!(
        out,
        cbor_map(vec![
            ("__type", "ResourceNotFoundException".into()),
            (
                "message",
                format!(
                    "Stream wrong-stream-name under account {} not found.",
                    common::ACCOUNT
                )
                .into()
            ),
        ])
    );
}
