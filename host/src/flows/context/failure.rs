//! What a failed plugin call means for a run: stop it, fail one record, or call again after a
//! wait.

use std::time::Duration;

use crate::runtime::CallError;
use crate::runtime::bindings::tillbridge::plugin::types::PluginError;

/// Whether a failed call means the run cannot go on (credentials refused, a broken or stopped
/// plugin) rather than one record failing.
pub fn stops_run(error: &CallError) -> bool {
    !matches!(
        error,
        CallError::Plugin(
            PluginError::Invalid(_)
                | PluginError::NotFound(_)
                | PluginError::RateLimited(_)
                | PluginError::Transient(_)
        )
    )
}

/// How long to wait before calling an idempotent operation again after this answer, or `None`
/// to take the answer as it is: rate limits are waited out as asked, other passing failures
/// back off, a bounded number of times.
pub fn retry_wait<T>(answer: &Result<T, CallError>, attempt: u32) -> Option<Duration> {
    const ATTEMPTS: u32 = 5;
    if attempt + 1 >= ATTEMPTS {
        return None;
    }
    match answer {
        Err(CallError::Plugin(PluginError::RateLimited(ms))) => {
            Some(Duration::from_millis((*ms).clamp(100, 60_000)))
        }
        Err(CallError::Plugin(PluginError::Transient(_))) => {
            Some(Duration::from_millis(500 << attempt))
        }
        _ => None,
    }
}

/// Evaluates a call (an `.await`ed session call) again after passing failures, as
/// [`retry_wait`] says. A macro rather than a function taking a closure, so that the flows'
/// futures stay `Send`.
macro_rules! retrying {
    ($call:expr) => {{
        let mut attempt = 0u32;
        loop {
            let answer = $call;
            match $crate::flows::context::retry_wait(&answer, attempt) {
                Some(wait) => {
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                None => break answer,
            }
        }
    }};
}
pub(crate) use retrying;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passing_failures_are_retried_and_others_are_not() {
        let limited: Result<(), _> = Err(CallError::Plugin(PluginError::RateLimited(1_000)));
        assert_eq!(
            retry_wait(&limited, 0),
            Some(Duration::from_secs(1)),
            "waits as asked"
        );
        let transient: Result<(), _> = Err(CallError::Plugin(PluginError::Transient("503".into())));
        assert_eq!(
            retry_wait(&transient, 2),
            Some(Duration::from_millis(2_000)),
            "backs off"
        );
        assert_eq!(retry_wait(&transient, 4), None, "a bounded number of times");
        let auth: Result<(), _> = Err(CallError::Plugin(PluginError::Auth("no".into())));
        assert_eq!(retry_wait(&auth, 0), None);
        assert_eq!(retry_wait(&Ok::<(), CallError>(()), 0), None);
    }
}
