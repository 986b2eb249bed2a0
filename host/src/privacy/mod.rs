//! What tillbridge keeps about people (FLOWS.md §4.4).
//!
//! Business data passes through; the state file keeps only what sync needs. Where a key must
//! identify a person (the host's customer links, a connector's e-mail → id index), it is a
//! [`Pseudonyms`] keyed hash, never the address itself. With `redact_personal_data` on, the
//! activity log and every command's output keep no names, e-mail addresses, streets, cities or
//! company names either ([`redact`]).

mod pseudonym;
pub mod redact;

pub use pseudonym::{Pseudonyms, key_path, private_file, temp_beside};
