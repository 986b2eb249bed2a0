//! The pages: the integration's flows, runs, a run's records, search, waiting records, a dry
//! run's plan, the charts and the sign-in page. Server-rendered with minijinja (HTML escaped);
//! every answer passes [`Mask::scrub`].

use std::sync::Mutex;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use minijinja::value::{Serde, Value};
use minijinja::{Environment, context};
use serde::Deserialize;
use serde_json::json;

use super::mask::Mask;
use super::view::{ActivityView, FlowView, PendingView, RunView, time};
use super::{App, plan};
use crate::state::{Outcome, Run};

/// How many runs the overview and the charts look at.
const RUNS_SHOWN: usize = 30;
/// How many runs are read to find each flow's last one.
const RUNS_READ: usize = 500;
/// How many records a search shows.
const FOUND_SHOWN: usize = 100;
/// How many days the failures chart covers.
const CHART_DAYS: u32 = 14;

/// The templates, the mask and the notes for the next page.
pub struct Pages {
    templates: Environment<'static>,
    pub mask: Mask,
    csrf: String,
    /// The path the dashboard is served under: empty, or `/i/NAME` for a section. Every link
    /// and redirect starts with it (the templates' `base`).
    base: String,
    notices: Mutex<Vec<String>>,
}

impl Pages {
    pub fn new(mask: Mask, csrf: String, base: String) -> Self {
        let mut templates = Environment::new();
        // Safe as it is: a section's path is percent-encoded, nothing in it needs HTML escaping.
        templates.add_global("base", Value::from_safe_string(base.clone()));
        for (name, text) in [
            ("base.html", include_str!("templates/base.html")),
            ("parts.html", include_str!("templates/parts.html")),
            ("overview.html", include_str!("templates/overview.html")),
            ("flow.html", include_str!("templates/flow.html")),
            ("runs.html", include_str!("templates/runs.html")),
            ("run.html", include_str!("templates/run.html")),
            ("search.html", include_str!("templates/search.html")),
            ("waiting.html", include_str!("templates/waiting.html")),
            ("skip.html", include_str!("templates/skip.html")),
            ("plan.html", include_str!("templates/plan.html")),
            ("login.html", include_str!("templates/login.html")),
            ("error.html", include_str!("templates/error.html")),
        ] {
            templates
                .add_template(name, text)
                .expect("the dashboard's templates are valid");
        }
        Pages {
            templates,
            mask,
            csrf,
            base,
            notices: Mutex::default(),
        }
    }

    /// A note shown on the next page ("the run started").
    pub fn notice(&self, text: impl Into<String>) {
        self.notices
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(text.into());
    }

    fn render(&self, status: StatusCode, name: &str, page: serde_json::Value) -> Response {
        let notices: Vec<String> =
            std::mem::take(&mut *self.notices.lock().unwrap_or_else(|e| e.into_inner()));
        let ctx = context! {
            csrf => self.csrf.as_str(),
            notices => Value::from(Serde(notices)),
            redacted => self.mask.redacts(),
            ..Value::from(Serde(page))
        };
        match self
            .templates
            .get_template(name)
            .and_then(|t| t.render(ctx))
        {
            Ok(html) => (status, Html(self.mask.scrub(html))).into_response(),
            Err(e) => {
                tracing::error!("dashboard page {name}: {e:#}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the page could not be made; see the log",
                )
                    .into_response()
            }
        }
    }

    fn ok(&self, name: &str, page: serde_json::Value) -> Response {
        self.render(StatusCode::OK, name, page)
    }

    /// The sign-in page.
    pub fn login(&self, status: StatusCode, wrong: bool) -> Response {
        self.render(
            status,
            "login.html",
            json!({ "title": "Sign in", "wrong": wrong }),
        )
    }

    /// A page that says what went wrong.
    pub fn error(&self, status: StatusCode, message: &str) -> Response {
        let message = self.mask.text(message);
        self.render(
            status,
            "error.html",
            json!({ "title": "Not possible", "message": message }),
        )
    }

    /// A redirect to one of this dashboard's pages, after a form.
    pub fn see_other(&self, path: &str) -> Response {
        see_other(&format!("{}{path}", self.base))
    }
}

/// A page, or the error page.
type Page = Result<Response, Response>;

fn fail(app: &App) -> impl Fn(anyhow::Error) -> Response + '_ {
    |e| {
        app.pages
            .error(StatusCode::INTERNAL_SERVER_ERROR, &format!("{e:#}"))
    }
}

/// A redirect after a form (303, so the browser then GETs).
pub fn see_other(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(
        LOCATION,
        HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/")),
    );
    response
}

/// A flow's page address.
pub fn flow_path(name: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    format!("/flows/{}", encoded.replace('+', "%20"))
}

/// The integration's flows, what waits, the latest runs and the charts.
pub async fn overview(State(app): State<App>) -> Page {
    let fail = fail(&app);
    let now = Utc::now();
    let read = app.state.read().map_err(&fail)?;
    let runs = read.recent_runs(RUNS_READ).map_err(&fail)?;
    let waiting = read.all_pending().map_err(&fail)?;
    let mask = &app.pages.mask;
    let flows: Vec<FlowView> = app
        .integration
        .config
        .flows
        .iter()
        .map(|(name, flow)| {
            let last = runs.iter().find(|r| &r.flow == name);
            FlowView::new(
                name,
                flow,
                app.runner.is_running(name),
                last.map(|r| RunView::new(r, mask, now)),
                &waiting,
                now,
            )
        })
        .collect();
    let recent: Vec<RunView> = runs
        .iter()
        .take(10)
        .map(|r| RunView::new(r, mask, now))
        .collect();
    let waiting: Vec<PendingView> = waiting.iter().map(|p| PendingView::new(p, mask)).collect();
    let connections: Vec<serde_json::Value> = app
        .integration
        .config
        .connections
        .iter()
        .map(|(name, c)| {
            let host = url::Url::parse(&c.url)
                .ok()
                .and_then(|u| u.host_str().map(String::from))
                .unwrap_or_default();
            json!({ "name": name, "plugin": c.plugin, "host": host })
        })
        .collect();
    let running = flows.iter().any(|f| f.running);
    Ok(app.pages.ok(
        "overview.html",
        json!({ "title": "Overview", "flows": flows, "recent": recent, "waiting": waiting, "connections": connections, "refresh": running.then_some(3), "chart_query": "" }),
    ))
}

/// One flow: its schedule, buttons, charts, runs, failures, waiting records and dry runs.
pub async fn flow(State(app): State<App>, Path(name): Path<String>) -> Page {
    let fail = fail(&app);
    let Some(flow) = app.integration.config.flows.get(&name) else {
        return Err(app
            .pages
            .error(StatusCode::NOT_FOUND, &format!("there is no flow {name:?}")));
    };
    let now = Utc::now();
    let read = app.state.read().map_err(&fail)?;
    let mask = &app.pages.mask;
    let runs: Vec<Run> = read
        .recent_runs(RUNS_READ)
        .map_err(&fail)?
        .into_iter()
        .filter(|r| r.flow == name)
        .collect();
    let waiting = read.pending(&name).map_err(&fail)?;
    let last_failures: Vec<ActivityView> = match runs.first() {
        Some(last) => read
            .activity(last.id)
            .map_err(&fail)?
            .iter()
            .filter(|a| a.outcome == Outcome::Failed)
            .map(|a| ActivityView::new(a, mask))
            .collect(),
        None => Vec::new(),
    };
    let running = app.runner.is_running(&name);
    let view = FlowView::new(
        &name,
        flow,
        running,
        runs.first().map(|r| RunView::new(r, mask, now)),
        &waiting,
        now,
    );
    let plans: Vec<serde_json::Value> = app
        .runner
        .plans_of(&name)
        .iter()
        .map(|p| {
            json!({ "id": p.id, "started": time(p.started_at), "done": p.result.is_some(), "summary": match &p.result {
                    Some(Ok(report)) => crate::flows::summary(&report.run.counts),
                    Some(Err(e)) => mask.text(e),
                    None => "running…".into(),
                } })
        })
        .collect();
    let runs: Vec<RunView> = runs
        .iter()
        .take(RUNS_SHOWN)
        .map(|r| RunView::new(r, mask, now))
        .collect();
    let waiting: Vec<PendingView> = waiting.iter().map(|p| PendingView::new(p, mask)).collect();
    let chart_query = format!(
        "?flow={}",
        url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
    );
    Ok(app.pages.ok(
        "flow.html",
        json!({ "title": name, "flow": view, "runs": runs, "waiting": waiting, "last_failures": last_failures, "plans": plans, "running": running, "refresh": running.then_some(2), "chart_query": chart_query }),
    ))
}

#[derive(Deserialize)]
pub struct RunsQuery {
    flow: Option<String>,
    #[serde(default = "runs_limit")]
    limit: usize,
}

fn runs_limit() -> usize {
    100
}

/// The latest runs, of every flow or of one.
pub async fn runs(State(app): State<App>, Query(q): Query<RunsQuery>) -> Page {
    let fail = fail(&app);
    let now = Utc::now();
    let runs: Vec<RunView> = app
        .state
        .read()
        .and_then(|r| r.recent_runs(RUNS_READ))
        .map_err(&fail)?
        .iter()
        .filter(|r| q.flow.as_ref().is_none_or(|f| &r.flow == f))
        .take(q.limit)
        .map(|r| RunView::new(r, &app.pages.mask, now))
        .collect();
    Ok(app.pages.ok(
        "runs.html",
        json!({ "title": "Runs", "runs": runs, "flow": q.flow }),
    ))
}

#[derive(Deserialize)]
pub struct RunQuery {
    outcome: Option<String>,
}

/// One run's records: what came from where, what was sent where, and the answer.
pub async fn run(State(app): State<App>, Path(id): Path<u64>, Query(q): Query<RunQuery>) -> Page {
    let fail = fail(&app);
    let read = app.state.read().map_err(&fail)?;
    let Some(run) = read.run(id).map_err(&fail)? else {
        return Err(app.pages.error(
            StatusCode::NOT_FOUND,
            &format!("there is no run {id} (runs older than the retention are deleted)"),
        ));
    };
    let mask = &app.pages.mask;
    let records: Vec<ActivityView> = read
        .activity(id)
        .map_err(&fail)?
        .iter()
        .filter(|a| q.outcome.as_ref().is_none_or(|o| a.outcome.as_str() == o))
        .map(|a| ActivityView::new(a, mask))
        .collect();
    let unchanged = run.counts.get(&Outcome::Unchanged).copied().unwrap_or(0);
    let running = run.finished_at.is_none() && app.runner.is_running(&run.flow);
    let view = RunView::new(&run, mask, Utc::now());
    Ok(app.pages.ok(
        "run.html",
        json!({ "title": format!("Run {id}"), "run": view, "records": records, "unchanged": unchanged, "outcome": q.outcome, "refresh": running.then_some(2) }),
    ))
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// Records found by order number, SKU, e-mail address or any text in them.
pub async fn search(State(app): State<App>, Query(q): Query<SearchQuery>) -> Page {
    let fail = fail(&app);
    let text = q.q.trim().to_string();
    let mask = &app.pages.mask;
    let (found, waiting) = if text.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let read = app.state.read().map_err(&fail)?;
        let needle = text.to_lowercase();
        let waiting: Vec<PendingView> = read
            .all_pending()
            .map_err(&fail)?
            .iter()
            .filter(|p| {
                p.key.to_lowercase().contains(&needle)
                    || p.record.to_string().to_lowercase().contains(&needle)
            })
            .map(|p| PendingView::new(p, mask))
            .collect();
        let found: Vec<ActivityView> = app
            .state
            .search_activity(&text, FOUND_SHOWN)
            .map_err(&fail)?
            .iter()
            .map(|a| ActivityView::new(a, mask))
            .collect();
        (found, waiting)
    };
    Ok(app.pages.ok(
        "search.html",
        json!({ "title": "Search", "q": text, "found": found, "waiting": waiting, "limit": FOUND_SHOWN }),
    ))
}

/// Every parked and failed record, with Retry and Skip.
pub async fn waiting(State(app): State<App>) -> Page {
    let fail = fail(&app);
    let waiting: Vec<PendingView> = app
        .state
        .read()
        .and_then(|r| r.all_pending())
        .map_err(&fail)?
        .iter()
        .map(|p| PendingView::new(p, &app.pages.mask))
        .collect();
    Ok(app.pages.ok(
        "waiting.html",
        json!({ "title": "Waiting", "waiting": waiting }),
    ))
}

#[derive(Deserialize)]
pub struct RecordQuery {
    pub flow: String,
    pub key: String,
}

/// Asks before a record is given up on.
pub async fn confirm_skip(State(app): State<App>, Query(q): Query<RecordQuery>) -> Page {
    let fail = fail(&app);
    let Some(pending) = app
        .state
        .read()
        .and_then(|r| r.pending_one(&q.flow, &q.key))
        .map_err(&fail)?
    else {
        return Err(app.pages.error(
            StatusCode::NOT_FOUND,
            &format!("{}/{} is not waiting", q.flow, q.key),
        ));
    };
    let record = PendingView::new(&pending, &app.pages.mask);
    Ok(app.pages.ok(
        "skip.html",
        json!({ "title": "Skip a record", "record": record }),
    ))
}

/// A dry run's plan: per record what would be created, updated (old → new), skipped or fail.
pub async fn plan(State(app): State<App>, Path(id): Path<u64>) -> Page {
    let fail = fail(&app);
    let Some(found) = app.runner.plan(id) else {
        return Err(app.pages.error(
            StatusCode::NOT_FOUND,
            &format!("there is no dry run {id} (only the latest are kept, until tillbridge stops)"),
        ));
    };
    let mask = &app.pages.mask;
    let (rows, summary, unchanged, error, notes) = match &found.result {
        None => (Vec::new(), String::new(), 0, None, Vec::new()),
        Some(Err(e)) => (Vec::new(), String::new(), 0, Some(mask.text(e)), Vec::new()),
        Some(Ok(report)) => {
            let written = app
                .state
                .read()
                .and_then(|r| plan::last_written(&r, &found.flow))
                .map_err(&fail)?;
            (
                plan::rows(report, &written, mask),
                crate::flows::summary(&report.run.counts),
                report
                    .run
                    .counts
                    .get(&Outcome::Unchanged)
                    .copied()
                    .unwrap_or(0),
                report.run.error.as_deref().map(|e| mask.text(e)),
                report.run.notes.clone(),
            )
        }
    };
    Ok(app.pages.ok(
        "plan.html",
        json!({ "title": format!("Dry run of {}", found.flow), "id": id, "flow": found.flow, "started": time(found.started_at), "done": found.result.is_some(), "refresh": found.result.is_none().then_some(2), "rows": rows, "summary": summary, "unchanged": unchanged, "error": error, "notes": notes }),
    ))
}

#[derive(Deserialize)]
pub struct ChartQuery {
    flow: Option<String>,
}

fn chart_runs(app: &App, flow: Option<&str>) -> anyhow::Result<Vec<Run>> {
    let mut runs: Vec<Run> = app
        .state
        .read()?
        .recent_runs(RUNS_READ)?
        .into_iter()
        .filter(|r| flow.is_none_or(|f| r.flow == f))
        .collect();
    runs.reverse();
    Ok(runs)
}

fn svg(app: &App, made: anyhow::Result<String>) -> Response {
    match made {
        Ok(svg) => (
            [(CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"))],
            app.pages.mask.scrub(svg),
        )
            .into_response(),
        Err(e) => {
            tracing::error!("dashboard chart: {e:#}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Records per run, the latest runs, by outcome.
pub async fn records_chart(State(app): State<App>, Query(q): Query<ChartQuery>) -> Response {
    let made = chart_runs(&app, q.flow.as_deref()).and_then(|runs| {
        let from = runs.len().saturating_sub(RUNS_SHOWN);
        super::charts::records_per_run(&runs[from..])
    });
    svg(&app, made)
}

/// Failed and parked records per day.
pub async fn failures_chart(State(app): State<App>, Query(q): Query<ChartQuery>) -> Response {
    let made = chart_runs(&app, q.flow.as_deref())
        .and_then(|runs| super::charts::failures_over_time(&runs, CHART_DAYS));
    svg(&app, made)
}

/// The style sheet.
pub async fn style() -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("text/css"))],
        include_str!("templates/style.css"),
    )
        .into_response()
}

/// The sign-in page.
pub async fn login_page(State(app): State<App>) -> Response {
    app.pages.login(StatusCode::OK, false)
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
}

/// Signs a browser in with the token.
pub async fn login(State(app): State<App>, Form(form): Form<LoginForm>) -> Response {
    if !app.auth.is_token(form.token.trim()) {
        return app.pages.login(StatusCode::UNAUTHORIZED, true);
    }
    let mut response = app.pages.see_other("/");
    response
        .headers_mut()
        .insert(SET_COOKIE, app.auth.session_cookie());
    response
}

/// Any other address.
pub async fn not_found(State(app): State<App>) -> Response {
    app.pages
        .error(StatusCode::NOT_FOUND, "there is no such page")
}
