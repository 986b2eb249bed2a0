//! The POS's state at start: empty, made from the shared [`Dataset`] (so that it fits the Shopware
//! simulator's), or loaded from a dump.
//!
//! From a dataset the POS gets: its payment methods; the products that are `in_pos` (a
//! configurable product as a product with Size/Colour attribute values, its generated combinations
//! carrying each variant's SKU, EAN and physical stock); the dataset's product properties as one
//! product property group "Specifications" (country of origin an option property, the others
//! text), with each product's values; the customers that are `in_pos` as users
//! with an older address ("Oude Gracht 1"); and for each article's `pos_reserved` an order of the
//! till in status 14. A dataset whose POS keeps prices excluding VAT gets that shop setting and
//! net product prices. No categories: the webshop owns the category tree (FLOWS.md §3.5), and a new
//! integration brings it to the POS.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use anyhow::Context;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::model::{
    Address, Attribute, AttributeValue, Paymethod, Personalinfo, ProductAttributeValue,
    ProductToPropertyGroup, Property, PropertyGroup, PropertyOption, PropertyValue,
    STATUS_RESERVED, StockType, Store, User, tax_rate,
};
use super::stock::Article;
use super::{combinations, orders, products};
use crate::dataset::{Customer, Dataset, Product as DataProduct};

/// Reads a dump written by [`super::CcvSim::dump`].
pub(super) fn from_file(path: &Path) -> anyhow::Result<Store> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&text)
        .with_context(|| format!("{} is no CCV simulator dump", path.display()))
}

/// The POS's state for a dataset, as of `now`.
pub(super) fn from_dataset(dataset: &Dataset, now: DateTime<Utc>) -> anyhow::Result<Store> {
    let mut store = Store::default();
    for webshop in store.webshops.values_mut() {
        webshop.settings.prices_include_vat = dataset.pos_prices_include_vat;
    }
    for method in &dataset.payment_methods {
        let id = u64::from(method.pos_id);
        store.paymethods.insert(
            id,
            Paymethod {
                id,
                psp: "ccv".into(),
                method: method.pos_method.clone(),
                label: method.pos_label.clone(),
                extra_costs_fixed: Decimal::ZERO,
                extra_costs_percentage: Decimal::ZERO,
            },
        );
    }
    let mut options = Options::default();
    for product in dataset.products.iter().filter(|p| p.in_pos) {
        add_product(
            &mut store,
            &mut options,
            product,
            dataset.pos_prices_include_vat,
            now,
        )?;
    }
    add_properties(&mut store, dataset);
    for customer in dataset.customers.iter().filter(|c| c.in_pos) {
        let mut userinfo = personalinfo(customer);
        for address in [&mut userinfo.billingaddress, &mut userinfo.deliveryaddress] {
            address.street = Some("Oude Gracht".into());
            address.housenumber = Some(1);
            address.housenumber_suffix = None;
        }
        add_user(&mut store, customer, userinfo, now);
    }
    Ok(store)
}

/// The attributes and values made so far, by name.
#[derive(Default)]
struct Options {
    attributes: HashMap<String, u64>,
    values: HashMap<(String, String), u64>,
}

impl Options {
    /// The id of value `value` of attribute `group`, made on first use.
    fn value_id(&mut self, store: &mut Store, group: &str, value: &str) -> u64 {
        let key = (group.to_string(), value.to_string());
        if let Some(id) = self.values.get(&key) {
            return *id;
        }
        let attribute_id = *self.attributes.entry(group.to_string()).or_insert_with(|| {
            let id = store.new_id();
            store.attributes.insert(
                id,
                Attribute {
                    id,
                    name: group.to_string(),
                    kind: "option_menu_required".into(),
                },
            );
            id
        });
        let position = self.values.keys().filter(|(g, _)| g == group).count() as i64 + 1;
        let id = store.new_id();
        store.attribute_values.insert(
            id,
            AttributeValue {
                id,
                attribute_id,
                name: value.to_string(),
                default_price: Decimal::ZERO,
                position,
            },
        );
        self.values.insert(key, id);
        id
    }
}

fn add_product(
    store: &mut Store,
    options: &mut Options,
    data: &DataProduct,
    prices_include_vat: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let id = store.new_id();
    let package = *store
        .packages
        .keys()
        .next()
        .context("the POS has no package")?;
    let mut product = products::new_product(id, package, now);
    product.productnumber = data.sku.clone();
    product.eannumber = data.ean.clone();
    product.name = data.name.clone();
    product.shortdescription = data.short_description.clone();
    product.description = data.description.clone();
    let gross =
        Decimal::from_str(&data.gross_price).with_context(|| format!("price of {}", data.sku))?;
    product.taxtariff = tariff(&data.tax_rate)?;
    product.price = if prices_include_vat {
        gross
    } else {
        // A net price of a round gross one is rarely whole cents: kept to 4 decimals.
        let rate = tax_rate(&product.taxtariff);
        (gross * Decimal::ONE_HUNDRED / (Decimal::ONE_HUNDRED + rate)).round_dp(4)
    };
    product.stock = Decimal::from(data.pos_physical);
    if !data.variants.is_empty() {
        product.stocktype = StockType::AttributeCombination;
        product.stock = Decimal::ZERO;
    }
    store.products.insert(id, product);
    if data.variants.is_empty() {
        reserve(
            store,
            Article {
                product_id: id,
                combination_id: None,
            },
            data.pos_reserved,
            now,
        )?;
        return Ok(());
    }
    let mut offered: Vec<u64> = Vec::new();
    for variant in &data.variants {
        for (group, value) in &variant.options {
            let value_id = options.value_id(store, group, value);
            if !offered.contains(&value_id) {
                offered.push(value_id);
                let pav = store.new_id();
                store.product_attribute_values.insert(
                    pav,
                    ProductAttributeValue {
                        id: pav,
                        product_id: id,
                        value_id,
                        price: Decimal::ZERO,
                        position: offered.len() as i64,
                    },
                );
            }
        }
    }
    let first_new = store.next_id;
    combinations::regenerate(store, id, Decimal::ZERO);
    let generated: HashMap<Vec<u64>, u64> = store
        .combinations
        .range(first_new..)
        .map(|(combination_id, c)| (sorted(&c.value_ids), *combination_id))
        .collect();
    for variant in &data.variants {
        let wanted: Vec<u64> = variant
            .options
            .iter()
            .map(|(group, value)| options.value_id(store, group, value))
            .collect();
        let combination = generated
            .get(&sorted(&wanted))
            .and_then(|combination_id| store.combinations.get_mut(combination_id))
            .with_context(|| format!("no combination was generated for {}", variant.sku))?;
        combination.sku_number = variant.sku.clone();
        combination.ean_number = variant.ean.clone();
        combination.stock = Decimal::from(variant.pos_physical);
        let article = Article {
            product_id: id,
            combination_id: Some(combination.id),
        };
        reserve(store, article, variant.pos_reserved, now)?;
    }
    Ok(())
}

/// The group "Specifications" with a property per property name of the dataset ("Country of
/// origin" is an option property, the others text), and the values of the POS's products.
fn add_properties(store: &mut Store, dataset: &Dataset) {
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in dataset.products.iter().flat_map(|p| &p.properties) {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    if names.is_empty() {
        return;
    }
    let group_id = store.new_id();
    store.property_groups.insert(
        group_id,
        PropertyGroup {
            id: group_id,
            name: "Specifications".into(),
        },
    );
    let mut property_ids: HashMap<&str, (u64, bool)> = HashMap::new();
    for (position, name) in names.iter().enumerate() {
        let id = store.new_id();
        let option = *name == "Country of origin";
        store.properties.insert(
            id,
            Property {
                id,
                group_id,
                parent: None,
                name: name.to_string(),
                description: None,
                position: position as i64 + 1,
                kind: if option { "option" } else { "text" }.into(),
            },
        );
        property_ids.insert(name, (id, option));
    }
    let products: HashMap<String, u64> = store
        .products
        .values()
        .map(|p| (p.productnumber.clone(), p.id))
        .collect();
    let mut option_ids: HashMap<(u64, String), u64> = HashMap::new();
    for data in dataset.products.iter().filter(|p| p.in_pos) {
        let Some(&product_id) = products.get(&data.sku) else {
            continue;
        };
        if data.properties.is_empty() {
            continue;
        }
        let link = store.new_id();
        store.product_property_groups.insert(
            link,
            ProductToPropertyGroup {
                id: link,
                product_id,
                group_id,
            },
        );
        for (name, value) in &data.properties {
            let (property_id, option) = property_ids[name.as_str()];
            let known = option_ids.get(&(property_id, value.clone())).copied();
            let value = match (option, known) {
                (false, _) => value.clone(),
                (true, Some(id)) => id.to_string(),
                (true, None) => {
                    let id = store.new_id();
                    let position = option_ids.keys().filter(|(p, _)| *p == property_id).count();
                    store.property_options.insert(
                        id,
                        PropertyOption {
                            id,
                            property_id,
                            name: value.clone(),
                            position: position as i64 + 1,
                        },
                    );
                    option_ids.insert((property_id, value.clone()), id);
                    id.to_string()
                }
            };
            let id = store.new_id();
            store.property_values.insert(
                id,
                PropertyValue {
                    id,
                    product_id,
                    property_id,
                    value,
                },
            );
        }
    }
}

fn sorted(ids: &[u64]) -> Vec<u64> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids
}

/// The tariff of a tax rate in percent (the first tariff with that rate).
fn tariff(rate: &str) -> anyhow::Result<String> {
    let rate = Decimal::from_str(rate).with_context(|| format!("tax rate {rate:?}"))?;
    products::tariff_of(rate).with_context(|| format!("no CCV tax tariff has {rate}%"))
}

/// A reservation at the till, if there is anything reserved.
fn reserve(
    store: &mut Store,
    article: Article,
    count: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    if count > 0 {
        orders::till_sale(store, article, Decimal::from(count), STATUS_RESERVED, now)
            .map_err(|e| anyhow::anyhow!(e.message))?;
    }
    Ok(())
}

/// A dataset customer as CCV's Personalinfo: a business is `b2b` with the company in the address.
pub(super) fn personalinfo(customer: &Customer) -> Personalinfo {
    let address = Address {
        first_name: Some(customer.first_name.clone()),
        last_name: Some(customer.last_name.clone()),
        company: customer.company.as_ref().map(|(name, _, _)| name.clone()),
        street: Some(customer.street.clone()),
        housenumber: customer.house_number.parse().ok(),
        housenumber_suffix: Some(customer.suffix.clone()).filter(|s| !s.is_empty()),
        zipcode: Some(customer.postcode.clone()),
        city: Some(customer.city.clone()),
        country_code: Some(customer.country.clone()),
        ..Address::default()
    };
    Personalinfo {
        email: Some(customer.email.clone()),
        customertype: Some(
            if customer.company.is_some() {
                "b2b"
            } else {
                "b2c"
            }
            .into(),
        ),
        btw: customer.company.as_ref().map(|(_, vat, _)| vat.clone()),
        kvk: customer.company.as_ref().map(|(_, _, coc)| coc.clone()),
        billingaddress: address.clone(),
        deliveryaddress: address,
        ..Personalinfo::default()
    }
}

/// Adds a user for a customer, with the e-mail address as username.
pub(super) fn add_user(
    store: &mut Store,
    customer: &Customer,
    userinfo: Personalinfo,
    now: DateTime<Utc>,
) -> u64 {
    let id = store.new_id();
    store.users.insert(
        id,
        User {
            id,
            username: customer.email.clone(),
            password: format!("pos-{id}"),
            group_id: None,
            approval_status: "approved".into(),
            userinfo,
            create_date: now,
        },
    );
    id
}
