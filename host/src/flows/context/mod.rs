//! What every flow shares: the [`run`] in progress (its state, activity and events), the
//! [`report`] of what happened to each record, the [`mapping`] of records with the verdicts of
//! transforms, and what a failed call means ([`retry`]).

mod mapping;
mod report;
mod retry;
mod run;

pub use mapping::{Rejection, rejection_entry};
pub use report::{Entry, RunReport, summary};
pub(crate) use retry::retrying;
pub use retry::{retry_wait, stops_run};
pub use run::{Options, RunContext};
