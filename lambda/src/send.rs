//! The sending step: PutEvents calls over a small client trait, with retries inside the
//! invocation's deadline.

use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher as _, Hasher as _};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use crate::config::{Config, RetryPolicy};
use crate::log::LogSink;
use crate::parse::ForwardEvent;
use crate::plan::Group;

/// One PutEvents call: up to 10 events of one user and session.
#[derive(Debug, Clone, Copy)]
pub struct PutEventsRequest<'a> {
    /// The event tracker's tracking id.
    pub tracking_id: &'a str,
    /// The user all events belong to.
    pub user_id: &'a str,
    /// The session all events belong to.
    pub session_id: &'a str,
    /// 1–10 events.
    pub events: &'a [ForwardEvent],
}

/// Something that can send a PutEvents call: the AWS SDK client, or a fake in tests.
pub trait PutEventsClient: Send + Sync + 'static {
    /// Sends one call; `Ok` when PutEvents answered 200.
    fn put_events(&self, request: PutEventsRequest<'_>)
    -> impl Future<Output = Result<(), SendError>> + Send;
}

/// How a failed call is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Throttling, 5xx, timeouts, connection errors: retried with backoff while time remains;
    /// reported in `batchItemFailures` if it never succeeds.
    Retryable,
    /// `InvalidInputException`: the call can never succeed. A multi-event call is split into
    /// single-event calls; an event rejected alone is logged as `rejected` and not reported.
    InvalidInput,
    /// Configuration errors (`ResourceNotFoundException`, access denied, other 4xx): not
    /// retried in this invocation, reported in `batchItemFailures` so a later retry can succeed
    /// once the configuration is fixed.
    Fatal,
}

impl ErrorKind {
    /// `"retryable"`, `"invalid_input"` or `"fatal"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retryable => "retryable",
            Self::InvalidInput => "invalid_input",
            Self::Fatal => "fatal",
        }
    }
}

/// A failed PutEvents call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// How to handle it.
    pub kind: ErrorKind,
    /// What AWS (or the transport) said.
    pub message: String,
}

impl SendError {
    /// A retryable error.
    pub fn retryable(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Retryable,
            message: message.into(),
        }
    }

    /// An invalid-input error.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::InvalidInput,
            message: message.into(),
        }
    }

    /// A fatal (configuration) error.
    pub fn fatal(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Fatal,
            message: message.into(),
        }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.kind.as_str())
    }
}

impl std::error::Error for SendError {}

/// Classifies a PutEvents error by its error code and HTTP status.
///
/// - `InvalidInputException` (or a 400 without a code) → [`ErrorKind::InvalidInput`];
/// - throttling codes (`ThrottlingException`, `TooManyRequestsException`, ...), 429, 408 and
///   every 5xx → [`ErrorKind::Retryable`];
/// - `ResourceNotFoundException` and every other 4xx → [`ErrorKind::Fatal`];
/// - no status at all (the request never got an answer) → [`ErrorKind::Retryable`].
pub fn classify(code: Option<&str>, status: Option<u16>) -> ErrorKind {
    const RETRYABLE_CODES: [&str; 12] = [
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "ProvisionedThroughputExceededException",
        "SlowDown",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
    ];
    match code {
        Some("InvalidInputException") => return ErrorKind::InvalidInput,
        Some(c) if RETRYABLE_CODES.contains(&c) => return ErrorKind::Retryable,
        Some("ResourceNotFoundException") => return ErrorKind::Fatal,
        _ => {}
    }
    match status {
        None => ErrorKind::Retryable,
        Some(408 | 429) => ErrorKind::Retryable,
        Some(s) if s >= 500 => ErrorKind::Retryable,
        Some(400) if code.is_none() => ErrorKind::InvalidInput,
        Some(_) => ErrorKind::Fatal,
    }
}

/// What happened to one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// PutEvents accepted it.
    Forwarded,
    /// PutEvents refused it as invalid input (alone, after any split): logged, not reported.
    Rejected {
        /// AWS's message.
        error: String,
    },
    /// Not delivered in this invocation: reported in `batchItemFailures`.
    Failed {
        /// The last error.
        error: String,
    },
}

/// The delivery of one event and how many attempts its last call took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDelivery {
    /// What happened.
    pub delivery: Delivery,
    /// Attempts of the call that settled it (0 when it was never sent).
    pub attempts: u32,
}

/// The result of sending a plan's groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendReport {
    /// One list per group, parallel to the group's events.
    pub deliveries: Vec<Vec<EventDelivery>>,
    /// PutEvents requests made (retries and split calls included).
    pub requests: usize,
}

/// Everything a sending task needs.
struct SendContext<C> {
    client: Arc<C>,
    tracking_id: Arc<str>,
    retry: RetryPolicy,
    cutoff: Instant,
    log: Arc<dyn LogSink>,
    request_id: Arc<str>,
    requests: AtomicUsize,
    rng: AtomicU64,
}

/// Sends every group: groups run concurrently (at most `max_concurrency` at once); the calls of
/// one group run in order, and after a call of a group fails the group's later calls are not
/// sent (they are reported as failed, so their order is kept when Lambda retries).
pub async fn send_groups<C: PutEventsClient>(
    client: Arc<C>,
    config: &Config,
    groups: Arc<Vec<Group>>,
    deadline: Instant,
    log: Arc<dyn LogSink>,
    request_id: Arc<str>,
) -> SendReport {
    let retry = &config.retry;
    let now = Instant::now();
    let left = deadline.saturating_duration_since(now);
    let margin = retry.safety_margin.min(left / 4);
    let ctx = Arc::new(SendContext {
        client,
        tracking_id: Arc::from(config.tracking_id.as_str()),
        retry: retry.clone(),
        cutoff: deadline.checked_sub(margin).unwrap_or(now),
        log,
        request_id,
        requests: AtomicUsize::new(0),
        rng: AtomicU64::new(
            std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish()
                | 1,
        ),
    });
    let results: Arc<Mutex<Vec<Option<Vec<EventDelivery>>>>> = Arc::new(Mutex::new(vec![None; groups.len()]));
    let next = Arc::new(AtomicUsize::new(0));
    let workers = config.max_concurrency.clamp(1, groups.len().max(1));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let ctx = Arc::clone(&ctx);
        let groups = Arc::clone(&groups);
        let results = Arc::clone(&results);
        let next = Arc::clone(&next);
        set.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(group) = groups.get(i) else { break };
                let deliveries = send_group(&ctx, group).await;
                match results.lock() {
                    Ok(mut r) => r[i] = Some(deliveries),
                    Err(poisoned) => poisoned.into_inner()[i] = Some(deliveries),
                }
            }
        });
    }
    while set.join_next().await.is_some() {}
    let results = match Arc::try_unwrap(results) {
        Ok(m) => m.into_inner().unwrap_or_else(|p| p.into_inner()),
        Err(shared) => match shared.lock() {
            Ok(r) => r.clone(),
            Err(p) => p.into_inner().clone(),
        },
    };
    let deliveries = results
        .into_iter()
        .zip(groups.iter())
        .map(|(r, g)| {
            r.unwrap_or_else(|| {
                g.events
                    .iter()
                    .map(|_| EventDelivery {
                        delivery: Delivery::Failed {
                            error: "internal error: the sending task ended early".into(),
                        },
                        attempts: 0,
                    })
                    .collect()
            })
        })
        .collect();
    SendReport {
        deliveries,
        requests: ctx.requests.load(Ordering::Relaxed),
    }
}

async fn send_group<C: PutEventsClient>(ctx: &SendContext<C>, group: &Group) -> Vec<EventDelivery> {
    let mut out = Vec::with_capacity(group.events.len());
    let mut earlier_failure: Option<String> = None;
    for chunk in group.calls() {
        if let Some(error) = &earlier_failure {
            out.extend(chunk.iter().map(|_| EventDelivery {
                delivery: Delivery::Failed {
                    error: format!("not sent: an earlier call for this user and session failed: {error}"),
                },
                attempts: 0,
            }));
            continue;
        }
        let deliveries = send_call(ctx, group, chunk).await;
        earlier_failure = deliveries.iter().find_map(|d| match &d.delivery {
            Delivery::Failed { error } => Some(error.clone()),
            _ => None,
        });
        out.extend(deliveries);
    }
    out
}

async fn send_call<C: PutEventsClient>(
    ctx: &SendContext<C>,
    group: &Group,
    events: &[ForwardEvent],
) -> Vec<EventDelivery> {
    let (result, attempts) = attempt_with_retries(ctx, group, events).await;
    match result {
        Ok(()) => all(events, Delivery::Forwarded, attempts),
        Err(e) if e.kind == ErrorKind::InvalidInput && events.len() > 1 => {
            ctx.log.emit(json!({
                "level": "warn",
                "msg": "split",
                "requestId": &*ctx.request_id,
                "userId": &group.user_id,
                "sessionId": &group.session_id,
                "events": events.len(),
                "error": &e.message,
            }));
            let mut out = Vec::with_capacity(events.len());
            let mut failed: Option<String> = None;
            for single in events.chunks(1) {
                if let Some(error) = &failed {
                    out.push(EventDelivery {
                        delivery: Delivery::Failed {
                            error: format!("not sent: an earlier event failed: {error}"),
                        },
                        attempts: 0,
                    });
                    continue;
                }
                let (result, attempts) = attempt_with_retries(ctx, group, single).await;
                let delivery = match result {
                    Ok(()) => Delivery::Forwarded,
                    Err(e) if e.kind == ErrorKind::InvalidInput => Delivery::Rejected { error: e.message },
                    Err(e) => {
                        failed = Some(e.message.clone());
                        Delivery::Failed { error: e.message }
                    }
                };
                out.push(EventDelivery { delivery, attempts });
            }
            out
        }
        Err(e) if e.kind == ErrorKind::InvalidInput => {
            all(events, Delivery::Rejected { error: e.message }, attempts)
        }
        Err(e) => all(events, Delivery::Failed { error: e.message }, attempts),
    }
}

fn all(events: &[ForwardEvent], delivery: Delivery, attempts: u32) -> Vec<EventDelivery> {
    events
        .iter()
        .map(|_| EventDelivery {
            delivery: delivery.clone(),
            attempts,
        })
        .collect()
}

/// Makes one call, retrying retryable errors with exponential backoff and jitter while the
/// attempt budget and the time before the cutoff last.
async fn attempt_with_retries<C: PutEventsClient>(
    ctx: &SendContext<C>,
    group: &Group,
    events: &[ForwardEvent],
) -> (Result<(), SendError>, u32) {
    let request = PutEventsRequest {
        tracking_id: &ctx.tracking_id,
        user_id: &group.user_id,
        session_id: &group.session_id,
        events,
    };
    let mut attempt = 0u32;
    loop {
        let remaining = ctx.cutoff.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            let error = if attempt == 0 {
                "not sent: no time left before the invocation's deadline".to_owned()
            } else {
                "no time left before the invocation's deadline".to_owned()
            };
            return (Err(SendError::retryable(error)), attempt);
        }
        attempt += 1;
        let limit = remaining.min(ctx.retry.attempt_timeout);
        ctx.requests.fetch_add(1, Ordering::Relaxed);
        let result = match tokio::time::timeout(limit, ctx.client.put_events(request)).await {
            Ok(result) => result,
            Err(_) => Err(SendError::retryable(format!(
                "PutEvents did not answer within {} ms",
                limit.as_millis()
            ))),
        };
        let error = match result {
            Ok(()) => return (Ok(()), attempt),
            Err(e) if e.kind != ErrorKind::Retryable => return (Err(e), attempt),
            Err(e) => e,
        };
        if attempt >= ctx.retry.max_attempts {
            let message = format!("{} (gave up after {attempt} attempts)", error.message);
            return (Err(SendError::retryable(message)), attempt);
        }
        let backoff = backoff(ctx, attempt);
        if Instant::now() + backoff >= ctx.cutoff {
            let message = format!(
                "{} (no time left before the deadline for retry {})",
                error.message,
                attempt + 1
            );
            return (Err(SendError::retryable(message)), attempt);
        }
        ctx.log.emit(json!({
            "level": "warn",
            "msg": "retry",
            "requestId": &*ctx.request_id,
            "userId": &group.user_id,
            "sessionId": &group.session_id,
            "eventIds": events.iter().map(|e| e.event_id.as_str()).collect::<Vec<_>>(),
            "attempt": attempt,
            "backoffMs": u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
            "error": &error.message,
        }));
        tokio::time::sleep(backoff).await;
    }
}

/// `base * 2^(attempt-1)`, capped, with "equal jitter": half fixed, half random.
fn backoff<C>(ctx: &SendContext<C>, attempt: u32) -> Duration {
    let exp = ctx
        .retry
        .base_backoff
        .saturating_mul(1u32 << (attempt - 1).min(20))
        .min(ctx.retry.max_backoff);
    let half = exp / 2;
    let random = next_random(&ctx.rng);
    let jitter = half.mul_f64((random >> 11) as f64 / (1u64 << 53) as f64);
    half + jitter
}

/// A splitmix64 step: plenty for jitter, no dependency.
fn next_random(state: &AtomicU64) -> u64 {
    let mut z = state
        .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
