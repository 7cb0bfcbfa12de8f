//! Lookalike sender domains: the From domain imitates one of ours, a partner's or a brand's
//! (matching is [`crate::lookalike`]'s; this detector only applies it to the author's address).

use mamori_mail::Message;

use crate::detector::{Context, Detector};
use crate::finding::{Finding, Findings};
use crate::lookalike::Owner;

/// Checks the From (and Sender) domains against the protected domains.
pub struct LookalikeSender;

impl Detector for LookalikeSender {
    fn name(&self) -> &'static str {
        "lookalike_sender"
    }

    fn detect(&self, message: &Message, ctx: &Context<'_>, out: &mut Findings) {
        let authors = message.from.iter().take(5).chain(message.sender.as_ref());
        for mailbox in authors {
            let Some(domain) = mailbox.domain.as_deref() else {
                continue;
            };
            let Some(lookalike) = ctx.protected.check(domain) else {
                continue;
            };
            let id = match lookalike.owner {
                Owner::Own => "impersonation.from.lookalike_own",
                Owner::Partner => "impersonation.from.lookalike_partner",
                Owner::Brand => "impersonation.from.lookalike_brand",
            };
            let unicode = idna::domain_to_unicode(domain).0;
            let shown = if unicode != domain {
                format!("{domain} ({unicode})")
            } else {
                domain.to_string()
            };
            out.push(Finding::new(
                id,
                format!(
                    "sender domain {shown} imitates {} of {} ({})",
                    lookalike.protected,
                    lookalike.owner_name,
                    lookalike.technique.as_str()
                ),
            ));
        }
    }
}
