//! Booking orders, and finding them again.
//!
//! The marker: every order the connector creates carries the host's marker (the source order
//! number) in `reservationnumber`, in the `order_marker` format ("WEB-10042"; see
//! [`crate::marker`]). CCV
//! offers no external reference field; `reservationnumber` is free text in the documented input
//! schema of `POST /orders` ("The reservation number for an order. This may be visible on the
//! invoice"), it comes back in `GET /orders`, and nothing in CCV acts on it (a reservation is
//! status 14, not this field). Whether an order is booked is CCV's to say: see
//! [`crate::bookings`].
//!
//! The note: what CCV's order has no field for (the payment method — `POST /orders` takes no
//! `paymethod_id` —, the payment condition, the store, the shipping method, the customer's
//! comment) goes into an internal note, `POST /orders/:id/ordernotes`, which the staff see and the
//! customer does not. (`PATCH /orders/:id {"note"}` is text appended to the e-mail CCV sends the
//! customer when `mail` is set: not the place.) The `order_note` setting turns it off.

use std::collections::HashMap;

use serde_json::json;
use tillbridge_sdk::clock;
use tillbridge_sdk::types::{PluginError, RecordResult, WriteAction, Written};

use crate::bookings;
use crate::exports::tillbridge::plugin::orders_sink::{MarkerLookup, MarkerRef, OrderSubmission};
use crate::memory;
use crate::order_body::{note_text, order_body};
use crate::packages;
use crate::results::{Batch, written};
use crate::settings::Ccv;
use crate::surcharges::Surcharges;
use crate::time::parse_utc;
use crate::wire::{Created, Paymethod};

/// The earliest time CCV can have an order. A time that does not parse means "any time": the
/// look-up then reads further back, never less far.
fn since_ms(marker: &str, since: &str) -> u64 {
    parse_utc(since).unwrap_or_else(|| {
        tillbridge_sdk::warn!(
            "order {marker}: {since:?} is no RFC 3339 time; looking for it in all of CCV's orders"
        );
        0
    })
}

/// `find-orders`: which of these markers CCV has orders for.
pub fn find(ccv: &Ccv, lookups: Vec<MarkerLookup>) -> Result<Vec<MarkerRef>, PluginError> {
    let asked: Vec<(&str, u64)> = lookups
        .iter()
        .map(|l| (l.marker.as_str(), since_ms(&l.marker, &l.since)))
        .collect();
    let found = bookings::booked(ccv, &asked)?;
    Ok(lookups
        .iter()
        .filter_map(|lookup| {
            let id = *found.get(&lookup.marker)?;
            Some(MarkerRef {
                marker: lookup.marker.clone(),
                id: id.to_string(),
            })
        })
        .collect())
}

/// `create-orders`: books each order CCV does not have yet.
pub fn create(
    ccv: &Ccv,
    submissions: Vec<OrderSubmission>,
) -> Result<Vec<RecordResult>, PluginError> {
    let asked: Vec<(&str, u64)> = submissions
        .iter()
        .map(|s| (s.marker.as_str(), since_ms(&s.marker, &s.order.ordered_at)))
        .collect();
    let mut existing = bookings::booked(ccv, &asked)?;
    let unbooked = submissions
        .iter()
        .filter(|s| !existing.contains_key(&s.marker));
    let surcharges = Surcharges::of(ccv, unbooked)?;
    let mut package = packages::Lazy::new(ccv);
    let bodies: Vec<Result<serde_json::Value, PluginError>> = submissions
        .iter()
        .map(|s| {
            let marker = ccv.marker.write(&s.marker);
            order_body(s, &marker, &surcharges, &mut || package.id())
        })
        .collect();
    let mut labels = PaymethodLabels::default();
    let mut batch = Batch::default();
    for (submission, body) in submissions.iter().zip(bodies) {
        let number = submission.order.number.as_str();
        if let Some(id) = existing.get(&submission.marker) {
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
        batch.record(number, || {
            let sent_at = clock::now_millis();
            let result = book(ccv, submission, &body, &mut labels);
            match &result {
                Ok(done) => {
                    existing.insert(
                        submission.marker.clone(),
                        done.id.parse().unwrap_or_default(),
                    );
                }
                Err(Answer::Lost(_)) => bookings::unanswered(sent_at),
                Err(Answer::Refused(_)) => {}
            }
            result.map_err(Answer::into_error)
        });
    }
    Ok(batch.finish())
}

/// Why a booking was not confirmed.
enum Answer {
    /// CCV refused it before acting: certainly not booked.
    Refused(PluginError),
    /// The answer is lost, not necessarily the order.
    Lost(PluginError),
}

impl Answer {
    fn into_error(self) -> PluginError {
        match self {
            Answer::Refused(e) | Answer::Lost(e) => e,
        }
    }
}

/// Sends one booking, remembers it, and adds its note.
fn book(
    ccv: &Ccv,
    submission: &OrderSubmission,
    body: &serde_json::Value,
    labels: &mut PaymethodLabels,
) -> Result<Written, Answer> {
    let number = submission.order.number.as_str();
    let created: Created = match ccv.api.post("orders", body) {
        Ok(created) => created,
        Err(failure) if failure.refused() => return Err(Answer::Refused(failure.into())),
        Err(failure) => return Err(Answer::Lost(failure.maybe_done())),
    };
    bookings::remember(&submission.marker, created.id);
    if ccv.settings.order_note {
        let label = submission
            .payment_method
            .as_deref()
            .and_then(|id| labels.get(ccv, id));
        if let Some(note) = note_text(submission, label.as_deref()) {
            // Adds a note: not idempotent. Losing it does not undo the booking.
            let path = format!("orders/{}/ordernotes", created.id);
            if let Err(failure) = ccv.api.post::<Created>(&path, &json!({ "note": note })) {
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
