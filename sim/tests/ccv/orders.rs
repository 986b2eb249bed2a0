//! Orders: product and free rows, the customer inline or from a user, numbering, totals, filters,
//! and the orderrows sub-resource.

use serde_json::json;

use super::client::{create, demo};

#[tokio::test]
async fn an_order_with_product_variant_and_free_rows() {
    let (sim, client) = demo().await;
    let mug = sim.article("TB-MUG-01").unwrap();
    let tee = sim.article("TB-TEE-L-BLUE").unwrap();
    let order = json!({
        "is_completed": true, "paid": true, "status": 1, "order_row_taxes_included": true,
        "currency": "EUR", "reservationnumber": "SW-10002",
        "customer": {
            "email": "inkoop@bakkerij-devries.nl", "customertype": "b2b",
            "kvk": "12345678", "btw": "NL812345678B01",
            "billingaddress": {"company": "Bakkerij De Vries B.V.", "first_name": "Pieter",
                "last_name": "de Vries", "street": "Marktplein", "housenumber": 3,
                "zipcode": "9711 AA", "city": "Groningen", "country_code": "NL"}
        },
        "orderrows": [
            {"product_id": mug.product_id, "count": 2},
            {"product_id": tee.product_id, "attribute_combination_id": tee.combination_id, "count": 1, "price": 20},
            {"product_name": "Gift wrap", "product_number": "WRAP", "count": 1, "price": 2.5, "tax": 21, "package_id": 1}
        ]
    });
    let created = client.post("/api/rest/v1/orders", &order).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let body = &created.body;
    assert!(
        body["ordernumber"].as_u64().unwrap() > 0,
        "the POS numbers the order"
    );
    assert_eq!(body["ordernumber_full"], body["ordernumber"].to_string());
    assert_eq!(body["reservationnumber"], "SW-10002");
    assert_eq!(
        body["customer"]["billingaddress"]["company"],
        "Bakkerij De Vries B.V."
    );

    let rows = client
        .all_items(&format!("/api/rest/v1/orders/{}/orderrows", created.id()))
        .await;
    assert_eq!(rows.len(), 3);
    assert_eq!(
        (rows[0]["product_name"].as_str(), rows[0]["price"].as_f64()),
        (Some("Tillbridge mug"), Some(12.95))
    );
    assert_eq!(rows[0]["product_number"], "TB-MUG-01");
    assert_eq!(rows[0]["tax"], 21);
    assert_eq!(rows[1]["sub_sku_number"], "TB-TEE-L-BLUE");
    assert_eq!(rows[1]["price"], 20, "a field sent overrides the product's");
    assert!(rows[2]["product_id"].is_null());
    assert_eq!(rows[2]["product_name"], "Gift wrap");
    // 2 × 12.95 + 20 + 2.50, VAT included.
    assert_eq!(body["total_price"], 48.4);
    assert_eq!(body["total_orderrow_price"], 48.4);
    // The VAT inside each row, rounded per row: 25.90 × 21/121 = 4.50, 20 × 21/121 = 3.47,
    // 2.50 × 21/121 = 0.43.
    assert_eq!(body["total_tax"], 8.4);
}

#[tokio::test]
async fn order_numbers_count_up_and_the_customer_comes_from_the_user() {
    let (sim, client) = demo().await;
    let mug = sim.article("TB-MUG-01").unwrap().product_id;
    let sanne = sim.users_with_email("sanne.bos@example.nl")[0];
    let rows = json!([{"product_id": mug, "count": 1}]);
    let first = client
        .post(
            "/api/rest/v1/orders",
            &json!({"orderrows": rows, "user_id": sanne}),
        )
        .await;
    let second = client
        .post(
            "/api/rest/v1/orders",
            &json!({"orderrows": rows, "user_id": sanne,
                    "customer": {"billingaddress": {"street": "Kerkweg", "housenumber": 7}}}),
        )
        .await;
    assert_eq!((first.status, second.status), (201, 201), "{}", second.text);
    let (a, b) = (
        first.body["ordernumber"].as_u64().unwrap(),
        second.body["ordernumber"].as_u64().unwrap(),
    );
    assert_eq!(b, a + 1);
    assert_eq!(first.body["user"]["id"], sanne);
    assert_eq!(
        first.body["customer"]["billingaddress"]["street"],
        "Oude Gracht"
    );
    assert_eq!(
        second.body["customer"]["billingaddress"]["street"], "Kerkweg",
        "customer data overrides the user's"
    );
    assert_eq!(second.body["customer"]["email"], "sanne.bos@example.nl");
}

#[tokio::test]
async fn invalid_orders_are_refused() {
    let (sim, client) = demo().await;
    let tee = sim.article("TB-TEE-L-BLUE").unwrap().product_id;
    let cases = [
        ("no rows", json!({"orderrows": []})),
        (
            "free row without package_id",
            json!({"orderrows": [{"product_name": "X", "price": 1, "count": 1}]}),
        ),
        (
            "no count",
            json!({"orderrows": [{"product_name": "X", "price": 1, "package_id": 1}]}),
        ),
        (
            "unknown product",
            json!({"orderrows": [{"product_id": 1, "count": 1}]}),
        ),
        (
            "variant without combination",
            json!({"orderrows": [{"product_id": tee, "count": 1}]}),
        ),
        (
            "status 15",
            json!({"status": 15, "orderrows": [{"product_name": "X", "price": 1, "count": 1, "package_id": 1}]}),
        ),
        (
            "paymethod_id is not in the schema",
            json!({"paymethod_id": 1, "orderrows": [{"product_name": "X", "price": 1, "count": 1, "package_id": 1}]}),
        ),
        (
            "price as text",
            json!({"orderrows": [{"product_name": "X", "price": "1.00", "count": 1, "package_id": 1}]}),
        ),
    ];
    for (case, body) in cases {
        let answer = client.post("/api/rest/v1/orders", &body).await;
        assert_eq!(
            (answer.status, answer.code()),
            (400, "400.10"),
            "{case}: {}",
            answer.text
        );
    }
    let orders = client.all_items("/api/rest/v1/orders").await;
    assert!(
        orders.iter().all(|o| o["status"] == 14),
        "only the seeded reservations exist"
    );
}

#[tokio::test]
async fn orders_are_filtered_as_documented() {
    let (sim, client) = demo().await;
    let mug = sim.article("TB-MUG-01").unwrap().product_id;
    let rows = json!([{"product_id": mug, "count": 1}]);
    let paid = create(
        &client,
        "/api/rest/v1/orders",
        json!({"orderrows": rows, "paid": true, "status": 2}),
    )
    .await;
    let unpaid = create(
        &client,
        "/api/rest/v1/orders",
        json!({"orderrows": rows, "status": 4}),
    )
    .await;
    let ids = |items: Vec<serde_json::Value>| -> Vec<u64> {
        items.iter().map(|o| o["id"].as_u64().unwrap()).collect()
    };

    assert_eq!(
        ids(client.all_items("/api/rest/v1/orders?is_paid=true").await),
        vec![paid]
    );
    assert_eq!(
        ids(client.all_items("/api/rest/v1/orders?status=4").await),
        vec![unpaid]
    );
    let number = client
        .get(&format!("/api/rest/v1/orders/{paid}"))
        .await
        .body["ordernumber"]
        .clone();
    assert_eq!(
        ids(client
            .all_items(&format!("/api/rest/v1/orders?ordernumber={number}"))
            .await),
        vec![paid]
    );
    let today = sim.now().format("%Y-%m-%d").to_string();
    let tomorrow = (sim.now() + chrono::TimeDelta::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let all = client.all_items("/api/rest/v1/orders").await.len();
    assert_eq!(
        client
            .all_items(&format!("/api/rest/v1/orders?min_create_date={today}"))
            .await
            .len(),
        all
    );
    assert_eq!(
        client
            .all_items(&format!("/api/rest/v1/orders?min_create_date={tomorrow}"))
            .await
            .len(),
        0
    );
    let newest_first = ids(client
        .all_items("/api/rest/v1/orders?orderby=ordernumber_desc")
        .await);
    assert_eq!(newest_first[0], unpaid);
}

#[tokio::test]
async fn orderrows_can_be_added_replaced_and_deleted() {
    let (sim, client) = demo().await;
    let mug = sim.article("TB-MUG-01").unwrap().product_id;
    let book = sim.article("TB-BOOK-01").unwrap().product_id;
    let order = create(
        &client,
        "/api/rest/v1/orders",
        json!({"orderrows": [{"product_id": mug, "count": 1}]}),
    )
    .await;
    let rows_uri = format!("/api/rest/v1/orders/{order}/orderrows");

    let added = client
        .post(&rows_uri, &json!({"product_id": book, "count": 2}))
        .await;
    assert_eq!(added.status, 201, "{}", added.text);
    assert_eq!(
        sim.stock("TB-BOOK-01").unwrap().physical,
        rust_decimal::Decimal::from(10)
    );

    let replaced = client
        .put(
            &rows_uri,
            &json!({"orderrows": [{"product_id": book, "count": 1}]}),
        )
        .await;
    assert_eq!(replaced.status, 204, "{}", replaced.text);
    let rows = client.all_items(&rows_uri).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        sim.stock("TB-BOOK-01").unwrap().physical,
        rust_decimal::Decimal::from(11)
    );
    assert_eq!(
        sim.stock("TB-MUG-01").unwrap().physical,
        rust_decimal::Decimal::from(42)
    );

    let row_uri = format!("/api/rest/v1/orderrows/{}", rows[0]["id"]);
    let patched = client.patch(&row_uri, &json!({"count": 5})).await;
    assert_eq!(
        patched.status, 400,
        "rows of completed orders cannot be patched"
    );
    assert_eq!(client.delete(&row_uri).await.status, 204);
    assert_eq!(
        sim.stock("TB-BOOK-01").unwrap().physical,
        rust_decimal::Decimal::from(12)
    );
    assert_eq!(client.get(&row_uri).await.code(), "404.10");
}
