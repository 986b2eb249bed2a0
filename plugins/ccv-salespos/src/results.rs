//! Per-record results of a write batch: one bad record fails alone, and once CCV says "slow down"
//! the rest of the batch is handed back as rate limited without being sent (they would only be
//! refused too, and each refusal still counts against the total limit).

use tillbridge_sdk::types::{PluginError, RecordResult, WriteAction, Written};

/// Results keyed by the record's key (a product's and its variants' SKUs).
pub type Keyed = Vec<(String, Result<Written, PluginError>)>;

/// A written record.
pub fn written(id: impl ToString, action: WriteAction) -> Written {
    Written {
        id: id.to_string(),
        action,
    }
}

/// Runs the records of a batch one by one.
#[derive(Debug, Default)]
pub struct Batch {
    results: Vec<RecordResult>,
    /// Set after a 429: how long CCV wants the connector to wait.
    halted: Option<u64>,
}

impl Batch {
    /// Writes one record with `write`, unless the batch was stopped by a rate limit.
    pub fn record(&mut self, key: &str, write: impl FnOnce() -> Result<Written, PluginError>) {
        let outcome = match self.halted {
            Some(ms) => Err(PluginError::RateLimited(ms)),
            None => write(),
        };
        self.push(key, outcome);
    }

    /// Adds a result decided elsewhere.
    pub fn push(&mut self, key: &str, outcome: Result<Written, PluginError>) {
        if let Err(PluginError::RateLimited(ms)) = &outcome {
            self.halted.get_or_insert(*ms);
        }
        self.results.push(RecordResult {
            key: key.to_string(),
            outcome,
        });
    }

    /// The results, in the order the records came.
    pub fn finish(self) -> Vec<RecordResult> {
        self.results
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_limit_stops_the_rest_and_a_bad_record_does_not() {
        let mut batch = Batch::default();
        batch.record("a", || Err(PluginError::invalid("bad")));
        batch.record("b", || Ok(written(2, WriteAction::Created)));
        batch.record("c", || Err(PluginError::RateLimited(500)));
        let mut sent = false;
        batch.record("d", || {
            sent = true;
            Ok(written(4, WriteAction::Created))
        });
        assert!(!sent, "nothing is sent after a rate limit");
        let results = batch.finish();
        assert_eq!(results.len(), 4);
        assert!(results[1].outcome.is_ok());
        assert!(matches!(
            results[3].outcome,
            Err(PluginError::RateLimited(500))
        ));
    }
}
