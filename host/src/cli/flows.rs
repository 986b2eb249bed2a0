//! `tillbridge once` (one flow, now, possibly dry) and `tillbridge run` (the daemon).

use std::io::Write;
use std::sync::Arc;

use anyhow::{Result, bail};
use tokio_util::sync::CancellationToken;

use super::progress::Progress;
use super::{ConfigArg, Incomplete, open};
use crate::config::Config;
use crate::dashboard;
use crate::flows::{self, Events, Options, RunReport, summary};
use crate::notify::{Notifier, Watch};
use crate::scheduler::FlowLocks;
use crate::state::{Outcome, RunStatus, State};

#[derive(Debug, Clone, clap::Args)]
pub struct OnceArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// The flow, by its name in flows.toml.
    flow: String,
    /// Read everything, write nothing, and say per record what would happen.
    #[arg(long)]
    dry_run: bool,
    /// Also list records that are unchanged.
    #[arg(long)]
    all: bool,
    /// Products: read the whole source catalogue, not only what changed since the last run
    /// (after changing a transform plugin, or to be sure).
    #[arg(long)]
    full: bool,
}

/// Runs one flow once and prints what happened (or would happen) to each record.
pub async fn once(args: &OnceArgs) -> Result<()> {
    let (integration, state) = open(&args.config).await?;
    let cancel = CancellationToken::new();
    stop_on_signal(cancel.clone())?;
    // A dry run changes nothing, so there is nothing to tell about it.
    let notifier = if args.dry_run {
        None
    } else {
        notifier(&integration.config, &state, Watch::AtEnd)
    };
    let mut events = Events::default().with(Progress::for_stderr());
    if let Some(notifier) = &notifier {
        events = events.with(notifier.sink());
    }
    let options = Options {
        dry_run: args.dry_run,
        full: args.full,
        cancel,
        events,
    };
    let report = flows::run_flow(&integration, &state, &args.flow, &options).await;
    if let Some(notifier) = notifier {
        notifier.finish().await;
    }
    let report = report?;
    print_report(&report, args.all);
    ended(&report)
}

/// How a run ended, as the command's result: an error when it failed, [`Incomplete`] when it
/// was interrupted or records failed.
pub fn ended(report: &RunReport) -> Result<()> {
    let run = &report.run;
    let what = if run.dry_run {
        format!("the dry run of {}", run.flow)
    } else {
        format!("run {} of {}", run.id, run.flow)
    };
    let failed = run.counts.get(&Outcome::Failed).copied().unwrap_or(0);
    match run.status {
        RunStatus::Failed => bail!("{what} failed: {}", run.error.as_deref().unwrap_or("")),
        RunStatus::Interrupted | RunStatus::Running => Err(Incomplete(format!(
            "{what} was interrupted; the next run goes on from where it stopped"
        ))
        .into()),
        RunStatus::Finished if failed > 0 => Err(Incomplete(format!(
            "{failed} record(s) failed in {what} (listed above); `tillbridge retry {}/KEY` sends one again",
            run.flow
        ))
        .into()),
        RunStatus::Finished => Ok(()),
    }
}

/// The records of a run, one line each, then the summary and the notes.
pub fn print_report(report: &RunReport, all: bool) {
    // stdout gone (a closed pipe) leaves nobody to tell.
    let _ = write_report(&mut std::io::stdout(), report, all);
}

/// [`print_report`] to any writer.
pub fn write_report(out: &mut impl Write, report: &RunReport, all: bool) -> std::io::Result<()> {
    let run = &report.run;
    let title = if run.dry_run {
        format!("dry run of {} (nothing was written)", run.flow)
    } else {
        format!("run {} of {}", run.id, run.flow)
    };
    writeln!(out, "{title}:")?;
    let width = report
        .entries
        .iter()
        .map(|e| e.key.len())
        .max()
        .unwrap_or(0)
        .min(28);
    for entry in report
        .entries
        .iter()
        .filter(|e| all || e.outcome != Outcome::Unchanged)
    {
        writeln!(
            out,
            "  {:<9} {:<width$}  {:<9}  {}",
            entry.kind,
            entry.key,
            entry.outcome.as_str(),
            entry.message
        )?;
    }
    let unchanged = run.counts.get(&Outcome::Unchanged).copied().unwrap_or(0);
    if !all && unchanged > 0 {
        writeln!(out, "  … and {unchanged} unchanged (list them with --all)")?;
    }
    writeln!(out, "  {}", summary(&run.counts))?;
    for note in &run.notes {
        writeln!(out, "  note: {note}")?;
    }
    if let Some(error) = &run.error {
        writeln!(out, "  stopped: {error}")?;
    }
    Ok(())
}

#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Runs every integration of this folder instead of --config: each FOLDER/NAME/flows.toml,
    /// with its own state file and schedules; a broken one is reported and the others go on.
    #[arg(long, value_name = "FOLDER")]
    integrations: Option<std::path::PathBuf>,
    /// With --integrations: only the integrations of shard I of N replicas (by a stable hash of
    /// their names), so that N processes split one folder.
    #[arg(long, value_name = "I/N", requires = "integrations")]
    shard: Option<super::fleet::Shard>,
    /// The address and port of the HTTP listener, e.g. 0.0.0.0:8780 in a container: the
    /// dashboard's (instead of flows.toml's `[dashboard] listen`); with --integrations, the
    /// process's /healthz, /readyz, /metrics and list of integrations.
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<String>,
    /// With --integrations: a folder of secrets files, DIR/NAME for integration NAME
    /// (`VAR=value` lines), where its `${VAR}` references are looked up before the environment.
    #[arg(long, value_name = "DIR", requires = "integrations")]
    secrets: Option<std::path::PathBuf>,
}

/// Runs every enabled flow on its schedule, and serves the dashboard, until SIGINT or SIGTERM.
pub async fn run(args: &RunArgs) -> Result<()> {
    let shutdown = CancellationToken::new();
    if let Some(dir) = &args.integrations {
        stop_on_signal(shutdown.clone())?;
        return super::fleet::run(
            dir,
            args.shard.unwrap_or(super::fleet::Shard::ALL),
            args.listen.as_deref(),
            args.secrets.as_deref(),
            shutdown,
        )
        .await;
    }
    let (mut integration, state) = open(&args.config).await?;
    if let Some(listen) = &args.listen {
        integration.config.dashboard.listen = listen.clone();
        integration.config.dashboard.listen_given = true;
    }
    stop_on_signal(shutdown.clone())?;
    daemon(integration, state, shutdown, Some(dashboard::Place::Own)).await
}

/// Runs the flows of one integration on their schedules until `shutdown`, and serves its
/// dashboard at `place` if flows.toml enables it.
pub(super) async fn daemon(
    integration: crate::integration::Integration,
    state: State,
    shutdown: CancellationToken,
    place: Option<dashboard::Place>,
) -> Result<()> {
    let flows: Vec<String> = integration
        .config
        .flows
        .iter()
        .filter(|(_, f)| f.enabled)
        .map(|(name, f)| format!("{name} (\"{}\")", f.schedule.expression))
        .collect();
    tracing::info!(
        "tillbridge runs {}; Ctrl-C stops after the record in flight",
        flows.join(", ")
    );
    let integration = Arc::new(integration);
    let locks = FlowLocks::default();
    let notifier = notifier(&integration.config, &state, Watch::Periodic);
    let mut events = Events::default()
        .with(Progress::log_lines())
        .with(integration.metrics.sink());
    if let Some(notifier) = &notifier {
        events = events.with(notifier.sink());
    }
    let place = place.filter(|_| integration.config.dashboard.enabled);
    let served = if let Some(place) = place {
        let served = dashboard::serve(
            integration.clone(),
            state.clone(),
            locks.clone(),
            shutdown.clone(),
            events.clone(),
            place,
        )
        .await?;
        if let Some(notifier) = &notifier {
            notifier.link_dashboard(&served.url);
        }
        if served.token_generated {
            tracing::info!(
                "dashboard: {} (sign in: {})",
                served.url,
                served.sign_in_url()
            );
        } else {
            tracing::info!(
                "dashboard: {} (sign in with the token of [dashboard] in flows.toml)",
                served.url
            );
        }
        Some(served)
    } else {
        None
    };
    let result = crate::scheduler::run(integration, state, locks, shutdown, events).await;
    if let Some(served) = served {
        served.stopped().await;
    }
    if let Some(notifier) = notifier {
        notifier.finish().await;
    }
    result
}

/// The notifier `[notify]` asks for; one that cannot start is logged and the runs go on.
fn notifier(config: &Config, state: &State, watch: Watch) -> Option<Notifier> {
    Notifier::start(config, state, watch).unwrap_or_else(|e| {
        tracing::error!("notifications are off: {e:#}");
        None
    })
}

/// Cancels `token` on SIGINT or SIGTERM, so that flows stop after the record in flight.
pub(super) fn stop_on_signal(token: CancellationToken) -> Result<()> {
    let stop = super::stop_signal()?;
    tokio::spawn(async move {
        stop.await;
        tracing::info!("stopping after the record in flight…");
        token.cancel();
    });
    Ok(())
}
