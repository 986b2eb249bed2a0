//! Products and categories: CRUD, filters, the tree, and product links.

use serde_json::{Value, json};

use super::client::{create, demo};

#[tokio::test]
async fn products_are_created_filtered_patched_and_deleted() {
    let (_sim, client) = demo().await;
    let missing = client
        .post("/api/rest/v1/products", &json!({"name": "No price"}))
        .await;
    assert_eq!((missing.status, missing.code()), (400, "400.10"));
    assert!(
        missing.body["developermessage"]
            .as_str()
            .unwrap()
            .contains("price")
    );
    let bad_tariff = client
        .post(
            "/api/rest/v1/products",
            &json!({"name": "X", "price": 1, "discount": 0, "package_id": 1, "taxtariff": "high"}),
        )
        .await;
    assert_eq!(bad_tariff.status, 400);

    let id = create(
        &client,
        "/api/rest/v1/products",
        json!({"name": "Tote bag", "productnumber": "TB-TOTE", "eannumber": "8712345000999",
               "price": 14.95, "discount": 2, "taxtariff": "normal", "package_id": 1,
               "active": true, "description": "<p>Bag</p>", "shortdescription": "Bag",
               "stockenabled": true, "stock": 7}),
    )
    .await;
    let by_number = client
        .get("/api/rest/v1/products?productnumber=TB-TOTE")
        .await;
    assert_eq!(by_number.body["items"][0]["id"], id);
    let by_ean = client
        .get("/api/rest/v1/products?eannumber=8712345000999")
        .await;
    assert_eq!(by_ean.body["items"][0]["id"], id);
    let product = &by_ean.body["items"][0];
    assert_eq!(
        (product["price"].as_f64(), product["discount"].as_f64()),
        (Some(14.95), Some(2.0))
    );
    assert_eq!(product["is_active"], true);
    assert_eq!(product["stock"], 7);

    let uri = format!("/api/rest/v1/products/{id}");
    assert_eq!(
        client
            .patch(&uri, &json!({"active": false, "stock": 3}))
            .await
            .status,
        204
    );
    let after = client.get(&uri).await.body;
    assert_eq!(
        (after["is_active"].as_bool(), after["stock"].as_i64()),
        (Some(false), Some(3))
    );
    let inactive = client.all_items("/api/rest/v1/products?active=false").await;
    assert_eq!(inactive.len(), 1);
    let unknown = client.patch(&uri, &json!({"is_active": true})).await;
    assert_eq!(unknown.status, 400, "is_active is read, active is written");

    assert_eq!(client.delete(&uri).await.status, 204);
    assert_eq!(client.get(&uri).await.status, 404);
}

#[tokio::test]
async fn the_category_tree_is_served() {
    let (_sim, client) = demo().await;
    assert!(
        client.all_items("/api/rest/v1/categories").await.is_empty(),
        "the demo POS has no categories yet: the webshop brings its tree"
    );
    let home = create(&client, "/api/rest/v1/categories", json!({"name": "Home"})).await;
    for name in ["Clothing", "Kitchen", "Decoration", "Books"] {
        create(
            &client,
            "/api/rest/v1/categories",
            json!({"name": name, "parentcategory_id": home}),
        )
        .await;
    }
    let clothing = client
        .all_items(&format!("/api/rest/v1/categories/{home}/categories"))
        .await[0]["id"]
        .as_u64()
        .unwrap();
    for name in ["T-shirts", "Hoodies"] {
        create(
            &client,
            "/api/rest/v1/categories",
            json!({"name": name, "parentcategory_id": clothing}),
        )
        .await;
    }
    let tree = client.get("/api/rest/v1/categorytree").await.body;
    let roots = tree["root_categories"].as_array().unwrap();
    assert_eq!(roots.len(), 1);
    assert_eq!(roots[0]["name"], "Home");
    let names = |nodes: &Value| -> Vec<String> {
        nodes
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(&roots[0]["children"]),
        ["Clothing", "Kitchen", "Decoration", "Books"]
    );
    let clothing = &roots[0]["children"][0];
    assert_eq!(names(&clothing["children"]), ["T-shirts", "Hoodies"]);

    let children = client
        .all_items(&format!(
            "/api/rest/v1/categories/{}/categories",
            clothing["id"]
        ))
        .await;
    assert_eq!(children.len(), 2);
    assert_eq!(children[0]["parentcategory"]["id"], clothing["id"]);
}

#[tokio::test]
async fn categories_and_product_links() {
    let (sim, client) = demo().await;
    let home = create(&client, "/api/rest/v1/categories", json!({"name": "Home"})).await;
    let sale = create(
        &client,
        "/api/rest/v1/categories",
        json!({"name": "Sale", "parentcategory_id": home}),
    )
    .await;
    let orphan = client
        .post(
            "/api/rest/v1/categories",
            &json!({"name": "X", "parentcategory_id": 1}),
        )
        .await;
    assert_eq!(orphan.status, 400);

    let mug = sim.article("TB-MUG-01").unwrap().product_id;
    let link = json!({"product_id": mug, "category_id": sale, "position": 1});
    let link_id = create(&client, "/api/rest/v1/producttocategories", link.clone()).await;
    let twice = client.post("/api/rest/v1/producttocategories", &link).await;
    assert_eq!((twice.status, twice.code()), (500, "500.40"));

    let links = client
        .all_items(&format!("/api/rest/v1/products/{mug}/producttocategories"))
        .await;
    let categories: Vec<u64> = links
        .iter()
        .map(|l| l["category_id"].as_u64().unwrap())
        .collect();
    assert_eq!(categories, vec![sale], "only the link made here");
    assert!(categories.contains(&sale));
    let in_sale = client
        .all_items(&format!("/api/rest/v1/categories/{sale}/products"))
        .await;
    assert_eq!(in_sale[0]["id"], mug);

    let uri = format!("/api/rest/v1/producttocategories/{link_id}");
    assert_eq!(client.delete(&uri).await.status, 204);
    assert_eq!(client.get(&uri).await.status, 404);
    let patched = client
        .patch(
            &format!("/api/rest/v1/categories/{home}"),
            &json!({"parentcategory_id": sale}),
        )
        .await;
    assert_eq!(patched.status, 400, "a category cannot move below itself");
}
