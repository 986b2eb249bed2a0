//! What a page may show. Secrets never: every configured secret (and the dashboard's token) is
//! replaced in every answer, whatever put it there. Personal data not when
//! `redact_personal_data` is on: records are redacted as the activity log is, and e-mail
//! addresses in keys and messages are shortened to a hint ("a…@….nl").

use serde_json::Value;

use crate::config::Config;
use crate::privacy::redact;

/// What takes a secret's place.
const SECRET: &str = "[secret]";

/// Secrets shorter than this are not searched for (they would match ordinary words); flows.toml
/// secrets are credentials, far longer.
const MIN_SECRET_LEN: usize = 6;

/// Masks what a page must not show.
pub struct Mask {
    redact: bool,
    secrets: Vec<String>,
}

impl Mask {
    /// For a configuration, and the dashboard's token.
    pub fn new(config: &Config, tokens: &[&str]) -> Self {
        let mut secrets: Vec<String> = config
            .connections
            .values()
            .flat_map(|c| c.secrets.values())
            .chain(config.plugins.values().flat_map(|p| p.secrets.values()))
            .map(String::as_str)
            .chain(tokens.iter().copied())
            .filter(|s| s.len() >= MIN_SECRET_LEN)
            .map(String::from)
            .collect();
        // The longest first, so that a secret containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Mask {
            redact: config.host.redact_personal_data,
            secrets,
        }
    }

    /// Whether personal data is masked.
    pub fn redacts(&self) -> bool {
        self.redact
    }

    /// A text as a page shows it.
    pub fn text(&self, text: &str) -> String {
        if self.redact {
            mask_emails(text)
        } else {
            text.to_string()
        }
    }

    /// A record (canonical JSON) as a page shows it, pretty-printed.
    pub fn json(&self, value: &Value) -> String {
        let value = if self.redact {
            redact::record(value.clone(), &mut Vec::new())
        } else {
            value.clone()
        };
        self.text(&serde_json::to_string_pretty(&value).unwrap_or_default())
    }

    /// A whole answer with every secret replaced.
    pub fn scrub(&self, mut body: String) -> String {
        for secret in &self.secrets {
            if body.contains(secret.as_str()) {
                body = body.replace(secret.as_str(), SECRET);
            }
        }
        body
    }
}

/// Every e-mail address in `text` shortened to its first letter and top-level domain.
fn mask_emails(text: &str) -> String {
    let is_part = |c: char| c.is_alphanumeric() || "._%+-@".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        // A sentence's full stop is not part of the address.
        let address = word.trim_end_matches('.');
        match mask_email(address) {
            Some(masked) => {
                out.push_str(&masked);
                out.push_str(&word[address.len()..]);
            }
            None => out.push_str(word),
        }
        word.clear();
    };
    for c in text.chars() {
        if is_part(c) {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

fn mask_email(word: &str) -> Option<String> {
    let (local, domain) = word.split_once('@')?;
    let tld = domain.rsplit_once('.')?.1;
    let first = local.chars().next()?;
    (!tld.is_empty() && !domain.starts_with('.')).then(|| format!("{first}…@….{tld}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_addresses_are_shortened_in_any_text() {
        assert_eq!(
            mask_emails("customer ada.jansen@example.nl (5) created; also Bo@x.be."),
            "customer a…@….nl (5) created; also B…@….be."
        );
        assert_eq!(
            mask_emails("SKU TB-MUG-01 @ 12.95"),
            "SKU TB-MUG-01 @ 12.95"
        );
    }
}
