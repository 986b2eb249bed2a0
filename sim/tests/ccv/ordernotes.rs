//! Notes on orders: internal ones are their own resource; the `note` of `PATCH /orders/:id` is
//! text for the customer's e-mail.

use serde_json::{Value, json};

use super::client::{Client, create, demo};

/// A paid order of one mug.
async fn an_order(client: &Client, mug: u64) -> u64 {
    create(
        client,
        "/api/rest/v1/orders",
        json!({"orderrows": [{"product_id": mug, "count": 1}], "paid": true,
               "customer": {"email": "ada@example.nl"}}),
    )
    .await
}

/// JDK `Endpoints/OrdernotesEndpoint.php`: `POST orders/:id/ordernotes/` "Creates an internal
/// note on one order" from `{note}` (`Internal/Resource/Ordernotes/Post/Post.php`); `GET` lists
/// "all notes of this order"; `GET` and `DELETE ordernotes/:id`. A note has `id`, `note`, `type`
/// ("External notes are visible for customers too"), `create_date` and its parent order
/// (`Resource/Ordernotes/Ordernotes.php`). The order itself only links to them
/// (`Orders/Child/Ordernotes.php`: `href`).
#[tokio::test]
async fn an_internal_note_is_posted_listed_read_and_deleted() {
    let (sim, client) = demo().await;
    let order = an_order(&client, sim.article("TB-MUG-01").unwrap().product_id).await;
    let notes_uri = format!("/api/rest/v1/orders/{order}/ordernotes");
    let posted = client
        .post(&notes_uri, &json!({"note": "Payment method: PayPal"}))
        .await;
    assert_eq!(posted.status, 201, "{}", posted.text);
    assert_eq!(posted.body["type"], "internal");
    assert_eq!(posted.body["note"], "Payment method: PayPal");
    assert!(posted.body["create_date"].is_string());
    assert!(
        posted.body["parent"]["href"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/orders/{order}"))
    );

    let listed = client.all_items(&notes_uri).await;
    assert_eq!(listed.len(), 1);
    let one = client
        .get(&format!("/api/rest/v1/ordernotes/{}", posted.id()))
        .await;
    assert_eq!(one.body["note"], "Payment method: PayPal");

    let shown = client
        .get(&format!("/api/rest/v1/orders/{order}"))
        .await
        .body;
    assert_eq!(
        shown["ordernotes"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["href"],
        "the order links to its notes, it does not hold them"
    );

    let other = an_order(&client, sim.article("TB-MUG-01").unwrap().product_id).await;
    let none = client
        .all_items(&format!("/api/rest/v1/orders/{other}/ordernotes"))
        .await;
    assert!(none.is_empty(), "notes belong to their order");

    let deleted = client
        .delete(&format!("/api/rest/v1/ordernotes/{}", posted.id()))
        .await;
    assert_eq!(deleted.status, 204);
    assert!(client.all_items(&notes_uri).await.is_empty());
    let missing = client
        .post("/api/rest/v1/orders/1/ordernotes", &json!({"note": "x"}))
        .await;
    assert_eq!(missing.status, 404);
}

/// JDK `Orders/Patch/Patch.php`: `note` — "When the boolean 'mail' is set, the note will be
/// appended to the email which is send to the customer"; `mail` — "If TRUE, notify the customer
/// of the status change". The note is for the customer, not an internal note: without `mail` it
/// is no note at all, with `mail` it goes to the customer.
#[tokio::test]
async fn the_note_of_an_order_patch_is_for_the_customer_not_the_staff() {
    let (sim, client) = demo().await;
    let order = an_order(&client, sim.article("TB-MUG-01").unwrap().product_id).await;
    let uri = format!("/api/rest/v1/orders/{order}");
    let notes_uri = format!("{uri}/ordernotes");
    let patched = client
        .patch(&uri, &json!({"note": "Paid with PayPal"}))
        .await;
    assert_eq!(patched.status, 204, "{}", patched.text);
    assert!(
        client.all_items(&notes_uri).await.is_empty(),
        "a patched note is no internal note"
    );

    let mailed = client
        .patch(
            &uri,
            &json!({"status": 5, "mail": true, "note": "Thank you!"}),
        )
        .await;
    assert_eq!(mailed.status, 204, "{}", mailed.text);
    assert!(client.all_items(&notes_uri).await.is_empty());
    let state = sim.dump();
    let mails: &Vec<Value> = state["orders"][order.to_string()]["customer_mails"]
        .as_array()
        .unwrap();
    assert_eq!(mails.len(), 1, "one e-mail to the customer");
    assert!(
        mails[0].as_str().unwrap().ends_with("Thank you!"),
        "the note is appended to it: {mails:?}"
    );
}
