//! Product properties (FLOWS.md §3.4): the canonical product's information fields are CCV's
//! product properties of the same name, written to and read from a product's
//! `producttopropertygroups` and `productpropertyvalues` (ccvshop/ccvshop-api
//! `src/Resources/ProductProperty*.php`; jacobdekeizer/ccvshop-client `Models/**/Productproperty*`).

use serde_json::Value;
use tillbridge::runtime::bindings::exports::tillbridge::plugin::products_source::ProductQuery;
use tillbridge::runtime::bindings::tillbridge::plugin::types::{OptionValue, PluginError};

use super::support::Pos;
use super::support::records::{product, product_write};

fn property(group: &str, value: &str) -> OptionValue {
    OptionValue {
        group: group.into(),
        value: value.into(),
    }
}

fn table(dump: &Value, name: &str) -> Vec<Value> {
    dump[name]
        .as_object()
        .map(|m| m.values().cloned().collect())
        .unwrap_or_default()
}

/// A product's property values in the simulator, as (property name, value as stored).
fn values_of(dump: &Value, product_id: &str) -> Vec<(String, String)> {
    let properties = table(dump, "properties");
    let mut values: Vec<(String, String)> = table(dump, "property_values")
        .iter()
        .filter(|v| v["product_id"].as_u64() == product_id.parse().ok())
        .map(|v| {
            let name = properties
                .iter()
                .find(|p| p["id"] == v["property_id"])
                .map(|p| p["name"].as_str().unwrap().to_string())
                .unwrap_or_default();
            (name, v["value"].as_str().unwrap().to_string())
        })
        .collect();
    values.sort();
    values
}

/// The id of an option of a property, by their names.
fn option_id(dump: &Value, property: &str, option: &str) -> Option<String> {
    let property = table(dump, "properties")
        .into_iter()
        .find(|p| p["name"] == property)?;
    table(dump, "property_options")
        .into_iter()
        .find(|o| o["property_id"] == property["id"] && o["name"] == option)
        .map(|o| o["id"].to_string())
}

#[tokio::test]
async fn properties_are_written_to_the_ccv_properties_of_their_names() {
    let pos = Pos::demo().await;
    let mut vase = product("VASE", "34.95", 2);
    vase.properties = vec![
        property("Material", "Glass"),
        property("country of origin", "Portugal"),
    ];
    let mut session = pos.session().await;
    let results = session
        .write_products(&[product_write(vase.clone(), None, &[])])
        .await
        .unwrap();
    let id = results[0].outcome.clone().expect("created").id;
    let dump = pos.dump();
    let portugal = option_id(&dump, "Country of origin", "Portugal")
        .expect("an option the property lacked is made");
    assert_eq!(
        values_of(&dump, &id),
        [
            ("Country of origin".to_string(), portugal),
            ("Material".to_string(), "Glass".to_string())
        ],
        "text as text, an option by its id"
    );

    // An update writes properties only when the flow allows it, and then only what changed.
    vase.properties = vec![
        property("Material", "Crystal"),
        property("Country of origin", "Portugal"),
    ];
    let kept = session
        .write_products(&[product_write(vase.clone(), Some(&id), &["price"])])
        .await
        .unwrap();
    assert!(kept[0].outcome.is_ok(), "{kept:?}");
    assert!(values_of(&pos.dump(), &id).contains(&("Material".into(), "Glass".into())));
    let before = pos.count();
    let updated = session
        .write_products(&[product_write(vase.clone(), Some(&id), &["properties"])])
        .await
        .unwrap();
    assert!(updated[0].outcome.is_ok(), "{updated:?}");
    assert!(values_of(&pos.dump(), &id).contains(&("Material".into(), "Crystal".into())));
    let writes: Vec<String> = pos
        .since(before)
        .into_iter()
        .filter(|r| !r.starts_with("GET "))
        .collect();
    assert_eq!(
        writes.len(),
        1,
        "one patch: the unchanged country is not written again: {writes:?}"
    );
    assert!(
        writes[0].starts_with("PATCH /productpropertyvalues/"),
        "{writes:?}"
    );
}

#[tokio::test]
async fn a_property_ccv_lacks_fails_the_product_by_name_before_anything_is_sent() {
    let pos = Pos::demo().await;
    let mut vase = product("VASE", "34.95", 2);
    vase.properties = vec![property("Glaze", "Matte")];
    let results = pos
        .session()
        .await
        .write_products(&[product_write(vase, None, &[])])
        .await
        .unwrap();
    let Err(PluginError::Invalid(problem)) = &results[0].outcome else {
        panic!("{results:?}")
    };
    assert!(
        problem.message.contains("\"Glaze\"") && problem.message.contains("Material"),
        "names the property and what CCV has: {}",
        problem.message
    );
    assert!(
        !table(&pos.dump(), "products")
            .iter()
            .any(|p| p["productnumber"] == "VASE"),
        "nothing half-written"
    );
}

#[tokio::test]
async fn properties_are_read_by_name_when_the_flow_maps_them() {
    let pos = Pos::demo().await;
    let mut session = pos.session().await;
    let query = |properties: Vec<String>| ProductQuery {
        cursor: None,
        changed_since: None,
        skus: vec!["TB-MUG-01".into()],
        properties,
        limit: 10,
    };
    let page = session
        .read_products(&query(vec!["Material".into()]))
        .await
        .unwrap();
    let mug = &page.products[0];
    let mut read: Vec<(&str, &str)> = mug
        .properties
        .iter()
        .map(|p| (p.group.as_str(), p.value.as_str()))
        .collect();
    read.sort();
    assert_eq!(
        read,
        [
            ("Country of origin", "Netherlands"),
            ("Material", "Stoneware")
        ],
        "an option property by its option's name"
    );

    let before = pos.count();
    let plain = session.read_products(&query(vec![])).await.unwrap();
    assert!(plain.products[0].properties.is_empty());
    assert!(
        !pos.since(before).iter().any(|r| r.contains("propert")),
        "no property is read when none is mapped: {:?}",
        pos.since(before)
    );

    let listed = session.list_properties().await.unwrap();
    for name in ["Material", "Country of origin", "Delivery time"] {
        assert!(listed.iter().any(|l| l == name), "{listed:?}");
    }
}
