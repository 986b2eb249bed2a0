//! The journal: every request a simulator answered, so that tests can count requests and look at
//! what was written.

use std::sync::Mutex;

use super::lock;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One request and the status it got.
#[derive(Debug, Clone, Serialize)]
pub struct JournalEntry {
    /// Position in the journal, from 1.
    pub seq: u64,
    /// When the request arrived.
    pub at: DateTime<Utc>,
    /// "GET", "POST", …
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// The `Accept` header, when the request had one.
    pub accept: Option<String>,
    /// The request body as JSON, or as a JSON string when it is not JSON; none when empty.
    pub body: Option<serde_json::Value>,
    /// The status answered.
    pub status: u16,
    /// Whether the answer came from an injected fault.
    pub fault: bool,
}

impl JournalEntry {
    /// Whether the request was meant to change something (not GET or HEAD).
    ///
    /// Search requests are POSTs but read-only; simulators that know better use
    /// [`Journal::writes_where`].
    pub fn is_write(&self) -> bool {
        !matches!(self.method.as_str(), "GET" | "HEAD" | "OPTIONS")
    }
}

/// The journal of one simulator.
#[derive(Debug, Default)]
pub struct Journal {
    entries: Mutex<Vec<JournalEntry>>,
}

impl Journal {
    /// Adds an entry and gives it the next sequence number.
    pub fn record(&self, mut entry: JournalEntry) {
        let mut entries = lock(&self.entries);
        entry.seq = entries.len() as u64 + 1;
        entries.push(entry);
    }

    /// Every entry so far.
    pub fn entries(&self) -> Vec<JournalEntry> {
        lock(&self.entries).clone()
    }

    /// How many requests were answered so far.
    pub fn len(&self) -> usize {
        lock(&self.entries).len()
    }

    /// Whether no request was answered yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries a predicate keeps.
    pub fn writes_where(&self, keep: impl Fn(&JournalEntry) -> bool) -> Vec<JournalEntry> {
        lock(&self.entries)
            .iter()
            .filter(|e| keep(e))
            .cloned()
            .collect()
    }

    /// Forgets every entry (sequence numbers start again at 1).
    pub fn clear(&self) {
        lock(&self.entries).clear();
    }
}
