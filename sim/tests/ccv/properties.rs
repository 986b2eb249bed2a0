//! Product properties, CCV's information fields: groups, their properties and options, the
//! products linked to a group and their values. The resources and fields are those of CCV's
//! official SDK (ccvshop/ccvshop-api `src/Resources/ProductProperty*.php`,
//! `ProductToPropertyGroup.php`) and documented schemas (jacobdekeizer/ccvshop-client
//! `Models/**/Productproperty*`, `Producttopropertygroups`); the module `sim/src/ccv/properties.rs`
//! names what is a guess.

use serde_json::{Value, json};

use super::client::{Client, create, demo, empty, package};

async fn product(client: &Client, number: &str) -> u64 {
    let package = package(client).await;
    create(
        client,
        "/api/rest/v1/products",
        json!({"name": number, "productnumber": number, "price": 5, "discount": 0,
               "taxtariff": "normal", "package_id": package}),
    )
    .await
}

async fn links(client: &Client, product: u64) -> Vec<Value> {
    client
        .all_items(&format!(
            "/api/rest/v1/products/{product}/producttopropertygroups"
        ))
        .await
}

#[tokio::test]
async fn a_product_is_linked_to_a_group_and_given_values() {
    let (_sim, client) = empty().await;
    let group = create(
        &client,
        "/api/rest/v1/productpropertygroups",
        json!({"name": "Specifications"}),
    )
    .await;
    let properties = format!("/api/rest/v1/productpropertygroups/{group}/productproperties");
    let material = create(
        &client,
        &properties,
        json!({"name": "Material", "type": "text"}),
    )
    .await;
    let origin = create(
        &client,
        &properties,
        json!({"name": "Country of origin", "type": "option"}),
    )
    .await;
    let options = format!("/api/rest/v1/productproperties/{origin}/productpropertyoptions");
    let dutch = create(&client, &options, json!({"name": "Netherlands"})).await;
    let listed = client.all_items(&properties).await;
    assert_eq!(
        listed
            .iter()
            .map(|p| (p["name"].as_str().unwrap(), p["type"].as_str().unwrap()))
            .collect::<Vec<_>>(),
        [("Material", "text"), ("Country of origin", "option")]
    );

    let mug = product(&client, "MUG").await;
    let value = |property: u64, value: &str| json!({"product_id": mug, "product_property_id": property, "value": value});
    let unlinked = client
        .post(
            "/api/rest/v1/productpropertyvalues",
            &value(material, "Stoneware"),
        )
        .await;
    assert_eq!(
        unlinked.status, 400,
        "a value needs the product linked to the group first: {}",
        unlinked.text
    );
    let link = create(
        &client,
        "/api/rest/v1/producttopropertygroups",
        json!({"product_id": mug, "product_property_group_id": group}),
    )
    .await;
    let twice = client
        .post(
            "/api/rest/v1/producttopropertygroups",
            &json!({"product_id": mug, "product_property_group_id": group}),
        )
        .await;
    assert_eq!((twice.status, twice.code()), (500, "500.40"));

    let stoneware = create(
        &client,
        "/api/rest/v1/productpropertyvalues",
        value(material, "Stoneware"),
    )
    .await;
    let by_name = client
        .post(
            "/api/rest/v1/productpropertyvalues",
            &value(origin, "Netherlands"),
        )
        .await;
    assert_eq!(
        by_name.status, 400,
        "an option property takes an option's id: {}",
        by_name.text
    );
    create(
        &client,
        "/api/rest/v1/productpropertyvalues",
        value(origin, &dutch.to_string()),
    )
    .await;
    let again = client
        .post(
            "/api/rest/v1/productpropertyvalues",
            &value(material, "Glass"),
        )
        .await;
    assert_eq!((again.status, again.code()), (500, "500.40"));

    let shown = links(&client, mug).await;
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0]["product_property_group_id"], group);
    let values: Vec<(u64, String)> = shown[0]["values"]["collection"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["product_property_id"].as_u64().unwrap(),
                v["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        values,
        [
            (material, "Stoneware".to_string()),
            (origin, dutch.to_string())
        ]
    );

    let uri = format!("/api/rest/v1/productpropertyvalues/{stoneware}");
    assert_eq!(
        client
            .patch(&uri, &json!({"value": "Porcelain"}))
            .await
            .status,
        204
    );
    assert_eq!(client.get(&uri).await.body["value"], "Porcelain");
    assert_eq!(
        client
            .delete(&format!("/api/rest/v1/producttopropertygroups/{link}"))
            .await
            .status,
        204
    );
    assert!(links(&client, mug).await.is_empty());
    assert_eq!(
        client.get(&uri).await.status,
        404,
        "its values went with it"
    );
}

#[tokio::test]
async fn the_demo_pos_has_its_products_properties() {
    let (sim, client) = demo().await;
    let groups = client.all_items("/api/rest/v1/productpropertygroups").await;
    assert_eq!(groups.len(), 1);
    let properties = client
        .all_items(&format!(
            "/api/rest/v1/productpropertygroups/{}/productproperties",
            groups[0]["id"]
        ))
        .await;
    let id_of = |name: &str| {
        properties
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {properties:?}"))["id"]
            .as_u64()
            .unwrap()
    };
    let (material, origin) = (id_of("Material"), id_of("Country of origin"));
    let netherlands = client
        .all_items(&format!(
            "/api/rest/v1/productproperties/{origin}/productpropertyoptions"
        ))
        .await
        .into_iter()
        .find(|o| o["name"] == "Netherlands")
        .expect("the mug's country is an option")["id"]
        .to_string();
    let mug = sim.article("TB-MUG-01").unwrap().product_id;
    let values = links(&client, mug).await[0]["values"]["collection"].clone();
    let value_of = |property: u64| {
        values
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["product_property_id"] == property)
            .map(|v| v["value"].as_str().unwrap().to_string())
    };
    assert_eq!(value_of(material).as_deref(), Some("Stoneware"));
    assert_eq!(value_of(origin), Some(netherlands));
}
