//! Stock sink: the sellable quantity per SKU, written in sync batches, in the field that means
//! "sellable" in the shop's version (FLOWS.md §2.4):
//!
//! - 6.6+: `stock` is sellable; it is written as is, by id (ids cached from earlier lookups).
//! - 6.4 / 6.5 without the stock-handling flag: `stock` is physical and Shopware subtracts open
//!   orders into `availableStock`. To make the sellable quantity the intended one, the batch's
//!   current `stock` and `availableStock` are read first and `stock = intended + (stock −
//!   availableStock)` is written; articles already there are left alone (`unchanged`).
//!
//! Not stock-managed (`managed: false`): Shopware has no per-product switch, so the article is
//! made sellable whatever its stock (`isCloseout: false`) and no quantity is written.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tillbridge_sdk::types::{PluginError, RecordResult, WriteAction, Written};

use crate::client::Client;
use crate::exports::tillbridge::plugin::stock_sink::StockUpdate;
use crate::lookup::{self, Known, norm};
use crate::sync::{self, Operation, Records};
use crate::version::StockMode;

type Outcome = Result<Written, PluginError>;

/// The product fields [`stock_for`] reads.
pub const STOCK_FIELDS: [&str; 2] = ["stock", "availableStock"];

/// The `stock` to write so that `intended` is what can be sold, given the product as the shop
/// has it ([`STOCK_FIELDS`]; none: a new product, which no order holds yet). Legacy (≤ 6.5):
/// Shopware subtracts what open orders hold from `stock` into `availableStock`, so that much
/// is added; sellable (6.6+): `stock` is what can be sold. The stock and products sinks both
/// write stock through this.
pub fn stock_for(mode: StockMode, intended: i64, current: Option<&Value>) -> i64 {
    match (mode, current) {
        (StockMode::Legacy, Some(product)) => {
            let stock = product["stock"].as_i64().unwrap_or(0);
            intended + stock - product["availableStock"].as_i64().unwrap_or(stock)
        }
        _ => intended,
    }
}

fn not_found(sku: &str) -> PluginError {
    PluginError::NotFound(format!(
        "Shopware has no product or variant with number {sku}"
    ))
}

/// Writes stock levels; one result per update, keyed by SKU.
pub fn write(
    client: &mut Client,
    updates: Vec<StockUpdate>,
) -> Result<Vec<RecordResult>, PluginError> {
    let mode = client.stock_mode()?;
    let size = client.settings.sync_batch_size as usize;
    let mut results = Vec::with_capacity(updates.len());
    for batch in updates.chunks(size) {
        let outcomes = match mode {
            StockMode::Sellable => write_sellable(client, batch)?,
            StockMode::Legacy => write_legacy(client, batch)?,
        };
        results.extend(
            batch
                .iter()
                .zip(outcomes)
                .map(|(update, outcome)| RecordResult {
                    key: update.sku.clone(),
                    outcome,
                }),
        );
    }
    Ok(results)
}

/// The row that gives an article its stock, or marks it not stock-managed.
fn row(id: &str, update: &StockUpdate, stock: i64) -> serde_json::Value {
    if update.managed {
        json!({"id": id, "stock": stock})
    } else {
        json!({"id": id, "isCloseout": false})
    }
}

/// Sends one `stock` operation; every update with an id gets an outcome.
fn send(
    client: &mut Client,
    batch: &[StockUpdate],
    rows: &BTreeMap<usize, (String, i64)>,
) -> Result<BTreeMap<usize, Outcome>, PluginError> {
    let mut records = Records::default();
    let mut operation = Operation::upsert("stock", "product");
    let mut at = Vec::new();
    for (i, (id, stock)) in rows {
        let record = records.add(&batch[*i].sku, None);
        operation.push(Some(record), row(id, &batch[*i], *stock));
        at.push(*i);
    }
    if at.is_empty() {
        return Ok(BTreeMap::new());
    }
    let failed = sync::run(client, &[operation], &records, "sync stock")?;
    Ok(at
        .into_iter()
        .enumerate()
        .map(|(record, i)| {
            let outcome = match failed.get(&record) {
                Some(error) => Err(error.clone()),
                None => Ok(Written {
                    id: rows[&i].0.clone(),
                    action: WriteAction::Updated,
                }),
            };
            (i, outcome)
        })
        .collect())
}

/// 6.6+: by id, cached or looked up; a stale cached id is looked up afresh and tried again.
fn write_sellable(client: &mut Client, batch: &[StockUpdate]) -> Result<Vec<Outcome>, PluginError> {
    let skus: Vec<String> = batch.iter().map(|u| u.sku.clone()).collect();
    let mut known = lookup::cached(&skus);
    let from_cache: Vec<String> = known.keys().cloned().collect();
    let missing: Vec<String> = skus
        .iter()
        .filter(|s| !known.contains_key(&norm(s)))
        .cloned()
        .collect();
    if !missing.is_empty() {
        for (sku, row) in lookup::by_numbers(client, &missing, &[])? {
            if let Some(id) = row["id"].as_str() {
                let parent = row["parentId"].as_str().map(str::to_string);
                known.insert(
                    sku,
                    Known {
                        id: id.into(),
                        parent,
                    },
                );
            }
        }
    }
    let ids = |known: &BTreeMap<String, Known>,
               only: Option<&[usize]>|
     -> BTreeMap<usize, (String, i64)> {
        batch
            .iter()
            .enumerate()
            .filter(|(i, _)| only.is_none_or(|o| o.contains(i)))
            .filter_map(|(i, u)| Some((i, (known.get(&norm(&u.sku))?.id.clone(), u.quantity))))
            .collect()
    };
    let mut outcomes = send(client, batch, &ids(&known, None))?;
    // Rows that failed with a cached id: the id may be stale.
    let stale: Vec<usize> = outcomes
        .iter()
        .filter(|(i, o)| o.is_err() && from_cache.contains(&norm(&batch[**i].sku)))
        .map(|(i, _)| *i)
        .collect();
    if !stale.is_empty() {
        let skus: Vec<String> = stale.iter().map(|i| batch[*i].sku.clone()).collect();
        lookup::forget(&skus);
        let fresh = lookup::by_numbers(client, &skus, &[])?;
        let mut again = Vec::new();
        for i in stale {
            let sku = norm(&batch[i].sku);
            match fresh.get(&sku).and_then(|r| r["id"].as_str()) {
                None => {
                    outcomes.insert(i, Err(not_found(&batch[i].sku)));
                }
                Some(id) if Some(id) != known.get(&sku).map(|k| k.id.as_str()) => {
                    known.insert(
                        sku,
                        Known {
                            id: id.into(),
                            parent: None,
                        },
                    );
                    again.push(i);
                }
                Some(_) => {}
            }
        }
        outcomes.extend(send(client, batch, &ids(&known, Some(&again)))?);
    }
    Ok((0..batch.len())
        .map(|i| {
            outcomes
                .remove(&i)
                .unwrap_or_else(|| Err(not_found(&batch[i].sku)))
        })
        .collect())
}

/// ≤ 6.5: read what open orders hold, then write the physical stock that leaves the intended
/// quantity sellable.
fn write_legacy(client: &mut Client, batch: &[StockUpdate]) -> Result<Vec<Outcome>, PluginError> {
    let skus: Vec<String> = batch.iter().map(|u| u.sku.clone()).collect();
    let found = lookup::by_numbers(client, &skus, &STOCK_FIELDS)?;
    let mut rows = BTreeMap::new();
    let mut outcomes = BTreeMap::new();
    for (i, update) in batch.iter().enumerate() {
        let Some(product) = found.get(&norm(&update.sku)) else {
            outcomes.insert(i, Err(not_found(&update.sku)));
            continue;
        };
        let id = product["id"].as_str().unwrap_or_default().to_string();
        let physical = stock_for(StockMode::Legacy, update.quantity, Some(product));
        if update.managed && Some(physical) == product["stock"].as_i64() {
            outcomes.insert(
                i,
                Ok(Written {
                    id,
                    action: WriteAction::Unchanged,
                }),
            );
        } else {
            rows.insert(i, (id, physical));
        }
    }
    outcomes.extend(send(client, batch, &rows)?);
    Ok((0..batch.len())
        .map(|i| {
            outcomes
                .remove(&i)
                .unwrap_or_else(|| Err(not_found(&batch[i].sku)))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_stock_adds_what_open_orders_hold() {
        let mug = json!({"stock": 40, "availableStock": 27});
        assert_eq!(stock_for(StockMode::Legacy, 30, Some(&mug)), 43);
        assert_eq!(stock_for(StockMode::Sellable, 30, Some(&mug)), 30);
        assert_eq!(stock_for(StockMode::Legacy, 30, None), 30, "a new product");
    }
}
