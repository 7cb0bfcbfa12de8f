//! `mamori.toml`: the one configuration file. Every section is optional; no file at all means built-in defaults.
//! The format is documented in `docs/config.md` and versioned by its `version` key.

use std::path::Path;

use anyhow::Context as _;
use mamori_auth::AuthConfig;
use mamori_detect::DetectConfig;
use mamori_detect::config::{
    AttachmentConfig, FindingOverrides, OrganisationConfig, ScoringConfig,
};
use mamori_mail::Limits;
use serde::Deserialize;

/// Highest configuration format version this build understands.
pub const CONFIG_VERSION: u32 = 1;

/// The whole configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MamoriConfig {
    /// Format version (1).
    pub version: Option<u32>,
    /// Parser limits.
    pub limits: Limits,
    /// Score thresholds.
    pub scoring: ScoringConfig,
    /// Per-finding weights and switches.
    pub findings: FindingOverrides,
    /// The organisation's identity.
    pub organisation: OrganisationConfig,
    /// Sender authentication (SPF, DKIM, DMARC, ARC; `docs/auth.md`).
    pub auth: AuthConfig,
    /// Content model thresholds (`docs/scoring.md`, `docs/ml.md`).
    pub model: mamori_detect::ModelConfig,
    /// Attachment analysis (`docs/attachments.md`).
    pub attachments: AttachmentConfig,
    /// The daemon (`mamori serve`: milter, HTTP API, playbooks; `docs/serve.md`).
    pub serve: mamori_serve::ServeConfig,
}

impl MamoriConfig {
    /// Loads `path`, or the defaults when `path` is `None`.
    pub fn load(path: Option<&Path>) -> anyhow::Result<MamoriConfig> {
        let Some(path) = path else {
            return Ok(MamoriConfig::default());
        };
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let config: MamoriConfig =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        if let Some(v) = config.version
            && v > CONFIG_VERSION
        {
            anyhow::bail!(
                "{}: configuration version {v} is newer than this mamori understands ({CONFIG_VERSION})",
                path.display()
            );
        }
        Ok(config)
    }

    /// The detection part.
    pub fn detect(&self) -> DetectConfig {
        DetectConfig {
            limits: self.limits.clone(),
            scoring: self.scoring.clone(),
            findings: self.findings.clone(),
            organisation: self.organisation.clone(),
            model: self.model.clone(),
            attachments: self.attachments.clone(),
        }
    }
}
