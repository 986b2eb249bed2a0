//! A native stand-in for the host, so that a plugin's logic runs under plain `cargo test`.
//!
//! Compiled for anything but WASM, the SDK's `http`, `log`, `config`, `clock` and `kv` modules
//! (same names and signatures as the host's imports) answer from here: canned HTTP responses by
//! method and URL, every request recorded, an in-memory key-value store, a fixed clock, settings
//! and secrets, and the log lines captured. The state belongs to the current thread, so tests
//! running in parallel do not see each other's; [`reset`] starts a test afresh.
//!
//! ```ignore
//! use tillbridge_sdk::{http::Method, mock};
//!
//! mock::reset();
//! mock::set_settings(&serde_json::json!({ "base_url": "https://ledger.example" }));
//! mock::set_secret("token", "t0k3n");
//! mock::respond(Method::Get, "https://ledger.example/products?limit=100",
//!     mock::json(200, &serde_json::json!({ "items": [], "next": null })));
//! // … call the connector's own functions …
//! assert_eq!(mock::requests().len(), 1);
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use serde::Serialize;

use crate::bindings::tillbridge::plugin::http::{HttpError, Method, Request, Response};
use crate::bindings::tillbridge::plugin::log::Level;

/// Where the fixed clock starts after [`reset`]: 2026-01-01T00:00:00Z.
pub const START: &str = "2026-01-01T00:00:00Z";

/// One canned answer to requests of one method and URL.
struct Canned {
    method: Method,
    url: String,
    answers: Vec<Result<Response, HttpError>>,
}

struct Host {
    canned: Vec<Canned>,
    requests: Vec<Request>,
    kv: BTreeMap<String, String>,
    now: chrono::DateTime<chrono::Utc>,
    settings: String,
    secrets: BTreeMap<String, String>,
    logs: Vec<(Level, String)>,
}

impl Default for Host {
    fn default() -> Self {
        Host {
            canned: Vec::new(),
            requests: Vec::new(),
            kv: BTreeMap::new(),
            now: parse_time(START),
            settings: "{}".into(),
            secrets: BTreeMap::new(),
            logs: Vec::new(),
        }
    }
}

thread_local! {
    static HOST: RefCell<Host> = RefCell::new(Host::default());
}

fn with<R>(f: impl FnOnce(&mut Host) -> R) -> R {
    HOST.with(|host| f(&mut host.borrow_mut()))
}

fn parse_time(text: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("mock clock: `{text}` is not RFC 3339: {e}"))
        .with_timezone(&chrono::Utc)
}

/// Forgets everything: no canned responses, no requests, an empty store, the clock at
/// [`START`], settings `{}`, no secrets, no log lines.
pub fn reset() {
    with(|host| *host = Host::default());
}

/// Answers requests of this method to exactly this URL (query included) with `response`.
/// Several answers for one method and URL are given out in order; the last one then answers
/// every further request. A request nothing answers gets `http-error.denied` naming it.
pub fn respond(method: Method, url: &str, response: Response) {
    answer(method, url, Ok(response));
}

/// Like [`respond`], but the request gets no answer: a timeout, a refused connection, ….
pub fn fail(method: Method, url: &str, error: HttpError) {
    answer(method, url, Err(error));
}

fn answer(method: Method, url: &str, answer: Result<Response, HttpError>) {
    with(|host| {
        match host
            .canned
            .iter_mut()
            .find(|c| c.method == method && c.url == url)
        {
            Some(canned) => canned.answers.push(answer),
            None => host.canned.push(Canned {
                method,
                url: url.to_string(),
                answers: vec![answer],
            }),
        }
    });
}

/// A response with this status and a JSON body.
pub fn json<T: Serialize + ?Sized>(status: u16, body: &T) -> Response {
    Response {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: serde_json::to_vec(body).expect("the mock's JSON body serialises"),
    }
}

/// A response with this status, these headers (names in lower case) and no body.
pub fn status(status: u16, headers: &[(&str, &str)]) -> Response {
    Response {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
            .collect(),
        body: Vec::new(),
    }
}

/// Every request sent so far, in order.
pub fn requests() -> Vec<Request> {
    with(|host| host.requests.clone())
}

/// The plugin's settings, as flows.toml would give them.
pub fn set_settings<T: Serialize + ?Sized>(settings: &T) {
    let text = serde_json::to_string(settings).expect("the mock's settings serialise");
    with(|host| host.settings = text);
}

/// Grants a secret with this value.
pub fn set_secret(name: &str, value: &str) {
    with(|host| {
        host.secrets.insert(name.to_string(), value.to_string());
    });
}

/// Sets the clock (RFC 3339); it stands still until set or advanced again.
pub fn set_now(timestamp: &str) {
    let now = parse_time(timestamp);
    with(|host| host.now = now);
}

/// Moves the clock on by whole seconds.
pub fn advance(seconds: i64) {
    with(|host| host.now += chrono::Duration::seconds(seconds));
}

/// The key-value store as it is now.
pub fn kv() -> BTreeMap<String, String> {
    with(|host| host.kv.clone())
}

/// The log lines written so far, in order.
pub fn logs() -> Vec<(Level, String)> {
    with(|host| host.logs.clone())
}

/// The host's imports, answered by the mock (the SDK re-exports them as `http`, `log`, …).
pub mod imports {
    /// Outgoing HTTP: answered from the canned responses, every request recorded.
    pub mod http {
        pub use crate::bindings::tillbridge::plugin::http::{HttpError, Method, Request, Response};

        pub fn send(request: &Request) -> Result<Response, HttpError> {
            super::super::with(|host| {
                host.requests.push(request.clone());
                let canned = host
                    .canned
                    .iter_mut()
                    .find(|c| c.method == request.method && c.url == request.url);
                match canned {
                    Some(canned) if canned.answers.len() > 1 => canned.answers.remove(0),
                    Some(canned) => canned.answers[0].clone(),
                    None => Err(HttpError::Denied(format!(
                        "mock host: no response for {:?} {} (give one with tillbridge_sdk::mock::respond)",
                        request.method, request.url
                    ))),
                }
            })
        }
    }

    /// Log lines: captured, see `mock::logs`.
    pub mod log {
        pub use crate::bindings::tillbridge::plugin::log::Level;

        pub fn log(level: Level, message: &str) {
            super::super::with(|host| host.logs.push((level, message.to_string())));
        }
    }

    /// Settings and secrets: see `mock::set_settings` and `mock::set_secret`.
    pub mod config {
        pub fn settings() -> String {
            super::super::with(|host| host.settings.clone())
        }

        pub fn secret(name: &str) -> Option<String> {
            super::super::with(|host| host.secrets.get(name).cloned())
        }
    }

    /// The fixed clock: see `mock::set_now` and `mock::advance`.
    pub mod clock {
        use crate::types::Timestamp;

        pub fn now() -> Timestamp {
            super::super::with(|host| host.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        }

        pub fn now_millis() -> u64 {
            super::super::with(|host| host.now.timestamp_millis().max(0) as u64)
        }
    }

    /// An in-memory store: see `mock::kv`.
    pub mod kv {
        pub fn get(key: &str) -> Option<String> {
            super::super::with(|host| host.kv.get(key).cloned())
        }

        pub fn get_many(keys: &[String]) -> Vec<Option<String>> {
            keys.iter().map(|key| get(key)).collect()
        }

        pub fn set_many(entries: &[(String, String)]) {
            super::super::with(|host| host.kv.extend(entries.iter().cloned()));
        }

        pub fn delete(key: &str) {
            super::super::with(|host| {
                host.kv.remove(key);
            });
        }

        pub fn keys(prefix: &str) -> Vec<String> {
            super::super::with(|host| {
                host.kv
                    .keys()
                    .filter(|k| k.starts_with(prefix))
                    .cloned()
                    .collect()
            })
        }

        /// 32 hex digits, the same for the same text. Not the host's keyed hash (that key is
        /// the host's secret), but as stable within a test run.
        pub fn personal_key(text: &str) -> String {
            format!(
                "{:016x}{:016x}",
                super::super::hash(0, text),
                super::super::hash(1, text)
            )
        }
    }
}

fn hash(salt: u8, text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    salt.hash(&mut hasher);
    text.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::PluginError;
    use crate::{clock, fetch, kv, settings};

    #[test]
    fn answers_in_order_then_repeats_the_last_and_records_every_request() {
        reset();
        let url = "https://api.example/items?limit=2";
        respond(Method::Get, url, status(429, &[("Retry-After", "2")]));
        respond(
            Method::Get,
            url,
            json(200, &serde_json::json!({ "items": [1] })),
        );
        let first = fetch::Request::get(url).send().unwrap().success();
        assert!(matches!(first, Err(PluginError::RateLimited(2_000))));
        for _ in 0..2 {
            let page: serde_json::Value = fetch::Request::get(url)
                .send()
                .unwrap()
                .success()
                .unwrap()
                .json()
                .unwrap();
            assert_eq!(page["items"][0], 1);
        }
        assert_eq!(requests().len(), 3);
        assert!(requests().iter().all(|r| r.url == url));
    }

    #[test]
    fn an_unanswered_request_is_denied_by_name() {
        reset();
        let error = fetch::Request::post("https://api.example/orders")
            .send()
            .unwrap_err();
        let PluginError::Fatal(message) = error else {
            panic!("a denied request is fatal, got {error:?}")
        };
        assert!(
            message.contains("Post https://api.example/orders"),
            "{message}"
        );
    }

    #[test]
    fn settings_secrets_store_clock_and_log_are_the_tests_own() {
        reset();
        set_settings(&serde_json::json!({ "limit": 7 }));
        set_secret("token", "abc");
        #[derive(serde::Deserialize)]
        struct Settings {
            limit: u32,
        }
        assert_eq!(settings::load::<Settings>().unwrap().limit, 7);
        assert_eq!(settings::secret("token").unwrap(), "abc");
        assert!(matches!(
            settings::secret("other"),
            Err(PluginError::Auth(_))
        ));

        kv::set_many(&[("a:1".into(), "x".into()), ("b:1".into(), "y".into())]);
        assert_eq!(kv::keys("a:"), vec!["a:1".to_string()]);
        kv::delete("a:1");
        assert_eq!(kv().len(), 1);
        assert_eq!(kv::personal_key("a@x.nl"), kv::personal_key("a@x.nl"));
        assert_ne!(kv::personal_key("a@x.nl"), kv::personal_key("b@x.nl"));

        assert_eq!(clock::now(), START);
        advance(90);
        assert_eq!(clock::now(), "2026-01-01T00:01:30Z");
        set_now("2026-03-01T12:00:00Z");
        assert_eq!(clock::now_millis(), 1_772_366_400_000);

        crate::warn!("disk at {}%", 91);
        assert_eq!(logs(), vec![(Level::Warn, "disk at 91%".to_string())]);
    }
}
