//! Host-side bindings of the `tillbridge:plugin@0.2.0` WIT package.
//!
//! Generated from the `all-capabilities` world, which imports everything the host offers and
//! exports every capability; per component the runtime binds only the exports it really has.
//! The canonical types derive `serde` so that records can be read from and written to JSON
//! (the `transform` command, the activity log, content hashes).

wasmtime::component::bindgen!({
    path: "../plugins/sdk/wit",
    world: "tillbridge:plugin/all-capabilities",
    imports: { default: async | trappable },
    exports: { default: async },
    additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
});
