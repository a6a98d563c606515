//! Lambda deployment packages: a function's `code` built (or read) into the zip Lambda runs,
//! once per run, and checked against the runtime it is declared for.
//!
//! `code: { crate: <dir> }` builds the package's `bootstrap` binary for the function's
//! architecture with the size-optimised, stripped [`PROFILE`]:
//! - with `cargo lambda build` when Cargo Lambda is installed (it cross-compiles for Amazon
//!   Linux);
//! - else, when this machine is the function's platform, with plain `cargo build`: statically
//!   linked against musl when that Rust target is installed (it runs on every `provided.*`
//!   runtime), else against this machine's glibc.
//!
//! The binary is zipped deterministically (one deflated entry, fixed timestamp and mode): the
//! same binary always gives the same bytes, so the same `CodeSha256` and no needless code
//! update. `code: { zip: <file> }` is taken as it is.
//!
//! # Guarantees
//! - A package whose `bootstrap` needs a newer glibc than the declared runtime's Amazon Linux
//!   has is refused before anything is uploaded ([`check_runtime`]): on Lambda it would fail
//!   every invocation with "version `GLIBC_2.xx' not found".
//! - A build in progress is reported through [`BuildProgress`]: when it starts, Cargo's status
//!   lines (including "Blocking waiting for file lock"), and when it ends.

use crate::{Aws, Settings};
use personalize_stack_core::Stack;
use personalize_stack_core::engine::ProviderError;
use personalize_stack_core::spec::ResourceSpec;
use personalize_stack_core::spec::kinds::lambda_function::{Architecture, Code};
use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The step named in build errors.
const BUILD: &str = "build lambda";

/// How many trailing lines of a failed build's output an error quotes.
const TAIL_LINES: usize = 25;

/// The Cargo profile a crate's `bootstrap` is built with. `up` defines it itself (see
/// [`PROFILE_SETTINGS`]), so a crate need not; the workspace's `Cargo.toml` defines it the
/// same way for building the forwarder by hand.
pub const PROFILE: &str = "release-lambda";

/// [`PROFILE`]'s settings, given to Cargo with `--config`: a release build optimised for size,
/// with fat LTO and one codegen unit (smaller code), stripped of symbols and debug info, and
/// aborting on panic (no unwinding tables). The forwarder's `bootstrap` goes from about 12 MB
/// to under 4 MB, and its zip to a third of that.
pub const PROFILE_SETTINGS: &[&str] = &[
    "profile.release-lambda.inherits=\"release\"",
    "profile.release-lambda.opt-level=\"s\"",
    "profile.release-lambda.lto=true",
    "profile.release-lambda.codegen-units=1",
    "profile.release-lambda.strip=true",
    "profile.release-lambda.panic=\"abort\"",
];

/// Lambda's limit on a function's unzipped code.
const MAX_UNZIPPED: u64 = 250 * 1024 * 1024;

/// A built deployment package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The zip's bytes.
    pub zip: Vec<u8>,
    /// Base64 of the zip's SHA-256, as Lambda reports `CodeSha256`.
    pub sha256: String,
    /// The size of its `bootstrap`, when it has one.
    pub bootstrap_size: Option<u64>,
    /// The newest glibc its `bootstrap` needs, when it is a dynamically linked ELF binary.
    pub glibc: Option<GlibcNeed>,
}

impl Package {
    /// A package of a ready zip; its `bootstrap`, if any, is read to know what it needs.
    pub fn from_zip(zip: Vec<u8>) -> Package {
        let sha256 = code_sha256(&zip);
        let bootstrap = read_bootstrap(&zip);
        Package {
            bootstrap_size: bootstrap.as_ref().map(|b| b.len() as u64),
            glibc: bootstrap.as_deref().and_then(required_glibc),
            zip,
            sha256,
        }
    }

    /// A package holding `executable` as `bootstrap`.
    ///
    /// # Errors
    /// The executable is larger than Lambda allows.
    pub fn from_bootstrap(executable: &[u8]) -> Result<Package, ProviderError> {
        Ok(Package {
            sha256: String::new(),
            zip: zip_bootstrap(executable)?,
            bootstrap_size: Some(executable.len() as u64),
            glibc: required_glibc(executable),
        }
        .hashed())
    }

    fn hashed(mut self) -> Package {
        self.sha256 = code_sha256(&self.zip);
        self
    }

    /// One line for the plan: `bundle: 3.1 MB zip (bootstrap 8.9 MB)`.
    pub fn summary(&self) -> String {
        match self.bootstrap_size {
            Some(b) => format!(
                "bundle: {} zip (bootstrap {})",
                megabytes(self.zip.len() as u64),
                megabytes(b)
            ),
            None => format!("bundle: {} zip", megabytes(self.zip.len() as u64)),
        }
    }
}

/// `3.1 MB` (decimal megabytes, as Lambda's limits are written).
fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// Built packages by what they were built from, shared by every provider made from the same
/// [`Settings`]: a fleet of fifty accounts builds its crate once.
#[derive(Clone, Default)]
pub struct Packages(Arc<Mutex<BTreeMap<String, Arc<Package>>>>);

impl fmt::Debug for Packages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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

// ---- progress ----

/// What a build reports while it runs. Builds take a minute or more on a fresh machine, and
/// wait for as long as another Cargo holds the build directory's lock: the user sees why.
pub trait BuildProgress: Send + Sync + fmt::Debug {
    /// A build starts; `what` names it (`lambda/ (cargo build --profile release-lambda)`).
    fn started(&self, what: &str);
    /// A line Cargo printed on stderr, trimmed (`Compiling serde v1.0.219`, `Blocking waiting
    /// for file lock on build directory`).
    fn output(&self, line: &str);
    /// The build ended, after `elapsed`.
    fn finished(&self, what: &str, outcome: Result<&Package, &ProviderError>, elapsed: Duration);
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl BuildProgress for Silent {
    fn started(&self, _: &str) {}
    fn output(&self, _: &str) {}
    fn finished(&self, _: &str, _: Result<&Package, &ProviderError>, _: Duration) {}
}

// ---- the package of a function ----

/// Where a function runs: what its package is built for and checked against.
#[derive(Debug, Clone, Copy)]
pub struct Platform<'a> {
    /// The function's architecture.
    pub architecture: Architecture,
    /// The function's runtime (`provided.al2023`).
    pub runtime: &'a str,
}

/// The package of a function's `code`, built (or read) on first use and kept for the rest of
/// the run (`desired()` needs its hash on every call, and a crate is built once), checked
/// against the function's runtime.
///
/// Building blocks the calling thread (a build can take minutes); inside a multi-threaded
/// runtime the worker hands its other tasks off first.
///
/// # Errors
/// The code cannot be built or read, or needs a newer glibc than the runtime has.
pub(crate) fn for_function(
    aws: &Aws,
    code: &Code,
    platform: Platform<'_>,
) -> Result<Arc<Package>, ProviderError> {
    let package = cached(&aws.settings, code, platform.architecture)?;
    check_runtime(&package, platform.runtime)?;
    Ok(package)
}

/// Builds (or reads) the package of every Lambda function of `stack` into the cache of
/// `settings`, and checks each against its runtime: what a fleet does before its progress
/// bars start, so the build shows on its own and every attendee finds the package ready.
///
/// # Errors
/// As `for_function`.
pub fn prepare(settings: &Settings, stack: &Stack) -> Result<(), ProviderError> {
    for resource in stack.resources.values() {
        if let ResourceSpec::LambdaFunction(f) = &resource.spec {
            let package = cached(settings, &f.code, f.architecture)?;
            check_runtime(&package, &f.runtime)?;
        }
    }
    Ok(())
}

fn cached(
    settings: &Settings,
    code: &Code,
    architecture: Architecture,
) -> Result<Arc<Package>, ProviderError> {
    // The lock is held while building, so two callers never build the same crate twice.
    let mut cache = settings
        .packages
        .0
        .lock()
        .map_err(|_| ProviderError::new(BUILD, "Internal", "the package cache is poisoned"))?;
    // Keyed by source, not by function: the same code deployed in many accounts is one build.
    let key = format!("{}|{code:?}|{architecture:?}", settings.base_dir.display());
    if let Some(package) = cache.get(&key) {
        return Ok(Arc::clone(package));
    }
    let silent = Silent;
    let progress: &dyn BuildProgress = match &settings.build_progress {
        Some(p) => p.as_ref(),
        None => &silent,
    };
    let package = Arc::new(blocking(|| {
        load(&settings.base_dir, code, architecture, progress)
    })?);
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
pub fn load(
    base_dir: &Path,
    code: &Code,
    architecture: Architecture,
    progress: &dyn BuildProgress,
) -> Result<Package, ProviderError> {
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
            let build = Build::new(&base_dir.join(dir), architecture, dir)?;
            let what = build.what.clone();
            progress.started(&what);
            let started = Instant::now();
            let package = build
                .run(progress)
                .and_then(|bootstrap| Package::from_bootstrap(&bootstrap));
            progress.finished(&what, package.as_ref(), started.elapsed());
            package
        }
    }
}

// ---- glibc ----

/// A glibc version (`2.34`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GlibcVersion {
    /// Major (2).
    pub major: u32,
    /// Minor.
    pub minor: u32,
}

impl fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

const fn glibc(major: u32, minor: u32) -> GlibcVersion {
    GlibcVersion { major, minor }
}

/// What a binary needs of glibc: its newest version, and the symbol version that asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlibcNeed {
    /// The newest version needed.
    pub version: GlibcVersion,
    /// The version requirement that needs it (`GLIBC_2.34`).
    pub symbol_version: String,
}

/// The glibc of the Amazon Linux each OS-only runtime runs on (Lambda's runtimes page):
/// `provided` is Amazon Linux 1 (2.17), `provided.al2` 2.26, `provided.al2023` 2.34. Other
/// runtimes do not run a native `bootstrap` as the entry point, so nothing is checked.
pub fn runtime_glibc(runtime: &str) -> Option<GlibcVersion> {
    match runtime {
        "provided" => Some(glibc(2, 17)),
        "provided.al2" => Some(glibc(2, 26)),
        "provided.al2023" => Some(glibc(2, 34)),
        _ => None,
    }
}

/// The newest glibc `binary` needs, from its ELF version requirements (`GLIBC_2.34`; the
/// `GLIBC_ABI_DT_RELR` marker of packed relocations means 2.36). `None` for a statically
/// linked binary (musl), a script, or anything that is not a 64-bit ELF file.
pub fn required_glibc(binary: &[u8]) -> Option<GlibcNeed> {
    use object::read::elf::ElfFile64;
    let file = ElfFile64::<object::Endianness>::parse(binary).ok()?;
    let endian = file.endian();
    let sections = file.elf_section_table();
    let (mut needs, strings_index) = sections.gnu_verneed(endian, binary).ok()??;
    let strings = sections.strings(endian, binary, strings_index).ok()?;
    let mut newest: Option<GlibcNeed> = None;
    while let Ok(Some((_, mut aux))) = needs.next() {
        while let Ok(Some(entry)) = aux.next() {
            let Ok(name) = entry.name(endian, strings) else {
                continue;
            };
            let name = String::from_utf8_lossy(name);
            let Some(version) = glibc_version_of(&name) else {
                continue;
            };
            if newest.as_ref().is_none_or(|n| version > n.version) {
                newest = Some(GlibcNeed {
                    version,
                    symbol_version: name.into_owned(),
                });
            }
        }
    }
    newest
}

/// The glibc version a symbol version name asks for: `GLIBC_2.34` → 2.34.
fn glibc_version_of(name: &str) -> Option<GlibcVersion> {
    if name == "GLIBC_ABI_DT_RELR" {
        return Some(glibc(2, 36));
    }
    let mut parts = name.strip_prefix("GLIBC_")?.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    Some(glibc(major, minor))
}

/// Refuses a package that would not start on `runtime`: its `bootstrap` needs a newer glibc
/// than the runtime's Amazon Linux has.
///
/// # Errors
/// `GlibcTooNew`, with what to do.
pub fn check_runtime(package: &Package, runtime: &str) -> Result<(), ProviderError> {
    let (Some(need), Some(has)) = (&package.glibc, runtime_glibc(runtime)) else {
        return Ok(());
    };
    if need.version <= has {
        return Ok(());
    }
    let newer_runtime = [("provided.al2023", glibc(2, 34))]
        .into_iter()
        .find(|(name, v)| *name != runtime && need.version <= *v)
        .map(|(name, v)| format!("declare `runtime: {name}` (glibc {v}), "))
        .unwrap_or_default();
    Err(ProviderError::new(
        "check lambda bundle",
        "GlibcTooNew",
        format!(
            "its `bootstrap` needs glibc {} (`{}`), but runtime `{runtime}` has glibc {has}: on Lambda it would fail to start with \"version `{}' not found\"",
            need.version, need.symbol_version, need.symbol_version
        ),
    )
    .hint(format!(
        "{newer_runtime}build on a system with glibc {has} or older, or build statically: `rustup target add {}-unknown-linux-musl` and `up` uses it by itself (Cargo Lambda, when installed, also targets Lambda's glibc)",
        std::env::consts::ARCH
    )))
}

// ---- building ----

/// A build of a crate's `bootstrap`, decided before it runs.
struct Build {
    command: Command,
    /// For progress and errors: `lambda/ (cargo build --profile release-lambda)`.
    what: String,
    /// Where the executable will be when Cargo does not say (Cargo Lambda's output).
    known_output: Option<PathBuf>,
}

impl Build {
    /// How to build the Cargo package in `dir` for `architecture`.
    fn new(dir: &Path, architecture: Architecture, shown: &str) -> Result<Build, ProviderError> {
        let manifest = dir.join("Cargo.toml");
        if !manifest.is_file() {
            return Err(ProviderError::new(
                BUILD,
                "CrateNotFound",
                format!("no Cargo.toml in {}", dir.display()),
            )
            .hint("`code: { crate: ... }` names a Cargo package directory, relative to the stack file"));
        }
        if cargo_lambda_installed() {
            return Build::with_cargo_lambda(&manifest, architecture, shown);
        }
        if !host_runs(architecture) {
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
        }
        let mut command = cargo();
        command
            .args(["build", "--profile", PROFILE])
            .args(PROFILE_SETTINGS.iter().flat_map(|s| ["--config", s]))
            .arg("--manifest-path")
            .arg(&manifest)
            .args(["--bin", "bootstrap", "--message-format=json-render-diagnostics"]);
        let musl = musl_target(dir, architecture);
        if let Some(triple) = musl {
            command.args(["--target", triple]);
        }
        let what = format!(
            "{shown} (cargo build --profile {PROFILE}{})",
            musl.map(|t| format!(" --target {t}")).unwrap_or_default()
        );
        Ok(Build {
            command,
            what,
            known_output: None,
        })
    }

    /// `cargo lambda build`: cross-compiles for Amazon Linux on any host.
    fn with_cargo_lambda(
        manifest: &Path,
        architecture: Architecture,
        shown: &str,
    ) -> Result<Build, ProviderError> {
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
            .args([
                "lambda",
                "build",
                "--profile",
                PROFILE,
                arch_flag,
                "--bin",
                "bootstrap",
            ])
            .args(PROFILE_SETTINGS.iter().flat_map(|s| ["--config", s]))
            .arg("--manifest-path")
            .arg(manifest)
            .arg("--lambda-dir")
            .arg(&lambda_dir);
        Ok(Build {
            command,
            what: format!("{shown} (cargo lambda build --profile {PROFILE} {arch_flag})"),
            known_output: Some(lambda_dir.join("bootstrap").join("bootstrap")),
        })
    }

    /// Runs the build, passing Cargo's stderr lines to `progress`; the executable's bytes.
    fn run(mut self, progress: &dyn BuildProgress) -> Result<Vec<u8>, ProviderError> {
        let stdout = run(&mut self.command, &self.what, progress)?;
        let path = match self.known_output {
            Some(path) => path,
            None => executable_from_messages(&stdout).ok_or_else(|| {
                ProviderError::new(
                    BUILD,
                    "ArtifactMissing",
                    format!("`{}` reported no `bootstrap` executable", self.what),
                )
                .hint("the crate needs a binary target named `bootstrap` ([[bin]] name = \"bootstrap\")")
            })?,
        };
        std::fs::read(&path).map_err(|e| {
            ProviderError::new(
                BUILD,
                "ArtifactMissing",
                format!("cannot read the built binary {}: {e}", path.display()),
            )
        })
    }
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
    std::env::consts::OS == "linux" && std::env::consts::ARCH == rust_arch(architecture)
}

/// The architecture as Rust's target triples name it.
fn rust_arch(architecture: Architecture) -> &'static str {
    match architecture {
        Architecture::X86_64 => "x86_64",
        Architecture::Arm64 => "aarch64",
    }
}

/// The static musl target for `architecture`, when the toolchain that builds the crate in
/// `dir` has it installed: its binaries need no glibc at all.
fn musl_target(dir: &Path, architecture: Architecture) -> Option<&'static str> {
    let triple = match architecture {
        Architecture::X86_64 => "x86_64-unknown-linux-musl",
        Architecture::Arm64 => "aarch64-unknown-linux-musl",
    };
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    // Run in the crate's directory, so a `rust-toolchain.toml` there picks the toolchain.
    let output = Command::new(rustc)
        .args(["--print", "sysroot"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let sysroot = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
    sysroot
        .join("lib/rustlib")
        .join(triple)
        .join("lib")
        .is_dir()
        .then_some(triple)
}

/// The Cargo to run: the one running us (tests, `cargo run`) or the one on the `PATH`.
fn cargo() -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(program);
    command
        .env("CARGO_TERM_COLOR", "never")
        .env("CARGO_TERM_PROGRESS_WHEN", "never");
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(set_by_cargo_for_its_crate) {
            command.env_remove(name);
        }
    }
    command
}

/// Whether Cargo sets `name` for the crate it runs (under `cargo run` or `cargo test`, we are
/// that crate). Passed on to the build, they change what build scripts see (ring's reads
/// `CARGO_MANIFEST_DIR`), so the same crate would rebuild from scratch whenever `up` is run
/// another way.
fn set_by_cargo_for_its_crate(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_BIN_EXE_")
        || matches!(
            name,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
                | "CARGO_RUSTC_CURRENT_DIR"
        )
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

/// Runs `command` to completion, passing each line of its stderr to `progress` as it comes;
/// its stdout, or an error quoting the end of stderr when it fails.
fn run(command: &mut Command, what: &str, progress: &dyn BuildProgress) -> Result<String, ProviderError> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            ProviderError::new(BUILD, "CargoNotFound", format!("cannot run {what}: {e}"))
                .hint("install Rust (https://rustup.rs), or use `code: { zip: <path> }`")
        })?;
    let mut stdout = String::new();
    let mut stderr_lines = Vec::new();
    std::thread::scope(|scope| {
        // Stdout (Cargo's JSON messages) is read on its own thread so neither pipe fills up.
        let out = child.stdout.take().map(|mut pipe| {
            scope.spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        });
        if let Some(err) = child.stderr.take() {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                progress.output(line.trim());
                stderr_lines.push(line);
            }
        }
        if let Some(out) = out {
            stdout = out.join().unwrap_or_default();
        }
    });
    let status = child
        .wait()
        .map_err(|e| ProviderError::new(BUILD, "BuildFailed", format!("{what} did not finish: {e}")))?;
    if status.success() {
        return Ok(stdout);
    }
    let tail = stderr_lines[stderr_lines.len().saturating_sub(TAIL_LINES)..].join("\n");
    Err(ProviderError::new(
        BUILD,
        "BuildFailed",
        format!("{what} failed ({status}):\n{tail}"),
    ))
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
    let stdout = run(&mut command, "cargo metadata", &Silent)?;
    serde_json::from_str::<serde_json::Value>(&stdout)
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

/// A regular file, `rwxr-xr-x`: Lambda runs `bootstrap` only if it is executable.
const MODE_EXECUTABLE: u32 = 0o755;

/// A zip holding `executable` as its only entry, `bootstrap`: deflated at the best level,
/// mode 0755, timestamp 1980-01-01 00:00 (the earliest a zip can say), so the same binary
/// always zips to the same bytes, and so to the same `CodeSha256`.
///
/// # Errors
/// The executable is larger than Lambda's 250 MB unzipped limit.
pub fn zip_bootstrap(executable: &[u8]) -> Result<Vec<u8>, ProviderError> {
    use zip::write::{SimpleFileOptions, ZipWriter};
    if executable.len() as u64 > MAX_UNZIPPED {
        return Err(ProviderError::new(
            BUILD,
            "TooLarge",
            format!(
                "the bootstrap binary is {} bytes; Lambda allows 250 MB unzipped",
                executable.len()
            ),
        ));
    }
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(MODE_EXECUTABLE);
    let zip_error =
        |e: &dyn fmt::Display| ProviderError::new(BUILD, "ZipFailed", format!("cannot zip `bootstrap`: {e}"));
    let mut writer = ZipWriter::new(std::io::Cursor::new(Vec::with_capacity(executable.len() / 2)));
    writer
        .start_file("bootstrap", options)
        .map_err(|e| zip_error(&e))?;
    writer.write_all(executable).map_err(|e| zip_error(&e))?;
    Ok(writer.finish().map_err(|e| zip_error(&e))?.into_inner())
}

/// The `bootstrap` entry of a zip, when it has a readable one within Lambda's size limit.
fn read_bootstrap(zip: &[u8]) -> Option<Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).ok()?;
    let mut entry = archive.by_name("bootstrap").ok()?;
    if entry.size() > MAX_UNZIPPED {
        return None;
    }
    let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).ok()?);
    entry.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

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
    fn the_zip_has_one_deflated_executable_bootstrap_entry_from_1980() {
        let content: Vec<u8> = b"#!/bin/sh\nexit 0\n".repeat(100);
        let zip = zip_bootstrap(&content).unwrap();
        assert!(zip.len() < content.len() / 4, "deflated: {} bytes", zip.len());
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&zip)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name().unwrap(), "bootstrap");
        assert_eq!(entry.compression(), zip::CompressionMethod::Deflated);
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
        let modified = entry.last_modified().unwrap();
        assert_eq!((modified.year(), modified.month(), modified.day()), (1980, 1, 1));
        let mut back = Vec::new();
        entry.read_to_end(&mut back).unwrap();
        assert_eq!(back, content);
        drop(entry);
        assert_eq!(read_bootstrap(&zip), Some(content));
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
        let p = load(&dir, &Code::Zip("f.zip".into()), Architecture::X86_64, &Silent).unwrap();
        assert_eq!(p.zip, zip);
        assert_eq!(p.sha256, code_sha256(&zip));
        assert_eq!(p.bootstrap_size, Some(1));
        let e = load(&dir, &Code::Zip("nope.zip".into()), Architecture::X86_64, &Silent).unwrap_err();
        assert_eq!(e.code, "CodeNotFound");
        let e = load(&dir, &Code::Crate("nope".into()), Architecture::X86_64, &Silent).unwrap_err();
        assert_eq!(e.code, "CrateNotFound");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Records what a build reports.
    #[derive(Debug, Default)]
    struct Lines(Mutex<Vec<String>>);

    impl BuildProgress for Lines {
        fn started(&self, _: &str) {}
        fn output(&self, line: &str) {
            self.0.lock().unwrap().push(line.to_owned());
        }
        fn finished(&self, _: &str, _: Result<&Package, &ProviderError>, _: Duration) {}
    }

    #[test]
    fn cargo_stderr_reaches_progress_as_it_comes_and_stdout_is_returned() {
        let lines = Lines::default();
        let mut command = Command::new("sh");
        command.args([
            "-c",
            "echo '    Blocking waiting for file lock on build directory' >&2; echo '{\"reason\":\"build-finished\"}'; echo '   Compiling x v0.1.0' >&2",
        ]);
        let stdout = run(&mut command, "a build", &lines).unwrap();
        assert_eq!(stdout, "{\"reason\":\"build-finished\"}\n");
        assert_eq!(
            *lines.0.lock().unwrap(),
            [
                "Blocking waiting for file lock on build directory",
                "Compiling x v0.1.0"
            ]
        );
        // A failed build quotes the end of what it printed.
        let mut failing = Command::new("sh");
        failing.args(["-c", "echo 'error[E0425]: cannot find value' >&2; exit 101"]);
        let e = run(&mut failing, "cargo build", &Silent).unwrap_err();
        assert_eq!(e.code, "BuildFailed");
        assert!(
            e.message.contains("error[E0425]: cannot find value"),
            "{}",
            e.message
        );
    }

    #[test]
    fn glibc_symbol_versions_are_read_as_versions() {
        assert_eq!(glibc_version_of("GLIBC_2.34"), Some(glibc(2, 34)));
        assert_eq!(glibc_version_of("GLIBC_2.2.5"), Some(glibc(2, 2)));
        assert_eq!(glibc_version_of("GLIBC_2"), Some(glibc(2, 0)));
        assert_eq!(glibc_version_of("GLIBC_ABI_DT_RELR"), Some(glibc(2, 36)));
        assert_eq!(glibc_version_of("GLIBC_PRIVATE"), None);
        assert_eq!(glibc_version_of("GCC_3.0"), None);
        assert!(glibc(2, 26) < glibc(2, 34) && glibc(2, 9) < glibc(2, 17));
    }

    #[test]
    fn the_test_binary_itself_needs_this_machines_glibc_and_a_script_needs_none() {
        // This very test executable is a dynamically linked ELF built here.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let need = required_glibc(&me).expect("a glibc-linked test binary");
        assert!(need.version >= glibc(2, 2), "{need:?}");
        assert!(need.symbol_version.starts_with("GLIBC_"), "{need:?}");
        assert_eq!(required_glibc(b"#!/bin/sh\nexit 0\n"), None);
        assert_eq!(required_glibc(b""), None);
    }

    #[test]
    fn a_bootstrap_needing_a_newer_glibc_than_the_runtime_is_refused_with_what_to_do() {
        let package = |minor| Package {
            zip: Vec::new(),
            sha256: String::new(),
            bootstrap_size: Some(1),
            glibc: Some(GlibcNeed {
                version: glibc(2, minor),
                symbol_version: format!("GLIBC_2.{minor}"),
            }),
        };
        assert!(check_runtime(&package(26), "provided.al2").is_ok());
        assert!(check_runtime(&package(34), "provided.al2023").is_ok());
        let e = check_runtime(&package(34), "provided.al2").unwrap_err();
        assert_eq!(e.code, "GlibcTooNew");
        assert!(
            e.message.contains("needs glibc 2.34 (`GLIBC_2.34`)"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("`provided.al2` has glibc 2.26"),
            "{}",
            e.message
        );
        let hint = e.hint.unwrap();
        assert!(hint.starts_with("declare `runtime: provided.al2023`"), "{hint}");
        assert!(hint.contains("-unknown-linux-musl"), "{hint}");
        // Too new even for AL2023: no runtime to suggest.
        let e = check_runtime(&package(36), "provided.al2023").unwrap_err();
        assert!(
            e.hint
                .unwrap()
                .starts_with("build on a system with glibc 2.34 or older")
        );
        // Runtimes that do not start a native bootstrap, and static binaries, pass.
        assert!(check_runtime(&package(40), "python3.12").is_ok());
        let static_binary = Package {
            glibc: None,
            ..package(0)
        };
        assert!(check_runtime(&static_binary, "provided").is_ok());
    }
}
