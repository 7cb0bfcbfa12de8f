//! Origin consistency: mail claiming a protected sender (ours, a partner's, a brand's) whose Message-ID and
//! originating server both belong to someone else. Real senders stamp their own domain into Message-IDs and send
//! from their own (or their provider's authenticated) servers; a spoof written on a rented server usually does
//! neither. Only judged when the From domain is not authenticated, because authenticated mail sent through a mail
//! service legitimately carries the service's names.

use mamori_mail::Message;

use super::domains::registered;
use crate::detector::{Context, Detector};
use crate::finding::{Finding, Findings};
use crate::lookalike::Owner;

/// Compares the Message-ID domain and the originating host with the From domain.
pub struct OriginConsistency;

impl Detector for OriginConsistency {
    fn name(&self) -> &'static str {
        "origin_consistency"
    }

    fn detect(&self, message: &Message, ctx: &Context<'_>, out: &mut Findings) {
        let Some(domain) = message.from_mailbox().and_then(|f| f.domain.as_deref()) else {
            return;
        };
        let Some(owner) = ctx.protected.owner_of(domain) else {
            return;
        };
        let authenticated = ctx.auth.and_then(|a| a.from_authenticated());
        // Our own mail leaves through servers we know; partners and brands send through mail services whose
        // names appear everywhere, so only a failed check is telling there.
        let internal = ctx
            .auth
            .and_then(|a| a.envelope.as_ref())
            .and_then(|e| e.external)
            == Some(false);
        let judged = match owner {
            Owner::Own => authenticated != Some(true) && !internal,
            Owner::Partner | Owner::Brand => authenticated == Some(false),
        };
        if !judged {
            return;
        }
        let Some(mid_domain) = message
            .message_id
            .as_deref()
            .and_then(|m| m.rsplit_once('@'))
            .map(|(_, d)| d.trim_end_matches('>').to_ascii_lowercase())
            .filter(|d| d.contains('.') && d.parse::<std::net::IpAddr>().is_err())
        else {
            return;
        };
        if ctx.protected.same_owner(domain, &mid_domain) {
            return;
        }
        // The first server that handled the message: the bottom Received hop's `by`; when that is one of our own
        // servers (the message entered directly from the sender's client), the client's name; else the HELO.
        let own = |h: &str| {
            ctx.config
                .organisation
                .domains
                .iter()
                .any(|d| registered(d) == registered(h))
        };
        let origin = message
            .received
            .last()
            .and_then(|hop| match hop.by.as_deref() {
                Some(by) if !own(by) => Some(by),
                _ => hop.from_rdns.as_deref().or(hop.from_host.as_deref()),
            })
            .or(ctx.envelope.helo.as_deref())
            .map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase())
            .filter(|h| h.contains('.') && h.parse::<std::net::IpAddr>().is_err());
        if let Some(origin) = &origin
            && ctx.protected.same_owner(domain, origin)
        {
            return;
        }
        out.push(Finding::new(
            "impersonation.origin.inconsistent",
            format!(
                "From domain {} but Message-ID domain {}{}",
                registered(domain),
                registered(&mid_domain),
                origin
                    .map(|o| format!(" and originating server {o}"))
                    .unwrap_or_default()
            ),
        ));
    }
}
