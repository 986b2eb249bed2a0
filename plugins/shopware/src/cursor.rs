//! The orders cursor: where reading stopped, as text the host stores between pages and runs.
//!
//! Reading goes in *sweeps*. A sweep walks every order changed since `since` (created, updated,
//! or a payment transaction created or updated: a payment transition changes the
//! transaction's `updatedAt`, not the order's) in `autoIncrement` order, a keyset that never
//! skips or repeats an order however many share a timestamp. When the walk reaches the end,
//! the next sweep starts from the shop's clock when the sweep's first request was sent (from
//! the `Date` header, less the request's time, less a second of margin): every change made
//! while the sweep ran is found by the next one. Orders delivered with a change time the next
//! sweep would see again are listed in `delivered` and skipped unless they changed since, so
//! nothing is read twice.
//!
//! Why not `updatedAt` and an id: no single field holds an order's last change (a payment
//! transition writes only the transaction), and Shopware compares ids in range filters as
//! text against binary columns, so an id cannot break ties in a filter. `autoIncrement` can.
//!
//! The text is JSON, so that a merchant looking at the state can read it:
//!
//! ```json
//! {"v":1,"since":"2026-11-28T18:39:59Z","began":"2026-11-28T18:45:00Z","after":1042,
//!  "delivered":[["018f…","2026-11-28T18:44:59.120Z"]]}
//! ```

use serde::{Deserialize, Serialize};
use tillbridge_sdk::types::PluginError;

use crate::timestamps::{self, Millis};

/// The cursor format this connector writes.
const FORMAT: u8 = 1;
/// A margin for the shop's clock (the `Date` header has whole seconds): the next sweep starts
/// this much earlier.
const CLOCK_RESOLUTION_MS: Millis = 1_000;

/// Where reading orders stopped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderCursor {
    #[serde(rename = "v")]
    format: u8,
    /// Orders changed at or after this time belong to the current sweep; none: every order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// The shop's clock when the current sweep began; none: it has not begun.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub began: Option<String>,
    /// The `autoIncrement` of the last order the sweep walked past.
    #[serde(default)]
    pub after: u64,
    /// (order id, change time) of orders delivered that the next sweep would find again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delivered: Vec<(String, String)>,
}

fn time(text: &Option<String>) -> Option<Millis> {
    text.as_deref().and_then(timestamps::parse)
}

impl OrderCursor {
    /// The host's cursor text, or a fresh cursor.
    pub fn parse(text: Option<&str>) -> Result<OrderCursor, PluginError> {
        let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
            return Ok(OrderCursor {
                format: FORMAT,
                ..OrderCursor::default()
            });
        };
        match serde_json::from_str::<OrderCursor>(text) {
            Ok(cursor) if cursor.format == FORMAT => Ok(cursor),
            _ => Err(PluginError::fatal(format!(
                "the stored orders cursor {:?} was not written by this version of the Shopware connector; reset the flow's cursor to read again from its start date",
                tillbridge_sdk::errors::excerpt(text)
            ))),
        }
    }

    /// The text to store.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The lower bound of the sweep: the cursor's, raised to the flow's start date.
    pub fn window(&self, changed_since: Option<Millis>) -> Option<Millis> {
        match (time(&self.since), changed_since) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// Notes the shop's clock when a sweep begins.
    pub fn begin(&mut self, server_time: Millis) {
        if self.began.is_none() {
            self.began = Some(timestamps::rfc3339(server_time));
        }
    }

    /// Whether this order, with this change time, was delivered already.
    pub fn was_delivered(&self, id: &str, changed: Millis) -> bool {
        self.delivered
            .iter()
            .any(|(i, at)| i == id && timestamps::parse(at) == Some(changed))
    }

    /// Notes an order delivered in this sweep, if the next sweep could find it again.
    pub fn deliver(&mut self, id: &str, changed: Millis) {
        let next = time(&self.began).map_or(Millis::MIN, |b| b - CLOCK_RESOLUTION_MS);
        if changed >= next {
            self.delivered.retain(|(i, _)| i != id);
            self.delivered
                .push((id.to_string(), timestamps::rfc3339(changed)));
        }
    }

    /// Ends the sweep: the next one reads from the shop's clock at this one's beginning.
    pub fn end_sweep(&mut self, changed_since: Option<Millis>) {
        let began = time(&self.began).map(|b| b - CLOCK_RESOLUTION_MS);
        let since = match (self.window(changed_since), began) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if let Some(since) = since {
            self.delivered
                .retain(|(_, at)| timestamps::parse(at).is_some_and(|t| t >= since));
        }
        self.since = since.map(timestamps::rfc3339);
        self.began = None;
        self.after = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Millis {
        timestamps::parse(text).unwrap()
    }

    #[test]
    fn a_sweep_ends_where_the_shops_clock_stood_when_it_began() {
        let mut cursor = OrderCursor::parse(None).unwrap();
        assert_eq!(
            cursor.window(None),
            None,
            "the first sweep reads every order"
        );
        cursor.begin(at("2026-01-01T12:00:00Z"));
        cursor.after = 1200;
        cursor.deliver("old", at("2025-06-01T00:00:00Z"));
        cursor.deliver("fresh", at("2026-01-01T11:59:59.500Z"));
        assert_eq!(
            cursor.delivered.len(),
            1,
            "only what the next sweep sees again"
        );
        let text = cursor.to_text();
        let mut cursor = OrderCursor::parse(Some(&text)).unwrap();
        assert_eq!(cursor.after, 1200);
        cursor.end_sweep(None);
        assert_eq!(cursor.since.as_deref(), Some("2026-01-01T11:59:59Z"));
        assert_eq!((cursor.after, cursor.began.as_deref()), (0, None));
        assert!(cursor.was_delivered("fresh", at("2026-01-01T11:59:59.500Z")));
        assert!(
            !cursor.was_delivered("fresh", at("2026-01-01T12:00:03Z")),
            "changed again: delivered again"
        );
    }

    #[test]
    fn the_start_date_raises_the_window() {
        let cursor = OrderCursor::parse(Some(r#"{"v":1,"since":"2026-01-01T00:00:00Z"}"#)).unwrap();
        assert_eq!(
            cursor.window(Some(at("2026-02-01T00:00:00Z"))),
            Some(at("2026-02-01T00:00:00Z"))
        );
        assert_eq!(
            cursor.window(Some(at("2025-01-01T00:00:00Z"))),
            Some(at("2026-01-01T00:00:00Z"))
        );
    }

    #[test]
    fn foreign_cursors_are_refused() {
        assert!(OrderCursor::parse(Some("page=3")).is_err());
        assert!(OrderCursor::parse(Some(r#"{"v":9}"#)).is_err());
    }
}
