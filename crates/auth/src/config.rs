//! The `[auth]` section of `mamori.toml`: how sender authentication is done, which servers are ours, and the
//! bounds on DNS work. Every field has a default, so an empty section (or none) is valid.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How results are obtained.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// No authentication at all (no `auth` field in verdicts).
    Off,
    /// No DNS: trust `Authentication-Results` only from the configured `authserv_ids` (the organisation's own
    /// MTAs, which checked the message when it arrived) and report the others. The default, because it is the only
    /// correct choice for stored mail: SPF records and DKIM keys change, so re-checking old mail against today's DNS
    /// gives wrong answers.
    #[default]
    Headers,
    /// Verify SPF, DKIM, DMARC and ARC against live DNS (the milter; `scan --live-dns` for fresh mail).
    Dns,
    /// Verify against a static record file (`records_file`, or `scan --dns-records FILE`); unknown names answer
    /// NXDOMAIN and nothing is sent to the network. For tests and investigations.
    Records,
}

/// The `[auth]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// How results are obtained.
    pub mode: AuthMode,
    /// The authserv-ids of the organisation's own MTAs (`Authentication-Results: <id>; …`). Only their results
    /// are trusted; the same id in a header the sender wrote is reported as forged.
    pub authserv_ids: Vec<String>,
    /// The organisation's relays: host names (`mx1.example.co.jp`, or `.example.co.jp` for a whole domain) and
    /// IP networks (`192.0.2.0/24`, `2001:db8::/32`). The client the first trusted relay received the message from
    /// gives the envelope in `scan`, and mail from outside them is "external".
    pub trusted_relays: Vec<String>,
    /// ARC sealers (signing domains, e.g. `google.com`, `lists.example.org`) whose recorded DMARC pass excuses a
    /// DMARC failure caused by their forwarding.
    pub trusted_arc_sealers: Vec<String>,
    /// Static record file for `mode = "records"` (format: `docs/auth.md`).
    pub records_file: Option<PathBuf>,
    /// Name servers for `mode = "dns"` (`192.0.2.53`, `[2001:db8::53]:5353`); empty means the system's
    /// (`/etc/resolv.conf`).
    pub nameservers: Vec<String>,
    /// Timeout of one DNS query, milliseconds.
    pub dns_timeout_ms: u64,
    /// Attempts per DNS query.
    pub dns_attempts: usize,
    /// Wall-time budget for all DNS work on one message, milliseconds; unfinished checks become `temperror`.
    pub message_budget_ms: u64,
    /// Most DNS lookups for one message (SPF's own limit of 10 applies within it).
    pub max_lookups: u32,
    /// Most DKIM signatures verified per message; a message with more gets `permerror`.
    pub max_signatures: usize,
    /// Entries kept in the shared DNS result cache.
    pub cache_entries: usize,
    /// Smallest RSA key accepted for DKIM (RFC 8301: 1024).
    pub min_rsa_bits: usize,
    /// This host's name, for SPF's `%{r}` macro.
    pub hostname: Option<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            mode: AuthMode::default(),
            authserv_ids: Vec::new(),
            trusted_relays: Vec::new(),
            trusted_arc_sealers: Vec::new(),
            records_file: None,
            nameservers: Vec::new(),
            dns_timeout_ms: 2_000,
            dns_attempts: 2,
            message_budget_ms: 5_000,
            max_lookups: 40,
            max_signatures: 20,
            cache_entries: 20_000,
            min_rsa_bits: 1024,
            hostname: None,
        }
    }
}
