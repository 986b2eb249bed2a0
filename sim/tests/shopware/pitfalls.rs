//! The pitfalls integrators hit (reference section 10), each reproduced: a connector that
//! handles these against the simulator handles them against Shopware.

use serde_json::json;

use crate::support::*;

const EUR: &str = "b7d2554b0ce847cd82f3ac9bd1c0dfca";
const GERMAN: &str = "5ea2a8b8e0bf4b4d9e1b4e9e2a4d0d0e";

#[tokio::test]
async fn pitfall_01_json_api_is_the_default_response_format() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let default = api
        .with("accept", "*/*")
        .search("order", json!({"limit": 1}))
        .await;
    assert!(
        default.body["data"][0]["orderNumber"].is_null(),
        "fields are not at the top"
    );
    assert!(default.body["data"][0]["attributes"]["orderNumber"].is_string());
    let plain = api.search("order", json!({"limit": 1})).await;
    assert!(plain.body["data"][0]["orderNumber"].is_string());
}

#[tokio::test]
async fn pitfall_02_draft_versions_of_orders_are_invisible_without_sw_version_id() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let id = keys::order("10002");
    let draft = tillbridge_sim::shopware::ids::stable("version", &id);
    let live = api.get(&format!("/api/order/{id}")).await;
    assert!(
        live.body["data"]["customerComment"].is_null(),
        "the Admin's unsaved draft is not live"
    );
    let seen = api
        .with("sw-version-id", &draft)
        .get(&format!("/api/order/{id}?associations[lineItems][]"))
        .await;
    assert!(
        seen.body["data"]["customerComment"]
            .as_str()
            .unwrap()
            .contains("not saved")
    );
    assert_eq!(
        seen.body["data"]["lineItems"][0]["orderVersionId"], draft,
        "child rows are versioned too"
    );
    let all = api.search("order", json!({"total-count-mode": 1})).await;
    assert_eq!(all.body["total"], 8);
    for order in all.body["data"].as_array().unwrap() {
        assert_eq!(order["versionId"], "0fa91ce3e96a4bc2be4bd9ce752c3425");
    }
}

#[tokio::test]
async fn pitfall_03_total_is_the_page_size_unless_total_count_mode_is_set() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let res = api.search("order", json!({"limit": 5})).await;
    assert_eq!(res.body["total"], 5, "not 8");
    let exact = api
        .search("order", json!({"limit": 5, "total-count-mode": 1}))
        .await;
    assert_eq!(exact.body["total"], 8);
}

#[tokio::test]
async fn pitfall_04_limits_differ_by_version() {
    let (_sim, new) = demo(ApiVersion::V6_6).await;
    assert_eq!(
        new.search("order", json!({"limit": 1000})).await.status,
        400
    );
    let (_sim, old) = demo(ApiVersion::V6_4).await;
    assert_eq!(
        old.search("order", json!({"limit": 1000})).await.status,
        200
    );
}

#[tokio::test]
async fn pitfall_05_several_transactions_make_paid_filters_match_stale_ones() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let order = api
        .one(
            "order",
            json!({"filter": [{"type": "equals", "field": "orderNumber", "value": "10007"},
                              {"type": "equals", "field": "transactions.stateMachineState.technicalName", "value": "paid"}],
                   "associations": {"transactions": {"sort": [{"field": "createdAt", "order": "ASC"}]}}}),
        )
        .await;
    let transactions = order["transactions"].as_array().unwrap();
    assert_eq!(
        transactions.len(),
        2,
        "the filter does not narrow the association"
    );
    let latest = transactions.last().unwrap();
    assert_eq!(
        latest["stateMachineState"]["technicalName"], "cancelled",
        "the latest one counts: not paid"
    );
}

#[tokio::test]
async fn pitfall_06_ids_are_32_lowercase_hex_without_dashes() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let id = keys::product("TB-MUG-01");
    assert_eq!(api.get(&format!("/api/product/{id}")).await.status, 200);
    let dashed = format!(
        "{}-{}-{}-{}-{}",
        &id[..8],
        &id[8..12],
        &id[12..16],
        &id[16..20],
        &id[20..]
    );
    assert_eq!(api.get(&format!("/api/product/{dashed}")).await.status, 404);
    assert_eq!(
        api.get(&format!("/api/product/{}", id.to_uppercase()))
            .await
            .status,
        404
    );
    let res = api
        .patch(
            &format!("/api/product/{id}"),
            json!({"taxId": "NOT-A-UUID"}),
        )
        .await;
    assert_eq!((res.status, res.code()), (400, "FRAMEWORK__INVALID_UUID"));
}

#[tokio::test]
async fn pitfall_07_translated_fields_read_null_in_a_language_that_lacks_them() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let german = api
        .with("sw-language-id", GERMAN)
        .product("TB-MUG-01")
        .await;
    assert!(german["name"].is_null());
    assert_eq!(
        german["translated"]["name"], "Tillbridge mug",
        "translated falls back"
    );
    let res = api
        .with("sw-language-id", GERMAN)
        .post(
            "/api/product",
            json!({"productNumber": "DE-ONLY", "name": "Nur deutsch", "stock": 1,
                   "taxId": tillbridge_sim::shopware::ids::stable("tax", "21"),
                   "price": [{"currencyId": EUR, "gross": 1, "net": 0.83, "linked": true}]}),
        )
        .await;
    assert_eq!(
        res.status, 400,
        "the system language translation is mandatory on create"
    );
    assert_eq!(
        res.pointer(),
        "/0/translations/2fbb5fe2e29a4d70aa5854ce7ce3e20b/name"
    );
}

#[tokio::test]
async fn pitfall_08_variants_read_null_for_inherited_fields_and_keep_their_own_stock() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    api.patch(
        &format!("/api/product/{}", keys::product("TB-TEE")),
        json!({"isCloseout": true}),
    )
    .await;
    let variant = api.product("TB-TEE-S-RED").await;
    assert!(variant["isCloseout"].is_null() && variant["name"].is_null());
    let inherited = api
        .with("sw-inheritance", "1")
        .product("TB-TEE-S-RED")
        .await;
    assert_eq!(inherited["isCloseout"], true);
    assert_eq!(inherited["stock"], 3, "stock is per variant");
    assert_eq!(
        api.with("sw-inheritance", "1")
            .product("TB-TEE-L-BLUE")
            .await["stock"],
        8
    );
}

#[tokio::test]
async fn pitfall_09_prices_need_the_default_currency_and_both_net_and_gross() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let id = keys::product("TB-MUG-01");
    let res = api
        .patch(
            &format!("/api/product/{id}"),
            json!({"price": [{"currencyId": EUR, "gross": 20, "linked": true}]}),
        )
        .await;
    assert_eq!(
        (res.status, res.pointer()),
        (400, "/0/price/0/net"),
        "no recompute from gross"
    );
    let res = api
        .patch(
            &format!("/api/product/{id}"),
            json!({"price": [{"currencyId": EUR, "gross": 20, "net": 1, "linked": true}]}),
        )
        .await;
    assert_eq!(res.status, 204);
    assert_eq!(
        api.product("TB-MUG-01").await["price"][0]["net"],
        1,
        "net stays as sent, linked or not"
    );
}

#[tokio::test]
async fn pitfall_10_states_need_transitions_and_the_6_4_sync_fails_with_a_success_shaped_400() {
    let (_sim, api) = demo(ApiVersion::V6_4).await;
    let id = keys::order("10008");
    let paid =
        tillbridge_sim::shopware::ids::stable("state_machine_state", "order.state/completed");
    assert_eq!(
        api.patch(&format!("/api/order/{id}"), json!({"stateId": paid}))
            .await
            .status,
        400
    );
    let res = api
        .sync(
            json!({"stock": {"entity": "product", "action": "upsert", "payload": [
            {"id": keys::product("TB-MUG-01"), "stock": 1},
            {"id": keys::product("TB-BOOK-01"), "stock": "many"}]}}),
        )
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body["success"], false);
    assert!(
        res.body.get("errors").is_none(),
        "no errors list: it looks like a success body"
    );
    // SW@v6.4.20.2 `SyncService::sync`: with fail-on-error a failure resets the entities.
    assert_eq!(
        res.body["data"]["stock"]["result"][0]["entities"],
        json!([])
    );
    assert_eq!(
        res.body["data"]["stock"]["result"][1]["errors"][0]["source"]["pointer"],
        "/1/stock"
    );
    assert_eq!(
        api.product("TB-MUG-01").await["stock"],
        40,
        "yet nothing was written"
    );
}

#[tokio::test]
async fn pitfall_11_patch_never_deletes_associations_use_sync_delete_on_mappings() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let id = keys::product("TB-MUG-01");
    let stoneware = keys::option("Material", "Stoneware");
    let res = api
        .patch(
            &format!("/api/product/{id}"),
            json!({"properties": [{"id": keys::option("Material", "Cotton")}]}),
        )
        .await;
    assert_eq!(res.status, 204);
    let properties = api.product("TB-MUG-01").await["propertyIds"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(properties, 3, "the old two stay, the new one is added");
    let res = api
        .sync(
            json!({"unassign": {"entity": "product_property", "action": "delete",
                                  "payload": [{"productId": id, "optionId": stoneware}]}}),
        )
        .await;
    assert_eq!(res.status, 200);
    let ids = api.product("TB-MUG-01").await["propertyIds"].clone();
    assert!(!ids.as_array().unwrap().contains(&json!(stoneware)));
}

#[tokio::test]
async fn pitfall_12_an_integration_without_a_privilege_gets_403() {
    let (sim, api) = demo(ApiVersion::V6_6).await;
    sim.restrict_privileges(Some(&["order:read", "product:read", "product:update"]));
    assert_eq!(api.search("order", json!({"limit": 1})).await.status, 200);
    let res = api
        .search("order", json!({"associations": {"lineItems": {}}}))
        .await;
    assert_eq!(
        (res.status, res.code()),
        (403, "FRAMEWORK__MISSING_PRIVILEGE_ERROR")
    );
    let detail: serde_json::Value =
        serde_json::from_str(res.body["errors"][0]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(
        detail,
        json!({"message": "Missing privilege", "missingPrivileges": ["order_line_item:read"]})
    );
    let id = keys::product("TB-MUG-01");
    assert_eq!(
        api.patch(&format!("/api/product/{id}"), json!({"stock": 1}))
            .await
            .status,
        204
    );
    let res = api.delete(&format!("/api/product/{id}")).await;
    assert_eq!(res.status, 403);
}

/// A foreign key the database refuses is a 500 with the SQL error and no pointer, in a sync
/// too (SW@v6.6.7.1 `EntityWriter::sync` throws it from the gateway; `ErrorResponseFactory`
/// substitutes invalid bytes since 6.2, so the "Malformed UTF-8" of issue #6119 was 6.4's sync
/// answer before 6.4.10 only). Validation errors carry pointers that name the row.
#[tokio::test]
async fn pitfall_13_sync_errors_do_not_place_bad_foreign_keys_but_pointers_name_the_row() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let missing = "0123456789abcdef0123456789abcdef";
    let res = api
        .sync(
            json!({"import": {"entity": "product", "action": "upsert", "payload": [
            {"id": keys::product("TB-MUG-01"), "manufacturerId": missing}]}}),
        )
        .await;
    assert_eq!(res.status, 500);
    assert!(
        res.body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("SQLSTATE[23000]: Integrity constraint violation: 1452")
    );
    assert_eq!(res.pointer(), "", "no row named");
    let single = api
        .patch(
            &format!("/api/product/{}", keys::product("TB-MUG-01")),
            json!({"manufacturerId": missing}),
        )
        .await;
    assert!(
        single.body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("foreign key constraint fails")
    );
    let res = api
        .sync(json!({"import": {"entity": "product", "action": "upsert", "payload": [
            {"id": keys::product("TB-MUG-01"), "stock": 1}, {"id": keys::product("TB-BOOK-01"), "ean": 7}]}}))
        .await;
    assert_eq!(res.pointer(), "/import/1/ean");
}
