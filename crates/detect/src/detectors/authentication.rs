//! Sender authentication results (SPF, DKIM, DMARC, ARC, `Authentication-Results` trust) as findings. The
//! checks themselves ran before the detectors (see [`crate::auth`]); this detector only reads the report.

use mamori_mail::Message;

use crate::auth::{AuthReport, AuthStatus, DmarcPolicy};
use crate::detector::{Context, Detector};
use crate::finding::{Finding, Findings};

/// Turns the [`AuthReport`] in the context into `auth.*` findings.
pub struct Authentication;

impl Detector for Authentication {
    fn name(&self) -> &'static str {
        "authentication"
    }

    fn detect(&self, _message: &Message, ctx: &Context<'_>, out: &mut Findings) {
        let Some(report) = ctx.auth else { return };
        spf(report, out);
        dkim(report, out);
        dmarc(report, out);
        arc(report, out);
        foreign(report, out);
        if report.dns.is_some_and(|d| d.budget_exhausted) {
            let usage = report.dns.unwrap_or_default();
            out.push(Finding::new(
                "auth.dns.budget_exhausted",
                format!(
                    "{} lookups in {} ms; unfinished checks are temperror",
                    usage.lookups, usage.elapsed_ms
                ),
            ));
        }
        match report.from_authenticated() {
            Some(true) => out.push(Finding::new("auth.pass", pass_evidence(report))),
            Some(false) => {
                let any_pass = report
                    .spf
                    .as_ref()
                    .is_some_and(|s| s.result == AuthStatus::Pass)
                    || report.dkim.iter().any(|d| d.result == AuthStatus::Pass);
                if !any_pass {
                    out.push(Finding::new(
                        "auth.none",
                        format!("no SPF or DKIM pass ({})", method_name(report)),
                    ));
                }
            }
            None => {}
        }
    }
}

fn method_name(report: &AuthReport) -> String {
    match (&report.method, &report.authserv_id) {
        (crate::auth::AuthMethod::Headers, Some(id)) => format!("Authentication-Results of {id}"),
        (m, _) => format!(
            "verified with {}",
            match m {
                crate::auth::AuthMethod::Dns => "DNS",
                crate::auth::AuthMethod::Records => "the static record file",
                _ => "nothing",
            }
        ),
    }
}

fn reason(r: Option<&String>) -> String {
    r.map(|r| format!(": {r}")).unwrap_or_default()
}

fn spf(report: &AuthReport, out: &mut Findings) {
    let Some(spf) = &report.spf else { return };
    let id = match spf.result {
        AuthStatus::Fail => "auth.spf.fail",
        AuthStatus::SoftFail => "auth.spf.softfail",
        AuthStatus::PermError => "auth.spf.permerror",
        AuthStatus::TempError => "auth.spf.temperror",
        _ => return,
    };
    let client = report
        .envelope
        .as_ref()
        .and_then(|e| e.client_ip)
        .map(|ip| format!(" for client {ip}"))
        .unwrap_or_default();
    out.push(Finding::new(
        id,
        format!(
            "spf={} ({} {}){client}{}",
            spf.result,
            spf.identity,
            spf.domain,
            reason(spf.reason.as_ref())
        ),
    ));
}

fn dkim(report: &AuthReport, out: &mut Findings) {
    for sig in &report.dkim {
        let weak = sig
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("below the 1024-bit minimum"));
        let id = match sig.result {
            _ if weak => "auth.dkim.weak_key",
            AuthStatus::Fail => "auth.dkim.fail",
            AuthStatus::PermError | AuthStatus::Neutral | AuthStatus::Policy => {
                "auth.dkim.permerror"
            }
            AuthStatus::TempError => "auth.dkim.temperror",
            _ => continue,
        };
        out.push(Finding::new(
            id,
            format!(
                "dkim={} d={} s={}{}{}",
                sig.result,
                sig.domain.as_deref().unwrap_or("?"),
                sig.selector.as_deref().unwrap_or("?"),
                if sig.aligned { " (aligned)" } else { "" },
                reason(sig.reason.as_ref())
            ),
        ));
    }
}

fn dmarc(report: &AuthReport, out: &mut Findings) {
    let Some(d) = &report.dmarc else { return };
    match d.result {
        AuthStatus::Fail => {
            if let Some(sealer) = &d.arc_override {
                out.push(Finding::new(
                    "auth.dmarc.arc_override",
                    format!(
                        "dmarc=fail for {} (p={}) excused: trusted ARC sealer {sealer} saw dmarc=pass",
                        d.from_domain,
                        d.policy.as_str()
                    ),
                ));
                return;
            }
            let id = match d.policy {
                DmarcPolicy::Reject => "auth.dmarc.reject",
                DmarcPolicy::Quarantine => "auth.dmarc.quarantine",
                _ => "auth.dmarc.fail",
            };
            out.push(Finding::new(
                id,
                format!(
                    "dmarc=fail for From domain {} (p={}); SPF aligned: {}, DKIM aligned: {}",
                    d.from_domain,
                    d.policy.as_str(),
                    yes_no(d.spf_aligned),
                    yes_no(d.dkim_aligned)
                ),
            ));
        }
        AuthStatus::TempError => out.push(Finding::new(
            "auth.dmarc.temperror",
            format!("dmarc=temperror for {}", d.from_domain),
        )),
        AuthStatus::PermError => out.push(Finding::new(
            "auth.dmarc.permerror",
            format!("dmarc=permerror for {}", d.from_domain),
        )),
        _ => {}
    }
}

fn arc(report: &AuthReport, out: &mut Findings) {
    let Some(a) = &report.arc else { return };
    if a.result == AuthStatus::Fail || a.result == AuthStatus::PermError {
        out.push(Finding::new(
            "auth.arc.fail",
            format!(
                "arc={} over {} set(s){}{}",
                a.result,
                a.sets,
                if a.sealers.is_empty() {
                    String::new()
                } else {
                    format!(" sealed by {}", a.sealers.join(", "))
                },
                reason(a.reason.as_ref())
            ),
        ));
    }
}

fn foreign(report: &AuthReport, out: &mut Findings) {
    for f in &report.foreign_results {
        if f.forged {
            out.push(Finding::new(
                "auth.results.forged",
                format!(
                    "Authentication-Results of {} ({}) was in the message before our server received it",
                    f.authserv_id, f.summary
                ),
            ));
        } else {
            out.push(Finding::new(
                "auth.results.untrusted",
                format!(
                    "ignored Authentication-Results of {} ({})",
                    f.authserv_id, f.summary
                ),
            ));
        }
    }
}

fn pass_evidence(report: &AuthReport) -> String {
    if let Some(d) = &report.dmarc
        && d.result == AuthStatus::Pass
    {
        return format!("dmarc=pass for {} ({})", d.from_domain, method_name(report));
    }
    if let Some(sig) = report.aligned_dkim() {
        return format!(
            "aligned dkim=pass d={} ({})",
            sig.domain.as_deref().unwrap_or("?"),
            method_name(report)
        );
    }
    format!("aligned pass ({})", method_name(report))
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
