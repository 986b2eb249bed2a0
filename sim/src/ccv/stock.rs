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

use super::model::{Order, StockType, Store};

/// Where a quantity of stock is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Product(u64),
    Combination(u64),
}

/// The stock an order has taken, per slot.
fn taken(store: &Store, order: &Order) -> BTreeMap<Slot, Decimal> {
    let mut slots = BTreeMap::new();
    if !order.takes_stock() {
        return slots;
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
            *slots.entry(slot).or_default() += row.count;
        }
    }
    slots
}

fn add(store: &mut Store, slots: &BTreeMap<Slot, Decimal>, sign: Decimal) {
    for (slot, count) in slots {
        let stock = match slot {
            Slot::Product(id) => store.products.get_mut(id).map(|p| &mut p.stock),
            Slot::Combination(id) => store.combinations.get_mut(id).map(|c| &mut c.stock),
        };
        if let Some(stock) = stock {
            *stock += sign * count;
        }
    }
}

/// Adds a new order, taking its stock if it is a completed sale.
pub(super) fn insert_order(store: &mut Store, order: Order) {
    let slots = taken(store, &order);
    add(store, &slots, Decimal::NEGATIVE_ONE);
    store.orders.insert(order.id, order);
}

/// Changes an order and moves stock by what the change means; on an error nothing changes.
pub(super) fn change_order<T, E>(
    store: &mut Store,
    id: u64,
    change: impl FnOnce(&mut Store, &mut Order) -> Result<T, E>,
) -> Option<Result<T, E>> {
    let original = store.orders.remove(&id)?;
    let before = taken(store, &original);
    let mut order = original.clone();
    let result = change(store, &mut order);
    if result.is_ok() {
        let after = taken(store, &order);
        add(store, &before, Decimal::ONE);
        add(store, &after, Decimal::NEGATIVE_ONE);
        store.orders.insert(id, order);
    } else {
        store.orders.insert(id, original);
    }
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
