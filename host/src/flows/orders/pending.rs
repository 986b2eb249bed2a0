//! Orders that cannot be sent now: parked until their products exist, failed until the merchant
//! retries or skips them, or asked to be retried. Each waits as a pending record that keeps only
//! the order's number and id, not its customer: when it is tried again it is read again from the
//! source by number, and mapped and transformed anew.

use std::collections::BTreeSet;

use anyhow::{Result, bail};
use chrono::Utc;

use super::{OrdersFlow, PAGE};
use crate::flows::context::{Entry, Rejection, RunContext, rejection_entry};
use crate::runtime::bindings::exports::tillbridge::plugin::orders_source::OrderQuery;
use crate::runtime::bindings::tillbridge::plugin::types::{Order, PluginError};
use crate::state::{Outcome, Pending, PendingState};

impl OrdersFlow<'_> {
    /// Step 2: parked orders whose products may exist now, and orders asked to be retried whose
    /// backoff has passed, oldest first, read again from the source. Returns how many were sent
    /// to be booked (at most `batch_size`).
    pub(super) async fn retry_pending(&mut self, ctx: &mut RunContext<'_>) -> Result<u32> {
        let now = Utc::now();
        let mut pending: Vec<Pending> = ctx
            .state
            .read()?
            .pending(ctx.name)?
            .into_iter()
            .filter(|p| p.state != PendingState::Failed && p.not_before.is_none_or(|t| t <= now))
            .collect();
        if pending.is_empty() {
            return Ok(0);
        }
        pending.sort_by_key(|p| p.since);
        let numbers: Vec<String> = pending.into_iter().map(|p| p.key).collect();
        let doing = format!("trying {} waiting order(s) again", numbers.len());
        tracing::info!("{doing}");
        ctx.progress(doing);
        let mut sent = 0;
        for chunk in numbers.chunks(PAGE as usize) {
            if ctx.cancelled() {
                break;
            }
            let orders = self.read_again(ctx, chunk).await?;
            let budget = self.settings.batch_size.saturating_sub(sent);
            sent += self.send(ctx, orders, budget).await?;
        }
        Ok(sent)
    }

    /// The waiting orders `numbers` as the source has them now, in the given order. One no
    /// longer in the chosen states (refunded or cancelled since, say) no longer waits.
    async fn read_again(
        &mut self,
        ctx: &mut RunContext<'_>,
        numbers: &[String],
    ) -> Result<Vec<Order>> {
        let query = OrderQuery {
            cursor: None,
            changed_since: None,
            order_states: self.settings.order_states.clone(),
            payment_states: self.settings.payment_states.clone(),
            numbers: numbers.to_vec(),
            limit: u32::try_from(numbers.len()).unwrap_or(PAGE),
        };
        let page = match self.source.read_orders(&query).await {
            Ok(page) => page,
            Err(e) => bail!(
                "cannot read the waiting orders from {}: {e}",
                ctx.flow.source
            ),
        };
        for rejected in &page.rejected {
            ctx.unreadable("order", &rejected.key, &rejected.error)?;
        }
        let read: BTreeSet<&str> = page
            .orders
            .iter()
            .map(|o| o.number.as_str())
            .chain(page.rejected.iter().map(|r| r.key.as_str()))
            .collect();
        for number in numbers.iter().filter(|n| !read.contains(n.as_str())) {
            let entry = Entry::new(
                "order",
                number,
                Outcome::Skipped,
                format!(
                    "no longer in {} in the chosen statuses; it is not sent",
                    ctx.flow.source
                ),
            );
            let flow = ctx.name.to_string();
            ctx.record(entry, |w| w.delete_pending(&flow, number))?;
        }
        let mut orders = page.orders;
        orders.sort_by_key(|o| numbers.iter().position(|n| *n == o.number));
        Ok(orders)
    }

    /// A whole batch failed: for a passing reason the cursor stays, so the orders come again.
    pub(super) fn batch_failed(&mut self, error: &PluginError) {
        if passing(error) {
            self.hold_cursor = true;
        }
    }

    /// An order a step could not take this run (`problem` says why). For a passing reason (the
    /// target busy or out of reach) it comes back by itself after a backoff, up to
    /// `retry_attempts`; otherwise it waits for the merchant to retry or skip it.
    pub(super) fn not_taken(
        &mut self,
        ctx: &mut RunContext<'_>,
        order: &Order,
        problem: String,
        passing: bool,
    ) -> Result<()> {
        if !passing {
            return self.waiting.fail(ctx, order, problem);
        }
        self.hold_cursor = true;
        let pending = self.backoff(ctx, order, &problem)?;
        ctx.record(
            Entry::new(
                "order",
                &order.number,
                Outcome::Failed,
                pending.reason.clone(),
            )
            .came(order),
            |w| w.put_pending(&pending),
        )
    }

    /// Every order of a batch a step could not take, for one `error`.
    pub(super) fn none_taken(
        &mut self,
        ctx: &mut RunContext<'_>,
        orders: &[Order],
        error: &PluginError,
        problem: &str,
    ) -> Result<()> {
        for order in orders {
            self.not_taken(ctx, order, problem.to_string(), passing(error))?;
        }
        Ok(())
    }
}

/// Whether an error passes by itself: the target was busy or out of reach.
pub(super) fn passing(error: &PluginError) -> bool {
    matches!(
        error,
        PluginError::RateLimited(_) | PluginError::Transient(_)
    )
}

/// How the orders that cannot be sent now are kept in the state file.
pub(super) struct Waiting;

impl Waiting {
    /// A pending record for an order (keeping its first date and counting attempts). It keeps
    /// only what reading the order again needs, its number and id: the customer's data stays in
    /// the source.
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
            reason: ctx.about(reason, order),
            missing,
            record: serde_json::json!({ "number": order.number, "id": order.id }),
            since: before.as_ref().map_or_else(Utc::now, |p| p.since),
            attempts: before.map_or(1, |p| p.attempts + 1),
            not_before: None,
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
