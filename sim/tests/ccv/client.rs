//! A small CCV client for the tests: signs every request as CCV documents, and can be told to
//! sign wrongly.

use std::time::Duration;

use serde_json::Value;
use tillbridge_sim::ccv::{CcvOptions, CcvSim, RateLimits, Seed, format_x_date, sign};
use tillbridge_sim::dataset::Dataset;

/// An answer: status, body, and the signature headers.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub text: String,
    pub body: Value,
    pub x_date: Option<String>,
    pub x_hash: Option<String>,
}

impl Answer {
    /// The error code of an error answer.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    /// The id of a created resource.
    pub fn id(&self) -> u64 {
        self.body["id"]
            .as_u64()
            .unwrap_or_else(|| panic!("no id in {}", self.text))
    }
}

/// How a request is signed.
#[derive(Debug, Clone)]
pub struct Signing {
    pub public_key: String,
    pub secret: String,
    /// `x-date`; none: the simulator's now.
    pub x_date: Option<String>,
}

pub struct Client {
    http: reqwest::Client,
    base_url: String,
    pub signing: Signing,
    /// The media type asked for (CCV's SDK: the webshop schemas unless told otherwise).
    pub accept: String,
    clock_offset: chrono::TimeDelta,
}

impl Client {
    pub fn new(sim: &CcvSim) -> Self {
        // reqwest is built without a TLS provider; plain HTTP still wants one installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Client {
            http: reqwest::Client::new(),
            base_url: sim.base_url().to_string(),
            signing: Signing {
                public_key: sim.public_key().to_string(),
                secret: sim.secret().to_string(),
                x_date: None,
            },
            accept: "application/vnd.verto.webshop+json".into(),
            clock_offset: sim.now() - chrono::Utc::now(),
        }
    }

    /// The path and query of a link the simulator gave (it signs those, not the host).
    pub fn uri_of<'a>(&self, href: &'a str) -> &'a str {
        href.strip_prefix(&self.base_url)
            .unwrap_or_else(|| panic!("{href} is not on {}", self.base_url))
    }

    pub async fn get(&self, uri: &str) -> Answer {
        self.send("GET", uri, "").await
    }

    pub async fn post(&self, uri: &str, body: &Value) -> Answer {
        self.send("POST", uri, &body.to_string()).await
    }

    pub async fn patch(&self, uri: &str, body: &Value) -> Answer {
        self.send("PATCH", uri, &body.to_string()).await
    }

    pub async fn put(&self, uri: &str, body: &Value) -> Answer {
        self.send("PUT", uri, &body.to_string()).await
    }

    pub async fn delete(&self, uri: &str) -> Answer {
        self.send("DELETE", uri, "").await
    }

    /// Sends `body` signed as it is.
    pub async fn send(&self, method: &str, uri: &str, body: &str) -> Answer {
        self.send_signed_as(method, uri, body, uri, body).await
    }

    /// Sends `body` to `uri` with a signature computed over `signed_uri` and `signed_body`.
    pub async fn send_signed_as(
        &self,
        method: &str,
        uri: &str,
        body: &str,
        signed_uri: &str,
        signed_body: &str,
    ) -> Answer {
        let s = &self.signing;
        let x_date = s
            .x_date
            .clone()
            .unwrap_or_else(|| format_x_date(self.now()));
        let x_hash = sign(
            &s.public_key,
            &s.secret,
            method,
            signed_uri,
            signed_body,
            &x_date,
        );
        self.raw(
            method,
            uri,
            body,
            &[
                ("x-public", &s.public_key),
                ("x-date", &x_date),
                ("x-hash", &x_hash),
            ],
        )
        .await
    }

    /// Sends a request with exactly these headers.
    pub async fn raw(
        &self,
        method: &str,
        uri: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .http
            .request(method, format!("{}{uri}", self.base_url))
            .header("accept", &self.accept)
            .timeout(Duration::from_secs(20));
        if !body.is_empty() {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the simulator answers");
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        let (x_date, x_hash) = (header("x-date"), header("x-hash"));
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            text,
            body,
            x_date,
            x_hash,
        }
    }

    /// The simulator's now: its clock runs at the real pace from where it was set.
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + self.clock_offset
    }

    /// Follows `next` from `uri` to the end; every item of every page.
    pub async fn all_items(&self, uri: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut next = Some(uri.to_string());
        while let Some(uri) = next {
            let page = self.get(&uri).await;
            assert_eq!(page.status, 200, "{}", page.text);
            items.extend(page.body["items"].as_array().unwrap().iter().cloned());
            next = page.body["next"]
                .as_str()
                .map(|href| self.uri_of(href).to_string());
        }
        items
    }
}

/// A simulator with the demo data and default limits.
pub async fn demo() -> (CcvSim, Client) {
    start(Seed::Dataset(Dataset::demo()), RateLimits::default()).await
}

/// An empty simulator.
pub async fn empty() -> (CcvSim, Client) {
    start(Seed::Empty, RateLimits::default()).await
}

pub async fn start(seed: Seed, rate_limits: RateLimits) -> (CcvSim, Client) {
    let sim = CcvSim::start(CcvOptions {
        seed,
        rate_limits,
        ..CcvOptions::default()
    })
    .await
    .expect("the simulator starts");
    let client = Client::new(&sim);
    (sim, client)
}

/// Creates a resource and returns its id, failing the test on anything but 201.
pub async fn create(client: &Client, uri: &str, body: Value) -> u64 {
    let answer = client.post(uri, &body).await;
    assert_eq!(answer.status, 201, "POST {uri}: {}", answer.text);
    answer.id()
}

/// The id of the shop's first package (`GET /packages`): products must name one of the shop's own.
pub async fn package(client: &Client) -> u64 {
    client.all_items("/api/rest/v1/packages").await[0]["id"]
        .as_u64()
        .expect("the shop has a package")
}
