//! Sender authentication as the engine sees it: the [`Authenticator`] interface and the [`AuthReport`] it returns.
//!
//! The engine is synchronous and detectors are pure, so authentication (which needs DNS) happens before the
//! detectors run: [`crate::Engine::with_authenticator`] installs an implementation (`mamori-auth` provides one that
//! verifies SPF, DKIM, DMARC and ARC with live DNS or a static record file, or trusts only the organisation's own
//! `Authentication-Results` headers), the engine calls it once per message, hands the report to detectors through
//! [`crate::Context::auth`], and writes it into the verdict's `auth` field. This module only defines the data; the
//! `authentication` detector turns it into `auth.*` findings.
//!
//! Results use the RFC 8601 vocabulary (`pass`, `fail`, `softfail`, `neutral`, `none`, `temperror`,
//! `permerror`, `policy`) so the JSON reads like the `Authentication-Results` header administrators know.

use std::net::IpAddr;

use mamori_mail::{Envelope, Message};
use serde::{Deserialize, Serialize};

/// Checks who really sent a message. Implementations may do I/O (DNS) but must bound it in time: the engine
/// calls them on its worker threads, once per message, before the detectors run.
pub trait Authenticator: Send + Sync {
    /// Short name for logs.
    fn name(&self) -> &'static str;

    /// Authenticates one message. `raw` is the message as received (headers and body bytes exactly as they
    /// arrived), or `None` when only a parsed message is available ([`crate::Engine::judge`]); without it
    /// signatures cannot be verified and an implementation should say so in the report instead of failing them.
    /// Never panics and never blocks longer than the implementation's configured time budget.
    fn authenticate(
        &self,
        raw: Option<&[u8]>,
        message: &Message,
        envelope: &Envelope,
    ) -> AuthReport;
}

/// Everything known about the authenticity of one message. Serialised as the verdict's `auth` field
/// (`docs/auth.md`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthReport {
    /// How the results below were obtained.
    pub method: AuthMethod,
    /// In `headers` mode: the trusted `Authentication-Results` authserv-id the results were taken from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authserv_id: Option<String>,
    /// The SMTP envelope the checks used, and where it came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope: Option<EnvelopeFacts>,
    /// SPF for the MAIL FROM domain (or the HELO name for the null sender).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spf: Option<SpfCheck>,
    /// One entry per DKIM signature.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dkim: Vec<DkimCheck>,
    /// DMARC for the From domain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dmarc: Option<DmarcCheck>,
    /// ARC chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arc: Option<ArcCheck>,
    /// `Authentication-Results` headers that were not trusted: written by other servers, or claiming to be
    /// ours but inserted before the message reached us (forged).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub foreign_results: Vec<ForeignResults>,
    /// DNS work done for this message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<DnsUsage>,
    /// Why something was not checked (no envelope, raw bytes unavailable, truncated message, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Where the results of an [`AuthReport`] come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// Nothing was checked (authentication off, or no trusted results present).
    #[default]
    None,
    /// Verified by mamori against live DNS.
    Dns,
    /// Verified by mamori against a static record file (`--dns-records`).
    Records,
    /// Taken from an `Authentication-Results` header written by one of the organisation's own servers.
    Headers,
}

/// One authentication result, in RFC 8601 terms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthStatus {
    /// Authenticated.
    Pass,
    /// Definitely not authenticated.
    Fail,
    /// SPF: probably not authorised.
    #[serde(rename = "softfail")]
    SoftFail,
    /// No statement either way (or a signature that could not be checked).
    Neutral,
    /// Nothing to check (no record, no signature).
    #[default]
    None,
    /// A transient problem (DNS timeout, budget exhausted): try again later.
    #[serde(rename = "temperror")]
    TempError,
    /// A permanent problem (broken record, malformed signature, too many SPF lookups).
    #[serde(rename = "permerror")]
    PermError,
    /// Verified, but not acceptable under local policy (e.g. a key below the minimum size).
    Policy,
}

impl AuthStatus {
    /// The RFC 8601 name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthStatus::Pass => "pass",
            AuthStatus::Fail => "fail",
            AuthStatus::SoftFail => "softfail",
            AuthStatus::Neutral => "neutral",
            AuthStatus::None => "none",
            AuthStatus::TempError => "temperror",
            AuthStatus::PermError => "permerror",
            AuthStatus::Policy => "policy",
        }
    }

    /// Parses an RFC 8601 result name (case-insensitive); unknown names are `None`.
    pub fn parse(name: &str) -> Option<AuthStatus> {
        Some(match name.to_ascii_lowercase().as_str() {
            "pass" => AuthStatus::Pass,
            "fail" | "hardfail" => AuthStatus::Fail,
            "softfail" => AuthStatus::SoftFail,
            "neutral" => AuthStatus::Neutral,
            "none" => AuthStatus::None,
            "temperror" | "error" => AuthStatus::TempError,
            "permerror" => AuthStatus::PermError,
            "policy" => AuthStatus::Policy,
            _ => return None,
        })
    }
}

impl std::fmt::Display for AuthStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The SMTP envelope used by the checks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EnvelopeFacts {
    /// Where the facts come from.
    pub source: EnvelopeSource,
    /// SMTP client address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<IpAddr>,
    /// HELO/EHLO name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helo: Option<String>,
    /// MAIL FROM (empty for the null sender).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail_from: Option<String>,
    /// For `received`: the trusted relay whose `Received` header recorded the client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
    /// True when the client is outside the organisation's trusted relays (mail arriving from the Internet);
    /// `None` when that cannot be told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external: Option<bool>,
}

/// Origin of the envelope facts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvelopeSource {
    /// No envelope facts.
    #[default]
    None,
    /// Given by the caller: the milter's SMTP session, or `scan --client-ip/--helo/--mail-from`.
    Given,
    /// Read from the `Received` header a configured trusted relay added when it accepted the message.
    Received,
}

/// SPF result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpfCheck {
    /// Result.
    pub result: AuthStatus,
    /// Domain whose policy was evaluated.
    pub domain: String,
    /// `mailfrom` or `helo`: which identity was checked.
    pub identity: String,
    /// Why, in words (explanation, error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Result of one DKIM signature.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DkimCheck {
    /// Result.
    pub result: AuthStatus,
    /// Signing domain (`d=`), when the signature parsed that far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Selector (`s=`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Algorithm (`a=`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// True when `d=` is aligned (relaxed: same organisational domain) with the From domain.
    pub aligned: bool,
    /// Why it did not pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// DMARC result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DmarcCheck {
    /// Result: `pass`, `fail`, `none` (no policy published), `temperror`, `permerror`.
    pub result: AuthStatus,
    /// The From (author) domain.
    pub from_domain: String,
    /// The published policy that applies.
    pub policy: DmarcPolicy,
    /// SPF passed for a domain aligned with From.
    pub spf_aligned: bool,
    /// A DKIM signature passed for a domain aligned with From.
    pub dkim_aligned: bool,
    /// When the failure is excused by a trusted ARC sealer that saw DMARC pass before a forwarder changed the
    /// message: which sealer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arc_override: Option<String>,
}

/// A DMARC policy (`p=`/`sp=`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DmarcPolicy {
    /// No policy record, or none applies.
    #[default]
    Unspecified,
    /// Monitor only.
    None,
    /// Treat failing mail as suspicious.
    Quarantine,
    /// Refuse failing mail.
    Reject,
}

impl DmarcPolicy {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            DmarcPolicy::Unspecified => "unspecified",
            DmarcPolicy::None => "none",
            DmarcPolicy::Quarantine => "quarantine",
            DmarcPolicy::Reject => "reject",
        }
    }
}

/// ARC chain result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ArcCheck {
    /// Chain validation: `pass`, `fail`, `none`.
    pub result: AuthStatus,
    /// Number of ARC sets.
    pub sets: u32,
    /// Sealing domains, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sealers: Vec<String>,
    /// Why it did not pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An `Authentication-Results` header that was not trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ForeignResults {
    /// Its authserv-id.
    pub authserv_id: String,
    /// True when it claims one of the organisation's own authserv-ids but was already in the message when the
    /// organisation's first server received it: written by the sender to fake a pass.
    pub forged: bool,
    /// Its method results, e.g. `spf=pass dkim=pass dmarc=pass`.
    pub summary: String,
}

/// DNS work done for one message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DnsUsage {
    /// Lookups asked of the resolver layer (cache hits included).
    pub lookups: u32,
    /// Wall time of all checks, milliseconds.
    pub elapsed_ms: u64,
    /// True when the per-message time or lookup budget ran out; unfinished checks are `temperror`.
    pub budget_exhausted: bool,
}

impl AuthReport {
    /// True when any result was obtained (verified or trusted).
    pub fn evaluated(&self) -> bool {
        self.spf.is_some() || !self.dkim.is_empty() || self.dmarc.is_some()
    }

    /// Whether the From domain is authenticated: `Some(true)` when DMARC passed (possibly excused by a trusted
    /// ARC sealer), an aligned DKIM signature passed, or SPF passed for an aligned domain; `Some(false)` when
    /// checks ran and none of that holds; `None` when nothing was checked or only transient errors came back.
    pub fn from_authenticated(&self) -> Option<bool> {
        if !self.evaluated() {
            return None;
        }
        if let Some(dmarc) = &self.dmarc
            && (dmarc.result == AuthStatus::Pass
                || dmarc.spf_aligned
                || dmarc.dkim_aligned
                || dmarc.arc_override.is_some())
        {
            return Some(true);
        }
        if self
            .dkim
            .iter()
            .any(|d| d.aligned && d.result == AuthStatus::Pass)
        {
            return Some(true);
        }
        let transient = |s: AuthStatus| s == AuthStatus::TempError;
        let all_transient = self.spf.as_ref().is_none_or(|s| transient(s.result))
            && self.dkim.iter().all(|d| transient(d.result))
            && self.dmarc.as_ref().is_none_or(|d| transient(d.result));
        if all_transient {
            return None;
        }
        Some(false)
    }

    /// One line in `Authentication-Results` style: `spf=pass (mailfrom example.com) dkim=pass (d=example.com)
    /// dmarc=pass (p=reject) [records]`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(spf) = &self.spf {
            parts.push(format!(
                "spf={} ({} {})",
                spf.result, spf.identity, spf.domain
            ));
        }
        for d in self.dkim.iter().take(5) {
            parts.push(format!(
                "dkim={} (d={})",
                d.result,
                d.domain.as_deref().unwrap_or("?")
            ));
        }
        if let Some(d) = &self.dmarc {
            parts.push(format!("dmarc={} (p={})", d.result, d.policy.as_str()));
        }
        if let Some(a) = &self.arc {
            parts.push(format!("arc={}", a.result));
        }
        if parts.is_empty() {
            parts.push("nothing checked".into());
        }
        let method = match self.method {
            AuthMethod::None => "none".to_string(),
            AuthMethod::Dns => "dns".to_string(),
            AuthMethod::Records => "records".to_string(),
            AuthMethod::Headers => {
                format!("headers of {}", self.authserv_id.as_deref().unwrap_or("?"))
            }
        };
        format!("{} [{method}]", parts.join(" "))
    }

    /// The best DKIM result for a domain aligned with From, if any signature is aligned.
    pub fn aligned_dkim(&self) -> Option<&DkimCheck> {
        self.dkim
            .iter()
            .filter(|d| d.aligned)
            .min_by_key(|d| (d.result != AuthStatus::Pass) as u8)
    }
}

/// Compact `method=result` summary of RFC 8601 results, for evidence lines.
pub fn summarise(results: &[mamori_mail::AuthResult]) -> String {
    let parts: Vec<String> = results
        .iter()
        .take(8)
        .map(|r| format!("{}={}", r.method, r.result))
        .collect();
    if parts.is_empty() {
        "no results".to_string()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_round_trip() {
        for s in [
            AuthStatus::Pass,
            AuthStatus::Fail,
            AuthStatus::SoftFail,
            AuthStatus::Neutral,
            AuthStatus::None,
            AuthStatus::TempError,
            AuthStatus::PermError,
            AuthStatus::Policy,
        ] {
            assert_eq!(AuthStatus::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert_eq!(AuthStatus::parse("bogus"), None);
    }

    #[test]
    fn from_authenticated() {
        let mut r = AuthReport::default();
        assert_eq!(r.from_authenticated(), None);
        r.spf = Some(SpfCheck {
            result: AuthStatus::TempError,
            ..SpfCheck::default()
        });
        assert_eq!(r.from_authenticated(), None);
        r.dkim.push(DkimCheck {
            result: AuthStatus::Pass,
            aligned: false,
            ..DkimCheck::default()
        });
        assert_eq!(r.from_authenticated(), Some(false));
        r.dkim.push(DkimCheck {
            result: AuthStatus::Pass,
            aligned: true,
            ..DkimCheck::default()
        });
        assert_eq!(r.from_authenticated(), Some(true));
        assert!(r.aligned_dkim().is_some());
    }
}
