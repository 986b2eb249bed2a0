//! The sync API (`POST /api/_action/sync`) with one outcome per record, whatever the version:
//!
//! - 6.4 writes record by record; with `fail-on-error: false` the good ones are kept and each
//!   bad one is reported in `data.{operation}.result[i].errors` (pointer `/{i}/{field}`).
//! - 6.5+ writes the request as one transaction: one bad row fails it all with a 400 whose
//!   pointers (`/{operation}/{i}/{field}`) name the rows. The bad records are taken out and the
//!   rest is sent again, so a bad record fails alone.
//!
//! A record may depend on another (a variant on its parent): when the parent fails, the
//! variant is not sent and fails with a message that says why.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use tillbridge_sdk::types::PluginError;

use crate::client::Client;
use crate::errors;
use crate::version::SyncFormat;

/// One row of an operation, belonging to a record of the caller's batch (or to all of them,
/// like a property group the batch needs).
#[derive(Debug, Clone)]
pub struct Row {
    /// The record it belongs to; none: shared.
    pub record: Option<usize>,
    /// The entity payload.
    pub payload: Value,
}

/// One operation: an entity, upsert or delete, and its rows.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Its key in the request, which Shopware's pointers repeat.
    pub key: &'static str,
    /// The entity, e.g. `product`.
    pub entity: &'static str,
    /// Delete instead of upsert (mapping rows only).
    pub delete: bool,
    /// The rows.
    pub rows: Vec<Row>,
}

impl Operation {
    /// An upsert operation.
    pub fn upsert(key: &'static str, entity: &'static str) -> Operation {
        Operation {
            key,
            entity,
            delete: false,
            rows: Vec::new(),
        }
    }

    /// A delete operation.
    pub fn delete(key: &'static str, entity: &'static str) -> Operation {
        Operation {
            delete: true,
            ..Operation::upsert(key, entity)
        }
    }

    /// Adds a row of a record.
    pub fn push(&mut self, record: Option<usize>, payload: Value) {
        self.rows.push(Row { record, payload });
    }
}

/// The records of a batch: their keys (for messages) and which record each depends on.
#[derive(Debug, Default)]
pub struct Records {
    /// The key of each record (a SKU).
    pub keys: Vec<String>,
    /// The record each one depends on.
    pub parents: Vec<Option<usize>>,
}

impl Records {
    /// Adds a record; returns its index.
    pub fn add(&mut self, key: &str, parent: Option<usize>) -> usize {
        self.keys.push(key.to_string());
        self.parents.push(parent);
        self.keys.len() - 1
    }
}

/// How many times a batch is sent at most: the first time, and again after each round of bad
/// records taken out.
const ATTEMPTS: usize = 4;

/// The request body without the failed records, and where each row landed: (operation key,
/// index in the request) → record.
fn body(
    operations: &[Operation],
    failed: &BTreeMap<usize, PluginError>,
) -> (Value, BTreeMap<(String, usize), Option<usize>>) {
    let mut body = Map::new();
    let mut index = BTreeMap::new();
    for operation in operations {
        let rows: Vec<&Row> = operation
            .rows
            .iter()
            .filter(|r| r.record.is_none_or(|i| !failed.contains_key(&i)))
            .collect();
        if rows.is_empty() {
            continue;
        }
        for (i, row) in rows.iter().enumerate() {
            index.insert((operation.key.to_string(), i), row.record);
        }
        body.insert(
            operation.key.to_string(),
            json!({
                "entity": operation.entity,
                "action": if operation.delete { "delete" } else { "upsert" },
                "payload": rows.iter().map(|r| r.payload.clone()).collect::<Vec<_>>(),
            }),
        );
    }
    (Value::Object(body), index)
}

/// The (operation, row) a 6.5+ pointer names: `/{operation}/{row}/…`.
fn atomic_row(pointer: &str) -> Option<(String, usize)> {
    let mut parts = pointer.trim_start_matches('/').split('/');
    let key = parts.next()?.to_string();
    let row = parts.next()?.parse().ok()?;
    Some((key, row))
}

/// Marks a record failed, and every record that depends on it.
fn fail(
    records: &Records,
    failed: &mut BTreeMap<usize, PluginError>,
    record: usize,
    error: PluginError,
) {
    if failed.contains_key(&record) {
        return;
    }
    failed.insert(record, error);
    for (child, parent) in records.parents.iter().enumerate() {
        if *parent == Some(record) {
            let why = PluginError::invalid(format!("not written: {} failed", records.keys[record]));
            fail(records, failed, child, why);
        }
    }
}

/// Fails every record not yet failed with `error`.
fn fail_all(records: &Records, failed: &mut BTreeMap<usize, PluginError>, error: &PluginError) {
    for record in 0..records.keys.len() {
        failed.entry(record).or_insert_with(|| error.clone());
    }
}

/// Sends the operations; returns the records that failed, each with its reason. A failure of
/// the whole request (rate limit, server error, authentication) is the error.
pub fn run(
    client: &mut Client,
    operations: &[Operation],
    records: &Records,
    what: &str,
) -> Result<BTreeMap<usize, PluginError>, PluginError> {
    let format = client.sync_format()?;
    let mut failed = BTreeMap::new();
    for _ in 0..ATTEMPTS {
        let (request, index) = body(operations, &failed);
        if index.is_empty() {
            break;
        }
        let answer = client.sync(&request, what)?;
        let status = answer.status();
        let json: Value = serde_json::from_slice(answer.bytes()).unwrap_or(Value::Null);
        match (format, status) {
            (SyncFormat::PerRecord, 200 | 400) if json["data"].is_object() => {
                for ((key, i), record) in &index {
                    let row_errors = errors::entries(&json["data"][key]["result"][*i]);
                    let Some(first) = row_errors.first() else {
                        continue;
                    };
                    // 6.4 points into the operation (`/{i}/{field}`): name the operation too.
                    let mut error = first.clone();
                    error.pointer = error.pointer.map(|p| format!("/{key}{p}"));
                    match record {
                        Some(record) => fail(records, &mut failed, *record, error.problem()),
                        None => fail_all(records, &mut failed, &error.problem()),
                    }
                }
                break;
            }
            (_, 200..=299) => break,
            (SyncFormat::Atomic, 400) => {
                let entries = errors::entries(&json);
                let mut progress = false;
                for entry in &entries {
                    let record = entry
                        .pointer
                        .as_deref()
                        .and_then(atomic_row)
                        .and_then(|row| index.get(&row).copied());
                    match record {
                        Some(Some(record)) => {
                            progress |= !failed.contains_key(&record);
                            fail(records, &mut failed, record, entry.problem());
                        }
                        // A shared row or an error without a row: it concerns every record.
                        _ => {
                            fail_all(records, &mut failed, &entry.problem());
                            return Ok(failed);
                        }
                    }
                }
                if !progress {
                    let error = errors::for_status(status, answer.bytes(), None, what);
                    fail_all(records, &mut failed, &error);
                    break;
                }
            }
            _ => {
                return Err(errors::for_status(
                    status,
                    answer.bytes(),
                    answer.retry_after_ms(),
                    what,
                ));
            }
        }
    }
    Ok(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_name_operation_and_row() {
        assert_eq!(atomic_row("/stock/12/stock"), Some(("stock".into(), 12)));
        assert_eq!(
            atomic_row("/0/name"),
            None,
            "a 6.4 pointer has no operation"
        );
        assert_eq!(atomic_row("/limit"), None);
    }

    #[test]
    fn failed_records_leave_the_request_and_take_their_dependents() {
        let mut records = Records::default();
        let parent = records.add("TB-TEE", None);
        let variant = records.add("TB-TEE-S", Some(parent));
        let other = records.add("TB-MUG", None);
        let mut op = Operation::upsert("products", "product");
        op.push(Some(parent), json!({"id": "p"}));
        op.push(Some(variant), json!({"id": "v"}));
        op.push(Some(other), json!({"id": "o"}));
        let mut failed = BTreeMap::new();
        fail(&records, &mut failed, parent, PluginError::invalid("bad"));
        assert!(failed.contains_key(&variant));
        let (request, index) = body(&[op], &failed);
        assert_eq!(request["products"]["payload"], json!([{"id": "o"}]));
        assert_eq!(index.get(&("products".to_string(), 0)), Some(&Some(other)));
    }
}
