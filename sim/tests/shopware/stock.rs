//! Stock as each version counts it.

use serde_json::json;

use crate::support::*;

async fn stock(api: &Api, number: &str) -> (i64, i64) {
    let product = api.product(number).await;
    (
        product["stock"].as_i64().unwrap(),
        product["availableStock"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn on_6_6_stock_is_sellable_taken_at_placement_and_given_back_on_cancel() {
    let (sim, api) = demo(ApiVersion::V6_6).await;
    assert_eq!(
        stock(&api, "TB-MUG-01").await,
        (40, 40),
        "the dataset's shop stock"
    );
    let order = sim
        .place_order(&ada(), &[("TB-MUG-01", 2)], "payment_paypal")
        .unwrap();
    assert_eq!(stock(&api, "TB-MUG-01").await, (38, 38));
    assert_eq!(api.product("TB-MUG-01").await["sales"], 2);
    let res = api
        .post(
            &format!("/api/_action/order/{}/state/cancel", order.id),
            json!({}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(stock(&api, "TB-MUG-01").await, (40, 40));
    api.post(
        &format!("/api/_action/order/{}/state/reopen", order.id),
        json!({}),
    )
    .await;
    assert_eq!(stock(&api, "TB-MUG-01").await, (38, 38));
    assert_eq!(
        api.delete(&format!("/api/order/{}", order.id)).await.status,
        204
    );
    assert_eq!(
        stock(&api, "TB-MUG-01").await,
        (40, 40),
        "deleting a live order gives its stock back"
    );
}

#[tokio::test]
async fn on_6_4_available_stock_subtracts_open_orders_and_stock_drops_on_completion() {
    let (sim, api) = demo(ApiVersion::V6_4).await;
    assert_eq!(
        stock(&api, "TB-MUG-01").await,
        (40, 27),
        "open and in-progress orders hold 2 + 10 + 1; the cancelled one holds nothing"
    );
    let order = sim
        .place_order(&ada(), &[("TB-MUG-01", 2)], "payment_paypal")
        .unwrap();
    assert_eq!(stock(&api, "TB-MUG-01").await, (40, 25));
    for action in ["process", "complete"] {
        let res = api
            .post(
                &format!("/api/_action/order/{}/state/{action}", order.id),
                json!({}),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.body);
    }
    assert_eq!(
        stock(&api, "TB-MUG-01").await,
        (38, 25),
        "completed: shipped, stock drops"
    );
    assert_eq!(api.product("TB-MUG-01").await["sales"], 2);
    api.post(
        &format!("/api/_action/order/{}/state/reopen", order.id),
        json!({}),
    )
    .await;
    assert_eq!(
        stock(&api, "TB-MUG-01").await,
        (40, 25),
        "leaving completed puts it back"
    );
    let first = keys::order("10001");
    api.post(
        &format!("/api/_action/order/{first}/state/cancel"),
        json!({}),
    )
    .await;
    assert_eq!(
        stock(&api, "TB-MUG-01").await,
        (40, 27),
        "a cancelled order holds nothing"
    );
}

#[tokio::test]
async fn writing_stock_recomputes_available_stock_per_version() {
    for (version, expected) in [
        (ApiVersion::V6_4, (100, 87)),
        (ApiVersion::V6_6, (100, 100)),
    ] {
        let (_sim, api) = demo(version).await;
        let id = keys::product("TB-MUG-01");
        let res = api
            .patch(&format!("/api/product/{id}"), json!({"stock": 100}))
            .await;
        assert_eq!(res.status, 204, "{}", res.body);
        assert_eq!(stock(&api, "TB-MUG-01").await, expected, "{version}");
        let res = api
            .patch(&format!("/api/product/{id}"), json!({"availableStock": 5}))
            .await;
        assert_eq!(
            res.status, 400,
            "availableStock is write-protected on {version}"
        );
        assert_eq!(res.pointer(), "/0/availableStock");
    }
}

#[tokio::test]
async fn closeout_products_are_unavailable_without_stock() {
    let (sim, api) = demo(ApiVersion::V6_6).await;
    let id = keys::product("TB-CANDLE-01");
    api.patch(&format!("/api/product/{id}"), json!({"isCloseout": true}))
        .await;
    assert_eq!(api.product("TB-CANDLE-01").await["available"], true);
    sim.set_stock("TB-CANDLE-01", 0).unwrap();
    assert_eq!(api.product("TB-CANDLE-01").await["available"], false);
    let tee = keys::product("TB-TEE");
    api.patch(&format!("/api/product/{tee}"), json!({"isCloseout": true}))
        .await;
    sim.set_stock("TB-TEE-M-RED", 0).unwrap();
    let variant = api.product("TB-TEE-M-RED").await;
    assert!(
        variant["isCloseout"].is_null(),
        "inherited: null without sw-inheritance"
    );
    assert_eq!(
        variant["available"], false,
        "but the parent's closeout counts"
    );
}

#[tokio::test]
async fn stock_is_per_variant() {
    let (sim, api) = demo(ApiVersion::V6_6).await;
    let before = stock(&api, "TB-TEE-L-BLUE").await;
    sim.place_order(&ada(), &[("TB-TEE-L-BLUE", 1)], "payment_ideal")
        .unwrap();
    assert_eq!(
        stock(&api, "TB-TEE-L-BLUE").await,
        (before.0 - 1, before.1 - 1)
    );
    assert_eq!(
        stock(&api, "TB-TEE").await,
        (0, 0),
        "the parent is untouched"
    );
}
