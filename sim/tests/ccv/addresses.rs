//! Addresses are street and house number, or address lines: not both.

use serde_json::{Value, json};

use super::client::{Client, demo};

/// An address in one form or the other, or (wrongly) both.
fn address(street: bool, lines: bool) -> Value {
    let mut address = json!({"first_name": "Ada", "last_name": "Jansen", "zipcode": "3512 AB",
                             "city": "Utrecht", "country_code": "NL"});
    if street {
        address["street"] = json!("Dorpsstraat");
        address["housenumber"] = json!(12);
        address["housenumber_suffix"] = json!("a");
    }
    if lines {
        address["address_line_1"] = json!("Dorpsstraat 12a");
        address["address_line_2"] = json!("c/o Bakkerij De Vries");
    }
    address
}

async fn post_user(client: &Client, n: u32, billing: Value) -> u16 {
    client
        .post(
            "/api/rest/v1/users",
            &json!({"username": format!("u{n}@example.nl"), "password": "secret",
                    "userinfo": {"email": format!("u{n}@example.nl"), "billingaddress": billing}}),
        )
        .await
        .status
}

/// JDK `Internal/Entity/Personalinfo/Input/Child/Billingaddress.php` (and `Deliveryaddress.php`):
/// `address_line_1` — "Either use address_line_1 and address_line_2 or street and housenumber";
/// `street`, `housenumber`, `housenumber_suffix` and `address_line_2` — "Note: see
/// address_line_1". One form or the other is taken; both at once is refused, on users and on an
/// order's customer alike.
#[tokio::test]
async fn street_and_house_number_or_address_lines_not_both() {
    let (sim, client) = demo().await;
    assert_eq!(post_user(&client, 1, address(true, false)).await, 201);
    assert_eq!(post_user(&client, 2, address(false, true)).await, 201);
    let both = client
        .post(
            "/api/rest/v1/users",
            &json!({"username": "u3@example.nl", "password": "secret",
                    "userinfo": {"deliveryaddress": address(true, true)}}),
        )
        .await;
    assert_eq!(both.status, 400, "{}", both.text);
    assert!(both.text.contains("deliveryaddress"), "{}", both.text);
    // Just a second line with a street is both forms too.
    let mut street_and_line_2 = address(true, false);
    street_and_line_2["address_line_2"] = json!("c/o Bakkerij De Vries");
    assert_eq!(post_user(&client, 4, street_and_line_2).await, 400);
    // Null fields of the other form are not used.
    let mut cleared = address(true, false);
    cleared["address_line_1"] = Value::Null;
    cleared["address_line_2"] = Value::Null;
    assert_eq!(post_user(&client, 5, cleared).await, 201);

    let mug = sim.article("TB-MUG-01").unwrap().product_id;
    let order = client
        .post(
            "/api/rest/v1/orders",
            &json!({"orderrows": [{"product_id": mug, "count": 1}],
                    "customer": {"email": "ada@example.nl", "billingaddress": address(true, true)}}),
        )
        .await;
    assert_eq!(order.status, 400, "{}", order.text);
}

/// The same rule holds for the address a PATCH leaves: a user switched to address lines must have
/// its street cleared in the same request.
#[tokio::test]
async fn switching_forms_clears_the_other_one() {
    let (_sim, client) = demo().await;
    assert_eq!(post_user(&client, 6, address(true, false)).await, 201);
    let users = client.all_items("/api/rest/v1/users").await;
    let id = users
        .iter()
        .find(|u| u["username"] == "u6@example.nl")
        .unwrap()["id"]
        .clone();
    let uri = format!("/api/rest/v1/users/{id}");
    let lines_only = json!({"userinfo": {"billingaddress": address(false, true)}});
    assert_eq!(client.patch(&uri, &lines_only).await.status, 400);
    let mut switched = address(false, true);
    switched["street"] = Value::Null;
    switched["housenumber"] = Value::Null;
    switched["housenumber_suffix"] = Value::Null;
    let answer = client
        .patch(&uri, &json!({"userinfo": {"billingaddress": switched}}))
        .await;
    assert_eq!(answer.status, 204, "{}", answer.text);
}
