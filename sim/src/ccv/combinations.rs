//! `attributecombinations`: CCV generates a product's combinations (S/Red, S/Blue, …) itself, one
//! per element of the cartesian product of the product's values per option-menu attribute.
//! Combinations cannot be posted or deleted, only patched (stock, numbers, active).
//!
//! When a product's values change, combinations whose values still all exist are kept as they
//! are; the others are removed, and new ones get the `stock` of the posted product attribute
//! value ("Attribute combinations generated after the post will have this stock amount") and
//! empty numbers. So adding a second attribute replaces every combination (GUESS: CCV does not
//! say how it carries combinations over).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};

use super::collection::{SortField, list as list_page};
use super::error::CcvError;
use super::http::{ApiRequest, Reply};
use super::model::{Attribute, AttributeCombination, ProductAttributeValue, RowAttribute, Store};
use super::money;
use super::products::{self, set};
use super::variants::product_values_of;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct CombinationInput {
    #[serde(deserialize_with = "money::optional")]
    stock: Option<Decimal>,
    product_number: Option<String>,
    ean_number: Option<String>,
    sku_number: Option<String>,
    active: Option<bool>,
    note: Option<String>,
}

pub(super) fn combinations_of(
    store: &Store,
    product_id: u64,
) -> impl Iterator<Item = &AttributeCombination> {
    store
        .combinations
        .values()
        .filter(move |c| c.product_id == product_id)
}

/// The product's combinations as they should be: per option-menu attribute (in the order the
/// product got them) its values (by position), and every way to pick one value of each.
fn wanted_combinations(store: &Store, product_id: u64) -> Vec<Vec<u64>> {
    let mut per_attribute: Vec<(u64, Vec<&ProductAttributeValue>)> = Vec::new();
    for product_value in product_values_of(store, product_id) {
        let Some(value) = store.attribute_values.get(&product_value.value_id) else {
            continue;
        };
        if !store
            .attributes
            .get(&value.attribute_id)
            .is_some_and(Attribute::makes_combinations)
        {
            continue;
        }
        match per_attribute
            .iter_mut()
            .find(|(a, _)| *a == value.attribute_id)
        {
            Some((_, values)) => values.push(product_value),
            None => per_attribute.push((value.attribute_id, vec![product_value])),
        }
    }
    let mut combinations: Vec<Vec<u64>> = vec![Vec::new()];
    for (_, mut values) in per_attribute {
        values.sort_by_key(|v| (v.position, v.id));
        combinations = combinations
            .iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut combination = prefix.clone();
                    combination.push(v.value_id);
                    combination
                })
            })
            .collect();
    }
    combinations.retain(|c| !c.is_empty());
    combinations
}

/// Brings a product's combinations in line with its attribute values; new ones get `stock`.
pub(super) fn regenerate(store: &mut Store, product_id: u64, stock: Decimal) {
    let sorted = |ids: &[u64]| {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids
    };
    let mut existing: BTreeMap<Vec<u64>, AttributeCombination> = BTreeMap::new();
    store.combinations.retain(|_, c| {
        if c.product_id == product_id {
            existing.insert(sorted(&c.value_ids), c.clone());
            false
        } else {
            true
        }
    });
    for value_ids in wanted_combinations(store, product_id) {
        let combination = match existing.remove(&sorted(&value_ids)) {
            Some(kept) => AttributeCombination { value_ids, ..kept },
            None => AttributeCombination {
                id: store.new_id(),
                product_id,
                value_ids,
                stock,
                product_number: String::new(),
                ean_number: String::new(),
                sku_number: String::new(),
                active: true,
                note: String::new(),
            },
        };
        store.combinations.insert(combination.id, combination);
    }
}

const COMBINATION_SORT: &[SortField<AttributeCombination>] = &[("id", |a, b| a.id.cmp(&b.id))];

pub fn list_combinations(
    store: &Store,
    request: &ApiRequest,
    product_id: u64,
) -> Result<Reply, CcvError> {
    products::find(store, product_id)?;
    let items = combinations_of(store, product_id).collect();
    list_page(request, items, COMBINATION_SORT, |c| {
        render_combination(store, request, c)
    })
}

pub fn get_combination(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let combination = store
        .combinations
        .get(&id)
        .ok_or_else(|| CcvError::not_found("attribute combination", id))?;
    Ok(Reply::Ok(render_combination(store, request, combination)))
}

/// `PATCH /attributecombinations/:id`: `stock`, `product_number`, `ean_number`, `sku_number`,
/// `active`, `note`.
pub fn update_combination(
    store: &mut Store,
    request: &ApiRequest,
    id: u64,
) -> Result<Reply, CcvError> {
    let input: CombinationInput = request.input()?;
    let combination = store
        .combinations
        .get_mut(&id)
        .ok_or_else(|| CcvError::not_found("attribute combination", id))?;
    set(&mut combination.stock, input.stock);
    set(&mut combination.product_number, input.product_number);
    set(&mut combination.ean_number, input.ean_number);
    set(&mut combination.sku_number, input.sku_number);
    set(&mut combination.active, input.active);
    set(&mut combination.note, input.note);
    Ok(Reply::NoContent)
}

/// The price difference of a combination: the sum of its values' differences for the product.
fn extra_price(store: &Store, combination: &AttributeCombination) -> Decimal {
    product_values_of(store, combination.product_id)
        .filter(|pv| combination.value_ids.contains(&pv.value_id))
        .map(|pv| pv.price)
        .sum()
}

/// The attribute values of a combination as an order row records them: attribute and value
/// names, and the price each adds for the product (ids are handed out with the row's).
pub(super) fn row_attributes(
    store: &Store,
    combination: &AttributeCombination,
) -> Vec<RowAttribute> {
    combination
        .value_ids
        .iter()
        .filter_map(|value_id| store.attribute_values.get(value_id))
        .map(|value| RowAttribute {
            id: 0,
            option_name: store
                .attributes
                .get(&value.attribute_id)
                .map_or_else(String::new, |a| a.name.clone()),
            value_name: value.name.clone(),
            price: value_price(store, combination.product_id, value.id),
        })
        .collect()
}

/// What one value adds to the price of one product.
fn value_price(store: &Store, product_id: u64, value_id: u64) -> Decimal {
    product_values_of(store, product_id)
        .find(|pv| pv.value_id == value_id)
        .map_or(Decimal::ZERO, |pv| pv.price)
}

pub(super) fn render_combination(
    store: &Store,
    request: &ApiRequest,
    c: &AttributeCombination,
) -> Value {
    let parts: Vec<Value> = c
        .value_ids
        .iter()
        .filter_map(|value_id| store.attribute_values.get(value_id))
        .map(|value| {
            let attribute = store.attributes.get(&value.attribute_id);
            let extra = value_price(store, c.product_id, value.id);
            json!({
                "attribute": {
                    "id": value.attribute_id,
                    "name": attribute.map(|a| a.name.as_str()),
                    "href": request.href(&format!("attributes/{}", value.attribute_id)),
                },
                "attribute_value": {
                    "id": value.id,
                    "name": value.name,
                    "href": request.href(&format!("attributevalues/{}", value.id)),
                },
                "extra_price": money::to_json(extra),
            })
        })
        .collect();
    json!({
        "href": request.href(&format!("attributecombinations/{}", c.id)),
        "id": c.id,
        "note": c.note,
        "product_id": c.product_id,
        "stock": money::to_json(c.stock),
        "netto_extra_price": money::to_json(extra_price(store, c)),
        "ordering_without_stock": "global_setting",
        "product_number": c.product_number,
        "ean_number": c.ean_number,
        "sku_number": c.sku_number,
        "active": c.active,
        "combination": parts,
        "parent": { "id": c.product_id, "href": request.href(&format!("products/{}", c.product_id)) },
    })
}
