//! Structured JSON log lines (one JSON object per line on stdout, which Lambda sends to
//! CloudWatch Logs).

use std::io::Write as _;
use std::sync::Mutex;

use serde_json::Value;

/// Where log lines go.
pub trait LogSink: Send + Sync {
    /// Writes one structured line.
    fn emit(&self, line: Value);
}

/// Writes each line as compact JSON to stdout.
#[derive(Debug, Default, Clone, Copy)]
pub struct StdoutSink;

impl LogSink for StdoutSink {
    fn emit(&self, line: Value) {
        let mut text = line.to_string();
        text.push('\n');
        // A closed stdout must not fail the invocation.
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    }
}

/// Drops every line (benchmarks).
#[derive(Debug, Default, Clone, Copy)]
pub struct NullSink;

impl LogSink for NullSink {
    fn emit(&self, _line: Value) {}
}

/// Keeps lines in memory (tests).
#[derive(Debug, Default)]
pub struct MemorySink {
    lines: Mutex<Vec<Value>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of every line so far.
    pub fn lines(&self) -> Vec<Value> {
        match self.lines.lock() {
            Ok(lines) => lines.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The lines whose `msg` is `msg`.
    pub fn with_msg(&self, msg: &str) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|l| l.get("msg").and_then(Value::as_str) == Some(msg))
            .collect()
    }
}

impl LogSink for MemorySink {
    fn emit(&self, line: Value) {
        match self.lines.lock() {
            Ok(mut lines) => lines.push(line),
            Err(poisoned) => poisoned.into_inner().push(line),
        }
    }
}
