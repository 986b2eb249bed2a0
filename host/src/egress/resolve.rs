//! Name resolution for egress. The host resolves every name itself and checks each address before
//! it connects, so that a name on the allow list cannot be pointed at the local network (DNS
//! rebinding: an allowed name answering 127.0.0.1 or 169.254.169.254 a moment later). Private,
//! loopback, link-local and unspecified addresses are reached only when the grant names them: an
//! IP-literal entry (never resolved), `localhost` (loopback only), or a connection with
//! `private_network = true`.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The resolver of one egress client.
#[derive(Debug, Clone, Default)]
pub struct Resolver {
    /// Whether names may resolve to non-public addresses (`private_network`).
    private_network: bool,
    /// Fixed answers instead of the system's resolver (tests).
    fixed: Option<Arc<HashMap<String, Vec<IpAddr>>>>,
}

/// A name resolved to an address the grant does not cover.
#[derive(Debug)]
pub struct Refused {
    pub name: String,
    pub address: IpAddr,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} resolves to {}, a private, loopback or link-local address; write the address itself \
             in `allowed_hosts`, or set `private_network = true` on the connection if the system is \
             on the local network",
            self.name, self.address
        )
    }
}

impl std::error::Error for Refused {}

impl Resolver {
    /// A resolver that lets names resolve to non-public addresses or not.
    pub fn new(private_network: bool) -> Self {
        Resolver {
            private_network,
            fixed: None,
        }
    }

    /// A resolver answering from `hosts` instead of the system's (tests).
    #[cfg(test)]
    pub fn fixed(private_network: bool, hosts: HashMap<String, Vec<IpAddr>>) -> Self {
        Resolver {
            private_network,
            fixed: Some(Arc::new(hosts)),
        }
    }

    /// The first address of `name` this resolver refuses, if any.
    fn refused(&self, name: &str, addresses: &[SocketAddr]) -> Option<Refused> {
        let localhost = name.eq_ignore_ascii_case("localhost");
        addresses
            .iter()
            .map(SocketAddr::ip)
            .find(|ip| !(is_public(ip) || self.private_network || (localhost && ip.is_loopback())))
            .map(|address| Refused {
                name: name.to_string(),
                address,
            })
    }
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let name = name.as_str().to_string();
            let addresses: Vec<SocketAddr> = match &this.fixed {
                Some(hosts) => hosts
                    .get(&name)
                    .into_iter()
                    .flatten()
                    .map(|ip| SocketAddr::new(*ip, 0))
                    .collect(),
                None => tokio::net::lookup_host((name.as_str(), 0)).await?.collect(),
            };
            // One refused address refuses the name: a rebinding answer may mix in a public one.
            if let Some(refused) = this.refused(&name, &addresses) {
                return Err(refused.into());
            }
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

/// Whether an address is on the public internet: not private, loopback, link-local, unspecified,
/// shared (carrier-grade NAT), broadcast or multicast. An IPv4 address inside IPv6 counts as
/// itself.
pub fn is_public(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(&IpAddr::V4(v4)),
            None => {
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_unique_local()
                    || v6.is_unicast_link_local()
                    || v6.is_multicast())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn internal_ranges_are_not_public() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(&ip(internal)), "{internal}");
        }
        for public in ["93.184.216.34", "172.32.0.1", "2606:4700::1111"] {
            assert!(is_public(&ip(public)), "{public}");
        }
    }

    #[test]
    fn names_resolve_to_internal_addresses_only_when_granted() {
        let at = |text: &str| [SocketAddr::new(ip(text), 0)];
        let strict = Resolver::new(false);
        let refused = strict.refused("shop.example.com", &at("169.254.169.254"));
        assert!(
            refused
                .unwrap()
                .to_string()
                .contains("shop.example.com resolves to 169.254.169.254")
        );
        assert!(
            strict
                .refused("shop.example.com", &at("93.184.216.34"))
                .is_none()
        );
        assert!(strict.refused("localhost", &at("127.0.0.1")).is_none());
        assert!(strict.refused("localhost", &at("10.0.0.1")).is_some());
        let mixed = [SocketAddr::new(ip("93.184.216.34"), 0), at("127.0.0.1")[0]];
        assert!(strict.refused("shop.example.com", &mixed).is_some());
        assert!(
            Resolver::new(true)
                .refused("shop.lan", &at("192.168.1.5"))
                .is_none()
        );
    }
}
