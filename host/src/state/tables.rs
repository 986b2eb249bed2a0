//! The tables of the state file and the typed access to them. Values are JSON, so that the file
//! can be read with any redb tool and new fields can be added with a default.

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, Utc};
use redb::{ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::records::{Activity, Intent, Link, Pending, Run, RunStatus};

/// Links: "kind \x1f pair \x1f key" → [`Link`].
pub(super) const LINKS: TableDefinition<&str, &str> = TableDefinition::new("links");
/// Cursors: flow → cursor text, committed only after the target has the records.
pub(super) const CURSORS: TableDefinition<&str, &str> = TableDefinition::new("cursors");
/// Intents: "flow \x1f key" → [`Intent`].
pub(super) const INTENTS: TableDefinition<&str, &str> = TableDefinition::new("intents");
/// Pending records: "flow \x1f key" → [`Pending`].
pub(super) const PENDING: TableDefinition<&str, &str> = TableDefinition::new("pending");
/// Runs: id → [`Run`].
pub(super) const RUNS: TableDefinition<u64, &str> = TableDefinition::new("runs");
/// Activity: (run, seq) → [`Activity`].
pub(super) const ACTIVITY: TableDefinition<(u64, u32), &str> = TableDefinition::new("activity");

const SEP: char = '\u{1f}';

/// The key of a link: the kind of record, the two connections (in sorted order, so both
/// directions of a two-way sync share it), and the record's key.
pub fn link_key(kind: &str, a: &str, b: &str, key: &str) -> String {
    let (first, second) = if a <= b { (a, b) } else { (b, a) };
    format!("{kind}{SEP}{first}+{second}{SEP}{key}")
}

/// The key of a flow's record (intents, pending).
pub fn flow_key(flow: &str, key: &str) -> String {
    format!("{flow}{SEP}{key}")
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    Ok(serde_json::to_string(value)?)
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text)
        .with_context(|| format!("unreadable record in the state file: {text}"))
}

/// The record under `key` in a table of JSON values.
fn get_json<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static str>,
    key: &str,
) -> Result<Option<T>> {
    table.get(key)?.map(|v| from_json(v.value())).transpose()
}

pub(super) fn create(write: &WriteTransaction) -> Result<()> {
    write.open_table(LINKS)?;
    write.open_table(CURSORS)?;
    write.open_table(INTENTS)?;
    write.open_table(PENDING)?;
    write.open_table(RUNS)?;
    write.open_table(ACTIVITY)?;
    Ok(())
}

/// Takes out what version 2 kept about people: customer links keyed by e-mail address (a
/// customer is found again by e-mail in the target, and linked under its pseudonym) and the whole
/// orders pending records held (they are read again from the source by number).
pub(super) fn forget_personal_data(write: &WriteTransaction) -> Result<()> {
    let customer = format!("customer{SEP}");
    let mut links = write.open_table(LINKS)?;
    for removed in links.extract_if(|key, _| key.starts_with(&customer) && key.contains('@'))? {
        removed?;
    }
    let mut pending = write.open_table(PENDING)?;
    let mut kept = Vec::new();
    for entry in pending.iter()? {
        let (key, value) = entry?;
        let mut record: Pending = from_json(value.value())?;
        record.record = serde_json::json!({
            "number": record.key,
            "id": record.record.get("id").cloned().unwrap_or_default(),
        });
        kept.push((key.value().to_string(), to_json(&record)?));
    }
    for (key, value) in kept {
        pending.insert(key.as_str(), value.as_str())?;
    }
    Ok(())
}

/// The runs marked running.
fn running(runs: &impl ReadableTable<u64, &'static str>) -> Result<Vec<Run>> {
    let mut found = Vec::new();
    for entry in runs.iter()? {
        let (_, value) = entry?;
        // Most runs ended: the text tells without reading the record.
        if value.value().contains("\"status\":\"running\"") {
            let run: Run = from_json(value.value())?;
            if run.status == RunStatus::Running {
                found.push(run);
            }
        }
    }
    Ok(found)
}

/// Reads, in one consistent snapshot.
pub struct Read {
    pub(super) txn: ReadTransaction,
}

impl Read {
    /// A link.
    pub fn link(&self, key: &str) -> Result<Option<Link>> {
        let table = self.txn.open_table(LINKS)?;
        table.get(key)?.map(|v| from_json(v.value())).transpose()
    }

    /// Whether a run is marked running.
    pub fn any_running(&self) -> Result<bool> {
        Ok(!running(&self.txn.open_table(RUNS)?)?.is_empty())
    }

    /// A flow's committed cursor.
    pub fn cursor(&self, flow: &str) -> Result<Option<String>> {
        let table = self.txn.open_table(CURSORS)?;
        Ok(table.get(flow)?.map(|v| v.value().to_string()))
    }

    /// A flow's open intents (writes sent, or about to be, whose answer was never recorded).
    pub fn intents(&self, flow: &str) -> Result<Vec<Intent>> {
        self.prefixed(INTENTS, flow)
    }

    /// A flow's pending records.
    pub fn pending(&self, flow: &str) -> Result<Vec<Pending>> {
        self.prefixed(PENDING, flow)
    }

    /// One pending record.
    pub fn pending_one(&self, flow: &str, key: &str) -> Result<Option<Pending>> {
        get_json(&self.txn.open_table(PENDING)?, &flow_key(flow, key))
    }

    /// Every pending record of every flow.
    pub fn all_pending(&self) -> Result<Vec<Pending>> {
        let table = self.txn.open_table(PENDING)?;
        table
            .iter()?
            .map(|entry| from_json(entry?.1.value()))
            .collect()
    }

    fn prefixed<T: DeserializeOwned>(
        &self,
        def: TableDefinition<&str, &str>,
        flow: &str,
    ) -> Result<Vec<T>> {
        let table = self.txn.open_table(def)?;
        let start = format!("{flow}{SEP}");
        let mut out = Vec::new();
        for entry in table.range(start.as_str()..)? {
            let (key, value) = entry?;
            if !key.value().starts_with(&start) {
                break;
            }
            out.push(from_json(value.value())?);
        }
        Ok(out)
    }

    /// A run.
    pub fn run(&self, id: u64) -> Result<Option<Run>> {
        let table = self.txn.open_table(RUNS)?;
        table.get(id)?.map(|v| from_json(v.value())).transpose()
    }

    /// The last `limit` runs, newest first.
    pub fn recent_runs(&self, limit: usize) -> Result<Vec<Run>> {
        let table = self.txn.open_table(RUNS)?;
        table
            .iter()?
            .rev()
            .take(limit)
            .map(|entry| from_json(entry?.1.value()))
            .collect()
    }

    /// The activity of one run, in order.
    pub fn activity(&self, run: u64) -> Result<Vec<Activity>> {
        let table = self.txn.open_table(ACTIVITY)?;
        table
            .range((run, 0)..=(run, u32::MAX))?
            .map(|entry| from_json(entry?.1.value()))
            .collect()
    }

    /// Activity whose key, message or records contain `text` (case-insensitive), newest first.
    pub fn search_activity(&self, text: &str, limit: usize) -> Result<Vec<Activity>> {
        self.search_activity_any(&[text], limit)
    }

    /// Activity that contains any of `texts` (case-insensitive), newest first.
    pub fn search_activity_any(&self, texts: &[&str], limit: usize) -> Result<Vec<Activity>> {
        let needles: Vec<String> = texts.iter().map(|t| t.to_lowercase()).collect();
        let table = self.txn.open_table(ACTIVITY)?;
        let mut found = Vec::new();
        for entry in table.iter()?.rev() {
            let (_, value) = entry?;
            let value_lower = value.value().to_lowercase();
            if needles.iter().any(|n| value_lower.contains(n.as_str())) {
                found.push(from_json(value.value())?);
                if found.len() == limit {
                    break;
                }
            }
        }
        Ok(found)
    }
}

/// Writes, all or nothing: a record's outcome, its link, its activity and the removal of its
/// intent land together or not at all.
pub struct Write<'a> {
    pub(super) txn: &'a WriteTransaction,
}

impl Write<'_> {
    /// A link, as this transaction sees it.
    pub fn link(&self, key: &str) -> Result<Option<Link>> {
        let table = self.txn.open_table(LINKS)?;
        table.get(key)?.map(|v| from_json(v.value())).transpose()
    }

    /// Sets a link.
    pub fn put_link(&self, key: &str, link: &Link) -> Result<()> {
        self.txn
            .open_table(LINKS)?
            .insert(key, to_json(link)?.as_str())?;
        Ok(())
    }

    /// Commits a flow's cursor.
    pub fn put_cursor(&self, flow: &str, cursor: &str) -> Result<()> {
        self.txn.open_table(CURSORS)?.insert(flow, cursor)?;
        Ok(())
    }

    /// Forgets a flow's cursor (the next run starts from the start date again).
    pub fn delete_cursor(&self, flow: &str) -> Result<()> {
        self.txn.open_table(CURSORS)?.remove(flow)?;
        Ok(())
    }

    /// Records an intent to write.
    pub fn put_intent(&self, intent: &Intent) -> Result<()> {
        self.txn.open_table(INTENTS)?.insert(
            flow_key(&intent.flow, &intent.key).as_str(),
            to_json(intent)?.as_str(),
        )?;
        Ok(())
    }

    /// Removes an intent once its answer is recorded.
    pub fn delete_intent(&self, flow: &str, key: &str) -> Result<()> {
        self.txn
            .open_table(INTENTS)?
            .remove(flow_key(flow, key).as_str())?;
        Ok(())
    }

    /// One pending record, as this transaction sees it.
    pub fn pending_one(&self, flow: &str, key: &str) -> Result<Option<Pending>> {
        get_json(&self.txn.open_table(PENDING)?, &flow_key(flow, key))
    }

    /// Records (or replaces) a pending record.
    pub fn put_pending(&self, pending: &Pending) -> Result<()> {
        self.txn.open_table(PENDING)?.insert(
            flow_key(&pending.flow, &pending.key).as_str(),
            to_json(pending)?.as_str(),
        )?;
        Ok(())
    }

    /// Removes a pending record.
    pub fn delete_pending(&self, flow: &str, key: &str) -> Result<()> {
        self.txn
            .open_table(PENDING)?
            .remove(flow_key(flow, key).as_str())?;
        Ok(())
    }

    /// Records a run (new or updated).
    pub fn put_run(&self, run: &Run) -> Result<()> {
        self.txn
            .open_table(RUNS)?
            .insert(run.id, to_json(run)?.as_str())?;
        Ok(())
    }

    /// Marks runs still "running" as interrupted, with `reason`, ended at their last recorded
    /// record (or their start). Only for when no process runs them: see
    /// [`State::open`](super::State::open). Returns their ids.
    pub fn interrupt_running(&self, reason: &str) -> Result<Vec<u64>> {
        let mut runs = self.txn.open_table(RUNS)?;
        let abandoned = running(&runs)?;
        let activity = self.txn.open_table(ACTIVITY)?;
        let mut ids = Vec::with_capacity(abandoned.len());
        for mut run in abandoned {
            let last = activity
                .range((run.id, 0)..=(run.id, u32::MAX))?
                .next_back()
                .transpose()?
                .map(|(_, value)| from_json::<Activity>(value.value()))
                .transpose()?;
            run.status = RunStatus::Interrupted;
            run.finished_at = Some(last.map_or(run.started_at, |a| a.at));
            run.error = Some(reason.to_string());
            runs.insert(run.id, to_json(&run)?.as_str())?;
            ids.push(run.id);
        }
        Ok(ids)
    }

    /// The id the next run gets.
    pub fn next_run_id(&self) -> Result<u64> {
        let table = self.txn.open_table(RUNS)?;
        Ok(table.last()?.map_or(1, |(id, _)| id.value() + 1))
    }

    /// Records what happened to one record.
    pub fn put_activity(&self, activity: &Activity) -> Result<()> {
        self.txn
            .open_table(ACTIVITY)?
            .insert((activity.run, activity.seq), to_json(activity)?.as_str())?;
        Ok(())
    }

    /// Deletes runs and activity that ended before `now - days`; returns how many activity rows
    /// went.
    pub fn prune(&self, now: DateTime<Utc>, days: u32) -> Result<usize> {
        let cutoff = now - Duration::days(i64::from(days));
        let mut runs = self.txn.open_table(RUNS)?;
        let mut old = Vec::new();
        for entry in runs.iter()? {
            let (id, value) = entry?;
            let run: Run = from_json(value.value())?;
            if run.finished_at.is_some_and(|t| t < cutoff) {
                old.push(id.value());
            }
        }
        let mut activity = self.txn.open_table(ACTIVITY)?;
        let mut removed = 0;
        for id in &old {
            runs.remove(*id)?;
            removed += activity
                .extract_from_if((*id, 0)..=(*id, u32::MAX), |_, _| true)?
                .count();
        }
        Ok(removed)
    }
}
