//! The harness the CLI tests share, from the workspace's test-support crate: a scratch copy
//! of the shipped stack, the CLI run on it with `--local`, and a `personalize-stack local`
//! serving its data dir; `common` is the local runtime's helpers.

// Each test file includes this module and uses part of it.
#![allow(unused_imports)]

pub use personalize_stack_test_support as common;
pub use personalize_stack_test_support::cli::*;
