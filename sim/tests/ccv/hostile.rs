//! Hostile requests, signed as CCV demands: absurd amounts, a JSON nesting bomb and an oversized
//! body are refused with CCV's error shape, and the simulator keeps serving.

use serde_json::json;

use super::client::{Client, demo};

/// The simulator still answers a signed read.
async fn still_serving(client: &Client) {
    let res = client.get("/api/rest/v1/orders").await;
    assert_eq!(res.status, 200, "{}", res.text);
}

#[tokio::test]
async fn an_order_with_huge_amounts_is_refused_and_leaves_no_trace() {
    let (sim, client) = demo().await;
    let mug = sim.article("TB-MUG-01").unwrap().product_id;
    let orders_before = client.all_items("/api/rest/v1/orders").await.len();
    let free_row = |price: serde_json::Value, count: serde_json::Value| json!({"orderrows": [{"product_name": "X", "product_number": "X", "price": price, "count": count, "tax": 21}]});
    for body in [
        // Beyond any amount a decimal holds.
        free_row(json!(7.9e28), json!(7.9e28)),
        free_row(json!(1e300), json!(1)),
        // Each amount fits, their product does not.
        free_row(json!(1e15), json!(1e15)),
    ] {
        let res = client.post("/api/rest/v1/orders", &body).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text);
        assert_eq!(res.code(), "400.10");
        assert_eq!(res.body["status"], 400);
        assert!(
            res.body["developermessage"].as_str().is_some(),
            "{}",
            res.text
        );
        still_serving(&client).await;
    }
    assert_eq!(
        client.all_items("/api/rest/v1/orders").await.len(),
        orders_before
    );

    // A row added to an existing order is checked the same way.
    let order = client
        .post(
            "/api/rest/v1/orders",
            &json!({"orderrows": [{"product_id": mug, "count": 1}]}),
        )
        .await;
    assert_eq!(order.status, 201, "{}", order.text);
    let rows = format!("/api/rest/v1/orders/{}/orderrows", order.id());
    let res = client
        .post(
            &rows,
            &json!({"product_name": "X", "product_number": "X", "price": 1e15, "count": 1e15}),
        )
        .await;
    assert_eq!(res.code(), "400.10", "{}", res.text);
    assert_eq!(
        client.all_items(&rows).await.len(),
        1,
        "the order is as it was"
    );
    let again = client
        .post(
            "/api/rest/v1/orders",
            &json!({"orderrows": [{"product_id": mug, "count": 1}]}),
        )
        .await;
    assert_eq!(
        again.body["ordernumber"].as_u64(),
        order.body["ordernumber"].as_u64().map(|n| n + 1),
        "a refused order takes no number"
    );
}

#[tokio::test]
async fn a_json_nesting_bomb_and_an_oversized_body_are_refused() {
    let (_sim, client) = demo().await;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let res = client.send("POST", "/api/rest/v1/orders", &deep).await;
    assert_eq!((res.status, res.code()), (400, "400.10"), "{}", res.text);
    still_serving(&client).await;

    let huge = " ".repeat(tillbridge_sim::common::server::MAX_BODY + 1);
    let res = client.send("POST", "/api/rest/v1/orders", &huge).await;
    assert_eq!(res.status, 413);
    still_serving(&client).await;
}
