//! The state file as a whole: verified before it is opened, checked table by table, backed up and
//! restored.
//!
//! What redb checks itself: every page carries a checksum (xxh3), but a plain open and normal reads
//! trust the file and do not verify them (a changed value is read as it is, and some damage makes
//! the library panic). Only its integrity check verifies every page, and it repairs what it can
//! (changing the file). So before the file is opened, a copy of it is checked (the file itself is
//! never changed by a check), the open is guarded against panics, and `tillbridge state check`
//! also reads every record of every table as the host would.
//!
//! A backup is a redb file like the state file, written from one read transaction (a consistent
//! snapshot), with the pseudonyms' key in a table of its own, readable by its owner only.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use redb::{
    Database, Key, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, TableError,
    TableHandle, Value, WriteTransaction,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::records::{Activity, Intent, Link, Pending, Run};
use super::{META, SCHEMA_VERSION, kv, tables, told};
use crate::privacy::temp_beside;

/// In a backup only: the pseudonyms' key and when the backup was taken.
const BACKUP: TableDefinition<&str, &str> = TableDefinition::new("backup");

/// A state file (or backup) that fails its checks.
#[derive(Debug, thiserror::Error)]
#[error(
    "{} is damaged ({reason}); nothing was changed in it: `tillbridge state restore BACKUP` puts a backup in its place (the damaged file is kept beside it)",
    path.display()
)]
pub struct Damaged {
    /// The file.
    pub path: PathBuf,
    /// What is wrong.
    pub reason: String,
}

/// What a check found in one table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableReport {
    /// The table.
    pub table: String,
    /// How many records it holds.
    pub records: usize,
    /// SHA-256 of its keys and values, in order: two files with the same digests hold the same
    /// records (a backup and the file it was taken of; a file before and after a dry run).
    pub digest: String,
    /// Each record that cannot be read, with its key.
    pub problems: Vec<String>,
}

/// What `tillbridge state check` found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckReport {
    /// How the file's pages were checked.
    pub pages: String,
    /// Each table.
    pub tables: Vec<TableReport>,
}

impl CheckReport {
    /// Whether anything is wrong.
    pub fn damaged(&self) -> bool {
        self.tables.iter().any(|t| !t.problems.is_empty())
    }
}

/// How a table's values are checked: they must read as the host reads them.
type Check = fn(&[u8]) -> Result<(), String>;

/// Visits every table of the state file (and so of a backup).
trait Visit {
    fn table<K: Key + 'static, V: Value + 'static>(
        &mut self,
        def: TableDefinition<K, V>,
        check: Check,
    ) -> Result<()>;
}

/// Every table the host keeps, with the check of its values. A table added to the schema must be
/// added here (a test compares this list with a new file's tables).
fn every_table(visit: &mut impl Visit) -> Result<()> {
    visit.table(META, number)?;
    visit.table(kv::KV, text)?;
    visit.table(tables::LINKS, json::<Link>)?;
    visit.table(tables::CURSORS, text)?;
    visit.table(tables::INTENTS, json::<Intent>)?;
    visit.table(tables::PENDING, json::<Pending>)?;
    visit.table(tables::RUNS, json::<Run>)?;
    visit.table(tables::ACTIVITY, json::<Activity>)?;
    visit.table(told::TOLD, json::<told::Told>)
}

fn number(bytes: &[u8]) -> Result<(), String> {
    (bytes.len() == 8)
        .then_some(())
        .ok_or_else(|| format!("not a number ({} bytes)", bytes.len()))
}

fn text(bytes: &[u8]) -> Result<(), String> {
    std::str::from_utf8(bytes)
        .map(drop)
        .map_err(|e| e.to_string())
}

fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<(), String> {
    serde_json::from_slice::<T>(bytes)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Reads every record of every table.
struct Checker<'a> {
    read: &'a ReadTransaction,
    tables: Vec<TableReport>,
}

impl Visit for Checker<'_> {
    fn table<K: Key + 'static, V: Value + 'static>(
        &mut self,
        def: TableDefinition<K, V>,
        check: Check,
    ) -> Result<()> {
        let mut report = TableReport {
            table: def.name().to_string(),
            records: 0,
            digest: String::new(),
            problems: Vec::new(),
        };
        let mut digest = Sha256::new();
        match self.read.open_table(def) {
            Ok(table) => {
                for entry in table.iter()? {
                    match entry {
                        Ok((key, value)) => {
                            report.records += 1;
                            let value = value.value();
                            let bytes = V::as_bytes(&value);
                            for part in [K::as_bytes(&key.value()).as_ref(), bytes.as_ref()] {
                                digest.update((part.len() as u64).to_le_bytes());
                                digest.update(part);
                            }
                            if let Err(e) = check(bytes.as_ref()) {
                                report.problems.push(format!("key {:?}: {e}", key.value()));
                            }
                        }
                        Err(e) => report.problems.push(format!("unreadable: {e}")),
                    }
                }
            }
            Err(TableError::TableDoesNotExist(_)) => report.problems.push("missing".into()),
            Err(e) => report.problems.push(format!("cannot be opened: {e}")),
        }
        report.digest = hex::encode(digest.finalize());
        self.tables.push(report);
        Ok(())
    }
}

/// Replaces every table of `to` with the table of `from`.
struct Copier<'a> {
    from: &'a ReadTransaction,
    to: &'a WriteTransaction,
}

impl Visit for Copier<'_> {
    fn table<K: Key + 'static, V: Value + 'static>(
        &mut self,
        def: TableDefinition<K, V>,
        _check: Check,
    ) -> Result<()> {
        self.to.delete_table(def)?;
        let mut target = self.to.open_table(def)?;
        let source = match self.from.open_table(def) {
            Ok(source) => source,
            // An older schema: the migration makes it on the next open.
            Err(TableError::TableDoesNotExist(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        for entry in source.iter()? {
            let (key, value) = entry?;
            target.insert(key.value(), value.value())?;
        }
        Ok(())
    }
}

/// Every table of `read`, record by record.
pub(super) fn check_tables(read: &ReadTransaction) -> Result<Vec<TableReport>> {
    let mut checker = Checker {
        read,
        tables: Vec::new(),
    };
    every_table(&mut checker)?;
    Ok(checker.tables)
}

/// The memory redb may keep of one state file: pages read, and pages written but not yet flushed
/// (at most half). redb's default, 1 GiB, would let a check or a 10,000-product run hold the
/// whole file in memory, and a process of 100 integrations 100 of them; the operating system
/// caches the file anyway.
const CACHE_BYTES: usize = 4 * 1024 * 1024;

/// How every state file (and copy, and backup) is opened: with [`CACHE_BYTES`] of cache.
pub(super) fn builder() -> redb::Builder {
    let mut builder = Database::builder();
    builder.set_cache_size(CACHE_BYTES);
    builder
}

/// A copy of the file at `path` that passed redb's integrity check (every page's checksum), open;
/// the file itself is not changed. Refused while another process holds the file (it may be
/// writing: ask it instead).
fn verified_copy(path: &Path) -> Result<(tempfile::NamedTempFile, Database)> {
    let mut file = std::fs::File::open(path)
        .with_context(|| format!("cannot read the state file {}", path.display()))?;
    unheld(&file, path)?;
    let mut copy = temp_beside(path)
        .with_context(|| format!("cannot check {}: no room for a copy", path.display()))?;
    std::io::copy(&mut file, copy.as_file_mut())
        .with_context(|| format!("cannot read the state file {}", path.display()))?;
    drop(file);
    let damaged = |reason: String| Damaged {
        path: path.to_path_buf(),
        reason,
    };
    match guarded(|| {
        builder()
            .set_check_integrity_on_open(true)
            .create(copy.path())
    }) {
        Ok(Ok(db)) => Ok((copy, db)),
        Ok(Err(e)) => Err(damaged(e.to_string()).into()),
        Err(panic) => Err(damaged(panic).into()),
    }
}

/// Locks `file` (the state file at `path`) for as long as it is open, or refuses it as
/// [`redb::DatabaseError::DatabaseAlreadyOpen`] when another process holds it. redb holds an
/// exclusive lock on the file while it has it open (flock on Unix, as here): a file held is
/// being written by someone else, and a copy of it would be torn.
fn unheld(file: &std::fs::File, path: &Path) -> Result<()> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(redb::DatabaseError::DatabaseAlreadyOpen.into())
        }
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// `f`, with a panic inside the database library turned into its message.
pub(super) fn guarded<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        format!("the database library failed on it: {message}")
    })
}

/// Refuses a state file that fails redb's integrity check (see [`verified_copy`]).
pub(super) fn verify(path: &Path) -> Result<()> {
    verified_copy(path).map(drop)
}

/// Checks the file at `path`: every page, then every record of every table.
pub fn check(path: &Path) -> Result<CheckReport> {
    let (_copy, db) = verified_copy(path)?;
    let read = db.begin_read()?;
    Ok(CheckReport {
        pages: "every page's checksum verified".into(),
        tables: check_tables(&read)?,
    })
}

/// A backup that passed every check, open, and the pseudonyms' key it carries.
pub(super) struct Backup {
    _copy: tempfile::NamedTempFile,
    db: Database,
    pub(super) key: String,
}

impl Backup {
    /// Opens the backup at `path`, refusing it unless every check passes.
    pub(super) fn open(path: &Path) -> Result<Backup> {
        let (copy, db) = verified_copy(path)?;
        let read = db.begin_read()?;
        let not_backup = || {
            format!(
                "{} is not a tillbridge backup (made by `tillbridge state backup FILE`)",
                path.display()
            )
        };
        let key = match read.open_table(BACKUP) {
            Ok(table) => table
                .get("pseudonym_key")?
                .map(|v| v.value().to_string())
                .with_context(not_backup)?,
            Err(_) => bail!(not_backup()),
        };
        let version = read
            .open_table(META)
            .ok()
            .and_then(|t| t.get("schema_version").ok().flatten().map(|v| v.value()))
            .unwrap_or(0);
        if version > SCHEMA_VERSION {
            bail!(
                "{} has schema version {version}, newer than this tillbridge ({SCHEMA_VERSION}); use a newer tillbridge",
                path.display()
            );
        }
        let damaged: Vec<String> = check_tables(&read)?
            .into_iter()
            .filter(|t| !t.problems.is_empty())
            .map(|t| format!("{}: {}", t.table, t.problems.join("; ")))
            .collect();
        if !damaged.is_empty() {
            return Err(Damaged {
                path: path.to_path_buf(),
                reason: damaged.join(" | "),
            }
            .into());
        }
        drop(read);
        Ok(Backup {
            _copy: copy,
            db,
            key,
        })
    }

    /// Replaces every table written in `to` with the backup's.
    pub(super) fn copy_into(&self, to: &WriteTransaction) -> Result<()> {
        let read = self.db.begin_read()?;
        every_table(&mut Copier { from: &read, to })
    }
}

/// Writes a backup of the snapshot `read` (and the pseudonyms' key) to `to`, whole or not at all,
/// readable by its owner only.
pub(super) fn write_backup(read: &ReadTransaction, key: &str, to: &Path) -> Result<()> {
    let file = temp_beside(to).with_context(|| format!("cannot write {}", to.display()))?;
    {
        let db = builder().create(file.path())?;
        let write = db.begin_write()?;
        every_table(&mut Copier {
            from: read,
            to: &write,
        })?;
        {
            let mut backup = write.open_table(BACKUP)?;
            backup.insert("pseudonym_key", key)?;
            backup.insert("taken_at", chrono::Utc::now().to_rfc3339().as_str())?;
        }
        write.commit()?;
    }
    file.persist(to)
        .with_context(|| format!("cannot write {}", to.display()))?;
    Ok(())
}

/// Puts the backup at `backup` in place of the state file at `state`, which no process holds
/// open. The file replaced, if any, is kept as `STATE.before-restore`.
pub fn restore_file(state: &Path, backup: &Path) -> Result<()> {
    // Held until the new file is in place.
    let current = match std::fs::File::open(state) {
        Ok(file) => {
            unheld(&file, state)?;
            Some(file)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", state.display())),
    };
    let backup = Backup::open(backup)?;
    if let Some(dir) = state.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let file =
        temp_beside(state).with_context(|| format!("cannot write beside {}", state.display()))?;
    {
        let db = builder().create(file.path())?;
        let write = db.begin_write()?;
        backup.copy_into(&write)?;
        write.commit()?;
    }
    if state.exists() {
        let mut kept = state.as_os_str().to_os_string();
        kept.push(".before-restore");
        std::fs::rename(state, &kept)
            .with_context(|| format!("cannot move {} aside", state.display()))?;
    }
    file.persist(state)
        .with_context(|| format!("cannot write {}", state.display()))?;
    drop(current);
    crate::privacy::Pseudonyms::write_key(&crate::privacy::key_path(state), &backup.key)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::State;
    use super::*;

    /// A state file with a distinctive value in it, closed cleanly.
    fn written(dir: &Path) -> PathBuf {
        let path = dir.join("s.redb");
        let state = State::open(&path).unwrap();
        state
            .kv("ccv@pos")
            .set_many(&[("customer".into(), "VALUE-0123456789".into())])
            .unwrap();
        path
    }

    /// Every offset of `needle` in the file at `path`.
    fn offsets(path: &Path, needle: &[u8]) -> Vec<usize> {
        let bytes = std::fs::read(path).unwrap();
        (0..bytes.len().saturating_sub(needle.len()))
            .filter(|&i| bytes[i..].starts_with(needle))
            .collect()
    }

    fn flip(path: &Path, at: &[usize]) {
        let mut bytes = std::fs::read(path).unwrap();
        for &i in at {
            bytes[i] ^= 0x01;
        }
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn a_changed_value_is_refused_unchanged_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = written(dir.path());
        // "VALUE-0123456789" becomes "VALUE-1123456789": still text, still a valid record.
        let at: Vec<usize> = offsets(&path, b"VALUE-0").iter().map(|i| i + 6).collect();
        assert!(!at.is_empty());
        flip(&path, &at);
        let damaged = std::fs::read(&path).unwrap();
        let error = State::open(&path).err().unwrap();
        let text = format!("{error:#}");
        assert!(error.is::<Damaged>(), "{text}");
        assert!(
            text.contains("is damaged") && text.contains("state restore"),
            "{text}"
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            damaged,
            "the file is left as it was"
        );
        assert!(check(&path).unwrap_err().is::<Damaged>());
    }

    #[test]
    fn damaged_structure_is_refused_without_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = written(dir.path());
        let clean = std::fs::read(&path).unwrap();
        let page = offsets(&path, b"VALUE-0")[0] / 4096 * 4096;
        // The page's header (its type and entry count), and the file's magic number. (Not a
        // byte of the header's commit slots: one of the two is not in use, and a change to it
        // rightly changes nothing.)
        for at in [page, page + 2, 0] {
            std::fs::write(&path, &clean).unwrap();
            flip(&path, &[at]);
            let opened = std::panic::catch_unwind(|| State::open(&path).map(drop));
            let error = opened.unwrap_or_else(|_| panic!("panicked at byte {at}"));
            let text = format!(
                "{:#}",
                error.err().unwrap_or_else(|| panic!("byte {at} accepted"))
            );
            assert!(
                text.contains("damaged") || text.contains("redb"),
                "byte {at}: {text}"
            );
        }
    }

    #[test]
    fn a_file_held_by_another_open_is_not_copied() {
        let dir = tempfile::tempdir().unwrap();
        let path = written(dir.path());
        let _held = State::open(&path).unwrap();
        assert!(State::held_elsewhere(&check(&path).unwrap_err()));
        assert!(State::held_elsewhere(
            &restore_file(&path, &path).unwrap_err()
        ));
    }

    #[test]
    fn a_backup_is_checked_and_restores_everything_with_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = written(dir.path());
        let backup = dir.path().join("backup.redb");
        let pseudonym = {
            let state = State::open(&path).unwrap();
            state.backup(&backup).unwrap();
            // Changed after the backup: the restore takes it back.
            state
                .kv("ccv@pos")
                .set_many(&[("customer".into(), "later".into())])
                .unwrap();
            state.pseudonym("ada@example.nl")
        };
        let report = check(&backup).unwrap();
        assert!(!report.damaged());
        assert!(
            report
                .tables
                .iter()
                .any(|t| t.table == "plugin_kv" && t.records == 1)
        );

        // Restored in place of a file that is gone, key and all.
        std::fs::remove_file(&path).unwrap();
        std::fs::remove_file(crate::privacy::key_path(&path)).unwrap();
        restore_file(&path, &backup).unwrap();
        let state = State::open(&path).unwrap();
        assert_eq!(
            state.kv("ccv@pos").get("customer").unwrap().as_deref(),
            Some("VALUE-0123456789")
        );
        assert_eq!(state.pseudonym("ada@example.nl"), pseudonym);

        // And into the open file, as the daemon does.
        state
            .kv("ccv@pos")
            .set_many(&[("customer".into(), "later".into())])
            .unwrap();
        state.restore(&backup).unwrap();
        assert_eq!(
            state.kv("ccv@pos").get("customer").unwrap().as_deref(),
            Some("VALUE-0123456789")
        );
    }

    #[test]
    fn a_damaged_backup_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = written(dir.path());
        let backup = dir.path().join("backup.redb");
        let state = State::open(&path).unwrap();
        state.backup(&backup).unwrap();
        let at: Vec<usize> = offsets(&backup, b"VALUE-0").iter().map(|i| i + 6).collect();
        flip(&backup, &at);
        state
            .kv("ccv@pos")
            .set_many(&[("customer".into(), "now".into())])
            .unwrap();
        assert!(state.restore(&backup).unwrap_err().is::<Damaged>());
        assert_eq!(
            state.kv("ccv@pos").get("customer").unwrap().as_deref(),
            Some("now")
        );
        drop(state);
        let before = std::fs::read(&path).unwrap();
        assert!(restore_file(&path, &backup).unwrap_err().is::<Damaged>());
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[test]
    fn a_file_that_is_not_a_backup_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = written(dir.path());
        let other = dir.path().join("other.redb");
        std::fs::copy(&path, &other).unwrap();
        let error = restore_file(&path, &other).unwrap_err().to_string();
        assert!(error.contains("is not a tillbridge backup"), "{error}");
    }

    #[test]
    fn every_table_of_the_schema_is_checked_and_backed_up() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("s.redb")).unwrap();
        let read = state.db.begin_read().unwrap();
        let mut schema: Vec<String> = read
            .list_tables()
            .unwrap()
            .map(|t| t.name().to_string())
            .collect();
        let mut listed: Vec<String> = check_tables(&read)
            .unwrap()
            .into_iter()
            .map(|t| t.table)
            .collect();
        schema.sort();
        listed.sort();
        assert_eq!(listed, schema);
    }
}
