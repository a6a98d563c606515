//! Local runtime benchmarks (filled in with the services).
#![allow(missing_docs)]

fn main() {}
