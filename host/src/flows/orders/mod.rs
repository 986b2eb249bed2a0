//! Orders: webshop → point of sale (FLOWS.md §1).
//!
//! A run, in order:
//! 1. Writes whose answer was never recorded (a crash between "sent" and "recorded") are looked up
//!    in the target first; what it has is linked, so it is never sent twice.
//! 2. Orders that wait (parked for a missing product, or asked to be retried) are read again from
//!    the source by number (the state file keeps only their numbers, not the customer's data)
//!    and tried again, oldest first, if they are still in the chosen statuses ([`pending`]).
//! 3. New orders are read from the cursor on, in the chosen statuses; the cursor moves only after
//!    every order of a page has its outcome recorded.
//!
//! `batch_size` caps the orders a run sends, waiting ones sent again included: new orders fill
//! what the waiting ones left.
//!
//! Per order (sendOrder): already sent → skipped, whether this state remembers it (a link) or only
//! the target has it (`find-orders`: the state is a cache, the target the truth); mapped and transformed; the customer matched by
//! e-mail and created or updated, or the default debtor ([`customers`]); every product checked,
//! a missing one parks the order instead of half-sending it ([`availability`]); then booked, with
//! an intent recorded before the request ([`booking`]).

mod availability;
mod booking;
mod customers;
mod pending;

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Result, bail};

use self::pending::Waiting;
use super::context::{Entry, RunContext, stops_run};
use crate::config::{FlowSettings, OrdersSettings};
use crate::mapper::Transforms;
use crate::runtime::bindings::exports::tillbridge::plugin::orders_sink::MarkerLookup;
use crate::runtime::bindings::exports::tillbridge::plugin::orders_source::OrderQuery;
use crate::runtime::bindings::tillbridge::plugin::types::{Order, PluginError};
use crate::runtime::{CallError, Session};
use crate::state::{Outcome, link_key};

/// Orders per page read from the source.
const PAGE: u32 = 50;

/// Runs the orders flow once.
pub async fn run(ctx: &mut RunContext<'_>) -> Result<()> {
    let flow = ctx.flow;
    let FlowSettings::Orders(settings) = &flow.settings else {
        bail!("flow {} is not an orders flow", ctx.name)
    };
    let mut orders = OrdersFlow {
        settings,
        source: ctx.connector(&flow.source).await?,
        target: ctx.connector(&flow.target).await?,
        transforms: ctx.transforms().await?,
        hold_cursor: false,
        waiting: Waiting,
        seen: BTreeSet::new(),
    };
    orders.reconcile(ctx).await?;
    let sent = orders.retry_pending(ctx).await?;
    orders
        .read_new(ctx, settings.batch_size.saturating_sub(sent))
        .await
}

struct OrdersFlow<'s> {
    settings: &'s OrdersSettings,
    source: Session,
    target: Session,
    transforms: Transforms,
    /// Set when an order of the page failed for a passing reason (the target was unreachable or
    /// busy): the cursor then stays before the page, so the next run reads it again.
    hold_cursor: bool,
    /// What the orders that cannot be sent now need to be sent later.
    waiting: Waiting,
    /// The orders this run has had in hand: one waiting order tried again and then read again
    /// from the cursor has its outcome once, not twice.
    seen: BTreeSet<String>,
}

/// An order on its way, with what was resolved for it.
struct Candidate {
    order: Order,
    customer_id: Option<String>,
}

fn order_key(ctx: &RunContext<'_>, number: &str) -> String {
    link_key("order", &ctx.flow.source, &ctx.flow.target, number)
}

/// A failed call that stops the run, or the error a batch of records fails with.
fn batch_error(error: CallError) -> Result<PluginError> {
    if stops_run(&error) {
        bail!(error);
    }
    Ok(match error {
        CallError::Plugin(e) => e,
        other => PluginError::Fatal(other.to_string()),
    })
}

/// The marker an order is created with in the target: its source order number.
fn order_marker(order: &Order) -> String {
    order.number.clone()
}

fn describe(error: &PluginError) -> String {
    CallError::Plugin(error.clone()).to_string()
}

impl OrdersFlow<'_> {
    /// Step 1: intents left by a run that stopped between sending and recording.
    async fn reconcile(&mut self, ctx: &mut RunContext<'_>) -> Result<()> {
        let intents = ctx.state.read()?.intents(ctx.name)?;
        if intents.is_empty() {
            return Ok(());
        }
        // Sent at `at`: it cannot have been created before.
        let lookups: Vec<MarkerLookup> = intents
            .iter()
            .map(|i| MarkerLookup {
                marker: i.marker().to_string(),
                since: i.at.to_rfc3339(),
            })
            .collect();
        let doing = format!(
            "looking up {} order(s) whose booking was never confirmed",
            lookups.len()
        );
        tracing::info!("{doing}");
        ctx.progress(doing);
        let found = match self.target.find_orders(&lookups).await {
            Ok(found) => found,
            Err(e) => bail!("cannot check the orders of an interrupted run: {e}"),
        };
        let found: BTreeMap<String, String> = found.into_iter().map(|r| (r.marker, r.id)).collect();
        for intent in intents {
            match found.get(intent.marker()) {
                Some(id) => {
                    let link = self.order_link(ctx, None, id);
                    let key = order_key(ctx, &intent.key);
                    let entry = Entry::new("order", &intent.key, Outcome::Skipped, format!("already in {} as order {id} (booked by run {} before it was interrupted)", ctx.flow.target, intent.run))
                        .answer(id.clone());
                    let flow = ctx.name.to_string();
                    ctx.record(entry, |w| {
                        w.put_link(&key, &link)?;
                        w.delete_intent(&flow, &intent.key)?;
                        w.delete_pending(&flow, &intent.key)
                    })?;
                }
                // Never booked: it is read again from the cursor (not committed) or from pending.
                None => ctx.commit(|w| w.delete_intent(ctx.name, &intent.key))?,
            }
        }
        Ok(())
    }

    /// Step 3: new orders from the cursor on, at most `remaining`.
    async fn read_new(&mut self, ctx: &mut RunContext<'_>, mut remaining: u32) -> Result<()> {
        let mut cursor = ctx.state.read()?.cursor(ctx.name)?;
        let changed_since = self.settings.start().map(|t| t.to_rfc3339());
        while remaining > 0 && !ctx.cancelled() {
            ctx.progress(format!("reading new orders from {}", ctx.flow.source));
            let query = OrderQuery {
                cursor: cursor.clone(),
                changed_since: changed_since.clone(),
                order_states: self.settings.order_states.clone(),
                payment_states: self.settings.payment_states.clone(),
                numbers: Vec::new(),
                limit: remaining.min(PAGE),
            };
            let page = match self.source.read_orders(&query).await {
                Ok(page) => page,
                Err(e) => bail!("cannot read orders from {}: {e}", ctx.flow.source),
            };
            for rejected in &page.rejected {
                ctx.unreadable("order", &rejected.key, &rejected.error)?;
            }
            let count = u32::try_from(page.orders.len()).unwrap_or(u32::MAX);
            self.send(ctx, page.orders, remaining).await?;
            if self.hold_cursor {
                tracing::info!(
                    "the target did not confirm every order; the cursor stays for the next run"
                );
                break;
            }
            if ctx.cancelled() {
                // The page's records are all recorded one by one; re-reading it next time skips
                // the ones already sent.
                break;
            }
            if let Some(next) = &page.cursor {
                ctx.commit(|w| w.put_cursor(ctx.name, next))?;
            }
            cursor = page.cursor.or(cursor);
            remaining = remaining.saturating_sub(count.max(1));
            if !page.more {
                break;
            }
        }
        Ok(())
    }

    /// sendOrder for a batch: every order ends created, skipped, parked or failed, except that
    /// at most `budget` are booked; the rest wait for the next run. Returns how many were sent
    /// to be booked.
    async fn send(
        &mut self,
        ctx: &mut RunContext<'_>,
        orders: Vec<Order>,
        budget: u32,
    ) -> Result<u32> {
        let unlinked = self.skip_sent(ctx, orders)?;
        let fresh = self.skip_booked(ctx, unlinked).await?;
        let waiting = &self.waiting;
        let mapped = ctx
            .map(&mut self.transforms, fresh, |ctx, order, rejection| {
                waiting.reject(ctx, order, rejection)
            })
            .await?;
        let with_customers = self.customers(ctx, mapped).await?;
        let mut ready = self.availability(ctx, with_customers).await?;
        let budget = usize::try_from(budget).unwrap_or(usize::MAX);
        if ready.len() > budget {
            let later: Vec<Order> = ready
                .split_off(budget)
                .into_iter()
                .map(|(c, _)| c.order)
                .collect();
            tracing::info!(
                "{} order(s) ready to be booked wait for the next run (batch_size {})",
                later.len(),
                self.settings.batch_size
            );
            self.waiting.defer(ctx, &later)?;
        }
        let sent = u32::try_from(ready.len()).unwrap_or(u32::MAX);
        self.book(ctx, ready).await?;
        Ok(sent)
    }

    /// Already booked (linked) orders are skipped; one this run had in hand already, or one
    /// whose backoff has not passed (read again from a held cursor), is left out.
    fn skip_sent(&mut self, ctx: &mut RunContext<'_>, orders: Vec<Order>) -> Result<Vec<Order>> {
        let read = ctx.state.read()?;
        let now = chrono::Utc::now();
        let mut fresh = Vec::new();
        for order in orders {
            if !self.seen.insert(order.number.clone()) {
                continue;
            }
            let backing_off = read
                .pending_one(ctx.name, &order.number)?
                .and_then(|p| p.not_before)
                .is_some_and(|t| t > now);
            if backing_off {
                continue;
            }
            match read.link(&order_key(ctx, &order.number))? {
                Some(link) => {
                    let id = link.ids.get(&ctx.flow.target).cloned().unwrap_or_default();
                    let flow = ctx.name.to_string();
                    let number = order.number.clone();
                    let entry = Entry::new(
                        "order",
                        &order.number,
                        Outcome::Skipped,
                        format!("already in {} as order {id}", ctx.flow.target),
                    );
                    ctx.record(entry, |w| w.delete_pending(&flow, &number))?;
                }
                None => fresh.push(order),
            }
        }
        Ok(fresh)
    }

    /// Orders the target has although this state has no link for them (the state file was lost,
    /// or the order was booked by hand or by a previous integration with the marker) are linked
    /// and skipped, before any customer is written for them.
    async fn skip_booked(
        &mut self,
        ctx: &mut RunContext<'_>,
        orders: Vec<Order>,
    ) -> Result<Vec<Order>> {
        if orders.is_empty() {
            return Ok(orders);
        }
        let lookups: Vec<MarkerLookup> = orders
            .iter()
            .map(|o| MarkerLookup {
                marker: order_marker(o),
                since: o.ordered_at.clone(),
            })
            .collect();
        let found = match self.target.find_orders(&lookups).await {
            Ok(found) => found,
            Err(e) => {
                // Unknown whether they are booked: none is sent, none is lost.
                let error = batch_error(e)?;
                let problem = format!(
                    "cannot check whether {} has the order already: {}",
                    ctx.flow.target,
                    describe(&error)
                );
                self.none_taken(ctx, &orders, &error, &problem)?;
                return Ok(Vec::new());
            }
        };
        let found: BTreeMap<String, String> = found.into_iter().map(|r| (r.marker, r.id)).collect();
        let mut fresh = Vec::new();
        for order in orders {
            let Some(id) = found.get(&order_marker(&order)) else {
                fresh.push(order);
                continue;
            };
            let link = self.order_link(ctx, Some(&order.id), id);
            let key = order_key(ctx, &order.number);
            let (flow, number) = (ctx.name.to_string(), order.number.clone());
            let entry = Entry::new(
                "order",
                &order.number,
                Outcome::Skipped,
                format!("already in {} as order {id}", ctx.flow.target),
            )
            .answer(id.clone());
            ctx.record(entry, |w| {
                w.put_link(&key, &link)?;
                w.delete_pending(&flow, &number)
            })?;
        }
        Ok(fresh)
    }
}
