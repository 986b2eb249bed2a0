//! JSON over the host's HTTP import.
//!
//! ```ignore
//! let orders: OrderList = fetch::Request::post(&format!("{base}/api/search/order"))
//!     .header("authorization", &format!("Bearer {token}"))
//!     .json(&criteria)?
//!     .operation("search order")
//!     .send()?
//!     .success()?
//!     .json()?;
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::errors::error_for_status;
use crate::http::{self, Method};
use crate::types::PluginError;

/// A request being built.
#[derive(Debug, Clone)]
pub struct Request {
    inner: http::Request,
}

impl Request {
    /// A request with any method.
    pub fn new(method: Method, url: &str) -> Self {
        let idempotent = matches!(
            method,
            Method::Get | Method::Head | Method::Put | Method::Delete
        );
        Request {
            inner: http::Request {
                method,
                url: url.to_string(),
                headers: vec![("accept".into(), "application/json".into())],
                body: Vec::new(),
                operation: None,
                idempotent,
                timeout_ms: None,
            },
        }
    }

    /// A GET request.
    pub fn get(url: &str) -> Self {
        Self::new(Method::Get, url)
    }

    /// A POST request.
    pub fn post(url: &str) -> Self {
        Self::new(Method::Post, url)
    }

    /// A PATCH request.
    pub fn patch(url: &str) -> Self {
        Self::new(Method::Patch, url)
    }

    /// A PUT request.
    pub fn put(url: &str) -> Self {
        Self::new(Method::Put, url)
    }

    /// A DELETE request.
    pub fn delete(url: &str) -> Self {
        Self::new(Method::Delete, url)
    }

    /// Sets a header, replacing one of the same name (names are case-insensitive).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.inner
            .headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.inner
            .headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    /// Sets a JSON body and its content type.
    pub fn json<T: Serialize + ?Sized>(self, body: &T) -> Result<Self, PluginError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| PluginError::fatal(format!("cannot write request body: {e}")))?;
        Ok(self.body(bytes).header("content-type", "application/json"))
    }

    /// Sets the body, byte for byte.
    pub fn body(mut self, bytes: Vec<u8>) -> Self {
        self.inner.body = bytes;
        self
    }

    /// Labels the request for rate limiting and the activity log ("GET products").
    pub fn operation(mut self, label: &str) -> Self {
        self.inner.operation = Some(label.to_string());
        self
    }

    /// Says whether sending it twice is harmless (GET, HEAD, PUT and DELETE are by default).
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.inner.idempotent = idempotent;
        self
    }

    /// How long to wait for the answer.
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.inner.timeout_ms = Some(ms);
        self
    }

    /// The request as it will be sent (for signing, or for tests).
    pub fn as_http(&self) -> &http::Request {
        &self.inner
    }

    /// Sends it through the host; an HTTP error status is still a [`Response`].
    pub fn send(self) -> Result<Response, PluginError> {
        let answer = http::send(&self.inner)?;
        Ok(Response { inner: answer })
    }
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Response {
    inner: http::Response,
}

impl Response {
    /// Wraps an answer (for tests and for connectors that send through [`http::send`] themselves).
    pub fn from_http(inner: http::Response) -> Self {
        Response { inner }
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.inner.status
    }

    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.inner
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.inner.body
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.inner.body).into_owned()
    }

    /// The body read as JSON into `T`. An answer that is not the JSON expected (cut short, an
    /// error page from a proxy, nested deeper than serde_json's limit of 128) fails the call as
    /// a passing failure, so the host fails that record (or that read) and goes on, instead of
    /// stopping the whole run; the parse never overflows the stack.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        serde_json::from_slice(&self.inner.body).map_err(|e| {
            PluginError::transient(format!(
                "the answer (HTTP {}) is not the JSON expected: {e}: {}",
                self.inner.status,
                crate::errors::excerpt(&self.text())
            ))
        })
    }

    /// `Retry-After` in milliseconds, when the server sent it as seconds.
    pub fn retry_after_ms(&self) -> Option<u64> {
        self.header("retry-after")?
            .trim()
            .parse::<u64>()
            .ok()
            .map(|s| s.saturating_mul(1_000))
    }

    /// The answer if its status is 2xx, else the [`PluginError`] the status means.
    pub fn success(self) -> Result<Self, PluginError> {
        if (200..300).contains(&self.inner.status) {
            Ok(self)
        } else {
            Err(error_for_status(
                self.inner.status,
                &self.text(),
                self.retry_after_ms(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_not_resent_unless_said() {
        assert!(Request::get("http://x/").as_http().idempotent);
        assert!(!Request::post("http://x/").as_http().idempotent);
        assert!(
            Request::post("http://x/")
                .idempotent(true)
                .as_http()
                .idempotent
        );
    }

    #[test]
    fn headers_replace_case_insensitively() {
        let r = Request::get("http://x/").header("Accept", "application/vnd.api+json");
        let accepts: Vec<_> = r
            .as_http()
            .headers
            .iter()
            .filter(|(n, _)| n == "accept")
            .collect();
        assert_eq!(accepts.len(), 1);
        assert_eq!(accepts[0].1, "application/vnd.api+json");
    }

    #[test]
    fn an_answer_nested_too_deep_fails_the_call_not_the_stack() {
        let bomb = format!("{}{}", "[".repeat(1_000_000), "]".repeat(1_000_000));
        for body in [bomb.into_bytes(), b"<html>Bad gateway</html>".to_vec()] {
            let answer = Response::from_http(http::Response {
                status: 200,
                headers: Vec::new(),
                body,
            });
            let Err(PluginError::Transient(message)) = answer.json::<serde_json::Value>() else {
                panic!("an unreadable answer is a passing failure of this call")
            };
            assert!(message.contains("not the JSON expected"), "{message}");
            assert!(
                message.chars().count() < 700,
                "the answer is cut: {message}"
            );
        }
    }

    #[test]
    fn error_statuses_become_plugin_errors() {
        let answer = Response::from_http(http::Response {
            status: 429,
            headers: vec![("retry-after".into(), "3".into())],
            body: Vec::new(),
        });
        assert!(matches!(
            answer.success(),
            Err(PluginError::RateLimited(3_000))
        ));
    }
}
