//! Products sink: creates or updates products and their variants by SKU with the sync API,
//! parents before variants, in batches of at most `sync_batch_size` rows.
//!
//! - Ids: a product the shop has keeps its id; a new one gets an id derived from its SKU, so
//!   a batch sent twice creates each product once.
//! - Create writes everything; update writes only what `update-fields` allows (texts only when
//!   allowed). An empty text, property list or category list in the source never erases the
//!   shop's: it means "no opinion".
//! - Variants are child products with options; options and property groups the shop lacks
//!   are created first (see `variants`). Variants that disappeared from the source are
//!   deactivated, never deleted.
//! - One result per product and per variant, keyed by SKU.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};
use tillbridge_sdk::types::{OptionValue, PluginError, RecordResult, WriteAction, Written};

use crate::Shop;
use crate::criteria::{any_of, equals_any};
use crate::exports::tillbridge::plugin::products_sink::{ProductFields, ProductWrite};
use crate::ids;
use crate::lookup::{self, Known, norm};
use crate::prices;
use crate::settings::ShortDescription;
use crate::stock::{STOCK_FIELDS, stock_for};
use crate::sync::{self, Operation, Records};
use crate::variants::{self, Resolved};
use crate::version::StockMode;

/// What the shop already has for a batch: rows by normalised SKU (with their stock and their
/// configurator settings), children by parent id.
#[derive(Default)]
struct Existing {
    by_sku: BTreeMap<String, Value>,
    children: BTreeMap<String, Vec<Value>>,
}

/// The batch's products and variants as the shop has them, with the children of each parent,
/// in one search (paged).
fn existing(shop: &mut Shop, writes: &[ProductWrite]) -> Result<Existing, PluginError> {
    let skus: Vec<&str> = writes
        .iter()
        .flat_map(|w| {
            std::iter::once(w.product.sku.as_str())
                .chain(w.product.variants.iter().map(|v| v.sku.as_str()))
        })
        .collect();
    let parents: Vec<&str> = writes.iter().map(|w| w.product.sku.as_str()).collect();
    let mut filters = vec![
        equals_any("productNumber", &skus),
        equals_any("parent.productNumber", &parents),
    ];
    let targets: Vec<&str> = writes
        .iter()
        .filter_map(|w| w.target_id.as_deref())
        .collect();
    if !targets.is_empty() {
        filters.push(equals_any("parentId", &targets));
    }
    let mut fields = vec![
        "id",
        "parentId",
        "productNumber",
        "categoryIds",
        "propertyIds",
        "optionIds",
        "configuratorSettings",
    ];
    fields.extend(STOCK_FIELDS);
    let rows = shop.client.search_all(
        "product",
        json!({
            "filter": [any_of(filters)],
            "associations": {"configuratorSettings": {}},
            "includes": {"product": fields,
                         "product_configurator_setting": ["id", "optionId"]},
        }),
    )?;
    let mut found = Existing::default();
    for row in rows {
        if let Some(parent) = row["parentId"].as_str() {
            found
                .children
                .entry(parent.to_string())
                .or_default()
                .push(row.clone());
        }
        if let Some(number) = row["productNumber"].as_str() {
            found.by_sku.insert(norm(number), row);
        }
    }
    lookup::remember(found.by_sku.iter().filter_map(|(sku, row)| {
        Some((
            sku.clone(),
            Known {
                id: row["id"].as_str()?.to_string(),
                parent: row["parentId"].as_str().map(str::to_string),
            },
        ))
    }));
    Ok(found)
}

fn strings(row: &Value, field: &str) -> Vec<String> {
    row[field]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn id_list(ids: &[String]) -> Value {
    Value::Array(ids.iter().map(|id| json!({"id": id})).collect())
}

/// The operations of one batch, and each record's id and whether it is new.
struct Plan {
    records: Records,
    products: Operation,
    variants: Operation,
    unlink_categories: Operation,
    unlink_properties: Operation,
    unlink_options: Operation,
    /// Per record: (id, created).
    written: Vec<(String, bool)>,
    /// Records that failed before anything was sent.
    refused: BTreeMap<usize, PluginError>,
}

impl Plan {
    fn new() -> Plan {
        Plan {
            records: Records::default(),
            products: Operation::upsert("products", "product"),
            // Keys sort in the order they must run ("products" < "unlink-…" < "variants"):
            // JSON objects reach some decoders sorted.
            variants: Operation::upsert("variants", "product"),
            unlink_categories: Operation::delete("unlink-categories", "product_category"),
            unlink_properties: Operation::delete("unlink-properties", "product_property"),
            unlink_options: Operation::delete("unlink-options", "product_option"),
            written: Vec::new(),
            refused: BTreeMap::new(),
        }
    }

    fn add(&mut self, sku: &str, parent: Option<usize>, id: &str, created: bool) -> usize {
        self.written.push((id.to_string(), created));
        self.records.add(sku, parent)
    }
}

/// Mapping rows of `entity` to delete: those the product has and should not.
fn unlink(
    operation: &mut Operation,
    record: usize,
    product: &str,
    field: &str,
    has: &[String],
    wanted: &[String],
) {
    for id in has.iter().filter(|id| !wanted.contains(id)) {
        operation.push(Some(record), json!({"productId": product, field: id}));
    }
}

fn allowed(write: &ProductWrite, field: ProductFields, create: bool) -> bool {
    create || write.update_fields.contains(field)
}

/// What every product of a batch is planned with.
struct Shared<'a> {
    options: &'a Resolved,
    channels: &'a [String],
    mode: StockMode,
}

/// The `stock` to write for a quantity, or none when the shop has it already.
fn stock_row(mode: StockMode, quantity: i64, current: Option<&Value>) -> Option<i64> {
    let stock = stock_for(mode, quantity, current);
    (current.and_then(|c| c["stock"].as_i64()) != Some(stock)).then_some(stock)
}

/// Plans one product and its variants.
fn plan_product(
    shop: &mut Shop,
    plan: &mut Plan,
    write: &ProductWrite,
    found: &Existing,
    shared: &Shared<'_>,
) {
    let options = shared.options;
    let product = &write.product;
    let current = found.by_sku.get(&norm(&product.sku));
    let id = write
        .target_id
        .clone()
        .or_else(|| current.and_then(|r| r["id"].as_str().map(str::to_string)))
        .unwrap_or_else(|| ids::derive("product", &norm(&product.sku)));
    let create = write.target_id.is_none() && current.is_none();
    let record = plan.add(&product.sku, None, &id, create);
    if !ids::is_valid(&id) {
        let why = format!("{id:?} is not a Shopware id (32 lowercase hex characters)");
        plan.refused
            .insert(record, PluginError::invalid_field(why, "target-id"));
    }
    match parent_row(shop, write, &id, current, shared) {
        // A row with nothing but its id would change nothing.
        Ok(row) if row.as_object().is_some_and(|o| o.len() > 1) => {
            plan.products.push(Some(record), row);
        }
        Ok(_) => {}
        Err(error) => {
            plan.refused.insert(record, error);
        }
    }
    let empty = Value::Null;
    let current = current.unwrap_or(&empty);
    if !create && allowed(write, ProductFields::CATEGORIES, create) && !write.categories.is_empty()
    {
        let has = strings(current, "categoryIds");
        unlink(
            &mut plan.unlink_categories,
            record,
            &id,
            "categoryId",
            &has,
            &write.categories,
        );
    }
    if !create
        && allowed(write, ProductFields::PROPERTIES, create)
        && !product.properties.is_empty()
        && let Ok(wanted) = options.ids_of(&product.properties)
    {
        let has = strings(current, "propertyIds");
        unlink(
            &mut plan.unlink_properties,
            record,
            &id,
            "optionId",
            &has,
            &wanted,
        );
    }
    let mut seen = BTreeSet::new();
    for variant in &product.variants {
        let current = found.by_sku.get(&norm(&variant.sku));
        let variant_id = current
            .and_then(|r| r["id"].as_str().map(str::to_string))
            .unwrap_or_else(|| ids::derive("product", &norm(&variant.sku)));
        seen.insert(variant_id.clone());
        let new = current.is_none();
        let child = plan.add(&variant.sku, Some(record), &variant_id, new);
        let may = |field: ProductFields| new || allowed(write, field, create);
        let option_ids = match options.ids_of(&variant.options) {
            Ok(ids) => ids,
            Err(error) => {
                plan.refused.insert(child, error);
                continue;
            }
        };
        let mut row = Map::new();
        row.insert("id".into(), json!(variant_id));
        if may(ProductFields::VARIANTS) {
            row.insert("parentId".into(), json!(id));
            row.insert("options".into(), id_list(&option_ids));
            row.insert("active".into(), json!(variant.active));
            if let Some(ean) = &variant.ean {
                row.insert("ean".into(), json!(ean));
            }
            let price = if variant.prices.is_empty() {
                Ok(Value::Null)
            } else {
                prices::to_shopware(&mut shop.client, &mut shop.catalog, &variant.prices)
            };
            match price {
                // No own price: the parent's (null restores inheritance).
                Ok(Value::Null) if new => {}
                Ok(price) => {
                    row.insert("price".into(), price);
                }
                Err(error) => {
                    plan.refused.insert(child, error);
                    continue;
                }
            }
            if let Some(current) = current {
                unlink(
                    &mut plan.unlink_options,
                    child,
                    &variant_id,
                    "optionId",
                    &strings(current, "optionIds"),
                    &option_ids,
                );
            }
        }
        if new {
            row.insert("productNumber".into(), json!(variant.sku));
            row.insert("stock".into(), json!(variant.stock.unwrap_or(0)));
        } else if may(ProductFields::STOCK)
            && let Some(stock) = variant
                .stock
                .and_then(|q| stock_row(shared.mode, q, current))
        {
            row.insert("stock".into(), json!(stock));
        }
        if row.len() > 1 {
            plan.variants.push(Some(child), Value::Object(row));
        }
    }
    // Variants the source no longer has: taken off sale, not deleted.
    if !create && allowed(write, ProductFields::VARIANTS, create) && !product.variants.is_empty() {
        for gone in found.children.get(&id).into_iter().flatten() {
            if let Some(gone_id) = gone["id"].as_str().filter(|g| !seen.contains(*g)) {
                plan.variants
                    .push(Some(record), json!({"id": gone_id, "active": false}));
            }
        }
    }
}

/// The row of a parent or simple product (`current`: as the shop has it).
fn parent_row(
    shop: &mut Shop,
    write: &ProductWrite,
    id: &str,
    current: Option<&Value>,
    shared: &Shared<'_>,
) -> Result<Value, PluginError> {
    let product = &write.product;
    let (options, channels) = (shared.options, shared.channels);
    let create = write.target_id.is_none() && current.is_none();
    let may = |field: ProductFields| allowed(write, field, create);
    let mut row = Map::new();
    row.insert("id".into(), json!(id));
    if create {
        row.insert("productNumber".into(), json!(product.sku));
        let stock = if product.variants.is_empty() {
            product.stock.unwrap_or(0)
        } else {
            0
        };
        row.insert("stock".into(), json!(stock));
        if !channels.is_empty() {
            let visibilities: Vec<Value> = channels
                .iter()
                .map(|c| {
                    json!({"id": ids::derive("product_visibility", &format!("{id}/{c}")),
                                "salesChannelId": c, "visibility": 30})
                })
                .collect();
            row.insert("visibilities".into(), Value::Array(visibilities));
        }
    } else if may(ProductFields::STOCK)
        && product.variants.is_empty()
        && let Some(stock) = product
            .stock
            .and_then(|q| stock_row(shared.mode, q, current))
    {
        row.insert("stock".into(), json!(stock));
    }
    if may(ProductFields::NAME) && !product.name.trim().is_empty() || create {
        row.insert("name".into(), json!(product.name.trim()));
    }
    if may(ProductFields::DESCRIPTION)
        && let Some(text) = &product.description
    {
        row.insert("description".into(), json!(text));
    }
    if may(ProductFields::SHORT_DESCRIPTION)
        && let Some(text) = &product.short_description
    {
        match &shop.client.settings.short_description {
            ShortDescription::Off => {}
            ShortDescription::Field(field) => {
                row.insert(field.clone(), json!(text));
            }
            ShortDescription::CustomField(name) => {
                row.insert("customFields".into(), json!({ name: text }));
            }
        }
    }
    if may(ProductFields::EAN)
        && let Some(ean) = &product.ean
    {
        row.insert("ean".into(), json!(ean));
    }
    if may(ProductFields::ACTIVE) {
        row.insert("active".into(), json!(product.active));
    }
    if may(ProductFields::PRICE) || create {
        match prices::tax_rate(&product.prices)? {
            Some(rate) => {
                let tax = shop
                    .catalog
                    .tax_id(&mut shop.client, rate)?
                    .ok_or_else(|| {
                        PluginError::invalid_field(
                            format!(
                                "Shopware has no tax rate of {rate}%: add it under Settings › Tax"
                            ),
                            "prices/0/tax-rate",
                        )
                    })?;
                row.insert("taxId".into(), json!(tax));
                let list =
                    prices::to_shopware(&mut shop.client, &mut shop.catalog, &product.prices)?;
                row.insert("price".into(), list);
            }
            None if create => {
                return Err(PluginError::invalid_field(
                    "a new product needs a price",
                    "prices",
                ));
            }
            None => {}
        }
    }
    if may(ProductFields::PROPERTIES) && !product.properties.is_empty() {
        row.insert(
            "properties".into(),
            id_list(&options.ids_of(&product.properties)?),
        );
    }
    if may(ProductFields::CATEGORIES) && !write.categories.is_empty() {
        row.insert("categories".into(), id_list(&write.categories));
    }
    if may(ProductFields::VARIANTS) && !product.variants.is_empty() {
        let all: Vec<OptionValue> = product
            .variants
            .iter()
            .flat_map(|v| v.options.clone())
            .collect();
        if let Ok(option_ids) = options.ids_of(&all) {
            let present: Vec<String> = current
                .and_then(|c| c["configuratorSettings"].as_array())
                .into_iter()
                .flatten()
                .filter_map(|s| s["optionId"].as_str().map(str::to_string))
                .collect();
            let settings = variants::configurator(id, &option_ids, &present);
            if !settings.is_empty() {
                row.insert("configuratorSettings".into(), Value::Array(settings));
            }
        }
    }
    Ok(Value::Object(row))
}

/// Writes one batch.
fn write_batch(shop: &mut Shop, writes: &[ProductWrite]) -> Result<Vec<RecordResult>, PluginError> {
    let found = existing(shop, writes)?;
    let pairs: Vec<OptionValue> = writes
        .iter()
        .flat_map(|w| {
            w.product
                .properties
                .iter()
                .chain(w.product.variants.iter().flat_map(|v| v.options.iter()))
        })
        .cloned()
        .collect();
    let options = variants::ensure(&mut shop.client, &mut shop.catalog, &pairs)?;
    let creates = writes
        .iter()
        .any(|w| w.target_id.is_none() && !found.by_sku.contains_key(&norm(&w.product.sku)));
    let channels = if creates {
        shop.catalog.channels(&mut shop.client)?
    } else {
        Vec::new()
    };
    let shared = Shared {
        options: &options,
        channels: &channels,
        mode: shop.client.stock_mode()?,
    };
    let mut plan = Plan::new();
    for write in writes {
        plan_product(shop, &mut plan, write, &found, &shared);
    }
    let refused: Vec<(usize, PluginError)> =
        plan.refused.iter().map(|(r, e)| (*r, e.clone())).collect();
    for (record, error) in refused {
        drop_record(&mut plan, record, error);
    }
    let operations = [
        plan.products.clone(),
        plan.unlink_categories.clone(),
        plan.unlink_options.clone(),
        plan.unlink_properties.clone(),
        plan.variants.clone(),
    ];
    let touched: BTreeSet<usize> = operations
        .iter()
        .flat_map(|o| o.rows.iter().filter_map(|r| r.record))
        .collect();
    let mut failed = sync::run(
        &mut shop.client,
        &operations,
        &plan.records,
        "sync products",
    )?;
    failed.extend(plan.refused.clone());
    Ok(plan
        .written
        .iter()
        .enumerate()
        .map(|(record, (id, created))| RecordResult {
            key: plan.records.keys[record].clone(),
            outcome: match failed.get(&record) {
                Some(error) => Err(error.clone()),
                None => Ok(Written {
                    id: id.clone(),
                    action: match (created, touched.contains(&record)) {
                        (true, _) => WriteAction::Created,
                        (false, true) => WriteAction::Updated,
                        (false, false) => WriteAction::Unchanged,
                    },
                }),
            },
        })
        .collect())
}

/// Takes a refused record's rows (and its dependents') out of the plan.
fn drop_record(plan: &mut Plan, record: usize, error: PluginError) {
    let dependents: Vec<usize> = plan
        .records
        .parents
        .iter()
        .enumerate()
        .filter(|(_, p)| **p == Some(record))
        .map(|(child, _)| child)
        .collect();
    for operation in [
        &mut plan.products,
        &mut plan.variants,
        &mut plan.unlink_categories,
        &mut plan.unlink_properties,
        &mut plan.unlink_options,
    ] {
        operation.rows.retain(|r| {
            r.record != Some(record) && !dependents.iter().any(|d| r.record == Some(*d))
        });
    }
    for child in dependents {
        let why =
            PluginError::invalid(format!("not written: {} failed", plan.records.keys[record]));
        plan.refused.entry(child).or_insert(why);
    }
    plan.refused.insert(record, error);
}

/// `write-products`: in batches of at most `sync_batch_size` rows (a product and its variants
/// stay in one batch).
pub fn write(shop: &mut Shop, writes: Vec<ProductWrite>) -> Result<Vec<RecordResult>, PluginError> {
    let size = shop.client.settings.sync_batch_size as usize;
    let mut results = Vec::new();
    let mut start = 0;
    while start < writes.len() {
        let mut end = start;
        let mut rows = 0;
        while end < writes.len()
            && (end == start || rows + 1 + writes[end].product.variants.len() <= size)
        {
            rows += 1 + writes[end].product.variants.len();
            end += 1;
        }
        results.extend(write_batch(shop, &writes[start..end])?);
        start = end;
    }
    Ok(results)
}
