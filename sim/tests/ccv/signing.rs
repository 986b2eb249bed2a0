//! Requests are signed as CCV documents and checked strictly; answers are signed too.

use chrono::{TimeDelta, Utc};
use serde_json::json;
use tillbridge_sim::ccv::{format_x_date, sign};

use super::client::{Answer, Client, demo, package};

/// A product in `package` (refused requests never get as far as the package).
fn product(package: u64) -> serde_json::Value {
    json!({"name": "Signed mug", "productnumber": "SIGN-1", "price": 9.95, "discount": 0,
           "taxtariff": "normal", "package_id": package})
}

/// Whether an answer's `x-hash` is CCV's HMAC over `public|METHOD|uri|answer body|x-date`.
fn answer_signed(client: &Client, method: &str, uri: &str, answer: &Answer) -> bool {
    let (Some(x_date), Some(x_hash)) = (&answer.x_date, &answer.x_hash) else {
        return false;
    };
    let s = &client.signing;
    *x_hash == sign(&s.public_key, &s.secret, method, uri, &answer.text, x_date)
}

fn assert_refused(answer: &Answer, code: &str) {
    assert_eq!(answer.status, 401, "{}", answer.text);
    assert_eq!(answer.code(), code, "{}", answer.text);
    assert_eq!(answer.body["status"], 401);
    assert!(
        answer.body["developermessage"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}

#[tokio::test]
async fn correctly_signed_get_post_patch_and_query_pass_with_signed_answers() {
    let (_sim, client) = demo().await;

    let uri = "/api/rest/v1/products/?productnumber=TB-MUG-01&size=5";
    let found = client.get(uri).await;
    assert_eq!(found.status, 200, "{}", found.text);
    assert_eq!(found.body["items"][0]["productnumber"], "TB-MUG-01");
    assert_eq!(found.body["items"].as_array().unwrap().len(), 1);
    assert!(answer_signed(&client, "GET", uri, &found));

    let created = client
        .post("/api/rest/v1/products", &product(package(&client).await))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert!(answer_signed(
        &client,
        "POST",
        "/api/rest/v1/products",
        &created
    ));

    let item = format!("/api/rest/v1/products/{}", created.id());
    let patched = client.patch(&item, &json!({"price": 10.5})).await;
    assert_eq!(patched.status, 204, "{}", patched.text);
    assert!(answer_signed(&client, "PATCH", &item, &patched));
    assert_eq!(client.get(&item).await.body["price"], 10.5);
}

#[tokio::test]
async fn answer_signatures_cover_the_uri_and_body() {
    let (_sim, client) = demo().await;
    let answer = client.get("/api/rest/v1/paymethods").await;
    assert!(answer_signed(
        &client,
        "GET",
        "/api/rest/v1/paymethods",
        &answer
    ));
    assert!(!answer_signed(
        &client,
        "GET",
        "/api/rest/v1/paymethods/",
        &answer
    ));
    let tampered = Answer {
        text: answer.text.replacen("iDEAL", "iDEAl", 1),
        ..answer
    };
    assert!(!answer_signed(
        &client,
        "GET",
        "/api/rest/v1/paymethods",
        &tampered
    ));
}

#[tokio::test]
async fn a_wrong_secret_is_refused() {
    let (_sim, mut client) = demo().await;
    client.signing.secret = "not-the-secret".into();
    assert_refused(&client.get("/api/rest/v1/products").await, "401.30");
    let refused = client.post("/api/rest/v1/products", &product(0)).await;
    assert_refused(&refused, "401.30");
}

#[tokio::test]
async fn an_unknown_public_key_or_missing_headers_are_refused() {
    let (_sim, mut client) = demo().await;
    let bare = client.raw("GET", "/api/rest/v1/products", "", &[]).await;
    assert_refused(&bare, "401.10");
    client.signing.public_key = "someone-else".into();
    assert_refused(&client.get("/api/rest/v1/products").await, "401.10");
}

#[tokio::test]
async fn a_stale_date_is_refused_and_one_within_five_minutes_passes() {
    let (sim, mut client) = demo().await;
    client.signing.x_date = Some(format_x_date(sim.now() - TimeDelta::seconds(330)));
    assert_refused(&client.get("/api/rest/v1/products").await, "401.20");
    client.signing.x_date = Some(format_x_date(sim.now() + TimeDelta::seconds(330)));
    assert_refused(&client.get("/api/rest/v1/products").await, "401.20");
    client.signing.x_date = Some(format_x_date(sim.now() - TimeDelta::seconds(240)));
    assert_eq!(client.get("/api/rest/v1/products").await.status, 200);
}

#[tokio::test]
async fn the_documented_date_formats_pass_and_others_are_refused() {
    let (sim, mut client) = demo().await;
    let now = sim.now();
    for format in [
        "%Y-%m-%dT%H:%M:%SZ",
        "%Y-%m-%dT%H:%M:%S+00:00",
        "%Y-%m-%dT%H:%M:%S+0000",
    ] {
        client.signing.x_date = Some(now.format(format).to_string());
        let answer = client.get("/api/rest/v1/webshops").await;
        assert_eq!(answer.status, 200, "{format}: {}", answer.text);
    }
    client.signing.x_date = Some(now.to_rfc2822());
    assert_refused(&client.get("/api/rest/v1/webshops").await, "401.20");
}

#[tokio::test]
async fn a_body_one_byte_off_the_signed_one_is_refused_and_nothing_is_written() {
    let (sim, client) = demo().await;
    let signed = product(package(&client).await).to_string();
    let sent = signed.replace("9.95", "9.96");
    assert_eq!(signed.len(), sent.len());
    let refused = client
        .send_signed_as(
            "POST",
            "/api/rest/v1/products",
            &sent,
            "/api/rest/v1/products",
            &signed,
        )
        .await;
    assert_refused(&refused, "401.30");
    let dump = sim.dump();
    let numbers: Vec<_> = dump["products"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p["productnumber"].as_str().unwrap())
        .collect();
    assert!(!numbers.contains(&"SIGN-1"), "nothing was created");
}

#[tokio::test]
async fn the_query_string_and_method_are_part_of_the_signature() {
    let (_sim, client) = demo().await;
    let refused = client
        .send_signed_as(
            "GET",
            "/api/rest/v1/products?size=1",
            "",
            "/api/rest/v1/products",
            "",
        )
        .await;
    assert_refused(&refused, "401.30");
    // Signed for GET, sent as DELETE.
    let s = &client.signing;
    let x_date = format_x_date(Utc::now());
    let x_hash = sign(
        &s.public_key,
        &s.secret,
        "GET",
        "/api/rest/v1/users/1",
        "",
        &x_date,
    );
    let headers = [
        ("x-public", s.public_key.as_str()),
        ("x-date", &x_date),
        ("x-hash", &x_hash),
    ];
    let refused = client
        .raw("DELETE", "/api/rest/v1/users/1", "", &headers)
        .await;
    assert_refused(&refused, "401.30");
}

#[tokio::test]
async fn an_uppercase_hash_is_refused() {
    let (_sim, client) = demo().await;
    let s = &client.signing;
    let x_date = format_x_date(Utc::now());
    let x_hash = sign(
        &s.public_key,
        &s.secret,
        "GET",
        "/api/rest/v1/",
        "",
        &x_date,
    );
    let upper = x_hash.to_uppercase();
    let ok = client
        .raw(
            "GET",
            "/api/rest/v1/",
            "",
            &[
                ("x-public", &s.public_key),
                ("x-date", &x_date),
                ("x-hash", &x_hash),
            ],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let refused = client
        .raw(
            "GET",
            "/api/rest/v1/",
            "",
            &[
                ("x-public", &s.public_key),
                ("x-date", &x_date),
                ("x-hash", &upper),
            ],
        )
        .await;
    assert_refused(&refused, "401.30");
}
