//! Under CCV's rate limits (scaled to a short window) the host's pacing keeps every request
//! under them: a batch of writes gets no 429 at all, nor do look-ups under the stricter limit of
//! `GET /productqueries`. The limits come from the connector's declaration.

use std::time::{Duration, Instant};

use tillbridge::egress::{Allowance, Pacer, RateLimits as PaceLimits};
use tillbridge::runtime::Kv;
use tillbridge_sim::ccv::{CcvOptions, RateLimits, Seed};
use tillbridge_sim::dataset::Dataset;

use super::support::Pos;
use super::support::records::{product, product_write};

#[tokio::test]
async fn paced_writes_are_never_refused() {
    let limits = RateLimits {
        reads_per_window: 45,
        writes_per_window: 30,
        productqueries_per_window: 9,
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

/// CCV documents 30 `GET /productqueries` a minute ("30 per minute",
/// `src/Endpoints/ProductqueriesEndpoint.php` of `jacobdekeizer/ccvshop-client`, generated from
/// CCV's docs), 150 for other reads and 100 for writes: the connector declares them, and the host
/// paces under them from the connector's first session on, with no configuration.
#[tokio::test]
async fn the_connector_declares_ccvs_limits_and_the_host_takes_them() {
    let mut pos = Pos::empty().await;
    let pacer = Pacer::new(&PaceLimits::default());
    pos.pacer = Some(pacer.clone());
    let mut session = pos.session().await;
    let info = session.connector_info().await.unwrap();
    let declared: Vec<(&str, u32, u32)> = info
        .rate_limits
        .iter()
        .map(|l| (l.operation.as_str(), l.requests, l.per_seconds))
        .collect();
    assert!(
        declared.contains(&("GET /productqueries", 30, 60)),
        "{declared:?}"
    );
    let minute = |requests| {
        Some(Allowance {
            requests,
            window: Duration::from_secs(60),
        })
    };
    assert_eq!(pacer.allowance("GET", "GET /productqueries"), minute(30));
    assert_eq!(pacer.allowance("GET", "GET /products/{id}"), minute(150));
    assert_eq!(
        pacer.allowance("PATCH", "PATCH /attributecombinations/{id}"),
        minute(100)
    );
}

#[tokio::test]
async fn paced_productqueries_are_never_refused() {
    let limits = RateLimits {
        reads_per_window: 45,
        writes_per_window: 30,
        productqueries_per_window: 3,
        total_per_window: 90,
        window: Duration::from_secs(2),
    };
    let mut pos = Pos::start(CcvOptions {
        seed: Seed::Dataset(Dataset::demo()),
        rate_limits: limits,
        ..CcvOptions::default()
    })
    .await;
    pos.pace(limits);
    // As remembered from a pass over a large catalogue: looking a few SKUs up is quicker.
    let Kv::Memory(map) = &pos.kv else { panic!() };
    map.lock()
        .unwrap()
        .insert("catalogue/pages".into(), "100".into());
    let skus: Vec<String> = ["TB-MUG-01", "TB-BOOK-01", "TB-TEE-M-RED", "TB-TEE-L-BLUE"]
        .map(String::from)
        .to_vec();
    let found = pos.session().await.find_products(&skus).await.unwrap();
    assert_eq!(found.len(), 4, "{found:?}");
    let queries = pos
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/productqueries"))
        .count();
    assert_eq!(
        queries, 6,
        "a simple product takes two look-ups, a variant one"
    );
    let refused: Vec<_> = pos
        .requests()
        .into_iter()
        .filter(|r| r.status == 429)
        .collect();
    assert!(refused.is_empty(), "{refused:?}");
}
