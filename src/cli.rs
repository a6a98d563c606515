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
#[derive(Debug, Args)]
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
    /// AWS profile to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region, overriding the stack file's.
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Apply to every attendee account listed in this fleet file.
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
    /// Create or update the stack, wait until it is ready, print its outputs and run the
    /// injection test.
    Up {
        /// Apply without asking.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Skip the injection test.
        #[arg(long)]
        no_test: bool,
        /// Steps run at once.
        #[arg(long, default_value_t = 8)]
        parallelism: usize,
    },
    /// Run the post-deploy injection test alone.
    Test,
    /// Print the stack's outputs: API URL, API key, tracking ID, stream ARN.
    Outputs {
        /// Show the API key instead of masking it.
        #[arg(long)]
        show_secrets: bool,
    },
    /// Delete everything the stack owns, then prove nothing is left.
    Destroy {
        /// Delete without asking.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Serve the local runtime: Kinesis, Lambda, API Gateway, IAM, Personalize and
    /// CloudWatch Logs on one port.
    Local {
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Port to bind.
        #[arg(long, default_value_t = 4566)]
        port: u16,
        /// Where state is kept (default `.personalize-stack/local` next to the stack file).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Print the JSON Schema of stack.yaml.
    Schema,
}

impl Command {
    /// The command's name as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Validate => "validate",
            Command::Plan { .. } => "plan",
            Command::Up { .. } => "up",
            Command::Test => "test",
            Command::Outputs { .. } => "outputs",
            Command::Destroy { .. } => "destroy",
            Command::Local { .. } => "local",
            Command::Schema => "schema",
        }
    }
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().to_owned(), value.to_owned())),
        _ => Err(format!("`{s}` is not NAME=VALUE")),
    }
}
