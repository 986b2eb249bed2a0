//! Booking orders, and finding them again.
//!
//! The marker: every order the connector books carries `reservationnumber` = the
//! `order_marker_prefix` setting + the source order number ("WEB-10042"). CCV offers no external
//! reference field; `reservationnumber` is free text the POS shows with the order, it is in the
//! documented input schema of `POST /orders`, and nothing in CCV acts on it (a reservation is
//! status 14, not this field). The prefix keeps the marker apart from numbers the staff type.
//!
//! Finding: `GET /orders` cannot filter on the marker, so `find-orders` answers from what the
//! connector remembers (kv), and asks CCV only when that is not enough:
//! 1. `orders/booked/<number>`, written as soon as CCV answers a booking: no request;
//! 2. `orders/intent/<number>`, written just before the booking is sent and settled once the
//!    answer is known. One left unsettled means the answer never arrived (a crash, a timeout):
//!    the orders created since then (less a margin for clock skew) are read — usually one page —
//!    and matched on the marker;
//! 3. a number with neither was never sent from this connection: not found, no request.

use std::collections::HashMap;

use serde_json::json;
use tillbridge_sdk::types::{PluginError, RecordResult, WriteAction, Written};
use tillbridge_sdk::{clock, kv};

use crate::exports::tillbridge::plugin::orders_sink::{OrderRef, OrderSubmission};
use crate::memory::{self, Intents};
use crate::order_body::{note_text, order_body};
use crate::results::{Batch, written};
use crate::settings::Ccv;
use crate::surcharges::Surcharges;
use crate::time::iso_utc;
use crate::wire::{Created, Order, Paymethod};

const INTENTS: Intents = Intents::new("orders/intent/");

/// Orders created this long before an unsettled booking are read too: CCV refuses signatures
/// more than 5 minutes off, so its clock is within 5 minutes of the one that wrote the intent.
const CLOCK_MARGIN_MS: u64 = 10 * 60 * 1000;

fn booked_key(number: &str) -> String {
    format!("orders/booked/{number}")
}

/// The marker the connector writes on an order with this source number.
pub fn marker(ccv: &Ccv, number: &str) -> String {
    format!("{}{number}", ccv.settings.order_marker_prefix)
}

/// `find-orders`: which of these source order numbers are booked in CCV.
pub fn find(ccv: &Ccv, numbers: Vec<String>) -> Result<Vec<OrderRef>, PluginError> {
    let wanted: Vec<&str> = numbers.iter().map(String::as_str).collect();
    let found = booked(ccv, &wanted)?;
    Ok(numbers
        .into_iter()
        .filter_map(|number| {
            let id = *found.get(&number)?;
            Some(OrderRef {
                number,
                id: id.to_string(),
            })
        })
        .collect())
}

/// The CCV ids of those numbers that are booked, reconciling unsettled bookings.
fn booked(ccv: &Ccv, numbers: &[&str]) -> Result<HashMap<String, u64>, PluginError> {
    let keys: Vec<String> = numbers.iter().map(|n| booked_key(n)).collect();
    let mut found: HashMap<String, u64> = HashMap::new();
    let mut unknown: Vec<&str> = Vec::new();
    for (number, id) in numbers.iter().zip(kv::get_many(&keys)) {
        match id.and_then(|id| id.parse().ok()) {
            Some(id) => {
                found.insert(number.to_string(), id);
            }
            None => unknown.push(number),
        }
    }
    let unsettled: Vec<(&str, u64)> = unknown
        .iter()
        .zip(INTENTS.sent_at(&unknown))
        .filter_map(|(number, at)| Some((*number, at?)))
        .collect();
    let Some(earliest) = unsettled.iter().map(|(_, at)| *at).min() else {
        return Ok(found);
    };
    let since = iso_utc(earliest.saturating_sub(CLOCK_MARGIN_MS));
    let recent: Vec<Order> = ccv
        .api
        .all("orders", &[("min_create_date", &since), ("orderby", "id")])?;
    let by_marker: HashMap<&str, u64> = recent
        .iter()
        .filter_map(|o| Some((o.reservationnumber.as_deref()?, o.id)))
        .collect();
    let mut remembered = Vec::new();
    for (number, _) in &unsettled {
        if let Some(id) = by_marker.get(marker(ccv, number).as_str()) {
            found.insert(number.to_string(), *id);
            remembered.push((booked_key(number), id.to_string()));
        }
    }
    // Found or not, these are settled now: what CCV has is known.
    let settled: Vec<&str> = unsettled.iter().map(|(n, _)| *n).collect();
    INTENTS.settle(&settled, remembered);
    tillbridge_sdk::info!(
        "reconciled {} unsettled booking(s) against {} recent CCV orders",
        settled.len(),
        recent.len()
    );
    Ok(found)
}

/// `create-orders`: books each order not booked yet.
pub fn create(
    ccv: &Ccv,
    submissions: Vec<OrderSubmission>,
) -> Result<Vec<RecordResult>, PluginError> {
    let numbers: Vec<&str> = submissions
        .iter()
        .map(|s| s.order.number.as_str())
        .collect();
    let mut existing = booked(ccv, &numbers)?;
    let unbooked = submissions
        .iter()
        .filter(|s| !existing.contains_key(&s.order.number));
    let surcharges = Surcharges::of(ccv, unbooked)?;
    let bodies: Vec<Result<serde_json::Value, PluginError>> = submissions
        .iter()
        .map(|s| order_body(s, &marker(ccv, &s.order.number), &ccv.settings, &surcharges))
        .collect();
    let to_send: Vec<&str> = submissions
        .iter()
        .zip(&bodies)
        .filter(|(s, body)| body.is_ok() && !existing.contains_key(&s.order.number))
        .map(|(s, _)| s.order.number.as_str())
        .collect();
    INTENTS.open(&to_send, clock::now_millis());
    let mut labels = PaymethodLabels::default();
    let mut batch = Batch::default();
    let mut unsent: Vec<&str> = Vec::new();
    for (submission, body) in submissions.iter().zip(bodies) {
        let number = submission.order.number.as_str();
        if let Some(id) = existing.get(number) {
            batch.push(number, Ok(written(id, WriteAction::Unchanged)));
            continue;
        }
        let body = match body {
            Ok(body) => body,
            Err(problem) => {
                batch.push(number, Err(problem));
                continue;
            }
        };
        if batch.halted() {
            unsent.push(number);
        }
        batch.record(number, || {
            let result = book(ccv, submission, &body, &mut labels);
            if let Ok(done) = &result {
                existing.insert(number.to_string(), done.id.parse().unwrap_or_default());
            }
            result
        });
    }
    INTENTS.settle(&unsent, Vec::new());
    Ok(batch.finish())
}

/// Sends one booking and records what became of it.
fn book(
    ccv: &Ccv,
    submission: &OrderSubmission,
    body: &serde_json::Value,
    labels: &mut PaymethodLabels,
) -> Result<Written, PluginError> {
    let number = submission.order.number.as_str();
    let created: Created = match ccv.api.post("orders", body) {
        Ok(created) => created,
        Err(failure) if failure.refused() => {
            // CCV refused it before acting: certainly not booked.
            INTENTS.settle(&[number], Vec::new());
            return Err(failure.into());
        }
        Err(failure) => {
            // The answer is lost, not necessarily the order: the intent stays, so it is looked
            // for before it is ever sent again.
            return Err(failure.maybe_done());
        }
    };
    INTENTS.settle(
        &[number],
        vec![(booked_key(number), created.id.to_string())],
    );
    if ccv.settings.order_note {
        let label = submission
            .payment_method
            .as_deref()
            .and_then(|id| labels.get(ccv, id));
        if let Some(note) = note_text(submission, label.as_deref()) {
            // Appends a note: not idempotent. Losing it does not undo the booking.
            let path = format!("orders/{}", created.id);
            if let Err(failure) = ccv.api.patch(&path, &json!({ "note": note }), false) {
                tillbridge_sdk::warn!(
                    "order {number} is booked as CCV order {}, but its note was not added: {}",
                    created.id,
                    failure.error.describe()
                );
            }
        }
    }
    Ok(written(created.id, WriteAction::Created))
}

/// The labels of CCV's payment methods, remembered; read again (one request) when an id is new.
#[derive(Default)]
struct PaymethodLabels {
    labels: Option<HashMap<String, String>>,
    fetched: bool,
}

impl PaymethodLabels {
    const KEY: &str = "paymethods";

    fn get(&mut self, ccv: &Ccv, id: &str) -> Option<String> {
        let labels = self
            .labels
            .get_or_insert_with(|| memory::get_json(Self::KEY).unwrap_or_default());
        if !labels.contains_key(id) && !self.fetched {
            self.fetched = true;
            match ccv.api.all::<Paymethod>("paymethods", &[]) {
                Ok(methods) => {
                    *labels = methods
                        .into_iter()
                        .map(|m| (m.id.to_string(), m.label))
                        .collect();
                    memory::set_json(Self::KEY, labels);
                }
                Err(failure) => {
                    tillbridge_sdk::warn!(
                        "payment methods unreadable: {}",
                        failure.error.describe()
                    )
                }
            }
        }
        labels.get(id).cloned()
    }
}
