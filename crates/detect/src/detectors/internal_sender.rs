//! "Internal" mail from outside: the From address is in one of the organisation's own domains, yet the message
//! came in from a client outside the trusted relays and nothing authenticates it. Colleagues' mail either
//! originates inside or is signed by our own domain; this combination is the spoofed-colleague attack.

use mamori_mail::Message;

use super::domains::registered;
use crate::detector::{Context, Detector};
use crate::finding::{Finding, Findings};

/// Needs `[organisation] domains`, trusted relays (so "outside" is known) and authentication results.
pub struct InternalSenderFromOutside;

impl Detector for InternalSenderFromOutside {
    fn name(&self) -> &'static str {
        "internal_sender_from_outside"
    }

    fn detect(&self, message: &Message, ctx: &Context<'_>, out: &mut Findings) {
        let Some(report) = ctx.auth else { return };
        let Some(from) = message.from_mailbox() else {
            return;
        };
        let Some(domain) = from.domain.as_deref() else {
            return;
        };
        let from_reg = registered(domain);
        let own = ctx
            .config
            .organisation
            .domains
            .iter()
            .any(|d| registered(d) == from_reg);
        if !own {
            return;
        }
        let Some(envelope) = &report.envelope else {
            return;
        };
        if envelope.external != Some(true) || report.from_authenticated() != Some(false) {
            return;
        }
        let client = envelope
            .client_ip
            .map(|ip| ip.to_string())
            .unwrap_or_else(|| "an outside client".to_string());
        let helo = envelope
            .helo
            .as_deref()
            .map(|h| format!(" (HELO {h})"))
            .unwrap_or_default();
        out.push(Finding::new(
            "impersonation.internal.unauthenticated",
            format!(
                "From {} arrived from {client}{helo} outside the trusted relays with no DMARC, aligned DKIM or SPF pass",
                from.address.as_deref().unwrap_or(domain)
            ),
        ));
    }
}
