//! Orders source: one page of orders changed since the cursor, in the chosen order and/or
//! payment states, in one search request (see `cursor` for how pages and sweeps fit together).

use serde_json::{Value, json};
use tillbridge_sdk::clock;
use tillbridge_sdk::types::{PluginError, Rejected};

use crate::client::Client;
use crate::criteria::{self, all_of, any_of, at_least, equals, equals_any};
use crate::cursor::OrderCursor;
use crate::exports::tillbridge::plugin::orders_source::{OrderPage, OrderQuery};
use crate::order_model::{self, changed_at};
use crate::timestamps::{self, Millis};
use crate::version::Version;

/// Without a `Date` header the host's clock stands in, this much earlier to allow for the two
/// clocks disagreeing.
const CLOCK_SKEW_MS: Millis = 5 * 60_000;

/// The associations the canonical order needs, and only the fields it reads (`includes`
/// keeps a page of 500 orders small).
fn associations() -> Value {
    json!({
        "stateMachineState": {},
        "orderCustomer": {"associations": {"salutation": {}}},
        "billingAddress": {"associations": {"country": {}}},
        "currency": {},
        "salesChannel": {},
        "lineItems": {"sort": [{"field": "position", "order": "ASC"}]},
        "transactions": {
            "sort": [{"field": "createdAt", "order": "ASC"}],
            "associations": {"stateMachineState": {}, "paymentMethod": {}},
        },
        "deliveries": {
            "sort": [{"field": "createdAt", "order": "ASC"}],
            "associations": {
                "stateMachineState": {},
                "shippingMethod": {},
                "shippingOrderAddress": {"associations": {"country": {}}},
            },
        },
    })
}

fn includes() -> Value {
    json!({
        "order": ["id", "orderNumber", "autoIncrement", "orderDateTime", "createdAt", "updatedAt",
                  "stateMachineState", "price", "amountTotal", "amountNet", "shippingTotal",
                  "customerComment", "customFields", "orderCustomer", "billingAddress", "currency",
                  "salesChannel", "lineItems", "transactions", "deliveries",
                  "primaryOrderTransactionId", "primaryOrderDeliveryId"],
        "state_machine_state": ["technicalName"],
        "order_customer": ["email", "firstName", "lastName", "company", "vatIds", "customerNumber",
                           "customerId", "salutation"],
        "salutation": ["salutationKey"],
        "order_address": ["firstName", "lastName", "street", "zipcode", "city", "company",
                          "department", "additionalAddressLine1", "additionalAddressLine2",
                          "phoneNumber", "vatId", "country"],
        "country": ["iso"],
        "currency": ["isoCode"],
        "sales_channel": ["name", "translated"],
        "order_line_item": ["type", "label", "quantity", "unitPrice", "totalPrice", "price",
                            "payload", "parentId", "position"],
        "order_transaction": ["id", "createdAt", "updatedAt", "stateMachineState", "paymentMethod"],
        "payment_method": ["name", "translated", "technicalName"],
        "order_delivery": ["id", "createdAt", "stateMachineState", "shippingOrderAddress",
                           "shippingMethod"],
        "shipping_method": ["name", "translated"],
    })
}

/// The search of one page: the keyset, the change window and the states. The payment-state
/// filter matches orders with *any* such transaction, so it only narrows the search; the latest
/// transaction decides afterwards (6.7.1+ filters the primary one exactly, where there is one).
fn page_criteria(
    cursor: &OrderCursor,
    window: Option<Millis>,
    query: &OrderQuery,
    version: &Version,
    limit: u32,
) -> Value {
    let mut criteria = criteria::keyset(cursor.after, limit);
    let filters = criteria["filter"]
        .as_array_mut()
        .expect("keyset has filters");
    if let Some(since) = window {
        let since = timestamps::for_filter(since);
        filters.push(any_of(
            [
                "createdAt",
                "updatedAt",
                "transactions.createdAt",
                "transactions.updatedAt",
            ]
            .iter()
            .map(|field| at_least(field, &since))
            .collect(),
        ));
    }
    let mut states = Vec::new();
    if !query.order_states.is_empty() {
        states.push(equals_any(
            "stateMachineState.technicalName",
            &query.order_states,
        ));
    }
    if !query.payment_states.is_empty() {
        let any = equals_any(
            "transactions.stateMachineState.technicalName",
            &query.payment_states,
        );
        states.push(if version.has_primary_transaction() {
            // 6.7 sets the primary transaction in the checkout only: an order written through
            // the API (an ERP, a marketplace, an import) has none, and its latest counts.
            any_of(vec![
                equals_any(
                    "primaryOrderTransaction.stateMachineState.technicalName",
                    &query.payment_states,
                ),
                all_of(vec![equals("primaryOrderTransactionId", Value::Null), any]),
            ])
        } else {
            any
        });
    }
    if !states.is_empty() {
        filters.push(any_of(states));
    }
    criteria["associations"] = associations();
    criteria["includes"] = includes();
    criteria
}

fn one_of(list: &[String], value: &str) -> bool {
    list.iter().any(|s| s.eq_ignore_ascii_case(value))
}

/// Whether an order is in the chosen states: in one of the order states or one of the
/// payment states (the one list given, or either when both are).
fn wanted(order: &Value, query: &OrderQuery) -> bool {
    if query.order_states.is_empty() && query.payment_states.is_empty() {
        return true;
    }
    one_of(&query.order_states, &order_model::order_state(order))
        || one_of(&query.payment_states, &order_model::payment_state(order))
}

/// Reads one page of orders.
pub fn read(client: &mut Client, query: OrderQuery) -> Result<OrderPage, PluginError> {
    let mut cursor = OrderCursor::parse(query.cursor.as_deref())?;
    let changed_since = match query.changed_since.as_deref() {
        Some(text) => Some(timestamps::parse(text).ok_or_else(|| {
            PluginError::fatal(format!("the flow's start date {text:?} is not a time"))
        })?),
        None => None,
    };
    let window = cursor.window(changed_since);
    let version = client.version()?;
    let limit = query.limit.clamp(1, client.settings.page_size);
    let criteria = page_criteria(&cursor, window, &query, &version, limit);
    let page = client.search("order", &criteria)?;
    if cursor.began.is_none() {
        cursor.begin(client.server_time.unwrap_or_else(|| {
            tillbridge_sdk::warn!("Shopware sent no Date header; the host's clock stands in");
            i64::try_from(clock::now_millis()).unwrap_or(0) - CLOCK_SKEW_MS
        }));
    }
    let more = page.total > page.rows.len() as u64;
    let mut orders = Vec::new();
    let mut rejected = Vec::new();
    for row in &page.rows {
        cursor.after = cursor.after.max(criteria::auto_increment(row));
        let id = row["id"].as_str().unwrap_or_default();
        let changed = changed_at(row).unwrap_or(0);
        if cursor.was_delivered(id, changed) || !wanted(row, &query) {
            continue;
        }
        match order_model::to_order(row) {
            Ok(order) => orders.push((changed, criteria::auto_increment(row), order)),
            Err(error) => rejected.push(Rejected {
                key: row["orderNumber"].as_str().unwrap_or(id).to_string(),
                error,
            }),
        }
        cursor.deliver(id, changed);
    }
    if !more {
        cursor.end_sweep(changed_since);
    }
    // Oldest change first within the page.
    orders.sort_by_key(|(changed, auto, _)| (*changed, *auto));
    Ok(OrderPage {
        orders: orders.into_iter().map(|(_, _, order)| order).collect(),
        rejected,
        cursor: Some(cursor.to_text()),
        more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(order_states: &[&str], payment_states: &[&str]) -> OrderQuery {
        OrderQuery {
            cursor: None,
            changed_since: None,
            order_states: order_states.iter().map(|s| s.to_string()).collect(),
            payment_states: payment_states.iter().map(|s| s.to_string()).collect(),
            limit: 50,
        }
    }

    #[test]
    fn the_states_filter_by_order_or_payment_state() {
        let order = json!({"stateMachineState": {"technicalName": "open"},
            "transactions": [{"stateMachineState": {"technicalName": "paid"}},
                             {"stateMachineState": {"technicalName": "cancelled"}}]});
        assert!(wanted(&order, &query(&[], &[])));
        assert!(
            !wanted(&order, &query(&[], &["paid"])),
            "the latest transaction counts"
        );
        assert!(wanted(&order, &query(&["open"], &["paid"])), "either list");
        assert!(wanted(&order, &query(&[], &["Cancelled"])));
    }

    #[test]
    fn the_criteria_filter_the_primary_transaction_on_6_7_1() {
        let cursor = OrderCursor::parse(None).unwrap();
        let q = query(&["in_progress"], &["paid"]);
        let old = page_criteria(
            &cursor,
            Some(0),
            &q,
            &Version::parse("6.6.10.16").unwrap(),
            50,
        );
        let new = page_criteria(&cursor, None, &q, &Version::parse("6.7.1.0").unwrap(), 50);
        let text = |v: &Value| v.to_string();
        assert!(text(&old).contains("\"transactions.stateMachineState.technicalName\""));
        assert!(text(&old).contains("transactions.updatedAt"));
        assert!(text(&new).contains("primaryOrderTransaction.stateMachineState.technicalName"));
        assert!(
            !text(&new).contains("transactions.updatedAt"),
            "no window: every order"
        );
        assert_eq!(old["total-count-mode"], "next-pages");
    }
}
