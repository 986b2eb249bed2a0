//! Finding articles by SKU: a simple product's `productnumber`, a variant's `sku_number` (on its
//! attribute combination).
//!
//! Two ways, whichever takes less time under CCV's limits:
//! - per SKU, `GET /productqueries?skunumber=X`, then (if no variant has that SKU)
//!   `GET /productqueries?productnumber=X`: CCV's look-up across products and combinations. One
//!   parameter per request, because CCV does not document whether several combine with AND or
//!   OR; with one, either way gives the same answer. CCV allows 30 of these a minute;
//! - one pass over the catalogue, `GET /products?expand=attributecombinations` in pages of 250,
//!   at 150 a minute. How many pages that takes is remembered from the last pass.

use std::collections::HashMap;

use tillbridge_sdk::kv;
use tillbridge_sdk::types::{PluginError, ProductRef};

use crate::client::{PAGE_SIZE, QUERIES_PER_MINUTE, READS_PER_MINUTE};
use crate::settings::Ccv;
use crate::wire::{Combination, Page, Product};

const PAGES_KEY: &str = "catalogue/pages";

/// Before the first pass, assume a catalogue of this many pages (1,000 products).
const PAGES_GUESS: usize = 4;

/// An article found: its product, and for a variant its combination.
#[derive(Debug, Clone)]
pub struct Hit {
    pub product: Product,
    pub combination: Option<Combination>,
}

impl Hit {
    /// The reference the host links.
    pub fn reference(&self, sku: &str) -> ProductRef {
        ProductRef {
            sku: sku.to_string(),
            id: self.product.id.to_string(),
            variant_id: self.combination.as_ref().map(|c| c.id.to_string()),
        }
    }
}

/// The articles with these SKUs; SKUs not found are left out.
pub fn lookup(ccv: &Ccv, skus: &[&str]) -> Result<HashMap<String, Hit>, PluginError> {
    let mut wanted: Vec<&str> = skus.iter().copied().filter(|s| !s.is_empty()).collect();
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let pages = kv::get(PAGES_KEY)
        .and_then(|p| p.parse().ok())
        .unwrap_or(PAGES_GUESS);
    if queries_are_quicker(wanted.len(), pages) {
        let mut found = HashMap::new();
        for sku in wanted {
            if let Some(hit) = query(ccv, sku)? {
                found.insert(sku.to_string(), hit);
            }
        }
        return Ok(found);
    }
    let mut all = scan(ccv)?;
    all.retain(|sku, _| wanted.binary_search(&sku.as_str()).is_ok());
    Ok(all)
}

/// Whether looking `skus` up one by one (up to 2 queries each, at 30 a minute) takes less of
/// CCV's allowance than a pass over a catalogue of `pages` (at 150 a minute).
fn queries_are_quicker(skus: usize, pages: usize) -> bool {
    let queries = 2 * skus as u64 * u64::from(READS_PER_MINUTE);
    queries <= pages as u64 * u64::from(QUERIES_PER_MINUTE)
}

/// One SKU through `productqueries`, one parameter per request. A variant's combination wins
/// over a product with the same number (the number of a configurable parent is not an article),
/// so `skunumber` goes first.
fn query(ccv: &Ccv, sku: &str) -> Result<Option<Hit>, PluginError> {
    let variants: Page<Product> = ccv.api.get("productqueries", &[("skunumber", sku)])?;
    for mut product in variants.items {
        let combinations = product.attributecombinations.collection.take();
        if let Some(combination) = combinations
            .into_iter()
            .flatten()
            .find(|c| c.sku_number == sku)
        {
            return Ok(Some(Hit {
                product,
                combination: Some(combination),
            }));
        }
    }
    // `productnumber` also finds combinations by their own `product_number`: those come with the
    // combination and are not the article with this SKU.
    let products: Page<Product> = ccv.api.get("productqueries", &[("productnumber", sku)])?;
    Ok(products
        .items
        .into_iter()
        .find(|p| p.productnumber == sku && p.attributecombinations.collection.is_none())
        .map(|product| Hit {
            product,
            combination: None,
        }))
}

/// Every article of the catalogue by SKU, in one pass; remembers how many pages it took.
pub fn scan(ccv: &Ccv) -> Result<HashMap<String, Hit>, PluginError> {
    let products: Vec<Product> = ccv.api.all(
        "products",
        &[("expand", "attributecombinations"), ("orderby", "id")],
    )?;
    let pages = products.len().div_ceil(PAGE_SIZE).max(1);
    kv::set_many(&[(PAGES_KEY.to_string(), pages.to_string())]);
    Ok(index(products))
}

/// Articles by SKU: combinations win over products with the same number, older over newer.
pub fn index(products: Vec<Product>) -> HashMap<String, Hit> {
    let mut found: HashMap<String, Hit> = HashMap::new();
    for mut product in products {
        let combinations = product
            .attributecombinations
            .collection
            .take()
            .unwrap_or_default();
        for combination in combinations {
            if !combination.sku_number.is_empty() {
                let sku = combination.sku_number.clone();
                let hit = Hit {
                    product: product.clone(),
                    combination: Some(combination),
                };
                match found.get(&sku) {
                    Some(old) if old.combination.is_some() => {}
                    _ => {
                        found.insert(sku, hit);
                    }
                }
            }
        }
        if !product.productnumber.is_empty() && !found.contains_key(&product.productnumber) {
            let sku = product.productnumber.clone();
            found.insert(
                sku,
                Hit {
                    product,
                    combination: None,
                },
            );
        }
    }
    found
}

/// `find-products`.
pub fn find(ccv: &Ccv, skus: Vec<String>) -> Result<Vec<ProductRef>, PluginError> {
    let wanted: Vec<&str> = skus.iter().map(String::as_str).collect();
    let found = lookup(ccv, &wanted)?;
    Ok(skus
        .iter()
        .filter_map(|sku| Some(found.get(sku)?.reference(sku)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_skus_are_looked_up_only_in_a_large_catalogue() {
        assert!(
            !queries_are_quicker(1, PAGES_GUESS),
            "a scan of 4 pages is quicker"
        );
        assert!(queries_are_quicker(1, 10));
        assert!(queries_are_quicker(4, 40), "10,000 products");
        assert!(!queries_are_quicker(5, 40));
    }

    fn product(json: &str) -> Product {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn variants_win_over_a_parent_number_and_older_over_newer() {
        let found = index(vec![
            product(
                r#"{"id": 1, "productnumber": "TEE", "attributecombinations": {"collection": [
                    {"id": 11, "sku_number": "TEE-M"}, {"id": 12, "sku_number": ""}]}}"#,
            ),
            product(r#"{"id": 2, "productnumber": "TEE-M"}"#),
            product(r#"{"id": 3, "productnumber": "MUG"}"#),
            product(r#"{"id": 4, "productnumber": "MUG"}"#),
        ]);
        assert_eq!(found.len(), 3, "a combination without SKU is no article");
        let tee_m = found["TEE-M"].reference("TEE-M");
        assert_eq!(
            (tee_m.id.as_str(), tee_m.variant_id.as_deref()),
            ("1", Some("11"))
        );
        assert_eq!(found["TEE"].combination.as_ref().map(|c| c.id), None);
        assert_eq!(found["MUG"].product.id, 3);
    }
}
