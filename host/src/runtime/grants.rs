//! What one use of a plugin is granted: its settings, its secrets, where it may send requests,
//! how much it may use, and its own storage.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;

use crate::egress::{AllowList, Pacer};
use crate::metrics::SystemMetrics;
use crate::privacy::Pseudonyms;
use crate::runtime::Tap;
use crate::runtime::limits::Limits;
use crate::state::KvSpace;

/// Grants of one plugin for one connection (or one flow, for a transform).
#[derive(Clone)]
pub struct Grants {
    /// Who it is, for log lines and errors: "shopware@shop", "payment-map".
    pub caller: String,
    /// Its settings, a JSON object.
    pub settings: serde_json::Value,
    /// The secrets it may read, by name.
    pub secrets: BTreeMap<String, String>,
    /// Where it may send requests.
    pub allowed_hosts: AllowList,
    /// How long a request may take when the plugin does not say.
    pub http_timeout: Duration,
    /// Paces its requests under the connection's rate limits.
    pub pacer: Option<Arc<Pacer>>,
    /// Memory and time.
    pub limits: Limits,
    /// Its key-value space.
    pub kv: Kv,
    /// What `tillbridge conformance` watches it through; none in every real run.
    pub tap: Option<Arc<Tap>>,
    /// Where its requests and calls are counted; none outside the daemon's integrations.
    pub metrics: Option<SystemMetrics>,
}

impl Grants {
    /// Nothing but the given limits: no settings, no secrets, no hosts, storage in memory.
    pub fn minimal(caller: &str, limits: Limits) -> Self {
        Grants {
            caller: caller.to_string(),
            settings: serde_json::json!({}),
            secrets: BTreeMap::new(),
            allowed_hosts: AllowList::default(),
            http_timeout: Duration::from_secs(30),
            pacer: None,
            limits,
            kv: Kv::memory(),
            tap: None,
            metrics: None,
        }
    }

    /// These grants with these settings.
    pub fn with_settings(mut self, settings: serde_json::Value) -> Self {
        self.settings = settings;
        self
    }
}

/// Where a plugin's key-value pairs live.
#[derive(Clone)]
pub enum Kv {
    /// In the host's state file, kept between runs.
    State(KvSpace),
    /// In memory, for one-off runs and tests.
    Memory(Arc<Mutex<BTreeMap<String, String>>>),
    /// Read from the state file, written to memory (a value, or `None` for a key deleted): a dry
    /// run sees what the plugin stored before and writes nothing to the file.
    DryRun(KvSpace, Arc<Mutex<BTreeMap<String, Option<String>>>>),
}

impl Kv {
    /// An empty store in memory.
    pub fn memory() -> Self {
        Kv::Memory(Arc::default())
    }

    /// `space` as a dry run sees it: read, never written.
    pub fn dry_run(space: KvSpace) -> Self {
        Kv::DryRun(space, Arc::default())
    }

    /// The values of many keys, in order.
    pub fn get_many(&self, keys: &[String]) -> Result<Vec<Option<String>>> {
        match self {
            Kv::State(space) => space.get_many(keys),
            Kv::Memory(map) => {
                let map = map.lock().expect("kv lock");
                Ok(keys.iter().map(|k| map.get(k).cloned()).collect())
            }
            Kv::DryRun(space, written) => {
                let stored = space.get_many(keys)?;
                let written = written.lock().expect("kv lock");
                Ok(keys
                    .iter()
                    .zip(stored)
                    .map(|(k, stored)| written.get(k).cloned().unwrap_or(stored))
                    .collect())
            }
        }
    }

    /// Sets many keys.
    pub fn set_many(&self, entries: &[(String, String)]) -> Result<()> {
        match self {
            Kv::State(space) => space.set_many(entries),
            Kv::Memory(map) => {
                map.lock().expect("kv lock").extend(entries.iter().cloned());
                Ok(())
            }
            Kv::DryRun(_, written) => {
                let mut written = written.lock().expect("kv lock");
                for (key, value) in entries {
                    written.insert(key.clone(), Some(value.clone()));
                }
                Ok(())
            }
        }
    }

    /// Removes a key.
    pub fn delete(&self, key: &str) -> Result<()> {
        match self {
            Kv::State(space) => space.delete(key),
            Kv::Memory(map) => {
                map.lock().expect("kv lock").remove(key);
                Ok(())
            }
            Kv::DryRun(_, written) => {
                written
                    .lock()
                    .expect("kv lock")
                    .insert(key.to_string(), None);
                Ok(())
            }
        }
    }

    /// Makes the writes so far durable (the state file's; the others have nothing to keep).
    pub fn make_durable(&self) -> Result<()> {
        match self {
            Kv::State(space) => space.make_durable(),
            Kv::Memory(_) | Kv::DryRun(..) => Ok(()),
        }
    }

    /// The key for a value found by personal data (an e-mail address): its pseudonym, under the
    /// state file's key, or for a store in memory under a key that lives as long as the process.
    pub fn personal_key(&self, text: &str) -> String {
        static IN_MEMORY: std::sync::OnceLock<Pseudonyms> = std::sync::OnceLock::new();
        match self {
            Kv::State(space) | Kv::DryRun(space, _) => space.personal_key(text),
            Kv::Memory(_) => IN_MEMORY.get_or_init(Pseudonyms::ephemeral).of(text),
        }
    }

    /// The keys starting with `prefix`, sorted.
    pub fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        match self {
            Kv::State(space) => space.keys(prefix),
            Kv::Memory(map) => {
                let map = map.lock().expect("kv lock");
                Ok(map
                    .range(prefix.to_string()..)
                    .take_while(|(k, _)| k.starts_with(prefix))
                    .map(|(k, _)| k.clone())
                    .collect())
            }
            Kv::DryRun(space, written) => {
                let mut keys: std::collections::BTreeSet<String> =
                    space.keys(prefix)?.into_iter().collect();
                let written = written.lock().expect("kv lock");
                for (key, value) in written.range(prefix.to_string()..) {
                    if !key.starts_with(prefix) {
                        break;
                    }
                    if value.is_some() {
                        keys.insert(key.clone());
                    } else {
                        keys.remove(key);
                    }
                }
                Ok(keys.into_iter().collect())
            }
        }
    }
}
