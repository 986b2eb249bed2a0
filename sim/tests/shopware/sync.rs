//! The sync API in its 6.6+ and 6.4 forms.

use serde_json::json;

use crate::support::*;

fn tax_21() -> String {
    tillbridge_sim::shopware::ids::stable("tax", "21")
}

#[tokio::test]
async fn sync_upserts_and_deletes_and_reports_by_entity() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let mug = keys::product("TB-MUG-01");
    let book = keys::product("TB-BOOK-01");
    let kitchen = keys::category(&["Home".into(), "Kitchen".into(), "Mugs".into()]);
    let res = api
        .sync(json!({
            "stock-updates": {"entity": "product", "action": "upsert",
                              "payload": [{"id": mug, "stock": 42}, {"id": book, "stock": 7}]},
            "new-tax": {"entity": "tax", "action": "upsert", "payload": [{"name": "Zero", "taxRate": 0}]},
            "unassign": {"entity": "product_category", "action": "delete",
                         "payload": [{"productId": mug, "categoryId": kitchen},
                                     {"productId": book, "categoryId": kitchen}]}
        }))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let mut written = res.body["data"]["product"].as_array().unwrap().clone();
    written.sort_by_key(|v| v.to_string());
    let mut expected = vec![json!(mug), json!(book)];
    expected.sort_by_key(|v| v.to_string());
    assert_eq!(written, expected);
    assert_eq!(res.body["data"]["tax"].as_array().unwrap().len(), 1);
    assert_eq!(
        res.body["deleted"]["product_category"],
        json!([{"productId": mug, "categoryId": kitchen}])
    );
    assert_eq!(
        res.body["notFound"]["product_category"],
        json!([{"productId": book, "categoryId": kitchen}])
    );
    assert_eq!(res.body["extensions"], json!([]));
    assert_eq!(api.product("TB-MUG-01").await["stock"], 42);
    assert_eq!(api.product("TB-MUG-01").await["categoryIds"], json!([]));
}

#[tokio::test]
async fn sync_is_all_or_nothing_on_6_6_with_operation_row_field_pointers() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let mug = keys::product("TB-MUG-01");
    let res = api
        .sync(json!({
            "stock-updates": {"entity": "product", "action": "upsert", "payload": [
                {"id": mug, "stock": 1},
                {"id": keys::product("TB-BOOK-01"), "stock": "many"}]}
        }))
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(res.pointer(), "/stock-updates/1/stock");
    assert_eq!(
        api.product("TB-MUG-01").await["stock"],
        40,
        "the good row was not written either"
    );
}

#[tokio::test]
async fn an_upsert_without_id_creates_and_with_a_known_id_updates() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let op = json!({"t": {"entity": "tax", "action": "upsert", "payload": [{"name": "Twice", "taxRate": 3}]}});
    api.sync(op.clone()).await;
    api.sync(op).await;
    let taxes = api
        .search("tax", json!({"filter": [{"type": "equals", "field": "name", "value": "Twice"}], "total-count-mode": 1}))
        .await;
    assert_eq!(taxes.body["total"], 2, "no id: a new row each time");
    let id = "abcdefabcdefabcdefabcdefabcdef01";
    let op = json!({"t": {"entity": "tax", "action": "upsert", "payload": [{"id": id, "name": "Once", "taxRate": 3}]}});
    api.sync(op.clone()).await;
    api.sync(op).await;
    let taxes = api
        .search("tax", json!({"filter": [{"type": "equals", "field": "name", "value": "Once"}], "total-count-mode": 1}))
        .await;
    assert_eq!(taxes.body["total"], 1);
}

#[tokio::test]
async fn deletes_by_criteria_work_from_6_6_on_but_not_on_6_4() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let mug = keys::product("TB-MUG-01");
    let res = api
        .sync(json!({"clear": {"entity": "product_property", "action": "delete",
                               "criteria": [{"type": "equals", "field": "productId", "value": mug}]}}))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        res.body["deleted"]["product_property"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(api.product("TB-MUG-01").await["propertyIds"], json!([]));

    let (_sim, old) = demo(ApiVersion::V6_4).await;
    let res = old
        .sync(json!({"clear": {"entity": "product_property", "action": "delete",
                               "criteria": [{"type": "equals", "field": "productId", "value": mug}]}}))
        .await;
    assert_eq!(
        (res.status, res.code()),
        (400, "FRAMEWORK__INVALID_SYNC_OPERATION")
    );
}

#[tokio::test]
async fn malformed_operations_are_refused() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let res = api
        .sync(json!({"x": {"entity": "tax", "action": "replace", "payload": [{}]}}))
        .await;
    assert_eq!(
        (res.status, res.code()),
        (400, "FRAMEWORK__INVALID_SYNC_OPERATION")
    );
    assert!(
        res.body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("\"x\"")
    );
}

#[tokio::test]
async fn the_6_4_sync_reports_per_record_and_keeps_good_records_without_fail_on_error() {
    let (_sim, api) = demo(ApiVersion::V6_4).await;
    let mug = keys::product("TB-MUG-01");
    let book = keys::product("TB-BOOK-01");
    let body = json!({"stock": {"entity": "product", "action": "upsert", "payload": [
        {"id": mug, "stock": 5}, {"id": book, "stock": "many"}]}});
    let res = api.with("fail-on-error", "false").sync(body).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["success"], false);
    let records = res.body["data"]["stock"]["result"].as_array().unwrap();
    assert_eq!(records[0]["entities"]["product"], json!([mug]));
    assert_eq!(records[1]["errors"][0]["source"]["pointer"], "/1/stock");
    assert_eq!(
        api.product("TB-MUG-01").await["stock"],
        5,
        "the good record stays"
    );
}

#[tokio::test]
async fn the_6_4_sync_with_single_operation_is_atomic_and_says_success() {
    let (_sim, api) = demo(ApiVersion::V6_4).await;
    let api = api.with("single-operation", "1");
    let ok = api
        .sync(json!({"t": {"entity": "product", "action": "upsert", "payload": [{"id": keys::product("TB-MUG-01"), "stock": 3}]}}))
        .await;
    assert_eq!((ok.status, ok.body["success"].clone()), (200, json!(true)));
    assert!(ok.body["data"]["product"].is_array());
    let bad = api
        .sync(json!({"t": {"entity": "product", "action": "upsert", "payload": [{"id": keys::product("TB-MUG-01"), "stock": "x"}]}}))
        .await;
    assert_eq!((bad.status, bad.pointer()), (400, "/t/0/stock"));
}

#[tokio::test]
async fn sync_writes_mappings_and_translations_with_the_product() {
    let (_sim, api) = demo(ApiVersion::V6_7).await;
    let id = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb1";
    let res = api
        .sync(json!([{"entity": "product", "action": "upsert", "payload": [{
            "id": id, "productNumber": "LAMP", "name": "Lamp", "stock": 2, "taxId": tax_21(),
            "price": [{"currencyId": "b7d2554b0ce847cd82f3ac9bd1c0dfca", "gross": 30, "net": 24.79, "linked": true}],
            "categories": [{"id": keys::category(&["Home".into(), "Decoration".into()])}]}]}]))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["data"]["product"], json!([id]));
    assert_eq!(
        res.body["data"]["product_translation"],
        json!([{"productId": id, "languageId": "2fbb5fe2e29a4d70aa5854ce7ce3e20b"}])
    );
    assert_eq!(
        res.body["data"]["product_category"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
