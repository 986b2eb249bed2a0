//! Seeds, dumps, the control routes and injected faults.

use std::collections::HashSet;

use serde_json::Value;
use tillbridge_sim::ccv::{CcvOptions, CcvSim, RateLimits, Seed};
use tillbridge_sim::common::Fault;
use tillbridge_sim::dataset::Dataset;

use super::client::{Client, demo, start};

#[tokio::test]
async fn the_demo_seed_is_the_pos_side_of_the_dataset() {
    let (sim, client) = demo().await;
    let numbers: HashSet<String> = client
        .all_items("/api/rest/v1/products")
        .await
        .iter()
        .map(|p| p["productnumber"].as_str().unwrap().to_string())
        .collect();
    let in_pos: HashSet<String> = Dataset::demo()
        .products
        .iter()
        .filter(|p| p.in_pos)
        .map(|p| p.sku.clone())
        .collect();
    assert_eq!(numbers, in_pos);
    assert!(!numbers.contains("TB-POSTER-01") && !numbers.contains("TB-HOODIE"));

    let webshops = client.all_items("/api/rest/v1/webshops").await;
    assert_eq!(webshops.len(), 1);
    assert_eq!(webshops[0]["is_salespos"], true);

    let paymethods = client.all_items("/api/rest/v1/paymethods").await;
    let ideal = paymethods.iter().find(|p| p["method"] == "ideal").unwrap();
    assert_eq!(
        (ideal["id"].as_u64(), ideal["label"].as_str()),
        (Some(1), Some("iDEAL"))
    );

    let mug = client
        .get("/api/rest/v1/products?productnumber=TB-MUG-01")
        .await
        .body["items"][0]
        .clone();
    assert_eq!(mug["price"], 12.95);
    assert_eq!(mug["taxtariff"], "normal");
    let book = client
        .get("/api/rest/v1/products?productnumber=TB-BOOK-01")
        .await
        .body["items"][0]
        .clone();
    assert_eq!(book["taxtariff"], "low a");
    assert_eq!(
        sim.users_with_email("ada.jansen@example.nl"),
        Vec::<u64>::new()
    );
}

#[tokio::test]
async fn a_dump_loads_again_as_a_seed() {
    let (sim, client) = demo().await;
    sim.reserve("TB-MUG-01", 1).unwrap();
    let dump = sim.dump();
    let path = std::env::temp_dir().join(format!("ccv-dump-{}.json", std::process::id()));
    std::fs::write(&path, dump.to_string()).unwrap();
    let (again, again_client) = start(Seed::File(path.clone()), RateLimits::default()).await;
    std::fs::remove_file(&path).unwrap();
    assert_eq!(again.dump(), dump);
    assert_eq!(again.stock("TB-MUG-01"), sim.stock("TB-MUG-01"));
    // New ids continue after the loaded ones.
    let created = again_client
        .post(
            "/api/rest/v1/categories",
            &serde_json::json!({"name": "New"}),
        )
        .await;
    assert!(created.id() >= dump["next_id"].as_u64().unwrap());
    drop(client);
}

#[tokio::test]
async fn the_state_route_is_neither_signed_nor_limited() {
    let (sim, client) = start(
        Seed::Dataset(Dataset::demo()),
        RateLimits {
            total_per_window: 1,
            ..RateLimits::default()
        },
    )
    .await;
    for _ in 0..3 {
        let state = client.raw("GET", "/__sim/state", "", &[]).await;
        assert_eq!(state.status, 200);
        assert_eq!(state.body, sim.dump());
    }
    assert!(sim.journal().is_empty(), "control routes are not journaled");
}

#[tokio::test]
async fn injected_faults_answer_in_ccvs_error_format_and_are_journaled() {
    let (sim, client) = demo().await;
    sim.faults()
        .add(Fault::status("/api/rest/v1/products*", 503).times(1));
    let fault = client.get("/api/rest/v1/products").await;
    assert_eq!(fault.status, 503);
    assert_eq!(
        (fault.code(), fault.body["status"].as_u64()),
        ("503.00", Some(503))
    );
    assert!(fault.body["developermessage"].is_string());
    assert_eq!(client.get("/api/rest/v1/products").await.status, 200);
    let journal = sim.journal().entries();
    assert_eq!(journal.len(), 2);
    assert!(journal[0].fault && !journal[1].fault);
}

#[tokio::test]
async fn the_startup_line_names_what_a_client_needs() {
    let sim = CcvSim::start(CcvOptions {
        public_key: "pk".into(),
        secret: "sk".into(),
        ..CcvOptions::default()
    })
    .await
    .unwrap();
    let line = sim.startup_line();
    assert_eq!(line["sim"], "ccv");
    assert_eq!(line["base_url"], sim.base_url());
    assert_eq!(
        (line["public_key"].as_str(), line["secret"].as_str()),
        (Some("pk"), Some("sk"))
    );
    let client = Client::new(&sim);
    assert_eq!(client.get("/api/rest/v1/webshops").await.status, 200);
    sim.stop().await;
}

#[tokio::test]
async fn the_generated_seed_has_what_the_dataset_has() {
    let dataset = Dataset::generated(400, 0, 0.5, 3);
    let (sim, _client) = start(Seed::Dataset(dataset.clone()), RateLimits::default()).await;
    let dump = sim.dump();
    let count = |key: &str| dump[key].as_object().map_or(0, serde_json::Map::len);
    let in_pos: Vec<_> = dataset.products.iter().filter(|p| p.in_pos).collect();
    assert_eq!(count("products"), in_pos.len());
    let variants: usize = in_pos.iter().map(|p| p.variants.len()).sum();
    assert_eq!(count("combinations"), variants);
    for product in &in_pos {
        for variant in &product.variants {
            let level = sim.stock(&variant.sku).unwrap();
            assert_eq!(
                level.physical,
                variant.pos_physical.into(),
                "{}",
                variant.sku
            );
            assert_eq!(
                level.reserved,
                variant.pos_reserved.into(),
                "{}",
                variant.sku
            );
        }
    }
    let orders: Vec<&Value> = dump["orders"].as_object().unwrap().values().collect();
    assert!(orders.iter().all(|o| o["status"] == 14));
}
