//! The organisation's trusted relays: host names and IP networks from `[auth] trusted_relays`, plus the
//! authserv-ids (an MTA usually names itself the same way in `Received: … by` and in `Authentication-Results`).

use std::net::IpAddr;

use ipnet::IpNet;

/// Parsed `trusted_relays` and `authserv_ids`.
#[derive(Debug, Clone, Default)]
pub struct TrustedRelays {
    /// Exact host names, lower case.
    hosts: Vec<String>,
    /// Domain suffixes (`.example.co.jp`), lower case, with the leading dot.
    suffixes: Vec<String>,
    networks: Vec<IpNet>,
    authserv_ids: Vec<String>,
}

/// A `trusted_relays` entry that is neither a host name nor an IP network.
#[derive(Debug, thiserror::Error)]
#[error(
    "trusted_relays entry {0:?} is neither a host name, a .domain suffix nor an IP address or network"
)]
pub struct BadRelay(pub String);

impl TrustedRelays {
    /// Parses the configuration entries.
    pub fn new(entries: &[String], authserv_ids: &[String]) -> Result<TrustedRelays, BadRelay> {
        let mut relays = TrustedRelays {
            authserv_ids: authserv_ids
                .iter()
                .map(|a| a.trim().trim_end_matches('.').to_ascii_lowercase())
                .filter(|a| !a.is_empty())
                .collect(),
            ..TrustedRelays::default()
        };
        for entry in entries {
            let e = entry.trim().trim_end_matches('.').to_ascii_lowercase();
            if let Ok(net) = e.parse::<IpNet>() {
                relays.networks.push(net);
            } else if let Ok(ip) = e.parse::<IpAddr>() {
                relays.networks.push(IpNet::from(ip));
            } else if let Some(suffix) = e.strip_prefix("*.").or_else(|| e.strip_prefix('.')) {
                if !valid_host(suffix) {
                    return Err(BadRelay(entry.clone()));
                }
                relays.suffixes.push(format!(".{suffix}"));
            } else if valid_host(&e) {
                relays.hosts.push(e);
            } else {
                return Err(BadRelay(entry.clone()));
            }
        }
        Ok(relays)
    }

    /// True when nothing is configured (no relays and no authserv-ids).
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
            && self.suffixes.is_empty()
            && self.networks.is_empty()
            && self.authserv_ids.is_empty()
    }

    /// True when IP networks are configured, so that "external" can be told from a client address.
    pub fn has_networks(&self) -> bool {
        !self.networks.is_empty()
    }

    /// True when `host` (a `Received: by` name or client name) is one of ours.
    pub fn is_trusted_host(&self, host: &str) -> bool {
        let host = host
            .trim()
            .trim_matches(['[', ']'])
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if host.is_empty() {
            return false;
        }
        if let Ok(ip) = host.trim_start_matches("ipv6:").parse::<IpAddr>() {
            return self.is_trusted_ip(ip);
        }
        self.hosts.contains(&host)
            || self.authserv_ids.contains(&host)
            || self.suffixes.iter().any(|s| host.ends_with(s.as_str()))
    }

    /// True when `ip` is in a trusted network (loopback always is: local delivery).
    pub fn is_trusted_ip(&self, ip: IpAddr) -> bool {
        ip.is_loopback() || self.networks.iter().any(|n| n.contains(&ip))
    }

    /// True when `id` is one of the organisation's authserv-ids.
    pub fn is_own_authserv_id(&self, id: &str) -> bool {
        let id = id.trim().trim_end_matches('.').to_ascii_lowercase();
        self.authserv_ids.contains(&id)
    }
}

fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        let r = TrustedRelays::new(
            &[
                "mx1.example.co.jp".into(),
                ".internal.example.co.jp".into(),
                "192.0.2.0/24".into(),
                "2001:db8::1".into(),
            ],
            &["auth.example.co.jp".into()],
        )
        .unwrap();
        assert!(r.is_trusted_host("MX1.example.co.jp."));
        assert!(r.is_trusted_host("relay3.internal.example.co.jp"));
        assert!(r.is_trusted_host("auth.example.co.jp"));
        assert!(r.is_trusted_host("[192.0.2.7]"));
        assert!(!r.is_trusted_host("mx1.example.com"));
        assert!(r.is_trusted_ip("2001:db8::1".parse().unwrap()));
        assert!(!r.is_trusted_ip("198.51.100.1".parse().unwrap()));
        assert!(r.is_trusted_ip("127.0.0.1".parse().unwrap()));
        assert!(r.is_own_authserv_id("Auth.Example.co.jp"));
        assert!(TrustedRelays::new(&["not a host!".into()], &[]).is_err());
    }
}
