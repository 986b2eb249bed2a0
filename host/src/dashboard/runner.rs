//! Runs started from the dashboard: **Run now**, **Dry run** and the run a **Retry** starts. Each
//! takes its flow's lock ([`FlowLocks`]), as the scheduler's runs do, so no two runs of one flow
//! overlap; a button pressed while the flow runs says so instead of starting another.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::flows::{self, Events, Options, RunReport};
use crate::integration::Integration;
use crate::scheduler::FlowLocks;
use crate::state::State;

/// How many dry-run plans are kept (in memory: a dry run writes nothing to the state file).
const PLANS_KEPT: usize = 20;

/// A dry run, in progress or done.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Its number in this process, from 1.
    pub id: u64,
    /// The flow.
    pub flow: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// What it found, once done; the error if it could not even start.
    pub result: Option<Result<RunReport, String>>,
}

/// Starts runs in the background and keeps the plans of dry runs.
#[derive(Clone)]
pub struct Runner {
    integration: Arc<Integration>,
    state: State,
    locks: FlowLocks,
    shutdown: CancellationToken,
    events: Events,
    plans: Arc<Mutex<BTreeMap<u64, Plan>>>,
}

/// Why a run was not started.
#[derive(Debug, PartialEq, Eq)]
pub enum NotStarted {
    /// There is no such flow.
    UnknownFlow,
    /// A run of the flow is in flight.
    Busy,
    /// tillbridge is stopping.
    ShuttingDown,
}

impl Runner {
    pub fn new(
        integration: Arc<Integration>,
        state: State,
        locks: FlowLocks,
        shutdown: CancellationToken,
        events: Events,
    ) -> Self {
        Runner {
            integration,
            state,
            locks,
            shutdown,
            events,
            plans: Arc::default(),
        }
    }

    /// Waits until no run of any flow is in flight, and holds every flow (scheduled runs and
    /// buttons wait) until the guards are dropped. Taken in name order, as nothing else takes
    /// more than one, so it cannot deadlock.
    pub async fn pause_all(&self) -> Vec<tokio::sync::OwnedMutexGuard<()>> {
        let mut guards = Vec::new();
        for flow in self.integration.config.flows.keys() {
            guards.push(self.locks.wait(flow).await);
        }
        guards
    }

    /// Whether a run of `flow` is in flight in this process.
    pub fn is_running(&self, flow: &str) -> bool {
        self.locks.is_running(flow)
    }

    /// Starts a run of `flow` now, in the background.
    pub fn run_now(&self, flow: &str) -> Result<(), NotStarted> {
        let guard = self.take(flow)?;
        let (integration, state) = (self.integration.clone(), self.state.clone());
        let options = self.options(false);
        let flow = flow.to_string();
        tokio::spawn(async move {
            let _guard = guard;
            tracing::info!(flow = %flow, "run started from the dashboard");
            if let Err(e) = flows::run_flow(&integration, &state, &flow, &options).await {
                tracing::error!(flow = %flow, "cannot run: {e:#}");
            }
        });
        Ok(())
    }

    /// Starts a dry run of `flow` in the background; its plan is [`Runner::plan`] of the id
    /// returned.
    pub fn dry_run(&self, flow: &str) -> Result<u64, NotStarted> {
        let guard = self.take(flow)?;
        let id = {
            let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
            let id = plans.keys().next_back().map_or(1, |last| last + 1);
            plans.insert(
                id,
                Plan {
                    id,
                    flow: flow.to_string(),
                    started_at: Utc::now(),
                    result: None,
                },
            );
            while plans.len() > PLANS_KEPT {
                plans.pop_first();
            }
            id
        };
        let (integration, state, plans) = (
            self.integration.clone(),
            self.state.clone(),
            self.plans.clone(),
        );
        let options = self.options(true);
        let flow = flow.to_string();
        tokio::spawn(async move {
            let _guard = guard;
            let result = flows::run_flow(&integration, &state, &flow, &options)
                .await
                .map_err(|e| format!("{e:#}"));
            if let Some(plan) = plans.lock().unwrap_or_else(|e| e.into_inner()).get_mut(&id) {
                plan.result = Some(result);
            }
        });
        Ok(id)
    }

    /// A dry run's plan.
    pub fn plan(&self, id: u64) -> Option<Plan> {
        self.plans
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
    }

    /// The dry runs of a flow still kept, newest first.
    pub fn plans_of(&self, flow: &str) -> Vec<Plan> {
        let plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        plans
            .values()
            .rev()
            .filter(|p| p.flow == flow)
            .cloned()
            .collect()
    }

    /// How runs started here run: stopped by tillbridge's shutdown, reported to the same
    /// consumers as the scheduler's runs.
    fn options(&self, dry_run: bool) -> Options {
        Options {
            dry_run,
            full: false,
            cancel: self.shutdown.clone(),
            events: self.events.clone(),
        }
    }

    fn take(&self, flow: &str) -> Result<tokio::sync::OwnedMutexGuard<()>, NotStarted> {
        if !self.integration.config.flows.contains_key(flow) {
            return Err(NotStarted::UnknownFlow);
        }
        if self.shutdown.is_cancelled() {
            return Err(NotStarted::ShuttingDown);
        }
        self.locks.try_take(flow).ok_or(NotStarted::Busy)
    }
}
