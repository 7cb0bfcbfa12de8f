//! Zeek flow analytics: find command-and-control beaconing and exfiltration in `conn.log` files.
//!
//! Pipeline: [`ingest`] streams TSV or JSON-lines logs (plain or gzip) into a [`aggregate::FlowAggregator`], which
//! keeps bounded per-pair state for every internal source → external destination pair (memory grows with host
//! pairs, not records); [`analytics`] scores the pairs — beaconing, long connections, bulk outbound transfers,
//! rare destinations, strobes — into ranked, versioned [`alert::FlowAlert`]s carrying ATT&CK techniques, indicators
//! and evidence. [`report::Analyzer`] runs the whole pipeline over files; [`synth`] writes synthetic logs with
//! planted beacons for testing, evaluation and benchmarks; [`eval`] measures detection on real and synthetic data.
//!
//! This crate does not act on its findings (blocking lives in `mamori-respond`, incidents in the intelligence hub),
//! does no network I/O and never panics on input: malformed lines are errors with `file:line` or counted skips.

pub mod aggregate;
pub mod alert;
pub mod analytics;
pub mod attack;
pub mod eval;
pub mod ingest;
pub mod names;
pub mod network;
pub mod record;
pub mod report;
pub mod stats;
pub mod synth;

pub use alert::{AlertKind, FLOW_ALERT_SCHEMA_VERSION, FlowAlert, Severity};
pub use analytics::AnalysisConfig;
pub use report::{Analyzer, FlowReport};
