//! The guest side of tillbridge plugins: what a connector or transform author depends on.
//!
//! - [`types`], [`http`], [`log`], [`config`], [`clock`] and [`kv`] are the bindings of the
//!   `tillbridge:plugin@0.3.0` WIT package (`wit/` at the root of the repository).
//! - [`transform_bindings!`] and [`connector_bindings!`] generate a plugin's own exports and reuse
//!   these bindings, so a plugin and the SDK share one set of types.
//! - [`fetch`] is JSON over the host's HTTP import, with status codes turned into
//!   [`types::PluginError`] so that the host knows what to do (retry, fail the record, stop).
//! - [`settings`] reads the plugin's settings into your own `serde` struct and its granted secrets.
//! - [`decimal`] parses and writes the decimal text that money travels as (never `f64`).
//! - [`info!`], [`warn!`], … write to the host's log.
//!
//! A transform in full:
//!
//! ```ignore
//! tillbridge_sdk::transform_bindings!("../../../wit");
//!
//! struct Upper;
//! impl exports::tillbridge::plugin::transformer::Guest for Upper {
//!     fn info() -> TransformInfo { /* … */ }
//!     fn transform(ctx: FlowContext, batch: Vec<Entity>) -> Vec<Verdict> { /* … */ }
//! }
//! export!(Upper);
//! ```

mod bindings {
    wit_bindgen::generate!({
        inline: "
            package tillbridge:sdk;

            world imports {
                import tillbridge:plugin/types@0.3.0;
                import tillbridge:plugin/http@0.3.0;
                import tillbridge:plugin/log@0.3.0;
                import tillbridge:plugin/config@0.3.0;
                import tillbridge:plugin/clock@0.3.0;
                import tillbridge:plugin/kv@0.3.0;
            }
        ",
        path: "../../wit",
        world: "tillbridge:sdk/imports",
        generate_all,
        generate_unused_types: true,
        additional_derives: [PartialEq],
    });
}

pub mod decimal;
pub mod errors;
pub mod fetch;
pub mod logging;
pub mod samples;
pub mod settings;

pub use bindings::tillbridge::plugin::{clock, config, http, kv, log, types};
/// The `wit-bindgen` this SDK was built with; the binding macros use it, so plugins need no
/// dependency of their own on it.
pub use wit_bindgen;

/// The WIT package version this SDK speaks. The host refuses components built for another.
pub const WIT_VERSION: &str = "0.1.0";

/// Generates the bindings of a transform plugin (world `tillbridge:plugin/transform`), reusing the
/// SDK's types. The argument is the path of the `wit/` folder relative to the plugin's
/// `Cargo.toml`. Implement `exports::tillbridge::plugin::transformer::Guest` and call `export!`.
#[macro_export]
macro_rules! transform_bindings {
    ($wit:literal) => {
        $crate::wit_bindgen::generate!({
            path: $wit,
            world: "tillbridge:plugin/transform@0.3.0",
            runtime_path: "tillbridge_sdk::wit_bindgen::rt",
            with: {
                "tillbridge:plugin/types@0.3.0": tillbridge_sdk::types,
                "tillbridge:plugin/log@0.3.0": tillbridge_sdk::log,
                "tillbridge:plugin/config@0.3.0": tillbridge_sdk::config,
                "tillbridge:plugin/clock@0.3.0": tillbridge_sdk::clock,
            },
        });
    };
}

/// Generates the bindings of a connector plugin, reusing the SDK's types and imports.
///
/// `paths` lists the tillbridge `wit/` folder and the connector's own one, which holds its world:
///
/// ```wit
/// package acme:my-connector;
///
/// world my-connector {
///     include tillbridge:plugin/base-connector@0.3.0;
///     export tillbridge:plugin/orders-source@0.3.0;
/// }
/// ```
///
/// Then implement `exports::tillbridge::plugin::connector::Guest` plus one `Guest` trait per
/// exported capability, and call `export!`.
#[macro_export]
macro_rules! connector_bindings {
    (paths: [$($wit:literal),+ $(,)?], world: $world:literal $(,)?) => {
        $crate::wit_bindgen::generate!({
            path: [$($wit),+],
            world: $world,
            runtime_path: "tillbridge_sdk::wit_bindgen::rt",
            with: {
                "tillbridge:plugin/types@0.3.0": tillbridge_sdk::types,
                "tillbridge:plugin/http@0.3.0": tillbridge_sdk::http,
                "tillbridge:plugin/log@0.3.0": tillbridge_sdk::log,
                "tillbridge:plugin/config@0.3.0": tillbridge_sdk::config,
                "tillbridge:plugin/clock@0.3.0": tillbridge_sdk::clock,
                "tillbridge:plugin/kv@0.3.0": tillbridge_sdk::kv,
            },
        });
    };
}
