//! `ordernotes`: notes on an order for the merchant's staff, as CCV documents them (JDK
//! `Endpoints/OrdernotesEndpoint.php`): `GET /orders/:id/ordernotes` ("Get all notes of this
//! order"), `POST /orders/:id/ordernotes` ("Creates an internal note on one order", input
//! `{note}`, JDK `Internal/Resource/Ordernotes/Post/Post.php`), `GET /ordernotes/:id` and
//! `DELETE /ordernotes/:id`. A note reads as `id`, `note`, `type` ("External notes are visible for
//! customers too"), `create_date` and its parent order (JDK `Resource/Ordernotes/Ordernotes.php`).
//! A posted note is `internal`; nothing in the API makes an external one (GUESS at the strings).

use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::format_x_date;
use super::collection::{SortField, list as list_page};
use super::error::CcvError;
use super::http::{ApiRequest, Reply};
use super::model::{OrderNote, Store};

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct NoteInput {
    note: Option<String>,
}

const SORT_FIELDS: &[SortField<OrderNote>] = &[("id", |a, b| a.id.cmp(&b.id))];

fn order_exists(store: &Store, order_id: u64) -> Result<(), CcvError> {
    store
        .orders
        .contains_key(&order_id)
        .then_some(())
        .ok_or_else(|| CcvError::not_found("order", order_id))
}

/// `GET /orders/:id/ordernotes`.
pub fn list(store: &Store, request: &ApiRequest, order_id: u64) -> Result<Reply, CcvError> {
    order_exists(store, order_id)?;
    let items = store
        .order_notes
        .values()
        .filter(|n| n.order_id == order_id)
        .collect();
    list_page(request, items, SORT_FIELDS, |n| render(request, n))
}

/// `POST /orders/:id/ordernotes`: an internal note. GUESS: a note without text is refused (the
/// generated schema marks `note` nullable, which says nothing about an empty note's use).
pub fn create(store: &mut Store, request: &ApiRequest, order_id: u64) -> Result<Reply, CcvError> {
    let input: NoteInput = request.input()?;
    order_exists(store, order_id)?;
    let note = input
        .note
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| CcvError::invalid("note is required."))?;
    let id = store.new_id();
    let note = OrderNote {
        id,
        order_id,
        note,
        kind: "internal".into(),
        create_date: request.now,
    };
    let body = render(request, &note);
    store.order_notes.insert(id, note);
    Ok(Reply::Created(body))
}

pub fn get(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let note = store
        .order_notes
        .get(&id)
        .ok_or_else(|| CcvError::not_found("ordernote", id))?;
    Ok(Reply::Ok(render(request, note)))
}

pub fn delete(store: &mut Store, id: u64) -> Result<Reply, CcvError> {
    store
        .order_notes
        .remove(&id)
        .ok_or_else(|| CcvError::not_found("ordernote", id))?;
    Ok(Reply::NoContent)
}

fn render(request: &ApiRequest, n: &OrderNote) -> Value {
    json!({
        "href": request.href(&format!("ordernotes/{}", n.id)),
        "id": n.id,
        "note": n.note,
        "type": n.kind,
        "create_date": format_x_date(n.create_date),
        "parent": { "href": request.href(&format!("orders/{}", n.order_id)) },
    })
}
