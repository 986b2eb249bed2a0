//! The files of a scaffolded crate: minijinja templates (`templates/`) and what fills them.

use anyhow::bail;
use minijinja::context;
use serde::Serialize;

/// The capabilities a scaffolded connector can have (those the ledger example API offers): WIT
/// interface, module, template of the module.
const CAPABILITIES: &[(&str, &str, &str)] = &[
    (
        "products-source",
        "products_source",
        include_str!("templates/connector/products_source.rs.j2"),
    ),
    (
        "products-sink",
        "products_sink",
        include_str!("templates/connector/products_sink.rs.j2"),
    ),
    (
        "stock-source",
        "stock_source",
        include_str!("templates/connector/stock_source.rs.j2"),
    ),
    (
        "stock-sink",
        "stock_sink",
        include_str!("templates/connector/stock_sink.rs.j2"),
    ),
    (
        "customers",
        "customers",
        include_str!("templates/connector/customers.rs.j2"),
    ),
    (
        "orders-sink",
        "orders_sink",
        include_str!("templates/connector/orders_sink.rs.j2"),
    ),
];

/// One capability: its WIT interface name and the module that implements it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Capability {
    name: &'static str,
    module: &'static str,
    #[serde(skip)]
    template: &'static str,
}

impl Capability {
    /// The capability called `name`, or an error that lists them all.
    pub fn parse(name: &str) -> anyhow::Result<Capability> {
        let Some(&(name, module, template)) = CAPABILITIES.iter().find(|(n, ..)| *n == name) else {
            let valid: Vec<&str> = CAPABILITIES.iter().map(|(n, ..)| *n).collect();
            bail!(
                "{name:?} is not a capability the scaffold knows; choose from: {}",
                valid.join(", ")
            );
        };
        Ok(Capability {
            name,
            module,
            template,
        })
    }
}

/// A crate to write: connector (with its capabilities) or transform.
pub enum Crate {
    Connector(Vec<Capability>),
    Transform,
}

impl Crate {
    pub fn connector(capabilities: &[Capability]) -> Crate {
        let mut unique: Vec<Capability> = Vec::new();
        for capability in capabilities {
            if !unique.iter().any(|c| c.name == capability.name) {
                unique.push(*capability);
            }
        }
        Crate::Connector(unique)
    }

    pub fn transform() -> Crate {
        Crate::Transform
    }

    /// "connector" or "transform".
    pub fn kind(&self) -> &'static str {
        match self {
            Crate::Connector(_) => "connector",
            Crate::Transform => "transform",
        }
    }

    /// Every file (path in the crate, text) for a plugin called `name` whose Cargo.toml gets
    /// the SDK as `sdk` (a TOML inline table).
    pub fn render(&self, name: &str, sdk: &str) -> anyhow::Result<Vec<(String, String)>> {
        let env = crate::cli::files::templates()?;
        let capabilities = match self {
            Crate::Connector(capabilities) => capabilities.clone(),
            Crate::Transform => Vec::new(),
        };
        let values = context! {
            name => name,
            crate_name => name.replace('-', "_"),
            kind => self.kind(),
            sdk => sdk,
            wit_version => crate::runtime::inspect::WIT_VERSION,
            capabilities => minijinja::Value::from(minijinja::value::Serde(&capabilities)),
            has => capabilities.iter().map(|c| c.name).collect::<Vec<_>>(),
        };
        let mut files: Vec<(String, &str)> = vec![
            (
                "Cargo.toml".into(),
                include_str!("templates/common/Cargo.toml.j2"),
            ),
            (".gitignore".into(), "target/\n"),
        ];
        match self {
            Crate::Connector(capabilities) => {
                files.extend([
                    (
                        "README.md".into(),
                        include_str!("templates/connector/README.md.j2"),
                    ),
                    (
                        "wit/world.wit".into(),
                        include_str!("templates/connector/world.wit.j2"),
                    ),
                    (
                        "src/lib.rs".into(),
                        include_str!("templates/connector/lib.rs.j2"),
                    ),
                    (
                        "src/client.rs".into(),
                        include_str!("templates/connector/client.rs.j2"),
                    ),
                    (
                        "src/tests.rs".into(),
                        include_str!("templates/connector/tests.rs.j2"),
                    ),
                ]);
                for capability in capabilities {
                    files.push((format!("src/{}.rs", capability.module), capability.template));
                }
            }
            Crate::Transform => files.extend([
                (
                    "README.md".into(),
                    include_str!("templates/transform/README.md.j2"),
                ),
                (
                    "src/lib.rs".into(),
                    include_str!("templates/transform/lib.rs.j2"),
                ),
                (
                    "src/tests.rs".into(),
                    include_str!("templates/transform/tests.rs.j2"),
                ),
            ]),
        }
        files
            .into_iter()
            .map(|(path, template)| {
                let text = env.render_str(template, &values)?;
                Ok((path, text))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_capability_is_refused_with_the_valid_ones() {
        let error = Capability::parse("stock-sinks").unwrap_err().to_string();
        assert!(error.contains("\"stock-sinks\""), "{error}");
        assert!(
            error.contains("products-source, products-sink, stock-source"),
            "{error}"
        );
    }

    #[test]
    fn a_connector_has_one_file_per_capability_and_a_world_exporting_each() {
        let capabilities =
            ["stock-sink", "customers", "stock-sink"].map(|c| Capability::parse(c).unwrap());
        let files = Crate::connector(&capabilities)
            .render("acme-erp", "{ path = \"/sdk\" }")
            .unwrap();
        let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        assert!(paths.contains(&"src/stock_sink.rs") && paths.contains(&"src/customers.rs"));
        assert!(!paths.contains(&"src/products_source.rs"));
        let world = &files.iter().find(|(p, _)| p == "wit/world.wit").unwrap().1;
        assert_eq!(
            world.matches("export tillbridge:plugin/").count(),
            2,
            "{world}"
        );
        let manifest = &files.iter().find(|(p, _)| p == "Cargo.toml").unwrap().1;
        assert!(manifest.contains("name = \"acme-erp\""), "{manifest}");
        assert!(
            manifest.contains("tillbridge-sdk = { path = \"/sdk\" }"),
            "{manifest}"
        );
    }
}
