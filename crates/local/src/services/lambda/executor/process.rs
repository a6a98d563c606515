//! The process: started with a clean environment, watched until it exits, killed on
//! timeout or shutdown.

use super::*;

/// Starts `bootstrap` with a clean environment, stdout and stderr into `output`.
pub(super) fn spawn(
    code_dir: &Path,
    env: &[(String, String)],
    output: std::io::PipeWriter,
) -> std::io::Result<Child> {
    // A relative data dir would be resolved against `current_dir` below, i.e. twice.
    let code_dir = std::path::absolute(code_dir)?;
    let mut attempts = 0;
    loop {
        let mut command = Command::new(code_dir.join("bootstrap"));
        command
            .current_dir(&code_dir)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output.try_clone()?);
        match command.spawn() {
            Ok(child) => return Ok(child),
            // Another thread forked while the freshly unpacked file was open for writing.
            Err(e) if e.raw_os_error() == Some(TEXT_FILE_BUSY) && attempts < 50 => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Lambda runs `bootstrap` whatever mode bits the zip recorded (zips made on Windows have
/// none).
#[cfg(unix)]
pub(super) fn make_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => {
            let mode = meta.permissions().mode() | 0o555;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        }
        _ => Ok(()),
    }
}

/// The message Lambda gives when `bootstrap` cannot be executed.
pub(super) fn exec_failure(e: &std::io::Error) -> String {
    format!("fork/exec /var/task/bootstrap: {e}")
}

/// Kills the process and reaps it.
pub(super) fn kill(child: &Mutex<Child>) {
    let mut child = child.lock().unwrap_or_else(PoisonError::into_inner);
    let _ = child.kill();
    let _ = child.wait();
}

/// Collects the process's output as it comes until the process closes it, then waits for
/// the process to exit and announces how it ended.
pub(super) async fn watch_process(
    logs: Arc<LogBuffer>,
    child: Arc<Mutex<Child>>,
    exited: watch::Sender<Option<String>>,
) {
    loop {
        if logs.pipe.readable().await.is_err() || !logs.pump() {
            break;
        }
    }
    loop {
        let status = child.lock().unwrap_or_else(PoisonError::into_inner).try_wait();
        match status {
            Ok(Some(status)) => {
                exited.send_replace(Some(describe_exit(status)));
                return;
            }
            Ok(None) => tokio::time::sleep(Duration::from_millis(5)).await,
            Err(_) => {
                exited.send_replace(Some("exit status unknown".to_owned()));
                return;
            }
        }
    }
}

/// How Lambda words an exit: `exit status 1`, `signal: killed`.
pub(super) fn describe_exit(status: std::process::ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            let name = match signal {
                6 => "aborted".to_owned(),
                9 => "killed".to_owned(),
                11 => "segmentation fault".to_owned(),
                15 => "terminated".to_owned(),
                n => n.to_string(),
            };
            return format!("signal: {name}");
        }
    }
    "exit status unknown".to_owned()
}

/// `Max Memory Used` of `REPORT`: the process's peak resident set (Linux), MB.
pub(super) fn max_memory_mb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb.div_ceil(1024))
}
