//! `personalize-stack`: the command-line interface. Parsing, printing and exit codes live
//! here; the work is done by the library crates.

mod cli;
mod commands;
mod fleet;
mod interrupt;
mod progress;
mod report;

use clap::Parser as _;
use cli::{Cli, Command};
use commands::Failure;
use std::process::ExitCode;

fn main() -> ExitCode {
    end_quietly_when_stdout_is_closed();
    let cli = Cli::parse();
    if cli.global.fleet.is_none()
        && matches!(
            &cli.command,
            Command::Up { handout: Some(_), .. } | Command::Outputs { handout: Some(_), .. }
        )
    {
        eprintln!("error: --handout lists a fleet's attendees: it needs --fleet FILE");
        return ExitCode::from(2);
    }
    let result = match &cli.command {
        Command::Validate => commands::validate::run(&cli.global),
        Command::Schema => {
            commands::schema::run();
            Ok(())
        }
        Command::Local(args) => commands::local::run(&cli.global, args),
        Command::Plan { detailed_exitcode } => match with_runtime(async {
            match &cli.global.fleet {
                Some(path) => fleet::commands::plan(&cli.global, path).await,
                None => commands::plan::run(&cli.global).await,
            }
        }) {
            Ok(true) if *detailed_exitcode => return ExitCode::from(commands::plan::CHANGES),
            other => other.map(|_| ()),
        },
        Command::Up {
            yes,
            parallelism,
            no_test,
            test,
            handout,
        } if cli.global.fleet.is_some() => with_runtime(fleet::commands::up(
            &cli.global,
            cli.global.fleet.as_deref().unwrap_or(std::path::Path::new("")),
            fleet::commands::UpOptions {
                yes: *yes,
                parallelism: *parallelism,
                test: (!*no_test).then(|| test_options(test)),
                handout: handout.clone(),
            },
        )),
        Command::Up {
            yes,
            parallelism,
            no_test,
            test,
            ..
        } => with_runtime(commands::up::run(
            &cli.global,
            &commands::up::Options {
                yes: *yes,
                parallelism: *parallelism,
                test: (!*no_test).then(|| test_options(test)),
            },
        )),
        Command::Test(test) => match &cli.global.fleet {
            Some(path) => with_runtime(fleet::commands::test(&cli.global, path, test_options(test))),
            None => with_runtime(commands::test::run(&cli.global, &test_options(test))),
        },
        Command::Destroy { yes, parallelism } => match &cli.global.fleet {
            Some(path) => with_runtime(fleet::commands::destroy(&cli.global, path, *yes, *parallelism)),
            None => with_runtime(commands::destroy::run(&cli.global, *yes, *parallelism)),
        },
        Command::Outputs {
            show_secrets,
            handout,
        } => match &cli.global.fleet {
            Some(path) => with_runtime(fleet::commands::outputs(
                &cli.global,
                path,
                *show_secrets,
                handout.clone(),
            )),
            None => with_runtime(commands::outputs::run(&cli.global, *show_secrets)),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Reported) => ExitCode::FAILURE,
        Err(Failure::Error(e)) => {
            eprintln!("error: {e}");
            for cause in commands::causes(&e, cli.global.verbose) {
                eprintln!("  caused by: {cause}");
            }
            if let Some(hint) = commands::hint_of(&e) {
                eprintln!("  hint: {hint}");
            }
            ExitCode::FAILURE
        }
    }
}

fn test_options(args: &cli::TestArgs) -> commands::test::Options {
    commands::test::Options {
        api_key: args.api_key.clone(),
        timeout_s: args.timeout_s,
    }
}

/// Runs an async command on a multi-threaded runtime.
fn with_runtime<T>(command: impl std::future::Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Error(anyhow::anyhow!("cannot start the async runtime: {e}")))?;
    runtime.block_on(command)
}

/// `personalize-stack schema | head`: once the reader has gone, writing to stdout fails with
/// EPIPE and `println!` panics. End the way `ls | head` does instead: quietly, with the
/// status a shell reports for SIGPIPE (128 + 13). Rust ignores SIGPIPE, and restoring the
/// signal is no option: the embedded local runtime writes to function processes' pipes,
/// and one that dies must be an error there, not the end of the runtime.
fn end_quietly_when_stdout_is_closed() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}
