//! Incidents: what the playbooks (mail) and the flow analytics record for the intelligence hub — a title, the
//! class and score, the ATT&CK techniques, the indicators and the evidence (a verdict or a flow alert as JSON).

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{Result, Store, StoreError, from_json, now_ms, to_json};

/// Where an incident came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IncidentSource {
    /// A mail verdict, through a playbook `incident` action.
    Mail,
    /// A flow-analytics alert.
    Flow,
    /// Entered or imported by an analyst.
    Manual,
}

impl IncidentSource {
    fn as_str(self) -> &'static str {
        match self {
            IncidentSource::Mail => "mail",
            IncidentSource::Flow => "flow",
            IncidentSource::Manual => "manual",
        }
    }

    fn parse(s: &str) -> Result<IncidentSource> {
        match s {
            "mail" => Ok(IncidentSource::Mail),
            "flow" => Ok(IncidentSource::Flow),
            "manual" => Ok(IncidentSource::Manual),
            other => Err(StoreError::Data(format!(
                "unknown incident source {other:?}"
            ))),
        }
    }
}

/// An incident to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewIncident {
    /// Origin.
    pub source: IncidentSource,
    /// One-line description.
    pub title: String,
    /// Class of the verdict or alert kind.
    pub class: String,
    /// Score of the verdict or alert.
    pub score: f64,
    /// ATT&CK technique ids.
    pub attack: Vec<String>,
    /// Indicators (mail `Indicators` or flow indicators) as JSON.
    pub indicators: serde_json::Value,
    /// Evidence (verdict or alert) as JSON.
    pub evidence: serde_json::Value,
    /// Reference of the message or alert it came from (e.g. the quarantine or message-log id).
    pub source_ref: Option<String>,
    /// Reporting organisation (for the intelligence hub), if not this node's own.
    pub organisation: Option<String>,
}

/// A recorded incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Stable id (UUID).
    pub id: String,
    /// When it was recorded, Unix milliseconds.
    pub created_at: i64,
    /// What was recorded.
    #[serde(flatten)]
    pub incident: NewIncident,
    /// `open` or `closed`.
    pub status: String,
}

impl Store {
    /// Records an incident and returns its id.
    pub async fn record_incident(&self, incident: &NewIncident) -> Result<String> {
        let id = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO incident (id, created_at, source, title, class, score, attack, indicators, evidence, source_ref, organisation, status)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open')",
        )
        .bind(&id)
        .bind(now_ms())
        .bind(incident.source.as_str())
        .bind(&incident.title)
        .bind(&incident.class)
        .bind(incident.score)
        .bind(to_json(&incident.attack)?)
        .bind(to_json(&incident.indicators)?)
        .bind(to_json(&incident.evidence)?)
        .bind(incident.source_ref.as_deref())
        .bind(incident.organisation.as_deref())
        .execute(self.pool())
        .await?;
        Ok(id)
    }

    /// Incidents recorded at or after `since_ms`, newest first, at most `limit`.
    pub async fn incidents_since(&self, since_ms: i64, limit: i64) -> Result<Vec<Incident>> {
        let rows = sqlx::query(
            "SELECT id, created_at, source, title, class, score, attack, indicators, evidence, source_ref, organisation, status
             FROM incident WHERE created_at >= $1 ORDER BY created_at DESC, id LIMIT $2",
        )
        .bind(since_ms)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(incident_from_row).collect()
    }

    /// One incident by id.
    pub async fn incident(&self, id: &str) -> Result<Incident> {
        let row = sqlx::query(
            "SELECT id, created_at, source, title, class, score, attack, indicators, evidence, source_ref, organisation, status
             FROM incident WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("incident {id}")))?;
        incident_from_row(&row)
    }
}

fn incident_from_row(row: &sqlx::any::AnyRow) -> Result<Incident> {
    Ok(Incident {
        id: row.try_get("id")?,
        created_at: row.try_get("created_at")?,
        incident: NewIncident {
            source: IncidentSource::parse(&row.try_get::<String, _>("source")?)?,
            title: row.try_get("title")?,
            class: row.try_get("class")?,
            score: row.try_get("score")?,
            attack: from_json(&row.try_get::<String, _>("attack")?)?,
            indicators: from_json(&row.try_get::<String, _>("indicators")?)?,
            evidence: from_json(&row.try_get::<String, _>("evidence")?)?,
            source_ref: row.try_get("source_ref")?,
            organisation: row.try_get("organisation")?,
        },
        status: row.try_get("status")?,
    })
}
