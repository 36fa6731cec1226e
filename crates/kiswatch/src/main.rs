//! The `kiswatch` binary: command-line entry point.
//!
//! Each subcommand lives in its own module of the library; `main` only parses flags, sets up logging
//! and dispatches. With no subcommand, `kiswatch` runs `serve` with its defaults.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kiswatch::cmd::{backtest as backtest_cmd, quote as quote_cmd, serve as serve_cmd, sim as sim_cmd};

#[derive(Debug, Parser)]
#[command(
    name = "kiswatch",
    version,
    about = "Watch Korean stocks through the KIS Open API"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service: HTTP API, web UI, candle store, triggers (the default).
    Serve(serve_cmd::ServeArgs),
    /// Run the KIS-compatible simulator standalone.
    Sim(sim_cmd::SimArgs),
    /// Print current prices through the KIS client (governor, token cache and all).
    Quote(quote_cmd::QuoteArgs),
    /// Run a condition over a stock's history and print the signals and a summary.
    Backtest(backtest_cmd::BacktestArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // The whole cause chain on one line, without a backtrace: this is a message for a person.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        match cli.command {
            None => serve_cmd::run(serve_cmd::ServeArgs::default_args()).await,
            Some(Command::Serve(args)) => serve_cmd::run(args).await,
            Some(Command::Sim(args)) => sim_cmd::run(args).await,
            Some(Command::Quote(args)) => quote_cmd::run(args).await,
            Some(Command::Backtest(args)) => backtest_cmd::run(args).await,
        }
    })
}
