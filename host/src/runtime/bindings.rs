//! Host-side bindings of the `tillbridge:plugin@0.3.0` WIT package.
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

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config;
use exports::tillbridge::plugin::products_sink::ProductFields;
use exports::tillbridge::plugin::transformer::{self, RecordKinds};

/// WIT flags as JSON: the list of the names that are set, as the WIT spells them, so that the
/// activity log and the `transform` command read `["name", "price"]`.
macro_rules! flags_by_name {
    ($type:ty { $($name:literal => $flag:ident),* $(,)? }) => {
        impl $type {
            /// Every flag with its WIT name.
            pub const NAMED: &[(&str, $type)] = &[$(($name, <$type>::$flag)),*];

            /// The names of the flags that are set, in WIT order.
            pub fn names(self) -> Vec<&'static str> {
                Self::NAMED
                    .iter()
                    .filter(|(_, flag)| self.contains(*flag))
                    .map(|(name, _)| *name)
                    .collect()
            }
        }

        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.names().serialize(serializer)
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let mut flags = <$type>::empty();
                for name in Vec::<String>::deserialize(deserializer)? {
                    let Some((_, flag)) = Self::NAMED.iter().find(|(n, _)| *n == name) else {
                        let names: Vec<&str> = Self::NAMED.iter().map(|(n, _)| *n).collect();
                        return Err(D::Error::custom(format!(
                            "unknown flag {name:?}; flags are {}",
                            names.join(", ")
                        )));
                    };
                    flags |= *flag;
                }
                Ok(flags)
            }
        }
    };
}

flags_by_name!(ProductFields {
    "name" => NAME,
    "description" => DESCRIPTION,
    "short-description" => SHORT_DESCRIPTION,
    "ean" => EAN,
    "price" => PRICE,
    "stock" => STOCK,
    "active" => ACTIVE,
    "properties" => PROPERTIES,
    "categories" => CATEGORIES,
    "variants" => VARIANTS,
});

flags_by_name!(RecordKinds {
    "order" => ORDER,
    "customer" => CUSTOMER,
    "product" => PRODUCT,
    "category" => CATEGORY,
    "stock-level" => STOCK_LEVEL,
});

impl From<config::FlowKind> for transformer::FlowKind {
    fn from(kind: config::FlowKind) -> Self {
        match kind {
            config::FlowKind::Orders => transformer::FlowKind::Orders,
            config::FlowKind::Stock => transformer::FlowKind::Stock,
            config::FlowKind::Products => transformer::FlowKind::Products,
            config::FlowKind::Categories => transformer::FlowKind::Categories,
        }
    }
}

impl std::fmt::Display for self::tillbridge::plugin::types::SettingKind {
    /// As the contract names it: "text", "text-list", …
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use self::tillbridge::plugin::types::SettingKind::*;
        f.write_str(match self {
            Text => "text",
            Integer => "integer",
            Decimal => "decimal",
            Boolean => "boolean",
            TextList => "text-list",
            TextMap => "text-map",
            Json => "json",
        })
    }
}
