//! `POST /api/_action/sync`: upserts and deletes of many entities in one request.
//!
//! - 6.6/6.7: all operations are one unit; any error answers 400 with every error (pointers
//!   `/{operationKey}/{rowIndex}/{field}`) and nothing is written. Deletes may select rows by
//!   `criteria`. The answer lists written keys by entity (with cascaded translations and
//!   mappings), `notFound` and `deleted`.
//! - 6.4: each record is written on its own; with `fail-on-error` (default) a failing record
//!   rolls everything back and the answer is **400 with a body shaped like success**
//!   (`success: false`, per-record `errors` with pointers `/{rowIndex}/{field}`). With
//!   `fail-on-error: false` the good records stay. `single-operation: 1` behaves like 6.6.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::ApiVersion;
use super::criteria::{self, Limits};
use super::error::ApiError;
use super::index;
use super::routes::{Call, write_error};
use super::search::Reader;
use super::store::{Store, row_key};
use super::write::{Mode, Writer};

/// One operation of a sync request.
struct Operation {
    key: String,
    entity: &'static str,
    upsert: bool,
    payload: Vec<Value>,
    criteria: Option<Value>,
}

fn invalid(detail: String) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "FRAMEWORK__INVALID_SYNC_OPERATION",
        detail,
    )
}

fn operations(store: &Store, body: &Value) -> Result<Vec<Operation>, ApiError> {
    let entries: Vec<(String, &Value)> = match body {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => {
            return Err(invalid(
                "The sync payload must be an object or a list of operations.".into(),
            ));
        }
    };
    let mut operations = Vec::new();
    for (default_key, operation) in entries {
        let key = operation["key"]
            .as_str()
            .map_or(default_key, str::to_string);
        let Some(name) = operation["entity"].as_str().filter(|e| !e.is_empty()) else {
            return Err(invalid(format!(
                "Missing \"entity\" argument for operation with key \"{key}\". It needs to be a non-empty string."
            )));
        };
        let entity = store
            .defs
            .get(name)
            .ok_or_else(|| ApiError::unknown_entity(name))?
            .name;
        let upsert = match operation["action"].as_str() {
            Some("upsert") => true,
            Some("delete") => false,
            _ => {
                return Err(invalid(format!(
                    "Missing or invalid \"action\" argument for operation with key \"{key}\". Supported actions are [upsert, delete]"
                )));
            }
        };
        let payload: Vec<Value> = operation["payload"].as_array().cloned().unwrap_or_default();
        let criteria = operation
            .get("criteria")
            .filter(|c| c.as_array().is_some_and(|a| !a.is_empty()))
            .filter(|_| store.version != ApiVersion::V6_4 && !upsert)
            .cloned();
        if payload.is_empty() && criteria.is_none() {
            let wanted = if store.version == ApiVersion::V6_4 || upsert {
                "\"payload\""
            } else {
                "\"payload\"|\"criteria\""
            };
            return Err(invalid(format!(
                "Missing {wanted} argument for operation with key \"{key}\". It needs to be a non-empty array."
            )));
        }
        operations.push(Operation {
            key,
            entity,
            upsert,
            payload,
            criteria,
        });
    }
    Ok(operations)
}

fn header_flag(call: &Call<'_>, name: &str, default: bool) -> bool {
    match call.header_value(name) {
        Some(v) => matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "on" | "yes"
        ),
        None => default,
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn grouped(map: BTreeMap<&'static str, Vec<Value>>) -> Value {
    if map.is_empty() {
        json!([])
    } else {
        Value::Object(
            map.into_iter()
                .map(|(k, v)| (k.to_string(), Value::Array(v)))
                .collect(),
        )
    }
}

/// The keys of the rows of `entity` that a delete-by-criteria selects.
fn selected(
    store: &Store,
    entity: &'static str,
    filters: &Value,
    version: &str,
) -> Result<Vec<String>, ApiError> {
    let def = store.def(entity);
    let criteria = criteria::parse(
        &json!({"filter": filters}),
        &store.defs,
        def,
        Limits { max: None },
    )?;
    let reader = Reader::new(store, version, super::ids::SYSTEM_LANGUAGE, false);
    Ok(reader
        .search(def, &criteria)
        .rows
        .iter()
        .map(|r| row_key(def, &r.data))
        .collect())
}

fn key_of(store: &Store, entity: &str, record: &Value) -> String {
    let def = store.def(entity);
    match record.as_object() {
        Some(object) => row_key(def, object),
        None => String::new(),
    }
}

/// Answers a sync request.
pub fn handle(
    store: &mut Store,
    version: ApiVersion,
    privileges: Option<BTreeSet<String>>,
    call: &Call<'_>,
) -> Result<Response, ApiError> {
    let body = call.json()?;
    let operations = operations(store, &body)?;
    if version == ApiVersion::V6_4 && !header_flag(call, "single-operation", false) {
        return legacy(store, call, &operations, privileges);
    }
    let context_version = call.version_id();
    let language = call.language_id(store)?;
    let mut by_criteria: Vec<Vec<String>> = Vec::new();
    for operation in &operations {
        by_criteria.push(match &operation.criteria {
            Some(filters) => selected(store, operation.entity, filters, &context_version)?,
            None => Vec::new(),
        });
    }
    let mut tx = store.begin();
    let mut writer = Writer::new(&mut tx, &context_version, &language).with_privileges(privileges);
    let mut not_found: BTreeMap<&'static str, Vec<Value>> = BTreeMap::new();
    for (operation, selected) in operations.iter().zip(by_criteria) {
        if operation.upsert {
            for (i, record) in operation.payload.iter().enumerate() {
                writer.write(
                    operation.entity,
                    record,
                    Mode::Upsert,
                    &format!("/{}/{i}", operation.key),
                );
            }
            continue;
        }
        let mut keys: Vec<(String, Value)> =
            selected.into_iter().map(|k| (k, Value::Null)).collect();
        for record in &operation.payload {
            keys.push((
                key_of(writer_store(&writer), operation.entity, record),
                record.clone(),
            ));
        }
        for (key, record) in keys {
            if !writer.delete(operation.entity, &key) {
                not_found.entry(operation.entity).or_default().push(record);
            }
        }
    }
    let changes = writer.finish().map_err(|e| write_error(e, true))?;
    index::reindex(&mut tx, &changes);
    tx.commit();
    let mut answer = json!({
        "extensions": [],
        "data": grouped(changes.written),
        "notFound": grouped(not_found),
        "deleted": grouped(changes.deleted),
    });
    if version == ApiVersion::V6_4 {
        answer["success"] = json!(true);
    }
    Ok(json_response(StatusCode::OK, &answer))
}

fn writer_store<'a>(writer: &'a Writer<'_, '_>) -> &'a Store {
    writer.store()
}

/// The 6.4 sync: record by record, with `fail-on-error`.
fn legacy(
    store: &mut Store,
    call: &Call<'_>,
    operations: &[Operation],
    privileges: Option<BTreeSet<String>>,
) -> Result<Response, ApiError> {
    let fail_on_error = header_flag(call, "fail-on-error", true);
    let context_version = call.version_id();
    let language = call.language_id(store)?;
    let mut tx = store.begin();
    let mut results = Map::new();
    let mut failed = false;
    let mut deleted: BTreeMap<&'static str, Vec<Value>> = BTreeMap::new();
    let mut not_found: BTreeMap<&'static str, Vec<Value>> = BTreeMap::new();
    for operation in operations {
        let mut records = Vec::new();
        for (i, record) in operation.payload.iter().enumerate() {
            let savepoint = tx.savepoint();
            let key = key_of(&tx, operation.entity, record);
            let mut writer = Writer::new(&mut tx, &context_version, &language)
                .with_privileges(privileges.clone());
            let found = if operation.upsert {
                writer.write(operation.entity, record, Mode::Upsert, &format!("/{i}"));
                true
            } else {
                writer.delete(operation.entity, &key)
            };
            match writer.finish() {
                Ok(changes) => {
                    index::reindex(&mut tx, &changes);
                    if !found {
                        not_found
                            .entry(operation.entity)
                            .or_default()
                            .push(record.clone());
                    }
                    for (entity, keys) in &changes.deleted {
                        deleted
                            .entry(entity)
                            .or_default()
                            .extend(keys.iter().cloned());
                    }
                    let mut entities = changes.written;
                    for (entity, keys) in changes.deleted {
                        entities.entry(entity).or_default().extend(keys);
                    }
                    records.push(json!({"entities": grouped(entities), "errors": []}));
                }
                Err(error) => {
                    tx.rollback_to(savepoint);
                    failed = true;
                    records
                        .push(json!({"entities": [], "errors": write_error(error, true).errors}));
                }
            }
        }
        results.insert(
            operation.key.clone(),
            json!({"result": records, "extensions": []}),
        );
    }
    let status = if failed && fail_on_error {
        drop(tx);
        StatusCode::BAD_REQUEST
    } else {
        tx.commit();
        StatusCode::OK
    };
    let body = json!({
        "success": !failed,
        "data": results,
        "deleted": grouped(deleted),
        "notFound": grouped(not_found),
        "extensions": [],
    });
    Ok(json_response(status, &body))
}
