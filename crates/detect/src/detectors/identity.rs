//! Sender identity consistency: who the message says it is from, and where replies and bounces go. Diverging
//! reply and bounce addresses are classified: to a lookalike of a protected domain or to free-mail is a specific
//! (stronger) finding instead of the generic `divergent` one.

use mamori_mail::Message;

use super::domains::{domains_in_text, registered};
use crate::detector::{Context, Detector};
use crate::finding::{Finding, Findings};
use crate::knowledge::brands::is_freemail;
use crate::lookalike::ProtectedDomains;

/// Where a diverging reply or bounce address points.
enum Divergence {
    /// A lookalike of a protected domain (evidence text).
    Lookalike(String),
    /// Free-mail while From is not.
    Freemail,
    /// Just another domain.
    Other,
}

fn classify(domain: &str, from_reg: &str, protected: &ProtectedDomains) -> Divergence {
    if let Some(l) = protected.check(domain) {
        return Divergence::Lookalike(format!(
            "{} of {} ({})",
            l.protected,
            l.owner_name,
            l.technique.as_str()
        ));
    }
    if is_freemail(&registered(domain)) && !is_freemail(from_reg) {
        return Divergence::Freemail;
    }
    Divergence::Other
}

/// Compares From, Reply-To, Return-Path, Sender and the From display name.
pub struct SenderIdentity;

impl Detector for SenderIdentity {
    fn name(&self) -> &'static str {
        "sender_identity"
    }

    fn detect(&self, message: &Message, ctx: &Context<'_>, out: &mut Findings) {
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
            if reg == from_reg {
                continue;
            }
            let shown = reply_to.address.as_deref().unwrap_or(domain);
            // Mailing lists and the Sender's own domain legitimately take replies; a lookalike never does.
            let expected = is_list || sender_reg.as_deref() == Some(reg.as_str());
            match classify(domain, &from_reg, ctx.protected) {
                Divergence::Lookalike(what) => out.push(Finding::new(
                    "identity.reply_to.lookalike",
                    format!("From domain {from_reg} but Reply-To {shown} imitates {what}"),
                )),
                Divergence::Freemail if !expected => out.push(Finding::new(
                    "identity.reply_to.freemail",
                    format!("From domain {from_reg} but Reply-To is the free-mail address {shown}"),
                )),
                _ if !expected => out.push(Finding::new(
                    "identity.reply_to.divergent",
                    format!("From domain {from_reg} but Reply-To {shown}"),
                )),
                _ => {}
            }
        }
        if let Some(rp) = message.return_path.as_deref()
            && let Some(domain) = mamori_mail::message::domain_of(rp)
            && registered(&domain) != from_reg
        {
            // List servers bounce through their own (sometimes free-mail) domains: `sentto-…@returns.groups.yahoo.com`.
            let list_bounce = is_list
                || message.header("Mailing-List").is_some()
                || message.header("List-Unsubscribe").is_some();
            let (id, what) = match classify(&domain, &from_reg, ctx.protected) {
                Divergence::Freemail if list_bounce => {
                    ("identity.return_path.divergent", String::new())
                }
                Divergence::Lookalike(what) => (
                    "identity.return_path.lookalike",
                    format!(", imitating {what}"),
                ),
                Divergence::Freemail => ("identity.return_path.freemail", " (free-mail)".into()),
                Divergence::Other => ("identity.return_path.divergent", String::new()),
            };
            out.push(Finding::new(
                id,
                format!("From domain {from_reg} but Return-Path {rp}{what}"),
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
