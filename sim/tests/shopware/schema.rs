//! The simulator's responses checked against the official OpenAPI descriptions of 6.4, 6.6 and
//! 6.7 (`tests/specs/shopware/`: verbatim extracts of shopware/admin-api-reference, see
//! `SOURCES.json` there), and a check that the validation can fail.
//!
//! The files are OpenAPI 3.0; the schemas are used as JSON Schema (draft 4, which 3.0 extends)
//! with these adaptations, each because real Shopware responses differ from the generated
//! description in a known way:
//! - `nullable: true` becomes a `null` type; and since the generator never emits `nullable`
//!   while Shopware's serializer writes `null` for every unset field and unloaded association,
//!   every property also accepts `null` (`required` still demands the key).
//! - PHP encodes an empty array as `[]`, so an `object` may also be an empty list
//!   (`extensions`, `translated`, `customFields`, `addressFormat`).
//! - `calculatedTaxes` and `taxRules` are described as objects but are lists
//!   (`CalculatedTaxCollection`), and `Category.breadcrumb` is a list of names, not of objects.
//! - JSON:API: the path schemas require each `data[]` item to be both a `resource` and the
//!   flat entity (`Order`), which no JSON:API resource can be (its fields are in `attributes`).
//!   So the document is validated against `success` (the path schema's envelope), and each
//!   resource's entity (id, attributes, relationships as unloaded associations) against the
//!   entity schema. `relationships` is described as one relationship instead of a map of them,
//!   and `success` forbids the `aggregations` member `JsonApiType` sends.
//! - 6.4's detail schema is the bare entity, while the answer is `{"data": …}`; and 6.4
//!   describes to-many associations (`lineItems`, `children`, …) as one object, not a list,
//!   and product price lists as objects.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::Validator;
use serde_json::{Map, Value, json};

use crate::support::*;

fn spec_file(version: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/specs/shopware")
        .join(format!("admin-api-{version}.subset.openapi.json"))
}

/// Accepts `null` beside `schema`.
fn or_null(schema: Value) -> Value {
    json!({"anyOf": [schema, {"type": "null"}]})
}

/// Applies the adaptations to one schema and everything below it.
fn adapt_schema(schema: &mut Value) {
    let Value::Object(map) = schema else {
        return;
    };
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        for (name, property) in properties.iter_mut() {
            if matches!(name.as_str(), "calculatedTaxes" | "taxRules")
                && property["type"] == "object"
            {
                property["type"] = json!("array");
            }
            adapt_schema(property);
            *property = or_null(property.take());
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(sub) = map.get_mut(key).filter(|s| s.is_object()) {
            adapt_schema(sub);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(list)) = map.get_mut(key) {
            list.iter_mut().for_each(adapt_schema);
        }
    }
    if map.remove("nullable") == Some(json!(true)) {
        *schema = or_null(schema.take());
    } else if map.get("type") == Some(&json!("object")) {
        *schema = json!({"anyOf": [schema.take(), {"type": "array", "maxItems": 0}]});
    }
}

/// Adapts every schema of the document: the components and those under `schema` keys.
fn adapt(node: &mut Value) {
    if let Some(Value::Object(schemas)) = node.pointer_mut("/components/schemas") {
        schemas.values_mut().for_each(adapt_schema);
    }
    fn walk(node: &mut Value) {
        match node {
            Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    if key == "schema" {
                        adapt_schema(value);
                    } else {
                        walk(value);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    if let Some(paths) = node.get_mut("paths") {
        walk(paths);
    }
    if let Some(responses) = node.pointer_mut("/components/responses") {
        walk(responses);
    }
}

/// The spec of `version` with the adaptations above.
fn spec(version: &str) -> &'static Value {
    static SPECS: OnceLock<Vec<(String, Value)>> = OnceLock::new();
    let specs = SPECS.get_or_init(|| {
        ["6.4.20.2", "6.6.10.16", "6.7.10.0"]
            .iter()
            .map(|v| {
                let text = std::fs::read_to_string(spec_file(v)).unwrap_or_else(|e| panic!("{}: {e}", spec_file(v).display()));
                let mut doc: Value = serde_json::from_str(&text).unwrap();
                let schemas = doc["components"]["schemas"].as_object_mut().unwrap();
                if let Some(Value::Object(category)) = schemas.get_mut("Category")
                    && let Some(breadcrumb) = category.get_mut("properties").and_then(|p| p.get_mut("breadcrumb"))
                {
                    breadcrumb["items"] = json!({"type": "string"});
                }
                schemas.insert(
                    "relationships".into(),
                    json!({"type": "object", "additionalProperties": {"type": "object", "properties": {
                        "links": {"$ref": "#/components/schemas/relationshipLinks"},
                        "data": {"anyOf": [{"type": "null"}, {"$ref": "#/components/schemas/linkage"},
                                           {"type": "array", "items": {"$ref": "#/components/schemas/linkage"}}]}}}}),
                );
                schemas["success"]["properties"]["aggregations"] = json!({});
                if v.starts_with("6.4") {
                    for price in ["price", "purchasePrices"] {
                        schemas["Product"]["properties"][price] = json!({"type": "array", "items": {"type": "object"}});
                    }
                    for schema in schemas.values_mut() {
                        let Some(Value::Object(properties)) = schema.get_mut("properties") else {
                            continue;
                        };
                        for property in properties.values_mut() {
                            if let Some(target) = property.get("$ref").cloned() {
                                *property = json!({"anyOf": [{"$ref": target}, {"type": "array", "items": {"$ref": target}}]});
                            }
                        }
                    }
                }
                adapt(&mut doc);
                (v.to_string(), doc)
            })
            .collect()
    });
    &specs
        .iter()
        .find(|(v, _)| v == version)
        .expect("known version")
        .1
}

/// A path as a JSON pointer segment inside a URI fragment.
fn escape(segment: &str) -> String {
    segment
        .replace('~', "~0")
        .replace('/', "~1")
        .replace('{', "%7B")
        .replace('}', "%7D")
}

/// A validator for the 200 response of `method path` in `media`.
fn validator(version: &str, path: &str, method: &str, media: &str) -> Validator {
    let pointer = format!(
        "#/paths/{}/{method}/responses/200/content/{}/schema",
        escape(path),
        escape(media)
    );
    let mut root = spec(version).clone();
    root["allOf"] = json!([{"$ref": pointer}]);
    jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&root)
        .expect("the spec compiles")
}

/// A validator for a component schema (compiled once per version and name).
fn component(version: &str, name: &str) -> Arc<Validator> {
    type Cache = Mutex<HashMap<(String, String), Arc<Validator>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (version.to_string(), name.to_string());
    if let Some(validator) = cache.lock().unwrap().get(&key) {
        return validator.clone();
    }
    let mut root = spec(version).clone();
    root["allOf"] = json!([{"$ref": format!("#/components/schemas/{name}")}]);
    let validator = Arc::new(
        jsonschema::draft4::options()
            .should_validate_formats(true)
            .build(&root)
            .expect("the spec compiles"),
    );
    cache.lock().unwrap().insert(key, validator.clone());
    validator
}

/// What is wrong, with `anyOf` failures opened up to the branch that says why.
fn problems(validator: &Validator, instance: &Value) -> Vec<String> {
    fn describe(error: &jsonschema::ValidationError<'_>, out: &mut Vec<String>) {
        if let jsonschema::error::ValidationErrorKind::AnyOf { context } = error.kind() {
            let telling: Vec<_> = context
                .iter()
                .filter(|branch| {
                    !branch.iter().all(|e| {
                        matches!(
                            e.kind(),
                            jsonschema::error::ValidationErrorKind::Type { .. }
                        )
                    })
                })
                .collect();
            if !telling.is_empty() {
                telling.into_iter().flatten().for_each(|e| describe(e, out));
                return;
            }
        }
        let text = error.to_string();
        let short: String = text.chars().take(160).collect();
        out.push(format!(
            "{short} at {} ({})",
            error.instance_path(),
            error.schema_path()
        ));
    }
    let mut out = Vec::new();
    for error in validator.iter_errors(instance).take(10) {
        describe(&error, &mut out);
    }
    out
}

fn assert_valid(validator: &Validator, instance: &Value, what: &str) {
    let problems = problems(validator, instance);
    assert!(problems.is_empty(), "{what}: {problems:#?}");
}

/// The entity a JSON:API resource carries, as plain JSON shows it: its id, its attributes, and
/// its relationships as associations that are not loaded.
fn entity_view(resource: &Value) -> Value {
    let mut out: Map<String, Value> = resource["attributes"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    out.insert("id".into(), resource["id"].clone());
    for name in resource["relationships"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
    {
        out.entry(name.clone()).or_insert(Value::Null);
    }
    Value::Object(out)
}

/// Validates a JSON:API document: the envelope against `success`, every resource's entity
/// against its entity schema.
fn check_json_api(version: &str, document: &Value, what: &str) {
    assert_valid(
        &component(version, "success"),
        document,
        &format!("{what} (document)"),
    );
    let data = match &document["data"] {
        Value::Array(items) => items.clone(),
        single => vec![single.clone()],
    };
    let included = document["included"].as_array().cloned().unwrap_or_default();
    for resource in data.iter().chain(&included) {
        let name = schema_name(resource["type"].as_str().unwrap());
        assert_valid(
            &component(version, &name),
            &entity_view(resource),
            &format!("{what} ({name})"),
        );
    }
}

fn schema_name(entity: &str) -> String {
    entity
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn order_criteria() -> Value {
    json!({"limit": 5, "associations": {
        "lineItems": {}, "transactions": {"associations": {"stateMachineState": {}, "paymentMethod": {}}},
        "deliveries": {"associations": {"shippingOrderAddress": {"associations": {"country": {}}}, "shippingMethod": {}}},
        "orderCustomer": {}, "billingAddress": {"associations": {"country": {}}}, "addresses": {}, "currency": {},
        "salesChannel": {}, "language": {}}})
}

fn product_criteria() -> Value {
    json!({"limit": 10, "associations": {
        "children": {"associations": {"options": {"associations": {"group": {}}}}},
        "configuratorSettings": {"associations": {"option": {}}}, "properties": {"associations": {"group": {}}},
        "categories": {}, "visibilities": {}, "tax": {}}})
}

fn category_criteria() -> Value {
    json!({"associations": {"children": {}, "parent": {}}})
}

async fn check_searches(version: ApiVersion, full: &str) {
    let (_sim, api) = demo(version).await;
    for (entity, route, criteria) in [
        ("order", "order", order_criteria()),
        ("product", "product", product_criteria()),
        ("category", "category", category_criteria()),
    ] {
        let path = format!("/search/{route}");
        let res = api.search(route, criteria.clone()).await;
        assert_valid(
            &validator(full, &path, "post", "application/json"),
            &res.body,
            &format!("{full} JSON {path}"),
        );
        let doc = api.json_api().search(route, criteria.clone()).await;
        check_json_api(full, &doc.body, &format!("{full} JSON:API {path}"));
        let id = res.body["data"][0]["id"].as_str().unwrap();
        let detail = api.get(&format!("/api/{route}/{id}")).await;
        assert_valid(
            &validator(full, &format!("/{route}/{{id}}"), "get", "application/json"),
            &detail.body,
            &format!("{full} JSON detail {entity}"),
        );
        let detail = api.json_api().get(&format!("/api/{route}/{id}")).await;
        check_json_api(
            full,
            &detail.body,
            &format!("{full} JSON:API detail {entity}"),
        );
    }
}

#[tokio::test]
async fn searches_and_details_match_the_6_6_spec() {
    check_searches(ApiVersion::V6_6, "6.6.10.16").await;
}

#[tokio::test]
async fn searches_and_details_match_the_6_7_spec() {
    check_searches(ApiVersion::V6_7, "6.7.10.0").await;
}

#[tokio::test]
async fn lists_and_details_match_the_6_4_spec() {
    let (_sim, api) = demo(ApiVersion::V6_4).await;
    let full = "6.4.20.2";
    for route in ["order", "product", "category"] {
        let list = api.get(&format!("/api/{route}?limit=5")).await;
        assert_valid(
            &validator(full, &format!("/{route}"), "get", "application/json"),
            &list.body,
            &format!("6.4 list {route}"),
        );
        let doc = api.json_api().get(&format!("/api/{route}?limit=5")).await;
        check_json_api(full, &doc.body, &format!("6.4 JSON:API list {route}"));
        let id = list.body["data"][0]["id"].as_str().unwrap();
        let detail = api.get(&format!("/api/{route}/{id}")).await;
        assert_valid(
            &validator(full, &format!("/{route}/{{id}}"), "get", "application/json"),
            &detail.body["data"],
            &format!("6.4 detail {route}"),
        );
        let with_associations = api
            .search(
                route,
                if route == "order" {
                    order_criteria()
                } else if route == "product" {
                    product_criteria()
                } else {
                    category_criteria()
                },
            )
            .await;
        let entity = validator(full, &format!("/{route}/{{id}}"), "get", "application/json");
        for row in with_associations.body["data"].as_array().unwrap() {
            assert_valid(&entity, row, &format!("6.4 {route} with associations"));
        }
    }
}

#[tokio::test]
async fn the_validation_rejects_responses_that_break_the_spec() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let schema = validator("6.6.10.16", "/search/order", "post", "application/json");
    let good = api.search("order", order_criteria()).await.body;
    assert_valid(&schema, &good, "the untouched response");
    type Breaker = Box<dyn Fn(&mut Value)>;
    let broken: [(&str, Breaker); 6] = [
        (
            "a date that is no date",
            Box::new(|v| v["data"][0]["orderDateTime"] = json!("yesterday")),
        ),
        (
            "an id with dashes",
            Box::new(|v| v["data"][0]["id"] = json!("0fa91ce3-e96a-4bc2-be4b-d9ce752c3425")),
        ),
        (
            "a missing required field",
            Box::new(|v| {
                v["data"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("billingAddressId");
            }),
        ),
        (
            "a number as text",
            Box::new(|v| v["data"][0]["amountTotal"] = json!("50.85")),
        ),
        (
            "a nested quantity as text",
            Box::new(|v| v["data"][0]["lineItems"][0]["quantity"] = json!("2")),
        ),
        ("total as text", Box::new(|v| v["total"] = json!("8"))),
    ];
    for (what, breaker) in broken {
        let mut body = good.clone();
        breaker(&mut body);
        assert!(
            !problems(&schema, &body).is_empty(),
            "{what} must fail validation"
        );
    }
    let envelope = component("6.6.10.16", "success");
    let order_schema = component("6.6.10.16", "Order");
    let doc = api
        .json_api()
        .search("order", json!({"limit": 1}))
        .await
        .body;
    check_json_api("6.6.10.16", &doc, "the untouched document");
    let mut extra = doc.clone();
    extra["unexpected"] = json!(1);
    assert!(
        !problems(&envelope, &extra).is_empty(),
        "the document allows no other members"
    );
    let mut untyped = doc.clone();
    untyped["data"][0].as_object_mut().unwrap().remove("type");
    assert!(
        !problems(&envelope, &untyped).is_empty(),
        "a resource needs a type"
    );
    let mut incomplete = doc["data"][0].clone();
    incomplete["attributes"]
        .as_object_mut()
        .unwrap()
        .remove("orderDateTime");
    assert!(
        !problems(&order_schema, &entity_view(&incomplete)).is_empty(),
        "a required attribute is missing"
    );
}
