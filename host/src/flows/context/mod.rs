//! What every flow shares: the [`run`] in progress (its state, activity and events), the
//! [`report`] of what happened to each record, the [`mapping`] of records with the verdicts of
//! transforms, and what a failed call means ([`failure`]).

mod failure;
mod mapping;
mod report;
mod run;

pub use failure::stops_run;
pub use mapping::{Rejection, rejection_entry};
pub use report::{Entry, RunReport, summary};
pub use run::{Options, RunContext};
