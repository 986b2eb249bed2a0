//! Physical stock and reservations (orders in status 14), as a client reads them through the API.

use rust_decimal::Decimal;
use serde_json::json;

use super::client::{Client, demo};

/// What a connector computes: the reserved count of an article from `GET /orders?status=14` and
/// each order's `GET /orders/:id/orderrows`, a variant's rows known by their `sub_sku_number`.
async fn reserved_via_api(client: &Client, product_id: u64, sku: Option<&str>) -> i64 {
    let mut reserved = 0;
    for order in client.all_items("/api/rest/v1/orders?status=14").await {
        assert_eq!(order["status"], 14);
        let rows = client
            .all_items(&format!("/api/rest/v1/orders/{}/orderrows", order["id"]))
            .await;
        for row in rows {
            let same_variant = sku.is_none_or(|sku| row["sub_sku_number"] == sku);
            if row["product_id"] == product_id && same_variant {
                reserved += row["count"].as_i64().unwrap();
            }
        }
    }
    reserved
}

/// `GET /orders` documents no `expand` (`src/Parameters/Orders/All.php` of
/// `jacobdekeizer/ccvshop-client` has none, `Products/All.php` has them); its `orderrows` is a
/// link to `/orders/:id/orderrows` (`Resource/Orders/Child/Orderrows.php`: "Link to products that
/// are ordered with this order"). A row names its variant by `sub_product_number`,
/// `sub_sku_number` and `sub_ean_number` (`Resource/Orderrows/Orderrows.php`; the official SDK's
/// `src/Resources/OrderRow.php`): `attribute_combination_id` is an input field only.
#[tokio::test]
async fn reserved_orders_list_rows_as_a_link_and_rows_name_variants_by_their_numbers() {
    let (sim, client) = demo().await;
    let listed = client
        .get("/api/rest/v1/orders?status=14&expand=orderrows")
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let order = &listed.body["items"][0];
    assert!(
        order["orderrows"]["href"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/orders/{}/orderrows", order["id"]))
    );
    assert!(
        order["orderrows"].get("collection").is_none(),
        "an undocumented expand is ignored: {}",
        order["orderrows"]
    );
    let tee = sim.article("TB-TEE-L-BLUE").unwrap();
    let mut variant_rows = Vec::new();
    for order in client.all_items("/api/rest/v1/orders?status=14").await {
        let uri = format!("/api/rest/v1/orders/{}/orderrows", order["id"]);
        variant_rows.extend(
            client
                .all_items(&uri)
                .await
                .into_iter()
                .filter(|row| row["product_id"] == tee.product_id),
        );
    }
    let row = variant_rows
        .iter()
        .find(|row| row["sub_sku_number"] == "TB-TEE-L-BLUE")
        .expect("the reserved L/Blue named by its SKU");
    assert!(row["sub_ean_number"].is_string());
    assert!(
        row.get("attribute_combination_id").is_none(),
        "not in the read model: {row}"
    );
}

#[tokio::test]
async fn the_demo_reservations_are_visible_and_can_exceed_stock() {
    let (sim, client) = demo().await;
    let candle = sim.article("TB-CANDLE-01").unwrap();
    let product = client
        .get(&format!("/api/rest/v1/products/{}", candle.product_id))
        .await;
    assert_eq!(product.body["stock"], 3);
    assert_eq!(reserved_via_api(&client, candle.product_id, None).await, 5);
    let level = sim.stock("TB-CANDLE-01").unwrap();
    assert_eq!(
        (level.physical, level.reserved),
        (Decimal::from(3), Decimal::from(5))
    );
    assert_eq!(level.available(), Decimal::from(-2));

    let tee = sim.article("TB-TEE-L-BLUE").unwrap();
    assert_eq!(
        reserved_via_api(&client, tee.product_id, Some("TB-TEE-L-BLUE")).await,
        1
    );
    assert_eq!(sim.stock("TB-BOOK-01").unwrap().reserved, Decimal::ZERO);
}

#[tokio::test]
async fn a_completed_order_lowers_stock_and_a_reservation_does_not() {
    let (sim, client) = demo().await;
    let mug = sim.article("TB-MUG-01").unwrap();
    let before = sim.stock("TB-MUG-01").unwrap();
    assert_eq!(
        (before.physical, before.reserved),
        (Decimal::from(42), Decimal::from(2))
    );
    let row = json!([{"product_id": mug.product_id, "count": 3}]);

    let sale = client
        .post(
            "/api/rest/v1/orders",
            &json!({"orderrows": row, "status": 1, "paid": true}),
        )
        .await;
    assert_eq!(sale.status, 201, "{}", sale.text);
    assert_eq!(sim.stock("TB-MUG-01").unwrap().physical, Decimal::from(39));

    let reservation = client
        .post(
            "/api/rest/v1/orders",
            &json!({"orderrows": row, "status": 14}),
        )
        .await;
    assert_eq!(reservation.status, 201);
    let level = sim.stock("TB-MUG-01").unwrap();
    assert_eq!(
        (level.physical, level.reserved),
        (Decimal::from(39), Decimal::from(5))
    );
    assert_eq!(reserved_via_api(&client, mug.product_id, None).await, 5);

    // Collected: out of stock, no longer reserved.
    let uri = format!("/api/rest/v1/orders/{}", reservation.id());
    assert_eq!(
        client
            .patch(&uri, &json!({"status": 7, "paid": true}))
            .await
            .status,
        204
    );
    let level = sim.stock("TB-MUG-01").unwrap();
    assert_eq!(
        (level.physical, level.reserved),
        (Decimal::from(36), Decimal::from(2))
    );

    // Cancelled: back on the shelf.
    let uri = format!("/api/rest/v1/orders/{}", sale.id());
    assert_eq!(client.patch(&uri, &json!({"status": 8})).await.status, 204);
    assert_eq!(sim.stock("TB-MUG-01").unwrap().physical, Decimal::from(39));

    // A basket (not completed) touches nothing.
    let basket = client
        .post(
            "/api/rest/v1/orders",
            &json!({"orderrows": row, "is_completed": false}),
        )
        .await;
    assert_eq!(basket.status, 201);
    assert!(basket.body["ordernumber"].is_null());
    assert_eq!(sim.stock("TB-MUG-01").unwrap().physical, Decimal::from(39));
}

#[tokio::test]
async fn variant_sales_move_their_combinations_stock() {
    let (sim, client) = demo().await;
    let tee = sim.article("TB-TEE-M-RED").unwrap();
    let before = sim.stock("TB-TEE-M-RED").unwrap().physical;
    let order = json!({"orderrows": [{"product_id": tee.product_id,
                                      "attribute_combination_id": tee.combination_id, "count": 2}]});
    let answer = client.post("/api/rest/v1/orders", &order).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_eq!(
        sim.stock("TB-TEE-M-RED").unwrap().physical,
        before - Decimal::from(2)
    );
    assert_eq!(
        sim.stock("TB-TEE-S-RED").unwrap().physical,
        Decimal::from(5),
        "other variants untouched"
    );
}

#[tokio::test]
async fn the_till_helpers_sell_reserve_and_collect() {
    let (sim, client) = demo().await;
    let reservation = sim.reserve("TB-BOOK-01", 2).unwrap();
    let level = sim.stock("TB-BOOK-01").unwrap();
    assert_eq!(
        (level.physical, level.reserved),
        (Decimal::from(12), Decimal::from(2))
    );
    let order = client
        .get(&format!("/api/rest/v1/orders/{reservation}"))
        .await;
    assert_eq!(order.body["status"], 14);
    assert!(
        order.body["ordernumber"].is_u64(),
        "the POS numbers its own sales"
    );

    sim.collect(reservation).unwrap();
    let level = sim.stock("TB-BOOK-01").unwrap();
    assert_eq!(
        (level.physical, level.reserved),
        (Decimal::from(10), Decimal::ZERO)
    );

    sim.sell("TB-BOOK-01", 1).unwrap();
    assert_eq!(sim.stock("TB-BOOK-01").unwrap().physical, Decimal::from(9));
    sim.set_stock("TB-BOOK-01", Decimal::from(20)).unwrap();
    assert_eq!(sim.stock("TB-BOOK-01").unwrap().physical, Decimal::from(20));
    assert!(sim.sell("NO-SUCH-SKU", 1).is_err());
}
