//! What a run says about its records: an [`Entry`] per record while it runs, a [`RunReport`] at
//! the end, and the one-line [`summary`] of its counts.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::state::{Activity, Outcome, Run};

/// What one record's outcome is, before it becomes an [`Activity`].
#[derive(Debug, Clone)]
pub struct Entry {
    /// "order", "customer", "product", "stock", "category".
    pub kind: &'static str,
    /// The record's key.
    pub key: String,
    /// What happened.
    pub outcome: Outcome,
    /// In words.
    pub message: String,
    /// For updates: the fields written.
    pub fields: Vec<String>,
    /// What came from the source.
    pub came: Option<Value>,
    /// What was sent to the target.
    pub sent: Option<Value>,
    /// The target's answer.
    pub answer: Option<String>,
}

impl Entry {
    /// An entry with just an outcome and a message.
    pub fn new(
        kind: &'static str,
        key: impl Into<String>,
        outcome: Outcome,
        message: impl Into<String>,
    ) -> Self {
        Entry {
            kind,
            key: key.into(),
            outcome,
            message: message.into(),
            fields: vec![],
            came: None,
            sent: None,
            answer: None,
        }
    }

    /// What came from the source.
    pub fn came(mut self, value: &impl serde::Serialize) -> Self {
        self.came = serde_json::to_value(value).ok();
        self
    }

    /// What was sent.
    pub fn sent(mut self, value: &impl serde::Serialize) -> Self {
        self.sent = serde_json::to_value(value).ok();
        self
    }

    /// The target's answer.
    pub fn answer(mut self, answer: impl Into<String>) -> Self {
        self.answer = Some(answer.into());
        self
    }

    /// The fields an update writes.
    pub fn fields(mut self, fields: Vec<String>) -> Self {
        self.fields = fields;
        self
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The run (with its counts and status).
    pub run: Run,
    /// Every record's outcome, in order (also the unchanged ones, which the state file only
    /// counts). What came, what was sent, the answer and the fields written are kept here only
    /// for a dry run; a run's are in its activity log (`Read::activity`).
    pub entries: Vec<Activity>,
}

/// "12 records: 3 created, 9 unchanged" from outcome counts.
pub fn summary(counts: &BTreeMap<Outcome, u64>) -> String {
    let total: u64 = counts.values().sum();
    let parts: Vec<String> = Outcome::ALL
        .iter()
        .filter_map(|o| {
            counts
                .get(o)
                .filter(|n| **n > 0)
                .map(|n| format!("{n} {}", o.as_str()))
        })
        .collect();
    if parts.is_empty() {
        "no records".into()
    } else {
        format!("{total} records: {}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_count_outcomes() {
        let counts = BTreeMap::from([(Outcome::Created, 3), (Outcome::Unchanged, 9)]);
        assert_eq!(summary(&counts), "12 records: 3 created, 9 unchanged");
        assert_eq!(summary(&BTreeMap::new()), "no records");
    }
}
