//! The flows, one file (or folder) each: [`orders`] (§1), [`stock`] (§2), [`products`] (§3) and
//! [`categories`] (§3.5), run by [`run_flow`]. What they share (the run, its report, the mapping
//! and the verdicts of transforms, retries) is in `context`; what they report as they go is the
//! stream of [`events`].

pub mod categories;
mod changes;
mod context;
pub mod events;
pub mod fingerprint;
pub mod orders;
pub mod products;
pub mod stock;

use anyhow::Result;
use tracing::Instrument;

pub use context::{Entry, Options, RunContext, RunReport, summary};
pub use events::{Event, EventSink, Events};

use crate::config::FlowKind;
use crate::integration::Integration;
use crate::state::State;

/// Runs one flow once (or dry), start to end; the report says what happened to every record.
/// A run that fails is recorded as failed with its reason; the error is in the report, not
/// returned, unless the run could not even be started.
///
/// Every log line of the run carries the flow and the run id (the `run` tracing span), and the
/// run reports [`Event`]s to `options.events` as it goes.
pub async fn run_flow(
    integration: &Integration,
    state: &State,
    name: &str,
    options: &Options,
) -> Result<RunReport> {
    let mut ctx = RunContext::begin(integration, state, name, options)?;
    let span = tracing::info_span!("run", flow = %name, run = ctx.run_id());
    async move {
        ctx.started();
        let result = match ctx.flow.kind {
            FlowKind::Orders => orders::run(&mut ctx).await,
            FlowKind::Stock => stock::run(&mut ctx).await,
            FlowKind::Products => products::run(&mut ctx).await,
            FlowKind::Categories => categories::run(&mut ctx).await,
        };
        Ok(ctx.finish(result))
    }
    .instrument(span)
    .await
}
