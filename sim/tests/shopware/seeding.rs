//! Seeds (demo, generated, dumped files), the control routes, journal and faults.

use std::time::Instant;

use serde_json::json;
use tillbridge_sim::common::Fault;
use tillbridge_sim::dataset::Dataset;

use crate::support::*;

#[tokio::test]
async fn a_generated_shop_loads_quickly_and_serves_its_products() {
    let data = Dataset::generated(2_000, 200, 0.5, 42);
    let articles = data.article_skus().len();
    let started = Instant::now();
    let sim = start(ApiVersion::V6_6, Seed::Dataset(data)).await;
    assert!(
        started.elapsed().as_secs() < 30,
        "took {:?}",
        started.elapsed()
    );
    let api = Api::login(&sim).await;
    let products = api
        .search("product", json!({"limit": 1, "total-count-mode": 1}))
        .await;
    let parents = 2_000 / 5;
    assert_eq!(products.body["total"], articles + parents);
    let orders = api
        .search("order", json!({"limit": 1, "total-count-mode": 1}))
        .await;
    assert_eq!(orders.body["total"], 200);
    let categories = api
        .search("category", json!({"limit": 1, "total-count-mode": 1}))
        .await;
    assert_eq!(categories.body["total"], 1 + 5 + 20 + 60);
}

#[tokio::test]
async fn a_dump_seeds_an_identical_shop() {
    let (sim, api) = demo(ApiVersion::V6_6).await;
    api.patch(
        &format!("/api/product/{}", keys::product("TB-MUG-01")),
        json!({"stock": 7}),
    )
    .await;
    let dump = sim.dump();
    let over_http = api.get("/__sim/state").await;
    assert_eq!(over_http.body, dump);
    let file = std::env::temp_dir().join(format!("shopware-dump-{}.json", std::process::id()));
    std::fs::write(&file, dump.to_string()).unwrap();
    let again = start(ApiVersion::V6_6, Seed::File(file.clone())).await;
    let _ = std::fs::remove_file(&file);
    assert_eq!(again.dump()["entities"], dump["entities"]);
    let api = Api::login(&again).await;
    assert_eq!(api.product("TB-MUG-01").await["stock"], 7);
    let draft = tillbridge_sim::shopware::ids::stable("version", &keys::order("10002"));
    let seen = api
        .with("sw-version-id", &draft)
        .get(&format!("/api/order/{}", keys::order("10002")))
        .await;
    assert!(
        seen.body["data"]["customerComment"].is_string(),
        "drafts survive the dump"
    );
}

#[tokio::test]
async fn an_empty_shop_has_the_system_data_only() {
    let sim = start(ApiVersion::V6_6, Seed::Empty).await;
    let api = Api::login(&sim).await;
    assert_eq!(
        api.search("product", json!({"total-count-mode": 1}))
            .await
            .body["total"],
        0
    );
    let currency = api
        .get("/api/currency/b7d2554b0ce847cd82f3ac9bd1c0dfca")
        .await;
    assert_eq!(currency.body["data"]["isoCode"], "EUR");
    let states = api
        .search("state-machine-state", json!({"total-count-mode": 1}))
        .await;
    assert_eq!(states.body["total"], 4 + 12 + 6);
}

#[tokio::test]
async fn injected_faults_answer_in_shopware_error_format() {
    let (sim, api) = demo(ApiVersion::V6_6).await;
    sim.faults()
        .add(Fault::status("/api/search/*", 503).retry_after(7).times(1));
    let res = api.search("order", json!({})).await;
    assert_eq!(res.status, 503);
    assert_eq!(res.header("retry-after"), Some("7"));
    assert_eq!(res.body["errors"][0]["status"], "503");
    assert_eq!(res.body["errors"][0]["title"], "Service Unavailable");
    assert_eq!(
        api.search("order", json!({})).await.status,
        200,
        "only once"
    );
    let journal = sim.journal().entries();
    let searches: Vec<_> = journal
        .iter()
        .filter(|e| e.path == "/api/search/order")
        .collect();
    assert_eq!(searches.len(), 2);
    assert!(searches[0].fault && !searches[1].fault);
}

#[tokio::test]
async fn seeds_agree_with_the_dataset_for_every_version() {
    for version in VERSIONS {
        let (_sim, api) = demo(version).await;
        let mug = api.product("TB-MUG-01").await;
        assert_eq!(mug["stock"], 40, "{version}");
        assert_eq!(mug["price"][0]["gross"], 12.95);
        assert_eq!(mug["price"][0]["net"], 10.7);
        let methods = api
            .search("payment-method", json!({"total-count-mode": 1}))
            .await;
        assert_eq!(methods.body["total"], 4);
        let has_technical_name = methods.body["data"][0].get("technicalName").is_some();
        assert_eq!(
            has_technical_name,
            version != ApiVersion::V6_4,
            "technicalName exists from 6.6 on"
        );
    }
}
