//! Resolving `${logical.attribute}` references against the attributes of resources that exist.

use super::model::{Attrs, UNKNOWN};
use crate::spec::text::{Reference, Text};
use std::collections::BTreeMap;

/// Attributes of the stack's resources known so far, by logical name, plus what is known
/// offline (names).
#[derive(Debug, Clone, Default)]
pub struct Resolver {
    attrs: BTreeMap<String, Attrs>,
}

impl Resolver {
    /// A resolver over `attrs`.
    pub fn new(attrs: BTreeMap<String, Attrs>) -> Self {
        Resolver { attrs }
    }

    /// Records `logical`'s attributes.
    pub fn set(&mut self, logical: &str, attrs: Attrs) {
        self.attrs.insert(logical.to_owned(), attrs);
    }

    /// Forgets `logical` (it is being replaced: its attributes will change).
    pub fn forget(&mut self, logical: &str) {
        self.attrs.remove(logical);
    }

    /// One reference's value, if known.
    pub fn get(&self, reference: &Reference) -> Option<&str> {
        self.attrs
            .get(&reference.resource)?
            .get(&reference.attribute)
            .map(String::as_str)
    }

    /// `text` with references replaced by their values, or by [`UNKNOWN`] when not known yet.
    pub fn text(&self, text: &Text) -> String {
        text.resolve(|r| Some(self.get(r).unwrap_or(UNKNOWN).to_owned()))
            .unwrap_or_default()
    }

    /// `text` with every reference known, or the first reference that is not.
    ///
    /// # Errors
    /// The first reference whose resource does not exist (yet).
    pub fn known(&self, text: &Text) -> Result<String, Reference> {
        text.resolve(|r| self.get(r).map(str::to_owned))
            .map_err(Clone::clone)
    }

    /// The attributes of `logical`, if it exists.
    pub fn attrs(&self, logical: &str) -> Option<&Attrs> {
        self.attrs.get(logical)
    }
}
