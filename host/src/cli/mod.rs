//! The `tillbridge` command line.

mod check;
mod conformance;
mod demo;
mod files;
mod fleet;
mod flows;
mod init;
mod logging;
mod new;
mod plugins;
mod progress;
mod records;
mod sim;
mod state;
mod transform;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use self::logging::LogFormat;
use crate::builtin;
use crate::config::{Config, ConfigError, ProcessEnv};
use crate::integration::Integration;
use crate::state::State;

/// How a command ends, as its exit code tells a script, cron or a service manager. A wrong
/// command line ends with 2, as clap has it.
pub mod exit {
    /// Done, and every record is in order (parked records wait for a product: not a failure).
    pub const OK: u8 = 0;
    /// The command failed: a run stopped by an error (credentials refused, a plugin that
    /// crashed, a system out of reach), or a state file that cannot be read.
    pub const FAILED: u8 = 1;
    /// The run went on, but not every record made it: some failed, or the run was interrupted.
    /// The next run goes on from where this one stopped.
    pub const INCOMPLETE: u8 = 3;
    /// flows.toml or a plugin it names is wrong (EX_CONFIG of sysexits.h); the message names
    /// the file, the line, the key and the fix.
    pub const CONFIG: u8 = 78;
}

/// The exit codes, as `--help` shows them.
const EXIT_CODES: &str = "\
Exit codes:
  0   done; every record is in order (parked records wait for a product: not a failure)
  1   failed: a run stopped by an error, or the state file cannot be read
  2   the command line is wrong
  3   incomplete: some records failed, or the run was interrupted; the next run goes on
  78  flows.toml or one of its plugins is wrong (the message names file, line, key and fix)";

/// A command that did its work but not all of it: records failed, or the run was interrupted
/// (exit code [`exit::INCOMPLETE`]).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Incomplete(pub String);

/// Keeps a Shopware 6 webshop and a CCV SalesPOS point of sale in sync, with sandboxed WASM
/// connectors and transforms.
#[derive(Debug, Parser)]
#[command(
    name = "tillbridge",
    version,
    about,
    propagate_version = true,
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// More detail: -v debug log lines (and, for `activity`, what was sent), -vv trace;
    /// RUST_LOG overrides the levels.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// How log lines are written to stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "TILLBRIDGE_LOG_FORMAT")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sets up an integration: asks for both systems' credentials (testing each connection),
    /// the flows and their settings, and writes flows.toml and an env file with the secrets.
    Init(Box<init::Args>),
    /// Checks flows.toml and loads every plugin it names; says what is wrong, line by line.
    Validate(ConfigArg),
    /// Tests every connection of flows.toml: reachable, credentials accepted, what answered.
    Check(check::Args),
    /// Lists the plugins of flows.toml: world, WIT version, capabilities and grants.
    Plugins(plugins::Args),
    /// Runs a transform plugin over records from a JSON file and prints what it did to each.
    Transform(transform::Args),
    /// Runs every enabled flow on its schedule, until Ctrl-C or SIGTERM; with --integrations,
    /// those of every integration in a folder.
    Run(flows::RunArgs),
    /// The integrations of a folder that `run --integrations` runs (one per FOLDER/*/flows.toml).
    Integrations(fleet::Args),
    /// Runs one flow now; with --dry-run, says per record what would happen and writes nothing.
    Once(flows::OnceArgs),
    /// Lists the latest runs.
    Runs(records::RunsArgs),
    /// Shows what happened to each record of a run, or finds records by number, SKU or e-mail;
    /// with -v also what came from the source, what was sent and the answer.
    Activity(records::ActivityArgs),
    /// Sends a failed or parked record again on the next run (RECORD is FLOW/KEY).
    Retry(records::RecordArgs),
    /// Gives up on a failed or parked record: it is never sent (RECORD is FLOW/KEY).
    Skip(records::RecordArgs),
    /// The state file as a whole: `check` reads all of it, `backup FILE` and `restore FILE`
    /// (also while `tillbridge run` runs).
    State(state::Args),
    /// Starts both simulators with the demo shop, runs every flow once and summarises each run.
    Demo(demo::Args),
    /// Starts a simulator of Shopware, CCV SalesPOS or the ledger example API by hand; prints its
    /// URL and credentials.
    Sim(sim::Args),
    /// Runs the standard checks on a connector against a system or a simulator: paging, cursors,
    /// exactly-once writes, error classes, batches, hosts and secrets. Exits 0 when none failed.
    Conformance(conformance::Args),
    /// Writes a new connector or transform crate (outside any workspace) that builds and loads
    /// as it is, with tests against the SDK's mock host.
    New(new::Args),
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

/// The integration of a configuration file, its plugins' settings checked against what they
/// declare, with its state file (not opened, so not created, when the file is refused).
pub async fn open(args: &ConfigArg) -> anyhow::Result<(Integration, State)> {
    with_state(Integration::open(args.load()?)?).await
}

/// An integration's plugins' settings checked against what they declare, and its state file.
async fn with_state(integration: Integration) -> anyhow::Result<(Integration, State)> {
    validate::declarations(&integration).await?;
    let state = State::open(
        &integration
            .config
            .resolve_path(&integration.config.host.state),
    )
    .map_err(|e| {
        if State::held_elsewhere(&e) {
            e.context("a running `tillbridge run` holds the state file: use Run now or Dry run on its dashboard, or stop it first")
        } else {
            e
        }
    })?;
    let flows = integration.config.flows.keys().cloned();
    integration.metrics.watch(state.clone(), flows);
    Ok((integration, state))
}

/// A future that ends on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when it is made,
/// not when it is first polled, so a signal that comes right after (say, once a start-up line
/// is out) is not lost to the default action.
pub fn stop_signal() -> std::io::Result<impl Future<Output = ()> + Send> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// Runs the command line; the exit code says how it ended ([`exit`]), with the reason on
/// stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo prints its own summaries; its log shows only what went wrong unless asked.
    let quiet = matches!(cli.command, Command::Demo(_));
    logging::init(cli.verbose, quiet, cli.log_format);
    let verbose = cli.verbose > 0;

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILED);
        }
    };
    // The command runs as a task of the runtime's workers, not on this thread: there the
    // connections' tasks wake it on the same worker instead of across threads (a first stock
    // run spent most of its CPU in the kernel, switching threads once per request).
    let command = runtime.spawn(async move {
        match cli.command {
            Command::Init(args) => init::run(&args).await,
            Command::Validate(args) => validate::run(&args).await,
            Command::Check(args) => check::run(&args).await,
            Command::Plugins(args) => plugins::run(&args).await,
            Command::Transform(args) => transform::run(&args).await,
            Command::Run(args) => flows::run(&args).await,
            Command::Integrations(args) => fleet::integrations(&args),
            Command::Once(args) => flows::once(&args).await,
            Command::Runs(args) => records::runs(&args).await,
            Command::Activity(args) => records::activity(&args, verbose).await,
            Command::Retry(args) => records::retry(&args).await,
            Command::Skip(args) => records::skip(&args).await,
            Command::State(args) => state::run(&args).await,
            Command::Demo(args) => demo::run(&args).await,
            Command::Sim(args) => sim::run(&args).await,
            Command::Conformance(args) => conformance::run(&args).await,
            Command::New(args) => new::run(&args),
        }
    });
    let result = match runtime.block_on(command) {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(anyhow::anyhow!("the command stopped: {e}")),
    };
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) if e.is::<Incomplete>() => {
            eprintln!("{e}");
            ExitCode::from(exit::INCOMPLETE)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            let config = e.chain().any(|cause| cause.is::<ConfigError>());
            ExitCode::from(if config { exit::CONFIG } else { exit::FAILED })
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
