//! Sender history: which senders (addresses and registered domains) each recipient has corresponded with, for
//! the first-contact checks. Written after each delivered message, read (prefetched) before analysis.

use sqlx::Row;

use crate::{Result, Store, now_ms};

/// What the store knows about one `(recipient, sender)` pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ContactFacts {
    /// The recipient has any recorded contact at all (is tracked).
    pub recipient_known: bool,
    /// This exact sender address was seen.
    pub address_seen: bool,
    /// Some sender of this registered domain was seen.
    pub domain_seen: bool,
}

impl Store {
    /// Records that `recipient` exchanged mail with `sender` (`sender_domain`: its registered domain). Addresses
    /// are stored lower-case.
    pub async fn contact_record(
        &self,
        recipient: &str,
        sender: &str,
        sender_domain: &str,
    ) -> Result<()> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO sender_contact (recipient, sender, sender_domain, first_seen, last_seen, messages)
             VALUES ($1, $2, $3, $4, $5, 1)
             ON CONFLICT (recipient, sender) DO UPDATE SET last_seen = excluded.last_seen,
                 messages = sender_contact.messages + 1",
        )
        .bind(recipient.to_lowercase())
        .bind(sender.to_lowercase())
        .bind(sender_domain.to_lowercase())
        .bind(now)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// What the history says about `sender` for `recipient`.
    pub async fn contact_facts(
        &self,
        recipient: &str,
        sender: &str,
        sender_domain: &str,
    ) -> Result<ContactFacts> {
        let row = sqlx::query(
            "SELECT
                (SELECT COUNT(*) FROM sender_contact WHERE recipient = $1) AS known,
                (SELECT COUNT(*) FROM sender_contact WHERE recipient = $1 AND sender = $2) AS address,
                (SELECT COUNT(*) FROM sender_contact WHERE recipient = $1 AND sender_domain = $3) AS domain",
        )
        .bind(recipient.to_lowercase())
        .bind(sender.to_lowercase())
        .bind(sender_domain.to_lowercase())
        .fetch_one(self.pool())
        .await?;
        let known: i64 = row.try_get("known")?;
        let address: i64 = row.try_get("address")?;
        let domain: i64 = row.try_get("domain")?;
        Ok(ContactFacts {
            recipient_known: known > 0,
            address_seen: address > 0,
            domain_seen: domain > 0,
        })
    }
}
