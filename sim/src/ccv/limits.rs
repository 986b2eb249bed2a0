//! CCV's rate limits: every operation (a method on a resource) has its own limit per minute, and
//! the API has a total limit besides.
//!
//! How the simulator counts (CCV documents only the limits and the codes):
//! - An operation is the method plus the path with every numeric segment written `{id}` and
//!   without a trailing slash: `GET /products` (list) and `GET /products/{id}` (one) are two
//!   operations, as CCV's docs give each its own "Rate limit:" line; `GET /products/1` and
//!   `GET /products/2` are the same one.
//! - GET (and HEAD, OPTIONS) count against the read limit, every other method against the write
//!   limit; every signed request counts against the total.
//! - Windows are fixed: a counter's window opens with the first request it counts and lasts
//!   `window`; the next request after that opens a new one with the count at zero.
//! - A refused request uses up nothing, so a client that keeps retrying is let in as soon as the
//!   window turns. Requests refused for their signature are not counted at all.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::common::lock;
use std::time::{Duration, Instant};

use super::RateLimits;
use super::error::CcvError;

/// The operation a request belongs to, e.g. `GET /products/{id}`.
pub fn operation(method: &str, path: &str) -> String {
    let path = path.strip_prefix(super::API_PREFIX).unwrap_or(path);
    let segments: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.bytes().all(|b| b.is_ascii_digit()) {
                "{id}"
            } else {
                s
            }
        })
        .collect();
    format!("{method} /{}", segments.join("/"))
}

/// The operation CCV limits more strictly than other reads.
const PRODUCTQUERIES: &str = "GET /productqueries";

/// Whether a method counts against the read limit.
fn is_read(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS")
}

#[derive(Debug, Clone, Copy)]
struct Window {
    opened: Instant,
    count: u32,
}

impl Window {
    /// The count in the window that holds `now`.
    fn count_at(&mut self, now: Instant, length: Duration) -> u32 {
        if now.duration_since(self.opened) >= length {
            *self = Window {
                opened: now,
                count: 0,
            };
        }
        self.count
    }
}

#[derive(Debug, Default)]
struct Counters {
    operations: HashMap<String, Window>,
    total: Option<Window>,
}

/// The counters of one simulator.
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    counters: Mutex<Counters>,
}

impl RateLimiter {
    /// Fresh counters for these limits.
    pub fn new(limits: RateLimits) -> Self {
        RateLimiter {
            limits,
            counters: Mutex::default(),
        }
    }

    /// Counts a request of `method` on `path`, or refuses it with `429.10` (its operation's limit
    /// is used up) or `429.11` (the total is).
    pub fn admit(&self, method: &str, path: &str) -> Result<(), CcvError> {
        self.admit_at(method, path, Instant::now())
    }

    fn admit_at(&self, method: &str, path: &str, now: Instant) -> Result<(), CcvError> {
        let operation = operation(method, path);
        let limit = self.limit_of(&operation, method);
        let length = self.limits.window;
        let mut counters = lock(&self.counters);
        let fresh = Window {
            opened: now,
            count: 0,
        };
        let mut op_window = *counters.operations.get(&operation).unwrap_or(&fresh);
        if op_window.count_at(now, length) >= limit {
            return Err(CcvError::operation_limit(&operation, limit));
        }
        let mut total_window = counters.total.unwrap_or(fresh);
        if total_window.count_at(now, length) >= self.limits.total_per_window {
            return Err(CcvError::total_limit(self.limits.total_per_window));
        }
        op_window.count += 1;
        total_window.count += 1;
        counters.operations.insert(operation, op_window);
        counters.total = Some(total_window);
        Ok(())
    }

    /// An operation's limit per window: `GET /productqueries` has its own (CCV documents 30 a
    /// minute for it), every other read and write the one of its kind.
    fn limit_of(&self, operation: &str, method: &str) -> u32 {
        if operation == PRODUCTQUERIES {
            self.limits.productqueries_per_window
        } else if is_read(method) {
            self.limits.reads_per_window
        } else {
            self.limits.writes_per_window
        }
    }

    /// Forgets every count.
    pub fn reset(&self) {
        *lock(&self.counters) = Counters::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(reads: u32, writes: u32, total: u32) -> RateLimiter {
        RateLimiter::new(RateLimits {
            reads_per_window: reads,
            writes_per_window: writes,
            productqueries_per_window: 1,
            total_per_window: total,
            window: Duration::from_secs(60),
        })
    }

    #[test]
    fn ids_and_trailing_slashes_do_not_make_new_operations() {
        assert_eq!(operation("GET", "/api/rest/v1/products/"), "GET /products");
        assert_eq!(
            operation("PATCH", "/api/rest/v1/attributecombinations/77"),
            "PATCH /attributecombinations/{id}"
        );
        assert_eq!(
            operation("GET", "/api/rest/v1/products/12/attributecombinations"),
            "GET /products/{id}/attributecombinations"
        );
        assert_eq!(operation("GET", "/api/rest/v1/"), "GET /");
    }

    #[test]
    fn the_request_after_the_limit_is_refused_until_the_window_turns() {
        let limiter = limiter(2, 1, 100);
        let t0 = Instant::now();
        assert!(
            limiter
                .admit_at("GET", "/api/rest/v1/products/1", t0)
                .is_ok()
        );
        assert!(
            limiter
                .admit_at("GET", "/api/rest/v1/products/2", t0)
                .is_ok()
        );
        let refused = limiter
            .admit_at("GET", "/api/rest/v1/products/3", t0)
            .unwrap_err();
        assert_eq!(refused.code, "429.10");
        // Another operation has its own count; writes their own limit.
        assert!(limiter.admit_at("GET", "/api/rest/v1/products", t0).is_ok());
        assert!(
            limiter
                .admit_at("POST", "/api/rest/v1/products", t0)
                .is_ok()
        );
        assert!(
            limiter
                .admit_at("POST", "/api/rest/v1/products", t0)
                .is_err()
        );
        let later = t0 + Duration::from_secs(60);
        assert!(
            limiter
                .admit_at("GET", "/api/rest/v1/products/3", later)
                .is_ok()
        );
    }

    #[test]
    fn productqueries_have_their_own_stricter_limit() {
        let limiter = limiter(2, 2, 100);
        let t0 = Instant::now();
        let query = "/api/rest/v1/productqueries";
        assert!(limiter.admit_at("GET", query, t0).is_ok());
        assert_eq!(
            limiter.admit_at("GET", query, t0).unwrap_err().code,
            "429.10"
        );
        assert!(limiter.admit_at("GET", "/api/rest/v1/products", t0).is_ok());
        assert!(limiter.admit_at("GET", "/api/rest/v1/products", t0).is_ok());
    }

    #[test]
    fn the_total_limit_spans_operations() {
        let limiter = limiter(10, 10, 3);
        let t0 = Instant::now();
        for path in [
            "/api/rest/v1/users",
            "/api/rest/v1/orders",
            "/api/rest/v1/products",
        ] {
            assert!(limiter.admit_at("GET", path, t0).is_ok());
        }
        let refused = limiter
            .admit_at("GET", "/api/rest/v1/categories", t0)
            .unwrap_err();
        assert_eq!(refused.code, "429.11");
    }

    #[test]
    fn no_limits_admit_every_request_of_a_window() {
        let limiter = RateLimiter::new(RateLimits::none());
        let t0 = Instant::now();
        for i in 0..20_000 {
            let (method, path) = match i % 3 {
                0 => ("GET", "/api/rest/v1/productqueries"),
                1 => ("GET", "/api/rest/v1/products"),
                _ => ("POST", "/api/rest/v1/orders"),
            };
            assert!(limiter.admit_at(method, path, t0).is_ok(), "request {i}");
        }
    }
}
