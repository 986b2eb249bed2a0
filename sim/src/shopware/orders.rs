//! Orders as the shop itself makes them: placing an order (prices from the products, taxes,
//! addresses with street and number in one field, a delivery), adding payment transactions,
//! and draft versions (`POST /_action/version/order/{id}`) with their merge.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::dataset::Customer;

use super::definition::{Kind, Relation};
use super::error::ApiError;
use super::ids::{DEFAULT_CURRENCY, LIVE_VERSION, SYSTEM_LANGUAGE, stable};
use super::index;
use super::seed::{money, net_of, street};
use super::states::{self, DELIVERY, ORDER, TRANSACTION};
use super::store::{Row, Store, Tx, format_time, row_key};
use super::write::Changes;

/// One line of an order to place.
#[derive(Debug, Clone)]
pub struct Line {
    /// The product number.
    pub sku: String,
    /// How many.
    pub quantity: i64,
}

/// An order to place.
#[derive(Debug, Clone)]
pub struct Placement {
    /// The order id.
    pub id: String,
    /// The order number.
    pub number: String,
    /// Who ordered.
    pub customer: Customer,
    /// What.
    pub lines: Vec<Line>,
    /// The payment method of the first transaction.
    pub payment_method_id: String,
    /// The sales channel.
    pub sales_channel_id: String,
    /// When.
    pub placed: DateTime<Utc>,
}

/// Lookups into the catalogue that placing orders needs, built once: a linear scan per line
/// would make seeding a large shop quadratic.
pub struct Catalog {
    by_number: HashMap<String, String>,
    options: HashMap<String, Vec<String>>,
}

impl Catalog {
    /// The lookups over the store's live products.
    pub fn new(store: &Store) -> Self {
        let by_number = store
            .rows("product", LIVE_VERSION)
            .into_iter()
            .filter_map(|p| Some((p.str("productNumber")?.to_string(), p.id().to_string())))
            .collect();
        let mut options: HashMap<String, Vec<String>> = HashMap::new();
        for mapping in store.rows("product_option", LIVE_VERSION) {
            if let (Some(product), Some(option)) =
                (mapping.str("productId"), mapping.str("optionId"))
            {
                options
                    .entry(product.to_string())
                    .or_default()
                    .push(option.to_string());
            }
        }
        Catalog { by_number, options }
    }

    /// The id of the product with this number.
    pub fn product_id(&self, number: &str) -> Option<&str> {
        self.by_number.get(number).map(String::as_str)
    }
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// A JSON number as a decimal (money is never computed in f64).
pub fn decimal(value: &Value) -> Decimal {
    value.to_string().parse().unwrap_or_default()
}

/// The gross price in the default currency and the tax rate of a product, taken from the
/// parent for variants.
fn price_of(tx: &Tx<'_>, product: &Row) -> (Decimal, Decimal) {
    let parent = product.str("parentId").and_then(|p| tx.live("product", p));
    let inherited = |field: &str| {
        let own = product.get(field);
        if own.is_null() {
            parent.map(|p| p.get(field).clone()).unwrap_or(Value::Null)
        } else {
            own.clone()
        }
    };
    let gross = inherited("price")
        .as_array()
        .and_then(|prices| {
            prices
                .iter()
                .find(|p| p["currencyId"] == DEFAULT_CURRENCY)
                .map(|p| decimal(&p["gross"]))
        })
        .unwrap_or_default();
    let rate = inherited("taxId")
        .as_str()
        .and_then(|t| tx.live("tax", t))
        .map(|t| decimal(t.get("taxRate")))
        .unwrap_or_default();
    (gross, rate)
}

fn calculated(unit: Decimal, quantity: i64, rate: Decimal) -> Value {
    let total = unit * Decimal::from(quantity);
    let tax = total - net_of(total, rate);
    json!({
        "unitPrice": money(unit), "totalPrice": money(total), "quantity": quantity,
        "calculatedTaxes": [{"tax": money(tax), "taxRate": money(rate), "price": money(total)}],
        "taxRules": [{"taxRate": money(rate), "percentage": 100}],
        "referencePrice": null, "listPrice": null, "regulationPrice": null,
    })
}

fn zero_price() -> Value {
    json!({"unitPrice": 0, "totalPrice": 0, "quantity": 1, "calculatedTaxes": [], "taxRules": [],
           "referencePrice": null, "listPrice": null, "regulationPrice": null})
}

/// Inserts an order with its customer, addresses, line items and delivery (no transaction) in
/// state open, as the checkout writes it; returns its id. `updatedAt` stays null, as on a
/// freshly placed order.
pub fn insert_order(tx: &mut Tx<'_>, placement: &Placement, catalog: &Catalog) -> String {
    let id = placement.id.clone();
    let number = &placement.number;
    let placed = format_time(placement.placed);
    let customer = &placement.customer;
    let country = stable("country", &customer.country);
    let salutation = stable("salutation", "not_specified");
    let company = customer.company.as_ref();
    let address = |kind: &str| {
        object(json!({
            "id": stable("order_address", &format!("{number}/{kind}")), "versionId": LIVE_VERSION,
            "orderId": id, "orderVersionId": LIVE_VERSION, "countryId": country, "salutationId": salutation,
            "firstName": customer.first_name, "lastName": customer.last_name,
            "street": street(&customer.street, &customer.house_number, &customer.suffix),
            "zipcode": customer.postcode, "city": customer.city,
            "company": company.map(|c| &c.0), "vatId": company.map(|c| &c.1), "createdAt": placed,
        }))
    };
    let billing = address("billing");
    let shipping = address("shipping");
    let billing_id = billing["id"].clone();
    let shipping_id = shipping["id"].clone();
    tx.put("order_address", LIVE_VERSION, Row::new(billing));
    tx.put("order_address", LIVE_VERSION, Row::new(shipping));
    tx.put("order_customer", LIVE_VERSION, Row::new(object(json!({
        "id": stable("order_customer", number), "versionId": LIVE_VERSION, "orderId": id,
        "orderVersionId": LIVE_VERSION, "customerId": stable("customer", &customer.email),
        "email": customer.email, "salutationId": salutation, "firstName": customer.first_name,
        "lastName": customer.last_name, "company": company.map(|c| &c.0),
        "vatIds": company.map(|c| vec![c.1.clone()]).unwrap_or_default(),
        "customerNumber": format!("C{}", &stable("customer", &customer.email)[..6].to_uppercase()),
        "createdAt": placed,
    }))));
    let mut by_rate: BTreeMap<Decimal, Decimal> = BTreeMap::new();
    for (position, line) in placement.lines.iter().enumerate() {
        let product = catalog
            .by_number
            .get(&line.sku)
            .and_then(|id| tx.live("product", id))
            .cloned();
        let (unit, rate) = product
            .as_ref()
            .map(|p| price_of(tx, p))
            .unwrap_or_default();
        *by_rate.entry(rate).or_default() += unit * Decimal::from(line.quantity);
        let parent = product
            .as_ref()
            .and_then(|p| p.str("parentId"))
            .and_then(|p| tx.live("product", p))
            .cloned();
        let name = product
            .as_ref()
            .and_then(|p| p.translation("name", SYSTEM_LANGUAGE))
            .or_else(|| {
                parent
                    .as_ref()
                    .and_then(|p| p.translation("name", SYSTEM_LANGUAGE))
            })
            .cloned()
            .unwrap_or_else(|| json!(line.sku));
        let product_id = product.as_ref().map(|p| p.id().to_string());
        let options: Vec<Value> = product
            .as_ref()
            .map(|p| {
                catalog
                    .options
                    .get(p.id())
                    .into_iter()
                    .flatten()
                    .filter_map(|o| tx.live("property_group_option", o))
                    .map(|o| {
                        let group = o
                            .str("groupId")
                            .and_then(|g| tx.live("property_group", g))
                            .and_then(|g| g.translation("name", SYSTEM_LANGUAGE).cloned());
                        json!({"group": group, "option": o.translation("name", SYSTEM_LANGUAGE)})
                    })
                    .collect()
            })
            .unwrap_or_default();
        let payload = json!({
            "productNumber": line.sku, "isCloseout": false, "customFields": {}, "createdAt": placed,
            "releaseDate": null, "isNew": false, "markAsTopseller": false, "purchasePrices": null,
            "manufacturerId": null, "taxId": product.as_ref().map(|p| p.get("taxId").clone()),
            "tagIds": null, "categoryIds": product.as_ref().map(|p| p.get("categoryIds").clone()),
            "propertyIds": product.as_ref().map(|p| p.get("propertyIds").clone()),
            "optionIds": product.as_ref().map(|p| p.get("optionIds").clone()), "options": options,
            "streamIds": null, "parentId": parent.as_ref().map(|p| p.id().to_string()),
            "stock": product.as_ref().map(|p| p.get("stock").clone()),
        });
        let price = calculated(unit, line.quantity, rate);
        tx.put("order_line_item", LIVE_VERSION, Row::new(object(json!({
            "id": stable("order_line_item", &format!("{number}/{position}")), "versionId": LIVE_VERSION,
            "orderId": id, "orderVersionId": LIVE_VERSION, "productId": product_id,
            "productVersionId": LIVE_VERSION, "identifier": product_id.clone().unwrap_or_else(|| line.sku.clone()),
            "referencedId": product_id, "quantity": line.quantity, "label": name, "payload": payload,
            "good": true, "removable": true, "stackable": true, "position": position + 1, "states": [],
            "price": price, "unitPrice": money(unit), "totalPrice": price["totalPrice"],
            "priceDefinition": {"type": "quantity", "price": money(unit), "quantity": line.quantity,
                                "taxRules": price["taxRules"], "isCalculated": true},
            "type": if product_id.is_some() { "product" } else { "custom" }, "createdAt": placed,
        }))));
    }
    let total: Decimal = by_rate.values().copied().sum();
    let net: Decimal = by_rate
        .iter()
        .map(|(rate, gross)| net_of(*gross, *rate))
        .sum();
    let taxes: Vec<Value> = by_rate
        .iter()
        .map(|(rate, gross)| json!({"tax": money(*gross - net_of(*gross, *rate)), "taxRate": money(*rate), "price": money(*gross)}))
        .collect();
    let rules: Vec<Value> = by_rate
        .iter()
        .map(|(rate, gross)| {
            let share = if total.is_zero() {
                Decimal::ONE_HUNDRED
            } else {
                *gross / total * Decimal::ONE_HUNDRED
            };
            json!({"taxRate": money(*rate), "percentage": money(share)})
        })
        .collect();
    tx.put("order_delivery", LIVE_VERSION, Row::new(object(json!({
        "id": stable("order_delivery", number), "versionId": LIVE_VERSION, "orderId": id,
        "orderVersionId": LIVE_VERSION, "shippingOrderAddressId": shipping_id,
        "shippingOrderAddressVersionId": LIVE_VERSION, "shippingMethodId": stable("shipping_method", "standard"),
        "stateId": states::state_id(&DELIVERY, "open"), "trackingCodes": [],
        "shippingDateEarliest": format_time(placement.placed + Duration::days(1)),
        "shippingDateLatest": format_time(placement.placed + Duration::days(3)),
        "shippingCosts": zero_price(), "createdAt": placed,
    }))));
    let rounding = json!({"decimals": 2, "interval": 0.01, "roundForNet": true});
    let mut order = object(json!({
        "id": id, "versionId": LIVE_VERSION, "orderNumber": number, "billingAddressId": billing_id,
        "billingAddressVersionId": LIVE_VERSION, "currencyId": DEFAULT_CURRENCY, "languageId": SYSTEM_LANGUAGE,
        "salesChannelId": placement.sales_channel_id, "orderDateTime": placed,
        "price": {"netPrice": money(net), "totalPrice": money(total), "calculatedTaxes": taxes, "taxRules": rules,
                  "positionPrice": money(total), "rawTotal": money(total), "taxStatus": "gross"},
        "shippingCosts": zero_price(), "currencyFactor": 1.0,
        "deepLinkCode": stable("deep_link", number), "stateId": states::state_id(&ORDER, "open"),
        "ruleIds": [], "itemRounding": rounding, "totalRounding": rounding, "createdAt": placed,
    }));
    let def = tx.def("order");
    if def.field("taxCalculationType").is_some() {
        order.insert("taxCalculationType".into(), json!("horizontal"));
    }
    if def.field("primaryOrderDeliveryVersionId").is_some() {
        // The checkout names its delivery (and, with the transaction, its payment) primary.
        order.insert(
            "primaryOrderDeliveryId".into(),
            json!(stable("order_delivery", number)),
        );
        order.insert("primaryOrderDeliveryVersionId".into(), json!(LIVE_VERSION));
        order.insert(
            "primaryOrderTransactionVersionId".into(),
            json!(LIVE_VERSION),
        );
    }
    let auto = tx.store_mut().next_auto_increment("order");
    order.insert("autoIncrement".into(), json!(auto));
    if let Ok(n) = number.parse::<u64>() {
        let store = tx.store_mut();
        store.last_order_number = store.last_order_number.max(n);
    }
    let mut order = Row::new(order);
    index::amount_fields(&mut order);
    tx.put("order", LIVE_VERSION, order);
    id
}

/// Adds a payment transaction in its initial state (open), newest of the order, as the checkout
/// or a customer changing the payment method in the storefront does: on 6.7 it becomes the
/// primary one (SW 6.7 `SetPaymentOrderRoute::setPaymentMethod` writes
/// `primaryOrderTransactionId` with the new transaction).
pub fn add_transaction(
    tx: &mut Tx<'_>,
    order_id: &str,
    payment_method_id: &str,
) -> Result<String, ApiError> {
    let Some(order) = tx.live("order", order_id).cloned() else {
        return Err(ApiError::not_found("order", order_id));
    };
    let total = order.get("price")["totalPrice"].clone();
    let id = super::ids::random();
    tx.put("order_transaction", LIVE_VERSION, Row::new(object(json!({
        "id": id, "versionId": LIVE_VERSION, "orderId": order_id, "orderVersionId": LIVE_VERSION,
        "paymentMethodId": payment_method_id,
        "amount": {"unitPrice": total, "totalPrice": total, "quantity": 1, "calculatedTaxes": [], "taxRules": []},
        "stateId": states::state_id(&TRANSACTION, "open"), "createdAt": format_time(tx.clock.now()),
    }))));
    if tx.def("order").field("primaryOrderTransactionId").is_some() {
        let mut order = order;
        order
            .data
            .insert("primaryOrderTransactionId".into(), json!(id));
        tx.put("order", LIVE_VERSION, order);
    }
    amounts_for(tx, order_id);
    Ok(id)
}

/// Recomputes an order's derived amounts (and 6.7 primary transaction / delivery).
pub fn amounts_for(tx: &mut Tx<'_>, order_id: &str) {
    let changes = Changes {
        orders: BTreeSet::from([order_id.to_string()]),
        ..Changes::default()
    };
    index::reindex(tx, &changes);
}

/// Copies a versioned row and the versioned rows below it into draft `version`.
fn copy_into(
    tx: &mut Tx<'_>,
    entity: &'static str,
    key: &str,
    version: &str,
    seen: &mut BTreeSet<(String, String)>,
) {
    if !seen.insert((entity.to_string(), key.to_string())) {
        return;
    }
    let Some(mut row) = tx.live(entity, key).cloned() else {
        return;
    };
    let defs = tx.defs.clone();
    let def = defs.entity(entity);
    for field in def.fields.iter().filter(|f| f.kind == Kind::Version) {
        if row.str(field.name) == Some(LIVE_VERSION) {
            let stem = field.name.trim_end_matches("VersionId");
            let draftable = field.name == "versionId"
                || def
                    .field(&format!("{stem}Id"))
                    .and_then(|f| f.target)
                    .is_some_and(|t| defs.entity(t).versioned);
            if draftable {
                row.data.insert(field.name.into(), json!(version));
            }
        }
    }
    tx.put(entity, version, row);
    for association in &def.associations {
        let (Relation::OneToMany { remote_fk } | Relation::OneToOne { remote_fk }) =
            association.relation
        else {
            continue;
        };
        if !defs.entity(association.entity).versioned {
            continue;
        }
        let children: Vec<String> = tx
            .rows(association.entity, LIVE_VERSION)
            .into_iter()
            .filter(|r| r.str(remote_fk) == Some(key))
            .map(|r| row_key(defs.entity(association.entity), &r.data))
            .collect();
        for child in children {
            copy_into(tx, association.entity, &child, version, seen);
        }
    }
}

/// `POST /_action/version/{entity}/{id}`: a new draft version of the row and everything below
/// it. Returns the version id.
pub fn create_version(
    tx: &mut Tx<'_>,
    entity: &'static str,
    id: &str,
    version: Option<String>,
) -> Result<String, ApiError> {
    if !tx.def(entity).versioned {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "FRAMEWORK__VERSIONING_NOT_SUPPORTED",
            format!("Versioning for entity {entity} is not supported by the simulator."),
        ));
    }
    if tx.live(entity, id).is_none() {
        return Err(ApiError::not_found(entity, id));
    }
    let version = version.unwrap_or_else(super::ids::random);
    copy_into(tx, entity, id, &version, &mut BTreeSet::new());
    Ok(version)
}

/// `POST /_action/version/merge/{entity}/{version}`: the draft's rows replace the live ones.
pub fn merge_version(tx: &mut Tx<'_>, version: &str) -> Changes {
    let defs = tx.defs.clone();
    let mut changes = Changes::default();
    for name in defs.names() {
        let def = defs.entity(name);
        if !def.versioned {
            continue;
        }
        for mut row in tx.store_mut().take_draft(name, version) {
            for field in def.fields.iter().filter(|f| f.kind == Kind::Version) {
                if row.str(field.name) == Some(version) {
                    row.data.insert(field.name.into(), json!(LIVE_VERSION));
                }
            }
            row.data
                .insert("updatedAt".into(), json!(format_time(tx.clock.now())));
            match name {
                "order" => {
                    changes.orders.insert(row.id().to_string());
                }
                _ => {
                    if let Some(order) = row.str("orderId") {
                        changes.orders.insert(order.to_string());
                    }
                }
            }
            tx.put(name, LIVE_VERSION, row);
        }
    }
    changes
}

/// What the Admin leaves behind when a merchant opens an order and does not save: a draft
/// version with an unsaved change, invisible without `sw-version-id`.
pub fn admin_draft(tx: &mut Tx<'_>, order_id: &str) {
    let version = stable("version", order_id);
    if create_version(tx, "order", order_id, Some(version.clone())).is_err() {
        return;
    }
    if let Some(mut draft) = tx.get("order", order_id, &version).cloned() {
        draft.data.insert(
            "customerComment".into(),
            json!("Draft in the Admin: deliver to the side entrance (not saved)"),
        );
        tx.put("order", &version, draft);
    }
}
