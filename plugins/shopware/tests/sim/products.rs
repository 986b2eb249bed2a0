//! Products source and sink: a variant product round-trips, updates keep what they may not
//! overwrite, one bad record fails alone with Shopware's pointer, SKUs are found.

use crate::support::*;

/// A polo shirt in two sizes and two colours, with a new colour and a new property group.
pub fn polo() -> Product {
    let variant = |size: &str, colour: &str, ean: &str, stock: i64| ProductVariant {
        id: None,
        sku: format!("TB-POLO-{size}-{}", colour.to_uppercase()),
        ean: Some(ean.into()),
        options: vec![option("Size", size), option("Colour", colour)],
        prices: if size == "L" {
            vec![eur("34.95", "21")]
        } else {
            vec![]
        },
        stock: Some(stock),
        active: true,
    };
    Product {
        id: None,
        sku: "TB-POLO".into(),
        name: "Piqué polo".into(),
        ean: None,
        description: Some("<p>Soft piqué cotton.</p>".into()),
        short_description: Some("A soft polo".into()),
        prices: vec![eur("29.95", "21")],
        stock: None,
        active: true,
        variants: vec![
            variant("M", "Red", "8712345000107", 4),
            variant("M", "Green", "8712345000114", 0),
            variant("L", "Red", "8712345000121", 7),
            variant("L", "Green", "8712345000138", 2),
        ],
        properties: vec![option("Material", "Organic cotton"), option("Fit", "Slim")],
        categories: vec![],
        updated_at: None,
        custom_fields: vec![],
    }
}

fn create(product: Product) -> ProductWrite {
    ProductWrite {
        product,
        target_id: None,
        update_fields: ProductFields::empty(),
        categories: vec![],
    }
}

/// A product as compared after a round trip: what the connector owns, in a stable order.
fn comparable(mut product: Product) -> Product {
    product.id = None;
    product.updated_at = None;
    product.custom_fields.clear();
    product.categories.clear();
    product
        .properties
        .sort_by(|a, b| (&a.group, &a.value).cmp(&(&b.group, &b.value)));
    product.variants.sort_by(|a, b| a.sku.cmp(&b.sku));
    for variant in &mut product.variants {
        variant.id = None;
        variant.options.sort_by(|a, b| a.group.cmp(&b.group));
    }
    product
}

async fn read_back(session: &mut tillbridge::runtime::Session, sku: &str) -> Product {
    let page = session
        .read_products(&ProductQuery {
            cursor: None,
            changed_since: None,
            skus: vec![sku.into()],
            properties: vec![],
            limit: 10,
        })
        .await
        .unwrap();
    assert!(page.rejected.is_empty(), "{:?}", page.rejected);
    assert_eq!(page.products.len(), 1, "{sku}");
    page.products.into_iter().next().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_variant_product_round_trips() {
    for version in VERSIONS {
        let shop = Shop::demo(version).await;
        let mut session = shop.session().await;
        let results = session.write_products(&[create(polo())]).await.unwrap();
        let keys: Vec<&str> = results.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "TB-POLO",
                "TB-POLO-M-RED",
                "TB-POLO-M-GREEN",
                "TB-POLO-L-RED",
                "TB-POLO-L-GREEN"
            ],
            "{version}: one result per product and per variant"
        );
        for result in &results {
            let written = result
                .outcome
                .as_ref()
                .unwrap_or_else(|e| panic!("{version}: {e:?}"));
            assert_eq!(written.action, WriteAction::Created);
            assert_eq!(
                written.id,
                shop.sim.product(&result.key).unwrap()["id"],
                "{version}"
            );
        }
        let read = read_back(&mut session, "TB-POLO").await;
        assert_eq!(comparable(read), comparable(polo()), "{version}");
        // Sent twice, nothing is made twice.
        let again = session.write_products(&[create(polo())]).await.unwrap();
        assert!(
            again.iter().all(|r| r.outcome.is_ok()),
            "{version}: {again:?}"
        );
        let page = session
            .read_products(&ProductQuery {
                cursor: None,
                changed_since: None,
                skus: vec![],
                properties: vec![],
                limit: 100,
            })
            .await
            .unwrap();
        let polos = page.products.iter().filter(|p| p.sku == "TB-POLO").count();
        assert_eq!(polos, 1, "{version}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_writes_only_the_fields_it_may() {
    for version in VERSIONS {
        let shop = Shop::demo(version).await;
        let mut session = shop.session().await;
        session.write_products(&[create(polo())]).await.unwrap();
        // The shop enriches the texts after the first sync (here through the connector).
        let mut enriched = polo();
        enriched.description = Some("<p>Written by the webshop's editor.</p>".into());
        enriched.name = "Piqué polo shirt".into();
        let all = ProductFields::NAME | ProductFields::DESCRIPTION;
        session
            .write_products(&[ProductWrite {
                update_fields: all,
                ..create(enriched)
            }])
            .await
            .unwrap();
        // The source changes texts and price; only the price may be overwritten.
        let mut changed = polo();
        changed.name = "POLO PIQUE".into();
        changed.description = Some("POS text".into());
        changed.prices = vec![eur("27.50", "21")];
        let fields = ProductFields::PRICE
            | ProductFields::ACTIVE
            | ProductFields::VARIANTS
            | ProductFields::CATEGORIES;
        let id = shop.sim.product("TB-POLO").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let results = session
            .write_products(&[ProductWrite {
                product: changed,
                target_id: Some(id),
                update_fields: fields,
                categories: vec![],
            }])
            .await
            .unwrap();
        assert_eq!(
            results[0].outcome.as_ref().unwrap().action,
            WriteAction::Updated,
            "{version}"
        );
        let read = read_back(&mut session, "TB-POLO").await;
        assert_eq!(
            read.name, "Piqué polo shirt",
            "{version}: the name was kept"
        );
        assert_eq!(
            read.description.as_deref(),
            Some("<p>Written by the webshop's editor.</p>"),
            "{version}: the description was kept"
        );
        assert_eq!(
            read.prices[0].amount, "27.5",
            "{version}: the price was updated"
        );
        let raw = shop.sim.product("TB-POLO").unwrap();
        assert_eq!(
            raw["price"][0]["net"], 22.73,
            "{version}: net sent with gross"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variants_gone_from_the_source_are_taken_off_sale() {
    for version in VERSIONS {
        let shop = Shop::demo(version).await;
        let mut session = shop.session().await;
        session.write_products(&[create(polo())]).await.unwrap();
        let mut fewer = polo();
        fewer.variants.retain(|v| !v.sku.ends_with("GREEN"));
        let fields = ProductFields::VARIANTS;
        session
            .write_products(&[ProductWrite {
                update_fields: fields,
                ..create(fewer)
            }])
            .await
            .unwrap();
        let green = shop.sim.product("TB-POLO-M-GREEN").unwrap();
        assert_eq!(
            green["active"], false,
            "{version}: deactivated, not deleted"
        );
        assert_eq!(
            shop.sim.product("TB-POLO-M-RED").unwrap()["active"],
            true,
            "{version}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_record_fails_alone_with_shopwares_pointer_and_message() {
    for version in VERSIONS {
        let shop = Shop::demo(version).await;
        let mut session = shop.session().await;
        let results = session
            .write_products(&[
                create(simple("TB-GOOD-1", "Good one")),
                create(simple("TB-NAMELESS", "")),
                create(simple("TB-GOOD-2", "Good two")),
            ])
            .await
            .unwrap();
        assert!(
            results[0].outcome.is_ok() && results[2].outcome.is_ok(),
            "{version}: {results:?}"
        );
        let Err(PluginError::Invalid(problem)) = &results[1].outcome else {
            panic!("{version}: {:?}", results[1])
        };
        assert_eq!(
            problem.message, "This value should not be blank.",
            "{version}"
        );
        let field = problem.field.as_deref().unwrap_or_default();
        assert!(
            field.starts_with("/products/1/") && field.ends_with("name"),
            "{version}: {field}"
        );
        assert!(shop.sim.product("TB-GOOD-1").is_some() && shop.sim.product("TB-GOOD-2").is_some());
        assert!(shop.sim.product("TB-NAMELESS").is_none(), "{version}");
    }
}

/// A record the database refuses (a category that does not exist: a foreign key, which no
/// pointer places) fails alone, and the rest of its batch is written: on 6.4 its operation
/// was rolled back and is sent again without it; on 6.6 the batch is split until it is alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_the_database_refuses_fails_alone() {
    for version in VERSIONS {
        let shop = Shop::demo(version).await;
        let mut session = shop.session().await;
        let mut lost = create(simple("TB-LOST", "Lost category"));
        lost.categories = vec!["0123456789abcdef0123456789abcdef".into()];
        let results = session
            .write_products(&[
                lost,
                create(simple("TB-GOOD-1", "Good one")),
                create(simple("TB-GOOD-2", "Good two")),
            ])
            .await
            .unwrap();
        assert!(
            matches!(results[0].outcome, Err(PluginError::Invalid(_))),
            "{version}: {:?}",
            results[0]
        );
        for result in &results[1..] {
            let written = result
                .outcome
                .as_ref()
                .unwrap_or_else(|e| panic!("{version}: {} {e:?}", result.key));
            assert_eq!(written.action, WriteAction::Created, "{version}");
            assert!(
                shop.sim.product(&result.key).is_some(),
                "{version}: {} reported written, and it is",
                result.key
            );
        }
        assert!(shop.sim.product("TB-LOST").is_none(), "{version}");
    }
}

/// On 6.4 (and 6.5 without stock handling) `stock` is physical and open orders are subtracted
/// into `availableStock` (SW@v6.4.20.2 `StockUpdater`): the products sink writes the quantity
/// that leaves the intended one sellable, as the stock sink does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_products_sink_makes_the_intended_quantity_sellable() {
    for version in VERSIONS {
        let shop = Shop::demo(version).await;
        let mut session = shop.session().await;
        let held = {
            let mug = shop.sim.product("TB-MUG-01").unwrap();
            mug["stock"].as_i64().unwrap() - mug["availableStock"].as_i64().unwrap()
        };
        let mut mug = simple("TB-MUG-01", "Mug");
        mug.stock = Some(30);
        let results = session
            .write_products(&[ProductWrite {
                update_fields: ProductFields::STOCK,
                ..create(mug)
            }])
            .await
            .unwrap();
        assert!(results[0].outcome.is_ok(), "{version}: {results:?}");
        let after = shop.sim.product("TB-MUG-01").unwrap();
        let sellable = match version {
            ApiVersion::V6_4 => &after["availableStock"],
            _ => &after["stock"],
        };
        assert_eq!(sellable, 30, "{version}: {after}");
        if version == ApiVersion::V6_4 {
            assert!(held > 0, "open orders hold mugs");
            assert_eq!(after["stock"], 30 + held);
        }
    }
}

/// `product_configurator_setting` is unique per product and option (SW@v6.4.20.2
/// `Migration1618989442AddProductConfigurationSettingsUniqKey`): updating the variants of a
/// product made in the Admin, whose settings have ids of their own, adds settings only for
/// options it does not offer yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variants_of_a_product_made_in_the_admin_are_updated() {
    for version in [ApiVersion::V6_4, ApiVersion::V6_6, ApiVersion::V6_7] {
        let shop = Shop::demo(version).await;
        let mut session = shop.session().await;
        let settings = |shop: &Shop| -> Vec<serde_json::Value> {
            let mut dump = shop.sim.dump();
            let tee = shop.sim.product("TB-TEE").unwrap()["id"].clone();
            rows(&mut dump, "product_configurator_setting")
                .drain(..)
                .filter(|s| s["productId"] == tee)
                .collect()
        };
        let before = settings(&shop);
        let mut tee = read_back(&mut session, "TB-TEE").await;
        for variant in &mut tee.variants {
            variant.stock = Some(5);
        }
        let mut xl = tee.variants[0].clone();
        xl.sku = "TB-TEE-XL-RED".into();
        xl.options = vec![option("Size", "XL"), option("Colour", "Red")];
        xl.id = None;
        tee.variants.push(xl);
        let results = session
            .write_products(&[ProductWrite {
                update_fields: ProductFields::VARIANTS | ProductFields::STOCK,
                ..create(tee)
            }])
            .await
            .unwrap();
        assert!(
            results.iter().all(|r| r.outcome.is_ok()),
            "{version}: {results:?}"
        );
        let after = settings(&shop);
        assert_eq!(
            after.len(),
            before.len() + 1,
            "{version}: one setting for the new size"
        );
        assert!(
            before
                .iter()
                .all(|b| after.iter().any(|a| a["id"] == b["id"])),
            "{version}: the merchant's settings are kept"
        );
        assert!(shop.sim.product("TB-TEE-XL-RED").is_some(), "{version}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_tax_rate_fails_the_record_before_anything_is_sent() {
    let shop = Shop::demo(ApiVersion::V6_6).await;
    let mut session = shop.session().await;
    let mut odd = polo();
    odd.prices = vec![eur("10", "7")];
    let results = session.write_products(&[create(odd)]).await.unwrap();
    let Err(PluginError::Invalid(problem)) = &results[0].outcome else {
        panic!("{results:?}")
    };
    assert!(
        problem.message.contains("no tax rate of 7%"),
        "{}",
        problem.message
    );
    assert!(
        results[1..].iter().all(|r| r.outcome.is_err()),
        "its variants are not written"
    );
    let product_syncs = shop.sim.journal().writes_where(|e| {
        e.path == "/api/_action/sync"
            && e.body.as_ref().is_some_and(|b| b.get("products").is_some())
    });
    assert!(product_syncs.is_empty(), "nothing of it was sent");
    assert!(shop.sim.product("TB-POLO").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn products_and_variants_are_found_by_sku() {
    for version in VERSIONS {
        let shop = Shop::demo(version).await;
        let mut session = shop.session().await;
        let found = session
            .find_products(&["TB-MUG-01".into(), "TB-TEE-S-RED".into(), "NOPE".into()])
            .await
            .unwrap();
        assert_eq!(found.len(), 2, "{version}");
        assert_eq!(found[0].id, keys::product("TB-MUG-01"));
        assert_eq!(found[0].variant_id, None);
        assert_eq!(
            found[1].id,
            keys::product("TB-TEE"),
            "{version}: a variant's parent"
        );
        assert_eq!(found[1].variant_id, Some(keys::product("TB-TEE-S-RED")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalogue_is_read_in_pages_with_variants_and_properties() {
    for version in VERSIONS {
        let shop = Shop::demo(version).await;
        let mut session = shop.session().await;
        let mut cursor = None;
        let mut products = Vec::new();
        loop {
            let page = session
                .read_products(&ProductQuery {
                    cursor,
                    changed_since: None,
                    skus: vec![],
                    properties: vec![],
                    limit: 2,
                })
                .await
                .unwrap();
            products.extend(page.products);
            cursor = page.cursor;
            if !page.more {
                break;
            }
        }
        let skus: Vec<&str> = products.iter().map(|p| p.sku.as_str()).collect();
        assert_eq!(skus.len(), 6, "{version}: {skus:?}");
        let tee = products.iter().find(|p| p.sku == "TB-TEE").unwrap();
        assert_eq!(tee.variants.len(), 6);
        let small_red = tee
            .variants
            .iter()
            .find(|v| v.sku == "TB-TEE-S-RED")
            .unwrap();
        assert_eq!(
            small_red.options,
            [option("Size", "S"), option("Colour", "Red")]
        );
        assert!(small_red.prices.is_empty(), "the parent's price");
        assert_eq!(tee.prices[0].amount, "24.95");
        assert_eq!(
            tee.short_description.as_deref(),
            Some("Organic cotton T-shirt"),
            "{version}: from metaDescription"
        );
        let mug = products.iter().find(|p| p.sku == "TB-MUG-01").unwrap();
        assert_eq!(mug.stock, Some(40));
        assert!(mug.properties.contains(&option("Material", "Stoneware")));
        assert_eq!(
            mug.categories,
            [keys::category(&[
                "Home".into(),
                "Kitchen".into(),
                "Mugs".into()
            ])]
        );
    }
}
