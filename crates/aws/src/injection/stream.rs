//! The `stream` hop: the records read back from the stream, from iterators taken just
//! before the PUT, recognised by their event ids.

use super::pipeline::Pipeline;
use super::{Broken, Outcome, Run, clip};
use aws_sdk_kinesis::types::ShardIteratorType;
use std::collections::BTreeMap;

/// Where each open shard ended before the PUT.
pub(super) struct Positions {
    stream: String,
    iterators: Vec<(String, String)>,
}

/// The test's records as found in the stream: event id → (shard, sequence number).
#[derive(Debug, Default)]
pub(super) struct Found {
    pub records: BTreeMap<String, (String, String)>,
}

impl Positions {
    /// A `LATEST` iterator for every open shard.
    pub async fn take(run: &Run<'_>, p: &Pipeline) -> Result<Positions, Broken> {
        let Some(stream) = &p.stream else {
            return Err(Broken::new("no stream of this stack is among the request's parameters")
                .cause("the test cannot tell which stream the route writes to; name the stream in the test's `params`"));
        };
        let kinesis = &run.aws.clients.kinesis;
        // ListShards takes the stream's name or a continuation token, never both.
        let listed = run
            .aws
            .list_all(
                "kinesis:ListShards",
                |token| match token {
                    Some(t) => kinesis.list_shards().next_token(t).send(),
                    None => kinesis.list_shards().stream_name(&stream.name).send(),
                },
                |page| (page.shards.unwrap_or_default(), page.next_token),
            )
            .await
            .map_err(|e| {
                Broken::new(format!("cannot list the shards of `{}`", stream.name))
                    .cause(format!("{}: {}", e.code, e.message))
            })?;
        // Open shards only: a closed shard gets no new records.
        let shards: Vec<String> = listed
            .into_iter()
            .filter(|s| {
                s.sequence_number_range()
                    .and_then(|r| r.ending_sequence_number())
                    .is_none()
            })
            .map(|s| s.shard_id)
            .collect();
        let mut iterators = Vec::new();
        for shard in shards {
            let it = run
                .aws
                .call("kinesis:GetShardIterator", || {
                    kinesis
                        .get_shard_iterator()
                        .stream_name(&stream.name)
                        .shard_id(&shard)
                        .shard_iterator_type(ShardIteratorType::Latest)
                        .send()
                })
                .await
                .map_err(|e| {
                    Broken::new(format!("cannot read shard {shard} of `{}`", stream.name))
                        .cause(format!("{}: {}", e.code, e.message))
                })?;
            if let Some(it) = it.shard_iterator() {
                iterators.push((shard, it.to_owned()));
            }
        }
        Ok(Positions {
            stream: stream.name.clone(),
            iterators,
        })
    }
}

/// Reads every shard from its position until all `expected` records with the marker are
/// there or the run times out.
pub(super) async fn read_back(
    run: &Run<'_>,
    p: &Pipeline,
    positions: &Positions,
    marker: &str,
    expected: usize,
) -> (Outcome, Found) {
    let kinesis = &run.aws.clients.kinesis;
    let mut found = Found::default();
    let mut iterators = positions.iterators.clone();
    let mut strangers: Vec<String> = Vec::new();
    loop {
        for (shard, iterator) in &mut iterators {
            loop {
                let page = match run
                    .aws
                    .call("kinesis:GetRecords", || {
                        kinesis
                            .get_records()
                            .shard_iterator(iterator.as_str())
                            .limit(1000)
                            .send()
                    })
                    .await
                {
                    Ok(page) => page,
                    Err(e) => {
                        return (
                            Outcome::Failed(
                                Broken::new(format!(
                                    "GetRecords on {shard} of `{}` failed",
                                    positions.stream
                                ))
                                .cause(format!("{}: {}", e.code, e.message)),
                            ),
                            found,
                        );
                    }
                };
                for record in page.records() {
                    let data = String::from_utf8_lossy(record.data().as_ref()).into_owned();
                    match event_id_of(&data).filter(|id| id.starts_with(&format!("{marker}-"))) {
                        Some(id) => {
                            found
                                .records
                                .insert(id, (shard.clone(), record.sequence_number().to_owned()));
                        }
                        None if strangers.len() < 3 => strangers.push(clip(&data, 300)),
                        None => {}
                    }
                }
                if let Some(next) = page.next_shard_iterator() {
                    *iterator = next.to_owned();
                }
                // An empty page or one that is caught up ends this shard's round.
                if page.records().is_empty() || page.millis_behind_latest().unwrap_or(0) == 0 {
                    break;
                }
            }
        }
        if found.records.len() >= expected {
            let shards: std::collections::BTreeSet<&str> =
                found.records.values().map(|(s, _)| s.as_str()).collect();
            let shards: Vec<&str> = shards.into_iter().collect();
            return (
                Outcome::Passed(format!(
                    "{expected} of {expected} records in `{}` ({})",
                    positions.stream,
                    shards.join(", ")
                )),
                found,
            );
        }
        if run.expired() {
            let mut broken = Broken::new(format!(
                "{} of {expected} records with marker {marker} reached `{}` before the timeout",
                found.records.len(),
                positions.stream
            ));
            broken = if strangers.is_empty() {
                broken.cause(format!(
                    "the API accepted the records but they did not arrive in `{}`: does the template of `{}` write to another stream?",
                    positions.stream,
                    p.route_key()
                ))
            } else {
                broken.cause(format!(
                    "records arrived in `{}` without the test's event ids: the template of `{}` changes each record's Data (it must pass it through `$util.base64Encode($record.Data)`)",
                    positions.stream,
                    p.route_key()
                ))
            };
            for s in strangers {
                broken = broken.evidence(format!("a record that arrived: {s}"));
            }
            return (Outcome::Failed(broken), found);
        }
        run.pause().await;
    }
}

/// The `event_id` / `eventId` of a record's data, if it is a JSON object with one.
fn event_id_of(data: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(data).ok()?;
    v.get("event_id")
        .or_else(|| v.get("eventId"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}
