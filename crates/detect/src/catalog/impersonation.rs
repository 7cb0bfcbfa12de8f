//! Finding ids of impersonation: protected people and brands in display names, lookalike sender domains, replies
//! and bounces diverted to free-mail or lookalikes, "internal" mail from outside, inconsistent origin, and first
//! contact.

use super::FindingSpec;
use crate::finding::Category::{Anomaly, Phishing};
use crate::finding::Severity::{High, Info, Low, Medium};

/// Ids of the impersonation section.
pub static SPECS: &[FindingSpec] = &[
    super::finding_spec!(
        "impersonation.vip.display_name",
        Phishing,
        High,
        4.0,
        ["T1566", "T1656"],
        "Display name of a protected person from an outside address",
        "The From display name is a configured VIP's name (kanji, kana or Latin; width, spacing, order and \
         confusable characters folded) but the address is neither one of theirs nor in the organisation's domains."
    ),
    super::finding_spec!(
        "impersonation.brand.display_name",
        Phishing,
        Medium,
        2.0,
        ["T1566", "T1656"],
        "Display name of a brand from an unrelated domain",
        "The From display name is (or starts with) a well-known brand's name but the address is not in any of the \
         brand's domains."
    ),
    super::finding_spec!(
        "impersonation.from.lookalike_own",
        Phishing,
        High,
        4.5,
        ["T1566", "T1656", "T1583.001"],
        "From domain imitates our own domain",
        "The From domain is a lookalike (homograph, typo, TLD swap, hyphenation, combosquat, embedding) of one of the \
         organisation's own domains."
    ),
    super::finding_spec!(
        "impersonation.from.lookalike_partner",
        Phishing,
        High,
        4.0,
        ["T1566", "T1656", "T1583.001"],
        "From domain imitates a partner's domain",
        "The From domain is a lookalike of a configured partner or supplier domain: the classic vendor-invoice fraud."
    ),
    super::finding_spec!(
        "impersonation.from.lookalike_brand",
        Phishing,
        High,
        3.5,
        ["T1566", "T1656", "T1583.001"],
        "From domain imitates a brand's domain",
        "The From domain is a lookalike of a well-known brand's domain."
    ),
    super::finding_spec!(
        "identity.reply_to.freemail",
        Phishing,
        Medium,
        2.5,
        ["T1566", "T1656", "T1585.002"],
        "Replies go to a free-mail address",
        "The From address is not free-mail but Reply-To is (Gmail, Yahoo, Outlook.com, …): answers go to an account \
         anyone can open. Refines `identity.reply_to.divergent`."
    ),
    super::finding_spec!(
        "identity.reply_to.lookalike",
        Phishing,
        High,
        4.0,
        ["T1566", "T1656", "T1583.001"],
        "Replies go to a lookalike domain",
        "Reply-To is in a lookalike of a protected domain (ours, a partner's, a brand's). Refines \
         `identity.reply_to.divergent`."
    ),
    super::finding_spec!(
        "identity.return_path.freemail",
        Anomaly,
        Low,
        0.5,
        ["T1672"],
        "Bounces go to a free-mail address",
        "The From address is not free-mail but the envelope sender (Return-Path) is. Refines \
         `identity.return_path.divergent`."
    ),
    super::finding_spec!(
        "identity.return_path.lookalike",
        Phishing,
        Medium,
        3.0,
        ["T1672", "T1583.001"],
        "Bounces go to a lookalike domain",
        "The envelope sender (Return-Path) is in a lookalike of a protected domain. Refines \
         `identity.return_path.divergent`."
    ),
    super::finding_spec!(
        "impersonation.internal.unauthenticated",
        Phishing,
        High,
        4.5,
        ["T1672", "T1656"],
        "\"Internal\" sender from outside without authentication",
        "The From address is in one of the organisation's own domains, the message arrived from a client outside the \
         trusted relays, and nothing authenticates it (no DMARC, aligned DKIM or SPF pass)."
    ),
    super::finding_spec!(
        "impersonation.origin.inconsistent",
        Phishing,
        Low,
        1.0,
        ["T1656"],
        "Message-ID or origin host unrelated to the claimed sender",
        "The From domain is protected (ours, a partner's, a brand's) and not authenticated, while the Message-ID \
         domain and the originating host name belong to unrelated domains."
    ),
    super::finding_spec!(
        "history.first_contact.address",
        Anomaly,
        Info,
        0.3,
        [],
        "First message from this address",
        "The recipient has never exchanged mail with this sender address (its domain is known)."
    ),
    super::finding_spec!(
        "history.first_contact.domain",
        Anomaly,
        Low,
        1.0,
        [],
        "First message from this domain",
        "The recipient has never exchanged mail with anyone at this sender's domain."
    ),
    super::finding_spec!(
        "history.first_contact.impersonation",
        Phishing,
        High,
        2.5,
        ["T1566", "T1656"],
        "First contact that impersonates or fails authentication",
        "A never-seen sender that also impersonates someone (lookalike domain, protected name, free-mail reply path) \
         or fails sender authentication: the typical business-e-mail-compromise opening."
    ),
];
