//! Attachment names and types: executables, scripts, shortcuts and disk images, whatever they pretend to be;
//! double extensions, right-to-left overrides and padded names. Looks into attached messages too.

use mamori_mail::sniff::FileKind;
use mamori_mail::{Attachment, Message};

use crate::detector::{Context, Detector};
use crate::finding::{Finding, Findings};

/// Extensions Windows runs as native code.
pub const EXECUTABLE_EXTENSIONS: &[&str] = &[
    "exe",
    "scr",
    "com",
    "pif",
    "dll",
    "cpl",
    "msi",
    "msix",
    "msp",
    "appx",
    "appxbundle",
    "msixbundle",
    "jar",
    "gadget",
    "application",
    "sys",
    "ocx",
    "xll",
    "wll",
    "drv",
    "efi",
];
/// Extensions Windows hands to a script host or shell.
pub const SCRIPT_EXTENSIONS: &[&str] = &[
    "js", "jse", "vbs", "vbe", "wsf", "wsh", "wsc", "hta", "ps1", "psm1", "psd1", "bat", "cmd",
    "sct", "vb", "reg", "scf", "inf", "msc", "chm", "mht", "mhtml", "xbap", "ws",
];
/// Extensions of shortcut-like files that launch other programs.
pub const SHORTCUT_EXTENSIONS: &[&str] = &[
    "lnk",
    "appref-ms",
    "settingcontent-ms",
    "library-ms",
    "search-ms",
];
/// Disk image extensions.
pub const DISK_IMAGE_EXTENSIONS: &[&str] = &["iso", "img", "vhd", "vhdx", "udf"];
/// Extensions of harmless-looking documents and media that lures imitate.
pub const DOCUMENT_EXTENSIONS: &[&str] = &[
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "rtf", "txt", "csv", "jpg", "jpeg", "png",
    "gif", "bmp", "tif", "tiff", "mp3", "mp4", "wav", "avi", "mov", "odt", "ods", "html", "htm",
    "xml", "zip",
];

/// What a name's extension says a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Danger {
    Executable,
    Script,
    Shortcut,
    DiskImage,
}

fn danger_of_extension(ext: &str) -> Option<Danger> {
    if EXECUTABLE_EXTENSIONS.contains(&ext) {
        Some(Danger::Executable)
    } else if SCRIPT_EXTENSIONS.contains(&ext) {
        Some(Danger::Script)
    } else if SHORTCUT_EXTENSIONS.contains(&ext) {
        Some(Danger::Shortcut)
    } else if DISK_IMAGE_EXTENSIONS.contains(&ext) {
        Some(Danger::DiskImage)
    } else {
        None
    }
}

fn danger_of_content(a: &Attachment) -> Option<Danger> {
    let t = a.sniffed.as_ref()?;
    match t.kind {
        FileKind::Executable
            if matches!(t.extension.as_str(), "exe" | "dll" | "elf" | "mach" | "dex") =>
        {
            Some(Danger::Executable)
        }
        // Shebang scripts do not run on a double click in Windows mail clients; batch, HTA and WSF do.
        FileKind::Script if matches!(t.extension.as_str(), "bat" | "hta" | "wsf") => {
            Some(Danger::Script)
        }
        FileKind::Shortcut => Some(Danger::Shortcut),
        FileKind::DiskImage => Some(Danger::DiskImage),
        _ => None,
    }
}

// One definition of "the extensions of a name" for the name checks here and inside archives.
use mamori_files::names::extensions;

/// Checks attachment names and types.
pub struct AttachmentNames;

impl Detector for AttachmentNames {
    fn name(&self) -> &'static str {
        "attachment_names"
    }

    fn detect(&self, message: &Message, _ctx: &Context<'_>, out: &mut Findings) {
        let mut stack = vec![message];
        while let Some(m) = stack.pop() {
            for a in &m.attachments {
                check(a, out);
                if let Some(nested) = &a.message {
                    stack.push(nested);
                }
            }
        }
    }
}

fn check(a: &Attachment, out: &mut Findings) {
    let name = a.name.as_deref().unwrap_or("");
    let shown = if name.is_empty() { "(unnamed)" } else { name };
    let exts = extensions(name);
    let by_name = exts.first().and_then(|e| danger_of_extension(e));
    let by_content = danger_of_content(a);
    let sniffed = a
        .sniffed
        .as_ref()
        .map(|t| t.mime.as_str())
        .unwrap_or("unknown");
    if let Some(danger) = by_content.or(by_name) {
        let evidence = match (by_content, by_name) {
            (Some(_), _) => format!("{shown:?} is {sniffed} by content"),
            _ => format!("{shown:?} by its extension"),
        };
        let id = match danger {
            Danger::Executable => "attachment.executable",
            Danger::Script => "attachment.script",
            Danger::Shortcut => "attachment.shortcut",
            Danger::DiskImage => "attachment.disk_image",
        };
        out.push(Finding::new(id, evidence));
    }
    if by_content.is_some() && by_content != by_name {
        let claims_document = exts
            .first()
            .is_some_and(|e| DOCUMENT_EXTENSIONS.contains(&e.as_str()))
            || is_document_type(&a.declared_type);
        if claims_document {
            out.push(Finding::new(
                "attachment.type_mismatch",
                format!("{shown:?} declared {} is {sniffed}", a.declared_type),
            ));
        }
    }
    if exts.len() >= 2 && by_name.is_some() && DOCUMENT_EXTENSIONS.contains(&exts[1].as_str()) {
        out.push(Finding::new(
            "attachment.name.double_extension",
            format!("{shown:?}"),
        ));
    }
    if name.chars().any(|c| {
        matches!(
            c,
            '\u{202E}' | '\u{202D}' | '\u{202B}' | '\u{2067}' | '\u{2068}'
        )
    }) {
        let visible: String = name
            .chars()
            .map(|c| if c == '\u{202E}' { '⮌' } else { c })
            .collect();
        out.push(Finding::new(
            "attachment.name.rlo",
            format!("{visible:?} contains a bidirectional override"),
        ));
    }
    if has_padding(name) {
        out.push(Finding::new(
            "attachment.name.padding",
            format!(
                "{:?} hides its extension after padding",
                name.split_whitespace().collect::<Vec<_>>().join(" ")
            ),
        ));
    }
}

fn is_document_type(declared: &str) -> bool {
    declared.starts_with("image/")
        || declared.starts_with("audio/")
        || declared.starts_with("video/")
        || matches!(
            declared,
            "application/pdf" | "application/msword" | "text/plain" | "application/rtf"
        )
        || declared.starts_with("application/vnd.openxmlformats")
        || declared.starts_with("application/vnd.ms-")
}

/// Ten or more spaces, underscores or dots in a row before the final extension.
fn has_padding(name: &str) -> bool {
    let Some((stem, _)) = name.rsplit_once('.') else {
        return false;
    };
    let mut run = 0;
    let mut longest = 0;
    let mut last = '\0';
    for c in stem.chars() {
        if matches!(c, ' ' | '_' | '.' | '\u{3000}' | '\u{00A0}') && (run == 0 || c == last) {
            run += 1;
        } else if matches!(c, ' ' | '_' | '.' | '\u{3000}' | '\u{00A0}') {
            run = 1;
        } else {
            run = 0;
        }
        last = c;
        longest = longest.max(run);
    }
    longest >= 10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_parsing() {
        assert_eq!(extensions("請求書.PDF.exe"), vec!["exe", "pdf"]);
        assert_eq!(extensions("noext"), Vec::<String>::new());
        assert_eq!(extensions("a.tar.gz"), vec!["gz", "tar"]);
        assert_eq!(extensions("x.exe. . "), vec!["exe"]);
    }

    #[test]
    fn padding() {
        assert!(has_padding("invoice.pdf                              .exe"));
        assert!(!has_padding("my report final.pdf"));
    }
}
