//! Sender history: has this recipient corresponded with this sender (address or domain) before?
//!
//! First contact is one of the strongest business-e-mail-compromise signals when it coincides with anything else
//! (a lookalike domain, a display name of a colleague, a failed DMARC check): the attacker is by definition someone
//! the victim never wrote to. Detectors consult a [`SenderHistory`] through [`crate::Context::history`]; they
//! never query a store themselves.
//!
//! # Backing a history with a store
//!
//! Lookups are synchronous and must be fast (they run inside analysis). A store that needs I/O (SQLite,
//! PostgreSQL) should be read **before** analysis: the caller knows the recipients (RCPT TO) and, after parsing the
//! header block, the From address, so it fetches the few rows it needs asynchronously, puts them in a
//! [`PrefetchedHistory`] and passes it with [`crate::Engine::analyse_with`]. After the verdict the caller records
//! the contact (typically only for mail that was delivered, and in both directions for outgoing mail) so the next
//! message from the same sender is no longer a first contact. A store small enough to keep in memory can
//! implement [`SenderHistory`] directly and be installed once with [`crate::Engine::with_sender_history`].

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

/// What a recipient's history says about a sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Familiarity {
    /// The recipient has exchanged mail with this exact address before.
    pub address_seen: bool,
    /// The recipient has exchanged mail with some address of this (registered) domain before.
    pub domain_seen: bool,
}

/// A lookup of correspondence history. Addresses and domains are passed lower-case; `sender_domain` is the
/// registered domain (`example.co.jp` for `mail.example.co.jp`).
pub trait SenderHistory: Send + Sync {
    /// What `recipient`'s history says about `sender`; `None` when the history knows nothing about this
    /// recipient (not tracked, or the store has not been filled yet), so that no first-contact finding fires.
    fn familiarity(
        &self,
        recipient: &str,
        sender: &str,
        sender_domain: &str,
    ) -> Option<Familiarity>;
}

/// A complete history kept in memory, for tests, benchmarks and small deployments.
#[derive(Debug, Default)]
pub struct InMemoryHistory {
    inner: RwLock<HistoryMaps>,
}

#[derive(Debug, Default)]
struct HistoryMaps {
    /// recipient → addresses seen.
    addresses: HashMap<String, HashSet<String>>,
    /// recipient → registered domains seen.
    domains: HashMap<String, HashSet<String>>,
}

impl InMemoryHistory {
    /// An empty history.
    pub fn new() -> InMemoryHistory {
        InMemoryHistory::default()
    }

    /// Records that `recipient` received mail from (or sent mail to) `sender`.
    pub fn record(&self, recipient: &str, sender: &str) {
        let recipient = recipient.to_ascii_lowercase();
        let sender = sender.to_ascii_lowercase();
        let domain = sender
            .rsplit_once('@')
            .map(|(_, d)| crate::detectors::domains::registered(d));
        let mut maps = match self.inner.write() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        maps.addresses
            .entry(recipient.clone())
            .or_default()
            .insert(sender);
        if let Some(domain) = domain {
            maps.domains.entry(recipient).or_default().insert(domain);
        }
    }

    /// Marks `recipient` as tracked even before any mail is recorded (a new mailbox: everything is new).
    pub fn track(&self, recipient: &str) {
        let recipient = recipient.to_ascii_lowercase();
        let mut maps = match self.inner.write() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        maps.addresses.entry(recipient.clone()).or_default();
        maps.domains.entry(recipient).or_default();
    }
}

impl SenderHistory for InMemoryHistory {
    fn familiarity(
        &self,
        recipient: &str,
        sender: &str,
        sender_domain: &str,
    ) -> Option<Familiarity> {
        let maps = match self.inner.read() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        let recipient = recipient.to_ascii_lowercase();
        let addresses = maps.addresses.get(&recipient)?;
        let domains = maps.domains.get(&recipient);
        Some(Familiarity {
            address_seen: addresses.contains(&sender.to_ascii_lowercase()),
            domain_seen: domains.is_some_and(|d| d.contains(&sender_domain.to_ascii_lowercase())),
        })
    }
}

/// Answers fetched from a store before analysis, for one message: `(recipient, sender)` → familiarity.
/// Pairs that were not fetched answer `None` (unknown), never "first contact".
#[derive(Debug, Default, Clone)]
pub struct PrefetchedHistory {
    answers: HashMap<(String, String), Familiarity>,
}

impl PrefetchedHistory {
    /// An empty set of answers.
    pub fn new() -> PrefetchedHistory {
        PrefetchedHistory::default()
    }

    /// Stores the store's answer for `recipient` and `sender`.
    pub fn insert(&mut self, recipient: &str, sender: &str, familiarity: Familiarity) {
        self.answers.insert(
            (recipient.to_ascii_lowercase(), sender.to_ascii_lowercase()),
            familiarity,
        );
    }
}

impl SenderHistory for PrefetchedHistory {
    fn familiarity(
        &self,
        recipient: &str,
        sender: &str,
        _sender_domain: &str,
    ) -> Option<Familiarity> {
        self.answers
            .get(&(recipient.to_ascii_lowercase(), sender.to_ascii_lowercase()))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_memory_history() {
        let h = InMemoryHistory::new();
        assert_eq!(
            h.familiarity("a@ours.jp", "x@partner.co.jp", "partner.co.jp"),
            None
        );
        h.track("a@ours.jp");
        assert_eq!(
            h.familiarity("a@ours.jp", "x@partner.co.jp", "partner.co.jp"),
            Some(Familiarity::default())
        );
        h.record("A@ours.jp", "X@mail.Partner.co.jp");
        let f = h
            .familiarity("a@ours.jp", "x@mail.partner.co.jp", "partner.co.jp")
            .unwrap();
        assert!(f.address_seen && f.domain_seen);
        let f = h
            .familiarity("a@ours.jp", "y@partner.co.jp", "partner.co.jp")
            .unwrap();
        assert!(!f.address_seen && f.domain_seen);
    }

    #[test]
    fn prefetched_history_answers_only_what_was_fetched() {
        let mut p = PrefetchedHistory::new();
        p.insert(
            "a@ours.jp",
            "x@evil.com",
            Familiarity {
                address_seen: false,
                domain_seen: false,
            },
        );
        assert!(
            p.familiarity("a@ours.jp", "X@evil.com", "evil.com")
                .is_some()
        );
        assert!(
            p.familiarity("b@ours.jp", "x@evil.com", "evil.com")
                .is_none()
        );
    }
}
