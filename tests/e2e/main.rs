//! End-to-end tests: the `tillbridge` binary and library with real plugins (built from
//! `plugins/` and `tests/fixtures/` by host/build.rs) and the simulators.

mod cache;
mod cli;
mod conformance;
mod dashboard;
mod deploy;
mod fleet;
mod flows;
mod metrics;
mod notify;
mod sandbox;
mod scaffold;
mod setup;
mod support;
mod transforms;
mod validate;
