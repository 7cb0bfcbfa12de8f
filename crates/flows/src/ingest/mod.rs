//! Streaming ingest of Zeek `conn.log` files: TSV (with `#fields` headers) or JSON lines, plain or gzip
//! (detected by magic bytes, multi-member streams as written by log rotation are fine), one file after another.
//!
//! Records are parsed into [`ConnRecord`] values and pushed to a [`RecordSink`] one at a time; nothing is kept
//! per record, so memory depends on what the sink keeps (host pairs), not on the size of the logs. Lines are
//! bounded by [`IngestOptions::max_line_len`]. In [`ErrorMode::Strict`] the first malformed line stops ingest with
//! a `file:line` error; in [`ErrorMode::Skip`] malformed lines are counted by kind (with a few examples kept) and
//! ingest goes on.

mod json;
mod lines;
mod tsv;
pub mod values;

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use serde::Serialize;

use crate::record::ConnRecord;
use lines::{Line, SplitError, for_each_line};
use tsv::TsvLayout;

/// Default cap on one line (1 MiB): a conn.log line is a few hundred bytes, JSON with every field a few KiB.
pub const DEFAULT_MAX_LINE_LEN: usize = 1 << 20;
/// How many error messages are kept as examples in skip mode.
pub const MAX_ERROR_EXAMPLES: usize = 20;

/// What is wrong with one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// Longer than the configured limit (the line is skipped without being buffered).
    #[error("line of at least {len} bytes exceeds the {limit}-byte limit")]
    LineTooLong {
        /// Bytes seen.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// A record before any `#fields` header in a TSV file.
    #[error(
        "record before any #fields header (not a Zeek TSV conn.log, or its header was cut off)"
    )]
    NoHeader,
    /// The number of fields differs from the `#fields` header.
    #[error("expected {expected} fields (from #fields), found {found}")]
    FieldCount {
        /// Columns in the header.
        expected: usize,
        /// Columns in the line.
        found: usize,
    },
    /// A value that does not parse as its type.
    #[error("field {field}: invalid {what} {value:?}")]
    BadValue {
        /// Field name.
        field: &'static str,
        /// Expected type.
        what: &'static str,
        /// The value (first 64 characters).
        value: String,
    },
    /// A required value is unset (`-`).
    #[error("required field {0} is unset")]
    Unset(&'static str),
    /// The `#fields` header lacks a required field.
    #[error("#fields header lacks required field {0}")]
    MissingField(&'static str),
    /// The log is not a conn log (`#path` / `_path`).
    #[error("log path is {0:?}, not conn")]
    NotConn(String),
    /// An unusable header line.
    #[error("bad header: {0}")]
    BadHeader(String),
    /// Invalid JSON or wrong JSON types.
    #[error("invalid JSON record: {0}")]
    Json(String),
}

impl Malformed {
    pub(crate) fn bad_value(field: &'static str, what: &'static str, value: &[u8]) -> Self {
        Self::BadValue {
            field,
            what,
            value: String::from_utf8_lossy(value).chars().take(64).collect(),
        }
    }

    /// Stable short name of the kind, used as the counter key (`malformed.<kind>` / `limit.line_too_long`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::LineTooLong { .. } => "limit.line_too_long",
            Self::NoHeader => "malformed.no_header",
            Self::FieldCount { .. } => "malformed.field_count",
            Self::BadValue { .. } => "malformed.bad_value",
            Self::Unset(_) => "malformed.unset_required",
            Self::MissingField(_) => "malformed.missing_field",
            Self::NotConn(_) => "malformed.not_conn_log",
            Self::BadHeader(_) => "malformed.bad_header",
            Self::Json(_) => "malformed.json",
        }
    }
}

/// Errors that stop ingest.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file could not be opened.
    #[error("{file}: cannot open: {source}")]
    Open {
        /// File name.
        file: String,
        /// Cause.
        source: io::Error,
    },
    /// Reading failed part-way (I/O error, truncated or corrupt gzip).
    #[error("{file}: read failed after line {line}: {source}")]
    Read {
        /// File name.
        file: String,
        /// Lines read before the failure.
        line: u64,
        /// Cause.
        source: io::Error,
    },
    /// A malformed line in strict mode.
    #[error("{file}:{line}: {kind}")]
    Malformed {
        /// File name.
        file: String,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        kind: Malformed,
    },
}

/// What to do with malformed lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorMode {
    /// Count and skip them; an unreadable file is recorded and the next file is read.
    #[default]
    Skip,
    /// Stop at the first one.
    Strict,
}

/// Ingest options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestOptions {
    /// Strict or skip-and-count.
    pub mode: ErrorMode,
    /// Longest accepted line in bytes.
    pub max_line_len: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            mode: ErrorMode::Skip,
            max_line_len: DEFAULT_MAX_LINE_LEN,
        }
    }
}

/// Counters over everything ingested.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IngestStats {
    /// Files opened.
    pub files: u64,
    /// Files that failed part-way or could not be opened (skip mode).
    pub files_failed: u64,
    /// Lines read (headers and comments included).
    pub lines: u64,
    /// Records parsed and handed to the sink.
    pub records: u64,
    /// Records whose `ts` is earlier than the previous record of the same file (normal in Zeek: conn.log is written
    /// when connections end; the analytics sort per host pair).
    pub out_of_order: u64,
    /// Skipped lines by kind (`malformed.*`, `limit.*`).
    pub skipped: std::collections::BTreeMap<&'static str, u64>,
    /// The first [`MAX_ERROR_EXAMPLES`] problems as `file:line: message`.
    pub examples: Vec<String>,
}

impl IngestStats {
    /// Total skipped lines.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    fn note(&mut self, kind: &'static str, message: String) {
        *self.skipped.entry(kind).or_default() += 1;
        if self.examples.len() < MAX_ERROR_EXAMPLES {
            self.examples.push(message);
        }
    }
}

/// Receives parsed records.
pub trait RecordSink {
    /// Take one record.
    fn push(&mut self, record: &ConnRecord);

    /// No more records for now (end of a file): process anything buffered.
    fn finish(&mut self) {}
}

impl<F: FnMut(&ConnRecord)> RecordSink for F {
    fn push(&mut self, record: &ConnRecord) {
        self(record)
    }
}

/// Ingest one file (plain or gzip).
pub fn ingest_file(
    path: &Path,
    opts: &IngestOptions,
    sink: &mut dyn RecordSink,
    stats: &mut IngestStats,
) -> Result<(), IngestError> {
    let name = path.display().to_string();
    let file = match File::open(path) {
        Ok(f) => f,
        Err(source) => {
            stats.files += 1;
            return fail(opts, stats, IngestError::Open { file: name, source });
        }
    };
    ingest_reader(&name, file, opts, sink, stats)
}

/// Ingest from any reader; `name` is used in messages. Gzip is detected by its magic bytes.
pub fn ingest_reader(
    name: &str,
    mut reader: impl Read,
    opts: &IngestOptions,
    sink: &mut dyn RecordSink,
    stats: &mut IngestStats,
) -> Result<(), IngestError> {
    stats.files += 1;
    let mut magic = [0u8; 2];
    let got = match read_up_to(&mut reader, &mut magic) {
        Ok(n) => n,
        Err(source) => {
            return fail(
                opts,
                stats,
                IngestError::Read {
                    file: name.to_string(),
                    line: 0,
                    source,
                },
            );
        }
    };
    let head = io::Cursor::new(magic).take(got as u64).chain(reader);
    let result = if got == 2 && magic == [0x1f, 0x8b] {
        ingest_plain(
            name,
            flate2::read::MultiGzDecoder::new(head),
            opts,
            sink,
            stats,
        )
    } else {
        ingest_plain(name, head, opts, sink, stats)
    };
    sink.finish();
    result
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// In skip mode a file-level failure is recorded and ingest continues with the next file.
fn fail(
    opts: &IngestOptions,
    stats: &mut IngestStats,
    err: IngestError,
) -> Result<(), IngestError> {
    match opts.mode {
        ErrorMode::Strict => Err(err),
        ErrorMode::Skip => {
            stats.files_failed += 1;
            if stats.examples.len() < MAX_ERROR_EXAMPLES {
                stats.examples.push(err.to_string());
            }
            Ok(())
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Unknown,
    Tsv,
    Json,
}

fn ingest_plain(
    name: &str,
    mut reader: impl Read,
    opts: &IngestOptions,
    sink: &mut dyn RecordSink,
    stats: &mut IngestStats,
) -> Result<(), IngestError> {
    let mut format = Format::Unknown;
    let mut layout = TsvLayout::default();
    // A log whose header is unusable is skipped until a header fixes it: a wrong `#path` until the next log
    // (`#separator`) or a conn `#path`; unusable `#fields` until the next good `#fields`.
    let mut rejected_by: Option<&'static [u8]> = None;
    let mut last_ts = f64::NEG_INFINITY;
    let strict = opts.mode == ErrorMode::Strict;
    let limit = opts.max_line_len;
    let result = for_each_line(&mut reader, limit, |line_no, line| {
        stats.lines += 1;
        let text = match line {
            Line::Text(t) => t,
            Line::TooLong(len) => {
                return problem(
                    strict,
                    stats,
                    name,
                    line_no,
                    Malformed::LineTooLong { len, limit },
                );
            }
        };
        if text.is_empty() {
            return Ok(());
        }
        if format == Format::Unknown {
            format = if text.first() == Some(&b'{') {
                Format::Json
            } else {
                Format::Tsv
            };
        }
        let parsed = match format {
            Format::Json => json::parse(text),
            _ => {
                if text.first() == Some(&b'#') {
                    let key: &'static [u8] = if text.starts_with(b"#path") {
                        b"#path"
                    } else if text.starts_with(b"#fields") {
                        b"#fields"
                    } else {
                        b"#"
                    };
                    return match layout.header_line(text) {
                        Ok(()) => {
                            let clears = text.starts_with(b"#separator")
                                || (key != b"#" && rejected_by == Some(key));
                            if clears {
                                rejected_by = None;
                            }
                            Ok(())
                        }
                        Err(kind) => {
                            rejected_by = Some(key);
                            problem(strict, stats, name, line_no, kind)
                        }
                    };
                }
                if rejected_by.is_some() {
                    // Already reported at the header; the records under it are counted, not reported one by one.
                    *stats
                        .skipped
                        .entry("malformed.under_rejected_header")
                        .or_default() += 1;
                    return Ok(());
                }
                if !layout.has_fields() {
                    Err(Malformed::NoHeader)
                } else {
                    layout.parse(text)
                }
            }
        };
        match parsed {
            Ok(rec) if !(rec.ts.is_finite() && rec.ts >= 0.0) => problem(
                strict,
                stats,
                name,
                line_no,
                Malformed::bad_value("ts", "time", rec.ts.to_string().as_bytes()),
            ),
            Ok(rec) => {
                if rec.ts < last_ts {
                    stats.out_of_order += 1;
                }
                last_ts = rec.ts;
                stats.records += 1;
                sink.push(&rec);
                Ok(())
            }
            Err(kind) => problem(strict, stats, name, line_no, kind),
        }
    });
    match result {
        Ok(_) => Ok(()),
        Err(SplitError::Callback(e)) => Err(e),
        Err(SplitError::Read { line, source }) => fail(
            opts,
            stats,
            IngestError::Read {
                file: name.to_string(),
                line,
                source,
            },
        ),
    }
}

fn problem(
    strict: bool,
    stats: &mut IngestStats,
    file: &str,
    line: u64,
    kind: Malformed,
) -> Result<(), IngestError> {
    if strict {
        return Err(IngestError::Malformed {
            file: file.to_string(),
            line,
            kind,
        });
    }
    let k = kind.kind();
    stats.note(k, format!("{file}:{line}: {kind}"));
    Ok(())
}

/// Line iteration for the auxiliary logs read by [`crate::names`]: text lines only, over-long lines dropped.
pub(crate) fn lines_for_names(
    reader: &mut dyn Read,
    max_line_len: usize,
    mut f: impl FnMut(&[u8]),
) -> Result<(), (u64, io::Error)> {
    let res: Result<u64, SplitError<()>> =
        for_each_line(&mut &mut *reader, max_line_len, |_, line| {
            if let Line::Text(t) = line {
                f(t);
            }
            Ok(())
        });
    match res {
        Ok(_) | Err(SplitError::Callback(())) => Ok(()),
        Err(SplitError::Read { line, source }) => Err((line, source)),
    }
}
