//! `categories` (a tree through `parentcategory_id`), `categorytree`, and the links between
//! products and categories (`producttocategories`).

use serde::Deserialize;
use serde_json::{Value, json};

use super::collection::{SortField, list as list_page, sub_resource};
use super::error::CcvError;
use super::http::{ApiRequest, Reply};
use super::model::{Category, ProductToCategory, Store};
use super::products::{self, set};

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct CategoryInput {
    name: Option<String>,
    parentcategory_id: Option<u64>,
    description: Option<String>,
    position: Option<i64>,
    show_on_website: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LinkInput {
    product_id: Option<u64>,
    category_id: Option<u64>,
    position: Option<i64>,
}

const SORT_FIELDS: &[SortField<Category>] = &[
    ("id", |a, b| a.id.cmp(&b.id)),
    ("name", |a, b| a.name.cmp(&b.name)),
    ("position", |a, b| a.position.cmp(&b.position)),
];

/// `GET /categories`: every category, roots and children alike.
pub fn list(store: &Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    let items = store.categories.values().collect();
    list_page(request, items, SORT_FIELDS, |c| render(store, request, c))
}

/// `GET /categories/:id/categories`: the direct children.
pub fn list_children(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    find(store, id)?;
    let items = children(store, Some(id)).collect();
    list_page(request, items, SORT_FIELDS, |c| render(store, request, c))
}

/// `GET /categories/:id/products`: the products linked to the category.
pub fn list_products(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    find(store, id)?;
    let items = store
        .product_categories
        .values()
        .filter(|l| l.category_id == id)
        .filter_map(|l| store.products.get(&l.product_id))
        .collect();
    list_page(request, items, &[("id", |a, b| a.id.cmp(&b.id))], |p| {
        products::render(store, request, p)
    })
}

/// `POST /categories`: `name` is required; without `parentcategory_id` it is a root.
pub fn create(store: &mut Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    let input: CategoryInput = request.input()?;
    let name = input
        .name
        .ok_or_else(|| CcvError::invalid("Required property name is missing."))?;
    if let Some(parent) = input.parentcategory_id {
        find(store, parent).map_err(|_| {
            CcvError::invalid(format!("parentcategory_id {parent} is no category."))
        })?;
    }
    let siblings = children(store, input.parentcategory_id).count();
    let id = store.new_id();
    let category = Category {
        id,
        name,
        parent_id: input.parentcategory_id,
        description: input.description.unwrap_or_default(),
        position: input.position.unwrap_or(siblings as i64 + 1),
        show_on_website: input.show_on_website.unwrap_or(true),
    };
    let body = render(store, request, &category);
    store.categories.insert(id, category);
    Ok(Reply::Created(body))
}

pub fn get(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    Ok(Reply::Ok(render(store, request, find(store, id)?)))
}

/// `PATCH /categories/:id`; a new parent may not lie below the category itself.
pub fn update(store: &mut Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let input: CategoryInput = request.input()?;
    find(store, id)?;
    if let Some(parent) = input.parentcategory_id {
        find(store, parent).map_err(|_| {
            CcvError::invalid(format!("parentcategory_id {parent} is no category."))
        })?;
        if ancestors_and_self(store, parent).any(|a| a == id) {
            return Err(CcvError::invalid(format!(
                "Category {parent} lies below {id}; it cannot be its parent."
            )));
        }
    }
    let category = store.categories.get_mut(&id).expect("checked above");
    set(&mut category.name, input.name);
    set(&mut category.description, input.description);
    set(&mut category.position, input.position);
    set(&mut category.show_on_website, input.show_on_website);
    if input.parentcategory_id.is_some() {
        category.parent_id = input.parentcategory_id;
    }
    Ok(Reply::NoContent)
}

/// `DELETE /categories/:id`: with every category below it and their product links (GUESS: CCV
/// does not say what happens to children).
pub fn delete(store: &mut Store, id: u64) -> Result<Reply, CcvError> {
    find(store, id)?;
    let doomed: Vec<u64> = store
        .categories
        .keys()
        .copied()
        .filter(|c| ancestors_and_self(store, *c).any(|a| a == id))
        .collect();
    for category in &doomed {
        store.categories.remove(category);
    }
    store
        .product_categories
        .retain(|_, l| !doomed.contains(&l.category_id));
    Ok(Reply::NoContent)
}

/// `GET /categorytree`: the roots, each with its `children`, down to the leaves.
pub fn tree(store: &Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    fn node(store: &Store, request: &ApiRequest, c: &Category) -> Value {
        let kids: Vec<Value> = children(store, Some(c.id))
            .map(|child| node(store, request, child))
            .collect();
        json!({
            "href": request.href(&format!("categories/{}", c.id)),
            "id": c.id,
            "name": c.name,
            "description": c.description,
            "position": c.position,
            "show_on_website": c.show_on_website,
            "children": kids,
        })
    }
    let roots: Vec<Value> = children(store, None)
        .map(|c| node(store, request, c))
        .collect();
    Ok(Reply::Ok(json!({
        "href": request.href("categorytree"),
        "root_categories": roots,
    })))
}

fn find(store: &Store, id: u64) -> Result<&Category, CcvError> {
    store
        .categories
        .get(&id)
        .ok_or_else(|| CcvError::not_found("category", id))
}

/// The children of `parent` (the roots for none), by position.
fn children(store: &Store, parent: Option<u64>) -> impl Iterator<Item = &Category> {
    let mut kids: Vec<&Category> = store
        .categories
        .values()
        .filter(|c| c.parent_id == parent)
        .collect();
    kids.sort_by_key(|c| (c.position, c.id));
    kids.into_iter()
}

/// `id`, its parent, its parent's parent, … up to the root.
fn ancestors_and_self(store: &Store, id: u64) -> impl Iterator<Item = u64> + '_ {
    std::iter::successors(Some(id), |c| {
        store.categories.get(c).and_then(|c| c.parent_id)
    })
    .take(store.categories.len() + 1)
}

fn render(store: &Store, request: &ApiRequest, c: &Category) -> Value {
    let id = c.id;
    json!({
        "href": request.href(&format!("categories/{id}")),
        "id": id,
        "name": c.name,
        "description": c.description,
        "position": c.position,
        "show_on_website": c.show_on_website,
        "parentcategory": c.parent_id.map(|p| json!({
            "id": p,
            "href": request.href(&format!("categories/{p}")),
        })),
        "categories": sub_resource(request, "categories", &format!("categories/{id}/categories"), || {
            children(store, Some(id)).map(|child| render(store, request, child)).collect()
        }),
        "products": { "href": request.href(&format!("categories/{id}/products")) },
    })
}

// ----- product ↔ category links -----------------------------------------------------------------

pub(super) fn links_of(store: &Store, product_id: u64) -> impl Iterator<Item = &ProductToCategory> {
    store
        .product_categories
        .values()
        .filter(move |l| l.product_id == product_id)
}

/// `GET /products/:id/producttocategories`.
pub fn list_product_links(
    store: &Store,
    request: &ApiRequest,
    product_id: u64,
) -> Result<Reply, CcvError> {
    products::find(store, product_id)?;
    let items = links_of(store, product_id).collect();
    list_page(request, items, &[("id", |a, b| a.id.cmp(&b.id))], |l| {
        render_link(request, l)
    })
}

/// `POST /producttocategories` with `product_id` and `category_id` (and `position`).
pub fn link_product(store: &mut Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    let input: LinkInput = request.input()?;
    let (Some(product_id), Some(category_id)) = (input.product_id, input.category_id) else {
        return Err(CcvError::invalid(
            "product_id and category_id are required.",
        ));
    };
    if !store.products.contains_key(&product_id) {
        return Err(CcvError::invalid(format!(
            "product_id {product_id} is no product."
        )));
    }
    if !store.categories.contains_key(&category_id) {
        return Err(CcvError::invalid(format!(
            "category_id {category_id} is no category."
        )));
    }
    if links_of(store, product_id).any(|l| l.category_id == category_id) {
        return Err(CcvError::already_exists(format!(
            "Product {product_id} is already in category {category_id}."
        )));
    }
    let id = store.new_id();
    let link = ProductToCategory {
        id,
        product_id,
        category_id,
        position: input.position.unwrap_or(1),
    };
    let body = render_link(request, &link);
    store.product_categories.insert(id, link);
    Ok(Reply::Created(body))
}

pub fn get_link(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let link = store
        .product_categories
        .get(&id)
        .ok_or_else(|| CcvError::not_found("producttocategory", id))?;
    Ok(Reply::Ok(render_link(request, link)))
}

pub fn unlink_product(store: &mut Store, id: u64) -> Result<Reply, CcvError> {
    store
        .product_categories
        .remove(&id)
        .ok_or_else(|| CcvError::not_found("producttocategory", id))?;
    Ok(Reply::NoContent)
}

pub(super) fn render_link(request: &ApiRequest, l: &ProductToCategory) -> Value {
    json!({
        "href": request.href(&format!("producttocategories/{}", l.id)),
        "id": l.id,
        "product_id": l.product_id,
        "category_id": l.category_id,
        "position": l.position,
        "product": { "href": request.href(&format!("products/{}", l.product_id)) },
        "category": { "href": request.href(&format!("categories/{}", l.category_id)) },
    })
}
