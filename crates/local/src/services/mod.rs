//! One module per AWS service. A service sees a [`Ctx`]: the caller (account, region), the
//! request id, the time, the store and the configuration.
//!
//! # Conventions (every service follows them)
//! - Keys: `account/region/service/kind/id` ([`Ctx::key`]); IAM is global
//!   ([`Ctx::global_key`]). Ids are escaped with [`escape_id`].
//! - Documents are JSON objects. Asynchronous state changes are computed lazily from stored
//!   times (e.g. `ready_at_ms`) when a document is read, so no background task is needed and
//!   restarts keep the schedule.
//! - A document with `"_gone_at_ms": T` is being deleted and disappears at `T`: reads after
//!   that treat it as absent ([`is_gone`]) and `/_local/resources` omits it.

pub mod apigateway;
pub mod iam;
pub mod kinesis;
pub mod lambda;
pub mod logs;
pub mod personalize;
pub mod personalize_events;
pub mod personalize_runtime;
pub mod sts;

use crate::auth::Caller;
use crate::config::Config;
use crate::store::Store;

/// What an operation handler can see.
pub struct Ctx<'a> {
    /// Who calls.
    pub caller: &'a Caller,
    /// This request's id.
    pub request_id: &'a str,
    /// Now, in epoch milliseconds.
    pub now_ms: u64,
    /// The store.
    pub store: &'a Store,
    /// The configuration.
    pub config: &'a Config,
}

impl Ctx<'_> {
    /// The caller's account.
    pub fn account(&self) -> &str {
        &self.caller.account
    }

    /// The caller's region.
    pub fn region(&self) -> &str {
        &self.caller.region
    }

    /// The key of a regional resource.
    pub fn key(&self, service: &str, kind: &str, id: &str) -> String {
        format!(
            "{}/{}/{service}/{kind}/{}",
            self.account(),
            self.region(),
            escape_id(id)
        )
    }

    /// The key prefix of every regional resource of `kind`.
    pub fn prefix(&self, service: &str, kind: &str) -> String {
        format!("{}/{}/{service}/{kind}/", self.account(), self.region())
    }

    /// The key of a global (IAM) resource.
    pub fn global_key(&self, service: &str, kind: &str, id: &str) -> String {
        format!("{}/global/{service}/{kind}/{}", self.account(), escape_id(id))
    }

    /// The key prefix of every global resource of `kind`.
    pub fn global_prefix(&self, service: &str, kind: &str) -> String {
        format!("{}/global/{service}/{kind}/", self.account())
    }

    /// A regional ARN: `arn:aws:{service}:{region}:{account}:{resource}`.
    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:aws:{service}:{}:{}:{resource}",
            self.region(),
            self.account()
        )
    }

    /// When something that takes `delay_ms` (before the profile's time scale) will be done.
    pub fn after(&self, delay_ms: u64) -> u64 {
        self.now_ms.saturating_add(self.config.profile.scaled(delay_ms))
    }

    /// Now in epoch seconds, as awsJson timestamps are written.
    pub fn now_secs(&self) -> f64 {
        self.now_ms as f64 / 1000.0
    }
}

/// Escapes `/` and `%` so an id is one key segment.
pub fn escape_id(id: &str) -> String {
    id.replace('%', "%25").replace('/', "%2F")
}

/// Reverses [`escape_id`].
pub fn unescape_id(id: &str) -> String {
    id.replace("%2F", "/").replace("%25", "%")
}

/// Whether a stored document has finished being deleted.
pub fn is_gone(doc: &serde_json::Value, now_ms: u64) -> bool {
    doc.get("_gone_at_ms")
        .and_then(serde_json::Value::as_u64)
        .is_some_and(|t| now_ms >= t)
}

/// Epoch milliseconds now.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
