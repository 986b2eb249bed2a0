//! What a notification says: a [`Notice`] per problem (or per recovery), and the [`Message`]
//! that carries one notice, or a digest of many, to every channel: a `text` a person (and a
//! Slack incoming webhook) reads, and the notices as structured fields.
//!
//! A notice is masked when it is made: no secret of flows.toml (nor the notifier's own) ever
//! enters it, and with `redact_personal_data` no e-mail address, name or address either.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::config::Config;
use crate::dashboard::mask::Mask;
use crate::privacy::redact;
use crate::state::Trouble;

/// A problem, or the end of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Something needs the merchant.
    Problem,
    /// A problem told before is over.
    Resolved,
}

/// One problem or recovery, as every channel tells it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    /// A problem, or its end.
    pub status: Status,
    /// What is (or was) wrong.
    pub trouble: Trouble,
    /// The flow.
    pub flow: String,
    /// The flow's source and target connections.
    pub source: String,
    /// The target connection.
    pub target: String,
    /// The record's kind ("order", "stock"), for a record.
    pub kind: Option<String>,
    /// The record's key (an order number, a SKU), for a record.
    pub record: Option<String>,
    /// The system the problem is about (a connection's name).
    pub system: String,
    /// What went wrong, or for a recovery what happened now.
    pub error: String,
    /// What to do about it.
    pub fix: Option<String>,
    /// Where the dashboard shows it, when the dashboard is on.
    pub link: Option<String>,
    /// The run it was seen in.
    pub run: Option<u64>,
    /// When it was seen.
    pub at: DateTime<Utc>,
}

impl Notice {
    /// "orders: order 10006" or "orders".
    fn subject(&self) -> String {
        match (&self.kind, &self.record) {
            (Some(kind), Some(key)) => format!("{}: {kind} {key}", self.flow),
            _ => self.flow.clone(),
        }
    }

    /// One line: what, where, why.
    fn headline(&self) -> String {
        let what = match (self.status, self.trouble) {
            (Status::Problem, Trouble::RunFailed) => "the run failed",
            (Status::Problem, Trouble::Failed) => "failed",
            (Status::Problem, Trouble::Parked) => "waits too long",
            (Status::Resolved, Trouble::RunFailed) => "runs again",
            (Status::Resolved, _) => "resolved",
        };
        format!(
            "{} ({} → {}) {what}",
            self.subject(),
            self.source,
            self.target
        )
    }
}

/// What one notification carries: one notice, or a digest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// For Slack and for people: the whole message as text.
    pub text: String,
    /// Problems or recoveries.
    pub status: Status,
    /// A one-line summary (the e-mail's subject).
    pub subject: String,
    /// The notices, as structured fields.
    pub notices: Vec<Notice>,
    /// The dashboard, when it is on.
    pub dashboard: Option<String>,
}

/// How many notices a digest lists in its text (all of them are in its fields).
const LISTED: usize = 20;

impl Message {
    /// One message for `notices` (all of one status, at least one).
    pub fn new(status: Status, notices: Vec<Notice>, dashboard: Option<&str>) -> Message {
        let mut text = String::new();
        let subject = match notices.as_slice() {
            [one] => {
                let mark = if status == Status::Problem {
                    "⚠"
                } else {
                    "✓"
                };
                text.push_str(&format!("{mark} tillbridge: {}\n", one.headline()));
                let label = if status == Status::Problem {
                    "Error"
                } else {
                    "Now"
                };
                text.push_str(&format!("{label}: {}\n", one.error));
                if status == Status::Problem {
                    text.push_str(&format!("System: {}\n", one.system));
                }
                if let Some(fix) = &one.fix {
                    text.push_str(&format!("What to do: {fix}\n"));
                }
                if let Some(link) = &one.link {
                    text.push_str(&format!("Details: {link}\n"));
                }
                format!("tillbridge: {}", one.headline())
            }
            many => {
                let flows = flows_of(many);
                let summary = match status {
                    Status::Problem => format!("{} problems in {flows}", many.len()),
                    Status::Resolved => format!("{} problems resolved in {flows}", many.len()),
                };
                text.push_str(&format!("tillbridge: {summary}\n"));
                for notice in many.iter().take(LISTED) {
                    text.push_str(&format!("• {}: {}", notice.headline(), notice.error));
                    if let Some(fix) = &notice.fix {
                        text.push_str(&format!(" — what to do: {fix}"));
                    }
                    text.push('\n');
                }
                if many.len() > LISTED {
                    text.push_str(&format!(
                        "… and {} more{}\n",
                        many.len() - LISTED,
                        if dashboard.is_some() {
                            " (see the dashboard)"
                        } else {
                            " (see `tillbridge runs`)"
                        }
                    ));
                }
                if let Some(base) = dashboard {
                    text.push_str(&format!("Dashboard: {base}\n"));
                }
                format!("tillbridge: {summary}")
            }
        };
        Message {
            text,
            status,
            subject,
            notices,
            dashboard: dashboard.map(String::from),
        }
    }
}

/// "orders" or "orders, stock".
fn flows_of(notices: &[Notice]) -> String {
    let mut flows: Vec<&str> = notices.iter().map(|n| n.flow.as_str()).collect();
    flows.sort_unstable();
    flows.dedup();
    flows.join(", ")
}

/// Keeps secrets (always) and personal data (with `redact_personal_data`) out of notices.
pub struct Privacy {
    mask: Mask,
}

impl Privacy {
    /// For a configuration: its secrets, the notifier's own (the webhook URL, the SMTP login)
    /// and the dashboard's token.
    pub fn new(config: &Config) -> Privacy {
        let notify = &config.notify;
        let email = notify.email.as_ref();
        let own: Vec<&str> = notify
            .webhook
            .iter()
            .chain(email.and_then(|e| e.user.as_ref()))
            .chain(email.and_then(|e| e.password.as_ref()))
            .chain(config.dashboard.token.as_ref())
            .map(String::as_str)
            .collect();
        Privacy {
            mask: Mask::new(config, &own),
        }
    }

    /// A text as a notice may carry it. `record` is the record as the source gave it (when
    /// known): its personal values (names, addresses) are taken out too.
    pub fn text(&self, text: &str, record: Option<&Value>) -> String {
        let mut text = self.mask.scrub(self.mask.text(text));
        if self.mask.redacts()
            && let Some(record) = record
        {
            let mut personal = Vec::new();
            redact::record(record.clone(), &mut personal);
            text = redact::scrub(&text, &personal);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn notice(key: &str) -> Notice {
        Notice {
            status: Status::Problem,
            trouble: Trouble::Failed,
            flow: "orders".into(),
            source: "shop".into(),
            target: "pos".into(),
            kind: Some("order".into()),
            record: Some(key.into()),
            system: "pos".into(),
            error: "refused by pos: invalid: no street (at street)".into(),
            fix: Some("correct street of order in shop".into()),
            link: None,
            run: Some(3),
            at: Utc::now(),
        }
    }

    #[test]
    fn one_notice_says_flow_record_system_error_and_fix() {
        let message = Message::new(Status::Problem, vec![notice("10006")], Some("http://x/"));
        assert!(
            message
                .text
                .contains("orders: order 10006 (shop → pos) failed")
        );
        assert!(message.text.contains("Error: refused by pos"));
        assert!(message.text.contains("System: pos"));
        assert!(message.text.contains("What to do: correct street"));
        assert_eq!(message.notices.len(), 1);
    }

    #[test]
    fn a_digest_lists_a_bounded_number_and_counts_the_rest() {
        let notices: Vec<Notice> = (0..30)
            .map(|i| notice(&format!("{}", 10_000 + i)))
            .collect();
        let message = Message::new(Status::Problem, notices, None);
        assert!(message.subject.contains("30 problems in orders"));
        assert_eq!(message.text.matches("• ").count(), LISTED);
        assert!(message.text.contains("… and 10 more"));
        assert_eq!(message.notices.len(), 30);
    }

    #[test]
    fn no_secret_and_with_redaction_no_personal_data_is_left_in_a_text() {
        let text = r#"
[host]
redact_personal_data = true

[plugins.shopware]
file = "builtin:shopware"

[connections.shop]
plugin = "shopware"
url = "http://127.0.0.1:8801"
secrets = { client_id = "${ID}", client_secret = "${SECRET}" }

[notify]
webhook = "${HOOK}"
"#;
        let vars = |name: &str| {
            match name {
                "ID" => Some("SWIACLIENTID"),
                "SECRET" => Some("very-secret-value"),
                "HOOK" => Some("https://hooks.example.com/T0/secret-path"),
                _ => None,
            }
            .map(String::from)
        };
        let config = Config::parse(Path::new("flows.toml"), text, &vars, &["shopware"]).unwrap();
        let record = serde_json::json!({
            "customer": { "email": "ada@example.nl", "person": { "first_name": "Ada", "last_name": "Jansen" } },
            "billing_address": { "street": "Kerkstraat", "house_number": "12" }
        });
        let said = Privacy::new(&config).text(
            "refused very-secret-value of SWIACLIENTID (told https://hooks.example.com/T0/secret-path): Ada Jansen <ada@example.nl>, Kerkstraat 12",
            Some(&record),
        );
        for leak in [
            "very-secret-value",
            "SWIACLIENTID",
            "secret-path",
            "Ada",
            "Jansen",
            "ada@example.nl",
            "Kerkstraat",
        ] {
            assert!(!said.contains(leak), "{leak} in {said}");
        }
        assert!(said.starts_with("refused [secret] of [secret]"), "{said}");
    }
}
