//! One Zeek `conn.log` record, reduced to the fields the analytics use. A plain `Copy` value: parsing a line
//! allocates nothing.

use std::net::IpAddr;

/// Transport protocol of a connection (Zeek's `proto` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP / ICMPv6.
    Icmp,
    /// Anything else or unset.
    #[default]
    Other,
}

impl Proto {
    /// Parse Zeek's lower-case enum value.
    pub fn from_bytes(b: &[u8]) -> Self {
        match b {
            b"tcp" => Self::Tcp,
            b"udp" => Self::Udp,
            b"icmp" | b"icmp6" => Self::Icmp,
            _ => Self::Other,
        }
    }

    /// Lower-case name as Zeek writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
            Self::Icmp => "icmp",
            Self::Other => "other",
        }
    }
}

/// Application protocols Zeek recognised on a connection (its `service` field, a comma list), as bit flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Services(pub u8);

impl Services {
    /// HTTP.
    pub const HTTP: u8 = 1;
    /// SSL/TLS (includes QUIC).
    pub const TLS: u8 = 2;
    /// DNS.
    pub const DNS: u8 = 4;
    /// SSH.
    pub const SSH: u8 = 8;
    /// Any other recognised service (ftp, smtp, irc, …).
    pub const OTHER: u8 = 16;

    /// Parse a `service` value such as `ssl,http` (`-`/empty handled by the caller as no service).
    pub fn from_bytes(b: &[u8]) -> Self {
        let mut flags = 0;
        for part in b.split(|&c| c == b',') {
            let part = part.trim_ascii();
            flags |= match part {
                b"" => 0,
                b"http" => Self::HTTP,
                b"ssl" | b"tls" | b"quic" => Self::TLS,
                b"dns" => Self::DNS,
                b"ssh" => Self::SSH,
                _ => Self::OTHER,
            };
        }
        Self(flags)
    }

    /// Whether a flag is set.
    pub fn has(self, flag: u8) -> bool {
        self.0 & flag != 0
    }

    /// Names of the set flags, for evidence.
    pub fn names(self) -> Vec<&'static str> {
        [
            (Self::HTTP, "http"),
            (Self::TLS, "ssl"),
            (Self::DNS, "dns"),
            (Self::SSH, "ssh"),
            (Self::OTHER, "other"),
        ]
        .into_iter()
        .filter(|(f, _)| self.has(*f))
        .map(|(_, n)| n)
        .collect()
    }
}

/// One connection as the analytics see it. Unset numeric Zeek values (`-`) become 0; unset booleans `None`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConnRecord {
    /// Connection start, seconds since the Unix epoch (or since capture start in relabelled datasets).
    pub ts: f64,
    /// Originator address.
    pub orig_h: IpAddr,
    /// Originator port.
    pub orig_p: u16,
    /// Responder address.
    pub resp_h: IpAddr,
    /// Responder port.
    pub resp_p: u16,
    /// Transport protocol.
    pub proto: Proto,
    /// Recognised application protocols.
    pub service: Services,
    /// Duration in seconds.
    pub duration: f64,
    /// Payload bytes sent by the originator.
    pub orig_bytes: u64,
    /// Payload bytes sent by the responder.
    pub resp_bytes: u64,
    /// IP-level bytes sent by the originator (headers included).
    pub orig_ip_bytes: u64,
    /// IP-level bytes sent by the responder.
    pub resp_ip_bytes: u64,
    /// Zeek's `local_orig` (originator inside `Site::local_nets`), when the sensor was configured with them.
    pub local_orig: Option<bool>,
    /// Zeek's `local_resp`.
    pub local_resp: Option<bool>,
}
