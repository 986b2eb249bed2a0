//! Writing products: created with everything, updated with only the fields the flow allows.
//!
//! A create is `POST /products` (plus one `POST /producttocategories` per category, plus the
//! variants' requests, see [`crate::variants`]). An update is one `PATCH /products/:id` with the
//! allowed fields (none sent when none are allowed), plus one read of the product's categories
//! when "categories" is allowed, plus one read of its combinations when it has variants.
//!
//! Creates are guarded like bookings: an intent is remembered before `POST /products` and
//! settled once the product is complete, so that a create whose answer was lost (a timeout, a
//! crash) is looked up by SKU before it is sent again, and never makes a second product.

use serde_json::{Map, Value, json};
use tillbridge_sdk::clock;
use tillbridge_sdk::types::{PluginError, Product, RecordResult, WriteAction, Written};

use crate::catalogue;
use crate::errors::Failure;
use crate::exports::tillbridge::plugin::products_sink::ProductWrite;
use crate::memory::Intents;
use crate::pricing::{ccv_price, in_shop_terms, main_price, surcharges};
use crate::results::{Batch, written};
use crate::settings::Ccv;
use crate::shop::{Shop, shop};
use crate::variants::{self, Attributes, Job};
use crate::wire::{CategoryLink, Created, number, parse_id};

const INTENTS: Intents = Intents::new("products/intent/");

/// Which fields a write may set: all on create, the flow's `update-fields` on update.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields {
    pub name: bool,
    pub description: bool,
    pub short_description: bool,
    pub ean: bool,
    pub price: bool,
    pub stock: bool,
    pub active: bool,
    pub categories: bool,
    pub variants: bool,
}

impl Fields {
    pub fn all() -> Fields {
        Fields::from_update(&[
            "name",
            "description",
            "short-description",
            "ean",
            "price",
            "stock",
            "active",
            "categories",
            "variants",
        ])
    }

    /// From the WIT's `update-fields` names ("properties" has no CCV field: not written).
    pub fn from_update<S: AsRef<str>>(names: &[S]) -> Fields {
        let has = |name: &str| names.iter().any(|n| n.as_ref() == name);
        Fields {
            name: has("name"),
            description: has("description"),
            short_description: has("short-description"),
            ean: has("ean"),
            price: has("price"),
            stock: has("stock"),
            active: has("active"),
            categories: has("categories"),
            variants: has("variants"),
        }
    }
}

/// The product fields of `POST` (`create`) or `PATCH /products/:id` that `fields` allows.
pub fn product_body(
    product: &Product,
    fields: &Fields,
    create: bool,
    shop: &Shop,
    ccv: &Ccv,
) -> Result<Map<String, Value>, PluginError> {
    let mut body = Map::new();
    let mut set = |name: &str, value: Value| {
        body.insert(name.to_string(), value);
    };
    if create {
        if product.name.trim().is_empty() {
            return Err(PluginError::invalid_field(
                format!("product {} has no name; CCV requires one", product.sku),
                "name",
            ));
        }
        set("productnumber", json!(product.sku));
        set("package_id", json!(ccv.settings.package_id));
        if !product.variants.is_empty() {
            set("stocktype", json!("attribute_combination"));
            let managed = product.variants.iter().any(|v| v.stock.is_some());
            set("stockenabled", json!(managed));
        }
    }
    if fields.name && !product.name.trim().is_empty() {
        set("name", json!(product.name));
    }
    if let Some(text) = product.description.as_ref().filter(|_| fields.description) {
        set("description", json!(text));
    }
    if let Some(text) = product
        .short_description
        .as_ref()
        .filter(|_| fields.short_description)
    {
        set("shortdescription", json!(text));
    }
    if let Some(ean) = product.ean.as_ref().filter(|_| fields.ean) {
        set("eannumber", json!(ean));
    }
    if fields.active {
        set("active", json!(product.active));
    }
    if fields.stock && product.variants.is_empty() {
        set("stockenabled", json!(product.stock.is_some()));
        if let Some(stock) = product.stock {
            set("stock", json!(stock));
        }
    }
    match main_price(&product.prices, shop) {
        Some(price) if fields.price => {
            let ccv_price = ccv_price(price, shop, &ccv.settings)?;
            set("price", number(ccv_price.amount, 4));
            // `price` is the price before discount; the webshop's price is what is paid.
            set("discount", json!(0));
            set("taxtariff", json!(ccv_price.tariff));
        }
        None if create => {
            return Err(PluginError::invalid_field(
                format!("product {} has no price; CCV requires one", product.sku),
                "prices",
            ));
        }
        _ => {}
    }
    Ok(body)
}

/// `write-products`: one result per product and one per variant, keyed by SKU.
pub fn write(ccv: &Ccv, writes: Vec<ProductWrite>) -> Result<Vec<RecordResult>, PluginError> {
    let shop = shop(ccv)?;
    let creates: Vec<&str> = writes
        .iter()
        .filter(|w| w.target_id.is_none())
        .map(|w| w.product.sku.as_str())
        .collect();
    // Creates whose answer was lost last time: look them up before sending them again.
    let unsettled: Vec<&str> = creates
        .iter()
        .zip(INTENTS.sent_at(&creates))
        .filter_map(|(sku, at)| at.map(|_| *sku))
        .collect();
    let found = catalogue::lookup(ccv, &unsettled)?;
    let to_create: Vec<&str> = creates
        .iter()
        .copied()
        .filter(|s| !found.contains_key(*s))
        .collect();
    INTENTS.open(&to_create, clock::now_millis());

    let mut attributes = Attributes::new(&ccv.settings.attribute_type);
    let mut batch = Batch::default();
    let mut settled: Vec<&str> = Vec::new();
    for w in &writes {
        let sku = w.product.sku.as_str();
        let keys = std::iter::once(sku).chain(w.product.variants.iter().map(|v| v.sku.as_str()));
        if batch.halted() {
            for key in keys {
                batch.record(key, || unreachable!("a halted batch sends nothing"));
            }
            settled.push(sku);
            continue;
        }
        let target = match (&w.target_id, found.get(sku)) {
            (Some(id), _) => {
                parse_id(id, "product").map(|id| (id, Fields::from_update(&w.update_fields)))
            }
            // Created last time after all: complete it as the create would have.
            (None, Some(hit)) => Ok((hit.product.id, Fields::all())),
            (None, None) => Err(PluginError::NotFound(String::new())),
        };
        let outcome = match target {
            Ok((id, fields)) => update(ccv, &shop, w, id, &fields, &mut attributes),
            Err(PluginError::NotFound(_)) => create(ccv, &shop, w, &mut attributes),
            Err(bad_id) => Outcome::failed(w, bad_id, true),
        };
        if outcome.settled && w.target_id.is_none() {
            settled.push(sku);
        }
        for (key, result) in outcome.results {
            batch.push(&key, result);
        }
    }
    INTENTS.settle(&settled, Vec::new());
    Ok(batch.finish())
}

/// What writing one product came to.
struct Outcome {
    results: Vec<(String, Result<Written, PluginError>)>,
    /// Whether the product's create is settled: it exists completely, or certainly not at all.
    settled: bool,
}

impl Outcome {
    /// The product and every variant failed alike.
    fn failed(w: &ProductWrite, error: PluginError, settled: bool) -> Outcome {
        let keys = std::iter::once(&w.product.sku).chain(w.product.variants.iter().map(|v| &v.sku));
        Outcome {
            results: keys.map(|k| (k.clone(), Err(error.clone()))).collect(),
            settled,
        }
    }
}

fn create(ccv: &Ccv, shop: &Shop, w: &ProductWrite, attributes: &mut Attributes) -> Outcome {
    let body = match product_body(&w.product, &Fields::all(), true, shop, ccv) {
        Ok(body) => body,
        Err(problem) => return Outcome::failed(w, problem, true),
    };
    let id = match ccv.api.post::<Created>("products", &Value::Object(body)) {
        Ok(created) => created.id,
        Err(failure) if failure.refused() => return Outcome::failed(w, failure.into(), true),
        // Perhaps created: the intent stays, and the next attempt looks it up first.
        Err(failure) => return Outcome::failed(w, failure.maybe_done(), false),
    };
    finish(
        ccv,
        shop,
        w,
        id,
        &Fields::all(),
        WriteAction::Created,
        attributes,
    )
}

fn update(
    ccv: &Ccv,
    shop: &Shop,
    w: &ProductWrite,
    id: u64,
    fields: &Fields,
    attributes: &mut Attributes,
) -> Outcome {
    let body = match product_body(&w.product, fields, false, shop, ccv) {
        Ok(body) => body,
        Err(problem) => return Outcome::failed(w, problem, true),
    };
    let changed = !body.is_empty();
    if changed
        && let Err(failure) = ccv
            .api
            .patch(&format!("products/{id}"), &Value::Object(body), true)
    {
        let error = if failure.no_such_id() {
            PluginError::NotFound(format!(
                "product {} (CCV id {id}) is no longer in CCV",
                w.product.sku
            ))
        } else {
            failure.into()
        };
        return Outcome::failed(w, error, true);
    }
    let action = if changed {
        WriteAction::Updated
    } else {
        WriteAction::Unchanged
    };
    finish(ccv, shop, w, id, fields, action, attributes)
}

/// What follows the product itself: its categories and variants.
fn finish(
    ccv: &Ccv,
    shop: &Shop,
    w: &ProductWrite,
    id: u64,
    fields: &Fields,
    action: WriteAction,
    attributes: &mut Attributes,
) -> Outcome {
    let product = &w.product;
    let new = action == WriteAction::Created;
    let linked = if fields.categories && !w.categories.is_empty() {
        link(ccv, id, &w.categories, new)
    } else {
        Ok(false)
    };
    let mut results = Vec::new();
    if !product.variants.is_empty() {
        let base = main_price(&product.prices, shop)
            .map(|p| in_shop_terms(p, shop.prices_include_vat))
            .transpose();
        let variant_prices: Result<Vec<_>, PluginError> = product
            .variants
            .iter()
            .map(|v| {
                let own = main_price(&v.prices, shop)
                    .map(|p| in_shop_terms(p, shop.prices_include_vat))
                    .transpose()?;
                let options = v
                    .options
                    .iter()
                    .map(|o| (o.group.clone(), o.value.clone()))
                    .collect();
                Ok((options, own))
            })
            .collect();
        let fitted = match (base, variant_prices) {
            (Ok(Some(base)), Ok(prices)) if new || fields.price => surcharges(base, &prices),
            (Err(e), _) | (_, Err(e)) => return Outcome::failed(w, e, false),
            _ => Default::default(),
        };
        let job = Job {
            product_id: id,
            variants: &product.variants,
            fields,
            surcharges: &fitted,
            new,
        };
        results = variants::write(ccv, &job, attributes);
    }
    let action = match (action, &linked) {
        (WriteAction::Unchanged, Ok(true)) => WriteAction::Updated,
        (action, _) => action,
    };
    let own = match linked {
        Ok(_) => Ok(written(id, action)),
        Err(failure) => Err(with_context(
            failure.into(),
            &format!(
                "product {} is in CCV as product {id}, but its categories are not all linked",
                product.sku
            ),
        )),
    };
    let settled = own.is_ok();
    results.insert(0, (product.sku.clone(), own));
    Outcome { results, settled }
}

/// Puts a product in categories. A new product is in none yet; otherwise its categories are read
/// first (one request) so that only missing links are posted. Says whether it linked any.
fn link(ccv: &Ccv, product_id: u64, categories: &[String], new: bool) -> Result<bool, Failure> {
    let existing: Vec<u64> = if new {
        Vec::new()
    } else {
        let links: Vec<CategoryLink> = ccv
            .api
            .all(&format!("products/{product_id}/producttocategories"), &[])?;
        links.into_iter().map(|l| l.category_id).collect()
    };
    let mut linked = false;
    for category in categories {
        let category_id = parse_id(category, "category")?;
        if existing.contains(&category_id) {
            continue;
        }
        let body = json!({ "product_id": product_id, "category_id": category_id });
        match ccv.api.post::<Value>("producttocategories", &body) {
            Ok(_) => linked = true,
            Err(failure) if failure.already_exists() => {}
            Err(failure) => return Err(failure),
        }
    }
    Ok(linked)
}

/// The same error with what was done before it failed.
fn with_context(error: PluginError, context: &str) -> PluginError {
    match error {
        PluginError::Invalid(mut problem) => {
            problem.message = format!("{context}: {}", problem.message);
            PluginError::Invalid(problem)
        }
        PluginError::Transient(m) => PluginError::Transient(format!("{context}: {m}")),
        PluginError::Fatal(m) => PluginError::Fatal(format!("{context}: {m}")),
        PluginError::NotFound(m) => PluginError::NotFound(format!("{context}: {m}")),
        other => other,
    }
}
