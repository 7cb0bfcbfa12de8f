//! # mamori-serve
//!
//! The daemon behind `mamori serve`: it puts mamori in the mail flow and makes verdicts act.
//!
//! - [`milter`]: one session per MTA connection (Postfix, Sendmail) over `miltr-server`; collects the envelope,
//!   header fields and body, and answers with the playbook's disposition.
//! - [`service`]: the judging path shared by the milter and the API — bounded concurrency, a time budget per
//!   message, sender-history prefetch, [`mamori_detect::Engine::analyse_with`] on the blocking pool, the
//!   playbook, the actions, the message log and `on_error` when anything fails.
//! - [`playbook`]: ordered TOML rules (`when` → `then`), the built-in default, line-numbered errors.
//! - [`actions`]: effects outside the store (firewall, webhook, purge, re-delivery).
//! - [`blocks`]: the live block lists as a snapshot read by a detector.
//! - [`api`]: the HTTP API (axum), [`metrics`]: Prometheus text, [`server`]: listeners, signals, shutdown.
//!
//! It must not analyse mail itself (that is `mamori-detect`'s job) nor hold SQL (that is `mamori-store`'s); and
//! it must never deliver a message it could not judge unless `on_error = "accept"` says so.

pub mod actions;
pub mod api;
pub mod blocks;
pub mod config;
pub mod metrics;
pub mod milter;
pub mod playbook;
pub mod server;
pub mod service;

use std::sync::Arc;

use mamori_auth::{AuthConfig, AuthMode, MailAuthenticator};
use mamori_detect::{DetectConfig, Engine};

pub use config::ServeConfig;
pub use playbook::Playbook;
pub use service::Service;

/// Errors building the engine for the server.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The detection configuration is invalid.
    #[error("detection engine: {0}")]
    Engine(#[from] mamori_detect::engine::EngineError),
    /// Sender authentication could not be set up.
    #[error("sender authentication: {0}")]
    Auth(#[from] mamori_auth::AuthError),
}

/// Builds the server's engine: the detection configuration, sender authentication in `auth_mode` on the
/// server's runtime (`handle`), and the block-list detector reading the returned cell.
pub fn build_engine(
    detect: DetectConfig,
    auth: &AuthConfig,
    auth_mode: AuthMode,
    handle: tokio::runtime::Handle,
) -> Result<(Engine, Arc<blocks::BlockCell>), SetupError> {
    let cell = Arc::new(blocks::BlockCell::default());
    let mut engine =
        Engine::new(detect)?.with_detector(Box::new(blocks::BlockListDetector::new(cell.clone())));
    if auth_mode != AuthMode::Off {
        let mut auth = auth.clone();
        auth.mode = auth_mode;
        let authenticator = MailAuthenticator::with_handle(&auth, handle)?;
        engine = engine.with_authenticator(Arc::new(authenticator));
    }
    Ok((engine, cell))
}
