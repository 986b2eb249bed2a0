//! `/healthz`, `/readyz` and `/metrics`, served without the dashboard's token: probes and
//! Prometheus scrape without a browser session. None of them shows a secret or record data.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::Metrics;

/// The routes of one integration's daemon, to merge into a router outside its authentication.
pub fn routes<S: Clone + Send + Sync + 'static>(metrics: Metrics) -> Router<S> {
    Router::new()
        .route("/readyz", get(ready))
        .with_state(metrics.clone())
        .merge(alive_and_scraped(metrics))
}

/// `/healthz` and `/metrics`: what every listener of the process serves, whatever its readiness.
pub fn alive_and_scraped<S>(metrics: Metrics) -> Router<S> {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(scrape))
        .with_state(metrics)
}

/// 200 when every integration's configuration and plugins loaded (it is registered only then),
/// its state file reads and every system answered its last request; else 503 and why.
async fn ready(State(metrics): State<Metrics>) -> impl IntoResponse {
    let reasons: Vec<String> = metrics
        .integrations()
        .iter()
        .flat_map(|i| i.not_ready())
        .collect();
    if reasons.is_empty() {
        (StatusCode::OK, "ready\n".to_string())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready:\n{}\n", reasons.join("\n")),
        )
    }
}

async fn scrape(State(metrics): State<Metrics>) -> impl IntoResponse {
    let text = tokio::task::spawn_blocking(move || metrics.encode())
        .await
        .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
}
