//! Orders that cannot be sent now: parked until their products exist, failed until the merchant
//! retries or skips them, or asked to be retried. Each waits as a pending record with the order
//! as the source gave it, so that it is mapped and transformed anew when it is tried again.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::Utc;

use super::OrdersFlow;
use crate::flows::context::{Entry, Rejection, RunContext, rejection_entry};
use crate::runtime::bindings::tillbridge::plugin::types::{Order, PluginError};
use crate::state::{Outcome, Pending, PendingState};

impl OrdersFlow<'_> {
    /// Step 2: parked orders whose products may exist now, and orders asked to be retried,
    /// oldest first. Returns how many were sent to be booked (at most `batch_size`).
    pub(super) async fn retry_pending(&mut self, ctx: &mut RunContext<'_>) -> Result<u32> {
        let mut pending: Vec<Pending> = ctx
            .state
            .read()?
            .pending(ctx.name)?
            .into_iter()
            .filter(|p| p.state != PendingState::Failed)
            .collect();
        if pending.is_empty() {
            return Ok(0);
        }
        pending.sort_by_key(|p| p.since);
        let mut orders = Vec::new();
        for p in pending {
            match serde_json::from_value::<Order>(p.record.clone()) {
                Ok(order) => orders.push(order),
                Err(e) => {
                    tracing::error!(key = %p.key, "cannot read the waiting order back: {e}")
                }
            }
        }
        let doing = format!("trying {} waiting order(s) again", orders.len());
        tracing::info!("{doing}");
        ctx.progress(doing);
        self.send(ctx, orders, self.settings.batch_size).await
    }

    /// A whole batch failed: for a passing reason the cursor stays, so the orders come again.
    pub(super) fn batch_failed(&mut self, error: &PluginError) {
        if matches!(
            error,
            PluginError::RateLimited(_) | PluginError::Transient(_)
        ) {
            self.hold_cursor = true;
        }
    }
}

/// The orders of the batch in hand as the source gave them, to keep with those that wait.
#[derive(Default)]
pub(super) struct Waiting {
    originals: BTreeMap<String, Order>,
}

impl Waiting {
    /// Keeps the orders of a new batch as they came.
    pub(super) fn hold(&mut self, orders: &[Order]) {
        self.originals = orders
            .iter()
            .map(|o| (o.number.clone(), o.clone()))
            .collect();
    }

    /// A pending record for an order (keeping its first date and counting attempts).
    pub(super) fn pending(
        &self,
        ctx: &RunContext<'_>,
        order: &Order,
        state: PendingState,
        reason: String,
        missing: Vec<String>,
    ) -> Result<Pending> {
        let before = ctx.state.read()?.pending_one(ctx.name, &order.number)?;
        Ok(Pending {
            flow: ctx.name.to_string(),
            key: order.number.clone(),
            state,
            reason,
            missing,
            record: serde_json::to_value(self.originals.get(&order.number).unwrap_or(order))?,
            since: before.as_ref().map_or_else(Utc::now, |p| p.since),
            attempts: before.map_or(1, |p| p.attempts + 1),
        })
    }

    /// Fails an order: it waits until the merchant retries or skips it.
    pub(super) fn fail(
        &self,
        ctx: &mut RunContext<'_>,
        order: &Order,
        message: String,
    ) -> Result<()> {
        let pending = self.pending(ctx, order, PendingState::Failed, message.clone(), vec![])?;
        ctx.record(
            Entry::new("order", &order.number, Outcome::Failed, message).came(order),
            |w| w.put_pending(&pending),
        )
    }

    /// Fails every order of a batch with one reason.
    pub(super) fn fail_all(
        &self,
        ctx: &mut RunContext<'_>,
        orders: &[Order],
        message: &str,
    ) -> Result<()> {
        for order in orders {
            self.fail(ctx, order, message.to_string())?;
        }
        Ok(())
    }

    /// An order the mapping left out: a failed one waits as failed; a dropped one no longer
    /// waits.
    pub(super) fn reject(
        &self,
        ctx: &mut RunContext<'_>,
        order: &Order,
        rejection: Rejection,
    ) -> Result<()> {
        match rejection {
            Rejection::Failed(message) => self.fail(ctx, order, message),
            dropped @ Rejection::Dropped(_) => {
                let (flow, number) = (ctx.name.to_string(), order.number.clone());
                ctx.record(rejection_entry(order, dropped), |w| {
                    w.delete_pending(&flow, &number)
                })
            }
        }
    }

    /// Parks an order until its products exist. A parked order tried again and still waiting is
    /// not logged again; its attempts are counted.
    pub(super) fn park(
        &self,
        ctx: &mut RunContext<'_>,
        order: &Order,
        missing: Vec<String>,
    ) -> Result<()> {
        let message = format!(
            "waits for product(s) {} to exist in {}; it is sent automatically once they do",
            missing.join(", "),
            ctx.flow.target
        );
        let pending = self.pending(
            ctx,
            order,
            PendingState::Parked,
            message.clone(),
            missing.clone(),
        )?;
        let already = ctx
            .state
            .read()?
            .pending_one(ctx.name, &order.number)?
            .is_some_and(|p| p.state == PendingState::Parked && p.missing == missing);
        if already {
            return ctx.commit(|w| w.put_pending(&pending));
        }
        ctx.record(
            Entry::new("order", &order.number, Outcome::Parked, message).came(order),
            |w| w.put_pending(&pending),
        )
    }

    /// Orders ready to be booked beyond the run's `batch_size`: they are sent first by the next
    /// run, as orders asked to be retried.
    pub(super) fn defer(&self, ctx: &mut RunContext<'_>, orders: &[Order]) -> Result<()> {
        let reason =
            "ready to be booked; waits for the next run, as this run sent its batch_size of orders"
                .to_string();
        let mut deferred = Vec::with_capacity(orders.len());
        for order in orders {
            deferred.push(self.pending(ctx, order, PendingState::Retry, reason.clone(), vec![])?);
        }
        ctx.commit(|w| deferred.iter().try_for_each(|p| w.put_pending(p)))
    }
}
