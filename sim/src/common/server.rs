//! Serving a simulator: on a port (0 for any free one), with the journal and fault layer around
//! every route and the `/__sim/` control routes beside them.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{Fault, Faults, Journal, JournalEntry};

/// Bodies above this size are refused, as a real server would.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Turns an injected fault's status (and `Retry-After` seconds) into the answer a simulator's
/// real counterpart would give, in its own error format.
pub type FaultAnswer = fn(u16, Option<u64>) -> Response;

/// The journal and fault rules of one simulator, shared by its layer and its control routes.
pub struct Instrumentation {
    /// Every request answered.
    pub journal: Journal,
    /// The fault rules.
    pub faults: Faults,
    fault_answer: FaultAnswer,
}

impl Instrumentation {
    /// Empty journal, no faults; `seed` drives the random choices of probabilistic faults.
    pub fn new(seed: u64, fault_answer: FaultAnswer) -> Arc<Self> {
        Arc::new(Instrumentation {
            journal: Journal::default(),
            faults: Faults::new(seed),
            fault_answer,
        })
    }
}

/// Wraps a simulator's routes: every request is journaled and may be hit by a fault, and
/// `/__sim/journal` and `/__sim/faults` are added.
pub fn instrument(routes: Router, instrumentation: Arc<Instrumentation>) -> Router {
    let control = Router::new()
        .route("/__sim/journal", get(journal).delete(clear_journal))
        .route(
            "/__sim/faults",
            get(list_faults).post(add_faults).delete(clear_faults),
        )
        .with_state(instrumentation.clone());
    routes
        .layer(middleware::from_fn_with_state(
            instrumentation,
            journal_and_faults,
        ))
        .merge(control)
}

async fn journal_and_faults(
    State(inst): State<Arc<Instrumentation>>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response(),
    };
    let method = parts.method.to_string();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let accept = parts
        .headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let verdict = inst.faults.decide(&method, &path);
    if let Some(delay) = verdict.delay {
        tokio::time::sleep(delay).await;
    }
    let (response, fault) = match verdict.status {
        Some((status, retry_after)) => {
            let mut response = (inst.fault_answer)(status, retry_after);
            if let Some(secs) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", HeaderValue::from(secs));
            }
            (response, true)
        }
        None => (
            next.run(Request::from_parts(parts, Body::from(bytes.clone())))
                .await,
            false,
        ),
    };
    inst.journal.record(JournalEntry {
        seq: 0,
        at: Utc::now(),
        method,
        path,
        query,
        accept,
        body: body_as_json(&bytes),
        status: response.status().as_u16(),
        fault,
    });
    response
}

fn body_as_json(bytes: &Bytes) -> Option<serde_json::Value> {
    if bytes.is_empty() {
        return None;
    }
    Some(
        serde_json::from_slice(bytes).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(bytes).into_owned())
        }),
    )
}

async fn journal(State(inst): State<Arc<Instrumentation>>) -> Json<Vec<JournalEntry>> {
    Json(inst.journal.entries())
}

async fn clear_journal(State(inst): State<Arc<Instrumentation>>) -> StatusCode {
    inst.journal.clear();
    StatusCode::NO_CONTENT
}

async fn list_faults(State(inst): State<Arc<Instrumentation>>) -> Json<Vec<Fault>> {
    Json(inst.faults.list())
}

async fn add_faults(
    State(inst): State<Arc<Instrumentation>>,
    Json(faults): Json<Vec<Fault>>,
) -> StatusCode {
    for fault in faults {
        inst.faults.add(fault);
    }
    StatusCode::NO_CONTENT
}

async fn clear_faults(State(inst): State<Arc<Instrumentation>>) -> StatusCode {
    inst.faults.clear();
    StatusCode::NO_CONTENT
}

/// A simulator serving in the background; it stops when this is dropped or [`Self::stop`]ped.
pub struct RunningServer {
    /// "http://127.0.0.1:PORT", without a trailing slash.
    pub base_url: String,
    /// The address it listens on.
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// Stops serving and waits until the server has shut down.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Serves `app` on `addr` (port 0 picks a free port) in a background task.
pub async fn serve(app: Router, addr: SocketAddr) -> anyhow::Result<RunningServer> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = rx.await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!("simulator server stopped: {e}");
        }
    });
    Ok(RunningServer {
        base_url: format!("http://{addr}"),
        addr,
        shutdown: Some(tx),
        task: Some(task),
    })
}
