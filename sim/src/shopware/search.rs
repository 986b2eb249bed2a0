//! Reading: field values as a request sees them (language, variant inheritance, version),
//! filters with Shopware's to-many "any row matches" semantics, sorting, paging with the three
//! total-count modes, aggregations, and loading associations into a tree for the encoders.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::rc::Rc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Map, Value, json};

use super::criteria::{Criteria, Filter, Operator, Sort};
use super::definition::{Association, EntityDef, Field, Relation};
use super::ids::SYSTEM_LANGUAGE;
use super::store::{Row, Store};

type Index<'s> = Rc<HashMap<String, Vec<&'s Row>>>;

/// Reads the store as one request sees it.
pub struct Reader<'s> {
    /// The store.
    pub store: &'s Store,
    /// `sw-version-id`, or the live version.
    pub version: String,
    /// `sw-language-id`, or the system language.
    pub language: String,
    /// `sw-inheritance: 1`: variants show their parent's values where they have none.
    pub inheritance: bool,
    indexes: RefCell<HashMap<(&'static str, &'static str), Index<'s>>>,
}

/// An entity with the associations loaded for it.
#[derive(Debug)]
pub struct Node<'s> {
    /// Its definition.
    pub def: &'s EntityDef,
    /// Its row.
    pub row: &'s Row,
    /// The associations loaded, in definition order.
    pub loaded: Vec<(&'s Association, Loaded<'s>)>,
}

/// A loaded association.
#[derive(Debug)]
pub enum Loaded<'s> {
    /// A to-one association (none when the row has no reference).
    One(Option<Box<Node<'s>>>),
    /// A to-many association.
    Many(Vec<Node<'s>>),
}

/// What a search found.
#[derive(Debug)]
pub struct Found<'s> {
    /// The rows of the requested page.
    pub rows: Vec<&'s Row>,
    /// `total` as the total-count mode defines it.
    pub total: u64,
    /// Aggregation results by name (JSON encoded).
    pub aggregations: Map<String, Value>,
}

impl<'s> Reader<'s> {
    /// A reader for one request.
    pub fn new(store: &'s Store, version: &str, language: &str, inheritance: bool) -> Self {
        Reader {
            store,
            version: version.to_string(),
            language: language.to_string(),
            inheritance,
            indexes: RefCell::new(HashMap::new()),
        }
    }

    /// The definition of `entity`.
    pub fn def(&self, entity: &str) -> &'s EntityDef {
        self.store.def(entity)
    }

    /// The row of `entity` with this key, as this request's version sees it.
    pub fn get(&self, entity: &str, key: &str) -> Option<&'s Row> {
        self.store.get(entity, key, &self.version)
    }

    /// Rows of `entity` grouped by the value of `field`, built once per request.
    fn index(&self, entity: &'static str, field: &'static str) -> Index<'s> {
        if let Some(index) = self.indexes.borrow().get(&(entity, field)) {
            return index.clone();
        }
        let mut index: HashMap<String, Vec<&'s Row>> = HashMap::new();
        for row in self.store.rows(entity, &self.version) {
            if let Some(value) = row.str(field) {
                index.entry(value.to_string()).or_default().push(row);
            }
        }
        let index = Rc::new(index);
        self.indexes
            .borrow_mut()
            .insert((entity, field), index.clone());
        index
    }

    /// The parent of a variant, for inheritance.
    fn parent(&self, def: &EntityDef, row: &Row) -> Option<&'s Row> {
        if !def.has_inheritance() {
            return None;
        }
        row.str("parentId").and_then(|p| self.get(def.name, p))
    }

    /// A field's value for filtering and sorting: translations fall back to the system
    /// language, and with inheritance a variant falls back to its parent.
    pub fn value(&self, def: &EntityDef, row: &Row, field: &Field) -> Value {
        self.resolve(def, row, field, true)
    }

    /// What a response shows in a field: a translated field only in the requested language
    /// (null when that language lacks it), a variant's own value unless inheritance is asked for.
    pub fn shown(&self, def: &EntityDef, row: &Row, field: &Field) -> Value {
        self.resolve(def, row, field, false)
    }

    fn resolve(&self, def: &EntityDef, row: &Row, field: &Field, system_language: bool) -> Value {
        let own = if field.translated {
            row.translation(field.name, &self.language)
                .or_else(|| {
                    system_language
                        .then(|| row.translation(field.name, SYSTEM_LANGUAGE))
                        .flatten()
                })
                .cloned()
                .unwrap_or(Value::Null)
        } else {
            row.get(field.name).clone()
        };
        if own.is_null()
            && field.inherited
            && self.inheritance
            && let Some(parent) = self.parent(def, row)
        {
            return self.resolve(def, parent, field, system_language);
        }
        own
    }

    /// The rows an association reaches from `row`.
    pub fn related(&self, def: &EntityDef, row: &Row, association: &Association) -> Vec<&'s Row> {
        let rows: Vec<&'s Row> = match association.relation {
            Relation::ManyToOne { fk } => {
                let value = match def.field(fk) {
                    Some(field) => self.value(def, row, field),
                    None => Value::Null,
                };
                value
                    .as_str()
                    .and_then(|id| self.get(association.entity, id))
                    .into_iter()
                    .collect()
            }
            Relation::OneToOne { remote_fk } | Relation::OneToMany { remote_fk } => self
                .index(association.entity, remote_fk)
                .get(row.id())
                .cloned()
                .unwrap_or_default(),
            Relation::ManyToMany {
                mapping,
                local,
                remote,
            } => self
                .index(mapping, local)
                .get(row.id())
                .map(|mappings| {
                    mappings
                        .iter()
                        .filter_map(|m| m.str(remote))
                        .filter_map(|id| self.get(association.entity, id))
                        .collect()
                })
                .unwrap_or_default(),
        };
        if rows.is_empty()
            && association.inherited
            && self.inheritance
            && let Some(parent) = self.parent(def, row)
        {
            return self.related(def, parent, association);
        }
        rows
    }

    /// The values a field path reaches from `row`; to-many steps give one value per row reached
    /// (none reached gives a single null, as a LEFT JOIN would).
    pub fn values_at(&self, def: &EntityDef, row: &Row, path: &[String]) -> Vec<Value> {
        let Some((first, rest)) = path.split_first() else {
            return vec![Value::Null];
        };
        if let Some(field) = def.field(first) {
            return descend(self.value(def, row, field), rest);
        }
        if let Some(association) = def.association(first) {
            let target = self.def(association.entity);
            let related = self.related(def, row, association);
            if related.is_empty() {
                return vec![Value::Null];
            }
            return related
                .into_iter()
                .flat_map(|r| self.values_at(target, r, rest))
                .collect();
        }
        vec![Value::Null]
    }

    /// Whether `row` passes `filter`. A leaf on a to-many path matches when any reached row
    /// matches; each leaf joins on its own (Shopware's join groups), so "has option A and has
    /// option B" finds products with both.
    pub fn matches(&self, def: &EntityDef, row: &Row, filter: &Filter) -> bool {
        match filter {
            Filter::Multi { operator, queries } => self.all_or_any(def, row, *operator, queries),
            Filter::Not { operator, queries } => !self.all_or_any(def, row, *operator, queries),
            Filter::Equals { field, value } => self
                .values_at(def, row, field)
                .iter()
                .any(|v| equal(v, value)),
            Filter::EqualsAny { field, values } => self
                .values_at(def, row, field)
                .iter()
                .any(|v| values.iter().any(|x| equal(v, x))),
            Filter::EqualsAll { field, values } => {
                let found = self.values_at(def, row, field);
                values.iter().all(|x| found.iter().any(|v| equal(v, x)))
            }
            Filter::Contains { field, value } => {
                self.like(def, row, field, |t| t.contains(&value.to_lowercase()))
            }
            Filter::Prefix { field, value } => {
                self.like(def, row, field, |t| t.starts_with(&value.to_lowercase()))
            }
            Filter::Suffix { field, value } => {
                self.like(def, row, field, |t| t.ends_with(&value.to_lowercase()))
            }
            Filter::Range { field, bounds } => self.values_at(def, row, field).iter().any(|v| {
                !v.is_null()
                    && bounds.iter().all(|(op, bound)| match compare(v, bound) {
                        Some(ordering) => match op.as_str() {
                            "gte" => ordering != Ordering::Less,
                            "gt" => ordering == Ordering::Greater,
                            "lte" => ordering != Ordering::Greater,
                            _ => ordering == Ordering::Less,
                        },
                        None => false,
                    })
            }),
        }
    }

    fn all_or_any(
        &self,
        def: &EntityDef,
        row: &Row,
        operator: Operator,
        queries: &[Filter],
    ) -> bool {
        match operator {
            Operator::And => queries.iter().all(|q| self.matches(def, row, q)),
            Operator::Or => queries.is_empty() || queries.iter().any(|q| self.matches(def, row, q)),
        }
    }

    fn like(
        &self,
        def: &EntityDef,
        row: &Row,
        field: &[String],
        test: impl Fn(&str) -> bool,
    ) -> bool {
        self.values_at(def, row, field)
            .iter()
            .filter(|v| !v.is_null())
            .any(|v| test(&text(v).to_lowercase()))
    }

    /// Sorts rows stably (ties keep insertion order).
    pub fn sort(&self, def: &EntityDef, rows: &mut Vec<&'s Row>, sorts: &[Sort]) {
        if sorts.is_empty() {
            return;
        }
        let mut keyed: Vec<(Vec<Value>, &'s Row)> = rows
            .iter()
            .map(|row| {
                let keys = sorts
                    .iter()
                    .map(|s| {
                        self.values_at(def, row, &s.field)
                            .into_iter()
                            .next()
                            .unwrap_or(Value::Null)
                    })
                    .collect();
                (keys, *row)
            })
            .collect();
        keyed.sort_by(|(a, _), (b, _)| {
            for (i, sort) in sorts.iter().enumerate() {
                let ordering = order(&a[i], &b[i]);
                let ordering = if sort.descending {
                    ordering.reverse()
                } else {
                    ordering
                };
                if ordering != Ordering::Equal {
                    return ordering;
                }
            }
            Ordering::Equal
        });
        *rows = keyed.into_iter().map(|(_, row)| row).collect();
    }

    /// Runs a criteria against every row of `def` this request sees.
    pub fn search(&self, def: &EntityDef, criteria: &Criteria) -> Found<'s> {
        let mut rows = self.store.rows(def.name, &self.version);
        if let Some(ids) = &criteria.ids {
            rows.retain(|r| ids.iter().any(|id| id == r.id()));
        }
        rows.retain(|r| criteria.filter.iter().all(|f| self.matches(def, r, f)));
        let aggregations = self.aggregate(def, &rows, criteria);
        rows.retain(|r| criteria.post_filter.iter().all(|f| self.matches(def, r, f)));
        self.sort(def, &mut rows, &criteria.sort);
        let (rows, total) = paginate(rows, criteria);
        Found {
            rows,
            total,
            aggregations,
        }
    }

    fn aggregate(
        &self,
        def: &EntityDef,
        rows: &[&'s Row],
        criteria: &Criteria,
    ) -> Map<String, Value> {
        let mut results = Map::new();
        for aggregation in &criteria.aggregations {
            let values: Vec<Value> = rows
                .iter()
                .flat_map(|r| self.values_at(def, r, &aggregation.field))
                .filter(|v| !v.is_null())
                .collect();
            let numbers = || values.iter().filter_map(number);
            let alias = format!("{}_aggregation", aggregation.name);
            let result = match aggregation.kind.as_str() {
                "count" => json!({"count": values.len()}),
                "sum" => json!({"sum": numbers().sum::<f64>()}),
                "avg" => {
                    let n = numbers().count();
                    json!({"avg": if n == 0 { 0.0 } else { numbers().sum::<f64>() / n as f64 }})
                }
                "min" => json!({"min": values.iter().min_by(|a, b| order(a, b)).cloned()}),
                "max" => json!({"max": values.iter().max_by(|a, b| order(a, b)).cloned()}),
                _ => {
                    let mut buckets: Vec<(Value, usize)> = Vec::new();
                    for value in values {
                        match buckets.iter_mut().find(|(k, _)| equal(k, &value)) {
                            Some((_, count)) => *count += 1,
                            None => buckets.push((value, 1)),
                        }
                    }
                    buckets.sort_by(|(a, _), (b, _)| order(a, b));
                    let buckets: Vec<Value> = buckets
                        .into_iter()
                        .map(|(key, count)| json!({"key": text(&key), "count": count, "extensions": [], "apiAlias": "aggregation_bucket"}))
                        .collect();
                    json!({"buckets": buckets})
                }
            };
            let mut result = result.as_object().cloned().unwrap_or_default();
            result.insert("extensions".into(), json!([]));
            result.insert("apiAlias".into(), json!(alias));
            results.insert(aggregation.name.clone(), Value::Object(result));
        }
        results
    }

    /// `row` with the associations the criteria asks for (and those loaded always).
    pub fn load(&self, def: &'s EntityDef, row: &'s Row, criteria: &Criteria) -> Node<'s> {
        let none = Criteria {
            page: 1,
            ..Criteria::default()
        };
        let mut loaded = Vec::new();
        for association in &def.associations {
            let nested = criteria.associations.get(association.name);
            if nested.is_none() && !association.autoload {
                continue;
            }
            let nested = nested.unwrap_or(&none);
            let target = self.def(association.entity);
            let mut related = self.related(def, row, association);
            if association.is_to_many() {
                related.retain(|r| nested.filter.iter().all(|f| self.matches(target, r, f)));
                self.sort(target, &mut related, &nested.sort);
                related = paginate(related, nested).0;
                let nodes = related
                    .into_iter()
                    .map(|r| self.load(target, r, nested))
                    .collect();
                loaded.push((association, Loaded::Many(nodes)));
            } else {
                let node = related
                    .into_iter()
                    .next()
                    .map(|r| Box::new(self.load(target, r, nested)));
                loaded.push((association, Loaded::One(node)));
            }
        }
        Node { def, row, loaded }
    }
}

/// The page of `rows` and the total as the criteria's total-count mode defines it: 0 counts
/// the rows of this page, 1 all rows, 2 up to `limit * 6 + 1` rows from the page on.
fn paginate<'s>(rows: Vec<&'s Row>, criteria: &Criteria) -> (Vec<&'s Row>, u64) {
    let Some(limit) = criteria.limit.map(|l| l as usize) else {
        let total = rows.len() as u64;
        return (rows, total);
    };
    let offset = (criteria.page.saturating_sub(1) as usize).saturating_mul(limit);
    let all = rows.len();
    let rest: Vec<&'s Row> = rows.into_iter().skip(offset).collect();
    match criteria.total_count_mode {
        1 => (rest.into_iter().take(limit).collect(), all as u64),
        2 => {
            let seen = rest.len().min(limit * 6 + 1);
            (rest.into_iter().take(limit).collect(), seen as u64)
        }
        _ => {
            let page: Vec<&'s Row> = rest.into_iter().take(limit).collect();
            let total = page.len() as u64;
            (page, total)
        }
    }
}

fn descend(value: Value, rest: &[String]) -> Vec<Value> {
    let Some((first, rest)) = rest.split_first() else {
        return match value {
            Value::Array(items) if !items.is_empty() => items,
            Value::Array(_) => vec![Value::Null],
            other => vec![other],
        };
    };
    match value {
        Value::Object(mut map) => descend(map.remove(first).unwrap_or(Value::Null), rest),
        Value::Array(items) => {
            let mut path = vec![first.clone()];
            path.extend_from_slice(rest);
            items.into_iter().flat_map(|i| descend(i, &path)).collect()
        }
        _ => vec![Value::Null],
    }
}

/// A value as text, for LIKE filters and buckets.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// A date in any of the forms MySQL compares a DATETIME with.
fn date(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(value, format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Equality as MySQL with a case-insensitive collation sees it: text ignores case, numbers
/// compare by value whether sent as numbers or strings, true equals 1.
pub fn equal(stored: &Value, wanted: &Value) -> bool {
    match (stored, wanted) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::String(a), Value::String(b)) => {
            a.eq_ignore_ascii_case(b) || a.to_lowercase() == b.to_lowercase()
        }
        (Value::Bool(a), other) | (other, Value::Bool(a)) => {
            number(other).is_some_and(|n| n == f64::from(u8::from(*a)))
                || other
                    .as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(&a.to_string()))
        }
        (a, b) => match (number(a), number(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
    }
}

/// Ordering for ranges: numbers by value, dates as dates, other text ignoring case.
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    if let (Value::Number(_), _) | (_, Value::Number(_)) = (a, b)
        && let (Some(x), Some(y)) = (number(a), number(b))
    {
        return x.partial_cmp(&y);
    }
    let (x, y) = (text(a), text(b));
    if let (Some(x), Some(y)) = (date(&x), date(&y)) {
        return Some(x.cmp(&y));
    }
    if let (Some(x), Some(y)) = (number(a), number(b)) {
        return x.partial_cmp(&y);
    }
    Some(x.to_lowercase().cmp(&y.to_lowercase()))
}

/// Ordering for sorting: nulls first (as MySQL sorts them ascending), then by [`compare`].
fn order(a: &Value, b: &Value) -> Ordering {
    match (a.is_null(), b.is_null()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => compare(a, b).unwrap_or(Ordering::Equal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_follows_mysql() {
        assert!(equal(&json!("Paid"), &json!("paid")));
        assert!(equal(&json!(10), &json!("10")));
        assert!(equal(&json!(true), &json!(1)));
        assert!(!equal(&json!(null), &json!("x")));
        assert!(equal(&json!(null), &json!(null)));
    }

    #[test]
    fn dates_compare_as_dates() {
        assert_eq!(
            compare(
                &json!("2024-01-02T10:00:00.000+00:00"),
                &json!("2024-01-02")
            ),
            Some(Ordering::Greater)
        );
        assert_eq!(order(&json!(null), &json!("a")), Ordering::Less);
    }
}
