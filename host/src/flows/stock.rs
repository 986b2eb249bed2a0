//! Stock: point of sale → webshop (FLOWS.md §2).
//!
//! Every stock level of the source is read (simple products and each variant), the flow's
//! calculation gives the sellable quantity, and only quantities that changed since the last write
//! are written, in batches. The target connector writes the field that means "sellable" in the
//! version it talks to (§2.4).

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use chrono::Utc;

use super::context::{Entry, RunContext, stops_run};
use super::fingerprint;
use crate::config::{FlowSettings, StockCalculation, StockSettings};
use crate::runtime::CallError;
use crate::runtime::bindings::exports::tillbridge::plugin::stock_sink::StockUpdate;
use crate::runtime::bindings::exports::tillbridge::plugin::stock_source::StockQuery;
use crate::runtime::bindings::tillbridge::plugin::types::{PluginError, StockLevel};
use crate::state::{Link, Outcome, link_key};

/// Runs the stock flow once.
pub async fn run(ctx: &mut RunContext<'_>) -> Result<()> {
    let flow = ctx.flow;
    let FlowSettings::Stock(settings) = &flow.settings else {
        bail!("flow {} is not a stock flow", ctx.name)
    };
    let mut source = ctx.connector(&flow.source).await?;
    let mut target = ctx.connector(&flow.target).await?;
    let mut transforms = ctx.transforms().await?;
    let batch = usize::try_from(settings.batch_size.max(1)).unwrap_or(500);
    let mut cursor = None;
    let mut queue: Vec<(StockLevel, StockUpdate, String)> = Vec::new();
    loop {
        ctx.progress(format!("reading stock from {}", flow.source));
        let query = StockQuery {
            cursor: cursor.clone(),
            skus: vec![],
            limit: settings.batch_size.max(1),
        };
        let page = match source.read_stock(&query).await {
            Ok(page) => page,
            Err(e) => bail!("cannot read stock from {}: {e}", flow.source),
        };
        let levels = ctx
            .map(&mut transforms, page.levels, RunContext::reject)
            .await?;
        for level in levels {
            let update = StockUpdate {
                sku: level.sku.clone(),
                quantity: sellable(&level, settings),
                managed: settings.manage_stock,
            };
            let print = fingerprint::of(&(&update.quantity, update.managed));
            let key = link_key("stock", &flow.source, &flow.target, &level.sku);
            let last = ctx.state.read()?.link(&key)?;
            if last.and_then(|l| l.fingerprint).as_deref() == Some(print.as_str()) {
                ctx.unchanged(
                    "stock",
                    &level.sku,
                    format!("{} as before", update.quantity),
                );
            } else {
                queue.push((level, update, print));
            }
            if queue.len() >= batch {
                write(ctx, &mut target, std::mem::take(&mut queue)).await?;
            }
            if ctx.cancelled() {
                return Ok(());
            }
        }
        // A page may be empty while the source is still preparing (CCV reads reservations over
        // several calls): a stop is honoured there too.
        if ctx.cancelled() {
            return Ok(());
        }
        if !page.more {
            break;
        }
        cursor = page.cursor;
    }
    write(ctx, &mut target, queue).await
}

/// The quantity to write, by the flow's calculation (§2.2).
pub fn sellable(level: &StockLevel, settings: &StockSettings) -> i64 {
    let base = match settings.calculation {
        StockCalculation::AvailableMinusReserved => level.available - level.reserved,
        StockCalculation::Available => level.available,
        StockCalculation::Physical => level.physical,
    };
    let quantity = base - settings.buffer;
    if settings.floor_at_zero {
        quantity.max(0)
    } else {
        quantity
    }
}

async fn write(
    ctx: &mut RunContext<'_>,
    target: &mut crate::runtime::Session,
    queue: Vec<(StockLevel, StockUpdate, String)>,
) -> Result<()> {
    if queue.is_empty() {
        return Ok(());
    }
    let flow = ctx.flow;
    let updates: Vec<StockUpdate> = queue.iter().map(|(_, u, _)| u.clone()).collect();
    let answers: BTreeMap<String, Result<String, PluginError>> = if ctx.dry_run {
        updates
            .iter()
            .map(|u| (u.sku.clone(), Ok(String::new())))
            .collect()
    } else {
        // Writing absolute quantities is idempotent: passing failures are retried.
        match target.write_stock(&updates).await {
            Ok(results) => results
                .into_iter()
                .map(|r| (r.key, r.outcome.map(|w| w.id)))
                .collect(),
            Err(e) if stops_run(&e) => bail!("cannot write stock to {}: {e}", flow.target),
            Err(CallError::Plugin(error)) => updates
                .iter()
                .map(|u| (u.sku.clone(), Err(error.clone())))
                .collect(),
            Err(e) => bail!(e),
        }
    };
    // Absolute quantities are safe to write again: the batch is recorded in one transaction.
    let mut entries = Vec::with_capacity(queue.len());
    let mut links = Vec::new();
    for (level, update, print) in queue {
        let answer = answers
            .get(&update.sku)
            .cloned()
            .unwrap_or_else(|| Err(PluginError::Transient("no answer".into())));
        let came = (level.physical, level.reserved, level.available);
        match answer {
            Ok(id) => {
                let verb = if ctx.dry_run {
                    "would be set to"
                } else {
                    "set to"
                };
                let what = if update.managed {
                    format!("{verb} {}", update.quantity)
                } else {
                    format!("{verb} not stock-managed")
                };
                let message = format!(
                    "{what} (physical {}, reserved {}, available {})",
                    came.0, came.1, came.2
                );
                let link = Link {
                    ids: BTreeMap::from([(flow.target.clone(), id)]),
                    variant_ids: BTreeMap::new(),
                    fingerprint: Some(print),
                    synced_at: Utc::now(),
                    flow: ctx.name.to_string(),
                };
                let key = link_key("stock", &flow.source, &flow.target, &update.sku);
                let entry = Entry::new("stock", &update.sku, Outcome::Updated, message)
                    .came(&level)
                    .sent(&update)
                    .fields(vec!["stock".into()]);
                entries.push(entry);
                links.push((key, link));
            }
            Err(PluginError::NotFound(_)) => {
                let entry = Entry::new(
                    "stock",
                    &update.sku,
                    Outcome::Skipped,
                    format!("{} has no article {}", flow.target, update.sku),
                )
                .came(&level);
                entries.push(entry);
            }
            Err(error) => {
                let entry = Entry::new(
                    "stock",
                    &update.sku,
                    Outcome::Failed,
                    CallError::Plugin(error).to_string(),
                )
                .came(&level)
                .sent(&update);
                entries.push(entry);
            }
        }
    }
    ctx.record_batch(entries, |w| {
        for (key, link) in &links {
            w.put_link(key, link)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(physical: i64, reserved: i64, available: i64) -> StockLevel {
        StockLevel {
            sku: "X".into(),
            physical,
            reserved,
            available,
            managed: true,
        }
    }

    fn settings(calculation: StockCalculation, buffer: i64, floor_at_zero: bool) -> StockSettings {
        StockSettings {
            calculation,
            buffer,
            floor_at_zero,
            manage_stock: true,
            batch_size: 500,
        }
    }

    #[test]
    fn the_calculations_of_flows_2_2() {
        let l = level(10, 4, 9);
        assert_eq!(
            sellable(
                &l,
                &settings(StockCalculation::AvailableMinusReserved, 0, true)
            ),
            5
        );
        assert_eq!(
            sellable(&l, &settings(StockCalculation::Available, 0, true)),
            9
        );
        assert_eq!(
            sellable(&l, &settings(StockCalculation::Physical, 0, true)),
            10
        );
        assert_eq!(
            sellable(&l, &settings(StockCalculation::Physical, 3, true)),
            7,
            "minus a buffer"
        );
        let short = level(3, 5, 3);
        assert_eq!(
            sellable(
                &short,
                &settings(StockCalculation::AvailableMinusReserved, 0, true)
            ),
            0,
            "never below zero"
        );
        assert_eq!(
            sellable(
                &short,
                &settings(StockCalculation::AvailableMinusReserved, 0, false)
            ),
            -2
        );
    }
}
