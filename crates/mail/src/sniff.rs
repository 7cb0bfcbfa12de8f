//! Content type sniffing from magic bytes: what a file really is, whatever its name or declared type says.
//!
//! This is the quick first look used for every attachment. Deep inspection of containers and documents
//! (archives, Office, PDF, …) belongs to the attachment analysis, not here.

use serde::{Deserialize, Serialize};

/// Broad family of a file type, the level at which detectors reason about risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// Native executables and libraries (PE, ELF, Mach-O, DEX, …).
    Executable,
    /// Script text (shebang, batch, PowerShell, HTA, …) detected from content.
    Script,
    /// Archives and compressed files (ZIP, RAR, 7z, gzip, CAB, …).
    Archive,
    /// Disk images (ISO 9660, UDF, VHD/VHDX, IMG, QCOW2).
    DiskImage,
    /// Office documents, OLE2 compound files, OneNote, CHM.
    Office,
    /// PDF.
    Pdf,
    /// RTF.
    Rtf,
    /// Windows shortcut (LNK).
    Shortcut,
    /// HTML or SVG (markup that browsers execute).
    Html,
    /// An e-mail message.
    Email,
    /// Images.
    Image,
    /// Audio and video.
    Media,
    /// Fonts.
    Font,
    /// Other text.
    Text,
    /// Anything else.
    Other,
}

/// A sniffed file type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileType {
    /// MIME type, e.g. `application/vnd.microsoft.portable-executable`.
    pub mime: String,
    /// Usual file extension without the dot, e.g. `exe`.
    pub extension: String,
    /// Broad family.
    pub kind: FileKind,
}

impl FileType {
    fn new(mime: &str, extension: &str, kind: FileKind) -> FileType {
        FileType {
            mime: mime.to_string(),
            extension: extension.to_string(),
            kind,
        }
    }
}

const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const LNK_MAGIC: &[u8] = &[
    0x4C, 0x00, 0x00, 0x00, 0x01, 0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00,
];
const ONENOTE_MAGIC: &[u8] = &[
    0xE4, 0x52, 0x5C, 0x7B, 0x8C, 0xD8, 0xA7, 0x4D, 0xAE, 0xB1, 0x53, 0x78, 0xD0, 0x29, 0x96, 0xD3,
];

/// Sniffs the type of `data` from its first bytes (and, for disk images, a few fixed offsets).
/// Returns `None` for empty data and for content with no recognisable signature that is not text.
pub fn sniff(data: &[u8]) -> Option<FileType> {
    if data.is_empty() {
        return None;
    }
    if let Some(t) = sniff_special(data) {
        return Some(t);
    }
    if let Some(t) = infer::get(data) {
        let kind = kind_of_infer(&t);
        let (mime, ext) = match (t.mime_type(), t.extension()) {
            // infer labels every OLE2 file "msi"; the real subtype needs a look inside.
            ("application/x-ole-storage", _) => ("application/x-ole-storage", "ole"),
            other => other,
        };
        return Some(FileType::new(mime, ext, kind));
    }
    sniff_text(data)
}

fn sniff_special(data: &[u8]) -> Option<FileType> {
    if data.starts_with(LNK_MAGIC) {
        return Some(FileType::new(
            "application/x-ms-shortcut",
            "lnk",
            FileKind::Shortcut,
        ));
    }
    if data.starts_with(OLE_MAGIC) {
        return Some(FileType::new(
            "application/x-ole-storage",
            "ole",
            FileKind::Office,
        ));
    }
    if data.starts_with(ONENOTE_MAGIC) {
        return Some(FileType::new(
            "application/onenote",
            "one",
            FileKind::Office,
        ));
    }
    if data.starts_with(b"ITSF") {
        return Some(FileType::new(
            "application/vnd.ms-htmlhelp",
            "chm",
            FileKind::Office,
        ));
    }
    if data.starts_with(b"{\\rt") {
        return Some(FileType::new("application/rtf", "rtf", FileKind::Rtf));
    }
    if data.starts_with(b"vhdxfile") {
        return Some(FileType::new(
            "application/x-vhdx",
            "vhdx",
            FileKind::DiskImage,
        ));
    }
    if data.starts_with(b"conectix")
        || (data.len() >= 512 && data[data.len() - 512..].starts_with(b"conectix"))
    {
        return Some(FileType::new(
            "application/x-vhd",
            "vhd",
            FileKind::DiskImage,
        ));
    }
    for offset in [0x8001usize, 0x8801, 0x9001] {
        if data.get(offset..offset + 5) == Some(b"CD001") {
            return Some(FileType::new(
                "application/x-iso9660-image",
                "iso",
                FileKind::DiskImage,
            ));
        }
    }
    if data.get(0x8001..0x8006) == Some(b"BEA01") || data.get(0x8001..0x8006) == Some(b"NSR02") {
        return Some(FileType::new(
            "application/x-udf-image",
            "img",
            FileKind::DiskImage,
        ));
    }
    None
}

fn kind_of_infer(t: &infer::Type) -> FileKind {
    use infer::MatcherType;
    match (t.matcher_type(), t.extension()) {
        (_, "pdf") => FileKind::Pdf,
        (_, "sh") => FileKind::Script,
        (_, "rtf") => FileKind::Rtf,
        (_, "qcow2") => FileKind::DiskImage,
        (_, "der" | "pem") => FileKind::Other,
        (_, "html" | "xml") => FileKind::Html,
        (MatcherType::App, _) => FileKind::Executable,
        (MatcherType::Archive, _) | (MatcherType::Book, _) => FileKind::Archive,
        (MatcherType::Doc, _) => FileKind::Office,
        (MatcherType::Image, _) => FileKind::Image,
        (MatcherType::Audio | MatcherType::Video, _) => FileKind::Media,
        (MatcherType::Font, _) => FileKind::Font,
        (MatcherType::Text, _) => FileKind::Text,
        _ => FileKind::Other,
    }
}

/// Recognises text-based carriers: scripts, HTML/SVG, e-mail, plain text.
fn sniff_text(data: &[u8]) -> Option<FileType> {
    let head = &data[..data.len().min(4096)];
    if !looks_textual(head) {
        return None;
    }
    let lower: String = String::from_utf8_lossy(head)
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .take(1024)
        .collect::<String>()
        .to_ascii_lowercase();
    let starts = |p: &str| lower.starts_with(p);
    if starts("#!") {
        return Some(FileType::new("text/x-shellscript", "sh", FileKind::Script));
    }
    if starts("@echo") || lower.contains("\n@echo off") {
        return Some(FileType::new("application/x-bat", "bat", FileKind::Script));
    }
    if lower.contains("<hta:application") {
        return Some(FileType::new("application/hta", "hta", FileKind::Script));
    }
    if starts("<?xml") && lower.contains("<job") || starts("<job") || starts("<package") {
        return Some(FileType::new("text/x-wsf", "wsf", FileKind::Script));
    }
    if lower.contains("<svg") {
        return Some(FileType::new("image/svg+xml", "svg", FileKind::Html));
    }
    if starts("<!doctype html")
        || starts("<html")
        || starts("<head")
        || starts("<body")
        || starts("<script")
        || (starts("<") && (lower.contains("<html") || lower.contains("<script")))
    {
        return Some(FileType::new("text/html", "html", FileKind::Html));
    }
    if looks_like_mail_head(&lower) {
        return Some(FileType::new("message/rfc822", "eml", FileKind::Email));
    }
    Some(FileType::new("text/plain", "txt", FileKind::Text))
}

/// True when the bytes look like text: no NULs and few control characters.
fn looks_textual(head: &[u8]) -> bool {
    if head.contains(&0) {
        // UTF-16 text has NULs; treat a BOM-marked buffer as text we do not classify further.
        return false;
    }
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
        .count();
    controls * 100 <= head.len()
}

fn looks_like_mail_head(lower: &str) -> bool {
    let mut fields = 0;
    for line in lower.lines().take(8) {
        if line.is_empty() {
            break;
        }
        if let Some((name, _)) = line.split_once(':')
            && matches!(
                name,
                "from"
                    | "to"
                    | "subject"
                    | "date"
                    | "received"
                    | "message-id"
                    | "return-path"
                    | "mime-version"
                    | "content-type"
            )
        {
            fields += 1;
        }
    }
    fields >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_common_carriers() {
        let mut pe = vec![0u8; 256];
        pe[0] = b'M';
        pe[1] = b'Z';
        pe[0x3c] = 0x80;
        pe[0x80..0x84].copy_from_slice(b"PE\0\0");
        assert_eq!(sniff(&pe).map(|t| t.kind), Some(FileKind::Executable));
        assert_eq!(sniff(b"%PDF-1.7\n").map(|t| t.kind), Some(FileKind::Pdf));
        assert_eq!(sniff(b"{\\rtf1\\ansi").map(|t| t.kind), Some(FileKind::Rtf));
        assert_eq!(sniff(LNK_MAGIC).map(|t| t.extension), Some("lnk".into()));
        let mut ole = OLE_MAGIC.to_vec();
        ole.resize(512, 0);
        assert_eq!(sniff(&ole).map(|t| t.extension), Some("ole".into()));
        assert_eq!(
            sniff(b"<html><body>x</body></html>").map(|t| t.kind),
            Some(FileKind::Html)
        );
        assert_eq!(
            sniff(b"#!/bin/sh\necho hi\n").map(|t| t.kind),
            Some(FileKind::Script)
        );
        assert_eq!(
            sniff(b"From: a@b.example\nSubject: x\n\nbody").map(|t| t.kind),
            Some(FileKind::Email)
        );
        assert_eq!(sniff(b"hello world").map(|t| t.kind), Some(FileKind::Text));
        assert_eq!(sniff(b""), None);
        let mut iso = vec![0u8; 0x8010];
        iso[0x8001..0x8006].copy_from_slice(b"CD001");
        assert_eq!(sniff(&iso).map(|t| t.kind), Some(FileKind::DiskImage));
    }
}
