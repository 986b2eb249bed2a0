//! Which source orders CCV has booked, judged by the marker in `reservationnumber` (see
//! [`crate::marker`]) — whoever booked them: this connector, a previous integration, the staff.
//!
//! CCV is the truth; what the connector remembers (the host's kv) only saves requests, and losing
//! it costs requests, never a second booking. `GET /orders` cannot filter on the marker, so the
//! connector reads CCV's orders by creation date and remembers what it saw:
//! - `orders/booked/<number>` → CCV order id, for every marked order it has seen or booked;
//! - `orders/scan` → every marked order CCV created from `from` to `to` (this connector's clock,
//!   ms) is among them, for the marker format `marker`;
//! - `orders/unanswered` → when the earliest booking whose answer never arrived was sent (a
//!   crash, a timeout): CCV may have it, unseen.
//!
//! A number not remembered costs one pass over the orders created since the last pass (less a
//! margin for clocks), or, when nothing is remembered or the order is older than what was read,
//! since a day before the order was placed: `GET /orders?min_create_date=…&orderby=id`, usually
//! one page at steady state. A pass made by this instance (this run) less than a minute ago, with
//! no booking unanswered since, is not repeated: the host asks `find-orders` just before
//! `create-orders`.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use tillbridge_sdk::types::PluginError;
use tillbridge_sdk::{clock, kv};

use crate::memory;
use crate::settings::Ccv;
use crate::time::iso_utc;
use crate::wire::Order;

const SCAN: &str = "orders/scan";
const UNANSWERED: &str = "orders/unanswered";

/// CCV refuses signatures more than 5 minutes off, so its clock, which dates its orders, is
/// within 5 minutes of this connector's: a pass that goes on from the last reads this much
/// further back.
const CLOCK_MARGIN_MS: u64 = 10 * 60 * 1000;

/// When an order was placed is the webshop's clock, which nothing ties to CCV's: a pass that
/// starts from an order's placing reads a day further back (once, with empty memory).
const PLACED_MARGIN_MS: u64 = 24 * 60 * 60 * 1000;

/// A pass this recent, in this instance, is not repeated.
const RECENT_MS: u64 = 60 * 1000;

thread_local! {
    /// When this instance (one run of the host) last read CCV's orders.
    static LAST_PASS: Cell<Option<u64>> = const { Cell::new(None) };
}

fn booked_key(number: &str) -> String {
    format!("orders/booked/{number}")
}

/// How far the remembered passes reach.
#[derive(Debug, Serialize, Deserialize)]
struct Scan {
    marker: String,
    from: u64,
    to: u64,
}

/// The CCV ids of those of `asked` (source number, ms before which it cannot have been booked)
/// that CCV has booked.
pub fn booked(ccv: &Ccv, asked: &[(&str, u64)]) -> Result<HashMap<String, u64>, PluginError> {
    let keys: Vec<String> = asked.iter().map(|(n, _)| booked_key(n)).collect();
    let mut found = HashMap::new();
    let mut unknown: Vec<&str> = Vec::new();
    let mut since = u64::MAX;
    for ((number, placed), id) in asked.iter().zip(kv::get_many(&keys)) {
        match id.and_then(|id| id.parse().ok()) {
            Some(id) => {
                found.insert(number.to_string(), id);
            }
            None => {
                unknown.push(number);
                since = since.min(*placed);
            }
        }
    }
    if unknown.is_empty() {
        return Ok(found);
    }
    let now = clock::now_millis();
    let need = since.min(now).saturating_sub(PLACED_MARGIN_MS);
    let format = ccv.marker.format();
    let scan = memory::get_json::<Scan>(SCAN).filter(|s| s.marker == format && need >= s.from);
    let unanswered = memory::get_json::<u64>(UNANSWERED);
    let recent = LAST_PASS
        .get()
        .is_some_and(|at| now.saturating_sub(at) < RECENT_MS);
    if scan.is_some() && unanswered.is_none() && recent {
        return Ok(found);
    }
    // Read on from where the last pass ended, or from the oldest order asked about; and from
    // the earliest unanswered booking.
    let unanswered_since = unanswered.map_or(u64::MAX, |t| t.saturating_sub(CLOCK_MARGIN_MS));
    let start = scan
        .as_ref()
        .map_or(need, |s| s.to.saturating_sub(CLOCK_MARGIN_MS))
        .min(unanswered_since);
    let from = scan.as_ref().map_or(start, |s| s.from.min(start));
    let orders: Vec<Order> = ccv.api.all(
        "orders",
        &[("min_create_date", &iso_utc(start)), ("orderby", "id")],
    )?;
    // The oldest CCV order with a number's marker is its booking; what is remembered stays.
    let mut seen: BTreeMap<&str, u64> = BTreeMap::new();
    for order in &orders {
        if let Some(number) = order
            .reservationnumber
            .as_deref()
            .and_then(|r| ccv.marker.read(r))
        {
            seen.entry(number).or_insert(order.id);
        }
    }
    let keys: Vec<String> = seen.keys().map(|n| booked_key(n)).collect();
    let remembered = kv::get_many(&keys);
    let mut entries: Vec<(String, String)> = keys
        .into_iter()
        .zip(remembered)
        .zip(seen.values())
        .filter(|((_, remembered), _)| remembered.is_none())
        .map(|((key, _), id)| (key, id.to_string()))
        .collect();
    let reached = Scan {
        marker: format,
        from,
        to: now,
    };
    entries.push((
        SCAN.into(),
        serde_json::to_string(&reached).unwrap_or_default(),
    ));
    entries.push((UNANSWERED.into(), String::new()));
    kv::set_many(&entries);
    LAST_PASS.set(Some(now));
    for number in unknown {
        if let Some(id) = seen.get(number) {
            found.insert(number.to_string(), *id);
        }
    }
    tillbridge_sdk::info!(
        "looked for {} order number(s) among {} CCV orders created since {}",
        found.len(),
        orders.len(),
        iso_utc(start)
    );
    Ok(found)
}

/// Bookings are about to be sent: until their answers are in, CCV may have them unseen. True
/// when this marked it (no earlier booking was left unanswered).
pub fn sending() -> bool {
    let first = memory::get_json::<u64>(UNANSWERED).is_none();
    if first {
        memory::set_json(UNANSWERED, &clock::now_millis());
    }
    first
}

/// Every booking sent since [`sending`] marked it was answered (and remembered when booked).
pub fn all_answered() {
    kv::set_many(&[(UNANSWERED.into(), String::new())]);
}

/// A booking CCV confirmed.
pub fn remember(number: &str, id: u64) {
    kv::set_many(&[(booked_key(number), id.to_string())]);
}
