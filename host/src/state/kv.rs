//! The plugins' key-value spaces (the `kv` host import): one table, keys prefixed by namespace,
//! so that a plugin sees only its own keys for its own connection.
//!
//! A plugin's writes are committed without waiting for the disk (redb's `Durability::None`:
//! atomic, and seen at once by every read) and made durable together by [`KvSpace::make_durable`],
//! which the runtime calls before the plugin sends a request that changes something and when
//! each call returns. A connector that remembers each page it read (CCV's reserved orders, one
//! write per order) used to wait for one `fdatasync` per write: a third of the host's CPU in a
//! first stock run. What a crash can lose is only what the plugin wrote since it last sent a
//! change or returned: nothing the outside world has seen.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use redb::{Database, Durability, ReadableDatabase, TableDefinition, WriteTransaction};

use crate::privacy::Pseudonyms;

pub(super) const KV: TableDefinition<&str, &str> = TableDefinition::new("plugin_kv");

/// Separates namespace and key; cannot occur in either (namespaces are config names, and keys
/// with it are refused).
const SEP: char = '\u{1f}';

pub(super) fn create(write: &WriteTransaction) -> Result<()> {
    write.open_table(KV)?;
    Ok(())
}

/// One namespace of the key-value store.
#[derive(Clone)]
pub struct KvSpace {
    db: Arc<Database>,
    prefix: String,
    pseudonyms: Pseudonyms,
    /// Whether a write of this space is not yet durable.
    pending: Arc<AtomicBool>,
}

impl KvSpace {
    pub(super) fn new(db: Arc<Database>, namespace: &str, pseudonyms: Pseudonyms) -> Self {
        KvSpace {
            db,
            prefix: format!("{namespace}{SEP}"),
            pseudonyms,
            pending: Arc::default(),
        }
    }

    /// The key for a value found by personal data: its pseudonym under the state file's key.
    pub fn personal_key(&self, text: &str) -> String {
        self.pseudonyms.of(text)
    }

    fn full(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key.replace(SEP, ""))
    }

    /// The value of a key.
    pub fn get(&self, key: &str) -> Result<Option<String>> {
        Ok(self.get_many(&[key.to_string()])?.pop().flatten())
    }

    /// The values of many keys, in order.
    pub fn get_many(&self, keys: &[String]) -> Result<Vec<Option<String>>> {
        let read = self.db.begin_read()?;
        let table = read.open_table(KV)?;
        keys.iter()
            .map(|k| {
                Ok(table
                    .get(self.full(k).as_str())?
                    .map(|v| v.value().to_string()))
            })
            .collect()
    }

    /// Sets many keys in one transaction (durable at the next [`make_durable`](Self::make_durable)).
    pub fn set_many(&self, entries: &[(String, String)]) -> Result<()> {
        let write = self.begin_pending()?;
        {
            let mut table = write.open_table(KV)?;
            for (key, value) in entries {
                table.insert(self.full(key).as_str(), value.as_str())?;
            }
        }
        write.commit()?;
        Ok(())
    }

    /// Removes a key (durable at the next [`make_durable`](Self::make_durable)).
    pub fn delete(&self, key: &str) -> Result<()> {
        let write = self.begin_pending()?;
        write.open_table(KV)?.remove(self.full(key).as_str())?;
        write.commit()?;
        Ok(())
    }

    /// A write transaction whose commit does not wait for the disk.
    fn begin_pending(&self) -> Result<WriteTransaction> {
        let mut write = self.db.begin_write()?;
        write.set_durability(Durability::None)?;
        self.pending.store(true, Ordering::SeqCst);
        Ok(write)
    }

    /// Makes every write so far durable: one commit that waits for the disk (redb persists the
    /// commits before it with it), and nothing when there was no write since the last one.
    pub fn make_durable(&self) -> Result<()> {
        if self.pending.swap(false, Ordering::SeqCst) {
            let written: Result<()> = (|| Ok(self.db.begin_write()?.commit()?))();
            if written.is_err() {
                self.pending.store(true, Ordering::SeqCst);
            }
            written?;
        }
        Ok(())
    }

    /// The keys starting with `prefix`, sorted.
    pub fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        let read = self.db.begin_read()?;
        let table = read.open_table(KV)?;
        let start = self.full(prefix);
        let mut keys = Vec::new();
        for entry in table.range(start.as_str()..)? {
            let (key, _) = entry?;
            let Some(rest) = key.value().strip_prefix(&self.prefix) else {
                break;
            };
            if !rest.starts_with(prefix) {
                break;
            }
            keys.push(rest.to_string());
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use crate::state::State;

    #[test]
    fn namespaces_do_not_see_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("s.redb")).unwrap();
        let (a, b) = (state.kv("ccv@pos"), state.kv("ccv@pos2"));
        a.set_many(&[
            ("email:x@y".into(), "1".into()),
            ("email:z@y".into(), "2".into()),
            ("other".into(), "3".into()),
        ])
        .unwrap();
        b.set_many(&[("email:x@y".into(), "9".into())]).unwrap();
        assert_eq!(a.keys("email:").unwrap(), vec!["email:x@y", "email:z@y"]);
        assert_eq!(
            b.get_many(&["email:x@y".into(), "other".into()]).unwrap(),
            vec![Some("9".into()), None]
        );
        a.delete("other").unwrap();
        assert_eq!(a.get("other").unwrap(), None);
    }

    #[test]
    fn writes_are_seen_at_once_and_kept_across_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        {
            let state = State::open(&path).unwrap();
            let space = state.kv("ccv@pos");
            space.set_many(&[("a".into(), "1".into())]).unwrap();
            space.set_many(&[("b".into(), "2".into())]).unwrap();
            space.delete("a").unwrap();
            assert_eq!(
                space.get("b").unwrap().as_deref(),
                Some("2"),
                "read at once"
            );
            space.make_durable().unwrap();
            space.make_durable().unwrap();
        }
        let state = State::open(&path).unwrap();
        let space = state.kv("ccv@pos");
        assert_eq!(
            space.get_many(&["a".into(), "b".into()]).unwrap(),
            vec![None, Some("2".into())]
        );
    }
}
