//! The `trigger`, `forwarder` and `personalize` hops, followed through the forwarder's
//! structured log lines (one JSON object per event, under its event id) read with
//! FilterLogEvents, the mapping's state, and — against the local runtime — the events
//! PutEvents stored.

use super::pipeline::{Pipeline, event_id};
use super::stream::Found;
use super::{Broken, Outcome, Run, clip};
use personalize_stack_core::engine::ErrorKind;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// PutEvents errors that no retry fixes.
const FINAL_ERRORS: [&str; 5] = [
    "ResourceNotFoundException",
    "AccessDeniedException",
    "InvalidInputException",
    "UnrecognizedClientException",
    "not authorized",
];

/// What the forwarder said about one event.
#[derive(Debug, Clone)]
struct Said {
    /// `forwarded`, `rejected` or `failed`.
    msg: String,
    /// The PutEvents error, with its kind in parentheses: `… (fatal)`.
    error: Option<String>,
}

impl Said {
    /// Whether nothing will change this event's fate: accepted, refused as invalid, or failed
    /// with an error no retry fixes (the mapping retries the batch, to the same end).
    fn settled(&self) -> bool {
        match self.msg.as_str() {
            "forwarded" | "rejected" => true,
            "failed" => self
                .error
                .as_deref()
                .is_some_and(|e| FINAL_ERRORS.iter().any(|code| e.contains(code))),
            _ => false,
        }
    }
}

/// The forwarder's lines for this run, gathered across the three hops.
pub(super) struct Follow {
    marker: String,
    expected: usize,
    said: BTreeMap<String, Said>,
    seen: BTreeSet<String>,
    /// Lines that say the function itself broke (init errors, timeouts).
    broken_lines: Vec<String>,
}

impl Follow {
    pub fn new(_p: &Pipeline, marker: &str, expected: usize) -> Follow {
        Follow {
            marker: marker.to_owned(),
            expected,
            said: BTreeMap::new(),
            seen: BTreeSet::new(),
            broken_lines: Vec::new(),
        }
    }

    /// Reads the function's log lines for this run that arrived since the last call.
    async fn poll(&mut self, run: &Run<'_>, log_group: &str) -> Result<(), Broken> {
        let logs = &run.aws.clients.logs;
        // Event ids of this run; and the lines that say the function could not run at all.
        let pattern = format!(
            "?\"{}-\" ?\"init error\" ?\"runtime error\" ?\"Task timed out\"",
            self.marker
        );
        // Log timestamps come from another clock on AWS: look a minute back. The marker
        // keeps older runs out.
        let start = run.started_ms - 60_000;
        let events = run
            .aws
            .list_all(
                "logs:FilterLogEvents",
                |token| {
                    logs.filter_log_events()
                        .log_group_name(log_group)
                        .start_time(start)
                        .filter_pattern(&pattern)
                        .set_next_token(token)
                        .send()
                },
                |page| (page.events.unwrap_or_default(), page.next_token),
            )
            .await;
        let events = match events {
            Ok(events) => events,
            // The group appears with the function's first line.
            Err(e) if e.is(ErrorKind::NotFound) => return Ok(()),
            Err(e) => {
                return Err(Broken::new(format!("cannot read the log group `{log_group}`"))
                    .cause(format!("{}: {}", e.code, e.message)));
            }
        };
        for event in events {
            let key = event
                .event_id()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{:?}{:?}", event.timestamp(), event.message()));
            if !self.seen.insert(key) {
                continue;
            }
            let Some(message) = event.message() else { continue };
            self.read_line(message, event.timestamp().unwrap_or(0) >= run.started_ms - 1_000);
        }
        Ok(())
    }

    fn read_line(&mut self, message: &str, recent: bool) {
        let prefix = format!("{}-", self.marker);
        let Ok(line) = serde_json::from_str::<Value>(message.trim()) else {
            if recent && !message.contains(&prefix) {
                self.broken_lines.push(clip(message, 400));
            }
            return;
        };
        let Some(id) = line.get("eventId").and_then(Value::as_str) else {
            return;
        };
        if !id.starts_with(&prefix) {
            return;
        }
        let msg = line
            .get("msg")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if !matches!(msg.as_str(), "forwarded" | "rejected" | "failed") {
            return;
        }
        let said = Said {
            msg,
            error: line.get("error").and_then(Value::as_str).map(str::to_owned),
        };
        // Keep the most telling line: a settled one wins over a retryable failure.
        let keep = match self.said.get(id) {
            Some(old) => !old.settled() || said.settled(),
            None => true,
        };
        if keep {
            self.said.insert(id.to_owned(), said);
        }
    }

    fn settled(&self) -> usize {
        self.said.values().filter(|s| s.settled()).count()
    }

    /// An event PutEvents refused for good, if any.
    fn refused(&self) -> Option<(&String, &Said)> {
        self.said
            .iter()
            .find(|(_, s)| s.msg != "forwarded" && s.settled())
    }

    /// The `trigger` hop: the mapping is enabled and the function got the records.
    pub async fn trigger(&mut self, run: &Run<'_>, p: &Pipeline) -> Outcome {
        let Some(function) = &p.function else {
            return Outcome::Skipped("no function of this stack is triggered by the stream".into());
        };
        loop {
            let state = match mapping_state(run, p).await {
                Ok(s) => s,
                Err(b) => return Outcome::Failed(b),
            };
            if matches!(state.state.as_str(), "Disabled" | "Disabling") {
                return Outcome::Failed(
                    Broken::new(format!(
                        "event source mapping {} of `{}` is {}",
                        state.uuid, function.name, state.state
                    ))
                    .cause(format!(
                        "the trigger from the stream to `{}` is disabled, so nothing reads the records; enable it (`personalize-stack up` does when the stack declares it enabled)",
                        function.name
                    ))
                    .evidence(state.describe()),
                );
            }
            if let Err(b) = self.poll(run, &function.log_group).await {
                return Outcome::Failed(b);
            }
            if !self.said.is_empty() {
                return Outcome::Passed(format!(
                    "mapping {} {} (last result: {}); `{}` received the records",
                    state.uuid, state.state, state.last_result, function.name
                ));
            }
            if let Some(line) = self.broken_lines.first() {
                return Outcome::Failed(
                    Broken::new(format!("`{}` cannot run", function.name))
                        .cause(format!("the function fails before handling any record: {line}"))
                        .evidence(state.describe()),
                );
            }
            if run.expired() {
                let cause = if state.starting_position == "LATEST" {
                    format!(
                        "the mapping is {} but did not deliver the records; it starts at LATEST, so records written before it began polling are never delivered: declare `starting_position: TRIM_HORIZON`",
                        state.state
                    )
                } else {
                    format!(
                        "the mapping is {} but did not deliver the records: see its last processing result",
                        state.state
                    )
                };
                let mut broken = Broken::new(format!(
                    "`{}` logged nothing about this run's records before the timeout",
                    function.name
                ))
                .cause(cause)
                .evidence(state.describe());
                for line in self.broken_lines.iter().take(5) {
                    broken = broken.evidence(format!("log: {line}"));
                }
                return Outcome::Failed(broken);
            }
            run.pause().await;
        }
    }

    /// The `forwarder` hop: the function took every event and sent it to PutEvents.
    pub async fn forwarder(&mut self, run: &Run<'_>, p: &Pipeline, found: &Found) -> Outcome {
        let Some(function) = &p.function else {
            return Outcome::Skipped("no function of this stack is triggered by the stream".into());
        };
        loop {
            if self.settled() >= self.expected || self.refused().is_some() {
                return Outcome::Passed(format!(
                    "`{}` sent {} of {} events to PutEvents (logged under their event ids)",
                    function.name,
                    self.said.len(),
                    self.expected
                ));
            }
            if run.expired() {
                let missing: Vec<String> = (0..self.expected)
                    .map(|n| event_id(&self.marker, n))
                    .filter(|id| !self.said.contains_key(id))
                    .collect();
                let mut broken = Broken::new(format!(
                    "`{}` accounted for {} of {} events before the timeout",
                    function.name,
                    self.settled(),
                    self.expected
                ))
                .cause("the forwarder skipped or is still retrying some events: see its `skipped` and `retry` lines for these sequence numbers");
                for id in missing.iter().take(5) {
                    let at = found.records.get(id).map_or_else(String::new, |(shard, seq)| {
                        format!(" ({shard}, sequence number {seq})")
                    });
                    broken = broken.evidence(format!("no outcome logged for {id}{at}"));
                }
                for (id, s) in self.said.iter().filter(|(_, s)| !s.settled()).take(5) {
                    broken = broken.evidence(format!("{id}: {} {}", s.msg, s.error.as_deref().unwrap_or("")));
                }
                return Outcome::Failed(broken);
            }
            run.pause().await;
            if let Err(b) = self.poll(run, &function.log_group).await {
                return Outcome::Failed(b);
            }
        }
    }

    /// The `personalize` hop: PutEvents accepted every event for the tracker.
    pub async fn personalize(&mut self, run: &Run<'_>, p: &Pipeline, records: &[Value]) -> Outcome {
        if p.function.is_none() {
            return Outcome::Skipped("no function of this stack forwards the stream to PutEvents".into());
        }
        if let Some((id, said)) = self.refused() {
            return Outcome::Failed(refusal(run, p, id, said).await);
        }
        let Some(tracker) = &p.tracker else {
            return Outcome::Passed(format!(
                "PutEvents accepted {} of {} events (the forwarder's lines; the stack names no tracker to check)",
                self.said.len(),
                self.expected
            ));
        };
        let local = match &run.aws.endpoint_url {
            Some(endpoint) => stored_events(run, endpoint, &tracker.tracking_id, &self.marker).await,
            None => None,
        };
        let Some(mut stored) = local else {
            return Outcome::Passed(format!(
                "PutEvents accepted {} of {} events for tracker `{}`, per the forwarder's lines (PutEvents has no read API)",
                self.said.len(),
                self.expected,
                tracker.name
            ));
        };
        let endpoint = run.aws.endpoint_url.clone().unwrap_or_default();
        loop {
            if stored.len() >= self.expected {
                return match compare(&stored, records, &self.marker) {
                    None => Outcome::Passed(format!(
                        "{} of {} events stored for tracker `{}` (tracking ID {}) with the user, item, type and time sent",
                        self.expected, self.expected, tracker.name, tracker.tracking_id
                    )),
                    Some(difference) => Outcome::Failed(
                        Broken::new("the stored events differ from the records sent")
                            .cause("the forwarder maps a field differently from the workshop's record shape")
                            .evidence(difference),
                    ),
                };
            }
            if run.expired() {
                return Outcome::Failed(
                    Broken::new(format!(
                        "{} of {} events stored for tracker `{}` before the timeout",
                        stored.len(),
                        self.expected,
                        tracker.name
                    ))
                    .cause("the forwarder logged them as forwarded but PutEvents did not store them for this tracker: does the function send to another tracking ID?"),
                );
            }
            run.pause().await;
            stored = stored_events(run, &endpoint, &tracker.tracking_id, &self.marker)
                .await
                .unwrap_or_default();
            if let Some(function) = &p.function
                && let Err(b) = self.poll(run, &function.log_group).await
            {
                return Outcome::Failed(b);
            }
            if let Some((id, said)) = self.refused() {
                return Outcome::Failed(refusal(run, p, id, said).await);
            }
        }
    }
}

/// Why PutEvents refused an event: the tracking ID the function sends, the tracker's
/// status, the role, or the event itself.
async fn refusal(run: &Run<'_>, p: &Pipeline, id: &str, said: &Said) -> Broken {
    let error = said.error.clone().unwrap_or_else(|| "no error logged".into());
    let broken = Broken::new(format!("PutEvents refused {id}: {error}"))
        .evidence(format!("forwarder line for {id}: {} {error}", said.msg));
    if error.contains("AccessDenied") || error.contains("not authorized") {
        return broken.cause(
            "the forwarder's role may not call personalize:PutEvents; `personalize-stack up` restores its policy",
        );
    }
    if said.msg == "rejected" || error.contains("InvalidInputException") {
        return broken.cause("PutEvents refused the event itself as invalid input: see the message");
    }
    let (Some(function), Some(tracker)) = (&p.function, &p.tracker) else {
        return broken.cause("PutEvents refused the forwarder's calls");
    };
    let lambda = &run.aws.clients.lambda;
    let sent = run
        .aws
        .call("lambda:GetFunctionConfiguration", || {
            lambda
                .get_function_configuration()
                .function_name(&function.name)
                .send()
        })
        .await
        .ok()
        .and_then(|c| {
            c.environment()
                .and_then(|e| e.variables())
                .and_then(|v| v.get("TRACKING_ID").cloned())
        });
    match sent {
        Some(sent) if sent != tracker.tracking_id => broken.cause(format!(
            "`{}` sends TRACKING_ID `{sent}`, but tracker `{}` ({}) has tracking ID `{}`; `personalize-stack up` sets the function's environment from the tracker",
            function.name, tracker.logical, tracker.name, tracker.tracking_id
        )),
        Some(sent) => {
            let status = match &tracker.arn {
                Some(arn) => {
                    let personalize = &run.aws.clients.personalize;
                    run.aws
                        .call("personalize:DescribeEventTracker", || {
                            personalize.describe_event_tracker().event_tracker_arn(arn).send()
                        })
                        .await
                        .ok()
                        .and_then(|d| d.event_tracker().and_then(|t| t.status().map(str::to_owned)))
                }
                None => None,
            };
            match status {
                Some(s) if s != "ACTIVE" => broken.cause(format!(
                    "tracker `{}` (tracking ID `{sent}`) is {s}, not ACTIVE; wait for it or run `personalize-stack up`",
                    tracker.name
                )),
                _ => broken.cause(format!(
                    "PutEvents refused tracking ID `{sent}` of tracker `{}`",
                    tracker.name
                )),
            }
        }
        None => broken.cause(format!(
            "`{}` has no TRACKING_ID in its environment; `personalize-stack up` sets it from tracker `{}`",
            function.name, tracker.logical
        )),
    }
}

/// The mapping's state and last result.
struct MappingState {
    uuid: String,
    state: String,
    last_result: String,
    reason: String,
    starting_position: String,
}

impl MappingState {
    fn describe(&self) -> String {
        format!(
            "mapping {}: State {}, LastProcessingResult {}, StateTransitionReason {}",
            self.uuid, self.state, self.last_result, self.reason
        )
    }
}

async fn mapping_state(run: &Run<'_>, p: &Pipeline) -> Result<MappingState, Broken> {
    let lambda = &run.aws.clients.lambda;
    let function = p.function.as_ref().map(|f| f.name.clone()).unwrap_or_default();
    let uuid = match p.function.as_ref().and_then(|f| f.mapping_uuid.clone()) {
        Some(u) => u,
        None => {
            let listed = run
                .aws
                .call("lambda:ListEventSourceMappings", || {
                    lambda
                        .list_event_source_mappings()
                        .function_name(&function)
                        .send()
                })
                .await
                .map_err(|e| {
                    Broken::new("cannot list the function's mappings")
                        .cause(format!("{}: {}", e.code, e.message))
                })?;
            match listed.event_source_mappings().first().and_then(|m| m.uuid()) {
                Some(u) => u.to_owned(),
                None => {
                    return Err(Broken::new(format!("`{function}` has no event source mapping"))
                        .cause("nothing delivers the stream's records to the function; run `personalize-stack up` to create the trigger"));
                }
            }
        }
    };
    let m = run
        .aws
        .call("lambda:GetEventSourceMapping", || {
            lambda.get_event_source_mapping().uuid(&uuid).send()
        })
        .await
        .map_err(|e| {
            Broken::new(format!("event source mapping {uuid} cannot be read")).cause(format!(
                "{}: {}; run `personalize-stack up` to create the trigger again",
                e.code, e.message
            ))
        })?;
    Ok(MappingState {
        uuid: uuid.clone(),
        state: m.state().unwrap_or("unknown").to_owned(),
        last_result: m.last_processing_result().unwrap_or("none").to_owned(),
        reason: m.state_transition_reason().unwrap_or("none").to_owned(),
        starting_position: m
            .starting_position()
            .map_or_else(String::new, |p| p.as_str().to_owned()),
    })
}

/// The events the local runtime stored for `tracking_id` with this run's ids, or `None` when
/// the endpoint is not a personalize-stack runtime (then the forwarder's lines are the proof).
async fn stored_events(run: &Run<'_>, endpoint: &str, tracking_id: &str, marker: &str) -> Option<Vec<Value>> {
    let enc =
        |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    let url = format!(
        "{}/_local/events?trackingId={}&eventIdPrefix={}",
        endpoint.trim_end_matches('/'),
        enc(tracking_id),
        enc(&format!("{marker}-"))
    );
    let response = run.http.send("GET", &url, &[], "").await.ok()?;
    if response.status != 200 {
        return None;
    }
    let body: Value = serde_json::from_str(&response.body).ok()?;
    body.get("events").and_then(Value::as_array).cloned()
}

/// The first difference between the stored events and the records sent, if any.
fn compare(stored: &[Value], records: &[Value], marker: &str) -> Option<String> {
    for (n, record) in records.iter().enumerate() {
        let id = event_id(marker, n);
        let Some(doc) = stored
            .iter()
            .find(|d| d.pointer("/event/eventId").and_then(Value::as_str) == Some(id.as_str()))
        else {
            return Some(format!("{id} was not stored"));
        };
        let text = |v: Option<&Value>| match v {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let pick = |keys: &[&str]| keys.iter().find_map(|k| text(record.get(*k)));
        let checks = [
            (
                "userId",
                pick(&["userid", "userId", "user_id"]),
                text(doc.get("userId")),
            ),
            (
                "itemId",
                pick(&["itemid", "itemId", "item_id"]),
                text(doc.pointer("/event/itemId")),
            ),
            (
                "eventType",
                pick(&["event_type", "eventType"]),
                text(doc.pointer("/event/eventType")),
            ),
        ];
        for (field, sent, got) in checks {
            if sent.is_some() && sent != got {
                return Some(format!(
                    "{id}: {field} sent {} but stored {}",
                    sent.unwrap_or_default(),
                    got.unwrap_or_else(|| "nothing".into())
                ));
            }
        }
        if let Some(ts) = pick(&["timestamp", "sentAt"]).and_then(|t| t.parse::<f64>().ok()) {
            let stored_at = doc.pointer("/event/sentAt").and_then(Value::as_f64);
            if stored_at.is_none_or(|s| (s - ts).abs() > 1.0) {
                return Some(format!(
                    "{id}: sentAt sent {ts} but stored {}",
                    stored_at.map_or_else(|| "nothing".into(), |s| s.to_string())
                ));
            }
        }
    }
    None
}

/// Step 1: waits while the mapping is still starting (Creating, Enabling, Updating), so a
/// mapping that starts at LATEST does not begin after the test's records.
pub(super) async fn wait_until_observable(run: &Run<'_>, p: &Pipeline) {
    if p.function.is_none() {
        return;
    }
    while let Ok(s) = mapping_state(run, p).await {
        if !matches!(s.state.as_str(), "Creating" | "Enabling" | "Updating") || run.expired() {
            return;
        }
        run.pause().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn follow() -> Follow {
        Follow {
            marker: "pst-000000000001".into(),
            expected: 2,
            said: BTreeMap::new(),
            seen: BTreeSet::new(),
            broken_lines: Vec::new(),
        }
    }

    #[test]
    fn reads_the_forwarders_lines_for_this_run_only() {
        let mut f = follow();
        f.read_line(r#"{"msg":"forwarded","eventId":"pst-000000000001-1"}"#, true);
        f.read_line(r#"{"msg":"forwarded","eventId":"pst-000000000002-1"}"#, true);
        f.read_line(r#"{"msg":"received","records":2}"#, true);
        assert_eq!(f.said.len(), 1);
        assert_eq!(f.settled(), 1);
        assert!(f.refused().is_none());

        // A retryable failure is not the end; a refusal is, and it wins over the retry.
        f.read_line(
            r#"{"msg":"failed","eventId":"pst-000000000001-2","error":"ThrottlingException: slow down (HTTP 400)"}"#,
            true,
        );
        assert_eq!(f.settled(), 1);
        f.read_line(
            r#"{"msg":"failed","eventId":"pst-000000000001-2","error":"ResourceNotFoundException: Could not find an event tracker with tracking ID x. (HTTP 404)"}"#,
            true,
        );
        assert_eq!(f.settled(), 2);
        assert_eq!(f.refused().map(|(id, _)| id.as_str()), Some("pst-000000000001-2"));

        // Plain text (the bootstrap's init error) is kept as evidence.
        f.read_line(
            "personalize-stack-forwarder: init error: TRACKING_ID is not set",
            true,
        );
        assert_eq!(f.broken_lines.len(), 1);
    }

    #[test]
    fn stored_events_are_compared_with_what_was_sent() {
        let records = vec![serde_json::json!({
            "userid": "u1", "itemid": "i1", "event_type": "click", "timestamp": "1676975804"
        })];
        let stored = |item: &str, sent_at: f64| {
            vec![serde_json::json!({
                "userId": "u1",
                "event": {"eventId": "pst-000000000001-1", "itemId": item, "eventType": "click", "sentAt": sent_at}
            })]
        };
        assert_eq!(
            compare(&stored("i1", 1_676_975_804.0), &records, "pst-000000000001"),
            None
        );
        let diff = compare(&stored("i2", 1_676_975_804.0), &records, "pst-000000000001");
        assert!(diff.is_some_and(|d| d.contains("itemId sent i1 but stored i2")));
        let diff = compare(&stored("i1", 1.0), &records, "pst-000000000001");
        assert!(diff.is_some_and(|d| d.contains("sentAt")));
    }
}
