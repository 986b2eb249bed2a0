//! Which hosts a plugin may call: `host`, `host:port` or `*.domain` entries from flows.toml.

use url::Url;

/// The hosts one plugin may call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// Lower-case host; a leading "*." allows every subdomain.
    host: String,
    port: Option<u16>,
}

impl AllowList {
    /// An allow list from entries like "shop.example.com", "127.0.0.1:8801", "*.ccvshop.nl".
    pub fn new<S: AsRef<str>>(entries: &[S]) -> Self {
        let entries = entries
            .iter()
            .filter_map(|e| {
                let e = e.as_ref().trim().to_ascii_lowercase();
                let (host, port) = match e.rsplit_once(':') {
                    // "host:port" and "[::1]:port"; a bare IPv6 address has colons but no port.
                    Some((host, port))
                        if !port.is_empty()
                            && port.bytes().all(|b| b.is_ascii_digit())
                            && (!host.contains(':') || host.ends_with(']')) =>
                    {
                        (host.to_string(), port.parse().ok())
                    }
                    _ => (e.clone(), None),
                };
                (!host.is_empty()).then_some(Entry { host, port })
            })
            .collect();
        AllowList { entries }
    }

    /// The host part of a URL as an allow-list entry ("host:port" when it has a port).
    pub fn entry_for(url: &str) -> Option<String> {
        let url = Url::parse(url).ok()?;
        let host = url.host_str()?.to_ascii_lowercase();
        Some(match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        })
    }

    /// Whether a request to `url` is allowed (http and https only).
    pub fn allows(&self, url: &Url) -> bool {
        if !matches!(url.scheme(), "http" | "https") {
            return false;
        }
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
            return false;
        };
        let port = url.port_or_known_default();
        self.entries.iter().any(|e| {
            let host_ok = match e.host.strip_prefix("*.") {
                Some(domain) => host.ends_with(&format!(".{domain}")),
                None => e.host == host,
            };
            host_ok && e.port.is_none_or(|p| Some(p) == port)
        })
    }

    /// The entries, as written.
    pub fn describe(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|e| match e.port {
                Some(port) => format!("{}:{port}", e.host),
                None => e.host.clone(),
            })
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
    fn hosts_ports_and_subdomains() {
        assert!(allows(
            &["shop.example.com"],
            "https://SHOP.example.com/api"
        ));
        assert!(allows(&["127.0.0.1:8801"], "http://127.0.0.1:8801/api"));
        assert!(!allows(&["127.0.0.1:8801"], "http://127.0.0.1:8802/api"));
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
    fn entries_for_urls() {
        assert_eq!(
            AllowList::entry_for("http://127.0.0.1:8801/x").as_deref(),
            Some("127.0.0.1:8801")
        );
        assert_eq!(
            AllowList::entry_for("https://Shop.Example.com").as_deref(),
            Some("shop.example.com")
        );
    }
}
