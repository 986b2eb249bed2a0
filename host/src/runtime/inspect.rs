//! What a component is, read from its type before anything runs: which world it was built for,
//! which WIT version, which capabilities it exports and which host imports it wants.

use std::fmt;

use serde::Serialize;
use wasmtime::Engine;
use wasmtime::component::Component;

/// The WIT package plugins are built against.
pub const WIT_PACKAGE: &str = "tillbridge:plugin";
/// The WIT version this host speaks; components built for any `0.3.x` load.
pub const WIT_VERSION: &str = "0.3.0";

/// The compatibility rule of `wit/README.md` in one line, said when a plugin is refused.
pub const COMPATIBILITY: &str = "a host loads plugins built for its own major.minor while 0.x (from 1.0: its major, up to its minor), as a 0.x minor may change or remove functions, record fields and cases";

/// Which kind of plugin a component is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum World {
    /// Speaks to an outside system (`tillbridge:plugin/connector`).
    Connector,
    /// Changes records (`tillbridge:plugin/transformer`).
    Transform,
}

impl fmt::Display for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            World::Connector => "connector",
            World::Transform => "transform",
        })
    }
}

/// A capability a connector exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// Reads orders.
    OrdersSource,
    /// Books orders.
    OrdersSink,
    /// Finds and writes customers.
    Customers,
    /// Reads products.
    ProductsSource,
    /// Writes products.
    ProductsSink,
    /// Lists the product properties the system has.
    ProductProperties,
    /// Reads stock levels.
    StockSource,
    /// Writes stock levels.
    StockSink,
    /// Reads the category tree.
    CategoriesSource,
    /// Writes categories and product links.
    CategoriesSink,
}

impl Capability {
    /// Every capability, in WIT order.
    pub const ALL: [Capability; 10] = [
        Capability::OrdersSource,
        Capability::OrdersSink,
        Capability::Customers,
        Capability::ProductsSource,
        Capability::ProductsSink,
        Capability::ProductProperties,
        Capability::StockSource,
        Capability::StockSink,
        Capability::CategoriesSource,
        Capability::CategoriesSink,
    ];

    /// The WIT interface name, e.g. "orders-source".
    pub fn interface(self) -> &'static str {
        match self {
            Capability::OrdersSource => "orders-source",
            Capability::OrdersSink => "orders-sink",
            Capability::Customers => "customers",
            Capability::ProductsSource => "products-source",
            Capability::ProductsSink => "products-sink",
            Capability::ProductProperties => "product-properties",
            Capability::StockSource => "stock-source",
            Capability::StockSink => "stock-sink",
            Capability::CategoriesSource => "categories-source",
            Capability::CategoriesSink => "categories-sink",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.interface())
    }
}

/// What a component is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Description {
    /// Connector or transform.
    pub world: World,
    /// The `tillbridge:plugin` version it was built against.
    pub wit_version: String,
    /// The capabilities it exports (connectors only).
    pub capabilities: Vec<Capability>,
    /// The tillbridge host imports it uses ("http", "kv", …).
    pub host_imports: Vec<String>,
}

/// Why a component was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Built against another WIT version.
    #[error(
        "it was built for {WIT_PACKAGE}@{found}, but this tillbridge speaks {WIT_PACKAGE}@{WIT_VERSION}: {COMPATIBILITY}; rebuild it against the wit/ folder (or tillbridge-sdk) of this tillbridge"
    )]
    WrongVersion {
        /// The version it was built for.
        found: String,
    },
    /// Exports no tillbridge world.
    #[error(
        "it is not a tillbridge plugin: it exports {exports}, but a plugin exports {WIT_PACKAGE}/transformer@{WIT_VERSION} (a transform) or {WIT_PACKAGE}/connector@{WIT_VERSION} with its capabilities (a connector)"
    )]
    NoWorld {
        /// What it exports instead.
        exports: String,
    },
    /// Exports both worlds.
    #[error(
        "it exports both the connector and the transformer interface; a plugin is one or the other"
    )]
    BothWorlds,
    /// A transform that wants the network or storage.
    #[error(
        "it is a transform but imports {WIT_PACKAGE}/{import}; transforms get no network and no storage"
    )]
    TransformImport {
        /// The forbidden import.
        import: String,
    },
    /// Wants an import the host does not offer.
    #[error("it imports {import}, which this host does not provide")]
    UnknownImport {
        /// The import.
        import: String,
    },
}

/// Splits "tillbridge:plugin/transformer@0.3.0" into ("transformer", "0.3.0").
fn tillbridge_item(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix(WIT_PACKAGE)?.strip_prefix('/')?;
    Some(rest.split_once('@').unwrap_or((rest, "")))
}

fn version_supported(version: &str) -> bool {
    loads(WIT_VERSION, version)
}

/// The rule of [`COMPATIBILITY`]: whether a host of version `host` loads a plugin of `plugin`.
fn loads(host: &str, plugin: &str) -> bool {
    let host = semver::Version::parse(host).expect("a host version is semver");
    semver::Version::parse(plugin).is_ok_and(|v| {
        let minor_fits = if host.major == 0 {
            v.minor == host.minor
        } else {
            v.minor <= host.minor
        };
        v.major == host.major && minor_fits && v.pre.is_empty()
    })
}

/// Reads what `component` is, or says why it cannot be a tillbridge plugin.
pub fn describe(engine: &Engine, component: &Component) -> Result<Description, Refusal> {
    let ty = component.component_type();
    let exports: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let imports: Vec<String> = ty
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect();

    for name in exports.iter().chain(&imports) {
        if let Some((_, version)) = tillbridge_item(name)
            && !version_supported(version)
        {
            return Err(Refusal::WrongVersion {
                found: version.to_string(),
            });
        }
    }
    let exported: Vec<&str> = exports
        .iter()
        .filter_map(|n| tillbridge_item(n))
        .map(|(item, _)| item)
        .collect();
    let world = match (
        exported.contains(&"connector"),
        exported.contains(&"transformer"),
    ) {
        (true, false) => World::Connector,
        (false, true) => World::Transform,
        (true, true) => return Err(Refusal::BothWorlds),
        (false, false) => {
            let exports = if exports.is_empty() {
                "nothing".to_string()
            } else {
                exports.join(", ")
            };
            return Err(Refusal::NoWorld { exports });
        }
    };

    let mut host_imports = Vec::new();
    for name in &imports {
        match tillbridge_item(name) {
            Some(("types", _)) => {}
            Some((item, _)) => {
                if world == World::Transform && matches!(item, "http" | "kv") {
                    return Err(Refusal::TransformImport {
                        import: item.to_string(),
                    });
                }
                host_imports.push(item.to_string());
            }
            None if name.starts_with("wasi:") => {}
            None => {
                return Err(Refusal::UnknownImport {
                    import: name.clone(),
                });
            }
        }
    }
    let capabilities = Capability::ALL
        .into_iter()
        .filter(|c| exported.contains(&c.interface()))
        .collect();
    Ok(Description {
        world,
        wit_version: exported_version(&exports),
        capabilities,
        host_imports,
    })
}

fn exported_version(exports: &[String]) -> String {
    exports
        .iter()
        .filter_map(|n| tillbridge_item(n))
        .map(|(_, version)| version.to_string())
        .next()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_of_the_same_minor_are_compatible() {
        assert!(version_supported("0.3.0"));
        assert!(version_supported("0.3.7"));
        assert!(!version_supported("0.2.0"));
        assert!(!version_supported("0.4.0"));
        assert!(!version_supported("1.3.0"));
        assert!(!version_supported("0.3.0-rc1"));
        assert!(!version_supported(""));
    }

    #[test]
    fn from_one_on_a_host_loads_its_major_up_to_its_minor() {
        assert!(loads("1.4.0", "1.0.0") && loads("1.4.0", "1.4.2"));
        assert!(!loads("1.4.0", "1.5.0") && !loads("1.4.0", "2.0.0") && !loads("1.4.0", "0.4.0"));
        assert!(!loads("0.4.0", "0.3.0"), "while 0.x a minor is breaking");
    }

    #[test]
    fn names_split_into_item_and_version() {
        assert_eq!(
            tillbridge_item("tillbridge:plugin/http@0.3.0"),
            Some(("http", "0.3.0"))
        );
        assert_eq!(tillbridge_item("wasi:cli/environment@0.2.6"), None);
    }
}
