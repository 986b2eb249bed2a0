//! Actions beside the entity routes: state transitions and the transitions a state allows,
//! and what the shop does on its own for the test helpers (writing, looking rows up).

use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::criteria::Criteria;
use super::encode::Encoder;
use super::error::ApiError;
use super::ids::{LIVE_VERSION, SYSTEM_LANGUAGE};
use super::routes::write_error;
use super::search::Reader;
use super::store::Store;
use super::write::{Changes, Mode, Writer};
use super::{index, states};

/// Writes a payload as the shop itself would (live, system language): for test helpers.
pub fn write_one(store: &mut Store, entity: &str, body: Value) -> Result<(), ApiError> {
    let mut tx = store.begin();
    let mut writer = Writer::new(&mut tx, LIVE_VERSION, SYSTEM_LANGUAGE);
    writer.write(entity, &body, Mode::Upsert, "/0");
    let changes = writer.finish().map_err(write_error)?;
    index::reindex(&mut tx, &changes);
    tx.commit();
    Ok(())
}

fn state_json(store: &Store, state_id: &str) -> Value {
    let reader = Reader::new(store, LIVE_VERSION, SYSTEM_LANGUAGE, false);
    let def = reader.def("state_machine_state");
    match reader.get("state_machine_state", state_id) {
        Some(row) => {
            let node = reader.load(def, row, &Criteria::default());
            let mut value = Encoder::new(&reader, None, "").json(&node);
            if let Value::Object(map) = &mut value {
                map.remove("apiAlias");
            }
            value
        }
        None => Value::Null,
    }
}

pub fn transition(
    store: &mut Store,
    entity: &str,
    id: &str,
    action: &str,
    version: &str,
) -> Result<Value, ApiError> {
    let machine = states::for_entity(entity).ok_or_else(|| ApiError::unknown_entity(entity))?;
    let mut tx = store.begin();
    let row = states::transition(&mut tx, machine, id, action, version)?;
    let order = if entity == "order" {
        row.id()
    } else {
        row.str("orderId").unwrap_or_default()
    };
    if version == LIVE_VERSION {
        let changes = Changes {
            orders: [order.to_string()].into(),
            ..Changes::default()
        };
        index::reindex(&mut tx, &changes);
    }
    tx.commit();
    Ok(state_json(store, row.str("stateId").unwrap_or_default()))
}

/// A transition run by the shop itself; returns the new state's technical name.
pub fn run_transition(
    store: &mut Store,
    entity: &str,
    id: &str,
    action: &str,
) -> Result<String, ApiError> {
    let state = transition(store, entity, id, action, LIVE_VERSION)?;
    Ok(state["technicalName"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

pub fn available_transitions(
    store: &Store,
    machine: &states::Machine,
    id: &str,
    version: &str,
) -> Result<Response, ApiError> {
    let row = store
        .get(machine.entity, id, version)
        .ok_or_else(|| ApiError::not_found(machine.entity, id))?;
    let state_id = row.str("stateId").unwrap_or_default();
    let current = states::technical_name(machine, state_id).unwrap_or_default();
    let name = |technical: &str| {
        machine
            .states
            .iter()
            .find(|(t, _)| *t == technical)
            .map(|(_, n)| *n)
            .unwrap_or_default()
    };
    let transitions: Vec<Value> = machine
        .transitions
        .iter()
        .filter(|(_, from, _)| *from == current)
        .map(|(action, from, to)| {
            json!({
                "name": name(to), "technicalName": to, "actionName": action,
                "fromStateName": from, "toStateName": to,
                "url": format!("/_action/state-machine/{}/{id}/state/{action}", machine.entity),
            })
        })
        .collect();
    Ok(
        axum::Json(
            json!({"currentState": state_json(store, state_id), "transitions": transitions}),
        )
        .into_response(),
    )
}

/// A row found by a field value, as plain JSON with its to-many associations loaded.
pub fn find_by(store: &Store, entity: &str, field: &str, value: &str) -> Option<Value> {
    let reader = Reader::new(store, LIVE_VERSION, SYSTEM_LANGUAGE, false);
    let def = reader.def(entity);
    let row = store
        .rows(entity, LIVE_VERSION)
        .into_iter()
        .find(|r| r.str(field) == Some(value))?;
    let mut criteria = Criteria::default();
    for association in def
        .associations
        .iter()
        .filter(|a| a.is_to_many() || a.name == "orderCustomer")
    {
        criteria
            .associations
            .insert(association.name.to_string(), Criteria::default());
    }
    let node = reader.load(def, row, &criteria);
    Some(Encoder::new(&reader, None, "").json(&node))
}
