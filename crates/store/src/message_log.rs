//! The message log: one row per scanned message (envelope, verdict, what was done with it, where it was
//! delivered) and its indicators in a separate table, so a retro-hunt ("which delivered messages carried this
//! URL?") is an index lookup.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{Result, Store, StoreError, now_ms};

/// A message to log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewLoggedMessage {
    /// `milter`, `api`, `purge`.
    pub origin: String,
    /// MTA queue id.
    pub queue_id: Option<String>,
    /// Message-ID header.
    pub message_id: Option<String>,
    /// Envelope sender.
    pub mail_from: Option<String>,
    /// Envelope recipients.
    pub recipients: Vec<String>,
    /// Subject.
    pub subject: Option<String>,
    /// Verdict class.
    pub class: String,
    /// Verdict score.
    pub score: f64,
    /// What was done: `accept`, `tag`, `reject`, `tempfail`, `discard`, `quarantine`.
    pub disposition: String,
    /// SHA-256 of the message.
    pub sha256: String,
    /// Size in bytes.
    pub size: i64,
    /// Delivery path: the MTA's (`mta`), `quarantine:Q-…`, `none` (rejected/discarded).
    pub delivery: String,
    /// Verdict JSON.
    pub verdict: serde_json::Value,
    /// Indicators as `(kind, value)` pairs: `sender`, `domain`, `url`, `file`, `ip`, `message-id`, `recipient`.
    pub indicators: Vec<(String, String)>,
}

/// A logged message (without the verdict JSON and indicators, for listings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedMessage {
    /// Reference id (`M-…`).
    pub id: String,
    /// When it was judged, Unix milliseconds.
    pub created_at: i64,
    /// Origin.
    pub origin: String,
    /// MTA queue id.
    pub queue_id: Option<String>,
    /// Message-ID.
    pub message_id: Option<String>,
    /// Envelope sender.
    pub mail_from: Option<String>,
    /// Envelope recipients.
    pub recipients: Vec<String>,
    /// Subject.
    pub subject: Option<String>,
    /// Class.
    pub class: String,
    /// Score.
    pub score: f64,
    /// What was done.
    pub disposition: String,
    /// SHA-256.
    pub sha256: String,
    /// Size.
    pub size: i64,
    /// Delivery path.
    pub delivery: String,
}

/// Filters for [`Store::messages_find`]; all given ones must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MessageQuery {
    /// Logged at or after (Unix ms).
    pub since: Option<i64>,
    /// Logged before (Unix ms).
    pub until: Option<i64>,
    /// Exact class.
    pub class: Option<String>,
    /// Exact disposition.
    pub disposition: Option<String>,
    /// Carries this indicator: kind.
    pub indicator_kind: Option<String>,
    /// Carries this indicator: value.
    pub indicator_value: Option<String>,
    /// Most rows (default 100, at most 10 000).
    pub limit: Option<i64>,
}

/// Indicator kinds the log keeps.
pub const INDICATOR_KINDS: [&str; 7] = [
    "sender",
    "domain",
    "url",
    "file",
    "ip",
    "message-id",
    "recipient",
];

const COLUMNS: &str = "id, created_at, origin, queue_id, message_id, mail_from, recipients, subject, class, score, disposition, sha256, size, delivery";

impl Store {
    /// Logs a message and its indicators in one transaction; returns its reference id.
    pub async fn message_log(&self, message: &NewLoggedMessage) -> Result<String> {
        let id = format!("M-{}", uuid::Uuid::new_v4().simple());
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO message_log (id, created_at, origin, queue_id, message_id, mail_from, recipients, subject, class, score, disposition, sha256, size, delivery, verdict)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&id)
        .bind(now_ms())
        .bind(&message.origin)
        .bind(message.queue_id.as_deref())
        .bind(message.message_id.as_deref())
        .bind(message.mail_from.as_deref())
        .bind(crate::to_json(&message.recipients)?)
        .bind(message.subject.as_deref())
        .bind(&message.class)
        .bind(message.score)
        .bind(&message.disposition)
        .bind(&message.sha256)
        .bind(message.size)
        .bind(&message.delivery)
        .bind(crate::to_json(&message.verdict)?)
        .execute(&mut *tx)
        .await?;
        let mut seen = std::collections::HashSet::new();
        for (kind, value) in &message.indicators {
            if !seen.insert((kind.as_str(), value.as_str())) {
                continue;
            }
            sqlx::query(
                "INSERT INTO message_indicator (message_ref, kind, value) VALUES ($1, $2, $3)",
            )
            .bind(&id)
            .bind(kind)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Logged messages matching `query`, newest first.
    pub async fn messages_find(&self, query: &MessageQuery) -> Result<Vec<LoggedMessage>> {
        // Placeholders are numbered in order of use, as both backends accept.
        let mut sql = format!("SELECT {COLUMNS} FROM message_log m WHERE 1 = 1");
        let mut binds: Vec<Bind> = Vec::new();
        if let Some(since) = query.since {
            binds.push(Bind::Int(since));
            sql.push_str(&format!(" AND m.created_at >= ${}", binds.len()));
        }
        if let Some(until) = query.until {
            binds.push(Bind::Int(until));
            sql.push_str(&format!(" AND m.created_at < ${}", binds.len()));
        }
        if let Some(class) = &query.class {
            binds.push(Bind::Text(class.clone()));
            sql.push_str(&format!(" AND m.class = ${}", binds.len()));
        }
        if let Some(disposition) = &query.disposition {
            binds.push(Bind::Text(disposition.clone()));
            sql.push_str(&format!(" AND m.disposition = ${}", binds.len()));
        }
        match (&query.indicator_kind, &query.indicator_value) {
            (Some(kind), Some(value)) => {
                binds.push(Bind::Text(kind.clone()));
                binds.push(Bind::Text(value.clone()));
                sql.push_str(&format!(
                    " AND m.id IN (SELECT message_ref FROM message_indicator WHERE kind = ${} AND value = ${})",
                    binds.len() - 1,
                    binds.len()
                ));
            }
            (None, None) => {}
            _ => {
                return Err(StoreError::Data(
                    "indicator_kind and indicator_value go together".into(),
                ));
            }
        }
        binds.push(Bind::Int(query.limit.unwrap_or(100).clamp(1, 10_000)));
        sql.push_str(&format!(
            " ORDER BY m.created_at DESC, m.id LIMIT ${}",
            binds.len()
        ));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = match b {
                Bind::Int(i) => q.bind(i),
                Bind::Text(t) => q.bind(t),
            };
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter().map(logged_from_row).collect()
    }

    /// One logged message with its verdict JSON.
    pub async fn message_get(&self, id: &str) -> Result<(LoggedMessage, serde_json::Value)> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, verdict FROM message_log WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("logged message {id}")))?;
        let verdict = crate::from_json(&row.try_get::<String, _>("verdict")?)?;
        Ok((logged_from_row(&row)?, verdict))
    }

    /// The indicators logged for a message.
    pub async fn message_indicators(&self, id: &str) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT kind, value FROM message_indicator WHERE message_ref = $1 ORDER BY kind, value",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("kind")?, r.try_get("value")?)))
            .collect()
    }
}

enum Bind {
    Int(i64),
    Text(String),
}

fn logged_from_row(row: &sqlx::any::AnyRow) -> Result<LoggedMessage> {
    Ok(LoggedMessage {
        id: row.try_get("id")?,
        created_at: row.try_get("created_at")?,
        origin: row.try_get("origin")?,
        queue_id: row.try_get("queue_id")?,
        message_id: row.try_get("message_id")?,
        mail_from: row.try_get("mail_from")?,
        recipients: crate::from_json(&row.try_get::<String, _>("recipients")?)?,
        subject: row.try_get("subject")?,
        class: row.try_get("class")?,
        score: row.try_get("score")?,
        disposition: row.try_get("disposition")?,
        sha256: row.try_get("sha256")?,
        size: row.try_get("size")?,
        delivery: row.try_get("delivery")?,
    })
}
