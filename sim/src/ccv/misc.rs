//! The API root (the resources this key can reach), `paymethods` (read-only) and `webshops` (a
//! SalesPOS account is a webshop with `is_salespos`).

use serde_json::{Value, json};

use super::collection::list as list_page;
use super::error::CcvError;
use super::http::{ApiRequest, Reply};
use super::model::{Paymethod, Store, Webshop};
use super::money;

/// The resources the simulator serves, with CCV's descriptions.
const RESOURCES: [(&str, &str, &str); 14] = [
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
    ("orderrows", "Order rows", "The rows of an order."),
    ("orders", "Orders", "The orders of this webshop."),
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

pub fn list_webshops(store: &Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    let items = store.webshops.values().collect();
    list_page(request, items, &[("id", |a, b| a.id.cmp(&b.id))], |w| {
        render_webshop(request, w)
    })
}

pub fn get_webshop(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let webshop = store
        .webshops
        .get(&id)
        .ok_or_else(|| CcvError::not_found("webshop", id))?;
    Ok(Reply::Ok(render_webshop(request, webshop)))
}

fn render_webshop(request: &ApiRequest, w: &Webshop) -> Value {
    json!({
        "href": request.href(&format!("webshops/{}", w.id)),
        "id": w.id,
        "name": w.name,
        "is_multishop_system": false,
        "is_salespos": w.is_salespos,
        "api_root": request.href(""),
        "currency": w.currency,
        "language": w.language,
        "prices_include_vat": w.prices_include_vat,
    })
}
