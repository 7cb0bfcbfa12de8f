//! # mamori-intel
//!
//! The TTP intelligence hub: STIX 2.1 objects checked on input ([`stix`]), the MITRE ATT&CK Enterprise bundle
//! imported into the store ([`attack`]), detections (incidents, mail verdicts, flow alerts) turned into STIX
//! indicators, sightings and incidents ([`export`]), attribution assistance that ranks known intrusion sets by
//! their ATT&CK profile ([`rank`]), ATT&CK Navigator layers ([`layer`]), a TAXII 2.1 server as an `axum::Router`
//! ([`taxii`]) with per-organisation accounts and TLP enforcement, and a TAXII client for push/pull ([`client`]).
//!
//! It keeps everything in the shared `mamori_store::Store` (SQLite or PostgreSQL). It must not decide verdicts,
//! change detections or reach the network on its own: the hub only shares what it is given, with whom it is
//! allowed to.

pub mod attack;
pub mod client;
pub mod export;
pub mod layer;
pub mod rank;
pub mod stix;
pub mod taxii;

/// Errors of the intelligence hub.
#[derive(Debug, thiserror::Error)]
pub enum IntelError {
    /// A file could not be read or written.
    #[error("cannot read {path}: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Input is not what it should be (not JSON, not a bundle, …).
    #[error("malformed input: {0}")]
    Malformed(String),
    /// Input exceeds a configured limit.
    #[error("limit exceeded: {0}")]
    Limit(String),
    /// A STIX object failed validation.
    #[error("invalid STIX object{}: {}", .0.id.as_deref().map(|i| format!(" {i}")).unwrap_or_default(), .0.message)]
    Invalid(#[from] stix::Invalid),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] mamori_store::StoreError),
    /// A TAXII exchange with another server failed.
    #[error("TAXII request failed: {0}")]
    Taxii(String),
    /// The request is not allowed or refers to something unknown.
    #[error("{0}")]
    Usage(String),
}
