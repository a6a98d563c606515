//! The personalize-stack model: `stack.yaml` parsed with positions, validated into a
//! [`spec::Stack`], the dependency graph between its resources, and the offline checks of
//! its mapping templates.
//!
//! This crate knows no AWS SDK, no HTTP server and no CLI: it turns text into checked data
//! and reports every problem it finds at once, each with its file position.

pub mod engine;
pub mod fleet;
pub mod graph;
pub mod lint;
pub mod schema;
pub mod spec;
pub mod yaml;

pub use spec::{Diagnostic, Diagnostics, LoadOptions, Stack, parse};
