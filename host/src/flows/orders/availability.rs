//! Every product of an order must exist in the target before the order is booked (FLOWS.md
//! §1.5.5): an order that lacks one is parked, not half-sent, and goes by itself once the product
//! exists. Products are found by SKU, through the links a products flow made or else in the
//! target.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use chrono::Utc;

use super::{Candidate, OrdersFlow, batch_error, describe};
use crate::flows::context::RunContext;
use crate::runtime::bindings::tillbridge::plugin::types::{Order, ProductRef};
use crate::state::{Link, link_key};

fn product_key(ctx: &RunContext<'_>, sku: &str) -> String {
    link_key("product", &ctx.flow.source, &ctx.flow.target, sku)
}

impl OrdersFlow<'_> {
    /// Every product of every order must exist in the target; orders that lack one are parked.
    pub(super) async fn availability(
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
            match self.target.find_products(&unknown).await {
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
                    let problem = format!(
                        "cannot check products in {}: {}",
                        ctx.flow.target,
                        describe(&error)
                    );
                    let orders: Vec<Order> = candidates.into_iter().map(|c| c.order).collect();
                    self.none_taken(ctx, &orders, &error, &problem)?;
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
                self.waiting.park(ctx, &candidate.order, missing)?;
            }
        }
        Ok(ready)
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
