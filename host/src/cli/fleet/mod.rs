//! Many integrations in one process: `tillbridge run --integrations FOLDER [--shard I/N]` and
//! `tillbridge integrations list FOLDER`.
//!
//! An integration is a folder with its flows.toml; its name is the folder's. Each runs as the
//! single daemon does (its own state file, schedules and notifier), in one wasmtime runtime shared
//! by all (each plugin's code is held once), and connections to the same account share one pacer.
//! One that cannot start (a wrong flows.toml, a missing plugin, a state file held or damaged) is
//! reported by name and tried again when its files change, or every few minutes; the others go
//! on.

mod listener;
mod shard;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub use self::shard::Shard;
use crate::builtin;
use crate::config::{Config, ProcessEnv};
use crate::dashboard::{Place, Sections};
use crate::integration::{Accounts, Integration};
use crate::metrics::Metrics;
use crate::runtime::Runtime;
use listener::{Board, Status};

/// How often a broken integration is tried again when its files do not change.
const RETRY: Duration = Duration::from_secs(300);
/// How often a broken integration's files are looked at for a change.
const LOOK: Duration = Duration::from_secs(2);

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Lists the integrations of FOLDER (each FOLDER/NAME/flows.toml) that a shard runs, one
    /// name a line.
    List {
        /// The folder of integrations.
        folder: PathBuf,
        /// Only those of shard I of N replicas.
        #[arg(long, value_name = "I/N", default_value_t = Shard::ALL)]
        shard: Shard,
    },
}

/// `tillbridge integrations …`.
pub fn integrations(args: &Args) -> Result<()> {
    match &args.command {
        Command::List { folder, shard } => {
            let (names, all) = members(folder, *shard)?;
            for name in &names {
                println!("{name}");
            }
            eprintln!(
                "{} of the {all} integration(s) in {} are in shard {shard}",
                names.len(),
                folder.display()
            );
            Ok(())
        }
    }
}

/// The names of the integrations in `folder` that `shard` runs, in order, and how many there
/// are in all.
fn members(folder: &Path, shard: Shard) -> Result<(Vec<String>, usize)> {
    let entries = std::fs::read_dir(folder).with_context(|| {
        format!(
            "cannot read the folder of integrations {}",
            folder.display()
        )
    })?;
    let mut names = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if !path.join("flows.toml").is_file() {
            continue;
        }
        match path.file_name().and_then(|n| n.to_str()) {
            // Hidden folders are no integrations: a mounted ConfigMap keeps its own (`..data`).
            Some(name) if name.starts_with('.') => {}
            Some(name) => names.push(name.to_string()),
            None => tracing::warn!(
                "{}: an integration's folder name must be UTF-8; skipped",
                path.display()
            ),
        }
    }
    names.sort();
    let all = names.len();
    names.retain(|name| shard.runs(name));
    Ok((names, all))
}

/// What the integrations of one process share.
#[derive(Clone, Default)]
struct Shared {
    /// Made by the first integration that loads (in its `cache_dir`), used by all.
    runtime: Arc<Mutex<Option<Runtime>>>,
    accounts: Accounts,
    /// One registry: `/metrics` shows every integration, each under its `integration` label.
    metrics: Metrics,
}

impl Shared {
    fn open(&self, config: Config) -> Result<Integration> {
        let runtime = {
            let mut slot = self.runtime.lock().unwrap_or_else(|e| e.into_inner());
            match slot.clone() {
                Some(runtime) => runtime,
                None => {
                    let runtime = Runtime::new(&config.resolve_path(&config.host.cache_dir))?;
                    *slot = Some(runtime.clone());
                    runtime
                }
            }
        };
        Ok(Integration::open_in(config, runtime, &self.accounts)?.with_metrics(&self.metrics))
    }
}

/// Runs every integration of `folder` in `shard` until `shutdown`, with health, readiness and
/// metrics on `listen` if given.
pub async fn run(
    folder: &Path,
    shard: Shard,
    listen: Option<&str>,
    shutdown: CancellationToken,
) -> Result<()> {
    let (names, all) = members(folder, shard)?;
    if names.is_empty() {
        bail!(
            "no integration of {} is in shard {shard} ({all} in all): an integration is a folder \
             with its flows.toml, such as {}",
            folder.display(),
            folder.join("shop-a/flows.toml").display()
        );
    }
    tracing::info!(
        "running {} of the {all} integration(s) in {} (shard {shard}): {}",
        names.len(),
        folder.display(),
        names.join(", ")
    );
    let shared = Shared::default();
    let board = Board::new(&names, shared.metrics.clone());
    let sections = match listen {
        Some(listen) => Some(listener::serve(listen, board.clone(), shutdown.clone()).await?),
        None => None,
    };
    let mut tasks = JoinSet::new();
    for name in names {
        let span = tracing::info_span!("integration", integration = %name);
        let home = folder.join(&name);
        let board = board.clone();
        let (shared, shutdown) = (shared.clone(), shutdown.clone());
        let sections = sections.clone();
        tasks.spawn(
            async move {
                supervise(&home, shared, &board, &name, sections, shutdown).await;
            }
            .instrument(span),
        );
    }
    while let Some(done) = tasks.join_next().await {
        if let Err(e) = done {
            tracing::error!("an integration's task ended abnormally: {e}");
        }
    }
    Ok(())
}

/// Starts the integration in `home` and runs it until `shutdown`, its dashboard a section of
/// the process's listener if there is one; while it cannot start, says why and tries again when
/// its files change or after [`RETRY`].
async fn supervise(
    home: &Path,
    shared: Shared,
    board: &Board,
    name: &str,
    sections: Option<Sections>,
    shutdown: CancellationToken,
) {
    loop {
        let seen = stamp(home);
        let started = async {
            let config = Config::load(&home.join("flows.toml"), &ProcessEnv, &builtin::names())?;
            super::with_state(shared.open(config)?).await
        };
        match started.await {
            Ok((integration, state)) => {
                board.set(name, Status::Running);
                let place = sections.map(|s| Place::Section(s, name.to_string()));
                if let Err(e) = super::flows::daemon(integration, state, shutdown, place).await {
                    board.set(name, Status::Stopped);
                    tracing::error!("stopped: {e:#}");
                }
                return;
            }
            Err(e) => {
                board.set(name, Status::Broken);
                tracing::error!(
                    "broken, not running (the others go on): {e:#}; tried again when its files \
                     change, or in {} minutes",
                    RETRY.as_secs() / 60
                )
            }
        }
        let since = tokio::time::Instant::now();
        while stamp(home) == seen && since.elapsed() < RETRY {
            tokio::select! {
                () = tokio::time::sleep(LOOK) => {}
                () = shutdown.cancelled() => return,
            }
        }
    }
}

/// The names, sizes and modification times of the files in an integration's folder (its state
/// files aside, which others may be writing): a change is a reason to try a broken one again.
fn stamp(home: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut files: Vec<_> = std::fs::read_dir(home)
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "redb") {
                return None;
            }
            let meta = entry.metadata().ok()?;
            Some((path, meta.len(), meta.modified().ok()))
        })
        .collect();
    files.sort();
    files
}
