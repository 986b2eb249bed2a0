//! Products with variants and properties, inheritance, categories, property groups.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn variants_show_inherited_fields_only_with_sw_inheritance() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let plain = api.product("TB-TEE-M-RED").await;
    assert_eq!(plain["parentId"], keys::product("TB-TEE"));
    for field in ["name", "price", "taxId", "description"] {
        assert!(plain[field].is_null(), "{field} is inherited");
    }
    assert_eq!(plain["stock"], 4, "stock is the variant's own");
    let inherited = api
        .with("sw-inheritance", "1")
        .product("TB-TEE-M-RED")
        .await;
    assert_eq!(inherited["name"], "Organic cotton T-shirt");
    assert_eq!(inherited["price"][0]["gross"], 24.95);
    assert_eq!(inherited["translated"]["name"], "Organic cotton T-shirt");
    let by_name = api
        .with("sw-inheritance", "1")
        .search(
            "product",
            json!({"filter": [{"type": "equals", "field": "name", "value": "Organic cotton T-shirt"}], "total-count-mode": 1}),
        )
        .await;
    assert_eq!(by_name.body["total"], 7, "the parent and its six variants");
}

#[tokio::test]
async fn parents_list_configurator_settings_and_variants_their_options() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let parent = api
        .one(
            "product",
            json!({"filter": [{"type": "equals", "field": "productNumber", "value": "TB-HOODIE"}],
                   "associations": {"configuratorSettings": {"associations": {"option": {"associations": {"group": {}}}}},
                                    "children": {"associations": {"options": {"associations": {"group": {}}}}},
                                    "properties": {"associations": {"group": {}}}, "categories": {}, "visibilities": {}}}),
        )
        .await;
    assert_eq!(parent["childCount"], 4);
    assert_eq!(
        parent["configuratorSettings"].as_array().unwrap().len(),
        4,
        "M, L, Black, Grey"
    );
    let groups: Vec<_> = parent["configuratorSettings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["option"]["group"]["name"].clone())
        .collect();
    assert!(groups.contains(&json!("Size")) && groups.contains(&json!("Colour")));
    let variant = parent["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["productNumber"] == "TB-HOODIE-L-GREY")
        .unwrap()
        .clone();
    let mut options: Vec<String> = variant["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            format!(
                "{}={}",
                o["group"]["name"].as_str().unwrap(),
                o["name"].as_str().unwrap()
            )
        })
        .collect();
    options.sort();
    assert_eq!(options, ["Colour=Grey", "Size=L"]);
    let mut properties: Vec<_> = parent["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    properties.sort();
    assert_eq!(properties, ["3-5 days", "Cotton"]);
    assert_eq!(parent["categories"][0]["name"], "Hoodies");
    assert_eq!(parent["visibilities"][0]["visibility"], 30);
}

#[tokio::test]
async fn only_webshop_products_are_seeded() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let res = api
        .search("product", json!({"filter": [{"type": "equals", "field": "parentId", "value": null}], "total-count-mode": 1}))
        .await;
    assert_eq!(
        res.body["total"], 6,
        "all six demo products are in the shop"
    );
    let poster = api.product("TB-POSTER-01").await;
    assert_eq!(poster["stock"], 15);
    assert_eq!(poster["ean"], tillbridge_sim::dataset::ean13(871234500020));
}

#[tokio::test]
async fn categories_come_as_a_tree_from_the_dataset() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let res = api
        .search(
            "category",
            json!({"filter": [{"type": "equals", "field": "level", "value": 3}], "sort": [{"field": "name"}],
                   "includes": {"category": ["name", "breadcrumb", "path"]}}),
        )
        .await;
    let names: Vec<_> = res.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(
        names,
        vec!["Candles", "Hoodies", "Mugs", "Posters", "T-shirts"]
    );
    assert_eq!(
        res.body["data"][2]["breadcrumb"],
        json!(["Home", "Kitchen", "Mugs"])
    );
    let candles = keys::category(&["Home".into(), "Kitchen".into(), "Candles".into()]);
    let mugs = keys::category(&["Home".into(), "Kitchen".into(), "Mugs".into()]);
    let category = api.get(&format!("/api/category/{candles}")).await;
    assert_eq!(
        category.body["data"]["afterCategoryId"], mugs,
        "sibling order"
    );
}

#[tokio::test]
async fn property_groups_and_options_are_searchable() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let groups = api
        .search(
            "property-group",
            json!({"sort": [{"field": "name"}], "includes": {"property_group": ["name"]}}),
        )
        .await;
    let names: Vec<_> = groups.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_string())
        .collect();
    for expected in [
        "Colour",
        "Country of origin",
        "Delivery time",
        "Language",
        "Material",
        "Size",
    ] {
        assert!(
            names.contains(&expected.to_string()),
            "{expected} in {names:?}"
        );
    }
    let sizes = api
        .search(
            "property-group-option",
            json!({"filter": [{"type": "equals", "field": "group.name", "value": "Size"}], "total-count-mode": 1}),
        )
        .await;
    assert_eq!(sizes.body["total"], 3, "S, M, L");
    for entity in [
        "currency",
        "sales-channel",
        "payment-method",
        "tax",
        "country",
        "language",
        "state-machine-state",
    ] {
        let res = api.search(entity, json!({"limit": 1})).await;
        assert_eq!(res.status, 200, "{entity}: {}", res.body);
        assert_eq!(res.body["data"].as_array().unwrap().len(), 1, "{entity}");
    }
}

#[tokio::test]
async fn patch_adds_associations_and_never_removes_them() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let id = keys::product("TB-BOOK-01");
    let decoration = keys::category(&["Home".into(), "Decoration".into()]);
    let res = api
        .patch(
            &format!("/api/product/{id}"),
            json!({"categories": [{"id": decoration}]}),
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.body);
    let book = api.product("TB-BOOK-01").await;
    assert_eq!(
        book["categoryIds"].as_array().unwrap().len(),
        2,
        "added beside Books, not instead"
    );
}
