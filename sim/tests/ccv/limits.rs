//! Rate limits answer 429 exactly at the limit, per operation and in total, and recover after
//! the window.

use std::time::Duration;

use serde_json::json;
use tillbridge_sim::ccv::{RateLimits, Seed};
use tillbridge_sim::dataset::Dataset;

use super::client::{Answer, start};

const WINDOW: Duration = Duration::from_millis(1500);

fn limits(reads: u32, writes: u32, total: u32) -> RateLimits {
    RateLimits {
        reads_per_window: reads,
        writes_per_window: writes,
        productqueries_per_window: 2,
        total_per_window: total,
        window: WINDOW,
    }
}

fn assert_limited(answer: &Answer, code: &str) {
    assert_eq!(answer.status, 429, "{}", answer.text);
    assert_eq!(answer.code(), code);
    assert_eq!(answer.body["status"], 429);
    assert!(answer.body["developermessage"].is_string());
}

#[tokio::test]
async fn the_read_after_the_limit_is_refused_per_operation_and_recovers() {
    let (sim, client) = start(Seed::Dataset(Dataset::demo()), limits(5, 3, 1000)).await;
    let products = sim.dump()["products"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect::<Vec<_>>();
    // Ids in the path make no new operation: GET /products/{id} is one, whatever the id.
    for n in 0..5 {
        let answer = client
            .get(&format!(
                "/api/rest/v1/products/{}",
                products[n % products.len()]
            ))
            .await;
        assert_eq!(
            answer.status,
            200,
            "request {} of 5: {}",
            n + 1,
            answer.text
        );
    }
    let refused = client
        .get(&format!("/api/rest/v1/products/{}", products[0]))
        .await;
    assert_limited(&refused, "429.10");
    // Other operations have their own counts.
    assert_eq!(client.get("/api/rest/v1/products").await.status, 200);
    assert_eq!(client.get("/api/rest/v1/users/").await.status, 200);
    // Refused requests are journaled.
    let limited = sim.journal().writes_where(|e| e.status == 429);
    assert_eq!(limited.len(), 1);
    assert!(!limited[0].fault);

    tokio::time::sleep(WINDOW + Duration::from_millis(100)).await;
    let again = client
        .get(&format!("/api/rest/v1/products/{}", products[0]))
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
}

/// `GET /productqueries` is "30 per minute" in CCV's documentation
/// (`src/Endpoints/ProductqueriesEndpoint.php` of `jacobdekeizer/ccvshop-client`, generated from
/// CCV's docs), not the 150 of other reads.
#[tokio::test]
async fn productqueries_have_their_own_smaller_limit() {
    let (_sim, client) = start(Seed::Dataset(Dataset::demo()), limits(5, 3, 1000)).await;
    for n in 1..=2 {
        let answer = client
            .get("/api/rest/v1/productqueries?productnumber=TB-MUG-01")
            .await;
        assert_eq!(answer.status, 200, "query {n} of 2: {}", answer.text);
    }
    let refused = client
        .get("/api/rest/v1/productqueries?skunumber=TB-TEE-S-RED")
        .await;
    assert_limited(&refused, "429.10");
    assert_eq!(
        client.get("/api/rest/v1/products").await.status,
        200,
        "other reads keep their own limit"
    );
    tokio::time::sleep(WINDOW + Duration::from_millis(100)).await;
    let again = client
        .get("/api/rest/v1/productqueries?skunumber=TB-TEE-S-RED")
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
}

#[tokio::test]
async fn writes_have_their_own_limit() {
    let (_sim, client) = start(Seed::Empty, limits(5, 3, 1000)).await;
    for n in 1..=3 {
        let answer = client
            .post("/api/rest/v1/categories", &json!({"name": format!("C{n}")}))
            .await;
        assert_eq!(answer.status, 201, "write {n} of 3: {}", answer.text);
    }
    let refused = client
        .post("/api/rest/v1/categories", &json!({"name": "C4"}))
        .await;
    assert_limited(&refused, "429.10");
    let listed = client.get("/api/rest/v1/categories").await;
    assert_eq!(listed.status, 200);
    assert_eq!(
        listed.body["items"].as_array().unwrap().len(),
        3,
        "the refused write wrote nothing"
    );
}

#[tokio::test]
async fn the_total_limit_spans_operations_and_recovers() {
    let (_sim, client) = start(Seed::Empty, limits(100, 100, 4)).await;
    for uri in [
        "/api/rest/v1/products",
        "/api/rest/v1/users",
        "/api/rest/v1/orders",
        "/api/rest/v1/",
    ] {
        assert_eq!(client.get(uri).await.status, 200, "{uri}");
    }
    let refused = client.get("/api/rest/v1/categories").await;
    assert_limited(&refused, "429.11");
    let refused = client
        .post("/api/rest/v1/categories", &json!({"name": "x"}))
        .await;
    assert_limited(&refused, "429.11");

    tokio::time::sleep(WINDOW + Duration::from_millis(100)).await;
    assert_eq!(client.get("/api/rest/v1/categories").await.status, 200);
}

#[tokio::test]
async fn requests_refused_for_their_signature_do_not_count() {
    let (_sim, mut client) = start(Seed::Empty, limits(2, 2, 1000)).await;
    let secret = client.signing.secret.clone();
    client.signing.secret = "wrong".into();
    for _ in 0..3 {
        assert_eq!(client.get("/api/rest/v1/products").await.status, 401);
    }
    client.signing.secret = secret;
    assert_eq!(client.get("/api/rest/v1/products").await.status, 200);
    assert_eq!(client.get("/api/rest/v1/products").await.status, 200);
    assert_limited(&client.get("/api/rest/v1/products").await, "429.10");
}
