//! Verification with mail-auth: SPF for the envelope, DKIM for every signature, ARC, then DMARC from those, each
//! stage bounded by what is left of the message's time budget and by its lookup budget. mail-auth's results are
//! translated into the engine's [`AuthReport`] vocabulary here.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use mail_auth::dkim::DkimError;
use mail_auth::dmarc::Policy;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{
    ArcOutput, AuthenticatedMessage, DkimOutput, DkimResult, DmarcOutput, DmarcResult, Error,
    MessageAuthenticator, Parameters, SpfOutput, SpfResult, Txt,
};
use mamori_detect::auth::{
    ArcCheck, AuthStatus, DkimCheck, DmarcCheck, DmarcPolicy, EnvelopeFacts, SpfCheck,
};

use crate::align::aligned;
use crate::cache::{Budget, Caches, Metered};

/// What the stages need besides the message.
pub struct Job<'a> {
    /// The resolver mail-auth queries on cache misses.
    pub resolver: &'a MessageAuthenticator,
    /// Shared caches.
    pub caches: &'a Caches,
    /// This message's lookup budget.
    pub budget: &'a Budget,
    /// When all DNS work must be done.
    pub deadline: Instant,
    /// The envelope.
    pub envelope: Option<&'a EnvelopeFacts>,
    /// Raw message bytes usable for signatures (`None`: not available or truncated).
    pub raw: Option<&'a [u8]>,
    /// `%{r}` for SPF.
    pub hostname: &'a str,
    /// Smallest acceptable RSA key.
    pub min_rsa_bits: usize,
    /// Most DKIM signatures verified.
    pub max_signatures: usize,
    /// ARC sealers whose DMARC pass excuses a failure.
    pub trusted_sealers: &'a [String],
}

/// Results of the stages.
#[derive(Debug, Default)]
pub struct Outcome {
    /// SPF.
    pub spf: Option<SpfCheck>,
    /// DKIM.
    pub dkim: Vec<DkimCheck>,
    /// DMARC.
    pub dmarc: Option<DmarcCheck>,
    /// ARC.
    pub arc: Option<ArcCheck>,
    /// Why something was not checked.
    pub notes: Vec<String>,
}

const BUDGET_NOTE: &str = "DNS time budget exhausted";

impl Job<'_> {
    fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Runs every stage.
    pub async fn run(&self) -> Outcome {
        let mut out = Outcome::default();
        let txt = Metered::new(&self.caches.txt, self.budget);
        let mx = Metered::new(&self.caches.mx, self.budget);
        let v4 = Metered::new(&self.caches.ipv4, self.budget);
        let v6 = Metered::new(&self.caches.ipv6, self.budget);
        let ptr = Metered::new(&self.caches.ptr, self.budget);

        // --- SPF ---
        let mut spf_domain = String::new();
        let mut spf_output: Option<SpfOutput> = None;
        let mut spf_unfinished = false;
        match self.envelope.and_then(|e| e.client_ip.map(|ip| (e, ip))) {
            Some((envelope, ip)) => {
                let helo = envelope.helo.as_deref().unwrap_or_default();
                let mail_from = envelope
                    .mail_from
                    .as_deref()
                    .unwrap_or_default()
                    .trim_matches(['<', '>']);
                let (params, identity) = if mail_from.contains('@') {
                    (
                        SpfParameters::verify_mail_from(ip, helo, self.hostname, mail_from),
                        "mailfrom",
                    )
                } else {
                    (SpfParameters::verify_ehlo(ip, helo, self.hostname), "helo")
                };
                let params = Parameters::new(params)
                    .with_txt_cache(&txt)
                    .with_mx_cache(&mx)
                    .with_ipv4_cache(&v4)
                    .with_ipv6_cache(&v6)
                    .with_ptr_cache(&ptr);
                let exhausted_before = self.budget.exhausted();
                let result =
                    tokio::time::timeout(self.remaining(), self.resolver.verify_spf(params)).await;
                match result {
                    Ok(output) => {
                        spf_domain = output.domain().to_ascii_lowercase();
                        let mut check = spf_check(&output, identity, ip);
                        if !exhausted_before && self.budget.exhausted() {
                            check.result = AuthStatus::TempError;
                            check.reason = Some("per-message DNS lookup budget exhausted".into());
                            spf_unfinished = true;
                        }
                        out.spf = Some(check);
                        spf_output = Some(output);
                    }
                    Err(_) => {
                        self.budget.mark_exhausted();
                        spf_unfinished = true;
                        spf_domain = if mail_from.contains('@') {
                            mail_from.rsplit('@').next().unwrap_or_default().to_string()
                        } else {
                            helo.to_string()
                        };
                        out.spf = Some(SpfCheck {
                            result: AuthStatus::TempError,
                            domain: spf_domain.clone(),
                            identity: identity.to_string(),
                            reason: Some(BUDGET_NOTE.into()),
                        });
                    }
                }
            }
            None => out.notes.push(
                "SPF not checked: the SMTP client address is unknown (give --client-ip, or configure \
                 [auth] trusted_relays so it is read from the Received header)"
                    .into(),
            ),
        }

        // --- DKIM, ARC, DMARC: need the message as received ---
        let Some(raw) = self.raw else {
            out.notes.push(
                "DKIM, ARC and DMARC not checked: the message bytes as received are not available"
                    .into(),
            );
            return out;
        };
        let wire = to_wire_form(strip_mbox_separator(raw));
        let Some(message) = AuthenticatedMessage::parse(&wire) else {
            out.notes
                .push("DKIM, ARC and DMARC not checked: no header block found".into());
            return out;
        };
        let from_domain = message
            .from()
            .rsplit_once('@')
            .map(|(_, d)| d.trim_end_matches('>').to_ascii_lowercase());

        let signatures = message.dkim_headers.len();
        let mut dkim_outputs: Vec<DkimOutput<'_>> = Vec::new();
        let mut dkim_unfinished = false;
        if signatures > self.max_signatures {
            out.dkim.push(DkimCheck {
                result: AuthStatus::PermError,
                reason: Some(format!(
                    "{signatures} DKIM signatures, more than the {} verified per message",
                    self.max_signatures
                )),
                ..DkimCheck::default()
            });
        } else {
            let params = Parameters::new(&message)
                .with_txt_cache(&txt)
                .with_mx_cache(&mx)
                .with_ipv4_cache(&v4)
                .with_ipv6_cache(&v6)
                .with_ptr_cache(&ptr);
            let exhausted_before = self.budget.exhausted();
            match tokio::time::timeout(self.remaining(), self.resolver.verify_dkim(params)).await {
                Ok(outputs) => {
                    let spent = !exhausted_before && self.budget.exhausted();
                    for o in &outputs {
                        let mut check = self.dkim_check(o, from_domain.as_deref());
                        if spent && check.result != AuthStatus::Pass {
                            check.result = AuthStatus::TempError;
                            check.reason = Some("per-message DNS lookup budget exhausted".into());
                            dkim_unfinished = true;
                        }
                        out.dkim.push(check);
                    }
                    dkim_outputs = outputs;
                    // mail-auth drops signatures whose tags do not parse at all; report them.
                    for h in message.errors.iter().filter(|h| {
                        h.name.eq_ignore_ascii_case(b"DKIM-Signature")
                            && !matches!(h.header, Error::Dkim(_))
                    }) {
                        out.dkim.push(DkimCheck {
                            result: AuthStatus::PermError,
                            domain: tag_value(h.value, "d"),
                            selector: tag_value(h.value, "s"),
                            reason: Some(format!(
                                "malformed DKIM-Signature: {}",
                                describe(&h.header)
                            )),
                            ..DkimCheck::default()
                        });
                    }
                }
                Err(_) => {
                    self.budget.mark_exhausted();
                    dkim_unfinished = true;
                    for header in message.dkim_headers.iter().take(self.max_signatures) {
                        let sig = &header.header;
                        out.dkim.push(DkimCheck {
                            result: AuthStatus::TempError,
                            domain: Some(sig.d.to_ascii_lowercase()),
                            selector: Some(sig.s.clone()),
                            algorithm: Some(sig.a.name().to_string()),
                            aligned: from_domain.as_deref().is_some_and(|f| aligned(&sig.d, f)),
                            reason: Some(BUDGET_NOTE.into()),
                        });
                    }
                }
            }
        }

        let mut arc_output: Option<ArcOutput<'_>> = None;
        if !message.ams_headers.is_empty()
            || !message.as_headers.is_empty()
            || !message.aar_headers.is_empty()
            || message.has_arc_errors
        {
            let params = Parameters::new(&message)
                .with_txt_cache(&txt)
                .with_mx_cache(&mx)
                .with_ipv4_cache(&v4)
                .with_ipv6_cache(&v6)
                .with_ptr_cache(&ptr);
            match tokio::time::timeout(self.remaining(), self.resolver.verify_arc(params)).await {
                Ok(output) => {
                    out.arc = Some(arc_check(&output));
                    arc_output = Some(output);
                }
                Err(_) => {
                    self.budget.mark_exhausted();
                    out.arc = Some(ArcCheck {
                        result: AuthStatus::TempError,
                        sets: u32::try_from(message.as_headers.len()).unwrap_or(u32::MAX),
                        reason: Some(BUDGET_NOTE.into()),
                        ..ArcCheck::default()
                    });
                }
            }
        }

        let Some(from_domain) = from_domain else {
            out.notes.push("DMARC not checked: no From address".into());
            return out;
        };
        if spf_unfinished || dkim_unfinished {
            out.dmarc = Some(DmarcCheck {
                result: AuthStatus::TempError,
                from_domain,
                ..DmarcCheck::default()
            });
            return out;
        }
        let no_spf = SpfOutput::default();
        let spf_for_dmarc = spf_output.as_ref().unwrap_or(&no_spf);
        let params = Parameters::new(DmarcParameters::new(
            &message,
            &dkim_outputs,
            &spf_domain,
            spf_for_dmarc,
        ))
        .with_txt_cache(&txt)
        .with_mx_cache(&mx)
        .with_ipv4_cache(&v4)
        .with_ipv6_cache(&v6)
        .with_ptr_cache(&ptr);
        let exhausted_before = self.budget.exhausted();
        match tokio::time::timeout(self.remaining(), self.resolver.verify_dmarc(params)).await {
            Ok(output) => {
                let mut check = dmarc_check(&output, &from_domain);
                if !exhausted_before && self.budget.exhausted() {
                    check.result = AuthStatus::TempError;
                }
                if check.result == AuthStatus::Fail {
                    if spf_output.is_none() {
                        // Only DKIM could have passed it: without the envelope, "fail" is not established.
                        check.result = AuthStatus::Neutral;
                        out.notes.push(
                            "DMARC could only be evaluated through DKIM (no SMTP client address for SPF)".into(),
                        );
                    } else if let Some(arc) = &arc_output {
                        check.arc_override = self.arc_override(arc);
                    }
                }
                if check.result != AuthStatus::None || check.policy != DmarcPolicy::Unspecified {
                    out.dmarc = Some(check);
                } else {
                    out.dmarc = Some(DmarcCheck {
                        result: AuthStatus::None,
                        from_domain,
                        ..DmarcCheck::default()
                    });
                }
            }
            Err(_) => {
                self.budget.mark_exhausted();
                out.dmarc = Some(DmarcCheck {
                    result: AuthStatus::TempError,
                    from_domain,
                    ..DmarcCheck::default()
                });
            }
        }
        out
    }

    fn dkim_check(&self, output: &DkimOutput<'_>, from_domain: Option<&str>) -> DkimCheck {
        let sig = output.signature();
        let mut check = DkimCheck {
            domain: sig.map(|s| s.d.to_ascii_lowercase()),
            selector: sig.map(|s| s.s.clone()),
            algorithm: sig.map(|s| s.a.name().to_string()),
            aligned: match (sig, from_domain) {
                (Some(s), Some(f)) => aligned(&s.d, f),
                _ => false,
            },
            ..DkimCheck::default()
        };
        let key_bits = sig.and_then(|s| {
            let name = format!("{}._domainkey.{}.", s.s, s.d).to_ascii_lowercase();
            match self.caches.txt.peek(name.as_str()) {
                Some(Txt::DomainKey(key)) => Some(key.p.public_key_bits()),
                _ => None,
            }
        });
        let weak = key_bits.filter(|bits| *bits < self.min_rsa_bits);
        let weak_reason = |bits: usize| {
            format!(
                "RSA key of {bits} bits is below the {}-bit minimum (RFC 8301)",
                self.min_rsa_bits
            )
        };
        let (result, reason) = match output.result() {
            DkimResult::Pass => match weak {
                Some(bits) => (AuthStatus::Policy, Some(weak_reason(bits))),
                None => (AuthStatus::Pass, None),
            },
            DkimResult::Fail(err) => match weak {
                Some(bits) if self.min_rsa_bits <= 1024 || bits < 1024 => {
                    (AuthStatus::Fail, Some(weak_reason(bits)))
                }
                _ => (AuthStatus::Fail, Some(describe(err))),
            },
            DkimResult::Neutral(Error::Dkim(DkimError::FailedBodyHashMatch)) => (
                AuthStatus::Fail,
                Some("body hash mismatch: the body changed after signing".into()),
            ),
            DkimResult::Neutral(err) | DkimResult::PermError(err) => {
                (AuthStatus::PermError, Some(describe(err)))
            }
            DkimResult::TempError(err) => (AuthStatus::TempError, Some(describe(err))),
            DkimResult::None => (AuthStatus::None, None),
        };
        check.result = result;
        check.reason = reason;
        check
    }

    /// The trusted sealer (latest first) whose ARC-Authentication-Results recorded `dmarc=pass`, when the chain
    /// validates.
    fn arc_override(&self, arc: &ArcOutput<'_>) -> Option<String> {
        if !matches!(arc.result(), DkimResult::Pass) {
            return None;
        }
        for set in arc.sets().iter().rev() {
            let sealer = set.seal.header.d.to_ascii_lowercase();
            let trusted = self
                .trusted_sealers
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&sealer) || aligned(t, &sealer));
            if !trusted {
                continue;
            }
            let value = String::from_utf8_lossy(set.results.value);
            // "i=1; mx.google.com; dkim=pass …": drop the instance tag, the rest is an RFC 8601 value.
            let value = value.trim_start();
            let rest = value
                .split_once(';')
                .filter(|(head, _)| head.trim().to_ascii_lowercase().starts_with("i="))
                .map_or(value, |(_, rest)| rest);
            if let Some(ar) = mamori_mail::authres::parse(rest)
                && ar
                    .results
                    .iter()
                    .any(|r| r.method == "dmarc" && r.result == "pass")
            {
                return Some(sealer);
            }
        }
        None
    }
}

fn spf_check(output: &SpfOutput, identity: &str, ip: IpAddr) -> SpfCheck {
    let result = match output.result() {
        SpfResult::Pass => AuthStatus::Pass,
        SpfResult::Fail => AuthStatus::Fail,
        SpfResult::SoftFail => AuthStatus::SoftFail,
        SpfResult::Neutral => AuthStatus::Neutral,
        SpfResult::TempError => AuthStatus::TempError,
        SpfResult::PermError => AuthStatus::PermError,
        SpfResult::None => AuthStatus::None,
    };
    let reason = match result {
        AuthStatus::PermError => Some(
            "the SPF record is invalid, includes a domain without SPF, or needs more than 10 DNS lookups"
                .to_string(),
        ),
        AuthStatus::TempError => Some("DNS error while evaluating SPF".to_string()),
        AuthStatus::Fail | AuthStatus::SoftFail => Some(match output.explanation() {
            Some(exp) => format!("{ip} not authorised: {}", truncate(exp, 200)),
            None => format!("{ip} not authorised"),
        }),
        AuthStatus::None => Some("no SPF record".to_string()),
        _ => None,
    };
    SpfCheck {
        result,
        domain: output.domain().to_ascii_lowercase(),
        identity: identity.to_string(),
        reason,
    }
}

fn arc_check(output: &ArcOutput<'_>) -> ArcCheck {
    let (result, reason) = match output.result() {
        DkimResult::Pass => (AuthStatus::Pass, None),
        DkimResult::Fail(e) | DkimResult::Neutral(e) => (AuthStatus::Fail, Some(describe(e))),
        DkimResult::PermError(e) => (AuthStatus::PermError, Some(describe(e))),
        DkimResult::TempError(e) => (AuthStatus::TempError, Some(describe(e))),
        DkimResult::None => (AuthStatus::None, None),
    };
    ArcCheck {
        result,
        sets: u32::try_from(output.sets().len()).unwrap_or(u32::MAX),
        sealers: output
            .sets()
            .iter()
            .map(|s| s.seal.header.d.to_ascii_lowercase())
            .collect(),
        reason,
    }
}

fn dmarc_check(output: &DmarcOutput, from_domain: &str) -> DmarcCheck {
    let policy = if output.dmarc_record().is_none() {
        DmarcPolicy::Unspecified
    } else {
        match output.policy() {
            Policy::None => DmarcPolicy::None,
            Policy::Quarantine => DmarcPolicy::Quarantine,
            Policy::Reject => DmarcPolicy::Reject,
            Policy::Unspecified => DmarcPolicy::Unspecified,
        }
    };
    let spf_aligned = matches!(output.spf_result(), DmarcResult::Pass);
    let dkim_aligned = matches!(output.dkim_result(), DmarcResult::Pass);
    let result = if output.dmarc_record().is_none() {
        match (output.spf_result(), output.dkim_result()) {
            (DmarcResult::TempError(_), _) | (_, DmarcResult::TempError(_)) => {
                AuthStatus::TempError
            }
            (DmarcResult::PermError(_), _) | (_, DmarcResult::PermError(_)) => {
                AuthStatus::PermError
            }
            _ => AuthStatus::None,
        }
    } else {
        match output.result() {
            DmarcResult::Pass => AuthStatus::Pass,
            DmarcResult::Fail(_) => AuthStatus::Fail,
            DmarcResult::TempError(_) => AuthStatus::TempError,
            DmarcResult::PermError(_) => AuthStatus::PermError,
            DmarcResult::None => {
                if spf_aligned || dkim_aligned {
                    AuthStatus::Pass
                } else {
                    AuthStatus::Fail
                }
            }
        }
    };
    DmarcCheck {
        result,
        from_domain: if output.domain().is_empty() {
            from_domain.to_string()
        } else {
            output.domain().to_ascii_lowercase()
        },
        policy,
        spf_aligned,
        dkim_aligned,
        arc_override: None,
    }
}

/// A tag's value in a raw `tag=value; …` header, when it is short and plain.
fn tag_value(raw: &[u8], tag: &str) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    text.split(';')
        .filter_map(|t| t.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(tag))
        .map(|(_, v)| {
            v.split_whitespace()
                .collect::<String>()
                .to_ascii_lowercase()
        })
        .filter(|v| !v.is_empty() && v.len() <= 253)
}

/// mail-auth's errors in words administrators recognise.
fn describe(err: &Error) -> String {
    use mail_auth::DnsError;
    match err {
        Error::Dns(DnsError::RecordNotFound(_)) => "no key record (NXDOMAIN)".into(),
        Error::Dns(DnsError::InvalidRecordType) => "the key record is not a DKIM key".into(),
        Error::Dns(DnsError::Resolver(e)) => format!("DNS error: {}", truncate(e, 120)),
        Error::ParseError => "malformed signature or key record".into(),
        Error::MissingParameters => "signature lacks required tags".into(),
        Error::Dkim(DkimError::RevokedPublicKey) => "the key has been revoked (empty p=)".into(),
        Error::Dkim(DkimError::SignatureExpired) => "signature expired (x=)".into(),
        Error::Dkim(DkimError::SignatureLength) => {
            "signature covers only part of the body (l=), not accepted".into()
        }
        other => truncate(&other.to_string(), 160),
    }
}

fn truncate(s: &str, max: usize) -> String {
    let mut out: String = s.chars().take(max).collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

/// The message as it travelled over SMTP: lines end in CRLF. Stored mail (Maildir, mbox, `.eml` files written on
/// Unix) usually has bare LF, while signatures were computed over CRLF; "simple" header canonicalisation would
/// fail on every such message without this.
pub fn to_wire_form(raw: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let bare_lf = raw
        .iter()
        .enumerate()
        .any(|(i, b)| *b == b'\n' && (i == 0 || raw.get(i - 1) != Some(&b'\r')));
    if !bare_lf {
        return std::borrow::Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 32);
    let mut previous = 0u8;
    for &b in raw {
        if b == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        previous = b;
    }
    std::borrow::Cow::Owned(out)
}

/// Drops an mbox `From ` separator line, which is not part of the message.
pub fn strip_mbox_separator(raw: &[u8]) -> &[u8] {
    if raw.starts_with(b"From ") {
        match raw.iter().position(|b| *b == b'\n') {
            Some(i) => raw.get(i + 1..).unwrap_or_default(),
            None => &[],
        }
    } else {
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_and_mbox_separator() {
        assert_eq!(&*to_wire_form(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
        assert!(matches!(
            to_wire_form(b"a\r\nb\r\n"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(
            strip_mbox_separator(b"From x@y Mon\nFrom: a\n"),
            b"From: a\n"
        );
        assert_eq!(strip_mbox_separator(b"From: a\n"), b"From: a\n");
        assert_eq!(strip_mbox_separator(b"From x"), b"");
    }
}
