//! VBA projects: MS-OVBA decompression, the `dir` stream (module names and source offsets), and what the macro
//! source says (auto-exec entry points, dropper calls, obfuscation), plus a VBA stomping heuristic.

use aho_corasick::AhoCorasick;
use std::sync::LazyLock;

/// Largest decompressed output accepted from one compressed container.
pub const MAX_DECOMPRESSED: usize = 16 * 1024 * 1024;

/// Decompresses an MS-OVBA compressed container (MS-OVBA 2.4.1). Returns what could be decompressed before any
/// corruption, or `None` when `data` is not a compressed container at all.
pub fn decompress(data: &[u8]) -> Option<Vec<u8>> {
    if data.first() != Some(&1) {
        return None;
    }
    let mut out: Vec<u8> = Vec::new();
    let mut pos = 1;
    while pos + 2 <= data.len() && out.len() < MAX_DECOMPRESSED {
        let header = u16::from_le_bytes([data[pos], data[pos + 1]]);
        let chunk_end = (pos + (header & 0x0FFF) as usize + 3).min(data.len());
        let compressed = header & 0x8000 != 0;
        pos += 2;
        let chunk_start = out.len();
        if !compressed {
            let end = (pos + 4096).min(data.len());
            out.extend_from_slice(&data[pos..end]);
            pos = end;
            continue;
        }
        'chunk: while pos < chunk_end {
            let flags = data[pos];
            pos += 1;
            for bit in 0..8 {
                if pos >= chunk_end {
                    break 'chunk;
                }
                if flags & (1 << bit) == 0 {
                    out.push(data[pos]);
                    pos += 1;
                    continue;
                }
                if pos + 2 > chunk_end {
                    return Some(out);
                }
                let token = u16::from_le_bytes([data[pos], data[pos + 1]]);
                pos += 2;
                let difference = out.len() - chunk_start;
                let mut bit_count = 4;
                while bit_count < 12 && (1usize << bit_count) < difference {
                    bit_count += 1;
                }
                let length_mask = 0xFFFFu16 >> bit_count;
                let length = (token & length_mask) as usize + 3;
                let offset = ((token & !length_mask) >> (16 - bit_count)) as usize + 1;
                if offset > difference {
                    return Some(out);
                }
                let source = out.len() - offset;
                for k in 0..length {
                    let b = out[source + k];
                    out.push(b);
                }
            }
        }
        pos = chunk_end;
    }
    Some(out)
}

/// A module named in the `dir` stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleRef {
    /// Module name.
    pub name: String,
    /// Name of the stream that holds it.
    pub stream: String,
    /// Where the compressed source starts in that stream (the bytes before are p-code).
    pub text_offset: usize,
}

/// Reads the module list from a decompressed `dir` stream (MS-OVBA 2.3.4.2).
pub fn parse_dir(dir: &[u8]) -> Vec<ModuleRef> {
    let mut modules = Vec::new();
    let mut current = ModuleRef::default();
    let mut pos = 0;
    while pos + 6 <= dir.len() && modules.len() < 10_000 {
        let id = u16::from_le_bytes([dir[pos], dir[pos + 1]]);
        let size =
            u32::from_le_bytes([dir[pos + 2], dir[pos + 3], dir[pos + 4], dir[pos + 5]]) as usize;
        pos += 6;
        // PROJECTVERSION declares 4 bytes but carries 6.
        let size = if id == 0x0009 { 6 } else { size };
        let Some(body) = dir.get(pos..pos.saturating_add(size)) else {
            break;
        };
        pos += size;
        match id {
            0x0019 => current.name = latin(body),
            0x001A => current.stream = latin(body),
            0x0031 if body.len() >= 4 => {
                current.text_offset =
                    u32::from_le_bytes([body[0], body[1], body[2], body[3]]) as usize
            }
            0x002B => modules.push(std::mem::take(&mut current)),
            _ => {}
        }
    }
    modules
}

fn latin(b: &[u8]) -> String {
    b.iter().map(|&c| c as char).collect()
}

/// What a macro's source shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceFindings {
    /// Auto-exec entry points (`AutoOpen`, `Document_Open`, …).
    pub autoexec: Vec<String>,
    /// Dropper and execution calls.
    pub suspicious: Vec<String>,
    /// Obfuscation signs.
    pub obfuscation: Vec<String>,
    /// URLs in string literals.
    pub urls: Vec<String>,
}

const AUTOEXEC: &[&str] = &[
    "autoopen",
    "auto_open",
    "autoclose",
    "auto_close",
    "autoexec",
    "autonew",
    "autoexit",
    "document_open",
    "document_close",
    "document_new",
    "documentopen",
    "documentbeforeclose",
    "document_contentcontrolonenter",
    "workbook_open",
    "workbook_activate",
    "workbook_close",
    "workbook_beforeclose",
    "auto_activate",
    "app_documentopen",
    "app_workbookopen",
    "_painted",
    "_layout",
    "_resize",
    "_gotfocus",
    "_mousemove",
    "presentation_open",
];

const SUSPICIOUS: &[&str] = &[
    "shell(",
    "shell ",
    "wscript.shell",
    "shell.application",
    "shellexecute",
    "createobject",
    "getobject",
    "urldownloadtofile",
    "powershell",
    "cmd.exe",
    "cmd /c",
    "mshta",
    "certutil",
    "bitsadmin",
    "rundll32",
    "regsvr32",
    "adodb.stream",
    "savetofile",
    "msxml2.xmlhttp",
    "winhttp.winhttprequest",
    "microsoft.xmlhttp",
    "responsebody",
    "callbyname",
    "environ(",
    "virtualalloc",
    "rtlmovememory",
    "createthread",
    "writeprocessmemory",
    "lib \"kernel32",
    "scripting.filesystemobject",
    "schedule.service",
    "win32_process",
    "frombase64string",
    ".run ",
    ".run(",
    ".exec(",
    "kill ",
    "open \"",
    "for binary",
];

static AUTOEXEC_MATCHER: LazyLock<Option<AhoCorasick>> =
    LazyLock::new(|| AhoCorasick::new(AUTOEXEC).ok());
static SUSPICIOUS_MATCHER: LazyLock<Option<AhoCorasick>> =
    LazyLock::new(|| AhoCorasick::new(SUSPICIOUS).ok());

/// Analyses macro source text.
pub fn analyse_source(source: &str) -> SourceFindings {
    let lower = source.to_ascii_lowercase();
    let mut f = SourceFindings::default();
    let bytes = lower.as_bytes();
    if let Some(m) = AUTOEXEC_MATCHER.as_ref() {
        for hit in m.find_iter(&lower) {
            let word = AUTOEXEC[hit.pattern().as_usize()];
            // Whole identifier only: `MyAutoOpenHelper` is not an entry point; event suffixes need a control name.
            let before_ok =
                word.starts_with('_') || hit.start() == 0 || !is_ident(bytes[hit.start() - 1]);
            let after_ok = bytes.get(hit.end()).is_none_or(|&b| !is_ident(b));
            if before_ok && after_ok && !f.autoexec.iter().any(|w| w == word) {
                f.autoexec.push(word.to_string());
            }
        }
    }
    if let Some(m) = SUSPICIOUS_MATCHER.as_ref() {
        for hit in m.find_iter(&lower) {
            let word = SUSPICIOUS[hit.pattern().as_usize()].trim();
            if !f.suspicious.iter().any(|w| w == word) {
                f.suspicious.push(word.to_string());
            }
        }
    }
    let chr = lower.matches("chr(").count()
        + lower.matches("chrw(").count()
        + lower.matches("chrb(").count();
    if chr >= 20 {
        f.obfuscation.push(format!("{chr} Chr() calls"));
    }
    if lower.contains("strreverse") {
        f.obfuscation.push("StrReverse".to_string());
    }
    let concat = lower.matches("\" & \"").count() + lower.matches("\"&\"").count();
    if concat >= 30 {
        f.obfuscation
            .push(format!("{concat} string concatenations"));
    }
    if let Some(len) = longest_run(source.as_bytes(), |b| {
        b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
    })
    .filter(|&l| l >= 200)
    {
        f.obfuscation
            .push(format!("Base64-like blob of {len} characters"));
    }
    for url in crate::html::urls_in_text(source).into_iter().take(50) {
        f.urls.push(url);
    }
    f
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn longest_run(data: &[u8], pred: impl Fn(u8) -> bool) -> Option<usize> {
    let mut best = 0;
    let mut run = 0;
    for &b in data {
        if pred(b) {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    (best > 0).then_some(best)
}

/// Identifiers that, when the project's identifier table (`_VBA_PROJECT`) names them but no module source
/// contains them, show that the compiled p-code differs from the visible source (VBA stomping).
pub const STOMPING_IDENTIFIERS: &[&str] = &[
    "Shell",
    "CreateObject",
    "URLDownloadToFile",
    "WScript",
    "AutoOpen",
    "Document_Open",
    "Workbook_Open",
    "Auto_Open",
    "CallByName",
    "ShellExecute",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Compresses with literal-only chunks (valid MS-OVBA, no copy tokens) for round-trip tests.
    pub(crate) fn compress_literal(data: &[u8]) -> Vec<u8> {
        let mut out = vec![1u8];
        for chunk in data.chunks(4096) {
            if chunk.len() == 4096 {
                // Full chunks are stored raw (flag bit clear), as the spec requires when compression does not help.
                out.extend_from_slice(&0x3FFFu16.to_le_bytes());
                out.extend_from_slice(chunk);
                continue;
            }
            let mut body = Vec::new();
            for group in chunk.chunks(8) {
                body.push(0);
                body.extend_from_slice(group);
            }
            let header = 0xB000u16 | ((body.len() + 2 - 3) as u16 & 0x0FFF);
            out.extend_from_slice(&header.to_le_bytes());
            out.extend_from_slice(&body);
        }
        out
    }

    #[test]
    fn decompresses_the_spec_example() {
        // MS-OVBA 3.2.3 example: "#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa".
        let compressed: &[u8] = &[
            0x01, 0x2F, 0xB0, 0x00, 0x23, 0x61, 0x61, 0x61, 0x62, 0x63, 0x64, 0x65, 0x82, 0x66,
            0x00, 0x70, 0x61, 0x67, 0x68, 0x69, 0x6A, 0x01, 0x38, 0x08, 0x61, 0x6B, 0x6C, 0x00,
            0x30, 0x6D, 0x6E, 0x6F, 0x70, 0x06, 0x71, 0x02, 0x70, 0x04, 0x10, 0x72, 0x73, 0x74,
            0x75, 0x76, 0x10, 0x77, 0x78, 0x79, 0x7A, 0x00, 0x3C,
        ];
        let out = decompress(compressed).expect("container");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa"
        );
    }

    #[test]
    fn round_trips_literal_chunks_and_survives_garbage() {
        let text = b"Attribute VB_Name = \"ThisDocument\"\r\nSub AutoOpen()\r\nShell \"calc\"\r\nEnd Sub\r\n".repeat(200);
        assert_eq!(
            decompress(&compress_literal(&text)).expect("container"),
            text
        );
        assert!(decompress(b"\x00abc").is_none());
        let _ = decompress(&[1, 0xFF, 0xBF, 0xFF, 0xFF, 0xFF]);
    }

    #[test]
    fn source_analysis() {
        let f = analyse_source(
            "Sub AutoOpen()\r\nSet o = CreateObject(\"WScript.Shell\")\r\no.Run \"powershell -enc AAA\"\r\nEnd Sub\r\nSub MyAutoOpenHelper()\r\nEnd Sub",
        );
        assert_eq!(f.autoexec, vec!["autoopen"]);
        assert!(f.suspicious.contains(&"createobject".to_string()));
        assert!(f.suspicious.contains(&"powershell".to_string()));
        assert!(
            analyse_source("Sub Hello()\r\nMsgBox \"hi\"\r\nEnd Sub")
                .suspicious
                .is_empty()
        );
    }
}
