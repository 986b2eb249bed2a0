//! Users: created with a unique username and a password, no e-mail filter, Personalinfo as CCV
//! has it.

use serde_json::{Value, json};
use tillbridge_sim::dataset::Customer;

use super::client::{create, demo};

fn walk_in(n: usize) -> Customer {
    Customer {
        email: format!("walk-in-{n}@example.nl"),
        first_name: format!("Walk{n}"),
        last_name: "In".into(),
        company: None,
        street: "Markt".into(),
        house_number: n.to_string(),
        suffix: String::new(),
        postcode: "1000 AA".into(),
        city: "Amsterdam".into(),
        country: "NL".into(),
        in_pos: true,
    }
}

#[tokio::test]
async fn there_is_no_email_filter_so_a_lookup_pages_through_users() {
    let (sim, client) = demo().await;
    for n in 0..60 {
        sim.add_user(&walk_in(n));
    }
    let wanted = "walk-in-57@example.nl";
    let filtered = client
        .get(&format!("/api/rest/v1/users?email={wanted}&size=10"))
        .await;
    assert_eq!(filtered.status, 200, "{}", filtered.text);
    let first_page = filtered.body["items"].as_array().unwrap();
    assert_eq!(first_page.len(), 10, "the email parameter is ignored");
    assert!(first_page.iter().any(|u| u["userinfo"]["email"] != wanted));
    assert!(!filtered.body["next"].is_null());

    let everyone = client.all_items("/api/rest/v1/users?size=10").await;
    assert_eq!(
        everyone.len(),
        61,
        "the demo's Sanne Bos and the 60 walk-ins"
    );
    let matches: Vec<&Value> = everyone
        .iter()
        .filter(|u| u["userinfo"]["email"] == wanted)
        .collect();
    assert_eq!(matches.len(), 1);
    assert_eq!(matches[0]["id"], sim.users_with_email(wanted)[0]);
}

#[tokio::test]
async fn the_demo_customer_in_the_pos_has_an_older_address() {
    let (_sim, client) = demo().await;
    let users = client.all_items("/api/rest/v1/users").await;
    assert_eq!(users.len(), 1);
    let sanne = &users[0];
    assert_eq!(sanne["username"], "sanne.bos@example.nl");
    assert!(sanne.get("password").is_none(), "passwords are write-only");
    let billing = &sanne["userinfo"]["billingaddress"];
    assert_eq!(billing["street"], "Oude Gracht");
    assert_eq!(billing["housenumber"], 1);
    assert_eq!(billing["zipcode"], "2011 XX");
    assert_eq!(sanne["userinfo"]["customertype"], "b2c");
}

#[tokio::test]
async fn posting_a_user_needs_a_unique_username_and_a_password() {
    let (_sim, client) = demo().await;
    let business = json!({
        "username": "inkoop@bakkerij-devries.nl",
        "password": "s3cret",
        "userinfo": {
            "email": "inkoop@bakkerij-devries.nl",
            "customertype": "b2b",
            "kvk": "12345678",
            "btw": "NL812345678B01",
            "billingaddress": {
                "company": "Bakkerij De Vries B.V.",
                "first_name": "Pieter",
                "last_name": "de Vries",
                "street": "Marktplein",
                "housenumber": 3,
                "housenumber_suffix": "",
                "zipcode": "9711 AA",
                "city": "Groningen",
                "country_code": "NL"
            }
        }
    });
    let id = create(&client, "/api/rest/v1/users", business.clone()).await;
    let user = client.get(&format!("/api/rest/v1/users/{id}")).await.body;
    assert_eq!(
        user["userinfo"]["billingaddress"]["company"],
        "Bakkerij De Vries B.V."
    );
    assert_eq!(user["userinfo"]["billingaddress"]["housenumber"], 3);

    let taken = client.post("/api/rest/v1/users", &business).await;
    assert_eq!(
        (taken.status, taken.code()),
        (500, "500.40"),
        "{}",
        taken.text
    );
    let no_password = client
        .post("/api/rest/v1/users", &json!({"username": "x@example.nl"}))
        .await;
    assert_eq!((no_password.status, no_password.code()), (400, "400.10"));
    let text_number = client
        .post(
            "/api/rest/v1/users",
            &json!({"username": "y@example.nl", "password": "p",
                    "userinfo": {"billingaddress": {"housenumber": "3a"}}}),
        )
        .await;
    assert_eq!(
        (text_number.status, text_number.code()),
        (400, "400.10"),
        "housenumber is an int"
    );
    let unknown = client
        .post(
            "/api/rest/v1/users",
            &json!({"username": "z@example.nl", "password": "p", "userinfo": {"e_mail": "z"}}),
        )
        .await;
    assert_eq!(unknown.status, 400, "unknown properties are refused");
}

#[tokio::test]
async fn patching_userinfo_changes_only_what_it_names() {
    let (_sim, client) = demo().await;
    let sanne = &client.all_items("/api/rest/v1/users").await[0];
    let uri = format!("/api/rest/v1/users/{}", sanne["id"]);
    let patch = json!({"userinfo": {"billingaddress": {"street": "Kerkweg", "housenumber": 7}}});
    assert_eq!(client.patch(&uri, &patch).await.status, 204);
    let after = client.get(&uri).await.body;
    let billing = &after["userinfo"]["billingaddress"];
    assert_eq!(
        (billing["street"].as_str(), billing["housenumber"].as_i64()),
        (Some("Kerkweg"), Some(7))
    );
    assert_eq!(billing["city"], "Haarlem", "untouched fields stay");
    assert_eq!(after["userinfo"]["email"], "sanne.bos@example.nl");
    assert_eq!(
        after["userinfo"]["deliveryaddress"]["street"],
        "Oude Gracht"
    );
}
