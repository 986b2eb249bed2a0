//! CCV's JSON as the connector reads it: only the fields it uses; ids as integers, as CCV sends
//! them; amounts (prices, stock) read through their decimal text, never as floating point.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use tillbridge_sdk::decimal::{self, Decimal};
use tillbridge_sdk::types::PluginError;

/// A CCV id the host holds as text (ids are integers on CCV's wire).
pub fn parse_id(id: &str, what: &str) -> Result<u64, PluginError> {
    id.trim().parse().map_err(|_| {
        PluginError::invalid(format!(
            "{id:?} is not a CCV {what} id (CCV ids are numbers)"
        ))
    })
}

/// An amount from a JSON number (or numeric text); null or absent is zero.
pub fn amount<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(Decimal::ZERO),
        value => decimal::from_json(&value, "amount").map_err(|e| D::Error::custom(e.describe())),
    }
}

/// An amount as the JSON number CCV's input schemas want (they refuse numeric text): whole
/// amounts as integers, others through their decimal text with at most `places` decimals.
pub fn number(value: Decimal, places: u32) -> Value {
    let value = value.round_dp(places).normalize();
    if value.fract().is_zero()
        && let Ok(whole) = i64::try_from(value)
    {
        return Value::from(whole);
    }
    decimal::to_json(value, places)
}

/// A page of a collection. `next` is null on the last page.
#[derive(Debug, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default)]
    pub next: Option<String>,
}

/// What a POST answers, as far as the connector cares.
#[derive(Debug, Deserialize)]
pub struct Created {
    pub id: u64,
}

/// A sub-resource link, with its items when the request asked to `expand` it.
#[derive(Debug, Clone, Deserialize)]
pub struct Expanded<T> {
    #[serde(default = "Option::default")]
    pub collection: Option<Vec<T>>,
}

impl<T> Default for Expanded<T> {
    fn default() -> Self {
        Expanded { collection: None }
    }
}

impl<T> Expanded<T> {
    /// The expanded items (none when not expanded).
    pub fn items(&self) -> &[T] {
        self.collection.as_deref().unwrap_or_default()
    }
}

/// A customer account.
#[derive(Debug, Deserialize)]
pub struct User {
    pub id: u64,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub userinfo: UserInfo,
}

#[derive(Debug, Default, Deserialize)]
pub struct UserInfo {
    #[serde(default)]
    pub email: Option<String>,
}

/// The webshop (a SalesPOS account is a webshop with `is_salespos`).
#[derive(Debug, Deserialize)]
pub struct Webshop {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub is_salespos: bool,
}

/// A webshop's settings (`GET /webshops/:id/settings`); both fields are nullable in CCV's schema.
#[derive(Debug, Deserialize)]
pub struct WebshopSettings {
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub prices_include_vat: Option<bool>,
}

/// A payment method.
#[derive(Debug, Deserialize)]
pub struct Paymethod {
    pub id: u64,
    #[serde(default)]
    pub label: String,
}

/// A product, with its combinations and category links when expanded.
#[derive(Debug, Clone, Deserialize)]
pub struct Product {
    pub id: u64,
    #[serde(default)]
    pub productnumber: String,
    #[serde(default)]
    pub eannumber: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub shortdescription: String,
    #[serde(default, deserialize_with = "amount")]
    pub price: Decimal,
    #[serde(default, deserialize_with = "amount")]
    pub discount: Decimal,
    /// The tax tariff ("normal", "low a", …): what CCV's product resource carries, not a rate.
    #[serde(default)]
    pub taxtariff: String,
    #[serde(default)]
    pub is_active: bool,
    #[serde(default)]
    pub stockenabled: bool,
    #[serde(default, deserialize_with = "amount")]
    pub stock: Decimal,
    #[serde(default)]
    pub modifydate: Option<String>,
    #[serde(default)]
    pub attributecombinations: Expanded<Combination>,
    #[serde(default)]
    pub producttocategories: Expanded<CategoryLink>,
    /// Documented as expandable on `GET /products`, though the product schema shows only its
    /// link: read per product when not filled in (see [`crate::source`]).
    #[serde(default)]
    pub producttopropertygroups: Expanded<crate::properties::Link>,
}

/// A generated variant of a product: one value of each of its option-menu attributes.
#[derive(Debug, Clone, Deserialize)]
pub struct Combination {
    pub id: u64,
    #[serde(default)]
    pub sku_number: String,
    #[serde(default)]
    pub product_number: String,
    #[serde(default)]
    pub ean_number: String,
    #[serde(default, deserialize_with = "amount")]
    pub stock: Decimal,
    #[serde(default)]
    pub active: bool,
    #[serde(default, deserialize_with = "amount")]
    pub netto_extra_price: Decimal,
    #[serde(default)]
    pub combination: Vec<CombinationPart>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CombinationPart {
    pub attribute: Named,
    pub attribute_value: Named,
}

/// An id with a name: an attribute (Size), an attribute value (M).
#[derive(Debug, Clone, Deserialize)]
pub struct Named {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
}

/// A product's place in a category.
#[derive(Debug, Clone, Deserialize)]
pub struct CategoryLink {
    pub category_id: u64,
}

/// An order as listed (its rows are a link, read with `GET /orders/:id/orderrows`).
#[derive(Debug, Deserialize)]
pub struct Order {
    pub id: u64,
    #[serde(default)]
    pub reservationnumber: Option<String>,
    /// When CCV created it (ISO 8601).
    #[serde(default)]
    pub create_date: Option<String>,
    #[serde(default, deserialize_with = "amount")]
    pub total_orderrow_price: Decimal,
}

/// An order row as CCV's row read model has it: a variant is named by its numbers.
#[derive(Debug, Deserialize)]
pub struct OrderRow {
    #[serde(default)]
    pub product_id: Option<u64>,
    #[serde(default)]
    pub sub_product_number: Option<String>,
    #[serde(default)]
    pub sub_sku_number: Option<String>,
    #[serde(default)]
    pub sub_ean_number: Option<String>,
    #[serde(default, deserialize_with = "amount")]
    pub count: Decimal,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_go_out_as_plain_numbers() {
        let n = |text: &str| number(decimal::parse(text, "x").unwrap(), 4);
        assert_eq!(n("-5.00").to_string(), "-5");
        assert_eq!(n("19.95").to_string(), "19.95");
        assert_eq!(n("8.264462").to_string(), "8.2645");
    }

    #[test]
    fn amounts_keep_their_digits() {
        let product: Product = serde_json::from_str(
            r#"{"id": 7, "price": 24.95, "stock": 3, "discount": null,
                "attributecombinations": {"href": "x", "collection": [
                    {"id": 8, "stock": 1.5, "combination": [
                        {"attribute": {"id": 1, "name": "Size"}, "attribute_value": {"id": 3, "name": "M"}}
                    ]}
                ]}}"#,
        )
        .unwrap();
        assert_eq!(product.price.to_string(), "24.95");
        assert_eq!(product.discount, Decimal::ZERO);
        let combination = &product.attributecombinations.items()[0];
        assert_eq!(combination.stock.to_string(), "1.5");
        assert_eq!(combination.combination[0].attribute_value.id, 3);
        assert!(product.producttocategories.items().is_empty());
    }
}
