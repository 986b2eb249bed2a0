//! Products and variants by SKU (`productNumber`), and a cache of SKU → id in the connection's
//! key-value store: a stock run then writes by id without looking every SKU up again (2,000
//! levels on 6.6: four sync requests instead of eight). A cached id that went stale (the
//! product was deleted, or made again under a new id) makes its row fail; the caller forgets
//! it, looks the SKU up afresh and tries once more (see `stock`).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tillbridge_sdk::kv;
use tillbridge_sdk::types::{PluginError, ProductRef};

use crate::client::Client;
use crate::criteria::equals_any;

const CACHE_PREFIX: &str = "sku/";

/// A product or variant as found.
#[derive(Debug, Clone, PartialEq)]
pub struct Known {
    /// Its own id.
    pub id: String,
    /// Its parent's id, for a variant.
    pub parent: Option<String>,
}

impl Known {
    fn of(row: &Value) -> Option<Known> {
        Some(Known {
            id: row["id"].as_str()?.to_string(),
            parent: row["parentId"].as_str().map(str::to_string),
        })
    }
}

/// SKUs compare as Shopware compares them: without regard to case.
pub fn norm(sku: &str) -> String {
    sku.trim().to_lowercase()
}

/// Searches products by number, a page of numbers per request, reading `fields` (plus `id`,
/// `productNumber` and `parentId`); the rows by normalised SKU. What it finds is cached.
pub fn by_numbers(
    client: &mut Client,
    numbers: &[String],
    fields: &[&str],
) -> Result<BTreeMap<String, Value>, PluginError> {
    let mut includes: Vec<&str> = vec!["id", "productNumber", "parentId"];
    for field in fields {
        if !includes.contains(field) {
            includes.push(field);
        }
    }
    let mut found = BTreeMap::new();
    let size = client.settings.page_size as usize;
    for chunk in numbers.chunks(size) {
        let criteria = json!({
            "filter": [equals_any("productNumber", chunk)],
            "limit": chunk.len(),
            "includes": {"product": includes},
        });
        for row in client.search("product", &criteria)?.rows {
            if let Some(number) = row["productNumber"].as_str() {
                found.insert(norm(number), row);
            }
        }
    }
    remember(
        found
            .iter()
            .filter_map(|(sku, row)| Some((sku.clone(), Known::of(row)?))),
    );
    Ok(found)
}

/// Ids cached for these SKUs.
pub fn cached(skus: &[String]) -> BTreeMap<String, Known> {
    let keys: Vec<String> = skus
        .iter()
        .map(|s| format!("{CACHE_PREFIX}{}", norm(s)))
        .collect();
    skus.iter()
        .zip(kv::get_many(&keys))
        .filter_map(|(sku, value)| {
            let value = value?;
            let mut parts = value.split(' ');
            let id = parts.next()?.to_string();
            let parent = parts.next().map(str::to_string);
            Some((norm(sku), Known { id, parent }))
        })
        .collect()
}

/// Caches SKU → id.
pub fn remember(entries: impl IntoIterator<Item = (String, Known)>) {
    let entries: Vec<(String, String)> = entries
        .into_iter()
        .map(|(sku, known)| {
            let value = match known.parent {
                Some(parent) => format!("{} {parent}", known.id),
                None => known.id,
            };
            (format!("{CACHE_PREFIX}{}", norm(&sku)), value)
        })
        .collect();
    if !entries.is_empty() {
        kv::set_many(&entries);
    }
}

/// Forgets cached ids that turned out stale.
pub fn forget(skus: &[String]) {
    for sku in skus {
        kv::delete(&format!("{CACHE_PREFIX}{}", norm(sku)));
    }
}

/// `find-products`: the products and variants with these SKUs; a variant's `id` is its
/// parent's and `variant-id` its own.
pub fn find_products(client: &mut Client, skus: &[String]) -> Result<Vec<ProductRef>, PluginError> {
    let found = by_numbers(client, skus, &[])?;
    Ok(skus
        .iter()
        .filter_map(|sku| {
            let known = Known::of(found.get(&norm(sku))?)?;
            Some(match known.parent {
                Some(parent) => ProductRef {
                    sku: sku.clone(),
                    id: parent,
                    variant_id: Some(known.id),
                },
                None => ProductRef {
                    sku: sku.clone(),
                    id: known.id,
                    variant_id: None,
                },
            })
        })
        .collect())
}
