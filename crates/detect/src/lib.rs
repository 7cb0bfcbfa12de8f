//! # mamori-detect
//!
//! Judges a parsed [`mamori_mail::Message`]: runs the detectors (one per concern), turns what they find into
//! [`Finding`]s with evidence and MITRE ATT&CK technique ids, combines them with the content model into a score and
//! a class, and returns a versioned, explainable [`Verdict`]. [`Engine::analyse`] is the one entry point behind
//! the CLI, the milter and the HTTP API, so identical input gives identical verdicts everywhere.
//!
//! Every finding id is declared once, in [`catalog`], with its title, weight, category and techniques.
//!
//! Detectors must not do I/O: anything from outside (block lists, sender history, DNS results) reaches them
//! through [`Context`], filled at the edges by the caller.

pub mod attachments;
pub mod auth;
pub mod catalog;
pub mod config;
pub mod content_model;
pub mod detector;
pub mod detectors;
pub mod engine;
pub mod finding;
pub mod history;
pub mod indicators;
pub mod knowledge;
pub mod lookalike;
pub mod score;
pub mod verdict;
#[cfg(feature = "yara")]
pub mod yara;

pub use auth::{AuthReport, Authenticator};
pub use config::DetectConfig;
pub use content_model::ModelConfig;
pub use detector::{Context, Detector};
pub use engine::{Engine, Extras};
pub use finding::{Category, Finding, Severity};
pub use history::SenderHistory;
pub use verdict::{Class, Verdict};
