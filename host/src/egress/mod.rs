//! Egress: every outgoing request of every plugin goes through here. The plugin's allowed hosts
//! are enforced, timeouts are clamped, redirects are not followed (a redirect could leave the
//! allowed hosts), answers are size-limited, and every exchange is logged.

mod allow;

use std::time::{Duration, Instant};

use anyhow::Result;
use url::Url;

pub use allow::AllowList;

use crate::runtime::bindings::tillbridge::plugin::http::{HttpError, Method, Request, Response};

/// What one plugin (for one connection) may do on the network.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Who is asking, for log lines: "shopware@shop".
    pub caller: String,
    /// Where it may go.
    pub allowed: AllowList,
    /// The timeout when the plugin gives none.
    pub default_timeout: Duration,
}

/// The HTTP client all plugins share.
#[derive(Debug, Clone)]
pub struct Egress {
    client: reqwest::Client,
    max_timeout: Duration,
    max_body: usize,
}

impl Egress {
    /// The longest a plugin may wait for one answer.
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(120);
    /// The largest answer a plugin gets.
    pub const MAX_BODY: usize = 64 << 20;

    /// A client with TLS (rustls, with the platform's root certificates).
    pub fn new() -> Result<Self> {
        // Installing twice is harmless; the first provider wins.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("tillbridge/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Egress {
            client,
            max_timeout: Self::MAX_TIMEOUT,
            max_body: Self::MAX_BODY,
        })
    }

    /// Sends a plugin's request if its policy allows it.
    pub async fn send(&self, policy: &Policy, request: Request) -> Result<Response, HttpError> {
        let url = Url::parse(&request.url)
            .map_err(|e| HttpError::Denied(format!("{:?} is not a URL: {e}", request.url)))?;
        if !policy.allowed.allows(&url) {
            let host = url.host_str().unwrap_or("?");
            tracing::warn!(plugin = %policy.caller, url = %redact(&url), "request denied: {host} is not an allowed host");
            return Err(HttpError::Denied(format!(
                "{} is not among the allowed hosts ({}); add it to `allowed_hosts` in flows.toml if it should be",
                AllowList::entry_for(url.as_str()).unwrap_or_else(|| host.to_string()),
                policy.allowed.describe().join(", ")
            )));
        }
        let timeout = request
            .timeout_ms
            .map_or(policy.default_timeout, |ms| {
                Duration::from_millis(u64::from(ms))
            })
            .min(self.max_timeout);
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Head => reqwest::Method::HEAD,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self
            .client
            .request(method.clone(), url.clone())
            .timeout(timeout);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let started = Instant::now();
        let answer = builder
            .body(request.body)
            .send()
            .await
            .map_err(|e| classify(&e, timeout))?;
        let status = answer.status().as_u16();
        let headers = answer
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = self.read_body(answer, timeout).await?;
        tracing::debug!(
            plugin = %policy.caller,
            operation = request.operation.as_deref().unwrap_or(""),
            "{method} {} → {status} in {} ms ({} bytes)",
            redact(&url),
            started.elapsed().as_millis(),
            body.len()
        );
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    async fn read_body(
        &self,
        mut answer: reqwest::Response,
        timeout: Duration,
    ) -> Result<Vec<u8>, HttpError> {
        let mut body = Vec::new();
        while let Some(chunk) = answer.chunk().await.map_err(|e| classify(&e, timeout))? {
            if body.len() + chunk.len() > self.max_body {
                return Err(HttpError::Unreachable(format!(
                    "the answer is larger than {} MiB; ask for smaller pages",
                    self.max_body >> 20
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn classify(e: &reqwest::Error, timeout: Duration) -> HttpError {
    if e.is_timeout() {
        HttpError::Timeout(format!("no answer within {} ms", timeout.as_millis()))
    } else {
        HttpError::Unreachable(format!("{e}"))
    }
}

/// A URL for log lines: without user info and query values (which may hold personal data or
/// keys).
fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    if url.query().is_some() {
        let keys: Vec<String> = url.query_pairs().map(|(k, _)| format!("{k}=…")).collect();
        shown.set_query(Some(&keys.join("&")));
    }
    shown.to_string()
}
