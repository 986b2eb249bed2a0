//! Building a shop from a [`Dataset`]: the system data every Shopware has (languages, the
//! default currency, state machines, salutations), then the dataset's sales channel, payment
//! methods, taxes, countries, category tree, property groups, products with variants, and
//! orders with customers, addresses, line items and transactions.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Map, Value, json};

use crate::dataset::{Dataset, Order, Product};

use super::ApiVersion;
use super::ids::{DEFAULT_CURRENCY, LIVE_VERSION, SYSTEM_LANGUAGE, stable};
use super::index::{self, STOCK_APPLIED};
use super::states::{self, DELIVERY, ORDER, TRANSACTION};
use super::store::{Row, Store, Tx, format_time};
use super::write::Changes;

/// The storefront sales channel type.
const STOREFRONT_TYPE: &str = "8a243080f92e4c719546314b577cf82b";
/// The default customer group.
const CUSTOMER_GROUP: &str = "cfbd5018d38d41d8adca10d94fc8bdd6";
/// The German language, for translation tests.
pub const GERMAN: &str = "5ea2a8b8e0bf4b4d9e1b4e9e2a4d0d0e";

/// A money amount as Shopware serializes it: a JSON number.
pub fn money(amount: Decimal) -> Value {
    json!(amount.round_dp(2).to_f64().unwrap_or_default())
}

fn decimal(text: &str) -> Decimal {
    text.parse().unwrap_or_default()
}

/// Net from gross at a tax rate in percent.
pub fn net_of(gross: Decimal, rate: Decimal) -> Decimal {
    (gross / (Decimal::ONE + rate / Decimal::ONE_HUNDRED)).round_dp(2)
}

fn rounding() -> Value {
    json!({"decimals": 2, "interval": 0.01, "roundForNet": true})
}

/// Inserts a row, keeping only the fields the version's definition has and filling versions.
fn insert(tx: &mut Tx<'_>, entity: &'static str, data: Value, names: &[(&str, Value)]) -> Row {
    let def = tx.def(entity);
    let mut row = Row::default();
    for (key, value) in data.as_object().cloned().unwrap_or_default() {
        if def.field(&key).is_some() || key.starts_with('_') {
            row.data.insert(key, value);
        }
    }
    for field in def
        .fields
        .iter()
        .filter(|f| f.kind == super::definition::Kind::Version)
    {
        row.data.entry(field.name).or_insert(json!(LIVE_VERSION));
    }
    if def.field("autoIncrement").is_some() {
        let next = tx.store_mut().next_auto_increment(entity);
        row.data.insert("autoIncrement".into(), json!(next));
    }
    let def = tx.def(entity);
    let translation: Map<String, Value> = names
        .iter()
        .filter(|(k, _)| def.field(k).is_some_and(|f| f.translated))
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    if !translation.is_empty() {
        row.translations.insert(SYSTEM_LANGUAGE.into(), translation);
    }
    tx.put(entity, LIVE_VERSION, row.clone());
    row
}

/// The data every shop has, whatever it sells.
pub fn system(tx: &mut Tx<'_>) {
    let now = format_time(tx.clock.seed() - Duration::days(365));
    for (code, name, territory) in [
        ("en-GB", "English", "United Kingdom"),
        ("de-DE", "German", "Germany"),
        ("nl-NL", "Dutch", "Netherlands"),
    ] {
        insert(
            tx,
            "locale",
            json!({"id": stable("locale", code), "code": code, "createdAt": now}),
            &[("name", json!(name)), ("territory", json!(territory))],
        );
    }
    for (id, code, name) in [
        (SYSTEM_LANGUAGE, "en-GB", "English"),
        (GERMAN, "de-DE", "Deutsch"),
    ] {
        insert(
            tx,
            "language",
            json!({"id": id, "localeId": stable("locale", code), "translationCodeId": stable("locale", code), "name": name, "createdAt": now}),
            &[],
        );
    }
    for (id, iso, symbol, factor, name, default) in [
        (DEFAULT_CURRENCY.to_string(), "EUR", "€", 1.0, "Euro", true),
        (
            stable("currency", "USD"),
            "USD",
            "$",
            1.17,
            "US-Dollar",
            false,
        ),
    ] {
        insert(
            tx,
            "currency",
            json!({"id": id, "isoCode": iso, "symbol": symbol, "factor": factor, "isSystemDefault": default,
                   "position": 1, "taxFreeFrom": 0, "itemRounding": rounding(), "totalRounding": rounding(), "createdAt": now}),
            &[("name", json!(name)), ("shortName", json!(iso))],
        );
    }
    for (key, display, letter) in [
        ("not_specified", "Not specified", " "),
        ("mr", "Mr.", "Dear Mr."),
        ("mrs", "Mrs.", "Dear Mrs."),
    ] {
        insert(
            tx,
            "salutation",
            json!({"id": stable("salutation", key), "salutationKey": key, "createdAt": now}),
            &[
                ("displayName", json!(display)),
                ("letterName", json!(letter)),
            ],
        );
    }
    for (iso, iso3, name) in [
        ("NL", "NLD", "Netherlands"),
        ("BE", "BEL", "Belgium"),
        ("DE", "DEU", "Germany"),
    ] {
        insert(
            tx,
            "country",
            json!({"id": stable("country", iso), "iso": iso, "iso3": iso3, "active": true, "shippingAvailable": true, "position": 1, "createdAt": now}),
            &[("name", json!(name)), ("addressFormat", json!([]))],
        );
    }
    insert(
        tx,
        "shipping_method",
        json!({"id": stable("shipping_method", "standard"), "technicalName": "shipping_standard", "active": true, "position": 1,
               "deliveryTimeId": stable("delivery_time", "1-3 days"), "availabilityRuleId": stable("rule", "always"), "taxType": "auto", "createdAt": now}),
        &[("name", json!("Standard"))],
    );
    for (entity, row) in states::rows(&now) {
        tx.put(entity, LIVE_VERSION, row);
    }
}

/// An empty shop: only the system data.
pub fn empty(version: ApiVersion, now: DateTime<Utc>) -> Store {
    let mut store = Store::new(version, now);
    let mut tx = store.begin();
    system(&mut tx);
    tx.commit();
    store
}

/// The ids the seed gives the dataset's things.
pub mod keys {
    use super::stable;

    /// A product or variant by SKU.
    pub fn product(sku: &str) -> String {
        stable("product", sku)
    }
    /// A category by its path of names.
    pub fn category(path: &[String]) -> String {
        stable("category", &path.join("/"))
    }
    /// A property group by name.
    pub fn group(name: &str) -> String {
        stable("property_group", name)
    }
    /// A property option by group and value.
    pub fn option(group: &str, value: &str) -> String {
        stable("property_group_option", &format!("{group}/{value}"))
    }
    /// An order by number.
    pub fn order(number: &str) -> String {
        stable("order", number)
    }
    /// A payment method by technical name.
    pub fn payment_method(technical: &str) -> String {
        stable("payment_method", technical)
    }
    /// The sales channel.
    pub fn sales_channel(name: &str) -> String {
        stable("sales_channel", name)
    }
}

/// A shop with the dataset's data.
pub fn from_dataset(version: ApiVersion, now: DateTime<Utc>, dataset: &Dataset) -> Store {
    let mut store = empty(version, now);
    let mut tx = store.begin();
    let created = format_time(now - Duration::days(30));
    catalogue(&mut tx, dataset, &created);
    let products = super::orders::Catalog::new(&tx);
    for order in &dataset.orders {
        place_seed_order(&mut tx, dataset, order, &products);
    }
    if let Some(order) = dataset
        .orders
        .iter()
        .find(|o| o.order_state == "in_progress")
    {
        super::orders::admin_draft(&mut tx, &keys::order(&order.number));
    }
    let changes = Changes {
        products: tx
            .rows("product", LIVE_VERSION)
            .iter()
            .map(|p| p.id().to_string())
            .collect(),
        orders: BTreeSet::new(),
        categories: true,
        ..Changes::default()
    };
    index::reindex(&mut tx, &changes);
    tx.commit();
    store
}

fn catalogue(tx: &mut Tx<'_>, dataset: &Dataset, created: &str) {
    let channel = keys::sales_channel(&dataset.sales_channel);
    for (i, method) in dataset.payment_methods.iter().enumerate() {
        insert(
            tx,
            "payment_method",
            json!({"id": keys::payment_method(&method.technical_name), "technicalName": method.technical_name,
                   "handlerIdentifier": "Shopware\\Core\\Checkout\\Payment\\Cart\\PaymentHandler\\DefaultPayment",
                   "active": true, "afterOrderEnabled": true, "position": i + 1, "createdAt": created}),
            &[
                ("name", json!(method.shop_name)),
                ("distinguishableName", json!(method.shop_name)),
            ],
        );
    }
    let mut rates: BTreeSet<String> = dataset
        .products
        .iter()
        .map(|p| p.tax_rate.clone())
        .collect();
    rates.insert("21".into());
    for rate in &rates {
        insert(
            tx,
            "tax",
            json!({"id": stable("tax", rate), "taxRate": decimal(rate).to_f64(), "name": format!("{rate}%"), "position": 1, "createdAt": created}),
            &[],
        );
    }
    let mut previous_sibling: BTreeMap<Vec<String>, String> = BTreeMap::new();
    for path in &dataset.categories {
        let parent = &path[..path.len() - 1];
        let id = keys::category(path);
        let after = previous_sibling.insert(parent.to_vec(), id.clone());
        insert(
            tx,
            "category",
            json!({"id": id, "parentId": (!parent.is_empty()).then(|| keys::category(parent)),
                   "afterCategoryId": after, "displayNestedProducts": true, "type": "page",
                   "productAssignmentType": "product", "visible": true, "active": true, "createdAt": created}),
            &[("name", json!(path.last()))],
        );
    }
    let root = dataset
        .categories
        .first()
        .map(|p| keys::category(p))
        .unwrap_or_default();
    insert(
        tx,
        "sales_channel",
        json!({"id": channel, "typeId": STOREFRONT_TYPE, "languageId": SYSTEM_LANGUAGE, "customerGroupId": CUSTOMER_GROUP,
               "currencyId": DEFAULT_CURRENCY, "paymentMethodId": dataset.payment_methods.first().map(|m| keys::payment_method(&m.technical_name)),
               "shippingMethodId": stable("shipping_method", "standard"), "countryId": stable("country", "NL"),
               "navigationCategoryId": root, "accessKey": format!("SWSC{}", &stable("access", &dataset.sales_channel)[..22].to_uppercase()),
               "active": true, "maintenance": false, "createdAt": created}),
        &[
            ("name", json!(dataset.sales_channel)),
            ("homeEnabled", json!(true)),
        ],
    );
    let mut groups: Vec<String> = Vec::new();
    let mut options: Vec<(String, String)> = Vec::new();
    for product in dataset.products.iter().filter(|p| p.in_shop) {
        let pairs = product
            .properties
            .iter()
            .chain(product.variants.iter().flat_map(|v| v.options.iter()));
        for (group, value) in pairs {
            if !groups.contains(group) {
                groups.push(group.clone());
            }
            if !options.iter().any(|(g, v)| g == group && v == value) {
                options.push((group.clone(), value.clone()));
            }
        }
    }
    for (i, group) in groups.iter().enumerate() {
        insert(
            tx,
            "property_group",
            json!({"id": keys::group(group), "displayType": if group == "Colour" { "color" } else { "text" },
                   "sortingType": "alphanumeric", "filterable": true, "visibleOnProductDetailPage": true, "createdAt": created}),
            &[("name", json!(group)), ("position", json!(i + 1))],
        );
    }
    for (i, (group, value)) in options.iter().enumerate() {
        insert(
            tx,
            "property_group_option",
            json!({"id": keys::option(group, value), "groupId": keys::group(group), "createdAt": created}),
            &[("name", json!(value)), ("position", json!(i + 1))],
        );
    }
    for product in dataset.products.iter().filter(|p| p.in_shop) {
        seed_product(tx, product, &channel, created);
    }
}

fn seed_product(tx: &mut Tx<'_>, product: &Product, channel: &str, created: &str) {
    let id = keys::product(&product.sku);
    let gross = decimal(&product.gross_price);
    let rate = decimal(&product.tax_rate);
    let price = json!([{"currencyId": DEFAULT_CURRENCY, "gross": money(gross), "net": money(net_of(gross, rate)), "linked": true}]);
    insert(
        tx,
        "product",
        json!({"id": id, "productNumber": product.sku, "ean": (!product.ean.is_empty()).then_some(&product.ean),
               "stock": if product.variants.is_empty() { product.shop_stock } else { 0 }, "price": price,
               "taxId": stable("tax", &product.tax_rate), "active": true, "isCloseout": false, "minPurchase": 1,
               "purchaseSteps": 1, "shippingFree": false, "markAsTopseller": false, "sales": 0, "type": "physical", "createdAt": created}),
        &[
            ("name", json!(product.name)),
            ("description", json!(product.description)),
            ("metaDescription", json!(product.short_description)),
        ],
    );
    tx.put("product_visibility", LIVE_VERSION, Row::new(object(json!({
        "id": stable("product_visibility", &product.sku), "productId": id, "productVersionId": LIVE_VERSION,
        "salesChannelId": channel, "visibility": 30, "createdAt": created}))));
    if !product.category.is_empty() {
        tx.put(
            "product_category",
            LIVE_VERSION,
            Row::new(object(json!({
            "productId": id, "productVersionId": LIVE_VERSION,
            "categoryId": keys::category(&product.category), "categoryVersionId": LIVE_VERSION}))),
        );
    }
    for (group, value) in &product.properties {
        tx.put("product_property", LIVE_VERSION, Row::new(object(json!({
            "productId": id, "productVersionId": LIVE_VERSION, "optionId": keys::option(group, value)}))));
    }
    let mut configured: Vec<String> = Vec::new();
    for variant in &product.variants {
        let variant_id = keys::product(&variant.sku);
        insert(
            tx,
            "product",
            json!({"id": variant_id, "parentId": id, "productNumber": variant.sku, "ean": variant.ean,
                   "stock": variant.shop_stock, "sales": 0, "createdAt": created}),
            &[],
        );
        for (group, value) in &variant.options {
            let option = keys::option(group, value);
            tx.put(
                "product_option",
                LIVE_VERSION,
                Row::new(object(json!({
                "productId": variant_id, "productVersionId": LIVE_VERSION, "optionId": option}))),
            );
            if !configured.contains(&option) {
                tx.put("product_configurator_setting", LIVE_VERSION, Row::new(object(json!({
                    "id": stable("product_configurator_setting", &format!("{}/{option}", product.sku)),
                    "versionId": LIVE_VERSION, "productId": id, "productVersionId": LIVE_VERSION,
                    "optionId": option, "position": configured.len(), "createdAt": created}))));
                configured.push(option);
            }
        }
    }
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// Street and number in one field, as Shopware keeps them: "Dorpsstraat 12a", "Meir 45 bus 2".
pub fn street(street: &str, number: &str, suffix: &str) -> String {
    match suffix {
        "" => format!("{street} {number}"),
        s if s.chars().all(|c| c.is_ascii_alphanumeric()) && s.len() <= 2 => {
            format!("{street} {number}{s}")
        }
        s => format!("{street} {number} {s}"),
    }
}

fn place_seed_order(
    tx: &mut Tx<'_>,
    dataset: &Dataset,
    order: &Order,
    catalog: &super::orders::Catalog,
) {
    let placed = tx.clock.seed() - Duration::minutes(order.minutes_ago);
    let method = dataset
        .payment_methods
        .iter()
        .find(|m| m.shop_name == order.payment_method)
        .map(|m| keys::payment_method(&m.technical_name))
        .unwrap_or_default();
    let Some(customer) = dataset.customers.iter().find(|c| c.email == order.customer) else {
        return;
    };
    let lines: Vec<super::orders::Line> = order
        .lines
        .iter()
        .map(|(sku, quantity)| super::orders::Line {
            sku: sku.clone(),
            quantity: i64::from(*quantity),
        })
        .collect();
    let placement = super::orders::Placement {
        id: keys::order(&order.number),
        number: order.number.clone(),
        customer: customer.clone(),
        lines,
        payment_method_id: method,
        sales_channel_id: keys::sales_channel(&dataset.sales_channel),
        placed,
    };
    let order_id = super::orders::insert_order(tx, &placement, catalog);
    let state_changed = order.order_state != "open" || order.transactions.len() > 1;
    for (i, state) in order.transactions.iter().enumerate() {
        let created = placed + Duration::minutes(5 * i as i64) + Duration::seconds(1);
        let amount = tx
            .live("order", &order_id)
            .map(|o| o.get("price")["totalPrice"].clone())
            .unwrap_or(json!(0));
        let mut data = object(json!({
            "id": stable("order_transaction", &format!("{}/{i}", order.number)), "versionId": LIVE_VERSION,
            "orderId": order_id, "orderVersionId": LIVE_VERSION, "paymentMethodId": placement.payment_method_id,
            "amount": {"unitPrice": amount, "totalPrice": amount, "quantity": 1, "calculatedTaxes": [], "taxRules": []},
            "stateId": states::state_id(&TRANSACTION, state), "createdAt": format_time(created)}));
        if state != "open" {
            data.insert(
                "updatedAt".into(),
                json!(format_time(created + Duration::minutes(2))),
            );
        }
        tx.put("order_transaction", LIVE_VERSION, Row::new(data));
    }
    let mut row = tx.live("order", &order_id).cloned().unwrap_or_default();
    row.data.insert(
        "stateId".into(),
        json!(states::state_id(&ORDER, &order.order_state)),
    );
    if state_changed {
        // Changed after its last transaction, and never later than the seed time.
        let changed = placed + Duration::minutes(5 * order.transactions.len() as i64 + 2);
        row.data.insert(
            "updatedAt".into(),
            json!(format_time(changed.min(tx.clock.seed()))),
        );
    }
    if order.order_state == "cancelled" {
        let deliveries: Vec<Row> = tx
            .rows("order_delivery", LIVE_VERSION)
            .into_iter()
            .filter(|d| d.str("orderId") == Some(order_id.as_str()))
            .cloned()
            .collect();
        for mut delivery in deliveries {
            delivery.data.insert(
                "stateId".into(),
                json!(states::state_id(&DELIVERY, "cancelled")),
            );
            tx.put("order_delivery", LIVE_VERSION, delivery);
        }
    }
    let mut taken: BTreeMap<String, i64> = BTreeMap::new();
    if index::takes_stock(tx.version, &order.order_state) {
        for line in &placement.lines {
            if let Some(product) = catalog.product_id(&line.sku) {
                *taken.entry(product.to_string()).or_default() += line.quantity;
            }
        }
    }
    row.data.insert(STOCK_APPLIED.into(), json!(taken));
    if tx.def("order").field("primaryOrderTransactionId").is_some() {
        let last = order.transactions.len().saturating_sub(1);
        let transaction = stable("order_transaction", &format!("{}/{last}", order.number));
        row.data
            .insert("primaryOrderTransactionId".into(), json!(transaction));
        row.data.insert(
            "primaryOrderDeliveryId".into(),
            json!(stable("order_delivery", &order.number)),
        );
    }
    tx.put("order", LIVE_VERSION, row);
}
