//! The Admin API client: every request carries `Accept: application/json` (the Admin API
//! answers JSON:API otherwise) and a bearer token, is labelled for the host's rate limits and
//! activity log, and says whether the host may resend it. A 401 fetches a new token and tries
//! once more; the version is detected once per session (or per remembered token).

use serde_json::{Value, json};
use tillbridge_sdk::clock;
use tillbridge_sdk::fetch::{Request, Response};
use tillbridge_sdk::types::PluginError;

use crate::auth::{Auth, Credentials};
use crate::errors;
use crate::settings::Settings;
use crate::timestamps::{self, Millis};
use crate::version::{StockMode, SyncFormat, Version};

/// Sync requests may write hundreds of rows: give them the host's longest wait.
const SYNC_TIMEOUT_MS: u32 = 120_000;

/// One page of a search.
#[derive(Debug)]
pub struct Page {
    /// The rows (`data`).
    pub rows: Vec<Value>,
    /// `total` as the criteria's `total-count-mode` defines it.
    pub total: u64,
}

/// The connection to one shop, for one session.
pub struct Client {
    /// The connection's settings.
    pub settings: Settings,
    auth: Auth,
    version: Option<Version>,
    /// The shop's clock when the last answered request was sent: the `Date` header (whole
    /// seconds, rounded down) less the time the request took, so never later than when the
    /// shop began to work on it.
    pub server_time: Option<Millis>,
}

impl Client {
    /// A client for the configured shop; nothing is sent yet.
    pub fn new(settings: Settings, credentials: Credentials) -> Client {
        let auth = Auth::new(credentials, &settings.base, settings.remember_token);
        let version = auth
            .current()
            .and_then(|t| t.version.as_deref())
            .and_then(|v| Version::parse(v).ok());
        Client {
            settings,
            auth,
            version,
            server_time: None,
        }
    }

    /// The shop's version, asked once per session (`GET /api/_info/version`). A remembered
    /// token carries the version detected with it; a session that starts without a live token
    /// asks again, so an upgrade (6.5 → 6.6 changes what stock means) is noticed within about
    /// a token's lifetime.
    pub fn version(&mut self) -> Result<Version, PluginError> {
        if let Some(version) = &self.version {
            return Ok(version.clone());
        }
        let answer = self.call(
            Request::get(&self.settings.api("/_info/version")).operation("info version"),
            "read the version",
        )?;
        let text = answer.json::<Value>()?["version"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let version = Version::parse(&text)?;
        if !version.is_supported() {
            return Err(PluginError::fatal(format!(
                "the shop runs Shopware {text}; this connector speaks 6.4 to 6.7"
            )));
        }
        self.auth.set_version(&version.text);
        self.version = Some(version.clone());
        Ok(version)
    }

    /// What `stock` means in this shop.
    pub fn stock_mode(&mut self) -> Result<StockMode, PluginError> {
        let setting = self.settings.stock_mode;
        Ok(self.version()?.stock_mode(setting))
    }

    /// The sync API's answer format.
    pub fn sync_format(&mut self) -> Result<SyncFormat, PluginError> {
        Ok(self.version()?.sync_format())
    }

    /// Sends a request with the token; a 401 is answered by one new token and one more try.
    /// Returns the answer whatever its status (except a second 401).
    pub fn send(&mut self, request: Request, what: &str) -> Result<Response, PluginError> {
        let request = match self.settings.timeout_ms {
            Some(ms) if request.as_http().timeout_ms.is_none() => request.timeout_ms(ms),
            _ => request,
        };
        let known = self.version.as_ref().map(|v| v.text.clone());
        let bearer = self.auth.bearer(known.as_deref())?;
        let sent = clock::now_millis();
        let mut answer = request
            .clone()
            .header("authorization", &format!("Bearer {bearer}"))
            .send()?;
        if answer.status() == 401 {
            tillbridge_sdk::info!("Shopware refused the access token; fetching a new one");
            self.auth.forget();
            let bearer = self.auth.bearer(known.as_deref())?;
            answer = request
                .header("authorization", &format!("Bearer {bearer}"))
                .send()?;
            if answer.status() == 401 {
                return Err(errors::for_status(401, answer.bytes(), None, what));
            }
        }
        if let Some(at) = answer.header("date").and_then(timestamps::http_date) {
            let took = clock::now_millis().saturating_sub(sent);
            self.server_time = Some(at - Millis::try_from(took).unwrap_or(0));
        }
        Ok(answer)
    }

    /// Sends a request and turns a non-2xx answer into the error it means.
    pub fn call(&mut self, request: Request, what: &str) -> Result<Response, PluginError> {
        let answer = self.send(request, what)?;
        if (200..300).contains(&answer.status()) {
            Ok(answer)
        } else {
            Err(errors::for_status(
                answer.status(),
                answer.bytes(),
                answer.retry_after_ms(),
                what,
            ))
        }
    }

    /// `POST /api/search/{entity}`. A search is a POST but reads only: the host may resend it.
    pub fn search(&mut self, entity: &str, criteria: &Value) -> Result<Page, PluginError> {
        let route = entity.replace('_', "-");
        let what = format!("search {entity}");
        let request = Request::post(&self.settings.api(&format!("/search/{route}")))
            .json(criteria)?
            .operation(&what)
            .idempotent(true);
        let mut body: Value = self.call(request, &what)?.json()?;
        let rows = match body["data"].take_array() {
            Some(rows) => rows,
            None => {
                return Err(PluginError::fatal(format!(
                    "Shopware answered the {what} without a data list: {}",
                    tillbridge_sdk::errors::excerpt(&body.to_string())
                )));
            }
        };
        Ok(Page {
            total: body["total"].as_u64().unwrap_or(rows.len() as u64),
            rows,
        })
    }

    /// Every row a criteria finds, page by page (for small sets: taxes, currencies, groups).
    pub fn search_all(&mut self, entity: &str, criteria: Value) -> Result<Vec<Value>, PluginError> {
        let limit = self.settings.page_size;
        let mut rows = Vec::new();
        for page in 1.. {
            let mut criteria = criteria.clone();
            criteria["page"] = json!(page);
            criteria["limit"] = json!(limit);
            criteria["total-count-mode"] = json!("next-pages");
            let found = self.search(entity, &criteria)?;
            let more = found.total > found.rows.len() as u64;
            rows.extend(found.rows);
            if !more {
                break;
            }
        }
        Ok(rows)
    }

    /// `POST /api/_action/sync` with these operations. Every operation this connector sends
    /// upserts rows by known or derived ids (or deletes mapping rows), so sending it twice
    /// writes the same: the host may resend it. Returns the answer whatever its status.
    ///
    /// A bulk write (at least `queue_indexing_from` rows) asks Shopware to index in its message
    /// queue (`indexing-behavior: use-queue-indexing`, read by the sync route on 6.4 to 6.7):
    /// stock and availability are still updated at once, the rest (listings, search) when the
    /// shop's queue worker runs, so the request does not wait for it.
    pub fn sync(&mut self, operations: &Value, what: &str) -> Result<Response, PluginError> {
        let mut request = Request::post(&self.settings.api("/_action/sync"))
            .json(operations)?
            .operation(what)
            .idempotent(true)
            .timeout_ms(SYNC_TIMEOUT_MS);
        if self.sync_format()? == SyncFormat::PerRecord {
            // 6.4: each failure reported at its record, one transaction per operation (instead
            // of one for the request).
            request = request.header("fail-on-error", "false");
        }
        let rows: usize = operations
            .as_object()
            .into_iter()
            .flat_map(|o| o.values())
            .filter_map(|o| o["payload"].as_array().map(Vec::len))
            .sum();
        let from = self.settings.queue_indexing_from;
        if from > 0 && rows >= from as usize {
            request = request.header("indexing-behavior", "use-queue-indexing");
        }
        self.send(request, what)
    }
}

/// Takes an array out of a JSON value.
trait TakeArray {
    fn take_array(&mut self) -> Option<Vec<Value>>;
}

impl TakeArray for Value {
    fn take_array(&mut self) -> Option<Vec<Value>> {
        match self.take() {
            Value::Array(rows) => Some(rows),
            _ => None,
        }
    }
}
