//! What the merchant has been told (by `notify`) and not yet told is over, so that a problem is
//! told once, also across restarts, and its recovery is told once too.

use anyhow::Result;
use chrono::{DateTime, Utc};
use redb::{ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::tables::flow_key;
use super::{Read, Write};

/// Told problems: "flow \x1f subject" → [`Told`].
pub(super) const TOLD: TableDefinition<&str, &str> = TableDefinition::new("told");

pub(super) fn create(write: &WriteTransaction) -> Result<()> {
    write.open_table(TOLD)?;
    Ok(())
}

/// What a problem is about: a flow's runs, or one record of a flow.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "subject", rename_all = "snake_case")]
pub enum Subject {
    /// The flow's runs fail.
    Run,
    /// One record: its kind ("order", "customer", "stock") and key.
    Record {
        /// "order", "customer", "product", "stock", "category".
        kind: String,
        /// The record's key.
        key: String,
    },
}

impl Subject {
    /// The subject's part of its key in the table.
    pub fn id(&self) -> String {
        match self {
            Subject::Run => "run".into(),
            Subject::Record { kind, key } => format!("record {kind} {key}"),
        }
    }
}

/// What was wrong when it was told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trouble {
    /// A run stopped with an error.
    RunFailed,
    /// A record failed.
    Failed,
    /// A record waited (parked) longer than `parked_after`.
    Parked,
}

/// A problem the merchant was told of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Told {
    /// The flow.
    pub flow: String,
    /// What it is about.
    #[serde(flatten)]
    pub subject: Subject,
    /// What was wrong.
    pub trouble: Trouble,
    /// Whether the record waited in the pending records when told: it is over once it no longer
    /// waits (sent, or skipped by hand).
    pub waits: bool,
    /// When it was told.
    pub at: DateTime<Utc>,
}

impl Told {
    fn key(&self) -> String {
        flow_key(&self.flow, &self.subject.id())
    }
}

impl Read {
    /// Every problem told and not yet over.
    pub fn told(&self) -> Result<Vec<Told>> {
        let table = self.txn.open_table(TOLD)?;
        table
            .iter()?
            .map(|entry| Ok(serde_json::from_str(entry?.1.value())?))
            .collect()
    }
}

impl Write<'_> {
    /// Records a problem as told.
    pub fn put_told(&self, told: &Told) -> Result<()> {
        self.txn
            .open_table(TOLD)?
            .insert(told.key().as_str(), serde_json::to_string(told)?.as_str())?;
        Ok(())
    }

    /// Forgets a problem once its end was told.
    pub fn delete_told(&self, flow: &str, subject: &Subject) -> Result<()> {
        self.txn
            .open_table(TOLD)?
            .remove(flow_key(flow, &subject.id()).as_str())?;
        Ok(())
    }
}
