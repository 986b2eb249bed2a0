//! The host's state in one redb file: what sync needs to remember between runs.
//!
//! The schema is versioned: [`State::open`] creates a new file at the current version and
//! migrates an older one forward, one step at a time, inside one write transaction.
//!
//! The file is made readable by its owner only (0600), and the key of its pseudonyms lives in a
//! file of its own beside it (see [`crate::privacy::Pseudonyms`]).

mod file;
mod kv;
mod records;
mod tables;
mod told;
mod waiting;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use redb::{Database, ReadableDatabase, TableDefinition};

pub use file::{CheckReport, Damaged, TableReport, check, restore_file};
pub use kv::KvSpace;

use crate::privacy::{self, Pseudonyms};
pub use records::{Activity, Intent, Link, Outcome, Pending, PendingState, Run, RunStatus};
pub use tables::{Read, Write, flow_key, link_key};
pub use told::{Subject, Told, Trouble};

/// Schema version and other facts about the file.
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// The schema version this build writes.
pub const SCHEMA_VERSION: u64 = 4;

/// The open state file. Cheap to clone; all clones share one database.
#[derive(Clone)]
pub struct State {
    db: Arc<Database>,
    pseudonyms: Pseudonyms,
    /// The file of the pseudonyms' key.
    key_path: PathBuf,
}

impl State {
    /// Opens (or creates, readable by its owner only) the state file and brings its schema up to
    /// date; reads (or makes) the key of its pseudonyms beside it. A file that fails redb's
    /// integrity check is refused with [`Damaged`], unchanged (see [`file`]).
    pub fn open(path: &Path) -> Result<State> {
        if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
            file::verify(path)?;
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        match privacy::private_file(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot create the state file {}", path.display()));
            }
        }
        let db = file::guarded(|| file::builder().create(path))
            .map_err(|reason| Damaged {
                path: path.to_path_buf(),
                reason,
            })?
            .with_context(|| format!("cannot open the state file {}", path.display()))?;
        let key_path = privacy::key_path(path);
        let pseudonyms = Pseudonyms::open(&key_path)?;
        let state = State {
            db: Arc::new(db),
            pseudonyms,
            key_path,
        };
        state
            .migrate()
            .with_context(|| format!("cannot bring {} up to date", path.display()))?;
        state
            .interrupt_abandoned_runs()
            .with_context(|| format!("cannot settle the runs in {}", path.display()))?;
        Ok(state)
    }

    /// Runs a process left "running" when it ended without finishing them (killed, crashed, the
    /// machine lost power) are marked interrupted. redb lets one process at a time open the file,
    /// so a run still marked running when it is opened is run by nobody. What such a run recorded
    /// stands; its intents are looked up, and its records read again, by the next run.
    fn interrupt_abandoned_runs(&self) -> Result<()> {
        // Read first: a file with no such run is not written to (a dry run writes nothing).
        if !self.read()?.any_running()? {
            return Ok(());
        }
        let ids = self.write(|w| {
            w.interrupt_running(
                "interrupted: the process ended during the run (killed or crashed); the next run goes on from where it stopped",
            )
        })?;
        if !ids.is_empty() {
            tracing::warn!(runs = ?ids, "runs left running by a process that ended are marked interrupted");
        }
        Ok(())
    }

    /// The schema version of the file.
    pub fn schema_version(&self) -> Result<u64> {
        let read = self.db.begin_read()?;
        match read.open_table(META) {
            Ok(table) => Ok(table.get("schema_version")?.map_or(0, |v| v.value())),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    fn migrate(&self) -> Result<()> {
        let found = self.schema_version()?;
        if found > SCHEMA_VERSION {
            bail!(
                "the file has schema version {found}, newer than this tillbridge ({SCHEMA_VERSION}); use a newer tillbridge"
            );
        }
        if found == SCHEMA_VERSION {
            return Ok(());
        }
        let write = self.db.begin_write()?;
        for step in found..SCHEMA_VERSION {
            match step {
                // 0 → 1: the plugins' key-value store.
                0 => kv::create(&write)?,
                // 1 → 2: links, cursors, intents, pending records, runs and activity.
                1 => tables::create(&write)?,
                // 2 → 3: no e-mail address in a link's key, no customer in a pending record.
                2 => tables::forget_personal_data(&write)?,
                // 3 → 4: what notifications have told.
                3 => told::create(&write)?,
                _ => unreachable!("every version below SCHEMA_VERSION has a step"),
            }
        }
        write
            .open_table(META)?
            .insert("schema_version", SCHEMA_VERSION)?;
        write.commit()?;
        Ok(())
    }

    /// A consistent snapshot to read from.
    pub fn read(&self) -> Result<Read> {
        Ok(Read {
            txn: self.db.begin_read()?,
        })
    }

    /// Writes all of `f`'s changes in one transaction, or none of them if it fails.
    pub fn write<R>(&self, f: impl FnOnce(&Write<'_>) -> Result<R>) -> Result<R> {
        let txn = self.db.begin_write()?;
        let result = f(&Write { txn: &txn })?;
        txn.commit()?;
        Ok(result)
    }

    /// Writes a backup of the whole file, from one consistent snapshot, to `to` (a redb file
    /// with the pseudonyms' key, readable by its owner only; see [`file`]).
    pub fn backup(&self, to: &Path) -> Result<()> {
        let read = self.db.begin_read()?;
        file::write_backup(&read, &self.pseudonyms.key_hex(), to)
    }

    /// Puts the backup at `from` in place of everything in this open file, in one write
    /// transaction, after checking all of it (a damaged backup changes nothing); its key
    /// replaces the pseudonyms' key. The caller makes sure no run is in flight.
    pub fn restore(&self, from: &Path) -> Result<()> {
        let backup = file::Backup::open(from)?;
        let write = self.db.begin_write()?;
        backup.copy_into(&write)?;
        write.commit()?;
        self.pseudonyms.replace(&self.key_path, &backup.key)?;
        self.migrate()
            .with_context(|| format!("cannot bring the restored {} up to date", from.display()))
    }

    /// Every record of every table, read as the host reads it, from one snapshot (the pages
    /// of an open file are checked when it is opened).
    pub fn check(&self) -> Result<CheckReport> {
        Ok(CheckReport {
            pages: "checked when the file was opened".into(),
            tables: file::check_tables(&self.db.begin_read()?)?,
        })
    }

    /// Whether `error` (from [`State::open`]) says another process has the file open: a running
    /// `tillbridge run` holds it for as long as it runs.
    pub fn held_elsewhere(error: &anyhow::Error) -> bool {
        matches!(
            error.downcast_ref::<redb::DatabaseError>(),
            Some(redb::DatabaseError::DatabaseAlreadyOpen)
        )
    }

    /// The key-value space of one plugin for one connection.
    pub fn kv(&self, namespace: &str) -> KvSpace {
        KvSpace::new(self.db.clone(), namespace, self.pseudonyms.clone())
    }

    /// The pseudonym of a text that identifies a person (an e-mail address), for keys.
    pub fn pseudonym(&self, text: &str) -> String {
        self.pseudonyms.of(text)
    }

    /// Activity that mentions `text`, newest first (see [`Read::search_activity`]); an e-mail
    /// address also finds the records keyed by its pseudonym (with redaction on, the log keeps
    /// no address).
    pub fn search_activity(&self, text: &str, limit: usize) -> Result<Vec<Activity>> {
        let pseudonym = self.pseudonym(&text.trim().to_lowercase());
        let texts: &[&str] = if text.contains('@') {
            &[text, &pseudonym]
        } else {
            &[text]
        };
        self.read()?.search_activity_any(texts, limit)
    }
}

#[cfg(test)]
mod tests;
