//! Input adapters: read raw messages from `.eml` files, directories (recursive), mbox files, Maildirs and standard
//! input, one at a time, so memory stays bounded by one message whatever the size of the input.
//!
//! The format is detected per input (a directory with `cur/` and `new/` is a Maildir; a file starting with an mbox
//! `From ` line is an mbox; any other file is one message) and can be forced. While walking directories, files
//! that do not look like mail at all (no header line at the start) are skipped and counted, so that scanning a
//! corpus folder does not report its README or label files; an input named explicitly is always scanned.

mod bsmtp;
mod mbox;

use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use bsmtp::{BsmtpReader, looks_like_bsmtp};
pub use mbox::MboxReader;

use crate::Envelope;

/// How to read an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Decide per input (see the module documentation).
    #[default]
    Auto,
    /// Each file is one message.
    Eml,
    /// Each file is an mbox (mboxrd/mboxo `From ` separated).
    Mbox,
    /// Each file is batched SMTP (`MAIL FROM:`, `RCPT TO:`, `DATA` … `.`).
    Bsmtp,
    /// The directory is a Maildir (`new/` and `cur/`).
    Maildir,
}

/// Where a message came from: a path, and its position when the file holds several messages.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Origin {
    /// File path (`-` for standard input).
    pub path: String,
    /// 0-based position in an mbox holding more than one message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
}

impl Origin {
    /// Parses `path` or `path#N` (the notation used in label files for mbox entries).
    pub fn parse(text: &str) -> Origin {
        if let Some((path, idx)) = text.rsplit_once('#')
            && let Ok(index) = idx.parse::<u64>()
        {
            return Origin {
                path: path.to_string(),
                index: Some(index),
            };
        }
        Origin {
            path: text.to_string(),
            index: None,
        }
    }

    /// Key for matching labels: message 0 of a single-message mbox is the same as the file itself.
    pub fn key(&self) -> (String, u64) {
        (self.path.clone(), self.index.unwrap_or(0))
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(i) => write!(f, "{}#{}", self.path, i),
            None => f.write_str(&self.path),
        }
    }
}

/// One raw message read from an input.
#[derive(Debug, Clone)]
pub struct MailItem {
    /// Where it came from.
    pub origin: Origin,
    /// Raw bytes (mbox quoting undone), at most `max_message_bytes`.
    pub bytes: Vec<u8>,
    /// Size of the message in the source when it was larger than what was kept.
    pub original_size: Option<u64>,
    /// True when a line longer than `max_line_bytes` was cut.
    pub long_lines: bool,
    /// SMTP envelope carried by the input (BSMTP), if any.
    pub envelope: Option<Envelope>,
}

/// Errors reading inputs. Each names the path.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The input does not exist or cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// Offending path.
        path: String,
        /// Underlying error.
        #[source]
        source: io::Error,
    },
    /// A forced format does not fit the input (e.g. `--format maildir` on a file).
    #[error("{path}: {reason}")]
    Format {
        /// Offending path.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

fn io_err(path: &Path, source: io::Error) -> SourceError {
    SourceError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Options for [`Reader`].
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Format of every input.
    pub format: Format,
    /// Largest message kept, in bytes (the rest of a bigger message is skipped, not buffered).
    pub max_message_bytes: usize,
    /// Longest line kept by the mbox reader.
    pub max_line_bytes: usize,
    /// Also scan files met while walking directories that do not look like mail.
    pub include_non_mail: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        let limits = crate::Limits::default();
        ReadOptions {
            format: Format::Auto,
            max_message_bytes: limits.max_message_bytes,
            max_line_bytes: limits.max_line_bytes,
            include_non_mail: false,
        }
    }
}

/// Reads messages from a list of inputs, lazily, in a stable order (directory entries sorted by name).
pub struct Reader {
    options: ReadOptions,
    /// Pending inputs: (path, named explicitly by the user).
    pending: VecDeque<(PathBuf, bool)>,
    active: Option<(String, Multi)>,
    stdin_pending: bool,
    skipped: u64,
}

impl Reader {
    /// Creates a reader over `inputs` (paths, or `-` for standard input).
    pub fn new(inputs: &[String], options: ReadOptions) -> Reader {
        let mut pending = VecDeque::new();
        let mut stdin_pending = false;
        for input in inputs {
            if input == "-" {
                stdin_pending = true;
            } else {
                pending.push_back((PathBuf::from(input), true));
            }
        }
        Reader {
            options,
            pending,
            active: None,
            stdin_pending,
            skipped: 0,
        }
    }

    /// Number of files skipped while walking directories because they do not look like mail.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    fn next_from_stdin(&mut self) -> Option<Result<MailItem, SourceError>> {
        self.stdin_pending = false;
        let mut reader: Box<dyn BufRead + Send> =
            Box::new(BufReader::with_capacity(64 * 1024, io::stdin()));
        let head = match reader.fill_buf() {
            Ok(h) => h,
            Err(e) => return Some(Err(io_err(Path::new("-"), e))),
        };
        if let Some(multi) = Multi::detect(head, self.options.format) {
            self.active = Some(("-".to_string(), multi.open(reader, &self.options)));
            return self.next();
        }
        Some(read_single(
            reader,
            "-".to_string(),
            None,
            self.options.max_message_bytes,
        ))
    }

    /// Handles one path: expands directories into `pending`, opens mboxes, or reads a single message.
    fn open(&mut self, path: PathBuf, explicit: bool) -> Option<Result<MailItem, SourceError>> {
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) => return Some(Err(io_err(&path, e))),
        };
        if meta.is_dir() {
            return match self.expand_dir(&path) {
                Ok(()) => None,
                Err(e) => Some(Err(e)),
            };
        }
        if self.options.format == Format::Maildir && explicit {
            return Some(Err(SourceError::Format {
                path: path.display().to_string(),
                reason: "--format maildir needs a directory".into(),
            }));
        }
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) => return Some(Err(io_err(&path, e))),
        };
        let mut reader: Box<dyn BufRead + Send> =
            Box::new(BufReader::with_capacity(64 * 1024, file));
        let head = match reader.fill_buf() {
            Ok(h) => h,
            Err(e) => return Some(Err(io_err(&path, e))),
        };
        let name = path.display().to_string();
        if let Some(multi) = Multi::detect(head, self.options.format) {
            self.active = Some((name, multi.open(reader, &self.options)));
            return None;
        }
        if !explicit && !self.options.include_non_mail && !looks_like_mail(head) {
            self.skipped += 1;
            return None;
        }
        Some(read_single(
            reader,
            name,
            Some(meta.len()),
            self.options.max_message_bytes,
        ))
    }

    fn expand_dir(&mut self, dir: &Path) -> Result<(), SourceError> {
        let is_maildir = dir.join("cur").is_dir() && dir.join("new").is_dir();
        if self.options.format == Format::Maildir && !is_maildir {
            return Err(SourceError::Format {
                path: dir.display().to_string(),
                reason: "not a Maildir (needs cur/ and new/)".into(),
            });
        }
        let mut children = Vec::new();
        if is_maildir {
            for sub in ["new", "cur"] {
                children.extend(sorted_entries(&dir.join(sub))?);
            }
            // Maildir++ sub-folders are dot-directories next to cur/new.
            for (path, is_dir) in sorted_entries(dir)? {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if is_dir && name.starts_with('.') && name.len() > 1 {
                    children.push((path, true));
                }
            }
        } else {
            for (path, is_dir) in sorted_entries(dir)? {
                let hidden = path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'));
                if !hidden || is_dir {
                    children.push((path, is_dir));
                }
            }
        }
        // Depth-first, in sorted order: push to the front in reverse.
        for (path, _) in children.into_iter().rev() {
            self.pending.push_front((path, false));
        }
        Ok(())
    }
}

impl Iterator for Reader {
    type Item = Result<MailItem, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((name, multi)) = self.active.as_mut() {
                match multi.next_message() {
                    Ok(Some(mut item)) => {
                        item.origin.path = name.clone();
                        return Some(Ok(item));
                    }
                    Ok(None) => self.active = None,
                    Err(e) => {
                        let path = name.clone();
                        self.active = None;
                        return Some(Err(SourceError::Io { path, source: e }));
                    }
                }
            }
            if self.stdin_pending {
                return self.next_from_stdin();
            }
            let (path, explicit) = self.pending.pop_front()?;
            if let Some(result) = self.open(path, explicit) {
                return Some(result);
            }
        }
    }
}

/// Which multi-message container format a stream is in.
enum MultiKind {
    Mbox,
    Bsmtp,
}

impl MultiKind {
    fn open(self, reader: Box<dyn BufRead + Send>, options: &ReadOptions) -> Multi {
        match self {
            MultiKind::Mbox => Multi::Mbox(Box::new(MboxReader::new(reader, options))),
            MultiKind::Bsmtp => Multi::Bsmtp(BsmtpReader::new(reader, options)),
        }
    }
}

/// An open multi-message input.
enum Multi {
    Mbox(Box<MboxReader<Box<dyn BufRead + Send>>>),
    Bsmtp(BsmtpReader<Box<dyn BufRead + Send>>),
}

impl Multi {
    /// Decides from the first bytes and the forced format whether an input holds several messages.
    fn detect(head: &[u8], format: Format) -> Option<MultiKind> {
        match format {
            Format::Mbox => Some(MultiKind::Mbox),
            Format::Bsmtp => Some(MultiKind::Bsmtp),
            Format::Eml | Format::Maildir => None,
            Format::Auto if head.starts_with(b"From ") => Some(MultiKind::Mbox),
            Format::Auto if looks_like_bsmtp(head) => Some(MultiKind::Bsmtp),
            Format::Auto => None,
        }
    }

    fn next_message(&mut self) -> io::Result<Option<MailItem>> {
        match self {
            Multi::Mbox(r) => r.next_message(),
            Multi::Bsmtp(r) => Ok(r.next_message()?.map(|(mut item, envelope)| {
                item.envelope = Some(envelope);
                item
            })),
        }
    }
}

/// Directory entries sorted by file name bytes (C locale): `(path, is_directory)`. Symlinked directories are
/// not followed (no loops).
fn sorted_entries(dir: &Path) -> Result<Vec<(PathBuf, bool)>, SourceError> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_err(dir, e))? {
        let entry = entry.map_err(|e| io_err(dir, e))?;
        let file_type = entry.file_type().map_err(|e| io_err(&entry.path(), e))?;
        if file_type.is_dir() {
            entries.push((entry.path(), true));
        } else if file_type.is_file() || (file_type.is_symlink() && entry.path().is_file()) {
            entries.push((entry.path(), false));
        }
    }
    entries.sort_by(|a, b| {
        a.0.as_os_str()
            .as_encoded_bytes()
            .cmp(b.0.as_os_str().as_encoded_bytes())
    });
    Ok(entries)
}

/// Reads one whole message, keeping at most `max` bytes.
fn read_single(
    reader: Box<dyn BufRead + Send>,
    path: String,
    known_size: Option<u64>,
    max: usize,
) -> Result<MailItem, SourceError> {
    let mut bytes =
        Vec::with_capacity(known_size.map_or(64 * 1024, |s| s.min(max as u64) as usize));
    let mut limited = reader.take(max as u64 + 1);
    limited
        .read_to_end(&mut bytes)
        .map_err(|e| io_err(Path::new(&path), e))?;
    let mut original_size = None;
    if bytes.len() > max {
        bytes.truncate(max);
        // Drain the rest without keeping it, to learn the size.
        let mut rest = limited.into_inner();
        let extra =
            io::copy(&mut rest, &mut io::sink()).map_err(|e| io_err(Path::new(&path), e))?;
        original_size = Some(known_size.unwrap_or(max as u64 + 1 + extra));
    }
    Ok(MailItem {
        origin: Origin { path, index: None },
        bytes,
        original_size,
        long_lines: false,
        envelope: None,
    })
}

/// True when the buffer starts like an e-mail message: a header field (`Name: value`) or an mbox `From ` line.
pub fn looks_like_mail(head: &[u8]) -> bool {
    let start = head
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n'))
        .unwrap_or(head.len());
    let head = &head[start..];
    if head.starts_with(b"From ") {
        return true;
    }
    let line_end = memchr::memchr(b'\n', head).unwrap_or(head.len()).min(998);
    let line = &head[..line_end];
    match memchr::memchr(b':', line) {
        Some(colon) if colon > 0 => line[..colon].iter().all(|&b| (33..=126).contains(&b)),
        _ => false,
    }
}

/// Reads one line (including its `\n`) into `buf`, keeping at most `cap` bytes and discarding the rest of an
/// over-long line. Returns the number of bytes consumed and whether the line was cut.
pub(crate) fn read_line_capped<R: BufRead>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    cap: usize,
) -> io::Result<(usize, bool)> {
    buf.clear();
    let mut consumed = 0;
    let mut cut = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok((consumed, cut));
        }
        let (chunk_len, done) = match memchr::memchr(b'\n', available) {
            Some(p) => (p + 1, true),
            None => (available.len(), false),
        };
        let room = cap.saturating_sub(buf.len());
        if room >= chunk_len {
            buf.extend_from_slice(&available[..chunk_len]);
        } else {
            buf.extend_from_slice(&available[..room]);
            cut = true;
        }
        reader.consume(chunk_len);
        consumed += chunk_len;
        if done {
            if cut && buf.last() != Some(&b'\n') {
                buf.push(b'\n');
            }
            return Ok((consumed, cut));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, data).unwrap();
        path
    }

    fn collect(inputs: &[String], options: ReadOptions) -> (Vec<MailItem>, u64) {
        let mut reader = Reader::new(inputs, options);
        let items: Vec<_> = reader.by_ref().map(|r| r.unwrap()).collect();
        (items, reader.skipped())
    }

    #[test]
    fn walks_directories_sorted_and_skips_non_mail() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "b/2.eml", b"Subject: two\n\nx");
        write(dir.path(), "a.eml", b"Subject: one\n\nx");
        write(dir.path(), "README.md", b"# corpus\n");
        write(dir.path(), "labels.tsv", b"a.eml\tham\n");
        write(dir.path(), "c.mbox", b"From a@b Sat Jan  1 00:00:00 2000\nSubject: m1\n\n>From here\n\nFrom b@c Sat Jan  1 00:00:00 2000\nSubject: m2\n\nbody\n");
        let (items, skipped) = collect(&[dir.path().display().to_string()], ReadOptions::default());
        let names: Vec<String> = items
            .iter()
            .map(|i| {
                i.origin
                    .to_string()
                    .replace(&dir.path().display().to_string(), "")
            })
            .collect();
        assert_eq!(names, vec!["/a.eml", "/b/2.eml", "/c.mbox#0", "/c.mbox#1"]);
        assert_eq!(skipped, 2);
        assert_eq!(items[2].bytes, b"Subject: m1\n\nFrom here\n");
    }

    #[test]
    fn explicit_non_mail_file_is_scanned_and_missing_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "garbage.bin", &[0u8, 1, 2, 3]);
        let (items, _) = collect(&[p.display().to_string()], ReadOptions::default());
        assert_eq!(items.len(), 1);
        let mut reader = Reader::new(
            &[dir.path().join("missing").display().to_string()],
            ReadOptions::default(),
        );
        assert!(matches!(reader.next(), Some(Err(SourceError::Io { .. }))));
    }

    #[test]
    fn maildir_reads_new_and_cur() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "cur/1:2,S", b"Subject: seen\n\nx");
        write(dir.path(), "new/2", b"Subject: new\n\nx");
        write(dir.path(), "tmp/3", b"Subject: tmp\n\nx");
        let (items, _) = collect(&[dir.path().display().to_string()], ReadOptions::default());
        assert_eq!(items.len(), 2);
        assert!(items[0].origin.path.ends_with("new/2"));
        let opts = ReadOptions {
            format: Format::Maildir,
            ..ReadOptions::default()
        };
        let plain = tempfile::tempdir().unwrap();
        let mut reader = Reader::new(&[plain.path().display().to_string()], opts);
        assert!(matches!(
            reader.next(),
            Some(Err(SourceError::Format { .. }))
        ));
    }

    #[test]
    fn oversized_single_file_is_cut_and_sized() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "big.eml", &[b'a'; 5000]);
        let opts = ReadOptions {
            max_message_bytes: 1000,
            ..ReadOptions::default()
        };
        let (items, _) = collect(&[p.display().to_string()], opts);
        assert_eq!(items[0].bytes.len(), 1000);
        assert_eq!(items[0].original_size, Some(5000));
    }

    #[test]
    fn origin_notation_round_trips() {
        let o = Origin::parse("x/y.mbox#12");
        assert_eq!(o.index, Some(12));
        assert_eq!(o.to_string(), "x/y.mbox#12");
        assert_eq!(Origin::parse("a#b").index, None);
        assert_eq!(
            Origin::parse("plain.eml").key(),
            ("plain.eml".to_string(), 0)
        );
    }
}
