//! What the workspace's tests and benches share, in one crate instead of files included by
//! path into each:
//! - at the root: a local runtime in memory on `127.0.0.1:0`, SDK configurations pointing at
//!   it as a user's program would configure them (endpoint URL and credentials), its
//!   inspection endpoint, and zips of a `bootstrap`;
//! - [`provider`]: a provider connected to a runtime through the real SDK clients, stacks
//!   parsed from YAML, and the engine's plan, apply and destroy;
//! - [`workshop`]: the workshop's pipeline deployed by hand through the SDK clients, and the
//!   forwarder built as `up` builds it;
//! - [`cli`]: the `personalize-stack` binary run on a scratch copy of the shipped stack, and
//!   `personalize-stack local` serving;
//! - [`http_stub`]: a minimal HTTP/1.1 server (std only; the one module without the
//!   `runtime` feature);
//! - [`python_tools`]: the venv with the AWS CLI and boto3 that `.ci/python-tools` installs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

pub mod http_stub;

#[cfg(feature = "runtime")]
pub mod cli;
#[cfg(feature = "runtime")]
pub mod provider;
#[cfg(feature = "runtime")]
pub mod workshop;

#[cfg(feature = "runtime")]
mod runtime;
#[cfg(feature = "runtime")]
pub use runtime::*;

/// The workspace's root directory.
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The bin directory of the venv holding the AWS CLI, boto3 and PyYAML, installed by
/// `.ci/python-tools` on first use (test processes running at once wait for one install).
pub fn python_tools() -> std::path::PathBuf {
    let script = workspace_root().join(".ci/python-tools");
    let out = std::process::Command::new("bash").arg(script).output().unwrap();
    assert!(
        out.status.success(),
        "python-tools failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::path::PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}
