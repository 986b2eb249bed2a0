//! Shopware's error answers (`{"errors":[{status, code, title, detail, source.pointer}]}`)
//! turned into the WIT error variant, with messages a merchant can act on.

use serde_json::Value;
use tillbridge_sdk::errors::excerpt;
use tillbridge_sdk::types::{PluginError, Problem};

/// One entry of Shopware's `errors` list.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The error code, e.g. `FRAMEWORK__WRITE_CONSTRAINT_VIOLATION` or a constraint's UUID.
    pub code: String,
    /// What went wrong (`detail`, or `title` when there is no detail).
    pub detail: String,
    /// Where, as a JSON pointer into the request: `/stock/3/stock`.
    pub pointer: Option<String>,
}

impl ApiError {
    /// The problem of one record: Shopware's message, and its pointer as the field.
    pub fn problem(&self) -> PluginError {
        PluginError::Invalid(Problem {
            message: self.detail.clone(),
            field: self.pointer.clone(),
        })
    }
}

/// The entries of an `errors` list; an answer without one gives none.
pub fn entries(body: &Value) -> Vec<ApiError> {
    body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let text = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_string);
            ApiError {
                code: text(&e["code"]).unwrap_or_default(),
                detail: text(&e["detail"])
                    .or_else(|| text(&e["title"]))
                    .unwrap_or_else(|| "no reason given".into()),
                pointer: text(&e["source"]["pointer"]),
            }
        })
        .collect()
}

/// The privileges a 403 names (`{"message":"Missing privilege","missingPrivileges":[…]}`).
fn missing_privileges(errors: &[ApiError]) -> Vec<String> {
    errors
        .iter()
        .filter(|e| e.code == "FRAMEWORK__MISSING_PRIVILEGE_ERROR")
        .filter_map(|e| serde_json::from_str::<Value>(&e.detail).ok())
        .flat_map(|d| {
            d["missingPrivileges"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|p| p.as_str().map(str::to_string))
        .collect()
}

fn joined(errors: &[ApiError], body: &[u8]) -> String {
    if errors.is_empty() {
        return excerpt(&String::from_utf8_lossy(body));
    }
    errors
        .iter()
        .map(|e| match &e.pointer {
            Some(p) => format!("{} (at {p})", e.detail),
            None => e.detail.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whether a 500 is the database refusing the data sent (a duplicate key or a foreign key that
/// points nowhere: SQLSTATE class 23, or 22 for a value it cannot store), which sending again
/// never mends. Shopware up to 6.4.9 could not even encode such a message (it holds the binary
/// ids) and answered "Malformed UTF-8 characters" instead (shopware/shopware#6119).
fn database_refused(message: &str) -> bool {
    ["SQLSTATE[23", "SQLSTATE[22", "Malformed UTF-8"]
        .iter()
        .any(|m| message.contains(m))
}

/// Whether a failed write was refused for something in the data sent (as opposed to the shop
/// being unreachable, busy, or the integration not allowed): then a smaller request without the
/// bad record succeeds.
pub fn refused_for_data(status: u16, body: &[u8]) -> bool {
    match status {
        400 | 409 | 422 => true,
        500 => database_refused(&String::from_utf8_lossy(body)),
        _ => false,
    }
}

/// What a failed answer means, for a request that did `what` ("search order").
pub fn for_status(
    status: u16,
    body: &[u8],
    retry_after_ms: Option<u64>,
    what: &str,
) -> PluginError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let errors = entries(&json);
    let message = joined(&errors, body);
    match status {
        401 => PluginError::Auth(format!(
            "Shopware refused the integration's access token ({message}); check the connection's client_id and client_secret (Settings › System › Integrations)"
        )),
        403 => {
            let missing = missing_privileges(&errors);
            if missing.is_empty() {
                PluginError::Auth(format!("Shopware refused to {what}: {message}"))
            } else {
                PluginError::Auth(format!(
                    "the integration may not {what}: it lacks the privilege(s) {}; grant them to its role in Settings › System › Integrations",
                    missing.join(", ")
                ))
            }
        }
        404 | 410 => PluginError::NotFound(format!("{what}: {message}")),
        429 => PluginError::RateLimited(retry_after_ms.unwrap_or_else(|| {
            // The oauth throttle says how long in its meta; otherwise one second.
            json["errors"][0]["meta"]["parameters"]["seconds"]
                .as_u64()
                .map_or(1_000, |s| s * 1_000)
        })),
        500 if message.contains("Malformed UTF-8")
            || message.contains("SQLSTATE[23000]: Integrity constraint violation: 1452") =>
        {
            PluginError::invalid(format!(
                "Shopware could not {what}: a referenced record (tax, category, property option, sales channel) does not exist ({message})"
            ))
        }
        500 if database_refused(&message) => {
            PluginError::invalid(format!("Shopware's database refused to {what}: {message}"))
        }
        408 | 500..=599 => PluginError::Transient(format!(
            "Shopware could not {what}: HTTP {status}: {message}"
        )),
        _ => match errors.as_slice() {
            [one] => one.problem(),
            _ => PluginError::invalid(format!("Shopware refused to {what}: {message}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Vec<u8> {
        v.to_string().into_bytes()
    }

    #[test]
    fn statuses_become_the_wit_variant() {
        assert!(matches!(
            for_status(401, b"", None, "x"),
            PluginError::Auth(_)
        ));
        assert!(matches!(
            for_status(429, b"", Some(7_000), "x"),
            PluginError::RateLimited(7_000)
        ));
        let throttled = body(
            serde_json::json!({"errors": [{"code": "FRAMEWORK__AUTH_THROTTLED", "meta": {"parameters": {"seconds": 12}}}]}),
        );
        assert!(matches!(
            for_status(429, &throttled, None, "x"),
            PluginError::RateLimited(12_000)
        ));
        assert!(matches!(
            for_status(503, b"busy", None, "x"),
            PluginError::Transient(_)
        ));
        assert!(matches!(
            for_status(404, b"", None, "x"),
            PluginError::NotFound(_)
        ));
    }

    #[test]
    fn the_database_refusing_data_is_told_from_a_failing_shop() {
        let duplicate = body(serde_json::json!({"errors": [{"status": "500", "code": "0",
            "detail": "An exception occurred while executing a query: SQLSTATE[23000]: Integrity constraint violation: 1062 Duplicate entry"}]}));
        assert!(refused_for_data(500, &duplicate));
        assert!(matches!(
            for_status(500, &duplicate, None, "sync products"),
            PluginError::Invalid(_)
        ));
        assert!(!refused_for_data(500, b"Internal Server Error"));
        assert!(!refused_for_data(503, &duplicate));
        assert!(refused_for_data(400, b"{}"));
        assert!(!refused_for_data(403, b"{}"));
    }

    #[test]
    fn a_400_names_the_field() {
        let answer = body(
            serde_json::json!({"errors": [{"code": "c1051bb4", "status": "400",
            "detail": "This value should not be blank.", "source": {"pointer": "/0/name"}}]}),
        );
        let PluginError::Invalid(problem) = for_status(400, &answer, None, "write products") else {
            panic!()
        };
        assert_eq!(problem.message, "This value should not be blank.");
        assert_eq!(problem.field.as_deref(), Some("/0/name"));
    }

    #[test]
    fn a_missing_privilege_says_which() {
        let answer = body(
            serde_json::json!({"errors": [{"code": "FRAMEWORK__MISSING_PRIVILEGE_ERROR",
            "detail": "{\"message\":\"Missing privilege\",\"missingPrivileges\":[\"order_line_item:read\"]}"}]}),
        );
        let PluginError::Auth(message) = for_status(403, &answer, None, "search order") else {
            panic!()
        };
        assert!(message.contains("order_line_item:read"), "{message}");
    }
}
