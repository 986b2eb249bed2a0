//! Product properties: CCV's feature-style information fields (country of origin, material),
//! which unlike attributes make no variants. Five resources, as CCV's official SDK
//! (`src/Resources/ProductProperty*.php`, `ProductToPropertyGroup.php`) and its documented
//! schemas (jacobdekeizer/ccvshop-client, `Models/**/Productproperty*`, `Producttopropertygroups`)
//! have them:
//! - `productpropertygroups`: a named set of properties ("A Product property group can hold
//!   multiple properties");
//! - `productproperties`: a property of a group, with a `type`;
//! - `productpropertyoptions`: the choices of a property of type option;
//! - `producttopropertygroups`: links a product to a group, "the link between both, and the
//!   place where you can add values"; a link shows the product's values of the group;
//! - `productpropertyvalues`: a product's value of a property, "an boolean when checkbox, an
//!   optionid when property type is option, string when else" (a JSON string in the schema).
//!
//! Guesses, where CCV's documentation is silent: the type names (`text`, `option`, `checkbox`;
//! the schema says only "The property type"); that a value needs its product linked to the
//! property's group first; that a second value of one product and property, or a second link,
//! is refused as taken (`500.40`); and that deleting a link, property or group deletes what hangs
//! from it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::collection::{SortField, list as list_page, sub_resource};
use super::error::CcvError;
use super::http::{ApiRequest, Reply};
use super::model::Store;
use super::products::{self, set};

/// The property types the simulator knows (GUESS, see the module's documentation).
pub const PROPERTY_TYPES: [&str; 3] = ["text", "option", "checkbox"];

/// A named set of properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyGroup {
    pub id: u64,
    pub name: String,
}

/// A property of a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Property {
    pub id: u64,
    pub group_id: u64,
    /// "Product Property parent Id".
    pub parent: Option<u64>,
    pub name: String,
    pub description: Option<String>,
    pub position: i64,
    /// One of [`PROPERTY_TYPES`].
    #[serde(rename = "type")]
    pub kind: String,
}

/// A choice of an option property.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyOption {
    pub id: u64,
    pub property_id: u64,
    pub name: String,
    pub position: i64,
}

/// A product linked to a property group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductToPropertyGroup {
    pub id: u64,
    pub product_id: u64,
    pub group_id: u64,
}

/// A product's value of a property.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyValue {
    pub id: u64,
    pub product_id: u64,
    pub property_id: u64,
    /// An option's id for an option property, else the text.
    pub value: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct GroupInput {
    name: Option<String>,
}

/// `internal.resource.productproperties.post.v1.json` (and `.patch`): the SDK posts `name`,
/// `type`, `parent`, `position`; the 2022 schema also has `description` and `icon`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PropertyInput {
    parent: Option<u64>,
    name: Option<String>,
    description: Option<String>,
    position: Option<i64>,
    /// A base64 icon: accepted, not kept (the simulator shows no icons).
    #[allow(dead_code)]
    icon: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct OptionInput {
    name: Option<String>,
    position: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ValueInput {
    product_id: Option<u64>,
    product_property_id: Option<u64>,
    value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LinkInput {
    product_id: Option<u64>,
    product_property_group_id: Option<u64>,
}

fn group(store: &Store, id: u64) -> Result<&PropertyGroup, CcvError> {
    store
        .property_groups
        .get(&id)
        .ok_or_else(|| CcvError::not_found("product property group", id))
}

fn property(store: &Store, id: u64) -> Result<&Property, CcvError> {
    store
        .properties
        .get(&id)
        .ok_or_else(|| CcvError::not_found("product property", id))
}

const BY_ID: &[SortField<PropertyGroup>] = &[("id", |a, b| a.id.cmp(&b.id))];

// ----- groups -----------------------------------------------------------------------------------

/// `GET /productpropertygroups`.
pub fn list_groups(store: &Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    let items = store.property_groups.values().collect();
    list_page(request, items, BY_ID, |g| render_group(request, g))
}

pub fn get_group(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    Ok(Reply::Ok(render_group(request, group(store, id)?)))
}

/// `POST /productpropertygroups`: `name` is required.
pub fn create_group(store: &mut Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    let input: GroupInput = request.input()?;
    let name = input
        .name
        .ok_or_else(|| CcvError::invalid("Required property name is missing."))?;
    let id = store.new_id();
    let group = PropertyGroup { id, name };
    let body = render_group(request, &group);
    store.property_groups.insert(id, group);
    Ok(Reply::Created(body))
}

pub fn update_group(store: &mut Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let input: GroupInput = request.input()?;
    let group = store
        .property_groups
        .get_mut(&id)
        .ok_or_else(|| CcvError::not_found("product property group", id))?;
    set(&mut group.name, input.name);
    Ok(Reply::NoContent)
}

/// `DELETE /productpropertygroups/:id`: with its properties and the products' links to it.
pub fn delete_group(store: &mut Store, id: u64) -> Result<Reply, CcvError> {
    store
        .property_groups
        .remove(&id)
        .ok_or_else(|| CcvError::not_found("product property group", id))?;
    let gone: Vec<u64> = store
        .properties
        .values()
        .filter(|p| p.group_id == id)
        .map(|p| p.id)
        .collect();
    for property in gone {
        forget_property(store, property);
    }
    store
        .product_property_groups
        .retain(|_, l| l.group_id != id);
    Ok(Reply::NoContent)
}

fn render_group(request: &ApiRequest, g: &PropertyGroup) -> Value {
    json!({
        "href": request.href(&format!("productpropertygroups/{}", g.id)),
        "id": g.id,
        "name": g.name,
        "productproperties": request.href(&format!("productpropertygroups/{}/productproperties", g.id)),
        "parent": { "href": request.href("productpropertygroups") },
    })
}

// ----- properties -------------------------------------------------------------------------------

const PROPERTY_SORT: &[SortField<Property>] = &[
    ("id", |a, b| a.id.cmp(&b.id)),
    ("position", |a, b| a.position.cmp(&b.position)),
];

/// `GET /productpropertygroups/:id/productproperties`.
pub fn list_properties(
    store: &Store,
    request: &ApiRequest,
    group_id: u64,
) -> Result<Reply, CcvError> {
    group(store, group_id)?;
    let items = store
        .properties
        .values()
        .filter(|p| p.group_id == group_id)
        .collect();
    list_page(request, items, PROPERTY_SORT, |p| {
        render_property(store, request, p)
    })
}

pub fn get_property(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    Ok(Reply::Ok(render_property(
        store,
        request,
        property(store, id)?,
    )))
}

fn check_type(kind: String) -> Result<String, CcvError> {
    if PROPERTY_TYPES.contains(&kind.as_str()) {
        Ok(kind)
    } else {
        Err(CcvError::invalid(format!(
            "type {kind:?} is none of {PROPERTY_TYPES:?}."
        )))
    }
}

/// `POST /productpropertygroups/:id/productproperties`: `name` is required; without a `type` a
/// property is text (GUESS).
pub fn create_property(
    store: &mut Store,
    request: &ApiRequest,
    group_id: u64,
) -> Result<Reply, CcvError> {
    group(store, group_id)?;
    let input: PropertyInput = request.input()?;
    let name = input
        .name
        .ok_or_else(|| CcvError::invalid("Required property name is missing."))?;
    let kind = check_type(input.kind.unwrap_or_else(|| "text".into()))?;
    if let Some(parent) = input.parent {
        property(store, parent)
            .map_err(|_| CcvError::invalid(format!("parent {parent} is no product property.")))?;
    }
    let siblings = store
        .properties
        .values()
        .filter(|p| p.group_id == group_id)
        .count();
    let id = store.new_id();
    let created = Property {
        id,
        group_id,
        parent: input.parent,
        name,
        description: input.description,
        position: input.position.unwrap_or(siblings as i64 + 1),
        kind,
    };
    let body = render_property(store, request, &created);
    store.properties.insert(id, created);
    Ok(Reply::Created(body))
}

pub fn update_property(
    store: &mut Store,
    request: &ApiRequest,
    id: u64,
) -> Result<Reply, CcvError> {
    let input: PropertyInput = request.input()?;
    let kind = input.kind.map(check_type).transpose()?;
    let property = store
        .properties
        .get_mut(&id)
        .ok_or_else(|| CcvError::not_found("product property", id))?;
    set(&mut property.name, input.name);
    set(&mut property.description, input.description.map(Some));
    set(&mut property.position, input.position);
    set(&mut property.kind, kind);
    set(&mut property.parent, input.parent.map(Some));
    Ok(Reply::NoContent)
}

/// `DELETE /productproperties/:id`: with its options and the products' values of it.
pub fn delete_property(store: &mut Store, id: u64) -> Result<Reply, CcvError> {
    property(store, id)?;
    forget_property(store, id);
    Ok(Reply::NoContent)
}

fn forget_property(store: &mut Store, id: u64) {
    store.properties.remove(&id);
    store.property_options.retain(|_, o| o.property_id != id);
    store.property_values.retain(|_, v| v.property_id != id);
}

fn render_property(store: &Store, request: &ApiRequest, p: &Property) -> Value {
    let id = p.id;
    json!({
        "href": request.href(&format!("productproperties/{id}")),
        "id": id,
        "parent": p.parent,
        "name": p.name,
        "description": p.description,
        "position": p.position,
        "icon": null,
        "type": p.kind,
        "options": sub_resource(
            request,
            "options",
            &format!("productproperties/{id}/productpropertyoptions"),
            || options_of(store, id).map(|o| render_option(request, o)).collect(),
        ),
        "children": [],
    })
}

// ----- options ----------------------------------------------------------------------------------

fn options_of(store: &Store, property_id: u64) -> impl Iterator<Item = &PropertyOption> {
    store
        .property_options
        .values()
        .filter(move |o| o.property_id == property_id)
}

const OPTION_SORT: &[SortField<PropertyOption>] = &[
    ("id", |a, b| a.id.cmp(&b.id)),
    ("position", |a, b| a.position.cmp(&b.position)),
];

/// `GET /productproperties/:id/productpropertyoptions`.
pub fn list_options(
    store: &Store,
    request: &ApiRequest,
    property_id: u64,
) -> Result<Reply, CcvError> {
    property(store, property_id)?;
    let items = options_of(store, property_id).collect();
    list_page(request, items, OPTION_SORT, |o| render_option(request, o))
}

pub fn get_option(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let option = store
        .property_options
        .get(&id)
        .ok_or_else(|| CcvError::not_found("product property option", id))?;
    Ok(Reply::Ok(render_option(request, option)))
}

/// `POST /productproperties/:id/productpropertyoptions`: `name` is required.
pub fn create_option(
    store: &mut Store,
    request: &ApiRequest,
    property_id: u64,
) -> Result<Reply, CcvError> {
    property(store, property_id)?;
    let input: OptionInput = request.input()?;
    let name = input
        .name
        .ok_or_else(|| CcvError::invalid("Required property name is missing."))?;
    let siblings = options_of(store, property_id).count();
    let id = store.new_id();
    let option = PropertyOption {
        id,
        property_id,
        name,
        position: input.position.unwrap_or(siblings as i64 + 1),
    };
    let body = render_option(request, &option);
    store.property_options.insert(id, option);
    Ok(Reply::Created(body))
}

pub fn update_option(store: &mut Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let input: OptionInput = request.input()?;
    let option = store
        .property_options
        .get_mut(&id)
        .ok_or_else(|| CcvError::not_found("product property option", id))?;
    set(&mut option.name, input.name);
    set(&mut option.position, input.position);
    Ok(Reply::NoContent)
}

/// `DELETE /productpropertyoptions/:id`: values that chose it go too.
pub fn delete_option(store: &mut Store, id: u64) -> Result<Reply, CcvError> {
    let option = store
        .property_options
        .remove(&id)
        .ok_or_else(|| CcvError::not_found("product property option", id))?;
    let chosen = id.to_string();
    store
        .property_values
        .retain(|_, v| v.property_id != option.property_id || v.value != chosen);
    Ok(Reply::NoContent)
}

fn render_option(request: &ApiRequest, o: &PropertyOption) -> Value {
    json!({
        "href": request.href(&format!("productpropertyoptions/{}", o.id)),
        "id": o.id,
        "name": o.name,
        "position": o.position,
    })
}

// ----- product links and values ----------------------------------------------------------------

const LINK_SORT: &[SortField<ProductToPropertyGroup>] = &[("id", |a, b| a.id.cmp(&b.id))];

/// `GET /products/:id/producttopropertygroups`: the product's groups, each with its values.
pub fn list_product_links(
    store: &Store,
    request: &ApiRequest,
    product_id: u64,
) -> Result<Reply, CcvError> {
    products::find(store, product_id)?;
    let items = store
        .product_property_groups
        .values()
        .filter(|l| l.product_id == product_id)
        .collect();
    list_page(request, items, LINK_SORT, |l| {
        render_link(store, request, l)
    })
}

pub fn get_link(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let link = store
        .product_property_groups
        .get(&id)
        .ok_or_else(|| CcvError::not_found("product to property group link", id))?;
    Ok(Reply::Ok(render_link(store, request, link)))
}

/// `POST /producttopropertygroups`: `product_id` and `product_property_group_id` are required.
pub fn link_product(store: &mut Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    let input: LinkInput = request.input()?;
    CcvError::require(
        "Required properties are missing:",
        &[
            ("product_id", input.product_id.is_none()),
            (
                "product_property_group_id",
                input.product_property_group_id.is_none(),
            ),
        ],
    )?;
    let (product_id, group_id) = (
        input.product_id.unwrap_or_default(),
        input.product_property_group_id.unwrap_or_default(),
    );
    products::find(store, product_id)
        .map_err(|_| CcvError::invalid(format!("product_id {product_id} is no product.")))?;
    group(store, group_id).map_err(|_| {
        CcvError::invalid(format!(
            "product_property_group_id {group_id} is no product property group."
        ))
    })?;
    if linked(store, product_id, group_id) {
        return Err(CcvError::already_exists(format!(
            "Product {product_id} is already linked to product property group {group_id}."
        )));
    }
    let id = store.new_id();
    let link = ProductToPropertyGroup {
        id,
        product_id,
        group_id,
    };
    let body = render_link(store, request, &link);
    store.product_property_groups.insert(id, link);
    Ok(Reply::Created(body))
}

/// `DELETE /producttopropertygroups/:id`: the product's values of the group go too.
pub fn unlink_product(store: &mut Store, id: u64) -> Result<Reply, CcvError> {
    let link = store
        .product_property_groups
        .remove(&id)
        .ok_or_else(|| CcvError::not_found("product to property group link", id))?;
    let properties = &store.properties;
    store.property_values.retain(|_, v| {
        v.product_id != link.product_id
            || properties
                .get(&v.property_id)
                .is_none_or(|p| p.group_id != link.group_id)
    });
    Ok(Reply::NoContent)
}

fn linked(store: &Store, product_id: u64, group_id: u64) -> bool {
    store
        .product_property_groups
        .values()
        .any(|l| l.product_id == product_id && l.group_id == group_id)
}

fn render_link(store: &Store, request: &ApiRequest, l: &ProductToPropertyGroup) -> Value {
    let values: Vec<Value> = store
        .property_values
        .values()
        .filter(|v| {
            v.product_id == l.product_id
                && store
                    .properties
                    .get(&v.property_id)
                    .is_some_and(|p| p.group_id == l.group_id)
        })
        .map(|v| render_value(request, v))
        .collect();
    json!({
        "href": request.href(&format!("producttopropertygroups/{}", l.id)),
        "id": l.id,
        "product_id": l.product_id,
        "product_property_group_id": l.group_id,
        "product_href": request.href(&format!("products/{}", l.product_id)),
        "product_property_group_href": request.href(&format!("productpropertygroups/{}", l.group_id)),
        "values": { "collection": values },
    })
}

pub fn get_value(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let value = store
        .property_values
        .get(&id)
        .ok_or_else(|| CcvError::not_found("product property value", id))?;
    Ok(Reply::Ok(render_value(request, value)))
}

/// Checks a value for its property: an option property takes one of its options' ids, a
/// checkbox `true` or `false` (GUESS: CCV says "an boolean"), any other text.
fn check_value(store: &Store, property: &Property, value: &str) -> Result<(), CcvError> {
    let fits = match property.kind.as_str() {
        "option" => value
            .parse::<u64>()
            .ok()
            .and_then(|id| store.property_options.get(&id))
            .is_some_and(|o| o.property_id == property.id),
        "checkbox" => matches!(value, "true" | "false"),
        _ => true,
    };
    if fits {
        Ok(())
    } else {
        Err(CcvError::invalid(format!(
            "value {value:?} does not fit product property {} of type {}: an option property takes \
             the id of one of its options, a checkbox true or false.",
            property.id, property.kind
        )))
    }
}

/// `POST /productpropertyvalues`: `product_id`, `product_property_id` and `value` are required.
pub fn create_value(store: &mut Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    let input: ValueInput = request.input()?;
    CcvError::require(
        "Required properties are missing:",
        &[
            ("product_id", input.product_id.is_none()),
            ("product_property_id", input.product_property_id.is_none()),
            ("value", input.value.is_none()),
        ],
    )?;
    let (product_id, property_id, value) = (
        input.product_id.unwrap_or_default(),
        input.product_property_id.unwrap_or_default(),
        input.value.unwrap_or_default(),
    );
    products::find(store, product_id)
        .map_err(|_| CcvError::invalid(format!("product_id {product_id} is no product.")))?;
    let property = property(store, property_id).map_err(|_| {
        CcvError::invalid(format!(
            "product_property_id {property_id} is no product property."
        ))
    })?;
    if !linked(store, product_id, property.group_id) {
        return Err(CcvError::invalid(format!(
            "Product {product_id} is not linked to product property group {} of property \
             {property_id}; link it with POST /producttopropertygroups first.",
            property.group_id
        )));
    }
    check_value(store, property, &value)?;
    if store
        .property_values
        .values()
        .any(|v| v.product_id == product_id && v.property_id == property_id)
    {
        return Err(CcvError::already_exists(format!(
            "Product {product_id} already has a value of product property {property_id}."
        )));
    }
    let id = store.new_id();
    let created = PropertyValue {
        id,
        product_id,
        property_id,
        value,
    };
    let body = render_value(request, &created);
    store.property_values.insert(id, created);
    Ok(Reply::Created(body))
}

/// `PATCH /productpropertyvalues/:id`: only `value` (`internal.resource.productpropertyvalues.patch`).
pub fn update_value(store: &mut Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Patch {
        value: String,
    }
    let input: Patch = request.input()?;
    let current = store
        .property_values
        .get(&id)
        .ok_or_else(|| CcvError::not_found("product property value", id))?;
    check_value(store, property(store, current.property_id)?, &input.value)?;
    if let Some(value) = store.property_values.get_mut(&id) {
        value.value = input.value;
    }
    Ok(Reply::NoContent)
}

pub fn delete_value(store: &mut Store, id: u64) -> Result<Reply, CcvError> {
    store
        .property_values
        .remove(&id)
        .ok_or_else(|| CcvError::not_found("product property value", id))?;
    Ok(Reply::NoContent)
}

fn render_value(request: &ApiRequest, v: &PropertyValue) -> Value {
    json!({
        "href": request.href(&format!("productpropertyvalues/{}", v.id)),
        "id": v.id,
        "product_id": v.product_id,
        "product_property_id": v.property_id,
        "value": v.value,
    })
}

/// Forgets a deleted product's links and values.
pub(super) fn forget_product(store: &mut Store, product_id: u64) {
    store
        .product_property_groups
        .retain(|_, l| l.product_id != product_id);
    store
        .property_values
        .retain(|_, v| v.product_id != product_id);
}
