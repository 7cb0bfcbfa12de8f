//! Content type by magic bytes (with the name only to tell text formats apart), and what a name claims.

use serde::{Deserialize, Serialize};

/// Formats the analysis knows how to look into or reason about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// ZIP (not yet known to be OOXML).
    Zip,
    /// Office Open XML (docx/xlsx/pptx and their macro variants).
    Ooxml,
    /// OpenDocument (odt/ods/odp).
    OpenDocument,
    /// gzip.
    Gzip,
    /// POSIX tar.
    Tar,
    /// 7-Zip.
    SevenZip,
    /// RAR.
    Rar,
    /// Microsoft Cabinet.
    Cab,
    /// TNEF (`winmail.dat`, Outlook's rich-text attachment wrapper).
    Tnef,
    /// xz.
    Xz,
    /// bzip2.
    Bzip2,
    /// ISO 9660 image.
    Iso,
    /// VHD image.
    Vhd,
    /// VHDX image.
    Vhdx,
    /// Apple disk image.
    Dmg,
    /// OLE2 compound file (Word/Excel/PowerPoint 97–2003, embedded objects, vbaProject.bin).
    Ole,
    /// Windows Installer (an OLE2 file with the MSI class id).
    Msi,
    /// PDF.
    Pdf,
    /// RTF.
    Rtf,
    /// Windows shortcut.
    Lnk,
    /// OneNote section.
    OneNote,
    /// Compiled HTML help.
    Chm,
    /// Windows PE executable or DLL.
    Pe,
    /// ELF executable.
    Elf,
    /// Mach-O executable.
    MachO,
    /// HTML.
    Html,
    /// SVG image.
    Svg,
    /// Script text run by a Windows script host or shell.
    Script,
    /// An e-mail message.
    Email,
    /// XML.
    Xml,
    /// Other text.
    Text,
    /// Image.
    Image,
    /// Anything else.
    Other,
}

/// A file's type: the format and the most specific MIME type and extension known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileType {
    /// Format family the analysis works with.
    pub format: Format,
    /// MIME type.
    pub mime: String,
    /// Usual extension (no dot).
    pub extension: String,
}

impl FileType {
    pub(crate) fn new(format: Format, mime: &str, extension: &str) -> FileType {
        FileType {
            format,
            mime: mime.to_string(),
            extension: extension.to_string(),
        }
    }
}

const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const LNK_MAGIC: &[u8] = &[
    0x4C, 0x00, 0x00, 0x00, 0x01, 0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00,
];
/// OneNote revision store file header GUID {7B5C52E4-D88C-4DA7-AEB1-5378D02996D3}.
pub(crate) const ONENOTE_MAGIC: &[u8] = &[
    0xE4, 0x52, 0x5C, 0x7B, 0x8C, 0xD8, 0xA7, 0x4D, 0xAE, 0xB1, 0x53, 0x78, 0xD0, 0x29, 0x96, 0xD3,
];

/// Script extensions Windows hands to a script host or shell.
pub const SCRIPT_EXTENSIONS: &[&str] = &[
    "js", "jse", "vbs", "vbe", "wsf", "wsh", "wsc", "hta", "ps1", "psm1", "bat", "cmd", "sct",
    "vb", "reg", "scf", "inf", "msc",
];
/// Extensions Windows runs as native code.
pub const EXECUTABLE_EXTENSIONS: &[&str] = &[
    "exe", "scr", "com", "pif", "dll", "cpl", "msi", "msix", "msp", "appx", "jar", "gadget", "sys",
    "ocx", "xll", "wll", "drv", "efi",
];
/// Extensions of harmless-looking documents and media that lures imitate.
pub const DOCUMENT_EXTENSIONS: &[&str] = &[
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "rtf", "txt", "csv", "jpg", "jpeg", "png",
    "gif", "bmp", "tif", "tiff", "mp3", "mp4", "wav", "avi", "mov", "odt", "ods", "html", "htm",
    "xml", "zip",
];

/// Identifies `data` by its bytes. `name` only refines text (a `.vbs` that is text is a script).
pub fn identify(data: &[u8], name: Option<&str>) -> FileType {
    use Format::*;
    let ext = name.map(extension_of).unwrap_or_default();
    let at = |off: usize, magic: &[u8]| data.get(off..off + magic.len()) == Some(magic);
    if data.starts_with(OLE_MAGIC) {
        return FileType::new(Ole, "application/x-ole-storage", "ole");
    }
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        return FileType::new(Zip, "application/zip", "zip");
    }
    if data.starts_with(&[0x1F, 0x8B]) {
        return FileType::new(Gzip, "application/gzip", "gz");
    }
    if data.starts_with(b"7z\xBC\xAF\x27\x1C") {
        return FileType::new(SevenZip, "application/x-7z-compressed", "7z");
    }
    if data.starts_with(b"Rar!\x1A\x07") {
        return FileType::new(Rar, "application/vnd.rar", "rar");
    }
    if data.starts_with(crate::listing::TNEF_SIGNATURE) {
        return FileType::new(Tnef, "application/vnd.ms-tnef", "dat");
    }
    if data.starts_with(b"MSCF\0\0\0\0") {
        return FileType::new(Cab, "application/vnd.ms-cab-compressed", "cab");
    }
    if data.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0]) {
        return FileType::new(Xz, "application/x-xz", "xz");
    }
    if data.starts_with(b"BZh") && data.len() > 4 && data[3].is_ascii_digit() {
        return FileType::new(Bzip2, "application/x-bzip2", "bz2");
    }
    if at(257, b"ustar") {
        return FileType::new(Tar, "application/x-tar", "tar");
    }
    if at(0x8001, b"CD001") || at(0x8801, b"CD001") || at(0x9001, b"CD001") {
        return FileType::new(Iso, "application/x-iso9660-image", "iso");
    }
    if data.starts_with(b"vhdxfile") {
        return FileType::new(Vhdx, "application/x-vhdx", "vhdx");
    }
    let tail = data.len().saturating_sub(512);
    if data.starts_with(b"conectix") || at(tail, b"conectix") {
        return FileType::new(Vhd, "application/x-vhd", "vhd");
    }
    if data.len() >= 512 && at(tail, b"koly") {
        return FileType::new(Dmg, "application/x-apple-diskimage", "dmg");
    }
    if data.starts_with(LNK_MAGIC) {
        return FileType::new(Lnk, "application/x-ms-shortcut", "lnk");
    }
    if data.starts_with(ONENOTE_MAGIC) {
        return FileType::new(OneNote, "application/onenote", "one");
    }
    if data.starts_with(b"ITSF") {
        return FileType::new(Chm, "application/vnd.ms-htmlhelp", "chm");
    }
    if data.starts_with(b"MZ") {
        return FileType::new(Pe, "application/vnd.microsoft.portable-executable", "exe");
    }
    if data.starts_with(b"\x7FELF") {
        return FileType::new(Elf, "application/x-executable", "elf");
    }
    if [
        [0xFE, 0xED, 0xFA, 0xCE],
        [0xFE, 0xED, 0xFA, 0xCF],
        [0xCE, 0xFA, 0xED, 0xFE],
        [0xCF, 0xFA, 0xED, 0xFE],
    ]
    .iter()
    .any(|m| data.starts_with(m))
    {
        return FileType::new(MachO, "application/x-mach-binary", "macho");
    }
    if data.starts_with(b"{\\rt") {
        return FileType::new(Rtf, "application/rtf", "rtf");
    }
    let head = &data[..data.len().min(1024)];
    if memchr::memmem::find(head, b"%PDF-").is_some() {
        return FileType::new(Pdf, "application/pdf", "pdf");
    }
    if let Some(t) = infer::get(data) {
        let format = match t.matcher_type() {
            infer::MatcherType::Image => Image,
            _ => Other,
        };
        if format == Image || !looks_like_text(data) {
            return FileType::new(format, t.mime_type(), t.extension());
        }
    }
    if looks_like_text(data) {
        return identify_text(data, &ext);
    }
    FileType::new(Other, "application/octet-stream", "bin")
}

fn identify_text(data: &[u8], ext: &str) -> FileType {
    use Format::*;
    let head = &data[..data.len().min(4096)];
    let lower = String::from_utf8_lossy(head).to_ascii_lowercase();
    let trimmed = lower.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with("#@~^") {
        return FileType::new(Script, "text/x-vbscript-encoded", "vbe");
    }
    if lower.contains("<svg") && !lower.contains("<html") {
        return FileType::new(Svg, "image/svg+xml", "svg");
    }
    if [
        "<!doctype html",
        "<html",
        "<head",
        "<body",
        "<script",
        "<iframe",
        "<meta ",
    ]
    .iter()
    .any(|p| trimmed.starts_with(p))
        || (lower.contains("<html") && lower.contains("<body"))
    {
        if ext == "hta" || lower.contains("<hta:application") {
            return FileType::new(Script, "application/hta", "hta");
        }
        return FileType::new(Html, "text/html", "html");
    }
    if (trimmed.starts_with("<job") || trimmed.starts_with("<package")) && lower.contains("<script")
    {
        return FileType::new(Script, "text/xml+wsf", "wsf");
    }
    let is_header = |p: &str| trimmed.starts_with(p);
    if [
        "received:",
        "return-path:",
        "from:",
        "mime-version:",
        "delivered-to:",
        "message-id:",
    ]
    .iter()
    .any(|p| is_header(p))
    {
        return FileType::new(Email, "message/rfc822", "eml");
    }
    if trimmed.starts_with("<?xml") {
        return FileType::new(Xml, "application/xml", "xml");
    }
    if trimmed.starts_with("#!") {
        return FileType::new(Script, "text/x-shellscript", "sh");
    }
    if trimmed.starts_with("@echo off") {
        return FileType::new(Script, "application/x-bat", "bat");
    }
    if SCRIPT_EXTENSIONS.contains(&ext) {
        return FileType::new(Script, "text/plain", ext);
    }
    FileType::new(Text, "text/plain", "txt")
}

/// True when the first bytes look like text (UTF-8/Latin or UTF-16 with a BOM): few control bytes.
fn looks_like_text(data: &[u8]) -> bool {
    let head = &data[..data.len().min(4096)];
    if head.is_empty() {
        return false;
    }
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    let control = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B))
        .count();
    control * 100 <= head.len()
}

/// Lower-case final extension of a name, without the dot (`""` when there is none).
pub fn extension_of(name: &str) -> String {
    let name = name.trim_end_matches(['.', ' ']);
    match name.rsplit_once('.') {
        Some((_, ext)) if !ext.is_empty() && ext.len() <= 12 => ext.trim().to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// Whether what a name's extension claims agrees with the format found. `None` when the extension says
/// nothing checkable.
pub fn name_agrees(format: Format, ext: &str) -> Option<bool> {
    use Format::*;
    let expected: &[Format] = match ext {
        "pdf" => &[Pdf],
        "doc" | "xls" | "ppt" | "dot" | "xlt" | "pps" | "msg" => &[Ole, Rtf, Html, Xml],
        "docx" | "xlsx" | "pptx" | "docm" | "xlsm" | "pptm" | "dotm" | "xlsb" | "ppsx" => {
            &[Ooxml, Zip, Ole]
        }
        "zip" => &[Zip, Ooxml, OpenDocument],
        "rtf" => &[Rtf],
        "jpg" | "jpeg" | "png" | "gif" | "bmp" | "tif" | "tiff" => &[Image],
        "txt" | "csv" => &[Text, Xml, Html, Email, Script],
        "gz" | "tgz" => &[Gzip],
        "7z" => &[SevenZip],
        "rar" => &[Rar],
        _ => return None,
    };
    Some(expected.contains(&format))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifies_by_magic_not_name() {
        assert_eq!(
            identify(b"MZ\x90\0\x03", Some("invoice.pdf")).format,
            Format::Pe
        );
        assert_eq!(identify(b"%PDF-1.7\n", None).format, Format::Pdf);
        assert_eq!(identify(b"PK\x03\x04rest", None).format, Format::Zip);
        assert_eq!(identify(b"{\\rtf1\\ansi", None).format, Format::Rtf);
        assert_eq!(
            identify(b"WScript.Echo 1", Some("a.vbs")).format,
            Format::Script
        );
        assert_eq!(identify(b"hello", Some("a.txt")).format, Format::Text);
        assert_eq!(
            identify(b"<html><body><script>x</script>", None).format,
            Format::Html
        );
        assert_eq!(identify(b"", None).format, Format::Other);
    }

    #[test]
    fn name_agreement() {
        assert_eq!(name_agrees(Format::Pe, "pdf"), Some(false));
        assert_eq!(name_agrees(Format::Pdf, "pdf"), Some(true));
        assert_eq!(name_agrees(Format::Pe, "exe"), None);
    }
}
