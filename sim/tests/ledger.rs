//! The ledger example API through HTTP, as a third-party connector meets it.

use std::time::Duration;

use serde_json::{Value, json};
use tillbridge_sim::ledger::{LEDGER_TOKEN, LedgerOptions, LedgerSim, RateLimit};

/// An answer: status, `Retry-After`, body.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    fn new(sim: &LedgerSim) -> Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Client {
            http: reqwest::Client::new(),
            base: sim.base_url().to_string(),
            token: LEDGER_TOKEN.to_string(),
        }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string());
        let body = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
        Answer {
            status,
            retry_after,
            body,
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
}

async fn ledger() -> (LedgerSim, Client) {
    let sim = LedgerSim::start(LedgerOptions::default()).await.unwrap();
    let client = Client::new(&sim);
    (sim, client)
}

fn skus(answer: &Answer) -> Vec<String> {
    answer.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn every_request_needs_the_bearer_token() {
    let (sim, mut client) = ledger().await;
    client.token = "wrong".into();
    let answer = client.get("/products").await;
    assert_eq!(answer.status, 401);
    assert!(answer.body["error"].as_str().unwrap().contains("bearer"));
    assert!(sim.products().is_empty());
}

#[tokio::test]
async fn pages_follow_the_cursor_to_the_end_each_record_once() {
    let (sim, client) = ledger().await;
    sim.add_products("P", 5).unwrap();
    let mut seen = Vec::new();
    let mut path = "/products?limit=2".to_string();
    loop {
        let page = client.get(&path).await;
        assert_eq!(page.status, 200);
        seen.extend(skus(&page));
        match page.body["next"].as_str() {
            Some(next) => path = format!("/products?limit=2&after={next}"),
            None => break,
        }
    }
    assert_eq!(seen, ["P-0001", "P-0002", "P-0003", "P-0004", "P-0005"]);
    assert_eq!(
        client.get("/products").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        5,
        "default limit 25"
    );
    assert_eq!(client.get("/products?limit=101").await.status, 400);
    assert_eq!(client.get("/products?after=not-a-cursor").await.status, 400);
    let by_sku = client.get("/products?sku=P-0004,P-0002,NOPE").await;
    assert_eq!(skus(&by_sku), ["P-0002", "P-0004"]);
}

#[tokio::test]
async fn an_invalid_record_is_refused_naming_its_field() {
    let (sim, client) = ledger().await;
    sim.add_product("MUG", "Mug", "12.95", 3).unwrap();
    let cases = [
        (json!({ "sku": "", "name": "X", "price": "1.00" }), "sku"),
        (json!({ "sku": "A", "name": " ", "price": "1.00" }), "name"),
        (json!({ "sku": "A", "name": "X", "price": 1.5 }), "price"),
        (json!({ "sku": "A", "name": "X", "price": "1,50" }), "price"),
        (json!({ "sku": "MUG", "name": "X", "price": "1.00" }), "sku"),
    ];
    for (body, field) in cases {
        let answer = client.post("/products", body.clone()).await;
        assert_eq!(answer.status, 422, "{body}");
        assert_eq!(answer.body["errors"][0]["field"], field, "{body}");
    }
    assert_eq!(sim.products().len(), 1, "nothing invalid was kept");
}

#[tokio::test]
async fn a_second_post_with_one_reference_makes_a_second_order() {
    let (sim, client) = ledger().await;
    sim.add_product("MUG", "Mug", "12.95", 3).unwrap();
    let customer = sim.add_customer("Ada@Example.nl", "Ada").unwrap();
    let order = json!({ "reference": "10001", "customer_id": customer.id,
                        "lines": [{ "sku": "MUG", "quantity": 2, "unit_price": "12.95" }] });
    let first = client.post("/orders", order.clone()).await;
    let second = client.post("/orders", order).await;
    assert_eq!((first.status, second.status), (201, 201));
    assert_ne!(first.body["id"], second.body["id"]);
    assert_eq!(first.body["total"], "25.90");
    assert_eq!(sim.orders_with_reference("10001").len(), 2);
    let found = client.get("/orders?reference=10001").await;
    assert_eq!(found.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        sim.stock("MUG").unwrap().reserved,
        4,
        "each order reserves its articles"
    );
    let unknown_line = client
        .post("/orders", json!({ "reference": "10002", "customer_id": customer.id,
                                 "lines": [{ "sku": "NOPE", "quantity": 1, "unit_price": "1.00" }] }))
        .await;
    assert_eq!(unknown_line.status, 422);
    assert_eq!(unknown_line.body["errors"][0]["field"], "lines/0/sku");
    let by_email = client.get("/customers?email=ada@EXAMPLE.nl").await;
    assert_eq!(
        by_email.body["items"][0]["id"],
        customer.id.as_str(),
        "e-mail found case-insensitively"
    );
}

#[tokio::test]
async fn a_lost_answer_keeps_the_write() {
    let (sim, client) = ledger().await;
    sim.lose_answers("POST", "/customers", 1);
    let lost = client
        .post("/customers", json!({ "email": "a@x.nl", "name": "A" }))
        .await;
    assert_eq!(lost.status, 500);
    assert_eq!(
        sim.customers().len(),
        1,
        "the write happened though the answer was an error"
    );
    let next = client
        .post("/customers", json!({ "email": "b@x.nl", "name": "B" }))
        .await;
    assert_eq!(next.status, 201, "the rule hit once");
}

#[tokio::test]
async fn over_the_rate_limit_it_answers_429_with_retry_after() {
    let sim = LedgerSim::start(LedgerOptions {
        rate_limit: Some(RateLimit {
            requests: 2,
            window: Duration::from_secs(30),
        }),
        ..LedgerOptions::default()
    })
    .await
    .unwrap();
    let client = Client::new(&sim);
    assert_eq!(client.get("/stock").await.status, 200);
    assert_eq!(client.get("/stock").await.status, 200);
    let refused = client.get("/stock").await;
    assert_eq!(refused.status, 429);
    let wait: u64 = refused.retry_after.unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
}

#[tokio::test]
async fn stock_is_set_by_sku_and_shows_on_the_product() {
    let (sim, client) = ledger().await;
    sim.add_product("MUG", "Mug", "12.95", 3).unwrap();
    let set = client
        .send(
            reqwest::Method::PUT,
            "/stock/MUG",
            Some(json!({ "on_hand": 9 })),
        )
        .await;
    assert_eq!(set.status, 200);
    assert_eq!(set.body["on_hand"], 9);
    assert_eq!(
        client.get("/products?sku=MUG").await.body["items"][0]["stock"],
        9
    );
    let missing = client
        .send(
            reqwest::Method::PUT,
            "/stock/NOPE",
            Some(json!({ "on_hand": 1 })),
        )
        .await;
    assert_eq!(missing.status, 404);
}
