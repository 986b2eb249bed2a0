//! What the merchant should do about a problem, in one sentence, read from the error a run or a
//! record ended with ("create product TB-POSTER-01 in pos, then it goes by itself", "check the
//! API key of shop"), and which of the two systems it is about.
//!
//! Errors reach notifications as the words the run recorded, so these are read from the words
//! the host and its connectors use (`CallError`, `PluginError`'s "authentication:", "invalid:",
//! "transient:"); what is not recognised gets the general advice to look at the run.

use crate::config::Config;

/// Which connection an error is about: the first connection named in it, else `target`.
pub fn system(error: &str, target: &str, config: &Config) -> String {
    config
        .connections
        .keys()
        .filter_map(|name| word_at(error, name).map(|at| (at, name)))
        .min()
        .map_or_else(|| target.to_string(), |(_, name)| name.clone())
}

/// Where `word` stands as a word of its own in `text`.
fn word_at(text: &str, word: &str) -> Option<usize> {
    let is_word = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    text.match_indices(word).map(|(at, _)| at).find(|&at| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

fn mentions(error: &str, words: &[&str]) -> bool {
    let error = error.to_lowercase();
    words.iter().any(|w| error.contains(w))
}

/// Advice for an error that is about the credentials, the reachability or the limits of
/// `system`, or a plugin; `None` for anything else.
fn common(error: &str, system: &str, config: &Config) -> Option<String> {
    if mentions(
        error,
        &[
            "authentication",
            "unauthorized",
            "unauthorised",
            "credentials",
            "forbidden",
            " 401",
            " 403",
        ],
    ) {
        let plugin = config
            .connections
            .get(system)
            .and_then(|c| config.plugins.get(&c.plugin))
            .map(|p| p.file.as_str());
        let which = match plugin {
            Some("builtin:shopware") => {
                " (its integration's access key ID and secret, Settings › System › Integrations)"
            }
            Some("builtin:ccv-salespos") => {
                " (its public key and secret, API settings in the CCV back office)"
            }
            _ => "",
        };
        return Some(format!(
            "check the API key of {system}{which}: the `secrets` of [connections.{system}] in flows.toml and the environment variables they name; the next run tries again"
        ));
    }
    if mentions(error, &["not among the allowed hosts"]) {
        return Some(
            "add the host to `allowed_hosts` in flows.toml if the request should be allowed".into(),
        );
    }
    if mentions(
        error,
        &[
            "was stopped",
            "crashed",
            "memory limit",
            "cpu_budget_ms",
            "call_timeout_secs",
        ],
    ) {
        return Some("a plugin was stopped: see the log; raise its limits under [plugins] in flows.toml if the work is real, or tell the plugin's author".into());
    }
    if mentions(
        error,
        &[
            "transient:",
            "rate limited",
            "timed out",
            "timeout",
            "connection refused",
            "unreachable",
            "error sending request",
            "cannot reach",
            "503",
            "502",
            "500",
        ],
    ) {
        return Some(format!(
            "{system} did not answer or was busy: check that it is up and reachable; the next run tries again by itself"
        ));
    }
    None
}

/// What to do about a run that stopped with `error`.
pub fn for_run(error: &str, system: &str, run: u64, config: &Config) -> String {
    common(error, system, config).unwrap_or_else(|| {
        format!("see what run {run} did (`tillbridge activity {run}` or the dashboard) and correct the cause; the next run tries again")
    })
}

/// How a failed record waits, as the notifier found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waits {
    /// It does not wait: the next run reads it again (stock, products, customers).
    No,
    /// It waits as failed until retried or skipped by hand.
    UntilRetried,
    /// It is sent again by the next run by itself.
    NextRun,
}

/// Where a record is: its flow, the flow's source, its kind and its key.
pub struct Place<'a> {
    /// The flow's name.
    pub flow: &'a str,
    /// The connection it comes from.
    pub source: &'a str,
    /// "order", "stock".
    pub kind: &'a str,
    /// Its key.
    pub key: &'a str,
}

/// What to do about a record that failed with `error`.
pub fn for_record(
    error: &str,
    system: &str,
    at: &Place<'_>,
    waits: Waits,
    config: &Config,
) -> String {
    let Place {
        flow: flow_name,
        source,
        kind,
        key,
    } = *at;
    if waits == Waits::NextRun {
        return format!(
            "nothing yet: it is checked and sent again by the next run; if this goes on, check that {system} is up and reachable"
        );
    }
    let cause = common(error, system, config).unwrap_or_else(|| {
        if let Some(field) = invalid_field(error) {
            format!(
                "correct {field} of {kind} {key} in {source} (or the mapping of [flows.{flow_name}] in flows.toml)"
            )
        } else if mentions(error, &["payment method"]) {
            "map the payment method in the settings of the payment-map plugin in flows.toml".into()
        } else {
            format!(
                "correct {kind} {key} in {source} (or the mapping of [flows.{flow_name}] in flows.toml)"
            )
        }
    });
    match waits {
        Waits::UntilRetried => format!(
            "{cause}, then send it again: Retry on the dashboard or `tillbridge retry {flow_name}/{key}` (Skip gives up on it)"
        ),
        _ => format!("{cause}; the next run tries it again"),
    }
}

/// What to do about a record parked for products the target lacks.
pub fn for_parked(missing: &[String], target: &str) -> String {
    match missing {
        [] => format!("make what it waits for in {target}, then it goes by itself"),
        [one] => format!("create product {one} in {target}, then it goes by itself"),
        many => format!(
            "create products {} in {target}, then it goes by itself",
            many.join(", ")
        ),
    }
}

/// The field an "invalid: … (at FIELD)" error names.
fn invalid_field(error: &str) -> Option<&str> {
    let (_, rest) = error.split_once("invalid:")?;
    let (_, field) = rest.rsplit_once("(at ")?;
    field.strip_suffix(')').map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_found_as_a_word_only() {
        assert_eq!(word_at("cannot read orders from shop: x", "shop"), Some(24));
        assert_eq!(word_at("the webshop answered", "shop"), None);
        assert_eq!(word_at("pos-archive and pos", "pos"), Some(16));
    }

    #[test]
    fn the_field_of_an_invalid_record() {
        assert_eq!(
            invalid_field("refused by pos: invalid: too long (at street)"),
            Some("street")
        );
        assert_eq!(invalid_field("refused by pos: fatal: boom"), None);
    }

    #[test]
    fn parked_records_name_what_to_create() {
        assert_eq!(
            for_parked(&["TB-POSTER-01".into()], "pos"),
            "create product TB-POSTER-01 in pos, then it goes by itself"
        );
    }
}
