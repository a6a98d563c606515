//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Provision and run the Amazon Personalize real-time event pipeline
/// (API Gateway → Kinesis → Lambda → Personalize event tracker) from one stack.yaml —
/// on AWS, or on this machine with the embedded local runtime.
#[derive(Debug, Parser)]
#[command(
    name = "personalize-stack",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Global options.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// The stack file.
    #[arg(
        short = 'f',
        long = "file",
        global = true,
        default_value = "stack.yaml",
        value_name = "FILE"
    )]
    pub file: PathBuf,
    /// Target the embedded local runtime instead of AWS (no account needed).
    #[arg(long, global = true, conflicts_with = "endpoint_url")]
    pub local: bool,
    /// Send every AWS call to this endpoint (e.g. a `personalize-stack local` elsewhere).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// AWS profile to use (else AWS_PROFILE, else the default chain). A profile that
    /// ~/.aws/config and ~/.aws/credentials do not define is refused before any call.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region, overriding the stack file's.
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Act on every attendee account of this fleet file (plan, up, test, outputs, destroy):
    /// `attendees: [{ name, account | profile, vars }]`, plus optional `name`, `role`
    /// (default OrganizationAccountAccessRole), `external_id`, `session_name`, `region` and
    /// `concurrency` (default 10).
    #[arg(long, global = true, value_name = "FILE")]
    pub fleet: Option<PathBuf>,
    /// Set a variable declared under `vars:` (repeatable).
    #[arg(long = "var", global = true, value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// Output format of stdout.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// For people.
    Text,
    /// For programs: one JSON document on stdout.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the stack file offline: schema, names, references, cycles, and every mapping
    /// template rendered against the test request. Makes no network call.
    Validate,
    /// Read the actual state and print what `up` would change.
    Plan {
        /// Exit 0 when there are no changes, 2 when there are, 1 on error.
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// Create or update the stack, wait until it is ready, print its outputs, then run the
    /// injection test (see `test`).
    ///
    /// A function with `code: { crate: ... }` is built first with the stripped,
    /// size-optimised `release-lambda` profile, and refused if its binary needs a newer glibc
    /// than its runtime has. With `--local` and no `personalize-stack local` serving, the
    /// runtime is embedded in the command and stops with it.
    Up {
        /// Apply without asking.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Skip the injection test.
        #[arg(long)]
        no_test: bool,
        #[command(flatten)]
        test: TestArgs,
        /// Steps run at once (in each account, with --fleet).
        #[arg(long, default_value_t = 8)]
        parallelism: usize,
        /// With --fleet: write each attendee's API URL, API key, tracking ID and a `curl`
        /// that sends the sample records to FILE (`.csv` or `.md`).
        #[arg(long, value_name = "FILE")]
        handout: Option<PathBuf>,
    },
    /// Run the post-deploy injection test: PUT the stack's `test` records through the
    /// deployed API with its key, then follow them hop by hop (api, stream, trigger,
    /// forwarder, personalize) until PutEvents has them. Prints a table (or JSON) with each
    /// hop's timing; on failure names the hop, the likely cause and the evidence. Exit 0
    /// only when every hop passed.
    Test(TestArgs),
    /// Print the stack's outputs: API URL, API key, tracking ID, stream ARN.
    Outputs {
        /// Show the API key instead of masking it.
        #[arg(long)]
        show_secrets: bool,
        /// With --fleet: write each attendee's API URL, API key, tracking ID and a `curl`
        /// that sends the sample records to FILE (`.csv` or `.md`).
        #[arg(long, value_name = "FILE")]
        handout: Option<PathBuf>,
    },
    /// Delete everything the stack owns, then prove nothing is left. With --fleet: list what
    /// goes in each account, ask for the fleet's name, then re-scan every account.
    Destroy {
        /// Delete without asking.
        #[arg(long, short = 'y')]
        yes: bool,
        /// How many deletions run at once.
        #[arg(long, default_value_t = 8)]
        parallelism: usize,
    },
    /// Serve the local runtime: Kinesis, Lambda, API Gateway, IAM, Personalize and
    /// CloudWatch Logs on one port.
    Local(LocalArgs),
    /// Print the JSON Schema of stack.yaml.
    Schema,
}

/// Options of the injection test (`test`, and `up`'s last step).
#[derive(Debug, Clone, Args)]
pub struct TestArgs {
    /// Send this API key instead of the stack's (to check a client's key).
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,
    /// Give up after this many seconds (default: the stack's `test.timeout_s`, 120).
    #[arg(long = "test-timeout", value_name = "SECONDS")]
    pub timeout_s: Option<u64>,
}

/// Options of `local`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LocalArgs {
    /// Inspect a running runtime instead of serving one.
    #[command(subcommand)]
    pub inspect: Option<LocalCommand>,
    /// Address to bind (loopback by default: the runtime has no authentication).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// Port to bind; 0 picks a free one (the address is printed).
    #[arg(long, default_value_t = 4566)]
    pub port: u16,
    /// Where state is kept (default `.personalize-stack/local` next to the stack file).
    #[arg(long, value_name = "DIR", conflicts_with = "in_memory")]
    pub data_dir: Option<PathBuf>,
    /// Keep state in memory only (lost when the process ends).
    #[arg(long)]
    pub in_memory: bool,
    /// How long resources take to become ready: `fast` (sub-second), `instant`, or
    /// `realistic` (tracker ≈ 60 s, stream ≈ 30 s, function ≈ 5 s, mapping ≈ 10 s).
    #[arg(long = "latency", value_name = "PROFILE", default_value = "fast", value_parser = ["instant", "fast", "realistic"])]
    pub latency: String,
    /// Multiply every readiness delay, e.g. 0.1 for the realistic profile ten times faster.
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0)]
    pub time_scale: f64,
    /// Probability (0–1) that any call is throttled with its service's throttling error.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = probability)]
    pub throttle: f64,
    /// Probability (0–1) that any call fails with its service's 5xx error.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = probability)]
    pub server_errors: f64,
    /// For this long after a role is created, Lambda cannot assume it (AWS's IAM propagation).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub iam_propagation_ms: u64,
    /// How often event source mappings poll an idle shard (AWS: about once a second).
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub poll_interval_ms: u64,
    /// Enforce Kinesis's per-shard write limits (on in the `realistic` profile).
    #[arg(long)]
    pub shard_write_limits: bool,
}

/// Inspection commands against a running local runtime (`--endpoint-url`, default
/// `http://127.0.0.1:4566`).
#[derive(Debug, Subcommand)]
pub enum LocalCommand {
    /// List the events Personalize accepted through PutEvents, in arrival order.
    Events {
        /// Only the events of this event tracker's tracking id.
        #[arg(long, conflicts_with = "dataset_group_arn")]
        tracking_id: Option<String>,
        /// Only the events of this dataset group.
        #[arg(long, value_name = "ARN")]
        dataset_group_arn: Option<String>,
    },
    /// List every live resource, per account and region.
    Resources {
        /// Only this account's.
        #[arg(long)]
        account: Option<String>,
    },
}

fn probability(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("`{s}` is not a probability between 0 and 1")),
    }
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().to_owned(), value.to_owned())),
        _ => Err(format!("`{s}` is not NAME=VALUE")),
    }
}
