//! A Shopware order (plain JSON, with the associations `orders::criteria` loads) as the
//! canonical order.

use serde_json::Value;
use tillbridge_sdk::decimal::{self, Decimal};
use tillbridge_sdk::types::{
    Company, CustomField, Customer, Order, OrderLine, OrderTotals, Person, PluginError,
};

use crate::addresses;
use crate::timestamps::{self, Millis};

fn text(value: &Value) -> Option<String> {
    value
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A translated name: the request language's value, falling back as Shopware does.
pub fn name(entity: &Value) -> Option<String> {
    text(&entity["translated"]["name"]).or_else(|| text(&entity["name"]))
}

fn money(value: &Value, field: &str) -> Result<String, PluginError> {
    Ok(decimal::format(decimal::from_json(value, field)?))
}

fn time(value: &Value) -> Option<Millis> {
    value.as_str().and_then(timestamps::parse)
}

/// When the order last changed as a reader sees it: placed, written, or a payment transaction
/// added or moved (a transition writes the transaction, not the order).
pub fn changed_at(order: &Value) -> Option<Millis> {
    let own = [time(&order["createdAt"]), time(&order["updatedAt"])];
    let transactions = order["transactions"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| [time(&t["createdAt"]), time(&t["updatedAt"])]);
    own.into_iter().chain(transactions).flatten().max()
}

/// The row of `list` the order names as primary (6.7.1+), else the newest (`list` is sorted
/// by `createdAt`).
fn primary_or_last<'a>(order: &'a Value, list: &str, primary: &str) -> Option<&'a Value> {
    let rows = order[list].as_array()?;
    let wanted = order[primary].as_str();
    wanted
        .and_then(|id| rows.iter().find(|r| r["id"].as_str() == Some(id)))
        .or_else(|| rows.last())
}

/// The transaction whose state counts: the primary one on 6.7.1+, else the latest. "Any
/// transaction paid" is wrong: a cancelled payment followed by a paid one is paid, a paid one
/// followed by a cancelled one is not.
pub fn payment_transaction(order: &Value) -> Option<&Value> {
    primary_or_last(order, "transactions", "primaryOrderTransactionId")
}

/// The technical name of the payment state that counts ("none" without a transaction).
pub fn payment_state(order: &Value) -> String {
    payment_transaction(order)
        .and_then(|t| text(&t["stateMachineState"]["technicalName"]))
        .unwrap_or_else(|| "none".into())
}

/// The technical name of the order state.
pub fn order_state(order: &Value) -> String {
    text(&order["stateMachineState"]["technicalName"]).unwrap_or_else(|| "open".into())
}

/// The delivery that counts: the primary one on 6.7.1+, else the first.
fn delivery(order: &Value) -> Option<&Value> {
    let rows = order["deliveries"].as_array()?;
    match order["primaryOrderDeliveryId"].as_str() {
        Some(id) => rows.iter().find(|r| r["id"].as_str() == Some(id)),
        None => rows.first(),
    }
}

/// Shopware's line item types, in the canonical model's words.
fn line_kind(kind: &str) -> String {
    match kind {
        "promotion" | "discount" => "discount".into(),
        other => other.to_string(),
    }
}

fn line(item: &Value, at: usize) -> Result<OrderLine, PluginError> {
    let kind = text(&item["type"]).unwrap_or_else(|| "custom".into());
    let rate = item["price"]["taxRules"][0]["taxRate"].clone();
    let rate = if rate.is_null() {
        item["price"]["calculatedTaxes"][0]["taxRate"].clone()
    } else {
        rate
    };
    let field = |name: &str| format!("lineItems/{at}/{name}");
    Ok(OrderLine {
        sku: (kind == "product")
            .then(|| text(&item["payload"]["productNumber"]))
            .flatten(),
        kind: line_kind(&kind),
        name: text(&item["label"]).unwrap_or_default(),
        quantity: item["quantity"]
            .as_u64()
            .and_then(|q| u32::try_from(q).ok())
            .ok_or_else(|| {
                PluginError::invalid_field("the quantity is not a whole number", field("quantity"))
            })?,
        unit_price: money(&item["unitPrice"], &field("unitPrice"))?,
        total_price: money(&item["totalPrice"], &field("totalPrice"))?,
        tax_rate: if rate.is_null() {
            "0".into()
        } else {
            money(&rate, &field("price/taxRules"))?
        },
    })
}

fn custom_fields(value: &Value) -> Vec<CustomField> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, json)| CustomField {
            name: name.clone(),
            json: json.to_string(),
        })
        .collect()
}

/// The canonical order; an order that cannot be read says why.
pub fn to_order(order: &Value) -> Result<Order, PluginError> {
    let billing_json = order["billingAddress"]
        .as_object()
        .map(|_| &order["billingAddress"])
        .ok_or_else(|| {
            PluginError::invalid_field("the order has no billing address", "billingAddress")
        })?;
    let billing = addresses::from_order_address(billing_json);
    let delivery = delivery(order);
    let shipping = delivery
        .map(|d| &d["shippingOrderAddress"])
        .filter(|a| a.is_object())
        .map(addresses::from_order_address);
    let buyer = &order["orderCustomer"];
    let company_name = text(&buyer["company"]).or_else(|| text(&billing_json["company"]));
    let company = company_name.map(|name| Company {
        name,
        vat_number: text(&buyer["vatIds"][0]).or_else(|| text(&billing_json["vatId"])),
        coc_number: None,
    });
    let customer = Customer {
        id: text(&buyer["customerId"]),
        number: text(&buyer["customerNumber"]),
        email: text(&buyer["email"]).ok_or_else(|| {
            PluginError::invalid_field(
                "the order has no customer e-mail address",
                "orderCustomer/email",
            )
        })?,
        person: Person {
            salutation: text(&buyer["salutation"]["salutationKey"]),
            first_name: text(&buyer["firstName"]).unwrap_or_else(|| billing.first_name.clone()),
            last_name: text(&buyer["lastName"]).unwrap_or_else(|| billing.last_name.clone()),
        },
        company,
        phone: billing.phone.clone(),
        billing_address: Some(billing.clone()),
        shipping_address: shipping.clone(),
        custom_fields: Vec::new(),
    };
    let mut items: Vec<&Value> = order["lineItems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["parentId"].is_null())
        .collect();
    items.sort_by_key(|i| i["position"].as_i64().unwrap_or(0));
    let lines = items
        .iter()
        .enumerate()
        .map(|(at, item)| line(item, at))
        .collect::<Result<Vec<_>, _>>()?;
    let tax: Decimal = order["price"]["calculatedTaxes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| decimal::from_json(&t["tax"], "price/calculatedTaxes/tax"))
        .sum::<Result<Decimal, _>>()?;
    let transaction = payment_transaction(order);
    let stamp = |field: &str| {
        time(&order[field]).ok_or_else(|| {
            PluginError::invalid_field("missing or unreadable time", field.to_string())
        })
    };
    let ordered_at = stamp("orderDateTime")?;
    Ok(Order {
        id: text(&order["id"]).unwrap_or_default(),
        number: text(&order["orderNumber"]).unwrap_or_default(),
        ordered_at: timestamps::rfc3339(ordered_at),
        updated_at: timestamps::rfc3339(changed_at(order).unwrap_or(ordered_at)),
        order_state: order_state(order),
        payment_state: payment_state(order),
        delivery_state: delivery.and_then(|d| text(&d["stateMachineState"]["technicalName"])),
        currency: text(&order["currency"]["isoCode"])
            .ok_or_else(|| PluginError::invalid_field("the order has no currency", "currency"))?,
        prices_include_tax: order["price"]["taxStatus"].as_str() == Some("gross"),
        sales_channel: name(&order["salesChannel"]),
        customer,
        billing_address: billing,
        shipping_address: shipping,
        lines,
        totals: OrderTotals {
            net: money(&order["amountNet"], "amountNet")?,
            gross: money(&order["amountTotal"], "amountTotal")?,
            tax: decimal::format(tax),
            shipping: money(&order["shippingTotal"], "shippingTotal")?,
        },
        payment_method: transaction.and_then(|t| name(&t["paymentMethod"])),
        shipping_method: delivery.and_then(|d| name(&d["shippingMethod"])),
        comment: text(&order["customerComment"]),
        custom_fields: custom_fields(&order["customFields"]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order() -> Value {
        json!({
            "id": "a1", "orderNumber": "10004", "orderDateTime": "2026-01-01T10:00:00.000+00:00",
            "createdAt": "2026-01-01T10:00:00.000+00:00", "updatedAt": null,
            "stateMachineState": {"technicalName": "open"},
            "price": {"taxStatus": "gross", "calculatedTaxes": [{"tax": 5.2, "taxRate": 21}, {"tax": 0.09, "taxRate": 9}]},
            "amountNet": 24.66, "amountTotal": 29.95, "shippingTotal": 0,
            "currency": {"isoCode": "EUR"}, "salesChannel": {"name": "Storefront", "translated": {"name": "Storefront"}},
            "orderCustomer": {"email": "lucas@example.be", "firstName": "Lucas", "lastName": "Peeters",
                              "company": null, "vatIds": [], "salutation": {"salutationKey": "mr"}},
            "billingAddress": {"street": "Meir 45 bus 2", "zipcode": "2000", "city": "Antwerpen",
                               "firstName": "Lucas", "lastName": "Peeters", "company": "Peeters BV",
                               "vatId": "BE0123456789", "country": {"iso": "BE"}},
            "deliveries": [{"id": "d1", "stateMachineState": {"technicalName": "open"},
                            "shippingOrderAddress": {"street": "Kerkweg 7", "city": "Haarlem", "country": {"iso": "NL"}},
                            "shippingMethod": {"translated": {"name": "Standard"}}}],
            "lineItems": [
                {"type": "promotion", "label": "Spring", "quantity": 1, "unitPrice": -1, "totalPrice": -1, "position": 2, "parentId": null,
                 "price": {"taxRules": [{"taxRate": 21}]}, "payload": {}},
                {"type": "product", "label": "Guide", "quantity": 1, "unitPrice": 29.95, "totalPrice": 29.95, "position": 1, "parentId": null,
                 "price": {"taxRules": [{"taxRate": 9}]}, "payload": {"productNumber": "TB-BOOK-01"}}],
            "transactions": [
                {"id": "t1", "createdAt": "2026-01-01T10:00:01.000+00:00", "updatedAt": "2026-01-01T10:02:01.000+00:00",
                 "stateMachineState": {"technicalName": "cancelled"}, "paymentMethod": {"name": "iDEAL"}},
                {"id": "t2", "createdAt": "2026-01-01T10:05:01.000+00:00", "updatedAt": "2026-01-01T10:07:01.000+00:00",
                 "stateMachineState": {"technicalName": "paid"}, "paymentMethod": {"name": "iDEAL"}}],
            "customFields": {"erp_reference": "X-1"}
        })
    }

    #[test]
    fn the_latest_transaction_counts_and_the_change_time_includes_it() {
        let o = order();
        assert_eq!(payment_state(&o), "paid");
        assert_eq!(
            changed_at(&o).map(timestamps::rfc3339).as_deref(),
            Some("2026-01-01T10:07:01Z")
        );
        let mut primary = o.clone();
        primary["primaryOrderTransactionId"] = json!("t1");
        assert_eq!(
            payment_state(&primary),
            "cancelled",
            "6.7.1+: the primary one"
        );
    }

    #[test]
    fn an_order_becomes_canonical() {
        let order = to_order(&order()).unwrap();
        assert_eq!(order.payment_state, "paid");
        assert_eq!(
            order.lines[0].sku.as_deref(),
            Some("TB-BOOK-01"),
            "sorted by position"
        );
        assert_eq!(order.lines[1].kind, "discount");
        assert_eq!(order.lines[1].unit_price, "-1");
        assert_eq!(order.totals.tax, "5.29");
        assert_eq!(order.customer.company.as_ref().unwrap().name, "Peeters BV");
        assert_eq!(
            order
                .customer
                .company
                .as_ref()
                .unwrap()
                .vat_number
                .as_deref(),
            Some("BE0123456789")
        );
        assert_eq!(
            order.billing_address.house_number_suffix.as_deref(),
            Some("bus 2")
        );
        assert_eq!(order.shipping_address.unwrap().city, "Haarlem");
        assert_eq!(order.shipping_method.as_deref(), Some("Standard"));
        assert_eq!(order.payment_method.as_deref(), Some("iDEAL"));
        assert_eq!(order.custom_fields[0].json, "\"X-1\"");
        assert!(order.prices_include_tax);
    }

    #[test]
    fn an_unreadable_order_says_why() {
        let mut broken = order();
        broken["billingAddress"] = Value::Null;
        let Err(PluginError::Invalid(problem)) = to_order(&broken) else {
            panic!()
        };
        assert_eq!(problem.field.as_deref(), Some("billingAddress"));
    }
}
