//! The `[dashboard]` table: where the merchant's console listens and the token it asks for.

use std::net::SocketAddr;

use serde::Deserialize;

use super::Problem;

/// Where the dashboard listens when flows.toml does not say: this machine only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8780";

/// The shortest token accepted: one that cannot be guessed by trying.
const MIN_TOKEN_LEN: usize = 16;

/// What the `[dashboard]` table says.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardConfig {
    /// Whether `tillbridge run` serves the dashboard.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// The address and port to listen on (`127.0.0.1:8780`: this machine only).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The token every page and action needs (write `${VAR}`: it comes from the environment).
    /// Without it, a token is generated at start and printed.
    #[serde(default)]
    pub token: Option<String>,
    /// Whether `listen` was written (if not, and the default port is taken, another is chosen).
    #[serde(skip)]
    pub listen_given: bool,
}

fn enabled_by_default() -> bool {
    true
}

fn default_listen() -> String {
    DEFAULT_LISTEN.into()
}

impl Default for DashboardConfig {
    fn default() -> Self {
        DashboardConfig {
            enabled: true,
            listen: default_listen(),
            token: None,
            listen_given: false,
        }
    }
}

impl DashboardConfig {
    /// The address to listen on (checked when the file was read).
    pub fn address(&self) -> SocketAddr {
        self.listen
            .parse()
            .expect("the listen address was checked when flows.toml was read")
    }

    /// Checks the table: `raw_token` is the token as written in the file, before `${VAR}` was
    /// replaced.
    pub(super) fn check(&self, raw_token: Option<&str>) -> Vec<Problem> {
        let mut problems = Vec::new();
        let at = |key: &str| ["dashboard".to_string(), key.to_string()];
        match self.listen.parse::<SocketAddr>() {
            Ok(address) => {
                if !address.ip().is_loopback() && self.token.is_none() {
                    problems.push(
                        Problem::at(&at("listen"), format!("the dashboard would be reachable from other machines on {address}, with a token that changes at every start"))
                            .hint("set your own: token = \"${TILLBRIDGE_DASHBOARD_TOKEN}\" (and put a TLS proxy in front), or listen on 127.0.0.1"),
                    );
                }
            }
            Err(_) => problems.push(
                Problem::at(
                    &at("listen"),
                    format!("{:?} is not an address and port", self.listen),
                )
                .hint(format!(
                    "write IP:PORT, e.g. \"{DEFAULT_LISTEN}\" (this machine only)"
                )),
            ),
        }
        if let Some(token) = &self.token {
            if raw_token.is_some_and(|raw| !raw.contains("${")) {
                problems.push(
                    Problem::at(&at("token"), "the token is written in the file; it is a secret and belongs in the environment")
                        .hint("write token = \"${TILLBRIDGE_DASHBOARD_TOKEN}\" and export TILLBRIDGE_DASHBOARD_TOKEN=$(openssl rand -hex 32)"),
                );
            } else if token.trim().chars().count() < MIN_TOKEN_LEN {
                problems.push(
                    Problem::at(
                        &at("token"),
                        format!(
                            "the token is shorter than {MIN_TOKEN_LEN} characters: easy to guess"
                        ),
                    )
                    .hint("use a long random one, e.g. `openssl rand -hex 32`"),
                );
            }
        }
        problems
    }
}
