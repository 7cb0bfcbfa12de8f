//! Block lists: indicators (sender addresses, domains, URLs, file hashes, IP addresses) that playbooks add with a
//! time to live and analysts manage; every node sharing the store judges the next message with them.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{Result, Store, StoreError, now_ms};

/// What kind of indicator an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlockKind {
    /// A sender address (lower case).
    Sender,
    /// A domain (sender or link host; lower case).
    Domain,
    /// A URL as normalised by the parser.
    Url,
    /// A file SHA-256 (lower-case hex).
    File,
    /// An IP address.
    Ip,
}

impl BlockKind {
    /// Every kind.
    pub const ALL: [BlockKind; 5] = [
        BlockKind::Sender,
        BlockKind::Domain,
        BlockKind::Url,
        BlockKind::File,
        BlockKind::Ip,
    ];

    /// Name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            BlockKind::Sender => "sender",
            BlockKind::Domain => "domain",
            BlockKind::Url => "url",
            BlockKind::File => "file",
            BlockKind::Ip => "ip",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Result<BlockKind> {
        BlockKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                StoreError::Data(format!(
                    "unknown block kind {s:?} (sender, domain, url, file, ip)"
                ))
            })
    }
}

/// One block-list entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockEntry {
    /// Kind.
    pub kind: BlockKind,
    /// Value (normalised by the caller).
    pub value: String,
    /// When it was (last) added, Unix milliseconds.
    pub created_at: i64,
    /// When it stops applying, Unix milliseconds; `None` is permanent.
    pub expires_at: Option<i64>,
    /// Why (rule name, analyst note).
    pub reason: String,
    /// Message or quarantine reference it came from.
    pub source_ref: Option<String>,
}

impl Store {
    /// Adds or refreshes an entry (a later add replaces expiry and reason).
    pub async fn block_add(
        &self,
        kind: BlockKind,
        value: &str,
        expires_at: Option<i64>,
        reason: &str,
        source_ref: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO block_entry (kind, value, created_at, expires_at, reason, source_ref)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (kind, value) DO UPDATE SET created_at = excluded.created_at,
                 expires_at = excluded.expires_at, reason = excluded.reason, source_ref = excluded.source_ref",
        )
        .bind(kind.as_str())
        .bind(value)
        .bind(now_ms())
        .bind(expires_at)
        .bind(reason)
        .bind(source_ref)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Removes an entry; `NotFound` when there was none.
    pub async fn block_remove(&self, kind: BlockKind, value: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM block_entry WHERE kind = $1 AND value = $2")
            .bind(kind.as_str())
            .bind(value)
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!(
                "block entry {} {value}",
                kind.as_str()
            )));
        }
        Ok(())
    }

    /// Entries in force at `at_ms` (expired ones are skipped, not deleted), ordered by kind and value.
    pub async fn block_active(&self, at_ms: i64) -> Result<Vec<BlockEntry>> {
        let rows = sqlx::query(
            "SELECT kind, value, created_at, expires_at, reason, source_ref FROM block_entry
             WHERE expires_at IS NULL OR expires_at > $1 ORDER BY kind, value",
        )
        .bind(at_ms)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(BlockEntry {
                    kind: BlockKind::parse(&row.try_get::<String, _>("kind")?)?,
                    value: row.try_get("value")?,
                    created_at: row.try_get("created_at")?,
                    expires_at: row.try_get("expires_at")?,
                    reason: row.try_get("reason")?,
                    source_ref: row.try_get("source_ref")?,
                })
            })
            .collect()
    }

    /// Deletes entries that expired before `at_ms`; returns how many.
    pub async fn block_expire(&self, at_ms: i64) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM block_entry WHERE expires_at IS NOT NULL AND expires_at <= $1",
        )
        .bind(at_ms)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }
}
