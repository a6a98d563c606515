//! `local`: serve the local runtime in the foreground until Ctrl-C.

use super::Failure;
use crate::cli::{GlobalArgs, LocalArgs, LocalCommand};
use anyhow::Context as _;
use personalize_stack_local::{Config, Faults, Profile};
use std::path::{Path, PathBuf};

/// The default data dir: `.personalize-stack/local` next to the stack file.
pub fn default_data_dir(stack_file: &Path) -> PathBuf {
    let dir = stack_file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = dir.join(".personalize-stack").join("local");
    // Absolute, so the path means the same to every process the runtime starts.
    std::path::absolute(&dir).unwrap_or(dir)
}

/// Runs `local`.
pub fn run(global: &GlobalArgs, args: &LocalArgs) -> Result<(), Failure> {
    if let Some(command) = &args.inspect {
        return inspect(global, command);
    }
    let mut profile = Profile::named(&args.latency).context("unknown latency profile")?;
    profile.time_scale = args.time_scale;
    profile.shard_write_limits |= args.shard_write_limits;
    let data_dir = if args.in_memory {
        None
    } else {
        Some(
            args.data_dir
                .clone()
                .unwrap_or_else(|| default_data_dir(&global.file)),
        )
    };
    let config = Config {
        host: args.host,
        port: args.port,
        data_dir: data_dir.clone(),
        profile,
        faults: Faults {
            throttle: args.throttle,
            server_error: args.server_errors,
            iam_propagation_ms: args.iam_propagation_ms,
            ..Faults::default()
        },
        poll_interval_ms: args.poll_interval_ms,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let quiet = global.quiet;
    runtime.block_on(async move {
        // Listen for Ctrl-C now, before the address is announced: a `ctrl_c()` future only
        // registers when first polled, and a SIGINT right after the announcement would kill
        // the process instead of stopping it cleanly.
        let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
            .context("cannot listen for Ctrl-C")?;
        let shutdown = async move {
            interrupt.recv().await;
        };
        let endpoint_file = data_dir.as_ref().map(|d| d.join(super::target::ENDPOINT_FILE));
        let announced = std::sync::atomic::AtomicBool::new(false);
        let served = personalize_stack_local::serve_until(config, shutdown, |addr| {
            // `--local` commands find a serving runtime through this file.
            if let Some(file) = &endpoint_file {
                let _ = std::fs::write(file, format!("http://{addr}\n"));
                announced.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            // The address goes to stdout (data: scripts read it); the rest to stderr.
            println!("http://{addr}");
            if !quiet {
                eprintln!(
                    "local runtime listening on http://{addr} ({}); state in {}; Ctrl-C stops it",
                    args.latency,
                    data_dir
                        .as_ref()
                        .map_or_else(|| "memory".to_owned(), |d| format!("`{}`", d.display()))
                );
                eprintln!("  AWS CLI: aws --endpoint-url http://{addr} kinesis list-streams");
            }
        })
        .await;
        // Only the file this process wrote: a runtime that failed to start (the data dir is
        // another one's) must not hide the one serving.
        if let Some(file) = endpoint_file
            .as_ref()
            .filter(|_| announced.load(std::sync::atomic::Ordering::SeqCst))
        {
            let _ = std::fs::remove_file(file);
        }
        served.context("the local runtime failed")
    })?;
    Ok(())
}

/// `local events` / `local resources`: read the runtime's inspection endpoints.
fn inspect(global: &GlobalArgs, command: &LocalCommand) -> Result<(), Failure> {
    let endpoint = global
        .endpoint_url
        .clone()
        .unwrap_or_else(|| "http://127.0.0.1:4566".to_owned());
    let (path, key) = match command {
        LocalCommand::Events {
            tracking_id,
            dataset_group_arn,
        } => {
            let query = match (tracking_id, dataset_group_arn) {
                (Some(t), _) => format!("?trackingId={}", encode(t)),
                (None, Some(g)) => format!("?datasetGroupArn={}", encode(g)),
                (None, None) => String::new(),
            };
            (format!("/_local/events{query}"), "events")
        }
        LocalCommand::Resources { account } => (
            format!(
                "/_local/resources{}",
                account
                    .as_ref()
                    .map(|a| format!("?account={}", encode(a)))
                    .unwrap_or_default()
            ),
            "resources",
        ),
    };
    let body = http_get(&endpoint, &path)
        .with_context(|| format!("cannot read `{path}` from the local runtime at {endpoint}"))?;
    let value: serde_json::Value = serde_json::from_str(&body)
        .with_context(|| format!("the local runtime answered `{path}` with something other than JSON"))?;
    match global.output {
        crate::cli::Output::Json => println!("{value:#}"),
        crate::cli::Output::Text => {
            let items = value[key].as_array().cloned().unwrap_or_default();
            for item in &items {
                println!("{item}");
            }
            if !global.quiet {
                eprintln!("{} {key}", items.len());
            }
        }
    }
    Ok(())
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A plain HTTP/1.1 GET (the runtime is local and speaks plain HTTP; no client library needed).
fn http_get(endpoint: &str, path: &str) -> anyhow::Result<String> {
    use std::io::{Read as _, Write as _};
    let authority = endpoint
        .strip_prefix("http://")
        .context("the local runtime's endpoint must be an http:// URL")?
        .trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(authority).with_context(|| {
        format!("nothing listens on {authority}; start it with `personalize-stack local`")
    })?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response
        .split_once("\r\n\r\n")
        .context("malformed HTTP response")?;
    if !head.starts_with("HTTP/1.1 200") {
        anyhow::bail!("{}", head.lines().next().unwrap_or_default());
    }
    // Chunked or not, the JSON document is between the first `{` and the last `}`.
    let start = body.find('{').context("empty response")?;
    let end = body.rfind('}').context("truncated response")?;
    Ok(body[start..=end].to_owned())
}
