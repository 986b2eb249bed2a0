//! Products and categories: CRUD, filters, the tree, and product links.

use serde_json::{Value, json};

use super::client::{create, demo, empty, package};

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
    let package = package(&client).await;
    let bad_tariff = client
        .post(
            "/api/rest/v1/products",
            &json!({"name": "X", "price": 1, "discount": 0, "package_id": package, "taxtariff": "high"}),
        )
        .await;
    assert_eq!(bad_tariff.status, 400);

    let id = create(
        &client,
        "/api/rest/v1/products",
        json!({"name": "Tote bag", "productnumber": "TB-TOTE", "eannumber": "8712345000999",
               "price": 14.95, "discount": 2, "taxtariff": "normal", "package_id": package,
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
    for (filter, found) in [
        ("minstock=7", true),
        ("minstock=8", false),
        ("maxstock=7", true),
        ("maxstock=6", false),
    ] {
        let answer = client
            .get(&format!(
                "/api/rest/v1/products?productnumber=TB-TOTE&{filter}"
            ))
            .await;
        assert_eq!(
            answer.body["items"].as_array().map(Vec::len),
            Some(usize::from(found)),
            "{filter}"
        );
    }

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

/// Package ids are the shop's own: "the package id's are available in the resource 'packages'"
/// (jacobdekeizer/ccvshop-client, `Models/Internal/Resource/Products/Post/Post.php`;
/// `PackagesEndpoint`: "Get all packages of this webshop"). There is no package 1 to count on.
#[tokio::test]
async fn a_product_names_one_of_the_shops_packages() {
    let (_sim, client) = empty().await;
    let packages = client.all_items("/api/rest/v1/packages").await;
    assert_eq!(packages.len(), 1, "{packages:?}");
    let id = packages[0]["id"].as_u64().unwrap();
    assert_ne!(id, 1, "a shop-wide id, not a fixed default");
    assert!(packages[0]["name"].as_str().is_some_and(|n| !n.is_empty()));
    let product = |package: u64| json!({"name": "Tote", "price": 5, "discount": 0, "taxtariff": "normal", "package_id": package});
    let refused = client.post("/api/rest/v1/products", &product(1)).await;
    assert_eq!((refused.status, refused.code()), (400, "400.10"));
    assert!(
        refused.text.contains("package_id 1"),
        "the answer names the package: {}",
        refused.text
    );
    assert!(client.all_items("/api/rest/v1/products").await.is_empty());

    let made = create(&client, "/api/rest/v1/products", product(id)).await;
    let uri = format!("/api/rest/v1/products/{made}");
    assert_eq!(client.get(&uri).await.body["package"]["id"], id);
    let other = create(
        &client,
        "/api/rest/v1/packages",
        json!({"name": "Brievenbus"}),
    )
    .await;
    assert_eq!(client.all_items("/api/rest/v1/packages").await.len(), 2);
    assert_eq!(
        client
            .patch(&uri, &json!({"package_id": other}))
            .await
            .status,
        204
    );
    assert_eq!(
        client.patch(&uri, &json!({"package_id": 1})).await.status,
        400,
        "a patch to an unknown package is refused too"
    );
    assert_eq!(client.get(&uri).await.body["package"]["id"], other);
}

/// The product resource of CCV's current SDK (ccvshop/ccvshop-api `src/Resources/Product.php`)
/// carries `taxtariff` (its constants: normal, low a, low b, extra low, zero) and no `vatrate`,
/// which the 2022 schema already called deprecated; the input takes "either this property or
/// taxtariff" (jacobdekeizer/ccvshop-client, `Models/Internal/Resource/Products/Post/Post.php`).
#[tokio::test]
async fn a_product_carries_its_tax_tariff_not_a_vat_rate() {
    let (sim, client) = demo().await;
    let book = sim.article("TB-BOOK-01").unwrap().product_id;
    let shown = client
        .get(&format!("/api/rest/v1/products/{book}"))
        .await
        .body;
    assert_eq!(shown["taxtariff"], "low a", "the demo book has 9% VAT");
    assert!(shown.get("vatrate").is_none(), "{shown}");

    let package = package(&client).await;
    let without = client
        .post(
            "/api/rest/v1/products",
            &json!({"name": "X", "price": 1, "discount": 0, "package_id": package}),
        )
        .await;
    assert_eq!(
        without.status, 400,
        "either taxtariff or vatrate must be set"
    );
    assert!(without.text.contains("taxtariff"), "{}", without.text);
    let by_rate = create(
        &client,
        "/api/rest/v1/products",
        json!({"name": "Y", "price": 1, "discount": 0, "package_id": package, "vatrate": 9}),
    )
    .await;
    let shown = client
        .get(&format!("/api/rest/v1/products/{by_rate}"))
        .await
        .body;
    assert_eq!(
        shown["taxtariff"], "low a",
        "the deprecated rate picks its tariff"
    );
}

/// CCV's SDK offers two media types (`src/BaseEndpoint.php`, `ACCEPT_HEADERS`): the webshop
/// schemas, its default, and "CCV SalesPos specific API schema's", which its tests use only for
/// `vnd.verto.salespos.resource.cashups` and `…fiscaltransactionsignatures`. No source gives a
/// SalesPOS schema of products, so a product reads the same under both.
#[tokio::test]
async fn a_product_reads_the_same_under_both_media_types() {
    let (sim, mut client) = demo().await;
    let mug = sim.article("TB-MUG-01").unwrap().product_id;
    let uri = format!("/api/rest/v1/products/{mug}");
    let webshop = client.get(&uri).await;
    client.accept = "application/vnd.verto.salespos+json".into();
    let salespos = client.get(&uri).await;
    assert_eq!((webshop.status, salespos.status), (200, 200));
    assert_eq!(webshop.body, salespos.body);
    let asked: Vec<Option<String>> = sim
        .journal()
        .entries()
        .iter()
        .map(|e| e.accept.clone())
        .collect();
    assert_eq!(
        asked,
        [
            Some("application/vnd.verto.webshop+json".to_string()),
            Some("application/vnd.verto.salespos+json".to_string())
        ],
        "the journal keeps what each request asked for"
    );
}
