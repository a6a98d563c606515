//! API Gateway's control-plane quotas are fixed per account and cannot be raised
//! (aws-facts §0 fact 7): all operations together 10 rps with a burst of 40, CreateDeployment
//! 1 per 5 s, CreateRestApi 1 per 3 s, DeleteRestApi 1 per 30 s, CreateResource and
//! DeleteResource 5/s, GetResources 5 per 2 s, CreateApiKey 5/s, UpdateUsagePlan 1 per 20 s.
//! Scheduling under them beats retrying into 429s (DESIGN.md §2.5).

use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Per-operation minimum intervals, and the shared 10 rps bucket.
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// When each paced operation may next run.
    next: BTreeMap<&'static str, Instant>,
    /// Tokens of the shared bucket, and when it was last refilled.
    tokens: Option<(f64, Instant)>,
}

const RATE: f64 = 10.0;
const BURST: f64 = 40.0;

/// The operation's own minimum interval.
fn interval(operation: &str) -> Option<(&'static str, Duration)> {
    Some(match operation {
        "CreateDeployment" => ("CreateDeployment", Duration::from_secs(5)),
        "CreateRestApi" => ("CreateRestApi", Duration::from_secs(3)),
        "DeleteRestApi" => ("DeleteRestApi", Duration::from_secs(30)),
        "CreateResource" => ("CreateResource", Duration::from_millis(200)),
        "DeleteResource" => ("DeleteResource", Duration::from_millis(200)),
        "GetResources" => ("GetResources", Duration::from_millis(400)),
        "CreateApiKey" => ("CreateApiKey", Duration::from_millis(200)),
        "UpdateUsagePlan" => ("UpdateUsagePlan", Duration::from_secs(20)),
        _ => return None,
    })
}

/// Whether `operation` is an API Gateway one (the pacer's concern). Operations are named as
/// the SDK names them; the API Gateway ones are called with an `apigateway:` prefix.
fn is_api_gateway(operation: &str) -> Option<&str> {
    operation.strip_prefix("apigateway:")
}

impl Pacer {
    /// Waits until `operation` may be sent.
    pub(crate) async fn wait(&self, operation: &str) {
        let Some(op) = is_api_gateway(operation) else {
            return;
        };
        let ready_at = {
            let mut state = self.state.lock().await;
            let now = Instant::now();
            let (tokens, last) = state.tokens.unwrap_or((BURST, now));
            let tokens = (tokens + now.duration_since(last).as_secs_f64() * RATE).min(BURST);
            let mut at = now;
            let tokens = if tokens >= 1.0 {
                tokens - 1.0
            } else {
                at += Duration::from_secs_f64((1.0 - tokens) / RATE);
                0.0
            };
            state.tokens = Some((tokens, at));
            if let Some((name, gap)) = interval(op) {
                let next = state.next.get(name).copied().unwrap_or(now);
                at = at.max(next);
                state.next.insert(name, at + gap);
            }
            at
        };
        tokio::time::sleep_until(ready_at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn deployments_are_spaced_five_seconds_and_other_services_are_not_paced() {
        let pacer = Pacer::default();
        let start = Instant::now();
        pacer.wait("apigateway:CreateDeployment").await;
        pacer.wait("apigateway:CreateDeployment").await;
        assert!(start.elapsed() >= Duration::from_secs(5));
        let before = Instant::now();
        pacer.wait("CreateStream").await;
        assert_eq!(before.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn the_shared_bucket_allows_a_burst_of_forty_then_ten_a_second() {
        let pacer = Pacer::default();
        let start = Instant::now();
        for _ in 0..40 {
            pacer.wait("apigateway:GetRestApis").await;
        }
        assert!(start.elapsed() < Duration::from_millis(50), "the burst is free");
        for _ in 0..10 {
            pacer.wait("apigateway:GetRestApis").await;
        }
        assert!(
            start.elapsed() >= Duration::from_millis(900),
            "then 10 per second"
        );
    }
}
