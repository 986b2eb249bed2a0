//! Sample canonical records, for plugin authors' unit tests: a complete order is forty fields,
//! and a test should spell out only what it is about.
//!
//! ```
//! let mut order = tillbridge_sdk::samples::order("10042");
//! order.payment_method = Some("PayPal".into());
//! assert_eq!(order.lines.len(), 1);
//! ```

use crate::types::{Address, Customer, Order, OrderLine, OrderTotals, Person};

/// A Dutch address: Ada Jansen, Dorpsstraat 12a, 3512 AB Utrecht.
pub fn address() -> Address {
    Address {
        company: None,
        first_name: "Ada".into(),
        last_name: "Jansen".into(),
        street: "Dorpsstraat".into(),
        house_number: Some("12".into()),
        house_number_suffix: Some("a".into()),
        additional_line: None,
        postcode: "3512 AB".into(),
        city: "Utrecht".into(),
        country: "NL".into(),
        phone: None,
    }
}

/// A private customer with this e-mail address and no addresses of their own.
pub fn customer(email: &str) -> Customer {
    Customer {
        id: None,
        number: None,
        email: email.into(),
        person: Person {
            salutation: None,
            first_name: "Ada".into(),
            last_name: "Jansen".into(),
        },
        company: None,
        phone: None,
        billing_address: None,
        shipping_address: None,
        custom_fields: vec![],
    }
}

/// A product line: `quantity` × `sku` at `unit_price` (including 21% tax).
pub fn line(sku: &str, quantity: u32, unit_price: &str) -> OrderLine {
    OrderLine {
        kind: "product".into(),
        sku: Some(sku.into()),
        name: format!("Article {sku}"),
        quantity,
        unit_price: unit_price.into(),
        total_price: unit_price.into(),
        tax_rate: "21".into(),
    }
}

/// A paid order from ada@example.org with one line (2 × TB-MUG-01 at 12.95), prices including
/// tax, paid with PayPal.
pub fn order(number: &str) -> Order {
    Order {
        id: format!("id-{number}"),
        number: number.into(),
        ordered_at: "2026-11-01T10:00:00Z".into(),
        updated_at: "2026-11-01T10:00:00Z".into(),
        order_state: "open".into(),
        payment_state: "paid".into(),
        delivery_state: None,
        currency: "EUR".into(),
        prices_include_tax: true,
        sales_channel: None,
        customer: customer("ada@example.org"),
        billing_address: address(),
        shipping_address: None,
        lines: vec![line("TB-MUG-01", 2, "12.95")],
        totals: OrderTotals {
            net: "21.40".into(),
            gross: "25.90".into(),
            tax: "4.50".into(),
            shipping: "0".into(),
        },
        payment_method: Some("PayPal".into()),
        shipping_method: None,
        comment: None,
        custom_fields: vec![],
    }
}
