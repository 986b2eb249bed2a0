//! The ledger's records and the rules a write must follow. Every rule answers like the API's
//! `422 {"errors": [{"field", "message"}]}`, naming the field.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One field a write got wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    /// The field, as the request named it ("price", "lines/0/sku").
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// A product.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Product {
    /// The ledger's id (numbers as text, in creation order).
    pub id: String,
    /// The article number; unique.
    pub sku: String,
    /// The name.
    pub name: String,
    /// The price, decimal text.
    pub price: String,
    /// What can be sold: on hand minus reserved.
    pub stock: i64,
    /// When it last changed.
    pub updated_at: String,
}

/// A customer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Customer {
    /// The ledger's id.
    pub id: String,
    /// The e-mail address (found case-insensitively).
    pub email: String,
    /// The name.
    pub name: String,
    /// The company, if any.
    pub company: Option<String>,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The product's article number; it must exist.
    pub sku: String,
    /// How many.
    pub quantity: u32,
    /// The price of one, decimal text.
    pub unit_price: String,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Order {
    /// The ledger's id.
    pub id: String,
    /// The client's reference; not unique (a second POST with it makes a second order).
    pub reference: String,
    /// The customer's id.
    pub customer_id: String,
    /// The lines.
    pub lines: Vec<OrderLine>,
    /// The sum of the lines, decimal text.
    pub total: String,
    /// When it was made.
    pub created_at: String,
}

/// The stock of one article.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stock {
    /// The article number.
    pub sku: String,
    /// Physically on hand.
    pub on_hand: i64,
    /// Held for open orders.
    pub reserved: i64,
}

/// A product as `POST /products` and `PATCH /products/{id}` take it (every field optional on
/// PATCH).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProductInput {
    pub sku: Option<String>,
    pub name: Option<String>,
    pub price: Option<serde_json::Value>,
    pub stock: Option<i64>,
}

/// A customer as `POST /customers` and `PATCH /customers/{id}` take it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CustomerInput {
    pub email: Option<String>,
    pub name: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
}

/// An order as `POST /orders` takes it.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderInput {
    pub reference: Option<String>,
    pub customer_id: Option<String>,
    #[serde(default)]
    pub lines: Vec<OrderLine>,
}

/// Everything the ledger holds.
#[derive(Debug, Default, Serialize)]
pub struct Store {
    next_id: u64,
    /// Products by id number.
    pub products: BTreeMap<u64, Product>,
    /// Customers by id number.
    pub customers: BTreeMap<u64, Customer>,
    /// Orders by id number.
    pub orders: BTreeMap<u64, Order>,
    /// Stock by SKU.
    pub stock: BTreeMap<String, Stock>,
}

/// RFC 3339 in UTC with whole seconds, as every time in the API.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A price as decimal text: digits, an optional dot and digits, no exponent. A JSON number is
/// refused: money travels as text.
fn price(value: &serde_json::Value) -> Result<String, FieldError> {
    let text = value
        .as_str()
        .ok_or_else(|| FieldError::new("price", "must be decimal text, e.g. \"19.95\""))?;
    let valid = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && text.parse::<Decimal>().is_ok();
    if valid {
        Ok(text.to_string())
    } else {
        Err(FieldError::new(
            "price",
            format!("{text:?} is not a decimal (digits and a dot, e.g. \"19.95\")"),
        ))
    }
}

fn required(value: Option<&String>, field: &str) -> Result<String, FieldError> {
    match value.map(|v| v.trim()) {
        Some(v) if !v.is_empty() => Ok(v.to_string()),
        _ => Err(FieldError::new(field, "must not be empty")),
    }
}

impl Store {
    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The product with this SKU.
    pub fn product_by_sku(&self, sku: &str) -> Option<&Product> {
        self.products.values().find(|p| p.sku == sku)
    }

    fn available(&self, sku: &str) -> i64 {
        self.stock.get(sku).map_or(0, |s| s.on_hand - s.reserved)
    }

    /// `POST /products`.
    pub fn create_product(
        &mut self,
        input: &ProductInput,
        now: DateTime<Utc>,
    ) -> Result<Product, FieldError> {
        let sku = required(input.sku.as_ref(), "sku")?;
        let name = required(input.name.as_ref(), "name")?;
        let price = price(input.price.as_ref().unwrap_or(&serde_json::Value::Null))?;
        if self.product_by_sku(&sku).is_some() {
            return Err(FieldError::new("sku", format!("{sku} exists already")));
        }
        let id = self.new_id();
        self.stock.insert(
            sku.clone(),
            Stock {
                sku: sku.clone(),
                on_hand: input.stock.unwrap_or(0),
                reserved: 0,
            },
        );
        let product = Product {
            id: id.to_string(),
            stock: self.available(&sku),
            sku,
            name,
            price,
            updated_at: timestamp(now),
        };
        self.products.insert(id, product.clone());
        Ok(product)
    }

    /// `PATCH /products/{id}`; none when there is no such product.
    pub fn update_product(
        &mut self,
        id: u64,
        input: &ProductInput,
        now: DateTime<Utc>,
    ) -> Option<Result<Product, FieldError>> {
        let current = self.products.get(&id)?.clone();
        let checked = (|| {
            let name = match &input.name {
                Some(_) => required(input.name.as_ref(), "name")?,
                None => current.name.clone(),
            };
            let price = match &input.price {
                Some(value) => price(value)?,
                None => current.price.clone(),
            };
            if let Some(sku) = &input.sku
                && sku != &current.sku
            {
                return Err(FieldError::new("sku", "cannot be changed"));
            }
            Ok((name, price))
        })();
        Some(checked.map(|(name, price)| {
            if let Some(stock) = input.stock {
                self.set_on_hand(&current.sku, stock);
            }
            let available = self.available(&current.sku);
            let product = self.products.get_mut(&id).expect("found above");
            product.name = name;
            product.price = price;
            product.stock = available;
            product.updated_at = timestamp(now);
            product.clone()
        }))
    }

    /// `PUT /stock/{sku}`: sets what is on hand; none when no product has the SKU.
    pub fn set_on_hand(&mut self, sku: &str, on_hand: i64) -> Option<Stock> {
        let stock = self.stock.get_mut(sku)?;
        stock.on_hand = on_hand;
        let stock = stock.clone();
        let available = stock.on_hand - stock.reserved;
        if let Some(product) = self.products.values_mut().find(|p| p.sku == sku) {
            product.stock = available;
        }
        Some(stock)
    }

    /// `POST /customers`.
    pub fn create_customer(&mut self, input: &CustomerInput) -> Result<Customer, FieldError> {
        let email = required(input.email.as_ref(), "email")?;
        if !email.contains('@') {
            return Err(FieldError::new(
                "email",
                format!("{email:?} is not an e-mail address"),
            ));
        }
        let name = required(input.name.as_ref(), "name")?;
        let id = self.new_id();
        let customer = Customer {
            id: id.to_string(),
            email,
            name,
            company: input.company.clone(),
        };
        self.customers.insert(id, customer.clone());
        Ok(customer)
    }

    /// `PATCH /customers/{id}`; none when there is no such customer.
    pub fn update_customer(
        &mut self,
        id: u64,
        input: &CustomerInput,
    ) -> Option<Result<Customer, FieldError>> {
        let current = self.customers.get(&id)?.clone();
        let checked = (|| {
            let email = match &input.email {
                Some(_) => required(input.email.as_ref(), "email")?,
                None => current.email.clone(),
            };
            let name = match &input.name {
                Some(_) => required(input.name.as_ref(), "name")?,
                None => current.name.clone(),
            };
            Ok((email, name))
        })();
        Some(checked.map(|(email, name)| {
            let customer = self.customers.get_mut(&id).expect("found above");
            customer.email = email;
            customer.name = name;
            if input.company.is_some() {
                customer.company = input.company.clone();
            }
            customer.clone()
        }))
    }

    /// `POST /orders`: never idempotent; every line's SKU must exist. The order reserves its
    /// articles.
    pub fn create_order(
        &mut self,
        input: &OrderInput,
        now: DateTime<Utc>,
    ) -> Result<Order, FieldError> {
        let reference = required(input.reference.as_ref(), "reference")?;
        let customer_id = required(input.customer_id.as_ref(), "customer_id")?;
        if !customer_id
            .parse::<u64>()
            .is_ok_and(|id| self.customers.contains_key(&id))
        {
            return Err(FieldError::new(
                "customer_id",
                format!("no customer {customer_id}"),
            ));
        }
        if input.lines.is_empty() {
            return Err(FieldError::new("lines", "an order has at least one line"));
        }
        let mut total = Decimal::ZERO;
        for (i, line) in input.lines.iter().enumerate() {
            if self.product_by_sku(&line.sku).is_none() {
                return Err(FieldError::new(
                    &format!("lines/{i}/sku"),
                    format!("no product {:?}", line.sku),
                ));
            }
            let unit = price(&serde_json::Value::String(line.unit_price.clone()))
                .map_err(|e| FieldError::new(&format!("lines/{i}/unit_price"), e.message))?;
            total += unit.parse::<Decimal>().expect("checked") * Decimal::from(line.quantity);
        }
        for line in &input.lines {
            if let Some(stock) = self.stock.get_mut(&line.sku) {
                stock.reserved += i64::from(line.quantity);
            }
            let available = self.available(&line.sku);
            if let Some(product) = self.products.values_mut().find(|p| p.sku == line.sku) {
                product.stock = available;
            }
        }
        let id = self.new_id();
        let order = Order {
            id: id.to_string(),
            reference,
            customer_id,
            lines: input.lines.clone(),
            total: total.to_string(),
            created_at: timestamp(now),
        };
        self.orders.insert(id, order.clone());
        Ok(order)
    }
}
