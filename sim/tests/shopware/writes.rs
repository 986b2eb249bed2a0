//! Writing single entities: 204 with Location, `_response`, ids, validation, nested writes.

use serde_json::{Value, json};

use crate::support::*;

const EUR: &str = "b7d2554b0ce847cd82f3ac9bd1c0dfca";

fn price(gross: f64, net: f64) -> Value {
    json!([{"currencyId": EUR, "gross": gross, "net": net, "linked": true}])
}

fn tax_21() -> String {
    tillbridge_sim::shopware::ids::stable("tax", "21")
}

#[tokio::test]
async fn create_answers_204_with_location_and_the_entity_on_request() {
    let (sim, api) = demo(ApiVersion::V6_6).await;
    let id = "0123456789abcdef0123456789abcdef";
    let res = api
        .post(
            "/api/product",
            json!({"id": id, "productNumber": "NEW-1", "name": "New", "stock": 3, "taxId": tax_21(), "price": price(12.1, 10.0)}),
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.body);
    assert_eq!(
        res.header("location"),
        Some(format!("{}/api/product/{id}", sim.base_url()).as_str())
    );
    let res = api
        .post(
            "/api/tax?_response=1",
            json!({"name": "Zero", "taxRate": 0}),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["data"]["name"], "Zero");
    assert!(
        res.header("location")
            .unwrap()
            .ends_with(res.body["data"]["id"].as_str().unwrap())
    );
}

#[tokio::test]
async fn ids_with_dashes_or_capitals_do_not_match_routes_and_are_refused_in_bodies() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let dashed = "0fa91ce3-e96a-4bc2-be4b-d9ce752c3425";
    let res = api.get(&format!("/api/order/{dashed}")).await;
    assert_eq!((res.status, res.code()), (404, "0"));
    assert!(
        res.body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("No route found")
    );
    let upper = keys::order("10001").to_uppercase();
    assert_eq!(api.get(&format!("/api/order/{upper}")).await.status, 404);
    let res = api
        .post("/api/tax", json!({"id": dashed, "name": "X", "taxRate": 1}))
        .await;
    assert_eq!(
        (res.status, res.code(), res.pointer()),
        (400, "FRAMEWORK__INVALID_UUID", "/0/id")
    );
    let unknown = "00000000000000000000000000000001";
    let res = api.get(&format!("/api/order/{unknown}")).await;
    assert_eq!(
        (res.status, res.code()),
        (404, "FRAMEWORK__RESOURCE_NOT_FOUND")
    );
}

#[tokio::test]
async fn missing_required_fields_are_listed_with_pointers() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let res = api.post("/api/product", json!({"name": "test"})).await;
    assert_eq!(res.status, 400);
    let mut pointers: Vec<&str> = res.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"]["pointer"].as_str().unwrap())
        .collect();
    pointers.sort();
    assert_eq!(
        pointers,
        ["/0/price", "/0/productNumber", "/0/stock", "/0/taxId"]
    );
    assert_eq!(
        res.body["errors"][0]["code"],
        "c1051bb4-d103-4f74-8988-acbcafc7fdc3"
    );
    assert_eq!(
        res.body["errors"][0]["detail"],
        "This value should not be blank."
    );
}

#[tokio::test]
async fn unexpected_and_write_protected_fields_are_refused() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let id = keys::product("TB-MUG-01");
    let res = api
        .patch(&format!("/api/product/{id}"), json!({"colour": "red"}))
        .await;
    assert_eq!(
        (res.status, res.code(), res.pointer()),
        (400, "FRAMEWORK__WRITE_UNEXPECTED_FIELD_ERROR", "/0/colour")
    );
    assert_eq!(res.body["errors"][0]["detail"], "Unexpected field: colour");
    let res = api
        .patch(&format!("/api/product/{id}"), json!({"childCount": 3}))
        .await;
    assert_eq!((res.status, res.pointer()), (400, "/0/childCount"));
    assert_eq!(
        res.body["errors"][0]["detail"],
        "This field is write-protected."
    );
    let res = api
        .patch(&format!("/api/product/{id}"), json!({"stock": "12"}))
        .await;
    assert_eq!(
        res.body["errors"][0]["detail"],
        "This value should be of type int."
    );
}

#[tokio::test]
async fn patch_of_an_unknown_id_and_post_of_a_known_one_fail() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let res = api
        .patch(
            "/api/tax/00000000000000000000000000000009",
            json!({"name": "x"}),
        )
        .await;
    assert_eq!(
        (res.status, res.code()),
        (400, "FRAMEWORK__WRITE_TYPE_INTEND_ERROR")
    );
    let existing = tillbridge_sim::shopware::ids::stable("tax", "21");
    let res = api
        .post(
            "/api/tax",
            json!({"id": existing, "name": "x", "taxRate": 1}),
        )
        .await;
    assert_eq!(res.code(), "FRAMEWORK__WRITE_TYPE_INTEND_ERROR");
    let res = api
        .post("/api/tax", json!([{"name": "x", "taxRate": 1}]))
        .await;
    assert_eq!(res.status, 400, "lists go to the sync API");
}

#[tokio::test]
async fn a_product_with_variants_is_written_in_one_nested_payload() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let size_m = keys::option("Size", "M");
    let size_l = keys::option("Size", "L");
    let channel = keys::sales_channel("Tillbridge Storefront");
    let category = keys::category(&["Home".into(), "Clothing".into()]);
    let parent = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1";
    let res = api
        .post(
            "/api/product",
            json!({
                "id": parent, "productNumber": "SOCK", "stock": 0, "taxId": tax_21(), "price": price(5.0, 4.13),
                "name": "Sock", "translations": {"de-DE": {"name": "Socke"}},
                "configuratorSettings": [{"optionId": size_m}, {"optionId": size_l}],
                "visibilities": [{"salesChannelId": channel, "visibility": 30}],
                "categories": [{"id": category}],
                "properties": [{"id": keys::option("Material", "Cotton")}],
                "children": [
                    {"productNumber": "SOCK-M", "stock": 4, "options": [{"id": size_m}]},
                    {"productNumber": "SOCK-L", "stock": 2, "options": [{"id": size_l}]}
                ]
            }),
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.body);
    let product = api
        .one(
            "product",
            json!({"ids": [parent], "associations": {"children": {"associations": {"options": {}}}, "configuratorSettings": {}, "visibilities": {}, "categories": {}, "properties": {}}}),
        )
        .await;
    assert_eq!(product["childCount"], 2);
    assert_eq!(product["configuratorSettings"].as_array().unwrap().len(), 2);
    assert_eq!(product["categories"][0]["name"], "Clothing");
    assert_eq!(product["properties"][0]["name"], "Cotton");
    let child = product["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["productNumber"] == "SOCK-M")
        .unwrap()
        .clone();
    assert_eq!(child["options"][0]["name"], "M");
    assert_eq!(child["optionIds"], json!([size_m]));
    assert!(
        child["name"].is_null(),
        "inherited, so null without sw-inheritance"
    );
    let german = api
        .with("sw-language-id", "5ea2a8b8e0bf4b4d9e1b4e9e2a4d0d0e")
        .product("SOCK")
        .await;
    assert_eq!(german["name"], "Socke");
}

#[tokio::test]
async fn prices_need_the_default_currency_with_net_and_gross() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let id = keys::product("TB-MUG-01");
    let usd = tillbridge_sim::shopware::ids::stable("currency", "USD");
    let res = api
        .patch(
            &format!("/api/product/{id}"),
            json!({"price": [{"currencyId": usd, "gross": 15, "net": 12.4, "linked": false}]}),
        )
        .await;
    assert_eq!((res.status, res.pointer()), (400, "/0/price"));
    assert_eq!(
        res.body["errors"][0]["detail"],
        "No price for default currency defined"
    );
    let res = api
        .patch(
            &format!("/api/product/{id}"),
            json!({"price": [{"currencyId": EUR, "gross": 15, "linked": true}]}),
        )
        .await;
    assert_eq!((res.status, res.pointer()), (400, "/0/price/0/net"));
    let res = api
        .patch(
            &format!("/api/product/{id}"),
            json!({"price": price(15.0, 99.0)}),
        )
        .await;
    assert_eq!(res.status, 204);
    assert_eq!(
        api.product("TB-MUG-01").await["price"][0]["net"],
        99.0,
        "stored as sent, linked or not"
    );
}

#[tokio::test]
async fn deleting_a_tax_in_use_is_refused_and_a_free_one_goes() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let res = api.delete(&format!("/api/tax/{}", tax_21())).await;
    assert_eq!(
        (res.status, res.code()),
        (409, "FRAMEWORK__DELETE_RESTRICTED")
    );
    let created = api
        .post(
            "/api/tax?_response=1",
            json!({"name": "Free", "taxRate": 0}),
        )
        .await;
    let id = created.body["data"]["id"].as_str().unwrap();
    assert_eq!(api.delete(&format!("/api/tax/{id}")).await.status, 204);
    assert_eq!(api.get(&format!("/api/tax/{id}")).await.status, 404);
}

#[tokio::test]
async fn duplicate_product_numbers_are_refused() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let res = api
        .post(
            "/api/product",
            json!({"productNumber": "TB-MUG-01", "name": "Again", "stock": 1, "taxId": tax_21(), "price": price(1.0, 0.83)}),
        )
        .await;
    assert_eq!(
        (res.status, res.code()),
        (400, "CONTENT__PRODUCT_NUMBER_DUPLICATE")
    );
}

#[tokio::test]
async fn categories_form_a_tree_with_path_level_and_breadcrumb() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let home = keys::category(&["Home".into()]);
    let clothing = keys::category(&["Home".into(), "Clothing".into()]);
    let res = api
        .post(
            "/api/category?_response=1",
            json!({"name": "Socks", "parentId": clothing, "afterCategoryId": keys::category(&["Home".into(), "Clothing".into(), "Hoodies".into()])}),
        )
        .await;
    let socks = &res.body["data"];
    assert_eq!(socks["path"], format!("|{home}|{clothing}|"));
    assert_eq!(socks["level"], 3);
    assert_eq!(socks["breadcrumb"], json!(["Home", "Clothing", "Socks"]));
    let parent = api.get(&format!("/api/category/{clothing}")).await;
    assert_eq!(parent.body["data"]["childCount"], 3);
    let root = api.get(&format!("/api/category/{home}")).await;
    assert!(root.body["data"]["parentId"].is_null());
    assert!(root.body["data"]["path"].is_null());
    assert_eq!(root.body["data"]["level"], 1);
}
