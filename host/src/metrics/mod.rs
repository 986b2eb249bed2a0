//! Metrics in the Prometheus text format (prometheus-client): one registry per process, every
//! family labelled with the `integration` it is about, so that one process may run many.
//!
//! Flows, egress and the plugin runtime record through an [`IntegrationMetrics`] (cheap to clone);
//! `GET /metrics`, `/healthz` and `/readyz` ([`routes`]) are served on the dashboard's listener.
//! Labels come from flows.toml (flows, connections, plugins) or from short fixed sets (outcomes,
//! statuses); plugin-given operation names are capped per system ([`MAX_OPERATIONS`]), so no label
//! set grows without bound. Recording is an atomic add behind a read lock: no record waits.

mod routes;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::flows::Event;
use crate::state::{PendingState, RunStatus, State};

pub use routes::{alive_and_scraped, routes};

/// How many operation names one system may have; further ones are counted as `other`.
pub const MAX_OPERATIONS: usize = 64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FlowOutcome {
    integration: String,
    flow: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Request {
    integration: String,
    system: String,
    operation: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct System {
    integration: String,
    system: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Call {
    integration: String,
    plugin: String,
    function: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Named {
    integration: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Flow {
    integration: String,
    flow: String,
}

/// Plugin calls take from a millisecond (a transform) to minutes (a catalogue page under limits).
fn call_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 4.0, 10))
}

/// The families, shared by every integration of the process.
#[derive(Clone)]
struct Families {
    runs: Family<FlowOutcome, Counter>,
    records: Family<FlowOutcome, Counter>,
    requests: Family<Request, Counter>,
    waited: Family<System, Counter<f64, std::sync::atomic::AtomicU64>>,
    calls: Family<Call, Histogram, fn() -> Histogram>,
    parked: Family<Flow, Gauge>,
    last_success: Family<Flow, Gauge>,
    up: Family<Named, Gauge>,
}

/// The process's registry and the integrations recording into it. Cheap to clone.
#[derive(Clone)]
pub struct Metrics(Arc<Shared>);

struct Shared {
    registry: Registry,
    families: Families,
    /// Weak: an integration's handle points at the registry, not the other way round.
    integrations: Mutex<Vec<Weak<Inner>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// An empty registry with every family of tillbridge.
    pub fn new() -> Self {
        let families = Families {
            runs: Family::default(),
            records: Family::default(),
            requests: Family::default(),
            waited: Family::default(),
            calls: Family::new_with_constructor(call_buckets),
            parked: Family::default(),
            last_success: Family::default(),
            up: Family::default(),
        };
        let mut registry = Registry::with_prefix("tillbridge");
        let f = families.clone();
        registry.register(
            "runs",
            "Runs that ended, by flow and outcome (finished, failed, interrupted)",
            f.runs,
        );
        registry.register(
            "records",
            "Records by flow and outcome (created, updated, unchanged, skipped, parked, failed)",
            f.records,
        );
        registry.register("http_requests", "HTTP requests plugins sent, by system (connection), operation and status (code, or error)", f.requests);
        registry.register_with_unit(
            "rate_limit_wait",
            "Time requests waited for the system's rate limits",
            Unit::Seconds,
            f.waited,
        );
        registry.register_with_unit(
            "plugin_call",
            "Time of one plugin call, by plugin and function",
            Unit::Seconds,
            f.calls,
        );
        registry.register(
            "parked_records",
            "Records waiting for a dependency, by flow (from the state file)",
            f.parked,
        );
        registry.register_with_unit(
            "last_success_timestamp",
            "Unix time the flow's last successful run ended",
            Unit::Seconds,
            f.last_success,
        );
        registry.register(
            "integration_up",
            "With --integrations: 1 while the integration runs, 0 while it cannot start",
            f.up,
        );
        Metrics(Arc::new(Shared {
            registry,
            families,
            integrations: Mutex::new(Vec::new()),
        }))
    }

    /// The handle integration `name` records through (the folder of its flows.toml).
    pub fn integration(&self, name: &str) -> IntegrationMetrics {
        let handle = IntegrationMetrics(Arc::new(Inner {
            name: name.to_string(),
            metrics: self.clone(),
            state: OnceLock::new(),
            operations: Mutex::new(BTreeMap::new()),
            connections: Mutex::new(BTreeMap::new()),
        }));
        self.0
            .integrations
            .lock()
            .expect("metrics lock")
            .push(Arc::downgrade(&handle.0));
        handle
    }

    /// The integrations that record here.
    fn integrations(&self) -> Vec<IntegrationMetrics> {
        let mut integrations = self.0.integrations.lock().expect("metrics lock");
        integrations.retain(|i| i.strong_count() > 0);
        integrations
            .iter()
            .filter_map(Weak::upgrade)
            .map(IntegrationMetrics)
            .collect()
    }

    /// Whether integration `name` of a folder runs (1) or cannot start (0).
    pub fn set_up(&self, name: &str, up: bool) {
        self.0
            .families
            .up
            .get_or_create(&Named {
                integration: name.to_string(),
            })
            .set(i64::from(up));
    }

    /// Every family in the text format, the parked counts read again first.
    pub fn encode(&self) -> String {
        for integration in self.integrations() {
            integration.refresh_parked();
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.0.registry)
            .expect("writing to a String does not fail");
        text
    }
}

/// What one integration records through. Cheap to clone.
#[derive(Clone)]
pub struct IntegrationMetrics(Arc<Inner>);

struct Inner {
    name: String,
    metrics: Metrics,
    /// Its state file and flows, once the daemon has opened it: parked counts and readiness.
    state: OnceLock<(State, Vec<String>)>,
    /// The operation names seen per system, to cap them.
    operations: Mutex<BTreeMap<String, BTreeSet<String>>>,
    /// Per system, why its last request failed to reach it or was refused (none: it answered).
    connections: Mutex<BTreeMap<String, Option<String>>>,
}

impl IntegrationMetrics {
    /// The name of the integration whose flows.toml is at `path`: its folder's name.
    pub fn name_of(path: &Path) -> String {
        path.canonicalize()
            .unwrap_or_else(|_| path.to_path_buf())
            .parent()
            .and_then(|p| p.file_name())
            .map_or_else(
                || "default".to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
    }

    /// The registry this handle records into.
    pub fn registry(&self) -> &Metrics {
        &self.0.metrics
    }

    fn families(&self) -> &Families {
        &self.0.metrics.0.families
    }

    fn flow(&self, flow: &str) -> Flow {
        Flow {
            integration: self.0.name.clone(),
            flow: flow.to_string(),
        }
    }

    /// Reads readiness and the parked counts of `flows` from `state` from now on.
    pub fn watch(&self, state: State, flows: impl IntoIterator<Item = String>) {
        let _ = self.0.state.set((state, flows.into_iter().collect()));
    }

    /// Counts what a (real) run reports: its records and, at its end, its outcome.
    pub fn event(&self, event: &Event) {
        match event {
            Event::Record(activity) if activity.run != 0 => {
                self.families()
                    .records
                    .get_or_create(&FlowOutcome {
                        integration: self.0.name.clone(),
                        flow: activity.flow.clone(),
                        outcome: activity.outcome.as_str().to_string(),
                    })
                    .inc();
            }
            Event::RunFinished(run) if !run.dry_run => {
                let outcome = match run.status {
                    RunStatus::Running => return,
                    RunStatus::Finished => "finished",
                    RunStatus::Failed => "failed",
                    RunStatus::Interrupted => "interrupted",
                };
                self.families()
                    .runs
                    .get_or_create(&FlowOutcome {
                        integration: self.0.name.clone(),
                        flow: run.flow.clone(),
                        outcome: outcome.to_string(),
                    })
                    .inc();
                if run.status == RunStatus::Finished {
                    let at: DateTime<Utc> = run.finished_at.unwrap_or_else(Utc::now);
                    self.families()
                        .last_success
                        .get_or_create(&self.flow(&run.flow))
                        .set(at.timestamp());
                }
                self.refresh_parked();
            }
            _ => {}
        }
    }

    /// A sink for [`Events`](crate::flows::Events) that records every run.
    pub fn sink(&self) -> impl Fn(&Event) + Send + Sync + 'static {
        let this = self.clone();
        move |event: &Event| this.event(event)
    }

    /// What a plugin using `system` (a connection, or the plugin's name for a transform)
    /// records through.
    pub fn system(&self, system: &str) -> SystemMetrics {
        SystemMetrics {
            metrics: self.clone(),
            system: system.to_string(),
        }
    }

    /// One answer (its status) or failure (`None`, and why) of `system` to a request labelled
    /// `operation`.
    pub fn request(
        &self,
        system: &str,
        operation: &str,
        status: Option<u16>,
        failure: Option<&str>,
    ) {
        let operation = self.bounded(system, operation);
        let label = status.map_or_else(|| "error".to_string(), |s| s.to_string());
        self.families()
            .requests
            .get_or_create(&Request {
                integration: self.0.name.clone(),
                system: system.to_string(),
                operation,
                status: label,
            })
            .inc();
        let problem = match (status, failure) {
            (Some(code @ (401 | 403)), _) => Some(format!("its credentials were refused ({code})")),
            (Some(_), _) => None,
            (None, Some(why)) => Some(format!("it could not be reached: {why}")),
            (None, None) => Some("it could not be reached".to_string()),
        };
        let mut connections = self.0.connections.lock().expect("metrics lock");
        connections.insert(system.to_string(), problem);
    }

    /// Time a request to `system` waited for its rate limits.
    pub fn waited(&self, system: &str, waited: Duration) {
        if waited.is_zero() {
            return;
        }
        self.families()
            .waited
            .get_or_create(&System {
                integration: self.0.name.clone(),
                system: system.to_string(),
            })
            .inc_by(waited.as_secs_f64());
    }

    /// How long one call of `function` of `plugin` took.
    pub fn plugin_call(&self, plugin: &str, function: &str, took: Duration) {
        self.families()
            .calls
            .get_or_create(&Call {
                integration: self.0.name.clone(),
                plugin: plugin.to_string(),
                function: function.to_string(),
            })
            .observe(took.as_secs_f64());
    }

    /// `operation`, or `other` once `system` has [`MAX_OPERATIONS`] others.
    fn bounded(&self, system: &str, operation: &str) -> String {
        let mut seen = self.0.operations.lock().expect("metrics lock");
        let known = seen.entry(system.to_string()).or_default();
        if known.contains(operation) {
            return operation.to_string();
        }
        if known.len() >= MAX_OPERATIONS {
            return "other".to_string();
        }
        known.insert(operation.to_string());
        operation.to_string()
    }

    /// Sets the parked gauges from the state file (every flow that has one, zero for the rest).
    fn refresh_parked(&self) {
        let Some((state, flows)) = self.0.state.get() else {
            return;
        };
        let pending = match state.read().and_then(|r| r.all_pending()) {
            Ok(pending) => pending,
            Err(e) => {
                tracing::warn!("metrics: cannot read the parked records: {e:#}");
                return;
            }
        };
        let mut parked: BTreeMap<&str, i64> = flows.iter().map(|f| (f.as_str(), 0)).collect();
        for p in pending.iter().filter(|p| p.state == PendingState::Parked) {
            *parked.entry(p.flow.as_str()).or_default() += 1;
        }
        let families = self.families();
        for (flow, count) in parked {
            families.parked.get_or_create(&self.flow(flow)).set(count);
        }
    }

    /// Why this integration is not ready, one line per failing check; empty when it is.
    fn not_ready(&self) -> Vec<String> {
        let mut reasons = Vec::new();
        let name = &self.0.name;
        match self.0.state.get() {
            None => reasons.push(format!("{name}: the state file is not open")),
            Some((state, _)) => {
                if let Err(e) = state.read() {
                    reasons.push(format!("{name}: the state file cannot be read: {e:#}"));
                }
            }
        }
        let connections = self.0.connections.lock().expect("metrics lock");
        for (system, problem) in connections.iter() {
            if let Some(problem) = problem {
                reasons.push(format!("{name}: connection {system}: {problem}"));
            }
        }
        reasons
    }
}

/// An [`IntegrationMetrics`] for one system: what its plugin's session and requests record.
#[derive(Clone)]
pub struct SystemMetrics {
    metrics: IntegrationMetrics,
    system: String,
}

impl SystemMetrics {
    /// One answer (`Ok(status)`) or failure (`Err(why)`, words without data) to a request
    /// labelled `operation`.
    pub fn request(&self, operation: &str, answer: Result<u16, &'static str>) {
        let (status, failure) = match answer {
            Ok(status) => (Some(status), None),
            Err(why) => (None, Some(why)),
        };
        self.metrics
            .request(&self.system, operation, status, failure);
    }

    /// Time a request waited for the system's rate limits.
    pub fn waited(&self, waited: Duration) {
        self.metrics.waited(&self.system, waited);
    }

    /// How long one call of `function` of `plugin` took.
    pub fn plugin_call(&self, plugin: &str, function: &str, took: Duration) {
        self.metrics.plugin_call(plugin, function, took);
    }
}

impl std::fmt::Debug for SystemMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SystemMetrics({}/{})", self.metrics.0.name, self.system)
    }
}

#[cfg(test)]
mod tests;
