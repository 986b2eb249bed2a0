//! The HTTP side: the `/api` routes (matched by hand, so that an id Shopware's route regex
//! rejects gives Symfony's "No route found" 404), content negotiation, and the handlers for
//! reading, searching, writing, versions and state transitions.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::criteria::{self, Limits};
use super::definition::EntityDef;
use super::encode::{Encoder, Format, kebab, negotiate, pagination_links};
use super::error::ApiError;
use super::ids::{self, LIVE_VERSION, SYSTEM_LANGUAGE};
use super::query::query_to_json;
use super::search::{Node, Reader};
use super::store::Store;
use super::write::{DanglingKey, Mode, WriteError, Writer};
use super::{Shared, acl, actions, index, orders, states, sync};

/// The simulator's routes (without the journal and fault layer).
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/oauth/token", post(token))
        .route("/__sim/state", get(dump))
        .fallback(api)
        .with_state(shared)
}

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    shared.auth.token(&headers, &body)
}

async fn dump(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(shared.store().dump()).into_response()
}

/// One API request, with what the handlers read from it.
pub struct Call<'a> {
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    body: &'a Bytes,
}

impl Call<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `http://host:port`, from the `Host` header as Symfony builds it.
    fn origin(&self) -> String {
        format!("http://{}", self.header("host").unwrap_or("localhost"))
    }

    fn api_base(&self) -> String {
        format!("{}/api", self.origin())
    }

    fn full_uri(&self) -> String {
        format!("{}{}", self.origin(), self.uri)
    }

    fn version(&self) -> String {
        self.header("sw-version-id")
            .filter(|v| ids::is_valid(v))
            .unwrap_or(LIVE_VERSION)
            .to_string()
    }

    fn language(&self, store: &Store) -> Result<String, ApiError> {
        let Some(language) = self.header("sw-language-id") else {
            return Ok(SYSTEM_LANGUAGE.to_string());
        };
        if store.live("language", language).is_none() {
            return Err(ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "FRAMEWORK__LANGUAGE_NOT_FOUND",
                format!("The language \"{language}\" was not found."),
            )
            .params(json!({"languageId": language})));
        }
        Ok(language.to_string())
    }

    /// A reader of `store` as this request asks: its version, language and inheritance.
    fn reader<'s>(&self, store: &'s Store) -> Result<Reader<'s>, ApiError> {
        Ok(Reader::new(
            store,
            &self.version(),
            &self.language(store)?,
            self.inheritance(),
        ))
    }

    fn inheritance(&self) -> bool {
        matches!(self.header("sw-inheritance"), Some("1" | "true"))
    }

    fn format(&self) -> Result<Format, ApiError> {
        negotiate(self.header("accept"))
    }

    fn query(&self) -> Option<&str> {
        self.uri.query()
    }

    fn query_pairs(&self) -> Vec<(String, String)> {
        self.query()
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_string(), v.to_string())
            })
            .collect()
    }

    fn wants_entity_back(&self) -> bool {
        self.query_pairs().iter().any(|(k, _)| k == "_response")
    }

    /// The JSON body; an empty body is null.
    pub fn json(&self) -> Result<Value, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(self.body).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "0",
                "The JSON payload is malformed.",
            )
        })
    }

    /// A request header.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.header(name)
    }

    /// The version the request reads and writes (`sw-version-id`).
    pub fn version_id(&self) -> String {
        self.version()
    }

    /// The language of the request (`sw-language-id`), which must exist.
    pub fn language_id(&self, store: &Store) -> Result<String, ApiError> {
        self.language(store)
    }

    fn no_route(&self) -> ApiError {
        ApiError::no_route(self.method.as_str(), &self.full_uri())
    }
}

async fn api(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = Call {
        method: &method,
        uri: &uri,
        headers: &headers,
        body: &body,
    };
    let Some(rest) = uri.path().strip_prefix("/api/") else {
        return call.no_route().into_response();
    };
    if let Err(denied) = shared.auth.check(&headers) {
        return denied.into_response();
    }
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    match dispatch(&shared, &call, &segments) {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

fn dispatch(shared: &Shared, call: &Call<'_>, segments: &[&str]) -> Result<Response, ApiError> {
    let method = call.method.clone();
    let mut store = shared.store();
    let entity = |name: &str| -> Result<&'static EntityDef, ApiError> {
        let defs: &'static super::definition::Definitions = definitions(shared);
        defs.by_route(name)
            .or_else(|| defs.get(name))
            .ok_or_else(|| call.no_route())
    };
    let id = |id: &str| -> Result<(), ApiError> {
        if ids::is_valid(id) {
            Ok(())
        } else {
            Err(call.no_route())
        }
    };
    match (method, segments) {
        (Method::GET, ["_info", "version"]) => {
            Ok(axum::Json(json!({"version": shared.version.full()})).into_response())
        }
        (Method::POST, ["_action", "sync"]) => {
            sync::handle(&mut store, shared.version, shared.privileges(), call)
        }
        (Method::POST, ["_action", "version", "merge", name, version]) => {
            entity(name)?;
            id(version)?;
            let mut tx = store.begin();
            let changes = orders::merge_version(&mut tx, version);
            index::reindex(&mut tx, &changes);
            tx.commit();
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        (Method::POST, ["_action", "version", name, row]) => {
            let def = entity(name)?;
            id(row)?;
            let body = call.json()?;
            let wanted = body["versionId"]
                .as_str()
                .filter(|v| ids::is_valid(v))
                .map(str::to_string);
            let mut tx = store.begin();
            let version = orders::create_version(&mut tx, def.name, row, wanted)?;
            tx.commit();
            Ok(axum::Json(json!({
                "versionId": version,
                "versionName": body["versionName"].as_str().unwrap_or("draft"),
                "id": row,
                "entity": def.name,
            }))
            .into_response())
        }
        (
            Method::POST,
            [
                "_action",
                machine @ ("order" | "order_transaction" | "order_delivery"),
                row,
                "state",
                action,
            ],
        )
        | (Method::POST, ["_action", "state-machine", machine, row, "state", action]) => {
            id(row)?;
            let machine =
                states::for_entity(&machine.replace('-', "_")).ok_or_else(|| call.no_route())?;
            let state =
                actions::transition(&mut store, machine.entity, row, action, &call.version())?;
            Ok(axum::Json(state).into_response())
        }
        (Method::GET, ["_action", "state-machine", machine, row, "state"]) => {
            id(row)?;
            let machine =
                states::for_entity(&machine.replace('-', "_")).ok_or_else(|| call.no_route())?;
            actions::available_transitions(&store, machine, row, &call.version())
        }
        (Method::POST, ["search", name]) => {
            let def = entity(name)?;
            let body = call.json()?;
            search(&store, shared, call, def, &body, false)
        }
        (Method::POST, ["search-ids", name]) => {
            let def = entity(name)?;
            let body = call.json()?;
            search(&store, shared, call, def, &body, true)
        }
        (Method::GET, [name]) => {
            let def = entity(name)?;
            let body = query_to_json(call.query().unwrap_or_default());
            search(&store, shared, call, def, &body, false)
        }
        (Method::GET, [name, row]) => {
            let def = entity(name)?;
            id(row)?;
            detail(&store, shared, call, def, row, StatusCode::OK)
        }
        (Method::POST, [name]) => {
            let def = entity(name)?;
            let body = call.json()?;
            if body.is_array() {
                return Err(ApiError::invalid_body(
                    "Only single write operations are supported. Please send the entities one by one or use the /sync api endpoint.",
                ));
            }
            let key = write(&mut store, shared, call, def, &body, Mode::Create)?;
            written(&store, shared, call, def, &key)
        }
        (Method::PATCH, [name, row]) => {
            let def = entity(name)?;
            id(row)?;
            let mut body = call.json()?;
            if let Value::Object(object) = &mut body {
                object.insert("id".into(), json!(row));
            } else {
                return Err(ApiError::invalid_body(
                    "The request body must be a JSON object.",
                ));
            }
            write(&mut store, shared, call, def, &body, Mode::Update)?;
            written(&store, shared, call, def, row)
        }
        (Method::DELETE, [name, row]) => {
            let def = entity(name)?;
            id(row)?;
            let version = call.version();
            let language = call.language(&store)?;
            let mut tx = store.begin();
            let mut writer =
                Writer::new(&mut tx, &version, &language).with_privileges(shared.privileges());
            if !writer.delete(def.name, row) {
                return Err(ApiError::not_found(def.name, row));
            }
            let changes = writer.finish().map_err(write_error)?;
            index::reindex(&mut tx, &changes);
            tx.commit();
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        (Method::POST, [name, row]) if entity(name).is_ok() && ids::is_valid(row) => {
            Err(ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "0",
                format!(
                    "No route found for \"POST {}\": Method Not Allowed (Allow: GET, PATCH, DELETE)",
                    call.full_uri()
                ),
            ))
        }
        (Method::GET, [name, row, association]) => {
            let def = entity(name)?;
            id(row)?;
            nested_list(&store, shared, call, def, row, association)
        }
        _ => Err(call.no_route()),
    }
}

/// The definitions of the version served, built once per process, so that handlers can hold
/// them while they lock the store.
fn definitions(shared: &Shared) -> &'static super::definition::Definitions {
    use std::sync::OnceLock;
    static DEFS: [OnceLock<super::definition::Definitions>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = match shared.version {
        super::ApiVersion::V6_4 => 0,
        super::ApiVersion::V6_6 => 1,
        super::ApiVersion::V6_7 => 2,
    };
    DEFS[slot].get_or_init(|| super::definition::Definitions::new(shared.version))
}

fn limits(store: &Store) -> Limits {
    Limits {
        max: store.version.max_limit(),
    }
}

fn search(
    store: &Store,
    shared: &Shared,
    call: &Call<'_>,
    def: &EntityDef,
    body: &Value,
    ids_only: bool,
) -> Result<Response, ApiError> {
    let format = if ids_only {
        Format::Json
    } else {
        call.format()?
    };
    let criteria = criteria::parse(body, &store.defs, def, limits(store))?;
    acl::check_read(shared, &store.defs, def, &criteria)?;
    let reader = call.reader(store)?;
    let found = reader.search(def, &criteria);
    if ids_only {
        let ids: Vec<Value> = found
            .rows
            .iter()
            .map(|r| match def.mapping_key {
                Some([a, b]) => json!({ a: r.get(a), b: r.get(b) }),
                None => json!(r.id()),
            })
            .collect();
        return Ok(axum::Json(json!({"total": found.total, "data": ids})).into_response());
    }
    let nodes: Vec<Node<'_>> = found
        .rows
        .iter()
        .map(|r| reader.load(def, r, &criteria))
        .collect();
    let aggregations = if found.aggregations.is_empty() {
        json!([])
    } else {
        Value::Object(found.aggregations)
    };
    let encoder = Encoder::new(&reader, criteria.includes.as_ref(), &call.api_base());
    let body = match format {
        Format::Json => json!({
            "total": found.total,
            "data": nodes.iter().map(|n| encoder.json(n)).collect::<Vec<_>>(),
            "aggregations": aggregations,
        }),
        Format::JsonApi => {
            let (data, included) = encoder.json_api(&nodes);
            let uri = format!("{}{}", call.origin(), call.uri.path());
            let mut links = pagination_links(
                &uri,
                &call.query_pairs(),
                criteria.limit,
                criteria.page,
                found.total,
            );
            links.insert("self".into(), json!(call.full_uri()));
            json!({
                "data": data,
                "included": included,
                "links": links,
                "meta": {"totalCountMode": criteria.total_count_mode, "total": found.total},
                "aggregations": aggregations,
            })
        }
    };
    Ok(respond(format, StatusCode::OK, &body))
}

fn respond(format: Format, status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    response
}

fn detail(
    store: &Store,
    shared: &Shared,
    call: &Call<'_>,
    def: &EntityDef,
    id: &str,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let format = call.format()?;
    let body = query_to_json(call.query().unwrap_or_default());
    let criteria = criteria::parse(&body, &store.defs, def, Limits { max: None })?;
    acl::check_read(shared, &store.defs, def, &criteria)?;
    let reader = call.reader(store)?;
    let row = reader
        .get(def.name, id)
        .ok_or_else(|| ApiError::not_found(def.name, id))?;
    let node = reader.load(reader.def(def.name), row, &criteria);
    let encoder = Encoder::new(&reader, criteria.includes.as_ref(), &call.api_base());
    let body = match format {
        Format::Json => json!({"data": encoder.json(&node)}),
        Format::JsonApi => {
            let (mut data, included) = encoder.json_api(std::slice::from_ref(&node));
            json!({"data": data.remove(0), "included": included, "links": {"self": call.full_uri()}})
        }
    };
    Ok(respond(format, status, &body))
}

fn nested_list(
    store: &Store,
    shared: &Shared,
    call: &Call<'_>,
    def: &EntityDef,
    id: &str,
    association: &str,
) -> Result<Response, ApiError> {
    let Some(association) = def
        .associations
        .iter()
        .find(|a| kebab(a.name) == association)
    else {
        return Err(call.no_route());
    };
    let reader = call.reader(store)?;
    let row = reader
        .get(def.name, id)
        .ok_or_else(|| ApiError::not_found(def.name, id))?;
    let ids: Vec<Value> = reader
        .related(def, row, association)
        .iter()
        .map(|r| json!(r.id()))
        .collect();
    let target = reader.def(association.entity);
    let mut body = query_to_json(call.query().unwrap_or_default());
    body["ids"] = Value::Array(ids);
    search(store, shared, call, target, &body, false)
}

/// Writes one payload in its own transaction: the violations, or the key written.
fn write(
    store: &mut Store,
    shared: &Shared,
    call: &Call<'_>,
    def: &EntityDef,
    body: &Value,
    mode: Mode,
) -> Result<String, ApiError> {
    let version = call.version();
    let language = call.language(store)?;
    let mut tx = store.begin();
    let mut writer = Writer::new(&mut tx, &version, &language).with_privileges(shared.privileges());
    let key = writer.write(def.name, body, mode, "/0");
    let changes = writer.finish().map_err(write_error)?;
    index::reindex(&mut tx, &changes);
    tx.commit();
    Ok(key.unwrap_or_default())
}

/// The answer to a failed write. A dangling foreign key is refused by the database: a 500 with
/// the SQL error, in a sync too (no pointer). Up to 6.4.9 a 6.4 sync could not encode that
/// message and said only "Malformed UTF-8 characters" (issue #6119); SW@v6.4.20.2
/// `SyncController::createResponse` and every `ErrorResponseFactory` since 6.2 substitute the
/// bytes instead, so the versions simulated show the SQL error.
pub fn write_error(error: WriteError) -> ApiError {
    match error {
        WriteError::Invalid(errors) => ApiError::bad_request(errors),
        WriteError::Other(error) => error,
        WriteError::Dangling(DanglingKey {
            entity,
            field,
            target,
        }) => {
            let column = snake(field);
            ApiError::internal(format!(
                "An exception occurred while executing a query: SQLSTATE[23000]: Integrity constraint violation: 1452 Cannot add or update a child row: a foreign key constraint fails (`shopware`.`{entity}`, CONSTRAINT `fk.{entity}.{column}` FOREIGN KEY (`{column}`) REFERENCES `{target}` (`id`) ON DELETE RESTRICT ON UPDATE CASCADE)"
            ))
        }
    }
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// 204 with `Location`, or with `?_response` the entity itself.
fn written(
    store: &Store,
    shared: &Shared,
    call: &Call<'_>,
    def: &EntityDef,
    key: &str,
) -> Result<Response, ApiError> {
    let location = format!("{}/{}/{}", call.api_base(), kebab(def.name), key);
    let mut response = if call.wants_entity_back() {
        detail(store, shared, call, def, key, StatusCode::OK)?
    } else {
        StatusCode::NO_CONTENT.into_response()
    };
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}
