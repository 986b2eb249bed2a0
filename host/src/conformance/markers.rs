//! Exactly-once on an orders-sink: writing one order twice with one marker creates one record,
//! and find-by-marker finds it from the target alone (a fresh instance with empty storage).
//! The suite's marker is also the order's number, as the host gives it.

use chrono::{SecondsFormat, Utc};
use serde_json::json;

use super::{Harness, Row, customers};
use crate::runtime::bindings::exports::tillbridge::plugin as guest;
use crate::runtime::bindings::tillbridge::plugin::types::{self, WriteAction};
use crate::runtime::{CallError, Capability};

const CREATES_ONCE: &str = "creating twice with one marker creates once";
const FINDS_WRITTEN: &str = "find-by-marker finds what was written";
const CAPABILITY: &str = "orders-sink";

/// The customer the suite books its orders on.
const EMAIL: &str = "conformance@example.com";

/// An order to write with `marker`, for `customer_id`, of one `product`.
fn submission(
    marker: &str,
    customer_id: &str,
    product: &types::ProductRef,
    price: &str,
) -> guest::orders_sink::OrderSubmission {
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let address = json!({ "first_name": "Conny", "last_name": "Formance", "street": "Teststraat",
        "house_number": "1", "postcode": "1234 AB", "city": "Utrecht", "country": "NL" });
    let order = json!({
        "id": format!("conformance-{marker}"), "number": marker, "ordered_at": now, "updated_at": now,
        "order_state": "open", "payment_state": "paid", "currency": "EUR", "prices_include_tax": true,
        "customer": { "email": EMAIL, "person": { "first_name": "Conny", "last_name": "Formance" },
                      "billing_address": address, "custom_fields": [] },
        "billing_address": address,
        "lines": [{ "kind": "product", "sku": product.sku, "name": "Conformance article", "quantity": 1,
                    "unit_price": price, "total_price": price, "tax_rate": "21" }],
        "totals": { "net": price, "gross": price, "tax": "0", "shipping": "0" },
        "custom_fields": []
    });
    guest::orders_sink::OrderSubmission {
        marker: marker.to_string(),
        order: serde_json::from_value(order).expect("the suite's order fits the contract"),
        customer_id: customer_id.to_string(),
        products: vec![product.clone()],
        payment_method: None,
        payment_condition: None,
        store: None,
        status: None,
        paid: true,
    }
}

/// Looking for `marker`, written no earlier than an hour ago.
fn lookup(marker: &str) -> guest::orders_sink::MarkerLookup {
    let since = Utc::now() - chrono::TimeDelta::hours(1);
    guest::orders_sink::MarkerLookup {
        marker: marker.to_string(),
        since: since.to_rfc3339_opts(SecondsFormat::Secs, true),
    }
}

/// What an order needs: an article the target has (with its price) and a customer.
async fn ingredients(harness: &Harness) -> Result<(types::ProductRef, String, String), String> {
    let mut session = harness.session().await.map_err(|e| e.to_string())?;
    let page = session
        .read_products(&guest::products_source::ProductQuery {
            cursor: None,
            changed_since: None,
            skus: Vec::new(),
            properties: Vec::new(),
            limit: 10,
        })
        .await
        .map_err(|e| format!("reading products for an order: {e}"))?;
    let product = page
        .products
        .into_iter()
        .find(|p| p.variants.is_empty() && !p.prices.is_empty())
        .ok_or("the target has no simple product with a price to order")?;
    let price = product.prices[0].amount.clone();
    let reference = session
        .find_products(std::slice::from_ref(&product.sku))
        .await
        .map_err(|e| format!("finding product {}: {e}", product.sku))?
        .into_iter()
        .find(|r| r.sku == product.sku)
        .ok_or_else(|| {
            format!(
                "find-products does not find {}, which read-products gave",
                product.sku
            )
        })?;
    let found = session
        .find_customers(&[EMAIL.to_string()])
        .await
        .map_err(|e| format!("finding the customer: {e}"))?;
    let customer_id = match found.into_iter().next() {
        Some(found) => found.id,
        None => {
            let customer = customers::customer(EMAIL, "Formance");
            let new = guest::customers::CustomerWrite {
                customer,
                target_id: None,
            };
            customers::write(harness, new).await?
        }
    };
    Ok((reference, customer_id, price))
}

/// Writes the order in a fresh instance; the id of the record it names.
async fn write(
    harness: &Harness,
    order: &guest::orders_sink::OrderSubmission,
) -> Result<types::Written, String> {
    let mut session = harness.session().await.map_err(|e| e.to_string())?;
    let results = session
        .create_orders(std::slice::from_ref(order))
        .await
        .map_err(|e| e.to_string())?;
    match results.into_iter().find(|r| r.key == order.order.number) {
        Some(types::RecordResult {
            outcome: Ok(written),
            ..
        }) => Ok(written),
        Some(types::RecordResult {
            outcome: Err(e), ..
        }) => Err(CallError::Plugin(e).to_string()),
        None => Err(format!("no result keyed {}", order.order.number)),
    }
}

/// Both marker checks, or why they cannot run.
pub async fn run(harness: &Harness) -> Vec<Row> {
    if !harness.has(Capability::OrdersSink) {
        return Vec::new();
    }
    let needs = [
        Capability::ProductsSource,
        Capability::ProductsSink,
        Capability::Customers,
    ];
    if let Some(missing) = needs.iter().find(|c| !harness.has(**c)) {
        let reason =
            format!("an order needs an article and a customer; the plugin has no {missing}");
        return vec![
            Row::skipped(CREATES_ONCE, CAPABILITY, reason.clone()),
            Row::skipped(FINDS_WRITTEN, CAPABILITY, reason),
        ];
    }
    let (product, customer_id, price) = match ingredients(harness).await {
        Ok(found) => found,
        Err(e) => {
            return vec![
                Row::fail(CREATES_ONCE, CAPABILITY, e.clone()),
                Row::fail(FINDS_WRITTEN, CAPABILITY, e),
            ];
        }
    };
    let marker = format!("CONF-{}", Utc::now().format("%H%M%S%3f"));
    let order = submission(&marker, &customer_id, &product, &price);
    let first = match write(harness, &order).await {
        Ok(written) => written,
        Err(e) => {
            let reason = format!("the first write of {marker} failed: {e}");
            return vec![
                Row::fail(CREATES_ONCE, CAPABILITY, reason.clone()),
                Row::fail(FINDS_WRITTEN, CAPABILITY, reason),
            ];
        }
    };
    vec![
        creates_once(harness, &order, &first).await,
        finds_written(harness, &marker, &first).await,
    ]
}

async fn creates_once(
    harness: &Harness,
    order: &guest::orders_sink::OrderSubmission,
    first: &types::Written,
) -> Row {
    let marker = &order.order.number;
    let second = match write(harness, order).await {
        Ok(written) => written,
        Err(e) => {
            return Row::fail(
                CREATES_ONCE,
                CAPABILITY,
                format!("the repeated write of {marker} failed: {e}"),
            );
        }
    };
    let in_target = harness.target.orders_with_marker(marker);
    if second.id != first.id
        || second.action == WriteAction::Created
        || in_target.is_some_and(|n| n > 1)
    {
        let count = in_target.map_or(String::new(), |n| {
            format!("; the target holds {n} records with it")
        });
        return Row::fail(
            CREATES_ONCE,
            CAPABILITY,
            format!(
                "writing {marker} again created another record ({} after {}){count}",
                second.id, first.id
            ),
        );
    }
    Row::pass(
        CREATES_ONCE,
        CAPABILITY,
        format!(
            "the repeated write of {marker} named record {} again ({})",
            first.id,
            if second.action == WriteAction::Unchanged {
                "unchanged"
            } else {
                "updated"
            }
        ),
    )
}

async fn finds_written(harness: &Harness, marker: &str, first: &types::Written) -> Row {
    let never = format!("{marker}-NEVER-WRITTEN");
    let found = async {
        let mut session = harness.session().await?;
        session.find_orders(&[lookup(marker), lookup(&never)]).await
    };
    match found.await {
        Err(e) => Row::fail(
            FINDS_WRITTEN,
            CAPABILITY,
            format!("find-orders failed: {e}"),
        ),
        Ok(refs) => {
            let hit = refs.iter().find(|r| r.marker == marker);
            if refs.iter().any(|r| r.marker == never) {
                Row::fail(
                    FINDS_WRITTEN,
                    CAPABILITY,
                    format!("it finds {never}, which was never written"),
                )
            } else {
                match hit {
                    Some(r) if r.id == first.id => Row::pass(
                        FINDS_WRITTEN,
                        CAPABILITY,
                        format!("a fresh instance found {marker} as record {}", r.id),
                    ),
                    Some(r) => Row::fail(
                        FINDS_WRITTEN,
                        CAPABILITY,
                        format!(
                            "it found {marker} as record {}, but it was written as {}",
                            r.id, first.id
                        ),
                    ),
                    None => Row::fail(
                        FINDS_WRITTEN,
                        CAPABILITY,
                        format!(
                            "a fresh instance does not find {marker}, written as record {}",
                            first.id
                        ),
                    ),
                }
            }
        }
    }
}
