//! The ledger's HTTP API: bearer auth on every request, a rate limit when one is set, paging by
//! `limit` and `after`, and the endpoints of the README.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Shared;
use super::model::{CustomerInput, FieldError, OrderInput, ProductInput};

/// The page size when a request gives none.
pub const DEFAULT_LIMIT: usize = 25;
/// The largest page.
pub const MAX_LIMIT: usize = 100;

/// An error answer: `{"error": "..."}`.
pub fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// The answer for an injected fault (see `crate::common`): the API's own error shape.
pub fn fault_answer(status: u16, _retry_after: Option<u64>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    error(status, status.canonical_reason().unwrap_or("error"))
}

fn invalid(e: FieldError) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({ "errors": [e] })),
    )
        .into_response()
}

fn not_found(what: &str) -> Response {
    error(StatusCode::NOT_FOUND, &format!("no {what}"))
}

/// Every API route, behind auth, the rate limit and the lost-answer rules.
pub fn api(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/products", get(list_products).post(create_product))
        .route("/products/{id}", patch(update_product))
        .route("/customers", get(list_customers).post(create_customer))
        .route("/customers/{id}", patch(update_customer))
        .route("/orders", get(list_orders).post(create_order))
        .route("/stock", get(list_stock))
        .route("/stock/{sku}", put(set_stock))
        .layer(axum::middleware::from_fn_with_state(shared.clone(), guard))
        .with_state(shared)
}

/// Auth first (`401`), then the rate limit (`429` with `Retry-After`); after the handler, a
/// write that a lost-answer rule hits is kept and answered `500`.
async fn guard(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let expected = format!("Bearer {}", shared.token);
    let authorised = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected);
    if !authorised {
        return error(
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer token (Authorization: Bearer <token>)",
        );
    }
    if let Some(wait) = shared.limiter.as_ref().and_then(|l| l.refuse()) {
        let mut response = error(StatusCode::TOO_MANY_REQUESTS, "rate limit exceeded");
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(wait));
        return response;
    }
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    if response.status().is_success() && shared.take_lost_answer(&method, &path) {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
    }
    response
}

/// `limit`, `after` and the filters of a list endpoint.
#[derive(Debug, Deserialize)]
struct ListQuery {
    limit: Option<String>,
    after: Option<String>,
    sku: Option<String>,
    email: Option<String>,
    reference: Option<String>,
}

/// A page: the items after the cursor, at most `limit`, ordered by their key; `next` is the
/// cursor of the last item when more follow.
fn page<K: Ord + Clone + ToString + std::str::FromStr, T: serde::Serialize>(
    items: &BTreeMap<K, T>,
    query: &ListQuery,
) -> Response {
    let limit = match query.limit.as_deref().map(str::parse::<usize>) {
        None => DEFAULT_LIMIT,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("limit must be a number from 1 to {MAX_LIMIT}"),
            );
        }
    };
    let after = match query.after.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(cursor) => match decode_cursor::<K>(cursor) {
            Some(key) => Some(key),
            None => return error(StatusCode::BAD_REQUEST, "after is not a cursor of this API"),
        },
    };
    let mut rest = items
        .iter()
        .filter(|(k, _)| after.as_ref().is_none_or(|a| *k > a))
        .peekable();
    let mut chosen = Vec::new();
    let mut last = None;
    while chosen.len() < limit {
        let Some((key, item)) = rest.next() else {
            break;
        };
        chosen.push(json!(item));
        last = Some(key.clone());
    }
    let next = match (rest.peek(), last) {
        (Some(_), Some(last)) => Value::String(encode_cursor(&last)),
        _ => Value::Null,
    };
    Json(json!({ "items": chosen, "next": next })).into_response()
}

/// Cursors are opaque to clients: the last key, hex-encoded.
fn encode_cursor<K: ToString>(key: &K) -> String {
    hex::encode(key.to_string())
}

fn decode_cursor<K: std::str::FromStr>(cursor: &str) -> Option<K> {
    let bytes = hex::decode(cursor).ok()?;
    String::from_utf8(bytes).ok()?.parse().ok()
}

/// A comma-separated filter's values.
fn values(list: &str) -> Vec<&str> {
    list.split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

fn filtered(items: Vec<Value>) -> Response {
    Json(json!({ "items": items, "next": null })).into_response()
}

fn id_of(text: &str) -> Option<u64> {
    text.parse().ok()
}

async fn list_products(State(shared): State<Arc<Shared>>, Query(q): Query<ListQuery>) -> Response {
    shared.with_store(|store| match &q.sku {
        Some(skus) => {
            let wanted = values(skus);
            filtered(
                store
                    .products
                    .values()
                    .filter(|p| wanted.contains(&p.sku.as_str()))
                    .map(|p| json!(p))
                    .collect(),
            )
        }
        None => page(&store.products, &q),
    })
}

async fn create_product(
    State(shared): State<Arc<Shared>>,
    Json(input): Json<ProductInput>,
) -> Response {
    let now = shared.clock();
    shared.with_store(|store| match store.create_product(&input, now) {
        Ok(product) => (StatusCode::CREATED, Json(json!(product))).into_response(),
        Err(e) => invalid(e),
    })
}

async fn update_product(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Json(input): Json<ProductInput>,
) -> Response {
    let now = shared.clock();
    shared.with_store(|store| {
        match id_of(&id).and_then(|id| store.update_product(id, &input, now)) {
            None => not_found(&format!("product {id}")),
            Some(Ok(product)) => Json(json!(product)).into_response(),
            Some(Err(e)) => invalid(e),
        }
    })
}

async fn list_customers(State(shared): State<Arc<Shared>>, Query(q): Query<ListQuery>) -> Response {
    shared.with_store(|store| match &q.email {
        Some(emails) => {
            let wanted: Vec<String> = values(emails).iter().map(|e| e.to_lowercase()).collect();
            filtered(
                store
                    .customers
                    .values()
                    .filter(|c| wanted.contains(&c.email.to_lowercase()))
                    .map(|c| json!(c))
                    .collect(),
            )
        }
        None => page(&store.customers, &q),
    })
}

async fn create_customer(
    State(shared): State<Arc<Shared>>,
    Json(input): Json<CustomerInput>,
) -> Response {
    shared.with_store(|store| match store.create_customer(&input) {
        Ok(customer) => (StatusCode::CREATED, Json(json!(customer))).into_response(),
        Err(e) => invalid(e),
    })
}

async fn update_customer(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Json(input): Json<CustomerInput>,
) -> Response {
    shared.with_store(
        |store| match id_of(&id).and_then(|id| store.update_customer(id, &input)) {
            None => not_found(&format!("customer {id}")),
            Some(Ok(customer)) => Json(json!(customer)).into_response(),
            Some(Err(e)) => invalid(e),
        },
    )
}

async fn list_orders(State(shared): State<Arc<Shared>>, Query(q): Query<ListQuery>) -> Response {
    shared.with_store(|store| match &q.reference {
        Some(references) => {
            let wanted = values(references);
            filtered(
                store
                    .orders
                    .values()
                    .filter(|o| wanted.contains(&o.reference.as_str()))
                    .map(|o| json!(o))
                    .collect(),
            )
        }
        None => page(&store.orders, &q),
    })
}

async fn create_order(
    State(shared): State<Arc<Shared>>,
    Json(input): Json<OrderInput>,
) -> Response {
    let now = shared.clock();
    shared.with_store(|store| match store.create_order(&input, now) {
        Ok(order) => (StatusCode::CREATED, Json(json!(order))).into_response(),
        Err(e) => invalid(e),
    })
}

async fn list_stock(State(shared): State<Arc<Shared>>, Query(q): Query<ListQuery>) -> Response {
    shared.with_store(|store| page(&store.stock, &q))
}

#[derive(Debug, Deserialize)]
struct StockInput {
    on_hand: i64,
}

async fn set_stock(
    State(shared): State<Arc<Shared>>,
    Path(sku): Path<String>,
    Json(input): Json<StockInput>,
) -> Response {
    shared.with_store(|store| match store.set_on_hand(&sku, input.on_hand) {
        Some(stock) => Json(json!(stock)).into_response(),
        None => not_found(&format!("product with sku {sku}")),
    })
}
