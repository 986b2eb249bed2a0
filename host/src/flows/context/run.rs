//! One run of one flow: its record in the state file, the activity of each record, the events it
//! reports, the sessions of its plugins, and what happens when it is stopped.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::report::{Entry, RunReport, summary};
use crate::config::Flow;
use crate::flows::events::{Event, Events};
use crate::integration::Integration;
use crate::mapper::Overrides;
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
    /// Read the whole source, not only what changed since the last run (products).
    pub full: bool,
    /// Stops the run after the record in flight.
    pub cancel: CancellationToken,
    /// Who hears what happens: progress displays, the dashboard, notifications, metrics (see
    /// [`crate::flows::events`]).
    pub events: Events,
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
    /// Read the whole source, not only what changed since the last run.
    pub full: bool,
    /// Field overrides of the flow's mapping.
    pub overrides: Overrides,
    run: Run,
    entries: Vec<Activity>,
    cancel: CancellationToken,
    events: Events,
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
        Ok(RunContext {
            integration,
            state,
            name,
            flow,
            dry_run: options.dry_run,
            full: options.full,
            overrides,
            run,
            entries: Vec::new(),
            cancel: options.cancel.clone(),
            events: options.events.clone(),
        })
    }

    /// Says that the run has begun (a log line and [`Event::RunStarted`]).
    pub fn started(&self) {
        tracing::info!(dry_run = self.dry_run, "run started");
        self.events.emit(Event::RunStarted {
            run: self.run.id,
            flow: self.name.to_string(),
            kind: self.flow.kind,
            source: self.flow.source.clone(),
            target: self.flow.target.clone(),
            dry_run: self.dry_run,
            at: self.run.started_at,
        });
    }

    /// The run's id (0 for a dry run).
    pub fn run_id(&self) -> u64 {
        self.run.id
    }

    /// Whether a shutdown asked the run to stop after the record in flight.
    pub fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Says what the run is doing now, between records ([`Event::Progress`]).
    pub fn progress(&self, doing: impl Into<String>) {
        self.events.emit(Event::Progress {
            run: self.run.id,
            flow: self.name.to_string(),
            doing: doing.into(),
        });
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

    /// Records a record the source could not give: it fails alone, with the source's reason.
    pub fn unreadable(&mut self, kind: &'static str, key: &str, error: &PluginError) -> Result<()> {
        let message = format!(
            "cannot be read from {}: {}",
            self.flow.source,
            CallError::Plugin(error.clone())
        );
        self.record(Entry::new(kind, key, Outcome::Failed, message), |_| Ok(()))
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

    /// Counts an activity in the run and reports it.
    fn tally(&mut self, activity: Activity) {
        *self.run.counts.entry(activity.outcome).or_default() += 1;
        if activity.outcome == Outcome::Failed {
            tracing::warn!(key = %activity.key, "{} failed: {}", activity.kind, activity.message);
        }
        // A run's records stay in the activity log; the report keeps their lines, so that a run
        // of 10,000 records does not hold 10,000 records. A dry run logs nothing: its report is
        // the only place that says what would be sent.
        let line = if self.dry_run {
            activity.clone()
        } else {
            line_of(&activity)
        };
        if !self.events.is_empty() {
            self.events.emit(Event::Record(activity));
        }
        self.entries.push(line);
    }

    /// The keys of the records of `kind` that failed in this run so far.
    pub fn failed_keys(&self, kind: &str) -> Vec<String> {
        let failed = self.entries.iter().filter(|a| a.outcome == Outcome::Failed);
        let keys = failed.filter(|a| a.kind == kind).map(|a| a.key.clone());
        keys.collect::<BTreeSet<_>>().into_iter().collect()
    }

    /// Applies state changes that belong to no single record (a cursor, an intent), unless dry.
    pub fn commit(&self, changes: impl FnOnce(&Write<'_>) -> Result<()>) -> Result<()> {
        if self.dry_run {
            Ok(())
        } else {
            self.state.write(changes)
        }
    }

    /// "12 records: 3 created, 9 unchanged".
    pub fn counts_text(&self) -> String {
        summary(&self.run.counts)
    }

    /// Ends the run: its status, counts and error go to the state file, and
    /// [`Event::RunFinished`] to whoever listens.
    pub fn finish(mut self, result: Result<()>) -> RunReport {
        self.run.finished_at = Some(Utc::now());
        self.run.status = match &result {
            Ok(()) if self.cancelled() => RunStatus::Interrupted,
            Ok(()) => RunStatus::Finished,
            Err(_) => RunStatus::Failed,
        };
        if let Err(e) = &result {
            self.run.error = Some(format!("{e:#}"));
            tracing::error!("run {} failed: {e:#}", self.run.id);
        }
        if !self.dry_run {
            let retention = self.integration.config.host.retention_days;
            let stored = self.state.write(|w| {
                w.put_run(&self.run)?;
                w.prune(Utc::now(), retention)
            });
            if let Err(e) = stored {
                tracing::error!("cannot record the end of run {}: {e:#}", self.run.id);
            }
        }
        tracing::info!(status = ?self.run.status, "{}", self.counts_text());
        self.events.emit(Event::RunFinished(self.run.clone()));
        RunReport {
            run: self.run,
            entries: self.entries,
        }
    }

    /// A session of the connector of `connection`, with its grants and its own storage.
    pub async fn connector(&self, connection: &str) -> Result<Session> {
        let plugin_name = &self.integration.config.connections[connection].plugin;
        let space = self.state.kv(&format!("{plugin_name}@{connection}"));
        // A dry run writes nothing to the state file, not even what a connector stores.
        let kv = if self.dry_run {
            Kv::dry_run(space)
        } else {
            Kv::State(space)
        };
        let grants = self.integration.connection_grants(connection, kv);
        let plugin = &self.integration.plugins[plugin_name];
        plugin
            .session(grants)
            .await
            .with_context(|| format!("cannot start the connector of {connection}"))
    }

    /// What the transforms are told about the run.
    pub fn flow_context(&self) -> FlowContext {
        FlowContext {
            flow: self.name.to_string(),
            kind: self.flow.kind.into(),
            source: self.flow.source.clone(),
            target: self.flow.target.clone(),
            run: self.run.id.to_string(),
            dry_run: self.dry_run,
        }
    }
}

/// An activity without its records (what came, was sent and answered, the fields written),
/// copied field by field: cloning it whole would copy the records only to drop them.
fn line_of(activity: &Activity) -> Activity {
    Activity {
        run: activity.run,
        seq: activity.seq,
        at: activity.at,
        flow: activity.flow.clone(),
        kind: activity.kind.clone(),
        key: activity.key.clone(),
        source: activity.source.clone(),
        target: activity.target.clone(),
        outcome: activity.outcome,
        message: activity.message.clone(),
        fields: Vec::new(),
        came: None,
        sent: None,
        answer: None,
    }
}
