//! Reading products into the canonical model (CCV as a products source).
//!
//! One `GET /products?expand=attributecombinations,producttocategories` per page (up to 250
//! products). With `changed-since`, pages go newest change first (`orderby=modifydate_desc`) and
//! stop at the first product changed before it, so an incremental read costs what changed, not
//! the catalogue. With SKUs, the articles are looked up (see [`crate::catalogue`]) and each
//! product read once.
//!
//! The price read is the selling price (`price − discount`), including VAT as the shop says; a
//! variant has its own price when its combination has a surcharge (`netto_extra_price`, taken in
//! the same VAT convention as the product's price — CCV does not say otherwise). The tax rate is
//! the rate the connection's `tax_tariffs` gives the product's `taxtariff` (the table products
//! are written with, read backwards): CCV's product resource carries the tariff, not a rate.
//!
//! When the flow maps properties, each product's property values are read too
//! ([`crate::properties`]): from `expand=producttopropertygroups` where CCV fills it in, else
//! with one `GET /products/:id/producttopropertygroups` per product.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use tillbridge_sdk::decimal::{self, Decimal};
use tillbridge_sdk::types::{OptionValue, PluginError, Price, Product, ProductVariant, Rejected};

use crate::catalogue;
use crate::client::PAGE_SIZE;
use crate::errors::Failure;
use crate::exports::tillbridge::plugin::products_source::{ProductPage, ProductQuery};
use crate::properties::{self, Properties};
use crate::settings::{Ccv, Settings};
use crate::shop::{Shop, shop};
use crate::wire::{Page, Product as CcvProduct};

const EXPAND: (&str, &str) = ("expand", "attributecombinations,producttocategories");
const EXPAND_WITH_PROPERTIES: (&str, &str) = (
    "expand",
    "attributecombinations,producttocategories,producttopropertygroups",
);

/// Whole units, rounded down.
fn whole(amount: Decimal) -> i64 {
    i64::try_from(amount.floor()).unwrap_or(i64::MAX)
}

fn text(value: &str) -> Option<String> {
    (!value.trim().is_empty()).then(|| value.to_string())
}

/// A CCV product with its `properties` in the canonical model, or why it cannot be.
pub fn canonical(
    p: &CcvProduct,
    shop: &Shop,
    settings: &Settings,
    properties: Vec<OptionValue>,
) -> Result<Product, Rejected> {
    let key = if p.productnumber.is_empty() {
        format!("ccv:{}", p.id)
    } else {
        p.productnumber.clone()
    };
    let reject = |why: String| Rejected {
        key: key.clone(),
        error: PluginError::invalid_field(why, "productnumber"),
    };
    if p.productnumber.trim().is_empty() {
        return Err(reject(format!(
            "CCV product {} ({:?}) has no product number",
            p.id, p.name
        )));
    }
    let tax_rate = settings.rate(&p.taxtariff).map_err(|error| Rejected {
        key: key.clone(),
        error,
    })?;
    let price = |amount: Decimal| Price {
        amount: decimal::format(amount),
        includes_tax: shop.prices_include_vat,
        tax_rate: decimal::format(tax_rate),
        currency: shop.currency.clone(),
    };
    let sell = p.price - p.discount;
    let combinations = p.attributecombinations.items();
    let unnumbered: Vec<String> = combinations
        .iter()
        .filter(|c| c.sku_number.trim().is_empty())
        .map(|c| c.id.to_string())
        .collect();
    if !unnumbered.is_empty() {
        return Err(reject(format!(
            "variants (attribute combinations {}) have no SKU number; give them one in CCV",
            unnumbered.join(", ")
        )));
    }
    let variants = combinations
        .iter()
        .map(|c| ProductVariant {
            id: Some(c.id.to_string()),
            sku: c.sku_number.clone(),
            ean: text(&c.ean_number),
            options: c
                .combination
                .iter()
                .map(|part| OptionValue {
                    group: part.attribute.name.clone().unwrap_or_default(),
                    value: part.attribute_value.name.clone().unwrap_or_default(),
                })
                .collect(),
            prices: if c.netto_extra_price.is_zero() {
                Vec::new()
            } else {
                vec![price(sell + c.netto_extra_price)]
            },
            stock: p.stockenabled.then(|| whole(c.stock)),
            active: c.active,
        })
        .collect::<Vec<_>>();
    Ok(Product {
        id: Some(p.id.to_string()),
        sku: p.productnumber.clone(),
        name: p.name.clone(),
        ean: text(&p.eannumber),
        description: text(&p.description),
        short_description: text(&p.shortdescription),
        prices: vec![price(sell)],
        stock: (p.stockenabled && variants.is_empty()).then(|| whole(p.stock)),
        active: p.is_active,
        variants,
        properties,
        categories: p
            .producttocategories
            .items()
            .iter()
            .map(|l| l.category_id.to_string())
            .collect(),
        updated_at: p.modifydate.clone(),
        custom_fields: Vec::new(),
    })
}

/// `read-products`: one page. The cursor is an offset into the listing.
/// A time as CCV or the host writes it: RFC 3339, or `YYYY-MM-DD HH:MM:SS` taken as UTC. CCV
/// documents neither `modifydate`'s format nor its zone (unverified); a Dutch local time read as
/// UTC looks later than it is, so it is read again rather than missed, and a date that does not
/// parse counts as changed (`None`).
fn instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok()?;
            Some(naive.and_utc())
        })
}

pub fn read(ccv: &Ccv, query: ProductQuery) -> Result<ProductPage, PluginError> {
    let shop = shop(ccv)?;
    let start: usize = match &query.cursor {
        Some(c) => c.parse().map_err(|_| {
            PluginError::fatal(format!(
                "product cursor {c:?} is not one of this connector's"
            ))
        })?,
        None => 0,
    };
    let limit = (query.limit as usize).clamp(1, PAGE_SIZE);
    let with_properties = !query.properties.is_empty();
    let expand = if with_properties {
        EXPAND_WITH_PROPERTIES
    } else {
        EXPAND
    };
    let (items, more, next) = if query.skus.is_empty() {
        let order = if query.changed_since.is_some() {
            "modifydate_desc"
        } else {
            "id"
        };
        let page: Page<CcvProduct> =
            ccv.api
                .page("products", &[expand, ("orderby", order)], start, limit)?;
        let mut items = page.items;
        let mut more = page.next.is_some();
        if let Some(since) = &query.changed_since {
            let since = instant(since).ok_or_else(|| {
                PluginError::fatal(format!("changed-since {since:?} is not an RFC 3339 time"))
            })?;
            // Newest first: the first product changed before `since` ends the read.
            let before = |p: &CcvProduct| {
                let changed = p.modifydate.as_deref().and_then(instant);
                changed.is_some_and(|changed| changed < since)
            };
            if let Some(cut) = items.iter().position(before) {
                items.truncate(cut);
                more = false;
            }
        }
        let next = start + items.len();
        (items, more, next)
    } else {
        let window: Vec<&str> = query
            .skus
            .iter()
            .skip(start)
            .take(limit)
            .map(String::as_str)
            .collect();
        let found = catalogue::lookup(ccv, &window)?;
        let ids: BTreeSet<u64> = found.values().map(|hit| hit.product.id).collect();
        let items = ids
            .into_iter()
            .map(|id| {
                ccv.api
                    .get::<CcvProduct>(&format!("products/{id}"), &[expand])
            })
            .collect::<Result<Vec<_>, _>>()?;
        let next = start + window.len();
        (items, next < query.skus.len(), next)
    };
    let mut catalogue = Properties::default();
    let mut products = Vec::new();
    let mut rejected = Vec::new();
    for item in &items {
        let properties = if with_properties {
            properties_of(ccv, &mut catalogue, item)?
        } else {
            Vec::new()
        };
        match canonical(item, &shop, &ccv.settings, properties) {
            Ok(product) => products.push(product),
            Err(reason) => rejected.push(reason),
        }
    }
    Ok(ProductPage {
        products,
        rejected,
        cursor: Some(next.to_string()),
        more,
    })
}

/// A product's properties: from its expanded links when CCV filled them in, else read.
fn properties_of(
    ccv: &Ccv,
    catalogue: &mut Properties,
    p: &CcvProduct,
) -> Result<Vec<OptionValue>, Failure> {
    match &p.producttopropertygroups.collection {
        Some(links) => catalogue.read(ccv, links),
        None => catalogue.read(ccv, &properties::links(ccv, p.id)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop() -> Shop {
        Shop {
            currency: "EUR".into(),
            prices_include_vat: true,
        }
    }

    fn settings() -> Settings {
        tillbridge_sdk::settings::parse(r#"{"url": "https://x"}"#).unwrap()
    }

    #[test]
    fn times_compare_as_instants_whatever_their_form() {
        let since = instant("2026-12-04T10:00:00+00:00").unwrap();
        // The same instant written three ways, one an hour earlier in UTC+01:00.
        for same in [
            "2026-12-04T10:00:00Z",
            "2026-12-04 10:00:00",
            "2026-12-04T11:00:00+01:00",
        ] {
            assert_eq!(instant(same), Some(since), "{same}");
        }
        // String order would call the first earlier than `since` ('T' > ' ').
        assert!(instant("2026-12-04 10:00:01").unwrap() > since);
        assert!(instant("2026-12-04T09:59:59.5Z").unwrap() < since);
        assert_eq!(instant("4 Dec 2026"), None, "not a time: counts as changed");
    }

    #[test]
    fn a_ccv_product_reads_into_the_canonical_model() {
        let p: CcvProduct = serde_json::from_str(
            r#"{"id": 7, "productnumber": "TEE", "name": "Tee", "price": 24.95, "discount": 5,
                "taxtariff": "normal", "is_active": true, "stockenabled": true, "eannumber": "",
                "modifydate": "2026-11-01T10:00:00Z",
                "producttocategories": {"collection": [{"category_id": 40}]},
                "attributecombinations": {"collection": [
                    {"id": 8, "sku_number": "TEE-XL", "ean_number": "871", "stock": 2.5,
                     "active": true, "netto_extra_price": 2.5, "combination": [
                        {"attribute": {"id": 1, "name": "Size"}, "attribute_value": {"id": 3, "name": "XL"}}]}]}}"#,
        )
        .unwrap();
        let product = canonical(&p, &shop(), &settings(), Vec::new()).unwrap();
        assert_eq!(product.prices[0].amount, "19.95", "the selling price");
        assert_eq!(
            product.prices[0].tax_rate, "21",
            "the rate of tariff normal"
        );
        assert_eq!(product.ean, None);
        assert_eq!(product.stock, None, "stock is on the variants");
        assert_eq!(product.categories, ["40"]);
        let v = &product.variants[0];
        assert_eq!(
            (v.sku.as_str(), v.stock, v.prices[0].amount.as_str()),
            ("TEE-XL", Some(2), "22.45")
        );
        assert_eq!(
            (v.options[0].group.as_str(), v.options[0].value.as_str()),
            ("Size", "XL")
        );
    }

    #[test]
    fn products_without_numbers_are_rejected_by_name() {
        let p: CcvProduct =
            serde_json::from_str(r#"{"id": 9, "name": "Loose", "productnumber": ""}"#).unwrap();
        let rejected = canonical(&p, &shop(), &settings(), Vec::new()).unwrap_err();
        assert_eq!(rejected.key, "ccv:9");
    }

    #[test]
    fn a_tariff_without_a_rate_rejects_the_product_by_name() {
        let p: CcvProduct = serde_json::from_str(
            r#"{"id": 9, "name": "Chocolate", "productnumber": "CHOC", "taxtariff": "extra low"}"#,
        )
        .unwrap();
        let rejected = canonical(&p, &shop(), &settings(), Vec::new()).unwrap_err();
        assert_eq!(rejected.key, "CHOC");
        let PluginError::Invalid(problem) = rejected.error else {
            panic!()
        };
        assert!(
            problem.message.contains("tax_tariffs"),
            "{}",
            problem.message
        );
    }
}
