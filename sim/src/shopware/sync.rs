//! `POST /api/_action/sync`: upserts and deletes of many entities in one request.
//!
//! - 6.5+ (SW@v6.5.8.14, v6.6.7.1: `SyncService::sync` hands every operation to
//!   `EntityWriter::sync`, one transaction): all operations are one unit; any error answers
//!   400 with every validation error (pointers `/{operationKey}/{rowIndex}/{field}`) and
//!   nothing is written. An error the database raises (a duplicate key, a foreign key) comes
//!   alone and without a pointer. Deletes may select rows by `criteria`. The answer lists
//!   written keys by entity (with cascaded translations and mappings), `notFound` and
//!   `deleted`.
//! - 6.4 (SW@v6.4.20.2: `SyncService::sync` without `single-operation`): records are written
//!   one by one and each failure is reported at its record (`data.{key}.result[i].errors`,
//!   pointers `/{rowIndex}/{field}`), but the **transaction is per operation**: a failing
//!   record rolls its whole operation back while the other records still list their
//!   entities. With `fail-on-error` (default) one transaction spans the request and any
//!   failure answers **400 with a body shaped like success** (`success: false`), entities
//!   reset. `single-operation: 1` behaves like 6.5+.
//! - `indexing-behavior` (every version; SW@v6.4.20.2 and v6.5.8.14 `SyncService::sync`, only
//!   `use-queue-indexing` and `disable-indexing` count): with `disable-indexing` nothing
//!   derived is computed (`EntityIndexerRegistry::refresh` returns at once); with
//!   `use-queue-indexing` the product indexer still updates inheritance and stock at once
//!   (`ProductIndexer::update`) and hands the rest to the message queue. The simulator counts
//!   what it queues and computes it at once, as a worker that keeps up would.

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
use super::store::{Store, Tx, row_key};
use super::write::{Changes, Mode, Writer};

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

/// What `indexing-behavior` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Indexing {
    Now,
    Queue,
    Off,
}

impl Indexing {
    fn of(call: &Call<'_>) -> Indexing {
        match call.header_value("indexing-behavior").map(str::trim) {
            Some("use-queue-indexing") => Indexing::Queue,
            Some("disable-indexing") => Indexing::Off,
            _ => Indexing::Now,
        }
    }

    /// Updates what `changes` derive, as asked.
    fn run(self, tx: &mut Tx<'_>, changes: &Changes) {
        match self {
            Indexing::Off => {}
            Indexing::Now => index::reindex(tx, changes),
            Indexing::Queue => {
                index::reindex(tx, changes);
                tx.store_mut().queued_indexing += changes.products.len() as u64;
            }
        }
    }
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
    let changes = writer.finish().map_err(write_error)?;
    Indexing::of(call).run(&mut tx, &changes);
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

/// The 6.4 sync: record by record, one transaction per operation (or per request with
/// `fail-on-error`), as SW@v6.4.20.2 `SyncService::sync` and `upsertRecords` do.
fn legacy(
    store: &mut Store,
    call: &Call<'_>,
    operations: &[Operation],
    privileges: Option<BTreeSet<String>>,
) -> Result<Response, ApiError> {
    let fail_on_error = header_flag(call, "fail-on-error", true);
    let indexing = Indexing::of(call);
    let context_version = call.version_id();
    let language = call.language_id(store)?;
    let mut tx = store.begin();
    let mut results: Vec<(String, Vec<Value>)> = Vec::new();
    let mut failed = false;
    for operation in operations {
        // "begin a new transaction for every operation to provide chunk-safe operations"
        let operation_start = tx.savepoint();
        let mut records = Vec::new();
        let mut operation_failed = false;
        for (i, record) in operation.payload.iter().enumerate() {
            let savepoint = tx.savepoint();
            let key = key_of(&tx, operation.entity, record);
            let mut writer = Writer::new(&mut tx, &context_version, &language)
                .with_privileges(privileges.clone());
            if operation.upsert {
                writer.write(operation.entity, record, Mode::Upsert, &format!("/{i}"));
            } else {
                writer.delete(operation.entity, &key);
            }
            match writer.finish() {
                Ok(changes) => {
                    indexing.run(&mut tx, &changes);
                    let mut entities = changes.written;
                    for (entity, keys) in changes.deleted {
                        entities.entry(entity).or_default().extend(keys);
                    }
                    records.push(json!({"entities": grouped(entities), "errors": []}));
                }
                Err(error) => {
                    tx.rollback_to(savepoint);
                    operation_failed = true;
                    records.push(json!({"entities": [], "errors": write_error(error).errors}));
                }
            }
        }
        results.push((operation.key.clone(), records));
        if !operation_failed {
            continue;
        }
        failed = true;
        if fail_on_error {
            // `resetEntities` on every result so far; the request is rolled back at the end.
            for (_, records) in &mut results {
                for record in records.iter_mut() {
                    record["entities"] = json!([]);
                }
            }
        } else {
            // The operation's transaction is rolled back; its result keeps the entities of the
            // records that were written before (`resetEntities` is only called with
            // fail-on-error).
            tx.rollback_to(operation_start);
        }
    }
    let status = if failed && fail_on_error {
        drop(tx);
        StatusCode::BAD_REQUEST
    } else {
        tx.commit();
        StatusCode::OK
    };
    let data: Map<String, Value> = results
        .into_iter()
        .map(|(key, records)| (key, json!({"result": records, "extensions": []})))
        .collect();
    // Without `single-operation`, `SyncResult` is built from the results and success alone:
    // `deleted` and `notFound` stay empty.
    let body = json!({
        "success": !failed,
        "data": data,
        "deleted": [],
        "notFound": [],
        "extensions": [],
    });
    Ok(json_response(status, &body))
}
