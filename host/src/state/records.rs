//! What the state file remembers, record by record.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The same record in two systems, and the content both last agreed on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// The record's id in each system, by connection name.
    pub ids: BTreeMap<String, String>,
    /// For a variant: its own id in each system (CCV's attribute combination), while `ids` holds
    /// its parent product's.
    #[serde(default)]
    pub variant_ids: BTreeMap<String, String>,
    /// Fingerprint of the synced content both systems last held; a record read with the same
    /// fingerprint is unchanged (and, in two-way sync, not an echo to send back).
    pub fingerprint: Option<String>,
    /// When it was last synced.
    pub synced_at: DateTime<Utc>,
    /// The flow that synced it last.
    pub flow: String,
}

/// A write recorded before it is sent and removed once its answer is recorded (or once the target
/// was asked and has it or certainly has not). One that is still
/// there after a crash is looked up in the target before anything is sent again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intent {
    /// The flow.
    pub flow: String,
    /// The record's key (an order number).
    pub key: String,
    /// The marker the record is written with in the target, by which it is found again. Intents
    /// recorded before markers were kept have the key for a marker (it was the order number).
    #[serde(default)]
    pub marker: String,
    /// The run that meant to send it.
    pub run: u64,
    /// When.
    pub at: DateTime<Utc>,
}

impl Intent {
    /// The marker to look for.
    pub fn marker(&self) -> &str {
        if self.marker.is_empty() {
            &self.key
        } else {
            &self.marker
        }
    }
}

/// Why a record waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PendingState {
    /// Waiting for a dependency (a product the target lacks); retried automatically.
    Parked,
    /// Failed; retried when asked (`tillbridge retry`), or skipped (`tillbridge skip`).
    Failed,
    /// Asked to be retried on the next run.
    Retry,
}

/// A record that could not be synced yet, with what is needed to find it again later (the cursor
/// has moved past it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// The flow.
    pub flow: String,
    /// The record's key.
    pub key: String,
    /// Why it waits.
    pub state: PendingState,
    /// In words.
    pub reason: String,
    /// What it waits for (SKUs), when parked.
    pub missing: Vec<String>,
    /// What reading the record again from the source needs, no more (for an order, its number
    /// and id: a customer's data is not kept while the order waits).
    pub record: serde_json::Value,
    /// When it first could not be synced.
    pub since: DateTime<Utc>,
    /// How many runs tried it.
    pub attempts: u32,
    /// Not tried automatically before this time (backoff after a passing failure); the latest
    /// time once it gave up retrying automatically. Retrying by hand clears it.
    #[serde(default)]
    pub not_before: Option<DateTime<Utc>>,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Still going (or the process died during it).
    Running,
    /// Finished; some records may have failed alone.
    Finished,
    /// Stopped by an error that made going on pointless (credentials, a crashed plugin).
    Failed,
    /// Stopped by a shutdown, after the record in flight.
    Interrupted,
}

/// What happened to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Made in the target.
    Created,
    /// Changed in the target.
    Updated,
    /// Already as it should be: nothing written.
    Unchanged,
    /// Left out on purpose (already sent, filtered, dropped by a transform).
    Skipped,
    /// Waiting for a dependency.
    Parked,
    /// Failed, with the reason.
    Failed,
}

impl Outcome {
    /// Every outcome, in the order summaries show them.
    pub const ALL: [Outcome; 6] = [
        Outcome::Created,
        Outcome::Updated,
        Outcome::Unchanged,
        Outcome::Skipped,
        Outcome::Parked,
        Outcome::Failed,
    ];

    /// The word used in summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Skipped => "skipped",
            Outcome::Parked => "parked",
            Outcome::Failed => "failed",
        }
    }
}

/// One run of one flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Its number, from 1.
    pub id: u64,
    /// The flow.
    pub flow: String,
    /// Whether it was a dry run (nothing written).
    pub dry_run: bool,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// How it ended.
    pub status: RunStatus,
    /// Records per outcome.
    pub counts: BTreeMap<Outcome, u64>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// Notes for the merchant (e.g. "images are not synced").
    #[serde(default)]
    pub notes: Vec<String>,
}

/// What happened to one record in one run: what came from where, what was sent where, and the
/// answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// The run.
    pub run: u64,
    /// Position in the run, from 1.
    pub seq: u32,
    /// When.
    pub at: DateTime<Utc>,
    /// The flow.
    pub flow: String,
    /// "order", "customer", "product", "stock", "category".
    pub kind: String,
    /// The record's key: order number, SKU, e-mail, category id.
    pub key: String,
    /// The source connection.
    pub source: String,
    /// The target connection.
    pub target: String,
    /// What happened.
    pub outcome: Outcome,
    /// In words: "booked as order 5001", "waits for SKU TB-POSTER-01", the error.
    pub message: String,
    /// For updates: the fields written.
    #[serde(default)]
    pub fields: Vec<String>,
    /// What came from the source (canonical JSON; redacted when configured).
    pub came: Option<serde_json::Value>,
    /// What was sent to the target.
    pub sent: Option<serde_json::Value>,
    /// The target's answer: its id for the record, or its error.
    pub answer: Option<String>,
}
