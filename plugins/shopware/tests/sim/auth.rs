//! Tokens: one per lifetime, refreshed before they run out, again after a 401, remembered
//! between sessions; wrong credentials said plainly.

use std::time::{Duration, Instant};

use tillbridge_sim::common::Fault;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expiring_mid_run_is_refreshed_once_per_lifetime() {
    for version in VERSIONS {
        let ttl = Duration::from_secs(2);
        let shop = Shop::start_with(ShopwareOptions {
            api_version: version,
            seed: Seed::Dataset(Dataset::demo()),
            token_ttl: ttl,
            ..ShopwareOptions::default()
        })
        .await;
        let mut session = shop.session().await;
        let started = Instant::now();
        let mut cursor = None;
        let mut read = 0;
        loop {
            let page = session.read_orders(&query(cursor, &[], 1)).await.unwrap();
            read += page.orders.len();
            cursor = page.cursor;
            if !page.more {
                break;
            }
            tokio::time::sleep(Duration::from_millis(600)).await;
        }
        let elapsed = started.elapsed();
        assert_eq!(read, 8, "{version}: the run went on through expiries");
        let refused = shop.sim.journal().writes_where(|e| e.status == 401);
        assert!(
            refused.is_empty(),
            "{version}: refreshed before expiry, never refused"
        );
        // Each token is used until a fifth of its life is left.
        let per_token = ttl.mul_f64(0.8);
        let most = (elapsed.as_secs_f64() / per_token.as_secs_f64()).floor() as usize + 1;
        let tokens = shop.sim.token_requests();
        assert!(
            (2..=most).contains(&tokens),
            "{version}: {tokens} tokens in {elapsed:?}, at most {most}"
        );
        assert!(
            shop.requests() > 3 * tokens,
            "{version}: never a token per request"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_replaced_once_and_the_request_sent_again() {
    for version in VERSIONS {
        let shop = Shop::demo(version).await;
        let mut session = shop.session().await;
        session.check().await.unwrap();
        shop.sim
            .faults()
            .add(Fault::status("/api/search/order", 401).times(1));
        let (orders, _) = read_all(&mut session, query(None, &[], 50)).await.unwrap();
        assert_eq!(orders.len(), 8, "{version}");
        assert_eq!(
            shop.sim.token_requests(),
            2,
            "{version}: one new token after the 401"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_and_version_are_remembered_between_sessions() {
    for version in VERSIONS {
        let shop = Shop::demo(version).await;
        shop.session().await.check().await.unwrap();
        let before = shop.requests();
        let mut next_run = shop.session().await;
        read_all(&mut next_run, query(None, &[], 50)).await.unwrap();
        assert_eq!(
            shop.sim.token_requests(),
            1,
            "{version}: the first run's token"
        );
        assert_eq!(
            shop.requests() - before,
            1,
            "{version}: neither token nor version asked again"
        );
        assert_eq!(shop.requests_to("/api/_info/version"), 1, "{version}");
        // Without `remember_token` every session starts afresh.
        let mut settings = shop.settings.clone();
        settings["remember_token"] = false.into();
        shop.session_with(settings).await.check().await.unwrap();
        assert_eq!(shop.sim.token_requests(), 2, "{version}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_an_auth_error_that_says_what_to_check() {
    for version in VERSIONS {
        let shop = Shop::demo(version).await;
        let mut session = shop.session_with_secret("not the secret").await;
        let error = plugin_error(session.check().await.unwrap_err());
        let PluginError::Auth(message) = error else {
            panic!("{version}: {error:?}")
        };
        assert!(message.contains("client_secret"), "{message}");
        assert!(
            message.contains("Client authentication failed"),
            "{message}"
        );
    }
}
