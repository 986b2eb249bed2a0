//! Turning loaded entities into responses: Shopware's plain JSON (`JsonEntityEncoder`: every
//! object carries `apiAlias`) and JSON:API (`JsonApiEncoder`: `data[].attributes`,
//! `relationships`, `included`, `links`, `meta`), and choosing between them from `Accept`.

use std::collections::{HashMap, HashSet};

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::definition::{EntityDef, Kind};
use super::error::ApiError;
use super::search::{Loaded, Node, Reader};

/// The response format a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json`.
    Json,
    /// `application/vnd.api+json`, the Admin API's default.
    JsonApi,
}

impl Format {
    /// The `Content-Type` of responses in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::JsonApi => "application/vnd.api+json",
        }
    }
}

/// Picks the format from `Accept` as `ResponseFactoryRegistry` does: JSON:API for its own type,
/// for `*/*` and when nothing is asked for; plain JSON only for `application/json`; anything
/// else is 415.
pub fn negotiate(accept: Option<&str>) -> Result<Format, ApiError> {
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else {
        return Ok(Format::JsonApi);
    };
    let mut types: Vec<(f32, usize, String)> = accept
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut pieces = part.split(';');
            let media = pieces.next()?.trim().to_ascii_lowercase();
            let quality = pieces
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            (!media.is_empty()).then_some((quality, i, media))
        })
        .collect();
    types.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, _, media) in &types {
        match media.as_str() {
            "application/vnd.api+json" | "*/*" => return Ok(Format::JsonApi),
            "application/json" => return Ok(Format::Json),
            _ => {}
        }
    }
    let listed: Vec<&str> = types.iter().map(|(_, _, m)| m.as_str()).collect();
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "0",
        format!(
            "All provided media types are unsupported. ({})",
            listed.join(", ")
        ),
    ))
}

/// `order_line_item` / `lineItems` → `order-line-item` / `line-items`, for links.
pub fn kebab(name: &str) -> String {
    let mut out = String::new();
    for c in name.replace('_', "-").chars() {
        if c.is_ascii_uppercase() {
            if !out.is_empty() {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The `apiAlias` of the structs inside JSON fields.
fn struct_alias(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::CalculatedPrice => Some("calculated_price"),
        Kind::CartPrice => Some("cart_price"),
        Kind::Rounding => {
            Some("shopware_core_framework_data_abstraction_layer_pricing_cash_rounding_config")
        }
        _ => None,
    }
}

/// Adds what PHP's structs add when serialized: `extensions`, and `apiAlias` in plain JSON.
fn decorate(kind: Kind, value: Value, with_alias: bool) -> Value {
    let tag = |mut object: Map<String, Value>, alias: &str| {
        object.entry("extensions").or_insert(json!([]));
        if with_alias {
            object.insert("apiAlias".into(), json!(alias));
        }
        Value::Object(object)
    };
    let taxes = |object: &mut Map<String, Value>| {
        for (key, alias) in [
            ("calculatedTaxes", "cart_tax_calculated"),
            ("taxRules", "cart_tax_rule"),
        ] {
            if let Some(Value::Array(items)) = object.get_mut(key) {
                for item in items.iter_mut() {
                    if let Value::Object(o) = item.take() {
                        *item = tag(o, alias);
                    }
                }
            }
        }
    };
    match (kind, value) {
        (Kind::Price, Value::Array(items)) => Value::Array(
            items
                .into_iter()
                .map(|item| match item {
                    Value::Object(mut o) => {
                        for key in ["listPrice", "percentage", "regulationPrice"] {
                            o.entry(key).or_insert(Value::Null);
                        }
                        tag(o, "price")
                    }
                    other => other,
                })
                .collect(),
        ),
        (kind, Value::Object(mut o)) if struct_alias(kind).is_some() => {
            taxes(&mut o);
            if kind == Kind::CalculatedPrice {
                for key in ["referencePrice", "listPrice", "regulationPrice"] {
                    o.entry(key).or_insert(Value::Null);
                }
            }
            tag(o, struct_alias(kind).unwrap_or_default())
        }
        (_, value) => value,
    }
}

/// Encodes loaded entities for one request.
pub struct Encoder<'r, 's> {
    reader: &'r Reader<'s>,
    includes: Option<&'r HashMap<String, Vec<String>>>,
    api_base: String,
}

impl<'r, 's> Encoder<'r, 's> {
    /// An encoder; `api_base` is `http://host:port/api`.
    pub fn new(
        reader: &'r Reader<'s>,
        includes: Option<&'r HashMap<String, Vec<String>>>,
        api_base: &str,
    ) -> Self {
        Encoder {
            reader,
            includes,
            api_base: api_base.to_string(),
        }
    }

    fn allowed(&self, alias: &str, property: &str) -> bool {
        self.includes
            .and_then(|i| i.get(alias))
            .is_none_or(|fields| fields.iter().any(|f| f == property))
    }

    /// The stored fields of a row as the request sees them, plus `translated`.
    fn fields(&self, def: &EntityDef, row: &super::store::Row, json: bool) -> Map<String, Value> {
        let mut out = Map::new();
        for field in &def.fields {
            let value = self.reader.shown(def, row, field);
            out.insert(field.name.into(), decorate(field.kind, value, json));
        }
        let mut translated = Map::new();
        for field in def.fields.iter().filter(|f| f.translated) {
            translated.insert(field.name.into(), self.reader.value(def, row, field));
        }
        if def.name == "category" {
            translated.insert("breadcrumb".into(), row.get("breadcrumb").clone());
        }
        out.insert(
            "translated".into(),
            if translated.is_empty() {
                json!([])
            } else {
                Value::Object(translated)
            },
        );
        out
    }

    /// One entity in plain JSON, with its loaded associations nested.
    pub fn json(&self, node: &Node<'_>) -> Value {
        let def = node.def;
        let mut out = self.fields(def, node.row, true);
        for association in &def.associations {
            out.insert(association.name.into(), Value::Null);
        }
        for (association, loaded) in &node.loaded {
            let value = match loaded {
                Loaded::One(None) => Value::Null,
                Loaded::One(Some(child)) => self.json(child),
                Loaded::Many(children) => {
                    Value::Array(children.iter().map(|c| self.json(c)).collect())
                }
            };
            out.insert(association.name.into(), value);
        }
        if def.mapping_key.is_none() {
            out.entry("versionId").or_insert(Value::Null);
            out.insert("_uniqueIdentifier".into(), json!(node.row.id()));
        }
        out.insert("extensions".into(), json!([]));
        out.insert("apiAlias".into(), json!(def.name));
        self.filter_includes(Value::Object(out))
    }

    /// Applies `includes` to every object that has an `apiAlias`, as `filterIncludes` does.
    fn filter_includes(&self, value: Value) -> Value {
        if self.includes.is_none() {
            return value;
        }
        match value {
            Value::Object(map) => {
                let alias = map
                    .get("apiAlias")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let kept = map
                    .into_iter()
                    .filter(|(k, _)| {
                        k == "apiAlias" || alias.as_deref().is_none_or(|a| self.allowed(a, k))
                    })
                    .map(|(k, v)| (k, self.filter_includes(v)))
                    .collect();
                Value::Object(kept)
            }
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.filter_includes(v)).collect())
            }
            other => other,
        }
    }

    /// JSON:API resources for `nodes`: the primary data and the `included` resources (each
    /// entity once).
    pub fn json_api(&self, nodes: &[Node<'_>]) -> (Vec<Value>, Vec<Value>) {
        let mut seen = HashSet::new();
        let mut included = Vec::new();
        let data = nodes
            .iter()
            .map(|n| self.resource(n, &mut seen, &mut included))
            .collect();
        (data, included)
    }

    fn resource(
        &self,
        node: &Node<'_>,
        seen: &mut HashSet<(String, String)>,
        included: &mut Vec<Value>,
    ) -> Value {
        let def = node.def;
        let id = node.row.id().to_string();
        let this = format!("{}/{}/{}", self.api_base, kebab(def.name), id);
        let fields = self.fields(def, node.row, false);
        let attributes: Map<String, Value> = fields
            .into_iter()
            .filter(|(k, _)| k != "id" && k != "translated" && self.allowed(def.name, k))
            .collect();
        let mut relationships = Map::new();
        for association in &def.associations {
            if !self.allowed(def.name, association.name) {
                continue;
            }
            let data = match node.loaded.iter().find(|(a, _)| a.name == association.name) {
                Some((_, Loaded::One(Some(child)))) => {
                    let linkage = json!({"type": child.def.name, "id": child.row.id()});
                    self.include(child, seen, included);
                    linkage
                }
                Some((_, Loaded::Many(children))) => Value::Array(
                    children
                        .iter()
                        .map(|child| {
                            self.include(child, seen, included);
                            json!({"type": child.def.name, "id": child.row.id()})
                        })
                        .collect(),
                ),
                _ if association.is_to_many() => json!([]),
                _ => Value::Null,
            };
            relationships.insert(
                association.name.into(),
                json!({
                    "data": data,
                    "links": {"related": format!("{this}/{}", kebab(association.name))},
                }),
            );
        }
        json!({
            "id": id,
            "type": def.name,
            "attributes": attributes,
            "links": {"self": this},
            "relationships": relationships,
            "meta": null,
        })
    }

    fn include(
        &self,
        node: &Node<'_>,
        seen: &mut HashSet<(String, String)>,
        included: &mut Vec<Value>,
    ) {
        let key = (node.def.name.to_string(), node.row.id().to_string());
        if seen.contains(&key) {
            return;
        }
        seen.insert(key);
        let resource = self.resource(node, seen, included);
        included.push(resource);
    }
}

/// JSON:API pagination links as `JsonFactoryBase::createPaginationLinks` builds them.
pub fn pagination_links(
    uri: &str,
    query: &[(String, String)],
    limit: Option<u64>,
    page: u64,
    total: u64,
) -> Map<String, Value> {
    let mut links = Map::new();
    let Some(limit) = limit.filter(|l| *l > 0) else {
        return links;
    };
    let last = total.div_ceil(limit);
    let link = |page: u64| {
        let mut params: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| k != "limit" && k != "page")
            .cloned()
            .collect();
        params.push(("limit".into(), limit.to_string()));
        params.push(("page".into(), page.to_string()));
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{uri}?{}", query.join("&"))
    };
    links.insert("first".into(), json!(link(1)));
    links.insert("last".into(), json!(link(last)));
    if page > 1 {
        links.insert("prev".into(), json!(link(page - 1)));
    }
    if page < last {
        links.insert("next".into(), json!(link(page + 1)));
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_api_is_the_default_and_json_must_be_asked_for() {
        assert_eq!(negotiate(None), Ok(Format::JsonApi));
        assert_eq!(negotiate(Some("*/*")), Ok(Format::JsonApi));
        assert_eq!(negotiate(Some("application/json")), Ok(Format::Json));
        assert_eq!(
            negotiate(Some("text/html;q=0.9, application/json")),
            Ok(Format::Json)
        );
        assert_eq!(
            negotiate(Some("text/html")).unwrap_err().status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
    }

    #[test]
    fn links_use_dashes() {
        assert_eq!(kebab("order_line_item"), "order-line-item");
        assert_eq!(kebab("lineItems"), "line-items");
        assert_eq!(kebab("stateMachineState"), "state-machine-state");
    }
}
