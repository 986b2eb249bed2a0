//! A small Admin API client for the tests: logs in with the integration's credentials and
//! sends `Accept: application/json` unless a test asks for JSON:API.

use std::sync::Once;

use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tillbridge_sim::dataset::{self, Dataset};
pub use tillbridge_sim::shopware::{ApiVersion, Seed, ShopwareOptions, ShopwareSim, keys};

/// A response: status, headers and the body as JSON (null when empty or not JSON).
#[derive(Debug)]
pub struct Res {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Res {
    async fn from(response: reqwest::Response) -> Res {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body read");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Res {
            status,
            headers,
            body,
        }
    }

    /// The header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `errors[0].code`.
    pub fn code(&self) -> &str {
        self.body["errors"][0]["code"].as_str().unwrap_or_default()
    }

    /// `errors[0].source.pointer`.
    pub fn pointer(&self) -> &str {
        self.body["errors"][0]["source"]["pointer"]
            .as_str()
            .unwrap_or_default()
    }

    /// The ids in `data` of a plain JSON list.
    pub fn ids(&self) -> Vec<String> {
        self.body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["id"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

/// An authenticated client.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
    headers: Vec<(String, String)>,
}

fn http() -> reqwest::Client {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::new()
}

/// Starts a simulator of `version` with `seed`.
pub async fn start(version: ApiVersion, seed: Seed) -> ShopwareSim {
    ShopwareSim::start(ShopwareOptions {
        api_version: version,
        seed,
        ..ShopwareOptions::default()
    })
    .await
    .expect("simulator starts")
}

/// The demo shop on `version` and a logged-in client.
pub async fn demo(version: ApiVersion) -> (ShopwareSim, Api) {
    let sim = start(version, Seed::Dataset(Dataset::demo())).await;
    let api = Api::login(&sim).await;
    (sim, api)
}

impl Api {
    /// A client without a token.
    pub fn anonymous(sim: &ShopwareSim) -> Api {
        Api {
            http: http(),
            base: sim.base_url().to_string(),
            token: None,
            headers: vec![("accept".into(), "application/json".into())],
        }
    }

    /// A client logged in with the demo integration's credentials.
    pub async fn login(sim: &ShopwareSim) -> Api {
        let mut api = Api::anonymous(sim);
        let res = api
            .post(
                "/api/oauth/token",
                json!({"grant_type": "client_credentials", "client_id": dataset::SHOPWARE_CLIENT_ID, "client_secret": dataset::SHOPWARE_CLIENT_SECRET}),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.body);
        api.token = Some(res.body["access_token"].as_str().unwrap().to_string());
        api
    }

    /// The same client with one more header.
    pub fn with(&self, name: &str, value: &str) -> Api {
        let mut api = self.clone();
        api.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        api.headers.push((name.to_string(), value.to_string()));
        api
    }

    /// The same client asking for JSON:API.
    pub fn json_api(&self) -> Api {
        self.with("accept", "application/vnd.api+json")
    }

    /// Sends a request; `body` null sends none.
    pub async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> Res {
        let mut request = self.http.request(method, format!("{}{}", self.base, path));
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if !body.is_null() {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        Res::from(request.send().await.expect("request sent")).await
    }

    /// Sends `body` as it is, with this content type.
    pub async fn send_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: &str,
        body: String,
    ) -> Res {
        let mut request = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .header("content-type", content_type)
            .body(body);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        Res::from(request.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str) -> Res {
        self.send(reqwest::Method::GET, path, Value::Null).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Res {
        self.send(reqwest::Method::POST, path, body).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Res {
        self.send(reqwest::Method::PATCH, path, body).await
    }

    pub async fn delete(&self, path: &str) -> Res {
        self.send(reqwest::Method::DELETE, path, Value::Null).await
    }

    /// `POST /api/search/{entity}` (entity as in the route: `order-line-item`).
    pub async fn search(&self, entity: &str, criteria: Value) -> Res {
        self.post(&format!("/api/search/{entity}"), criteria).await
    }

    /// `POST /api/_action/sync`.
    pub async fn sync(&self, operations: Value) -> Res {
        self.post("/api/_action/sync", operations).await
    }

    /// The one entity a search finds (panics otherwise).
    pub async fn one(&self, entity: &str, criteria: Value) -> Value {
        let res = self.search(entity, criteria).await;
        assert_eq!(res.status, 200, "{}", res.body);
        assert_eq!(
            res.body["data"].as_array().map(Vec::len),
            Some(1),
            "{}",
            res.body
        );
        res.body["data"][0].clone()
    }

    /// A product by number, as plain JSON.
    pub async fn product(&self, number: &str) -> Value {
        self.one(
            "product",
            json!({"filter": [{"type": "equals", "field": "productNumber", "value": number}]}),
        )
        .await
    }
}

/// The order numbers of a search's `data`, in its order.
pub fn numbers(res: &Res) -> Vec<String> {
    res.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["orderNumber"].as_str().unwrap().to_string())
        .collect()
}

/// The demo customer Ada Jansen.
pub fn ada() -> dataset::Customer {
    Dataset::demo()
        .customers
        .into_iter()
        .find(|c| c.email == "ada.jansen@example.nl")
        .expect("demo customer")
}

/// Every version.
pub const VERSIONS: [ApiVersion; 3] = [ApiVersion::V6_4, ApiVersion::V6_6, ApiVersion::V6_7];
