//! Sources page: every record comes exactly once however small the pages, and a cursor taken
//! from one page resumes in a fresh instance where that page stopped.

use std::collections::{BTreeMap, BTreeSet};

use super::{Harness, Row};
use crate::runtime::bindings::exports::tillbridge::plugin as guest;
use crate::runtime::{CallError, Capability, Session};

const EVERY_RECORD_ONCE: &str = "paging returns every record once";
const CURSOR_RESUMES: &str = "a cursor resumes where it stopped";

/// The small page: every border between records becomes a page border.
const SMALL: u32 = 2;
/// The large page: the reference, read in as few pages as the source allows.
const LARGE: u32 = 100;
/// No source in the suite's small datasets needs more pages than this.
const MAX_PAGES: usize = 500;

/// One page: the records' keys, where it ended, whether more follow.
struct Page {
    keys: Vec<String>,
    cursor: Option<String>,
    more: bool,
}

/// Reads one page of `capability`'s records.
async fn read(
    session: &mut Session,
    capability: Capability,
    cursor: Option<String>,
    limit: u32,
) -> Result<Page, CallError> {
    Ok(match capability {
        Capability::ProductsSource => {
            let page = session
                .read_products(&guest::products_source::ProductQuery {
                    cursor,
                    changed_since: None,
                    skus: Vec::new(),
                    properties: Vec::new(),
                    limit,
                })
                .await?;
            Page {
                keys: page.products.into_iter().map(|p| p.sku).collect(),
                cursor: page.cursor,
                more: page.more,
            }
        }
        Capability::StockSource => {
            let page = session
                .read_stock(&guest::stock_source::StockQuery {
                    cursor,
                    skus: Vec::new(),
                    limit,
                })
                .await?;
            Page {
                keys: page.levels.into_iter().map(|l| l.sku).collect(),
                cursor: page.cursor,
                more: page.more,
            }
        }
        _ => {
            let page = session
                .read_orders(&guest::orders_source::OrderQuery {
                    cursor,
                    changed_since: None,
                    order_states: Vec::new(),
                    payment_states: Vec::new(),
                    numbers: Vec::new(),
                    limit,
                })
                .await?;
            Page {
                keys: page.orders.into_iter().map(|o| o.number).collect(),
                cursor: page.cursor,
                more: page.more,
            }
        }
    })
}

/// Every key, page after page, in the order read.
async fn read_all(
    harness: &Harness,
    capability: Capability,
    limit: u32,
) -> Result<Vec<String>, String> {
    let mut session = harness.session().await.map_err(|e| e.to_string())?;
    let mut keys = Vec::new();
    let mut cursor = None;
    for _ in 0..MAX_PAGES {
        let page = read(&mut session, capability, cursor.clone(), limit)
            .await
            .map_err(|e| format!("reading pages of {limit}: {e}"))?;
        keys.extend(page.keys);
        if !page.more {
            return Ok(keys);
        }
        if page.cursor.is_none() || page.cursor == cursor {
            return Err(format!(
                "a page of {limit} said more follow but gave {} cursor",
                if page.cursor.is_none() {
                    "no"
                } else {
                    "the same"
                }
            ));
        }
        cursor = page.cursor;
    }
    Err(format!(
        "more than {MAX_PAGES} pages of {limit}: the cursor never ends"
    ))
}

/// Both paging checks for one source.
pub async fn run(harness: &Harness, capability: Capability) -> Vec<Row> {
    vec![
        every_record_once(harness, capability).await,
        cursor_resumes(harness, capability).await,
    ]
}

async fn every_record_once(harness: &Harness, capability: Capability) -> Row {
    let (check, name) = (EVERY_RECORD_ONCE, capability.interface());
    let reference = match read_all(harness, capability, LARGE).await {
        Ok(keys) => keys.into_iter().collect::<BTreeSet<_>>(),
        Err(e) => return Row::fail(check, name, e),
    };
    if reference.len() <= SMALL as usize {
        return Row::skipped(
            check,
            name,
            format!(
                "the target holds {} record(s); crossing a page border needs more than {SMALL}",
                reference.len()
            ),
        );
    }
    let small = match read_all(harness, capability, SMALL).await {
        Ok(keys) => keys,
        Err(e) => return Row::fail(check, name, e),
    };
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for key in &small {
        *counts.entry(key).or_default() += 1;
    }
    let twice: Vec<&str> = counts
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| *k)
        .collect();
    let lost: Vec<&str> = reference
        .iter()
        .filter(|k| !counts.contains_key(k.as_str()))
        .map(String::as_str)
        .collect();
    if !lost.is_empty() {
        Row::fail(
            check,
            name,
            format!(
                "in pages of {SMALL}, {} of {} records were lost at page borders: {}",
                lost.len(),
                reference.len(),
                lost.join(", ")
            ),
        )
    } else if !twice.is_empty() {
        Row::fail(
            check,
            name,
            format!(
                "in pages of {SMALL}, these came more than once: {}",
                twice.join(", ")
            ),
        )
    } else {
        Row::pass(
            check,
            name,
            format!(
                "{} records in pages of {SMALL}, each once, as in pages of {LARGE}",
                reference.len()
            ),
        )
    }
}

async fn cursor_resumes(harness: &Harness, capability: Capability) -> Row {
    let (check, name) = (CURSOR_RESUMES, capability.interface());
    let first = async {
        let mut session = harness.session().await?;
        let first = read(&mut session, capability, None, SMALL).await?;
        let second = match &first.cursor {
            Some(cursor) if first.more => {
                Some(read(&mut session, capability, Some(cursor.clone()), SMALL).await?)
            }
            _ => None,
        };
        Ok::<_, CallError>((first, second))
    };
    let (first, second) = match first.await {
        Ok(pages) => pages,
        Err(e) => return Row::fail(check, name, e.to_string()),
    };
    let (Some(cursor), Some(second)) = (first.cursor.clone(), second) else {
        return Row::skipped(check, name, "the first page was the only one");
    };
    // A fresh instance, as after a restart: only the cursor carries over.
    let resumed = async {
        let mut session = harness.session().await?;
        read(&mut session, capability, Some(cursor), SMALL).await
    };
    let resumed = match resumed.await {
        Ok(page) => page,
        Err(e) => return Row::fail(check, name, format!("resuming in a fresh instance: {e}")),
    };
    let again: Vec<&String> = resumed
        .keys
        .iter()
        .filter(|k| first.keys.contains(k))
        .collect();
    if resumed.keys.is_empty() {
        Row::fail(
            check,
            name,
            "the page after the cursor is empty, though the first page said more follow",
        )
    } else if !again.is_empty() {
        Row::fail(
            check,
            name,
            format!(
                "the page after the cursor repeats the first page's {}",
                again
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    } else if resumed.keys != second.keys {
        Row::fail(
            check,
            name,
            format!(
                "from the same cursor, a fresh instance read [{}] where the first read [{}]",
                resumed.keys.join(", "),
                second.keys.join(", ")
            ),
        )
    } else {
        Row::pass(
            check,
            name,
            format!(
                "a fresh instance went on with [{}] after [{}]",
                resumed.keys.join(", "),
                first.keys.join(", ")
            ),
        )
    }
}
