//! Which origins a plugin may call: `https://host`, `http://host:port` or `https://*.domain`
//! entries from flows.toml. Scheme, host and port are exact: an entry without a port allows the
//! scheme's default port only, and an entry without a scheme means https.

use url::Url;

/// The origins one plugin may call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    entries: Vec<Entry>,
    /// Whether the names of these entries may resolve to private, loopback or link-local
    /// addresses (a system on the local network, `private_network` in flows.toml).
    private_network: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// "http" or "https".
    scheme: String,
    /// Lower-case host; a leading "*." allows every subdomain.
    host: String,
    port: u16,
}

impl Entry {
    /// Reads "https://shop.example.com", "http://127.0.0.1:8801", "*.ccvshop.nl".
    fn parse(text: &str) -> Result<Entry, String> {
        let text = text.trim().to_ascii_lowercase();
        let (scheme, rest) = text.split_once("://").unwrap_or(("https", &text));
        let default_port = match scheme {
            "https" => 443,
            "http" => 80,
            _ => return Err(format!("{text:?} is neither http nor https")),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) {
            return Err(format!(
                "{text:?} is more than an origin: leave out paths, queries and user names"
            ));
        }
        let (host, port) = match rest.rsplit_once(':') {
            // "host:port" and "[::1]:port"; an IPv6 address without brackets does not read.
            Some((host, port)) if !host.contains(':') || host.ends_with(']') => {
                let port = port
                    .parse()
                    .map_err(|_| format!("{port:?} in {text:?} is not a port"))?;
                (host, port)
            }
            _ => (rest, default_port),
        };
        let bare = host.strip_prefix("*.").unwrap_or(host);
        if bare.is_empty() || Url::parse(&format!("{scheme}://{bare}/")).is_err() {
            return Err(format!("{text:?} does not name a host"));
        }
        Ok(Entry {
            scheme: scheme.to_string(),
            host: host.to_string(),
            port,
        })
    }

    fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let host_ok = match self.host.strip_prefix("*.") {
            Some(domain) => host.ends_with(&format!(".{domain}")),
            None => self.host == host,
        };
        host_ok && self.scheme == scheme && self.port == port
    }
}

/// An origin as an entry is written: the port only when it is not the scheme's default.
fn origin(scheme: &str, host: &str, port: u16) -> String {
    match (scheme, port) {
        ("https", 443) | ("http", 80) => format!("{scheme}://{host}"),
        _ => format!("{scheme}://{host}:{port}"),
    }
}

impl AllowList {
    /// An allow list from entries like "https://shop.example.com", "http://127.0.0.1:8801",
    /// "*.ccvshop.nl"; entries that do not read (see [`Self::check`]) allow nothing.
    pub fn new<S: AsRef<str>>(entries: &[S]) -> Self {
        AllowList {
            entries: entries
                .iter()
                .filter_map(|e| Entry::parse(e.as_ref()).ok())
                .collect(),
            private_network: false,
        }
    }

    /// The same list, its names allowed to resolve to private addresses or not.
    pub fn with_private_network(self, private_network: bool) -> Self {
        AllowList {
            private_network,
            ..self
        }
    }

    /// Whether names may resolve to private, loopback and link-local addresses.
    pub fn private_network(&self) -> bool {
        self.private_network
    }

    /// What is wrong with an entry, in words for flows.toml.
    pub fn check(entry: &str) -> Result<(), String> {
        Entry::parse(entry).map(|_| ())
    }

    /// The origin of a URL as an allow-list entry ("http://127.0.0.1:8801").
    pub fn entry_for(url: &str) -> Option<String> {
        let url = Url::parse(url).ok()?;
        let host = url.host_str()?.to_ascii_lowercase();
        Some(origin(url.scheme(), &host, url.port_or_known_default()?))
    }

    /// Whether a request to `url` is allowed: its scheme, host and port are those of an entry.
    pub fn allows(&self, url: &Url) -> bool {
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return false;
        };
        let host = host.to_ascii_lowercase();
        self.entries
            .iter()
            .any(|e| e.allows(url.scheme(), &host, port))
    }

    /// The entries, as origins.
    pub fn describe(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|e| origin(&e.scheme, &e.host, e.port))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(list: &[&str], url: &str) -> bool {
        AllowList::new(list).allows(&Url::parse(url).unwrap())
    }

    #[test]
    fn hosts_and_subdomains() {
        assert!(allows(
            &["https://shop.example.com"],
            "https://SHOP.example.com/api"
        ));
        assert!(allows(
            &["*.ccvshop.nl"],
            "https://demo.ccvshop.nl/api/rest/v1/"
        ));
        assert!(!allows(&["*.ccvshop.nl"], "https://ccvshop.nl.evil.com/"));
        assert!(!allows(
            &["shop.example.com"],
            "https://shop.example.com.evil.com/"
        ));
        assert!(!allows(&["shop.example.com"], "ftp://shop.example.com/"));
        assert!(!allows(&[], "https://shop.example.com/"));
    }

    #[test]
    fn an_entry_without_a_port_allows_the_default_port_only() {
        assert!(allows(&["shop.example.com"], "https://shop.example.com/"));
        assert!(allows(
            &["shop.example.com"],
            "https://shop.example.com:443/"
        ));
        assert!(!allows(
            &["shop.example.com"],
            "https://shop.example.com:8443/"
        ));
        assert!(!allows(&["*.ccvshop.nl"], "https://demo.ccvshop.nl:22/"));
        assert!(allows(
            &["http://127.0.0.1:8801"],
            "http://127.0.0.1:8801/api"
        ));
        assert!(!allows(
            &["http://127.0.0.1:8801"],
            "http://127.0.0.1:8802/api"
        ));
        assert!(allows(&["http://[::1]:8801"], "http://[::1]:8801/"));
        assert!(!allows(&["http://[::1]:8801"], "http://[::1]/"));
    }

    #[test]
    fn the_scheme_is_exact() {
        assert!(
            !allows(&["shop.example.com"], "http://shop.example.com/"),
            "an entry without a scheme is https"
        );
        assert!(!allows(
            &["https://shop.example.com"],
            "http://shop.example.com:443/"
        ));
        assert!(!allows(
            &["http://127.0.0.1:8801"],
            "https://127.0.0.1:8801/"
        ));
        assert!(allows(
            &["http://shop.example.com"],
            "http://shop.example.com/"
        ));
        assert!(!allows(
            &["http://shop.example.com"],
            "https://shop.example.com/"
        ));
    }

    #[test]
    fn entries_that_do_not_read_are_named_and_allow_nothing() {
        for bad in [
            "ftp://shop.example.com",
            "https://shop.example.com/api",
            "https://user@shop.example.com",
            "shop.example.com:http",
            "https://",
            "*.",
            "::1",
        ] {
            assert!(AllowList::check(bad).is_err(), "{bad}");
            assert!(AllowList::new(&[bad]).describe().is_empty(), "{bad}");
        }
        for good in [
            "https://shop.example.com/",
            "127.0.0.1:8801",
            "*.ccvshop.nl",
            "http://[::1]:8080",
        ] {
            assert_eq!(AllowList::check(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn entries_for_urls_are_origins() {
        assert_eq!(
            AllowList::entry_for("http://127.0.0.1:8801/x").as_deref(),
            Some("http://127.0.0.1:8801")
        );
        assert_eq!(
            AllowList::entry_for("https://Shop.Example.com:443").as_deref(),
            Some("https://shop.example.com")
        );
        assert_eq!(
            AllowList::new(&["shop.example.com", "http://a.example:8080/"]).describe(),
            ["https://shop.example.com", "http://a.example:8080"]
        );
    }
}
