//! The sync API (`POST /api/_action/sync`) with one true outcome per record, whatever the
//! version (see the README, "Sync API", for the sources):
//!
//! - 6.4 writes record by record and reports each failure at its record
//!   (`data.{operation}.result[i].errors`), but with `fail-on-error: false` the transaction is
//!   per **operation**: one bad record rolls back every record of its operation, while the
//!   others still look written in the answer. So the records of an operation with a failure
//!   are sent again without the bad ones.
//! - 6.5+ writes the request as one transaction: a bad record fails it all with a 400 whose
//!   pointers (`/{operation}/{i}/{field}`) name the rows; the bad records are taken out and
//!   the rest is sent again.
//! - An error nothing places (a duplicate key or a foreign key the database refuses, without a
//!   pointer) is isolated by splitting: each half of the records is sent alone, and so on,
//!   until the record that fails is alone. Splitting spends at most [`ISOLATING_REQUESTS`]
//!   requests per call; records still not placed then fail with the error.
//!
//! A record may depend on another (a variant on its parent): when the parent fails, a variant
//! not yet written is not sent and fails with a message that says why.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};
use tillbridge_sdk::types::PluginError;

use crate::client::Client;
use crate::errors::{self, ApiError};
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

/// How many requests one call may spend isolating records that fail without a pointer: enough
/// to find a few bad records among 500 (about 2 × 9 requests each), few enough that a shop
/// refusing everything does not get a request per record.
pub const ISOLATING_REQUESTS: usize = 40;

/// A row of the request: (operation, row) in the caller's operations.
type At = (usize, usize);

/// What an answer says about the rows sent.
#[derive(Debug, PartialEq)]
enum Answer {
    /// Every row sent was written.
    Written,
    /// These rows failed; of the others, `written` were written and the rest were not.
    Rows {
        failed: Vec<(At, ApiError)>,
        written: Vec<At>,
    },
    /// Nothing was written, for a reason in the data that no pointer places.
    Unplaced(PluginError),
}

/// The (operation, row) a 6.5+ pointer names: `/{operation}/{row}/…`.
fn atomic_row(pointer: &str) -> Option<(String, usize)> {
    let mut parts = pointer.trim_start_matches('/').split('/');
    let key = parts.next()?.to_string();
    let row = parts.next()?.parse().ok()?;
    Some((key, row))
}

/// Reads an answer to a request whose rows are `index` ((operation key, position) → row).
/// A failure that is not about the data (rate limit, server down, authentication) is the
/// error.
fn read(
    format: SyncFormat,
    status: u16,
    body: &[u8],
    retry_after_ms: Option<u64>,
    index: &BTreeMap<(String, usize), At>,
    what: &str,
) -> Result<Answer, PluginError> {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if format == SyncFormat::PerRecord && matches!(status, 200 | 400) && json["data"].is_object() {
        let mut failed = Vec::new();
        let mut broken = BTreeSet::new();
        for ((key, i), at) in index {
            if let Some(first) = errors::entries(&json["data"][key]["result"][*i]).first() {
                // 6.4 points into the operation (`/{i}/{field}`): name the operation too.
                let mut error = first.clone();
                error.pointer = error.pointer.map(|p| format!("/{key}{p}"));
                failed.push((*at, error));
                broken.insert(key.as_str());
            }
        }
        if failed.is_empty() {
            return Ok(Answer::Written);
        }
        // Operations without a failure were committed (a 400 means fail-on-error rolled back
        // the whole request).
        let written = index
            .iter()
            .filter(|((key, _), _)| status == 200 && !broken.contains(key.as_str()))
            .map(|(_, at)| *at)
            .collect();
        return Ok(Answer::Rows { failed, written });
    }
    if (200..300).contains(&status) {
        return Ok(Answer::Written);
    }
    if !errors::refused_for_data(status, body) {
        return Err(errors::for_status(status, body, retry_after_ms, what));
    }
    let failed: Vec<(At, ApiError)> = errors::entries(&json)
        .into_iter()
        .filter_map(|entry| {
            let row = entry.pointer.as_deref().and_then(atomic_row)?;
            Some((*index.get(&row)?, entry))
        })
        .collect();
    if failed.is_empty() {
        Ok(Answer::Unplaced(errors::for_status(
            status,
            body,
            retry_after_ms,
            what,
        )))
    } else {
        Ok(Answer::Rows {
            failed,
            written: Vec::new(),
        })
    }
}

/// A call's progress: the rows not yet known to be written and the records that failed.
struct Progress<'a> {
    operations: &'a [Operation],
    records: &'a Records,
    pending: BTreeSet<At>,
    failed: BTreeMap<usize, PluginError>,
}

impl<'a> Progress<'a> {
    fn new(operations: &'a [Operation], records: &'a Records) -> Progress<'a> {
        let pending = operations
            .iter()
            .enumerate()
            .flat_map(|(o, op)| (0..op.rows.len()).map(move |r| (o, r)))
            .collect();
        Progress {
            operations,
            records,
            pending,
            failed: BTreeMap::new(),
        }
    }

    fn record_of(&self, (o, r): At) -> Option<usize> {
        self.operations[o].rows[r].record
    }

    /// The records of `group` with rows still to write.
    fn open(&self, group: &[usize]) -> Vec<usize> {
        group
            .iter()
            .copied()
            .filter(|record| {
                !self.failed.contains_key(record)
                    && self
                        .pending
                        .iter()
                        .any(|at| self.record_of(*at) == Some(*record))
            })
            .collect()
    }

    /// The request for the pending rows of `group` (and the shared rows), and where each of
    /// its rows is: (operation key, position) → row.
    fn body(&self, group: &[usize]) -> (Value, BTreeMap<(String, usize), At>) {
        let mut body = Map::new();
        let mut index = BTreeMap::new();
        for (o, operation) in self.operations.iter().enumerate() {
            let rows: Vec<(usize, &Row)> = operation
                .rows
                .iter()
                .enumerate()
                .filter(|(r, row)| {
                    self.pending.contains(&(o, *r))
                        && row.record.is_none_or(|record| {
                            group.contains(&record) && !self.failed.contains_key(&record)
                        })
                })
                .collect();
            if rows.is_empty() {
                continue;
            }
            for (position, (r, _)) in rows.iter().enumerate() {
                index.insert((operation.key.to_string(), position), (o, *r));
            }
            body.insert(
                operation.key.to_string(),
                json!({
                    "entity": operation.entity,
                    "action": if operation.delete { "delete" } else { "upsert" },
                    "payload": rows.iter().map(|(_, row)| row.payload.clone()).collect::<Vec<_>>(),
                }),
            );
        }
        (Value::Object(body), index)
    }

    /// Marks a record failed, and every record depending on it that is not written yet.
    fn fail(&mut self, record: usize, error: PluginError) {
        if self.failed.contains_key(&record) {
            return;
        }
        self.failed.insert(record, error);
        let operations = self.operations;
        self.pending
            .retain(|&(o, r)| operations[o].rows[r].record != Some(record));
        let key = self.records.keys[record].clone();
        for child in 0..self.records.parents.len() {
            if self.records.parents[child] == Some(record) && !self.open(&[child]).is_empty() {
                self.fail(
                    child,
                    PluginError::invalid(format!("not written: {key} failed")),
                );
            }
        }
    }

    /// Applies an answer that places its failures; returns whether a record newly failed.
    fn apply(&mut self, group: &[usize], failed: Vec<(At, ApiError)>, written: Vec<At>) -> bool {
        for at in written {
            self.pending.remove(&at);
        }
        let before = self.failed.len();
        for (at, error) in failed {
            match self.record_of(at) {
                Some(record) => self.fail(record, error.problem()),
                // A shared row: every record of the request needs it.
                None => {
                    for record in self.open(group) {
                        self.fail(record, error.problem());
                    }
                }
            }
        }
        self.failed.len() > before
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
    let mut progress = Progress::new(operations, records);
    let mut groups = vec![(0..records.keys.len()).collect::<Vec<usize>>()];
    // Requests left for isolating; none are counted before the first split.
    let mut budget = None;
    while let Some(group) = groups.pop() {
        loop {
            let open = progress.open(&group);
            if open.is_empty() {
                break;
            }
            if budget == Some(0) {
                let why = PluginError::invalid(format!(
                    "not written: Shopware refused it with {} other record(s) without saying which one, and isolating it would take too many requests",
                    open.len() - 1
                ));
                for record in open {
                    progress.fail(record, why.clone());
                }
                break;
            }
            budget = budget.map(|left: usize| left - 1);
            let (request, index) = progress.body(&group);
            let answer = client.sync(&request, what)?;
            let reply = read(
                format,
                answer.status(),
                answer.bytes(),
                answer.retry_after_ms(),
                &index,
                what,
            )?;
            let unplaced = match reply {
                Answer::Written => {
                    let sent: BTreeSet<At> = index.into_values().collect();
                    progress.pending.retain(|at| !sent.contains(at));
                    break;
                }
                Answer::Rows { failed, written } => {
                    if progress.apply(&group, failed, written) {
                        continue;
                    }
                    errors::for_status(answer.status(), answer.bytes(), None, what)
                }
                Answer::Unplaced(error) => error,
            };
            if let [record] = open[..] {
                progress.fail(record, unplaced);
                break;
            }
            // Each half alone: the one that fails holds the bad record.
            let (first, second) = open.split_at(open.len() / 2);
            groups.push(second.to_vec());
            groups.push(first.to_vec());
            budget.get_or_insert(ISOLATING_REQUESTS);
            break;
        }
    }
    Ok(progress.failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(rows: &[(&str, usize, At)]) -> BTreeMap<(String, usize), At> {
        rows.iter()
            .map(|(key, i, at)| ((key.to_string(), *i), *at))
            .collect()
    }

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
    fn on_6_4_a_failing_record_takes_its_operation_back_but_not_the_others() {
        let sent = index(&[("a", 0, (0, 0)), ("a", 1, (0, 1)), ("b", 0, (1, 0))]);
        let body = json!({"success": false, "data": {
            "a": {"result": [{"entities": {"product": ["x"]}, "errors": []},
                             {"entities": [], "errors": [{"detail": "bad", "source": {"pointer": "/1/stock"}}]}]},
            "b": {"result": [{"entities": {"product": ["y"]}, "errors": []}]}}});
        let answer = read(
            SyncFormat::PerRecord,
            200,
            body.to_string().as_bytes(),
            None,
            &sent,
            "sync",
        )
        .unwrap();
        let Answer::Rows { failed, written } = answer else {
            panic!("{answer:?}")
        };
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].0, (0, 1));
        assert_eq!(failed[0].1.pointer.as_deref(), Some("/a/1/stock"));
        assert_eq!(
            written,
            vec![(1, 0)],
            "only the operation without a failure"
        );
    }

    #[test]
    fn an_error_without_a_pointer_is_unplaced_and_a_server_failure_is_the_error() {
        let sent = index(&[("stock", 0, (0, 0))]);
        let duplicate = json!({"errors": [{"status": "400", "code": "PRODUCT_CONFIGURATION_OPTION_EXISTS_ALREADY",
            "detail": "Configuration option already exists"}]});
        assert!(matches!(
            read(
                SyncFormat::Atomic,
                400,
                duplicate.to_string().as_bytes(),
                None,
                &sent,
                "sync"
            ),
            Ok(Answer::Unplaced(_))
        ));
        assert!(matches!(
            read(SyncFormat::Atomic, 503, b"busy", None, &sent, "sync"),
            Err(PluginError::Transient(_))
        ));
        let placed =
            json!({"errors": [{"detail": "bad", "source": {"pointer": "/stock/0/stock"}}]});
        assert!(matches!(
            read(
                SyncFormat::Atomic,
                400,
                placed.to_string().as_bytes(),
                None,
                &sent,
                "sync"
            ),
            Ok(Answer::Rows { .. })
        ));
    }

    #[test]
    fn failed_records_leave_the_request_and_take_their_unwritten_dependents() {
        let mut records = Records::default();
        let parent = records.add("TB-TEE", None);
        let variant = records.add("TB-TEE-S", Some(parent));
        let other = records.add("TB-MUG", None);
        let mut op = Operation::upsert("products", "product");
        op.push(Some(parent), json!({"id": "p"}));
        op.push(Some(variant), json!({"id": "v"}));
        op.push(Some(other), json!({"id": "o"}));
        let operations = [op];
        let mut progress = Progress::new(&operations, &records);
        progress.fail(parent, PluginError::invalid("bad"));
        assert!(progress.failed.contains_key(&variant));
        let (request, index) = progress.body(&[0, 1, 2]);
        assert_eq!(request["products"]["payload"], json!([{"id": "o"}]));
        assert_eq!(index.get(&("products".to_string(), 0)), Some(&(0, 2)));
    }
}
