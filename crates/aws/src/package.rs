//! Lambda deployment packages: a function's `code` built (or read) into the zip Lambda runs,
//! once per run.
//!
//! `code: { crate: <dir> }` builds the package's `bootstrap` binary for the function's
//! architecture — with `cargo lambda build` when Cargo Lambda is installed (it cross-compiles
//! for Amazon Linux), else with plain `cargo build --release` when this machine is the
//! function's platform — and zips it deterministically: the same binary always gives the same
//! bytes, so the same `CodeSha256` and no needless code update. `code: { zip: <file> }` is
//! taken as it is.

use crate::Aws;
use personalize_stack_core::engine::ProviderError;
use personalize_stack_core::spec::kinds::lambda_function::{Architecture, Code};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

/// The step named in build errors.
const BUILD: &str = "build lambda";

/// How many trailing lines of a failed build's output an error quotes.
const TAIL_LINES: usize = 25;

/// A built deployment package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The zip's bytes.
    pub zip: Vec<u8>,
    /// Base64 of the zip's SHA-256, as Lambda reports `CodeSha256`.
    pub sha256: String,
}

impl Package {
    /// A package of a ready zip.
    pub fn from_zip(zip: Vec<u8>) -> Package {
        let sha256 = code_sha256(&zip);
        Package { zip, sha256 }
    }

    /// A package holding `executable` as `bootstrap`.
    ///
    /// # Errors
    /// The executable is too large for a zip without ZIP64 (4 GiB; Lambda allows 250 MB).
    pub fn from_bootstrap(executable: &[u8]) -> Result<Package, ProviderError> {
        Ok(Package::from_zip(zip_bootstrap(executable)?))
    }
}

/// Built packages by what they were built from, shared by every provider made from the same
/// [`Settings`](crate::Settings): a fleet of fifty accounts builds its crate once.
#[derive(Clone, Default)]
pub struct Packages(Arc<Mutex<BTreeMap<String, Arc<Package>>>>);

impl std::fmt::Debug for Packages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().map(|m| m.len()).unwrap_or_default();
        write!(f, "Packages({n} built)")
    }
}

/// Base64 of the SHA-256 of `bytes`: what Lambda reports as `CodeSha256`.
pub fn code_sha256(bytes: &[u8]) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
}

/// The package of a function's `code`, built (or read) on first use and kept for the rest of
/// the run: `desired()` needs its hash on every call, and a crate is built once.
///
/// Building blocks the calling thread (a build can take minutes); inside a multi-threaded
/// runtime the worker hands its other tasks off first.
///
/// # Errors
/// The code cannot be built or read.
pub(crate) fn for_function(
    aws: &Aws,
    code: &Code,
    architecture: Architecture,
) -> Result<Arc<Package>, ProviderError> {
    // The lock is held while building, so two callers never build the same crate twice.
    let mut cache = aws
        .settings
        .packages
        .0
        .lock()
        .map_err(|_| ProviderError::new(BUILD, "Internal", "the package cache is poisoned"))?;
    // Keyed by source, not by function: the same code deployed in many accounts is one build.
    let key = format!("{}|{code:?}|{architecture:?}", aws.settings.base_dir.display());
    if let Some(package) = cache.get(&key) {
        return Ok(Arc::clone(package));
    }
    let package = Arc::new(blocking(|| load(&aws.settings.base_dir, code, architecture))?);
    cache.insert(key, Arc::clone(&package));
    Ok(package)
}

/// Runs `f`, which blocks, without starving the async runtime when there is one to spare.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// Builds or reads the package `code` describes; paths are relative to `base_dir`.
///
/// # Errors
/// The crate does not build, or the zip cannot be read.
pub fn load(base_dir: &Path, code: &Code, architecture: Architecture) -> Result<Package, ProviderError> {
    match code {
        Code::Zip(path) => {
            let path = base_dir.join(path);
            let zip = std::fs::read(&path).map_err(|e| {
                ProviderError::new(
                    "read lambda zip",
                    "CodeNotFound",
                    format!("cannot read {}: {e}", path.display()),
                )
                .hint("`code: { zip: ... }` is relative to the stack file's directory")
            })?;
            if !zip.starts_with(b"PK\x03\x04") {
                return Err(ProviderError::new(
                    "read lambda zip",
                    "NotAZip",
                    format!("{} is not a zip file", path.display()),
                ));
            }
            Ok(Package::from_zip(zip))
        }
        Code::Crate(dir) => {
            let executable = build_bootstrap(&base_dir.join(dir), architecture)?;
            Package::from_bootstrap(&executable)
        }
    }
}

// ---- building ----

/// Builds the `bootstrap` binary of the Cargo package in `dir` for `architecture`; its bytes.
fn build_bootstrap(dir: &Path, architecture: Architecture) -> Result<Vec<u8>, ProviderError> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(ProviderError::new(
            BUILD,
            "CrateNotFound",
            format!("no Cargo.toml in {}", dir.display()),
        )
        .hint("`code: { crate: ... }` names a Cargo package directory, relative to the stack file"));
    }
    let path = if cargo_lambda_installed() {
        build_with_cargo_lambda(&manifest, architecture)?
    } else if host_runs(architecture) {
        build_with_cargo(&manifest)?
    } else {
        return Err(ProviderError::new(
            BUILD,
            "CannotCrossCompile",
            format!(
                "building {} for Lambda {} needs Cargo Lambda on this machine ({}-{})",
                manifest.display(),
                arch_name(architecture),
                std::env::consts::OS,
                std::env::consts::ARCH,
            ),
        )
        .hint(format!(
            "install Cargo Lambda (`cargo install cargo-lambda`, https://www.cargo-lambda.info), or run on Linux {}, or build the zip yourself and use `code: {{ zip: <path> }}`",
            arch_name(architecture)
        )));
    };
    std::fs::read(&path).map_err(|e| {
        ProviderError::new(
            BUILD,
            "ArtifactMissing",
            format!("cannot read the built binary {}: {e}", path.display()),
        )
    })
}

/// `x86_64` or `arm64`, as Lambda names architectures.
fn arch_name(architecture: Architecture) -> &'static str {
    match architecture {
        Architecture::X86_64 => "x86_64",
        Architecture::Arm64 => "arm64",
    }
}

/// Whether a binary built natively here runs on Lambda's `architecture`.
fn host_runs(architecture: Architecture) -> bool {
    let arch = match architecture {
        Architecture::X86_64 => "x86_64",
        Architecture::Arm64 => "aarch64",
    };
    std::env::consts::OS == "linux" && std::env::consts::ARCH == arch
}

/// The Cargo to run: the one running us (tests, `cargo run`) or the one on the `PATH`.
fn cargo() -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(program);
    command.env("CARGO_TERM_COLOR", "never");
    command
}

fn cargo_lambda_installed() -> bool {
    cargo()
        .args(["lambda", "--version"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `command` to completion, capturing its output; an error quoting the end of stderr
/// when it fails.
fn run(mut command: Command, what: &str) -> Result<Output, ProviderError> {
    let output = command.stdin(Stdio::null()).output().map_err(|e| {
        ProviderError::new(BUILD, "CargoNotFound", format!("cannot run {what}: {e}"))
            .hint("install Rust (https://rustup.rs), or use `code: { zip: <path> }`")
    })?;
    if output.status.success() {
        return Ok(output);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    let tail = lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n");
    Err(ProviderError::new(
        BUILD,
        "BuildFailed",
        format!("{what} failed ({}):\n{tail}", output.status),
    ))
}

/// `cargo lambda build`: cross-compiles for Amazon Linux on any host.
fn build_with_cargo_lambda(manifest: &Path, architecture: Architecture) -> Result<PathBuf, ProviderError> {
    let arch_flag = match architecture {
        Architecture::X86_64 => "--x86-64",
        Architecture::Arm64 => "--arm64",
    };
    // Our own output directory, so the binary's path is known whatever the defaults.
    let lambda_dir = target_directory(manifest)?
        .join("personalize-stack")
        .join(arch_name(architecture));
    let mut command = cargo();
    command
        .args(["lambda", "build", "--release", arch_flag, "--bin", "bootstrap"])
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--lambda-dir")
        .arg(&lambda_dir);
    run(command, "cargo lambda build")?;
    Ok(lambda_dir.join("bootstrap").join("bootstrap"))
}

/// Cargo's target directory for `manifest`'s workspace.
fn target_directory(manifest: &Path) -> Result<PathBuf, ProviderError> {
    let mut command = cargo();
    command
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--manifest-path",
        ])
        .arg(manifest);
    let output = run(command, "cargo metadata")?;
    serde_json::from_slice::<serde_json::Value>(&output.stdout)
        .ok()
        .and_then(|v| v.get("target_directory")?.as_str().map(PathBuf::from))
        .ok_or_else(|| {
            ProviderError::new(
                BUILD,
                "BadMetadata",
                "`cargo metadata` did not name a target directory",
            )
        })
}

/// `cargo build --release` for this machine, which runs the function's architecture.
fn build_with_cargo(manifest: &Path) -> Result<PathBuf, ProviderError> {
    let mut command = cargo();
    command
        .args(["build", "--release", "--manifest-path"])
        .arg(manifest)
        .args(["--bin", "bootstrap", "--message-format=json-render-diagnostics"]);
    let output = run(command, "cargo build")?;
    executable_from_messages(&String::from_utf8_lossy(&output.stdout)).ok_or_else(|| {
        ProviderError::new(
            BUILD,
            "ArtifactMissing",
            format!(
                "`cargo build` of {} reported no `bootstrap` executable",
                manifest.display()
            ),
        )
        .hint("the crate needs a binary target named `bootstrap` ([[bin]] name = \"bootstrap\")")
    })
}

/// The executable of the `bootstrap` target in Cargo's JSON messages.
fn executable_from_messages(stdout: &str) -> Option<PathBuf> {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m.get("reason").and_then(serde_json::Value::as_str) == Some("compiler-artifact"))
        .filter(|m| m.pointer("/target/name").and_then(serde_json::Value::as_str) == Some("bootstrap"))
        .filter_map(|m| m.get("executable")?.as_str().map(PathBuf::from))
        .next_back()
}

// ---- zipping ----

/// DOS date of 1980-01-01 (the earliest a zip can say): a fixed timestamp keeps the bytes, and
/// so `CodeSha256`, the same across builds of the same binary.
const DOS_DATE_1980_01_01: u16 = (1 << 5) | 1;

/// "Version made by": Unix (3) in the high byte, so the external attributes are a mode.
const MADE_BY_UNIX: u16 = (3 << 8) | 20;

/// Version needed to extract a stored entry: 1.0.
const VERSION_NEEDED: u16 = 10;

/// A regular file, `rwxr-xr-x`: Lambda runs `bootstrap` only if it is executable.
const MODE_EXECUTABLE: u32 = 0o100_755;

/// A zip holding `executable` as its only entry, `bootstrap`: stored (not compressed), mode
/// 0755, timestamp 1980-01-01 00:00, so the same binary always zips to the same bytes.
///
/// # Errors
/// The executable is 4 GiB or more.
pub fn zip_bootstrap(executable: &[u8]) -> Result<Vec<u8>, ProviderError> {
    let name = b"bootstrap";
    let size = u32::try_from(executable.len()).map_err(|_| {
        ProviderError::new(
            BUILD,
            "TooLarge",
            format!(
                "the bootstrap binary is {} bytes; Lambda allows 250 MB unzipped",
                executable.len()
            ),
        )
    })?;
    let crc = crc32(executable);
    // The name is a constant 9 bytes.
    let name_len = name.len() as u16;
    let mut zip = Vec::with_capacity(executable.len() + 128);
    // Local file header.
    zip.extend_from_slice(&0x0403_4b50_u32.to_le_bytes());
    zip.extend_from_slice(&VERSION_NEEDED.to_le_bytes());
    zip.extend_from_slice(&0_u16.to_le_bytes()); // flags
    zip.extend_from_slice(&0_u16.to_le_bytes()); // method: stored
    zip.extend_from_slice(&0_u16.to_le_bytes()); // time 00:00:00
    zip.extend_from_slice(&DOS_DATE_1980_01_01.to_le_bytes());
    zip.extend_from_slice(&crc.to_le_bytes());
    zip.extend_from_slice(&size.to_le_bytes()); // compressed
    zip.extend_from_slice(&size.to_le_bytes()); // uncompressed
    zip.extend_from_slice(&name_len.to_le_bytes());
    zip.extend_from_slice(&0_u16.to_le_bytes()); // extra field length
    zip.extend_from_slice(name);
    zip.extend_from_slice(executable);
    let central_offset = u32::try_from(zip.len())
        .map_err(|_| ProviderError::new(BUILD, "TooLarge", "the zip would need ZIP64"))?;
    // Central directory entry.
    zip.extend_from_slice(&0x0201_4b50_u32.to_le_bytes());
    zip.extend_from_slice(&MADE_BY_UNIX.to_le_bytes());
    zip.extend_from_slice(&VERSION_NEEDED.to_le_bytes());
    zip.extend_from_slice(&0_u16.to_le_bytes()); // flags
    zip.extend_from_slice(&0_u16.to_le_bytes()); // method: stored
    zip.extend_from_slice(&0_u16.to_le_bytes()); // time
    zip.extend_from_slice(&DOS_DATE_1980_01_01.to_le_bytes());
    zip.extend_from_slice(&crc.to_le_bytes());
    zip.extend_from_slice(&size.to_le_bytes());
    zip.extend_from_slice(&size.to_le_bytes());
    zip.extend_from_slice(&name_len.to_le_bytes());
    zip.extend_from_slice(&0_u16.to_le_bytes()); // extra field length
    zip.extend_from_slice(&0_u16.to_le_bytes()); // comment length
    zip.extend_from_slice(&0_u16.to_le_bytes()); // disk number
    zip.extend_from_slice(&0_u16.to_le_bytes()); // internal attributes
    zip.extend_from_slice(&(MODE_EXECUTABLE << 16).to_le_bytes()); // external: the Unix mode
    zip.extend_from_slice(&0_u32.to_le_bytes()); // local header offset
    zip.extend_from_slice(name);
    let central_size = u32::try_from(zip.len())
        .map_err(|_| ProviderError::new(BUILD, "TooLarge", "the zip would need ZIP64"))?
        - central_offset;
    // End of central directory.
    zip.extend_from_slice(&0x0605_4b50_u32.to_le_bytes());
    zip.extend_from_slice(&0_u16.to_le_bytes()); // this disk
    zip.extend_from_slice(&0_u16.to_le_bytes()); // disk with the directory
    zip.extend_from_slice(&1_u16.to_le_bytes()); // entries on this disk
    zip.extend_from_slice(&1_u16.to_le_bytes()); // entries
    zip.extend_from_slice(&central_size.to_le_bytes());
    zip.extend_from_slice(&central_offset.to_le_bytes());
    zip.extend_from_slice(&0_u16.to_le_bytes()); // comment length
    Ok(zip)
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) lookup table.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0_u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// The zip format's CRC-32 of `data`.
fn crc32(data: &[u8]) -> u32 {
    !data.iter().fold(!0_u32, |crc, &b| {
        CRC_TABLE[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn crc32_matches_the_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn the_same_binary_zips_to_the_same_bytes_and_hash() {
        let binary: Vec<u8> = (0..10_000_u32).map(|i| (i % 251) as u8).collect();
        let a = Package::from_bootstrap(&binary).unwrap();
        let b = Package::from_bootstrap(&binary.clone()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.sha256, code_sha256(&a.zip));
        let other = Package::from_bootstrap(b"#!/bin/sh\necho hi\n").unwrap();
        assert_ne!(a.sha256, other.sha256);
    }

    #[test]
    fn the_zip_has_one_executable_bootstrap_entry_from_1980() {
        let content = b"#!/bin/sh\nexit 0\n";
        let zip = zip_bootstrap(content).unwrap();
        let u16_at = |i: usize| u16::from_le_bytes([zip[i], zip[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes([zip[i], zip[i + 1], zip[i + 2], zip[i + 3]]);
        // Local header: stored, 1980-01-01 00:00, CRC and sizes, the name, then the data.
        assert_eq!(u32_at(0), 0x0403_4b50);
        assert_eq!(u16_at(8), 0);
        assert_eq!((u16_at(10), u16_at(12)), (0, 0x21));
        assert_eq!(u32_at(14), crc32(content));
        assert_eq!(u32_at(18), content.len() as u32);
        assert_eq!(&zip[30..39], b"bootstrap");
        assert_eq!(&zip[39..39 + content.len()], content);
        // End of central directory: one entry; its central entry says Unix, mode 0100755.
        let eocd = zip.len() - 22;
        assert_eq!(u32_at(eocd), 0x0605_4b50);
        assert_eq!(u16_at(eocd + 10), 1);
        let central = u32_at(eocd + 16) as usize;
        assert_eq!(u32_at(central), 0x0201_4b50);
        assert_eq!(zip[central + 5], 3);
        assert_eq!(u32_at(central + 38) >> 16, 0o100_755);
        assert_eq!(&zip[central + 46..central + 55], b"bootstrap");
    }

    #[test]
    fn cargo_messages_name_the_bootstrap_executable() {
        let stdout = r#"{"reason":"compiler-artifact","target":{"name":"lib"},"executable":null}
{"reason":"compiler-artifact","target":{"name":"bootstrap","kind":["bin"]},"executable":"/t/release/bootstrap"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            executable_from_messages(stdout),
            Some(PathBuf::from("/t/release/bootstrap"))
        );
        assert_eq!(executable_from_messages("not json"), None);
    }

    #[test]
    fn a_zip_is_read_as_it_is_and_a_missing_one_is_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("ps-package-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let zip = zip_bootstrap(b"x").unwrap();
        std::fs::write(dir.join("f.zip"), &zip).unwrap();
        let p = load(&dir, &Code::Zip("f.zip".into()), Architecture::X86_64).unwrap();
        assert_eq!(p.zip, zip);
        assert_eq!(p.sha256, code_sha256(&zip));
        let e = load(&dir, &Code::Zip("nope.zip".into()), Architecture::X86_64).unwrap_err();
        assert_eq!(e.code, "CodeNotFound");
        let e = load(&dir, &Code::Crate("nope".into()), Architecture::X86_64).unwrap_err();
        assert_eq!(e.code, "CrateNotFound");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
