//! Resource limits applied while parsing, so hostile input stays bounded in time and memory.

use serde::{Deserialize, Serialize};

/// Caps applied by [`crate::parse`] and the [`crate::source`] readers. Exceeding one never fails the parse: the
/// input is cut at the limit and a `limit.*` anomaly records what was dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest message analysed, in bytes; longer input is truncated (`limit.message_size`).
    pub max_message_bytes: usize,
    /// Deepest MIME nesting (multipart and message/rfc822) whose parts are analysed (`limit.mime_depth`).
    pub max_mime_depth: usize,
    /// Most MIME parts analysed per message (`limit.mime_parts`).
    pub max_parts: usize,
    /// Most header fields read from one header block (`limit.headers`).
    pub max_headers: usize,
    /// Longest single header value kept, in bytes (longer values are cut).
    pub max_header_value_bytes: usize,
    /// Most decoded bytes kept across all parts of a message (`limit.decoded_bytes`).
    pub max_decoded_bytes: usize,
    /// Most characters of body text kept for analysis (`limit.text`).
    pub max_text_bytes: usize,
    /// Most links collected per message (`limit.links`).
    pub max_links: usize,
    /// Longest line an mbox reader keeps; longer lines are cut (the rest is skipped, not buffered).
    pub max_line_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 64 * 1024 * 1024,
            max_mime_depth: 32,
            max_parts: 1_000,
            max_headers: 5_000,
            max_header_value_bytes: 64 * 1024,
            max_decoded_bytes: 128 * 1024 * 1024,
            max_text_bytes: 2 * 1024 * 1024,
            max_links: 2_000,
            max_line_bytes: 1024 * 1024,
        }
    }
}
