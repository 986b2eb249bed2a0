//! The scheduler: every enabled flow on its own cron schedule, each in its own task.
//!
//! A flow's task waits for the next time its schedule fires, runs the flow to the end, and only
//! then computes the next time from the clock: a flow never overlaps itself, and fire times missed
//! during a long run are not piled up (one run follows, not one per missed time). A shutdown stops
//! each flow after the record in flight; runs are recorded as interrupted. Runs started by hand
//! from the dashboard take the same per-flow lock ([`FlowLocks`]), so they never overlap a
//! scheduled run of the same flow either.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use chrono::Utc;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::flows::{self, Events, Options};
use crate::integration::Integration;
use crate::state::State;

/// One lock per flow, held for the whole of each run in this process.
#[derive(Clone, Default)]
pub struct FlowLocks(Arc<Mutex<BTreeMap<String, Arc<AsyncMutex<()>>>>>);

impl FlowLocks {
    fn of(&self, flow: &str) -> Arc<AsyncMutex<()>> {
        let mut locks = self.0.lock().unwrap_or_else(|e| e.into_inner());
        locks.entry(flow.to_string()).or_default().clone()
    }

    /// Waits until no run of `flow` is in flight, and holds it off until the guard is dropped.
    pub async fn wait(&self, flow: &str) -> OwnedMutexGuard<()> {
        self.of(flow).lock_owned().await
    }

    /// The flow's lock if no run of it is in flight, else `None`.
    pub fn try_take(&self, flow: &str) -> Option<OwnedMutexGuard<()>> {
        self.of(flow).try_lock_owned().ok()
    }

    /// Whether a run of `flow` is in flight.
    pub fn is_running(&self, flow: &str) -> bool {
        self.of(flow).try_lock().is_err()
    }
}

/// Runs every enabled flow on its schedule until `shutdown` is cancelled; every run reports its
/// events to `events`.
pub async fn run(
    integration: Arc<Integration>,
    state: State,
    locks: FlowLocks,
    shutdown: CancellationToken,
    events: Events,
) -> Result<()> {
    let mut tasks = JoinSet::new();
    for (name, flow) in &integration.config.flows {
        if !flow.enabled {
            tracing::info!(flow = %name, "disabled: not scheduled (it can still be run with `tillbridge once`)");
            continue;
        }
        // In the caller's span: with --integrations, every log line names its integration.
        tasks.spawn(
            flow_loop(
                integration.clone(),
                state.clone(),
                name.clone(),
                locks.clone(),
                Options {
                    dry_run: false,
                    full: false,
                    cancel: shutdown.clone(),
                    events: events.clone(),
                },
            )
            .in_current_span(),
        );
    }
    while let Some(done) = tasks.join_next().await {
        if let Err(e) = done {
            tracing::error!("a flow's task ended abnormally: {e}");
        }
    }
    Ok(())
}

async fn flow_loop(
    integration: Arc<Integration>,
    state: State,
    name: String,
    locks: FlowLocks,
    options: Options,
) {
    let shutdown = options.cancel.clone();
    let schedule = integration.config.flows[&name].schedule.clone();
    loop {
        let now = Utc::now();
        let Some(next) = schedule.next_after(now) else {
            tracing::warn!(flow = %name, "its schedule {:?} never fires again", schedule.expression);
            return;
        };
        tracing::info!(flow = %name, "next run at {}", next.format("%Y-%m-%d %H:%M:%S UTC"));
        let wait = (next - now).to_std().unwrap_or_default();
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shutdown.cancelled() => return,
        }
        // A run started by hand may be in flight: this one follows it, never overlaps it.
        let _running = tokio::select! {
            guard = locks.wait(&name) => guard,
            () = shutdown.cancelled() => return,
        };
        if let Err(e) = flows::run_flow(&integration, &state, &name, &options).await {
            tracing::error!(flow = %name, "cannot run: {e:#}");
        }
        if shutdown.is_cancelled() {
            return;
        }
    }
}
