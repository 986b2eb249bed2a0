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

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use tillbridge_sdk::kv;
use tillbridge_sdk::types::{PluginError, ProductRef};

use crate::client::{PAGE_SIZE, QUERIES_PER_MINUTE, READS_PER_MINUTE};
use crate::settings::Ccv;
use crate::wire::{Combination, Page, Product};

const PAGES_KEY: &str = "catalogue/pages";

/// Before the first pass, assume a catalogue of this many pages (1,000 products).
const PAGES_GUESS: usize = 4;

thread_local! {
    /// Every article's reference by SKU, as the first pass over the catalogue in this session
    /// (one run) read them: `find-products` over a large catalogue costs one pass a run, not one
    /// a batch. Articles created in CCV by someone else during the run are not in it (as they
    /// would not be in a pass made a batch earlier).
    static PASSED: RefCell<Option<HashMap<String, ProductRef>>> = const { RefCell::new(None) };
    /// The SKUs this session wrote (products and variants, created or updated, since an update
    /// may add variants): looked up afresh, never in [`PASSED`], so that an article created in
    /// this run is never reported missing and created twice.
    static WRITTEN: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

/// An article found: its product (shared by its variants), and for a variant its combination.
#[derive(Debug, Clone)]
pub struct Hit {
    pub product: Rc<Product>,
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

/// The distinct, non-empty SKUs of `skus`, sorted.
fn wanted<'a>(skus: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut wanted: Vec<&str> = skus.into_iter().filter(|s| !s.is_empty()).collect();
    wanted.sort_unstable();
    wanted.dedup();
    wanted
}

/// The articles with these SKUs; SKUs not found are left out.
pub fn lookup(ccv: &Ccv, skus: &[&str]) -> Result<HashMap<String, Hit>, PluginError> {
    let wanted = wanted(skus.iter().copied());
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    if queries_are_quicker(wanted.len(), remembered_pages()) {
        return by_queries(ccv, &wanted);
    }
    let mut found = HashMap::new();
    pass(ccv, |sku, hit| {
        if wanted.binary_search(&sku).is_ok() {
            keep(&mut found, sku, hit, |old: &Hit| old.combination.is_some());
        }
    })?;
    Ok(found)
}

/// How many pages the last pass over the catalogue took (a guess before the first).
fn remembered_pages() -> usize {
    kv::get(PAGES_KEY)
        .and_then(|p| p.parse().ok())
        .unwrap_or(PAGES_GUESS)
}

/// Each SKU through `productqueries`.
fn by_queries(ccv: &Ccv, wanted: &[&str]) -> Result<HashMap<String, Hit>, PluginError> {
    let mut found = HashMap::new();
    for sku in wanted {
        if let Some(hit) = query(ccv, sku)? {
            found.insert(sku.to_string(), hit);
        }
    }
    Ok(found)
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
                product: Rc::new(product),
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
            product: Rc::new(product),
            combination: None,
        }))
}

/// One pass over the catalogue, page by page, every article given to `take` with its SKU:
/// products in CCV's order of ids, each product's combinations before the product itself.
/// Remembers how many pages it took. Only what `take` keeps stays in memory, not the catalogue.
fn pass(ccv: &Ccv, mut take: impl FnMut(&str, Hit)) -> Result<(), PluginError> {
    let query = [("expand", "attributecombinations"), ("orderby", "id")];
    let (mut start, mut pages) = (0, 0);
    loop {
        let page: Page<Product> = ccv.api.page("products", &query, start, PAGE_SIZE)?;
        pages += 1;
        let more = page.next.is_some() && !page.items.is_empty();
        start += page.items.len();
        for product in page.items {
            articles(product, &mut take);
        }
        if !more {
            kv::set_many(&[(PAGES_KEY.to_string(), pages.to_string())]);
            return Ok(());
        }
    }
}

/// The articles of one product, given to `take` with their SKUs: its combinations (those with
/// a SKU), then the product itself.
fn articles(mut product: Product, take: &mut impl FnMut(&str, Hit)) {
    let combinations = product.attributecombinations.collection.take();
    let product = Rc::new(product);
    for combination in combinations.unwrap_or_default() {
        if !combination.sku_number.is_empty() {
            let sku = combination.sku_number.clone();
            let combination = Some(combination);
            let product = product.clone();
            take(
                &sku,
                Hit {
                    product,
                    combination,
                },
            );
        }
    }
    if !product.productnumber.is_empty() {
        let sku = product.productnumber.clone();
        take(
            &sku,
            Hit {
                product,
                combination: None,
            },
        );
    }
}

/// Keeps `hit` as the article with `sku` unless one found before wins: combinations win over
/// products with the same number, older over newer (`is_variant` says what a kept one is).
fn keep<V>(found: &mut HashMap<String, V>, sku: &str, hit: V, is_variant: impl Fn(&V) -> bool) {
    let wins = found
        .get(sku)
        .is_none_or(|old| is_variant(&hit) && !is_variant(old));
    if wins {
        found.insert(sku.to_string(), hit);
    }
}

/// Notes the SKUs (products' and their variants') this session is about to write.
pub fn writing<'a>(skus: impl IntoIterator<Item = &'a str>) {
    WRITTEN.with_borrow_mut(|written| written.extend(skus.into_iter().map(String::from)));
}

/// `find-products`: SKUs written in this session through `productqueries`; the others by
/// query when that is quicker, else from this session's pass over the catalogue (made once).
pub fn find(ccv: &Ccv, skus: Vec<String>) -> Result<Vec<ProductRef>, PluginError> {
    let (recent, rest): (Vec<&str>, Vec<&str>) = wanted(skus.iter().map(String::as_str))
        .into_iter()
        .partition(|sku| WRITTEN.with_borrow(|written| written.contains(*sku)));
    let references = |found: HashMap<String, Hit>| {
        found.into_iter().map(|(sku, hit)| {
            let reference = hit.reference(&sku);
            (sku, reference)
        })
    };
    let mut found: HashMap<String, ProductRef> = references(by_queries(ccv, &recent)?).collect();
    let passed = PASSED.with_borrow(Option::is_some);
    if !passed && queries_are_quicker(rest.len(), remembered_pages()) {
        found.extend(references(by_queries(ccv, &rest)?));
    } else if !rest.is_empty() {
        if !passed {
            let mut all = HashMap::new();
            pass(ccv, |sku, hit| {
                keep(&mut all, sku, hit.reference(sku), |r: &ProductRef| {
                    r.variant_id.is_some()
                })
            })?;
            PASSED.set(Some(all));
        }
        PASSED.with_borrow(|all| {
            let all = all.as_ref().expect("the pass was just made");
            found.extend(
                rest.iter()
                    .filter_map(|sku| Some((sku.to_string(), all.get(*sku)?.clone()))),
            );
        });
    }
    Ok(skus
        .iter()
        .filter_map(|sku| found.get(sku).cloned())
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
        let mut found = HashMap::new();
        for json in [
            r#"{"id": 1, "productnumber": "TEE", "attributecombinations": {"collection": [
                {"id": 11, "sku_number": "TEE-M"}, {"id": 12, "sku_number": ""}]}}"#,
            r#"{"id": 2, "productnumber": "TEE-M"}"#,
            r#"{"id": 3, "productnumber": "MUG"}"#,
            r#"{"id": 4, "productnumber": "MUG"}"#,
        ] {
            articles(product(json), &mut |sku, hit| {
                keep(&mut found, sku, hit, |h: &Hit| h.combination.is_some())
            });
        }
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
