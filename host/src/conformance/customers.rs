//! Customers: one written is found again by its e-mail address, in any case, from the target
//! alone (a fresh instance with empty storage), and written again with its id it is updated,
//! never duplicated: the host matches customers across systems by e-mail and relies on both.

use chrono::Utc;
use serde_json::json;

use super::{Harness, Row};
use crate::runtime::CallError;
use crate::runtime::bindings::exports::tillbridge::plugin as guest;
use crate::runtime::bindings::tillbridge::plugin::types;

const CHECK: &str = "a customer written is found by e-mail, once";
const CAPABILITY: &str = "customers";

/// The suite's customer, with `email`.
pub(super) fn customer(email: &str, last_name: &str) -> types::Customer {
    serde_json::from_value(json!({
        "email": email,
        "person": { "first_name": "Conny", "last_name": last_name },
        "custom_fields": []
    }))
    .expect("the suite's customer fits the contract")
}

/// Writes one customer in a fresh instance; its id, or why not.
pub(super) async fn write(
    harness: &Harness,
    write: guest::customers::CustomerWrite,
) -> Result<String, String> {
    let email = write.customer.email.clone();
    let mut session = harness.session().await.map_err(|e| e.to_string())?;
    let results = session
        .write_customers(std::slice::from_ref(&write))
        .await
        .map_err(|e| format!("writing {email}: {e}"))?;
    match results
        .into_iter()
        .find(|r| r.key == email)
        .map(|r| r.outcome)
    {
        Some(Ok(written)) => Ok(written.id),
        Some(Err(e)) => Err(format!("writing {email}: {}", CallError::Plugin(e))),
        None => Err(format!("writing {email}: no result keyed by the address")),
    }
}

/// The ids a fresh instance finds for `email`.
async fn find(harness: &Harness, email: &str) -> Result<Vec<String>, String> {
    let mut session = harness.session().await.map_err(|e| e.to_string())?;
    let found = session
        .find_customers(&[email.to_string()])
        .await
        .map_err(|e| format!("finding {email}: {e}"))?;
    Ok(found.into_iter().map(|r| r.id).collect())
}

async fn check(harness: &Harness) -> Result<String, String> {
    let email = format!("conformance-{}@example.com", Utc::now().timestamp_millis());
    let id = write(
        harness,
        guest::customers::CustomerWrite {
            customer: customer(&email, "Formance"),
            target_id: None,
        },
    )
    .await?;
    let asked = email.to_uppercase();
    let found = find(harness, &asked).await?;
    if found != [id.clone()] {
        return Err(format!(
            "wrote {email} as {id}; a fresh instance asking for {asked} found {found:?}"
        ));
    }
    let again = write(
        harness,
        guest::customers::CustomerWrite {
            customer: customer(&email, "Formance-Jansen"),
            target_id: Some(id.clone()),
        },
    )
    .await?;
    let found = find(harness, &email).await?;
    if again != id || found != [id.clone()] {
        return Err(format!(
            "written again with its id {id}, the customer is {again}, and {email} finds {found:?}"
        ));
    }
    Ok(format!(
        "{email} written as {id}, found as {asked}, updated in place"
    ))
}

/// The check, when the plugin has customers.
pub async fn run(harness: &Harness) -> Vec<Row> {
    if !harness.has(crate::runtime::Capability::Customers) {
        return Vec::new();
    }
    vec![match check(harness).await {
        Ok(reason) => Row::pass(CHECK, CAPABILITY, reason),
        Err(reason) => Row::fail(CHECK, CAPABILITY, reason),
    }]
}
