//! A finding: one thing a detector noticed, with its evidence and the ATT&CK techniques it indicates.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::catalog;

/// What a finding is evidence of; the class of a verdict follows the category with the most points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Weaponised content: executables, scripts, macros, exploits.
    Malware,
    /// Credential theft and impersonation.
    Phishing,
    /// Unsolicited bulk mail.
    Spam,
    /// Odd or evasive structure that is not by itself one of the above.
    Anomaly,
    /// Evidence that lowers risk (authenticated sender, known correspondent).
    Benign,
}

/// How much a finding matters on its own, for display and playbook conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Context only.
    Info,
    /// Weak signal.
    Low,
    /// Suspicious.
    Medium,
    /// Strong signal.
    High,
    /// Malicious beyond reasonable doubt.
    Critical,
}

/// One finding in a verdict. Ids, titles, weights and techniques come from the [`catalog`]; evidence is specific
/// to the message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable dotted id, e.g. `attachment.name.double_extension`.
    pub id: Cow<'static, str>,
    /// One-line human title.
    pub title: Cow<'static, str>,
    /// What the finding is evidence of.
    pub category: Category,
    /// How much it matters on its own.
    pub severity: Severity,
    /// Points it adds to the score (negative for benign evidence).
    pub weight: f32,
    /// What was seen, in readable sentences (values quoted).
    pub evidence: Vec<String>,
    /// MITRE ATT&CK technique ids it indicates.
    pub attack: Vec<Cow<'static, str>>,
}

impl Finding {
    /// Creates a finding for a catalogued id with one piece of evidence. An id missing from the catalogue is a
    /// programming error caught by tests; in release it yields an `Anomaly` finding with no weight.
    pub fn new(id: &'static str, evidence: impl Into<String>) -> Finding {
        let mut f = Finding::bare(id);
        f.evidence.push(evidence.into());
        f
    }

    /// Creates a finding for a catalogued id with no evidence yet.
    pub fn bare(id: &'static str) -> Finding {
        match catalog::spec(id) {
            Some(spec) => Finding {
                id: Cow::Borrowed(spec.id),
                title: Cow::Borrowed(spec.title),
                category: spec.category,
                severity: spec.severity,
                weight: spec.weight,
                evidence: Vec::new(),
                attack: spec.attack.iter().map(|t| Cow::Borrowed(*t)).collect(),
            },
            None => {
                debug_assert!(false, "finding id {id} is not in the catalogue");
                Finding {
                    id: Cow::Borrowed(id),
                    title: Cow::Borrowed(id),
                    category: Category::Anomaly,
                    severity: Severity::Info,
                    weight: 0.0,
                    evidence: Vec::new(),
                    attack: Vec::new(),
                }
            }
        }
    }

    /// Adds a piece of evidence (builder style).
    pub fn with(mut self, evidence: impl Into<String>) -> Finding {
        self.evidence.push(evidence.into());
        self
    }

    /// Scales the weight, e.g. by a model probability (builder style).
    pub fn scaled(mut self, factor: f32) -> Finding {
        self.weight *= factor;
        self
    }
}

/// Collects findings, merging repeats of the same id into one finding with all the evidence (capped), so a message
/// with fifty bad links scores once per kind, not fifty times.
#[derive(Debug, Default)]
pub struct Findings {
    items: Vec<Finding>,
}

/// Most evidence lines kept per finding.
pub const MAX_EVIDENCE: usize = 10;

impl Findings {
    /// Adds a finding, merging it into an earlier one with the same id.
    pub fn push(&mut self, finding: Finding) {
        if let Some(existing) = self.items.iter_mut().find(|f| f.id == finding.id) {
            for e in finding.evidence {
                if existing.evidence.len() < MAX_EVIDENCE {
                    if !existing.evidence.contains(&e) {
                        existing.evidence.push(e);
                    }
                } else {
                    break;
                }
            }
            if finding.weight.abs() > existing.weight.abs() {
                existing.weight = finding.weight;
            }
            return;
        }
        let mut finding = finding;
        finding.evidence.truncate(MAX_EVIDENCE);
        self.items.push(finding);
    }

    /// True if a finding with this id was recorded.
    pub fn contains(&self, id: &str) -> bool {
        self.items.iter().any(|f| f.id == id)
    }

    /// The findings so far.
    pub fn as_slice(&self) -> &[Finding] {
        &self.items
    }

    /// Takes the findings out.
    pub fn into_vec(self) -> Vec<Finding> {
        self.items
    }
}
