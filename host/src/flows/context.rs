//! One run of one flow: its record in the state file, the activity of each record, the sessions
//! of its plugins, and what happens when it is stopped.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::config::Flow;
use crate::integration::Integration;
use crate::mapper::{Overrides, Transforms};
use crate::privacy::redact;
use crate::runtime::bindings::exports::tillbridge::plugin::transformer::FlowContext;
use crate::runtime::bindings::tillbridge::plugin::types::PluginError;
use crate::runtime::{CallError, Kv, Session};
use crate::state::{Activity, Outcome, Run, RunStatus, State, Write};

/// How to run a flow.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Read everything, write nothing (neither to the systems nor to the state file), and say
    /// per record what would happen.
    pub dry_run: bool,
    /// Stops the run after the record in flight.
    pub cancel: CancellationToken,
    /// Show a progress bar (on a terminal) instead of log lines.
    pub progress: bool,
}

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
    /// counts).
    pub entries: Vec<Activity>,
}

/// A run in progress.
pub struct RunContext<'a> {
    /// The integration.
    pub integration: &'a Integration,
    /// The state file.
    pub state: &'a State,
    /// The flow's name.
    pub name: &'a str,
    /// The flow.
    pub flow: &'a Flow,
    /// Dry run: nothing is written.
    pub dry_run: bool,
    /// Field overrides of the flow's mapping.
    pub overrides: Overrides,
    run: Run,
    entries: Vec<Activity>,
    cancel: CancellationToken,
    bar: Option<ProgressBar>,
}

impl<'a> RunContext<'a> {
    /// Starts a run: records it (unless dry) and prepares its mapping.
    pub fn begin(
        integration: &'a Integration,
        state: &'a State,
        name: &'a str,
        options: &Options,
    ) -> Result<Self> {
        let flow = integration.config.flows.get(name).with_context(|| {
            let names: Vec<&str> = integration
                .config
                .flows
                .keys()
                .map(String::as_str)
                .collect();
            format!(
                "there is no flow {name:?}; the flows are {}",
                names.join(", ")
            )
        })?;
        let overrides =
            Overrides::new(&flow.mapping).with_context(|| format!("flows.{name}.mapping"))?;
        let mut run = Run {
            id: 0,
            flow: name.to_string(),
            dry_run: options.dry_run,
            started_at: Utc::now(),
            finished_at: None,
            status: RunStatus::Running,
            counts: BTreeMap::new(),
            error: None,
            notes: Vec::new(),
        };
        if !options.dry_run {
            run.id = state.write(|w| {
                let id = w.next_run_id()?;
                w.put_run(&Run { id, ..run.clone() })?;
                Ok(id)
            })?;
        }
        let bar = (options.progress && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix}: {msg} [{elapsed}]")
                    .expect("template"),
            );
            bar.set_prefix(name.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Ok(RunContext {
            integration,
            state,
            name,
            flow,
            dry_run: options.dry_run,
            overrides,
            run,
            entries: Vec::new(),
            cancel: options.cancel.clone(),
            bar,
        })
    }

    /// The run's id (0 for a dry run).
    pub fn run_id(&self) -> u64 {
        self.run.id
    }

    /// Whether a shutdown asked the run to stop after the record in flight.
    pub fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Adds a note for the merchant to the run ("images are not synced").
    pub fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        if !self.run.notes.contains(&note) {
            self.run.notes.push(note);
        }
    }

    /// Records one record's outcome together with the state changes that go with it (a link,
    /// a removed intent, a pending record): all in one transaction, or, in a dry run, only in the
    /// report. Unchanged records are counted but not written to the activity log.
    pub fn record(
        &mut self,
        entry: Entry,
        changes: impl FnOnce(&Write<'_>) -> Result<()>,
    ) -> Result<()> {
        self.record_batch(vec![entry], changes)
    }

    /// Records the outcomes of records the target took as one batch, with their state changes,
    /// in one transaction: one commit (a flush to disk) per batch, not per record. Only for
    /// writes that are safe to repeat, since a crash loses the whole batch's record.
    pub fn record_batch(
        &mut self,
        entries: Vec<Entry>,
        changes: impl FnOnce(&Write<'_>) -> Result<()>,
    ) -> Result<()> {
        let activities: Vec<Activity> = entries
            .into_iter()
            .enumerate()
            .map(|(i, e)| self.activity(e, i))
            .collect();
        if !self.dry_run {
            self.state.write(|w| {
                changes(w)?;
                for activity in &activities {
                    if activity.outcome != Outcome::Unchanged {
                        w.put_activity(activity)?;
                    }
                }
                Ok(())
            })?;
        }
        for activity in activities {
            self.tally(activity);
        }
        Ok(())
    }

    /// Counts a record that needs nothing written (unchanged, as its fingerprint shows): no
    /// transaction, no activity log line.
    pub fn unchanged(&mut self, kind: &'static str, key: &str, message: impl Into<String>) {
        let activity = self.activity(Entry::new(kind, key, Outcome::Unchanged, message), 0);
        self.tally(activity);
    }

    /// The activity line of an entry in this run (redacted as the host is configured), `later`
    /// places after the last one tallied.
    fn activity(&self, mut entry: Entry, later: usize) -> Activity {
        if self.redacts() {
            let mut found = Vec::new();
            entry.came = entry.came.map(|v| redact::record(v, &mut found));
            entry.sent = entry.sent.map(|v| redact::record(v, &mut found));
            entry.key = redact::scrub(&entry.key, &found);
            entry.message = redact::scrub(&entry.message, &found);
            entry.answer = entry.answer.map(|a| redact::scrub(&a, &found));
        }
        Activity {
            run: self.run.id,
            seq: u32::try_from(self.entries.len() + 1 + later).unwrap_or(u32::MAX),
            at: Utc::now(),
            flow: self.name.to_string(),
            kind: entry.kind.to_string(),
            key: entry.key,
            source: self.flow.source.clone(),
            target: self.flow.target.clone(),
            outcome: entry.outcome,
            message: entry.message,
            fields: entry.fields,
            came: entry.came,
            sent: entry.sent,
            answer: entry.answer,
        }
    }

    /// Whether personal data is kept out of the activity log (`redact_personal_data`).
    pub fn redacts(&self) -> bool {
        self.integration.config.host.redact_personal_data
    }

    /// How a record keyed by a person (a customer, by e-mail address) is named in the activity
    /// log: by the address, or with redaction on by its pseudonym.
    pub fn person_key(&self, email: &str) -> String {
        if self.redacts() {
            self.state.pseudonym(email)
        } else {
            email.to_string()
        }
    }

    /// A text about `record` to keep (a pending record's reason): with redaction on, without
    /// the record's personal data.
    pub fn about(&self, text: String, record: &impl serde::Serialize) -> String {
        match serde_json::to_value(record) {
            Ok(value) if self.redacts() => {
                let mut found = Vec::new();
                redact::record(value, &mut found);
                redact::scrub(&text, &found)
            }
            _ => text,
        }
    }

    /// Counts an activity in the run and shows progress.
    fn tally(&mut self, activity: Activity) {
        *self.run.counts.entry(activity.outcome).or_default() += 1;
        if activity.outcome == Outcome::Failed {
            tracing::warn!(flow = self.name, key = %activity.key, "{} failed: {}", activity.kind, activity.message);
        }
        self.entries.push(activity);
        self.show_progress();
    }

    /// Applies state changes that belong to no single record (a cursor, an intent), unless dry.
    pub fn commit(&self, changes: impl FnOnce(&Write<'_>) -> Result<()>) -> Result<()> {
        if self.dry_run {
            Ok(())
        } else {
            self.state.write(changes)
        }
    }

    fn show_progress(&self) {
        let counts = self.counts_text();
        match &self.bar {
            Some(bar) => bar.set_message(counts),
            None if self.entries.len().is_multiple_of(500) => {
                tracing::info!(flow = self.name, "{counts}")
            }
            None => {}
        }
    }

    /// "12 records: 3 created, 9 unchanged".
    pub fn counts_text(&self) -> String {
        summary(&self.run.counts)
    }

    /// Ends the run: its status, counts and error go to the state file.
    pub fn finish(mut self, result: Result<()>) -> RunReport {
        self.run.finished_at = Some(Utc::now());
        self.run.status = match &result {
            Ok(()) if self.cancelled() => RunStatus::Interrupted,
            Ok(()) => RunStatus::Finished,
            Err(_) => RunStatus::Failed,
        };
        if let Err(e) = &result {
            self.run.error = Some(format!("{e:#}"));
            tracing::error!(flow = self.name, "run {} failed: {e:#}", self.run.id);
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if !self.dry_run {
            let retention = self.integration.config.host.retention_days;
            let stored = self.state.write(|w| {
                w.put_run(&self.run)?;
                w.prune(Utc::now(), retention)
            });
            if let Err(e) = stored {
                tracing::error!(
                    flow = self.name,
                    "cannot record the end of run {}: {e:#}",
                    self.run.id
                );
            }
        }
        RunReport {
            run: self.run,
            entries: self.entries,
        }
    }

    /// A session of the connector of `connection`, with its grants and its own storage.
    pub async fn connector(&self, connection: &str) -> Result<Session> {
        let plugin_name = &self.integration.config.connections[connection].plugin;
        let kv = Kv::State(self.state.kv(&format!("{plugin_name}@{connection}")));
        let grants = self.integration.connection_grants(connection, kv);
        let plugin = &self.integration.plugins[plugin_name];
        plugin
            .session(grants)
            .await
            .with_context(|| format!("cannot start the connector of {connection}"))
    }

    /// Sessions of the flow's transforms.
    pub async fn transforms(&self) -> Result<Transforms> {
        let mut chain = Vec::new();
        for name in &self.flow.transforms {
            let grants = self.integration.transform_grants(name);
            let session = self.integration.plugins[name]
                .session(grants)
                .await
                .with_context(|| format!("cannot start transform {name}"))?;
            chain.push((name.clone(), session));
        }
        Ok(Transforms::new(chain))
    }

    /// What the transforms are told about the run.
    pub fn flow_context(&self) -> FlowContext {
        FlowContext {
            flow: self.name.to_string(),
            kind: self.flow.kind.to_string(),
            source: self.flow.source.clone(),
            target: self.flow.target.clone(),
            run: self.run.id.to_string(),
            dry_run: self.dry_run,
        }
    }
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

/// Whether a failed call means the run cannot go on (credentials refused, a broken or stopped
/// plugin) rather than one record failing.
pub fn stops_run(error: &CallError) -> bool {
    !matches!(
        error,
        CallError::Plugin(
            PluginError::Invalid(_)
                | PluginError::NotFound(_)
                | PluginError::RateLimited(_)
                | PluginError::Transient(_)
        )
    )
}

/// How long to wait before calling an idempotent operation again after this answer, or `None`
/// to take the answer as it is: rate limits are waited out as asked, other passing failures
/// back off, a bounded number of times.
pub fn retry_wait<T>(answer: &Result<T, CallError>, attempt: u32) -> Option<Duration> {
    const ATTEMPTS: u32 = 5;
    if attempt + 1 >= ATTEMPTS {
        return None;
    }
    match answer {
        Err(CallError::Plugin(PluginError::RateLimited(ms))) => {
            Some(Duration::from_millis((*ms).clamp(100, 60_000)))
        }
        Err(CallError::Plugin(PluginError::Transient(_))) => {
            Some(Duration::from_millis(500 << attempt))
        }
        _ => None,
    }
}

/// Evaluates a call (an `.await`ed session call) again after passing failures, as
/// [`retry_wait`] says. A macro rather than a function taking a closure, so that the flows'
/// futures stay `Send`.
macro_rules! retrying {
    ($call:expr) => {{
        let mut attempt = 0u32;
        loop {
            let answer = $call;
            match $crate::flows::context::retry_wait(&answer, attempt) {
                Some(wait) => {
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                None => break answer,
            }
        }
    }};
}
pub(crate) use retrying;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_count_outcomes() {
        let counts = BTreeMap::from([(Outcome::Created, 3), (Outcome::Unchanged, 9)]);
        assert_eq!(summary(&counts), "12 records: 3 created, 9 unchanged");
        assert_eq!(summary(&BTreeMap::new()), "no records");
    }

    #[test]
    fn passing_failures_are_retried_and_others_are_not() {
        let limited: Result<(), _> = Err(CallError::Plugin(PluginError::RateLimited(1_000)));
        assert_eq!(
            retry_wait(&limited, 0),
            Some(Duration::from_secs(1)),
            "waits as asked"
        );
        let transient: Result<(), _> = Err(CallError::Plugin(PluginError::Transient("503".into())));
        assert_eq!(
            retry_wait(&transient, 2),
            Some(Duration::from_millis(2_000)),
            "backs off"
        );
        assert_eq!(retry_wait(&transient, 4), None, "a bounded number of times");
        let auth: Result<(), _> = Err(CallError::Plugin(PluginError::Auth("no".into())));
        assert_eq!(retry_wait(&auth, 0), None);
        assert_eq!(retry_wait(&Ok::<(), CallError>(()), 0), None);
    }
}
