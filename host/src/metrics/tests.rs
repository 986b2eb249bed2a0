use std::time::Duration;

use super::*;

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn families_are_named_and_labelled_as_prometheus_expects() {
    let metrics = Metrics::new();
    let shop = metrics.integration("acme").system("shop");
    shop.request("search product", Ok(200));
    shop.request("search product", Ok(200));
    shop.request("GET", Err("the connection failed"));
    shop.waited(Duration::from_millis(1500));
    shop.plugin_call("shopware@shop", "read_orders", Duration::from_millis(3));
    let text = metrics.encode();
    assert_eq!(
        value(
            &text,
            r#"tillbridge_http_requests_total{integration="acme",system="shop",operation="search product",status="200"}"#
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            r#"tillbridge_http_requests_total{integration="acme",system="shop",operation="GET",status="error"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            r#"tillbridge_rate_limit_wait_seconds_total{integration="acme",system="shop"}"#
        ),
        Some(1.5)
    );
    assert_eq!(
        value(
            &text,
            r#"tillbridge_plugin_call_seconds_count{integration="acme",plugin="shopware@shop",function="read_orders"}"#
        ),
        Some(1.0)
    );
}

#[test]
fn operations_beyond_the_cap_are_counted_as_other() {
    let metrics = Metrics::new();
    let pos = metrics.integration("acme").system("pos");
    for i in 0..MAX_OPERATIONS + 5 {
        pos.request(&format!("GET /products/{i}"), Ok(200));
    }
    let text = metrics.encode();
    let series = text
        .lines()
        .filter(|l| l.starts_with("tillbridge_http_requests_total{"))
        .count();
    assert_eq!(series, MAX_OPERATIONS + 1);
    assert_eq!(
        value(
            &text,
            r#"tillbridge_http_requests_total{integration="acme",system="pos",operation="other",status="200"}"#
        ),
        Some(5.0)
    );
}

#[test]
fn a_refused_or_unreachable_system_makes_the_integration_not_ready_until_it_answers() {
    let metrics = Metrics::new();
    let acme = metrics.integration("acme");
    let shop = acme.system("shop");
    shop.request("search order", Ok(401));
    let reasons = acme.not_ready();
    assert!(
        reasons.contains(&"acme: connection shop: its credentials were refused (401)".to_string()),
        "{reasons:?}"
    );
    shop.request("search order", Ok(200));
    assert!(!acme.not_ready().iter().any(|r| r.contains("shop")));
    shop.request("search order", Err("no answer in time"));
    assert!(
        acme.not_ready()
            .iter()
            .any(|r| r.contains("no answer in time"))
    );
}
