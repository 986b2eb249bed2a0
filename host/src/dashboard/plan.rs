//! A dry run's plan as a per-record diff (FLOWS.md §5): what would be created, which fields
//! updated (old → new, where tillbridge's own log knows what it last wrote), what skipped, parked
//! or failed.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::mask::Mask;
use crate::flows::RunReport;
use crate::state::{Outcome, Read};

/// How many of a flow's latest runs are searched for what was last written.
const RUNS_SEARCHED: usize = 200;

/// How many values of a record to be created are listed.
const CREATED_SHOWN: usize = 14;

/// One record of a plan.
#[derive(Debug, Serialize)]
pub struct Row {
    pub outcome: &'static str,
    /// "would be created", …
    pub verdict: &'static str,
    pub kind: String,
    pub key: String,
    pub message: String,
    pub changes: Vec<Change>,
    /// For an update: whether tillbridge's log has what it last wrote (else the old values are
    /// not known).
    pub known: bool,
    /// Values of a new record not listed.
    pub more: usize,
}

/// One field's change.
#[derive(Debug, Serialize)]
pub struct Change {
    pub field: String,
    /// What tillbridge last wrote, when its log still has it.
    pub old: Option<String>,
    pub new: String,
}

/// What the flow last wrote for each record, by (kind, key): the `sent` of the newest real run
/// that wrote it.
pub fn last_written(read: &Read, flow: &str) -> anyhow::Result<BTreeMap<(String, String), Value>> {
    let mut written = BTreeMap::new();
    for run in read
        .recent_runs(RUNS_SEARCHED)?
        .into_iter()
        .filter(|r| r.flow == flow && !r.dry_run)
    {
        for activity in read.activity(run.id)? {
            if let (Some(sent), Outcome::Created | Outcome::Updated) =
                (activity.sent, activity.outcome)
            {
                written.entry((activity.kind, activity.key)).or_insert(sent);
            }
        }
    }
    Ok(written)
}

/// The rows of a plan; unchanged records are left out (the summary counts them).
pub fn rows(
    report: &RunReport,
    written: &BTreeMap<(String, String), Value>,
    mask: &Mask,
) -> Vec<Row> {
    report
        .entries
        .iter()
        .filter(|e| e.outcome != Outcome::Unchanged)
        .map(|entry| {
            let now = entry.sent.as_ref().map(leaves).unwrap_or_default();
            let mut known = false;
            let (changes, more) = match entry.outcome {
                Outcome::Created => {
                    // The record's own values first, then those of its parts (variants, lines).
                    let mut values: Vec<(&String, &String)> = now
                        .iter()
                        .filter(|(path, _)| !path.starts_with("update_fields"))
                        .collect();
                    values.sort_by_key(|(path, _)| path.matches(['.', '[']).count());
                    let changes: Vec<Change> = values
                        .iter()
                        .take(CREATED_SHOWN)
                        .map(|(field, new)| Change {
                            field: (*field).clone(),
                            old: None,
                            new: (*new).clone(),
                        })
                        .collect();
                    (changes, values.len().saturating_sub(CREATED_SHOWN))
                }
                Outcome::Updated => {
                    let before = written
                        .get(&(entry.kind.clone(), entry.key.clone()))
                        .map(leaves);
                    known = before.is_some();
                    let mut changes = updates(&now, before.as_ref(), &entry.fields);
                    // The record's own key is no news.
                    changes.retain(|c| c.new != entry.key);
                    (changes, 0)
                }
                _ => (Vec::new(), 0),
            };
            Row {
                outcome: entry.outcome.as_str(),
                verdict: verdict(entry.outcome),
                kind: entry.kind.clone(),
                key: mask.text(&entry.key),
                message: mask.text(&entry.message),
                changes: changes
                    .into_iter()
                    .map(|c| Change {
                        old: c.old.map(|o| mask.text(&o)),
                        new: mask.text(&c.new),
                        field: c.field,
                    })
                    .collect(),
                known,
                more,
            }
        })
        .collect()
}

fn verdict(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Created => "would be created",
        Outcome::Updated => "would be updated",
        Outcome::Unchanged => "unchanged",
        Outcome::Skipped => "would be skipped",
        Outcome::Parked => "would wait",
        Outcome::Failed => "would fail",
    }
}

/// The fields an update writes: the values that differ from what was last written (old → new),
/// or, when the log does not know, the new values of the fields the flow writes.
fn updates(
    now: &BTreeMap<String, String>,
    before: Option<&BTreeMap<String, String>>,
    fields: &[String],
) -> Vec<Change> {
    let written = |path: &str| {
        fields.is_empty()
            || path
                .split(['.', '['])
                .any(|segment| fields.iter().any(|f| f.replace('-', "_") == segment))
    };
    let relevant: Vec<(&String, &String)> = {
        let matching: Vec<_> = now.iter().filter(|(path, _)| written(path)).collect();
        if matching.is_empty() {
            now.iter().collect()
        } else {
            matching
        }
    };
    relevant
        .into_iter()
        .filter_map(|(field, new)| {
            let old = before.and_then(|b| b.get(field)).cloned();
            match (&old, before) {
                (Some(old), _) if old == new => None,
                _ => Some(Change {
                    field: field.clone(),
                    old,
                    new: new.clone(),
                }),
            }
        })
        .collect()
}

/// A record's values by path ("product.price", "lines[0].sku"), nulls left out.
fn leaves(value: &Value) -> BTreeMap<String, String> {
    fn walk(value: &Value, path: String, out: &mut BTreeMap<String, String>) {
        match value {
            Value::Null => {}
            Value::Object(map) => {
                for (key, v) in map {
                    let path = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    walk(v, path, out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, format!("{path}[{i}]"), out);
                }
            }
            Value::String(s) => {
                out.insert(path, s.clone());
            }
            other => {
                out.insert(path, other.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(value, String::new(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_update_shows_what_changed_since_the_last_write_old_to_new() {
        let before = leaves(&json!({"sku": "TB-MUG-01", "quantity": 40, "managed": true}));
        let now = leaves(&json!({"sku": "TB-MUG-01", "quantity": 38, "managed": true}));
        let changes = updates(&now, Some(&before), &["stock".into()]);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].field, "quantity");
        assert_eq!(changes[0].old.as_deref(), Some("40"));
        assert_eq!(changes[0].new, "38");
    }

    #[test]
    fn an_update_lists_only_the_fields_it_writes_and_says_when_old_is_unknown() {
        let now = leaves(&json!({"product": {"name": "Mug", "price": "12.95", "ean": "1"}}));
        let changes = updates(&now, None, &["price".into()]);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].field, "product.price");
        assert_eq!(changes[0].old, None);
    }
}
