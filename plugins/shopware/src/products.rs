//! Products source: parents and simple products, each with its variants, a page per search.
//! Variants are read without `sw-inheritance`, so a variant's own EAN and price are told apart
//! from its parent's (empty prices: it has the parent's). Options and properties come as ids
//! and are named from the session's catalogue, which asks once per group.
//!
//! The cursor is the `autoIncrement` of the last product of the page, as decimal text.

use serde_json::{Value, json};
use tillbridge_sdk::decimal::Decimal;
use tillbridge_sdk::types::{
    CustomField, OptionValue, PluginError, Product, ProductVariant, Rejected,
};

use crate::Shop;
use crate::catalog::Catalog;
use crate::client::Client;
use crate::criteria::{self, any_of, at_least, equals, equals_any};
use crate::exports::tillbridge::plugin::products_source::{ProductPage, ProductQuery};
use crate::prices;
use crate::settings::ShortDescription;
use crate::timestamps;

/// The fields read of every product and variant.
const FIELDS: [&str; 20] = [
    "id",
    "productNumber",
    "parentId",
    "name",
    "translated",
    "description",
    "metaDescription",
    "customFields",
    "ean",
    "price",
    "taxId",
    "stock",
    "active",
    "categoryIds",
    "propertyIds",
    "optionIds",
    "createdAt",
    "updatedAt",
    "autoIncrement",
    "children",
];

fn page_criteria(
    query: &ProductQuery,
    after: u64,
    limit: u32,
    short: &ShortDescription,
) -> Result<Value, PluginError> {
    let mut criteria = criteria::keyset(after, limit);
    let filters = criteria["filter"]
        .as_array_mut()
        .expect("keyset has filters");
    filters.push(equals("parentId", Value::Null));
    if !query.skus.is_empty() {
        filters.push(any_of(vec![
            equals_any("productNumber", &query.skus),
            equals_any("children.productNumber", &query.skus),
        ]));
    }
    if let Some(since) = &query.changed_since {
        let since = timestamps::parse(since)
            .map(timestamps::for_filter)
            .ok_or_else(|| PluginError::fatal(format!("changed-since {since:?} is not a time")))?;
        filters.push(any_of(
            [
                "createdAt",
                "updatedAt",
                "children.createdAt",
                "children.updatedAt",
            ]
            .iter()
            .map(|f| at_least(f, &since))
            .collect(),
        ));
    }
    let mut fields: Vec<&str> = FIELDS.to_vec();
    if let ShortDescription::Field(field) = short {
        fields.push(field);
    }
    criteria["associations"] =
        json!({"children": {"sort": [{"field": "productNumber", "order": "ASC"}]}});
    criteria["includes"] = json!({"product": fields});
    Ok(criteria)
}

fn text(value: &Value) -> Option<String> {
    value
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A translatable field: the translation with fallback, else the plain value.
fn translated(row: &Value, field: &str) -> Option<String> {
    text(&row["translated"][field]).or_else(|| text(&row[field]))
}

fn short_description(row: &Value, short: &ShortDescription) -> Option<String> {
    match short {
        ShortDescription::Off => None,
        ShortDescription::Field(field) => translated(row, field),
        ShortDescription::CustomField(name) => text(&row["translated"]["customFields"][name])
            .or_else(|| text(&row["customFields"][name])),
    }
}

fn ids(row: &Value, field: &str) -> Vec<String> {
    row[field]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// Named option values, ordered by group position, then group name and value.
fn options(catalog: &Catalog, option_ids: &[String]) -> Vec<OptionValue> {
    let mut named: Vec<(i64, OptionValue)> = option_ids
        .iter()
        .filter_map(|id| catalog.options.get(id))
        .map(|(group, value, position)| {
            (
                *position,
                OptionValue {
                    group: group.clone(),
                    value: value.clone(),
                },
            )
        })
        .collect();
    named.sort_by(|(a, x), (b, y)| (a, &x.group, &x.value).cmp(&(b, &y.group, &y.value)));
    named.into_iter().map(|(_, o)| o).collect()
}

fn changed(row: &Value) -> Option<String> {
    [&row["createdAt"], &row["updatedAt"]]
        .into_iter()
        .filter_map(|v| v.as_str().and_then(timestamps::parse))
        .max()
        .map(timestamps::rfc3339)
}

fn to_product(shop: &mut Shop, row: &Value) -> Result<Product, PluginError> {
    let Shop { client, catalog } = shop;
    let tax_id = row["taxId"].as_str().unwrap_or_default();
    let rate: Decimal = catalog.tax_rate(client, tax_id)?.unwrap_or_default();
    let children: Vec<&Value> = row["children"].as_array().into_iter().flatten().collect();
    let mut variants = Vec::new();
    for child in &children {
        let own_prices = if child["price"].is_array() {
            prices::from_shopware(client, catalog, &child["price"], rate)?
        } else {
            Vec::new()
        };
        variants.push(ProductVariant {
            id: text(&child["id"]),
            sku: text(&child["productNumber"]).unwrap_or_default(),
            ean: text(&child["ean"]),
            options: options(catalog, &ids(child, "optionIds")),
            prices: own_prices,
            stock: child["stock"].as_i64(),
            active: child["active"]
                .as_bool()
                .or(row["active"].as_bool())
                .unwrap_or(true),
        });
    }
    let short = client.settings.short_description.clone();
    Ok(Product {
        id: text(&row["id"]),
        sku: text(&row["productNumber"]).unwrap_or_default(),
        name: translated(row, "name").unwrap_or_default(),
        ean: text(&row["ean"]),
        description: translated(row, "description"),
        short_description: short_description(row, &short),
        prices: prices::from_shopware(client, catalog, &row["price"], rate)?,
        stock: if children.is_empty() {
            row["stock"].as_i64()
        } else {
            None
        },
        active: row["active"].as_bool().unwrap_or(true),
        variants,
        properties: options(catalog, &ids(row, "propertyIds")),
        categories: ids(row, "categoryIds"),
        updated_at: changed(row),
        custom_fields: row["customFields"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, json)| CustomField {
                name: name.clone(),
                json: json.to_string(),
            })
            .collect(),
    })
}

/// The option and property ids of a page, so the catalogue can name them in one go.
fn option_ids(rows: &[Value]) -> Vec<String> {
    let mut all = Vec::new();
    for row in rows {
        all.extend(ids(row, "propertyIds"));
        for child in row["children"].as_array().into_iter().flatten() {
            all.extend(ids(child, "optionIds"));
        }
    }
    all.sort();
    all.dedup();
    all
}

fn after(cursor: Option<&str>) -> Result<u64, PluginError> {
    match cursor.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(0),
        Some(text) => text.parse().map_err(|_| {
            PluginError::fatal(format!(
                "the products cursor {text:?} was not written by this connector"
            ))
        }),
    }
}

/// Reads one page of products.
pub fn read(shop: &mut Shop, query: ProductQuery) -> Result<ProductPage, PluginError> {
    let after = after(query.cursor.as_deref())?;
    let client: &mut Client = &mut shop.client;
    let limit = query.limit.clamp(1, client.settings.page_size);
    let criteria = page_criteria(&query, after, limit, &client.settings.short_description)?;
    let page = client.search("product", &criteria)?;
    shop.catalog
        .load_options(&mut shop.client, &option_ids(&page.rows))?;
    let more = page.total > page.rows.len() as u64 && !page.rows.is_empty();
    let last = page
        .rows
        .iter()
        .map(criteria::auto_increment)
        .max()
        .unwrap_or(after);
    let mut products = Vec::new();
    let mut rejected = Vec::new();
    for row in &page.rows {
        match to_product(shop, row) {
            Ok(product) => products.push(product),
            Err(error) => rejected.push(Rejected {
                key: text(&row["productNumber"]).unwrap_or_default(),
                error,
            }),
        }
    }
    Ok(ProductPage {
        products,
        rejected,
        cursor: Some(last.to_string()),
        more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_is_a_number() {
        assert_eq!(after(None).unwrap(), 0);
        assert_eq!(after(Some("1042")).unwrap(), 1042);
        assert!(after(Some("page 2")).is_err());
    }

    #[test]
    fn short_descriptions_come_from_the_configured_place() {
        let row =
            json!({"metaDescription": "Meta", "translated": {"customFields": {"teaser": "Tease"}}});
        assert_eq!(
            short_description(&row, &ShortDescription::Field("metaDescription".into())).as_deref(),
            Some("Meta")
        );
        assert_eq!(
            short_description(&row, &ShortDescription::CustomField("teaser".into())).as_deref(),
            Some("Tease")
        );
        assert_eq!(short_description(&row, &ShortDescription::Off), None);
    }
}
