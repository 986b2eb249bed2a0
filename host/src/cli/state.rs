//! `tillbridge state check`, `backup FILE` and `restore FILE`: the state file as a whole. They
//! work on the file, or, while `tillbridge run` holds it, through the daemon's dashboard API
//! (with its token), which backs up from one snapshot and restores with every flow paused.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::ConfigArg;
use crate::dashboard::client::Client;
use crate::state::{self, CheckReport, State};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Reads the whole state file (or a backup): every page's checksum, then every record of
    /// every table, table by table; exits 1 when anything is damaged.
    Check(CheckArgs),
    /// Writes a backup of the state file to FILE (one consistent snapshot, with the key of its
    /// pseudonyms; readable by you only), also while `tillbridge run` runs.
    Backup(FileArgs),
    /// Puts the backup in FILE in place of the state file, after checking all of it (a damaged
    /// backup changes nothing); while `tillbridge run` runs, its flows wait meanwhile.
    Restore(FileArgs),
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// A backup (or another state file) to check instead of the state file of flows.toml.
    file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct FileArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// The backup file.
    file: PathBuf,
}

impl FileArgs {
    /// The state file and the backup file (absolute: a daemon may be asked to use it).
    fn paths(&self) -> Result<(PathBuf, PathBuf)> {
        Ok((state_path(&self.config)?, std::path::absolute(&self.file)?))
    }
}

/// The state file flows.toml names.
fn state_path(config: &ConfigArg) -> Result<PathBuf> {
    let config = config.load()?;
    Ok(config.resolve_path(&config.host.state))
}

pub async fn run(args: &Args) -> Result<()> {
    match &args.command {
        Command::Check(args) => check(args).await,
        Command::Backup(args) => backup(args).await,
        Command::Restore(args) => restore(args).await,
    }
}

async fn check(args: &CheckArgs) -> Result<()> {
    let path = match &args.file {
        Some(file) => file.clone(),
        None => state_path(&args.config)?,
    };
    let report = match state::check(&path) {
        Ok(report) => report,
        Err(e) if State::held_elsewhere(&e) && args.file.is_none() => {
            Client::for_state(&path)?.check_state().await?
        }
        Err(e) => return Err(e),
    };
    print_report(&path, &report);
    if report.damaged() {
        bail!(
            "{} is damaged: the records above cannot be read; `tillbridge state restore BACKUP` puts a backup in its place",
            path.display()
        );
    }
    Ok(())
}

fn print_report(path: &Path, report: &CheckReport) {
    println!("{}: {}", path.display(), report.pages);
    for table in &report.tables {
        let verdict = if table.problems.is_empty() {
            "ok"
        } else {
            "DAMAGED"
        };
        println!(
            "  {:<10} {:>8} record(s)  sha256 {}  {verdict}",
            table.table,
            table.records,
            &table.digest[..16]
        );
        for problem in &table.problems {
            println!("      {problem}");
        }
    }
}

async fn backup(args: &FileArgs) -> Result<()> {
    let (path, file) = args.paths()?;
    let here = State::open(&path).and_then(|state| {
        state.backup(&file)?;
        Ok(format!(
            "{} is backed up to {}",
            path.display(),
            file.display()
        ))
    });
    here_or_through_the_daemon(&path, "backup", &file, here).await
}

async fn restore(args: &FileArgs) -> Result<()> {
    let (path, file) = args.paths()?;
    let here = state::restore_file(&path, &file).and_then(|()| {
        // Opened once: brought up to date, and checked.
        State::open(&path)?;
        Ok(format!(
            "{} is restored from {} (the file it replaced, if any, is kept as {}.before-restore)",
            path.display(),
            file.display(),
            path.display()
        ))
    });
    here_or_through_the_daemon(&path, "restore", &file, here).await
}

/// Prints what was done `here` to the state file at `path`, or, when a running daemon holds
/// it, has the daemon do `action` with `file` and prints what it says.
async fn here_or_through_the_daemon(
    path: &Path,
    action: &str,
    file: &Path,
    here: Result<String>,
) -> Result<()> {
    let done = match here {
        Ok(done) => done,
        Err(e) if State::held_elsewhere(&e) => {
            Client::for_state(path)?.state_file(action, file).await?
        }
        Err(e) => return Err(e),
    };
    println!("{done}");
    Ok(())
}
