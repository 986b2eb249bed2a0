//! Cross-references: every name a flow or connection uses exists, every plugin file is there,
//! every URL is one.

use super::{BuiltinNames, Config, Problem};

/// The problems with names and files in `config`.
pub(super) fn references(config: &Config, builtins: BuiltinNames<'_>) -> Vec<Problem> {
    let mut problems = Vec::new();
    let plugin_names = || {
        config
            .plugins
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    };
    let connection_names = || {
        config
            .connections
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    };

    for (name, plugin) in &config.plugins {
        let at = ["plugins", name, "file"];
        if let Some(builtin) = plugin.file.strip_prefix("builtin:") {
            if !builtins.contains(&builtin) {
                problems.push(
                    Problem::at(&at, format!("there is no built-in plugin {builtin:?}"))
                        .hint(format!("built-in plugins: {}", builtins.join(", "))),
                );
            }
        } else {
            let path = config.resolve_path(plugin.file.as_ref());
            if !path.is_file() {
                problems.push(
                    Problem::at(&at, format!("the plugin file {} does not exist", path.display()))
                        .hint("build the plugin (`cargo build --target wasm32-wasip2 --release`) and give the path of its .wasm file, relative to this file, or use `builtin:NAME`"),
                );
            }
        }
        for host in &plugin.allowed_hosts {
            problems.extend(check_host(&["plugins", name, "allowed_hosts"], host));
        }
    }

    for (name, connection) in &config.connections {
        if !config.plugins.contains_key(&connection.plugin) {
            problems.push(
                Problem::at(
                    &["connections", name, "plugin"],
                    format!("there is no plugin {:?}", connection.plugin),
                )
                .hint(format!(
                    "name one of the plugins under [plugins]: {}",
                    plugin_names()
                )),
            );
        }
        match url::Url::parse(&connection.url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {}
            _ => problems.push(
                Problem::at(
                    &["connections", name, "url"],
                    format!("{:?} is not an http(s) URL", connection.url),
                )
                .hint("write the base URL, e.g. \"https://shop.example.com\""),
            ),
        }
        for host in &connection.allowed_hosts {
            problems.extend(check_host(&["connections", name, "allowed_hosts"], host));
        }
        let limits = connection.rate_limits.iter().flat_map(|l| l.problems());
        for (key, message, hint) in limits {
            let mut at = vec![
                "connections".to_string(),
                name.clone(),
                "rate_limits".into(),
            ];
            at.extend(key);
            problems.push(Problem::at(&at, message).hint(hint));
        }
    }

    for (name, flow) in &config.flows {
        for (key, connection) in [("source", &flow.source), ("target", &flow.target)] {
            if !config.connections.contains_key(connection) {
                problems.push(
                    Problem::at(
                        &["flows", name, key],
                        format!("there is no connection {connection:?}"),
                    )
                    .hint(format!(
                        "name one of the connections under [connections]: {}",
                        connection_names()
                    )),
                );
            }
        }
        if flow.source == flow.target {
            problems.push(
                Problem::at(
                    &["flows", name, "target"],
                    "source and target are the same connection",
                )
                .hint("a flow moves records between two systems: name two different connections"),
            );
        }
        for (i, transform) in flow.transforms.iter().enumerate() {
            if !config.plugins.contains_key(transform) {
                problems.push(
                    Problem::at(
                        &["flows", name, "transforms", &i.to_string()],
                        format!("there is no plugin {transform:?}"),
                    )
                    .hint(format!(
                        "name one of the plugins under [plugins]: {}",
                        plugin_names()
                    )),
                );
            }
        }
    }
    problems
}

/// An allowed host is an origin: `https://host`, `http://host:port`, `*.domain`.
fn check_host(at: &[&str], host: &str) -> Option<Problem> {
    let problem = crate::egress::AllowList::check(host).err()?;
    Some(Problem::at(at, problem).hint(
        "write an origin: `https://shop.example.com`, `http://127.0.0.1:8080` or `*.ccvshop.nl` (without a scheme it is https, without a port the scheme's default)",
    ))
}
