//! Reservations: the articles in orders of status 14 ("Reserved"), read the way CCV documents.
//!
//! `GET /orders?status=14` lists the reserved orders. Their rows are a link: `GET /orders`
//! documents no `expand` (`Parameters/Orders/All.php` in `jacobdekeizer/ccvshop-client`), so each
//! order's rows are read with `GET /orders/:id/orderrows`, one request per order. A reserved
//! order's rows rarely change, so the rows of an order read once are remembered (kv
//! `stock/reserved/<order id>`) with the order's `total_orderrow_price`, and read again only when
//! that total changes; orders no longer reserved are forgotten. A first run over many
//! reservations reads at most [`ORDERS_PER_CALL`] orders' rows per call (about a minute at CCV's
//! 150 a minute), so that no call runs for long; the stock page of such a call is empty and says
//! more follows.
//!
//! A row names its variant by `sub_sku_number`, `sub_product_number` and `sub_ean_number` (CCV's
//! order row read model; `attribute_combination_id` is an input field only): a variant's
//! reservations are the rows of its product whose first of these numbers that is set is the
//! variant's own. A simple product's are all rows of the product.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use tillbridge_sdk::decimal::{self, Decimal};
use tillbridge_sdk::kv;
use tillbridge_sdk::types::PluginError;

use crate::settings::Ccv;
use crate::wire::{Combination, Order, OrderRow};

/// Orders whose rows one call reads at most.
pub const ORDERS_PER_CALL: usize = 150;

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

    /// Whether the row is of this combination, by the first number it names its variant by.
    fn is_of(&self, combination: &Combination) -> bool {
        match (&self.sku, &self.number, &self.ean) {
            (Some(sku), _, _) => *sku == combination.sku_number,
            (None, Some(number), _) => *number == combination.product_number,
            (None, None, Some(ean)) => *ean == combination.ean_number,
            (None, None, None) => false,
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
    /// What is reserved of a simple product: every row of it.
    pub fn of_product(&self, product_id: u64) -> Decimal {
        self.rows(product_id).map(|r| r.count).sum()
    }

    /// What is reserved of one combination of a product.
    pub fn of_combination(&self, product_id: u64, combination: &Combination) -> Decimal {
        self.rows(product_id)
            .filter(|r| r.is_of(combination))
            .map(|r| r.count)
            .sum()
    }

    fn rows(&self, product_id: u64) -> impl Iterator<Item = &Row> {
        self.by_product.get(&product_id).into_iter().flatten()
    }
}

/// How far this run has read.
#[derive(Debug, Default)]
struct Reading {
    /// Every reserved order and its `total_orderrow_price`.
    orders: Vec<(u64, String)>,
    /// Orders whose rows are still to be read.
    to_read: Vec<u64>,
    /// Everything, once read.
    done: Option<Reservations>,
}

thread_local! {
    /// This run's reading (one instance serves one run; a new instance starts over, with the
    /// rows remembered in kv).
    static READING: RefCell<Option<Reading>> = const { RefCell::new(None) };
}

/// The reservations, or none while their rows are still being read (call again). `first_page`
/// starts a run: the reserved orders are listed anew.
pub fn read(ccv: &Ccv, first_page: bool) -> Result<Option<Reservations>, PluginError> {
    let mut reading = READING.with(|r| r.borrow_mut().take());
    if first_page || reading.is_none() {
        reading = Some(list(ccv)?);
    }
    let mut reading = reading.unwrap_or_default();
    let outcome = advance(ccv, &mut reading);
    let done = reading.done.clone();
    READING.with(|r| *r.borrow_mut() = Some(reading));
    outcome?;
    Ok(done)
}

/// Lists the reserved orders, works out whose rows must be read, and forgets orders no longer
/// reserved.
fn list(ccv: &Ccv) -> Result<Reading, PluginError> {
    let orders: Vec<Order> = ccv.api.all("orders", &[("status", "14")])?;
    let orders: Vec<(u64, String)> = orders
        .into_iter()
        .map(|o| (o.id, decimal::format(o.total_orderrow_price)))
        .collect();
    let keys: Vec<String> = orders.iter().map(|(id, _)| key(*id)).collect();
    let to_read = orders
        .iter()
        .zip(kv::get_many(&keys))
        .filter(|((_, total), known)| {
            let known: Option<Remembered> =
                known.as_deref().and_then(|t| serde_json::from_str(t).ok());
            known.is_none_or(|k| k.total != *total)
        })
        .map(|((id, _), _)| *id)
        .collect();
    let current: HashSet<String> = keys.into_iter().collect();
    for stale in kv::keys(KEY_PREFIX) {
        if !current.contains(&stale) {
            kv::delete(&stale);
        }
    }
    Ok(Reading {
        orders,
        to_read,
        done: None,
    })
}

/// Reads the rows of up to [`ORDERS_PER_CALL`] orders; once none is left, gathers everything.
fn advance(ccv: &Ccv, reading: &mut Reading) -> Result<(), PluginError> {
    if reading.done.is_some() {
        return Ok(());
    }
    let totals: HashMap<u64, &String> = reading.orders.iter().map(|(id, t)| (*id, t)).collect();
    for _ in 0..ORDERS_PER_CALL {
        // Taken off the list only once read: a failed read is tried again next call.
        let Some(&order) = reading.to_read.last() else {
            break;
        };
        let rows: Vec<OrderRow> = match ccv.api.all(&format!("orders/{order}/orderrows"), &[]) {
            Ok(rows) => rows,
            // Gone since it was listed: it reserves nothing.
            Err(failure) if failure.no_such_id() => Vec::new(),
            Err(failure) => return Err(failure.into()),
        };
        let remembered = Remembered {
            total: totals
                .get(&order)
                .map_or_else(String::new, |t| (*t).clone()),
            rows: rows.into_iter().filter_map(Row::from_wire).collect(),
        };
        if let Ok(text) = serde_json::to_string(&remembered) {
            kv::set_many(&[(key(order), text)]);
        }
        reading.to_read.pop();
    }
    if reading.to_read.is_empty() {
        reading.done = Some(gather(&reading.orders));
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
        assert_eq!(reservations.of_combination(1, &red), Decimal::from(3));
        assert_eq!(reservations.of_combination(1, &blue), Decimal::ONE);
        assert_eq!(reservations.of_product(1), Decimal::from(8));
        assert_eq!(reservations.of_product(2), Decimal::ZERO);
    }
}
