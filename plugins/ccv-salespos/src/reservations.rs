//! Reservations: the articles in orders of status 14 ("Reserved"), read the way CCV documents.
//!
//! `GET /orders?status=14` lists the reserved orders. Their rows are a link: `GET /orders`
//! documents no `expand` (`Parameters/Orders/All.php` in `jacobdekeizer/ccvshop-client`), so each
//! order's rows are read with `GET /orders/:id/orderrows`, one request per order. A reserved
//! order's rows rarely change, so the rows of an order read once are remembered (kv
//! `stock/reserved/<order id>`) with the order's `total_orderrow_price`, and read again only when
//! that total changes; orders no longer reserved are forgotten. The reading goes one request at a
//! time ([`Reading::step`]), so that the caller can send the requests of other operations in
//! between (CCV limits each operation on its own) and stop after [`REQUESTS_PER_CALL`], so that
//! no call runs for long.
//!
//! A row names its variant by `sub_sku_number`, `sub_product_number` and `sub_ean_number` (CCV's
//! order row read model; `attribute_combination_id` is an input field only): a variant's
//! reservations are the rows of its product whose first of these numbers that is set is the
//! variant's own. A simple product's are all rows of the product.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use tillbridge_sdk::decimal::{self, Decimal};
use tillbridge_sdk::kv;
use tillbridge_sdk::types::PluginError;

use crate::client::PAGE_SIZE;
use crate::settings::Ccv;
use crate::wire::{Combination, Order, OrderRow, Page};

/// Requests of the reading one call sends at most (about a minute at CCV's 150 reads a minute).
pub const REQUESTS_PER_CALL: usize = 150;

const KEY_PREFIX: &str = "stock/reserved/";

fn key(order: u64) -> String {
    format!("{KEY_PREFIX}{order}")
}

/// A reserved row, as remembered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Row {
    product_id: u64,
    sku: Option<String>,
    number: Option<String>,
    ean: Option<String>,
    count: Decimal,
}

impl Row {
    fn from_wire(row: OrderRow) -> Option<Row> {
        let text = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        Some(Row {
            product_id: row.product_id?,
            sku: text(row.sub_sku_number),
            number: text(row.sub_product_number),
            ean: text(row.sub_ean_number),
            count: row.count,
        })
    }

    /// Whether the row is of this variant, by the first number it names its variant by.
    fn is_of(&self, variant: &Variant) -> bool {
        match (&self.sku, &self.number, &self.ean) {
            (Some(sku), _, _) => *sku == variant.sku,
            (None, Some(number), _) => *number == variant.number,
            (None, None, Some(ean)) => *ean == variant.ean,
            (None, None, None) => false,
        }
    }
}

/// The numbers a reserved row may name a variant (an attribute combination) by.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub sku: String,
    pub number: String,
    pub ean: String,
}

impl From<&Combination> for Variant {
    fn from(combination: &Combination) -> Self {
        Variant {
            sku: combination.sku_number.clone(),
            number: combination.product_number.clone(),
            ean: combination.ean_number.clone(),
        }
    }
}

/// The rows of one reserved order, with the total they were read at.
#[derive(Debug, Serialize, Deserialize)]
struct Remembered {
    total: String,
    rows: Vec<Row>,
}

/// Reserved rows, by product.
#[derive(Debug, Default, Clone)]
pub struct Reservations {
    by_product: HashMap<u64, Vec<Row>>,
}

impl Reservations {
    /// What is reserved of a product's variant, or of a simple product (every row of it).
    pub fn of(&self, product_id: u64, variant: Option<&Variant>) -> Decimal {
        self.by_product
            .get(&product_id)
            .into_iter()
            .flatten()
            .filter(|r| variant.is_none_or(|v| r.is_of(v)))
            .map(|r| r.count)
            .sum()
    }
}

/// How far a run has read the reservations.
#[derive(Debug, Default)]
pub struct Reading {
    /// The reserved orders listed so far, with their `total_orderrow_price`.
    orders: Vec<(u64, String)>,
    /// Whether the list was read to its end.
    listed: bool,
    /// Orders whose rows are still to be read, with their totals (known once listed).
    to_read: Vec<(u64, String)>,
    /// Everything, once read.
    done: Option<Reservations>,
}

impl Reading {
    /// The reservations, once every request is sent.
    pub fn done(&self) -> Option<&Reservations> {
        self.done.as_ref()
    }

    /// Sends the next request: a page of the reserved orders, or one order's rows. When nothing
    /// is left to send, gathers the reservations. A failed request is sent again next step.
    pub fn step(&mut self, ccv: &Ccv) -> Result<(), PluginError> {
        if self.done.is_some() {
            return Ok(());
        }
        if !self.listed {
            let page: Page<Order> =
                ccv.api
                    .page("orders", &[("status", "14")], self.orders.len(), PAGE_SIZE)?;
            self.listed = page.next.is_none() || page.items.is_empty();
            self.orders.extend(
                page.items
                    .into_iter()
                    .map(|o| (o.id, decimal::format(o.total_orderrow_price))),
            );
            if self.listed {
                self.to_read = plan(&self.orders);
            }
        } else if let Some((order, total)) = self.to_read.last() {
            read_rows(ccv, *order, total)?;
            // Taken off the list only once read.
            self.to_read.pop();
        }
        if self.listed && self.to_read.is_empty() {
            self.done = Some(gather(&self.orders));
        }
        Ok(())
    }
}

/// Works out whose rows must be read, and forgets orders no longer reserved.
fn plan(orders: &[(u64, String)]) -> Vec<(u64, String)> {
    let keys: Vec<String> = orders.iter().map(|(id, _)| key(*id)).collect();
    let to_read = orders
        .iter()
        .zip(kv::get_many(&keys))
        .filter(|((_, total), known)| {
            let known: Option<Remembered> =
                known.as_deref().and_then(|t| serde_json::from_str(t).ok());
            known.is_none_or(|k| k.total != *total)
        })
        .map(|(order, _)| order.clone())
        .collect();
    let current: HashSet<String> = keys.into_iter().collect();
    for stale in kv::keys(KEY_PREFIX) {
        if !current.contains(&stale) {
            kv::delete(&stale);
        }
    }
    to_read
}

/// Reads one order's rows and remembers them with the order's total.
fn read_rows(ccv: &Ccv, order: u64, total: &str) -> Result<(), PluginError> {
    let rows: Vec<OrderRow> = match ccv.api.all(&format!("orders/{order}/orderrows"), &[]) {
        Ok(rows) => rows,
        // Gone since it was listed: it reserves nothing.
        Err(failure) if failure.no_such_id() => Vec::new(),
        Err(failure) => return Err(failure.into()),
    };
    let remembered = Remembered {
        total: total.to_string(),
        rows: rows.into_iter().filter_map(Row::from_wire).collect(),
    };
    if let Ok(text) = serde_json::to_string(&remembered) {
        kv::set_many(&[(key(order), text)]);
    }
    Ok(())
}

/// Every remembered row of these orders, by product.
fn gather(orders: &[(u64, String)]) -> Reservations {
    let keys: Vec<String> = orders.iter().map(|(id, _)| key(*id)).collect();
    let mut reservations = Reservations::default();
    for text in kv::get_many(&keys).into_iter().flatten() {
        let Ok(remembered) = serde_json::from_str::<Remembered>(&text) else {
            continue;
        };
        for row in remembered.rows {
            reservations
                .by_product
                .entry(row.product_id)
                .or_default()
                .push(row);
        }
    }
    reservations
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(json: &str) -> Row {
        Row::from_wire(serde_json::from_str(json).unwrap()).unwrap()
    }

    fn combination(json: &str) -> Combination {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_row_names_its_variant_by_the_first_number_it_has() {
        let red = combination(
            r#"{"id": 11, "sku_number": "TEE-S-RED", "product_number": "P-RED", "ean_number": "871"}"#,
        );
        let blue = combination(r#"{"id": 12, "sku_number": "TEE-S-BLUE", "ean_number": "872"}"#);
        let by_sku = row(r#"{"product_id": 1, "sub_sku_number": "TEE-S-RED", "count": 2}"#);
        let (red, blue) = (Variant::from(&red), Variant::from(&blue));
        assert!(by_sku.is_of(&red) && !by_sku.is_of(&blue));
        let by_number = row(
            r#"{"product_id": 1, "sub_sku_number": "", "sub_product_number": "P-RED", "count": 1}"#,
        );
        assert!(by_number.is_of(&red));
        let by_ean = row(r#"{"product_id": 1, "sub_ean_number": "872", "count": 1}"#);
        assert!(by_ean.is_of(&blue) && !by_ean.is_of(&red));
        let plain = row(r#"{"product_id": 1, "count": 4}"#);
        assert!(!plain.is_of(&red), "a row without numbers is no variant's");

        let reservations = Reservations {
            by_product: HashMap::from([(1, vec![by_sku, by_number, by_ean, plain])]),
        };
        assert_eq!(reservations.of(1, Some(&red)), Decimal::from(3));
        assert_eq!(reservations.of(1, Some(&blue)), Decimal::ONE);
        assert_eq!(reservations.of(1, None), Decimal::from(8));
        assert_eq!(reservations.of(2, None), Decimal::ZERO);
    }
}
