//! The in-memory database: one table per entity, rows as JSON objects, draft versions of
//! versioned entities beside the live rows, and transactions with an undo log so that a failed
//! write (or a failed sync) leaves nothing behind.

use std::collections::{BTreeMap, HashMap};
use std::ops::Deref;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use super::ApiVersion;
use super::definition::{Definitions, EntityDef};
use super::ids::LIVE_VERSION;

/// A JSON object.
pub type Object = Map<String, Value>;

const NULL: Value = Value::Null;

/// One row: its stored fields and, for translated entities, its texts per language.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    /// Stored fields by property name.
    pub data: Object,
    /// Translated fields: language id → field → value.
    pub translations: BTreeMap<String, Object>,
}

impl Row {
    /// A row with these fields and no translations.
    pub fn new(data: Object) -> Self {
        Row {
            data,
            translations: BTreeMap::new(),
        }
    }

    /// A stored field (null when unset).
    pub fn get(&self, field: &str) -> &Value {
        self.data.get(field).unwrap_or(&NULL)
    }

    /// A stored field as text.
    pub fn str(&self, field: &str) -> Option<&str> {
        self.data.get(field).and_then(Value::as_str)
    }

    /// The row's id (empty for mapping rows, which have none).
    pub fn id(&self) -> &str {
        self.str("id").unwrap_or_default()
    }

    /// A translated field in exactly `language` (no fallback).
    pub fn translation(&self, field: &str, language: &str) -> Option<&Value> {
        self.translations
            .get(language)
            .and_then(|t| t.get(field))
            .filter(|v| !v.is_null())
    }

    fn to_dump(&self) -> Value {
        let mut data = self.data.clone();
        if !self.translations.is_empty() {
            data.insert("_translations".into(), json!(self.translations));
        }
        Value::Object(data)
    }

    fn from_dump(value: Value) -> anyhow::Result<Self> {
        let Value::Object(mut data) = value else {
            anyhow::bail!("a row must be a JSON object");
        };
        let translations = match data.remove("_translations") {
            Some(t) => serde_json::from_value(t)?,
            None => BTreeMap::new(),
        };
        Ok(Row { data, translations })
    }
}

/// The key a row is stored under: its id, or for mapping entities both ids of the pair.
pub fn row_key(def: &EntityDef, data: &Object) -> String {
    match def.mapping_key {
        Some([a, b]) => format!(
            "{}-{}",
            data.get(a).and_then(Value::as_str).unwrap_or_default(),
            data.get(b).and_then(Value::as_str).unwrap_or_default()
        ),
        None => data
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    }
}

/// The rows of one entity.
#[derive(Debug, Clone, Default)]
struct Table {
    live: IndexMap<String, Row>,
    /// Draft versions: version id → rows changed or added in that version.
    drafts: HashMap<String, IndexMap<String, Row>>,
}

/// The simulator's clock: the seed time plus the time since the simulator started, so that
/// writes always come after the seeded data.
#[derive(Debug, Clone)]
pub struct Clock {
    seed: DateTime<Utc>,
    started: Instant,
}

impl Clock {
    /// A clock that reads `seed` now.
    pub fn new(seed: DateTime<Utc>) -> Self {
        Clock {
            seed,
            started: Instant::now(),
        }
    }

    /// The current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.seed + chrono::Duration::from_std(self.started.elapsed()).unwrap_or_default()
    }

    /// The seed time.
    pub fn seed(&self) -> DateTime<Utc> {
        self.seed
    }
}

/// A time as Shopware writes it: `2024-01-02T10:00:00.000+00:00`.
pub fn format_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string()
}

/// The whole state of one simulated shop.
#[derive(Debug)]
pub struct Store {
    /// The entity definitions of the API version served.
    pub defs: Arc<Definitions>,
    /// The API version served.
    pub version: ApiVersion,
    /// The clock for `createdAt` / `updatedAt`.
    pub clock: Clock,
    tables: HashMap<&'static str, Table>,
    /// The last order number handed out.
    pub last_order_number: u64,
    /// Products handed to the message queue for indexing (`indexing-behavior:
    /// use-queue-indexing`); not part of the dump.
    pub queued_indexing: u64,
    auto_increment: HashMap<&'static str, i64>,
}

impl Store {
    /// An empty shop.
    pub fn new(version: ApiVersion, now: DateTime<Utc>) -> Self {
        let defs = Arc::new(Definitions::new(version));
        let tables = defs
            .names()
            .into_iter()
            .map(|n| (n, Table::default()))
            .collect();
        Store {
            defs,
            version,
            clock: Clock::new(now),
            tables,
            last_order_number: 10000,
            queued_indexing: 0,
            auto_increment: HashMap::new(),
        }
    }

    /// The definition of `entity`; panics for names the simulator does not serve.
    pub fn def(&self, entity: &str) -> &EntityDef {
        self.defs.entity(entity)
    }

    fn table(&self, entity: &str) -> &Table {
        self.tables
            .get(entity)
            .unwrap_or_else(|| panic!("unknown entity {entity}"))
    }

    fn table_mut(&mut self, entity: &str) -> &mut Table {
        self.tables
            .get_mut(entity)
            .unwrap_or_else(|| panic!("unknown entity {entity}"))
    }

    /// The row of `entity` under `key` as seen from `version`: a draft row of that version, or
    /// else the live row (Shopware's version condition).
    pub fn get(&self, entity: &str, key: &str, version: &str) -> Option<&Row> {
        let table = self.table(entity);
        if version != LIVE_VERSION
            && let Some(row) = table.drafts.get(version).and_then(|d| d.get(key))
        {
            return Some(row);
        }
        table.live.get(key)
    }

    /// The live row of `entity` under `key`.
    pub fn live(&self, entity: &str, key: &str) -> Option<&Row> {
        self.table(entity).live.get(key)
    }

    /// Every row of `entity` as seen from `version`, in insertion order.
    pub fn rows<'s>(&'s self, entity: &str, version: &str) -> Vec<&'s Row> {
        let table = self.table(entity);
        match table
            .drafts
            .get(version)
            .filter(|_| version != LIVE_VERSION)
        {
            None => table.live.values().collect(),
            Some(draft) => table
                .live
                .iter()
                .map(|(key, row)| draft.get(key).unwrap_or(row))
                .chain(
                    draft
                        .iter()
                        .filter(|(key, _)| !table.live.contains_key(*key))
                        .map(|(_, row)| row),
                )
                .collect(),
        }
    }

    /// The rows of draft `version` of `entity`, and forgets them.
    pub fn take_draft(&mut self, entity: &str, version: &str) -> Vec<Row> {
        self.table_mut(entity)
            .drafts
            .remove(version)
            .map(|d| d.into_values().collect())
            .unwrap_or_default()
    }

    /// The next auto-increment value of `entity`.
    pub fn next_auto_increment(&mut self, entity: &'static str) -> i64 {
        let counter = self.auto_increment.entry(entity).or_insert(0);
        *counter += 1;
        *counter
    }

    /// Starts a transaction; dropping it without [`Tx::commit`] undoes everything it wrote.
    pub fn begin(&mut self) -> Tx<'_> {
        Tx {
            store: self,
            undo: Vec::new(),
            committed: false,
        }
    }

    /// The whole state as JSON, loadable again with [`Store::load`].
    pub fn dump(&self) -> Value {
        let mut entities = Map::new();
        let mut drafts = Map::new();
        for name in self.defs.names() {
            let table = self.table(name);
            entities.insert(
                name.into(),
                Value::Array(table.live.values().map(Row::to_dump).collect()),
            );
            if !table.drafts.is_empty() {
                let versions: Map<String, Value> = table
                    .drafts
                    .iter()
                    .map(|(v, rows)| {
                        (
                            v.clone(),
                            Value::Array(rows.values().map(Row::to_dump).collect()),
                        )
                    })
                    .collect();
                drafts.insert(name.into(), Value::Object(versions));
            }
        }
        json!({
            "sim": "shopware",
            "format": 1,
            "apiVersion": self.version.full(),
            "seedTime": format_time(self.clock.seed()),
            "lastOrderNumber": self.last_order_number,
            "entities": entities,
            "drafts": drafts,
        })
    }

    /// A shop from a [`Store::dump`]. The dump's own API version is ignored: the rows are served
    /// as `version` has them.
    pub fn load(version: ApiVersion, now: DateTime<Utc>, dump: Value) -> anyhow::Result<Self> {
        let mut store = Store::new(version, now);
        anyhow::ensure!(
            dump["sim"] == "shopware",
            "not a dump of the Shopware simulator"
        );
        store.last_order_number = dump["lastOrderNumber"].as_u64().unwrap_or(10000);
        let Some(entities) = dump["entities"].as_object() else {
            anyhow::bail!("the dump has no \"entities\" object");
        };
        for (name, rows) in entities {
            let def = store
                .defs
                .get(name)
                .ok_or_else(|| anyhow::anyhow!("the dump has an unknown entity {name}"))?;
            let entity = def.name;
            let mut live = IndexMap::new();
            for row in rows.as_array().into_iter().flatten() {
                let row = Row::from_dump(row.clone())?;
                live.insert(row_key(def, &row.data), row);
            }
            let max = live
                .values()
                .filter_map(|r| r.get("autoIncrement").as_i64())
                .max()
                .unwrap_or(0);
            store.auto_increment.insert(entity, max);
            store.table_mut(entity).live = live;
        }
        if let Some(drafts) = dump["drafts"].as_object() {
            for (name, versions) in drafts {
                let def = store
                    .defs
                    .get(name)
                    .ok_or_else(|| anyhow::anyhow!("the dump has an unknown entity {name}"))?;
                let entity = def.name;
                let mut parsed = HashMap::new();
                for (version, rows) in versions.as_object().into_iter().flatten() {
                    let mut map = IndexMap::new();
                    for row in rows.as_array().into_iter().flatten() {
                        let row = Row::from_dump(row.clone())?;
                        map.insert(row_key(def, &row.data), row);
                    }
                    parsed.insert(version.clone(), map);
                }
                store.table_mut(entity).drafts = parsed;
            }
        }
        Ok(store)
    }
}

/// Where a row lived before a transaction changed it.
struct Undo {
    entity: &'static str,
    version: Option<String>,
    key: String,
    previous: Option<(usize, Row)>,
}

/// A write transaction on the store. Reads see its own writes; dropping it without
/// [`Tx::commit`] restores every row it touched.
pub struct Tx<'s> {
    store: &'s mut Store,
    undo: Vec<Undo>,
    committed: bool,
}

impl Deref for Tx<'_> {
    type Target = Store;

    fn deref(&self) -> &Store {
        self.store
    }
}

impl Tx<'_> {
    fn rows_mut(
        &mut self,
        entity: &'static str,
        version: Option<&str>,
    ) -> &mut IndexMap<String, Row> {
        let table = self.store.table_mut(entity);
        match version {
            None => &mut table.live,
            Some(v) => table.drafts.entry(v.to_string()).or_default(),
        }
    }

    /// Where rows of `entity` written in `version` go: drafts only exist for versioned entities.
    fn target(&self, entity: &'static str, version: &str) -> Option<String> {
        (version != LIVE_VERSION && self.store.def(entity).versioned).then(|| version.to_string())
    }

    /// Inserts or replaces a row.
    pub fn put(&mut self, entity: &'static str, version: &str, row: Row) {
        let key = row_key(self.store.def(entity), &row.data);
        let target = self.target(entity, version);
        let rows = self.rows_mut(entity, target.as_deref());
        let previous = match rows.get_full_mut(&key) {
            Some((index, _, existing)) => Some((index, std::mem::replace(existing, row))),
            None => {
                rows.insert(key.clone(), row);
                None
            }
        };
        self.undo.push(Undo {
            entity,
            version: target,
            key,
            previous,
        });
    }

    /// Removes a row; returns it.
    pub fn remove(&mut self, entity: &'static str, version: &str, key: &str) -> Option<Row> {
        let target = self.target(entity, version);
        let rows = self.rows_mut(entity, target.as_deref());
        let (index, _, row) = rows.shift_remove_full(key)?;
        self.undo.push(Undo {
            entity,
            version: target,
            key: key.to_string(),
            previous: Some((index, row.clone())),
        });
        Some(row)
    }

    /// The store itself, for changes that need no undo (counters).
    pub fn store_mut(&mut self) -> &mut Store {
        self.store
    }

    /// A point to roll back to without ending the transaction.
    pub fn savepoint(&self) -> usize {
        self.undo.len()
    }

    /// Undoes everything written since `savepoint`.
    pub fn rollback_to(&mut self, savepoint: usize) {
        while self.undo.len() > savepoint {
            let Some(undo) = self.undo.pop() else { break };
            let rows = self.rows_mut(undo.entity, undo.version.as_deref());
            match undo.previous {
                Some((index, row)) => match rows.get_mut(&undo.key) {
                    Some(existing) => *existing = row,
                    None => {
                        rows.shift_insert(index.min(rows.len()), undo.key, row);
                    }
                },
                None => {
                    rows.shift_remove(&undo.key);
                }
            }
        }
    }

    /// Keeps everything written.
    pub fn commit(mut self) {
        self.committed = true;
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.committed {
            self.rollback_to(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tax(id: &str, rate: i64) -> Row {
        Row::new(
            json!({"id": id, "taxRate": rate})
                .as_object()
                .unwrap()
                .clone(),
        )
    }

    #[test]
    fn a_dropped_transaction_restores_every_row() {
        let mut store = Store::new(ApiVersion::V6_6, Utc::now());
        let mut tx = store.begin();
        tx.put("tax", LIVE_VERSION, tax("a", 21));
        tx.put("tax", LIVE_VERSION, tax("b", 9));
        tx.commit();
        let before = store
            .rows("tax", LIVE_VERSION)
            .into_iter()
            .cloned()
            .collect::<Vec<_>>();
        {
            let mut tx = store.begin();
            tx.put("tax", LIVE_VERSION, tax("a", 7));
            tx.remove("tax", LIVE_VERSION, "b");
            tx.put("tax", LIVE_VERSION, tax("c", 0));
            assert_eq!(tx.rows("tax", LIVE_VERSION).len(), 2);
        }
        let after = store
            .rows("tax", LIVE_VERSION)
            .into_iter()
            .cloned()
            .collect::<Vec<_>>();
        assert_eq!(before, after);
    }

    #[test]
    fn drafts_are_only_seen_from_their_version() {
        let mut store = Store::new(ApiVersion::V6_6, Utc::now());
        let order = |comment: &str| {
            Row::new(
                json!({"id": "o1", "customerComment": comment})
                    .as_object()
                    .unwrap()
                    .clone(),
            )
        };
        let mut tx = store.begin();
        tx.put("order", LIVE_VERSION, order("live"));
        tx.put("order", "d1", order("draft"));
        tx.commit();
        assert_eq!(
            store.rows("order", LIVE_VERSION)[0].get("customerComment"),
            "live"
        );
        assert_eq!(store.rows("order", "d1")[0].get("customerComment"), "draft");
        assert_eq!(store.rows("order", "d1").len(), 1);
    }
}
