//! The `[notify]` table: who is told when a run fails or a record fails or waits too long (a
//! webhook, e-mail), how long a parked record may wait, and how problems found together are
//! gathered into one message.

use std::net::IpAddr;
use std::time::Duration;

use lettre::message::Mailbox;
use serde::Deserialize;

use super::Problem;

/// What the `[notify]` table says.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// A URL that takes a JSON POST: a Slack incoming webhook, or any receiver (it is a secret:
    /// write `${VAR}`).
    #[serde(default)]
    pub webhook: Option<String>,
    /// E-mail through an SMTP server.
    #[serde(default)]
    pub email: Option<EmailConfig>,
    /// A record parked longer than this is told ("2h", "30m").
    #[serde(default = "default_parked_after")]
    pub parked_after: String,
    /// Problems found within this time of the first go in one message ("30s").
    #[serde(default = "default_digest_window")]
    pub digest_window: String,
    /// The dashboard's address as the merchant opens it (behind a proxy, say); by default the
    /// address `tillbridge run` serves it on.
    #[serde(default)]
    pub dashboard_url: Option<String>,
}

fn default_parked_after() -> String {
    "2h".into()
}

fn default_digest_window() -> String {
    "30s".into()
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            webhook: None,
            email: None,
            parked_after: default_parked_after(),
            digest_window: default_digest_window(),
            dashboard_url: None,
        }
    }
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain, then upgraded with STARTTLS (port 587); refused if the server cannot.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on this machine (port 25).
    Plain,
}

/// The `[notify.email]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// The SMTP server's host name.
    pub host: String,
    /// Its port; by default 587 (starttls), 465 (tls) or 25 (plain).
    #[serde(default)]
    pub port: Option<u16>,
    /// How the connection is protected.
    #[serde(default)]
    pub security: Security,
    /// The user to log in as (write `${VAR}`).
    #[serde(default)]
    pub user: Option<String>,
    /// Its password (a secret: write `${VAR}`).
    #[serde(default)]
    pub password: Option<String>,
    /// The sender, e.g. "tillbridge <tillbridge@example.com>".
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
}

impl EmailConfig {
    /// The port to connect to.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            Security::Starttls => 587,
            Security::Tls => 465,
            Security::Plain => 25,
        })
    }

    /// The sender (checked when flows.toml was read).
    pub fn sender(&self) -> Mailbox {
        self.from
            .parse()
            .expect("the sender was checked when flows.toml was read")
    }

    /// The recipients (checked when flows.toml was read).
    pub fn recipients(&self) -> Vec<Mailbox> {
        self.to
            .iter()
            .map(|to| {
                to.parse()
                    .expect("the recipients were checked when flows.toml was read")
            })
            .collect()
    }
}

/// The secrets of the table as written, before `${VAR}` was replaced: they must come from the
/// environment.
#[derive(Debug, Default)]
pub(super) struct Written {
    webhook: Option<String>,
    password: Option<String>,
}

impl Written {
    /// The secrets of `[notify]` in the parsed (unresolved) document.
    pub(super) fn of(document: &toml::Value) -> Written {
        let notify = document.get("notify");
        let text =
            |value: Option<&toml::Value>| value.and_then(toml::Value::as_str).map(String::from);
        Written {
            webhook: text(notify.and_then(|n| n.get("webhook"))),
            password: text(
                notify
                    .and_then(|n| n.get("email"))
                    .and_then(|e| e.get("password")),
            ),
        }
    }
}

/// The longest a parked record may wait before it is told.
const LONGEST_PARKED_AFTER: Duration = Duration::from_secs(90 * 24 * 3600);
/// The longest problems may be gathered before they are sent.
const LONGEST_DIGEST_WINDOW: Duration = Duration::from_secs(24 * 3600);

fn duration(text: &str) -> Result<Duration, humantime::DurationError> {
    humantime::parse_duration(text.trim())
}

impl NotifyConfig {
    /// Whether any channel is configured.
    pub fn enabled(&self) -> bool {
        self.webhook.is_some() || self.email.is_some()
    }

    /// How long a parked record may wait before it is told (checked when flows.toml was read).
    pub fn parked_after(&self) -> Duration {
        duration(&self.parked_after).expect("parked_after was checked when flows.toml was read")
    }

    /// How long problems are gathered into one message (checked when flows.toml was read).
    pub fn digest_window(&self) -> Duration {
        duration(&self.digest_window).expect("digest_window was checked when flows.toml was read")
    }

    /// Checks the table; `written` holds its secrets as written in the file.
    pub(super) fn check(&self, written: &Written) -> Vec<Problem> {
        let mut problems = Vec::new();
        let at = |key: &[&str]| {
            let mut path = vec!["notify".to_string()];
            path.extend(key.iter().map(|k| k.to_string()));
            path
        };
        if let Some(webhook) = &self.webhook {
            if written
                .webhook
                .as_deref()
                .is_some_and(|raw| !raw.contains("${"))
            {
                problems.push(
                    Problem::at(&at(&["webhook"]), "the webhook URL is written in the file; whoever has it can post to your channel, so it belongs in the environment")
                        .hint("write webhook = \"${TILLBRIDGE_WEBHOOK_URL}\" and export TILLBRIDGE_WEBHOOK_URL=https://hooks.slack.com/services/…"),
                );
            } else if !url::Url::parse(webhook)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            {
                problems.push(
                    Problem::at(&at(&["webhook"]), "the webhook is not an http(s) URL")
                        .hint("give the URL of a Slack incoming webhook or of any receiver that takes a JSON POST"),
                );
            }
        }
        for (key, text) in [
            ("parked_after", &self.parked_after),
            ("digest_window", &self.digest_window),
        ] {
            // Longer would never tell anyone in time, or hold problems back for days.
            let (longest, example) = if key == "parked_after" {
                (LONGEST_PARKED_AFTER, "e.g. \"2h\"")
            } else {
                (LONGEST_DIGEST_WINDOW, "e.g. \"30s\"")
            };
            match duration(text) {
                Ok(d) if key == "parked_after" && d.is_zero() => problems.push(
                    Problem::at(&at(&[key]), "a parked record would be told at once")
                        .hint("give the time a record may wait for its products, e.g. \"2h\""),
                ),
                Ok(d) if d > longest => {
                    let longest = humantime::format_duration(longest);
                    problems.push(
                        Problem::at(
                            &at(&[key]),
                            format!("{} is longer than {longest}", humantime::format_duration(d)),
                        )
                        .hint(format!("write at most {longest}, {example}")),
                    );
                }
                Ok(_) => {}
                Err(e) => problems.push(
                    Problem::at(&at(&[key]), format!("{text:?} is not a duration: {e}"))
                        .hint("write a number and a unit, e.g. \"2h\", \"30m\" or \"45s\""),
                ),
            }
        }
        if let Some(url) = &self.dashboard_url
            && !url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        {
            problems.push(
                Problem::at(&at(&["dashboard_url"]), format!("{url:?} is not an http(s) URL"))
                    .hint("write the address the merchant opens the dashboard at, e.g. \"https://tillbridge.example.com/\""),
            );
        }
        if let Some(email) = &self.email {
            problems.extend(email.check(written, &at));
        }
        problems
    }
}

impl EmailConfig {
    fn check(&self, written: &Written, at: &dyn Fn(&[&str]) -> Vec<String>) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.host.trim().is_empty() {
            problems.push(
                Problem::at(&at(&["email", "host"]), "no SMTP server is given")
                    .hint("write the host name of your mail provider's SMTP server, e.g. \"smtp.example.com\""),
            );
        }
        if written
            .password
            .as_deref()
            .is_some_and(|raw| !raw.contains("${"))
        {
            problems.push(
                Problem::at(&at(&["email", "password"]), "the SMTP password is written in the file; it is a secret and belongs in the environment")
                    .hint("write password = \"${TILLBRIDGE_SMTP_PASSWORD}\" and export TILLBRIDGE_SMTP_PASSWORD=…"),
            );
        }
        match (&self.user, &self.password) {
            (Some(_), None) => problems.push(
                Problem::at(&at(&["email", "user"]), "a user without a password")
                    .hint("add password = \"${TILLBRIDGE_SMTP_PASSWORD}\", or remove user for a relay that needs no login"),
            ),
            (None, Some(_)) => problems.push(
                Problem::at(&at(&["email", "password"]), "a password without a user")
                    .hint("add user = \"${TILLBRIDGE_SMTP_USER}\""),
            ),
            _ => {}
        }
        let local = self.host == "localhost"
            || self.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if self.security == Security::Plain && !local {
            problems.push(
                Problem::at(&at(&["email", "security"]), format!("\"plain\" would send mail (and a password) to {} unencrypted", self.host))
                    .hint("use security = \"starttls\" (port 587) or \"tls\" (port 465); \"plain\" is for a relay on this machine (localhost)"),
            );
        }
        if let Err(e) = self.from.parse::<Mailbox>() {
            problems.push(
                Problem::at(
                    &at(&["email", "from"]),
                    format!("{:?} is not an e-mail address: {e}", self.from),
                )
                .hint("write e.g. \"tillbridge <tillbridge@example.com>\""),
            );
        }
        if self.to.is_empty() {
            problems.push(
                Problem::at(&at(&["email", "to"]), "nobody to send to")
                    .hint("write to = [\"you@example.com\"]"),
            );
        }
        for (i, to) in self.to.iter().enumerate() {
            if let Err(e) = to.parse::<Mailbox>() {
                problems.push(
                    Problem::at(
                        &at(&["email", "to", &i.to_string()]),
                        format!("{to:?} is not an e-mail address: {e}"),
                    )
                    .hint("write e.g. \"you@example.com\""),
                );
            }
        }
        problems
    }
}
