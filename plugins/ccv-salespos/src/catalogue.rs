//! Finding articles by SKU: a simple product's `productnumber`, a variant's `sku_number` (on its
//! attribute combination).
//!
//! Two ways, whichever costs fewer requests:
//! - one `GET /productqueries?productnumber=X&skunumber=X` per SKU (CCV's look-up across products
//!   and combinations), for a few SKUs;
//! - one pass over the catalogue, `GET /products?expand=attributecombinations` in pages of 250,
//!   for many. How many pages that takes is remembered from the last pass.

use std::collections::HashMap;

use tillbridge_sdk::kv;
use tillbridge_sdk::types::{PluginError, ProductRef};

use crate::client::PAGE_SIZE;
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
    if wanted.len() <= pages {
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

/// One SKU through `productqueries`. A variant's combination wins over a product with the same
/// number (the number of a configurable parent is not an article).
fn query(ccv: &Ccv, sku: &str) -> Result<Option<Hit>, PluginError> {
    let page: Page<Product> = ccv.api.get(
        "productqueries",
        &[("productnumber", sku), ("skunumber", sku)],
    )?;
    let mut product_hit = None;
    for mut product in page.items {
        match product.attributecombinations.collection.take() {
            Some(combinations) => {
                if let Some(combination) = combinations.into_iter().find(|c| c.sku_number == sku) {
                    return Ok(Some(Hit {
                        product,
                        combination: Some(combination),
                    }));
                }
            }
            None if product.productnumber == sku && product_hit.is_none() => {
                product_hit = Some(Hit {
                    product,
                    combination: None,
                });
            }
            None => {}
        }
    }
    Ok(product_hit)
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
