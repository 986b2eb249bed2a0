//! Pacing: requests of one connection are spread so that the system's rate limits are never hit.
//!
//! CCV counts requests per operation (method and resource) in windows of a minute. A fixed-window
//! counter is fooled by bursts at a window's edge, so requests are paced evenly (GCRA without
//! burst, from `governor`) at a rate a little under the limit, per operation label, with reads
//! and writes counted apart, and optionally under a total limit for the connection.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;

/// What flows.toml says about a connection's rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// Reads (GET, HEAD) allowed per window, per operation.
    pub reads_per_window: u32,
    /// Writes (POST, PUT, PATCH, DELETE) allowed per window, per operation.
    pub writes_per_window: u32,
    /// All requests of the connection allowed per window, if the system has such a limit.
    #[serde(default)]
    pub total_per_window: Option<u32>,
    /// The window, in seconds.
    #[serde(default = "RateLimits::default_window")]
    pub window_secs: f64,
}

impl RateLimits {
    fn default_window() -> f64 {
        60.0
    }
}

/// Pace as if the window were this much longer, so that clock drift and timing jitter never tip
/// a request over: 2% of the window, and at least 50 ms (short test windows need the floor).
fn margin(window: Duration) -> Duration {
    window.mul_f64(0.02).max(Duration::from_millis(50))
}

fn quota(per_window: u32, window: Duration) -> Option<Quota> {
    let per_window = NonZeroU32::new(per_window)?;
    let period = (window + margin(window)) / per_window.get();
    Quota::with_period(period.max(Duration::from_nanos(1))).map(|q| q.allow_burst(NonZeroU32::MIN))
}

/// The pacer of one connection, shared by every session of its plugin.
pub struct Pacer {
    limits: RateLimits,
    reads: Option<DefaultKeyedRateLimiter<String>>,
    writes: Option<DefaultKeyedRateLimiter<String>>,
    total: Option<DefaultDirectRateLimiter>,
}

impl Pacer {
    /// A pacer for these limits.
    pub fn new(limits: &RateLimits) -> Arc<Pacer> {
        let window = Duration::from_secs_f64(limits.window_secs.max(0.001));
        Arc::new(Pacer {
            limits: *limits,
            reads: quota(limits.reads_per_window, window).map(RateLimiter::keyed),
            writes: quota(limits.writes_per_window, window).map(RateLimiter::keyed),
            total: limits
                .total_per_window
                .and_then(|n| quota(n, window))
                .map(RateLimiter::direct),
        })
    }

    /// The limits it paces under.
    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// Waits until a request of this kind may go.
    pub async fn ready(&self, operation: &str, write: bool) {
        let keyed = if write { &self.writes } else { &self.reads };
        if let Some(limiter) = keyed {
            limiter.until_key_ready(&operation.to_string()).await;
        }
        if let Some(total) = &self.total {
            total.until_ready().await;
        }
    }
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pacer")
            .field("limits", &self.limits)
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
            reads_per_window: 10,
            writes_per_window: 5,
            total_per_window: None,
            window_secs: 1.0,
        });
        let started = Instant::now();
        for _ in 0..6 {
            pacer.ready("GET products", false).await;
        }
        // 6 reads at 10 per second (a little under): the sixth goes after about half a second.
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(500) && elapsed < Duration::from_millis(800),
            "{elapsed:?}"
        );
        // Another operation has its own pace and goes at once.
        let other = Instant::now();
        pacer.ready("GET orders", false).await;
        assert!(other.elapsed() < Duration::from_millis(50));
    }
}
