//! Under CCV's rate limits (scaled to a short window) the host's pacing keeps every request
//! under them: a batch of writes gets no 429 at all.

use std::time::{Duration, Instant};

use tillbridge_sim::ccv::{CcvOptions, RateLimits};

use super::support::Pos;
use super::support::records::{product, product_write};

#[tokio::test]
async fn paced_writes_are_never_refused() {
    let limits = RateLimits {
        reads_per_window: 45,
        writes_per_window: 30,
        total_per_window: 90,
        // The host paces 2% under each limit; on a window this short that is 60 ms, enough for
        // the latency jitter of a test machine (on CCV's minute it is 1.2 s).
        window: Duration::from_secs(3),
    };
    let mut pos = Pos::start(CcvOptions {
        rate_limits: limits,
        ..CcvOptions::default()
    })
    .await;
    pos.pace(limits);
    let writes: Vec<_> = (0..60)
        .map(|i| product_write(product(&format!("P{i}"), "1", 1), None, &[]))
        .collect();
    let started = Instant::now();
    let results = pos.session().await.write_products(&writes).await.unwrap();
    let took = started.elapsed();
    assert!(results.iter().all(|r| r.outcome.is_ok()), "{results:?}");
    let refused = pos.requests().iter().filter(|r| r.status == 429).count();
    assert_eq!(refused, 0);
    // 60 POSTs at 30 per 3 s: the last goes 59 slots of 102 ms after the first, about 6 s.
    assert!(
        took >= Duration::from_millis(5_900) && took < Duration::from_millis(6_600),
        "{took:?}"
    );
}
