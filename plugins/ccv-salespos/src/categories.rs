//! Categories: the tree written parents first, and products put in categories.
//!
//! The host sends parents before children and gives each its parent's CCV id. Within one batch a
//! child's parent may be new too (its CCV id unknown to the host when it made the batch): the
//! connector orders the batch parents first itself and takes the parent's id from what it just
//! wrote. Before anything is created, the categories CCV has are read once: a category with the
//! same name under the same parent is taken over (the merchant made it by hand, or a create whose
//! answer was lost made it), never made twice. Creates are also guarded by intents, like products
//! and orders.
//!
//! Costs: one pass over the categories (⌈categories/250⌉ reads) for a batch with new categories;
//! one `POST /categories` per new category, one `PATCH /categories/:id` per update; one
//! `POST /producttocategories` per link (a link that exists already answers `500.40` and is
//! reported unchanged, so no read is needed first).

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use tillbridge_sdk::clock;
use tillbridge_sdk::types::{PluginError, RecordResult, WriteAction, Written};

use crate::exports::tillbridge::plugin::categories_sink::{CategoryLink, CategoryWrite};
use crate::memory::Intents;
use crate::results::{Batch, written};
use crate::settings::Ccv;
use crate::wire::{Created, Named, parse_id};

const INTENTS: Intents = Intents::new("categories/intent/");

/// A category as listed, with its parent.
#[derive(Debug, serde::Deserialize)]
struct Listed {
    id: u64,
    #[serde(default)]
    name: String,
    #[serde(default)]
    parentcategory: Option<Named>,
}

/// The batch in an order where every parent in it comes before its children.
fn parents_first(categories: &[CategoryWrite]) -> Vec<usize> {
    let position: HashMap<&str, usize> = categories
        .iter()
        .enumerate()
        .map(|(i, c)| (c.category.id.as_str(), i))
        .collect();
    let depth = |mut i: usize| {
        let mut depth = 0;
        while let Some(parent) = categories[i]
            .category
            .parent_id
            .as_deref()
            .and_then(|p| position.get(p))
        {
            depth += 1;
            i = *parent;
            if depth > categories.len() {
                break; // a cycle: leave it to CCV to refuse
            }
        }
        depth
    };
    let mut order: Vec<usize> = (0..categories.len()).collect();
    order.sort_by_key(|&i| depth(i));
    order
}

/// `write-categories`: one result per category, keyed by its source id, in the order given.
pub fn write(ccv: &Ccv, categories: Vec<CategoryWrite>) -> Result<Vec<RecordResult>, PluginError> {
    let creates: Vec<&str> = categories
        .iter()
        .filter(|c| c.target_id.is_none())
        .map(|c| c.category.id.as_str())
        .collect();
    let existing: Vec<Listed> = if creates.is_empty() {
        Vec::new()
    } else {
        ccv.api.all("categories", &[])?
    };
    INTENTS.open(&creates, clock::now_millis());

    let in_batch: Vec<&str> = categories.iter().map(|c| c.category.id.as_str()).collect();
    let mut here: HashMap<String, u64> = HashMap::new();
    let mut outcomes: Vec<Option<Result<Written, PluginError>>> = vec![None; categories.len()];
    let mut halted: Option<u64> = None;
    for i in parents_first(&categories) {
        let c = &categories[i];
        let parent_failed = c.parent_target_id.is_none()
            && c.category
                .parent_id
                .as_deref()
                .is_some_and(|p| in_batch.contains(&p) && !here.contains_key(p));
        let outcome = match halted {
            Some(ms) => Err(PluginError::RateLimited(ms)),
            None if parent_failed => Err(PluginError::invalid_field(
                format!(
                    "category {:?} waits for its parent, which could not be written",
                    c.category.name
                ),
                "parent-id",
            )),
            None => write_one(ccv, c, &here, &existing),
        };
        match &outcome {
            Ok(done) => {
                here.insert(c.category.id.clone(), done.id.parse().unwrap_or_default());
            }
            Err(PluginError::RateLimited(ms)) => {
                halted.get_or_insert(*ms);
            }
            Err(_) => {}
        }
        outcomes[i] = Some(outcome);
    }
    // A create that failed without an answer may have happened: its intent stays.
    let settled: Vec<&str> = categories
        .iter()
        .zip(&outcomes)
        .filter(|(c, o)| {
            c.target_id.is_none()
                && !matches!(
                    o,
                    Some(Err(PluginError::Transient(_) | PluginError::Fatal(_)))
                )
        })
        .map(|(c, _)| c.category.id.as_str())
        .collect();
    INTENTS.settle(&settled);
    Ok(categories
        .iter()
        .zip(outcomes)
        .map(|(c, outcome)| RecordResult {
            key: c.category.id.clone(),
            outcome: outcome.expect("every category was written or refused"),
        })
        .collect())
}

fn write_one(
    ccv: &Ccv,
    write: &CategoryWrite,
    here: &HashMap<String, u64>,
    existing: &[Listed],
) -> Result<Written, PluginError> {
    let category = &write.category;
    let parent = match (&write.parent_target_id, &category.parent_id) {
        (Some(id), _) => Some(parse_id(id, "category")?),
        (None, Some(source_parent)) => here.get(source_parent).copied(),
        (None, None) => None,
    };
    let mut body = Map::new();
    body.insert("name".into(), json!(category.name));
    if let Some(text) = &category.description {
        body.insert("description".into(), json!(text));
    }
    // CCV counts positions from 1, the canonical model from 0.
    body.insert("position".into(), json!(category.position + 1));
    body.insert("show_on_website".into(), json!(category.active));
    if let Some(parent) = parent {
        body.insert("parentcategory_id".into(), json!(parent));
    }
    if let Some(id) = &write.target_id {
        let id = parse_id(id, "category")?;
        return match ccv
            .api
            .patch(&format!("categories/{id}"), &Value::Object(body), true)
        {
            Ok(()) => Ok(written(id, WriteAction::Updated)),
            Err(failure) if failure.no_such_id() => Err(PluginError::NotFound(format!(
                "category {:?} (CCV id {id}) is no longer in CCV",
                category.name
            ))),
            Err(failure) => Err(failure.into()),
        };
    }
    // Already there, by name, under its parent: taken over, not made twice.
    let same = existing
        .iter()
        .find(|c| c.name == category.name && c.parentcategory.as_ref().map(|p| p.id) == parent);
    if let Some(found) = same {
        return Ok(written(found.id, WriteAction::Unchanged));
    }
    match ccv.api.post::<Created>("categories", &Value::Object(body)) {
        Ok(created) => Ok(written(created.id, WriteAction::Created)),
        Err(failure) if failure.refused() => Err(failure.into()),
        Err(failure) => Err(failure.maybe_done()),
    }
}

/// `link-products`: one `POST /producttocategories` per link.
pub fn link(ccv: &Ccv, links: Vec<CategoryLink>) -> Result<Vec<RecordResult>, PluginError> {
    let mut batch = Batch::default();
    for l in &links {
        let key = format!("{}/{}", l.product_id, l.category_id);
        batch.record(&key, || {
            let body = json!({
                "product_id": parse_id(&l.product_id, "product")?,
                "category_id": parse_id(&l.category_id, "category")?,
            });
            match ccv.api.post::<Created>("producttocategories", &body) {
                Ok(created) => Ok(written(created.id, WriteAction::Created)),
                Err(failure) if failure.already_exists() => {
                    Ok(written(&key, WriteAction::Unchanged))
                }
                Err(failure) => Err(failure.into()),
            }
        });
    }
    Ok(batch.finish())
}
