//! What a failed plugin call means for a run: stop it, or fail one record. A call is not made
//! again here: egress resends a request after a passing failure, within one bound per request
//! (see `egress`), and a record that failed for a passing reason is tried again on a later run.

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
