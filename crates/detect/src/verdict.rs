//! The verdict: class, score, findings with evidence, indicators and ATT&CK techniques for one message.
//! Serialised as versioned JSON (`docs/verdict-json.md`); `schema` changes only by decision.

use serde::{Deserialize, Serialize};

use crate::auth::AuthReport;
use crate::finding::Finding;
use crate::indicators::Indicators;

/// Current verdict schema. Bump the number for any change that breaks consumers.
pub const SCHEMA: &str = "mamori.verdict/1";

/// The overall judgement of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// Nothing worth acting on.
    Clean,
    /// Risky, but no category dominates.
    Suspicious,
    /// Unsolicited bulk mail.
    Spam,
    /// Credential theft or impersonation.
    Phishing,
    /// Weaponised content.
    Malware,
}

impl Class {
    /// Lower-case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Clean => "clean",
            Class::Suspicious => "suspicious",
            Class::Spam => "spam",
            Class::Phishing => "phishing",
            Class::Malware => "malware",
        }
    }

    /// True for every class but `clean`.
    pub fn is_flagged(self) -> bool {
        self != Class::Clean
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Class probabilities from the content model, when one ran.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Probabilities {
    /// Legitimate mail.
    pub ham: f32,
    /// Spam.
    pub spam: f32,
    /// Phishing.
    pub phish: f32,
}

/// Where the message came from, for batch output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    /// Path (`-` for stdin).
    pub path: String,
    /// Position in an mbox holding several messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
}

/// Identifying facts of the message, for people reading the verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageSummary {
    /// Message-ID.
    pub message_id: Option<String>,
    /// Decoded subject.
    pub subject: Option<String>,
    /// From address.
    pub from: Option<String>,
    /// From display name.
    pub from_name: Option<String>,
    /// To and Cc addresses.
    pub to: Vec<String>,
    /// Date header as written.
    pub date: Option<String>,
    /// Size in bytes.
    pub size: usize,
    /// SHA-256 of the raw message.
    pub sha256: String,
}

/// The verdict on one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Schema id, `mamori.verdict/1`.
    pub schema: String,
    /// Input location (batch scans only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
    /// Identifying facts.
    pub message: MessageSummary,
    /// Overall class.
    pub class: Class,
    /// Total points: the sum of finding weights.
    pub score: f32,
    /// Content-model probabilities, when the model ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probability: Option<Probabilities>,
    /// Findings, highest weight first.
    pub findings: Vec<Finding>,
    /// Indicators for block lists, retro-hunts and intelligence sharing.
    pub indicators: Indicators,
    /// Union of the findings' ATT&CK techniques, sorted.
    pub attack: Vec<String>,
    /// Sender authentication (SPF, DKIM, DMARC, ARC), when an authenticator ran (`docs/auth.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthReport>,
    /// Analysis time in microseconds.
    pub elapsed_us: u64,
}

impl Verdict {
    /// Ids of the findings, in verdict order.
    pub fn finding_ids(&self) -> impl Iterator<Item = &str> {
        self.findings.iter().map(|f| f.id.as_ref())
    }

    /// True if a finding with this id is present.
    pub fn has(&self, id: &str) -> bool {
        self.findings.iter().any(|f| f.id == id)
    }
}
