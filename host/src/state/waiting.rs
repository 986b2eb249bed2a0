//! What the merchant does about a record that waits (parked or failed): send it again, or give
//! up on it. The command line and the dashboard both come here.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use chrono::Utc;

use super::{Link, Pending, PendingState, State, link_key};

impl State {
    /// Asks for a waiting record to be sent again on its flow's next run.
    pub fn retry(&self, flow: &str, key: &str) -> Result<Pending> {
        self.write(|w| {
            let Some(mut pending) = w.pending_one(flow, key)? else {
                bail!(
                    "{flow}/{key} is not waiting (only failed and parked records can be retried)"
                );
            };
            pending.state = PendingState::Retry;
            pending.not_before = None;
            w.put_pending(&pending)?;
            Ok(pending)
        })
    }

    /// Gives up on a waiting order of a flow from `source` to `target`: it is never sent, also
    /// not when the source changes it again (a link marks it as done).
    pub fn skip(&self, flow: &str, source: &str, target: &str, key: &str) -> Result<()> {
        self.write(|w| {
            if w.pending_one(flow, key)?.is_none() {
                bail!(
                    "{flow}/{key} is not waiting (only failed and parked records can be skipped)"
                );
            }
            let link = Link {
                ids: BTreeMap::from([(target.to_string(), "(skipped by hand)".to_string())]),
                variant_ids: BTreeMap::new(),
                fingerprint: None,
                synced_at: Utc::now(),
                flow: flow.to_string(),
            };
            w.delete_pending(flow, key)?;
            w.put_link(&link_key("order", source, target, key), &link)
        })
    }
}
