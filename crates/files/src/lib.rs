//! # mamori-files
//!
//! Looks inside attachments: a file's bytes become a bounded [`Report`] of every file found in it (nested
//! archives, disk images, Office and OneNote embeddings, RTF objects) with hashes and true types, the URLs it
//! carries (PDF `/URI`, Office relationships, HTML, LNK arguments) and typed [`Observation`]s: macros and their
//! auto-exec entry points, DDE, remote templates, Equation Editor objects, PDF actions, HTML smuggling, encrypted
//! archives (PPAP), misleading names, and the limits that stopped the walk (zip bombs, deep nesting).
//!
//! Everything is a pure function of bytes and [`Options`]: no I/O, no mail types, no scores. The detector in
//! `mamori-detect` maps observations to catalogued findings with weights and ATT&CK ids. Hostile input never
//! panics: parsers are bounded by [`Limits`], and what cannot be read becomes a `malformed.*` or `limit.*`
//! observation.

pub mod archive;
pub mod flatxml;
pub mod html;
pub mod limits;
pub mod listing;
pub mod lnk;
pub mod names;
pub mod office;
pub mod onenote;
pub mod password;
pub mod pdf;
pub mod report;
pub mod rtf;
pub mod types;
pub mod vba;
mod walk;

pub use limits::Limits;
pub use password::passwords_in_text;
pub use report::{FileEntry, FoundUrl, Observation, ObservationKind, Report, UrlSource};
pub use types::FileType;

/// A content scanner run on every file found (the attachment and each nested file), e.g. YARA rules. It returns
/// the names of the rules that matched.
pub trait ContentScanner {
    /// Names of the rules matching `data`.
    fn scan(&self, data: &[u8]) -> Vec<String>;
}

/// What the analysis may use besides the bytes.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Resource limits.
    pub limits: Limits,
    /// Passwords to try on encrypted archives (typically read from the message body, see [`passwords_in_text`]).
    pub passwords: Vec<String>,
}

/// Analyses one file (an attachment) and everything inside it.
///
/// `name` is the attachment's file name; nested files are named by their containers. Comparing the attachment's
/// declared MIME type with its content is the mail-level detectors' job; nested files have no declared type, so
/// their names are compared with their content here.
pub fn analyse(name: Option<&str>, data: &[u8], options: &Options) -> Report {
    walk::Walker::new(options).run(name, data)
}

/// [`analyse`], running `scanner` on every file found; matches become [`ObservationKind::RuleMatch`].
pub fn analyse_with_scanner(
    name: Option<&str>,
    data: &[u8],
    options: &Options,
    scanner: &dyn ContentScanner,
) -> Report {
    walk::Walker::new(options)
        .with_scanner(scanner)
        .run(name, data)
}
