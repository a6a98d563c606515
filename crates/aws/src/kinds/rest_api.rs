//! `rest_api`: not implemented yet.

use crate::Aws;
use personalize_stack_core::engine::{Attrs, Desired, FieldChange, Observed, ProviderError, Resolver};
use personalize_stack_core::spec::Resource;
use personalize_stack_core::spec::kinds::rest_api::RestApi;

fn todo() -> ProviderError {
    ProviderError::new("rest_api", "NotImplemented", "this kind is not implemented yet")
}

/// Desired fields.
pub fn desired(
    _aws: &Aws,
    _r: &Resource,
    _spec: &RestApi,
    _refs: &Resolver,
) -> Result<Desired, ProviderError> {
    Err(todo())
}

/// Observes it.
pub async fn observe(
    _aws: &Aws,
    _r: &Resource,
    _spec: &RestApi,
    _refs: &Resolver,
) -> Result<Option<Observed>, ProviderError> {
    Err(todo())
}

/// Creates it.
pub async fn create(
    _aws: &Aws,
    _r: &Resource,
    _spec: &RestApi,
    _refs: &Resolver,
) -> Result<Attrs, ProviderError> {
    Err(todo())
}

/// Updates it.
pub async fn update(
    _aws: &Aws,
    _r: &Resource,
    _spec: &RestApi,
    _refs: &Resolver,
    _observed: &Observed,
    _changes: &[FieldChange],
) -> Result<Attrs, ProviderError> {
    Err(todo())
}

/// Deletes it.
pub async fn delete(
    _aws: &Aws,
    _r: &Resource,
    _spec: &RestApi,
    _observed: &Observed,
) -> Result<(), ProviderError> {
    Err(todo())
}
