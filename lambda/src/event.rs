//! The Kinesis event as Lambda delivers it, read leniently.
//!
//! `aws_lambda_events::event::kinesis::KinesisEvent` decodes `kinesis.data` while the event is
//! deserialized, so one record with bad base64 would fail the whole invocation (and block the
//! shard). These types keep `data` as text; [`crate::parse`] decodes it per record, so a bad
//! record is skipped alone.

use serde::Deserialize;

/// A Kinesis event: the batch of records one invocation receives.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct KinesisBatch {
    /// The records in arrival (sequence-number) order.
    #[serde(rename = "Records", default)]
    pub records: Vec<KinesisEventRecord>,
}

/// One record of a [`KinesisBatch`].
#[derive(Debug, Clone, Default, Deserialize)]
pub struct KinesisEventRecord {
    /// `shardId-000000000000:<sequenceNumber>`: unique per record of a stream and the same on
    /// every redelivery.
    #[serde(rename = "eventID", default)]
    pub event_id: Option<String>,
    /// The stream's ARN.
    #[serde(rename = "eventSourceARN", default)]
    pub event_source_arn: Option<String>,
    /// The Kinesis part of the record.
    #[serde(default)]
    pub kinesis: KinesisRecordData,
}

/// The `kinesis` object of a record.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisRecordData {
    /// The record's sequence number in its shard (a decimal string).
    #[serde(default)]
    pub sequence_number: String,
    /// The payload, base64-encoded once by Lambda.
    #[serde(default)]
    pub data: Option<String>,
    /// The producer's partition key.
    #[serde(default)]
    pub partition_key: Option<String>,
    /// When Kinesis received the record, in epoch seconds (fractional).
    #[serde(default)]
    pub approximate_arrival_timestamp: Option<f64>,
}

impl KinesisEventRecord {
    /// The record's sequence number.
    pub fn sequence_number(&self) -> &str {
        &self.kinesis.sequence_number
    }
}
