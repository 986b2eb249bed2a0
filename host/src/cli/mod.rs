//! The `tillbridge` command line.

mod check;
mod demo;
mod flows;
mod init;
mod plugins;
mod records;
mod sim;
mod transform;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::builtin;
use crate::config::{Config, ProcessEnv};
use crate::integration::Integration;
use crate::state::State;

/// Keeps a Shopware 6 webshop and a CCV SalesPOS point of sale in sync, with sandboxed WASM
/// connectors and transforms.
#[derive(Debug, Parser)]
#[command(name = "tillbridge", version, about, propagate_version = true)]
pub struct Cli {
    /// More log lines (-v: debug, -vv: trace; RUST_LOG overrides); `activity` also prints what
    /// came and what was sent.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sets up an integration: asks for both systems' credentials (testing each connection),
    /// the flows and their settings, and writes flows.toml and an env file with the secrets.
    Init(init::Args),
    /// Checks flows.toml and loads every plugin it names; says what is wrong, line by line.
    Validate(ConfigArg),
    /// Tests every connection of flows.toml: reachable, credentials accepted, what answered.
    Check(check::Args),
    /// Lists the plugins of flows.toml: world, WIT version, capabilities and grants.
    Plugins(plugins::Args),
    /// Runs a transform plugin over records from a JSON file and prints what it did to each.
    Transform(transform::Args),
    /// Runs every enabled flow on its schedule, until Ctrl-C or SIGTERM.
    Run(flows::RunArgs),
    /// Runs one flow now; with --dry-run, says per record what would happen and writes nothing.
    Once(flows::OnceArgs),
    /// Lists the latest runs.
    Runs(records::RunsArgs),
    /// Shows what happened to each record of a run, or finds records by number, SKU or e-mail.
    Activity(records::ActivityArgs),
    /// Sends a failed or parked record again on the next run (RECORD is FLOW/KEY).
    Retry(records::RecordArgs),
    /// Gives up on a failed or parked record: it is never sent (RECORD is FLOW/KEY).
    Skip(records::RecordArgs),
    /// Starts both simulators with the demo shop, runs every flow once and summarises each run.
    Demo(demo::Args),
    /// Starts a simulator of Shopware or CCV SalesPOS by hand; prints its URL and credentials.
    Sim(sim::Args),
}

/// Where flows.toml is.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArg {
    /// The configuration file.
    #[arg(
        long,
        short = 'c',
        default_value = "flows.toml",
        env = "TILLBRIDGE_CONFIG"
    )]
    pub config: PathBuf,
}

impl ConfigArg {
    /// Reads and checks the file, with `${VAR}` from the environment.
    pub fn load(&self) -> anyhow::Result<Config> {
        Ok(Config::load(&self.config, &ProcessEnv, &builtin::names())?)
    }
}

/// The integration of a configuration file, with its state file.
pub fn open(args: &ConfigArg) -> anyhow::Result<(Integration, State)> {
    let integration = Integration::open(args.load()?)?;
    let state = State::open(
        &integration
            .config
            .resolve_path(&integration.config.host.state),
    )?;
    Ok((integration, state))
}

/// The state file of a configuration, without loading its plugins.
pub fn open_state(args: &ConfigArg) -> anyhow::Result<(Config, State)> {
    let config = args.load()?;
    let state = State::open(&config.resolve_path(&config.host.state))?;
    Ok((config, state))
}

/// Runs the command line; the exit code is 0 on success, 1 on failure (with the reason on
/// stderr).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo prints its own summaries; its log shows only what went wrong unless asked.
    let quiet = matches!(cli.command, Command::Demo(_));
    let verbose = cli.verbose;
    let default_level = match verbose {
        0 if quiet => "warn",
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Init(args) => init::run(&args).await,
            Command::Validate(args) => validate::run(&args),
            Command::Check(args) => check::run(&args).await,
            Command::Plugins(args) => plugins::run(&args),
            Command::Transform(args) => transform::run(&args).await,
            Command::Run(args) => flows::run(&args).await,
            Command::Once(args) => flows::once(&args).await,
            Command::Runs(args) => records::runs(&args),
            Command::Activity(args) => records::activity(&args, verbose > 0),
            Command::Retry(args) => records::retry(&args),
            Command::Skip(args) => records::skip(&args),
            Command::Demo(args) => demo::run(&args).await,
            Command::Sim(args) => sim::run(&args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
