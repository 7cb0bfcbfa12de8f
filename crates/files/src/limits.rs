//! Explicit bounds on the walk through containers, so zip bombs and deep nesting end in a `limit.*` observation
//! instead of exhausting memory or time.

use serde::{Deserialize, Serialize};

/// Caps applied by [`crate::analyse`]. Exceeding one never fails the analysis: the walk stops at the limit and
/// a `limit.archive.*` observation records what was skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Deepest nesting of containers opened (the attachment itself is depth 0) (`limit.archive.depth`).
    pub max_depth: usize,
    /// Most files (the attachment and everything inside it) analysed (`limit.archive.files`).
    pub max_files: usize,
    /// Most bytes decompressed in all, across every container of one attachment (`limit.archive.total_bytes`).
    pub max_total_bytes: u64,
    /// Largest single decompressed entry read (`limit.archive.entry_size`).
    pub max_entry_bytes: u64,
    /// Highest decompressed/compressed ratio accepted for an entry larger than 1 MiB (`limit.archive.ratio`).
    pub max_ratio: u64,
    /// Most bytes of one file scanned by the text-level checks (PDF, RTF, HTML, scripts).
    pub max_scan_bytes: usize,
    /// Most URLs collected per attachment.
    pub max_urls: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 8,
            max_files: 1_000,
            max_total_bytes: 256 * 1024 * 1024,
            max_entry_bytes: 64 * 1024 * 1024,
            max_ratio: 200,
            max_scan_bytes: 32 * 1024 * 1024,
            max_urls: 500,
        }
    }
}
