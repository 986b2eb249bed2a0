//! Hostile requests: a nesting bomb in a form body or a query string, a JSON nesting bomb and an
//! oversized body are answered as Shopware answers them, and the simulator keeps serving.

use reqwest::Method;
use serde_json::json;
use tillbridge_sim::dataset;

use crate::support::*;

const FORM: &str = "application/x-www-form-urlencoded";

/// `name[][]…[]=1`: about 9 KB of brackets, far deeper than PHP's 64 levels.
fn bomb(name: &str) -> String {
    format!("{name}{}=1", "[]".repeat(4600))
}

/// The simulator still logs in and answers a search.
async fn still_serving(sim: &ShopwareSim) {
    let api = Api::login(sim).await;
    let res = api.search("product", json!({"limit": 1})).await;
    assert_eq!(res.status, 200, "{}", res.body);
}

#[tokio::test]
async fn a_nested_form_body_drops_that_variable_as_php_does() {
    let sim = start(ApiVersion::V6_6, Seed::Empty).await;
    let api = Api::anonymous(&sim);
    let credentials = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        dataset::SHOPWARE_CLIENT_ID,
        dataset::SHOPWARE_CLIENT_SECRET
    );
    let res = api
        .send_raw(
            Method::POST,
            "/api/oauth/token",
            FORM,
            format!("{credentials}&{}", bomb("x")),
        )
        .await;
    assert_eq!(res.status, 200, "the other variables stand: {}", res.body);

    // With the grant type itself too deep, the request has no grant type.
    let res = api
        .send_raw(Method::POST, "/api/oauth/token", FORM, bomb("grant_type"))
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    still_serving(&sim).await;
}

#[tokio::test]
async fn a_nested_query_string_drops_that_criterion_as_php_does() {
    let (sim, api) = demo(ApiVersion::V6_6).await;
    let all = api.get("/api/product?limit=3").await;
    assert_eq!(all.status, 200, "{}", all.body);
    let res = api
        .get(&format!("/api/product?limit=3&{}", bomb("filter")))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        res.ids(),
        all.ids(),
        "the filter was dropped, the rest applies"
    );
    still_serving(&sim).await;
}

#[tokio::test]
async fn a_json_nesting_bomb_is_a_malformed_payload() {
    let (sim, api) = demo(ApiVersion::V6_6).await;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let res = api
        .send_raw(
            Method::POST,
            "/api/search/product",
            "application/json",
            deep,
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    let res = api
        .send_raw(
            Method::POST,
            "/api/_action/sync",
            "application/json",
            format!("{{\"a\":{}", "{\"a\":".repeat(50_000)),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    still_serving(&sim).await;
}

#[tokio::test]
async fn an_oversized_body_is_refused_unread() {
    let (sim, api) = demo(ApiVersion::V6_6).await;
    let huge = " ".repeat(tillbridge_sim::common::server::MAX_BODY + 1);
    let res = api
        .send_raw(
            Method::POST,
            "/api/search/product",
            "application/json",
            huge,
        )
        .await;
    assert_eq!(res.status, 413);
    still_serving(&sim).await;
}
