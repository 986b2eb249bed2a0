//! Booking (FLOWS.md §1.5): an intent per order is recorded before the one request that books
//! the batch, and each answer is recorded with its link; an answer that never came leaves the
//! intent, so the next run looks the order up before anything is sent again.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::{DateTime, Duration, Utc};

use super::{Candidate, OrdersFlow, batch_error, describe, order_key, order_marker};
use crate::flows::context::{Entry, RunContext};
use crate::runtime::bindings::exports::tillbridge::plugin::orders_sink::OrderSubmission;
use crate::runtime::bindings::tillbridge::plugin::types::{Order, PluginError, ProductRef};
use crate::state::{Intent, Link, Outcome, Pending, PendingState};

impl OrdersFlow<'_> {
    /// Books the orders: an intent per order first, then one call, then each answer recorded with
    /// its link.
    pub(super) async fn book(
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
                    marker: s.marker.clone(),
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
                    let problem = format!(
                        "not confirmed by {} ({})",
                        ctx.flow.target,
                        describe(&error)
                    );
                    let pending = self.backoff(ctx, &s.order, &problem)?;
                    ctx.record(
                        Entry::new("order", &number, Outcome::Failed, pending.reason.clone())
                            .sent(&s),
                        |w| w.put_pending(&pending),
                    )?;
                }
                Err(error) => {
                    let message = format!("refused by {}: {}", ctx.flow.target, describe(&error));
                    let pending = self.waiting.pending(
                        ctx,
                        &s.order,
                        PendingState::Failed,
                        message.clone(),
                        vec![],
                    )?;
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

    /// An order that could not be taken for a passing reason (`problem`: the target busy or out
    /// of reach) waits to be tried again after a jittered backoff that doubles per attempt; after
    /// `retry_attempts` it waits for a human.
    pub(super) fn backoff(
        &self,
        ctx: &RunContext<'_>,
        order: &Order,
        problem: &str,
    ) -> Result<Pending> {
        let target = &ctx.flow.target;
        let mut pending =
            self.waiting
                .pending(ctx, order, PendingState::Retry, String::new(), vec![])?;
        let bound = self.settings.retry_attempts;
        if pending.attempts >= bound {
            pending.state = PendingState::Failed;
            pending.not_before = Some(DateTime::<Utc>::MAX_UTC);
            pending.reason = ctx.about(
                format!(
                    "{problem}; gave up retrying automatically after {bound} attempts: retry it \
                     by hand once {target} answers again"
                ),
                order,
            );
            return Ok(pending);
        }
        let base = self.settings.retry_after_secs.saturating_mul(1000);
        let doubled = base.saturating_mul(1 << pending.attempts.saturating_sub(1).min(20));
        // Up to a quarter more, so orders that failed together do not all come back together.
        let wait = doubled.saturating_add(rand::random_range(0..=doubled / 4));
        let at = Utc::now() + Duration::milliseconds(i64::try_from(wait).unwrap_or(i64::MAX));
        pending.not_before = Some(at);
        pending.reason = ctx.about(
            format!(
                "{problem}; attempt {} of {bound}, it is checked and tried again automatically \
                 from {}",
                pending.attempts,
                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            order,
        );
        Ok(pending)
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
            marker: order_marker(&order),
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

    pub(super) fn order_link(
        &self,
        ctx: &RunContext<'_>,
        source_id: Option<&str>,
        target_id: &str,
    ) -> Link {
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
}
