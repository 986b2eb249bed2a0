//! What the set-up wizard offers the merchant from the point of sale: its payment methods
//! (`GET /paymethods`, read-only in CCV's API), by the id an order's payment method maps to.

use tillbridge_sdk::types::PluginError;

use crate::exports::tillbridge::plugin::connector::{Choice, ChoiceList};
use crate::settings::Ccv;
use crate::wire::Paymethod;

/// The choices of one list; the states are not the point of sale's to offer, so it has none.
pub fn list(ccv: &Ccv, list: ChoiceList) -> Result<Vec<Choice>, PluginError> {
    if list != ChoiceList::PaymentMethods {
        return Ok(Vec::new());
    }
    let methods: Vec<Paymethod> = ccv.api.all("paymethods", &[])?;
    Ok(methods
        .into_iter()
        .map(|m| Choice {
            id: m.id.to_string(),
            label: m.label,
        })
        .collect())
}
