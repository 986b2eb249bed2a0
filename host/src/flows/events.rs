//! The stream of events a run reports: the one way a flow tells the world what happens.
//!
//! A flow never draws a progress bar, prints a line for the merchant or sends an alert. It
//! reports [`Event`]s (a run started, what it is doing now, each record's outcome, the run
//! finished) to the [`Events`] its [`Options`](super::Options) carry, and every consumer renders
//! them its own way: the terminal progress of the command line, the dashboard, notifications,
//! metrics. The same stream serves one run (`tillbridge once`) and every run of the daemon.
//!
//! A consumer is an [`EventSink`]. Sinks are called synchronously, in order, on the run's task,
//! inside its tracing span: a sink must return at once (draw, count, or hand the event on). Three
//! kinds of sink come ready:
//!
//! - a closure `Fn(&Event)`, for what is quick (a counter, a spinner);
//! - an [`mpsc::UnboundedSender`], for a consumer that must see every event but works slowly
//!   (notifications: a webhook or an e-mail per failed record), on its own task;
//! - a [`broadcast::Sender`], for many live listeners that may come and go and may miss events
//!   when they fall behind (the dashboard's live view; the state file stays the truth).
//!
//! ```
//! use std::sync::Arc;
//! use tillbridge::flows::{Event, Events, Options};
//!
//! let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Arc<Event>>();
//! let events = Events::default()
//!     .with(|event: &Event| eprintln!("{}", event.describe()))
//!     .with(tx);
//! let options = Options { events, ..Options::default() };
//! # drop((options, rx.try_recv()));
//! ```
//!
//! Events are `Serialize` (tagged by `type`: `run_started`, `progress`, `record`,
//! `run_finished`), so a consumer can pass them on as JSON unchanged. Dry runs report events too,
//! with run id 0 and `dry_run` set.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{broadcast, mpsc};

use super::summary;
use crate::config::FlowKind;
use crate::state::{Activity, Outcome, Run};

/// Something that happened in a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A run began. `run` is its id in the state file (0 for a dry run).
    RunStarted {
        /// The run's id.
        run: u64,
        /// The flow's name in flows.toml.
        flow: String,
        /// What the flow moves.
        kind: FlowKind,
        /// The source connection.
        source: String,
        /// The target connection.
        target: String,
        /// Whether nothing is written.
        dry_run: bool,
        /// When.
        at: DateTime<Utc>,
    },
    /// What the run is doing now, between records ("reading orders from shop").
    Progress {
        /// The run's id.
        run: u64,
        /// The flow.
        flow: String,
        /// In words, for a person.
        doing: String,
    },
    /// What happened to one record, as the activity log has it (redacted as configured). Records
    /// the activity log only counts (unchanged ones) are reported too.
    Record(Activity),
    /// The run ended: its status, counts, error and notes, as the state file has them.
    RunFinished(Run),
}

impl Event {
    /// The flow the event belongs to.
    pub fn flow(&self) -> &str {
        match self {
            Event::RunStarted { flow, .. } | Event::Progress { flow, .. } => flow,
            Event::Record(activity) => &activity.flow,
            Event::RunFinished(run) => &run.flow,
        }
    }

    /// The run the event belongs to (0 for a dry run).
    pub fn run(&self) -> u64 {
        match self {
            Event::RunStarted { run, .. } | Event::Progress { run, .. } => *run,
            Event::Record(activity) => activity.run,
            Event::RunFinished(run) => run.id,
        }
    }

    /// One line for a person: "orders: order 10001 created: booked in pos as order 5001".
    pub fn describe(&self) -> String {
        match self {
            Event::RunStarted {
                flow,
                kind,
                source,
                target,
                dry_run,
                ..
            } => {
                let dry = if *dry_run { " (dry run)" } else { "" };
                format!("{flow}: {kind} {source} → {target} started{dry}")
            }
            Event::Progress { flow, doing, .. } => format!("{flow}: {doing}"),
            Event::Record(a) => format!(
                "{}: {} {} {}: {}",
                a.flow,
                a.kind,
                a.key,
                a.outcome.as_str(),
                a.message
            ),
            Event::RunFinished(run) => {
                let status = format!("{:?}", run.status).to_lowercase();
                format!("{}: {status}, {}", run.flow, summary(&run.counts))
            }
        }
    }
}

/// A consumer of events. Called on the run's task: return at once.
pub trait EventSink: Send + Sync {
    /// Takes one event.
    fn event(&self, event: &Arc<Event>);
}

impl<F: Fn(&Event) + Send + Sync> EventSink for F {
    fn event(&self, event: &Arc<Event>) {
        self(event)
    }
}

/// Every event, in order, for a consumer on its own task. A receiver that is gone is ignored.
impl EventSink for mpsc::UnboundedSender<Arc<Event>> {
    fn event(&self, event: &Arc<Event>) {
        let _ = self.send(event.clone());
    }
}

/// Events for whoever listens now; a listener that falls behind misses the oldest
/// (`RecvError::Lagged`). Having no listener is fine.
impl EventSink for broadcast::Sender<Arc<Event>> {
    fn event(&self, event: &Arc<Event>) {
        let _ = self.send(event.clone());
    }
}

/// The consumers of a run's events. Cheap to clone; clones share the consumers.
#[derive(Clone, Default)]
pub struct Events {
    sinks: Arc<Vec<Arc<dyn EventSink>>>,
}

impl Events {
    /// These consumers and one more.
    pub fn with(self, sink: impl EventSink + 'static) -> Self {
        let mut sinks = Vec::clone(&self.sinks);
        sinks.push(Arc::new(sink));
        Events {
            sinks: Arc::new(sinks),
        }
    }

    /// Whether nobody listens.
    pub fn is_empty(&self) -> bool {
        self.sinks.is_empty()
    }

    /// Hands an event to every consumer, in the order they were added.
    pub fn emit(&self, event: Event) {
        if self.sinks.is_empty() {
            return;
        }
        let event = Arc::new(event);
        for sink in self.sinks.iter() {
            sink.event(&event);
        }
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Events({} consumers)", self.sinks.len())
    }
}

/// Records per outcome, as a consumer tallies them from [`Event::Record`]s.
pub type Counts = BTreeMap<Outcome, u64>;

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn progress(doing: &str) -> Event {
        Event::Progress {
            run: 3,
            flow: "orders".into(),
            doing: doing.into(),
        }
    }

    #[test]
    fn every_consumer_gets_every_event_in_order() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (btx, mut brx) = broadcast::channel(8);
        let events = Events::default()
            .with(move |e: &Event| log.lock().unwrap().push(e.describe()))
            .with(tx)
            .with(btx);
        events.emit(progress("reading"));
        events.emit(progress("booking"));
        assert_eq!(
            *seen.lock().unwrap(),
            vec!["orders: reading", "orders: booking"]
        );
        assert_eq!(rx.try_recv().unwrap().describe(), "orders: reading");
        assert_eq!(rx.try_recv().unwrap().describe(), "orders: booking");
        assert_eq!(brx.try_recv().unwrap().run(), 3);
    }

    #[test]
    fn a_consumer_that_went_away_stops_nothing() {
        let (tx, rx) = mpsc::unbounded_channel();
        drop(rx);
        let (btx, _) = broadcast::channel(1);
        let events = Events::default().with(tx).with(btx);
        events.emit(progress("reading"));
    }

    #[test]
    fn events_serialize_tagged_by_type() {
        let json = serde_json::to_value(progress("reading")).unwrap();
        assert_eq!(json["type"], "progress");
        assert_eq!(json["flow"], "orders");
        assert_eq!(json["doing"], "reading");
    }
}
