//! Stock levels per article (simple product or variant), and exactly how each number is made.
//!
//! CCV keeps one stock figure per article — `stock` on the product, or on each attribute
//! combination when the product keeps stock per combination — and has no reservation field. A
//! sale at the till that is not collected yet is an order in status 14 ("Reserved"). What such
//! an order does to `stock` is not documented (CCV's order status list only names it); the
//! `reserved_in_stock` setting says which rule holds (README, "Stock numbers"):
//! - `reserved` = the quantities of the article in rows of status-14 orders
//!   ([`crate::reservations`]);
//! - `physical` = what is on the shelf: CCV's `stock` while reserved goods still count in it
//!   (`reserved_in_stock = true`, the default), else `stock` + `reserved`;
//! - `available` = `physical`: CCV has no other figure, so the flows' default "available −
//!   reserved" subtracts reservations once, under either rule;
//! - `managed` = the product's `stockenabled`.
//!
//! CCV stock may have decimals (articles sold by weight): `physical` and `available` are rounded
//! down, `reserved` up, so that stock is never overstated.
//!
//! Cost of a run over the catalogue: ⌈P/250⌉ `GET /products?expand=attributecombinations`, and the
//! reservations: ⌈R/250⌉ `GET /orders?status=14` and one `GET /orders/:id/orderrows` per
//! reserved order not read before. The two are read side by side (a product page between
//! requests of the reservations, up to [`AHEAD_PAGES`] ahead), so that a run takes the longer
//! of the two at CCV's limits, not their sum; levels follow once the reservations are known.

use std::cell::RefCell;
use std::collections::VecDeque;

use tillbridge_sdk::decimal::Decimal;
use tillbridge_sdk::types::{PluginError, StockLevel};

use crate::catalogue;
use crate::client::PAGE_SIZE;
use crate::exports::tillbridge::plugin::stock_source::{StockPage, StockQuery};
use crate::reservations::{REQUESTS_PER_CALL, Reading, Reservations, Variant};
use crate::settings::Ccv;
use crate::wire::{Combination, Page, Product};

/// Pages of products read ahead of the reservations at most (10,000 products): a bound on what
/// the connector holds while a first run reads many reserved orders' rows.
const AHEAD_PAGES: usize = 40;

/// Whole units: down for what is there, up for what is taken.
fn down(amount: Decimal) -> i64 {
    i64::try_from(amount.floor()).unwrap_or(i64::MAX)
}

fn up(amount: Decimal) -> i64 {
    i64::try_from(amount.ceil()).unwrap_or(i64::MAX)
}

/// How CCV's `stock` relates to reservations.
#[derive(Debug, Clone, Copy)]
struct Rule {
    /// Whether `stock` still counts the goods of reserved orders.
    reserved_in_stock: bool,
}

impl Rule {
    fn level(self, sku: &str, stock: Decimal, reserved: Decimal, managed: bool) -> StockLevel {
        let shelf = if self.reserved_in_stock {
            stock
        } else {
            stock + reserved
        };
        StockLevel {
            sku: sku.to_string(),
            physical: down(shelf),
            reserved: up(reserved),
            available: down(shelf),
            managed,
        }
    }

    fn article_level(self, article: &Article, reserved: &Reservations) -> StockLevel {
        let of = reserved.of(article.product_id, article.variant.as_ref());
        self.level(&article.sku, article.stock, of, article.managed)
    }
}

/// What an article's level is made of, kept from the product read until the reservations are
/// known (a few numbers, not the whole product).
#[derive(Debug)]
struct Article {
    product_id: u64,
    sku: String,
    stock: Decimal,
    managed: bool,
    /// A variant's numbers (its reserved rows name it by them); none for a simple product.
    variant: Option<Variant>,
}

impl Article {
    fn of(product: &Product, combination: Option<&Combination>) -> Article {
        Article {
            product_id: product.id,
            sku: combination
                .map_or(&product.productnumber, |c| &c.sku_number)
                .clone(),
            stock: combination.map_or(product.stock, |c| c.stock),
            managed: product.stockenabled,
            variant: combination.map(Variant::from),
        }
    }

    /// A product's articles: its combinations with a SKU, or itself.
    fn all_of(product: &Product) -> Vec<Article> {
        let combinations = product.attributecombinations.items();
        if combinations.is_empty() {
            if product.productnumber.is_empty() {
                return Vec::new();
            }
            return vec![Article::of(product, None)];
        }
        combinations
            .iter()
            .filter(|c| !c.sku_number.is_empty())
            .map(|c| Article::of(product, Some(c)))
            .collect()
    }
}

/// Products read ahead of their levels, as their articles, in catalogue order (by id).
#[derive(Debug, Default)]
struct Shelf {
    /// The catalogue offset of the first product held.
    first: usize,
    /// Each product's articles (none for a product without a SKU: it still takes its place).
    products: VecDeque<Vec<Article>>,
    /// Articles held.
    articles: usize,
    /// Whether the catalogue's last page was read.
    ended: bool,
}

impl Shelf {
    fn at(first: usize) -> Shelf {
        Shelf {
            first,
            ..Shelf::default()
        }
    }

    /// Whether another page would hold more than [`AHEAD_PAGES`].
    fn full(&self) -> bool {
        self.products.len() >= AHEAD_PAGES * PAGE_SIZE
    }

    /// Reads the next page of products: one `GET /products`.
    fn fetch(&mut self, ccv: &Ccv) -> Result<(), PluginError> {
        let page: Page<Product> = ccv.api.page(
            "products",
            &[("expand", "attributecombinations"), ("orderby", "id")],
            self.first + self.products.len(),
            PAGE_SIZE,
        )?;
        self.ended = page.next.is_none() || page.items.is_empty();
        for product in &page.items {
            let articles = Article::all_of(product);
            self.articles += articles.len();
            self.products.push_back(articles);
        }
        Ok(())
    }

    /// Takes whole products off the front: as many as `limit` levels hold, at least one.
    fn take(&mut self, limit: usize) -> Vec<Article> {
        let mut taken = Vec::new();
        while let Some(next) = self.products.front() {
            if !taken.is_empty() && taken.len() + next.len() > limit {
                break;
            }
            let articles = self.products.pop_front().unwrap_or_default();
            self.articles -= articles.len();
            self.first += 1;
            taken.extend(articles);
        }
        taken
    }
}

/// How far a run has read: its reservations and the products read ahead.
#[derive(Debug, Default)]
struct Run {
    reading: Reading,
    shelf: Shelf,
}

thread_local! {
    /// This run's reading (one instance serves one run; a new instance starts over, with the
    /// reserved rows remembered in kv).
    static RUN: RefCell<Option<Run>> = const { RefCell::new(None) };
}

/// `read-stock`: a page of levels. The cursor is an offset: into the catalogue (by product id),
/// or into the SKUs asked for.
pub fn read(ccv: &Ccv, query: StockQuery) -> Result<StockPage, PluginError> {
    let start: usize = match &query.cursor {
        Some(cursor) => cursor.parse().map_err(|_| {
            PluginError::fatal(format!(
                "stock cursor {cursor:?} is not one of this connector's"
            ))
        })?,
        None => 0,
    };
    let mut run = RUN.with(|r| r.borrow_mut().take()).unwrap_or_default();
    if query.cursor.is_none() {
        run = Run::default();
    }
    // Whatever was read stays for the next call, also when this one fails.
    let page = page(ccv, &query, start, &mut run);
    RUN.with(|r| *r.borrow_mut() = Some(run));
    page
}

fn page(
    ccv: &Ccv,
    query: &StockQuery,
    start: usize,
    run: &mut Run,
) -> Result<StockPage, PluginError> {
    let limit = (query.limit as usize).max(1);
    let by_sku = !query.skus.is_empty();
    if run.shelf.first != start || by_sku {
        run.shelf = Shelf::at(start);
    }
    // The reservations and the products are different operations, each with its own limit at
    // CCV: a product page goes between the reading's requests, so that both are read side by
    // side.
    for _ in 0..REQUESTS_PER_CALL {
        if run.reading.done().is_some() {
            break;
        }
        run.reading.step(ccv)?;
        if !by_sku && !run.shelf.ended && !run.shelf.full() {
            run.shelf.fetch(ccv)?;
        }
    }
    let Some(reserved) = run.reading.done() else {
        // Still reading reserved orders' rows: nothing yet, the same place again next call.
        return Ok(StockPage {
            levels: Vec::new(),
            cursor: Some(start.to_string()),
            more: true,
        });
    };
    let rule = Rule {
        reserved_in_stock: ccv.settings.reserved_in_stock,
    };
    if by_sku {
        let window: Vec<&str> = query
            .skus
            .iter()
            .skip(start)
            .take(limit)
            .map(String::as_str)
            .collect();
        let found = catalogue::lookup(ccv, &window)?;
        let levels = window
            .iter()
            .filter_map(|sku| {
                let hit = found.get(*sku)?;
                let article = Article::of(&hit.product, hit.combination.as_ref());
                Some(rule.article_level(&article, reserved))
            })
            .collect();
        let next = start + window.len();
        let more = next < query.skus.len();
        return Ok(StockPage {
            levels,
            cursor: more.then(|| next.to_string()),
            more,
        });
    }
    while run.shelf.articles < limit && !run.shelf.ended {
        run.shelf.fetch(ccv)?;
    }
    let levels = run
        .shelf
        .take(limit)
        .iter()
        .map(|article| rule.article_level(article, reserved))
        .collect();
    let more = !run.shelf.products.is_empty() || !run.shelf.ended;
    Ok(StockPage {
        levels,
        cursor: Some(run.shelf.first.to_string()),
        more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEPT: Rule = Rule {
        reserved_in_stock: true,
    };

    #[test]
    fn stock_is_never_overstated() {
        let level = KEPT.level("W", "12.5".parse().unwrap(), "0.25".parse().unwrap(), true);
        assert_eq!(
            (level.physical, level.available, level.reserved),
            (12, 12, 1)
        );
        let negative = KEPT.level("X", "-1.5".parse().unwrap(), Decimal::ZERO, false);
        assert_eq!(negative.physical, -2, "sold below zero stays below zero");
    }

    #[test]
    fn when_reservations_have_left_stock_the_shelf_holds_them_too() {
        let (stock, reserved) = (Decimal::from(3), Decimal::from(2));
        let kept = KEPT.level("X", stock, reserved, true);
        assert_eq!((kept.physical, kept.available, kept.reserved), (3, 3, 2));
        let taken = Rule {
            reserved_in_stock: false,
        }
        .level("X", stock, reserved, true);
        assert_eq!((taken.physical, taken.available, taken.reserved), (5, 5, 2));
        assert_eq!(
            taken.available - taken.reserved,
            3,
            "available − reserved is CCV's stock: reservations subtracted once"
        );
    }
}
