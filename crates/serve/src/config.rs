//! The `[serve]` section of `mamori.toml`: listeners, limits, fail-safe behaviour, API tokens, release and
//! purge targets. Every key has a default, so `mamori serve` runs with no configuration at all.

use std::path::PathBuf;

use mamori_auth::AuthMode;
use serde::{Deserialize, Serialize};

/// Default milter listener (loopback).
pub const DEFAULT_MILTER: &str = "127.0.0.1:7357";
/// Default HTTP API listener (loopback).
pub const DEFAULT_HTTP: &str = "127.0.0.1:7358";

/// What the milter answers when it cannot judge a message (overload, time budget, internal or store error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Let the message through unscanned (availability first).
    Accept,
    /// `451 4.7.1`: the sending MTA retries later; nothing unscanned is delivered and nothing is lost.
    #[default]
    Tempfail,
}

/// What happens to a message above `max_message_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OversizeAction {
    /// `552 5.3.4` permanently.
    #[default]
    Reject,
    /// `451 4.3.4` temporarily.
    Tempfail,
    /// Deliver unscanned (with an `X-Mamori-Verdict: unscanned` header).
    Accept,
}

/// Where released quarantine goes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReleaseConfig {
    /// SMTP relay `host:port` that must not run the milter again (e.g. a second Postfix smtpd without
    /// `smtpd_milters`); used when set.
    pub smtp: Option<String>,
    /// Maildir to write released messages into (when no SMTP relay is set).
    pub maildir: Option<PathBuf>,
    /// Envelope sender for SMTP release when the original had none (`<>` otherwise).
    pub sender: Option<String>,
}

/// The `firewall` action's target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FirewallConfig {
    /// When true (the default) nothing is applied: the nft commands are only written to `output`.
    pub dry_run: bool,
    /// File the `nft -f` commands are appended to (default: `firewall.nft` in the data directory).
    pub output: Option<PathBuf>,
    /// nftables table name.
    pub table: String,
    /// IPv4 set name; the IPv6 set is this name with `_v6` appended.
    pub set: String,
}

impl Default for FirewallConfig {
    fn default() -> Self {
        FirewallConfig {
            dry_run: true,
            output: None,
            table: "mamori".into(),
            set: "mamori_block".into(),
        }
    }
}

/// The `[serve]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeConfig {
    /// Milter listener: `host:port` or `unix:/path/to/socket`.
    pub milter: String,
    /// HTTP API listener `host:port`.
    pub http: String,
    /// Data directory (SQLite database, firewall file); `--data-dir` overrides.
    pub data_dir: PathBuf,
    /// Database URL (`postgres://…`); default: SQLite `mamori.db` in the data directory.
    pub database: Option<String>,
    /// Playbook file; default: the built-in playbook.
    pub playbook: Option<PathBuf>,
    /// Sender authentication mode for live mail (overrides `[auth] mode` for the server; `dns` by default).
    pub auth_mode: AuthMode,
    /// Answer when a message cannot be judged.
    pub on_error: OnError,
    /// Wall-time budget for one message (waiting for a slot, analysis, actions), milliseconds.
    pub message_timeout_ms: u64,
    /// Most analyses at once; further messages wait (within their budget).
    pub max_concurrent: usize,
    /// Largest message judged, bytes.
    pub max_message_bytes: usize,
    /// What to do with larger messages.
    pub oversize: OversizeAction,
    /// Add `X-Mamori-Verdict`, `X-Mamori-Score`, `X-Mamori-Findings` to delivered mail.
    pub add_headers: bool,
    /// Bearer tokens of the HTTP API, stored hashed: `sha256:<hex of SHA-256 of the token>`. No tokens: the
    /// `/v1` API answers 401 (health and metrics stay open).
    pub api_tokens: Vec<String>,
    /// Largest HTTP request body (POST /v1/scan), bytes.
    pub max_request_bytes: usize,
    /// How often block lists are re-read from the store (entries added by other nodes), milliseconds.
    pub block_refresh_ms: u64,
    /// Maildirs a `purge` action may move delivered messages out of.
    pub maildirs: Vec<PathBuf>,
    /// Release target.
    pub release: ReleaseConfig,
    /// Firewall action target.
    pub firewall: FirewallConfig,
    /// How long SIGTERM waits for messages in flight, milliseconds.
    pub shutdown_grace_ms: u64,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            milter: DEFAULT_MILTER.into(),
            http: DEFAULT_HTTP.into(),
            data_dir: PathBuf::from("mamori-data"),
            database: None,
            playbook: None,
            auth_mode: AuthMode::Dns,
            on_error: OnError::Tempfail,
            message_timeout_ms: 20_000,
            max_concurrent: 8,
            max_message_bytes: 32 * 1024 * 1024,
            oversize: OversizeAction::Reject,
            add_headers: true,
            api_tokens: Vec::new(),
            max_request_bytes: 32 * 1024 * 1024,
            block_refresh_ms: 2_000,
            maildirs: Vec::new(),
            release: ReleaseConfig::default(),
            firewall: FirewallConfig::default(),
            shutdown_grace_ms: 30_000,
        }
    }
}

/// `sha256:<hex>` for a token, as `api_tokens` stores it.
pub fn hash_token(token: &str) -> String {
    use sha2::Digest;
    format!(
        "sha256:{}",
        hex::encode(sha2::Sha256::digest(token.as_bytes()))
    )
}
