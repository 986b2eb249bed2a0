//! Variants the CCV way: `attributes` (Size) with `attributevalues` (S, M, L), and the values a
//! product is offered in, `productattributevalues`. Every change to those regenerates the
//! product's attribute combinations (see [`super::combinations`]).

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};

use super::collection::{SortField, list as list_page};
use super::combinations;
use super::error::CcvError;
use super::http::{ApiRequest, Reply};
use super::model::{ATTRIBUTE_TYPES, Attribute, AttributeValue, ProductAttributeValue, Store};
use super::money;
use super::products::{self, set};

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct AttributeInput {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ValueInput {
    name: Option<String>,
    #[serde(deserialize_with = "money::optional")]
    default_price: Option<Decimal>,
    position: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ProductValueInput {
    /// The attribute value's id.
    optionvalue: Option<u64>,
    #[serde(deserialize_with = "money::optional")]
    price: Option<Decimal>,
    position: Option<i64>,
    /// Stock of the combinations this post generates.
    #[serde(deserialize_with = "money::optional")]
    stock: Option<Decimal>,
}

// ----- attributes -------------------------------------------------------------------------------

const ATTRIBUTE_SORT: &[SortField<Attribute>] = &[
    ("id", |a, b| a.id.cmp(&b.id)),
    ("name", |a, b| a.name.cmp(&b.name)),
];

pub fn list_attributes(store: &Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    let items = store.attributes.values().collect();
    list_page(request, items, ATTRIBUTE_SORT, |a| {
        render_attribute(request, a)
    })
}

/// `POST /attributes`: `name` is required; `type` defaults to an optional option menu.
pub fn create_attribute(store: &mut Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    let input: AttributeInput = request.input()?;
    let name = input
        .name
        .ok_or_else(|| CcvError::invalid("Required property name is missing."))?;
    let kind = check_type(input.kind.unwrap_or_else(|| "option_menu".into()))?;
    let id = store.new_id();
    let attribute = Attribute { id, name, kind };
    let body = render_attribute(request, &attribute);
    store.attributes.insert(id, attribute);
    Ok(Reply::Created(body))
}

fn check_type(kind: String) -> Result<String, CcvError> {
    if ATTRIBUTE_TYPES.contains(&kind.as_str()) {
        Ok(kind)
    } else {
        Err(CcvError::invalid(format!(
            "type {kind:?} is none of {ATTRIBUTE_TYPES:?}."
        )))
    }
}

pub fn get_attribute(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let attribute = store
        .attributes
        .get(&id)
        .ok_or_else(|| CcvError::not_found("attribute", id))?;
    Ok(Reply::Ok(render_attribute(request, attribute)))
}

pub fn update_attribute(
    store: &mut Store,
    request: &ApiRequest,
    id: u64,
) -> Result<Reply, CcvError> {
    let input: AttributeInput = request.input()?;
    let kind = input.kind.map(check_type).transpose()?;
    let attribute = store
        .attributes
        .get_mut(&id)
        .ok_or_else(|| CcvError::not_found("attribute", id))?;
    set(&mut attribute.name, input.name);
    set(&mut attribute.kind, kind);
    let affected = products_using(store, |v| v.attribute_id == id);
    for product_id in affected {
        combinations::regenerate(store, product_id, Decimal::ZERO);
    }
    Ok(Reply::NoContent)
}

/// `DELETE /attributes/:id`: with its values, and so with the combinations built on them.
pub fn delete_attribute(store: &mut Store, id: u64) -> Result<Reply, CcvError> {
    let affected = products_using(store, |v| v.attribute_id == id);
    store
        .attributes
        .remove(&id)
        .ok_or_else(|| CcvError::not_found("attribute", id))?;
    store.attribute_values.retain(|_, v| v.attribute_id != id);
    forget_values(store, affected);
    Ok(Reply::NoContent)
}

fn render_attribute(request: &ApiRequest, a: &Attribute) -> Value {
    json!({
        "href": request.href(&format!("attributes/{}", a.id)),
        "id": a.id,
        "name": a.name,
        "type": a.kind,
        "attributevalues": { "href": request.href(&format!("attributes/{}/attributevalues", a.id)) },
    })
}

// ----- attribute values -------------------------------------------------------------------------

const VALUE_SORT: &[SortField<AttributeValue>] = &[
    ("id", |a, b| a.id.cmp(&b.id)),
    ("name", |a, b| a.name.cmp(&b.name)),
    ("position", |a, b| a.position.cmp(&b.position)),
];

pub fn list_values(
    store: &Store,
    request: &ApiRequest,
    attribute_id: u64,
) -> Result<Reply, CcvError> {
    if !store.attributes.contains_key(&attribute_id) {
        return Err(CcvError::not_found("attribute", attribute_id));
    }
    let items = store
        .attribute_values
        .values()
        .filter(|v| v.attribute_id == attribute_id)
        .collect();
    list_page(request, items, VALUE_SORT, |v| render_value(request, v))
}

/// `POST /attributes/:id/attributevalues`: `name` and `default_price` are required. CCV's
/// documented input schema (as generated in jacobdekeizer/ccvshop-client,
/// `Models/Internal/Resource/Attributevalues/Post/Post.php`) types both as non-null (`string
/// $name`, `float $defaultPrice`); its generator makes a property non-null only when the schema
/// requires it (`generator/Properties/Property.php`, `isNullable`). A body without one is a schema
/// violation, answered as every schema violation here (`400.10`, see [`CcvError::require`]).
pub fn create_value(
    store: &mut Store,
    request: &ApiRequest,
    attribute_id: u64,
) -> Result<Reply, CcvError> {
    if !store.attributes.contains_key(&attribute_id) {
        return Err(CcvError::not_found("attribute", attribute_id));
    }
    let input: ValueInput = request.input()?;
    CcvError::require(
        "Required properties are missing:",
        &[
            ("name", input.name.is_none()),
            ("default_price", input.default_price.is_none()),
        ],
    )?;
    let (name, default_price) = (
        input.name.unwrap_or_default(),
        input.default_price.unwrap_or_default(),
    );
    let siblings = store
        .attribute_values
        .values()
        .filter(|v| v.attribute_id == attribute_id)
        .count();
    let id = store.new_id();
    let value = AttributeValue {
        id,
        attribute_id,
        name,
        default_price,
        position: input.position.unwrap_or(siblings as i64 + 1),
    };
    let body = render_value(request, &value);
    store.attribute_values.insert(id, value);
    Ok(Reply::Created(body))
}

pub fn get_value(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let value = store
        .attribute_values
        .get(&id)
        .ok_or_else(|| CcvError::not_found("attribute value", id))?;
    Ok(Reply::Ok(render_value(request, value)))
}

pub fn update_value(store: &mut Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let input: ValueInput = request.input()?;
    let value = store
        .attribute_values
        .get_mut(&id)
        .ok_or_else(|| CcvError::not_found("attribute value", id))?;
    set(&mut value.name, input.name);
    set(&mut value.default_price, input.default_price);
    set(&mut value.position, input.position);
    Ok(Reply::NoContent)
}

pub fn delete_value(store: &mut Store, id: u64) -> Result<Reply, CcvError> {
    if !store.attribute_values.contains_key(&id) {
        return Err(CcvError::not_found("attribute value", id));
    }
    let affected = products_using(store, |v| v.id == id);
    store.attribute_values.remove(&id);
    forget_values(store, affected);
    Ok(Reply::NoContent)
}

fn render_value(request: &ApiRequest, v: &AttributeValue) -> Value {
    json!({
        "href": request.href(&format!("attributevalues/{}", v.id)),
        "id": v.id,
        "name": v.name,
        "default_price": money::to_json(v.default_price),
        "position": v.position,
        "attribute": { "id": v.attribute_id, "href": request.href(&format!("attributes/{}", v.attribute_id)) },
    })
}

/// The products offered in an attribute value that `pick` selects.
fn products_using(store: &Store, pick: impl Fn(&AttributeValue) -> bool) -> Vec<u64> {
    let mut ids: Vec<u64> = store
        .product_attribute_values
        .values()
        .filter(|pv| store.attribute_values.get(&pv.value_id).is_some_and(&pick))
        .map(|pv| pv.product_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Drops product attribute values whose attribute value is gone, and regenerates `products`.
fn forget_values(store: &mut Store, products: Vec<u64>) {
    let values = &store.attribute_values;
    store
        .product_attribute_values
        .retain(|_, pv| values.contains_key(&pv.value_id));
    for product_id in products {
        combinations::regenerate(store, product_id, Decimal::ZERO);
    }
}

// ----- product attribute values -----------------------------------------------------------------

pub(super) fn product_values_of(
    store: &Store,
    product_id: u64,
) -> impl Iterator<Item = &ProductAttributeValue> {
    store
        .product_attribute_values
        .values()
        .filter(move |v| v.product_id == product_id)
}

const PRODUCT_VALUE_SORT: &[SortField<ProductAttributeValue>] = &[
    ("id", |a, b| a.id.cmp(&b.id)),
    ("position", |a, b| a.position.cmp(&b.position)),
];

pub fn list_product_values(
    store: &Store,
    request: &ApiRequest,
    product_id: u64,
) -> Result<Reply, CcvError> {
    products::find(store, product_id)?;
    let items = product_values_of(store, product_id).collect();
    list_page(request, items, PRODUCT_VALUE_SORT, |v| {
        render_product_value(store, request, v)
    })
}

/// `POST /products/:id/productattributevalues`: offers the product in an attribute value
/// (`optionvalue`) and regenerates its combinations.
pub fn add_product_value(
    store: &mut Store,
    request: &ApiRequest,
    product_id: u64,
) -> Result<Reply, CcvError> {
    products::find(store, product_id)?;
    let input: ProductValueInput = request.input()?;
    let value_id = input
        .optionvalue
        .ok_or_else(|| CcvError::invalid("Required property optionvalue is missing."))?;
    let value = store
        .attribute_values
        .get(&value_id)
        .ok_or_else(|| CcvError::invalid(format!("optionvalue {value_id} is no attribute value.")))?
        .clone();
    if product_values_of(store, product_id).any(|v| v.value_id == value_id) {
        return Err(CcvError::already_exists(format!(
            "Product {product_id} already has attribute value {value_id}."
        )));
    }
    let siblings = product_values_of(store, product_id)
        .filter(|v| {
            store
                .attribute_values
                .get(&v.value_id)
                .map(|a| a.attribute_id)
                == Some(value.attribute_id)
        })
        .count();
    let id = store.new_id();
    let product_value = ProductAttributeValue {
        id,
        product_id,
        value_id,
        price: input.price.unwrap_or(value.default_price),
        position: input.position.unwrap_or(siblings as i64 + 1),
    };
    store.product_attribute_values.insert(id, product_value);
    combinations::regenerate(store, product_id, input.stock.unwrap_or_default());
    let body = render_product_value(store, request, &store.product_attribute_values[&id]);
    Ok(Reply::Created(body))
}

pub fn get_product_value(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let value = store
        .product_attribute_values
        .get(&id)
        .ok_or_else(|| CcvError::not_found("product attribute value", id))?;
    Ok(Reply::Ok(render_product_value(store, request, value)))
}

/// `PATCH /productattributevalues/:id`: `price` and `position`.
pub fn update_product_value(
    store: &mut Store,
    request: &ApiRequest,
    id: u64,
) -> Result<Reply, CcvError> {
    let input: ProductValueInput = request.input()?;
    if input.optionvalue.is_some() || input.stock.is_some() {
        return Err(CcvError::invalid("Only price and position can be patched."));
    }
    let value = store
        .product_attribute_values
        .get_mut(&id)
        .ok_or_else(|| CcvError::not_found("product attribute value", id))?;
    set(&mut value.price, input.price);
    set(&mut value.position, input.position);
    Ok(Reply::NoContent)
}

pub fn delete_product_value(store: &mut Store, id: u64) -> Result<Reply, CcvError> {
    let value = store
        .product_attribute_values
        .remove(&id)
        .ok_or_else(|| CcvError::not_found("product attribute value", id))?;
    combinations::regenerate(store, value.product_id, Decimal::ZERO);
    Ok(Reply::NoContent)
}

pub(super) fn render_product_value(
    store: &Store,
    request: &ApiRequest,
    v: &ProductAttributeValue,
) -> Value {
    let value = store.attribute_values.get(&v.value_id);
    let attribute = value.and_then(|value| store.attributes.get(&value.attribute_id));
    json!({
        "href": request.href(&format!("productattributevalues/{}", v.id)),
        "id": v.id,
        "optionid": attribute.map(|a| a.id),
        "optionname": attribute.map(|a| a.name.as_str()),
        "optionposition": value.map(|value| value.position),
        "optionvalue_id": v.value_id,
        "optionvalue_name": value.map(|value| value.name.as_str()),
        "position": v.position,
        "price": money::to_json(v.price),
        "enable": true,
    })
}
