//! Fault injection: answer chosen requests with an error status, a `Retry-After`, after a delay,
//! or not at all (the connection closed), to test how clients cope. A fault hits before the
//! request is handled (nothing is written), or, with `after_write`, after it was handled: the
//! write is kept and the client cannot know, as when a server fails after its commit.
//!
//! Faults model no behaviour of the real APIs (none is claimed from a source): they are what any
//! network, proxy or overloaded server can do to a client, injected by the tests.

use std::sync::Mutex;

use super::lock;
use std::time::Duration;

use rand::{RngExt, SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};
use wildmatch::WildMatch;

/// One fault rule. A request matches when its path matches `path` (with `*` and `?` wildcards)
/// and, if given, its method.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Path pattern, e.g. "/api/search/*" or "/api/rest/v1/orders*".
    pub path: String,
    /// Only requests with this method ("GET", "POST", …).
    #[serde(default)]
    pub method: Option<String>,
    /// Answer with this status instead of handling the request. None: handle it (after `latency_ms`).
    #[serde(default)]
    pub status: Option<u16>,
    /// Send `Retry-After` with this many seconds.
    #[serde(default)]
    pub retry_after_secs: Option<u64>,
    /// Wait this long before answering.
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// Close the connection without an answer.
    #[serde(default)]
    pub drop_connection: bool,
    /// Handle the request first (a write is kept), then fail as told: answer `status` instead,
    /// hold the answer `latency_ms` (past the client's timeout), or drop the connection.
    #[serde(default)]
    pub after_write: bool,
    /// Answer with this body (as JSON, with `status` or else 200) instead of the real answer: a
    /// broken proxy or a hostile server, e.g. a nesting bomb. With `after_write`, after handling.
    #[serde(default)]
    pub body: Option<String>,
    /// Let this many matching requests through before the fault starts.
    #[serde(default)]
    pub skip: u32,
    /// Hit at most this many requests; none: forever.
    #[serde(default)]
    pub times: Option<u32>,
    /// Hit each matching request with this chance (0.0–1.0, from the simulator's seeded random
    /// numbers, so runs repeat); none: every one.
    #[serde(default)]
    pub probability: Option<f64>,
}

impl Fault {
    /// A rule that answers every matching request with `status`.
    pub fn status(path: &str, status: u16) -> Self {
        Fault {
            path: path.to_string(),
            method: None,
            status: Some(status),
            retry_after_secs: None,
            latency_ms: None,
            drop_connection: false,
            after_write: false,
            body: None,
            skip: 0,
            times: None,
            probability: None,
        }
    }

    /// A rule that handles every matching request, but only after `ms` milliseconds.
    pub fn latency(path: &str, ms: u64) -> Self {
        Fault {
            status: None,
            ..Fault::status(path, 200)
        }
        .delayed(ms)
    }

    /// A rule that closes the connection of every matching request without an answer.
    pub fn drop_connection(path: &str) -> Self {
        Fault {
            status: None,
            drop_connection: true,
            ..Fault::status(path, 200)
        }
    }

    /// A rule that answers every matching request with `body` (200, as JSON).
    pub fn answer(path: &str, body: &str) -> Self {
        Fault {
            status: None,
            body: Some(body.to_string()),
            ..Fault::status(path, 200)
        }
    }

    /// Handle the request first and keep what it wrote, then fail.
    pub fn after_write(mut self) -> Self {
        self.after_write = true;
        self
    }

    /// Wait `ms` milliseconds before answering.
    pub fn delayed(mut self, ms: u64) -> Self {
        self.latency_ms = Some(ms);
        self
    }

    /// Only requests with this method.
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    /// Hit at most `n` requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Let `n` matching requests through first.
    pub fn skip(mut self, n: u32) -> Self {
        self.skip = n;
        self
    }

    /// Send `Retry-After: secs`.
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    /// Hit each matching request with this chance.
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && WildMatch::new(&self.path).matches(path)
    }
}

/// What the fault layer decided for one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Verdict {
    /// Wait this long first.
    pub delay: Option<Duration>,
    /// Answer with this status (and `Retry-After` seconds) instead of handling the request.
    pub status: Option<(u16, Option<u64>)>,
    /// Close the connection without an answer.
    pub drop_connection: bool,
    /// Handle the request first, then apply the delay, status or drop to its answer.
    pub after_write: bool,
    /// Answer with this body instead.
    pub body: Option<String>,
}

struct Rule {
    fault: Fault,
    seen: u32,
    hit: u32,
}

/// The fault rules of one simulator.
pub struct Faults {
    rules: Mutex<Vec<Rule>>,
    rng: Mutex<StdRng>,
}

impl Faults {
    /// No rules; random choices from `seed`.
    pub fn new(seed: u64) -> Self {
        Faults {
            rules: Mutex::new(Vec::new()),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }

    /// Adds a rule; rules are tried in the order added and the first that hits decides.
    pub fn add(&self, fault: Fault) {
        lock(&self.rules).push(Rule {
            fault,
            seen: 0,
            hit: 0,
        });
    }

    /// Removes every rule.
    pub fn clear(&self) {
        lock(&self.rules).clear();
    }

    /// The rules in force.
    pub fn list(&self) -> Vec<Fault> {
        lock(&self.rules).iter().map(|r| r.fault.clone()).collect()
    }

    /// Decides what happens to a request.
    pub fn decide(&self, method: &str, path: &str) -> Verdict {
        let mut rules = lock(&self.rules);
        for rule in rules.iter_mut().filter(|r| r.fault.matches(method, path)) {
            rule.seen += 1;
            if rule.seen <= rule.fault.skip || rule.fault.times.is_some_and(|t| rule.hit >= t) {
                continue;
            }
            if let Some(p) = rule.fault.probability
                && !lock(&self.rng).random_bool(p.clamp(0.0, 1.0))
            {
                continue;
            }
            rule.hit += 1;
            return Verdict {
                delay: rule.fault.latency_ms.map(Duration::from_millis),
                status: rule.fault.status.map(|s| (s, rule.fault.retry_after_secs)),
                drop_connection: rule.fault.drop_connection,
                after_write: rule.fault.after_write,
                body: rule.fault.body.clone(),
            };
        }
        Verdict::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_and_times_bound_a_rule() {
        let faults = Faults::new(1);
        faults.add(Fault::status("/api/*", 503).skip(1).times(2));
        let hits: Vec<_> = (0..5)
            .map(|_| faults.decide("GET", "/api/x").status)
            .collect();
        assert_eq!(
            hits,
            vec![None, Some((503, None)), Some((503, None)), None, None]
        );
        assert_eq!(faults.decide("GET", "/other").status, None);
    }

    #[test]
    fn probability_is_repeatable_for_a_seed() {
        let run = |seed| {
            let faults = Faults::new(seed);
            faults.add(Fault::status("*", 500).probability(0.1));
            (0..1000)
                .filter(|_| faults.decide("POST", "/x").status.is_some())
                .count()
        };
        assert_eq!(run(7), run(7));
        assert!((50..150).contains(&run(7)), "about 10% of 1000");
    }
}
