//! What the templates are given: runs, records and waiting records as a page shows them (times
//! in UTC, personal data masked as configured).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::mask::Mask;
use crate::config::Flow;
use crate::flows::summary;
use crate::state::{Activity, Outcome, Pending, PendingState, Run, RunStatus};

/// A moment as pages show it.
pub fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// "in 3 min", "2 h ago".
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (at - now).num_seconds();
    if seconds.abs() < 5 {
        return "just now".into();
    }
    let amount = |s: i64| match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86_400),
    };
    if seconds >= 0 {
        format!("in {}", amount(seconds))
    } else {
        format!("{} ago", amount(-seconds))
    }
}

#[derive(Debug, Serialize)]
pub struct RunView {
    pub id: u64,
    pub flow: String,
    pub started: String,
    pub ago: String,
    pub took: String,
    pub status: &'static str,
    pub summary: String,
    /// (outcome, count) for each outcome the run had.
    pub counts: Vec<(&'static str, u64)>,
    pub failed: u64,
    pub error: Option<String>,
    pub notes: Vec<String>,
}

impl RunView {
    pub fn new(run: &Run, mask: &Mask, now: DateTime<Utc>) -> Self {
        let took = match run.finished_at {
            Some(end) => format!(
                "{:.1} s",
                (end - run.started_at).num_milliseconds() as f64 / 1000.0
            ),
            None => "…".into(),
        };
        RunView {
            id: run.id,
            flow: run.flow.clone(),
            started: time(run.started_at),
            ago: relative(run.started_at, now),
            took,
            status: match run.status {
                RunStatus::Running => "running",
                RunStatus::Finished => "finished",
                RunStatus::Failed => "failed",
                RunStatus::Interrupted => "interrupted",
            },
            summary: summary(&run.counts),
            counts: Outcome::ALL
                .iter()
                .filter_map(|o| {
                    run.counts
                        .get(o)
                        .filter(|n| **n > 0)
                        .map(|n| (o.as_str(), *n))
                })
                .collect(),
            failed: run.counts.get(&Outcome::Failed).copied().unwrap_or(0),
            error: run.error.as_deref().map(|e| mask.text(e)),
            notes: run.notes.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ActivityView {
    pub run: u64,
    pub seq: u32,
    pub at: String,
    pub flow: String,
    pub kind: String,
    pub key: String,
    pub outcome: &'static str,
    pub message: String,
    pub source: String,
    pub target: String,
    pub fields: Vec<String>,
    pub came: Option<String>,
    pub sent: Option<String>,
    pub answer: Option<String>,
}

impl ActivityView {
    pub fn new(activity: &Activity, mask: &Mask) -> Self {
        ActivityView {
            run: activity.run,
            seq: activity.seq,
            at: time(activity.at),
            flow: activity.flow.clone(),
            kind: activity.kind.clone(),
            key: mask.text(&activity.key),
            outcome: activity.outcome.as_str(),
            message: mask.text(&activity.message),
            source: activity.source.clone(),
            target: activity.target.clone(),
            fields: activity.fields.clone(),
            came: activity.came.as_ref().map(|v| mask.json(v)),
            sent: activity.sent.as_ref().map(|v| mask.json(v)),
            answer: activity.answer.as_deref().map(|a| mask.text(a)),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PendingView {
    pub flow: String,
    /// The key as stored: what Retry and Skip send back.
    pub key: String,
    /// The key as shown.
    pub shown: String,
    pub state: &'static str,
    pub reason: String,
    pub missing: Vec<String>,
    pub since: String,
    pub attempts: u32,
    pub record: String,
}

impl PendingView {
    pub fn new(pending: &Pending, mask: &Mask) -> Self {
        PendingView {
            flow: pending.flow.clone(),
            key: pending.key.clone(),
            shown: mask.text(&pending.key),
            state: match pending.state {
                PendingState::Parked => "parked",
                PendingState::Failed => "failed",
                PendingState::Retry => "retry",
            },
            reason: mask.text(&pending.reason),
            missing: pending.missing.clone(),
            since: time(pending.since),
            attempts: pending.attempts,
            record: mask.json(&pending.record),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct FlowView {
    pub name: String,
    pub kind: String,
    pub source: String,
    pub target: String,
    pub schedule: String,
    pub enabled: bool,
    pub next: Option<String>,
    pub next_in: Option<String>,
    pub transforms: Vec<String>,
    pub running: bool,
    pub last: Option<RunView>,
    pub parked: usize,
    pub failed: usize,
}

impl FlowView {
    pub fn new(
        name: &str,
        flow: &Flow,
        running: bool,
        last: Option<RunView>,
        waiting: &[Pending],
        now: DateTime<Utc>,
    ) -> Self {
        let next = flow
            .enabled
            .then(|| flow.schedule.next_after(now))
            .flatten();
        let waiting = waiting.iter().filter(|p| p.flow == name);
        let (parked, failed): (Vec<&Pending>, Vec<&Pending>) =
            waiting.partition(|p| p.state != PendingState::Failed);
        FlowView {
            name: name.to_string(),
            kind: flow.kind.to_string(),
            source: flow.source.clone(),
            target: flow.target.clone(),
            schedule: flow.schedule.expression.clone(),
            enabled: flow.enabled,
            next: next.map(time),
            next_in: next.map(|n| relative(n, now)),
            transforms: flow.transforms.clone(),
            running,
            last,
            parked: parked.len(),
            failed: failed.len(),
        }
    }
}
