//! The guest side of tillbridge plugins: what a connector or transform author depends on.
//!
//! - [`types`], [`http`], [`log`], [`config`], [`clock`] and [`kv`] are the bindings of the
//!   `tillbridge:plugin` WIT package (carried in this crate's `wit/`, version [`WIT_VERSION`]).
//!   In a WASM component they call the host; compiled for anything else (`cargo test`) they call
//!   the [`mock`] host instead, so a plugin's logic is unit-tested natively.
//! - [`transform_bindings!`] and [`connector_bindings!`] generate a plugin's own exports and reuse
//!   these bindings, so a plugin and the SDK share one set of types. They need no WIT path: the
//!   SDK's own `wit/` is built in.
//! - [`fetch`] is JSON over the host's HTTP import, with status codes turned into
//!   [`types::PluginError`] so that the host knows what to do (retry, fail the record, stop).
//! - [`settings`] reads the plugin's settings into your own `serde` struct and its granted secrets.
//! - [`decimal`] parses and writes the decimal text that money travels as (never `f64`).
//! - [`info!`], [`warn!`], … write to the host's log.
//!
//! A transform in full:
//!
//! ```ignore
//! tillbridge_sdk::transform_bindings!();
//!
//! struct Upper;
//! impl exports::tillbridge::plugin::transformer::Guest for Upper {
//!     fn info() -> TransformInfo { /* … */ }
//!     fn transform(ctx: FlowContext, batch: Vec<Entity>) -> Vec<Verdict> { /* … */ }
//! }
//! export!(Upper);
//! ```

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));

pub mod decimal;
pub mod errors;
pub mod fetch;
pub mod logging;
#[cfg(not(target_family = "wasm"))]
pub mod mock;
pub mod samples;
pub mod settings;

pub use bindings::tillbridge::plugin::types;
#[cfg(target_family = "wasm")]
pub use bindings::tillbridge::plugin::{clock, config, http, kv, log};
#[cfg(not(target_family = "wasm"))]
pub use mock::imports::{clock, config, http, kv, log};
/// The `wit-bindgen` this SDK was built with; the binding macros use it, so plugins need no
/// dependency of their own on it.
pub use wit_bindgen;
