//! The API root (the resources this key can reach), `paymethods` (read-only), `packages` and
//! `webshops` (a SalesPOS account is a webshop with `is_salespos`) and their `settings`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::collection::list as list_page;
use super::error::CcvError;
use super::http::{ApiRequest, Reply};
use super::model::{Package, Paymethod, Store, Webshop};
use super::money;
use super::products::set;

/// The resources the simulator serves, with CCV's descriptions.
const RESOURCES: [(&str, &str, &str); 21] = [
    (
        "attributecombinations",
        "Attribute combinations",
        "Combinations of attribute values of a product. Generated, not posted.",
    ),
    (
        "attributes",
        "Attributes",
        "Product options such as size or colour.",
    ),
    (
        "attributevalues",
        "Attribute values",
        "The values of an attribute.",
    ),
    (
        "categories",
        "Categories",
        "The categories of this webshop.",
    ),
    ("categorytree", "Category tree", "All categories as a tree."),
    (
        "ordernotes",
        "Order notes",
        "Internal notes on an order, for the merchant's staff.",
    ),
    ("orderrows", "Order rows", "The rows of an order."),
    ("orders", "Orders", "The orders of this webshop."),
    (
        "packages",
        "Packages",
        "The packages products are shipped in.",
    ),
    (
        "paymethods",
        "Payment methods",
        "The active payment methods.",
    ),
    (
        "productattributevalues",
        "Product attribute values",
        "The attribute values a product is offered in.",
    ),
    (
        "productproperties",
        "Product properties",
        "The properties of a product property group.",
    ),
    (
        "productpropertygroups",
        "Product property groups",
        "A Product property group can hold multiple properties.",
    ),
    (
        "productpropertyoptions",
        "Product property options",
        "The options of a product property.",
    ),
    (
        "productpropertyvalues",
        "Product property values",
        "The values of the properties of a product.",
    ),
    (
        "productqueries",
        "Product queries",
        "Look up products and attribute combinations by number.",
    ),
    ("products", "Products", "The products of this webshop."),
    (
        "producttocategories",
        "Product to categories",
        "Links between products and categories.",
    ),
    (
        "producttopropertygroups",
        "Product to property groups",
        "Links between products and product property groups, with their values.",
    ),
    ("users", "Users", "The customer accounts of this webshop."),
    ("webshops", "Webshops", "The webshops of this account."),
];

/// `GET /api/rest/v1/`: every resource this public key can reach, as a collection.
pub fn root(request: &ApiRequest) -> Result<Reply, CcvError> {
    let items: Vec<_> = RESOURCES.iter().collect();
    list_page(request, items, &[], |(name, title, description)| {
        json!({
            "href": request.href(name),
            "title": title,
            "description": description,
            "uri": format!("/:version/{name}/"),
        })
    })
}

pub fn list_paymethods(store: &Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    let items = store.paymethods.values().collect();
    list_page(request, items, &[("id", |a, b| a.id.cmp(&b.id))], |p| {
        render_paymethod(request, p)
    })
}

pub fn get_paymethod(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let paymethod = store
        .paymethods
        .get(&id)
        .ok_or_else(|| CcvError::not_found("paymethod", id))?;
    Ok(Reply::Ok(render_paymethod(request, paymethod)))
}

fn render_paymethod(request: &ApiRequest, p: &Paymethod) -> Value {
    json!({
        "href": request.href(&format!("paymethods/{}", p.id)),
        "id": p.id,
        "psp": p.psp,
        "method": p.method,
        "combined_name": format!("{}_{}", p.psp, p.method),
        "label": p.label,
        "extra_costs": money::to_json(p.extra_costs_fixed),
        "extra_costs_fixed": money::to_json(p.extra_costs_fixed),
        "extra_costs_percentage": money::to_json(p.extra_costs_percentage),
    })
}

/// The input of `POST /packages` and `PATCH /packages/:id`: only `name` (jacobdekeizer/ccvshop-client,
/// `Models/Internal/Resource/Packages/Input/Input.php`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PackageInput {
    name: Option<String>,
}

/// `GET /packages`: "Get all packages of this webshop" (`PackagesEndpoint`). Products name one
/// of these ids in `package_id` ("the package id's are available in the resource 'packages'",
/// `Models/Internal/Resource/Products/Post/Post.php`).
pub fn list_packages(store: &Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    let items = store.packages.values().collect();
    list_page(request, items, &[("id", |a, b| a.id.cmp(&b.id))], |p| {
        render_package(request, p)
    })
}

pub fn get_package(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let package = find_package(store, id)?;
    Ok(Reply::Ok(render_package(request, package)))
}

/// `POST /packages`: "Creates a new product package"; `name` is required.
pub fn create_package(store: &mut Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    let input: PackageInput = request.input()?;
    let name = input
        .name
        .ok_or_else(|| CcvError::invalid("Required property name is missing."))?;
    let id = store.new_id();
    let package = Package { id, name };
    let body = render_package(request, &package);
    store.packages.insert(id, package);
    Ok(Reply::Created(body))
}

/// `PATCH /packages/:id`: "Patches an existing product package".
pub fn update_package(store: &mut Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let input: PackageInput = request.input()?;
    let package = store
        .packages
        .get_mut(&id)
        .ok_or_else(|| CcvError::not_found("package", id))?;
    if let Some(name) = input.name {
        package.name = name;
    }
    Ok(Reply::NoContent)
}

/// The package with this id.
pub(super) fn find_package(store: &Store, id: u64) -> Result<&Package, CcvError> {
    store
        .packages
        .get(&id)
        .ok_or_else(|| CcvError::not_found("package", id))
}

fn render_package(request: &ApiRequest, p: &Package) -> Value {
    json!({
        "href": request.href(&format!("packages/{}", p.id)),
        "id": p.id,
        "name": p.name,
        "parent": { "href": request.href("packages") },
    })
}

pub fn list_webshops(store: &Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    let items = store.webshops.values().collect();
    list_page(request, items, &[("id", |a, b| a.id.cmp(&b.id))], |w| {
        render_webshop(request, w)
    })
}

pub fn get_webshop(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    Ok(Reply::Ok(render_webshop(request, webshop(store, id)?)))
}

/// A webshop as `GET /webshops` shows it: the fields of SDK `src/Resources/Webshop.php` (2025) and
/// JDK `Resource/Webshops/Webshops.php`. Neither has a currency, a language or a VAT convention:
/// those are in [`get_settings`].
fn render_webshop(request: &ApiRequest, w: &Webshop) -> Value {
    json!({
        "href": request.href(&format!("webshops/{}", w.id)),
        "id": w.id,
        "name": w.name,
        "is_multishop_system": false,
        "is_salespos": w.is_salespos,
        // -1: no limit (JDK: "If the value is -1, it's infinite").
        "product_limit": -1,
        "product_limit_left": -1,
        "api_root": request.href(""),
    })
}

fn webshop(store: &Store, id: u64) -> Result<&Webshop, CcvError> {
    store
        .webshops
        .get(&id)
        .ok_or_else(|| CcvError::not_found("webshop", id))
}

/// `GET /webshops/:id/settings`: one object, not a collection (JDK `SettingsEndpoint::allFromWebshop`
/// returns `Entity/Settings/Settings`), with every field that schema documents, named and typed
/// as there. The simulator keeps the currency, the VAT convention, the default VAT rate, the
/// languages and the webshop's on/off notice; the rest are fixed values of a plain shop with
/// stock enabled (nullable ones it does not model are null).
pub fn get_settings(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let s = &webshop(store, id)?.settings;
    Ok(Reply::Ok(json!({
        "href": request.href(&format!("webshops/{id}/settings")),
        "webshop_enabled": s.webshop_enabled,
        "webshop_disabled_title": s.webshop_disabled_title,
        "webshop_disabled_text": s.webshop_disabled_text,
        "currency": s.currency,
        "default_vat_rat": money::to_json(s.default_vat_rat),
        "prices_include_vat": s.prices_include_vat,
        "full_ssl_webshop": true,
        "creditpoint_value": null,
        "languages": s.languages,
        "backend_language": s.languages.first().map_or("nl", String::as_str),
        "separate_domain_per_language": false,
        "stock": true,
        "ordering_without_stock": null,
        "stock_level_warnings": { "low_threshold": 0, "high_threshold": 5 },
        "multishop_readonly_properties": [],
        "checkout_type": null,
        "takeoutsettings": null,
        "quotation_status": null,
        "order_status": null,
        "invoice_status": null,
        "return_status": null,
        "parent": { "href": request.href(&format!("webshops/{id}")) },
    })))
}

/// What `PUT /webshops/:id/settings` takes (JDK `Internal/Resource/Settings/Put/Put.php`; SDK
/// `Setting::getPutData`): "only settings that are included in the payload will be overwritten".
/// The currency and the VAT convention are not among them.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SettingsPut {
    languages: Option<Vec<String>>,
    webshop_enabled: Option<bool>,
    webshop_disabled_title: Option<String>,
    webshop_disabled_text: Option<String>,
}

/// `PUT /webshops/:id/settings`.
pub fn put_settings(store: &mut Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let input: SettingsPut = request.input()?;
    webshop(store, id)?;
    let s = &mut store.webshops.get_mut(&id).expect("checked above").settings;
    set(&mut s.languages, input.languages);
    set(&mut s.webshop_enabled, input.webshop_enabled);
    set(&mut s.webshop_disabled_title, input.webshop_disabled_title);
    set(&mut s.webshop_disabled_text, input.webshop_disabled_text);
    Ok(Reply::NoContent)
}
