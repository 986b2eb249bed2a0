//! Errors mapped to the WIT variant: rate limits with their wait, passing failures, refused
//! tokens, missing privileges.

use tillbridge_sim::common::Fault;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_rate_limited_with_retry_after() {
    let shop = Shop::demo(ApiVersion::V6_6).await;
    shop.sim
        .faults()
        .add(Fault::status("/api/search/*", 429).retry_after(2));
    let mut session = shop.session().await;
    let error = plugin_error(
        session
            .read_orders(&query(None, &[], 50))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        error,
        PluginError::RateLimited(2_000),
        "the shop's wait, for the flow"
    );
    assert_eq!(
        shop.requests_to("/api/search/order"),
        5,
        "after the host's four resends"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_transient_after_the_hosts_resends() {
    let shop = Shop::demo(ApiVersion::V6_6).await;
    shop.sim
        .faults()
        .add(Fault::status("/api/_action/sync", 503));
    let mut session = shop.session().await;
    let error = plugin_error(
        session
            .write_stock(&[StockUpdate {
                sku: "TB-MUG-01".into(),
                quantity: 1,
                managed: true,
            }])
            .await
            .unwrap_err(),
    );
    assert!(matches!(error, PluginError::Transient(_)), "{error:?}");
    let syncs = shop.requests_to("/api/_action/sync");
    assert_eq!(syncs, 5, "idempotent: the host sent it again four times");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_after_a_new_token_is_an_auth_error() {
    for version in VERSIONS {
        let shop = Shop::demo(version).await;
        shop.sim
            .faults()
            .add(Fault::status("/api/search/order", 401));
        let mut session = shop.session().await;
        let error = plugin_error(
            session
                .read_orders(&query(None, &[], 50))
                .await
                .unwrap_err(),
        );
        assert!(
            matches!(error, PluginError::Auth(_)),
            "{version}: {error:?}"
        );
        assert_eq!(
            shop.sim.token_requests(),
            2,
            "{version}: one new token, then given up"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_privilege_is_named() {
    let shop = Shop::demo(ApiVersion::V6_6).await;
    shop.sim
        .restrict_privileges(Some(&["order:read", "sales_channel:read"]));
    let mut session = shop.session().await;
    let error = plugin_error(
        session
            .read_orders(&query(None, &[], 50))
            .await
            .unwrap_err(),
    );
    let PluginError::Auth(message) = error else {
        panic!("{error:?}")
    };
    assert!(message.contains("order_customer:read"), "{message}");
    assert!(
        message.contains("Settings › System › Integrations"),
        "{message}"
    );
}
