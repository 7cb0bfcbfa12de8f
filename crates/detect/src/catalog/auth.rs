//! Finding ids of sender authentication: SPF, DKIM, DMARC, ARC and `Authentication-Results` trust
//! (`crate::detectors::authentication` turns the [`crate::auth::AuthReport`] into these).

use super::FindingSpec;
use crate::finding::Category::{Anomaly, Benign, Phishing};
use crate::finding::Severity::{High, Info, Low, Medium};

/// Ids of the authentication section.
pub static SPECS: &[FindingSpec] = &[
    super::finding_spec!(
        "auth.spf.fail",
        Phishing,
        Medium,
        1.5,
        ["T1672"],
        "SPF fail",
        "The SMTP client is not authorised to send for the MAIL FROM domain (SPF `-all` matched): spoofed envelope \
         sender, or forwarding without SRS."
    ),
    super::finding_spec!(
        "auth.spf.softfail",
        Anomaly,
        Low,
        0.5,
        ["T1672"],
        "SPF softfail",
        "The MAIL FROM domain's SPF record says the client is probably not authorised (`~all`)."
    ),
    super::finding_spec!(
        "auth.spf.permerror",
        Anomaly,
        Low,
        0.5,
        [],
        "Broken SPF record",
        "The SPF record cannot be evaluated: syntax error, include of a domain without SPF, or more than the 10 DNS \
         lookups RFC 7208 allows (include loops end here)."
    ),
    super::finding_spec!(
        "auth.spf.temperror",
        Anomaly,
        Info,
        0.0,
        [],
        "SPF not checked (temporary error)",
        "A DNS error or the per-message DNS budget stopped the SPF check; context only."
    ),
    super::finding_spec!(
        "auth.dkim.fail",
        Anomaly,
        Low,
        1.0,
        ["T1672"],
        "DKIM signature does not verify",
        "A DKIM signature fails: the body or signed headers changed after signing (mailing lists, forged content) or \
         the signature was made with another key."
    ),
    super::finding_spec!(
        "auth.dkim.permerror",
        Anomaly,
        Low,
        0.5,
        [],
        "Unusable DKIM signature",
        "A DKIM-Signature is malformed (missing or bad tags, unsupported algorithm), its key record is missing, \
         revoked or garbage, or the signature has expired."
    ),
    super::finding_spec!(
        "auth.dkim.temperror",
        Anomaly,
        Info,
        0.0,
        [],
        "DKIM not checked (temporary error)",
        "A DNS error or the per-message DNS budget stopped a DKIM check; context only."
    ),
    super::finding_spec!(
        "auth.dkim.weak_key",
        Anomaly,
        Low,
        0.5,
        [],
        "DKIM key below 1024 bits",
        "An RSA signing key shorter than the 1024 bits RFC 8301 requires; such signatures are not accepted."
    ),
    super::finding_spec!(
        "auth.dmarc.fail",
        Phishing,
        Medium,
        2.0,
        ["T1672", "T1656"],
        "DMARC fail",
        "Neither SPF nor DKIM authenticates a domain aligned with the From domain, which publishes DMARC with \
         `p=none` (monitoring): the visible sender is not proven."
    ),
    super::finding_spec!(
        "auth.dmarc.quarantine",
        Phishing,
        High,
        3.0,
        ["T1672", "T1656"],
        "DMARC fail, policy quarantine",
        "The From domain is not authenticated and its owner asks receivers to treat such mail as suspicious \
         (`p=quarantine`)."
    ),
    super::finding_spec!(
        "auth.dmarc.reject",
        Phishing,
        High,
        4.0,
        ["T1672", "T1656"],
        "DMARC fail, policy reject",
        "The From domain is not authenticated and its owner asks receivers to refuse such mail (`p=reject`): \
         a spoofed From, or a forwarder that broke the signature without ARC."
    ),
    super::finding_spec!(
        "auth.dmarc.temperror",
        Anomaly,
        Info,
        0.0,
        [],
        "DMARC not checked (temporary error)",
        "The DMARC record could not be fetched (DNS error or budget); context only."
    ),
    super::finding_spec!(
        "auth.dmarc.permerror",
        Anomaly,
        Low,
        0.3,
        [],
        "Broken DMARC record",
        "The From domain publishes a DMARC record that cannot be parsed."
    ),
    super::finding_spec!(
        "auth.dmarc.arc_override",
        Benign,
        Info,
        0.0,
        [],
        "DMARC failure excused by a trusted ARC sealer",
        "DMARC fails here, but a configured trusted forwarder (ARC sealer) recorded a DMARC pass before it changed \
         the message; the failure is not held against the sender."
    ),
    super::finding_spec!(
        "auth.arc.fail",
        Anomaly,
        Low,
        0.5,
        [],
        "Broken ARC chain",
        "The ARC chain does not validate: a forwarder's seal is broken, missing or forged."
    ),
    super::finding_spec!(
        "auth.none",
        Anomaly,
        Low,
        0.3,
        [],
        "Nothing authenticates the sender",
        "Authentication ran but neither SPF nor any DKIM signature passed for any domain."
    ),
    super::finding_spec!(
        "auth.pass",
        Benign,
        Info,
        0.0,
        [],
        "Sender domain authenticated",
        "The From domain is authenticated (DMARC pass, or an aligned DKIM or SPF pass). Context: attackers \
         authenticate their own lookalike domains too."
    ),
    super::finding_spec!(
        "auth.results.forged",
        Phishing,
        High,
        4.0,
        ["T1672", "T1656"],
        "Forged Authentication-Results",
        "An Authentication-Results header claims to come from one of the organisation's own servers but was already \
         in the message when it arrived: the sender wrote it to fake a pass."
    ),
    super::finding_spec!(
        "auth.results.untrusted",
        Anomaly,
        Info,
        0.0,
        [],
        "Authentication-Results from other servers ignored",
        "Authentication-Results headers written by servers that are not configured as trusted were ignored \
         (normal for forwarded mail; context only)."
    ),
    super::finding_spec!(
        "auth.dns.budget_exhausted",
        Anomaly,
        Info,
        0.0,
        [],
        "DNS budget for authentication exhausted",
        "The per-message DNS time or lookup budget ran out (slow or hostile DNS, huge SPF trees, many signatures); \
         unfinished checks are temperror."
    ),
];
