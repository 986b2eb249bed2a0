//! What the set-up wizard offers the merchant from the shop: its payment methods, by the name
//! orders carry (the key of a flow's payment method map), and the states of its order and
//! payment state machines, by technical name (what a flow's statuses hold).

use serde_json::{Value, json};
use tillbridge_sdk::types::PluginError;

use crate::client::Client;
use crate::criteria::equals;
use crate::exports::tillbridge::plugin::connector::{Choice, ChoiceList};
use crate::order_model::name;

/// The choices of one list.
pub fn list(client: &mut Client, list: ChoiceList) -> Result<Vec<Choice>, PluginError> {
    match list {
        ChoiceList::PaymentMethods => payment_methods(client),
        // The technical names of Shopware's state machines (StateMachineDefinition rows seeded by
        // its migrations: `order.state`, `order_transaction.state`).
        ChoiceList::OrderStates => states(client, "order.state"),
        ChoiceList::PaymentStates => states(client, "order_transaction.state"),
    }
}

fn payment_methods(client: &mut Client) -> Result<Vec<Choice>, PluginError> {
    let rows = client.search_all(
        "payment_method",
        json!({
            "sort": [{"field": "position", "order": "ASC"}],
            "includes": {"payment_method": ["name", "translated", "active"]},
        }),
    )?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let name = name(row)?;
            let label = if row["active"].as_bool() == Some(false) {
                format!("{name} (inactive)")
            } else {
                name.clone()
            };
            Some(Choice { id: name, label })
        })
        .collect())
}

fn states(client: &mut Client, machine: &str) -> Result<Vec<Choice>, PluginError> {
    let rows = client.search_all(
        "state_machine_state",
        json!({
            "filter": [equals("stateMachine.technicalName", machine)],
            "sort": [{"field": "technicalName", "order": "ASC"}],
            "includes": {"state_machine_state": ["technicalName", "name", "translated"]},
        }),
    )?;
    Ok(rows.iter().filter_map(state).collect())
}

fn state(row: &Value) -> Option<Choice> {
    let id = row["technicalName"].as_str()?.to_string();
    let label = name(row).map_or_else(|| id.clone(), |n| format!("{n} ({id})"));
    Some(Choice { id, label })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_is_chosen_by_its_technical_name_and_shown_by_its_name() {
        let row = json!({"technicalName": "paid", "translated": {"name": "Paid"}});
        let choice = state(&row).unwrap();
        assert_eq!(
            (choice.id.as_str(), choice.label.as_str()),
            ("paid", "Paid (paid)")
        );
        assert!(state(&json!({"name": "no technical name"})).is_none());
    }
}
