//! Detection configuration: limits, scoring thresholds, per-finding overrides and the organisation's identity.
//! Deserialised from the `[detect]`-level sections of `mamori.toml`; every field has a default, so an empty file
//! (or none) is a valid configuration.

use std::collections::BTreeMap;

use mamori_mail::Limits;
use serde::{Deserialize, Serialize};

/// Everything that shapes a verdict.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectConfig {
    /// Parser limits.
    pub limits: Limits,
    /// How points become a class.
    pub scoring: ScoringConfig,
    /// Per-finding overrides.
    pub findings: FindingOverrides,
    /// Who we are: our domains, partners, people worth impersonating.
    pub organisation: OrganisationConfig,
    /// How the content model's probabilities become findings (`[model]`, see `docs/scoring.md`).
    pub model: crate::content_model::ModelConfig,
    /// Attachment analysis: limits, PPAP passwords, YARA (`docs/attachments.md`).
    pub attachments: AttachmentConfig,
}

/// How attachments are looked into (`[attachments]` in `mamori.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttachmentConfig {
    /// Look inside attachments at all (containers, Office, PDF, …). Names and types are checked regardless.
    pub enabled: bool,
    /// Bounds on unpacking (depth, files, bytes, ratio).
    pub limits: mamori_files::Limits,
    /// Try passwords written in the message body on encrypted archives (PPAP).
    pub passwords_from_body: bool,
    /// Scan every file with YARA rules (built-in set plus `yara_rules`), when the build has the `yara` feature.
    pub yara: bool,
    /// Directory of the user's YARA rules (`*.yar`, `*.yara`), read once at start-up; `scan --rules DIR` overrides.
    pub yara_rules: Option<std::path::PathBuf>,
}

impl Default for AttachmentConfig {
    fn default() -> Self {
        AttachmentConfig {
            enabled: true,
            limits: mamori_files::Limits::default(),
            passwords_from_body: true,
            yara: true,
            yara_rules: None,
        }
    }
}

/// Thresholds that turn points into a class (see `docs/scoring.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScoringConfig {
    /// Total points from which a message is flagged at all.
    pub flag_threshold: f32,
    /// Points a category (malware, phishing, spam) needs to name the class; below, a flagged message is
    /// `suspicious`.
    pub category_threshold: f32,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        ScoringConfig {
            flag_threshold: 5.0,
            category_threshold: 3.0,
        }
    }
}

/// Per-finding changes to the catalogue defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FindingOverrides {
    /// Replacement weights by finding id.
    pub weights: BTreeMap<String, f32>,
    /// Finding ids (globs like `received.*` allowed) that are dropped from verdicts.
    pub disabled: Vec<String>,
}

/// The organisation's identity, used by impersonation and lookalike checks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrganisationConfig {
    /// Our own mail domains.
    pub domains: Vec<String>,
    /// Partner and supplier domains worth protecting.
    pub partner_domains: Vec<String>,
    /// People worth impersonating (executives, finance, IT): display names in kanji, kana or Latin.
    pub vips: Vec<Vip>,
    /// Do not protect the built-in list of well-known brands (`mamori_detect::knowledge::brands`).
    pub ignore_builtin_brands: bool,
}

/// A protected person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Vip {
    /// Name as usually written (e.g. `山田 太郎`).
    pub name: String,
    /// Other spellings (`ヤマダ タロウ`, `Taro Yamada`).
    pub aliases: Vec<String>,
    /// Addresses the person really uses.
    pub addresses: Vec<String>,
}
