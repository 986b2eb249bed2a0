//! Which resource answers which path and method. A path that names no resource gets `404.20`, a
//! method the resource does not take `405.10`; trailing slashes do not matter (CCV's docs write
//! `/orders/`, its SDK `orders`).

use super::error::CcvError;
use super::http::{ApiRequest, Reply};
use super::model::Store;
use super::{
    categories, combinations, misc, ordernotes, orderrows, orders, products, properties, users,
    variants,
};

/// One path segment: a resource name or an id.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Segment<'a> {
    Name(&'a str),
    Id(u64),
}

/// Picks the handler for the request's method, or refuses the method with `405.10`.
macro_rules! methods {
    ($request:expr, { $($method:literal => $handler:expr),+ $(,)? }) => {
        match $request.method.as_str() {
            $($method => $handler,)+
            other => Err(CcvError::method_not_allowed(other, $request.path())),
        }
    };
}

/// Answers a request.
pub fn dispatch(store: &mut Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    use Segment::{Id, Name};
    let segments: Vec<Segment> = request
        .segments
        .iter()
        .map(|s| s.parse().map_or(Name(s.as_str()), Id))
        .collect();
    let r = request;
    match segments.as_slice() {
        [] => methods!(r, { "GET" => misc::root(r) }),

        [Name("users")] => methods!(r, {
            "GET" => users::list(store, r),
            "POST" => users::create(store, r),
        }),
        [Name("users"), Id(id)] => methods!(r, {
            "GET" => users::get(store, r, *id),
            "PATCH" => users::update(store, r, *id),
            "DELETE" => users::delete(store, *id),
        }),

        [Name("orders")] => methods!(r, {
            "GET" => orders::list(store, r),
            "POST" => orders::create(store, r),
        }),
        [Name("orders"), Id(id)] => methods!(r, {
            "GET" => orders::get(store, r, *id),
            "PATCH" => orders::update(store, r, *id),
        }),
        [Name("orders"), Id(id), Name("orderrows")] => methods!(r, {
            "GET" => orderrows::list_rows(store, r, *id),
            "POST" => orderrows::add_row(store, r, *id),
            "PUT" => orderrows::replace_rows(store, r, *id),
        }),
        [Name("orders"), Id(id), Name("ordernotes")] => methods!(r, {
            "GET" => ordernotes::list(store, r, *id),
            "POST" => ordernotes::create(store, r, *id),
        }),
        [Name("ordernotes"), Id(id)] => methods!(r, {
            "GET" => ordernotes::get(store, r, *id),
            "DELETE" => ordernotes::delete(store, *id),
        }),
        [Name("orderrows"), Id(id)] => methods!(r, {
            "GET" => orderrows::get_row(store, r, *id),
            "PATCH" => orderrows::update_row(store, r, *id),
            "DELETE" => orderrows::delete_row(store, *id),
        }),

        [Name("products")] => methods!(r, {
            "GET" => products::list(store, r),
            "POST" => products::create(store, r),
        }),
        [Name("products"), Id(id)] => methods!(r, {
            "GET" => products::get(store, r, *id),
            "PATCH" => products::update(store, r, *id),
            "DELETE" => products::delete(store, *id),
        }),
        [Name("products"), Id(id), Name("attributecombinations")] => methods!(r, {
            "GET" => combinations::list_combinations(store, r, *id),
        }),
        [Name("products"), Id(id), Name("productattributevalues")] => methods!(r, {
            "GET" => variants::list_product_values(store, r, *id),
            "POST" => variants::add_product_value(store, r, *id),
        }),
        [Name("products"), Id(id), Name("producttocategories")] => methods!(r, {
            "GET" => categories::list_product_links(store, r, *id),
        }),
        [Name("products"), Id(id), Name("producttopropertygroups")] => methods!(r, {
            "GET" => properties::list_product_links(store, r, *id),
        }),
        [Name("productqueries")] => methods!(r, { "GET" => products::query(store, r) }),

        [Name("attributes")] => methods!(r, {
            "GET" => variants::list_attributes(store, r),
            "POST" => variants::create_attribute(store, r),
        }),
        [Name("attributes"), Id(id)] => methods!(r, {
            "GET" => variants::get_attribute(store, r, *id),
            "PATCH" => variants::update_attribute(store, r, *id),
            "DELETE" => variants::delete_attribute(store, *id),
        }),
        [Name("attributes"), Id(id), Name("attributevalues")] => methods!(r, {
            "GET" => variants::list_values(store, r, *id),
            "POST" => variants::create_value(store, r, *id),
        }),
        [Name("attributevalues"), Id(id)] => methods!(r, {
            "GET" => variants::get_value(store, r, *id),
            "PATCH" => variants::update_value(store, r, *id),
            "DELETE" => variants::delete_value(store, *id),
        }),
        [Name("productattributevalues"), Id(id)] => methods!(r, {
            "GET" => variants::get_product_value(store, r, *id),
            "PATCH" => variants::update_product_value(store, r, *id),
            "DELETE" => variants::delete_product_value(store, *id),
        }),
        [Name("attributecombinations"), Id(id)] => methods!(r, {
            "GET" => combinations::get_combination(store, r, *id),
            "PATCH" => combinations::update_combination(store, r, *id),
        }),

        [Name("categories")] => methods!(r, {
            "GET" => categories::list(store, r),
            "POST" => categories::create(store, r),
        }),
        [Name("categories"), Id(id)] => methods!(r, {
            "GET" => categories::get(store, r, *id),
            "PATCH" => categories::update(store, r, *id),
            "DELETE" => categories::delete(store, *id),
        }),
        [Name("categories"), Id(id), Name("categories")] => methods!(r, {
            "GET" => categories::list_children(store, r, *id),
        }),
        [Name("categories"), Id(id), Name("products")] => methods!(r, {
            "GET" => categories::list_products(store, r, *id),
        }),
        [Name("categorytree")] => methods!(r, { "GET" => categories::tree(store, r) }),
        [Name("producttocategories")] => methods!(r, {
            "POST" => categories::link_product(store, r),
        }),
        [Name("producttocategories"), Id(id)] => methods!(r, {
            "GET" => categories::get_link(store, r, *id),
            "DELETE" => categories::unlink_product(store, *id),
        }),

        [Name("productpropertygroups")] => methods!(r, {
            "GET" => properties::list_groups(store, r),
            "POST" => properties::create_group(store, r),
        }),
        [Name("productpropertygroups"), Id(id)] => methods!(r, {
            "GET" => properties::get_group(store, r, *id),
            "PATCH" => properties::update_group(store, r, *id),
            "DELETE" => properties::delete_group(store, *id),
        }),
        [
            Name("productpropertygroups"),
            Id(id),
            Name("productproperties"),
        ] => methods!(r, {
            "GET" => properties::list_properties(store, r, *id),
            "POST" => properties::create_property(store, r, *id),
        }),
        [Name("productproperties"), Id(id)] => methods!(r, {
            "GET" => properties::get_property(store, r, *id),
            "PATCH" => properties::update_property(store, r, *id),
            "DELETE" => properties::delete_property(store, *id),
        }),
        [
            Name("productproperties"),
            Id(id),
            Name("productpropertyoptions"),
        ] => methods!(r, {
            "GET" => properties::list_options(store, r, *id),
            "POST" => properties::create_option(store, r, *id),
        }),
        [Name("productpropertyoptions"), Id(id)] => methods!(r, {
            "GET" => properties::get_option(store, r, *id),
            "PATCH" => properties::update_option(store, r, *id),
            "DELETE" => properties::delete_option(store, *id),
        }),
        [Name("productpropertyvalues")] => methods!(r, {
            "POST" => properties::create_value(store, r),
        }),
        [Name("productpropertyvalues"), Id(id)] => methods!(r, {
            "GET" => properties::get_value(store, r, *id),
            "PATCH" => properties::update_value(store, r, *id),
            "DELETE" => properties::delete_value(store, *id),
        }),
        [Name("producttopropertygroups")] => methods!(r, {
            "POST" => properties::link_product(store, r),
        }),
        [Name("producttopropertygroups"), Id(id)] => methods!(r, {
            "GET" => properties::get_link(store, r, *id),
            "DELETE" => properties::unlink_product(store, *id),
        }),

        [Name("paymethods")] => methods!(r, { "GET" => misc::list_paymethods(store, r) }),
        [Name("paymethods"), Id(id)] => methods!(r, {
            "GET" => misc::get_paymethod(store, r, *id),
        }),
        [Name("packages")] => methods!(r, {
            "GET" => misc::list_packages(store, r),
            "POST" => misc::create_package(store, r),
        }),
        [Name("packages"), Id(id)] => methods!(r, {
            "GET" => misc::get_package(store, r, *id),
            "PATCH" => misc::update_package(store, r, *id),
        }),
        [Name("webshops")] => methods!(r, { "GET" => misc::list_webshops(store, r) }),
        [Name("webshops"), Id(id)] => methods!(r, {
            "GET" => misc::get_webshop(store, r, *id),
        }),
        [Name("webshops"), Id(id), Name("settings")] => methods!(r, {
            "GET" => misc::get_settings(store, r, *id),
            "PUT" => misc::put_settings(store, r, *id),
        }),

        _ => Err(CcvError::invalid_resource(request.path())),
    }
}
