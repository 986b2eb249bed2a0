//! The listener of `run --integrations … --listen ADDR`: `/healthz` and `/metrics` of the whole
//! process, `/readyz`, and `/` listing each integration with its status. None needs a token and
//! none shows a secret, a reason or record data (a broken integration's reason is in the log).
//! Each running integration's dashboard is under `/i/NAME/`, behind its own token
//! ([`Sections`]).
//!
//! Readiness is the process's, not a merchant's: ready once every integration has started or been
//! found broken. One shop's broken configuration or unreachable system must not hold a rolling
//! update of every shard; `tillbridge_integration_up` and the connection metrics show those.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use tokio_util::sync::CancellationToken;

use crate::dashboard::Sections;
use crate::metrics::Metrics;

/// Where an integration of the folder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not tried yet.
    Starting,
    /// Its flows run on their schedules.
    Running,
    /// It cannot start; tried again when its files change.
    Broken,
    /// Its daemon ended with an error.
    Stopped,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Starting => "starting",
            Status::Running => "running",
            Status::Broken => "broken (the reason is in the log)",
            Status::Stopped => "stopped (the reason is in the log)",
        }
    }
}

/// Each integration's status, by name; also kept as `tillbridge_integration_up`.
#[derive(Clone)]
pub struct Board {
    statuses: Arc<Mutex<BTreeMap<String, Status>>>,
    metrics: Metrics,
}

impl Board {
    /// Every one of `names` starting.
    pub fn new(names: &[String], metrics: Metrics) -> Board {
        let statuses = names
            .iter()
            .map(|n| (n.clone(), Status::Starting))
            .collect();
        Board {
            statuses: Arc::new(Mutex::new(statuses)),
            metrics,
        }
    }

    /// Integration `name` is now `status`.
    pub fn set(&self, name: &str, status: Status) {
        self.metrics.set_up(name, status == Status::Running);
        self.lock().insert(name.to_string(), status);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Status>> {
        self.statuses.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Serves on `listen` until `shutdown`; the integrations' dashboards go into the sections it
/// returns.
pub async fn serve(listen: &str, board: Board, shutdown: CancellationToken) -> Result<Sections> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (--listen)"))?;
    let origin = format!("http://{}", listener.local_addr()?);
    tracing::info!(
        "health, readiness and metrics on {origin}/ (/healthz, /readyz, /metrics); each \
         integration's dashboard on {origin}/i/NAME/"
    );
    let sections = Sections::new(origin);
    let app = Router::new()
        .route("/", get(index))
        .route("/readyz", get(ready))
        .with_state(board.clone())
        .merge(sections.routes())
        .merge(crate::metrics::alive_and_scraped(board.metrics.clone()));
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
        if let Err(e) = served {
            tracing::error!("the listener stopped: {e}");
        }
    });
    Ok(sections)
}

/// One line per integration: its name, its status and, while it runs, its dashboard's path.
async fn index(State(board): State<Board>) -> String {
    board
        .lock()
        .iter()
        .map(|(name, status)| match status {
            Status::Running => format!("{name}\t{}\t{}/\n", status.word(), Sections::base(name)),
            _ => format!("{name}\t{}\n", status.word()),
        })
        .collect()
}

async fn ready(State(board): State<Board>) -> (StatusCode, String) {
    let starting: Vec<String> = board
        .lock()
        .iter()
        .filter(|(_, s)| **s == Status::Starting)
        .map(|(name, _)| name.clone())
        .collect();
    if starting.is_empty() {
        (StatusCode::OK, "ready\n".into())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: still starting {}\n", starting.join(", ")),
        )
    }
}
