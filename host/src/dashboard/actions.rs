//! The buttons: **Run now**, **Dry run**, **Retry** and **Skip**. Each is a POST form with the
//! CSRF token; without it (or with a wrong one) nothing happens.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::App;
use super::pages::flow_path;
use super::runner::NotStarted;

/// What every button sends.
#[derive(Deserialize)]
pub struct Action {
    #[serde(default)]
    csrf: String,
    flow: String,
    #[serde(default)]
    key: String,
}

impl Action {
    /// The refusal of a form without the right CSRF token.
    fn refused(&self, app: &App) -> Option<Response> {
        (!app.auth.is_csrf(&self.csrf)).then(|| {
            app.pages.error(
                StatusCode::FORBIDDEN,
                "this form did not come from the dashboard (its CSRF token is missing or wrong); nothing was done — reload the page and try again",
            )
        })
    }
}

fn not_started(app: &App, flow: &str, why: NotStarted) -> Response {
    let message = match why {
        NotStarted::UnknownFlow => format!("there is no flow {flow:?}"),
        NotStarted::Busy => format!(
            "{flow} is running now; nothing else was started (runs of one flow never overlap): wait for it to end and press the button again"
        ),
        NotStarted::ShuttingDown => "tillbridge is stopping; nothing was started".into(),
    };
    let status = match why {
        NotStarted::UnknownFlow => StatusCode::NOT_FOUND,
        _ => StatusCode::CONFLICT,
    };
    app.pages.error(status, &message)
}

/// Runs a flow now.
pub async fn run_now(State(app): State<App>, Form(action): Form<Action>) -> Response {
    if let Some(refused) = action.refused(&app) {
        return refused;
    }
    match app.runner.run_now(&action.flow) {
        Ok(()) => {
            app.pages
                .notice(format!("a run of {} started", action.flow));
            app.pages.see_other(&flow_path(&action.flow))
        }
        Err(why) => not_started(&app, &action.flow, why),
    }
}

/// Starts a dry run of a flow and shows its plan.
pub async fn dry_run(State(app): State<App>, Form(action): Form<Action>) -> Response {
    if let Some(refused) = action.refused(&app) {
        return refused;
    }
    match app.runner.dry_run(&action.flow) {
        Ok(id) => app.pages.see_other(&format!("/plans/{id}")),
        Err(why) => not_started(&app, &action.flow, why),
    }
}

/// Sends a waiting record again: now, if its flow is not running, else with its next run.
pub async fn retry(State(app): State<App>, Form(action): Form<Action>) -> Response {
    if let Some(refused) = action.refused(&app) {
        return refused;
    }
    let (flow, key) = (&action.flow, &action.key);
    if let Err(e) = app.state.retry(flow, key) {
        return app.pages.error(StatusCode::CONFLICT, &format!("{e:#}"));
    }
    let shown = app.pages.mask.text(key);
    match app.runner.run_now(flow) {
        Ok(()) => app.pages.notice(format!(
            "{flow}/{shown} is being sent again: a run of {flow} started"
        )),
        Err(_) => app.pages.notice(format!(
            "{flow}/{shown} is sent again with the next run of {flow} (it is running now)"
        )),
    }
    app.pages.see_other(&flow_path(flow))
}

/// Gives up on a waiting record: it is never sent.
pub async fn skip(State(app): State<App>, Form(action): Form<Action>) -> Response {
    if let Some(refused) = action.refused(&app) {
        return refused;
    }
    let (flow, key) = (&action.flow, &action.key);
    let Some(f) = app.integration.config.flows.get(flow) else {
        return app
            .pages
            .error(StatusCode::NOT_FOUND, &format!("there is no flow {flow:?}"));
    };
    if let Err(e) = app.state.skip(flow, &f.source, &f.target, key) {
        return app.pages.error(StatusCode::CONFLICT, &format!("{e:#}"));
    }
    app.pages.notice(format!(
        "{flow}/{} is skipped: it will not be sent",
        app.pages.mask.text(key)
    ));
    app.pages.see_other("/waiting")
}
