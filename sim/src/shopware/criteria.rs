//! Parsing search criteria (`page`, `limit`, `filter`, `sort`, `associations`, `includes`, `ids`,
//! `total-count-mode`, `aggregations`) the way `RequestCriteriaBuilder` and `QueryStringParser`
//! do, with the same error codes and pointers.

use std::collections::{BTreeMap, HashMap};

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::definition::{Definitions, EntityDef, Kind};
use super::error::ApiError;

/// How a multi filter joins its queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// All must match.
    And,
    /// One must match.
    Or,
}

/// A filter of a criteria.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// The field equals the value (null matches unset).
    Equals { field: Vec<String>, value: Value },
    /// The field equals one of the values.
    EqualsAny {
        field: Vec<String>,
        values: Vec<Value>,
    },
    /// The field's values include all of these.
    EqualsAll {
        field: Vec<String>,
        values: Vec<Value>,
    },
    /// `LIKE %value%`.
    Contains { field: Vec<String>, value: String },
    /// `LIKE value%`.
    Prefix { field: Vec<String>, value: String },
    /// `LIKE %value`.
    Suffix { field: Vec<String>, value: String },
    /// Bounds: `gte`, `gt`, `lte`, `lt`.
    Range {
        field: Vec<String>,
        bounds: Vec<(String, Value)>,
    },
    /// Several filters joined.
    Multi {
        operator: Operator,
        queries: Vec<Filter>,
    },
    /// The negation of several filters joined.
    Not {
        operator: Operator,
        queries: Vec<Filter>,
    },
}

/// One sorting.
#[derive(Debug, Clone, PartialEq)]
pub struct Sort {
    /// The field path.
    pub field: Vec<String>,
    /// Descending.
    pub descending: bool,
}

/// A metric or bucket aggregation.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregation {
    /// The name the result is keyed by.
    pub name: String,
    /// `count`, `sum`, `avg`, `min`, `max` or `terms`.
    pub kind: String,
    /// The field path.
    pub field: Vec<String>,
}

/// A parsed criteria.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Criteria {
    /// The page, from 1.
    pub page: u64,
    /// Rows per page; none: all.
    pub limit: Option<u64>,
    /// Only these ids.
    pub ids: Option<Vec<String>>,
    /// Filters (all must match).
    pub filter: Vec<Filter>,
    /// Filters applied after aggregations.
    pub post_filter: Vec<Filter>,
    /// Sortings, first decides first.
    pub sort: Vec<Sort>,
    /// Associations to load, with their own criteria.
    pub associations: BTreeMap<String, Criteria>,
    /// Per API alias, the properties to keep.
    pub includes: Option<HashMap<String, Vec<String>>>,
    /// 0 none, 1 exact, 2 next pages.
    pub total_count_mode: u8,
    /// Aggregations.
    pub aggregations: Vec<Aggregation>,
}

impl Filter {
    fn paths<'a>(&'a self, out: &mut Vec<&'a [String]>) {
        match self {
            Filter::Multi { queries, .. } | Filter::Not { queries, .. } => {
                queries.iter().for_each(|q| q.paths(out));
            }
            Filter::Equals { field, .. }
            | Filter::EqualsAny { field, .. }
            | Filter::EqualsAll { field, .. }
            | Filter::Contains { field, .. }
            | Filter::Prefix { field, .. }
            | Filter::Suffix { field, .. }
            | Filter::Range { field, .. } => out.push(field),
        }
    }
}

impl Criteria {
    /// Every field path the criteria filters, sorts or aggregates by (not its associations').
    pub fn field_paths(&self) -> Vec<&[String]> {
        let mut paths = Vec::new();
        for filter in self.filter.iter().chain(&self.post_filter) {
            filter.paths(&mut paths);
        }
        paths.extend(self.sort.iter().map(|s| s.field.as_slice()));
        paths.extend(self.aggregations.iter().map(|a| a.field.as_slice()));
        paths
    }
}

/// The limit rules of the API version served.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The highest `limit` allowed, and the default when none is given (6.6+: 500).
    pub max: Option<u64>,
}

struct Parser<'d> {
    defs: &'d Definitions,
    errors: Vec<Value>,
}

fn search_error(code: &str, detail: String, pointer: &str, parameters: Value) -> Value {
    json!({
        "status": "400",
        "code": code,
        "title": "Bad Request",
        "detail": detail,
        "source": {"pointer": pointer},
        "meta": {"parameters": parameters},
    })
}

/// A positive integer from a JSON number or numeric string (PHP's `(int)` cast, roughly).
fn as_int(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<f64>().ok().map(|f| f as i64),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

/// Parses a top-level criteria for `entity`.
pub fn parse(
    payload: &Value,
    defs: &Definitions,
    entity: &EntityDef,
    limits: Limits,
) -> Result<Criteria, ApiError> {
    if !payload.is_object() && !payload.is_null() {
        return Err(ApiError::invalid_body(
            "The criteria must be a JSON object.",
        ));
    }
    let mut parser = Parser {
        defs,
        errors: Vec::new(),
    };
    let mut criteria = parser.criteria(payload, entity, "")?;
    if !parser.errors.is_empty() {
        return Err(ApiError::bad_request(parser.errors));
    }
    if let Some(max) = limits.max {
        match criteria.limit {
            Some(limit) if limit > max => {
                return Err(ApiError::bad_request(vec![search_error(
                    "FRAMEWORK__QUERY_LIMIT_EXCEEDED",
                    format!(
                        "The limit must be lower than or equal to MAX_LIMIT(={max}). Given: {limit}"
                    ),
                    "/limit",
                    json!({"maxLimit": max, "limit": limit}),
                )]));
            }
            None if criteria.ids.is_none() => criteria.limit = Some(max),
            _ => {}
        }
    }
    Ok(criteria)
}

impl Parser<'_> {
    fn criteria(
        &mut self,
        payload: &Value,
        entity: &EntityDef,
        at: &str,
    ) -> Result<Criteria, ApiError> {
        let mut criteria = Criteria {
            page: 1,
            ..Criteria::default()
        };
        if let Some(page) = payload.get("page") {
            match as_int(page) {
                Some(p) if p > 0 => criteria.page = p as u64,
                _ => self.errors.push(search_error(
                    "FRAMEWORK__INVALID_PAGE_QUERY",
                    format!(
                        "The page parameter must be a positive integer. Given: {}",
                        plain(page)
                    ),
                    &format!("{at}/page"),
                    json!({"page": page}),
                )),
            }
        }
        if let Some(limit) = payload.get("limit").filter(|l| !l.is_null()) {
            match as_int(limit) {
                Some(l) if l > 0 => criteria.limit = Some(l as u64),
                _ => self.errors.push(search_error(
                    "FRAMEWORK__INVALID_LIMIT_QUERY",
                    format!(
                        "The limit parameter must be a positive integer greater or equals than 1. Given: {}",
                        plain(limit)
                    ),
                    &format!("{at}/limit"),
                    json!({"limit": limit}),
                )),
            }
        }
        if let Some(ids) = payload.get("ids") {
            let ids: Vec<String> = match ids {
                Value::String(s) => s.split('|').map(str::to_string).collect(),
                Value::Array(items) => items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            };
            criteria.ids = Some(ids);
        }
        if let Some(mode) = payload.get("total-count-mode") {
            criteria.total_count_mode = total_count_mode(mode);
        }
        for (key, target) in [("filter", false), ("post-filter", true)] {
            let Some(filters) = payload.get(key) else {
                continue;
            };
            let Some(items) = filters.as_array() else {
                self.errors.push(search_error(
                    "FRAMEWORK__INVALID_FILTER_QUERY",
                    "The filter parameter has to be a list of filters.".into(),
                    &format!("{at}/{key}"),
                    json!({}),
                ));
                continue;
            };
            for (i, item) in items.iter().enumerate() {
                if let Some(filter) = self.filter(item, entity, &format!("{at}/{key}/{i}"))? {
                    if target {
                        criteria.post_filter.push(filter);
                    } else {
                        criteria.filter.push(filter);
                    }
                }
            }
        }
        if let Some(sort) = payload.get("sort") {
            criteria.sort = self.sort(sort, entity, &format!("{at}/sort"))?;
        }
        if let Some(associations) = payload.get("associations") {
            for (name, nested) in associations.as_object().into_iter().flatten() {
                let Some(association) = entity.association(name) else {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "FRAMEWORK__ASSOCIATION_NOT_FOUND",
                        format!("Can not find association by name {name}"),
                    )
                    .params(json!({"association": name})));
                };
                let target = self.defs.entity(association.entity);
                let nested = self.criteria(nested, target, &format!("{at}/associations/{name}"))?;
                criteria.associations.insert(name.clone(), nested);
            }
        }
        if let Some(includes) = payload.get("includes").and_then(Value::as_object) {
            let parsed = includes
                .iter()
                .map(|(alias, fields)| {
                    let fields = match fields {
                        Value::Array(items) => items
                            .iter()
                            .filter_map(|f| f.as_str().map(str::to_string))
                            .collect(),
                        Value::String(s) => s.split(',').map(str::to_string).collect(),
                        _ => Vec::new(),
                    };
                    (alias.clone(), fields)
                })
                .collect();
            criteria.includes = Some(parsed);
        }
        if let Some(aggregations) = payload.get("aggregations").and_then(Value::as_array) {
            for (i, aggregation) in aggregations.iter().enumerate() {
                let pointer = format!("{at}/aggregations/{i}");
                let kind = aggregation["type"].as_str().unwrap_or_default();
                let name = aggregation["name"].as_str().unwrap_or_default();
                let field = aggregation["field"].as_str().unwrap_or_default();
                if !["count", "sum", "avg", "min", "max", "terms"].contains(&kind)
                    || name.is_empty()
                    || field.is_empty()
                {
                    self.errors.push(search_error(
                        "FRAMEWORK__INVALID_AGGREGATION_QUERY",
                        format!("Unsupported aggregation type: {kind}"),
                        &pointer,
                        json!({}),
                    ));
                    continue;
                }
                criteria.aggregations.push(Aggregation {
                    name: name.into(),
                    kind: kind.into(),
                    field: self.path(field, entity)?,
                });
            }
        }
        Ok(criteria)
    }

    /// A field path, checked against the definitions (through associations and into JSON).
    fn path(&self, field: &str, entity: &EntityDef) -> Result<Vec<String>, ApiError> {
        let trimmed = field
            .strip_prefix(&format!("{}.", entity.name))
            .unwrap_or(field);
        let parts: Vec<String> = trimmed.split('.').map(str::to_string).collect();
        let mut def = entity;
        for (i, part) in parts.iter().enumerate() {
            if let Some(f) = def.field(part) {
                let is_last = i + 1 == parts.len();
                if is_last
                    || matches!(
                        f.kind,
                        Kind::Json
                            | Kind::Price
                            | Kind::CalculatedPrice
                            | Kind::CartPrice
                            | Kind::Rounding
                    )
                {
                    return Ok(parts);
                }
                return Err(ApiError::unmapped_field(field, entity.name));
            }
            if let Some(a) = def.association(part) {
                def = self.defs.entity(a.entity);
                if i + 1 == parts.len() {
                    // An association alone means its id.
                    let mut parts = parts.clone();
                    parts.push("id".into());
                    return Ok(parts);
                }
                continue;
            }
            return Err(ApiError::unmapped_field(field, entity.name));
        }
        Ok(parts)
    }

    fn filter(
        &mut self,
        query: &Value,
        entity: &EntityDef,
        at: &str,
    ) -> Result<Option<Filter>, ApiError> {
        let invalid = |detail: String, pointer: String| {
            search_error(
                "FRAMEWORK__INVALID_FILTER_QUERY",
                detail,
                &pointer,
                json!({}),
            )
        };
        let Some(kind) = query["type"].as_str().filter(|t| !t.is_empty()) else {
            self.errors.push(invalid(
                "Value for filter type is required.".into(),
                format!("{at}/type"),
            ));
            return Ok(None);
        };
        let operator = match query["operator"]
            .as_str()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("or") => Operator::Or,
            _ => Operator::And,
        };
        match kind {
            "multi" | "not" | "and" | "or" | "nand" | "nor" => {
                let mut queries = Vec::new();
                for (i, q) in query["queries"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    if let Some(f) = self.filter(q, entity, &format!("{at}/queries/{i}"))? {
                        queries.push(f);
                    }
                }
                Ok(Some(match kind {
                    "multi" => Filter::Multi { operator, queries },
                    "and" => Filter::Multi {
                        operator: Operator::And,
                        queries,
                    },
                    "or" => Filter::Multi {
                        operator: Operator::Or,
                        queries,
                    },
                    "not" => Filter::Not { operator, queries },
                    "nand" => Filter::Not {
                        operator: Operator::And,
                        queries,
                    },
                    _ => Filter::Not {
                        operator: Operator::Or,
                        queries,
                    },
                }))
            }
            "equals" | "equalsAny" | "equalsAll" | "contains" | "prefix" | "suffix" | "range" => {
                let Some(field) = query["field"].as_str().filter(|f| !f.is_empty()) else {
                    self.errors.push(invalid(
                        format!("Parameter \"field\" for {kind} filter is missing."),
                        format!("{at}/field"),
                    ));
                    return Ok(None);
                };
                let field = self.path(field, entity)?;
                if kind == "range" {
                    let bounds: Vec<(String, Value)> = query["parameters"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .filter(|(k, _)| ["gte", "gt", "lte", "lt"].contains(&k.as_str()))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    return Ok(Some(Filter::Range { field, bounds }));
                }
                let value = query.get("value").cloned().unwrap_or(Value::Null);
                let missing = match kind {
                    "equals" => query.get("value").is_none() || value == "",
                    _ => value.is_null() || value == "",
                };
                if missing {
                    self.errors.push(invalid(
                        format!("Parameter \"value\" for {kind} filter is missing."),
                        format!("{at}/value"),
                    ));
                    return Ok(None);
                }
                let list = || match &value {
                    Value::Array(items) => items.clone(),
                    Value::String(s) => s.split('|').map(|v| json!(v)).collect(),
                    other => vec![other.clone()],
                };
                let text = plain(&value);
                Ok(Some(match kind {
                    "equals" => Filter::Equals { field, value },
                    "equalsAny" => Filter::EqualsAny {
                        field,
                        values: list(),
                    },
                    "equalsAll" => Filter::EqualsAll {
                        field,
                        values: list(),
                    },
                    "contains" => Filter::Contains { field, value: text },
                    "prefix" => Filter::Prefix { field, value: text },
                    _ => Filter::Suffix { field, value: text },
                }))
            }
            other => {
                self.errors.push(invalid(
                    format!("Unsupported filter type: {other}"),
                    format!("{at}/type"),
                ));
                Ok(None)
            }
        }
    }

    fn sort(&mut self, sort: &Value, entity: &EntityDef, at: &str) -> Result<Vec<Sort>, ApiError> {
        let mut sorts = Vec::new();
        match sort {
            // GET lists: `sort=-createdAt,name`.
            Value::String(simple) => {
                for part in simple.split(',').filter(|p| !p.is_empty()) {
                    let (descending, field) = match part.strip_prefix('-') {
                        Some(field) => (true, field),
                        None => (false, part.strip_prefix('+').unwrap_or(part)),
                    };
                    sorts.push(Sort {
                        field: self.path(field, entity)?,
                        descending,
                    });
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let Some(field) = item["field"].as_str().filter(|f| !f.is_empty()) else {
                        self.errors.push(search_error(
                            "FRAMEWORK__INVALID_SORT_QUERY",
                            "The \"field\" key is required for a sorting.".into(),
                            &format!("{at}/{i}"),
                            json!({}),
                        ));
                        continue;
                    };
                    let descending = item["order"]
                        .as_str()
                        .is_some_and(|o| o.eq_ignore_ascii_case("desc"));
                    sorts.push(Sort {
                        field: self.path(field, entity)?,
                        descending,
                    });
                }
            }
            _ => {}
        }
        Ok(sorts)
    }
}

/// `total-count-mode` as `RequestCriteriaBuilder::addTotalCountMode` reads it: numbers 0–2,
/// the names `none`, `exact`, `next-pages`; anything else means none.
fn total_count_mode(mode: &Value) -> u8 {
    match mode {
        Value::Number(_) => match as_int(mode) {
            Some(m @ 0..=2) => m as u8,
            _ => 0,
        },
        Value::String(s) if s.trim().parse::<f64>().is_ok() => match as_int(mode) {
            Some(m @ 0..=2) => m as u8,
            _ => 0,
        },
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "exact" => 1,
            "next-pages" => 2,
            _ => 0,
        },
        _ => 0,
    }
}

/// A JSON value as PHP would print it in a message.
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_count_mode_falls_back_to_none() {
        assert_eq!(total_count_mode(&json!(1)), 1);
        assert_eq!(total_count_mode(&json!("next-pages")), 2);
        assert_eq!(total_count_mode(&json!(7)), 0);
        assert_eq!(total_count_mode(&json!("2")), 2);
        assert_eq!(total_count_mode(&json!("whatever")), 0);
    }
}
