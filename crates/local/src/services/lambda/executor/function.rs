//! What an invocation needs to know about its function: its configuration as stored, its
//! code unpacked once per `CodeSha256`, and the environment its process starts with.

use super::*;

/// The function's settings, read when an invocation starts.
#[derive(Debug, Clone)]
pub(super) struct Spec {
    pub(super) account: String,
    pub(super) region: String,
    pub(super) name: String,
    pub(super) arn: String,
    pub(super) state: String,
    pub(super) runtime: String,
    pub(super) handler: String,
    pub(super) role: String,
    pub(super) timeout_ms: u64,
    pub(super) memory_mb: i64,
    pub(super) variables: Vec<(String, String)>,
    code_sha256: String,
    pub(super) revision: String,
    pub(super) code_blob: String,
    pub(super) log_group: String,
}

impl Spec {
    pub(super) fn from_doc(account: &str, region: &str, doc: &Value) -> Spec {
        let s = |field: &str| {
            doc.get(field)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let name = s("FunctionName");
        Spec {
            account: account.to_owned(),
            region: region.to_owned(),
            arn: s("FunctionArn"),
            state: s("State"),
            runtime: s("Runtime"),
            handler: s("Handler"),
            role: s("Role"),
            timeout_ms: doc.get("Timeout").and_then(Value::as_u64).unwrap_or(3) * 1000,
            memory_mb: doc.get("MemorySize").and_then(Value::as_i64).unwrap_or(128),
            variables: doc["Environment"]["Variables"]
                .as_object()
                .map(|vars| {
                    vars.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                        .collect()
                })
                .unwrap_or_default(),
            code_sha256: s("CodeSha256"),
            revision: s("RevisionId"),
            code_blob: s("_code_blob"),
            log_group: doc["LoggingConfig"]["LogGroup"]
                .as_str()
                .map_or_else(|| format!("/aws/lambda/{name}"), str::to_owned),
            name,
        }
    }

    pub(super) fn pool_key(&self) -> String {
        format!("{}/{}/{}", self.account, self.region, self.name)
    }

    /// What identifies the code and configuration an instance runs.
    pub(super) fn generation(&self) -> String {
        format!("{}/{}", self.code_sha256, self.revision)
    }
}

/// Why no instance could be started.
pub(super) enum StartFailure {
    /// Lambda's own error (internal failure, unusable zip).
    Rejected(AwsError),
    /// The package has no runnable `bootstrap`: the invocation fails as a function error.
    Entrypoint(String),
}

impl Executor {
    /// The directory holding the function's unpacked code, unpacked now if need be.
    pub(super) fn unpacked_code(&self, spec: &Spec) -> Result<PathBuf, StartFailure> {
        // One unpacked copy per zip, shared by every function running it (see `code`): a
        // fleet's fifty forwarders unpack once. The digest names the directory.
        let code_root = self.work_dir.join("lambda").join("code");
        let name = super::super::code::hex_of_code_sha256(&spec.code_sha256)
            .unwrap_or_else(|| spec.code_sha256.replace('/', "_").replace('+', "-"));
        let dir = code_root.join(&name);
        let _guard = self.unpacking.lock().unwrap_or_else(PoisonError::into_inner);
        if dir.join(".unpacked").is_file() {
            return Ok(dir);
        }
        let runtime = self.runtime().map_err(StartFailure::Rejected)?;
        let zip = runtime
            .store
            .read(|t| t.get_blob(&spec.code_blob))
            .map_err(|e| StartFailure::Rejected(e.into()))?
            .ok_or_else(|| StartFailure::Rejected(AwsError::internal("the function's code is missing")))?;
        // Copies no function uses any more are not needed (a running process keeps its
        // executable even when the file is removed).
        remove_unused_code(&code_root, &runtime.store);
        let staging = code_root.join(format!(".staging-{}", uuid::Uuid::new_v4().simple()));
        let io = |e: std::io::Error| {
            StartFailure::Rejected(AwsError::internal(format!(
                "cannot unpack the function's code: {e}"
            )))
        };
        std::fs::create_dir_all(&staging).map_err(io)?;
        super::super::zip::unpack(&zip, &staging).map_err(|e| {
            let _ = std::fs::remove_dir_all(&staging);
            StartFailure::Rejected(
                AwsError::new(
                    "InvalidZipFileException",
                    format!("Lambda was unable to unzip the deployment package: {e}"),
                )
                .status(502),
            )
        })?;
        make_executable(&staging.join("bootstrap")).map_err(io)?;
        std::fs::write(staging.join(".unpacked"), b"").map_err(io)?;
        // A stale copy without its marker (a crash mid-unpack) would block the rename.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::rename(&staging, &dir).map_err(io)?;
        Ok(dir)
    }

    pub(super) fn environment(
        &self,
        spec: &Spec,
        code_dir: &Path,
        server: &Server,
        log_stream: &str,
    ) -> Vec<(String, String)> {
        let task_root = code_dir.display().to_string();
        let endpoint = self.endpoint.clone();
        let mut env: Vec<(String, String)> = spec.variables.clone();
        let fixed = [
            ("AWS_LAMBDA_RUNTIME_API", server.addr.to_string()),
            ("AWS_LAMBDA_FUNCTION_NAME", spec.name.clone()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", spec.memory_mb.to_string()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", spec.log_group.clone()),
            ("AWS_LAMBDA_LOG_STREAM_NAME", log_stream.to_owned()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
            ("AWS_REGION", spec.region.clone()),
            ("AWS_DEFAULT_REGION", spec.region.clone()),
            ("AWS_ACCESS_KEY_ID", spec.account.clone()),
            ("AWS_SECRET_ACCESS_KEY", "local-function-secret".to_owned()),
            ("AWS_SESSION_TOKEN", format!("local-session-for-{}", spec.role)),
            ("AWS_ENDPOINT_URL", endpoint),
            ("LAMBDA_TASK_ROOT", task_root.clone()),
            ("LAMBDA_RUNTIME_DIR", task_root.clone()),
            ("_HANDLER", spec.handler.clone()),
            ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".to_owned()),
            (
                "LD_LIBRARY_PATH",
                format!("/lib64:/usr/lib64:{task_root}:{task_root}/lib:/opt/lib"),
            ),
            ("TZ", ":UTC".to_owned()),
            ("LANG", "en_US.UTF-8".to_owned()),
        ];
        env.retain(|(k, _)| !fixed.iter().any(|(f, _)| f == k));
        env.extend(fixed.into_iter().map(|(k, v)| (k.to_owned(), v)));
        env
    }
}

/// Removes the unpacked copies under `code_root` whose zip no function uses any more, and
/// staging directories an interrupted unpack left. Best effort: a copy that cannot be removed
/// now is tried again at the next unpack.
pub(super) fn remove_unused_code(code_root: &Path, store: &crate::store::Store) {
    let Ok(entries) = std::fs::read_dir(code_root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let unused = name.starts_with(".staging-")
            || store
                .read(|t| super::super::code::is_in_use(t, &name))
                .is_ok_and(|in_use| !in_use);
        if unused {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
