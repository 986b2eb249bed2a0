//! Building [`PluginError`]s, and turning HTTP answers and library errors into them.

use crate::http::HttpError;
use crate::types::{PluginError, Problem};

impl PluginError {
    /// The record is bad (fail it, go on).
    pub fn invalid(message: impl Into<String>) -> Self {
        PluginError::Invalid(Problem {
            message: message.into(),
            field: None,
        })
    }

    /// The record is bad in one field.
    pub fn invalid_field(message: impl Into<String>, field: impl Into<String>) -> Self {
        PluginError::Invalid(Problem {
            message: message.into(),
            field: Some(field.into()),
        })
    }

    /// Going on is pointless (stop the run).
    pub fn fatal(message: impl Into<String>) -> Self {
        PluginError::Fatal(message.into())
    }

    /// A passing failure (retry later).
    pub fn transient(message: impl Into<String>) -> Self {
        PluginError::Transient(message.into())
    }

    /// One line for logs and messages ("invalid: price missing (at /0/price)").
    pub fn describe(&self) -> String {
        match self {
            PluginError::NotFound(m) => format!("not found: {m}"),
            PluginError::Invalid(Problem {
                message,
                field: Some(field),
            }) => {
                format!("invalid: {message} (at {field})")
            }
            PluginError::Invalid(Problem {
                message,
                field: None,
            }) => format!("invalid: {message}"),
            PluginError::RateLimited(ms) => format!("rate limited: retry after {ms} ms"),
            PluginError::Transient(m) => format!("transient: {m}"),
            PluginError::Auth(m) => format!("authentication: {m}"),
            PluginError::Fatal(m) => format!("fatal: {m}"),
        }
    }

    /// Whether the host may try the same thing again later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            PluginError::RateLimited(_) | PluginError::Transient(_)
        )
    }
}

impl From<HttpError> for PluginError {
    fn from(e: HttpError) -> Self {
        match e {
            // A denied request is a configuration problem: retrying will not help.
            HttpError::Denied(m) => PluginError::Fatal(format!("request denied by the host: {m}")),
            HttpError::Timeout(m) => PluginError::Transient(format!("timeout: {m}")),
            HttpError::Unreachable(m) => PluginError::Transient(format!("unreachable: {m}")),
        }
    }
}

impl From<serde_json::Error> for PluginError {
    fn from(e: serde_json::Error) -> Self {
        PluginError::Fatal(format!("unexpected JSON: {e}"))
    }
}

/// What a non-success HTTP status means for the host, with the answer's text as the message.
/// `retry_after_ms` is the server's `Retry-After`, if it sent one.
pub fn error_for_status(status: u16, body: &str, retry_after_ms: Option<u64>) -> PluginError {
    let text = excerpt(body);
    match status {
        401 | 403 => PluginError::Auth(format!("HTTP {status}: {text}")),
        404 | 410 => PluginError::NotFound(format!("HTTP {status}: {text}")),
        // Without a Retry-After the limit window is unknown; one second is a polite first wait.
        429 => PluginError::RateLimited(retry_after_ms.unwrap_or(1_000)),
        408 | 500..=599 => PluginError::Transient(format!("HTTP {status}: {text}")),
        _ => PluginError::invalid(format!("HTTP {status}: {text}")),
    }
}

/// The first 500 characters of an answer, for error messages that stay readable.
pub fn excerpt(body: &str) -> String {
    const MAX: usize = 500;
    match body.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &body[..cut]),
        None => body.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_tell_the_host_what_to_do() {
        assert!(matches!(
            error_for_status(401, "", None),
            PluginError::Auth(_)
        ));
        assert!(matches!(
            error_for_status(404, "", None),
            PluginError::NotFound(_)
        ));
        assert!(matches!(
            error_for_status(503, "", None),
            PluginError::Transient(_)
        ));
        assert!(matches!(
            error_for_status(429, "", Some(2_500)),
            PluginError::RateLimited(2_500)
        ));
        assert!(matches!(
            error_for_status(429, "", None),
            PluginError::RateLimited(1_000)
        ));
        let PluginError::Invalid(p) = error_for_status(400, "bad price", None) else {
            panic!("a 400 is a bad record")
        };
        assert_eq!(p.message, "HTTP 400: bad price");
    }

    #[test]
    fn long_bodies_are_cut() {
        let long = "é".repeat(600);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), 501);
        assert!(cut.ends_with('…'));
    }
}
