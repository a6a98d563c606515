//! One file per resource kind: how to observe it (found by its deterministic name, owned
//! when it carries our tags), the fields compared with the stack, and how to create, update
//! and delete it, waiting where AWS is asynchronous. Each implements `ResourceKind` for
//! the kind's checked type; the modules and the [`Provider`] dispatch are generated from the
//! one list of kinds, `personalize_stack_core::with_kinds!`.

mod common;
mod personalize;

use crate::Aws;
use personalize_stack_core::engine::{
    Attrs, Desired, FieldChange, Observed, Provider, ProviderError, Resolver,
};
use personalize_stack_core::spec::Resource;
use personalize_stack_core::spec::kinds::ResourceSpec;

/// What every operation on a resource works with.
#[derive(Clone, Copy)]
pub(crate) struct Cx<'a> {
    /// The provider (clients, tags, settings).
    pub aws: &'a Aws,
    /// The resource as declared.
    pub resource: &'a Resource,
    /// The other resources' attributes as known now.
    pub refs: &'a Resolver,
}

/// A resource kind as the provider drives it, implemented by the kind's checked type.
pub(crate) trait ResourceKind {
    /// What the stack wants of the resource, compared field by field with what exists.
    fn desired(&self, cx: &Cx<'_>) -> Result<Desired, ProviderError>;

    /// The resource as it exists, found by its deterministic name; `None` when absent.
    async fn observe(&self, cx: &Cx<'_>) -> Result<Option<Observed>, ProviderError>;

    /// Creates the resource and waits until it is usable; its attributes.
    async fn create(&self, cx: &Cx<'_>) -> Result<Attrs, ProviderError>;

    /// Applies `changes` to the `observed` resource in place; its attributes.
    async fn update(
        &self,
        cx: &Cx<'_>,
        observed: &Observed,
        changes: &[FieldChange],
    ) -> Result<Attrs, ProviderError>;

    /// Deletes the `observed` resource and what AWS made for it, and waits until gone.
    async fn delete(&self, cx: &Cx<'_>, observed: &Observed) -> Result<(), ProviderError>;
}

macro_rules! provider_kinds {
    ($( $(#[doc = $doc:literal])* $module:ident :: $Type:ident = $key:literal, )+) => {
        $( pub mod $module; )+

        /// Dispatches each resource to its kind's `ResourceKind`.
        impl Provider for Aws {
            fn desired(&self, resource: &Resource, refs: &Resolver) -> Result<Desired, ProviderError> {
                let cx = Cx { aws: self, resource, refs };
                match &resource.spec {
                    $( ResourceSpec::$Type(s) => s.desired(&cx), )+
                }
            }

            async fn observe(
                &self,
                resource: &Resource,
                refs: &Resolver,
            ) -> Result<Option<Observed>, ProviderError> {
                let cx = Cx { aws: self, resource, refs };
                match &resource.spec {
                    $( ResourceSpec::$Type(s) => s.observe(&cx).await, )+
                }
            }

            async fn create(&self, resource: &Resource, refs: &Resolver) -> Result<Attrs, ProviderError> {
                let cx = Cx { aws: self, resource, refs };
                match &resource.spec {
                    $( ResourceSpec::$Type(s) => s.create(&cx).await, )+
                }
            }

            async fn update(
                &self,
                resource: &Resource,
                refs: &Resolver,
                observed: &Observed,
                changes: &[FieldChange],
            ) -> Result<Attrs, ProviderError> {
                let cx = Cx { aws: self, resource, refs };
                match &resource.spec {
                    $( ResourceSpec::$Type(s) => s.update(&cx, observed, changes).await, )+
                }
            }

            async fn delete(
                &self,
                resource: &Resource,
                refs: &Resolver,
                observed: &Observed,
            ) -> Result<(), ProviderError> {
                let cx = Cx { aws: self, resource, refs };
                match &resource.spec {
                    $( ResourceSpec::$Type(s) => s.delete(&cx, observed).await, )+
                }
            }
        }
    };
}

personalize_stack_core::with_kinds!(provider_kinds);
