//! Error answers in Shopware's format: `{"errors":[{"status","code","title","detail","meta",
//! "source"}]}`, with the codes and messages the real shop uses, so clients can match on them.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Symfony's NotBlank violation code, which Shopware passes through for missing required fields.
pub const NOT_BLANK: &str = "c1051bb4-d103-4f74-8988-acbcafc7fdc3";
/// Symfony's Type violation code (a value of the wrong JSON type).
pub const WRONG_TYPE: &str = "ba785a8c-82cb-4283-967c-3cf342181b40";
/// The code of write violations that carry no code of their own.
pub const WRITE_CONSTRAINT: &str = "FRAMEWORK__WRITE_CONSTRAINT_VIOLATION";

/// An error answer: a status and one or more error objects.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The entries of `errors`.
    pub errors: Vec<Value>,
}

impl ApiError {
    /// One error in the common format (`ShopwareHttpException::getCommonErrorData`).
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            errors: vec![json!({
                "status": status.as_u16().to_string(),
                "code": code,
                "title": reason(status),
                "detail": detail.into(),
                "meta": {"parameters": {}},
            })],
        }
    }

    /// A 400 with several errors, e.g. all violations of one write.
    pub fn bad_request(errors: Vec<Value>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            errors,
        }
    }

    /// Sets `meta.parameters` of the (first) error.
    pub fn params(mut self, parameters: Value) -> Self {
        if let Some(error) = self.errors.first_mut() {
            error["meta"] = json!({ "parameters": parameters });
        }
        self
    }

    /// Sets `source.pointer` of the (first) error.
    pub fn pointer(mut self, pointer: impl Into<String>) -> Self {
        if let Some(error) = self.errors.first_mut() {
            error["source"] = json!({ "pointer": pointer.into() });
        }
        self
    }

    /// The entity does not exist (`FRAMEWORK__RESOURCE_NOT_FOUND`).
    pub fn not_found(entity: &str, id: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "FRAMEWORK__RESOURCE_NOT_FOUND",
            format!("The {entity} resource with the following primary key was not found: id({id})"),
        )
        .params(json!({
            "type": entity,
            "primaryKey": {"id": id},
            "primaryKeyString": format!("id({id})"),
        }))
    }

    /// No route matches, e.g. an id with dashes or upper-case letters in the path: Symfony's
    /// `NotFoundHttpException`, which has no Shopware code.
    pub fn no_route(method: &str, uri: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "0",
            format!("No route found for \"{method} {uri}\""),
        )
    }

    /// An entity name the shop does not know.
    pub fn unknown_entity(entity: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "FRAMEWORK__DEFINITION_NOT_FOUND",
            format!("Definition for entity \"{entity}\" does not exist."),
        )
        .params(json!({ "entity": entity }))
    }

    /// A field path in a criteria that the entity does not have.
    pub fn unmapped_field(field: &str, entity: &str) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "FRAMEWORK__UNMAPPED_FIELD",
            format!("Field \"{field}\" in entity \"{entity}\" was not found."),
        )
        .params(json!({ "field": field, "entity": entity }))
    }

    /// An id that is not 32 lowercase hex characters, in a body.
    pub fn invalid_uuid(value: &str) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "FRAMEWORK__INVALID_UUID",
            format!("Value is not a valid UUID: {value}"),
        )
        .params(json!({ "input": value }))
    }

    /// A body that is not the JSON the endpoint takes.
    pub fn invalid_body(detail: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "FRAMEWORK__INVALID_REQUEST_PARAMETER",
            detail,
        )
    }

    /// The integration's role lacks privileges (`FRAMEWORK__MISSING_PRIVILEGE_ERROR`); the
    /// detail is itself JSON, as Shopware sends it.
    pub fn missing_privileges<'a>(missing: impl IntoIterator<Item = &'a String>) -> Self {
        let missing: Vec<&String> = missing.into_iter().collect();
        let detail = json!({"message": "Missing privilege", "missingPrivileges": missing});
        ApiError::new(
            StatusCode::FORBIDDEN,
            "FRAMEWORK__MISSING_PRIVILEGE_ERROR",
            detail.to_string(),
        )
    }

    /// A server-side failure that Shopware would answer with a generic 500.
    pub fn internal(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "0", detail)
    }
}

/// One write violation (`WriteConstraintViolationException::getErrors`): no title, but a
/// `template` and the pointer into the request body.
pub fn violation(pointer: &str, code: &str, detail: &str, parameters: Value) -> Value {
    json!({
        "code": code,
        "status": "400",
        "detail": detail,
        "template": detail,
        "meta": {"parameters": parameters},
        "source": {"pointer": pointer},
    })
}

/// The HTTP reason phrase Shopware puts in `title`.
pub fn reason(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "errors": self.errors }))).into_response()
    }
}

/// The answer to an injected fault: the status in Shopware's error format, so clients parse it
/// as they would a real one.
pub fn fault_answer(status: u16, _retry_after: Option<u64>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let code = if status == StatusCode::TOO_MANY_REQUESTS {
        "FRAMEWORK__TOO_MANY_REQUESTS"
    } else {
        "0"
    };
    ApiError::new(status, code, format!("Injected fault: {}", reason(status))).into_response()
}
