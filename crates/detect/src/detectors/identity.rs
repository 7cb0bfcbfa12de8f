//! Sender identity consistency: who the message says it is from, and where replies and bounces go.

use mamori_mail::Message;

use super::domains::{domains_in_text, registered};
use crate::detector::{Context, Detector};
use crate::finding::{Finding, Findings};

/// Compares From, Reply-To, Return-Path, Sender and the From display name.
pub struct SenderIdentity;

impl Detector for SenderIdentity {
    fn name(&self) -> &'static str {
        "sender_identity"
    }

    fn detect(&self, message: &Message, _ctx: &Context<'_>, out: &mut Findings) {
        let Some(from) = message.from_mailbox() else {
            return;
        };
        let Some(from_domain) = from.domain.as_deref() else {
            return;
        };
        let from_reg = registered(from_domain);
        let is_list = message.header("List-Id").is_some() || message.header("List-Post").is_some();
        let sender_reg = message
            .sender
            .as_ref()
            .and_then(|s| s.domain.as_deref())
            .map(registered);

        for reply_to in &message.reply_to {
            let Some(domain) = reply_to.domain.as_deref() else {
                continue;
            };
            let reg = registered(domain);
            // Mailing lists and the Sender's own domain legitimately take replies.
            if reg != from_reg && !is_list && sender_reg.as_deref() != Some(reg.as_str()) {
                out.push(Finding::new(
                    "identity.reply_to.divergent",
                    format!(
                        "From domain {from_reg} but Reply-To {}",
                        reply_to.address.as_deref().unwrap_or(domain)
                    ),
                ));
            }
        }
        if let Some(rp) = message.return_path.as_deref()
            && let Some(domain) = mamori_mail::message::domain_of(rp)
            && registered(&domain) != from_reg
        {
            out.push(Finding::new(
                "identity.return_path.divergent",
                format!("From domain {from_reg} but Return-Path {rp}"),
            ));
        }
        if let Some(sender) = &sender_reg
            && sender != &from_reg
        {
            out.push(Finding::new(
                "identity.sender.divergent",
                format!("From domain {from_reg} but Sender domain {sender}"),
            ));
        }
        if let Some(name) = from.name.as_deref() {
            for shown in domains_in_text(name) {
                if registered(&shown) != from_reg {
                    out.push(Finding::new(
                        "identity.display_name.address",
                        format!(
                            "display name {name:?} shows {shown} but the address is {}",
                            from.address.as_deref().unwrap_or(from_domain)
                        ),
                    ));
                }
            }
        }
    }
}
