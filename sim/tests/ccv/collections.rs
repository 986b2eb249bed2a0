//! Paging with `start`/`size` and `next` links, sorting, expanding, and the errors for unknown
//! resources and methods.

use std::collections::HashSet;

use serde_json::Value;
use tillbridge_sim::ccv::{MAX_PAGE_SIZE, RateLimits, Seed};
use tillbridge_sim::dataset::Dataset;

use super::client::{demo, start};

#[tokio::test]
async fn next_links_walk_a_collection_completely() {
    let dataset = Dataset::generated(130, 0, 1.0, 11);
    let (sim, client) = start(Seed::Dataset(dataset.clone()), RateLimits::default()).await;
    let expected = dataset.products.iter().filter(|p| p.in_pos).count();
    assert!(expected > 100);

    let first = client.get("/api/rest/v1/products/?size=40").await;
    assert_eq!(first.status, 200, "{}", first.text);
    let page = &first.body;
    assert_eq!(page["start"], 0);
    assert_eq!(page["size"], 40);
    assert!(page["previous"].is_null());
    assert!(page["first"].as_str().unwrap().ends_with("start=0&size=40"));
    assert!(
        page["href"]
            .as_str()
            .unwrap()
            .ends_with("/api/rest/v1/products/?size=40")
    );

    let items = client.all_items("/api/rest/v1/products/?size=40").await;
    let ids: HashSet<u64> = items.iter().map(|p| p["id"].as_u64().unwrap()).collect();
    assert_eq!(items.len(), expected);
    assert_eq!(ids.len(), expected, "no product twice");
    let in_state: HashSet<u64> = sim.dump()["products"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.parse().unwrap())
        .collect();
    assert_eq!(ids, in_state);

    // The last page has no next; the one before it links back.
    let last_start = (expected - 1) / 40 * 40;
    let last = client
        .get(&format!(
            "/api/rest/v1/products/?size=40&start={last_start}"
        ))
        .await;
    assert!(last.body["next"].is_null());
    let previous = last.body["previous"].as_str().unwrap();
    assert!(previous.ends_with(&format!("start={}&size=40", last_start - 40)));
}

#[tokio::test]
async fn page_sizes_default_and_are_capped() {
    let dataset = Dataset::generated(300, 0, 1.0, 5);
    let (_sim, client) = start(Seed::Dataset(dataset), RateLimits::default()).await;
    let default = client.get("/api/rest/v1/products").await;
    assert_eq!(default.body["items"].as_array().unwrap().len(), 25);
    let huge = client.get("/api/rest/v1/products?size=1000").await;
    assert_eq!(huge.body["size"], MAX_PAGE_SIZE);
    assert_eq!(huge.body["items"].as_array().unwrap().len(), MAX_PAGE_SIZE);
    assert!(huge.body["next"].as_str().unwrap().contains("start=250"));
    for bad in ["size=0", "size=-1", "start=x"] {
        let refused = client.get(&format!("/api/rest/v1/products?{bad}")).await;
        assert_eq!((refused.status, refused.code()), (400, "400.10"), "{bad}");
    }
}

#[tokio::test]
async fn orderby_sorts_and_desc_reverses() {
    let (_sim, client) = demo().await;
    let names = |items: &Value| -> Vec<String> {
        items["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    };
    let ascending = names(&client.get("/api/rest/v1/products?orderby=name").await.body);
    let mut sorted = ascending.clone();
    sorted.sort();
    assert_eq!(ascending, sorted);
    let descending = names(
        &client
            .get("/api/rest/v1/products?orderby=name_desc")
            .await
            .body,
    );
    assert_eq!(
        descending,
        ascending.iter().rev().cloned().collect::<Vec<_>>()
    );
    let refused = client.get("/api/rest/v1/products?orderby=colour").await;
    assert_eq!((refused.status, refused.code()), (400, "400.10"));
}

#[tokio::test]
async fn expand_fills_in_sub_resources() {
    let (sim, client) = demo().await;
    let tee = sim.article("TB-TEE-M-RED").unwrap().product_id;
    let plain = client.get(&format!("/api/rest/v1/products/{tee}")).await;
    let link = &plain.body["attributecombinations"];
    assert!(
        link["href"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/products/{tee}/attributecombinations"))
    );
    assert!(link.get("collection").is_none());
    let expanded = client
        .get(&format!(
            "/api/rest/v1/products/{tee}?expand=attributecombinations,producttocategories"
        ))
        .await;
    assert_eq!(
        expanded.body["attributecombinations"]["collection"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    assert!(
        expanded.body["producttocategories"]["collection"]
            .as_array()
            .unwrap()
            .is_empty(),
        "the demo POS has no categories yet"
    );
}

#[tokio::test]
async fn unknown_resources_and_methods_get_ccv_errors() {
    let (_sim, client) = demo().await;
    for uri in [
        "/api/rest/v1/cashregisters",
        "/api/rest/v1/products/abc",
        "/api/rest/v2/products",
        "/",
    ] {
        let answer = client.get(uri).await;
        assert_eq!(
            (answer.status, answer.code()),
            (404, "404.20"),
            "{uri}: {}",
            answer.text
        );
    }
    let missing = client.get("/api/rest/v1/products/999999999").await;
    assert_eq!((missing.status, missing.code()), (404, "404.10"));
    let cases = [
        ("DELETE", "/api/rest/v1/orders/1"),
        ("POST", "/api/rest/v1/paymethods"),
        ("POST", "/api/rest/v1/products/1/attributecombinations"),
        ("DELETE", "/api/rest/v1/attributecombinations/1"),
        ("PUT", "/api/rest/v1/products"),
    ];
    for (method, uri) in cases {
        let answer = client.send(method, uri, "").await;
        assert_eq!(
            (answer.status, answer.code()),
            (405, "405.10"),
            "{method} {uri}"
        );
        assert_eq!(answer.body["status"], 405);
    }
}

#[tokio::test]
async fn the_root_lists_the_resources() {
    let (_sim, client) = demo().await;
    let root = client.get("/api/rest/v1/").await;
    assert_eq!(root.status, 200, "{}", root.text);
    let titles: Vec<_> = root.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["href"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    for resource in [
        "products",
        "orders",
        "users",
        "attributecombinations",
        "paymethods",
        "webshops",
    ] {
        assert!(
            titles.iter().any(|t| t == resource),
            "{resource} in {titles:?}"
        );
    }
}
