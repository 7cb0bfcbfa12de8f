//! Quarantine: messages held back by a playbook (or moved out of a mailbox by a purge), kept byte-exact with the
//! verdict and the SMTP envelope, until an analyst releases or deletes them.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{Result, Store, StoreError, now_ms};

/// Lifecycle of a quarantined message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuarantineStatus {
    /// Held; nobody acted yet.
    Held,
    /// Released (re-delivered); the bytes are kept for the record.
    Released,
    /// Deleted by an analyst; the bytes are gone.
    Deleted,
}

impl QuarantineStatus {
    /// Name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            QuarantineStatus::Held => "held",
            QuarantineStatus::Released => "released",
            QuarantineStatus::Deleted => "deleted",
        }
    }

    /// Parses a stored or requested name.
    pub fn parse(s: &str) -> Result<QuarantineStatus> {
        match s {
            "held" => Ok(QuarantineStatus::Held),
            "released" => Ok(QuarantineStatus::Released),
            "deleted" => Ok(QuarantineStatus::Deleted),
            other => Err(StoreError::Data(format!(
                "unknown quarantine status {other:?}"
            ))),
        }
    }
}

/// A message to put in quarantine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewQuarantined {
    /// Where it came from: `milter`, `purge`, `api`.
    pub origin: String,
    /// MTA queue id, when known.
    pub queue_id: Option<String>,
    /// Why (the playbook rule, or the purge indicator).
    pub reason: String,
    /// Class of the verdict.
    pub class: String,
    /// Score of the verdict.
    pub score: f64,
    /// The message, byte-exact.
    #[serde(skip)]
    pub raw: Vec<u8>,
    /// SMTP envelope as JSON.
    pub envelope: serde_json::Value,
    /// Verdict as JSON.
    pub verdict: serde_json::Value,
}

/// A quarantined message without its bytes (for listings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuarantineEntry {
    /// Reference id (`Q-…`), quoted in reject texts and logs.
    pub id: String,
    /// When it was held, Unix milliseconds.
    pub created_at: i64,
    /// `milter`, `purge`, `api`.
    pub origin: String,
    /// MTA queue id.
    pub queue_id: Option<String>,
    /// Why.
    pub reason: String,
    /// Verdict class.
    pub class: String,
    /// Verdict score.
    pub score: f64,
    /// SHA-256 of the held bytes, lower-case hex.
    pub sha256: String,
    /// Size of the held bytes.
    pub size: i64,
    /// Envelope JSON.
    pub envelope: serde_json::Value,
    /// Status.
    pub status: QuarantineStatus,
    /// When the status last changed, Unix milliseconds.
    pub changed_at: i64,
}

const COLUMNS: &str = "id, created_at, origin, queue_id, reason, class, score, sha256, size, envelope, status, changed_at";

impl Store {
    /// Holds a message; returns its reference id. `sha256` is the hex digest of `raw`, computed by the caller.
    pub async fn quarantine_put(&self, message: &NewQuarantined, sha256: &str) -> Result<String> {
        let id = format!("Q-{}", uuid::Uuid::new_v4().simple());
        let now = now_ms();
        sqlx::query(
            "INSERT INTO quarantine (id, created_at, origin, queue_id, reason, class, score, sha256, size, raw, envelope, verdict, status, changed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'held', $13)",
        )
        .bind(&id)
        .bind(now)
        .bind(&message.origin)
        .bind(message.queue_id.as_deref())
        .bind(&message.reason)
        .bind(&message.class)
        .bind(message.score)
        .bind(sha256)
        .bind(i64::try_from(message.raw.len()).unwrap_or(i64::MAX))
        .bind(message.raw.clone())
        .bind(crate::to_json(&message.envelope)?)
        .bind(crate::to_json(&message.verdict)?)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(id)
    }

    /// Quarantined messages, newest first; `status` filters when given.
    pub async fn quarantine_list(
        &self,
        status: Option<QuarantineStatus>,
        limit: i64,
    ) -> Result<Vec<QuarantineEntry>> {
        let rows = match status {
            Some(s) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM quarantine WHERE status = $1 ORDER BY created_at DESC, id LIMIT $2"
                )))
                .bind(s.as_str())
                .bind(limit)
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM quarantine ORDER BY created_at DESC, id LIMIT $1"
                )))
                .bind(limit)
                .fetch_all(self.pool())
                .await?
            }
        };
        rows.iter().map(entry_from_row).collect()
    }

    /// One entry (without bytes).
    pub async fn quarantine_entry(&self, id: &str) -> Result<QuarantineEntry> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM quarantine WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("quarantined message {id}")))?;
        entry_from_row(&row)
    }

    /// The held bytes and the verdict JSON of one entry (`NotFound` once deleted).
    pub async fn quarantine_content(&self, id: &str) -> Result<(Vec<u8>, serde_json::Value)> {
        let row = sqlx::query("SELECT raw, verdict, status FROM quarantine WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("quarantined message {id}")))?;
        let status: String = row.try_get("status")?;
        if status == QuarantineStatus::Deleted.as_str() {
            return Err(StoreError::NotFound(format!(
                "quarantined message {id} (deleted)"
            )));
        }
        let raw: Vec<u8> = row.try_get("raw")?;
        let verdict = crate::from_json(&row.try_get::<String, _>("verdict")?)?;
        Ok((raw, verdict))
    }

    /// Marks an entry released (after re-delivery succeeded).
    pub async fn quarantine_mark_released(&self, id: &str) -> Result<()> {
        let done = sqlx::query(
            "UPDATE quarantine SET status = 'released', changed_at = $1 WHERE id = $2 AND status = 'held'",
        )
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!(
                "held quarantined message {id}"
            )));
        }
        Ok(())
    }

    /// Deletes an entry's bytes (the record of it stays, with status `deleted`).
    pub async fn quarantine_delete(&self, id: &str) -> Result<()> {
        let done = sqlx::query(
            "UPDATE quarantine SET status = 'deleted', raw = $1, changed_at = $2 WHERE id = $3 AND status <> 'deleted'",
        )
        .bind(Vec::<u8>::new())
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("quarantined message {id}")));
        }
        Ok(())
    }
}

fn entry_from_row(row: &sqlx::any::AnyRow) -> Result<QuarantineEntry> {
    Ok(QuarantineEntry {
        id: row.try_get("id")?,
        created_at: row.try_get("created_at")?,
        origin: row.try_get("origin")?,
        queue_id: row.try_get("queue_id")?,
        reason: row.try_get("reason")?,
        class: row.try_get("class")?,
        score: row.try_get("score")?,
        sha256: row.try_get("sha256")?,
        size: row.try_get("size")?,
        envelope: crate::from_json(&row.try_get::<String, _>("envelope")?)?,
        status: QuarantineStatus::parse(&row.try_get::<String, _>("status")?)?,
        changed_at: row.try_get("changed_at")?,
    })
}
