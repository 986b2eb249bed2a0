//! Content negotiation and the two response formats.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn json_api_is_served_without_accept_and_for_any_type() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    for accept in [None, Some("*/*"), Some("application/vnd.api+json")] {
        let api = match accept {
            Some(a) => api.with("accept", a),
            None => {
                let mut plain = api.with("accept", "");
                plain.token = api.token.clone();
                plain
            }
        };
        let res = api.search("currency", json!({})).await;
        assert_eq!(res.status, 200);
        assert_eq!(res.header("content-type"), Some("application/vnd.api+json"));
        assert!(res.body["data"][0]["attributes"].is_object(), "{accept:?}");
        assert!(res.body["meta"]["total"].is_number());
    }
}

#[tokio::test]
async fn other_media_types_are_refused_with_415() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let res = api
        .with("accept", "text/html")
        .search("currency", json!({}))
        .await;
    assert_eq!(res.status, 415);
    assert_eq!(
        res.body["errors"][0]["detail"],
        "All provided media types are unsupported. (text/html)"
    );
}

#[tokio::test]
async fn plain_json_has_total_data_aggregations_and_api_aliases() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let res = api
        .search(
            "order",
            json!({"limit": 1, "associations": {"lineItems": {}, "transactions": {}}}),
        )
        .await;
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(
        res.body["aggregations"],
        json!([]),
        "empty aggregations are a list"
    );
    let order = &res.body["data"][0];
    assert_eq!(order["apiAlias"], "order");
    assert_eq!(order["lineItems"][0]["apiAlias"], "order_line_item");
    assert_eq!(order["price"]["apiAlias"], "cart_price");
    assert_eq!(
        order["lineItems"][0]["price"]["apiAlias"],
        "calculated_price"
    );
    assert_eq!(
        order["transactions"][0]["stateMachineState"]["apiAlias"],
        "state_machine_state"
    );
    assert!(order["deliveries"].is_null(), "not asked for, not loaded");
}

#[tokio::test]
async fn json_api_has_attributes_relationships_included_links_and_meta() {
    let (sim, api) = demo(ApiVersion::V6_6).await;
    let res = api
        .json_api()
        .search(
            "order",
            json!({"limit": 2, "page": 2, "total-count-mode": 1, "associations": {"lineItems": {}}}),
        )
        .await;
    let body = &res.body;
    let order = &body["data"][0];
    assert_eq!(order["type"], "order");
    assert!(order["attributes"]["orderNumber"].is_string());
    assert!(
        order["attributes"].get("id").is_none(),
        "the id is beside the attributes"
    );
    let items = order["relationships"]["lineItems"]["data"]
        .as_array()
        .unwrap();
    assert!(!items.is_empty());
    assert_eq!(items[0]["type"], "order_line_item");
    let included: Vec<_> = body["included"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["type"].clone(), r["id"].clone()))
        .collect();
    assert!(included.contains(&(items[0]["type"].clone(), items[0]["id"].clone())));
    assert_eq!(body["meta"], json!({"totalCountMode": 1, "total": 8}));
    let base = sim.base_url();
    assert_eq!(
        body["links"]["first"],
        format!("{base}/api/search/order?limit=2&page=1")
    );
    assert_eq!(
        body["links"]["prev"],
        format!("{base}/api/search/order?limit=2&page=1")
    );
    assert_eq!(
        body["links"]["next"],
        format!("{base}/api/search/order?limit=2&page=3")
    );
    assert_eq!(
        body["links"]["last"],
        format!("{base}/api/search/order?limit=2&page=4")
    );
    assert_eq!(
        order["relationships"]["lineItems"]["links"]["related"],
        format!(
            "{base}/api/order/{}/line-items",
            order["id"].as_str().unwrap()
        )
    );
}

#[tokio::test]
async fn details_are_wrapped_in_data_in_both_formats() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let id = keys::order("10001");
    let plain = api.get(&format!("/api/order/{id}")).await;
    assert_eq!(plain.body["data"]["id"], id);
    assert_eq!(
        plain.body["data"]["stateMachineState"]["technicalName"], "open",
        "autoloaded"
    );
    let doc = api.json_api().get(&format!("/api/order/{id}")).await;
    assert_eq!(doc.body["data"]["id"], id);
    assert!(
        doc.body["links"]["self"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/api/order/{id}"))
    );
}

#[tokio::test]
async fn includes_keep_only_the_named_fields_per_api_alias() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let res = api
        .search(
            "order",
            json!({"limit": 1, "associations": {"lineItems": {}},
                   "includes": {"order": ["orderNumber", "lineItems"], "order_line_item": ["quantity"]}}),
        )
        .await;
    let order = res.body["data"][0].as_object().unwrap();
    let mut keys: Vec<_> = order.keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, vec!["apiAlias", "lineItems", "orderNumber"]);
    assert_eq!(
        res.body["data"][0]["lineItems"][0],
        json!({"quantity": 2, "apiAlias": "order_line_item"})
    );
}
