//! The body of `POST /orders` for an order submission, and the internal note that goes with it
//! (`POST /orders/:id/ordernotes`). Pure, so that a bad order fails before anything is sent.
//!
//! - Product lines become rows with `product_id` (and `attribute_combination_id` for a variant),
//!   with the webshop's price and VAT rate, so the POS books what the customer paid, not its own
//!   price. A line discount becomes the row's per-unit `discount`. CCV adds a variant's surcharge
//!   to its row itself, so a variant's `price` is the webshop's less that surcharge
//!   ([`Surcharges`]): the row's total is the line's.
//! - Other lines (shipping surcharges, discounts, fees) become free rows: name, price, VAT rate
//!   and the package (see [`crate::packages`]), which CCV requires on rows without a product.
//! - Shipping goes to `total_shipping`; prices include VAT when the order's do.
//! - The payment method: `POST /orders` takes no payment method (CCV's schema has no
//!   `paymethod_id`), so it goes into the order's internal note (see [`note_text`]), with the
//!   payment condition, the store, the shipping method and the customer's comment.
//! - Prices: row prices and shipping go in the order's own VAT convention, said with
//!   `order_row_taxes_included` and `shipping_taxes_included` ("Use this property to choose
//!   between an inc. VAT order and an ex. VAT order", JDK `Orders/Post/Post.php`), whatever the
//!   shop keeps its product prices in: exact, with no rounding through the other convention.

use std::collections::HashMap;

use serde_json::{Value, json};
use tillbridge_sdk::decimal::{self, Decimal};
use tillbridge_sdk::types::{OrderLine, PluginError, ProductRef};

use crate::exports::tillbridge::plugin::orders_sink::OrderSubmission;
use crate::personal::personalinfo;
use crate::surcharges::Surcharges;
use crate::wire::{number, parse_id};

/// CCV's order statuses (1–14), as its documentation names them.
const STATUSES: [&str; 14] = [
    "new",
    "in process",
    "wait for manufacturer",
    "wait for payment",
    "sent",
    "delivered",
    "completed",
    "cancelled",
    "wait for supplier",
    "is being packaged",
    "ready to be collected",
    "is being assembled",
    "backorder",
    "reserved",
];

/// A status as a number "1"–"14" or CCV's name for it ("completed", "ready_to_be_collected").
pub fn parse_status(text: &str) -> Result<u8, PluginError> {
    let name = text.trim().to_lowercase().replace(['_', '-'], " ");
    let number = match name.parse::<u8>() {
        Ok(n) if (1..=14).contains(&n) => Some(n),
        Ok(_) => None,
        Err(_) => STATUSES
            .iter()
            .position(|s| *s == name)
            .map(|i| i as u8 + 1),
    };
    number.ok_or_else(|| {
        PluginError::invalid_field(
            format!(
                "{text:?} is no CCV order status: map it to a number 1–14 or one of {}",
                STATUSES.join(", ")
            ),
            "status",
        )
    })
}

/// A decimal field of a line, with the line named in the error.
fn amount(text: &str, field: &str, line: usize) -> Result<Decimal, PluginError> {
    decimal::parse(text, &format!("/lines/{line}/{field}"))
}

/// Prices travel with up to 4 decimals (net prices are not whole cents).
fn money(value: Decimal) -> Value {
    number(value, 4)
}

/// What one row is booked with besides its line.
struct RowContext<'a> {
    refs: HashMap<&'a str, &'a ProductRef>,
    surcharges: &'a Surcharges,
    includes_tax: bool,
    /// The package of a free row, asked only when there is one.
    package_id: &'a mut dyn FnMut() -> Result<u64, PluginError>,
}

/// One order row.
fn row(line: &OrderLine, index: usize, at: &mut RowContext) -> Result<Option<Value>, PluginError> {
    if line.quantity == 0 {
        return Ok(None);
    }
    let unit = amount(&line.unit_price, "unit-price", index)?;
    let total = amount(&line.total_price, "total-price", index)?;
    let tax = amount(&line.tax_rate, "tax-rate", index)?;
    let count = Decimal::from(line.quantity);
    let discount = unit - total / count;
    let product = match line.sku.as_deref() {
        Some(sku) => match at.refs.get(sku) {
            Some(found) => Some(*found),
            None if line.kind == "product" => {
                return Err(PluginError::invalid_field(
                    format!(
                        "article {sku:?} is not in CCV; create it there (or sync products) first"
                    ),
                    format!("/lines/{index}/sku"),
                ));
            }
            None => None,
        },
        None => None,
    };
    let mut row = json!({
        "count": line.quantity,
        "price": money(unit),
        "discount": money(discount),
        "tax": money(tax),
        "product_name": line.name,
    });
    match product {
        Some(found) => {
            row["product_id"] = json!(parse_id(&found.id, "product")?);
            if let Some(variant) = &found.variant_id {
                let combination = parse_id(variant, "attribute combination")?;
                let surcharge = at
                    .surcharges
                    .per_unit(combination, tax, at.includes_tax)
                    .ok_or_else(|| {
                        PluginError::invalid_field(
                            format!(
                                "the variant {} (CCV attribute combination {combination} of product {}) is no longer in CCV; sync products first",
                                line.sku.as_deref().unwrap_or_default(),
                                found.id
                            ),
                            format!("/lines/{index}/sku"),
                        )
                    })?;
                row["attribute_combination_id"] = json!(combination);
                row["price"] = money(unit - surcharge);
            }
        }
        None => {
            row["package_id"] = json!((at.package_id)()?);
            if let Some(sku) = &line.sku {
                row["product_number"] = json!(sku);
            }
        }
    }
    Ok(Some(row))
}

/// The body of `POST /orders` that books `submission` with `marker` in `reservationnumber`;
/// `surcharges` has those of its variants; free rows get `package_id()` (asked only when there
/// is one).
pub fn order_body(
    submission: &OrderSubmission,
    marker: &str,
    surcharges: &Surcharges,
    package_id: &mut dyn FnMut() -> Result<u64, PluginError>,
) -> Result<Value, PluginError> {
    let order = &submission.order;
    let mut at = RowContext {
        refs: submission
            .products
            .iter()
            .map(|r| (r.sku.as_str(), r))
            .collect(),
        surcharges,
        includes_tax: order.prices_include_tax,
        package_id,
    };
    let rows = order
        .lines
        .iter()
        .enumerate()
        .filter_map(|(i, line)| row(line, i, &mut at).transpose())
        .collect::<Result<Vec<Value>, PluginError>>()?;
    if rows.is_empty() {
        return Err(PluginError::invalid_field(
            format!(
                "order {} has no lines with a quantity; CCV books no empty orders",
                order.number
            ),
            "/lines",
        ));
    }
    let shipping = decimal::parse(&order.totals.shipping, "/totals/shipping")?;
    let mut body = json!({
        "user_id": parse_id(&submission.customer_id, "customer")?,
        "customer": personalinfo(&order.customer, Some(&order.billing_address), order.shipping_address.as_ref()),
        "orderrows": rows,
        "paid": submission.paid,
        "reservationnumber": marker,
        "currency": order.currency,
        "order_row_taxes_included": order.prices_include_tax,
        "shipping_taxes_included": order.prices_include_tax,
        "total_shipping": money(shipping),
    });
    if let Some(status) = &submission.status {
        body["status"] = json!(parse_status(status)?);
    }
    Ok(body)
}

/// The internal note added to a booked order, for the staff: what CCV's order has no field for.
/// None when there is nothing to say.
pub fn note_text(submission: &OrderSubmission, paymethod_label: Option<&str>) -> Option<String> {
    let order = &submission.order;
    let mut lines = Vec::new();
    let source_name = order.payment_method.as_deref().filter(|name| {
        // After a payment-map transform the order's method is CCV's id: no name to show.
        Some(*name) != submission.payment_method.as_deref()
    });
    match (&submission.payment_method, paymethod_label.or(source_name)) {
        (Some(id), Some(name)) => {
            lines.push(format!("Payment method: {name} (CCV payment method {id})"))
        }
        (Some(id), None) => lines.push(format!("Payment method: CCV payment method {id}")),
        (None, Some(name)) => lines.push(format!("Payment method: {name}")),
        (None, None) => {}
    }
    // CCV has no field for payment terms or for the store an order was sold in.
    if let Some(condition) = submission
        .payment_condition
        .as_deref()
        .filter(|c| !c.is_empty())
    {
        lines.push(format!("Payment condition: {condition}"));
    }
    if let Some(store) = submission.store.as_deref().filter(|s| !s.is_empty()) {
        lines.push(format!("Store: {store}"));
    }
    if let Some(shipping) = order.shipping_method.as_deref().filter(|s| !s.is_empty()) {
        lines.push(format!("Shipping method: {shipping}"));
    }
    if let Some(comment) = order.comment.as_deref().filter(|c| !c.trim().is_empty()) {
        lines.push(format!("Customer's comment: {}", comment.trim()));
    }
    if lines.is_empty() {
        return None;
    }
    lines.insert(0, format!("Webshop order {}", order.number));
    Some(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package() -> Result<u64, PluginError> {
        Ok(10002)
    }

    fn line(kind: &str, sku: Option<&str>, quantity: u32, unit: &str, total: &str) -> OrderLine {
        OrderLine {
            kind: kind.into(),
            sku: sku.map(String::from),
            name: format!("{kind} line"),
            quantity,
            unit_price: unit.into(),
            total_price: total.into(),
            tax_rate: "21".into(),
        }
    }

    fn submission(lines: Vec<OrderLine>) -> OrderSubmission {
        let mut order = tillbridge_sdk::samples::order("10042");
        // As Shopware keeps it: the house number inside the street.
        order.billing_address.street = "Dorpsstraat 5".into();
        order.billing_address.house_number = None;
        order.billing_address.house_number_suffix = None;
        order.billing_address.postcode = "1234 AB".into();
        order.lines = lines;
        order.totals.shipping = "4.95".into();
        order.comment = Some("  Ring twice ".into());
        OrderSubmission {
            marker: order.number.clone(),
            order,
            customer_id: "10007".into(),
            products: vec![
                ProductRef {
                    sku: "MUG".into(),
                    id: "20001".into(),
                    variant_id: None,
                },
                ProductRef {
                    sku: "TEE-M-RED".into(),
                    id: "20002".into(),
                    variant_id: Some("20010".into()),
                },
            ],
            payment_method: Some("2".into()),
            payment_condition: None,
            store: None,
            status: Some("completed".into()),
            paid: true,
        }
    }

    #[test]
    fn statuses_by_number_or_name() {
        assert_eq!(parse_status("7").unwrap(), 7);
        assert_eq!(parse_status("Ready_to_be_collected").unwrap(), 11);
        assert_eq!(parse_status("reserved").unwrap(), 14);
        assert!(parse_status("15").is_err());
        assert!(parse_status("shipped").is_err());
    }

    #[test]
    fn the_body_books_rows_marker_status_and_paid() {
        let s = submission(vec![
            line("product", Some("MUG"), 2, "12.50", "20.00"),
            line("product", Some("TEE-M-RED"), 1, "19.95", "19.95"),
            line("discount", None, 1, "-5", "-5"),
        ]);
        let surcharges = Surcharges::known(&[(20010, "0")], true);
        let body = order_body(&s, "WEB-10042", &surcharges, &mut package).unwrap();
        assert_eq!(body["reservationnumber"], "WEB-10042");
        assert_eq!(body["user_id"], 10007);
        assert_eq!(
            (body["status"].clone(), body["paid"].clone()),
            (json!(7), json!(true))
        );
        assert_eq!(body["total_shipping"], json!(4.95));
        let rows = body["orderrows"].as_array().unwrap();
        assert_eq!(rows[0]["product_id"], 20001);
        assert_eq!(
            (rows[0]["price"].clone(), rows[0]["discount"].clone()),
            (json!(12.5), json!(2.5))
        );
        assert!(rows[0].get("attribute_combination_id").is_none());
        assert_eq!(rows[1]["attribute_combination_id"], 20010);
        assert_eq!(rows[2]["package_id"], 10002);
        assert_eq!(rows[2]["price"], json!(-5));
        assert!(
            body.get("paymethod_id").is_none(),
            "CCV's schema refuses it"
        );
        assert_eq!(body["customer"]["billingaddress"]["housenumber"], 5);
    }

    #[test]
    fn an_article_missing_in_ccv_fails_the_order_by_name() {
        let s = submission(vec![line("product", Some("POSTER"), 1, "9", "9")]);
        let none = Surcharges::default();
        let PluginError::Invalid(problem) = order_body(&s, "m", &none, &mut package).unwrap_err()
        else {
            panic!()
        };
        assert!(problem.message.contains("POSTER"));
        assert_eq!(problem.field.as_deref(), Some("/lines/0/sku"));
        let empty = submission(vec![line("product", Some("MUG"), 0, "9", "0")]);
        assert!(order_body(&empty, "m", &none, &mut package).is_err());
        let gone = submission(vec![line("product", Some("TEE-M-RED"), 1, "9", "9")]);
        let PluginError::Invalid(problem) =
            order_body(&gone, "m", &none, &mut package).unwrap_err()
        else {
            panic!()
        };
        assert!(problem.message.contains("20010"), "{}", problem.message);
    }

    #[test]
    fn a_variant_row_leaves_its_surcharge_to_ccv() {
        let s = submission(vec![line(
            "product",
            Some("TEE-M-RED"),
            2,
            "22.50",
            "40.00",
        )]);
        let surcharges = Surcharges::known(&[(20010, "2.50")], true);
        let body = order_body(&s, "m", &surcharges, &mut package).unwrap();
        let row = &body["orderrows"][0];
        assert_eq!(row["attribute_combination_id"], 20010);
        assert_eq!(
            (row["price"].clone(), row["discount"].clone()),
            (json!(20), json!(2.5)),
            "CCV adds 2.50 to 20: (20 + 2.50 − 2.50) × 2 = the line's 40"
        );
    }

    #[test]
    fn the_note_says_what_the_order_has_no_field_for() {
        let s = submission(vec![]);
        let note = note_text(&s, Some("PayPal")).unwrap();
        assert_eq!(
            note,
            "Webshop order 10042\nPayment method: PayPal (CCV payment method 2)\nCustomer's comment: Ring twice"
        );
        let mut mapped = submission(vec![]);
        mapped.order.payment_method = Some("2".into());
        mapped.order.comment = None;
        assert_eq!(
            note_text(&mapped, None).unwrap(),
            "Webshop order 10042\nPayment method: CCV payment method 2"
        );
        mapped.payment_condition = Some("14 days".into());
        mapped.store = Some("Utrecht".into());
        assert_eq!(
            note_text(&mapped, None).unwrap(),
            "Webshop order 10042\nPayment method: CCV payment method 2\nPayment condition: 14 days\nStore: Utrecht"
        );
        mapped.payment_method = None;
        mapped.payment_condition = None;
        mapped.store = None;
        mapped.order.payment_method = None;
        assert_eq!(note_text(&mapped, None), None);
    }
}
