//! The simulator's state: the resources CCV's API serves, as plain data.
//!
//! Every resource's ids come from one sequence, so that an id of one kind is never a valid id of
//! another: a client that sends a product id where a combination id belongs gets a 404 here, as
//! it would against real data, instead of a lucky hit. The state serializes to JSON as a whole;
//! that is the dump, and a dump loads again as a seed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use super::properties::{
    ProductToPropertyGroup, Property, PropertyGroup, PropertyOption, PropertyValue,
};

/// The first id handed out.
const FIRST_ID: u64 = 10_001;

/// Everything the simulated POS holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Store {
    /// The next id of any resource.
    pub next_id: u64,
    /// The next order number (the POS numbers orders itself).
    pub next_ordernumber: u64,
    pub webshops: BTreeMap<u64, Webshop>,
    #[serde(default)]
    pub packages: BTreeMap<u64, Package>,
    pub paymethods: BTreeMap<u64, Paymethod>,
    pub categories: BTreeMap<u64, Category>,
    pub products: BTreeMap<u64, Product>,
    pub attributes: BTreeMap<u64, Attribute>,
    pub attribute_values: BTreeMap<u64, AttributeValue>,
    pub product_attribute_values: BTreeMap<u64, ProductAttributeValue>,
    pub combinations: BTreeMap<u64, AttributeCombination>,
    pub product_categories: BTreeMap<u64, ProductToCategory>,
    #[serde(default)]
    pub property_groups: BTreeMap<u64, PropertyGroup>,
    #[serde(default)]
    pub properties: BTreeMap<u64, Property>,
    #[serde(default)]
    pub property_options: BTreeMap<u64, PropertyOption>,
    #[serde(default)]
    pub product_property_groups: BTreeMap<u64, ProductToPropertyGroup>,
    #[serde(default)]
    pub property_values: BTreeMap<u64, PropertyValue>,
    pub users: BTreeMap<u64, User>,
    pub orders: BTreeMap<u64, Order>,
    pub order_notes: BTreeMap<u64, OrderNote>,
    /// How `GET /productqueries` combines several parameters (an option, not state).
    #[serde(skip)]
    pub productqueries: QueryMatch,
}

/// How `GET /productqueries` combines several of its parameters. CCV does not document it
/// (`ProductqueriesEndpoint.php` in the schemas generated as `jacobdekeizer/ccvshop-client` says
/// only that at least one is needed), so the simulator can answer either way; a client that
/// sends one parameter per request gets the same answer from both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum QueryMatch {
    /// A result matches every parameter given (GUESS, the default: filters of CCV's other
    /// collections narrow each other).
    #[default]
    All,
    /// A result matches any parameter given.
    Any,
}

impl Default for Store {
    /// An empty POS: one webshop flagged as a SalesPOS, with one package, and nothing else.
    fn default() -> Self {
        let mut store = Store {
            next_id: FIRST_ID,
            next_ordernumber: 1,
            webshops: BTreeMap::new(),
            packages: BTreeMap::new(),
            paymethods: BTreeMap::new(),
            categories: BTreeMap::new(),
            products: BTreeMap::new(),
            attributes: BTreeMap::new(),
            attribute_values: BTreeMap::new(),
            product_attribute_values: BTreeMap::new(),
            combinations: BTreeMap::new(),
            product_categories: BTreeMap::new(),
            property_groups: BTreeMap::new(),
            properties: BTreeMap::new(),
            property_options: BTreeMap::new(),
            product_property_groups: BTreeMap::new(),
            property_values: BTreeMap::new(),
            users: BTreeMap::new(),
            orders: BTreeMap::new(),
            order_notes: BTreeMap::new(),
            productqueries: QueryMatch::default(),
        };
        let id = store.new_id();
        store.webshops.insert(
            id,
            Webshop {
                id,
                name: "SalesPOS".into(),
                is_salespos: true,
                settings: Settings::default(),
            },
        );
        // GUESS: a new shop comes with one package; CCV documents packages as shop-wide records
        // with their own ids (`GET /packages`), not which ones a shop starts with.
        let id = store.new_id();
        store.packages.insert(
            id,
            Package {
                id,
                name: "Standaard".into(),
            },
        );
        store
    }
}

impl Store {
    /// Hands out the next id.
    pub fn new_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }
}

/// A webshop: a SalesPOS account is a CCV Shop webshop with `is_salespos` set. The resource itself
/// has no currency and no VAT convention (SDK `src/Resources/Webshop.php`; JDK
/// `Resource/Webshops/Webshops.php`): those are its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webshop {
    pub id: u64,
    pub name: String,
    pub is_salespos: bool,
    pub settings: Settings,
}

/// The settings of a webshop (`GET /webshops/:id/settings`, JDK `Entity/Settings/Settings.php`;
/// SDK `src/Resources/Setting.php`), as far as the simulator keeps them; the rest of the
/// documented fields are answered with fixed values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// "Currency code used in webshop, ISO 4217".
    pub currency: String,
    /// "Do prices include VAT": product prices are gross when set, net otherwise.
    pub prices_include_vat: bool,
    /// "Default VAT rate used when creating new products" (CCV spells it `default_vat_rat`).
    pub default_vat_rat: Decimal,
    /// The webshop's languages (ISO 639-1).
    pub languages: Vec<String>,
    pub webshop_enabled: bool,
    pub webshop_disabled_title: String,
    pub webshop_disabled_text: String,
}

impl Default for Settings {
    /// A Dutch shop in euros whose prices include VAT.
    fn default() -> Self {
        Settings {
            currency: "EUR".into(),
            prices_include_vat: true,
            default_vat_rat: Decimal::from(21),
            languages: vec!["nl".into()],
            webshop_enabled: true,
            webshop_disabled_title: String::new(),
            webshop_disabled_text: String::new(),
        }
    }
}

/// A package: how a product is shipped, and what that costs. Products and free order rows name
/// one by `package_id` (jacobdekeizer/ccvshop-client, `Models/Vnd/Verto/Webshop/Resource/Packages`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Package {
    pub id: u64,
    /// "Used in the merchant's backend as display name."
    pub name: String,
}

/// A payment method (read-only through the API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paymethod {
    pub id: u64,
    pub psp: String,
    pub method: String,
    pub label: String,
    pub extra_costs_fixed: Decimal,
    pub extra_costs_percentage: Decimal,
}

/// A category; roots have no parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    pub id: u64,
    pub name: String,
    pub parent_id: Option<u64>,
    pub description: String,
    pub position: i64,
    pub show_on_website: bool,
}

/// CCV's VAT tariffs (the SDK's constants), with the Dutch rate the simulator gives each.
pub const TAX_TARIFFS: [(&str, u32); 5] = [
    ("normal", 21),
    ("low a", 9),
    ("low b", 9),
    ("extra low", 5),
    ("zero", 0),
];

/// The rate of a tariff in percent.
pub fn tax_rate(tariff: &str) -> Decimal {
    TAX_TARIFFS
        .iter()
        .find(|(name, _)| *name == tariff)
        .map_or(Decimal::ZERO, |(_, rate)| Decimal::from(*rate))
}

/// Where a product's stock is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockType {
    /// On the product itself.
    Product,
    /// On each of its attribute combinations.
    AttributeCombination,
}

impl StockType {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            StockType::Product => "product",
            StockType::AttributeCombination => "attribute_combination",
        }
    }
}

/// An article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub id: u64,
    pub productnumber: String,
    pub eannumber: String,
    pub mpnnumber: String,
    pub name: String,
    pub shortdescription: String,
    pub description: String,
    /// Price before discount: including VAT when the webshop's `prices_include_vat` says so,
    /// else excluding it.
    pub price: Decimal,
    /// Sell price = price − discount.
    pub discount: Decimal,
    /// Excluding VAT.
    pub purchaseprice: Decimal,
    pub taxtariff: String,
    pub package_id: u64,
    pub active: bool,
    pub unit: String,
    pub stockenabled: bool,
    pub stocktype: StockType,
    /// Physical stock when `stocktype` is `product`.
    pub stock: Decimal,
    pub stocklocation: String,
    pub ordering_without_stock: String,
    pub weight: Decimal,
    pub memo: String,
    pub createdate: DateTime<Utc>,
    pub modifydate: DateTime<Utc>,
}

/// An attribute such as Size; option menus generate combinations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    pub id: u64,
    pub name: String,
    /// `option_menu`, `option_menu_required`, `text`, `text_required` or `additional_menu`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// The attribute types the simulator knows (GUESS: CCV names them only in prose).
pub const ATTRIBUTE_TYPES: [&str; 5] = [
    "option_menu",
    "option_menu_required",
    "text",
    "text_required",
    "additional_menu",
];

impl Attribute {
    /// Whether its values take part in attribute combinations.
    pub fn makes_combinations(&self) -> bool {
        self.kind.starts_with("option_menu")
    }
}

/// A value of an attribute, such as M of Size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeValue {
    pub id: u64,
    pub attribute_id: u64,
    pub name: String,
    pub default_price: Decimal,
    pub position: i64,
}

/// An attribute value offered for a product, with its price difference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductAttributeValue {
    pub id: u64,
    pub product_id: u64,
    pub value_id: u64,
    pub price: Decimal,
    pub position: i64,
}

/// One variant of a product: a value of each of its option-menu attributes. Generated, never
/// posted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeCombination {
    pub id: u64,
    pub product_id: u64,
    /// Attribute value ids, one per attribute, in the product's attribute order.
    pub value_ids: Vec<u64>,
    pub stock: Decimal,
    pub product_number: String,
    pub ean_number: String,
    pub sku_number: String,
    pub active: bool,
    pub note: String,
}

/// A product's place in a category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductToCategory {
    pub id: u64,
    pub product_id: u64,
    pub category_id: u64,
    pub position: i64,
}

/// An address as CCV's Personalinfo has it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Address {
    pub gender: Option<String>,
    pub initials: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub street: Option<String>,
    pub housenumber: Option<i64>,
    pub housenumber_suffix: Option<String>,
    pub address_line_1: Option<String>,
    pub address_line_2: Option<String>,
    pub zipcode: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub country_code: Option<String>,
    pub telephone: Option<String>,
    pub mobile: Option<String>,
    pub fax: Option<String>,
    pub comment: Option<String>,
}

/// CCV's Personalinfo: a user's `userinfo` and an order's `customer`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Personalinfo {
    pub email: Option<String>,
    /// `b2c` or `b2b` (GUESS: CCV documents "consumer (b2c) or business (b2b)").
    pub customertype: Option<String>,
    pub kvk: Option<String>,
    pub btw: Option<String>,
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub bankaccount: Option<String>,
    pub bankname: Option<String>,
    pub reference: Option<String>,
    pub branch: Option<String>,
    pub website: Option<String>,
    pub costcentre: Option<String>,
    pub birthdate: Option<String>,
    pub billingaddress: Address,
    pub deliveryaddress: Address,
}

/// A customer account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: u64,
    pub username: String,
    /// Write-only through the API.
    pub password: String,
    pub group_id: Option<u64>,
    pub approval_status: String,
    pub userinfo: Personalinfo,
    pub create_date: DateTime<Utc>,
}

/// Order status 8: cancelled.
pub const STATUS_CANCELLED: u8 = 8;
/// Order status 14: reserved, i.e. sold at the till and not yet collected.
pub const STATUS_RESERVED: u8 = 14;

/// An order (a sale, in a POS).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: u64,
    /// Given by the POS when the order is completed.
    pub ordernumber: Option<u64>,
    pub create_date: DateTime<Utc>,
    /// 1–14; none while the order is not completed.
    pub status: Option<u8>,
    pub is_completed: bool,
    pub paid: bool,
    pub user_id: Option<u64>,
    pub customer: Personalinfo,
    pub paymethod_id: Option<u64>,
    pub taxes_included: bool,
    pub order_row_taxes_included: bool,
    pub shipping_taxes_included: bool,
    pub is_intra_community_order: bool,
    pub is_platform_sale: bool,
    pub currency: String,
    pub orderedinlng: String,
    pub total_shipping: Decimal,
    pub paymethod_costs: Decimal,
    pub extra_costs: Decimal,
    pub extra_costs_description: String,
    pub invoicenumber: Option<u64>,
    pub reservationnumber: Option<String>,
    pub deliver_date: Option<String>,
    pub deliver_method: String,
    pub track_and_trace_code: String,
    pub track_and_trace_carrier: Option<String>,
    pub transaction_id: Option<String>,
    pub safety_deposit_returned: bool,
    /// The e-mails sent to the customer about this order (`PATCH` with `mail`), as their text.
    pub customer_mails: Vec<String>,
    pub rows: Vec<OrderRow>,
}

impl Order {
    /// Whether the order has taken its articles out of physical stock: completed, and neither
    /// reserved (not collected yet) nor cancelled.
    pub fn takes_stock(&self) -> bool {
        self.is_completed
            && self
                .status
                .is_some_and(|s| s != STATUS_RESERVED && s != STATUS_CANCELLED)
    }

    /// Whether its articles are reserved: sold at the till, not collected yet.
    pub fn reserves(&self) -> bool {
        self.is_completed && self.status == Some(STATUS_RESERVED)
    }
}

/// A note on an order (`ordernotes`, JDK `Resource/Ordernotes/Ordernotes.php`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderNote {
    pub id: u64,
    pub order_id: u64,
    pub note: String,
    /// `internal` (for the merchant's staff) or `external` ("External notes are visible for
    /// customers too"). GUESS: CCV documents the distinction, not the strings.
    #[serde(rename = "type")]
    pub kind: String,
    pub create_date: DateTime<Utc>,
}

/// A line of an order: a product (or one of its combinations), or a free row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRow {
    pub id: u64,
    pub product_id: Option<u64>,
    /// The combination the row was posted with: an input field only. CCV's row read model has
    /// no such field (it names the variant by `sub_*_number`), so it is kept for stock, never
    /// shown.
    pub attribute_combination_id: Option<u64>,
    pub product_type: String,
    pub product_name: String,
    pub product_number: String,
    pub sub_product_number: Option<String>,
    pub sub_sku_number: Option<String>,
    pub sub_ean_number: Option<String>,
    pub count: Decimal,
    /// Price per unit before discount.
    pub price: Decimal,
    /// Discount per unit.
    pub discount: Decimal,
    /// VAT in percent.
    pub tax: Decimal,
    pub unit: String,
    pub weight: Decimal,
    pub memo: String,
    pub package_id: Option<u64>,
    pub product_purchase_price: Decimal,
    /// The attribute values of the row's combination, each adding its price per unit ("The
    /// associated attributes value with this id will be added to this row", CCV's order row
    /// input schema).
    #[serde(default)]
    pub attributes: Vec<RowAttribute>,
}

/// A chosen attribute value of an order row (CCV's `orderrowattributevalues`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowAttribute {
    pub id: u64,
    /// The attribute's name ("Size").
    pub option_name: String,
    /// The value's name ("L").
    pub value_name: String,
    /// The price it adds per unit.
    pub price: Decimal,
}

/// The amounts a row's read model derives from its fields.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowAmounts {
    /// What the attribute values add per unit.
    pub extra: Decimal,
    /// Price − discount: what one unit sells for without its attribute values.
    pub selling: Decimal,
    /// Price + what the attribute values add, before the discount.
    pub undiscounted: Decimal,
    /// What one unit costs: price − discount + what the attribute values add.
    pub price_with_attributes: Decimal,
    /// What the attribute values add for the whole row.
    pub total_extra: Decimal,
    /// The row's total: price with attributes × count.
    pub total: Decimal,
    /// What the row is discounted in all: discount × count.
    pub total_discount: Decimal,
}

impl OrderRow {
    /// The row's derived amounts; none when one of them does not fit a decimal (a row posted
    /// with absurd amounts is refused with that, see [`super::stock`]).
    pub fn amounts(&self) -> Option<RowAmounts> {
        let extra = self
            .attributes
            .iter()
            .try_fold(Decimal::ZERO, |sum, a| sum.checked_add(a.price))?;
        let selling = self.price.checked_sub(self.discount)?;
        let price_with_attributes = selling.checked_add(extra)?;
        Some(RowAmounts {
            extra,
            selling,
            undiscounted: self.price.checked_add(extra)?,
            price_with_attributes,
            total_extra: extra.checked_mul(self.count)?,
            total: price_with_attributes.checked_mul(self.count)?,
            total_discount: self.discount.checked_mul(self.count)?,
        })
    }
}
