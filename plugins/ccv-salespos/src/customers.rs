//! Customers are CCV users, matched by e-mail address.
//!
//! `GET /users` has no e-mail filter (an `email` parameter is ignored), so the connector keeps an
//! index of its own in the host's kv store: e-mail address → user id, built by paging through the
//! users once (⌈users / 250⌉ reads), plus the highest user id it has seen. The index holds no
//! address: each is keyed by its `personal-key` (a keyed hash only the host can make), and an
//! index made under another key (or, by an older connector, with the addresses themselves) is
//! deleted and built again. After that:
//! - an address in the index costs no request;
//! - a batch with an address not in the index costs one read, of the newest users
//!   (`orderby=id_desc`) back to the highest id seen, so that a customer the shop's staff created
//!   since is still found;
//! - every user the connector creates is added to the index.
//!
//! A user's e-mail address is its `userinfo.email`, and its `username` when that looks like one
//! (staff often use the address as the username; the connector does). Where two users share an
//! address, the oldest wins.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use tillbridge_sdk::types::{PluginError, RecordResult, WriteAction, Written};
use tillbridge_sdk::{clock, kv};

use crate::client::PAGE_SIZE;
use crate::errors::Failure;
use crate::exports::tillbridge::plugin::customers::{CustomerRef, CustomerWrite};
use crate::personal::personalinfo;
use crate::results::{Batch, written};
use crate::settings::Ccv;
use crate::signing::derived_secret;
use crate::wire::{Created, Page, User, parse_id};

const INDEX: &str = "users/index";
const EMAIL_PREFIX: &str = "users/email/";

/// The key of an address in the index: its keyed hash, never the address.
fn email_key(email: &str) -> String {
    format!("{EMAIL_PREFIX}{}", kv::personal_key(&normalise(email)))
}

/// What tells an index made under the host's current key: the keyed hash of a fixed text.
fn key_check() -> String {
    kv::personal_key(INDEX)
}

/// Addresses match case-insensitively, without surrounding blanks.
pub fn normalise(email: &str) -> String {
    email.trim().to_lowercase()
}

#[derive(Debug, Serialize, Deserialize)]
struct IndexState {
    /// The highest user id indexed: users above it are new.
    max_id: u64,
    /// [`key_check`] when the index was built; another value (or none) means its keys are
    /// unreadable now.
    #[serde(default)]
    key_check: Option<String>,
}

/// The e-mail index, as one call uses it.
pub struct Index {
    state: Option<IndexState>,
    /// Whether this call already asked CCV for new users (once is enough).
    refreshed: bool,
}

impl Index {
    /// The index as remembered, if it was made under the host's current key.
    pub fn open() -> Index {
        let check = key_check();
        Index {
            state: crate::memory::get_json::<IndexState>(INDEX)
                .filter(|s| s.key_check.as_deref() == Some(check.as_str())),
            refreshed: false,
        }
    }

    /// The user ids of these addresses, asking CCV only when the index is not built yet or an
    /// address is not in it.
    pub fn lookup(&mut self, ccv: &Ccv, emails: &[&str]) -> Result<Vec<Option<u64>>, PluginError> {
        if self.state.is_none() {
            self.build(ccv)?;
        }
        let mut ids = remembered(emails);
        if ids.iter().any(Option::is_none) && !self.refreshed {
            self.refresh(ccv)?;
            ids = remembered(emails);
        }
        Ok(ids)
    }

    /// Pages through every user, oldest first, after forgetting any index there was.
    fn build(&mut self, ccv: &Ccv) -> Result<(), PluginError> {
        let users: Vec<User> = ccv.api.all("users", &[("orderby", "id")])?;
        for stale in kv::keys(EMAIL_PREFIX) {
            kv::delete(&stale);
        }
        let mut entries: HashMap<String, String> = HashMap::new();
        for user in &users {
            for address in addresses_of(user) {
                entries
                    .entry(email_key(&address))
                    .or_insert_with(|| user.id.to_string());
            }
        }
        kv::set_many(&entries.into_iter().collect::<Vec<_>>());
        self.save(users.iter().map(|u| u.id).max().unwrap_or(0));
        // Just read in full: asking again for new users in this call would find none.
        self.refreshed = true;
        tillbridge_sdk::info!("e-mail index built from {} CCV users", users.len());
        Ok(())
    }

    /// Reads the users created since the index last looked, newest first.
    fn refresh(&mut self, ccv: &Ccv) -> Result<(), PluginError> {
        let known = self.state.as_ref().map_or(0, |s| s.max_id);
        let mut newer: Vec<User> = Vec::new();
        loop {
            let page: Page<User> =
                ccv.api
                    .page("users", &[("orderby", "id_desc")], newer.len(), PAGE_SIZE)?;
            let reached_known = page.items.iter().any(|u| u.id <= known);
            let more = page.next.is_some() && !page.items.is_empty();
            newer.extend(page.items.into_iter().filter(|u| u.id > known));
            if reached_known || !more {
                break;
            }
        }
        self.refreshed = true;
        if newer.is_empty() {
            return Ok(());
        }
        // Oldest first, and never over an address already indexed: the oldest user wins.
        newer.reverse();
        let mut entries: Vec<(String, String)> = Vec::new();
        for user in &newer {
            for address in addresses_of(user) {
                let key = email_key(&address);
                if kv::get(&key).is_none() && !entries.iter().any(|(k, _)| *k == key) {
                    entries.push((key, user.id.to_string()));
                }
            }
        }
        kv::set_many(&entries);
        self.save(newer.iter().map(|u| u.id).max().unwrap_or(known).max(known));
        Ok(())
    }

    fn save(&mut self, max_id: u64) {
        let state = IndexState {
            max_id,
            key_check: Some(key_check()),
        };
        crate::memory::set_json(INDEX, &state);
        self.state = Some(state);
    }
}

/// The ids the index holds for these addresses.
fn remembered(emails: &[&str]) -> Vec<Option<u64>> {
    let keys: Vec<String> = emails.iter().map(|e| email_key(e)).collect();
    kv::get_many(&keys)
        .into_iter()
        .map(|id| id.and_then(|id| id.parse().ok()))
        .collect()
}

/// The addresses a user is known by.
fn addresses_of(user: &User) -> Vec<String> {
    let mut addresses = Vec::new();
    if let Some(email) = user.userinfo.email.as_deref().filter(|e| e.contains('@')) {
        addresses.push(normalise(email));
    }
    if user.username.contains('@') && !addresses.contains(&normalise(&user.username)) {
        addresses.push(normalise(&user.username));
    }
    addresses
}

/// `find-customers`: the users with these addresses.
pub fn find(ccv: &Ccv, emails: Vec<String>) -> Result<Vec<CustomerRef>, PluginError> {
    let wanted: Vec<&str> = emails.iter().map(String::as_str).collect();
    let ids = Index::open().lookup(ccv, &wanted)?;
    Ok(emails
        .into_iter()
        .zip(ids)
        .filter_map(|(email, id)| {
            id.map(|id| CustomerRef {
                email,
                id: id.to_string(),
            })
        })
        .collect())
}

/// `write-customers`: updates the user an address belongs to, or creates one.
pub fn write(ccv: &Ccv, writes: Vec<CustomerWrite>) -> Result<Vec<RecordResult>, PluginError> {
    let mut index = Index::open();
    let unknown: Vec<&str> = writes
        .iter()
        .filter(|w| w.target_id.is_none() && !w.customer.email.trim().is_empty())
        .map(|w| w.customer.email.as_str())
        .collect();
    let found: HashMap<String, u64> = if unknown.is_empty() {
        HashMap::new()
    } else {
        let ids = index.lookup(ccv, &unknown)?;
        unknown
            .iter()
            .zip(ids)
            .filter_map(|(email, id)| Some((normalise(email), id?)))
            .collect()
    };
    let mut batch = Batch::default();
    for w in &writes {
        batch.record(&w.customer.email, || write_one(ccv, &mut index, w, &found));
    }
    Ok(batch.finish())
}

fn write_one(
    ccv: &Ccv,
    index: &mut Index,
    w: &CustomerWrite,
    found: &HashMap<String, u64>,
) -> Result<Written, PluginError> {
    let email = w.customer.email.trim();
    if !email.contains('@') {
        return Err(PluginError::invalid_field(
            format!("{email:?} is not an e-mail address; customers are matched by it"),
            "email",
        ));
    }
    let info = personalinfo(
        &w.customer,
        w.customer.billing_address.as_ref(),
        w.customer.shipping_address.as_ref(),
    );
    let known = match &w.target_id {
        Some(id) => Some(parse_id(id, "customer")?),
        None => found.get(&normalise(email)).copied(),
    };
    if let Some(id) = known {
        match update(ccv, id, &info) {
            Err(failure) if failure.no_such_id() => {
                // Deleted in CCV since: forget it, and create the customer anew.
                kv::delete(&email_key(email));
            }
            other => return other.map_err(PluginError::from),
        }
    }
    let body = json!({
        "username": email,
        "password": derived_secret(ccv.api.keys(), "password", &format!("{email}|{}", clock::now_millis())),
        "userinfo": info,
    });
    match ccv.api.post::<Created>("users", &body) {
        Ok(created) => {
            kv::set_many(&[(email_key(email), created.id.to_string())]);
            Ok(written(created.id, WriteAction::Created))
        }
        Err(failure) if failure.already_exists() => {
            // The username is taken by a user the index does not know yet: find it and update.
            if let Some(id) = index.lookup(ccv, &[email])?.pop().flatten() {
                return update(ccv, id, &info).map_err(PluginError::from);
            }
            Err(PluginError::invalid_field(
                format!(
                    "CCV already has a user named {email:?} whose details hold another e-mail \
                     address; correct that user's e-mail address in CCV, or rename it"
                ),
                "email",
            ))
        }
        Err(failure) => Err(failure.into()),
    }
}

/// `PATCH /users/:id` with the customer's details: absolute values, so the host may resend it.
fn update(ccv: &Ccv, id: u64, info: &serde_json::Value) -> Result<Written, Failure> {
    ccv.api
        .patch(&format!("users/{id}"), &json!({ "userinfo": info }), true)?;
    Ok(written(id, WriteAction::Updated))
}
