//! Which problems are new, which are over, and when to tell them: the notifier's memory.
//!
//! A problem is a flow's run that failed, a record that failed, or a record parked longer than
//! `parked_after`. It is told once: what was told is kept in the state file ([`Told`]), so a
//! record failing on every run, or a restart, tells nothing new. It is over when the flow runs
//! again, or the record is sent, skipped, or no longer waits; that is told once too, and
//! forgotten.
//!
//! What is found is gathered into a batch that goes out `digest_window` after its first notice,
//! but not while a run that added to it is still going: a run that fails 30 records makes one
//! digest, not 30 messages. A batch no channel took is kept and offered again later, after a
//! pause that grows.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Result;
use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::time::Instant;

use super::fix::{self, Place, Waits};
use super::message::{Message, Notice, Privacy, Status};
use crate::config::{Config, FlowKind};
use crate::flows::{Event, summary};
use crate::state::{
    Activity, Outcome, Pending, PendingState, Run, RunStatus, State, Subject, Told, Trouble,
};

/// A problem's identity: its flow and subject.
type Id = (String, Subject);

/// The first pause before a batch no channel took is offered again; it doubles up to
/// [`LONGEST_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_secs(60);
const LONGEST_PAUSE: Duration = Duration::from_secs(3600);

/// A problem waiting to be told.
#[derive(Debug, Clone)]
struct Queued {
    notice: Notice,
    waits: bool,
}

/// What is gathered for the next messages.
#[derive(Debug, Default)]
struct Batch {
    problems: BTreeMap<Id, Queued>,
    resolved: BTreeMap<Id, Notice>,
    /// The runs that added to it: it waits for them to end.
    runs: BTreeSet<u64>,
    /// When it may go.
    due: Option<Instant>,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.problems.is_empty() && self.resolved.is_empty()
    }
}

/// What goes out now: at most one message of problems and one of recoveries.
#[derive(Debug, Default)]
pub struct Outgoing {
    problems: Vec<(Id, Queued)>,
    resolved: Vec<(Id, Notice)>,
}

impl Outgoing {
    /// The problems' message, if any.
    pub fn problems(&self, dashboard: Option<&str>) -> Option<Message> {
        let notices: Vec<Notice> = self
            .problems
            .iter()
            .map(|(_, q)| q.notice.clone())
            .collect();
        (!notices.is_empty()).then(|| Message::new(Status::Problem, notices, dashboard))
    }

    /// The recoveries' message, if any.
    pub fn resolved(&self, dashboard: Option<&str>) -> Option<Message> {
        let notices: Vec<Notice> = self.resolved.iter().map(|(_, n)| n.clone()).collect();
        (!notices.is_empty()).then(|| Message::new(Status::Resolved, notices, dashboard))
    }
}

/// The notifier's memory of what it told and what it has gathered.
pub struct Tracker {
    config: Arc<Config>,
    state: State,
    privacy: Privacy,
    dashboard: Arc<OnceLock<String>>,
    window: Duration,
    parked_after: chrono::Duration,
    told: BTreeMap<Id, Told>,
    running: BTreeSet<u64>,
    batch: Batch,
    pause: Duration,
}

/// The kind of record a flow's pending records are.
fn record_kind(kind: FlowKind) -> &'static str {
    match kind {
        FlowKind::Orders => "order",
        FlowKind::Stock => "stock",
        FlowKind::Products => "product",
        FlowKind::Categories => "category",
    }
}

impl Tracker {
    /// The memory of `state`, for `config`; `dashboard` gets the dashboard's address once it is
    /// served (`dashboard_url` of `[notify]` comes first).
    pub fn new(
        config: Arc<Config>,
        state: State,
        dashboard: Arc<OnceLock<String>>,
    ) -> Result<Tracker> {
        let told = state
            .read()?
            .told()?
            .into_iter()
            .map(|t| ((t.flow.clone(), t.subject.clone()), t))
            .collect();
        let notify = &config.notify;
        Ok(Tracker {
            privacy: Privacy::new(&config),
            window: notify.digest_window(),
            parked_after: chrono::Duration::from_std(notify.parked_after())
                .unwrap_or(chrono::Duration::MAX),
            state,
            dashboard,
            told,
            running: BTreeSet::new(),
            batch: Batch::default(),
            pause: FIRST_PAUSE,
            config,
        })
    }

    /// The dashboard's address (ending in `/`), when it is on.
    pub fn dashboard(&self) -> Option<String> {
        let base = self
            .config
            .notify
            .dashboard_url
            .as_ref()
            .or(self.dashboard.get())?;
        Some(if base.ends_with('/') {
            base.clone()
        } else {
            format!("{base}/")
        })
    }

    fn link(&self, path: &str) -> Option<String> {
        self.dashboard().map(|base| format!("{base}{path}"))
    }

    /// Takes in one event of a run.
    pub fn event(&mut self, event: &Event, now: Instant) -> Result<()> {
        match event {
            Event::RunStarted {
                run,
                dry_run: false,
                ..
            } => {
                self.running.insert(*run);
            }
            Event::Record(activity) if activity.run != 0 => self.record(activity, now)?,
            Event::RunFinished(run) if !run.dry_run => {
                self.running.remove(&run.id);
                self.run_finished(run, now);
            }
            _ => {}
        }
        Ok(())
    }

    fn record(&mut self, activity: &Activity, now: Instant) -> Result<()> {
        let id = (
            activity.flow.clone(),
            Subject::Record {
                kind: activity.kind.clone(),
                key: activity.key.clone(),
            },
        );
        match activity.outcome {
            Outcome::Failed => {
                self.batch.resolved.remove(&id);
                if self
                    .told
                    .get(&id)
                    .is_some_and(|t| t.trouble == Trouble::Failed)
                {
                    return Ok(());
                }
                let pending = self
                    .state
                    .read()?
                    .pending_one(&activity.flow, &activity.key)?;
                let notice = self.failed_notice(activity, pending.as_ref());
                let waits = pending.is_some();
                self.queue_problem(id, notice, waits, Some(activity.run), now);
            }
            // Told by the periodic look once it has waited `parked_after`.
            Outcome::Parked => {}
            Outcome::Created | Outcome::Updated | Outcome::Unchanged | Outcome::Skipped => {
                // Over before it was told: nothing to tell.
                self.batch.problems.remove(&id);
                if let Some(told) = self.told.get(&id) {
                    let record = activity.came.as_ref();
                    let notice = Notice {
                        status: Status::Resolved,
                        trouble: told.trouble,
                        error: self.privacy.text(&activity.message, record),
                        fix: None,
                        link: self.link(&format!("runs/{}", activity.run)),
                        run: Some(activity.run),
                        ..self.record_notice(activity, record)
                    };
                    self.queue_resolved(id, notice, now);
                }
            }
        }
        Ok(())
    }

    /// A notice about `activity`'s record, to fill in.
    fn record_notice(&self, activity: &Activity, record: Option<&Value>) -> Notice {
        Notice {
            status: Status::Problem,
            trouble: Trouble::Failed,
            flow: activity.flow.clone(),
            source: activity.source.clone(),
            target: activity.target.clone(),
            kind: Some(activity.kind.clone()),
            record: Some(self.privacy.text(&activity.key, record)),
            system: fix::system(&activity.message, &activity.target, &self.config),
            error: String::new(),
            fix: None,
            link: None,
            run: None,
            at: activity.at,
        }
    }

    fn failed_notice(&self, activity: &Activity, pending: Option<&Pending>) -> Notice {
        let record = pending.map(|p| &p.record).or(activity.came.as_ref());
        let waits = match pending.map(|p| p.state) {
            None => Waits::No,
            Some(PendingState::Retry) => Waits::NextRun,
            Some(_) => Waits::UntilRetried,
        };
        let notice = self.record_notice(activity, record);
        let place = Place {
            flow: &activity.flow,
            source: &activity.source,
            kind: &activity.kind,
            key: notice.record.as_deref().unwrap_or_default(),
        };
        let fix = fix::for_record(
            &activity.message,
            &notice.system,
            &place,
            waits,
            &self.config,
        );
        let link = self.link(&if pending.is_some() {
            "waiting".to_string()
        } else {
            format!("runs/{}", activity.run)
        });
        Notice {
            error: self.privacy.text(&activity.message, record),
            fix: Some(self.privacy.text(&fix, record)),
            link,
            run: Some(activity.run),
            ..notice
        }
    }

    fn run_finished(&mut self, run: &Run, now: Instant) {
        let id = (run.flow.clone(), Subject::Run);
        let Some(flow) = self.config.flows.get(&run.flow) else {
            return;
        };
        let notice = Notice {
            status: Status::Problem,
            trouble: Trouble::RunFailed,
            flow: run.flow.clone(),
            source: flow.source.clone(),
            target: flow.target.clone(),
            kind: None,
            record: None,
            system: flow.target.clone(),
            error: String::new(),
            fix: None,
            link: self.link(&format!("runs/{}", run.id)),
            run: Some(run.id),
            at: run.finished_at.unwrap_or_else(Utc::now),
        };
        match run.status {
            RunStatus::Failed => {
                self.batch.resolved.remove(&id);
                if self.told.contains_key(&id) {
                    return;
                }
                let error = run.error.clone().unwrap_or_default();
                let system = fix::system(&error, &flow.target, &self.config);
                let notice = Notice {
                    error: self.privacy.text(&error, None),
                    fix: Some(fix::for_run(&error, &system, run.id, &self.config)),
                    system,
                    ..notice
                };
                self.queue_problem(id, notice, false, Some(run.id), now);
            }
            RunStatus::Finished => {
                self.batch.problems.remove(&id);
                if self.told.contains_key(&id) {
                    let notice = Notice {
                        status: Status::Resolved,
                        error: format!("run {} finished: {}", run.id, summary(&run.counts)),
                        ..notice
                    };
                    self.queue_resolved(id, notice, now);
                }
            }
            RunStatus::Running | RunStatus::Interrupted => {}
        }
    }

    /// Looks at the records that wait: parked ones waiting longer than `parked_after` and failed
    /// ones not yet told are problems; told ones that no longer wait are over.
    pub fn look(&mut self, now: DateTime<Utc>, instant: Instant) -> Result<()> {
        let pending = self.state.read()?.all_pending()?;
        let mut waiting = BTreeSet::new();
        for p in pending {
            let Some(flow) = self.config.flows.get(&p.flow) else {
                continue;
            };
            let subject = Subject::Record {
                kind: record_kind(flow.kind).to_string(),
                key: p.key.clone(),
            };
            let id = (p.flow.clone(), subject);
            waiting.insert(id.clone());
            if self.told.contains_key(&id) || self.batch.problems.contains_key(&id) {
                continue;
            }
            let overdue = now.signed_duration_since(p.since) >= self.parked_after;
            let notice = match p.state {
                PendingState::Parked if overdue => {
                    self.parked_notice(&p, &flow.source, &flow.target)
                }
                PendingState::Failed => self.waiting_notice(&p, &flow.source, &flow.target),
                _ => continue,
            };
            self.queue_problem(id, notice, true, None, instant);
        }
        let over: Vec<(Id, Told)> = self
            .told
            .iter()
            .filter(|(id, told)| {
                told.waits && !waiting.contains(*id) && !self.batch.resolved.contains_key(*id)
            })
            .map(|(id, told)| (id.clone(), told.clone()))
            .collect();
        for (id, told) in over {
            let Some(flow) = self.config.flows.get(&told.flow) else {
                continue;
            };
            let (kind, key) = match &told.subject {
                Subject::Record { kind, key } => (kind.clone(), key.clone()),
                Subject::Run => continue,
            };
            let notice = Notice {
                status: Status::Resolved,
                trouble: told.trouble,
                flow: told.flow.clone(),
                source: flow.source.clone(),
                target: flow.target.clone(),
                kind: Some(kind),
                record: Some(self.privacy.text(&key, None)),
                system: flow.target.clone(),
                error: "it no longer waits: it was sent, or skipped by hand".into(),
                fix: None,
                link: self.link(""),
                run: None,
                at: now,
            };
            self.queue_resolved(id, notice, instant);
        }
        Ok(())
    }

    /// A notice about a record that waits.
    fn pending_notice(&self, p: &Pending, source: &str, target: &str) -> Notice {
        Notice {
            status: Status::Problem,
            trouble: Trouble::Failed,
            flow: p.flow.clone(),
            source: source.to_string(),
            target: target.to_string(),
            kind: self
                .config
                .flows
                .get(&p.flow)
                .map(|f| record_kind(f.kind).to_string()),
            record: Some(self.privacy.text(&p.key, Some(&p.record))),
            system: fix::system(&p.reason, target, &self.config),
            error: self.privacy.text(&p.reason, Some(&p.record)),
            fix: None,
            link: self.link("waiting"),
            run: None,
            at: p.since,
        }
    }

    fn parked_notice(&self, p: &Pending, source: &str, target: &str) -> Notice {
        let notice = self.pending_notice(p, source, target);
        Notice {
            trouble: Trouble::Parked,
            system: target.to_string(),
            fix: Some(fix::for_parked(&p.missing, target)),
            ..notice
        }
    }

    fn waiting_notice(&self, p: &Pending, source: &str, target: &str) -> Notice {
        let notice = self.pending_notice(p, source, target);
        let place = Place {
            flow: &p.flow,
            source,
            kind: notice.kind.as_deref().unwrap_or("record"),
            key: notice.record.as_deref().unwrap_or_default(),
        };
        let fix = fix::for_record(
            &p.reason,
            &notice.system,
            &place,
            Waits::UntilRetried,
            &self.config,
        );
        Notice {
            fix: Some(self.privacy.text(&fix, Some(&p.record))),
            ..notice
        }
    }

    fn queue_problem(
        &mut self,
        id: Id,
        notice: Notice,
        waits: bool,
        run: Option<u64>,
        now: Instant,
    ) {
        self.batch.problems.insert(id, Queued { notice, waits });
        self.gathered(run, now);
    }

    fn queue_resolved(&mut self, id: Id, notice: Notice, now: Instant) {
        let run = notice.run;
        self.batch.resolved.insert(id, notice);
        self.gathered(run, now);
    }

    fn gathered(&mut self, run: Option<u64>, now: Instant) {
        if let Some(run) = run {
            self.batch.runs.insert(run);
        }
        if self.batch.due.is_none() {
            self.batch.due = Some(now + self.window);
        }
    }

    /// When the batch may go: its time has come and no run that added to it is still going.
    pub fn due(&self) -> Option<Instant> {
        if self.batch.is_empty() || self.batch.runs.iter().any(|r| self.running.contains(r)) {
            return None;
        }
        self.batch.due
    }

    /// Everything gathered, to be sent now.
    pub fn take(&mut self) -> Outgoing {
        let batch = std::mem::take(&mut self.batch);
        Outgoing {
            problems: batch.problems.into_iter().collect(),
            resolved: batch.resolved.into_iter().collect(),
        }
    }

    /// Records what the channels took (`problems_sent`, `resolved_sent`); what none took is
    /// gathered again, to be offered after a pause.
    pub fn sent(
        &mut self,
        outgoing: Outgoing,
        problems_sent: bool,
        resolved_sent: bool,
        now: Instant,
    ) -> Result<()> {
        let Outgoing { problems, resolved } = outgoing;
        let mut kept = false;
        if problems_sent {
            let told: Vec<Told> = problems
                .iter()
                .map(|((flow, subject), q)| Told {
                    flow: flow.clone(),
                    subject: subject.clone(),
                    trouble: q.notice.trouble,
                    waits: q.waits,
                    at: Utc::now(),
                })
                .collect();
            self.state
                .write(|w| told.iter().try_for_each(|t| w.put_told(t)))?;
            for t in told {
                self.told.insert((t.flow.clone(), t.subject.clone()), t);
            }
        } else if !problems.is_empty() {
            kept = true;
            for (id, queued) in problems {
                self.batch.problems.entry(id).or_insert(queued);
            }
        }
        if resolved_sent {
            self.state.write(|w| {
                resolved
                    .iter()
                    .try_for_each(|((flow, subject), _)| w.delete_told(flow, subject))
            })?;
            for (id, _) in resolved {
                self.told.remove(&id);
            }
        } else if !resolved.is_empty() {
            kept = true;
            for (id, notice) in resolved {
                self.batch.resolved.entry(id).or_insert(notice);
            }
        }
        if kept {
            self.batch.due = Some(now + self.pause);
            tracing::warn!(
                "no notification channel took the message; it is offered again in {} s",
                self.pause.as_secs()
            );
            self.pause = (self.pause * 2).min(LONGEST_PAUSE);
        } else {
            self.pause = FIRST_PAUSE;
        }
        Ok(())
    }
}
