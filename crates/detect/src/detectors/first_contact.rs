//! First contact: the recipient has never exchanged mail with this sender (address or whole domain). On its own a
//! weak signal, since every correspondence starts somewhere; together with impersonation or failed authentication it
//! is the opening move of business e-mail compromise. Runs last among the built-in detectors so that it can see
//! what the others found.

use mamori_mail::Message;

use super::domains::registered;
use crate::detector::{Context, Detector};
use crate::finding::{Finding, Findings};

/// Most recipients looked up per message.
const MAX_RECIPIENTS: usize = 10;

/// Findings that, on a first contact, make it suspicious.
const ALARMING: &[&str] = &[
    "impersonation.",
    "identity.reply_to.freemail",
    "identity.reply_to.lookalike",
    "identity.return_path.lookalike",
    "identity.display_name.address",
    "auth.dmarc.fail",
    "auth.dmarc.quarantine",
    "auth.dmarc.reject",
    "auth.spf.fail",
    "auth.results.forged",
];

/// Consults [`Context::history`] for each recipient.
pub struct FirstContact;

impl Detector for FirstContact {
    fn name(&self) -> &'static str {
        "first_contact"
    }

    fn detect(&self, message: &Message, ctx: &Context<'_>, out: &mut Findings) {
        let Some(history) = ctx.history else { return };
        let Some(sender) = message
            .from_mailbox()
            .and_then(|f| f.address.as_deref())
            .map(str::to_ascii_lowercase)
        else {
            return;
        };
        let Some(domain) = mamori_mail::message::domain_of(&sender).map(|d| registered(&d)) else {
            return;
        };
        let org = &ctx.config.organisation;
        if org.domains.iter().any(|d| registered(d) == domain) {
            // Colleagues: the internal-sender and authentication checks cover spoofing of our own domain.
            return;
        }
        let recipients = recipients(message, ctx);
        let mut known_recipients = Vec::new();
        let mut address_seen = false;
        let mut domain_seen = false;
        for recipient in &recipients {
            if let Some(f) = history.familiarity(recipient, &sender, &domain) {
                known_recipients.push(recipient.as_str());
                address_seen |= f.address_seen;
                domain_seen |= f.domain_seen || f.address_seen;
            }
        }
        if known_recipients.is_empty() || address_seen {
            return;
        }
        let who = known_recipients.join(", ");
        if domain_seen {
            out.push(Finding::new(
                "history.first_contact.address",
                format!("{who} never had mail from {sender} (but from others at {domain})"),
            ));
        } else {
            out.push(Finding::new(
                "history.first_contact.domain",
                format!("{who} never had mail from anyone at {domain}"),
            ));
        }
        let alarming: Vec<&str> = out
            .as_slice()
            .iter()
            .filter(|f| f.weight > 0.0 && ALARMING.iter().any(|a| f.id.starts_with(a)))
            .map(|f| f.id.as_ref())
            .collect();
        if !alarming.is_empty() {
            out.push(Finding::new(
                "history.first_contact.impersonation",
                format!(
                    "first contact from {sender} together with {}",
                    alarming.join(", ")
                ),
            ));
        }
    }
}

/// The envelope recipients, else the To and Cc addresses (ours only, when our domains are configured).
fn recipients(message: &Message, ctx: &Context<'_>) -> Vec<String> {
    if !ctx.envelope.rcpt_to.is_empty() {
        return ctx
            .envelope
            .rcpt_to
            .iter()
            .take(MAX_RECIPIENTS)
            .map(|r| r.trim_matches(['<', '>']).to_ascii_lowercase())
            .collect();
    }
    let own: Vec<String> = ctx
        .config
        .organisation
        .domains
        .iter()
        .map(|d| registered(d))
        .collect();
    let mut out: Vec<String> = Vec::new();
    for mailbox in message.to.iter().chain(&message.cc) {
        let (Some(address), Some(domain)) = (mailbox.address.as_deref(), mailbox.domain.as_deref())
        else {
            continue;
        };
        if !own.is_empty() && !own.contains(&registered(domain)) {
            continue;
        }
        let address = address.to_ascii_lowercase();
        if !out.contains(&address) {
            out.push(address);
        }
        if out.len() == MAX_RECIPIENTS {
            break;
        }
    }
    out
}
