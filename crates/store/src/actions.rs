//! Executed actions: every action a playbook (or an analyst through the API/CLI) carried out, with the message
//! reference, the outcome and details, for audit.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{Result, Store, now_ms};

/// One executed action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRecord {
    /// Id (`A-…`).
    pub id: String,
    /// When, Unix milliseconds.
    pub created_at: i64,
    /// Message, quarantine or analyst reference.
    pub message_ref: String,
    /// Action name (`tag`, `reject`, `block`, `webhook`, …).
    pub action: String,
    /// `ok`, `failed`, `dry-run`, `skipped`.
    pub outcome: String,
    /// What was done or why it failed.
    pub detail: String,
}

impl Store {
    /// Records an executed action.
    pub async fn action_record(
        &self,
        message_ref: &str,
        action: &str,
        outcome: &str,
        detail: &str,
    ) -> Result<String> {
        let id = format!("A-{}", uuid::Uuid::new_v4().simple());
        sqlx::query(
            "INSERT INTO action_log (id, created_at, message_ref, action, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(now_ms())
        .bind(message_ref)
        .bind(action)
        .bind(outcome)
        .bind(detail)
        .execute(self.pool())
        .await?;
        Ok(id)
    }

    /// Actions recorded for a message reference, oldest first.
    pub async fn actions_for(&self, message_ref: &str) -> Result<Vec<ActionRecord>> {
        let rows = sqlx::query(
            "SELECT id, created_at, message_ref, action, outcome, detail FROM action_log
             WHERE message_ref = $1 ORDER BY created_at, id",
        )
        .bind(message_ref)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(action_from_row).collect()
    }

    /// The most recent actions, newest first.
    pub async fn actions_recent(&self, limit: i64) -> Result<Vec<ActionRecord>> {
        let rows = sqlx::query(
            "SELECT id, created_at, message_ref, action, outcome, detail FROM action_log
             ORDER BY created_at DESC, id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(action_from_row).collect()
    }
}

fn action_from_row(row: &sqlx::any::AnyRow) -> Result<ActionRecord> {
    Ok(ActionRecord {
        id: row.try_get("id")?,
        created_at: row.try_get("created_at")?,
        message_ref: row.try_get("message_ref")?,
        action: row.try_get("action")?,
        outcome: row.try_get("outcome")?,
        detail: row.try_get("detail")?,
    })
}
