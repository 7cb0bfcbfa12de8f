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
    /// The intelligence hub as served by `mamori serve` (`docs/intel.md`).
    pub intel: IntelConfig,
}

/// `[intel]`: the TAXII 2.1 server mounted in `mamori serve`'s HTTP listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntelConfig {
    /// Serve TAXII 2.1 (`/taxii2/`, `/{api_root}/…`) next to the HTTP API. On by default: every TAXII request
    /// needs an organisation account (`mamori intel org add`), so with none configured nothing is readable.
    pub taxii: bool,
    /// Path segment of the API root.
    pub api_root: String,
    /// Largest accepted envelope in bytes (413 above).
    pub max_content_length: usize,
    /// Objects per page when the client gives no `limit`.
    pub default_page_size: i64,
    /// Largest page served.
    pub max_page_size: i64,
}

impl Default for IntelConfig {
    fn default() -> Self {
        let taxii = mamori_intel::taxii::TaxiiConfig::default();
        IntelConfig {
            taxii: true,
            api_root: taxii.api_root,
            max_content_length: taxii.max_content_length,
            default_page_size: taxii.default_page_size,
            max_page_size: taxii.max_page_size,
        }
    }
}

impl IntelConfig {
    /// Refuses settings the router cannot be built from (the API root becomes a path segment).
    pub fn check(&self) -> anyhow::Result<()> {
        let root = &self.api_root;
        if root.is_empty()
            || root.len() > 64
            || !root
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            || ["taxii2", "v1", "healthz", "metrics"].contains(&root.as_str())
        {
            anyhow::bail!(
                "[intel] api_root {root:?}: use 1-64 letters, digits, '-' or '_', not taxii2, v1, healthz or metrics"
            );
        }
        Ok(())
    }

    /// The TAXII server settings.
    pub fn taxii_config(&self) -> mamori_intel::taxii::TaxiiConfig {
        mamori_intel::taxii::TaxiiConfig {
            api_root: self.api_root.clone(),
            max_content_length: self.max_content_length,
            default_page_size: self.default_page_size.max(1),
            max_page_size: self.max_page_size.max(1),
            ..mamori_intel::taxii::TaxiiConfig::default()
        }
    }
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
