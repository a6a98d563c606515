//! The pure planning step: records → (user, session) groups of PutEvents calls, and skipped
//! records with their reasons.

use std::collections::HashMap;

use crate::event::KinesisBatch;
use crate::parse::{ForwardEvent, Skip, parse_record};

/// Most events in one PutEvents call.
pub const MAX_EVENTS_PER_CALL: usize = 10;

/// All events of one (userId, sessionId) pair in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The user.
    pub user_id: String,
    /// The session.
    pub session_id: String,
    /// The events, in the order their records arrived.
    pub events: Vec<ForwardEvent>,
}

impl Group {
    /// The group's PutEvents calls: consecutive chunks of at most [`MAX_EVENTS_PER_CALL`]
    /// events, in order.
    pub fn calls(&self) -> std::slice::Chunks<'_, ForwardEvent> {
        self.events.chunks(MAX_EVENTS_PER_CALL)
    }

    /// How many PutEvents calls the group needs.
    pub fn call_count(&self) -> usize {
        self.events.len().div_ceil(MAX_EVENTS_PER_CALL)
    }
}

/// A record that will not be forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRecord {
    /// The record's Kinesis sequence number (may be empty for a record without one).
    pub sequence_number: String,
    /// The record's Kinesis `eventID`, if any.
    pub kinesis_event_id: Option<String>,
    /// Why it is skipped.
    pub skip: Skip,
}

/// What one batch turns into.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Records in the batch.
    pub received: usize,
    /// Groups in order of each group's first record.
    pub groups: Vec<Group>,
    /// Malformed records, in arrival order.
    pub skipped: Vec<SkippedRecord>,
}

impl Plan {
    /// Number of PutEvents calls the plan makes (before any retry or split).
    pub fn call_count(&self) -> usize {
        self.groups.iter().map(Group::call_count).sum()
    }

    /// Number of events to forward.
    pub fn event_count(&self) -> usize {
        self.groups.iter().map(|g| g.events.len()).sum()
    }
}

/// Decodes every record once and groups the good ones by (userId, sessionId), keeping arrival
/// order inside each group and ordering groups by their first record.
pub fn plan(batch: &KinesisBatch, default_event_type: Option<&str>) -> Plan {
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut skipped = Vec::new();
    for record in &batch.records {
        match parse_record(record, default_event_type) {
            Ok(event) => {
                let key = (event.user_id.clone(), event.session_id.clone());
                let slot = *index.entry(key).or_insert_with(|| {
                    groups.push(Group {
                        user_id: event.user_id.clone(),
                        session_id: event.session_id.clone(),
                        events: Vec::new(),
                    });
                    groups.len() - 1
                });
                groups[slot].events.push(event);
            }
            Err(skip) => skipped.push(SkippedRecord {
                sequence_number: record.kinesis.sequence_number.trim().to_owned(),
                kinesis_event_id: record.event_id.clone(),
                skip,
            }),
        }
    }
    Plan {
        received: batch.records.len(),
        groups,
        skipped,
    }
}
