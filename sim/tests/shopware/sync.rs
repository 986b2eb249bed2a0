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

/// SW@v6.4.20.2 `src/Core/Framework/Api/Sync/SyncService.php` (`sync`, without
/// `single-operation`): with `fail-on-error: false` "a new transaction for every operation";
/// an operation with a failing record is rolled back as a whole, and its result still lists
/// the entities of the records written before (`resetEntities` only runs with fail-on-error).
/// Other operations are committed. `deleted` and `notFound` stay empty in this mode.
#[tokio::test]
async fn the_6_4_sync_without_fail_on_error_rolls_back_the_operation_of_a_failing_record() {
    let (_sim, api) = demo(ApiVersion::V6_4).await;
    let mug = keys::product("TB-MUG-01");
    let book = keys::product("TB-BOOK-01");
    let candle = keys::product("TB-CANDLE-01");
    let body = json!({
        "stock": {"entity": "product", "action": "upsert", "payload": [
            {"id": mug, "stock": 5}, {"id": book, "stock": "many"}]},
        "other": {"entity": "product", "action": "upsert", "payload": [{"id": candle, "stock": 9}]}});
    let res = api.with("fail-on-error", "false").sync(body).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["success"], false);
    let records = res.body["data"]["stock"]["result"].as_array().unwrap();
    assert_eq!(
        records[0]["entities"]["product"],
        json!([mug]),
        "looks written"
    );
    assert_eq!(records[1]["errors"][0]["source"]["pointer"], "/1/stock");
    assert_eq!(
        api.product("TB-MUG-01").await["stock"],
        40,
        "but its operation was rolled back"
    );
    assert_eq!(
        api.product("TB-CANDLE-01").await["stock"],
        9,
        "the other operation stays"
    );
    assert_eq!(
        (res.body["deleted"].clone(), res.body["notFound"].clone()),
        (json!([]), json!([]))
    );
}

/// SW@v6.4.20.2 `SyncService::sync` with `fail-on-error` (the default, `SyncController`): one
/// transaction for the request, rolled back on any failure; the answer is a 400 with the
/// per-record body, entities reset.
#[tokio::test]
async fn the_6_4_sync_with_fail_on_error_rolls_back_everything() {
    let (_sim, api) = demo(ApiVersion::V6_4).await;
    let res = api
        .sync(json!([
            {"key": "good", "entity": "product", "action": "upsert", "payload": [{"id": keys::product("TB-CANDLE-01"), "stock": 9}]},
            {"key": "bad", "entity": "product", "action": "upsert", "payload": [{"id": keys::product("TB-BOOK-01"), "stock": "x"}]}]))
        .await;
    assert_eq!(
        (res.status, res.body["success"].clone()),
        (400, json!(false))
    );
    assert_eq!(
        res.body["data"]["good"]["result"][0]["entities"],
        json!([]),
        "reset"
    );
    assert_eq!(api.product("TB-CANDLE-01").await["stock"], 6);
}

/// `product_configurator_setting` is unique on (product, version, option): SW@v6.4.20.2
/// `src/Core/Migration/V6_4/Migration1618989442AddProductConfigurationSettingsUniqKey.php`. A
/// second setting for an option the product offers is the SQL error on 6.4 (a 500; in a 6.4
/// sync, the record's error), and from 6.5.8 a 400 without a pointer (SW@v6.5.8.0
/// `ProductConfiguratorSettingExceptionHandler.php`, `ProductException::
/// configurationOptionAlreadyExists`): the whole 6.6 sync fails.
#[tokio::test]
async fn a_second_configurator_setting_for_an_option_is_refused() {
    for version in VERSIONS {
        let (_sim, api) = demo(version).await;
        let tee = keys::product("TB-TEE");
        let settings = api
            .search(
                "product-configurator-setting",
                json!({"filter": [{"type": "equals", "field": "productId", "value": tee}]}),
            )
            .await;
        let option = settings.body["data"][0]["optionId"].clone();
        let again =
            json!({"id": "abcdefabcdefabcdefabcdefabcdef99", "productId": tee, "optionId": option});
        let mug = keys::product("TB-MUG-01");
        let res = api
            .with("fail-on-error", "false")
            .sync(json!({
                "settings": {"entity": "product_configurator_setting", "action": "upsert", "payload": [again]},
                "stock": {"entity": "product", "action": "upsert", "payload": [{"id": mug, "stock": 3}]}}))
            .await;
        if version == ApiVersion::V6_4 {
            assert_eq!(res.status, 200, "{}", res.body);
            let error = &res.body["data"]["settings"]["result"][0]["errors"][0];
            assert_eq!(error["status"], "500");
            assert!(
                error["detail"]
                    .as_str()
                    .unwrap()
                    .contains("1062 Duplicate entry"),
                "{error}"
            );
            assert_eq!(api.product("TB-MUG-01").await["stock"], 3, "{version}");
        } else {
            assert_eq!(
                (res.status, res.code()),
                (400, "PRODUCT_CONFIGURATION_OPTION_EXISTS_ALREADY"),
                "{version}: {}",
                res.body
            );
            assert_eq!(res.pointer(), "", "{version}: nothing says which row");
            assert_eq!(api.product("TB-MUG-01").await["stock"], 40, "{version}");
        }
        let res = api
            .post("/api/product-configurator-setting", again.clone())
            .await;
        let wanted = if version == ApiVersion::V6_4 {
            500
        } else {
            400
        };
        assert_eq!(res.status, wanted, "{version}: {}", res.body);
        let mut same_id = again.clone();
        same_id["id"] = settings.body["data"][0]["id"].clone();
        same_id["position"] = json!(7);
        let res = api
            .sync(json!([{"entity": "product_configurator_setting", "action": "upsert", "payload": [same_id]}]))
            .await;
        assert_eq!(res.status, 200, "{version}: the setting itself may change");
    }
}

/// `indexing-behavior` on the sync route (every version: SW@v6.4.20.2 and v6.5.8.14
/// `SyncService::sync`, `EntityIndexerRegistry`): `use-queue-indexing` still updates stock at
/// once (`ProductIndexer::update` runs the stock updater before queueing its message) and
/// queues the rest; `disable-indexing` computes nothing.
#[tokio::test]
async fn indexing_can_be_queued_or_disabled() {
    let (sim, api) = demo(ApiVersion::V6_4).await;
    let mug = keys::product("TB-MUG-01");
    let stock = |n: i64| json!([{"entity": "product", "action": "upsert", "payload": [{"id": mug, "stock": n}]}]);
    let res = api
        .with("indexing-behavior", "use-queue-indexing")
        .sync(stock(50))
        .await;
    assert_eq!(res.status, 200);
    let product = api.product("TB-MUG-01").await;
    assert_eq!(
        (product["stock"].clone(), product["availableStock"].clone()),
        (json!(50), json!(37)),
        "stock is indexed at once"
    );
    assert_eq!(sim.queued_indexing(), 1);
    api.with("indexing-behavior", "disable-indexing")
        .sync(stock(60))
        .await;
    assert_eq!(
        api.product("TB-MUG-01").await["availableStock"],
        37,
        "not indexed"
    );
    api.sync(stock(61)).await;
    assert_eq!(api.product("TB-MUG-01").await["availableStock"], 48);
    assert_eq!(sim.queued_indexing(), 1);
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
