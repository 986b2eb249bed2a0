//! Notifications (FLOWS.md §4.3): the merchant is told at once when a run fails, a record fails,
//! or a record stays parked longer than `parked_after`, by webhook (JSON a Slack incoming webhook
//! shows) and e-mail, with the flow, the record, the system, the error and what to do; and told
//! once more when it is over.
//!
//! The notifier is a consumer of the runs' [`Event`]s on a task of its own (an
//! [`mpsc::UnboundedSender`] sink, so a slow webhook never holds up a run), plus a periodic look
//! at the records that wait, since a parked record makes no event while it waits. Which problems
//! are new and which are over is the [`tracker`]'s business; what a message says is
//! [`message`]'s; the channels are [`webhook`] and [`email`]. A channel that fails is logged and
//! stops nothing.

mod email;
mod fix;
mod message;
mod tracker;
mod webhook;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Result;
use chrono::Utc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, Interval};
use tokio_util::sync::CancellationToken;

pub use message::{Message, Notice, Status};

use self::email::Email;
use self::tracker::{Outgoing, Tracker};
use self::webhook::Webhook;
use crate::config::Config;
use crate::flows::Event;
use crate::state::State;

/// The longest the notifier may take, at the end, to send what it has gathered.
const FINISH_WITHIN: Duration = Duration::from_secs(60);

/// The pause before a message is sent again on a channel that failed.
const RESEND_PAUSE: Duration = Duration::from_secs(1);

/// The configured channels.
struct Channels {
    webhook: Option<Webhook>,
    email: Option<Email>,
}

impl Channels {
    fn new(config: &Config) -> Result<Channels> {
        let notify = &config.notify;
        Ok(Channels {
            webhook: notify.webhook.as_deref().map(Webhook::new).transpose()?,
            email: notify.email.as_ref().map(Email::new).transpose()?,
        })
    }

    /// Sends `message` on every channel; whether at least one took it. Failures are logged.
    async fn deliver(&self, message: &Message) -> bool {
        let mut any = false;
        if let Some(webhook) = &self.webhook {
            match webhook.send(message, RESEND_PAUSE).await {
                Ok(()) => any = true,
                Err(e) => tracing::error!("notification not sent by webhook: {e:#}"),
            }
        }
        if let Some(email) = &self.email {
            match email.send(message, RESEND_PAUSE).await {
                Ok(()) => any = true,
                Err(e) => tracing::error!("notification not sent by e-mail: {e:#}"),
            }
        }
        any
    }

    /// Sends what `tracker` gathered and records what was taken.
    async fn send(&self, tracker: &mut Tracker, outgoing: Outgoing) {
        let dashboard = tracker.dashboard();
        let messages = [
            outgoing.problems(dashboard.as_deref()),
            outgoing.resolved(dashboard.as_deref()),
        ];
        if messages.iter().all(Option::is_none) {
            return;
        }
        let mut sent = [true, true];
        for (message, sent) in messages.iter().zip(&mut sent) {
            if let Some(message) = message {
                *sent = self.deliver(message).await;
            }
        }
        if let Err(e) = tracker.sent(outgoing, sent[0], sent[1], Instant::now()) {
            tracing::error!("cannot record what notifications told: {e:#}");
        }
    }
}

/// Whether the notifier looks at the waiting records every so often (the daemon), or once at
/// the end (`tillbridge once`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// Every so often, while it runs.
    Periodic,
    /// Once, when it finishes.
    AtEnd,
}

/// Notifications running on their own task.
pub struct Notifier {
    sender: mpsc::UnboundedSender<Arc<Event>>,
    dashboard: Arc<OnceLock<String>>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Notifier {
    /// Starts notifying as `[notify]` of `config` says, or `None` when it names no channel.
    pub fn start(config: &Config, state: &State, watch: Watch) -> Result<Option<Notifier>> {
        if !config.notify.enabled() {
            return Ok(None);
        }
        let config = Arc::new(config.clone());
        let dashboard = Arc::new(OnceLock::new());
        let tracker = Tracker::new(config.clone(), state.clone(), dashboard.clone())?;
        let channels = Channels::new(&config)?;
        let every = match watch {
            // Often enough to tell a parked record soon after `parked_after`, at most a minute.
            Watch::Periodic => Some(
                (config.notify.parked_after() / 4)
                    .clamp(Duration::from_secs(1), Duration::from_secs(60)),
            ),
            Watch::AtEnd => None,
        };
        let (sender, events) = mpsc::unbounded_channel();
        let stop = CancellationToken::new();
        let task = tokio::spawn(serve(tracker, channels, events, stop.clone(), every));
        Ok(Some(Notifier {
            sender,
            dashboard,
            stop,
            task,
        }))
    }

    /// Messages link to the dashboard served at `url` (unless `dashboard_url` says otherwise).
    pub fn link_dashboard(&self, url: &str) {
        let _ = self.dashboard.set(url.to_string());
    }

    /// The sink the runs report to (add it to their [`Events`](crate::flows::Events)).
    pub fn sink(&self) -> mpsc::UnboundedSender<Arc<Event>> {
        self.sender.clone()
    }

    /// Takes in what the runs reported, sends everything gathered now, and stops (within a
    /// minute, whatever the channels do).
    pub async fn finish(self) {
        self.stop.cancel();
        if tokio::time::timeout(FINISH_WITHIN, self.task)
            .await
            .is_err()
        {
            tracing::error!(
                "notifications: the channels did not finish within {} s; stopped",
                FINISH_WITHIN.as_secs()
            );
        }
    }
}

/// Waits for the next tick, or forever without a ticker.
async fn tick(ticker: &mut Option<Interval>) {
    match ticker {
        Some(ticker) => {
            ticker.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// The notifier's task: events in, looks at the waiting records, batches out.
async fn serve(
    mut tracker: Tracker,
    channels: Channels,
    mut events: mpsc::UnboundedReceiver<Arc<Event>>,
    stop: CancellationToken,
    every: Option<Duration>,
) {
    let mut ticker = every.map(|every| {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker
    });
    loop {
        let due = tracker.due();
        let result = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            event = events.recv() => match event {
                Some(event) => tracker.event(&event, Instant::now()),
                None => break,
            },
            () = tick(&mut ticker) => tracker.look(Utc::now(), Instant::now()),
            () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                let outgoing = tracker.take();
                channels.send(&mut tracker, outgoing).await;
                Ok(())
            }
        };
        if let Err(e) = result {
            tracing::error!("notifications: {e:#}");
        }
    }
    // The end: what the runs reported last, one more look, and everything out now.
    while let Ok(event) = events.try_recv() {
        if let Err(e) = tracker.event(&event, Instant::now()) {
            tracing::error!("notifications: {e:#}");
        }
    }
    if let Err(e) = tracker.look(Utc::now(), Instant::now()) {
        tracing::error!("notifications: {e:#}");
    }
    let outgoing = tracker.take();
    channels.send(&mut tracker, outgoing).await;
}
