//! The JSON API (bearer token only), through which the command line reads and acts while
//! `tillbridge run` holds the state file: `runs`, `activity`, `retry` and `skip`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::App;
use crate::state::{Activity, CheckReport, Pending, Run};

/// A run with its records.
#[derive(Debug, Serialize, Deserialize)]
pub struct RunRecords {
    pub run: Run,
    pub activity: Vec<Activity>,
}

/// A record: FLOW and KEY.
#[derive(Debug, Serialize, Deserialize)]
pub struct RecordRef {
    pub flow: String,
    pub key: String,
}

/// What an action did, in words.
#[derive(Debug, Serialize, Deserialize)]
pub struct Done {
    pub message: String,
}

/// A file on the daemon's machine (an absolute path): where `state backup` writes, what
/// `state restore` reads.
#[derive(Debug, Serialize, Deserialize)]
pub struct StateFile {
    pub file: std::path::PathBuf,
}

/// An error as the API answers it: a status and the reason in words.
pub struct Refused(StatusCode, String);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (self.0, self.1).into_response()
    }
}

impl From<anyhow::Error> for Refused {
    fn from(e: anyhow::Error) -> Self {
        Refused(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}"))
    }
}

type Answer<T> = Result<Json<T>, Refused>;

#[derive(Deserialize)]
pub struct Limit {
    #[serde(default = "default_limit")]
    limit: usize,
}

fn default_limit() -> usize {
    20
}

/// `GET /api/runs?limit=N`: the latest runs, newest first.
pub async fn runs(State(app): State<App>, Query(q): Query<Limit>) -> Answer<Vec<Run>> {
    Ok(Json(app.state.read()?.recent_runs(q.limit)?))
}

/// `GET /api/runs/{id}`: a run and its records.
pub async fn run(State(app): State<App>, Path(id): Path<u64>) -> Answer<RunRecords> {
    let read = app.state.read()?;
    let run = read
        .run(id)?
        .ok_or_else(|| Refused(StatusCode::NOT_FOUND, format!("there is no run {id}")))?;
    Ok(Json(RunRecords {
        run,
        activity: read.activity(id)?,
    }))
}

#[derive(Deserialize)]
pub struct Search {
    search: String,
    #[serde(default = "default_limit")]
    limit: usize,
}

/// `GET /api/activity?search=TEXT&limit=N`: records found, newest first.
pub async fn search(State(app): State<App>, Query(q): Query<Search>) -> Answer<Vec<Activity>> {
    Ok(Json(app.state.search_activity(&q.search, q.limit)?))
}

/// `GET /api/pending`: every waiting record.
pub async fn pending(State(app): State<App>) -> Answer<Vec<Pending>> {
    Ok(Json(app.state.read()?.all_pending()?))
}

/// `POST /api/retry`: sends a waiting record again with its flow's next run.
pub async fn retry(State(app): State<App>, Json(r): Json<RecordRef>) -> Answer<Done> {
    app.state
        .retry(&r.flow, &r.key)
        .map_err(|e| Refused(StatusCode::CONFLICT, format!("{e:#}")))?;
    Ok(Json(Done {
        message: format!(
            "{}/{} is sent again on the next run of {}",
            r.flow, r.key, r.flow
        ),
    }))
}

/// `POST /api/skip`: gives up on a waiting record.
pub async fn skip(State(app): State<App>, Json(r): Json<RecordRef>) -> Answer<Done> {
    let flow = app.integration.config.flows.get(&r.flow).ok_or_else(|| {
        Refused(
            StatusCode::NOT_FOUND,
            format!("there is no flow {:?}", r.flow),
        )
    })?;
    app.state
        .skip(&r.flow, &flow.source, &flow.target, &r.key)
        .map_err(|e| Refused(StatusCode::CONFLICT, format!("{e:#}")))?;
    Ok(Json(Done {
        message: format!("{}/{} is skipped: it will not be sent", r.flow, r.key),
    }))
}

/// `GET /api/state/check`: every record of every table, read as the host reads it.
pub async fn check_state(State(app): State<App>) -> Answer<CheckReport> {
    Ok(Json(app.state.check()?))
}

/// `POST /api/state/backup`: a backup of the state file, from one snapshot, to a file.
pub async fn backup_state(State(app): State<App>, Json(f): Json<StateFile>) -> Answer<Done> {
    app.state
        .backup(&f.file)
        .map_err(|e| Refused(StatusCode::CONFLICT, format!("{e:#}")))?;
    Ok(Json(Done {
        message: format!("the state file is backed up to {}", f.file.display()),
    }))
}

/// `POST /api/state/restore`: the backup in a file put in place of everything in the state
/// file, while no run is in flight: it waits for the runs in flight to end and holds every
/// flow until it is done, so no intent is half written, lost or sent twice.
pub async fn restore_state(State(app): State<App>, Json(f): Json<StateFile>) -> Answer<Done> {
    let _paused = app.runner.pause_all().await;
    app.state
        .restore(&f.file)
        .map_err(|e| Refused(StatusCode::CONFLICT, format!("{e:#}")))?;
    Ok(Json(Done {
        message: format!(
            "the state file is restored from {}; the flows go on from there",
            f.file.display()
        ),
    }))
}
