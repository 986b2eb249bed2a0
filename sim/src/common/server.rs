//! Serving a simulator: on a port (0 for any free one), with the journal and fault layer around
//! every route and the `/__sim/` control routes beside them. Connections can be cut by a fault
//! (closed without an answer), and a handler that panics is answered 500 while serving goes on.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::{IncomingStream, Listener};
use chrono::Utc;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_http::catch_panic::CatchPanicLayer;

use super::{Fault, Faults, Journal, JournalEntry};

/// Bodies above this size are refused, as a real server would.
pub const MAX_BODY: usize = 64 * 1024 * 1024;

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

/// Wraps a simulator's routes: every request is journaled and may be hit by a fault, a handler
/// that panics is answered 500 in the simulator's error format (and journaled) while the server
/// goes on serving, and `/__sim/journal` and `/__sim/faults` are added.
pub fn instrument(routes: Router, instrumentation: Arc<Instrumentation>) -> Router {
    let fault_answer = instrumentation.fault_answer;
    let control = Router::new()
        .route("/__sim/journal", get(journal).delete(clear_journal))
        .route(
            "/__sim/faults",
            get(list_faults).post(add_faults).delete(clear_faults),
        )
        .with_state(instrumentation.clone());
    routes
        .layer(CatchPanicLayer::custom(move |_| fault_answer(500, None)))
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
    let connection = parts
        .extensions
        .get::<ConnectInfo<Connection>>()
        .map(|info| info.0.clone());
    if !verdict.after_write
        && let Some(delay) = verdict.delay
    {
        tokio::time::sleep(delay).await;
    }
    let fault = verdict.status.is_some() || verdict.drop_connection || verdict.body.is_some();
    let fails_instead = !verdict.after_write && fault;
    let mut response = if fails_instead {
        None
    } else {
        let request = Request::from_parts(parts, Body::from(bytes.clone()));
        Some(next.run(request).await)
    };
    if verdict.after_write
        && let Some(delay) = verdict.delay
    {
        tokio::time::sleep(delay).await;
    }
    if let Some(body) = verdict.body {
        let status = verdict.status.map_or(200, |(status, _)| status);
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        let json = [(axum::http::header::CONTENT_TYPE, "application/json")];
        response = Some((status, json, body).into_response());
    } else if let Some((status, retry_after)) = verdict.status {
        let mut answer = (inst.fault_answer)(status, retry_after);
        if let Some(secs) = retry_after {
            answer
                .headers_mut()
                .insert("retry-after", HeaderValue::from(secs));
        }
        response = Some(answer);
    }
    if verdict.drop_connection
        && let Some(connection) = connection
    {
        connection.cut();
    }
    // Without a handled answer only a dropped connection is left, which sends nothing.
    let response = response.unwrap_or_else(|| (inst.fault_answer)(500, None));
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
    let listener = CuttableListener(tokio::net::TcpListener::bind(addr).await?);
    let addr = listener.0.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = rx.await;
        };
        let app = app.into_make_service_with_connect_info::<Connection>();
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

/// One client connection, as the fault layer sees it: it can be cut, so that the answer to the
/// request at hand never leaves and the client sees the connection close.
#[derive(Debug, Clone, Default)]
pub struct Connection(Arc<AtomicBool>);

impl Connection {
    fn cut(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn is_cut(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl Connected<IncomingStream<'_, CuttableListener>> for Connection {
    fn connect_info(stream: IncomingStream<'_, CuttableListener>) -> Self {
        stream.io().connection.clone()
    }
}

/// A TCP listener whose connections can be cut.
struct CuttableListener(tokio::net::TcpListener);

impl Listener for CuttableListener {
    type Io = CuttableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = Listener::accept(&mut self.0).await;
        let stream = CuttableStream {
            stream,
            connection: Connection::default(),
        };
        (stream, addr)
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Listener::local_addr(&self.0)
    }
}

/// A TCP stream that fails every read and write once its connection is cut, so the server
/// closes it without sending what it was about to.
struct CuttableStream {
    stream: TcpStream,
    connection: Connection,
}

impl CuttableStream {
    fn check(&self) -> std::io::Result<()> {
        if self.connection.is_cut() {
            Err(std::io::ErrorKind::ConnectionAborted.into())
        } else {
            Ok(())
        }
    }
}

impl AsyncRead for CuttableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for CuttableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    use axum::routing::post;

    use super::*;
    use crate::common::Fault;

    fn plain_answer(status: u16, _: Option<u64>) -> Response {
        StatusCode::from_u16(status).unwrap().into_response()
    }

    async fn panicking() -> StatusCode {
        panic!("a handler bug")
    }

    /// A server whose `POST /write` counts its writes and whose `GET /panic` panics.
    async fn server() -> (RunningServer, Arc<Instrumentation>, Arc<AtomicUsize>) {
        let writes = Arc::new(AtomicUsize::new(0));
        let counter = writes.clone();
        let routes = Router::new()
            .route(
                "/write",
                post(move || async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    StatusCode::CREATED
                }),
            )
            .route("/panic", get(panicking));
        let inst = Instrumentation::new(1, plain_answer);
        let app = instrument(routes, inst.clone());
        let server = serve(app, SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        (server, inst, writes)
    }

    fn client() -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .timeout(Duration::from_millis(500))
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn a_panicking_handler_is_answered_500_and_serving_goes_on() {
        let (server, inst, writes) = server().await;
        let http = client();
        for _ in 0..3 {
            let res = http.get(format!("{}/panic", server.base_url)).send().await;
            assert_eq!(res.unwrap().status(), 500);
        }
        let res = http.post(format!("{}/write", server.base_url)).send().await;
        assert_eq!(res.unwrap().status(), 201);
        assert_eq!(writes.load(Ordering::SeqCst), 1);
        assert_eq!(inst.journal.entries()[0].status, 500, "journaled");
    }

    #[tokio::test]
    async fn faults_after_the_write_keep_the_write_and_fail_the_answer() {
        let (server, inst, writes) = server().await;
        let http = client();
        let write = || http.post(format!("{}/write", server.base_url)).send();

        inst.faults
            .add(Fault::status("/write", 503).after_write().times(1));
        assert_eq!(write().await.unwrap().status(), 503);
        assert_eq!(writes.load(Ordering::SeqCst), 1, "kept, answered 503");

        inst.faults
            .add(Fault::drop_connection("/write").after_write().times(1));
        let dropped = write().await.unwrap_err();
        assert!(!dropped.is_timeout() && dropped.is_request(), "{dropped:?}");
        assert_eq!(writes.load(Ordering::SeqCst), 2, "kept, connection closed");

        inst.faults
            .add(Fault::latency("/write", 2_000).after_write().times(1));
        assert!(write().await.unwrap_err().is_timeout());
        assert_eq!(writes.load(Ordering::SeqCst), 3, "kept, answered too late");

        // Before the write (the default), nothing is kept.
        inst.faults.add(Fault::drop_connection("/write").times(1));
        assert!(write().await.is_err());
        inst.faults.add(Fault::status("/write", 500).times(1));
        assert_eq!(write().await.unwrap().status(), 500);
        assert_eq!(writes.load(Ordering::SeqCst), 3);
        assert_eq!(write().await.unwrap().status(), 201);
    }

    #[tokio::test]
    async fn a_body_fault_replaces_the_answer_before_or_after_the_write() {
        let (server, inst, writes) = server().await;
        let http = client();
        let write = || http.post(format!("{}/write", server.base_url)).send();
        let bomb = "[".repeat(10_000);

        inst.faults
            .add(Fault::answer("/write", &bomb).after_write().times(1));
        let answer = write().await.unwrap();
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.text().await.unwrap(), bomb);
        assert_eq!(
            writes.load(Ordering::SeqCst),
            1,
            "kept, answered with the body"
        );

        inst.faults.add(Fault::answer("/write", "{}").times(1));
        assert_eq!(write().await.unwrap().text().await.unwrap(), "{}");
        assert_eq!(writes.load(Ordering::SeqCst), 1, "not handled");
        assert!(inst.journal.entries().iter().all(|e| e.fault));
    }
}
