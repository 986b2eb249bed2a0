//! How the command line reaches a running `tillbridge run`: the daemon writes its dashboard's
//! address and token beside the state file (readable by its owner only), and the command line,
//! finding the state file held, asks the daemon's JSON API instead.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::api::{Done, RecordRef, RunRecords, StateFile};
use crate::state::{Activity, CheckReport, Pending, Run};

/// Where a running dashboard is, as written beside the state file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Discovery {
    /// The dashboard's base address.
    pub url: String,
    /// Its token.
    pub token: String,
    /// The daemon's process id.
    pub pid: u32,
}

/// The file beside the state file that says where the daemon's dashboard is.
pub fn discovery_path(state: &Path) -> PathBuf {
    let mut name = state.file_name().unwrap_or_default().to_os_string();
    name.push(".dashboard");
    state.with_file_name(name)
}

impl Discovery {
    /// Writes the file, readable and writable by this user only.
    pub fn write(&self, path: &Path) -> Result<()> {
        use std::io::Write;
        // A file left by an earlier run may be readable by others: made anew.
        let _ = std::fs::remove_file(path);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        file.write_all(serde_json::to_string(self)?.as_bytes())?;
        Ok(())
    }
}

/// The JSON API of a running daemon.
pub struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Client {
    /// The daemon that holds the state file `state`.
    pub fn for_state(state: &Path) -> Result<Client> {
        let path = discovery_path(state);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "{} is held by a running tillbridge whose dashboard is off ({} is missing): turn it on in [dashboard] or stop that process",
                state.display(),
                path.display()
            )
        })?;
        let found: Discovery = serde_json::from_str(&text)
            .with_context(|| format!("{} is not readable", path.display()))?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        Ok(Client {
            base: found.url.trim_end_matches('/').to_string(),
            token: found.token,
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .context("cannot make an HTTP client")?,
        })
    }

    /// The status and body of an answer.
    async fn answer(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(reqwest::StatusCode, Vec<u8>)> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("cannot reach the running tillbridge at {}", self.base))?;
        let status = response.status();
        Ok((status, response.bytes().await?.to_vec()))
    }

    async fn send<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T> {
        let (status, body) = self.answer(request).await?;
        read(status, &body)
    }

    fn get(&self, path_and_query: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path_and_query}", self.base))
    }

    fn post(&self, path: &str, body: &impl Serialize) -> Result<reqwest::RequestBuilder> {
        Ok(self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(body)?))
    }

    /// The latest runs.
    pub async fn runs(&self, limit: usize) -> Result<Vec<Run>> {
        self.send(self.get(&format!("/api/runs?limit={limit}")))
            .await
    }

    /// A run and its records, if there is such a run.
    pub async fn run(&self, id: u64) -> Result<Option<RunRecords>> {
        let (status, body) = self.answer(self.get(&format!("/api/runs/{id}"))).await?;
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        read(status, &body).map(Some)
    }

    /// Records found by text.
    pub async fn search(&self, text: &str, limit: usize) -> Result<Vec<Activity>> {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("search", text)
            .append_pair("limit", &limit.to_string())
            .finish();
        self.send(self.get(&format!("/api/activity?{query}"))).await
    }

    /// Every waiting record.
    pub async fn pending(&self) -> Result<Vec<Pending>> {
        self.send(self.get("/api/pending")).await
    }

    /// Sends a waiting record again on its flow's next run.
    pub async fn retry(&self, flow: &str, key: &str) -> Result<String> {
        let done: Done = self
            .send(self.post("/api/retry", &record(flow, key))?)
            .await?;
        Ok(done.message)
    }

    /// Gives up on a waiting record.
    pub async fn skip(&self, flow: &str, key: &str) -> Result<String> {
        let done: Done = self
            .send(self.post("/api/skip", &record(flow, key))?)
            .await?;
        Ok(done.message)
    }

    /// Every record of the state file the daemon holds, checked.
    pub async fn check_state(&self) -> Result<CheckReport> {
        self.send(self.get("/api/state/check")).await
    }

    /// Has the daemon back its state file up to `file` (on its machine), or restore it from
    /// `file`: `action` is "backup" or "restore".
    pub async fn state_file(&self, action: &str, file: &Path) -> Result<String> {
        let body = StateFile {
            file: file.to_path_buf(),
        };
        let done: Done = self
            .send(self.post(&format!("/api/state/{action}"), &body)?)
            .await?;
        Ok(done.message)
    }
}

/// An answer's body read as `T`, or its error in words.
fn read<T: DeserializeOwned>(status: reqwest::StatusCode, body: &[u8]) -> Result<T> {
    if !status.is_success() {
        bail!("{}", String::from_utf8_lossy(body).trim());
    }
    serde_json::from_slice(body).context("the running tillbridge answered something unreadable")
}

fn record(flow: &str, key: &str) -> RecordRef {
    RecordRef {
        flow: flow.into(),
        key: key.into(),
    }
}
