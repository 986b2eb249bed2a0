//! Many integrations in one process: `tillbridge run --integrations FOLDER [--shard I/N]` and
//! `tillbridge integrations list FOLDER`.
//!
//! An integration is a folder with its flows.toml; its name is the folder's. Each runs as the
//! single daemon does (its own state file, schedules and notifier), in one wasmtime runtime shared
//! by all (each plugin's code is held once), and connections to the same account share one pacer.
//! With `--secrets DIR`, its `${VAR}`s come from `DIR/NAME` first; a change to its flows.toml or
//! secrets file starts it again.
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
use crate::config::{Config, ProcessEnv, Secrets, Vars};
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
/// metrics on `listen` if given, each one's `${VAR}` references looked up in `secrets/NAME`
/// first if `secrets` is given.
pub async fn run(
    folder: &Path,
    shard: Shard,
    listen: Option<&str>,
    secrets: Option<&Path>,
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
        let home = Home {
            folder: folder.join(&name),
            secrets: secrets.map(|dir| dir.join(&name)),
        };
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
/// the process's listener if there is one; starts it again when its flows.toml or secrets file
/// changes (a rotated key takes effect without a restart); while it cannot start, says why and
/// tries again when its files change or after [`RETRY`].
async fn supervise(
    home: &Home,
    shared: Shared,
    board: &Board,
    name: &str,
    sections: Option<Sections>,
    shutdown: CancellationToken,
) {
    loop {
        let seen = home.stamp();
        let started = async {
            let config = home.config()?;
            super::with_state(shared.open(config)?).await
        };
        match started.await {
            Ok((integration, state)) => {
                board.set(name, Status::Running);
                let place = sections
                    .clone()
                    .map(|s| Place::Section(s, name.to_string()));
                let settings = home.settings();
                let stop = shutdown.child_token();
                let ran = super::flows::daemon(integration, state, stop.clone(), place);
                tokio::pin!(ran);
                let result = tokio::select! {
                    result = &mut ran => result,
                    () = changed(home, &settings, &shutdown) => {
                        tracing::info!(
                            "its flows.toml or secrets file changed: starting it again with \
                             them after the record in flight"
                        );
                        stop.cancel();
                        ran.await
                    }
                };
                if let Err(e) = result {
                    board.set(name, Status::Stopped);
                    tracing::error!("stopped: {e:#}");
                    return;
                }
                if shutdown.is_cancelled() {
                    return;
                }
                continue;
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
        while home.stamp() == seen && since.elapsed() < RETRY {
            tokio::select! {
                () = tokio::time::sleep(LOOK) => {}
                () = shutdown.cancelled() => return,
            }
        }
    }
}

/// Returns once `home`'s flows.toml or secrets file is no longer as `seen`; never after
/// `shutdown`.
async fn changed(home: &Home, seen: &[Stamp], shutdown: &CancellationToken) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(LOOK) => {}
            () = shutdown.cancelled() => std::future::pending().await,
        }
        if home.settings() != seen {
            return;
        }
    }
}

/// A file's path, size and modification time, if it is there.
type Stamp = (PathBuf, u64, Option<SystemTime>);

/// The stamps of `paths`, sorted.
fn stamps(paths: impl Iterator<Item = PathBuf>) -> Vec<Stamp> {
    let mut files: Vec<_> = paths
        .map(|path| {
            let meta = std::fs::metadata(&path).ok();
            let len = meta.as_ref().map_or(0, |m| m.len());
            let modified = meta.and_then(|m| m.modified().ok());
            (path, len, modified)
        })
        .collect();
    files.sort();
    files
}

/// Where an integration's files are.
struct Home {
    /// Its folder: flows.toml, and often its state file.
    folder: PathBuf,
    /// Its secrets file, with `--secrets`.
    secrets: Option<PathBuf>,
}

impl Home {
    /// Its flows.toml, read with its secrets.
    fn config(&self) -> Result<Config> {
        let secrets = self.secrets.as_deref().map(Secrets::read).transpose()?;
        let vars: &dyn Vars = match &secrets {
            Some(secrets) => secrets,
            None => &ProcessEnv,
        };
        Ok(Config::load(
            &self.folder.join("flows.toml"),
            vars,
            &builtin::names(),
        )?)
    }

    /// Its files (state files aside, which others may be writing) and its secrets file: a
    /// change is a reason to try a broken one again.
    fn stamp(&self) -> Vec<Stamp> {
        let files = std::fs::read_dir(&self.folder)
            .into_iter()
            .flatten()
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                (path.extension().is_none_or(|e| e != "redb")).then_some(path)
            });
        stamps(files.chain(self.secrets.clone()))
    }

    /// Its flows.toml and secrets file: a change restarts a running one (its other files, such
    /// as a cache, may change as it runs).
    fn settings(&self) -> Vec<Stamp> {
        stamps(std::iter::once(self.folder.join("flows.toml")).chain(self.secrets.clone()))
    }
}
