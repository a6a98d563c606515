//! One file per resource kind: how to observe it (found by its deterministic name, owned
//! when it carries our tags), the fields compared with the stack, and how to create, update
//! and delete it, waiting where AWS is asynchronous.

pub mod campaign;
mod common;
pub mod dataset_group;
pub mod event_tracker;
pub mod iam_role;
pub mod kinesis_stream;
pub mod lambda_function;
pub mod rest_api;
pub mod solution;
