//! The debtor of each order (FLOWS.md §1.5.2–§1.5.4): the default debtor, or the customer
//! matched by e-mail and created or updated, a business debtor with a contact person when the
//! order carries a company name.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::Utc;

use super::pending::passing;
use super::{Candidate, OrdersFlow, batch_error, describe};
use crate::flows::context::{Entry, RunContext};
use crate::flows::fingerprint;
use crate::runtime::bindings::exports::tillbridge::plugin::customers::CustomerWrite;
use crate::runtime::bindings::tillbridge::plugin::types::{Company, Customer, Order, PluginError};
use crate::state::{Link, Outcome, link_key};

/// A customer's link is keyed by the pseudonym of its e-mail address, never the address.
fn customer_key(ctx: &RunContext<'_>, email: &str) -> String {
    link_key(
        "customer",
        &ctx.flow.source,
        &ctx.flow.target,
        &ctx.state.pseudonym(&email.to_lowercase()),
    )
}

impl OrdersFlow<'_> {
    /// The debtor of each order: the default debtor, or the customer matched by e-mail and
    /// created or updated.
    pub(super) async fn customers(
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
            match self.target.find_customers(&unknown).await {
                Ok(refs) => found.extend(refs.into_iter().map(|r| (r.email.to_lowercase(), r.id))),
                Err(e) => {
                    let error = batch_error(e)?;
                    let problem = format!(
                        "cannot look customers up in {}: {}",
                        ctx.flow.target,
                        describe(&error)
                    );
                    self.none_taken(ctx, &orders, &error, &problem)?;
                    return Ok(Vec::new());
                }
            }
        }

        // Per e-mail: the customer's id, or why it has none and whether that passes by itself.
        let mut ids: BTreeMap<String, Result<String, (String, bool)>> = BTreeMap::new();
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
                        ids.insert(email, Err((message, passing(&error))));
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
                Some(Err((message, passing))) => {
                    self.not_taken(ctx, &order, message.clone(), *passing)?;
                }
                None => self
                    .waiting
                    .fail(ctx, &order, "no customer was resolved".into())?,
            }
        }
        Ok(candidates)
    }
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
