//! Egress: every outgoing request of every plugin goes through here. The plugin's allowed hosts
//! are enforced, requests are paced under the connection's rate limits, idempotent requests are
//! sent again after passing failures (with back-off, honouring `Retry-After`), timeouts are
//! clamped, redirects are not followed (a redirect could leave the allowed hosts), answers are
//! size-limited, and every exchange is logged.

mod allow;
mod limits;
mod pace;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use url::Url;

pub use allow::AllowList;
pub use limits::{Allowance, Pattern};
pub use pace::{Declared, OperationLimit, Pacer, RateLimits};

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
    /// The connection's pacer, when it has rate limits.
    pub pacer: Option<Arc<Pacer>>,
}

/// How often an idempotent request is sent again after a passing failure.
const MAX_RETRIES: u32 = 4;
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A request is never sent again later than this after the plugin made it: a signed request
/// (CCV signs a timestamp valid for five minutes) must not go out stale. After that the plugin
/// gets the failure and makes a fresh request.
const RESEND_WINDOW: Duration = Duration::from_secs(60);

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

    /// Sends a plugin's request if its policy allows it: paced, and sent again after passing
    /// failures when it is idempotent.
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
        let method = http_method(request.method);
        let method = method.as_str();
        let operation = request
            .operation
            .clone()
            .unwrap_or_else(|| format!("{method} {}", url.path()));
        let made = Instant::now();
        let mut attempt = 0;
        loop {
            if let Some(pacer) = &policy.pacer {
                pacer.ready(method, &operation).await;
            }
            let answer = self.send_once(policy, &url, &request).await;
            match retry_delay(&answer, request.idempotent, attempt, made.elapsed()) {
                Some(delay) => {
                    tracing::info!(plugin = %policy.caller, %operation, "{}; trying again in {} ms", failure(&answer), delay.as_millis());
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                None => return answer,
            }
        }
    }

    async fn send_once(
        &self,
        policy: &Policy,
        url: &Url,
        request: &Request,
    ) -> Result<Response, HttpError> {
        let timeout = request
            .timeout_ms
            .map_or(policy.default_timeout, |ms| {
                Duration::from_millis(u64::from(ms))
            })
            .min(self.max_timeout);
        let method = http_method(request.method);
        let mut builder = self
            .client
            .request(method.clone(), url.clone())
            .timeout(timeout);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let started = Instant::now();
        let answer = builder
            .body(request.body.clone())
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
            redact(url),
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

/// The request's method for reqwest (and, as `as_str`, for the pacer's patterns).
/// The method as HTTP names it.
pub(crate) fn http_method(method: Method) -> reqwest::Method {
    match method {
        Method::Get => reqwest::Method::GET,
        Method::Head => reqwest::Method::HEAD,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
    }
}

/// How long to wait before sending an idempotent request again, or `None` to give the answer to
/// the plugin as it is.
fn retry_delay(
    answer: &Result<Response, HttpError>,
    idempotent: bool,
    attempt: u32,
    elapsed: Duration,
) -> Option<Duration> {
    if !idempotent || attempt >= MAX_RETRIES {
        return None;
    }
    let delay = match answer {
        Err(HttpError::Denied(_)) => return None,
        Err(HttpError::Timeout(_) | HttpError::Unreachable(_)) => backoff(attempt),
        Ok(response) if matches!(response.status, 429 | 500 | 502 | 503 | 504) => {
            match retry_after(response) {
                // A wait longer than the host would hold a request is the plugin's to decide: it gets
                // the answer at once (with the Retry-After in it) instead of a stale resend later.
                Some(asked) if asked > MAX_BACKOFF => return None,
                Some(asked) => asked,
                None => backoff(attempt),
            }
        }
        Ok(_) => return None,
    };
    (elapsed + delay <= RESEND_WINDOW).then_some(delay)
}

/// Exponential back-off with jitter: 0.5 s, 1 s, 2 s, … (each between half and all of it).
fn backoff(attempt: u32) -> Duration {
    use rand::RngExt;
    let full = Duration::from_millis(500)
        .saturating_mul(1 << attempt.min(10))
        .min(MAX_BACKOFF);
    full.mul_f64(rand::rng().random_range(0.5..=1.0))
}

/// `Retry-After` in seconds, as Shopware sends it.
fn retry_after(response: &Response) -> Option<Duration> {
    let (_, value) = response
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("retry-after"))?;
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| *s >= 0.0)
        .map(Duration::from_secs_f64)
}

fn failure(answer: &Result<Response, HttpError>) -> String {
    match answer {
        Ok(response) => format!("HTTP {}", response.status),
        Err(HttpError::Timeout(m) | HttpError::Unreachable(m) | HttpError::Denied(m)) => m.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, retry_after: Option<&str>) -> Result<Response, HttpError> {
        let headers = retry_after
            .map(|v| vec![("Retry-After".to_string(), v.to_string())])
            .unwrap_or_default();
        Ok(Response {
            status,
            headers,
            body: Vec::new(),
        })
    }

    #[test]
    fn only_idempotent_requests_after_passing_failures_are_sent_again() {
        let second = Duration::from_secs(1);
        assert!(retry_delay(&answer(503, None), true, 0, second).is_some());
        assert_eq!(
            retry_delay(&answer(503, None), false, 0, second),
            None,
            "not idempotent"
        );
        assert_eq!(
            retry_delay(&answer(400, None), true, 0, second),
            None,
            "not passing"
        );
        assert_eq!(retry_delay(&answer(200, None), true, 0, second), None);
        assert_eq!(
            retry_delay(&Err(HttpError::Denied("x".into())), true, 0, second),
            None
        );
        assert!(retry_delay(&Err(HttpError::Timeout("x".into())), true, 0, second).is_some());
        assert_eq!(
            retry_delay(&answer(503, None), true, MAX_RETRIES, second),
            None,
            "bounded attempts"
        );
    }

    #[test]
    fn retry_after_is_honoured_within_the_resend_window() {
        let second = Duration::from_secs(1);
        assert_eq!(
            retry_delay(&answer(429, Some("3")), true, 0, second),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_delay(&answer(429, Some("3")), true, 0, Duration::from_secs(58)),
            None,
            "would go out stale"
        );
    }

    #[test]
    fn backoff_grows_with_jitter() {
        for attempt in 0..4 {
            let full = Duration::from_millis(500 << attempt);
            let delay = backoff(attempt);
            assert!(delay >= full / 2 && delay <= full, "{attempt}: {delay:?}");
        }
    }
}
