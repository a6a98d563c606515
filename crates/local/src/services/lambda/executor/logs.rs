//! The function's output as CloudWatch Logs: Lambda's `INIT_START`, `START`, `END` and
//! `REPORT` lines around it, in the stream `YYYY/MM/DD/[$LATEST]{instance id}`.

use super::*;

/// The process's output (stdout and stderr share one pipe), as log events waiting to be
/// written. The pipe is read without blocking, both by [`watch_process`] as output arrives
/// and by [`LogBuffer::drain`]: so when an invocation ends, everything the process wrote
/// before answering is collected with it, exactly.
pub(super) struct LogBuffer {
    pub(super) pipe: tokio::net::unix::pipe::Receiver,
    pub(super) state: Mutex<LogState>,
}

#[derive(Default)]
pub(super) struct LogState {
    pub(super) lines: Vec<(i64, String)>,
    pub(super) partial: Vec<u8>,
    pub(super) closed: bool,
}

/// Longest line kept as one event (CloudWatch's event limit is 256 KB).
pub(super) const MAX_LINE: usize = 256 * 1024 - 26;

impl LogBuffer {
    /// Must be called on a Tokio runtime (the pipe joins its reactor).
    pub(super) fn new(reader: std::io::PipeReader) -> std::io::Result<LogBuffer> {
        Ok(LogBuffer {
            pipe: tokio::net::unix::pipe::Receiver::from_owned_fd(reader.into())?,
            state: Mutex::new(LogState::default()),
        })
    }

    /// Reads what the pipe holds now, splitting it into lines; false once it is closed.
    pub(super) fn pump(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut chunk = [0u8; 16 * 1024];
        while !state.closed {
            match self.pipe.try_read(&mut chunk) {
                Ok(0) => state.closed = true,
                Ok(n) => {
                    state.partial.extend_from_slice(&chunk[..n]);
                    state.split_lines();
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => state.closed = true,
            }
        }
        if !state.partial.is_empty() {
            let rest = std::mem::take(&mut state.partial);
            state.push(&rest);
        }
        false
    }

    /// The lines written so far.
    pub(super) fn drain(&self) -> Vec<(i64, String)> {
        self.pump();
        std::mem::take(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner).lines)
    }
}

impl LogState {
    pub(super) fn split_lines(&mut self) {
        while let Some(end) = self.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            self.push(&line);
        }
        if self.partial.len() >= MAX_LINE {
            let line = std::mem::take(&mut self.partial);
            self.push(&line);
        }
    }

    /// One event; messages end with a newline, as Lambda's do.
    pub(super) fn push(&mut self, line: &[u8]) {
        let mut message = String::from_utf8_lossy(line).into_owned();
        if !message.ends_with('\n') {
            message.push('\n');
        }
        self.lines.push((ms_i64(now_ms()), message));
    }
}

impl Executor {
    /// Writes the invocation's log lines (init output, `START`, the function's output,
    /// `END`, `REPORT`) and returns them as text.
    pub(super) fn write_invocation_log(
        &self,
        spec: &Spec,
        instance: &Instance,
        invocation: &Invocation,
        ran: &Ran,
    ) -> String {
        let id = &invocation.request_id;
        let end_ms = ms_i64(now_ms());
        let mut events: Vec<(i64, String)> = Vec::new();
        if ran.init_ms.is_some() {
            events.push((
                ms_i64(instance.spawned_ms),
                format!(
                    "INIT_START Runtime Version: {}.local\tRuntime Version ARN: arn:aws:lambda:{}::runtime:local\n",
                    spec.runtime.replace('.', ":"),
                    spec.region
                ),
            ));
        }
        events.extend(ran.before.iter().cloned());
        events.push((
            ms_i64(ran.started_ms),
            format!("START RequestId: {id} Version: $LATEST\n"),
        ));
        events.extend(ran.during.iter().cloned());
        let duration_ms = end_ms.saturating_sub(ms_i64(ran.started_ms)).max(0) as f64;
        let mut status = "";
        match &ran.result {
            RunResult::Failed {
                error_type,
                message,
                timed_out,
            } => {
                if *timed_out {
                    status = "\tStatus: timeout";
                    events.push((end_ms, format!("{} {id} {message}\n", iso_ms(now_ms()))));
                } else {
                    status = "\tStatus: error\tError Type: Runtime.ExitError";
                    events.push((
                        end_ms,
                        format!("RequestId: {id} Error: {message}\n{error_type}\n"),
                    ));
                }
            }
            RunResult::InitFailed(_) => status = "\tStatus: error\tError Type: Runtime.InitError",
            RunResult::Completed(_) => {}
        }
        events.push((end_ms, format!("END RequestId: {id}\n")));
        let init = ran
            .init_ms
            .map(|ms| format!("\tInit Duration: {ms:.2} ms"))
            .unwrap_or_default();
        events.push((
            end_ms,
            format!(
                "REPORT RequestId: {id}\tDuration: {duration_ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB{init}{status}\t\n",
                duration_ms.ceil().max(1.0),
                spec.memory_mb,
                max_memory_mb(instance.pid),
            ),
        ));
        self.append_logs(
            &spec.account,
            &spec.region,
            &spec.log_group,
            &instance.log_stream,
            &events,
        );
        events.into_iter().map(|(_, m)| m).collect()
    }

    /// Output an instance produced after its last invocation (or while being stopped).
    pub(super) fn flush_leftover_logs(&self, account: &str, region: &str, name: &str, instance: &Instance) {
        let lines = instance.logs.drain();
        if !lines.is_empty() {
            self.append_logs(
                account,
                region,
                &format!("/aws/lambda/{name}"),
                &instance.log_stream,
                &lines,
            );
        }
    }

    pub(super) fn append_logs(
        &self,
        account: &str,
        region: &str,
        group: &str,
        stream: &str,
        events: &[(i64, String)],
    ) {
        let Ok(rt) = self.runtime() else {
            return;
        };
        let caller = scope_caller(account, region);
        let ctx = ctx_for(&rt, &caller);
        // A failed log write must not fail the invocation; the function already ran. Logs need
        // not be on disk before the invocation's result is used (CloudWatch is asynchronous).
        let _ = rt
            .store
            .write_unsynced(|t| crate::services::logs::append_events(t, &ctx, group, stream, events));
    }
}

pub(super) fn ms_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// `YYYY/MM/DD`, as log stream names start.
pub(super) fn date_path(ms: u64) -> String {
    crate::services::sts::iso8601(ms)
        .get(..10)
        .unwrap_or_default()
        .replace('-', "/")
}

/// `2026-11-23T10:00:00.123Z`.
pub(super) fn iso_ms(ms: u64) -> String {
    let seconds = crate::services::sts::iso8601(ms);
    format!("{}.{:03}Z", seconds.trim_end_matches('Z'), ms % 1000)
}

/// Base64 of the last 4 KB of `log` (cut at a character boundary).
pub(super) fn log_tail(log: &str) -> String {
    let mut start = log.len().saturating_sub(LOG_TAIL_BYTES);
    while !log.is_char_boundary(start) {
        start += 1;
    }
    base64::engine::general_purpose::STANDARD.encode(&log.as_bytes()[start..])
}
