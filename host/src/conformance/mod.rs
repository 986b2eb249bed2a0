//! `tillbridge conformance`: the standard checks a connector must pass, whoever wrote it, run
//! through the host's own runtime against a system or one of the simulators.
//!
//! Every check gets fresh sessions of the plugin; a [`Tap`] on all of them sees each request and
//! log line, and answers requests itself when a check injects an error on the host's side. One
//! module per group of checks: `paging` (sources), `customers`, `markers` (orders-sink), `batches`
//! (products-sink), `errors` (classification), `hygiene` (hosts and secrets over everything the
//! tap saw). `target` starts and seeds the simulators.

mod batches;
mod customers;
mod errors;
mod hygiene;
mod markers;
mod paging;
mod target;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use target::{Against, Target};

use crate::runtime::{CallError, Capability, Grants, Kv, Limits, Plugin, Session, Tap};

/// How a check ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// It holds.
    Pass,
    /// It does not.
    Fail,
    /// It could not be run here (the reason says why).
    Skipped,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::Skipped => "skipped",
        })
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// What was checked, e.g. "paging returns every record once".
    pub check: &'static str,
    /// The capability it was checked on ("connector" for the base).
    pub capability: String,
    /// How it ended.
    pub status: Status,
    /// What was seen.
    pub reason: String,
}

impl Row {
    fn new(
        check: &'static str,
        capability: &str,
        status: Status,
        reason: impl Into<String>,
    ) -> Row {
        Row {
            check,
            capability: capability.to_string(),
            status,
            reason: reason.into(),
        }
    }

    fn pass(check: &'static str, capability: &str, reason: impl Into<String>) -> Row {
        Row::new(check, capability, Status::Pass, reason)
    }

    fn fail(check: &'static str, capability: &str, reason: impl Into<String>) -> Row {
        Row::new(check, capability, Status::Fail, reason)
    }

    fn skipped(check: &'static str, capability: &str, reason: impl Into<String>) -> Row {
        Row::new(check, capability, Status::Skipped, reason)
    }
}

/// The plugin under test, its grants on the target, and the tap on every session.
pub struct Harness {
    plugin: Plugin,
    grants: Grants,
    tap: Arc<Tap>,
    target: Target,
}

/// A call's wall time in the suite: a connector that needs longer for a handful of records is
/// stuck.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

impl Harness {
    /// The plugin on the target.
    pub fn new(plugin: Plugin, target: Target) -> Harness {
        let tap = Arc::new(Tap::default());
        let mut limits = Limits::CONNECTOR;
        limits.call_timeout = CALL_TIMEOUT;
        let mut grants = Grants::minimal(&format!("{}@conformance", plugin.name()), limits)
            .with_settings(target.settings.clone());
        grants.secrets = target.secrets.clone();
        grants.allowed_hosts = target.allowed_hosts();
        grants.tap = Some(tap.clone());
        Harness {
            plugin,
            grants,
            tap,
            target,
        }
    }

    /// A fresh instance with its own empty storage: what it knows comes from the target.
    async fn session(&self) -> Result<Session, CallError> {
        let mut grants = self.grants.clone();
        grants.kv = Kv::memory();
        self.plugin.session(grants).await
    }

    fn has(&self, capability: Capability) -> bool {
        self.plugin.description().capabilities.contains(&capability)
    }

    /// Runs every check that fits the plugin's capabilities, in a fixed order; the host and
    /// secret checks last, over everything the others made the plugin do.
    pub async fn run(&self) -> Vec<Row> {
        let mut rows = vec![self.connection().await];
        for capability in [
            Capability::ProductsSource,
            Capability::StockSource,
            Capability::OrdersSource,
        ] {
            if self.has(capability) {
                rows.extend(paging::run(self, capability).await);
            }
        }
        rows.extend(customers::run(self).await);
        rows.extend(markers::run(self).await);
        let (classified, batch) = batches::run(self).await;
        rows.extend(errors::run(self).await);
        rows.extend(classified);
        rows.extend(batch);
        rows.extend(hygiene::run(self));
        rows
    }

    /// `check`: the connection works at all.
    async fn connection(&self) -> Row {
        const CHECK: &str = "the connection check answers";
        let answer = match self.session().await {
            Ok(mut session) => session.check().await,
            Err(e) => Err(e),
        };
        match answer {
            Ok(line) => Row::pass(CHECK, "connector", line),
            Err(e) => Row::fail(CHECK, "connector", e.to_string()),
        }
    }
}

/// The report as a table: check, capability, result, reason.
pub fn table(rows: &[Row]) -> String {
    let width = |f: fn(&Row) -> usize, title: &str| {
        rows.iter().map(f).chain([title.len()]).max().unwrap_or(0)
    };
    let check = width(|r| r.check.len(), "check");
    let capability = width(|r| r.capability.len(), "capability");
    let mut out = format!(
        "{:check$}  {:capability$}  {:7}  reason\n",
        "check", "capability", "result"
    );
    for row in rows {
        out.push_str(&format!(
            "{:check$}  {:capability$}  {:7}  {}\n",
            row.check,
            row.capability,
            row.status.to_string(),
            row.reason
        ));
    }
    out
}
