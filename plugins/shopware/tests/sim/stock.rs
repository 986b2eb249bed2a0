//! Stock sink: batches, the sellable quantity per version, not stock-managed articles, stale
//! cached ids and unknown SKUs.

use std::collections::BTreeMap;

use serde_json::Value;
use tillbridge::runtime::Kv;

use crate::support::*;

/// A shop with at least `count` articles (simple products and variants) and open orders that
/// hold stock; the first `count` SKUs.
async fn big_shop(version: ApiVersion, count: usize) -> (Shop, Vec<String>) {
    let data = Dataset::generated(1500, 300, 0.5, 11);
    let skus: Vec<String> = data
        .products
        .iter()
        .flat_map(|p| {
            if p.variants.is_empty() {
                vec![p.sku.clone()]
            } else {
                p.variants.iter().map(|v| v.sku.clone()).collect()
            }
        })
        .take(count)
        .collect();
    assert_eq!(skus.len(), count);
    (Shop::start(version, Seed::Dataset(data)).await, skus)
}

fn updates(skus: &[String], offset: i64) -> Vec<StockUpdate> {
    skus.iter()
        .enumerate()
        .map(|(i, sku)| StockUpdate {
            sku: sku.clone(),
            quantity: (i as i64 * 7 + offset) % 90,
            managed: true,
        })
        .collect()
}

/// What a customer could buy: `availableStock` on 6.4, `stock` on 6.6.
fn sellable(product: &Value, version: ApiVersion) -> i64 {
    match version {
        ApiVersion::V6_4 => product["availableStock"].as_i64().unwrap(),
        _ => product["stock"].as_i64().unwrap(),
    }
}

/// Every product of the shop by number, as stored (one dump instead of 2,000 look-ups).
fn products_by_number(shop: &Shop) -> BTreeMap<String, Value> {
    let mut dump = shop.sim.dump();
    rows(&mut dump, "product")
        .drain(..)
        .map(|p| (p["productNumber"].as_str().unwrap().to_string(), p))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_levels_in_few_requests_and_sellable_as_intended() {
    for version in VERSIONS {
        let (shop, skus) = big_shop(version, 2000).await;
        let before = products_by_number(&shop);
        let held = skus
            .iter()
            .filter(|s| before[*s]["stock"] != before[*s]["availableStock"]);
        if version == ApiVersion::V6_4 {
            assert!(
                held.count() > 100,
                "open orders hold stock of many articles"
            );
        }
        if version != ApiVersion::V6_4 {
            // The first run learns the ids (6.4 reads every batch anyway).
            let first = shop
                .session()
                .await
                .write_stock(&updates(&skus, 0))
                .await
                .unwrap();
            assert!(first.iter().all(|r| r.outcome.is_ok()), "{version}");
        }
        let before = shop.requests();
        let results = shop
            .session()
            .await
            .write_stock(&updates(&skus, 5))
            .await
            .unwrap();
        let requests = shop.requests() - before;
        assert_eq!(results.len(), 2000);
        assert!(results.iter().all(|r| r.outcome.is_ok()), "{version}");
        match version {
            ApiVersion::V6_4 => {
                assert_eq!(
                    requests,
                    2 + 8,
                    "6.4: token, version, a read and a sync per 500"
                )
            }
            _ => assert!(requests <= 4, "6.6: {requests} requests for 2,000 levels"),
        }
        assert!(
            shop.sim.queued_indexing() >= 2000,
            "{version}: a bulk write lets the shop index in its queue"
        );
        let after = products_by_number(&shop);
        for (update, result) in updates(&skus, 5).iter().zip(&results) {
            assert_eq!(result.key, update.sku);
            let product = &after[&update.sku];
            assert_eq!(
                sellable(product, version),
                update.quantity,
                "{version}: {} sellable",
                update.sku
            );
            assert_eq!(
                result.outcome.as_ref().unwrap().id,
                product["id"].as_str().unwrap()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_6_4_open_orders_are_accounted_for_and_levels_already_there_are_left_alone() {
    let shop = Shop::demo(ApiVersion::V6_4).await;
    let mut session = shop.session().await;
    let mug = shop.sim.product("TB-MUG-01").unwrap();
    assert_eq!(
        (mug["stock"].as_i64(), mug["availableStock"].as_i64()),
        (Some(40), Some(27))
    );
    let update = StockUpdate {
        sku: "TB-MUG-01".into(),
        quantity: 30,
        managed: true,
    };
    let results = session
        .write_stock(std::slice::from_ref(&update))
        .await
        .unwrap();
    assert_eq!(
        results[0].outcome.as_ref().unwrap().action,
        WriteAction::Updated
    );
    let mug = shop.sim.product("TB-MUG-01").unwrap();
    assert_eq!(
        (mug["stock"].as_i64(), mug["availableStock"].as_i64()),
        (Some(43), Some(30))
    );
    let again = session.write_stock(&[update]).await.unwrap();
    assert_eq!(
        again[0].outcome.as_ref().unwrap().action,
        WriteAction::Unchanged
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn articles_not_stock_managed_are_sellable_whatever_their_stock() {
    for version in VERSIONS {
        // Closeouts: not sellable without stock (the variants inherit it from the parent).
        let (shop, _dir) = Shop::edited(version, Dataset::demo(), |dump| {
            for product in rows(dump, "product") {
                if ["TB-TEE", "TB-CANDLE-01"].contains(&product["productNumber"].as_str().unwrap())
                {
                    product["isCloseout"] = true.into();
                }
            }
        })
        .await;
        let mut session = shop.session().await;
        shop.sim.set_stock("TB-TEE-M-RED", 0).unwrap();
        assert_eq!(
            shop.sim.product("TB-TEE-M-RED").unwrap()["available"],
            false
        );
        let before = shop.sim.product("TB-TEE-M-RED").unwrap();
        let results = session
            .write_stock(&[
                StockUpdate {
                    sku: "TB-CANDLE-01".into(),
                    quantity: 99,
                    managed: false,
                },
                StockUpdate {
                    sku: "TB-TEE-M-RED".into(),
                    quantity: 99,
                    managed: false,
                },
            ])
            .await
            .unwrap();
        assert!(
            results.iter().all(|r| r.outcome.is_ok()),
            "{version}: {results:?}"
        );
        let candle = shop.sim.product("TB-CANDLE-01").unwrap();
        assert_eq!(candle["isCloseout"], false, "{version}");
        assert_eq!(candle["stock"], 6, "{version}: no quantity written");
        let tee = shop.sim.product("TB-TEE-M-RED").unwrap();
        assert_eq!(
            tee["isCloseout"], false,
            "{version}: the variant's own setting"
        );
        assert_eq!(tee["stock"], before["stock"], "{version}");
        assert_eq!(tee["available"], true, "{version}: sellable at stock 0");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_skus_fail_alone_and_stale_cached_ids_heal() {
    for version in VERSIONS {
        let shop = Shop::demo(version).await;
        // A cached id that is not the product's any more (deleted and made again).
        if let Kv::Memory(map) = &shop.kv {
            map.lock().unwrap().insert(
                "sku/tb-mug-01".into(),
                "0123456789abcdef0123456789abcdef".into(),
            );
        }
        let mut session = shop.session().await;
        let results = session
            .write_stock(&[
                StockUpdate {
                    sku: "TB-MUG-01".into(),
                    quantity: 12,
                    managed: true,
                },
                StockUpdate {
                    sku: "NO-SUCH-SKU".into(),
                    quantity: 1,
                    managed: true,
                },
                StockUpdate {
                    sku: "TB-BOOK-01".into(),
                    quantity: 3,
                    managed: true,
                },
            ])
            .await
            .unwrap();
        assert!(results[0].outcome.is_ok(), "{version}: {:?}", results[0]);
        assert!(
            matches!(results[1].outcome, Err(PluginError::NotFound(_))),
            "{version}: {:?}",
            results[1]
        );
        assert!(results[2].outcome.is_ok(), "{version}");
        assert_eq!(
            sellable(&shop.sim.product("TB-MUG-01").unwrap(), version),
            12
        );
        assert_eq!(
            sellable(&shop.sim.product("TB-BOOK-01").unwrap(), version),
            3
        );
        assert!(shop.sim.product("NO-SUCH-SKU").is_none());
        assert_eq!(
            shop.sim.queued_indexing(),
            0,
            "{version}: a few levels are indexed at once"
        );
    }
}
