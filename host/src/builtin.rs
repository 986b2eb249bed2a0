//! The plugins that ship inside the tillbridge binary, built by `build.rs` from `plugins/`.
//! flows.toml names them as `builtin:NAME`.

/// Where `build.rs` put the compiled components (also the test fixtures).
pub const PLUGIN_DIR: &str = env!("TILLBRIDGE_PLUGIN_DIR");

/// A plugin that ships inside the binary.
pub struct Builtin {
    /// Its name after `builtin:`.
    pub name: &'static str,
    /// What it does, for `tillbridge plugins`.
    pub summary: &'static str,
    /// The component.
    pub bytes: &'static [u8],
}

/// Every built-in plugin.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "shopware",
        summary: "connector: the Shopware 6 Admin API (6.4 – 6.7)",
        bytes: include_bytes!(concat!(env!("TILLBRIDGE_PLUGIN_DIR"), "/shopware.wasm")),
    },
    Builtin {
        name: "ccv-salespos",
        summary: "connector: the CCV SalesPOS REST API v1",
        bytes: include_bytes!(concat!(env!("TILLBRIDGE_PLUGIN_DIR"), "/ccv_salespos.wasm")),
    },
    Builtin {
        name: "payment-map",
        summary: "transform: webshop payment method names → point-of-sale payment method ids",
        bytes: include_bytes!(concat!(env!("TILLBRIDGE_PLUGIN_DIR"), "/payment_map.wasm")),
    },
    Builtin {
        name: "sku-rewrite",
        summary: "transform: rewrites article numbers by rule and leaves some articles out",
        bytes: include_bytes!(concat!(env!("TILLBRIDGE_PLUGIN_DIR"), "/sku_rewrite.wasm")),
    },
];

/// The names of the built-in plugins.
pub fn names() -> Vec<&'static str> {
    BUILTINS.iter().map(|b| b.name).collect()
}

/// A built-in plugin by name.
pub fn get(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}
