//! `local`: serve the local runtime in the foreground until Ctrl-C.

use super::Failure;
use crate::cli::{GlobalArgs, LocalArgs};
use anyhow::Context as _;
use personalize_stack_local::{Config, Faults, Profile};
use std::path::{Path, PathBuf};

/// The default data dir: `.personalize-stack/local` next to the stack file.
pub fn default_data_dir(stack_file: &Path) -> PathBuf {
    let dir = stack_file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    dir.join(".personalize-stack").join("local")
}

/// Runs `local`.
pub fn run(global: &GlobalArgs, args: &LocalArgs) -> Result<(), Failure> {
    let mut profile = Profile::named(&args.latency).context("unknown latency profile")?;
    profile.time_scale = args.time_scale;
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
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        personalize_stack_local::serve_until(config, shutdown, |addr| {
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
        .await
        .context("the local runtime failed")
    })?;
    Ok(())
}
