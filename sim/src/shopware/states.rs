//! The three order state machines with Shopware's states and transitions (order, payment,
//! delivery), and running a transition the way `StateMachineRegistry::transition` does.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::error::ApiError;
use super::ids;
use super::store::{Row, Tx, format_time};

/// A state machine: its states (technical name, English name) and transitions
/// (action, from, to).
#[derive(Debug)]
pub struct Machine {
    /// `order.state`, `order_transaction.state`, `order_delivery.state`.
    pub name: &'static str,
    /// The English name.
    pub label: &'static str,
    /// The entity whose `stateId` it drives.
    pub entity: &'static str,
    /// The state new rows start in.
    pub initial: &'static str,
    /// (technical name, name).
    pub states: &'static [(&'static str, &'static str)],
    /// (action, from, to).
    pub transitions: &'static [(&'static str, &'static str, &'static str)],
}

/// The order states.
pub const ORDER: Machine = Machine {
    name: "order.state",
    label: "Order state",
    entity: "order",
    initial: "open",
    states: &[
        ("open", "Open"),
        ("in_progress", "In Progress"),
        ("completed", "Done"),
        ("cancelled", "Cancelled"),
    ],
    transitions: &[
        ("process", "open", "in_progress"),
        ("cancel", "open", "cancelled"),
        ("cancel", "in_progress", "cancelled"),
        ("complete", "in_progress", "completed"),
        ("reopen", "cancelled", "open"),
        ("reopen", "completed", "open"),
    ],
};

/// The payment states of order transactions.
pub const TRANSACTION: Machine = Machine {
    name: "order_transaction.state",
    label: "Payment state",
    entity: "order_transaction",
    initial: "open",
    states: &[
        ("open", "Open"),
        ("paid", "Paid"),
        ("paid_partially", "Paid partially"),
        ("cancelled", "Cancelled"),
        ("reminded", "Reminded"),
        ("refunded", "Refunded"),
        ("refunded_partially", "Refunded partially"),
        ("in_progress", "In Progress"),
        ("failed", "Failed"),
        ("authorized", "Authorized"),
        ("chargeback", "Chargeback"),
        ("unconfirmed", "Unconfirmed"),
    ],
    transitions: &[
        ("pay", "open", "paid"),
        ("pay_partially", "open", "paid_partially"),
        ("cancel", "open", "cancelled"),
        ("remind", "open", "reminded"),
        ("pay", "reminded", "paid"),
        ("pay_partially", "reminded", "paid_partially"),
        ("cancel", "reminded", "cancelled"),
        ("remind", "paid_partially", "reminded"),
        ("pay", "paid_partially", "paid"),
        ("refund_partially", "paid_partially", "refunded_partially"),
        ("refund", "paid_partially", "refunded"),
        ("cancel", "paid_partially", "cancelled"),
        ("refund_partially", "paid", "refunded_partially"),
        ("refund", "paid", "refunded"),
        ("cancel", "paid", "cancelled"),
        ("refund", "refunded_partially", "refunded"),
        ("cancel", "refunded_partially", "cancelled"),
        ("reopen", "cancelled", "open"),
        ("refund", "cancelled", "refunded"),
        ("refund_partially", "cancelled", "refunded_partially"),
        ("reopen", "in_progress", "open"),
        ("fail", "in_progress", "failed"),
        ("cancel", "in_progress", "cancelled"),
        ("paid", "in_progress", "paid"),
        ("paid_partially", "in_progress", "paid_partially"),
        ("pay_partially", "in_progress", "paid_partially"),
        ("reopen", "failed", "open"),
        ("do_pay", "failed", "in_progress"),
        ("pay", "failed", "paid"),
        ("fail", "failed", "failed"),
        ("paid", "failed", "paid"),
        ("paid_partially", "failed", "paid_partially"),
        ("pay_partially", "failed", "paid_partially"),
        ("do_pay", "open", "in_progress"),
        ("fail", "open", "failed"),
        ("reopen", "reminded", "open"),
        ("do_pay", "reminded", "in_progress"),
        ("reopen", "paid_partially", "open"),
        ("do_pay", "paid_partially", "in_progress"),
        ("reopen", "paid", "open"),
        ("reopen", "refunded_partially", "open"),
        ("paid", "open", "paid"),
        ("paid_partially", "open", "paid_partially"),
        ("authorize", "in_progress", "authorized"),
        ("authorize", "open", "authorized"),
        ("authorize", "reminded", "authorized"),
        ("paid", "authorized", "paid"),
        ("paid_partially", "authorized", "paid_partially"),
        ("fail", "authorized", "failed"),
        ("cancel", "authorized", "cancelled"),
        ("chargeback", "paid", "chargeback"),
        ("chargeback", "paid_partially", "chargeback"),
        ("paid", "chargeback", "paid"),
        ("paid_partially", "chargeback", "paid_partially"),
        ("cancel", "chargeback", "cancelled"),
        ("paid", "cancelled", "paid"),
        ("process_unconfirmed", "open", "unconfirmed"),
        ("process_unconfirmed", "reminded", "unconfirmed"),
        ("process_unconfirmed", "failed", "unconfirmed"),
        ("process_unconfirmed", "cancelled", "unconfirmed"),
        ("process_unconfirmed", "paid_partially", "unconfirmed"),
        ("paid", "unconfirmed", "paid"),
        ("paid_partially", "unconfirmed", "paid_partially"),
        ("fail", "unconfirmed", "failed"),
        ("cancel", "unconfirmed", "cancelled"),
        ("authorize", "unconfirmed", "authorized"),
        ("reopen", "unconfirmed", "open"),
    ],
};

/// The delivery states of order deliveries.
pub const DELIVERY: Machine = Machine {
    name: "order_delivery.state",
    label: "Delivery state",
    entity: "order_delivery",
    initial: "open",
    states: &[
        ("open", "Open"),
        ("cancelled", "Cancelled"),
        ("shipped", "Shipped"),
        ("shipped_partially", "Shipped partially"),
        ("returned", "Returned"),
        ("returned_partially", "Returned partially"),
    ],
    transitions: &[
        ("ship", "open", "shipped"),
        ("ship_partially", "open", "shipped_partially"),
        ("cancel", "open", "cancelled"),
        ("retour", "shipped", "returned"),
        ("retour_partially", "shipped", "returned_partially"),
        ("cancel", "shipped", "cancelled"),
        ("retour", "shipped_partially", "returned"),
        (
            "retour_partially",
            "shipped_partially",
            "returned_partially",
        ),
        ("ship", "shipped_partially", "shipped"),
        ("cancel", "shipped_partially", "cancelled"),
        ("reopen", "cancelled", "open"),
        ("reopen", "shipped", "open"),
        ("reopen", "shipped_partially", "open"),
        ("reopen", "returned", "open"),
        ("reopen", "returned_partially", "open"),
        ("retour", "returned_partially", "returned"),
    ],
};

/// All machines.
pub const MACHINES: [&Machine; 3] = [&ORDER, &TRANSACTION, &DELIVERY];

/// The machine driving `entity`'s state.
pub fn for_entity(entity: &str) -> Option<&'static Machine> {
    MACHINES.into_iter().find(|m| m.entity == entity)
}

/// The id of a state machine.
pub fn machine_id(machine: &Machine) -> String {
    ids::stable("state_machine", machine.name)
}

/// The id of a state.
pub fn state_id(machine: &Machine, technical: &str) -> String {
    ids::stable(
        "state_machine_state",
        &format!("{}/{technical}", machine.name),
    )
}

/// The technical name of the state with this id.
pub fn technical_name(machine: &Machine, id: &str) -> Option<&'static str> {
    machine
        .states
        .iter()
        .map(|(name, _)| *name)
        .find(|name| state_id(machine, name) == id)
}

/// The action names possible from `state`, sorted, as the error message lists them.
pub fn possible(machine: &Machine, state: &str) -> Vec<&'static str> {
    let mut actions: Vec<&'static str> = machine
        .transitions
        .iter()
        .filter(|(_, from, _)| *from == state)
        .map(|(action, _, _)| *action)
        .collect();
    actions.sort_unstable();
    actions.dedup();
    actions
}

/// Moves the row of `machine.entity` with `id` along `action`; returns the row after the move.
pub fn transition(
    tx: &mut Tx<'_>,
    machine: &Machine,
    id: &str,
    action: &str,
    version: &str,
) -> Result<Row, ApiError> {
    let Some(mut row) = tx.get(machine.entity, id, version).cloned() else {
        return Err(ApiError::not_found(machine.entity, id));
    };
    let current_id = row.str("stateId").unwrap_or_default().to_string();
    let current = technical_name(machine, &current_id).unwrap_or_default();
    let Some((_, _, to)) = machine
        .transitions
        .iter()
        .find(|(a, from, _)| *a == action && *from == current)
    else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "SYSTEM__ILLEGAL_STATE_TRANSITION",
            format!(
                "Illegal transition \"{action}\" from state \"{current_id}\". Possible transitions are: {}",
                possible(machine, current).join(", ")
            ),
        )
        .params(json!({
            "transition": action,
            "fromState": current_id,
            "possibleTransitions": possible(machine, current),
        })));
    };
    row.data
        .insert("stateId".into(), json!(state_id(machine, to)));
    row.data
        .insert("updatedAt".into(), json!(format_time(tx.clock.now())));
    tx.put(machine.entity, version, row.clone());
    Ok(row)
}

/// The rows of the state machines and their states, for seeding.
pub fn rows(now: &str) -> Vec<(&'static str, Row)> {
    let mut rows = Vec::new();
    for machine in MACHINES {
        let mut data = json!({
            "id": machine_id(machine),
            "technicalName": machine.name,
            "initialStateId": state_id(machine, machine.initial),
            "createdAt": now,
        });
        rows.push(("state_machine", translated(&mut data, machine.label)));
        for (technical, name) in machine.states {
            let mut data = json!({
                "id": state_id(machine, technical),
                "technicalName": technical,
                "stateMachineId": machine_id(machine),
                "createdAt": now,
            });
            rows.push(("state_machine_state", translated(&mut data, name)));
        }
    }
    rows
}

fn translated(data: &mut Value, name: &str) -> Row {
    let mut row = Row::new(data.as_object().cloned().unwrap_or_default());
    row.translations.insert(
        ids::SYSTEM_LANGUAGE.into(),
        json!({"name": name})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    );
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_transition_connects_known_states() {
        for machine in MACHINES {
            let known = |s: &str| machine.states.iter().any(|(t, _)| *t == s);
            assert!(known(machine.initial));
            for (action, from, to) in machine.transitions {
                assert!(known(from) && known(to), "{}: {action}", machine.name);
            }
        }
    }

    #[test]
    fn possible_transitions_are_listed_sorted() {
        assert_eq!(possible(&ORDER, "open"), vec!["cancel", "process"]);
        assert_eq!(possible(&ORDER, "completed"), vec!["reopen"]);
    }
}
