//! Egress: every outgoing request of every plugin goes through here. The plugin's allowed origins
//! are enforced (scheme, host and port exact; every resolved address checked, see [`resolve`]),
//! the host sets `Host` and the connection-level headers, requests are paced under the
//! connection's rate limits, idempotent requests are sent again after passing failures (with back-off, honouring `Retry-After`), timeouts are
//! clamped, redirects are not followed (a redirect could leave the allowed hosts), answers are
//! size-limited, and every exchange is logged.

mod allow;
mod limits;
mod pace;
mod resolve;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use url::Url;

pub use allow::AllowList;
pub use limits::{Allowance, Pattern};
pub use pace::{Declared, OperationLimit, Pacer, RateLimits};
pub use resolve::is_public;
use resolve::{Refused, Resolver};

use crate::metrics::SystemMetrics;
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
    /// Where requests, their statuses and the time waited for limits are counted.
    pub metrics: Option<SystemMetrics>,
}

/// How often one request is sent at most, the first time included. Egress alone sends a request
/// again (an idempotent one, after a 5xx, a 429, a timeout or no connection, with jittered
/// back-off or as `Retry-After` asks): connectors and flows do not, so one call of a plugin
/// reaches the system at most this many times. A record whose request still fails is tried again
/// on a later run.
pub const MAX_ATTEMPTS: u32 = 5;
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A request is never sent again later than this after the plugin made it: a signed request
/// (CCV signs a timestamp valid for five minutes) must not go out stale. After that the plugin
/// gets the failure and makes a fresh request.
const RESEND_WINDOW: Duration = Duration::from_secs(60);

/// Headers about the connection rather than the request: the host sets them (`Host` from the
/// URL, the length from the body) and a plugin may not, so that it cannot reach another virtual
/// host than the one granted or smuggle a second request into the connection.
const HOST_HEADERS: [&str; 10] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
];

/// The HTTP clients all plugins share.
#[derive(Debug, Clone)]
pub struct Egress {
    /// For grants whose names must resolve to public addresses.
    public: reqwest::Client,
    /// For grants with `private_network`.
    private: reqwest::Client,
    max_timeout: Duration,
    max_body: usize,
}

impl Egress {
    /// The longest a plugin may wait for one answer.
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(120);
    /// The largest answer a plugin gets.
    pub const MAX_BODY: usize = 64 << 20;

    /// Clients with TLS (rustls, with the platform's root certificates).
    pub fn new() -> Result<Self> {
        Self::resolving_with(Resolver::new(false), Resolver::new(true))
    }

    fn resolving_with(public: Resolver, private: Resolver) -> Result<Self> {
        // Installing twice is harmless; the first provider wins.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // No proxy: the host must resolve each name itself to check where it goes.
        let client = |resolver: Resolver| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .dns_resolver(resolver)
                .connect_timeout(Duration::from_secs(10))
                .user_agent(concat!("tillbridge/", env!("CARGO_PKG_VERSION")))
                .build()
        };
        Ok(Egress {
            public: client(public)?,
            private: client(private)?,
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
        if let Some((name, _)) = request
            .headers
            .iter()
            .find(|(name, _)| HOST_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
        {
            tracing::warn!(plugin = %policy.caller, url = %redact(&url), "request denied: it sets {name}");
            return Err(HttpError::Denied(format!(
                "a plugin may not set the {name} header: the host sets it from the URL and the body"
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
                let waiting = Instant::now();
                pacer.ready(method, &operation).await;
                if let Some(metrics) = &policy.metrics {
                    metrics.waited(waiting.elapsed());
                }
            }
            let sent = self.send_once(policy, &url, &request).await;
            if let Some(metrics) = &policy.metrics {
                // the plugin's label, else the method alone: a path may carry ids
                let label = request.operation.as_deref().unwrap_or(method);
                match &sent {
                    Ok(response) => metrics.request(label, Ok(response.status)),
                    Err(Failed::Passing(e) | Failed::Final(e)) => {
                        metrics.request(label, Err(unanswered(e)))
                    }
                }
            }
            let answer = match sent {
                Ok(response) => Ok(response),
                Err(Failed::Passing(error)) => Err(error),
                Err(Failed::Final(error)) => return Err(error),
            };
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
    ) -> Result<Response, Failed> {
        let timeout = request
            .timeout_ms
            .map_or(policy.default_timeout, |ms| {
                Duration::from_millis(u64::from(ms))
            })
            .min(self.max_timeout);
        let method = http_method(request.method);
        let client = if policy.allowed.private_network() {
            &self.private
        } else {
            &self.public
        };
        let mut builder = client.request(method.clone(), url.clone()).timeout(timeout);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let started = Instant::now();
        let answer = builder
            .body(request.body.clone())
            .send()
            .await
            .map_err(|e| Failed::Passing(classify(&e, timeout)))?;
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

    /// The body, read as it streams in and given up at the size cap (or at the request's
    /// deadline, which counts from the start of the request, not per read): memory and time stay
    /// bounded whatever the server sends.
    async fn read_body(
        &self,
        mut answer: reqwest::Response,
        timeout: Duration,
    ) -> Result<Vec<u8>, Failed> {
        let too_large = || {
            Failed::Final(HttpError::Unreachable(format!(
                "the answer is larger than {} MiB; ask for smaller pages",
                self.max_body >> 20
            )))
        };
        if answer
            .content_length()
            .is_some_and(|length| length > self.max_body as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = answer
            .chunk()
            .await
            .map_err(|e| Failed::Passing(classify(&e, timeout)))?
        {
            if body.len() + chunk.len() > self.max_body {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// Why an attempt brought no answer.
enum Failed {
    /// One another attempt may not meet (a timeout, a dropped connection).
    Passing(HttpError),
    /// One every attempt would meet (an answer over the size cap): never sent again.
    Final(HttpError),
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
    if !idempotent || attempt + 1 >= MAX_ATTEMPTS {
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

/// Why a request had no answer, in words free of URLs and data (for `/readyz`).
fn unanswered(error: &HttpError) -> &'static str {
    match error {
        HttpError::Timeout(_) => "no answer in time",
        HttpError::Unreachable(_) => "the connection failed",
        HttpError::Denied(_) => "the host refused to send the request",
    }
}

fn failure(answer: &Result<Response, HttpError>) -> String {
    match answer {
        Ok(response) => format!("HTTP {}", response.status),
        Err(HttpError::Timeout(m) | HttpError::Unreachable(m) | HttpError::Denied(m)) => m.clone(),
    }
}

fn classify(e: &reqwest::Error, timeout: Duration) -> HttpError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(error) = source {
        if let Some(refused) = error.downcast_ref::<Refused>() {
            return HttpError::Denied(refused.to_string());
        }
        source = error.source();
    }
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
mod tests;

#[cfg(test)]
mod delays {
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
            retry_delay(&answer(503, None), true, MAX_ATTEMPTS - 1, second),
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
