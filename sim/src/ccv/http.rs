//! From HTTP to the resources and back: every API request is checked for its signature, counted
//! against the rate limits, dispatched, and its answer signed.

use std::sync::{Arc, Mutex};

use crate::common::lock;

use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::auth::Credentials;
use super::error::CcvError;
use super::limits::RateLimiter;
use super::model::Store;
use super::{API_PREFIX, Clock, routes};

/// What the API's handler shares with [`super::CcvSim`].
pub(super) struct Shared {
    pub store: Mutex<Store>,
    pub credentials: Credentials,
    pub limiter: RateLimiter,
    pub clock: Clock,
}

impl Shared {
    /// Runs `f` on the state.
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        f(&mut lock(&self.store))
    }
}

/// A successful answer.
#[derive(Debug)]
pub enum Reply {
    /// 200 with a body.
    Ok(Value),
    /// 201 with the created resource.
    Created(Value),
    /// 204: what PATCH, PUT and DELETE answer.
    NoContent,
}

/// One API request, parsed.
#[derive(Debug)]
pub struct ApiRequest {
    /// "GET", "POST", …
    pub method: String,
    /// The path segments after `/api/rest/v1`, without empty ones.
    pub segments: Vec<String>,
    /// The query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    /// The body, when there is one.
    pub body: Option<Value>,
    /// The simulator's clock when the request arrived.
    pub now: DateTime<Utc>,
    /// "http://host:port", as the client addressed the simulator.
    origin: String,
    /// The path as sent.
    path: String,
    /// The query string as sent.
    raw_query: Option<String>,
}

impl ApiRequest {
    fn parse(parts: &Parts, body: &[u8], now: DateTime<Utc>) -> Result<Self, CcvError> {
        let path = parts.uri.path().to_string();
        let segments = path
            .strip_prefix(API_PREFIX)
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
            .ok_or_else(|| CcvError::invalid_resource(&path))?
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let Query(query) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map_err(|e| CcvError::invalid(format!("Unreadable query string: {e}")))?;
        let body = if body.is_empty() {
            None
        } else {
            Some(
                serde_json::from_slice(body)
                    .map_err(|e| CcvError::invalid(format!("The body is not JSON: {e}")))?,
            )
        };
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        Ok(ApiRequest {
            method: parts.method.to_string(),
            segments,
            query,
            body,
            now,
            origin: format!("http://{host}"),
            path,
            raw_query: parts.uri.query().map(str::to_string),
        })
    }

    /// The path as sent, for messages.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The first value of a query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `expand=` names this sub-resource and CCV documents expanding it for this
    /// request's operation ([`super::collection::expandable`]); any other value is ignored.
    pub fn expands(&self, name: &str) -> bool {
        let operation = super::limits::operation(&self.method, &self.path);
        super::collection::expandable(&operation, name)
            && self
                .query
                .iter()
                .filter(|(k, _)| k == "expand")
                .flat_map(|(_, v)| v.split(','))
                .any(|v| v.trim() == name)
    }

    /// The full link to a path under the API, e.g. `href("products/12")`.
    pub fn href(&self, path: &str) -> String {
        format!("{}{API_PREFIX}/{path}", self.origin)
    }

    /// The link to this request itself.
    pub fn self_href(&self) -> String {
        match &self.raw_query {
            Some(query) => format!("{}{}?{query}", self.origin, self.path),
            None => format!("{}{}", self.origin, self.path),
        }
    }

    /// The link to a page of this collection: the same path and parameters with another
    /// `start` and `size`.
    pub fn page_href(&self, start: usize, size: usize) -> String {
        let mut pairs: Vec<String> = self
            .raw_query
            .iter()
            .flat_map(|q| q.split('&'))
            .filter(|pair| {
                let key = pair.split('=').next().unwrap_or_default();
                !pair.is_empty() && key != "start" && key != "size"
            })
            .map(str::to_string)
            .collect();
        pairs.push(format!("start={start}&size={size}"));
        format!("{}{}?{}", self.origin, self.path, pairs.join("&"))
    }

    /// The body read as a resource's input schema; unknown fields and wrong types are refused.
    pub fn input<T: DeserializeOwned>(&self) -> Result<T, CcvError> {
        let body = self
            .body
            .clone()
            .ok_or_else(|| CcvError::invalid("A JSON body is required."))?;
        if !body.is_object() {
            return Err(CcvError::invalid("The body must be a JSON object."));
        }
        serde_json::from_value(body)
            .map_err(|e| CcvError::invalid(format!("The body does not fit the schema: {e}")))
    }
}

/// Answers every request under the API: signature, rate limit, resource, signed answer.
pub(super) async fn serve_api(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    // The journal layer has already read the body into memory, so this cannot fail on size.
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let uri = parts.uri.path_and_query().map_or_else(
        || parts.uri.path().to_string(),
        |pq| pq.as_str().to_string(),
    );
    let now = shared.clock.now();
    let outcome = answer(&shared, &parts, &uri, &body, now);
    let (status, content) = match outcome {
        Ok(Reply::Ok(value)) => (StatusCode::OK, Bytes::from(value.to_string())),
        Ok(Reply::Created(value)) => (StatusCode::CREATED, Bytes::from(value.to_string())),
        Ok(Reply::NoContent) => (StatusCode::NO_CONTENT, Bytes::new()),
        Err(error) => (error.status, Bytes::from(error.body().to_string())),
    };
    let (x_date, x_hash) =
        shared
            .credentials
            .sign_answer(parts.method.as_str(), &uri, &content, now);
    let mut response = Response::builder().status(status);
    if !content.is_empty() {
        response = response.header(header::CONTENT_TYPE, "application/json");
    }
    response
        .header("x-date", HeaderValue::from_str(&x_date).expect("ASCII"))
        .header("x-hash", HeaderValue::from_str(&x_hash).expect("hex"))
        .body(Body::from(content))
        .expect("a valid response")
}

fn answer(
    shared: &Shared,
    parts: &Parts,
    uri: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Reply, CcvError> {
    let method = parts.method.as_str();
    shared
        .credentials
        .check(&parts.headers, method, uri, body, now)?;
    shared.limiter.admit(method, parts.uri.path())?;
    let request = ApiRequest::parse(parts, body, now)?;
    shared.with_store(|store| routes::dispatch(store, &request))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// No request, however malformed its path, query or body, makes parsing panic; a body
        /// that is not JSON is a 400.
        #[test]
        fn any_request_parses_or_is_refused(
            path in "[a-z0-9/%.]{0,40}",
            query in "[ -~]{0,60}",
            body in prop::collection::vec(any::<u8>(), 0..200),
        ) {
            let uri = format!("{API_PREFIX}/{path}?{query}");
            let Ok(request) = axum::http::Request::builder().uri(uri).body(()) else {
                return Ok(());
            };
            let (parts, ()) = request.into_parts();
            if let Err(error) = ApiRequest::parse(&parts, &body, Utc::now()) {
                prop_assert_eq!(error.status, StatusCode::BAD_REQUEST);
            }
        }
    }
}
