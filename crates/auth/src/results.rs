//! `Authentication-Results` trust (RFC 8601 §5): results are believed only when an organisation's own MTA wrote
//! them, i.e. the authserv-id is configured and the header sits above the `Received` header of the hop where the
//! message entered. The same authserv-id further down was written by the sender (forged); other authserv-ids are
//! reported and ignored.

use mamori_detect::auth::{
    ArcCheck, AuthStatus, DkimCheck, DmarcCheck, DmarcPolicy, ForeignResults, SpfCheck, summarise,
};
use mamori_mail::{AuthResult, AuthenticationResults, Message};

use crate::align::aligned;
use crate::envelope::Entry;
use crate::relays::TrustedRelays;

/// Most `Authentication-Results` headers looked at.
const MAX_HEADERS: usize = 50;

/// The outcome of sorting a message's `Authentication-Results` headers.
#[derive(Debug, Default)]
pub struct Sorted {
    /// Trusted headers, topmost first.
    pub trusted: Vec<AuthenticationResults>,
    /// Untrusted and forged headers.
    pub foreign: Vec<ForeignResults>,
}

/// Sorts the headers into trusted and foreign ones. `entry` is the hop where the message entered (from
/// [`crate::envelope::entry_hop`]); without it, own-id headers above every `Received` header are trusted and
/// own-id headers further down are reported as untrusted (not as forged: where the message entered is unknown).
pub fn sort(message: &Message, relays: &TrustedRelays, entry: Option<&Entry>) -> Sorted {
    let mut sorted = Sorted::default();
    let first_received = message
        .headers
        .iter()
        .position(|h| h.name.eq_ignore_ascii_case("Received"));
    let mut seen = 0;
    for (index, header) in message.headers.iter().enumerate() {
        if !header.name.eq_ignore_ascii_case("Authentication-Results") {
            continue;
        }
        seen += 1;
        if seen > MAX_HEADERS {
            break;
        }
        let Some(mut ar) = mamori_mail::authres::parse(&header.value) else {
            continue;
        };
        add_comment_policy(&mut ar, &header.value);
        if !relays.is_own_authserv_id(&ar.authserv_id) {
            sorted.foreign.push(ForeignResults {
                authserv_id: ar.authserv_id.clone(),
                forged: false,
                summary: summarise(&ar.results),
            });
            continue;
        }
        let (trusted, forged) = match entry {
            // Above the entry hop's Received header: added by us (the entry relay, or a later internal hop).
            Some(e) => (index < e.header_index, index > e.header_index),
            None => (first_received.is_none_or(|r| index < r), false),
        };
        if trusted {
            sorted.trusted.push(ar);
        } else {
            sorted.foreign.push(ForeignResults {
                authserv_id: ar.authserv_id.clone(),
                forged,
                summary: summarise(&ar.results),
            });
        }
    }
    sorted
}

/// MTAs write the DMARC policy in a comment (`dmarc=fail (p=REJECT sp=NONE dis=NONE)`), which the RFC 8601
/// parser drops; keep it as a `policy.dmarc` property.
fn add_comment_policy(ar: &mut AuthenticationResults, raw: &str) {
    let lower = raw.to_ascii_lowercase();
    let Some(start) = lower.find("dmarc=") else {
        return;
    };
    let clause = &lower[start..];
    let clause = &clause[..clause.find(';').unwrap_or(clause.len())];
    let policy = ["reject", "quarantine", "none"].into_iter().find(|p| {
        clause.contains(&format!("p={p}")) || clause.contains(&format!("policy.dmarc={p}"))
    });
    if let Some(policy) = policy
        && let Some(result) = ar.results.iter_mut().find(|r| r.method == "dmarc")
        && !result.properties.iter().any(|(k, _)| k == "policy.dmarc")
    {
        result
            .properties
            .push(("policy.dmarc".to_string(), policy.to_string()));
    }
}

/// The checks reported by trusted headers (the topmost result of each method wins).
#[derive(Debug, Default)]
pub struct TrustedChecks {
    /// The authserv-id the results come from.
    pub authserv_id: Option<String>,
    /// SPF.
    pub spf: Option<SpfCheck>,
    /// DKIM signatures.
    pub dkim: Vec<DkimCheck>,
    /// DMARC.
    pub dmarc: Option<DmarcCheck>,
    /// ARC.
    pub arc: Option<ArcCheck>,
}

/// Reads the checks out of the trusted headers.
pub fn checks(trusted: &[AuthenticationResults], from_domain: Option<&str>) -> TrustedChecks {
    let mut out = TrustedChecks {
        authserv_id: trusted.first().map(|a| a.authserv_id.clone()),
        ..TrustedChecks::default()
    };
    let mut dkim_from: Option<&str> = None;
    for ar in trusted {
        for r in &ar.results {
            let Some(status) = AuthStatus::parse(&r.result) else {
                continue;
            };
            match r.method.as_str() {
                "spf" if out.spf.is_none() => {
                    let (identity, domain) = match prop(r, "smtp.mailfrom") {
                        Some(v) => ("mailfrom", domain_part(v)),
                        None => (
                            "helo",
                            prop(r, "smtp.helo").map(domain_part).unwrap_or_default(),
                        ),
                    };
                    out.spf = Some(SpfCheck {
                        result: status,
                        domain,
                        identity: identity.to_string(),
                        reason: Some(format!("reported by {}", ar.authserv_id)),
                    });
                }
                // All signatures of the topmost trusted header that reports DKIM.
                "dkim" if dkim_from.is_none_or(|id| id == ar.authserv_id) => {
                    dkim_from = Some(&ar.authserv_id);
                    let domain = prop(r, "header.d")
                        .map(str::to_string)
                        .or_else(|| prop(r, "header.i").map(domain_part));
                    out.dkim.push(DkimCheck {
                        result: status,
                        aligned: match (domain.as_deref(), from_domain) {
                            (Some(d), Some(f)) => aligned(d, f),
                            _ => false,
                        },
                        domain,
                        selector: prop(r, "header.s").map(str::to_string),
                        algorithm: prop(r, "header.a").map(str::to_string),
                        reason: None,
                    });
                }
                "dmarc" if out.dmarc.is_none() => {
                    let policy = match prop(r, "policy.dmarc") {
                        Some("reject") => DmarcPolicy::Reject,
                        Some("quarantine") => DmarcPolicy::Quarantine,
                        Some("none") => DmarcPolicy::None,
                        _ => DmarcPolicy::Unspecified,
                    };
                    out.dmarc = Some(DmarcCheck {
                        result: status,
                        from_domain: prop(r, "header.from")
                            .map(str::to_string)
                            .or_else(|| from_domain.map(str::to_string))
                            .unwrap_or_default(),
                        policy,
                        ..DmarcCheck::default()
                    });
                }
                "arc" if out.arc.is_none() => {
                    out.arc = Some(ArcCheck {
                        result: status,
                        ..ArcCheck::default()
                    });
                }
                _ => {}
            }
        }
    }
    // Alignment as far as the reported results show it.
    if let Some(dmarc) = out.dmarc.as_mut() {
        let from = dmarc.from_domain.clone();
        dmarc.dkim_aligned = out.dkim.iter().any(|d| {
            d.result == AuthStatus::Pass && d.domain.as_deref().is_some_and(|x| aligned(x, &from))
        });
        dmarc.spf_aligned = out.spf.as_ref().is_some_and(|s| {
            s.result == AuthStatus::Pass && !s.domain.is_empty() && aligned(&s.domain, &from)
        });
        if dmarc.result == AuthStatus::Pass && !dmarc.dkim_aligned && !dmarc.spf_aligned {
            // The MTA saw an aligned pass that it did not itemise; trust its verdict.
            dmarc.spf_aligned = out
                .spf
                .as_ref()
                .is_some_and(|s| s.result == AuthStatus::Pass);
            dmarc.dkim_aligned = !dmarc.spf_aligned;
        }
    }
    out
}

fn prop<'a>(r: &'a AuthResult, key: &str) -> Option<&'a str> {
    r.properties
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn domain_part(v: &str) -> String {
    v.rsplit_once('@')
        .map_or(v, |(_, d)| d)
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::entry_hop;

    fn parse(raw: &str) -> Message {
        mamori_mail::parse(raw.as_bytes(), &mamori_mail::Limits::default())
    }

    const MSG: &str = "Authentication-Results: mx1.example.co.jp; spf=pass smtp.mailfrom=bounce@news.sender.example;\r\n\
\tdkim=pass header.d=sender.example header.s=s1; dmarc=pass (p=REJECT sp=NONE) header.from=sender.example\r\n\
Authentication-Results: mx.elsewhere.example; spf=pass smtp.mailfrom=x@y.example\r\n\
Received: from mail.sender.example (mail.sender.example [198.51.100.7])\r\n\tby mx1.example.co.jp (Postfix) with ESMTPS id 2; Mon, 3 Nov 2025 10:00:01 +0900\r\n\
Authentication-Results: mx1.example.co.jp; dmarc=pass header.from=sender.example\r\n\
Received: from [10.0.0.5] by mail.sender.example with ESMTPSA id 3; Mon, 3 Nov 2025 10:00:00 +0900\r\n\
From: a@sender.example\r\nTo: a@example.co.jp\r\nSubject: x\r\n\r\nbody\r\n";

    #[test]
    fn trusts_only_our_headers_above_the_entry_hop() {
        let m = parse(MSG);
        let relays = TrustedRelays::new(&[], &["mx1.example.co.jp".into()]).unwrap();
        let entry = entry_hop(&m, &relays).unwrap();
        let s = sort(&m, &relays, Some(&entry));
        assert_eq!(s.trusted.len(), 1);
        assert_eq!(s.foreign.len(), 2);
        assert!(!s.foreign[0].forged);
        assert_eq!(s.foreign[0].authserv_id, "mx.elsewhere.example");
        assert!(s.foreign[1].forged);
        let c = checks(&s.trusted, Some("sender.example"));
        assert_eq!(c.authserv_id.as_deref(), Some("mx1.example.co.jp"));
        let spf = c.spf.unwrap();
        assert_eq!(
            (spf.result, spf.domain.as_str()),
            (AuthStatus::Pass, "news.sender.example")
        );
        assert!(c.dkim[0].aligned);
        let dmarc = c.dmarc.unwrap();
        assert_eq!(dmarc.policy, DmarcPolicy::Reject);
        assert!(dmarc.dkim_aligned && dmarc.spf_aligned);
    }

    #[test]
    fn without_configuration_nothing_is_trusted() {
        let m = parse(MSG);
        let s = sort(&m, &TrustedRelays::default(), None);
        assert!(s.trusted.is_empty());
        assert_eq!(s.foreign.len(), 3);
        assert!(s.foreign.iter().all(|f| !f.forged));
    }
}
