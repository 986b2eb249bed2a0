//! CCV's error answers: a JSON body with `code` (the HTTP status, a dot, a number), `status` and
//! `developermessage`.
//!
//! Codes that CCV's SDK documents are used with their documented meaning: `404.20` (invalid
//! resource name), `405.10` (method not allowed), `429.10` / `429.11` (rate limits) and `500.40`
//! (property already exists). CCV documents no codes for failed authentication or validation; the
//! simulator's own choices (GUESS) are:
//!
//! | code     | when |
//! |----------|------|
//! | `400.10` | the body is not JSON, or does not fit the resource's input schema |
//! | `401.10` | `x-public` is missing or unknown |
//! | `401.20` | `x-date` is missing, not in a documented ISO 8601 UTC format, or too far off |
//! | `401.30` | `x-hash` is missing or does not match |
//! | `404.10` | no resource with that id |
//! | `N.00`   | an injected fault with status N (a fault is an outage, so it carries no number) |

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// One error answer.
#[derive(Debug, Clone, PartialEq)]
pub struct CcvError {
    /// The HTTP status.
    pub status: StatusCode,
    /// CCV's code, e.g. "429.10".
    pub code: String,
    /// What went wrong, for the developer.
    pub message: String,
}

impl CcvError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        CcvError {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// `400.10`: the body or a query parameter does not fit what the resource accepts.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "400.10", message)
    }

    /// `400.10` naming the required fields that are absent (`(name, absent)` pairs), after
    /// `lead`; `Ok` when none is.
    pub fn require(lead: &str, fields: &[(&str, bool)]) -> Result<(), Self> {
        let missing: Vec<&str> = fields
            .iter()
            .filter_map(|(field, absent)| absent.then_some(*field))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Self::invalid(format!("{lead} {}.", missing.join(", "))))
        }
    }

    /// `401.10`: no or an unknown public key.
    pub fn unknown_public_key(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "401.10", message)
    }

    /// `401.20`: no, a malformed, or a stale `x-date`.
    pub fn bad_date(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "401.20", message)
    }

    /// `401.30`: no or a wrong `x-hash`.
    pub fn bad_hash(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "401.30", message)
    }

    /// `404.10`: the resource has no item with this id.
    pub fn not_found(resource: &str, id: u64) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "404.10",
            format!("No {resource} with id {id}."),
        )
    }

    /// `404.20`: the path names no resource.
    pub fn invalid_resource(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "404.20",
            format!("Invalid resource name: {path}"),
        )
    }

    /// `405.10`: the resource exists but does not take this method.
    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "405.10",
            format!("Method {method} is not allowed on {path}"),
        )
    }

    /// `429.10`: the limit of one operation (method and resource) is used up.
    pub fn operation_limit(operation: &str, limit: u32) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "429.10",
            format!(
                "Each method in each resource has a limit of requests that can be made per minute: \
                 {operation} allows {limit}"
            ),
        )
    }

    /// `429.11`: the total limit is used up.
    pub fn total_limit(limit: u32) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "429.11",
            format!("The API has a total limit of requests that can be made per minute: {limit}"),
        )
    }

    /// `500.40`: a value that must be unique is taken (CCV answers this with status 500).
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "500.40", message)
    }

    /// An injected fault: its status with the number `00`.
    pub fn fault(status: u16) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self::new(
            status,
            &format!("{}.00", status.as_u16()),
            format!(
                "Simulated fault: {}",
                status.canonical_reason().unwrap_or("error")
            ),
        )
    }

    /// The JSON body CCV sends.
    pub fn body(&self) -> Value {
        json!({
            "code": self.code,
            "status": self.status.as_u16(),
            "developermessage": self.message,
        })
    }
}

impl IntoResponse for CcvError {
    fn into_response(self) -> Response {
        Response::builder()
            .status(self.status)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(self.body().to_string()))
            .expect("a valid response")
    }
}

/// How injected faults answer: in CCV's error format (see [`crate::common::FaultAnswer`]).
pub fn fault_answer(status: u16, _retry_after: Option<u64>) -> Response {
    CcvError::fault(status).into_response()
}
