//! The CLI as a user runs it: the `personalize-stack` binary on a scratch copy of the shipped
//! stack with `--local`, and `personalize-stack local` serving a data dir.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The `personalize-stack` binary Cargo built beside this test or bench executable
/// (`target/<profile>/deps/<test>` → `target/<profile>/personalize-stack`).
pub fn bin() -> PathBuf {
    if let Ok(path) = std::env::var("NEXTEST_BIN_EXE_personalize-stack") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    profile_dir.join(format!("personalize-stack{}", std::env::consts::EXE_SUFFIX))
}

/// The forwarder's zip, built once per test process.
pub fn forwarder_zip() -> &'static [u8] {
    static ZIP: OnceLock<Vec<u8>> = OnceLock::new();
    ZIP.get_or_init(crate::workshop::forwarder_zip)
}

/// A scratch directory holding a copy of the shipped stack (its `crate: lambda` made absolute).
pub struct Workdir {
    /// The directory.
    pub dir: PathBuf,
}

impl Workdir {
    /// A scratch directory named after `name` and this process, holding the shipped stack.
    pub fn new(name: &str) -> Workdir {
        let dir = std::env::temp_dir().join(format!("ps-reconcile-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let root = crate::workspace_root();
        let stack = std::fs::read_to_string(root.join("stack.yaml")).unwrap().replace(
            "code: { crate: lambda }",
            &format!("code: {{ crate: \"{}\" }}", root.join("lambda").display()),
        );
        std::fs::write(dir.join("stack.yaml"), stack).unwrap();
        Workdir { dir }
    }

    /// Like [`Workdir::new`] but with the forwarder prebuilt (`code: { zip: … }`): for tests
    /// that run `up` many times and are not about packaging.
    pub fn prebuilt(name: &str) -> Workdir {
        let w = Workdir::new(name);
        std::fs::write(w.dir.join("forwarder.zip"), forwarder_zip()).unwrap();
        let root = crate::workspace_root();
        w.edit(
            &format!("code: {{ crate: \"{}\" }}", root.join("lambda").display()),
            "code: { zip: forwarder.zip }",
        );
        w
    }

    /// A scratch copy of `examples/<example>/` (the stack file and its data files) with the
    /// forwarder prebuilt (`code: { zip: … }`).
    pub fn example(name: &str, example: &str) -> Workdir {
        let dir = std::env::temp_dir().join(format!("ps-example-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let root = crate::workspace_root().join("examples").join(example);
        for entry in std::fs::read_dir(&root).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
            }
        }
        std::fs::write(dir.join("forwarder.zip"), forwarder_zip()).unwrap();
        let w = Workdir { dir };
        w.edit("code: { crate: ../../lambda }", "code: { zip: forwarder.zip }");
        w
    }

    /// Its `stack.yaml`.
    pub fn stack_file(&self) -> PathBuf {
        self.dir.join("stack.yaml")
    }

    /// Rewrites the stack file.
    pub fn edit(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(self.stack_file()).unwrap();
        assert!(text.contains(from), "the stack has no `{from}`");
        std::fs::write(self.stack_file(), text.replacen(from, to, 1)).unwrap();
    }

    /// Runs the CLI with `args` on this stack, `--local`.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }

    /// [`Workdir::run`] with extra environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = Command::new(bin());
        command
            .arg("-f")
            .arg(self.stack_file())
            .arg("--local")
            .args(args)
            .stdin(Stdio::null())
            .env("PERSONALIZE_STACK_POLL_INTERVAL_MS", "20");
        for (k, v) in env {
            command.env(k, v);
        }
        command.output().unwrap()
    }

    /// Runs the CLI as a user in the stack's directory would: `-f stack.yaml`, relative, with
    /// that directory as the working directory (so the data dir is relative too).
    pub fn run_here(&self, args: &[&str]) -> Output {
        Command::new(bin())
            .current_dir(&self.dir)
            .args(["-f", "stack.yaml", "--local"])
            .args(args)
            .stdin(Stdio::null())
            .env("PERSONALIZE_STACK_POLL_INTERVAL_MS", "20")
            .output()
            .unwrap()
    }

    /// Runs and asserts exit 0.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?} failed:\n{}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A command's exit status, stdout and stderr, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A `personalize-stack local` serving the work dir's data dir (so `--local` connects to it);
/// killed when dropped.
pub struct Server {
    child: std::process::Child,
    /// The runtime's endpoint URL.
    pub endpoint: String,
}

impl Server {
    /// Starts `personalize-stack local` on `w`'s stack (with `extra` arguments) and waits until it answers.
    pub fn start(w: &Workdir, extra: &[&str]) -> Server {
        use std::io::BufRead as _;
        let mut child = Command::new(bin())
            .arg("-f")
            .arg(w.stack_file())
            .args(["local", "--port", "0", "--quiet"])
            // Instant readiness unless the caller picks a profile.
            .args(if extra.contains(&"--latency") {
                &[][..]
            } else {
                &["--latency", "instant"][..]
            })
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        Server {
            child,
            endpoint: line.trim().to_owned(),
        }
    }

    /// `GET /_local/resources` for the local account.
    pub fn resources(&self) -> serde_json::Value {
        self.resources_of("000000000000")
    }

    /// `GET /_local/resources` for `account`.
    pub fn resources_of(&self, account: &str) -> serde_json::Value {
        use std::io::{Read as _, Write as _};
        let addr = self.endpoint.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .write_all(
                format!(
                    "GET /_local/resources?account={account} HTTP/1.1\r\nHost: l\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            )
            .unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).unwrap();
        let body = out.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
        let start = body.find('{').unwrap();
        let end = body.rfind('}').unwrap();
        serde_json::from_str(&body[start..=end]).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `outputs --output json --show-secrets`.
pub fn outputs(w: &Workdir) -> serde_json::Value {
    serde_json::from_str(&w.ok(&["outputs", "--output", "json", "--show-secrets"])).unwrap()
}

/// The API id and the key, from the outputs.
pub fn api_of(outputs: &serde_json::Value) -> (String, String) {
    (
        outputs["api.id"].as_str().unwrap().to_owned(),
        outputs["api.api_key"].as_str().unwrap().to_owned(),
    )
}

/// The address `server` listens on.
pub fn server_addr(server: &Server) -> std::net::SocketAddr {
    server.endpoint.trim_start_matches("http://").parse().unwrap()
}
