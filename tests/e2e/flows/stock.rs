//! FLOWS.md §2: stock, point of sale → webshop, one test per numbered point.

use rust_decimal::prelude::ToPrimitive;
use tillbridge::state::Outcome;
use tillbridge_sim::dataset::Dataset;
use tillbridge_sim::shopware::ApiVersion;

use super::harness::{Pair, Setup, finished, keys};

const STOCK: &str = r#"
[flows.stock]
kind = "stock"
source = "pos"
target = "shop"
"#;

fn with_settings(settings: &str) -> String {
    format!("{STOCK}settings = {{ {settings} }}\n")
}

/// The point of sale's (physical, reserved) for an article.
fn pos_stock(pair: &Pair, sku: &str) -> (i64, i64) {
    let level = pair
        .pos
        .stock(sku)
        .unwrap_or_else(|| panic!("the POS has {sku}"));
    (
        level.physical.to_i64().unwrap(),
        level.reserved.to_i64().unwrap(),
    )
}

/// What the webshop can sell of an article: `stock` from 6.6 on, `availableStock` before.
fn sellable(pair: &Pair, version: ApiVersion, sku: &str) -> i64 {
    let product = pair
        .shop
        .product(sku)
        .unwrap_or_else(|| panic!("the shop has {sku}"));
    let field = if version == ApiVersion::V6_4 {
        "availableStock"
    } else {
        "stock"
    };
    product[field]
        .as_i64()
        .unwrap_or_else(|| panic!("{sku}.{field} in {product}"))
}

/// The articles both systems have.
fn shared_articles() -> Vec<String> {
    let demo = Dataset::demo();
    demo.products
        .iter()
        .filter(|p| p.in_pos && p.in_shop)
        .flat_map(|p| {
            if p.variants.is_empty() {
                vec![p.sku.clone()]
            } else {
                p.variants.iter().map(|v| v.sku.clone()).collect()
            }
        })
        .collect()
}

#[tokio::test]
async fn flows_2_1_stock_is_synchronised_per_sku_for_simple_products_and_each_variant() {
    let pair = Pair::demo(STOCK).await;
    let report = pair.run("stock").await;
    finished(&report);
    let updated = keys(&report, "stock", Outcome::Updated);
    for sku in ["TB-MUG-01", "TB-BOOK-01", "TB-TEE-S-RED", "TB-TEE-L-BLUE"] {
        assert!(
            updated.contains(&sku.to_string()),
            "{sku} is written: {updated:?}"
        );
        let (physical, reserved) = pos_stock(&pair, sku);
        assert_eq!(
            sellable(&pair, ApiVersion::V6_6, sku),
            (physical - reserved).max(0),
            "{sku}"
        );
    }
    // Each level written has its line in the activity log (the batch is logged as one
    // transaction), in the order of the run.
    let logged = pair.state.read().unwrap().activity(report.run.id).unwrap();
    let logged_keys: Vec<&str> = logged.iter().map(|a| a.key.as_str()).collect();
    let reported: Vec<&str> = report.entries.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(logged_keys, reported);
    assert!(logged.windows(2).all(|w| w[0].seq < w[1].seq));
    // A second run with nothing changed writes nothing.
    let writes = pair
        .shop
        .journal()
        .entries()
        .iter()
        .filter(|e| e.path.contains("_action/sync"))
        .count();
    let again = pair.run("stock").await;
    assert!(keys(&again, "stock", Outcome::Updated).is_empty());
    assert_eq!(
        pair.shop
            .journal()
            .entries()
            .iter()
            .filter(|e| e.path.contains("_action/sync"))
            .count(),
        writes
    );
    // A sale at the till changes one level; only that one is written.
    pair.pos.sell("TB-MUG-01", 3).unwrap();
    let after_sale = pair.run("stock").await;
    assert_eq!(
        keys(&after_sale, "stock", Outcome::Updated),
        vec!["TB-MUG-01".to_string()]
    );
}

#[tokio::test]
async fn flows_2_2_the_stock_calculations() {
    // The default: available − reservations, never below zero (the candle: 3 on the shelf, 5
    // reserved).
    let pair = Pair::demo(STOCK).await;
    finished(&pair.run("stock").await);
    assert_eq!(pos_stock(&pair, "TB-CANDLE-01"), (3, 5));
    assert_eq!(sellable(&pair, ApiVersion::V6_6, "TB-CANDLE-01"), 0);
    assert_eq!(sellable(&pair, ApiVersion::V6_6, "TB-MUG-01"), 40);

    let physical = Pair::demo(&with_settings("calculation = \"physical\"")).await;
    finished(&physical.run("stock").await);
    assert_eq!(sellable(&physical, ApiVersion::V6_6, "TB-CANDLE-01"), 3);
    assert_eq!(sellable(&physical, ApiVersion::V6_6, "TB-MUG-01"), 42);

    let buffered = Pair::demo(&with_settings("calculation = \"physical\", buffer = 5")).await;
    finished(&buffered.run("stock").await);
    assert_eq!(
        sellable(&buffered, ApiVersion::V6_6, "TB-MUG-01"),
        37,
        "minus a safety buffer"
    );
    assert_eq!(
        sellable(&buffered, ApiVersion::V6_6, "TB-CANDLE-01"),
        0,
        "floored at zero"
    );
}

#[tokio::test]
async fn flows_2_3_the_target_need_not_manage_stock() {
    let pair = Pair::demo(&with_settings("manage_stock = false")).await;
    let before = pair.shop.product("TB-MUG-01").unwrap();
    let report = pair.run("stock").await;
    finished(&report);
    let after = pair.shop.product("TB-MUG-01").unwrap();
    assert_eq!(after["stock"], before["stock"], "no quantity is written");
    assert_eq!(
        after["isCloseout"], false,
        "the article is marked as not stock-managed (sold regardless of stock)"
    );
    assert!(
        report
            .entries
            .iter()
            .any(|e| e.message.contains("not stock-managed"))
    );
}

#[tokio::test]
async fn flows_2_4_the_sellable_quantity_is_right_on_6_4_and_6_6() {
    for version in [ApiVersion::V6_4, ApiVersion::V6_6] {
        let pair = Pair::start(
            Setup {
                version,
                ..Setup::default()
            },
            STOCK,
        )
        .await;
        finished(&pair.run("stock").await);
        for sku in shared_articles() {
            let (physical, reserved) = pos_stock(&pair, &sku);
            assert_eq!(
                sellable(&pair, version, &sku),
                (physical - reserved).max(0),
                "{sku} on {version:?}"
            );
        }
    }
}
