//! What both simulators share: serving on a port, the journal of requests, fault injection, and the
//! `/__sim/` control routes that scripts use to look inside a running simulator.

pub mod faults;
pub mod journal;
pub mod lock;
pub mod server;

pub use faults::{Fault, Faults};
pub use journal::{Journal, JournalEntry};
pub use lock::lock;
pub use server::{FaultAnswer, Instrumentation, RunningServer, instrument, serve};
