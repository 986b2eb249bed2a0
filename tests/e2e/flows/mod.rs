//! The flows end to end: the host, both connectors and both simulators. One test per numbered
//! point of FLOWS.md §1–§3, named after the point it covers, plus the robustness the issue asks
//! for (nothing sent twice, crashes, injected faults, dry runs, re-syncs).

pub mod harness;

mod booked;
mod changes;
mod orders;
mod privacy;
mod products;
mod retries;
mod robustness;
pub(crate) mod schedule;
mod secrets;
mod stock;
mod third_party;
