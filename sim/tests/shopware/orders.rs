//! Order state machines, draft versions, several transactions, `updatedAt`.

use serde_json::json;

use crate::support::*;

fn by_number(number: &str) -> serde_json::Value {
    json!({"filter": [{"type": "equals", "field": "orderNumber", "value": number}],
           "associations": {"transactions": {"sort": [{"field": "createdAt"}]}, "deliveries": {}, "lineItems": {}}})
}

#[tokio::test]
async fn legal_transitions_move_the_state_and_answer_the_new_state() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let order = api.one("order", by_number("10008")).await;
    let id = order["id"].as_str().unwrap();
    let res = api
        .post(
            &format!("/api/_action/order/{id}/state/process"),
            json!({"sendMail": false}),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["technicalName"], "in_progress");
    let transaction = order["transactions"][0]["id"].as_str().unwrap();
    let res = api
        .post(
            &format!("/api/_action/order_transaction/{transaction}/state/paid"),
            json!({}),
        )
        .await;
    assert_eq!(res.body["technicalName"], "paid");
    let delivery = order["deliveries"][0]["id"].as_str().unwrap();
    let res = api
        .post(
            &format!("/api/_action/order_delivery/{delivery}/state/ship"),
            json!({}),
        )
        .await;
    assert_eq!(res.body["technicalName"], "shipped");
    let after = api.one("order", by_number("10008")).await;
    assert_eq!(after["stateMachineState"]["technicalName"], "in_progress");
    assert_eq!(
        after["transactions"][0]["stateMachineState"]["technicalName"],
        "paid"
    );
    assert_eq!(
        after["deliveries"][0]["stateMachineState"]["technicalName"],
        "shipped"
    );
}

#[tokio::test]
async fn illegal_transitions_are_refused_with_the_possible_ones() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let id = keys::order("10005");
    let res = api
        .post(
            &format!("/api/_action/order/{id}/state/complete"),
            json!({}),
        )
        .await;
    assert_eq!(
        (res.status, res.code()),
        (400, "SYSTEM__ILLEGAL_STATE_TRANSITION")
    );
    let cancelled =
        tillbridge_sim::shopware::ids::stable("state_machine_state", "order.state/cancelled");
    assert_eq!(
        res.body["errors"][0]["detail"],
        format!(
            "Illegal transition \"complete\" from state \"{cancelled}\". Possible transitions are: reopen"
        )
    );
    let res = api
        .get(&format!("/api/_action/state-machine/order/{id}/state"))
        .await;
    assert_eq!(res.body["transitions"][0]["actionName"], "reopen");
    assert_eq!(res.body["currentState"]["technicalName"], "cancelled");
}

#[tokio::test]
async fn state_fields_cannot_be_patched() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let id = keys::order("10001");
    let completed =
        tillbridge_sim::shopware::ids::stable("state_machine_state", "order.state/completed");
    let res = api
        .patch(&format!("/api/order/{id}"), json!({"stateId": completed}))
        .await;
    assert_eq!((res.status, res.pointer()), (400, "/0/stateId"));
    assert!(
        res.body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("use a different scope")
    );
}

#[tokio::test]
async fn every_write_and_transition_moves_updated_at_of_the_row_written() {
    let (sim, api) = demo(ApiVersion::V6_6).await;
    let placed = sim
        .place_order(&ada(), &[("TB-BOOK-01", 1)], "payment_invoice")
        .unwrap();
    let order = api.one("order", by_number(&placed.number)).await;
    assert!(
        order["updatedAt"].is_null(),
        "a new order has no updatedAt yet"
    );
    let seen_from = order["createdAt"].as_str().unwrap().to_string();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    api.post(
        &format!("/api/_action/order/{}/state/process", placed.id),
        json!({}),
    )
    .await;
    let after = api.one("order", by_number(&placed.number)).await;
    let first_update = after["updatedAt"].as_str().unwrap().to_string();
    assert!(first_update > seen_from);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    api.patch(
        &format!("/api/order/{}", placed.id),
        json!({"customerComment": "ring twice"}),
    )
    .await;
    let later = api.one("order", by_number(&placed.number)).await;
    assert!(later["updatedAt"].as_str().unwrap() > first_update.as_str());
    let changed = api
        .search(
            "order",
            json!({"filter": [{"type": "range", "field": "updatedAt", "parameters": {"gt": first_update}}]}),
        )
        .await;
    assert_eq!(
        changed.ids(),
        vec![placed.id.clone()],
        "readable incrementally by updatedAt"
    );
}

#[tokio::test]
async fn a_payment_transition_moves_the_transaction_not_the_order() {
    let (sim, api) = demo(ApiVersion::V6_6).await;
    let placed = sim
        .place_order(&ada(), &[("TB-BOOK-01", 1)], "payment_invoice")
        .unwrap();
    api.post(
        &format!(
            "/api/_action/order_transaction/{}/state/paid",
            placed.transaction_id
        ),
        json!({}),
    )
    .await;
    let order = api.one("order", by_number(&placed.number)).await;
    assert!(
        order["updatedAt"].is_null(),
        "as in Shopware: the order row was not written"
    );
    assert!(order["transactions"][0]["updatedAt"].is_string());
    let since = order["createdAt"].as_str().unwrap();
    let found = api
        .search(
            "order",
            json!({"filter": [{"type": "multi", "operator": "or", "queries": [
                {"type": "range", "field": "updatedAt", "parameters": {"gte": since}},
                {"type": "range", "field": "transactions.updatedAt", "parameters": {"gte": since}}]}]}),
        )
        .await;
    assert!(found.ids().contains(&placed.id));
}

#[tokio::test]
async fn draft_versions_are_only_visible_with_their_version_header() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let id = keys::order("10001");
    let res = api
        .post(&format!("/api/_action/version/order/{id}"), json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let version = res.body["versionId"].as_str().unwrap().to_string();
    assert_eq!(res.body["id"], id);
    let draft = api.with("sw-version-id", &version);
    let res = draft
        .patch(
            &format!("/api/order/{id}"),
            json!({"customerComment": "changed in the draft"}),
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.body);
    let live = api.get(&format!("/api/order/{id}")).await;
    assert!(live.body["data"]["customerComment"].is_null());
    assert_eq!(
        live.body["data"]["versionId"],
        "0fa91ce3e96a4bc2be4bd9ce752c3425"
    );
    let seen = draft.get(&format!("/api/order/{id}")).await;
    assert_eq!(seen.body["data"]["customerComment"], "changed in the draft");
    assert_eq!(seen.body["data"]["versionId"], version);
    let total = api.search("order", json!({"total-count-mode": 1})).await;
    assert_eq!(total.body["total"], 8, "a draft is not another order");
    let merged = api
        .post(
            &format!("/api/_action/version/merge/order/{version}"),
            json!({}),
        )
        .await;
    assert_eq!(merged.status, 204);
    let live = api.get(&format!("/api/order/{id}")).await;
    assert_eq!(live.body["data"]["customerComment"], "changed in the draft");
}

/// 6.7's primary transaction is set by the checkout and by the storefront's change of payment
/// method (SW 6.7 `src/Core/Checkout/Order/SalesChannel/SetPaymentOrderRoute.php` writes
/// `primaryOrderTransactionId` with the new transaction), not derived by the DAL: an order
/// written through the Admin API has none, and a transaction added through the API does not
/// move it (SW 6.8 `src/Core/Migration/V6_8/Migration1777952601BackfillPrimaryOrderTransaction.php`
/// exists "to cover orders created during the 6.7 lifecycle via direct DAL writes that did not
/// set primary_order_transaction_id").
#[tokio::test]
async fn on_6_7_only_the_checkout_and_a_change_of_payment_set_the_primary_transaction() {
    let (sim, api) = demo(ApiVersion::V6_7).await;
    let order = api.one("order", by_number("10007")).await;
    assert_eq!(
        order["primaryOrderTransactionId"], order["transactions"][1]["id"],
        "the checkout's (then changed in the storefront)"
    );
    let paid = json!({"filter": [{"type": "equals", "field": "primaryOrderTransaction.stateMachineState.technicalName", "value": "paid"}],
                      "sort": [{"field": "orderNumber"}], "includes": {"order": ["orderNumber"]}});
    let before = numbers(&api.search("order", paid.clone()).await);
    assert_eq!(before, ["10001", "10002", "10003", "10004", "10006"]);

    // An order as an ERP or a marketplace writes it: paid, but no primary transaction.
    let source = api
        .one(
            "order",
            json!({"filter": [{"type": "equals", "field": "orderNumber", "value": "10001"}],
                   "associations": {"billingAddress": {}, "transactions": {}}}),
        )
        .await;
    let (id, address, payment) = (
        "0000000000000000000000000000a001",
        "0000000000000000000000000000a002",
        "0000000000000000000000000000a003",
    );
    let billing = &source["billingAddress"];
    let transaction = &source["transactions"][0];
    let res = api
        .post(
            "/api/order",
            json!({
                "id": id, "orderNumber": "M-1", "billingAddressId": address,
                "currencyId": source["currencyId"], "languageId": source["languageId"],
                "salesChannelId": source["salesChannelId"], "orderDateTime": source["orderDateTime"],
                "currencyFactor": 1.0, "stateId": source["stateId"], "price": source["price"],
                "shippingCosts": source["shippingCosts"], "itemRounding": source["itemRounding"],
                "totalRounding": source["totalRounding"],
                "addresses": [{"id": address, "countryId": billing["countryId"], "firstName": "Mo",
                               "lastName": "Market", "street": "Kade 1", "zipcode": "1011 AA", "city": "Amsterdam"}],
                "orderCustomer": {"email": "mo@example.com", "firstName": "Mo", "lastName": "Market"},
                "transactions": [{"id": payment, "paymentMethodId": transaction["paymentMethodId"],
                                  "stateId": transaction["stateId"], "amount": transaction["amount"]}],
            }),
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.body);
    let imported = api.one("order", by_number("M-1")).await;
    assert_eq!(imported["primaryOrderTransactionId"], json!(null));
    assert_eq!(imported["transactions"][0]["id"], payment);
    assert_eq!(
        numbers(&api.search("order", paid.clone()).await),
        before,
        "the primary filter misses it"
    );

    // A transaction added through the API does not move the primary one.
    let first = api.one("order", by_number("10001")).await;
    let res = api
        .post(
            "/api/order-transaction",
            json!({"orderId": first["id"], "paymentMethodId": transaction["paymentMethodId"],
                   "stateId": transaction["stateId"], "amount": transaction["amount"]}),
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.body);
    let after = api.one("order", by_number("10001")).await;
    assert_eq!(after["transactions"].as_array().unwrap().len(), 2);
    assert_eq!(
        after["primaryOrderTransactionId"],
        first["primaryOrderTransactionId"]
    );

    // A customer changing the payment method in the storefront does.
    let added = sim
        .add_transaction(&keys::order("10001"), "payment_paypal")
        .unwrap();
    let order = api.one("order", by_number("10001")).await;
    assert_eq!(order["primaryOrderTransactionId"], added);
    assert!(order["primaryOrderDeliveryId"].is_string());

    let (_sim, older) = demo(ApiVersion::V6_6).await;
    let res = older
        .search("order", json!({"filter": [{"type": "equals", "field": "primaryOrderTransactionId", "value": null}]}))
        .await;
    assert_eq!(
        res.code(),
        "FRAMEWORK__UNMAPPED_FIELD",
        "6.6 has no primary transaction"
    );
}

#[tokio::test]
async fn the_demo_orders_carry_what_the_connector_maps() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let order = api
        .one(
            "order",
            json!({"filter": [{"type": "equals", "field": "orderNumber", "value": "10001"}],
                   "associations": {"orderCustomer": {}, "billingAddress": {"associations": {"country": {}}},
                                    "deliveries": {"associations": {"shippingOrderAddress": {}}}, "lineItems": {}, "currency": {},
                                    "transactions": {"associations": {"paymentMethod": {}}}}}),
        )
        .await;
    assert_eq!(order["orderCustomer"]["email"], "ada.jansen@example.nl");
    assert_eq!(order["billingAddress"]["street"], "Dorpsstraat 12a");
    assert_eq!(order["billingAddress"]["zipcode"], "3512 AB");
    assert_eq!(order["billingAddress"]["country"]["iso"], "NL");
    assert_eq!(
        order["deliveries"][0]["shippingOrderAddress"]["city"],
        "Utrecht"
    );
    assert_eq!(order["currency"]["isoCode"], "EUR");
    assert_eq!(order["transactions"][0]["paymentMethod"]["name"], "PayPal");
    let line = &order["lineItems"][1];
    assert_eq!(line["payload"]["productNumber"], "TB-TEE-M-RED");
    assert_eq!(line["unitPrice"], 24.95);
    assert_eq!(order["amountTotal"], 50.85);
    assert_eq!(order["price"]["totalPrice"], 50.85);
    let business = api
        .one(
            "order",
            json!({"filter": [{"type": "equals", "field": "orderNumber", "value": "10002"}], "associations": {"orderCustomer": {}}}),
        )
        .await;
    assert_eq!(
        business["orderCustomer"]["company"],
        "Bakkerij De Vries B.V."
    );
    assert_eq!(
        business["orderCustomer"]["vatIds"],
        json!(["NL812345678B01"])
    );
}

#[tokio::test]
async fn the_shop_side_helpers_act_like_the_storefront_and_the_admin() {
    let (sim, api) = demo(ApiVersion::V6_6).await;
    let placed = sim
        .place_order(
            &ada(),
            &[("TB-MUG-01", 1), ("TB-TEE-S-RED", 2)],
            "payment_paypal",
        )
        .unwrap();
    assert_eq!(placed.number, "10009", "numbers continue after the seed's");
    let order = sim.order("10009").unwrap();
    assert_eq!(order["lineItems"].as_array().unwrap().len(), 2);
    assert_eq!(
        order["amountTotal"], 62.85,
        "12.95 + 2 × 24.95, in decimals"
    );
    assert_eq!(
        sim.transition("order_transaction", &placed.transaction_id, "paid")
            .unwrap(),
        "paid"
    );
    assert!(
        sim.transition("order", &placed.id, "complete").is_err(),
        "open orders cannot complete"
    );
    let version = sim.open_in_admin(&placed.id).unwrap();
    assert_eq!(
        api.search("order", json!({"total-count-mode": 1}))
            .await
            .body["total"],
        9
    );
    let lines = api
        .with("sw-version-id", &version)
        .get(&format!("/api/order/{}/line-items", placed.id))
        .await;
    assert_eq!(
        lines.body["data"].as_array().unwrap().len(),
        2,
        "the nested route lists the draft's rows"
    );
    assert_eq!(lines.body["data"][0]["versionId"], version);
    assert_eq!(sim.product("TB-TEE-S-RED").unwrap()["stock"], 1, "3 − 2");
}
