//! Physical stock and reservations.
//!
//! CCV's schemas have no reservation field. The POS models a sale that is not collected yet as an
//! order in status 14 ("Reserved"); the quantities in such orders are the reservations per
//! article, so a client computes "available − reservations" from `stock` and `GET
//! /orders?status=14`. The simulator's rules (GUESS where CCV is silent):
//! - An order takes its articles out of physical stock while it is completed and in any status
//!   but 14 (reserved) and 8 (cancelled); it gives them back when that stops being true (e.g. it
//!   is cancelled), and takes them when it starts (e.g. a reservation is collected). Rows
//!   changed on such an order move stock by the difference.
//! - Only rows of products with `stockenabled` move stock: the product's own stock for
//!   `stocktype` `product`, the row's combination's for `attribute_combination`. Stock may go
//!   below zero (`ordering_without_stock` is not enforced).

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::error::CcvError;
use super::model::{Order, StockType, Store};

/// Where a quantity of stock is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Product(u64),
    Combination(u64),
}

/// The stock an order has taken, per slot.
fn taken(store: &Store, order: &Order) -> Result<BTreeMap<Slot, Decimal>, CcvError> {
    let mut slots = BTreeMap::new();
    if !order.takes_stock() {
        return Ok(slots);
    }
    for row in &order.rows {
        let Some(product) = row.product_id.and_then(|id| store.products.get(&id)) else {
            continue;
        };
        if !product.stockenabled {
            continue;
        }
        let slot = match product.stocktype {
            StockType::Product => Some(Slot::Product(product.id)),
            StockType::AttributeCombination => row
                .attribute_combination_id
                .filter(|id| store.combinations.contains_key(id))
                .map(Slot::Combination),
        };
        if let Some(slot) = slot {
            let sum: &mut Decimal = slots.entry(slot).or_default();
            *sum = sum.checked_add(row.count).ok_or_else(too_large)?;
        }
    }
    Ok(slots)
}

/// Moves stock by `sign` × each slot's count; on an amount that does not fit a decimal nothing
/// moves.
fn add(store: &mut Store, slots: &BTreeMap<Slot, Decimal>, sign: Decimal) -> Result<(), CcvError> {
    let mut moved = Vec::with_capacity(slots.len());
    for (slot, count) in slots {
        let stock = match slot {
            Slot::Product(id) => store.products.get(id).map(|p| p.stock),
            Slot::Combination(id) => store.combinations.get(id).map(|c| c.stock),
        };
        if let Some(stock) = stock {
            let level = sign
                .checked_mul(*count)
                .and_then(|change| stock.checked_add(change))
                .ok_or_else(too_large)?;
            moved.push((*slot, level));
        }
    }
    for (slot, level) in moved {
        match slot {
            Slot::Product(id) => store.products.get_mut(&id).map(|p| p.stock = level),
            Slot::Combination(id) => store.combinations.get_mut(&id).map(|c| c.stock = level),
        };
    }
    Ok(())
}

/// An order whose amounts or stock moves do not fit a decimal (checked arithmetic, so a hostile
/// order cannot crash the simulator): refused as invalid input, in CCV's error shape (SDK
/// `ExceptionFactory`). What the real API answers here is not documented (GUESS: a 400).
fn too_large() -> CcvError {
    CcvError::invalid("An amount or count of the order is too large.")
}

/// Checks that an order's totals can be computed, so that showing it never fails.
pub(super) fn check_totals(order: &Order) -> Result<(), CcvError> {
    super::orders::totals(order)
        .map(|_| ())
        .ok_or_else(too_large)
}

/// Adds a new order, taking its stock if it is a completed sale; an order whose amounts do not
/// fit is refused and nothing changes.
pub(super) fn insert_order(store: &mut Store, order: Order) -> Result<(), CcvError> {
    check_totals(&order)?;
    let slots = taken(store, &order)?;
    add(store, &slots, Decimal::NEGATIVE_ONE)?;
    store.orders.insert(order.id, order);
    Ok(())
}

/// Changes an order and moves stock by what the change means; on an error (the change's own, or
/// amounts that do not fit) nothing changes.
pub(super) fn change_order<T>(
    store: &mut Store,
    id: u64,
    change: impl FnOnce(&mut Store, &mut Order) -> Result<T, CcvError>,
) -> Option<Result<T, CcvError>> {
    let original = store.orders.remove(&id)?;
    let mut order = original.clone();
    let result = change(store, &mut order).and_then(|value| {
        check_totals(&order)?;
        let mut returned = taken(store, &original)?;
        for (slot, count) in taken(store, &order)? {
            let net = returned.entry(slot).or_default();
            *net = net.checked_sub(count).ok_or_else(too_large)?;
        }
        add(store, &returned, Decimal::ONE)?;
        Ok(value)
    });
    store
        .orders
        .insert(id, if result.is_ok() { order } else { original });
    Some(result)
}

/// An article in the POS: a simple product, or one combination of a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Article {
    /// The product's id.
    pub product_id: u64,
    /// The combination's id, for a variant.
    pub combination_id: Option<u64>,
}

/// An article's stock as the POS sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockLevel {
    /// On the shelf (`stock` of the product or combination).
    pub physical: Decimal,
    /// In reserved orders (status 14), not collected yet.
    pub reserved: Decimal,
}

impl StockLevel {
    /// What can still be sold: physical − reserved.
    pub fn available(&self) -> Decimal {
        self.physical - self.reserved
    }
}

/// The article with this SKU: a combination's `sku_number`, else a product's `productnumber`.
pub(super) fn find_article(store: &Store, sku: &str) -> Option<Article> {
    if let Some(c) = store.combinations.values().find(|c| c.sku_number == sku) {
        return Some(Article {
            product_id: c.product_id,
            combination_id: Some(c.id),
        });
    }
    store
        .products
        .values()
        .find(|p| p.productnumber == sku)
        .map(|p| Article {
            product_id: p.id,
            combination_id: None,
        })
}

/// An article's physical stock and reservations.
pub(super) fn level(store: &Store, article: Article) -> StockLevel {
    let physical = match article.combination_id {
        Some(id) => store.combinations.get(&id).map(|c| c.stock),
        None => store
            .products
            .get(&article.product_id)
            .map(|p| super::products::stock_of(store, p)),
    }
    .unwrap_or_default();
    let reserved = store
        .orders
        .values()
        .filter(|o| o.reserves())
        .flat_map(|o| &o.rows)
        .filter(|r| r.product_id == Some(article.product_id))
        .filter(|r| {
            article.combination_id.is_none() || r.attribute_combination_id == article.combination_id
        })
        .map(|r| r.count)
        .sum();
    StockLevel { physical, reserved }
}
