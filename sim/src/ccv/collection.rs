//! Collections as CCV pages them: `start` and `size`, links to the first, previous and next page
//! (`next` is null on the last), sorting with `orderby=field` or `orderby=field_desc`, and the
//! link objects that `expand=` fills in.

use std::cmp::Ordering;

use serde_json::{Value, json};

use super::error::CcvError;
use super::http::{ApiRequest, Reply};

/// The page size when a request gives none (GUESS: CCV does not document it).
pub const DEFAULT_PAGE_SIZE: usize = 25;
/// The largest page: a larger `size` is cut to this (GUESS: CCV does not document it; 250 is the
/// cap CCV's generated Python client uses).
pub const MAX_PAGE_SIZE: usize = 250;

/// A field a collection can be sorted by, and how.
pub type SortField<T> = (&'static str, fn(&T, &T) -> Ordering);

/// Answers a collection: sorts `items` as `orderby` asks, cuts out the page, and renders only
/// that page.
pub fn list<T>(
    request: &ApiRequest,
    mut items: Vec<&T>,
    sort_fields: &[SortField<T>],
    render: impl Fn(&T) -> Value,
) -> Result<Reply, CcvError> {
    if let Some(orderby) = request.param("orderby") {
        let (field, descending) = match orderby.strip_suffix("_desc") {
            Some(field) => (field, true),
            None => (orderby, false),
        };
        let (_, compare) = sort_fields
            .iter()
            .find(|(name, _)| *name == field)
            .ok_or_else(|| {
                let known: Vec<_> = sort_fields.iter().map(|(name, _)| *name).collect();
                CcvError::invalid(format!(
                    "orderby {orderby:?} is not possible here; fields: {}",
                    known.join(", ")
                ))
            })?;
        items.sort_by(|a, b| {
            let order = compare(a, b);
            if descending { order.reverse() } else { order }
        });
    }
    let start = number_param(request, "start")?.unwrap_or(0);
    let size = match number_param(request, "size")? {
        Some(0) => return Err(CcvError::invalid("size must be at least 1.")),
        Some(size) => size.min(MAX_PAGE_SIZE),
        None => DEFAULT_PAGE_SIZE,
    };
    let page: Vec<Value> = items
        .iter()
        .skip(start)
        .take(size)
        .map(|item| render(item))
        .collect();
    Ok(Reply::Ok(json!({
        "href": request.self_href(),
        "start": start,
        "size": size,
        "first": request.page_href(0, size),
        "previous": (start > 0).then(|| request.page_href(start.saturating_sub(size), size)),
        "next": (start + size < items.len()).then(|| request.page_href(start + size, size)),
        "items": page,
    })))
}

fn number_param(request: &ApiRequest, name: &str) -> Result<Option<usize>, CcvError> {
    request
        .param(name)
        .map(|value| {
            value.parse().map_err(|_| {
                CcvError::invalid(format!("{name} must be a whole number ≥ 0, not {value:?}."))
            })
        })
        .transpose()
}

/// The `expand` values CCV documents, per operation (`Parameters/*/All.php`, `Get.php` and
/// `AllFrom*.php` with `ExpandableFields` in the schemas generated as
/// `jacobdekeizer/ccvshop-client`). Every other operation documents none: `GET /orders` has no
/// `expand` (its `orderrows` are a link to `/orders/:id/orderrows`), nor do categories. CCV
/// ignores what it does not document (GUESS: it does not say whether it refuses it instead).
const EXPANDABLE: &[(&[&str], &[&str])] = &[
    (
        &[
            "GET /products",
            "GET /products/{id}",
            "GET /brands/{id}/products",
            "GET /categories/{id}/products",
            "GET /conditions/{id}/products",
            "GET /suppliers/{id}/products",
            "GET /webshops/{id}/products",
        ],
        &[
            "attributecombinations",
            "productattachments",
            "productattributesets",
            "productkeywords",
            "productphotos",
            "productrelevant",
            "productreviews",
            "productshippingcosts",
            "productstaggeredprices",
            "producttopropertygroups",
            "producttocategories",
            "productvariants",
            "productvideos",
            "producttaxtariffexceptions",
        ],
    ),
    (
        &[
            "GET /products/{id}/attributecombinations",
            "GET /attributecombinations/{id}",
        ],
        &["attributecombinationphotos"],
    ),
];

/// Whether CCV documents `expand=name` for `operation` (e.g. `GET /products`).
pub fn expandable(operation: &str, name: &str) -> bool {
    EXPANDABLE
        .iter()
        .any(|(operations, names)| operations.contains(&operation) && names.contains(&name))
}

/// A link to a sub-resource, e.g. a product's `attributecombinations`: `{"href": …}`, plus the
/// items under `collection` when the request expands it (and CCV documents that expansion).
pub fn sub_resource(
    request: &ApiRequest,
    name: &str,
    path: &str,
    items: impl FnOnce() -> Vec<Value>,
) -> Value {
    if request.expands(name) {
        json!({ "href": request.href(path), "collection": items() })
    } else {
        json!({ "href": request.href(path) })
    }
}
