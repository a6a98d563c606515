//! Configuration read from the function's environment at init.

use std::fmt;
use std::time::Duration;

/// Default number of PutEvents calls in flight at once (`MAX_CONCURRENCY`).
///
/// A 100-record Kinesis batch usually holds a dozen or more (user, session) groups, each one
/// call; with 4 in flight an invocation waited for three or more rounds of calls, and the
/// shard's next batch waited for it (the local pipeline bench drained 18,700–20,400 events/s
/// with 4, 22,700 with 8, 21,400–26,500 with 16, and no more with 32). 16 calls of about
/// 20 ms each stay under PutEvents' default 1,000 requests/s per dataset group for a
/// one-shard stream; with more shards, throttling is retried with backoff, or set a lower
/// `MAX_CONCURRENCY`.
pub const DEFAULT_MAX_CONCURRENCY: usize = 16;
/// Largest accepted `MAX_CONCURRENCY`.
pub const MAX_MAX_CONCURRENCY: usize = 64;

/// How PutEvents calls are retried inside one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Backoff before the first retry; doubled for each further retry (full jitter).
    pub base_backoff: Duration,
    /// Ceiling of one backoff.
    pub max_backoff: Duration,
    /// Attempts per call, the first one included.
    pub max_attempts: u32,
    /// Time kept free before the invocation's deadline: no attempt or backoff may end later
    /// than `deadline - safety_margin` (the margin shrinks to a quarter of the time left when
    /// the whole invocation is shorter than four margins).
    pub safety_margin: Duration,
    /// Ceiling of one attempt; an attempt that takes longer counts as a retryable timeout.
    pub attempt_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            // With the deadline as the real bound: at 30% throttling, 10 attempts leave about
            // one group in 170,000 failing (and a failure redelivers the rest of its batch).
            max_attempts: 10,
            safety_margin: Duration::from_secs(1),
            attempt_timeout: Duration::from_secs(10),
        }
    }
}

/// The forwarder's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The event tracker's tracking id (`TRACKING_ID`, required).
    pub tracking_id: String,
    /// Event type for records that carry none (`DEFAULT_EVENT_TYPE`, optional). Without it such
    /// records are malformed.
    pub default_event_type: Option<String>,
    /// How many (user, session) groups are sent at once (`MAX_CONCURRENCY`, 1–64, default 16).
    pub max_concurrency: usize,
    /// Retry and deadline policy for PutEvents calls.
    pub retry: RetryPolicy,
}

impl Config {
    /// A configuration with the given tracking id and every other setting at its default.
    pub fn new(tracking_id: impl Into<String>) -> Self {
        Self {
            tracking_id: tracking_id.into(),
            default_event_type: None,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            retry: RetryPolicy::default(),
        }
    }

    /// Reads `TRACKING_ID`, `DEFAULT_EVENT_TYPE` and `MAX_CONCURRENCY` from the process
    /// environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let tracking_id = lookup("TRACKING_ID")
            .map(|v| v.trim().to_owned())
            .unwrap_or_default();
        if tracking_id.is_empty() {
            return Err(ConfigError::MissingTrackingId);
        }
        if tracking_id.chars().count() > 256 {
            return Err(ConfigError::Invalid {
                name: "TRACKING_ID",
                reason: "longer than 256 characters".into(),
            });
        }
        let default_event_type = lookup("DEFAULT_EVENT_TYPE")
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        if let Some(t) = &default_event_type
            && t.chars().count() > 256
        {
            return Err(ConfigError::Invalid {
                name: "DEFAULT_EVENT_TYPE",
                reason: "longer than 256 characters".into(),
            });
        }
        let max_concurrency = match lookup("MAX_CONCURRENCY").map(|v| v.trim().to_owned()) {
            None => DEFAULT_MAX_CONCURRENCY,
            Some(v) if v.is_empty() => DEFAULT_MAX_CONCURRENCY,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=MAX_MAX_CONCURRENCY).contains(&n) => n,
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "MAX_CONCURRENCY",
                        reason: format!("{v:?} is not an integer from 1 to {MAX_MAX_CONCURRENCY}"),
                    });
                }
            },
        };
        Ok(Self {
            tracking_id,
            default_event_type,
            max_concurrency,
            retry: RetryPolicy::default(),
        })
    }
}

/// Why the configuration could not be read. The `bootstrap` binary reports it as an init
/// error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// `TRACKING_ID` is unset or empty.
    MissingTrackingId,
    /// A variable has a value the forwarder cannot use.
    Invalid {
        /// The variable's name.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingTrackingId => f.write_str(
                "environment variable TRACKING_ID is not set: set it to the event tracker's \
                 tracking id (personalize_event_tracker `tracking_id`)",
            ),
            Self::Invalid { name, reason } => {
                write!(f, "environment variable {name} is invalid: {reason}")
            }
        }
    }
}

impl std::error::Error for ConfigError {}
