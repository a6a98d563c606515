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

/// A provider failure: the operation, the service's error code and message, and a hint.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{operation}: {code}: {message}{}", hint.as_deref().map(|h| format!("\n  hint: {h}")).unwrap_or_default())]
pub struct ProviderError {
    /// The API operation (`CreateStream`) or local step (`build lambda`).
    pub operation: String,
    /// The error code (`ResourceInUseException`).
    pub code: String,
    /// The message.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl ProviderError {
    /// A failure of `operation`.
    pub fn new(operation: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        ProviderError {
            operation: operation.into(),
            code: code.into(),
            message: message.into(),
            hint: None,
        }
    }

    /// With a hint.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
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
    fn delete(
        &self,
        resource: &Resource,
        observed: &Observed,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send;
}
