//! Which addresses are ours, which destinations are allow-listed, and which are not worth analysing at all.
//!
//! Internal = the built-in private/local ranges ([`DEFAULT_INTERNAL`]) + the configured CIDRs + (optionally) any
//! originator Zeek itself marked `local_orig=T` (the sensor's `Site::local_nets`, which is how sites with public
//! address space such as universities are described). Allow-list entries are IPs, CIDRs or domain names; domain
//! entries match a destination only when a name for it is known (see [`crate::names`]).

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// Ranges treated as internal unless told otherwise: RFC 1918, shared address space (RFC 6598), link-local,
/// loopback, IPv6 unique-local (RFC 4193), IPv6 link-local and loopback.
pub const DEFAULT_INTERNAL: &[&str] = &[
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "127.0.0.0/8",
    "fc00::/7",
    "fe80::/10",
    "::1/128",
];

/// How an address is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrClass {
    /// Ours.
    Internal,
    /// Somewhere on the Internet.
    External,
    /// Multicast, broadcast or unspecified: never a conversation partner.
    NonRoutable,
}

/// Error in a network or allow-list entry.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    /// Not an IP, CIDR or domain.
    #[error("{0:?} is not an IP address, CIDR or domain name")]
    BadEntry(String),
    /// Not an IP or CIDR.
    #[error("{0:?} is not an IP address or CIDR")]
    BadNetwork(String),
}

/// An allow-list entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowEntry {
    /// An address or network.
    Net(IpNet),
    /// A domain and all its subdomains (lower-case, no trailing dot).
    Domain(String),
}

impl FromStr for AllowEntry {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(net) = parse_net(s) {
            return Ok(Self::Net(net));
        }
        let d = s
            .trim_start_matches("*.")
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let valid = !d.is_empty()
            && d.len() <= 253
            && d.contains('.')
            && d.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                    && !l.starts_with('-')
            });
        if valid {
            Ok(Self::Domain(d))
        } else {
            Err(PolicyError::BadEntry(s.to_string()))
        }
    }
}

/// Parse `a.b.c.d`, `a.b.c.d/n`, IPv6 or IPv6/n.
pub fn parse_net(s: &str) -> Result<IpNet, PolicyError> {
    let s = s.trim();
    if let Ok(net) = s.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    s.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| PolicyError::BadNetwork(s.to_string()))
}

/// Internal networks and allow-list.
#[derive(Debug, Clone)]
pub struct NetworkPolicy {
    internal: Vec<IpNet>,
    /// Treat originators that Zeek marked `local_orig=T` as internal.
    pub trust_zeek_local: bool,
    allow_nets: Vec<IpNet>,
    allow_domains: Vec<String>,
}

impl Default for NetworkPolicy {
    fn default() -> Self {
        Self {
            internal: DEFAULT_INTERNAL
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect(),
            trust_zeek_local: true,
            allow_nets: Vec::new(),
            allow_domains: Vec::new(),
        }
    }
}

impl NetworkPolicy {
    /// Add an internal network.
    pub fn add_internal(&mut self, net: IpNet) {
        self.internal.push(net);
    }

    /// Add an allow-list entry.
    pub fn allow(&mut self, entry: AllowEntry) {
        match entry {
            AllowEntry::Net(n) => self.allow_nets.push(n),
            AllowEntry::Domain(d) => self.allow_domains.push(d),
        }
    }

    /// Whether any domain entries exist (then names are worth collecting).
    pub fn has_domain_rules(&self) -> bool {
        !self.allow_domains.is_empty()
    }

    /// Classify an address by the configured networks alone.
    pub fn classify(&self, ip: IpAddr) -> AddrClass {
        let non_routable = match ip {
            IpAddr::V4(a) => a.is_multicast() || a.is_broadcast() || a.is_unspecified(),
            IpAddr::V6(a) => a.is_multicast() || a.is_unspecified(),
        };
        if non_routable {
            AddrClass::NonRoutable
        } else if self.internal.iter().any(|n| n.contains(&ip)) {
            AddrClass::Internal
        } else {
            AddrClass::External
        }
    }

    /// Whether a destination address is allow-listed by IP/CIDR.
    pub fn allowed_ip(&self, ip: IpAddr) -> bool {
        self.allow_nets.iter().any(|n| n.contains(&ip))
    }

    /// Whether a host name is allow-listed (the name or a parent domain is listed).
    pub fn allowed_name(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.allow_domains.iter().any(|d| {
            name == *d
                || (name.len() > d.len()
                    && name.ends_with(d.as_str())
                    && name.as_bytes()[name.len() - d.len() - 1] == b'.')
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn classification() {
        let mut p = NetworkPolicy::default();
        assert_eq!(p.classify(ip("192.168.1.115")), AddrClass::Internal);
        assert_eq!(p.classify(ip("fd2d:ab8c:225::1")), AddrClass::Internal);
        assert_eq!(p.classify(ip("41.108.179.197")), AddrClass::External);
        assert_eq!(p.classify(ip("224.0.0.252")), AddrClass::NonRoutable);
        assert_eq!(p.classify(ip("ff02::fb")), AddrClass::NonRoutable);
        assert_eq!(p.classify(ip("255.255.255.255")), AddrClass::NonRoutable);
        assert_eq!(p.classify(ip("147.32.81.167")), AddrClass::External);
        p.add_internal(parse_net("147.32.0.0/16").unwrap());
        assert_eq!(p.classify(ip("147.32.81.167")), AddrClass::Internal);
    }

    #[test]
    fn allow_entries() {
        let mut p = NetworkPolicy::default();
        for e in ["91.228.164.0/22", "8.8.8.8", "*.eset.com", "Dropbox.com."] {
            p.allow(e.parse().unwrap());
        }
        assert!(p.allowed_ip(ip("91.228.167.171")));
        assert!(p.allowed_ip(ip("8.8.8.8")));
        assert!(!p.allowed_ip(ip("8.8.4.4")));
        assert!(p.allowed_name("update.eset.com"));
        assert!(p.allowed_name("eset.com"));
        assert!(p.allowed_name("client.DROPBOX.com"));
        assert!(!p.allowed_name("evil-eset.com"));
        assert!(!p.allowed_name("eset.com.evil.net"));
        for bad in ["", "localhost", "a b.com", "-x.com", "1.2.3.4/40"] {
            assert!(bad.parse::<AllowEntry>().is_err(), "{bad}");
        }
        assert_eq!(parse_net("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
    }
}
