//! Writing entities: one payload with its nested associations, checked field by field as
//! Shopware's `WriteCommandExtractor` does (unexpected fields, write-protected fields, state
//! fields, required fields, prices), applied inside a [`Tx`] so a failure leaves nothing behind.
//! Nested to-many writes only add or update rows: nothing is ever removed by a write.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::definition::{Association, Definitions, EntityDef, Field, Kind, Relation};
use super::error::{ApiError, WRITE_CONSTRAINT, violation};
use super::ids::{self, LIVE_VERSION, SYSTEM_LANGUAGE};
use super::store::{Row, Store, Tx, format_time, row_key};
use super::validate::{check, not_blank};

mod delete;
mod translations;

use translations::{camel, translation_entity};

/// How a payload is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `POST /api/{entity}`: the row must not exist.
    Create,
    /// `PATCH /api/{entity}/{id}`: the row must exist.
    Update,
    /// Sync and nested writes: either.
    Upsert,
}

/// A foreign key that points nowhere, found when the write is finished (as the database would).
#[derive(Debug, Clone)]
pub struct DanglingKey {
    /// The entity written.
    pub entity: &'static str,
    /// Its foreign key field.
    pub field: &'static str,
    /// The entity referenced.
    pub target: &'static str,
}

/// Why a write failed.
#[derive(Debug)]
pub enum WriteError {
    /// Violations, answered with 400 and these errors.
    Invalid(Vec<Value>),
    /// A foreign key points nowhere: the database refuses it (a 500 in Shopware).
    Dangling(DanglingKey),
    /// Anything else, answered as it is (e.g. 409 for restricted deletes).
    Other(ApiError),
}

/// What a write changed, for responses and for the indexer.
#[derive(Debug, Default)]
pub struct Changes {
    /// Primary keys written, by entity.
    pub written: BTreeMap<&'static str, Vec<Value>>,
    /// Primary keys deleted, by entity.
    pub deleted: BTreeMap<&'static str, Vec<Value>>,
    /// Products whose derived fields must be computed again.
    pub products: BTreeSet<String>,
    /// Orders whose derived fields and stock must be settled again (live version only).
    pub orders: BTreeSet<String>,
    /// Whether the category tree changed.
    pub categories: bool,
    /// Live orders deleted, as they were (their stock goes back).
    pub removed_orders: Vec<Row>,
}

/// Writes payloads into a transaction.
pub struct Writer<'t, 's> {
    tx: &'t mut Tx<'s>,
    defs: Arc<Definitions>,
    version: String,
    language: String,
    now: String,
    errors: Vec<Value>,
    conflict: Option<ApiError>,
    /// A unique key the database refuses when the rows are written (after validation).
    duplicate: Option<ApiError>,
    foreign_keys: Vec<(DanglingKey, String)>,
    changes: Changes,
    privileges: Option<BTreeSet<String>>,
    missing: BTreeSet<String>,
}

fn expected(entity: &str, wanted: &str, got: &str) -> Value {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "FRAMEWORK__WRITE_TYPE_INTEND_ERROR",
        format!("Expected command for \"{entity}\" to be \"{wanted}\". (Got: {got})"),
    )
    .errors
    .remove(0)
}

fn unexpected(field: &str, pointer: &str) -> Value {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "FRAMEWORK__WRITE_UNEXPECTED_FIELD_ERROR",
        format!("Unexpected field: {field}"),
    )
    .params(json!({"field": field}))
    .pointer(pointer)
    .errors
    .remove(0)
}

impl<'t, 's> Writer<'t, 's> {
    /// A writer for one request: `version` from `sw-version-id`, `language` from
    /// `sw-language-id`.
    pub fn new(tx: &'t mut Tx<'s>, version: &str, language: &str) -> Self {
        let defs = tx.defs.clone();
        let now = format_time(tx.clock.now());
        Writer {
            tx,
            defs,
            version: version.to_string(),
            language: language.to_string(),
            now,
            errors: Vec::new(),
            conflict: None,
            duplicate: None,
            foreign_keys: Vec::new(),
            changes: Changes::default(),
            privileges: None,
            missing: BTreeSet::new(),
        }
    }

    /// Restricts the writer to an integration role's privileges (`product:update`, …); none:
    /// everything is allowed.
    pub fn with_privileges(mut self, privileges: Option<BTreeSet<String>>) -> Self {
        self.privileges = privileges;
        self
    }

    fn require(&mut self, entity: &str, action: &str) {
        let privilege = format!("{entity}:{action}");
        if self
            .privileges
            .as_ref()
            .is_some_and(|p| !p.contains(&privilege))
        {
            self.missing.insert(privilege);
        }
    }

    /// The store as written so far.
    pub fn store(&self) -> &Store {
        self.tx
    }

    /// Ends the write: the violations, a dangling foreign key, or what changed.
    pub fn finish(self) -> Result<Changes, WriteError> {
        if !self.missing.is_empty() {
            return Err(WriteError::Other(ApiError::missing_privileges(
                &self.missing,
            )));
        }
        if let Some(conflict) = self.conflict {
            return Err(WriteError::Other(conflict));
        }
        if !self.errors.is_empty() {
            return Err(WriteError::Invalid(self.errors));
        }
        if let Some(duplicate) = self.duplicate {
            return Err(WriteError::Other(duplicate));
        }
        for (key, id) in &self.foreign_keys {
            if self.tx.get(key.target, id, &self.version).is_none() {
                return Err(WriteError::Dangling(key.clone()));
            }
        }
        Ok(self.changes)
    }

    fn note(&mut self, def: &EntityDef, row: &Row, key: Value, deleted: bool) {
        let list = if deleted {
            &mut self.changes.deleted
        } else {
            &mut self.changes.written
        };
        list.entry(def.name).or_default().push(key);
        if self.version != LIVE_VERSION && def.versioned {
            return;
        }
        match def.name {
            "product" => {
                self.changes.products.insert(row.id().to_string());
                if let Some(parent) = row.str("parentId") {
                    self.changes.products.insert(parent.to_string());
                }
            }
            "product_visibility"
            | "product_configurator_setting"
            | "product_category"
            | "product_property"
            | "product_option" => {
                if let Some(product) = row.str("productId") {
                    self.changes.products.insert(product.to_string());
                }
            }
            "category" => self.changes.categories = true,
            "order" => {
                self.changes.orders.insert(row.id().to_string());
            }
            "order_line_item" | "order_transaction" | "order_delivery" => {
                if let Some(order) = row.str("orderId") {
                    self.changes.orders.insert(order.to_string());
                }
                if let Some(product) = row.str("productId") {
                    self.changes.products.insert(product.to_string());
                }
            }
            _ => {}
        }
    }

    /// Writes one payload of `entity` found at `at` in the request; returns its key.
    pub fn write(&mut self, entity: &str, payload: &Value, mode: Mode, at: &str) -> Option<String> {
        let defs = self.defs.clone();
        let def = defs.get(entity)?;
        let Some(object) = payload.as_object() else {
            self.errors.push(violation(
                at,
                super::error::WRONG_TYPE,
                "This value should be of type array.",
                json!({}),
            ));
            return None;
        };
        let key = match def.mapping_key {
            Some(fields) => {
                for field in fields {
                    match object.get(field).and_then(Value::as_str) {
                        Some(id) if ids::is_valid(id) => {}
                        Some(id) => self.errors.push(
                            ApiError::invalid_uuid(id)
                                .pointer(format!("{at}/{field}"))
                                .errors
                                .remove(0),
                        ),
                        None => self.errors.push(not_blank(&format!("{at}/{field}"))),
                    }
                }
                row_key(def, object)
            }
            None => match object.get("id") {
                None | Some(Value::Null) => ids::random(),
                Some(Value::String(id)) if ids::is_valid(id) => id.clone(),
                Some(other) => {
                    let text = other
                        .as_str()
                        .map_or_else(|| other.to_string(), str::to_string);
                    self.errors.push(
                        ApiError::invalid_uuid(&text)
                            .pointer(format!("{at}/id"))
                            .errors
                            .remove(0),
                    );
                    return None;
                }
            },
        };
        let existing = self.tx.get(def.name, &key, &self.version).cloned();
        match (mode, existing.is_some()) {
            (Mode::Create, true) => {
                self.errors
                    .push(expected(def.name, "InsertCommand", "UpdateCommand"));
                return None;
            }
            (Mode::Update, false) => {
                self.errors
                    .push(expected(def.name, "UpdateCommand", "InsertCommand"));
                return None;
            }
            _ => {}
        }
        let inserting = existing.is_none();
        self.require(def.name, if inserting { "create" } else { "update" });
        let before = existing.unwrap_or_default();
        let mut row = before.clone();
        if inserting && def.mapping_key.is_none() {
            row.data.insert("id".into(), json!(key));
        }
        let mut nested: Vec<(&Association, &Value, String)> = Vec::new();
        for (name, value) in object {
            let pointer = format!("{at}/{name}");
            if name == "id" || (def.mapping_key.is_some_and(|k| k.contains(&name.as_str()))) {
                if def.mapping_key.is_some() {
                    row.data.insert(name.clone(), value.clone());
                }
                continue;
            }
            if name == "translations" && def.is_translated() {
                self.translations(def, &mut row, value, &pointer);
            } else if let Some(field) = def.field(name) {
                self.field(def, field, &mut row, value, &pointer, inserting);
            } else if let Some(association) = def.association(name) {
                nested.push((association, value, pointer));
            } else {
                self.errors.push(unexpected(name, &pointer));
            }
        }
        for (association, value, pointer) in &nested {
            if let Relation::ManyToOne { fk } = association.relation
                && !value.is_null()
                && let Some(target) = self.write(association.entity, value, Mode::Upsert, pointer)
            {
                row.data.insert(fk.into(), json!(target));
            }
        }
        if inserting {
            self.fill_defaults(def, &mut row);
            self.check_required(def, &row, at);
        }
        self.set_versions(def, &mut row);
        // Like the database's unique index: only a number being set is checked.
        if def.name == "product" && row.get("productNumber") != before.get("productNumber") {
            self.check_unique_number(&row, &key);
        }
        if def.name == "product_configurator_setting" && inserting {
            self.check_unique_setting(&row, &key);
        }
        if !inserting && row != before {
            row.data.insert("updatedAt".into(), json!(self.now));
        }
        let primary_key = match def.mapping_key {
            Some([a, b]) => json!({ a: row.get(a), b: row.get(b) }),
            None => json!(key),
        };
        if row != before {
            self.note(def, &row, primary_key, false);
            for language in row.translations.keys() {
                if before.translations.get(language) != row.translations.get(language) {
                    let id_field = format!("{}Id", camel(def.name));
                    self.changes
                        .written
                        .entry(translation_entity(def.name))
                        .or_default()
                        .push(json!({ id_field: key, "languageId": language }));
                }
            }
            self.tx.put(def.name, &self.version, row);
        }
        for (association, value, pointer) in nested {
            self.nested(&key, association, value, &pointer);
        }
        Some(key)
    }

    fn field(
        &mut self,
        def: &EntityDef,
        field: &Field,
        row: &mut Row,
        value: &Value,
        pointer: &str,
        inserting: bool,
    ) {
        if field.protected {
            self.errors.push(violation(
                pointer,
                WRITE_CONSTRAINT,
                "This field is write-protected.",
                json!({}),
            ));
            return;
        }
        if field.state_machine.is_some() && !inserting {
            self.errors.push(violation(
                pointer,
                WRITE_CONSTRAINT,
                "Changing the state-machine-state of this entity is not allowed for scope crud.  Either change the state-machine-state via a state-transition or use a different scope.",
                json!({}),
            ));
            return;
        }
        if field.kind == Kind::Version {
            return;
        }
        let value = match check(field.kind, value, pointer) {
            Ok(value) => value,
            Err(errors) => {
                self.errors.extend(errors);
                return;
            }
        };
        if value.is_null() && field.required && !(field.inherited && row.str("parentId").is_some())
        {
            self.errors.push(not_blank(pointer));
            return;
        }
        if let (Some(target), Some(id)) = (field.target, value.as_str()) {
            let key = DanglingKey {
                entity: def.name,
                field: field.name,
                target,
            };
            self.foreign_keys.push((key, id.to_string()));
        }
        if field.translated {
            row.translations
                .entry(self.language.clone())
                .or_default()
                .insert(field.name.into(), value);
        } else {
            row.data.insert(field.name.into(), value);
        }
    }

    fn fill_defaults(&mut self, def: &EntityDef, row: &mut Row) {
        for field in &def.fields {
            let Some(default) = field.default else {
                continue;
            };
            if field.translated {
                let translation = row.translations.entry(self.language.clone()).or_default();
                translation.entry(field.name).or_insert_with(default);
            } else if row.get(field.name).is_null() {
                row.data.insert(field.name.into(), default());
            }
        }
        if def.field("createdAt").is_some() && row.get("createdAt").is_null() {
            row.data.insert("createdAt".into(), json!(self.now));
        }
        if def.field("autoIncrement").is_some() {
            let next = self.tx.store_mut().next_auto_increment(def.name);
            row.data.insert("autoIncrement".into(), json!(next));
        }
    }

    fn check_required(&mut self, def: &EntityDef, row: &Row, at: &str) {
        for field in def.fields.iter().filter(|f| f.required) {
            if matches!(field.kind, Kind::Id | Kind::Version) || def.mapping_key.is_some() {
                continue;
            }
            if field.inherited && row.str("parentId").is_some() {
                continue;
            }
            let present = if field.translated {
                row.translation(field.name, SYSTEM_LANGUAGE).is_some()
            } else {
                !row.get(field.name).is_null()
            };
            if !present {
                let pointer = if field.translated && self.language != SYSTEM_LANGUAGE {
                    format!("{at}/translations/{SYSTEM_LANGUAGE}/{}", field.name)
                } else {
                    format!("{at}/{}", field.name)
                };
                self.errors.push(not_blank(&pointer));
            }
        }
    }

    /// `versionId` is the version written to; references to draftable entities follow it,
    /// other references are live.
    fn set_versions(&self, def: &EntityDef, row: &mut Row) {
        for field in def.fields.iter().filter(|f| f.kind == Kind::Version) {
            let draftable = if field.name == "versionId" {
                def.versioned
            } else {
                let stem = field.name.trim_end_matches("VersionId");
                def.field(&format!("{stem}Id"))
                    .and_then(|f| f.target)
                    .is_some_and(|t| self.defs.entity(t).versioned)
            };
            let version = if draftable {
                self.version.as_str()
            } else {
                LIVE_VERSION
            };
            row.data.insert(field.name.into(), json!(version));
        }
    }

    fn check_unique_number(&mut self, row: &Row, key: &str) {
        let Some(number) = row.str("productNumber") else {
            return;
        };
        let taken = self.tx.rows("product", &self.version).into_iter().any(|p| {
            p.id() != key
                && p.str("productNumber")
                    .is_some_and(|n| n.eq_ignore_ascii_case(number))
        });
        if taken {
            self.errors.push(
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "CONTENT__PRODUCT_NUMBER_DUPLICATE",
                    format!("Product with number \"{number}\" already exists."),
                )
                .params(json!({"number": number}))
                .errors
                .remove(0),
            );
        }
    }

    /// `product_configurator_setting` is unique on (product, version, option) (SW@v6.4.20.2:
    /// `Migration1618989442AddProductConfigurationSettingsUniqKey`): a second setting for an
    /// option the product already offers is refused by the database. 6.5.8+ turns that into a
    /// 400 without a pointer (SW@v6.5.8.0: `ProductConfiguratorSettingExceptionHandler`,
    /// `ProductException::configurationOptionAlreadyExists`); before, it is the SQL error, a 500.
    fn check_unique_setting(&mut self, row: &Row, key: &str) {
        let (Some(product), Some(option)) = (row.str("productId"), row.str("optionId")) else {
            return;
        };
        let taken = self
            .tx
            .rows("product_configurator_setting", &self.version)
            .into_iter()
            .any(|s| {
                s.id() != key
                    && s.str("productId") == Some(product)
                    && s.str("optionId") == Some(option)
            });
        if !taken || self.duplicate.is_some() {
            return;
        }
        self.duplicate = Some(match self.tx.version {
            super::ApiVersion::V6_4 => ApiError::internal(format!(
                "An exception occurred while executing 'INSERT INTO `product_configurator_setting` (`id`, `version_id`, `product_id`, `product_version_id`, `property_group_option_id`, `position`, `created_at`) VALUES (?, ?, ?, ?, ?, ?, ?)':\n\nSQLSTATE[23000]: Integrity constraint violation: 1062 Duplicate entry '{product}-{version}-{option}' for key 'uniq.product_configurator_setting.prod_id.vers_id.prop_group_id'",
                version = self.version
            )),
            _ => ApiError::new(
                StatusCode::BAD_REQUEST,
                "PRODUCT_CONFIGURATION_OPTION_EXISTS_ALREADY",
                "Configuration option already exists",
            ),
        });
    }

    /// Writes the rows of a to-many or one-to-one association below `key`.
    fn nested(&mut self, key: &str, association: &Association, value: &Value, at: &str) {
        let items: Vec<&Value> = match (association.relation, value) {
            (Relation::ManyToOne { .. }, _) => return,
            (Relation::OneToOne { .. }, Value::Object(_)) => vec![value],
            (_, Value::Array(items)) => items.iter().collect(),
            (_, Value::Null) => return,
            _ => {
                self.errors.push(violation(
                    at,
                    super::error::WRONG_TYPE,
                    "This value should be of type array.",
                    json!({}),
                ));
                return;
            }
        };
        for (i, item) in items.into_iter().enumerate() {
            let pointer = if matches!(association.relation, Relation::OneToOne { .. }) {
                at.to_string()
            } else {
                format!("{at}/{i}")
            };
            match association.relation {
                Relation::OneToOne { remote_fk } | Relation::OneToMany { remote_fk } => {
                    let mut item = item.clone();
                    if let Value::Object(object) = &mut item {
                        object.insert(remote_fk.into(), json!(key));
                    }
                    self.write(association.entity, &item, Mode::Upsert, &pointer);
                }
                Relation::ManyToMany {
                    mapping,
                    local,
                    remote,
                } => {
                    let only_id = item
                        .as_object()
                        .is_some_and(|o| o.len() == 1 && o.contains_key("id"));
                    let target = if only_id {
                        match item["id"].as_str() {
                            Some(id) if ids::is_valid(id) => {
                                self.foreign_keys.push((
                                    DanglingKey {
                                        entity: mapping,
                                        field: remote,
                                        target: association.entity,
                                    },
                                    id.to_string(),
                                ));
                                Some(id.to_string())
                            }
                            _ => {
                                self.errors.push(
                                    ApiError::invalid_uuid(&item["id"].to_string())
                                        .pointer(format!("{pointer}/id"))
                                        .errors
                                        .remove(0),
                                );
                                None
                            }
                        }
                    } else {
                        self.write(association.entity, item, Mode::Upsert, &pointer)
                    };
                    let Some(target) = target else { continue };
                    let link = json!({ local: key, remote: target });
                    if self
                        .tx
                        .get(
                            mapping,
                            &row_key(self.defs.entity(mapping), link.as_object().expect("object")),
                            &self.version,
                        )
                        .is_none()
                    {
                        self.write(mapping, &link, Mode::Upsert, &pointer);
                    }
                }
                Relation::ManyToOne { .. } => {}
            }
        }
    }
}
