//! CCV's error answers turned into what the host must do next.
//!
//! CCV answers errors with `{"code": "429.10", "status": 429, "developermessage": "…"}`. The code
//! says more than the status: CCV answers some refusals with a 500 (`500.40`, a value that must be
//! unique is taken), so a 500 is not always a passing failure.

use serde::Deserialize;
use tillbridge_sdk::errors::excerpt;
use tillbridge_sdk::types::PluginError;

/// How long to wait after a 429 when CCV says nothing: its limits count per minute, so after a
/// minute the count has certainly started again.
pub const RATE_LIMIT_WAIT_MS: u64 = 60_000;

/// A request that failed, with what CCV said, so that a caller can tell "already exists" (`500.40`)
/// or "no such id" (`404.10`) from other failures before handing the error to the host.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The HTTP status; 0 when there was no answer.
    pub status: u16,
    /// CCV's code, e.g. "500.40"; empty when the answer had none.
    pub code: String,
    /// What the host should do.
    pub error: PluginError,
}

impl Failure {
    /// A failure without an answer (the host could not send the request or got none).
    pub fn unanswered(error: PluginError) -> Self {
        Failure {
            status: 0,
            code: String::new(),
            error,
        }
    }

    /// A value that must be unique is taken (a username, a product's place in a category).
    pub fn already_exists(&self) -> bool {
        self.code == "500.40"
    }

    /// The id asked for does not exist (not: the resource name is wrong).
    pub fn no_such_id(&self) -> bool {
        self.status == 404 && self.code != "404.20"
    }

    /// Whether CCV certainly did not carry the request out: it refused it before acting. A write
    /// that failed otherwise (a timeout, a 502) may have been carried out.
    pub fn refused(&self) -> bool {
        (400..500).contains(&self.status) || self.already_exists()
    }

    /// The error of a write that may have been carried out although its answer was lost: said
    /// so, for the merchant, when it is a passing failure.
    pub fn maybe_done(self) -> PluginError {
        match self.error {
            PluginError::Transient(m) => PluginError::Transient(format!(
                "{m} (it may have been written; it is looked up before it is sent again)"
            )),
            other => other,
        }
    }

    /// Whether it was a rate limit.
    pub fn rate_limited(&self) -> bool {
        matches!(self.error, PluginError::RateLimited(_))
    }
}

impl From<Failure> for PluginError {
    fn from(failure: Failure) -> Self {
        failure.error
    }
}

impl From<PluginError> for Failure {
    fn from(error: PluginError) -> Self {
        Failure::unanswered(error)
    }
}

#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    developermessage: Option<String>,
}

/// The failure an error answer means. `request` names it for the message ("POST /products").
pub fn from_answer(
    request: &str,
    status: u16,
    body: &[u8],
    retry_after_ms: Option<u64>,
) -> Failure {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let code = parsed.code.unwrap_or_default();
    let said = parsed
        .developermessage
        .unwrap_or_else(|| excerpt(&String::from_utf8_lossy(body)));
    let shown = if code.is_empty() {
        format!("HTTP {status}")
    } else {
        code.clone()
    };
    let message = format!("CCV refused {request} ({shown}): {said}");
    let error = match (status, code.as_str()) {
        (401, "401.20") => PluginError::Auth(format!(
            "{message} — the clock of the machine running tillbridge must be within 5 minutes of CCV's"
        )),
        (401 | 403, _) => PluginError::Auth(format!(
            "{message} — check the connection's public_key and secret (CCV back office › API settings)"
        )),
        (404, "404.20") | (405, _) | (501, _) => PluginError::Fatal(format!(
            "{message} — this CCV webshop or API key does not offer it"
        )),
        (404 | 410, _) => PluginError::NotFound(message),
        (429, _) => PluginError::RateLimited(retry_after_ms.unwrap_or(RATE_LIMIT_WAIT_MS)),
        (_, "500.40" | "500.50" | "500.60" | "500.80") => PluginError::invalid(message),
        (_, "500.90") => PluginError::Fatal(format!(
            "{message} — install the app CCV names in the CCV back office"
        )),
        (408 | 500..=599, _) => PluginError::Transient(message),
        _ => PluginError::invalid(message),
    };
    Failure {
        status,
        code,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, code: &str) -> Failure {
        let body = format!(r#"{{"code":"{code}","status":{status},"developermessage":"said"}}"#);
        from_answer("POST /users", status, body.as_bytes(), None)
    }

    #[test]
    fn codes_tell_the_host_what_to_do() {
        assert!(matches!(answer(401, "401.30").error, PluginError::Auth(_)));
        assert!(matches!(answer(401, "401.10").error, PluginError::Auth(_)));
        let PluginError::Auth(clock) = answer(401, "401.20").error else {
            panic!()
        };
        assert!(clock.contains("clock"));
        assert!(matches!(
            answer(429, "429.10").error,
            PluginError::RateLimited(RATE_LIMIT_WAIT_MS)
        ));
        assert!(matches!(
            answer(429, "429.11").error,
            PluginError::RateLimited(_)
        ));
        assert!(matches!(
            answer(503, "503.00").error,
            PluginError::Transient(_)
        ));
        assert!(matches!(
            answer(500, "500.10").error,
            PluginError::Transient(_)
        ));
        assert!(matches!(
            answer(404, "404.10").error,
            PluginError::NotFound(_)
        ));
        assert!(matches!(answer(404, "404.20").error, PluginError::Fatal(_)));
        assert!(matches!(answer(405, "405.10").error, PluginError::Fatal(_)));
        let PluginError::Invalid(problem) = answer(400, "400.10").error else {
            panic!()
        };
        assert_eq!(problem.message, "CCV refused POST /users (400.10): said");
    }

    #[test]
    fn a_taken_value_is_a_refusal_not_an_outage() {
        let taken = answer(500, "500.40");
        assert!(taken.already_exists() && taken.refused());
        assert!(matches!(taken.error, PluginError::Invalid(_)));
        assert!(!answer(502, "502.00").refused());
        assert!(answer(429, "429.10").refused());
        assert!(answer(404, "404.10").no_such_id());
        assert!(!answer(404, "404.20").no_such_id());
    }

    #[test]
    fn retry_after_is_honoured_and_bodies_need_not_be_ccvs() {
        let limited = from_answer("GET /products", 429, b"", Some(2_000));
        assert_eq!(limited.error, PluginError::RateLimited(2_000));
        let proxy = from_answer("GET /products", 502, b"<html>Bad gateway</html>", None);
        let PluginError::Transient(message) = proxy.error else {
            panic!()
        };
        assert!(message.contains("HTTP 502") && message.contains("Bad gateway"));
    }
}
