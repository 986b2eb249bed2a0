//! The flows, one file each: [`orders`] (§1), [`stock`] (§2), [`products`] (§3) and
//! [`categories`] (§3.5), run by [`run_flow`].

pub mod categories;
mod context;
pub mod fingerprint;
pub mod orders;
pub mod products;
pub mod stock;

use anyhow::Result;

pub use context::{Entry, Options, RunContext, RunReport, redacted, summary};

use crate::config::FlowKind;
use crate::integration::Integration;
use crate::state::State;

/// Runs one flow once (or dry), start to end; the report says what happened to every record.
/// A run that fails is recorded as failed with its reason; the error is in the report, not
/// returned, unless the run could not even be started.
pub async fn run_flow(
    integration: &Integration,
    state: &State,
    name: &str,
    options: &Options,
) -> Result<RunReport> {
    let mut ctx = RunContext::begin(integration, state, name, options)?;
    tracing::info!(
        flow = name,
        run = ctx.run_id(),
        dry_run = options.dry_run,
        "run started"
    );
    let result = match ctx.flow.kind {
        FlowKind::Orders => orders::run(&mut ctx).await,
        FlowKind::Stock => stock::run(&mut ctx).await,
        FlowKind::Products => products::run(&mut ctx).await,
        FlowKind::Categories => categories::run(&mut ctx).await,
    };
    let report = ctx.finish(result);
    tracing::info!(flow = name, run = report.run.id, status = ?report.run.status, "{}", summary(&report.run.counts));
    Ok(report)
}
