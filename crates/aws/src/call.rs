//! Every AWS call goes through [`Aws::call`]: retries with exponential backoff and full jitter
//! on throttling and 5xx, bounded retries on IAM propagation messages, API Gateway pacing,
//! and errors turned into [`ProviderError`]s carrying the AWS error code and a hint.

use crate::Aws;
use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use personalize_stack_core::engine::{ErrorKind, ProviderError};
use rand::Rng as _;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// What a call's result means when AWS says the thing does not exist.
pub(crate) trait Absent<T> {
    /// The answer, or `None` when the thing does not exist.
    fn found(self) -> Result<Option<T>, ProviderError>;
    /// `Ok` when the call succeeded or the thing was gone already (deletes).
    fn or_gone(self) -> Result<(), ProviderError>;
}

impl<T> Absent<T> for Result<T, ProviderError> {
    fn found(self) -> Result<Option<T>, ProviderError> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is(ErrorKind::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn or_gone(self) -> Result<(), ProviderError> {
        self.found().map(|_| ())
    }
}

/// How calls are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// First backoff (doubled each attempt, with full jitter).
    pub base: Duration,
    /// Largest backoff.
    pub cap: Duration,
    /// Attempts on throttling and 5xx before giving up.
    pub max_attempts: u32,
    /// How long propagation-class errors ("cannot be assumed", "Cannot access stream") and
    /// resource conflicts ("The function is currently in the following state: Pending") are
    /// retried: IAM is eventually consistent, and the community budget is 30–120 s.
    pub propagation_window: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_millis(200),
            cap: Duration::from_secs(10),
            max_attempts: 12,
            propagation_window: Duration::from_secs(120),
        }
    }
}

/// A call about to be tried again, for [`RetryReport`].
#[derive(Debug, Clone)]
pub struct Retrying<'a> {
    /// The operation (`GetCallerIdentity`).
    pub operation: &'a str,
    /// The attempt about to be made (2 for the first retry).
    pub attempt: u32,
    /// How long it may go on.
    pub limit: Limit,
    /// The wait before it.
    pub wait: Duration,
    /// The last failure: `code: message`.
    pub why: String,
}

/// How long retrying a call may go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// At most this many attempts (throttling, 5xx, connections).
    Attempts(u32),
    /// Until this long after the first attempt (IAM propagation, a resource busy changing).
    Until(Duration),
}

/// Told before each retry, so a long wait says what it waits for as it happens.
pub trait RetryReport: Send + Sync + std::fmt::Debug {
    /// `retrying` is about to be waited for and made.
    fn retrying(&self, retrying: &Retrying<'_>);
}

/// Why a failed call may succeed later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Throttled, a 5xx, or the connection failed: back off and retry.
    Transient,
    /// IAM propagation or a resource busy changing state: retry inside the window.
    Propagation,
    /// Retrying cannot help.
    Never,
}

/// Error codes AWS uses for rate limits.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "LimitExceededException",
    "ProvisionedThroughputExceededException",
    "SlowDown",
    "RequestThrottled",
    "RequestThrottledException",
];

/// Message fragments of eventual consistency: a role just created, or a resource changing
/// state. Each is worded as AWS words it.
const PROPAGATION: &[&str] = &[
    "cannot be assumed by Lambda",
    "Cannot access stream",
    "The role defined for the function cannot be assumed",
    "The function is currently in the following state: Pending",
    "An update is in progress for resource",
    "The provided execution role does not have permissions",
    "Invalid stage identifier specified",
    "API Stage not found",
];

fn classify(code: &str, message: &str, status: Option<u16>) -> Retry {
    if THROTTLING.contains(&code) || status == Some(429) {
        // Personalize and Kinesis also use LimitExceededException for quotas that no retry
        // fixes; the attempt cap bounds those.
        return Retry::Transient;
    }
    if PROPAGATION.iter().any(|p| message.contains(p)) {
        return Retry::Propagation;
    }
    if status.is_some_and(|s| s >= 500) {
        return Retry::Transient;
    }
    Retry::Never
}

/// The kind of a failed call, from its code and HTTP status: the one place where AWS's error
/// codes are read (each service spells "not found" its own way).
fn kind_of(code: &str, message: &str, status: Option<u16>) -> ErrorKind {
    match code {
        "ResourceNotFoundException" | "NoSuchEntity" | "NotFoundException" | "NoSuchEntityException" => {
            ErrorKind::NotFound
        }
        "ResourceAlreadyExistsException" | "EntityAlreadyExists" | "EntityAlreadyExistsException" => {
            ErrorKind::AlreadyExists
        }
        "ResourceInUseException" | "DeleteConflict" | "DeleteConflictException" => ErrorKind::InUse,
        // Lambda says a function or mapping exists with a conflict ("Function already exist:
        // name", "… provided mapping already exists"); its other conflicts are updates in
        // progress.
        "ResourceConflictException" if message.contains("already exist") => ErrorKind::AlreadyExists,
        "ConflictException" | "ResourceConflictException" => ErrorKind::Conflict,
        "LimitExceededException" | "ServiceQuotaExceededException" => ErrorKind::LimitExceeded,
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "ExpiredTokenException" => ErrorKind::AccessDenied,
        "CredentialsNotLoaded" => ErrorKind::Credentials,
        "ValidationException"
        | "ValidationError"
        | "InvalidInputException"
        | "InvalidInput"
        | "InvalidParameterValueException"
        | "InvalidArgumentException"
        | "InvalidParameterException"
        | "BadRequestException"
        | "MalformedPolicyDocument"
        | "MalformedPolicyDocumentException"
        | "SerializationException" => ErrorKind::Validation,
        "DispatchFailure" | "Timeout" | "ResponseError" => ErrorKind::Connection,
        c if THROTTLING.contains(&c) || status == Some(429) => ErrorKind::Throttled,
        _ => ErrorKind::Other,
    }
}

/// An error the provider makes itself in AWS's terms (a code AWS uses, for a state it
/// found), classified as a call's error would be.
pub(crate) fn error(operation: impl Into<String>, code: &str, message: impl Into<String>) -> ProviderError {
    let message = message.into();
    let kind = kind_of(code, &message, None);
    ProviderError::new(operation, code, message).kind(kind)
}

/// What to tell the user about an error code.
fn hint_for(code: &str, message: &str) -> Option<String> {
    let hint = match code {
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "UnrecognizedClientException" => {
            "the credentials in use lack this permission: check --profile, the credential chain, and the caller's IAM policy"
        }
        "ExpiredToken" | "ExpiredTokenException" => {
            "the session expired: refresh the credentials (e.g. `aws sso login`)"
        }
        c if THROTTLING.contains(&c) => {
            "AWS kept throttling after every retry; run again later or with a lower --parallelism"
        }
        _ if message.contains("cannot be assumed") || message.contains("Cannot access stream") => {
            "IAM did not propagate within the retry window; run again (nothing is lost: the run converges)"
        }
        _ => return None,
    };
    Some(hint.to_owned())
}

impl Aws {
    /// Runs one AWS call (`attempt` builds and sends it), retrying as the error deserves.
    ///
    /// # Errors
    /// The call's final error with its AWS code, message and a hint.
    pub async fn call<T, E, F, Fut>(&self, operation: &'static str, attempt: F) -> Result<T, ProviderError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        SdkError<E, HttpResponse>: std::error::Error + Send + Sync + 'static,
    {
        let started = Instant::now();
        let mut attempts = 0u32;
        loop {
            self.pace(operation).await;
            self.count_call(operation);
            attempts += 1;
            let error = match attempt().await {
                Ok(v) => {
                    self.answered.store(true, Ordering::Relaxed);
                    return Ok(v);
                }
                Err(e) => e,
            };
            let (code, message, status) = describe(&error);
            let retry = match connection_failure(&error) {
                // Nothing has ever answered: the name does not resolve or nobody listens, and
                // waiting will not change that. Once the endpoint has answered, a refused
                // connection is a restart or a blip, and is retried like a 5xx.
                Some(Connection::Dns | Connection::Refused) if !self.answered.load(Ordering::Relaxed) => {
                    Retry::Never
                }
                _ => classify(&code, &message, status),
            };
            let policy = &self.settings.retry;
            let again = match retry {
                Retry::Transient => attempts < policy.max_attempts,
                Retry::Propagation => started.elapsed() < policy.propagation_window,
                Retry::Never => false,
            };
            if !again {
                let hint = hint_for(&code, &message);
                let kind = kind_of(&code, &message, status);
                let mut err = ProviderError::new(operation, code.as_str(), message)
                    .kind(kind)
                    .caused_by(error);
                err.hint = hint;
                return Err(err);
            }
            let wait = self.backoff(attempts, retry);
            if let Some(report) = &self.settings.retry_report {
                let limit = match retry {
                    Retry::Propagation => Limit::Until(policy.propagation_window),
                    _ => Limit::Attempts(policy.max_attempts),
                };
                report.retrying(&Retrying {
                    operation,
                    attempt: attempts + 1,
                    limit,
                    wait,
                    why: format!("{code}: {message}"),
                });
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Every item of a paginated list: `page(token)` sends one request with the previous
    /// page's continuation token (none at first), each through [`Aws::call`]; `split` takes a
    /// response's items and its next token. Stops at a page without a token, or with an empty
    /// one or the same one again (API Gateway returns the last `position` once more).
    ///
    /// # Errors
    /// A page's call failed.
    pub async fn list_all<T, I, E, F, Fut, S>(
        &self,
        operation: &'static str,
        page: F,
        split: S,
    ) -> Result<Vec<I>, ProviderError>
    where
        F: Fn(Option<String>) -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        SdkError<E, HttpResponse>: std::error::Error + Send + Sync + 'static,
        S: Fn(T) -> (Vec<I>, Option<String>),
    {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let response = self.call(operation, || page(token.clone())).await?;
            let (found, next) = split(response);
            items.extend(found);
            match next {
                Some(next) if !next.is_empty() && Some(&next) != token.as_ref() => token = Some(next),
                _ => return Ok(items),
            }
        }
    }

    /// Full jitter: a random wait up to `base · 2^attempt`, capped.
    fn backoff(&self, attempts: u32, retry: Retry) -> Duration {
        let policy = &self.settings.retry;
        let exp = policy.base.saturating_mul(2u32.saturating_pow(attempts.min(16)));
        let ceiling = exp.min(policy.cap);
        let ceiling = match retry {
            // Propagation takes seconds, not milliseconds: do not spin on it.
            Retry::Propagation => ceiling.max(policy.base.saturating_mul(4)).min(policy.cap),
            _ => ceiling,
        };
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX).max(1);
        Duration::from_millis(rand::rng().random_range(millis / 4..=millis))
    }

    /// Counts calls; the fault-injection hook (`abort_after_calls`) ends the process abruptly
    /// at the Nth call, as `kill -9` would, to prove that re-running converges.
    fn count_call(&self, operation: &str) {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if let Ok(mut log) = self.call_log.lock() {
            log.push(operation.to_owned());
        }
        if self.settings.abort_after_calls == Some(n) {
            eprintln!("fault injection: aborting at AWS call {n} ({operation})");
            std::process::abort();
        }
    }
}

/// The error code, message and HTTP status of an SDK error.
fn describe<E: ProvideErrorMetadata + std::error::Error + 'static>(
    error: &SdkError<E, HttpResponse>,
) -> (String, String, Option<u16>) {
    match error {
        SdkError::ServiceError(e) => {
            let status = e.raw().status().as_u16();
            let err = e.err();
            (
                err.code().unwrap_or("Unknown").to_owned(),
                err.message().map_or_else(|| err.to_string(), str::to_owned),
                Some(status),
            )
        }
        SdkError::TimeoutError(_) => (
            "Timeout".to_owned(),
            "the request timed out".to_owned(),
            Some(503),
        ),
        // Connection errors are worth a retry (a bad endpoint fails after the attempts);
        // missing credentials are not.
        SdkError::DispatchFailure(e) if e.is_io() || e.is_timeout() => {
            let what = match connection_failure(error) {
                Some(Connection::Dns) => "the endpoint's host name could not be resolved",
                Some(Connection::Refused) => "the endpoint refused the connection",
                Some(Connection::TimedOut) => "the endpoint did not answer in time",
                Some(Connection::Tls) => "the TLS handshake with the endpoint failed",
                None => "could not reach the endpoint",
            };
            (
                "DispatchFailure".to_owned(),
                format!("{what} ({})", root_cause(error)),
                Some(503),
            )
        }
        SdkError::DispatchFailure(_) if caused_by::<CredentialsError>(error) => (
            "CredentialsNotLoaded".to_owned(),
            "no credentials: no provider in the chain (environment, profile, SSO, instance role) supplied any".to_owned(),
            None,
        ),
        SdkError::DispatchFailure(_) => (
            "DispatchFailure".to_owned(),
            format!("the request was not sent: {}", root_cause(error)),
            None,
        ),
        SdkError::ResponseError(e) => (
            "ResponseError".to_owned(),
            format!("unreadable response: {}", root_cause(error)),
            Some(e.raw().status().as_u16()),
        ),
        other => ("ConstructionFailure".to_owned(), root_cause(other), None),
    }
}

/// Why a connection failed, as far as the cause chain tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Connection {
    /// The host name did not resolve.
    Dns,
    /// Nothing listens there.
    Refused,
    /// No answer in time.
    TimedOut,
    /// The TLS handshake failed (a proxy or a certificate).
    Tls,
}

/// The kind of connection failure `error` is, read from its cause chain: hyper's connector
/// says `dns error`, the OS says connection refused or timed out, rustls names the
/// certificate or handshake. `None`: not a connection failure, or one of another kind.
pub(crate) fn connection_failure(error: &(dyn std::error::Error + 'static)) -> Option<Connection> {
    let mut next = Some(error);
    let mut found = None;
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return Some(Connection::Refused),
                std::io::ErrorKind::TimedOut => found = Some(Connection::TimedOut),
                _ => {}
            }
        }
        let said = e.to_string();
        if said == "dns error" {
            return Some(Connection::Dns);
        }
        if said.contains("Connection refused") {
            return Some(Connection::Refused);
        }
        if said.contains("certificate") || said.contains("handshake") || said.contains("tls") {
            found = found.or(Some(Connection::Tls));
        }
        if said.contains("timed out") || said.contains("timeout") {
            found = found.or(Some(Connection::TimedOut));
        }
        next = e.source();
    }
    found
}

/// What the innermost error of `error`'s cause chain says (`Connection refused (os error
/// 111)`): the SDK's outer layers only say "dispatch failure" or "io error". The whole chain
/// stays in the [`ProviderError`]'s source.
pub(crate) fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost = error;
    while let Some(next) = innermost.source() {
        innermost = next;
    }
    innermost.to_string()
}

/// Whether `T` is somewhere in `error`'s cause chain.
fn caused_by<T: std::error::Error + 'static>(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if e.is::<T>() {
            return true;
        }
        next = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_services_spelling_of_a_failure_has_one_kind() {
        for (code, kind) in [
            ("ResourceNotFoundException", ErrorKind::NotFound),
            ("NoSuchEntity", ErrorKind::NotFound),
            ("NotFoundException", ErrorKind::NotFound),
            ("ResourceAlreadyExistsException", ErrorKind::AlreadyExists),
            ("EntityAlreadyExists", ErrorKind::AlreadyExists),
            ("ResourceInUseException", ErrorKind::InUse),
            ("DeleteConflict", ErrorKind::InUse),
            ("ResourceConflictException", ErrorKind::Conflict),
            ("ConflictException", ErrorKind::Conflict),
            ("LimitExceededException", ErrorKind::LimitExceeded),
            ("ThrottlingException", ErrorKind::Throttled),
            ("AccessDeniedException", ErrorKind::AccessDenied),
            ("ExpiredToken", ErrorKind::AccessDenied),
            ("CredentialsNotLoaded", ErrorKind::Credentials),
            ("InvalidInputException", ErrorKind::Validation),
            ("DispatchFailure", ErrorKind::Connection),
            ("SomethingNew", ErrorKind::Other),
        ] {
            assert_eq!(kind_of(code, "", Some(400)), kind, "{code}");
        }
        assert_eq!(kind_of("SomethingNew", "", Some(429)), ErrorKind::Throttled);
        // Lambda's conflicts: one says the thing exists, the other that it is busy.
        assert_eq!(
            kind_of(
                "ResourceConflictException",
                "Function already exist: f",
                Some(409)
            ),
            ErrorKind::AlreadyExists
        );
        assert_eq!(
            kind_of(
                "ResourceConflictException",
                "The operation cannot be performed at this time. An update is in progress for resource: f",
                Some(409)
            ),
            ErrorKind::Conflict
        );
        assert!(error("DescribeStream", "ResourceNotFoundException", "gone").is(ErrorKind::NotFound));
    }

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn the_chain_is_searched_by_type_and_its_innermost_words_are_kept() {
        let e = Outer(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused",
        ));
        assert!(caused_by::<std::io::Error>(&e));
        assert!(!caused_by::<CredentialsError>(&e));
        assert_eq!(root_cause(&e), "Connection refused");
    }

    #[test]
    fn errors_are_classified_by_code_status_and_awss_own_words() {
        assert_eq!(
            classify("ThrottlingException", "Rate exceeded", Some(400)),
            Retry::Transient
        );
        assert_eq!(classify("Anything", "x", Some(429)), Retry::Transient);
        assert_eq!(classify("InternalFailure", "x", Some(500)), Retry::Transient);
        assert_eq!(
            classify(
                "InvalidParameterValueException",
                "The role defined for the function cannot be assumed by Lambda.",
                Some(400)
            ),
            Retry::Propagation
        );
        assert_eq!(
            classify("ResourceInUseException", "exists", Some(400)),
            Retry::Never
        );
    }
}
