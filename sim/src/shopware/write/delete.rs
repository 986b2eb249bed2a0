//! Deleting: the row, what cascades from it (one-to-many and one-to-one children, mapping
//! rows, configurator settings), then the references left: a required one refuses the delete
//! (409), an optional one is set to null, as the database's foreign keys do.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::Writer;
use crate::shopware::definition::{Definitions, Relation};
use crate::shopware::error::ApiError;
use crate::shopware::ids::LIVE_VERSION;
use crate::shopware::store::{Row, row_key};

impl Writer<'_, '_> {
    /// Deletes the row of `entity` under `key` with what cascades from it; false when there is
    /// no such row.
    pub fn delete(&mut self, entity: &str, key: &str) -> bool {
        self.require(entity, "delete");
        let defs = self.defs.clone();
        let Some(def) = defs.get(entity) else {
            return false;
        };
        if self.tx.get(def.name, key, &self.version).is_none() {
            return false;
        }
        let mut doomed = Vec::new();
        self.collect(&defs, def.name, key, &mut doomed);
        let set: BTreeSet<(&str, &str)> = doomed.iter().map(|(e, k)| (*e, k.as_str())).collect();
        for (entity, key) in &doomed {
            for other in defs.names() {
                let other_def = defs.entity(other);
                for field in other_def.fields.iter().filter(|f| f.target == Some(entity)) {
                    let users: Vec<Row> = self
                        .tx
                        .rows(other, &self.version)
                        .into_iter()
                        .filter(|r| r.str(field.name) == Some(key.as_str()))
                        .filter(|r| !set.contains(&(other, row_key(other_def, &r.data).as_str())))
                        .cloned()
                        .collect();
                    if users.is_empty() {
                        continue;
                    }
                    if field.required {
                        self.conflict = Some(ApiError::new(
                            StatusCode::CONFLICT,
                            "FRAMEWORK__DELETE_RESTRICTED",
                            format!(
                                "The delete request for {entity} was denied due to a conflict. The entity is currently in use by: {other} ({})",
                                users.len()
                            ),
                        ));
                        return true;
                    }
                    for mut user in users {
                        user.data.insert(field.name.into(), Value::Null);
                        user.data.insert("updatedAt".into(), json!(self.now));
                        self.note(other_def, &user, json!(user.id()), false);
                        self.tx.put(other, &self.version, user);
                    }
                }
            }
        }
        for (entity, key) in doomed {
            let Some(row) = self.tx.get(entity, &key, &self.version).cloned() else {
                continue;
            };
            let def = defs.entity(entity);
            let primary_key = match def.mapping_key {
                Some([a, b]) => json!({ a: row.get(a), b: row.get(b) }),
                None => json!(key),
            };
            self.note(def, &row, primary_key, true);
            if entity == "order" && self.version == LIVE_VERSION {
                self.changes.removed_orders.push(row.clone());
            }
            self.tx.remove(entity, &self.version, &key);
        }
        true
    }

    /// The row and everything that goes with it.
    fn collect(
        &self,
        defs: &Definitions,
        entity: &'static str,
        key: &str,
        doomed: &mut Vec<(&'static str, String)>,
    ) {
        if doomed.iter().any(|(e, k)| *e == entity && k == key) {
            return;
        }
        doomed.push((entity, key.to_string()));
        let def = defs.entity(entity);
        let mut below: Vec<(&'static str, String)> = Vec::new();
        for association in def.associations.iter().filter(|a| a.cascade) {
            let (table, field) = match association.relation {
                Relation::OneToMany { remote_fk } | Relation::OneToOne { remote_fk } => {
                    (association.entity, remote_fk)
                }
                Relation::ManyToMany { mapping, local, .. } => (mapping, local),
                Relation::ManyToOne { .. } => continue,
            };
            below.extend(self.rows_where(defs, table, field, key));
        }
        for other in defs.names() {
            let other_def = defs.entity(other);
            if other_def.mapping_key.is_none() && other != "product_configurator_setting" {
                continue;
            }
            for field in other_def.fields.iter().filter(|f| f.target == Some(entity)) {
                below.extend(self.rows_where(defs, other, field.name, key));
            }
        }
        for (table, row) in below {
            self.collect(defs, table, &row, doomed);
        }
    }

    fn rows_where(
        &self,
        defs: &Definitions,
        table: &'static str,
        field: &str,
        key: &str,
    ) -> Vec<(&'static str, String)> {
        let def = defs.entity(table);
        self.tx
            .rows(table, &self.version)
            .into_iter()
            .filter(|r| r.str(field) == Some(key))
            .map(|r| (table, row_key(def, &r.data)))
            .collect()
    }
}
