//! `products` (CRUD, filters `productnumber`, `eannumber`, …) and `productqueries` (look-up by
//! product, EAN or SKU number across products and attribute combinations).

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::format_x_date;
use super::collection::{SortField, list as list_page, sub_resource};
use super::error::CcvError;
use super::http::{ApiRequest, Reply};
use super::misc::find_package;
use super::model::{Product, QueryMatch, StockType, Store, TAX_TARIFFS};
use super::{categories, combinations, money, properties, variants};

/// The values `ordering_without_stock` takes (CCV: "default option 'global_setting'").
const ORDERING_WITHOUT_STOCK: [&str; 3] = ["global_setting", "yes", "no"];

/// The product input schema (POST and PATCH); `active` is written, `is_active` read.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ProductInput {
    name: Option<String>,
    productnumber: Option<String>,
    eannumber: Option<String>,
    mpnnumber: Option<String>,
    shortdescription: Option<String>,
    description: Option<String>,
    #[serde(deserialize_with = "money::optional")]
    price: Option<Decimal>,
    #[serde(deserialize_with = "money::optional")]
    discount: Option<Decimal>,
    #[serde(deserialize_with = "money::optional")]
    purchaseprice: Option<Decimal>,
    taxtariff: Option<String>,
    /// "Deprecated, use taxtariff instead. VAT rate of product in percentage, either this property
    /// or taxtariff must be set" (`Models/Internal/Resource/Products/Post/Post.php`): taken as the
    /// tariff with that rate.
    #[serde(deserialize_with = "money::optional")]
    vatrate: Option<Decimal>,
    package_id: Option<u64>,
    active: Option<bool>,
    unit: Option<String>,
    stockenabled: Option<bool>,
    stocktype: Option<StockType>,
    #[serde(deserialize_with = "money::optional")]
    stock: Option<Decimal>,
    stocklocation: Option<String>,
    ordering_without_stock: Option<String>,
    #[serde(deserialize_with = "money::optional")]
    weight: Option<Decimal>,
    memo: Option<String>,
}

impl ProductInput {
    fn apply(mut self, store: &Store, product: &mut Product) -> Result<(), CcvError> {
        if let Some(tariff) = &self.taxtariff
            && !TAX_TARIFFS.iter().any(|(name, _)| name == tariff)
        {
            return Err(CcvError::invalid(format!(
                "taxtariff {tariff:?} is none of normal, low a, low b, extra low, zero."
            )));
        }
        if let (None, Some(rate)) = (&self.taxtariff, self.vatrate) {
            self.taxtariff = Some(tariff_of(rate).ok_or_else(|| {
                CcvError::invalid(format!("vatrate {rate} is the rate of no tax tariff."))
            })?);
        }
        // "Package id of this product, the package id's are available in the resource
        // 'packages'" (`Models/Internal/Resource/Products/Post/Post.php`): ids are the shop's
        // own, so an id the shop has no package for is refused (GUESS: how CCV answers it).
        if let Some(package) = self.package_id
            && find_package(store, package).is_err()
        {
            return Err(CcvError::invalid(format!(
                "package_id {package} is no package of this webshop (GET /packages lists them)."
            )));
        }
        if let Some(value) = &self.ordering_without_stock
            && !ORDERING_WITHOUT_STOCK.contains(&value.as_str())
        {
            return Err(CcvError::invalid(format!(
                "ordering_without_stock {value:?} is none of {ORDERING_WITHOUT_STOCK:?}."
            )));
        }
        set(&mut product.name, self.name);
        set(&mut product.productnumber, self.productnumber);
        set(&mut product.eannumber, self.eannumber);
        set(&mut product.mpnnumber, self.mpnnumber);
        set(&mut product.shortdescription, self.shortdescription);
        set(&mut product.description, self.description);
        set(&mut product.price, self.price);
        set(&mut product.discount, self.discount);
        set(&mut product.purchaseprice, self.purchaseprice);
        set(&mut product.taxtariff, self.taxtariff);
        set(&mut product.package_id, self.package_id);
        set(&mut product.active, self.active);
        set(&mut product.unit, self.unit);
        set(&mut product.stockenabled, self.stockenabled);
        set(&mut product.stocktype, self.stocktype);
        set(&mut product.stock, self.stock);
        set(&mut product.stocklocation, self.stocklocation);
        set(
            &mut product.ordering_without_stock,
            self.ordering_without_stock,
        );
        set(&mut product.weight, self.weight);
        set(&mut product.memo, self.memo);
        Ok(())
    }
}

/// Overwrites `field` when the input has a value for it.
pub(super) fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *field = value;
    }
}

/// The tariff of a tax rate in percent (the first tariff with that rate).
pub(super) fn tariff_of(rate: Decimal) -> Option<String> {
    TAX_TARIFFS
        .iter()
        .find(|(_, r)| Decimal::from(*r) == rate)
        .map(|(name, _)| name.to_string())
}

/// A product with CCV's defaults, as a POST without optional fields makes it.
pub(super) fn new_product(id: u64, package_id: u64, now: chrono::DateTime<chrono::Utc>) -> Product {
    Product {
        id,
        productnumber: String::new(),
        eannumber: String::new(),
        mpnnumber: String::new(),
        name: String::new(),
        shortdescription: String::new(),
        description: String::new(),
        price: Decimal::ZERO,
        discount: Decimal::ZERO,
        purchaseprice: Decimal::ZERO,
        taxtariff: "normal".into(),
        package_id,
        active: true,
        unit: "piece".into(),
        stockenabled: true,
        stocktype: StockType::Product,
        stock: Decimal::ZERO,
        stocklocation: String::new(),
        ordering_without_stock: "global_setting".into(),
        weight: Decimal::ZERO,
        memo: String::new(),
        createdate: now,
        modifydate: now,
    }
}

const SORT_FIELDS: &[SortField<Product>] = &[
    ("id", |a, b| a.id.cmp(&b.id)),
    ("name", |a, b| a.name.cmp(&b.name)),
    ("createdate", |a, b| a.createdate.cmp(&b.createdate)),
    ("modifydate", |a, b| a.modifydate.cmp(&b.modifydate)),
];

/// `GET /products` with the filters CCV documents that the simulator models: `productnumber`,
/// `eannumber`, `mpnnumber` (exact), `productname` (part of the name), `active`, `minprice`,
/// `maxprice`, `minstock`, `maxstock`. Other parameters are ignored, as CCV ignores unknown ones.
pub fn list(store: &Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    let text = |name: &'static str| request.param(name);
    let amount = |name: &'static str| -> Result<Option<Decimal>, CcvError> {
        text(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| CcvError::invalid(format!("{name} must be a number, not {v:?}.")))
            })
            .transpose()
    };
    let active = text("active")
        .map(|v| parse_bool("active", v))
        .transpose()?;
    let (min_price, max_price) = (amount("minprice")?, amount("maxprice")?);
    let (min_stock, max_stock) = (amount("minstock")?, amount("maxstock")?);
    let name_part = text("productname").map(str::to_lowercase);
    let items = store
        .products
        .values()
        .filter(|p| text("productnumber").is_none_or(|v| p.productnumber == v))
        .filter(|p| text("eannumber").is_none_or(|v| p.eannumber == v))
        .filter(|p| text("mpnnumber").is_none_or(|v| p.mpnnumber == v))
        .filter(|p| {
            name_part
                .as_deref()
                .is_none_or(|v| p.name.to_lowercase().contains(v))
        })
        .filter(|p| active.is_none_or(|v| p.active == v))
        .filter(|p| {
            min_price.is_none_or(|v| p.price >= v) && max_price.is_none_or(|v| p.price <= v)
        })
        // A combination-kept stock is a sum over the store's combinations: only when asked.
        .filter(|p| {
            (min_stock.is_none() && max_stock.is_none()) || {
                let stock = stock_of(store, p);
                min_stock.is_none_or(|v| stock >= v) && max_stock.is_none_or(|v| stock <= v)
            }
        })
        .collect();
    list_page(request, items, SORT_FIELDS, |p| render(store, request, p))
}

/// Reads a boolean query parameter: `true`/`false` or `1`/`0`.
pub(super) fn parse_bool(name: &str, value: &str) -> Result<bool, CcvError> {
    match value {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(CcvError::invalid(format!(
            "{name} must be true or false, not {value:?}."
        ))),
    }
}

/// `POST /products`: `name`, `price`, `discount` and `package_id` are required, and `taxtariff`
/// or `vatrate` ("either this property or vatrate must be set").
pub fn create(store: &mut Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    let input: ProductInput = request.input()?;
    CcvError::require(
        "Required properties are missing:",
        &[
            ("name", input.name.is_none()),
            ("price", input.price.is_none()),
            ("discount", input.discount.is_none()),
            ("package_id", input.package_id.is_none()),
            (
                "taxtariff (or vatrate)",
                input.taxtariff.is_none() && input.vatrate.is_none(),
            ),
        ],
    )?;
    let mut product = new_product(store.next_id, 0, request.now);
    input.apply(store, &mut product)?;
    product.id = store.new_id();
    let body = render(store, request, &product);
    store.products.insert(product.id, product);
    Ok(Reply::Created(body))
}

/// `GET /products/:id`.
pub fn get(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let product = find(store, id)?;
    Ok(Reply::Ok(render(store, request, product)))
}

/// `PATCH /products/:id`.
pub fn update(store: &mut Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let input: ProductInput = request.input()?;
    let mut changed = find(store, id)?.clone();
    input.apply(store, &mut changed)?;
    changed.modifydate = request.now;
    store.products.insert(id, changed);
    Ok(Reply::NoContent)
}

/// `DELETE /products/:id`: also its attribute values, combinations, category links and property
/// values. Orders keep their rows.
pub fn delete(store: &mut Store, id: u64) -> Result<Reply, CcvError> {
    store
        .products
        .remove(&id)
        .ok_or_else(|| CcvError::not_found("product", id))?;
    store
        .product_attribute_values
        .retain(|_, v| v.product_id != id);
    store.combinations.retain(|_, c| c.product_id != id);
    store.product_categories.retain(|_, l| l.product_id != id);
    properties::forget_product(store, id);
    Ok(Reply::NoContent)
}

/// `GET /productqueries`: products whose `productnumber`, `eannumber` or `mpnnumber` match, and
/// products with just the one combination whose `product_number`, `ean_number` or `sku_number`
/// matches ("mpnnumber doesn't exist for attribute combinations and skunumber doesn't exist for
/// products", `ProductqueriesEndpoint.php`). Without any of these parameters there are no
/// results, as CCV documents. Several parameters combine as [`QueryMatch`] says.
pub fn query(store: &Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    let wanted = |name| request.param(name).filter(|v| !v.is_empty());
    let (number, ean, mpn, sku) = (
        wanted("productnumber"),
        wanted("eannumber"),
        wanted("mpnnumber"),
        wanted("skunumber"),
    );
    // Per parameter given: whether a record's field matches it (a field the record does not
    // have never matches).
    let verdict = |checks: [(Option<&str>, Option<&str>); 4]| {
        let mut given = checks.iter().filter(|(w, _)| w.is_some()).peekable();
        given.peek()?;
        let mut hits = given.map(|(w, field)| field.is_some_and(|f| Some(f) == *w));
        Some(match store.productqueries {
            QueryMatch::All => hits.all(|hit| hit),
            QueryMatch::Any => hits.any(|hit| hit),
        })
    };
    let mut results: Vec<(&Product, Option<u64>)> = Vec::new();
    for product in store.products.values() {
        let checks = [
            (number, Some(product.productnumber.as_str())),
            (ean, Some(product.eannumber.as_str())),
            (mpn, Some(product.mpnnumber.as_str())),
            (sku, None),
        ];
        if verdict(checks) == Some(true) {
            results.push((product, None));
        }
    }
    for combination in store.combinations.values() {
        let checks = [
            (number, Some(combination.product_number.as_str())),
            (ean, Some(combination.ean_number.as_str())),
            (mpn, None),
            (sku, Some(combination.sku_number.as_str())),
        ];
        if verdict(checks) == Some(true)
            && let Some(product) = store.products.get(&combination.product_id)
        {
            results.push((product, Some(combination.id)));
        }
    }
    list_page(
        request,
        results.iter().collect(),
        &[],
        |(product, combination)| {
            let mut body = render(store, request, product);
            if let Some(id) = combination {
                let only =
                    combinations::render_combination(store, request, &store.combinations[id]);
                body["attributecombinations"] = json!({
                    "href": request.href(&format!("products/{}/attributecombinations", product.id)),
                    "collection": [only],
                });
            }
            body
        },
    )
}

pub(super) fn find(store: &Store, id: u64) -> Result<&Product, CcvError> {
    store
        .products
        .get(&id)
        .ok_or_else(|| CcvError::not_found("product", id))
}

/// The stock CCV shows for a product: its own, or the sum over its combinations when stock is
/// kept per combination (GUESS).
pub(super) fn stock_of(store: &Store, product: &Product) -> Decimal {
    match product.stocktype {
        StockType::Product => product.stock,
        StockType::AttributeCombination => store
            .combinations
            .values()
            .filter(|c| c.product_id == product.id)
            .map(|c| c.stock)
            .sum(),
    }
}

/// A product as `GET /products/:id` shows it.
pub(super) fn render(store: &Store, request: &ApiRequest, p: &Product) -> Value {
    let id = p.id;
    json!({
        "href": request.href(&format!("products/{id}")),
        "id": id,
        "is_active": p.active,
        "createdate": format_x_date(p.createdate),
        "modifydate": format_x_date(p.modifydate),
        "productnumber": p.productnumber,
        "eannumber": p.eannumber,
        "mpnnumber": p.mpnnumber,
        "name": p.name,
        "shortdescription": p.shortdescription,
        "description": p.description,
        // The product resource of CCV's current SDK (`src/Resources/Product.php`) carries
        // `taxtariff` and no `vatrate` (deprecated in the 2022 schema): a client reads the tariff.
        "taxtariff": p.taxtariff,
        "price": money::to_json(p.price),
        "discount": money::to_json(p.discount),
        "purchaseprice": money::to_json(p.purchaseprice),
        "unit": p.unit,
        "stockenabled": p.stockenabled,
        "stocktype": p.stocktype.as_str(),
        "stock": money::to_json(stock_of(store, p)),
        "stocklocation": p.stocklocation,
        "ordering_without_stock": p.ordering_without_stock,
        "weight": money::to_json(p.weight),
        "memo": p.memo,
        "package": { "href": request.href(&format!("packages/{}", p.package_id)), "id": p.package_id },
        "attributecombinations": sub_resource(
            request,
            "attributecombinations",
            &format!("products/{id}/attributecombinations"),
            || combinations::combinations_of(store, id)
                .map(|c| combinations::render_combination(store, request, c))
                .collect(),
        ),
        "productattributevalues": sub_resource(
            request,
            "productattributevalues",
            &format!("products/{id}/productattributevalues"),
            || variants::product_values_of(store, id)
                .map(|v| variants::render_product_value(store, request, v))
                .collect(),
        ),
        "producttocategories": sub_resource(
            request,
            "producttocategories",
            &format!("products/{id}/producttocategories"),
            || categories::links_of(store, id)
                .map(|l| categories::render_link(request, l))
                .collect(),
        ),
    })
}
