//! The merchant's console (FLOWS.md §4.2, §5), served by `tillbridge run` and
//! `tillbridge demo --serve`: one page that says what went where, what failed and why, and one
//! button to fix it. The integration's flows with their schedule, last run and waiting records;
//! runs; a run's records with what came from where, what was sent where and the answer; search
//! by order number, SKU or e-mail; Retry and Skip for parked and failed records; Run now and Dry
//! run per flow, the dry run as a per-record plan; charts of records per run and failures over
//! time.
//!
//! Plain server-rendered HTML (axum, minijinja), no script, nothing loaded from elsewhere. It
//! listens on 127.0.0.1 unless told otherwise, and every page and action needs the token
//! ([`auth`]); no page shows a secret, and personal data is masked when the activity log is
//! redacted ([`mask`]).

mod actions;
mod api;
mod auth;
mod charts;
pub mod client;
pub(crate) mod mask;
mod pages;
mod plan;
mod runner;
mod sections;
mod view;

use std::net::SocketAddr;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::flows::Events;
use crate::integration::Integration;
use crate::scheduler::FlowLocks;
use crate::state::State;
use auth::Auth;
use client::{Discovery, discovery_path};
use mask::Mask;
use pages::Pages;
use runner::Runner;
pub use sections::Sections;

/// What the handlers share.
pub struct Inner {
    integration: Arc<Integration>,
    state: State,
    runner: Runner,
    auth: Auth,
    pages: Pages,
}

/// The dashboard's shared state, cheap to clone.
#[derive(Clone)]
pub struct App(Arc<Inner>);

impl Deref for App {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Where a dashboard is served.
pub enum Place {
    /// On a listener of its own, as flows.toml's `[dashboard]` says.
    Own,
    /// As integration NAME's section of the process's listener (`run --integrations … --listen`).
    Section(Sections, String),
}

/// A dashboard being served.
pub struct Served {
    /// Its address, e.g. `http://127.0.0.1:8780/`.
    pub url: String,
    /// The token it asks for.
    pub token: String,
    /// Whether the token was generated at start (and so may be printed).
    pub token_generated: bool,
    server: Server,
    discovery: PathBuf,
}

/// What serves a dashboard.
enum Server {
    /// Its own listener's task.
    Own(JoinHandle<()>),
    /// A section of the process's listener.
    Section(Sections, String),
}

impl Served {
    /// The address that signs a browser in (carries the token).
    pub fn sign_in_url(&self) -> String {
        format!("{}?token={}", self.url, self.token)
    }

    /// Waits until the server has stopped (after the shutdown token given to [`serve`]).
    pub async fn stopped(self) {
        match self.server {
            Server::Own(task) => {
                if let Err(e) = task.await {
                    tracing::error!("the dashboard ended abnormally: {e}");
                }
            }
            Server::Section(sections, name) => sections.remove(&name),
        }
        let _ = std::fs::remove_file(&self.discovery);
    }
}

/// Serves the dashboard of `integration` at `place` (on its own, as flows.toml's `[dashboard]`
/// says), until `shutdown`. Runs it starts take `locks`, as the scheduler's do; the command line
/// finds it through a file beside the state file.
pub async fn serve(
    integration: Arc<Integration>,
    state: State,
    locks: FlowLocks,
    shutdown: CancellationToken,
    events: Events,
    place: Place,
) -> Result<Served> {
    let config = &integration.config;
    let settings = &config.dashboard;
    let (token, token_generated) = match &settings.token {
        Some(token) => (token.trim().to_string(), false),
        None => (Auth::generate_token(), true),
    };
    let (listener, url, base) = match &place {
        Place::Own => {
            let listener = listen(settings.address(), settings.listen_given).await?;
            let url = format!("http://{}/", listener.local_addr()?);
            (Some(listener), url, String::new())
        }
        Place::Section(sections, name) => (None, sections.url(name), Sections::base(name)),
    };
    let auth = Auth::new(token.clone(), &base);
    let mask = Mask::new(config, &[auth.token()]);
    let pages = Pages::new(mask, auth.csrf().to_string(), base);
    let runner = Runner::new(
        integration.clone(),
        state.clone(),
        locks,
        shutdown.clone(),
        events,
    );
    let discovery = discovery_path(&config.resolve_path(&config.host.state));
    Discovery {
        url: url.clone(),
        token: token.clone(),
        pid: std::process::id(),
    }
    .write(&discovery)?;
    let app = App(Arc::new(Inner {
        integration,
        state,
        runner,
        auth,
        pages,
    }));
    let server = match (place, listener) {
        (Place::Section(sections, name), _) => {
            sections.insert(&name, routes(app));
            Server::Section(sections, name)
        }
        (Place::Own, listener) => {
            let listener = listener.context("a dashboard of its own has its listener")?;
            // Its own listener also answers /healthz, /readyz and /metrics (a process of many
            // integrations answers those once, for all).
            let router = routes(app.clone()).merge(crate::metrics::routes(
                app.integration.metrics.registry().clone(),
            ));
            Server::Own(tokio::spawn(async move {
                let stop = shutdown.cancelled_owned();
                if let Err(e) = axum::serve(listener, router)
                    .with_graceful_shutdown(stop)
                    .await
                {
                    tracing::error!("the dashboard stopped: {e}");
                }
            }))
        }
    };
    Ok(Served {
        url,
        token,
        token_generated,
        server,
        discovery,
    })
}

/// Listens on `address`; on the default address, when its port is taken (by another
/// tillbridge), on another free port of this machine.
async fn listen(address: SocketAddr, given: bool) -> Result<TcpListener> {
    match TcpListener::bind(address).await {
        Ok(listener) => Ok(listener),
        Err(e) if !given && e.kind() == std::io::ErrorKind::AddrInUse => {
            tracing::warn!("the dashboard's default port {address} is taken; it listens on another (set [dashboard] listen to choose)");
            Ok(TcpListener::bind(SocketAddr::new(address.ip(), 0)).await?)
        }
        Err(e) => Err(e).with_context(|| {
            format!("the dashboard cannot listen on {address}: set another address in [dashboard] listen")
        }),
    }
}

fn routes(app: App) -> Router {
    Router::new()
        .route("/", get(pages::overview))
        .route("/flows/{name}", get(pages::flow))
        .route("/runs", get(pages::runs))
        .route("/runs/{id}", get(pages::run))
        .route("/search", get(pages::search))
        .route("/waiting", get(pages::waiting))
        .route("/waiting/skip", get(pages::confirm_skip))
        .route("/plans/{id}", get(pages::plan))
        .route("/charts/records.svg", get(pages::records_chart))
        .route("/charts/failures.svg", get(pages::failures_chart))
        .route("/static/style.css", get(pages::style))
        .route("/login", get(pages::login_page).post(pages::login))
        .route("/actions/run", post(actions::run_now))
        .route("/actions/dry-run", post(actions::dry_run))
        .route("/actions/retry", post(actions::retry))
        .route("/actions/skip", post(actions::skip))
        .route("/api/runs", get(api::runs))
        .route("/api/runs/{id}", get(api::run))
        .route("/api/activity", get(api::search))
        .route("/api/pending", get(api::pending))
        .route("/api/retry", post(api::retry))
        .route("/api/skip", post(api::skip))
        .route("/api/state/check", get(api::check_state))
        .route("/api/state/backup", post(api::backup_state))
        .route("/api/state/restore", post(api::restore_state))
        .fallback(pages::not_found)
        .layer(middleware::from_fn_with_state(
            app.clone(),
            auth::require_token,
        ))
        .layer(middleware::from_fn(auth::security_headers))
        .with_state(app)
}
