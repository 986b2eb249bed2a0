//! Stock levels per article (simple product or variant), and exactly how each number is made.
//!
//! CCV keeps one stock figure per article — `stock` on the product, or on each attribute
//! combination when the product keeps stock per combination — and has no reservation field. A
//! sale at the till that is not collected yet is an order in status 14 ("Reserved"); it does not
//! lower `stock` until it is collected (status 7). So:
//! - `physical` = CCV's `stock`: what is on the shelf, reserved goods included;
//! - `available` = CCV's `stock` as well: it is what CCV itself shows as the stock available (CCV
//!   has no other figure), so the flows' default "available − reserved" subtracts reservations
//!   once;
//! - `reserved` = the quantities of the article in rows of status-14 orders (a simple product:
//!   every row of the product; a variant: the rows of its combination);
//! - `managed` = the product's `stockenabled`.
//!
//! CCV stock may have decimals (articles sold by weight): `physical` and `available` are rounded
//! down, `reserved` up, so that stock is never overstated.
//!
//! Cost per page: one `GET /products?expand=attributecombinations` (up to 250 products), plus the
//! reservations, `GET /orders?status=14&expand=orderrows` in pages of 250, read once per run (at
//! its first page) and kept for its later pages.

use std::cell::RefCell;
use std::collections::HashMap;

use tillbridge_sdk::decimal::Decimal;
use tillbridge_sdk::types::{PluginError, StockLevel};

use crate::catalogue;
use crate::client::PAGE_SIZE;
use crate::exports::tillbridge::plugin::stock_source::{StockPage, StockQuery};
use crate::settings::Ccv;
use crate::wire::{Combination, Order, Page, Product};

/// Reserved quantities, by product and by combination.
#[derive(Debug, Default, Clone)]
struct Reservations {
    by_product: HashMap<u64, Decimal>,
    by_combination: HashMap<u64, Decimal>,
}

thread_local! {
    /// The reservations read at a run's first page, for its later pages (one instance serves one
    /// run; a new instance reads them again).
    static RESERVED: RefCell<Option<Reservations>> = const { RefCell::new(None) };
}

fn reservations(ccv: &Ccv, first_page: bool) -> Result<Reservations, PluginError> {
    if !first_page && let Some(known) = RESERVED.with(|r| r.borrow().clone()) {
        return Ok(known);
    }
    let orders: Vec<Order> = ccv
        .api
        .all("orders", &[("status", "14"), ("expand", "orderrows")])?;
    let mut reserved = Reservations::default();
    for row in orders.iter().flat_map(|o| o.orderrows.items()) {
        if let Some(product) = row.product_id {
            *reserved.by_product.entry(product).or_default() += row.count;
        }
        if let Some(combination) = row.attribute_combination_id {
            *reserved.by_combination.entry(combination).or_default() += row.count;
        }
    }
    RESERVED.with(|r| *r.borrow_mut() = Some(reserved.clone()));
    Ok(reserved)
}

/// Whole units: down for what is there, up for what is taken.
fn down(amount: Decimal) -> i64 {
    i64::try_from(amount.floor()).unwrap_or(i64::MAX)
}

fn up(amount: Decimal) -> i64 {
    i64::try_from(amount.ceil()).unwrap_or(i64::MAX)
}

fn level(sku: &str, stock: Decimal, reserved: Decimal, managed: bool) -> StockLevel {
    StockLevel {
        sku: sku.to_string(),
        physical: down(stock),
        reserved: up(reserved),
        available: down(stock),
        managed,
    }
}

/// The level of a simple product or one combination.
fn article_level(
    product: &Product,
    combination: Option<&Combination>,
    reserved: &Reservations,
) -> StockLevel {
    match combination {
        Some(c) => {
            let held = reserved
                .by_combination
                .get(&c.id)
                .copied()
                .unwrap_or_default();
            level(&c.sku_number, c.stock, held, product.stockenabled)
        }
        None => {
            let held = reserved
                .by_product
                .get(&product.id)
                .copied()
                .unwrap_or_default();
            level(
                &product.productnumber,
                product.stock,
                held,
                product.stockenabled,
            )
        }
    }
}

/// The levels of a product's articles: its combinations with a SKU, or itself.
fn product_levels(product: &Product, reserved: &Reservations) -> Vec<StockLevel> {
    let combinations = product.attributecombinations.items();
    if combinations.is_empty() {
        if product.productnumber.is_empty() {
            return Vec::new();
        }
        return vec![article_level(product, None, reserved)];
    }
    combinations
        .iter()
        .filter(|c| !c.sku_number.is_empty())
        .map(|c| article_level(product, Some(c), reserved))
        .collect()
}

/// `read-stock`: a page of levels. The cursor is an offset: into the catalogue (by product id),
/// or into the SKUs asked for.
pub fn read(ccv: &Ccv, query: StockQuery) -> Result<StockPage, PluginError> {
    let start: usize = match &query.cursor {
        Some(cursor) => cursor.parse().map_err(|_| {
            PluginError::fatal(format!(
                "stock cursor {cursor:?} is not one of this connector's"
            ))
        })?,
        None => 0,
    };
    let limit = (query.limit as usize).max(1);
    let reserved = reservations(ccv, query.cursor.is_none())?;
    if !query.skus.is_empty() {
        let window: Vec<&str> = query
            .skus
            .iter()
            .skip(start)
            .take(limit)
            .map(String::as_str)
            .collect();
        let found = catalogue::lookup(ccv, &window)?;
        let levels = window
            .iter()
            .filter_map(|sku| {
                let hit = found.get(*sku)?;
                Some(article_level(
                    &hit.product,
                    hit.combination.as_ref(),
                    &reserved,
                ))
            })
            .collect();
        let next = start + window.len();
        let more = next < query.skus.len();
        return Ok(StockPage {
            levels,
            cursor: more.then(|| next.to_string()),
            more,
        });
    }
    let page: Page<Product> = ccv.api.page(
        "products",
        &[("expand", "attributecombinations"), ("orderby", "id")],
        start,
        limit.min(PAGE_SIZE),
    )?;
    let mut levels = Vec::new();
    let mut consumed = 0;
    for product in &page.items {
        let more = product_levels(product, &reserved);
        // Whole products per page; at least one, however many variants it has.
        if consumed > 0 && levels.len() + more.len() > limit {
            break;
        }
        levels.extend(more);
        consumed += 1;
    }
    let more = consumed < page.items.len() || page.next.is_some();
    Ok(StockPage {
        levels,
        cursor: Some((start + consumed).to_string()),
        more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_is_never_overstated() {
        let level = level("W", "12.5".parse().unwrap(), "0.25".parse().unwrap(), true);
        assert_eq!(
            (level.physical, level.available, level.reserved),
            (12, 12, 1)
        );
        let negative = level_of("-1.5");
        assert_eq!(negative.physical, -2, "sold below zero stays below zero");
    }

    fn level_of(stock: &str) -> StockLevel {
        level("X", stock.parse().unwrap(), Decimal::ZERO, false)
    }

    #[test]
    fn a_simple_product_reserves_all_its_rows_a_variant_only_its_own() {
        let product: Product = serde_json::from_str(
            r#"{"id": 1, "productnumber": "TEE", "stockenabled": true, "stock": 9,
                "attributecombinations": {"collection": [
                    {"id": 11, "sku_number": "TEE-S", "stock": 4},
                    {"id": 12, "sku_number": "TEE-M", "stock": 5}]}}"#,
        )
        .unwrap();
        let reserved = Reservations {
            by_product: HashMap::from([(1, Decimal::from(3))]),
            by_combination: HashMap::from([(11, Decimal::from(2)), (12, Decimal::from(1))]),
        };
        let levels = product_levels(&product, &reserved);
        let summary: Vec<(&str, i64, i64)> = levels
            .iter()
            .map(|l| (l.sku.as_str(), l.physical, l.reserved))
            .collect();
        assert_eq!(summary, [("TEE-S", 4, 2), ("TEE-M", 5, 1)]);
    }
}
