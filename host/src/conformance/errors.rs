//! Errors are classified, whatever the system: the host answers the plugin's requests itself
//! (429 with `Retry-After`, a 5xx, a 401) and the plugin's `check` must say rate-limited with
//! that wait, transient, and auth.

use super::{Harness, Row};
use crate::runtime::CallError;
use crate::runtime::bindings::tillbridge::plugin::http::Response;
use crate::runtime::bindings::tillbridge::plugin::types::PluginError;

/// The `Retry-After` the suite sends, in seconds.
const RETRY_AFTER_SECS: u64 = 7;

/// One injected answer and the class it must get.
struct Case {
    check: &'static str,
    status: u16,
    headers: Vec<(String, String)>,
    expected: fn(&PluginError) -> bool,
    wanted: String,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            check: "errors: 429 with Retry-After is rate-limited",
            status: 429,
            headers: vec![("retry-after".into(), RETRY_AFTER_SECS.to_string())],
            expected: |e| matches!(e, PluginError::RateLimited(ms) if *ms == RETRY_AFTER_SECS * 1000),
            wanted: format!("rate-limited({} ms)", RETRY_AFTER_SECS * 1000),
        },
        Case {
            check: "errors: a 5xx is transient",
            status: 503,
            headers: Vec::new(),
            expected: |e| matches!(e, PluginError::Transient(_)),
            wanted: "transient".into(),
        },
        Case {
            check: "errors: a 401 is auth",
            status: 401,
            headers: Vec::new(),
            expected: |e| matches!(e, PluginError::Auth(_)),
            wanted: "auth".into(),
        },
    ]
}

/// Every case, each in a fresh instance whose requests all get the injected answer.
pub async fn run(harness: &Harness) -> Vec<Row> {
    let mut rows = Vec::new();
    for case in cases() {
        let mut headers = case.headers.clone();
        headers.push(("content-type".into(), "application/json".into()));
        harness.tap.answer_with(Some(Response {
            status: case.status,
            headers,
            body: br#"{"error": "injected by tillbridge conformance"}"#.to_vec(),
        }));
        let answer = async { harness.session().await?.check().await };
        let answer = answer.await;
        harness.tap.answer_with(None);
        rows.push(match answer {
            Err(CallError::Plugin(error)) if (case.expected)(&error) => Row::pass(
                case.check,
                "connector",
                format!("HTTP {} → {}", case.status, CallError::Plugin(error)),
            ),
            Err(error) => Row::fail(
                case.check,
                "connector",
                format!("HTTP {} → {error}; expected {}", case.status, case.wanted),
            ),
            Ok(line) => Row::fail(
                case.check,
                "connector",
                format!(
                    "HTTP {} on every request, yet check succeeded: {line}",
                    case.status
                ),
            ),
        });
    }
    rows
}
