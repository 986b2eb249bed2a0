//! Products: either way, created or updated by SKU (FLOWS.md §3).
//!
//! A run reads the products changed since the last run, and the whole catalogue once every
//! `full_sweep_hours` ([`super::changes`]); it writes only what changed: each product's
//! fingerprint covers what an update would write, and is kept in a link that both directions of a
//! two-way sync share, so a product written one way and read back the other way is recognised as
//! unchanged (no echo); the two directions should then map the same option groups, properties
//! and fields, or what one writes looks changed to the other. On create everything mapped is
//! sent; on update only the fields the "update product information" switch and the per-field
//! choices allow (§3.3). Option groups (variants) and properties are mapped by the merchant
//! (§3.4); products are linked to the categories the categories flow created (§3.5). Images are
//! not synced (§3.6).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Result, bail};
use chrono::Utc;
use serde::Serialize;

use super::changes::Plan;
use super::context::{Entry, RunContext, stops_run};
use super::fingerprint;
use crate::config::{FieldPolicy, FlowKind, FlowSettings, ProductsSettings};
use crate::mapper::Transforms;
use crate::runtime::bindings::exports::tillbridge::plugin::products_sink::{
    ProductFields, ProductWrite,
};
use crate::runtime::bindings::exports::tillbridge::plugin::products_source::ProductQuery;
use crate::runtime::bindings::tillbridge::plugin::types::{OptionValue, PluginError, Product};
use crate::runtime::{CallError, Session};
use crate::state::{Link, Outcome, link_key};

/// Said in every products run: the flow does not pretend to sync images.
pub const NO_IMAGES: &str = "images are not synced by this flow: add them in each system yourself";

/// Fields written on update regardless of the switch (stock and price may always be updated).
const ALWAYS: [&str; 4] = ["price", "active", "variants", "categories"];
/// Fields the "update product information" switch governs.
const INFORMATION: [&str; 5] = [
    "name",
    "description",
    "short-description",
    "ean",
    "properties",
];

/// The contract's flags for fields named as in flows.toml (the WIT's names).
fn field_flags(names: &[String]) -> ProductFields {
    ProductFields::NAMED
        .iter()
        .filter(|(name, _)| names.iter().any(|n| n == name))
        .fold(ProductFields::empty(), |all, (_, flag)| all | *flag)
}

/// Runs the products flow once.
pub async fn run(ctx: &mut RunContext<'_>) -> Result<()> {
    let flow = ctx.flow;
    let FlowSettings::Products(settings) = &flow.settings else {
        bail!("flow {} is not a products flow", ctx.name)
    };
    ctx.note(NO_IMAGES);
    let two_way = ctx.integration.config.flows.values().any(|f| {
        f.kind == FlowKind::Products && f.source == flow.target && f.target == flow.source
    });
    let mut products = ProductsFlow {
        settings,
        update_fields: update_fields(settings),
        // Category ids differ per direction, so a two-way sync leaves them out of the
        // fingerprint (or every product would look changed when read back).
        categories_in_fingerprint: !two_way,
        source: ctx.connector(&flow.source).await?,
        target: ctx.connector(&flow.target).await?,
    };
    let mut transforms = ctx.transforms().await?;
    let plan = Plan::new(ctx, settings, ctx.full)?;
    ctx.note(plan.describe());
    // The products that failed last time are read after the changed ones, less those the
    // changed ones already brought (a failed product changed since would else be handled twice).
    let mut seen = BTreeSet::new();
    let changed_since = plan.changed_since.map(|t| t.to_rfc3339());
    if !read_pass(
        ctx,
        &mut products,
        &mut transforms,
        changed_since,
        &[],
        &mut seen,
    )
    .await?
    {
        return Ok(());
    }
    let retry: Vec<String> = plan
        .retry
        .iter()
        .filter(|sku| !seen.contains(*sku))
        .cloned()
        .collect();
    if !retry.is_empty()
        && !read_pass(ctx, &mut products, &mut transforms, None, &retry, &mut seen).await?
    {
        return Ok(());
    }
    let failed = ctx.failed_keys("product");
    plan.complete(ctx, failed)
}

/// Reads and syncs every page of one read (changed since a time, or these SKUs), adding the
/// SKUs it brought to `seen`. False when the run was cancelled.
async fn read_pass(
    ctx: &mut RunContext<'_>,
    products: &mut ProductsFlow<'_>,
    transforms: &mut Transforms,
    changed_since: Option<String>,
    skus: &[String],
    seen: &mut BTreeSet<String>,
) -> Result<bool> {
    let (flow, settings) = (ctx.flow, products.settings);
    let mut cursor = None;
    loop {
        ctx.progress(format!("reading products from {}", flow.source));
        let query = ProductQuery {
            cursor: cursor.clone(),
            changed_since: changed_since.clone(),
            skus: skus.to_vec(),
            properties: settings.properties.keys().cloned().collect(),
            limit: settings.batch_size.max(1),
        };
        let page = match products.source.read_products(&query).await {
            Ok(page) => page,
            Err(e) => bail!("cannot read products from {}: {e}", flow.source),
        };
        for rejected in &page.rejected {
            seen.insert(rejected.key.clone());
            ctx.unreadable("product", &rejected.key, &rejected.error)?;
        }
        seen.extend(page.products.iter().map(|p| p.sku.clone()));
        let grouped: Vec<Product> = page
            .products
            .into_iter()
            .map(|p| products.map_groups(p))
            .collect();
        let batch = ctx.map(transforms, grouped, RunContext::reject).await?;
        products.sync(ctx, batch).await?;
        if ctx.cancelled() {
            return Ok(false);
        }
        if !page.more {
            return Ok(true);
        }
        cursor = page.cursor;
    }
}

/// The fields an update may write: the always-fields, the information fields when the switch is
/// on, and the per-field choices on top.
fn update_fields(settings: &ProductsSettings) -> Vec<String> {
    let mut fields: BTreeSet<String> = ALWAYS.iter().map(|f| f.to_string()).collect();
    if settings.update_product_info {
        fields.extend(INFORMATION.iter().map(|f| f.to_string()));
    }
    for (field, policy) in &settings.fields {
        match policy {
            FieldPolicy::Always => fields.insert(field.clone()),
            FieldPolicy::CreateOnly => fields.remove(field),
        };
    }
    // What the flow does not sync, an update does not touch (an empty list would erase the
    // target's own).
    if !settings.link_categories {
        fields.remove("categories");
    }
    if settings.properties.is_empty() {
        fields.remove("properties");
    }
    fields.into_iter().collect()
}

struct ProductsFlow<'s> {
    settings: &'s ProductsSettings,
    update_fields: Vec<String>,
    categories_in_fingerprint: bool,
    source: Session,
    target: Session,
}

/// What an update writes, as a fingerprint sees it.
#[derive(Serialize)]
struct Synced<'a> {
    sku: &'a str,
    fields: BTreeMap<&'a str, serde_json::Value>,
    variant_skus: BTreeSet<&'a str>,
}

impl ProductsFlow<'_> {
    /// Renames option groups as mapped and keeps only mapped properties (§3.4).
    fn map_groups(&self, mut product: Product) -> Product {
        let rename = |o: OptionValue, map: &BTreeMap<String, String>| OptionValue {
            group: map.get(&o.group).cloned().unwrap_or(o.group),
            value: o.value,
        };
        for variant in &mut product.variants {
            variant.options = variant
                .options
                .drain(..)
                .map(|o| rename(o, &self.settings.options))
                .collect();
        }
        product.properties = product
            .properties
            .into_iter()
            .filter(|p| self.settings.properties.contains_key(&p.group))
            .map(|p| rename(p, &self.settings.properties))
            .collect();
        product
    }

    fn fingerprint(&self, product: &Product, categories: &[String]) -> String {
        let mut fields = BTreeMap::new();
        for field in &self.update_fields {
            let value = match field.as_str() {
                "name" => serde_json::json!(product.name),
                "description" => serde_json::json!(product.description),
                "short-description" => serde_json::json!(product.short_description),
                "ean" => serde_json::json!(product.ean),
                "price" => serde_json::to_value(&product.prices).unwrap_or_default(),
                "stock" => serde_json::json!(product.stock),
                "active" => serde_json::json!(product.active),
                "properties" => serde_json::to_value(&product.properties).unwrap_or_default(),
                "variants" => {
                    // In SKU order, options by group: the order systems list them in means nothing,
                    // and differs between them (a two-way sync would see a change).
                    let variants: BTreeMap<&str, _> = product
                        .variants
                        .iter()
                        .map(|v| {
                            let options: BTreeMap<&str, &str> = v
                                .options
                                .iter()
                                .map(|o| (o.group.as_str(), o.value.as_str()))
                                .collect();
                            (v.sku.as_str(), (&v.ean, options, &v.prices, v.active))
                        })
                        .collect();
                    serde_json::to_value(variants).unwrap_or_default()
                }
                "categories" if self.categories_in_fingerprint => serde_json::json!(categories),
                _ => continue,
            };
            fields.insert(field.as_str(), value);
        }
        fingerprint::of(&Synced {
            sku: &product.sku,
            fields,
            variant_skus: product.variants.iter().map(|v| v.sku.as_str()).collect(),
        })
    }

    /// Writes the products of one page that changed.
    async fn sync(&mut self, ctx: &mut RunContext<'_>, products: Vec<Product>) -> Result<()> {
        let flow = ctx.flow;
        let mut writes: Vec<(ProductWrite, String)> = Vec::new();
        let mut unknown = Vec::new();
        {
            let read = ctx.state.read()?;
            for product in products {
                let categories = self.target_categories(ctx, &read, &product)?;
                let print = self.fingerprint(&product, &categories);
                let link = read.link(&link_key(
                    "product",
                    &flow.source,
                    &flow.target,
                    &product.sku,
                ))?;
                let target_id = link.as_ref().and_then(|l| l.ids.get(&flow.target).cloned());
                if link.as_ref().and_then(|l| l.fingerprint.as_deref()) == Some(print.as_str())
                    && target_id.is_some()
                {
                    ctx.unchanged("product", &product.sku, "as before");
                    continue;
                }
                if target_id.is_none() {
                    unknown.push(product.sku.clone());
                }
                let update_fields = field_flags(&self.update_fields);
                writes.push((
                    ProductWrite {
                        product,
                        target_id,
                        update_fields,
                        categories,
                    },
                    print,
                ));
            }
        }
        if writes.is_empty() {
            return Ok(());
        }
        // A product the link table does not know may exist in the target already: found by SKU,
        // it is updated, never duplicated.
        if !unknown.is_empty() {
            match self.target.find_products(&unknown).await {
                Ok(found) => {
                    let ids: BTreeMap<String, String> = found
                        .into_iter()
                        .filter(|r| r.variant_id.is_none())
                        .map(|r| (r.sku, r.id))
                        .collect();
                    for (write, _) in &mut writes {
                        if write.target_id.is_none() {
                            write.target_id = ids.get(&write.product.sku).cloned();
                        }
                    }
                }
                Err(e) if stops_run(&e) => bail!("cannot look products up in {}: {e}", flow.target),
                Err(e) => {
                    for (write, _) in writes {
                        ctx.record(
                            Entry::new(
                                "product",
                                &write.product.sku,
                                Outcome::Failed,
                                format!("cannot look it up in {}: {e}", flow.target),
                            ),
                            |_| Ok(()),
                        )?;
                    }
                    return Ok(());
                }
            }
        }
        let batch: Vec<ProductWrite> = writes.iter().map(|(w, _)| w.clone()).collect();
        let answers: BTreeMap<String, Result<String, PluginError>> = if ctx.dry_run {
            BTreeMap::new()
        } else {
            match self.target.write_products(&batch).await {
                Ok(results) => results
                    .into_iter()
                    .map(|r| (r.key, r.outcome.map(|w| w.id)))
                    .collect(),
                Err(e) if stops_run(&e) => bail!("cannot write products to {}: {e}", flow.target),
                Err(CallError::Plugin(error)) => batch
                    .iter()
                    .map(|w| (w.product.sku.clone(), Err(error.clone())))
                    .collect(),
                Err(e) => bail!(e),
            }
        };
        // Products are written by SKU (created or updated): a batch whose record a crash lost
        // is found by SKU on the next run, so the batch is recorded in one transaction.
        let mut entries = Vec::with_capacity(writes.len());
        let mut links = Vec::new();
        for (write, print) in writes {
            let (entry, product_links) = Self::outcome(ctx, write, print, &answers);
            entries.push(entry);
            links.extend(product_links);
        }
        ctx.record_batch(entries, |w| {
            for (key, link) in &links {
                w.put_link(key, link)?;
            }
            Ok(())
        })
    }

    /// The target's ids of a product's categories, from the categories flow's links.
    fn target_categories(
        &self,
        ctx: &RunContext<'_>,
        read: &crate::state::Read,
        product: &Product,
    ) -> Result<Vec<String>> {
        if !self.settings.link_categories {
            return Ok(Vec::new());
        }
        let mut ids = Vec::new();
        for category in &product.categories {
            let key = link_key("category", &ctx.flow.source, &ctx.flow.target, category);
            if let Some(id) = read
                .link(&key)?
                .and_then(|l| l.ids.get(&ctx.flow.target).cloned())
            {
                ids.push(id);
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// What became of one product write: its activity entry and the links to store.
    fn outcome(
        ctx: &RunContext<'_>,
        write: ProductWrite,
        print: String,
        answers: &BTreeMap<String, Result<String, PluginError>>,
    ) -> (Entry, Vec<(String, Link)>) {
        let flow = ctx.flow;
        let sku = write.product.sku.clone();
        let update = write.target_id.is_some();
        let outcome = if update {
            Outcome::Updated
        } else {
            Outcome::Created
        };
        let fields = if update {
            let mut names = write.update_fields.names();
            names.sort_unstable();
            names
        } else {
            vec!["everything"]
        };
        let answer = if ctx.dry_run {
            Ok(write.target_id.clone().unwrap_or_else(|| "(new)".into()))
        } else {
            answers.get(&sku).cloned().unwrap_or_else(|| {
                Err(PluginError::Fatal(format!(
                    "{} gave no answer for this product",
                    flow.target
                )))
            })
        };
        let id = match answer {
            Ok(id) => id,
            Err(error) => {
                let message = format!(
                    "not written to {}: {}",
                    flow.target,
                    CallError::Plugin(error)
                );
                let entry = Entry::new("product", &sku, Outcome::Failed, message).sent(&write);
                return (entry, Vec::new());
            }
        };
        let verb = match (update, ctx.dry_run) {
            (true, false) => format!("updated ({})", fields.join(", ")),
            (false, false) => "created".to_string(),
            (true, true) => format!("would be updated ({})", fields.join(", ")),
            (false, true) => "would be created".to_string(),
        };
        let variants = write.product.variants.len();
        let mut message = if variants > 0 {
            format!("{verb} as product {id} with {variants} variants")
        } else {
            format!("{verb} as product {id}")
        };
        let properties_written = !update || write.update_fields.contains(ProductFields::PROPERTIES);
        if properties_written && !write.product.properties.is_empty() {
            let properties: Vec<String> = write
                .product
                .properties
                .iter()
                .map(|p| format!("{} = {}", p.group, p.value))
                .collect();
            message.push_str(&format!(", properties {}", properties.join(", ")));
        }
        let now = Utc::now();
        let parent = Link {
            ids: [(flow.target.clone(), id.clone())]
                .into_iter()
                .chain(write.product.id.clone().map(|s| (flow.source.clone(), s)))
                .collect(),
            variant_ids: BTreeMap::new(),
            fingerprint: Some(print),
            synced_at: now,
            flow: ctx.name.to_string(),
        };
        let mut links = vec![(
            link_key("product", &flow.source, &flow.target, &sku),
            parent,
        )];
        let mut failed_variants = Vec::new();
        for variant in &write.product.variants {
            match answers.get(&variant.sku) {
                Some(Ok(variant_id)) => links.push((
                    link_key("product", &flow.source, &flow.target, &variant.sku),
                    Link {
                        ids: BTreeMap::from([(flow.target.clone(), id.clone())]),
                        variant_ids: BTreeMap::from([(flow.target.clone(), variant_id.clone())]),
                        fingerprint: None,
                        synced_at: now,
                        flow: ctx.name.to_string(),
                    },
                )),
                Some(Err(error)) => failed_variants.push(format!(
                    "{}: {}",
                    variant.sku,
                    CallError::Plugin(error.clone())
                )),
                None => {}
            }
        }
        let (outcome, message) = if failed_variants.is_empty() {
            (outcome, message)
        } else {
            // The product's fingerprint is not stored, so the next run tries the variants again.
            links[0].1.fingerprint = None;
            (
                Outcome::Failed,
                format!(
                    "{message}, but variants failed: {}",
                    failed_variants.join("; ")
                ),
            )
        };
        let entry = Entry::new("product", &sku, outcome, message)
            .sent(&write)
            .answer(id)
            .fields(fields.iter().map(|f| f.to_string()).collect());
        (entry, links)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(update_product_info: bool, fields: &[(&str, FieldPolicy)]) -> ProductsSettings {
        ProductsSettings {
            update_product_info,
            fields: fields.iter().map(|(f, p)| (f.to_string(), *p)).collect(),
            options: BTreeMap::new(),
            properties: BTreeMap::new(),
            link_categories: true,
            batch_size: 100,
            full_sweep_hours: 24,
            overlap_minutes: 10,
        }
    }

    #[test]
    fn the_switch_and_the_per_field_choices_decide_what_an_update_writes() {
        let off = update_fields(&settings(false, &[]));
        assert!(off.contains(&"price".to_string()) && !off.contains(&"description".to_string()));
        assert!(
            !off.contains(&"stock".to_string()),
            "stock is the stock flow's, and set on create"
        );
        let on = update_fields(&settings(true, &[]));
        assert!(on.contains(&"description".to_string()) && on.contains(&"name".to_string()));
        assert!(
            !on.contains(&"properties".to_string()),
            "no property is mapped, so none is written"
        );
        let mixed = update_fields(&settings(
            true,
            &[
                ("description", FieldPolicy::CreateOnly),
                ("stock", FieldPolicy::Always),
            ],
        ));
        assert!(
            !mixed.contains(&"description".to_string())
                && mixed.contains(&"name".to_string())
                && mixed.contains(&"stock".to_string())
        );
    }
}
