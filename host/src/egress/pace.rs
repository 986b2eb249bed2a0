//! Pacing: requests of one connection are spread so that the system's rate limits are never hit.
//!
//! CCV counts requests per operation (method and resource) in windows of a minute, with limits
//! that differ by operation (`GET /productqueries`: 30, other reads 150, writes 100). The
//! connector declares them (`connector-info.rate-limits`, learnt when its first session starts)
//! and flows.toml may override them ([`RateLimits`]); [`LimitTable`] says which limit a request
//! falls under. A fixed-window counter is fooled by bursts at a window's edge, so each operation
//! is paced evenly (GCRA without burst, from `governor`) at a rate a little under its limit, and
//! optionally under a total limit for the connection.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::Deserialize;

use super::limits::{Allowance, LimitTable, Pattern};

/// What flows.toml says about a connection's rate limits (`rate_limits`). Each part overrides
/// what the connector declares for the same requests.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// Reads (GET, HEAD) allowed per window, per operation: the same as `"GET *"` and
    /// `"HEAD *"` under `operations`.
    #[serde(default)]
    pub reads_per_window: Option<u32>,
    /// Writes (POST, PUT, PATCH, DELETE) allowed per window, per operation.
    #[serde(default)]
    pub writes_per_window: Option<u32>,
    /// All requests of the connection allowed per window, if the system has such a limit.
    #[serde(default)]
    pub total_per_window: Option<u32>,
    /// The window of the three above, in seconds (60 when not given).
    #[serde(default)]
    pub window_secs: Option<f64>,
    /// Limits of single operations or patterns: `"GET /productqueries" = { requests = 30,
    /// per_seconds = 60 }`.
    #[serde(default)]
    pub operations: BTreeMap<String, OperationLimit>,
}

/// A limit of one operation pattern in flows.toml.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationLimit {
    /// At most this many requests …
    pub requests: u32,
    /// … in any this many seconds.
    pub per_seconds: f64,
}

impl RateLimits {
    /// Reads the value of `rate_limits` as flows.toml writes it, an inline table (`{
    /// reads_per_window = 150, … }`).
    pub fn from_toml(value: &str) -> Result<RateLimits, toml::de::Error> {
        #[derive(Deserialize)]
        struct Wrapper {
            rate_limits: RateLimits,
        }
        toml::from_str::<Wrapper>(&format!("rate_limits = {value}")).map(|w| w.rate_limits)
    }

    /// The window of the per-window limits.
    pub fn window(&self) -> Duration {
        Duration::from_secs_f64(self.window_secs.unwrap_or(60.0).max(0.001))
    }

    /// What is wrong with these limits, as (key below `rate_limits`, problem, fix).
    pub fn problems(&self) -> Vec<(Vec<String>, String, String)> {
        let mut problems = Vec::new();
        if let Some(window) = self.window_secs
            && !seconds_in_range(window)
        {
            problems.push((
                vec!["window_secs".into()],
                format!("window_secs {window} is not a number of seconds from 0.001 to {LONGEST_WINDOW_SECS}"),
                "write the window the limits count in, e.g. 60".into(),
            ));
        }
        for (name, value) in [
            ("reads_per_window", self.reads_per_window),
            ("writes_per_window", self.writes_per_window),
            ("total_per_window", self.total_per_window),
        ] {
            if value == Some(0) {
                problems.push((
                    vec![name.into()],
                    format!("{name} is 0: no request could ever be sent"),
                    "write the number of requests the system allows per window, or leave the key out".into(),
                ));
            }
        }
        for (operation, limit) in &self.operations {
            let at = |key: &str| vec!["operations".to_string(), operation.clone(), key.into()];
            if let Err(problem) = Pattern::parse(operation) {
                problems.push((
                    vec!["operations".into(), operation.clone()],
                    problem,
                    "name the requests as the connector labels them, e.g. \"GET /productqueries\", \"PATCH /attributecombinations/{id}\" or \"GET *\" for every read".into(),
                ));
            }
            if limit.requests == 0 {
                problems.push((
                    at("requests"),
                    "requests is 0: no request could ever be sent".into(),
                    "write how many requests the system allows in per_seconds".into(),
                ));
            }
            if !seconds_in_range(limit.per_seconds) {
                problems.push((
                    at("per_seconds"),
                    format!(
                        "per_seconds {} is not a number of seconds from 0.001 to {LONGEST_WINDOW_SECS}",
                        limit.per_seconds
                    ),
                    "write the window in seconds, e.g. 60 for a limit per minute".into(),
                ));
            }
        }
        problems
    }

    /// Adds these limits to `table` as overrides.
    fn configure(&self, table: &mut LimitTable) {
        let window = self.window();
        let per_window = |requests| Allowance { requests, window };
        for (methods, requests) in [
            (&["GET", "HEAD"][..], self.reads_per_window),
            (
                &["POST", "PUT", "PATCH", "DELETE"][..],
                self.writes_per_window,
            ),
        ] {
            for method in methods.iter().filter(|_| requests.is_some()) {
                let pattern = Pattern::parse(&format!("{method} *")).expect("a method pattern");
                table.configured(pattern, per_window(requests.unwrap_or_default()));
            }
        }
        for (operation, limit) in &self.operations {
            // Checked when flows.toml was read.
            if let Ok(pattern) = Pattern::parse(operation) {
                table.configured(
                    pattern,
                    Allowance {
                        requests: limit.requests,
                        window: Duration::from_secs_f64(limit.per_seconds.max(0.001)),
                    },
                );
            }
        }
    }
}

/// The longest window a limit may count in: a day (APIs count per second, minute or hour).
const LONGEST_WINDOW_SECS: f64 = 86_400.0;

/// Whether a window in seconds is one pacing can use: not NaN, not zero or less, not so long that
/// it overflows a `Duration`.
fn seconds_in_range(seconds: f64) -> bool {
    (0.001..=LONGEST_WINDOW_SECS).contains(&seconds)
}

/// Pace as if the window were this much longer, so that clock drift and timing jitter never tip
/// a request over: 2% of the window, and at least 50 ms (short test windows need the floor).
fn margin(window: Duration) -> Duration {
    window.mul_f64(0.02).max(Duration::from_millis(50))
}

fn quota(allowance: Allowance) -> Option<Quota> {
    let requests = NonZeroU32::new(allowance.requests)?;
    let period = (allowance.window + margin(allowance.window)) / requests.get();
    Quota::with_period(period.max(Duration::from_nanos(1))).map(|q| q.allow_burst(NonZeroU32::MIN))
}

/// A limit the connector declares: (operation pattern, requests, per seconds).
pub type Declared = (String, u32, u32);

/// The pacer of one connection, shared by every session of its plugin.
pub struct Pacer {
    configured: RateLimits,
    /// The connector's limits with flows.toml's over them, once the connector has said them.
    table: Mutex<LimitTable>,
    declared: OnceLock<()>,
    /// One limiter per operation label (none: unlimited), made on its first request.
    operations: Mutex<HashMap<String, Option<Arc<DefaultDirectRateLimiter>>>>,
    total: Option<DefaultDirectRateLimiter>,
}

impl Pacer {
    /// A pacer for what flows.toml says; the connector's own limits come with [`Self::declare`].
    pub fn new(limits: &RateLimits) -> Arc<Pacer> {
        let window = limits.window();
        let mut table = LimitTable::default();
        limits.configure(&mut table);
        Arc::new(Pacer {
            configured: limits.clone(),
            table: Mutex::new(table),
            declared: OnceLock::new(),
            operations: Mutex::default(),
            total: limits
                .total_per_window
                .and_then(|requests| quota(Allowance { requests, window }))
                .map(RateLimiter::direct),
        })
    }

    /// What flows.toml says.
    pub fn limits(&self) -> &RateLimits {
        &self.configured
    }

    /// Whether the connector's limits are in.
    pub fn is_declared(&self) -> bool {
        self.declared.get().is_some()
    }

    /// Takes the limits the connector declares (the first time only; a connector declares the
    /// same every time). A pattern that does not parse is left out with a warning.
    pub fn declare(&self, caller: &str, limits: &[Declared]) {
        if self.declared.set(()).is_err() {
            return;
        }
        let mut table = LimitTable::default();
        for (operation, requests, per_seconds) in limits {
            match Pattern::parse(operation) {
                Ok(pattern) => table.declared(
                    pattern,
                    Allowance {
                        requests: *requests,
                        window: Duration::from_secs(u64::from(*per_seconds).max(1)),
                    },
                ),
                Err(problem) => {
                    tracing::warn!(plugin = %caller, "a declared rate limit is ignored: {problem}")
                }
            }
        }
        self.configured.configure(&mut table);
        *self.table.lock().expect("pacer lock") = table;
        self.operations.lock().expect("pacer lock").clear();
    }

    /// The limit a request of `method` labelled `operation` is paced under; none: unlimited.
    pub fn allowance(&self, method: &str, operation: &str) -> Option<Allowance> {
        self.table
            .lock()
            .expect("pacer lock")
            .allowance(method, operation)
    }

    /// Waits until a request of `method` labelled `operation` may go.
    pub async fn ready(&self, method: &str, operation: &str) {
        let limiter = {
            let mut operations = self.operations.lock().expect("pacer lock");
            operations
                .entry(operation.to_string())
                .or_insert_with(|| {
                    self.allowance(method, operation)
                        .and_then(quota)
                        .map(|q| Arc::new(RateLimiter::direct(q)))
                })
                .clone()
        };
        if let Some(limiter) = limiter {
            limiter.until_ready().await;
        }
        if let Some(total) = &self.total {
            total.until_ready().await;
        }
    }
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pacer")
            .field("limits", &self.configured)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[tokio::test]
    async fn requests_are_spread_per_operation() {
        let pacer = Pacer::new(&RateLimits {
            reads_per_window: Some(10),
            writes_per_window: Some(5),
            window_secs: Some(1.0),
            ..RateLimits::default()
        });
        let started = Instant::now();
        for _ in 0..6 {
            pacer.ready("GET", "GET /products").await;
        }
        // 6 reads at 10 per second (a little under): the sixth goes after about half a second.
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(500) && elapsed < Duration::from_millis(800),
            "{elapsed:?}"
        );
        // Another operation has its own pace and goes at once.
        let other = Instant::now();
        pacer.ready("GET", "GET /orders").await;
        assert!(other.elapsed() < Duration::from_millis(50));
    }

    #[test]
    fn declared_limits_count_under_flows_toml_overrides() {
        let pacer = Pacer::new(&RateLimits {
            reads_per_window: Some(300),
            operations: BTreeMap::from([(
                "POST /orders".to_string(),
                OperationLimit {
                    requests: 10,
                    per_seconds: 6.0,
                },
            )]),
            ..RateLimits::default()
        });
        let minute = |requests| {
            Some(Allowance {
                requests,
                window: Duration::from_secs(60),
            })
        };
        assert_eq!(pacer.allowance("GET", "GET /productqueries"), minute(300));
        assert!(!pacer.is_declared());
        pacer.declare(
            "ccv",
            &[
                ("GET *".into(), 150, 60),
                ("GET /productqueries".into(), 30, 60),
                ("POST *".into(), 100, 60),
                ("not a pattern".into(), 1, 1),
            ],
        );
        assert!(pacer.is_declared());
        assert_eq!(pacer.allowance("GET", "GET /productqueries"), minute(30));
        assert_eq!(pacer.allowance("GET", "GET /products"), minute(300));
        assert_eq!(pacer.allowance("POST", "POST /products"), minute(100));
        assert_eq!(
            pacer.allowance("POST", "POST /orders"),
            Some(Allowance {
                requests: 10,
                window: Duration::from_secs(6),
            })
        );
    }

    #[test]
    fn mistakes_are_named_by_key() {
        let limits: RateLimits = toml::from_str(
            r#"
            window_secs = 0
            operations = { "FETCH /x" = { requests = 0, per_seconds = -1 } }
            "#,
        )
        .unwrap();
        let keys: Vec<String> = limits
            .problems()
            .into_iter()
            .map(|(key, _, _)| key.join("."))
            .collect();
        assert_eq!(
            keys,
            [
                "window_secs",
                "operations.FETCH /x",
                "operations.FETCH /x.requests",
                "operations.FETCH /x.per_seconds"
            ]
        );
    }
}
