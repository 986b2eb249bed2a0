//! Orders: webshop → point of sale (FLOWS.md §1).
//!
//! A run, in order:
//! 1. Writes whose answer was never recorded (a crash between "sent" and "recorded") are looked up
//!    in the target first; what it has is linked, so it is never sent twice.
//! 2. Orders that waited (parked for a missing product, or asked to be retried) are read again
//!    from the source by number (the state file keeps only their numbers, not the customer's
//!    data) and tried again, if they are still in the chosen statuses.
//! 3. New orders are read from the cursor on, in the chosen statuses, at most `batch_size`; the
//!    cursor moves only after every order of a page has its outcome recorded.
//!
//! Per order (sendOrder): already sent → skipped; mapped and transformed; the customer matched by
//! e-mail and created or updated (or the default debtor); every product checked (missing → the
//! order is parked, not half-sent); then booked, with an intent recorded before the request.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Result, bail};
use chrono::Utc;

use super::context::{Entry, RunContext, retrying, stops_run};
use super::fingerprint;
use crate::config::{FlowSettings, OrdersSettings};
use crate::mapper::Transforms;
use crate::runtime::bindings::exports::tillbridge::plugin::customers::CustomerWrite;
use crate::runtime::bindings::exports::tillbridge::plugin::orders_sink::OrderSubmission;
use crate::runtime::bindings::exports::tillbridge::plugin::orders_source::OrderQuery;
use crate::runtime::bindings::exports::tillbridge::plugin::transformer::{Entity, Verdict};
use crate::runtime::bindings::tillbridge::plugin::types::{
    Company, Customer, Order, PluginError, ProductRef, Rejected,
};
use crate::runtime::{CallError, Session};
use crate::state::{Intent, Link, Outcome, Pending, PendingState, link_key};

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
    };
    orders.reconcile(ctx).await?;
    orders.retry_pending(ctx).await?;
    orders.read_new(ctx).await
}

struct OrdersFlow<'s> {
    settings: &'s OrdersSettings,
    source: Session,
    target: Session,
    transforms: Transforms,
    /// Set when an order of the page failed for a passing reason (the target was unreachable or
    /// busy): the cursor then stays before the page, so the next run reads it again.
    hold_cursor: bool,
}

/// An order on its way, with what was resolved for it.
struct Candidate {
    order: Order,
    customer_id: Option<String>,
}

fn order_key(ctx: &RunContext<'_>, number: &str) -> String {
    link_key("order", &ctx.flow.source, &ctx.flow.target, number)
}

fn product_key(ctx: &RunContext<'_>, sku: &str) -> String {
    link_key("product", &ctx.flow.source, &ctx.flow.target, sku)
}

/// A customer's link is keyed by the pseudonym of its e-mail address, never the address.
fn customer_key(ctx: &RunContext<'_>, email: &str) -> String {
    link_key(
        "customer",
        &ctx.flow.source,
        &ctx.flow.target,
        &ctx.state.pseudonym(&email.to_lowercase()),
    )
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
        let numbers: Vec<String> = intents.iter().map(|i| i.key.clone()).collect();
        tracing::info!(
            flow = ctx.name,
            "looking up {} order(s) whose booking was never confirmed",
            numbers.len()
        );
        let found = match retrying!(self.target.find_orders(&numbers).await) {
            Ok(found) => found,
            Err(e) => bail!("cannot check the orders of an interrupted run: {e}"),
        };
        let found: BTreeMap<String, String> = found.into_iter().map(|r| (r.number, r.id)).collect();
        for intent in intents {
            match found.get(&intent.key) {
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

    /// Step 2: parked orders whose products may exist now, and orders asked to be retried, read
    /// again from the source by number. One no longer in the chosen statuses (cancelled since,
    /// say) is not sent.
    async fn retry_pending(&mut self, ctx: &mut RunContext<'_>) -> Result<()> {
        let numbers: Vec<String> = ctx
            .state
            .read()?
            .pending(ctx.name)?
            .into_iter()
            .filter(|p| p.state != PendingState::Failed)
            .map(|p| p.key)
            .collect();
        if numbers.is_empty() {
            return Ok(());
        }
        tracing::info!(
            flow = ctx.name,
            "trying {} waiting order(s) again",
            numbers.len()
        );
        for chunk in numbers.chunks(PAGE as usize) {
            if ctx.cancelled() {
                break;
            }
            let query = OrderQuery {
                cursor: None,
                changed_since: None,
                order_states: self.settings.order_states.clone(),
                payment_states: self.settings.payment_states.clone(),
                numbers: chunk.to_vec(),
                limit: u32::try_from(chunk.len()).unwrap_or(PAGE),
            };
            let page = match retrying!(self.source.read_orders(&query).await) {
                Ok(page) => page,
                Err(e) => bail!(
                    "cannot read the waiting orders from {}: {e}",
                    ctx.flow.source
                ),
            };
            self.record_rejected(ctx, &page.rejected)?;
            let read: BTreeSet<&str> = page
                .orders
                .iter()
                .map(|o| o.number.as_str())
                .chain(page.rejected.iter().map(|r| r.key.as_str()))
                .collect();
            for number in chunk.iter().filter(|n| !read.contains(n.as_str())) {
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
            self.send(ctx, page.orders).await?;
        }
        Ok(())
    }

    /// Orders the source could not read into the canonical model fail, each with its reason.
    fn record_rejected(&self, ctx: &mut RunContext<'_>, rejected: &[Rejected]) -> Result<()> {
        for rejected in rejected {
            let entry = Entry::new(
                "order",
                &rejected.key,
                Outcome::Failed,
                format!(
                    "cannot be read from {}: {}",
                    ctx.flow.source,
                    describe(&rejected.error)
                ),
            );
            ctx.record(entry, |_| Ok(()))?;
        }
        Ok(())
    }

    /// Step 3: new orders from the cursor on.
    async fn read_new(&mut self, ctx: &mut RunContext<'_>) -> Result<()> {
        let mut cursor = ctx.state.read()?.cursor(ctx.name)?;
        let mut remaining = self.settings.batch_size;
        let changed_since = self.settings.start().map(|t| t.to_rfc3339());
        while remaining > 0 && !ctx.cancelled() {
            let query = OrderQuery {
                cursor: cursor.clone(),
                changed_since: changed_since.clone(),
                order_states: self.settings.order_states.clone(),
                payment_states: self.settings.payment_states.clone(),
                numbers: Vec::new(),
                limit: remaining.min(PAGE),
            };
            let page = match retrying!(self.source.read_orders(&query).await) {
                Ok(page) => page,
                Err(e) => bail!("cannot read orders from {}: {e}", ctx.flow.source),
            };
            self.record_rejected(ctx, &page.rejected)?;
            let count = u32::try_from(page.orders.len()).unwrap_or(u32::MAX);
            self.send(ctx, page.orders).await?;
            if self.hold_cursor {
                tracing::info!(
                    flow = ctx.name,
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

    /// sendOrder for a batch: every order ends created, skipped, parked or failed.
    async fn send(&mut self, ctx: &mut RunContext<'_>, orders: Vec<Order>) -> Result<()> {
        let fresh = self.skip_sent(ctx, orders)?;
        let mapped = self.map(ctx, fresh).await?;
        let with_customers = self.customers(ctx, mapped).await?;
        let ready = self.products(ctx, with_customers).await?;
        self.book(ctx, ready).await
    }

    /// Already booked (linked) orders are skipped.
    fn skip_sent(&self, ctx: &mut RunContext<'_>, orders: Vec<Order>) -> Result<Vec<Order>> {
        let read = ctx.state.read()?;
        let mut fresh = Vec::new();
        let mut seen = BTreeSet::new();
        for order in orders {
            if !seen.insert(order.number.clone()) {
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

    /// Field overrides, the transform chain, and the enrichment (store).
    async fn map(&mut self, ctx: &mut RunContext<'_>, orders: Vec<Order>) -> Result<Vec<Order>> {
        let mut mapped = Vec::new();
        for order in orders {
            match ctx.overrides.apply(order.clone()) {
                Ok(o) => mapped.push(o),
                Err(e) => self.fail(ctx, &order, format!("{e:#}"))?,
            }
        }
        if mapped.is_empty() {
            return Ok(mapped);
        }
        let originals = mapped.clone();
        let context = ctx.flow_context();
        let verdicts = match self
            .transforms
            .apply(&context, mapped.into_iter().map(Entity::Order).collect())
            .await
        {
            Ok(v) => v,
            Err(e) => bail!("a transform of flow {} stopped: {e}", ctx.name),
        };
        let mut out = Vec::new();
        for (original, verdict) in originals.into_iter().zip(verdicts) {
            match verdict {
                Verdict::Keep(Entity::Order(order)) => out.push(order),
                Verdict::Keep(_) => self.fail(
                    ctx,
                    &original,
                    "a transform turned the order into another kind of record".into(),
                )?,
                Verdict::Drop(reason) => {
                    let (flow, number) = (ctx.name.to_string(), original.number.clone());
                    ctx.record(
                        Entry::new("order", &original.number, Outcome::Skipped, reason)
                            .came(&original),
                        |w| w.delete_pending(&flow, &number),
                    )?;
                }
                Verdict::Fail(problem) => self.fail(ctx, &original, problem.message)?,
            }
        }
        Ok(out)
    }

    /// The debtor of each order: the default debtor, or the customer matched by e-mail and
    /// created or updated.
    async fn customers(
        &mut self,
        ctx: &mut RunContext<'_>,
        orders: Vec<Order>,
    ) -> Result<Vec<Candidate>> {
        if let Some(debtor) = &self.settings.default_debtor {
            return Ok(orders
                .into_iter()
                .map(|order| Candidate {
                    order,
                    customer_id: Some(debtor.clone()),
                })
                .collect());
        }
        // One desired customer per e-mail (the latest order's data wins).
        let mut desired: BTreeMap<String, Customer> = BTreeMap::new();
        for order in &orders {
            desired.insert(order.customer.email.to_lowercase(), debtor(order));
        }
        let read = ctx.state.read()?;
        let mut known: BTreeMap<String, Link> = BTreeMap::new();
        for email in desired.keys() {
            if let Some(link) = read.link(&customer_key(ctx, email))? {
                known.insert(email.clone(), link);
            }
        }
        drop(read);
        let unknown: Vec<String> = desired
            .keys()
            .filter(|e| !known.contains_key(*e))
            .cloned()
            .collect();
        let mut found: BTreeMap<String, String> = BTreeMap::new();
        if !unknown.is_empty() {
            match retrying!(self.target.find_customers(&unknown).await) {
                Ok(refs) => found.extend(refs.into_iter().map(|r| (r.email.to_lowercase(), r.id))),
                Err(e) => {
                    let error = batch_error(e)?;
                    self.batch_failed(&error);
                    return self.fail_all(
                        ctx,
                        orders,
                        format!(
                            "cannot look customers up in {}: {}",
                            ctx.flow.target,
                            describe(&error)
                        ),
                    );
                }
            }
        }

        let mut ids: BTreeMap<String, Result<String, String>> = BTreeMap::new();
        let mut writes = Vec::new();
        for (email, customer) in &desired {
            let print = fingerprint::of(&without_source_ids(customer));
            let target_id = known
                .get(email)
                .and_then(|l| l.ids.get(&ctx.flow.target).cloned())
                .or_else(|| found.get(email).cloned());
            match (&target_id, known.get(email)) {
                (Some(id), Some(link)) if link.fingerprint.as_deref() == Some(print.as_str()) => {
                    ids.insert(email.clone(), Ok(id.clone()));
                    let shown = ctx.person_key(email);
                    ctx.unchanged("customer", &shown, format!("customer {id} is up to date"));
                }
                _ => writes.push((
                    email.clone(),
                    print,
                    CustomerWrite {
                        customer: customer.clone(),
                        target_id,
                    },
                )),
            }
        }
        if !writes.is_empty() {
            let batch: Vec<CustomerWrite> = writes.iter().map(|(_, _, w)| w.clone()).collect();
            let results = if ctx.dry_run {
                Ok(Vec::new())
            } else {
                self.target.write_customers(&batch).await
            };
            let results: BTreeMap<String, Result<String, PluginError>> = match results {
                Ok(rs) => rs
                    .into_iter()
                    .map(|r| (r.key.to_lowercase(), r.outcome.map(|w| w.id)))
                    .collect(),
                Err(e) => {
                    let error = batch_error(e)?;
                    self.batch_failed(&error);
                    writes
                        .iter()
                        .map(|(email, _, _)| (email.clone(), Err(error.clone())))
                        .collect()
                }
            };
            for (email, print, write) in writes {
                let shown = ctx.person_key(&email);
                let update = write.target_id.is_some();
                let outcome = if update {
                    Outcome::Updated
                } else {
                    Outcome::Created
                };
                let result = if ctx.dry_run {
                    Ok(write.target_id.clone().unwrap_or_else(|| "(new)".into()))
                } else {
                    results.get(&email).cloned().unwrap_or_else(|| {
                        Err(PluginError::Fatal(format!(
                            "{} gave no answer for customer {shown}",
                            ctx.flow.target
                        )))
                    })
                };
                match result {
                    Ok(id) => {
                        let verb = match (update, ctx.dry_run) {
                            (true, false) => "updated",
                            (false, false) => "created",
                            (true, true) => "would be updated",
                            (false, true) => "would be created",
                        };
                        let kind = if write.customer.company.is_some() {
                            "business customer"
                        } else {
                            "private customer"
                        };
                        let link = Link {
                            ids: BTreeMap::from([(ctx.flow.target.clone(), id.clone())]),
                            variant_ids: BTreeMap::new(),
                            fingerprint: Some(print),
                            synced_at: Utc::now(),
                            flow: ctx.name.to_string(),
                        };
                        let key = customer_key(ctx, &email);
                        let entry =
                            Entry::new("customer", &shown, outcome, format!("{kind} {id} {verb}"))
                                .sent(&write.customer)
                                .answer(id.clone());
                        ctx.record(entry, |w| w.put_link(&key, &link))?;
                        ids.insert(email, Ok(id));
                    }
                    Err(error) => {
                        self.batch_failed(&error);
                        let message = format!(
                            "customer {shown} could not be written to {}: {}",
                            ctx.flow.target,
                            describe(&error)
                        );
                        ctx.record(
                            Entry::new("customer", &shown, Outcome::Failed, message.clone())
                                .sent(&write.customer),
                            |_| Ok(()),
                        )?;
                        ids.insert(email, Err(message));
                    }
                }
            }
        }

        let mut candidates = Vec::new();
        for order in orders {
            match ids.get(&order.customer.email.to_lowercase()) {
                Some(Ok(id)) => candidates.push(Candidate {
                    customer_id: Some(id.clone()),
                    order,
                }),
                Some(Err(message)) => {
                    let message = message.clone();
                    self.fail(ctx, &order, message)?;
                }
                None => self.fail(ctx, &order, "no customer was resolved".into())?,
            }
        }
        Ok(candidates)
    }

    /// Every product of every order must exist in the target; orders that lack one are parked.
    async fn products(
        &mut self,
        ctx: &mut RunContext<'_>,
        candidates: Vec<Candidate>,
    ) -> Result<Vec<(Candidate, Vec<ProductRef>)>> {
        let skus: BTreeSet<String> = candidates.iter().flat_map(|c| skus_of(&c.order)).collect();
        let mut refs: BTreeMap<String, ProductRef> = BTreeMap::new();
        {
            let read = ctx.state.read()?;
            for sku in &skus {
                if let Some(link) = read.link(&product_key(ctx, sku))?
                    && let Some(id) = link.ids.get(&ctx.flow.target)
                {
                    refs.insert(
                        sku.clone(),
                        ProductRef {
                            sku: sku.clone(),
                            id: id.clone(),
                            variant_id: link.variant_ids.get(&ctx.flow.target).cloned(),
                        },
                    );
                }
            }
        }
        let unknown: Vec<String> = skus
            .iter()
            .filter(|s| !refs.contains_key(*s))
            .cloned()
            .collect();
        if !unknown.is_empty() {
            match retrying!(self.target.find_products(&unknown).await) {
                Ok(found) => {
                    for r in found {
                        let link = Link {
                            ids: BTreeMap::from([(ctx.flow.target.clone(), r.id.clone())]),
                            variant_ids: r
                                .variant_id
                                .iter()
                                .map(|v| (ctx.flow.target.clone(), v.clone()))
                                .collect(),
                            fingerprint: None,
                            synced_at: Utc::now(),
                            flow: ctx.name.to_string(),
                        };
                        let key = product_key(ctx, &r.sku);
                        ctx.commit(|w| match w.link(&key)? {
                            // Keep what a products flow knows (its fingerprint, the source id).
                            Some(mut existing) => {
                                existing.ids.extend(link.ids.clone());
                                existing.variant_ids.extend(link.variant_ids.clone());
                                w.put_link(&key, &existing)
                            }
                            None => w.put_link(&key, &link),
                        })?;
                        refs.insert(r.sku.clone(), r);
                    }
                }
                Err(e) => {
                    let error = batch_error(e)?;
                    self.batch_failed(&error);
                    let message = format!(
                        "cannot check products in {}: {}",
                        ctx.flow.target,
                        describe(&error)
                    );
                    for c in candidates {
                        self.fail(ctx, &c.order, message.clone())?;
                    }
                    return Ok(Vec::new());
                }
            }
        }
        let mut ready = Vec::new();
        for candidate in candidates {
            let missing: Vec<String> = skus_of(&candidate.order)
                .into_iter()
                .filter(|s| !refs.contains_key(s))
                .collect();
            if missing.is_empty() {
                let order_refs = skus_of(&candidate.order)
                    .iter()
                    .filter_map(|s| refs.get(s).cloned())
                    .collect();
                ready.push((candidate, order_refs));
            } else {
                self.park(ctx, &candidate.order, missing)?;
            }
        }
        Ok(ready)
    }

    /// Books the orders: an intent per order first, then one call, then each answer recorded with
    /// its link.
    async fn book(
        &mut self,
        ctx: &mut RunContext<'_>,
        ready: Vec<(Candidate, Vec<ProductRef>)>,
    ) -> Result<()> {
        if ready.is_empty() {
            return Ok(());
        }
        let submissions: Vec<OrderSubmission> = ready
            .into_iter()
            .map(|(c, refs)| self.submission(c, refs))
            .collect();
        if ctx.dry_run {
            for s in &submissions {
                let entry = Entry::new(
                    "order",
                    &s.order.number,
                    Outcome::Created,
                    format!(
                        "would be booked in {} for customer {}",
                        ctx.flow.target, s.customer_id
                    ),
                )
                .sent(s);
                ctx.record(entry, |_| Ok(()))?;
            }
            return Ok(());
        }
        let run = ctx.run_id();
        ctx.commit(|w| {
            for s in &submissions {
                w.put_intent(&Intent {
                    flow: ctx.name.to_string(),
                    key: s.order.number.clone(),
                    run,
                    at: Utc::now(),
                })?;
            }
            Ok(())
        })?;
        let answers: BTreeMap<String, Result<String, PluginError>> =
            match self.target.create_orders(&submissions).await {
                Ok(results) => results
                    .into_iter()
                    .map(|r| (r.key, r.outcome.map(|w| w.id)))
                    .collect(),
                Err(e) => {
                    // Unknown which were booked: the intents stay, and the next run looks them up.
                    let error = batch_error(e)?;
                    self.batch_failed(&error);
                    submissions
                        .iter()
                        .map(|s| (s.order.number.clone(), Err(error.clone())))
                        .collect()
                }
            };
        for s in submissions {
            let number = s.order.number.clone();
            let answer = answers.get(&number).cloned().unwrap_or_else(|| {
                Err(PluginError::Transient(format!(
                    "{} gave no answer for this order",
                    ctx.flow.target
                )))
            });
            let flow = ctx.name.to_string();
            match answer {
                Ok(id) => {
                    let link = self.order_link(ctx, Some(&s.order.id), &id);
                    let key = order_key(ctx, &number);
                    let entry = Entry::new(
                        "order",
                        &number,
                        Outcome::Created,
                        format!("booked in {} as order {id}", ctx.flow.target),
                    )
                    .sent(&s)
                    .answer(id.clone());
                    ctx.record(entry, |w| {
                        w.put_link(&key, &link)?;
                        w.delete_intent(&flow, &number)?;
                        w.delete_pending(&flow, &number)
                    })?;
                }
                Err(error @ (PluginError::RateLimited(_) | PluginError::Transient(_))) => {
                    // Maybe booked, maybe not: the intent stays to be looked up, the order waits.
                    self.hold_cursor = true;
                    let message = format!(
                        "not confirmed by {} ({}); it is checked and retried on the next run",
                        ctx.flow.target,
                        describe(&error)
                    );
                    let pending =
                        self.pending(ctx, &s.order, PendingState::Retry, message.clone(), vec![])?;
                    ctx.record(
                        Entry::new("order", &number, Outcome::Failed, message).sent(&s),
                        |w| w.put_pending(&pending),
                    )?;
                }
                Err(error) => {
                    let message = format!("refused by {}: {}", ctx.flow.target, describe(&error));
                    let pending =
                        self.pending(ctx, &s.order, PendingState::Failed, message.clone(), vec![])?;
                    ctx.record(
                        Entry::new("order", &number, Outcome::Failed, message)
                            .sent(&s)
                            .answer(describe(&error)),
                        |w| {
                            w.delete_intent(&flow, &number)?;
                            w.put_pending(&pending)
                        },
                    )?;
                }
            }
        }
        Ok(())
    }

    /// What the target is asked to book, with the merchant's value maps applied.
    fn submission(&self, candidate: Candidate, products: Vec<ProductRef>) -> OrderSubmission {
        let order = candidate.order;
        let method = order.payment_method.clone();
        let lookup = |map: &BTreeMap<String, String>| {
            let name = method.as_deref()?.trim().to_lowercase();
            map.iter()
                .find(|(k, _)| k.trim().to_lowercase() == name)
                .map(|(_, v)| v.clone())
        };
        let store = order
            .sales_channel
            .as_ref()
            .and_then(|c| self.settings.store_map.get(c).cloned())
            .or_else(|| self.settings.store.clone());
        OrderSubmission {
            customer_id: candidate.customer_id.unwrap_or_default(),
            products,
            payment_method: lookup(&self.settings.payment_methods).or(method.clone()),
            payment_condition: lookup(&self.settings.payment_conditions),
            store,
            status: self.settings.order_status.clone(),
            paid: order.payment_state == "paid",
            order,
        }
    }

    fn order_link(&self, ctx: &RunContext<'_>, source_id: Option<&str>, target_id: &str) -> Link {
        let mut ids = BTreeMap::from([(ctx.flow.target.clone(), target_id.to_string())]);
        if let Some(id) = source_id {
            ids.insert(ctx.flow.source.clone(), id.to_string());
        }
        Link {
            ids,
            variant_ids: BTreeMap::new(),
            fingerprint: None,
            synced_at: Utc::now(),
            flow: ctx.name.to_string(),
        }
    }

    /// A pending record for an order (keeping its first date and counting attempts). It keeps
    /// only what reading the order again needs, its number and id: the customer's data stays in
    /// the source.
    fn pending(
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
        })
    }

    /// A whole batch failed: for a passing reason the cursor stays, so the orders come again.
    fn batch_failed(&mut self, error: &PluginError) {
        if matches!(
            error,
            PluginError::RateLimited(_) | PluginError::Transient(_)
        ) {
            self.hold_cursor = true;
        }
    }

    fn fail(&self, ctx: &mut RunContext<'_>, order: &Order, message: String) -> Result<()> {
        let pending = self.pending(ctx, order, PendingState::Failed, message.clone(), vec![])?;
        ctx.record(
            Entry::new("order", &order.number, Outcome::Failed, message).came(order),
            |w| w.put_pending(&pending),
        )
    }

    fn fail_all(
        &self,
        ctx: &mut RunContext<'_>,
        orders: Vec<Order>,
        message: String,
    ) -> Result<Vec<Candidate>> {
        for order in &orders {
            self.fail(ctx, order, message.clone())?;
        }
        Ok(Vec::new())
    }

    /// Parks an order until its products exist. A parked order tried again and still waiting is
    /// not logged again; its attempts are counted.
    fn park(&self, ctx: &mut RunContext<'_>, order: &Order, missing: Vec<String>) -> Result<()> {
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
}

/// The SKUs of an order's product lines.
fn skus_of(order: &Order) -> Vec<String> {
    let mut skus: Vec<String> = order
        .lines
        .iter()
        .filter_map(|l| l.sku.clone())
        .filter(|s| !s.is_empty())
        .collect();
    skus.sort();
    skus.dedup();
    skus
}

/// The debtor an order makes: its customer, with the order's addresses where the customer has
/// none, and a business customer when the order carries a company name (FLOWS.md §1.5.3).
fn debtor(order: &Order) -> Customer {
    let mut customer = order.customer.clone();
    if customer.billing_address.is_none() {
        customer.billing_address = Some(order.billing_address.clone());
    }
    if customer.shipping_address.is_none() {
        customer.shipping_address = order.shipping_address.clone();
    }
    if customer.company.is_none()
        && let Some(name) = order
            .billing_address
            .company
            .as_ref()
            .filter(|c| !c.trim().is_empty())
    {
        customer.company = Some(Company {
            name: name.clone(),
            vat_number: None,
            coc_number: None,
        });
    }
    customer
}

/// A customer without the source system's ids, for fingerprints: a guest checkout and an
/// account with the same data are the same debtor.
fn without_source_ids(customer: &Customer) -> Customer {
    Customer {
        id: None,
        number: None,
        ..customer.clone()
    }
}
