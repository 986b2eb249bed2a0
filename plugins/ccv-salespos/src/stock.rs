//! Stock levels per article (simple product or variant), and exactly how each number is made.
//!
//! CCV keeps one stock figure per article — `stock` on the product, or on each attribute
//! combination when the product keeps stock per combination — and has no reservation field. A
//! sale at the till that is not collected yet is an order in status 14 ("Reserved"). What such
//! an order does to `stock` is not documented (CCV's order status list only names it); the
//! `reserved_in_stock` setting says which rule holds (README, "Stock numbers"):
//! - `reserved` = the quantities of the article in rows of status-14 orders
//!   ([`crate::reservations`]);
//! - `physical` = what is on the shelf: CCV's `stock` while reserved goods still count in it
//!   (`reserved_in_stock = true`, the default), else `stock` + `reserved`;
//! - `available` = `physical`: CCV has no other figure, so the flows' default "available −
//!   reserved" subtracts reservations once, under either rule;
//! - `managed` = the product's `stockenabled`.
//!
//! CCV stock may have decimals (articles sold by weight): `physical` and `available` are rounded
//! down, `reserved` up, so that stock is never overstated.
//!
//! Cost per page: one `GET /products?expand=attributecombinations` (up to 250 products), plus the
//! reservations at a run's first page: ⌈R/250⌉ `GET /orders?status=14` and one
//! `GET /orders/:id/orderrows` per reserved order not read before.

use tillbridge_sdk::decimal::Decimal;
use tillbridge_sdk::types::{PluginError, StockLevel};

use crate::catalogue;
use crate::client::PAGE_SIZE;
use crate::exports::tillbridge::plugin::stock_source::{StockPage, StockQuery};
use crate::reservations::{self, Reservations};
use crate::settings::Ccv;
use crate::wire::{Combination, Page, Product};

/// Whole units: down for what is there, up for what is taken.
fn down(amount: Decimal) -> i64 {
    i64::try_from(amount.floor()).unwrap_or(i64::MAX)
}

fn up(amount: Decimal) -> i64 {
    i64::try_from(amount.ceil()).unwrap_or(i64::MAX)
}

/// How CCV's `stock` relates to reservations.
#[derive(Debug, Clone, Copy)]
struct Rule {
    /// Whether `stock` still counts the goods of reserved orders.
    reserved_in_stock: bool,
}

impl Rule {
    fn level(self, sku: &str, stock: Decimal, reserved: Decimal, managed: bool) -> StockLevel {
        let shelf = if self.reserved_in_stock {
            stock
        } else {
            stock + reserved
        };
        StockLevel {
            sku: sku.to_string(),
            physical: down(shelf),
            reserved: up(reserved),
            available: down(shelf),
            managed,
        }
    }

    /// The level of a simple product or one combination.
    fn article_level(
        self,
        product: &Product,
        combination: Option<&Combination>,
        reserved: &Reservations,
    ) -> StockLevel {
        match combination {
            Some(c) => self.level(
                &c.sku_number,
                c.stock,
                reserved.of_combination(product.id, c),
                product.stockenabled,
            ),
            None => self.level(
                &product.productnumber,
                product.stock,
                reserved.of_product(product.id),
                product.stockenabled,
            ),
        }
    }

    /// The levels of a product's articles: its combinations with a SKU, or itself.
    fn product_levels(self, product: &Product, reserved: &Reservations) -> Vec<StockLevel> {
        let combinations = product.attributecombinations.items();
        if combinations.is_empty() {
            if product.productnumber.is_empty() {
                return Vec::new();
            }
            return vec![self.article_level(product, None, reserved)];
        }
        combinations
            .iter()
            .filter(|c| !c.sku_number.is_empty())
            .map(|c| self.article_level(product, Some(c), reserved))
            .collect()
    }
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
    let Some(reserved) = reservations::read(ccv, query.cursor.is_none())? else {
        // Still reading reserved orders' rows: nothing yet, the same place again next call.
        return Ok(StockPage {
            levels: Vec::new(),
            cursor: Some(start.to_string()),
            more: true,
        });
    };
    let rule = Rule {
        reserved_in_stock: ccv.settings.reserved_in_stock,
    };
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
                Some(rule.article_level(&hit.product, hit.combination.as_ref(), &reserved))
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
        let more = rule.product_levels(product, &reserved);
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

    const KEPT: Rule = Rule {
        reserved_in_stock: true,
    };

    #[test]
    fn stock_is_never_overstated() {
        let level = KEPT.level("W", "12.5".parse().unwrap(), "0.25".parse().unwrap(), true);
        assert_eq!(
            (level.physical, level.available, level.reserved),
            (12, 12, 1)
        );
        let negative = KEPT.level("X", "-1.5".parse().unwrap(), Decimal::ZERO, false);
        assert_eq!(negative.physical, -2, "sold below zero stays below zero");
    }

    #[test]
    fn when_reservations_have_left_stock_the_shelf_holds_them_too() {
        let (stock, reserved) = (Decimal::from(3), Decimal::from(2));
        let kept = KEPT.level("X", stock, reserved, true);
        assert_eq!((kept.physical, kept.available, kept.reserved), (3, 3, 2));
        let taken = Rule {
            reserved_in_stock: false,
        }
        .level("X", stock, reserved, true);
        assert_eq!((taken.physical, taken.available, taken.reserved), (5, 5, 2));
        assert_eq!(
            taken.available - taken.reserved,
            3,
            "available − reserved is CCV's stock: reservations subtracted once"
        );
    }
}
