//! Which markers CCV has orders for, judged by `reservationnumber` (see [`crate::marker`]) —
//! whoever created them: this connector, a previous integration, the staff.
//!
//! CCV is the truth; what the connector remembers (the host's kv) only saves requests, and losing
//! it costs requests, never a second order. The host keeps the intents (what was sent and not
//! yet answered) and says with each look-up since when the order can exist; the connector keeps
//! no intent log. `GET /orders` cannot filter on the marker, so the connector reads CCV's orders
//! by creation date and remembers what it saw:
//! - `orders/booked/<marker>` → `{"id", "created"}`: the CCV order with that marker and when CCV
//!   created it (ms); entries older than `booked_memory_days` are forgotten, so that the memory
//!   stays bounded;
//! - `orders/scan` → every marked order CCV created from `from` to `to` (this connector's clock,
//!   ms) is remembered, for the marker format `marker`.
//!
//! A marker not remembered costs one pass over the orders created since the last pass (less a
//! margin for clocks), or, when nothing is remembered or the look-up's `since` is older than
//! what is remembered, since a day before `since`: `GET /orders?min_create_date=…&orderby=id`,
//! usually one page at steady state. A pass made by this instance (this run) less than a minute
//! ago, with no order sent unanswered since, is not repeated: the host asks `find-orders` just
//! before `create-orders`.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use tillbridge_sdk::types::PluginError;
use tillbridge_sdk::{clock, kv};

use crate::memory;
use crate::settings::Ccv;
use crate::time::{iso_utc, parse_utc};
use crate::wire::Order;

const SCAN: &str = "orders/scan";
const BOOKED: &str = "orders/booked/";

/// CCV refuses signatures more than 5 minutes off, so its clock, which dates its orders, is
/// within 5 minutes of this connector's: a pass that goes on from the last reads this much
/// further back.
const CLOCK_MARGIN_MS: u64 = 10 * 60 * 1000;

/// When an order was placed is the webshop's clock, which nothing ties to CCV's: a pass that
/// starts from an order's placing reads a day further back (once, with empty memory).
const PLACED_MARGIN_MS: u64 = 24 * 60 * 60 * 1000;

/// A pass this recent, in this instance, is not repeated.
const RECENT_MS: u64 = 60 * 1000;

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

thread_local! {
    /// When this instance (one run of the host) last read CCV's orders.
    static LAST_PASS: Cell<Option<u64>> = const { Cell::new(None) };
    /// When this instance sent the earliest order whose answer it never got: CCV may have it,
    /// unseen by the last pass. (After a crash the host's look-up `since` says the same.)
    static UNANSWERED: Cell<Option<u64>> = const { Cell::new(None) };
    /// Whether this instance has dropped the old entries of the memory yet.
    static PRUNED: Cell<bool> = const { Cell::new(false) };
}

fn booked_key(marker: &str) -> String {
    format!("{BOOKED}{marker}")
}

/// A remembered CCV order with a marker.
#[derive(Debug, Serialize, Deserialize)]
struct Booked {
    id: u64,
    /// When CCV created it (ms).
    created: u64,
}

impl Booked {
    fn read(text: &str) -> Option<Booked> {
        serde_json::from_str(text).ok()
    }

    fn text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// How far the remembered passes reach.
#[derive(Debug, Serialize, Deserialize)]
struct Scan {
    marker: String,
    from: u64,
    to: u64,
}

/// The CCV ids of those of `asked` (marker, ms before which CCV cannot have created it) that
/// CCV has an order for.
pub fn booked(ccv: &Ccv, asked: &[(&str, u64)]) -> Result<HashMap<String, u64>, PluginError> {
    let now = clock::now_millis();
    let forget_before = now.saturating_sub(u64::from(ccv.settings.booked_memory_days) * DAY_MS);
    if !PRUNED.get() {
        forget(forget_before);
        PRUNED.set(true);
    }
    let keys: Vec<String> = asked.iter().map(|(n, _)| booked_key(n)).collect();
    let mut found = HashMap::new();
    let mut unknown: Vec<&str> = Vec::new();
    let mut since = u64::MAX;
    for ((number, placed), known) in asked.iter().zip(kv::get_many(&keys)) {
        match known.as_deref().and_then(Booked::read) {
            Some(known) => {
                found.insert(number.to_string(), known.id);
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
    let need = since.min(now).saturating_sub(PLACED_MARGIN_MS);
    let format = ccv.marker.format();
    // What is forgotten is no longer "seen": the remembered reach starts after it.
    let scan = memory::get_json::<Scan>(SCAN)
        .filter(|s| s.marker == format)
        .map(|s| Scan {
            from: s.from.max(forget_before + CLOCK_MARGIN_MS),
            ..s
        })
        .filter(|s| need >= s.from && s.from < s.to);
    let unanswered = UNANSWERED.get();
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
    // The oldest CCV order with a marker is its order; what is remembered stays.
    let mut seen: BTreeMap<&str, Booked> = BTreeMap::new();
    for order in &orders {
        if let Some(number) = order
            .reservationnumber
            .as_deref()
            .and_then(|r| ccv.marker.read(r))
        {
            // A create date that does not parse counts as now: remembered longer, never less.
            let created = order
                .create_date
                .as_deref()
                .and_then(parse_utc)
                .unwrap_or(now);
            seen.entry(number).or_insert(Booked {
                id: order.id,
                created,
            });
        }
    }
    let keys: Vec<String> = seen.keys().map(|n| booked_key(n)).collect();
    let remembered = kv::get_many(&keys);
    let mut entries: Vec<(String, String)> = keys
        .into_iter()
        .zip(remembered)
        .zip(seen.values())
        .filter(|((_, remembered), _)| remembered.is_none())
        .filter(|(_, booked)| booked.created >= forget_before)
        .map(|((key, _), booked)| (key, booked.text()))
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
    kv::set_many(&entries);
    LAST_PASS.set(Some(now));
    UNANSWERED.set(None);
    for number in unknown {
        if let Some(booked) = seen.get(number) {
            found.insert(number.to_string(), booked.id);
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

/// An order was sent and its answer is lost: until the next pass, CCV may have it unseen.
pub fn unanswered(sent_at: u64) {
    UNANSWERED.set(Some(UNANSWERED.get().map_or(sent_at, |t| t.min(sent_at))));
}

/// An order CCV confirmed, created now.
pub fn remember(marker: &str, id: u64) {
    let booked = Booked {
        id,
        created: clock::now_millis(),
    };
    kv::set_many(&[(booked_key(marker), booked.text())]);
}

/// Drops the remembered orders CCV created before `before` (ms), and those remembered in an
/// older form: the memory stays bounded, and what is forgotten is read from CCV again if asked.
fn forget(before: u64) {
    let keys = kv::keys(BOOKED);
    let values = kv::get_many(&keys);
    let mut dropped = 0;
    for (key, value) in keys.iter().zip(values) {
        let old = value
            .as_deref()
            .and_then(Booked::read)
            .is_none_or(|b| b.created < before);
        if old {
            kv::delete(key);
            dropped += 1;
        }
    }
    if dropped > 0 {
        tillbridge_sdk::info!(
            "forgot {dropped} CCV order(s) created before {}",
            iso_utc(before)
        );
    }
}
