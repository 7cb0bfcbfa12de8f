//! The recursive walk: identify, hash and inspect one file, then descend into what it contains, within
//! [`crate::Limits`].

use std::collections::HashSet;
use std::io::Read;

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::report::{FileEntry, FoundUrl, Observation, ObservationKind, Report, UrlSource};
use crate::types::{self, Format};
use crate::{
    ContentScanner, Options, archive, flatxml, html, listing, lnk, names, office, onenote, pdf, rtf,
};

const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
/// Entries at least this large are held to the compression ratio limit.
const RATIO_FLOOR: u64 = 1024 * 1024;

pub(crate) struct Walker<'o> {
    pub(crate) options: &'o Options,
    scanner: Option<&'o dyn ContentScanner>,
    report: Report,
    decompressed: u64,
    limits_reported: HashSet<ObservationKind>,
    urls_seen: HashSet<String>,
}

impl<'o> Walker<'o> {
    pub(crate) fn new(options: &'o Options) -> Walker<'o> {
        Walker {
            options,
            scanner: None,
            report: Report::default(),
            decompressed: 0,
            limits_reported: HashSet::new(),
            urls_seen: HashSet::new(),
        }
    }

    pub(crate) fn with_scanner(mut self, scanner: &'o dyn ContentScanner) -> Walker<'o> {
        self.scanner = Some(scanner);
        self
    }

    pub(crate) fn run(mut self, name: Option<&str>, data: &[u8]) -> Report {
        let name = name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or("(attachment)");
        self.visit(vec![name.to_string()], data, 0, false);
        self.report
    }

    fn visit(&mut self, path: Vec<String>, data: &[u8], depth: usize, truncated: bool) {
        if self.report.files.len() >= self.options.limits.max_files {
            let detail = format!(
                "more than {} files; the rest were not analysed",
                self.options.limits.max_files
            );
            self.limit(ObservationKind::LimitFiles, &path, depth, detail);
            return;
        }
        let name = path.last().cloned().unwrap_or_default();
        let file_type = types::identify(data, Some(&name));
        self.report.files.push(FileEntry {
            path: path.clone(),
            depth,
            size: data.len() as u64,
            truncated,
            sha256: hex::encode(Sha256::digest(data)),
            md5: hex::encode(Md5::digest(data)),
            sha1: hex::encode(Sha1::digest(data)),
            file_type: file_type.clone(),
        });
        if depth > 0 {
            self.nested_checks(&path, depth, file_type.format);
        }
        if let Some(scanner) = self.scanner {
            for rule in scanner.scan(data) {
                self.observe(
                    ObservationKind::RuleMatch,
                    &path,
                    depth,
                    format!("rule {rule}"),
                );
            }
        }
        if memchr::memmem::find(data, EICAR).is_some() {
            self.observe(ObservationKind::Eicar, &path, depth, "EICAR test string");
        }
        match file_type.format {
            Format::Zip | Format::Ooxml | Format::OpenDocument => {
                archive::zip(self, &path, data, depth)
            }
            Format::Gzip => archive::gzip(self, &path, data, depth),
            Format::Tar => archive::tar(self, &path, data, depth),
            Format::Iso => archive::iso(self, &path, data, depth),
            Format::Rar => {
                let listing = listing::rar(data);
                listing::report(self, &path, depth, "RAR", &listing);
            }
            Format::SevenZip => {
                let listing = listing::seven_zip(data);
                listing::report(self, &path, depth, "7z", &listing);
            }
            Format::Tnef => {
                let limits = &self.options.limits;
                let files = listing::tnef(data, limits.max_files, limits.max_entry_bytes)
                    .unwrap_or_default();
                for (name, bytes) in files {
                    self.child(&path, depth, name, bytes);
                }
            }
            Format::Cab | Format::Xz | Format::Bzip2 => {
                self.observe(
                    ObservationKind::UnlistedArchive,
                    &path,
                    depth,
                    format!(
                        "{} archive; its entries are not listed",
                        file_type.extension
                    ),
                );
            }
            Format::Ole | Format::Msi => office::ole(self, &path, data, depth),
            Format::Pdf => pdf::analyse(self, &path, data, depth),
            Format::Rtf => rtf::analyse(self, &path, data, depth),
            Format::Lnk => lnk::analyse(self, &path, data, depth),
            Format::OneNote => onenote::analyse(self, &path, data, depth),
            Format::Html | Format::Svg | Format::Script | Format::Xml | Format::Text => {
                html::analyse(self, &path, data, depth, file_type.format);
                if file_type.format == Format::Xml {
                    flatxml::analyse(self, &path, data, depth);
                }
            }
            _ => {}
        }
    }

    /// Checks on a file found inside another: dangerous types and misleading names (the attachment itself is
    /// judged by the mail-level detectors).
    fn nested_checks(&mut self, path: &[String], depth: usize, format: Format) {
        let name = path.last().map(String::as_str).unwrap_or("");
        let ext = types::extension_of(name);
        self.name_checks(path, depth);
        let shown = format!("{name:?}");
        match format {
            Format::Pe | Format::Elf | Format::MachO | Format::Msi => self.observe(
                ObservationKind::Executable,
                path,
                depth,
                format!("{shown} is a {format:?} executable"),
            ),
            Format::Script | Format::Chm => self.observe(
                ObservationKind::Script,
                path,
                depth,
                format!("{shown} is a {format:?} file"),
            ),
            Format::Lnk => self.observe(
                ObservationKind::Shortcut,
                path,
                depth,
                format!("{shown} is a shortcut"),
            ),
            Format::Iso | Format::Vhd | Format::Vhdx | Format::Dmg => self.observe(
                ObservationKind::DiskImage,
                path,
                depth,
                format!("{shown} is a {format:?} disk image"),
            ),
            _ => {}
        }
        if let Some(false) = types::name_agrees(format, &ext) {
            self.observe(
                ObservationKind::TypeMismatch,
                path,
                depth,
                format!("{shown} is {format:?} by content"),
            );
        }
    }

    /// Name-only checks, also used for entries whose content cannot be read (encrypted archives).
    pub(crate) fn name_checks(&mut self, path: &[String], depth: usize) {
        let name = path.last().map(String::as_str).unwrap_or("");
        for (kind, detail) in names::check(name) {
            self.observe(kind, path, depth, detail);
        }
    }

    /// What an entry that cannot be opened is, going by its name.
    pub(crate) fn name_only(&mut self, path: &[String], depth: usize) {
        self.name_checks(path, depth);
        let name = path.last().map(String::as_str).unwrap_or("");
        let ext = types::extension_of(name);
        let kind = if types::EXECUTABLE_EXTENSIONS.contains(&ext.as_str()) {
            ObservationKind::Executable
        } else if types::SCRIPT_EXTENSIONS.contains(&ext.as_str()) || ext == "chm" {
            ObservationKind::Script
        } else if ext == "lnk" {
            ObservationKind::Shortcut
        } else if matches!(ext.as_str(), "iso" | "img" | "vhd" | "vhdx") {
            ObservationKind::DiskImage
        } else {
            return;
        };
        self.observe(
            kind,
            path,
            depth,
            format!("{name:?} by its extension (not readable)"),
        );
    }

    pub(crate) fn observe(
        &mut self,
        kind: ObservationKind,
        path: &[String],
        depth: usize,
        detail: impl Into<String>,
    ) {
        if self.report.observations.len() >= 10_000 {
            return;
        }
        self.report.observations.push(Observation {
            kind,
            path: path.to_vec(),
            depth,
            detail: detail.into(),
        });
    }

    /// Records a limit once per kind (a bomb would otherwise repeat it thousands of times).
    pub(crate) fn limit(
        &mut self,
        kind: ObservationKind,
        path: &[String],
        depth: usize,
        detail: String,
    ) {
        if self.limits_reported.insert(kind) {
            self.observe(kind, path, depth, detail);
        }
    }

    pub(crate) fn url(&mut self, url: &str, path: &[String], source: UrlSource) {
        let url = url.trim().trim_matches(['"', '\'', '<', '>']);
        if url.is_empty()
            || url.len() > 4096
            || self.urls_seen.len() >= self.options.limits.max_urls
        {
            return;
        }
        if self.urls_seen.insert(url.to_string()) {
            self.report.urls.push(FoundUrl {
                url: url.to_string(),
                path: path.to_vec(),
                source,
            });
        }
    }

    /// True when children of a file at `depth` may be opened; records the depth limit otherwise.
    pub(crate) fn may_descend(&mut self, path: &[String], depth: usize) -> bool {
        if depth >= self.options.limits.max_depth {
            let detail = format!(
                "containers nested deeper than {}; the inner ones were not opened",
                self.options.limits.max_depth
            );
            self.limit(ObservationKind::LimitDepth, path, depth, detail);
            return false;
        }
        true
    }

    /// Analyses a child found inside the file at `parent` (depth `depth`).
    pub(crate) fn child(&mut self, parent: &[String], depth: usize, name: String, data: &[u8]) {
        if !self.may_descend(parent, depth) {
            return;
        }
        let mut path = parent.to_vec();
        path.push(name);
        self.visit(path, data, depth + 1, false);
    }

    /// Reads an entry's decompressed bytes within the entry, ratio and total limits. `declared` and `compressed`
    /// are the sizes the container claims (0 when unknown); the reader is capped whatever they say. `None` when a
    /// limit stopped the read (recorded as an observation) or the stream is corrupt (recorded too).
    pub(crate) fn read_bounded(
        &mut self,
        reader: impl Read,
        declared: u64,
        compressed: u64,
        path: &[String],
        depth: usize,
    ) -> Option<Vec<u8>> {
        let options: &'o Options = self.options;
        let limits = &options.limits;
        let shown = crate::report::display_path(path);
        if declared > limits.max_entry_bytes {
            let detail = format!(
                "{shown} declares {declared} bytes, over the {} byte entry limit",
                limits.max_entry_bytes
            );
            self.limit(ObservationKind::LimitEntrySize, path, depth, detail);
            return None;
        }
        if compressed > 0 && declared > RATIO_FLOOR && declared / compressed > limits.max_ratio {
            let detail = format!(
                "{shown} expands {compressed} bytes to {declared} (ratio over {})",
                limits.max_ratio
            );
            self.limit(ObservationKind::LimitRatio, path, depth, detail);
            return None;
        }
        let remaining = limits.max_total_bytes.saturating_sub(self.decompressed);
        if remaining == 0 {
            let detail = format!(
                "more than {} bytes decompressed; {shown} and the rest were not opened",
                limits.max_total_bytes
            );
            self.limit(ObservationKind::LimitTotalBytes, path, depth, detail);
            return None;
        }
        let ratio_cap = if compressed > 0 {
            compressed.saturating_mul(limits.max_ratio).max(RATIO_FLOOR)
        } else {
            u64::MAX
        };
        let cap = limits.max_entry_bytes.min(remaining).min(ratio_cap);
        let mut out = Vec::with_capacity(declared.min(cap).min(16 * 1024 * 1024) as usize);
        let read = reader.take(cap + 1).read_to_end(&mut out);
        self.decompressed += out.len() as u64;
        if let Err(e) = read {
            self.observe(
                ObservationKind::MalformedArchive,
                path,
                depth,
                format!("{shown}: {e}"),
            );
            return None;
        }
        if out.len() as u64 > cap {
            let (kind, detail) = if cap == ratio_cap {
                (
                    ObservationKind::LimitRatio,
                    format!(
                        "{shown} expands {compressed} bytes to more than {cap} (ratio over {})",
                        limits.max_ratio
                    ),
                )
            } else if cap == remaining {
                (
                    ObservationKind::LimitTotalBytes,
                    format!(
                        "more than {} bytes decompressed at {shown}",
                        limits.max_total_bytes
                    ),
                )
            } else {
                (
                    ObservationKind::LimitEntrySize,
                    format!(
                        "{shown} decompresses to more than {} bytes",
                        limits.max_entry_bytes
                    ),
                )
            };
            self.limit(kind, path, depth, detail);
            return None;
        }
        Some(out)
    }
}
