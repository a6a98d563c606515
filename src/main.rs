//! `personalize-stack`: the command-line interface. Parsing, printing and exit codes live
//! here; the work is done by the library crates.

mod cli;
mod commands;
mod report;

use clap::Parser as _;
use cli::{Cli, Command};
use commands::Failure;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Validate => commands::validate::run(&cli.global),
        Command::Schema => {
            commands::schema::run();
            Ok(())
        }
        Command::Local(args) => commands::local::run(&cli.global, args),
        other => Err(Failure::Error(anyhow::anyhow!(
            "`{}` is not implemented yet; this build can `validate` a stack and print its `schema`",
            other.name()
        ))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Reported) => ExitCode::FAILURE,
        Err(Failure::Error(e)) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
