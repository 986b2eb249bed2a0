//! The dashboard served in-process on a pair of simulators, and an HTTP client for it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap};
use tillbridge::dashboard;
use tillbridge::flows::Events;
use tillbridge::integration::Integration;
use tillbridge::scheduler::FlowLocks;
use tokio_util::sync::CancellationToken;

use crate::flows::harness::Pair;

/// The four flows of the default flows.toml, with `SCHEDULE` for a schedule, and a dashboard on
/// a free port of this machine.
const FLOWS: &str = r#"
[flows.categories]
kind = "categories"
source = "shop"
target = "pos"
schedule = "SCHEDULE"

[flows.products]
kind = "products"
source = "shop"
target = "pos"
schedule = "SCHEDULE"
settings = { options = { "Size" = "Size", "Colour" = "Colour" }, properties = { "Material" = "Material" } }

[flows.orders]
kind = "orders"
source = "shop"
target = "pos"
schedule = "SCHEDULE"
transforms = ["payment-map"]
settings = { payment_states = ["paid"] }

[flows.stock]
kind = "stock"
source = "pos"
target = "shop"
schedule = "SCHEDULE"

[dashboard]
listen = "127.0.0.1:0"
"#;

/// The four flows, each on `schedule`.
pub fn four_flows(schedule: &str) -> String {
    FLOWS.replace("SCHEDULE", schedule)
}

/// The demo shop with the four flows (scheduled once a year: they run when a test says).
pub async fn demo_pair() -> Pair {
    Pair::demo(&four_flows("0 0 1 1 *")).await
}

/// A dashboard being served, and a client for it.
pub struct Board {
    pub pair: Pair,
    pub url: String,
    pub token: String,
    pub locks: FlowLocks,
    pub integration: Arc<Integration>,
    shutdown: CancellationToken,
    http: reqwest::Client,
}

impl Board {
    /// Serves the dashboard of `pair`'s integration and state.
    pub async fn start(pair: Pair) -> Board {
        let integration = Arc::new(Integration::open(pair.integration.config.clone()).unwrap());
        let locks = FlowLocks::default();
        let shutdown = CancellationToken::new();
        let served = dashboard::serve(
            integration.clone(),
            pair.state.clone(),
            locks.clone(),
            shutdown.clone(),
            Events::default(),
            dashboard::Place::Own,
        )
        .await
        .unwrap();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap();
        Board {
            url: served.url.trim_end_matches('/').to_string(),
            token: served.token.clone(),
            pair,
            locks,
            integration,
            shutdown,
            http,
        }
    }

    /// A request without any credentials.
    pub async fn anonymous(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.http.get(format!("{}{path}", self.url));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Answer::of(request.send().await.unwrap()).await
    }

    /// A GET with the token.
    pub async fn get(&self, path: &str) -> Answer {
        self.anonymous(
            path,
            &[("authorization", &format!("Bearer {}", self.token))],
        )
        .await
    }

    /// A page's HTML, which must be there.
    pub async fn page(&self, path: &str) -> String {
        let answer = self.get(path).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
        answer.body
    }

    /// The CSRF token the dashboard's forms carry.
    pub async fn csrf(&self) -> String {
        let page = self.page("/").await;
        let marker = "name=\"csrf\" value=\"";
        let at = page.find(marker).expect("the overview has forms") + marker.len();
        page[at..].split('"').next().unwrap().to_string()
    }

    /// A form POST with the token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        Answer::of(response).await
    }

    /// Presses a button of a flow's or record's form, with the right CSRF token.
    pub async fn press(&self, action: &str, flow: &str, key: &str) -> Answer {
        let csrf = self.csrf().await;
        self.post(
            &format!("/actions/{action}"),
            &[("csrf", &csrf), ("flow", flow), ("key", key)],
        )
        .await
    }

    /// Waits until no run of `flow` is in flight (a run started by a button).
    pub async fn settled(&self, flow: &str) {
        let start = Instant::now();
        // The run takes the lock when it starts; give it the moment to.
        tokio::time::sleep(Duration::from_millis(100)).await;
        while self.locks.is_running(flow) {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{flow} did not end"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// An answer: status, headers and body.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    async fn of(response: reqwest::Response) -> Answer {
        Answer {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    /// A header's value, or "".
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}
