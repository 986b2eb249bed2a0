//! Categories: webshop → point of sale (FLOWS.md §3.5).
//!
//! The whole tree (or the subtree the flow names) is read, parents before children, and written
//! level by level, so that every category's parent exists in the target before it. The target's
//! ids are kept in the link table; a category whose name, parent, position and visibility are as
//! before is not written again. Products are linked to their categories by the products flow.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use chrono::Utc;

use super::context::{Entry, RunContext, stops_run};
use super::fingerprint;
use crate::config::FlowSettings;
use crate::runtime::CallError;
use crate::runtime::bindings::exports::tillbridge::plugin::categories_sink::CategoryWrite;
use crate::runtime::bindings::tillbridge::plugin::types::{
    Category, PluginError, WriteAction, Written,
};
use crate::state::{Link, Outcome, link_key};

/// Runs the categories flow once.
pub async fn run(ctx: &mut RunContext<'_>) -> Result<()> {
    let flow = ctx.flow;
    let FlowSettings::Categories(settings) = &flow.settings else {
        bail!("flow {} is not a categories flow", ctx.name)
    };
    let mut source = ctx.connector(&flow.source).await?;
    let mut target = ctx.connector(&flow.target).await?;
    let mut transforms = ctx.transforms().await?;
    ctx.progress(format!("reading categories from {}", flow.source));
    let tree = match source.read_categories().await {
        Ok(tree) => tree,
        Err(e) => bail!("cannot read categories from {}: {e}", flow.source),
    };
    let tree: Vec<Category> = tree
        .into_iter()
        .filter(|c| c.path.starts_with(&settings.root))
        .collect();
    let mut levels: BTreeMap<usize, Vec<Category>> = BTreeMap::new();
    for category in ctx.map(&mut transforms, tree, RunContext::reject).await? {
        levels
            .entry(category.path.len())
            .or_default()
            .push(category);
    }
    // Ids in the target of the categories written so far in this run (for a dry run, made up).
    let mut written: BTreeMap<String, String> = BTreeMap::new();
    for (_, level) in levels {
        let mut writes = Vec::new();
        for category in level {
            let key = link_key("category", &flow.source, &flow.target, &category.id);
            let link = ctx.state.read()?.link(&key)?;
            let parent_target_id = match &category.parent_id {
                None => None,
                Some(parent) => match written.get(parent) {
                    Some(id) => Some(id.clone()),
                    None => {
                        let message = format!("its parent {parent} is not in {}", flow.target);
                        ctx.record(
                            Entry::new("category", &category.id, Outcome::Failed, message),
                            |_| Ok(()),
                        )?;
                        continue;
                    }
                },
            };
            let print = fingerprint::of(&(
                &category.name,
                &parent_target_id,
                category.position,
                category.active,
                &category.description,
            ));
            let target_id = link.as_ref().and_then(|l| l.ids.get(&flow.target).cloned());
            if let Some(id) = &target_id
                && link.as_ref().and_then(|l| l.fingerprint.as_deref()) == Some(print.as_str())
            {
                written.insert(category.id.clone(), id.clone());
                ctx.unchanged(
                    "category",
                    &category.id,
                    format!("{} as before", category.path.join(" › ")),
                );
                continue;
            }
            writes.push((
                CategoryWrite {
                    category,
                    parent_target_id,
                    target_id,
                },
                print,
            ));
        }
        if writes.is_empty() {
            continue;
        }
        let batch: Vec<CategoryWrite> = writes.iter().map(|(w, _)| w.clone()).collect();
        let answers: BTreeMap<String, Result<Written, PluginError>> = if ctx.dry_run {
            batch
                .iter()
                .map(|w| {
                    let (id, action) = match &w.target_id {
                        Some(id) => (id.clone(), WriteAction::Updated),
                        None => (format!("(new {})", w.category.id), WriteAction::Created),
                    };
                    (w.category.id.clone(), Ok(Written { id, action }))
                })
                .collect()
        } else {
            match target.write_categories(&batch).await {
                Ok(results) => results.into_iter().map(|r| (r.key, r.outcome)).collect(),
                Err(e) if stops_run(&e) => bail!("cannot write categories to {}: {e}", flow.target),
                Err(CallError::Plugin(error)) => batch
                    .iter()
                    .map(|w| (w.category.id.clone(), Err(error.clone())))
                    .collect(),
                Err(e) => bail!(e),
            }
        };
        for (write, print) in writes {
            let category = &write.category;
            let path = category.path.join(" › ");
            let answer = answers
                .get(&category.id)
                .cloned()
                .unwrap_or_else(|| Err(PluginError::Fatal("no answer".into())));
            match answer {
                Ok(Written { id, action }) => {
                    let (outcome, verb) = match (action, write.target_id.is_some(), ctx.dry_run) {
                        // The target had it already (made by hand): taken over, not made twice.
                        (WriteAction::Unchanged, false, _) => {
                            (Outcome::Unchanged, "already there, taken over")
                        }
                        (WriteAction::Unchanged, true, _) => (Outcome::Unchanged, "as before"),
                        (_, true, false) => (Outcome::Updated, "updated"),
                        (_, false, false) => (Outcome::Created, "created"),
                        (_, true, true) => (Outcome::Updated, "would be updated"),
                        (_, false, true) => (Outcome::Created, "would be created"),
                    };
                    written.insert(category.id.clone(), id.clone());
                    let link = Link {
                        ids: BTreeMap::from([
                            (flow.source.clone(), category.id.clone()),
                            (flow.target.clone(), id.clone()),
                        ]),
                        variant_ids: BTreeMap::new(),
                        fingerprint: Some(print),
                        synced_at: Utc::now(),
                        flow: ctx.name.to_string(),
                    };
                    let key = link_key("category", &flow.source, &flow.target, &category.id);
                    let entry = Entry::new(
                        "category",
                        &category.id,
                        outcome,
                        format!("{path} {verb} as category {id}"),
                    )
                    .sent(category)
                    .answer(id);
                    ctx.record(entry, |w| w.put_link(&key, &link))?;
                }
                Err(error) => {
                    let message = format!(
                        "{path} not written to {}: {}",
                        flow.target,
                        CallError::Plugin(error)
                    );
                    ctx.record(
                        Entry::new("category", &category.id, Outcome::Failed, message)
                            .sent(category),
                        |_| Ok(()),
                    )?;
                }
            }
        }
    }
    Ok(())
}
