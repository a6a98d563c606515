//! Where `plan`, `up`, `destroy` and `outputs` act: the local runtime (`--local`), any
//! endpoint (`--endpoint-url`), or AWS through the normal credential chain.

use super::Failure;
use super::local::default_data_dir;
use crate::cli::GlobalArgs;
use anyhow::{Context as _, anyhow};
use personalize_stack_aws::{Aws, RetryPolicy, Settings, Target};
use personalize_stack_core::{LoadOptions, Stack};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The account the local runtime acts in when `--local` supplies credentials (its access key
/// id is these 12 digits).
pub const LOCAL_ACCOUNT: &str = "000000000000";

/// The file in the data dir where a serving `personalize-stack local` writes its URL.
pub const ENDPOINT_FILE: &str = "endpoint";

/// A connected target, keeping an embedded runtime alive while in use.
pub struct Connected {
    /// The provider, for the stack.
    pub aws: Arc<Aws>,
    /// The stack, loaded with the target's account id.
    pub stack: Arc<Stack>,
    /// Where it is (for messages).
    pub description: String,
    /// The embedded runtime, when `--local` started one: held so it serves until the
    /// command ends.
    pub embedded: Option<personalize_stack_local::Running>,
}

impl Connected {
    /// What to say after printing outputs when they point at the runtime embedded in this
    /// command: it stops when the command ends, so its URLs stop answering.
    pub fn embedded_note(&self, global: &GlobalArgs) -> Option<String> {
        let running = self.embedded.as_ref()?;
        let file = if global.file == Path::new("stack.yaml") {
            String::new()
        } else {
            format!(" -f {}", global.file.display())
        };
        Some(format!(
            "note: the URLs above are served by the local runtime this command started ({}), which stops when it ends.\n  hint: keep one serving with `personalize-stack{file} local` in another terminal: every `--local` command then uses it, and `personalize-stack{file} outputs --local` prints its URLs",
            running.endpoint_url()
        ))
    }
}

/// Where the calls go, resolved once per command (a fleet shares it across accounts).
pub struct Endpoint {
    /// `None` for AWS itself.
    pub url: Option<String>,
    /// Static credentials (the local runtime's default account), else the credential chain.
    pub credentials: Option<(String, String)>,
    /// For messages.
    pub description: String,
    /// Identifies the target across runs (fleet state): `aws`, the endpoint URL, or the
    /// local data dir.
    pub key: String,
    /// The embedded runtime, when `--local` started one.
    pub embedded: Option<personalize_stack_local::Running>,
}

/// Resolves `--local` / `--endpoint-url` / AWS, starting the embedded runtime if needed.
pub async fn endpoint(global: &GlobalArgs) -> Result<Endpoint, Failure> {
    if global.local {
        let (url, embedded) = local_endpoint(&global.file).await?;
        let data_dir = default_data_dir(&global.file);
        let description = match &embedded {
            Some(_) => format!("local runtime (embedded, state in `{}`)", data_dir.display()),
            None => format!("local runtime at {url}"),
        };
        Ok(Endpoint {
            url: Some(url),
            credentials: Some((LOCAL_ACCOUNT.to_owned(), "local".to_owned())),
            description,
            key: format!("local:{}", data_dir.display()),
            embedded,
        })
    } else if let Some(url) = &global.endpoint_url {
        Ok(Endpoint {
            url: Some(url.clone()),
            credentials: None,
            description: format!("endpoint {url}"),
            key: url.clone(),
            embedded: None,
        })
    } else {
        Ok(Endpoint {
            url: None,
            credentials: None,
            description: "AWS".to_owned(),
            key: "aws".to_owned(),
            embedded: None,
        })
    }
}

/// Connects to the target and loads the stack for its account.
pub async fn connect(global: &GlobalArgs) -> Result<Connected, Failure> {
    // Validate offline first: a broken stack file never costs an API call.
    let offline = super::load_stack(global)?;
    let mut endpoint = endpoint(global).await?;
    let target = Target {
        endpoint_url: endpoint.url.clone(),
        region: offline.region.clone(),
        profile: global.profile.clone(),
        credentials: endpoint.credentials.clone(),
        assume_role: None,
    };
    let description = &endpoint.description;
    let aws = personalize_stack_aws::connect(&target, settings(global))
        .await
        .map_err(|e| Failure::Error(super::cannot_connect(e, description)))?;
    let stack = load_for(
        global,
        &LoadOptions {
            vars: global.vars.clone(),
            region: global.region.clone(),
            attendee: None,
            account_id: Some(aws.account.clone()),
        },
    )?;
    let aws = aws.for_stack(&stack);
    let description = format!("{description}, account {}, region {}", aws.account, aws.region);
    Ok(Connected {
        aws: Arc::new(aws),
        stack: Arc::new(stack),
        description,
        embedded: endpoint.embedded.take(),
    })
}

/// The stack loaded with `options` (variables, region, attendee, account).
pub fn load_for(global: &GlobalArgs, options: &LoadOptions) -> Result<Stack, Failure> {
    let source = std::fs::read_to_string(&global.file)
        .with_context(|| format!("cannot read the stack file `{}`", global.file.display()))?;
    personalize_stack_core::parse(&global.file.display().to_string(), &source, options).map_err(|d| {
        eprint!("{}", crate::report::render_diagnostics(&d));
        Failure::Reported
    })
}

/// Provider settings: AWS's pace against AWS, quick polls against the local runtime.
pub fn settings(global: &GlobalArgs) -> Settings {
    let base_dir = global
        .file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let local = global.local || global.endpoint_url.is_some();
    let env_ms = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let mut settings = Settings {
        base_dir,
        build_progress: Some(Arc::new(crate::progress::BuildLine::new(global.quiet))),
        retry_report: Some(Arc::new(crate::progress::RetryLines::new(global.quiet))),
        // Test hook: end the process abruptly at the Nth AWS call, as `kill -9` would.
        abort_after_calls: env_ms("PERSONALIZE_STACK_ABORT_AFTER_CALLS"),
        ..Settings::default()
    };
    if local {
        settings.poll_interval = Duration::from_millis(100);
        settings.retry = RetryPolicy {
            base: Duration::from_millis(50),
            cap: Duration::from_secs(2),
            ..RetryPolicy::default()
        };
    }
    if let Some(ms) = env_ms("PERSONALIZE_STACK_POLL_INTERVAL_MS") {
        settings.poll_interval = Duration::from_millis(ms);
    }
    settings
}

/// A `personalize-stack local` serving the stack's data dir, or an embedded runtime on a free
/// loopback port over the same data dir.
async fn local_endpoint(
    stack_file: &Path,
) -> Result<(String, Option<personalize_stack_local::Running>), Failure> {
    let data_dir = default_data_dir(stack_file);
    if let Ok(url) = std::fs::read_to_string(data_dir.join(ENDPOINT_FILE)) {
        let url = url.trim().to_owned();
        if is_serving(&url).await {
            return Ok((url, None));
        }
    }
    let running = personalize_stack_local::start(personalize_stack_local::Config {
        port: 0,
        data_dir: Some(data_dir.clone()),
        ..personalize_stack_local::Config::default()
    })
    .await
    .map_err(|e| {
        Failure::Error(anyhow!(
            "cannot start the local runtime over `{}`: {e}\n  hint: if `personalize-stack local` is serving it, check that its `{ENDPOINT_FILE}` file is there and it answers",
            data_dir.display()
        ))
    })?;
    Ok((running.endpoint_url(), Some(running)))
}

/// Whether a local runtime answers at `url`.
async fn is_serving(url: &str) -> bool {
    let Some(addr) = url.strip_prefix("http://") else {
        return false;
    };
    let addr = addr.trim_end_matches('/').to_owned();
    matches!(
        tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}
