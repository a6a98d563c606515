//! The reconcile engine: reads what exists through a [`Provider`], diffs it against the stack
//! ([`plan`]), and applies the differences in dependency order, concurrently where the graph
//! allows ([`apply`], [`destroy`]).
//!
//! The engine knows no AWS SDK: a provider observes, creates, updates and deletes one resource
//! at a time; the engine decides what to do and when. There is no state file: every run starts
//! from what exists, so a killed run is repaired by running it again.

mod model;
mod resolve;
mod run;

pub use model::{Action, Attrs, Desired, FieldChange, Fields, Observed, Plan, Step, UNKNOWN, diff};
pub use resolve::Resolver;
pub use run::{Cancel, Outcome, Progress, Report, Status, apply, destroy, inventory, plan};

use crate::spec::Resource;
use std::future::Future;

/// What kind of failure a [`ProviderError`] is: what callers match on (never the service's
/// error code, whose spelling differs between services). Set once, where the provider
/// classifies the SDK's errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ErrorKind {
    /// The resource does not exist (`ResourceNotFoundException`, `NoSuchEntity`,
    /// `NotFoundException`).
    NotFound,
    /// It exists already (`ResourceAlreadyExistsException`, `EntityAlreadyExists`).
    AlreadyExists,
    /// A resource of the same name exists without this stack's tags: it is never adopted
    /// nor deleted.
    NotOurs,
    /// It is in use, or busy changing (`ResourceInUseException`, `DeleteConflict`; Kinesis
    /// also says this of a stream that exists).
    InUse,
    /// A concurrent change conflicts (`ConflictException`, `ResourceConflictException`).
    Conflict,
    /// An account limit is reached (`LimitExceededException`).
    LimitExceeded,
    /// Throttled after every retry.
    Throttled,
    /// The caller lacks a permission, or its credentials are refused or expired.
    AccessDenied,
    /// No usable credentials were found.
    Credentials,
    /// The request was invalid (`ValidationException`, `InvalidInputException`,
    /// `InvalidParameterValueException`, `BadRequestException`, …).
    Validation,
    /// The endpoint could not be reached, or its answer not read.
    Connection,
    /// A local step failed (building or reading a Lambda package).
    Local,
    /// Anything else.
    #[default]
    Other,
}

/// A provider failure: the operation, its [`ErrorKind`], the service's error code and
/// message, a hint, and the error it came from.
///
/// `Display` is the one line `operation: code: message`; the hint is for the edge to render
/// apart (after the cause chain, or as `hint:` lines in a report): see
/// [`ProviderError::with_hint`].
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation}: {code}: {message}")]
pub struct ProviderError {
    /// The API operation (`CreateStream`) or local step (`build lambda`).
    pub operation: String,
    /// What kind of failure it is: what to match on.
    pub kind: ErrorKind,
    /// The error code (`ResourceInUseException`), for messages.
    pub code: String,
    /// The message.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// The error this one was made from (the SDK's), kept for its cause chain.
    #[source]
    pub source: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
}

/// Errors are equal when they say the same; where they came from is not compared.
impl PartialEq for ProviderError {
    fn eq(&self, other: &Self) -> bool {
        (&self.operation, self.kind, &self.code, &self.message, &self.hint)
            == (
                &other.operation,
                other.kind,
                &other.code,
                &other.message,
                &other.hint,
            )
    }
}

impl Eq for ProviderError {}

impl ProviderError {
    /// A failure of `operation`, of kind [`ErrorKind::Other`].
    pub fn new(operation: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        ProviderError {
            operation: operation.into(),
            kind: ErrorKind::Other,
            code: code.into(),
            message: message.into(),
            hint: None,
            source: None,
        }
    }

    /// `what` (e.g. "stream orders") exists, but without this stack's tags.
    pub fn not_ours(operation: impl Into<String>, what: impl std::fmt::Display) -> Self {
        ProviderError::new(operation, "NotOurs", format!("{what} exists without the tags of this stack"))
            .kind(ErrorKind::NotOurs)
            .hint("it is never adopted or deleted: remove or rename it yourself, or give this resource another name in the stack file")
    }

    /// With a hint.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Of `kind`.
    #[must_use]
    pub fn kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }

    /// Made from `source`.
    #[must_use]
    pub fn caused_by(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(std::sync::Arc::new(source));
        self
    }

    /// The error with its hint on a second line (`  hint: …`), for reports that show one
    /// error at a time.
    pub fn with_hint(&self) -> String {
        match &self.hint {
            Some(hint) => format!("{self}\n  hint: {hint}"),
            None => self.to_string(),
        }
    }

    /// Whether it is of `kind`.
    pub fn is(&self, kind: ErrorKind) -> bool {
        self.kind == kind
    }
}

/// Observes and changes resources of every kind. Every method must be idempotent and safe to
/// re-run after being interrupted at any point: the engine's only memory is what exists.
pub trait Provider: Send + Sync + 'static {
    /// What the stack wants of `resource`; references resolve through `refs` ([`UNKNOWN`]
    /// while a dependency does not exist yet).
    ///
    /// # Errors
    /// A desired value cannot be computed (e.g. the function's code does not build).
    fn desired(&self, resource: &Resource, refs: &Resolver) -> Result<Desired, ProviderError>;

    /// The resource as it exists, found by its deterministic name; `None` when absent.
    fn observe(
        &self,
        resource: &Resource,
        refs: &Resolver,
    ) -> impl Future<Output = Result<Option<Observed>, ProviderError>> + Send;

    /// Creates the resource and waits until it is usable; its attributes.
    fn create(
        &self,
        resource: &Resource,
        refs: &Resolver,
    ) -> impl Future<Output = Result<Attrs, ProviderError>> + Send;

    /// Applies `changes` in place and waits until done; the attributes.
    fn update(
        &self,
        resource: &Resource,
        refs: &Resolver,
        observed: &Observed,
        changes: &[FieldChange],
    ) -> impl Future<Output = Result<Attrs, ProviderError>> + Send;

    /// Deletes the resource (and what AWS created for it implicitly) and waits until gone.
    /// `refs` holds what is known of the others (some may be gone already).
    fn delete(
        &self,
        resource: &Resource,
        refs: &Resolver,
        observed: &Observed,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send;
}
