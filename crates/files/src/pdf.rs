//! PDF: pdfid-style counts of risky names (`/JavaScript`, `/OpenAction`, `/Launch`, …), including names
//! hex-escaped to hide them (`/J#61vaScript`), in the raw file and in every Flate-compressed stream (object
//! streams hide dictionaries there), and the targets of `/URI` actions. A raw scan follows no object references,
//! so reference cycles cannot trap it.

use std::io::Read;

use crate::report::{ObservationKind, UrlSource, display_path};
use crate::walk::Walker;

/// Most streams inflated per file.
const MAX_STREAMS: usize = 10_000;

/// Counts of the names that matter, after `#xx` decoding.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PdfCounts {
    /// `/JS` and `/JavaScript`.
    pub javascript: usize,
    /// `/OpenAction` and `/AA`.
    pub auto_action: usize,
    /// `/Launch`.
    pub launch: usize,
    /// `/EmbeddedFile` and `/EmbeddedFiles`.
    pub embedded_file: usize,
    /// `/URI`.
    pub uri: usize,
    /// `/SubmitForm`.
    pub submit_form: usize,
    /// `/XFA` and `/RichMedia`.
    pub active_content: usize,
    /// `/Encrypt`.
    pub encrypt: usize,
    /// `/ObjStm`.
    pub object_streams: usize,
    /// Names written with `#xx` escapes that decode to one of the above.
    pub obfuscated: usize,
}

/// Scans PDF bytes (raw, no decompression) for names; adds to `counts`; returns `/URI` targets found.
pub fn scan(data: &[u8], counts: &mut PdfCounts) -> Vec<String> {
    let mut uris = Vec::new();
    let mut pos = 0;
    while let Some(off) = memchr::memchr(b'/', &data[pos..]) {
        let start = pos + off + 1;
        let mut end = start;
        while end < data.len() && !is_delimiter(data[end]) && end - start < 64 {
            end += 1;
        }
        pos = end.max(start);
        let raw = &data[start..end];
        if raw.is_empty() {
            continue;
        }
        let escaped = raw.contains(&b'#');
        let name = if escaped {
            decode_name(raw)
        } else {
            raw.to_vec()
        };
        let counter = match name.as_slice() {
            b"JS" | b"JavaScript" => &mut counts.javascript,
            b"OpenAction" | b"AA" => &mut counts.auto_action,
            b"Launch" => &mut counts.launch,
            b"EmbeddedFile" | b"EmbeddedFiles" => &mut counts.embedded_file,
            b"URI" => &mut counts.uri,
            b"SubmitForm" => &mut counts.submit_form,
            b"XFA" | b"RichMedia" => &mut counts.active_content,
            b"Encrypt" => &mut counts.encrypt,
            b"ObjStm" => &mut counts.object_streams,
            _ => continue,
        };
        *counter += 1;
        if escaped {
            counts.obfuscated += 1;
        }
        if name == b"URI"
            && let Some(target) = literal_after(&data[end..])
            && uris.len() < 1000
        {
            uris.push(target);
        }
    }
    uris
}

fn is_delimiter(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b'/' | b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'%' | 0
        )
}

fn decode_name(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'#'
            && let (Some(h), Some(l)) = (
                raw.get(i + 1).and_then(|&b| hex_val(b)),
                raw.get(i + 2).and_then(|&b| hex_val(b)),
            )
        {
            out.push(h << 4 | l);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    out
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// The literal string `( … )` or hex string `< … >` right after a name, decoded (escapes, nested parentheses).
fn literal_after(data: &[u8]) -> Option<String> {
    let mut i = 0;
    while i < data.len() && data[i].is_ascii_whitespace() {
        i += 1;
    }
    match data.get(i)? {
        b'(' => {
            let mut out = Vec::new();
            let mut level = 1;
            i += 1;
            while i < data.len() && out.len() < 4096 {
                let b = data[i];
                match b {
                    b'\\' => {
                        i += 1;
                        if let Some(&e) = data.get(i) {
                            out.push(match e {
                                b'n' => b'\n',
                                b'r' => b'\r',
                                b't' => b'\t',
                                other => other,
                            });
                        }
                    }
                    b'(' => {
                        level += 1;
                        out.push(b);
                    }
                    b')' => {
                        level -= 1;
                        if level == 0 {
                            break;
                        }
                        out.push(b);
                    }
                    _ => out.push(b),
                }
                i += 1;
            }
            Some(String::from_utf8_lossy(&out).trim().to_string())
        }
        b'<' if data.get(i + 1) != Some(&b'<') => {
            let end = memchr::memchr(b'>', &data[i..])? + i;
            let hex: Vec<u8> = data[i + 1..end]
                .iter()
                .copied()
                .filter(u8::is_ascii_hexdigit)
                .collect();
            let bytes: Vec<u8> = hex
                .chunks(2)
                .filter_map(|c| {
                    let h = hex_val(c[0])?;
                    let l = c.get(1).and_then(|&b| hex_val(b)).unwrap_or(0);
                    Some(h << 4 | l)
                })
                .collect();
            Some(String::from_utf8_lossy(&bytes).trim().to_string())
        }
        _ => None,
    }
}

/// Analyses a PDF: counts in the raw bytes and in inflated streams, then observations and URLs.
pub(crate) fn analyse(w: &mut Walker<'_>, path: &[String], data: &[u8], depth: usize) {
    let scan_len = data.len().min(w.options.limits.max_scan_bytes);
    let data = &data[..scan_len];
    let mut counts = PdfCounts::default();
    let mut uris = scan(data, &mut counts);
    // Inflate streams (bounded) so that names inside object streams count too.
    let mut pos = 0;
    let mut streams = 0;
    let mut inflated_total = 0usize;
    let budget = w.options.limits.max_entry_bytes as usize;
    let mut truncated_streams = 0;
    while let Some(off) = memchr::memmem::find(&data[pos..], b"stream") {
        let mut start = pos + off + 6;
        pos = start;
        if data[..start - 6].ends_with(b"end") {
            continue;
        }
        if data.get(start) == Some(&b'\r') {
            start += 1;
        }
        if data.get(start) == Some(&b'\n') {
            start += 1;
        }
        streams += 1;
        if streams > MAX_STREAMS || inflated_total >= budget {
            break;
        }
        let end = memchr::memmem::find(&data[start..], b"endstream").map(|e| start + e);
        let Some(end) = end else {
            truncated_streams += 1;
            break;
        };
        pos = end;
        let body = &data[start..end];
        if body.first() != Some(&0x78) {
            continue; // not zlib (Flate) — other filters are not decoded
        }
        let mut out = Vec::new();
        let cap = (budget - inflated_total).min(body.len().saturating_mul(200).max(1 << 20));
        let _ = flate2::read::ZlibDecoder::new(body)
            .take(cap as u64)
            .read_to_end(&mut out);
        inflated_total += out.len();
        uris.extend(scan(&out, &mut counts));
    }
    if !data.starts_with(b"%PDF")
        && memchr::memmem::find(&data[..data.len().min(1024)], b"%PDF").is_none()
    {
        w.observe(ObservationKind::MalformedPdf, path, depth, "no %PDF header");
    } else if truncated_streams > 0
        || memchr::memmem::rfind(&data[data.len().saturating_sub(2048)..], b"%%EOF").is_none()
    {
        w.observe(
            ObservationKind::MalformedPdf,
            path,
            depth,
            format!(
                "{}: truncated (stream without end or no %%EOF)",
                display_path(path)
            ),
        );
    }
    let c = &counts;
    let mut note = |kind, n: usize, what: &str| {
        if n > 0 {
            w.observe(kind, path, depth, format!("{what} ×{n}"));
        }
    };
    note(
        ObservationKind::PdfJavaScript,
        c.javascript,
        "/JS or /JavaScript",
    );
    note(
        ObservationKind::PdfAutoAction,
        c.auto_action,
        "/OpenAction or /AA",
    );
    note(ObservationKind::PdfLaunch, c.launch, "/Launch");
    note(
        ObservationKind::PdfEmbeddedFile,
        c.embedded_file,
        "/EmbeddedFile",
    );
    note(ObservationKind::PdfSubmitForm, c.submit_form, "/SubmitForm");
    note(
        ObservationKind::PdfActiveContent,
        c.active_content,
        "/XFA or /RichMedia",
    );
    note(ObservationKind::PdfEncrypted, c.encrypt, "/Encrypt");
    note(
        ObservationKind::PdfNameObfuscation,
        c.obfuscated,
        "hex-escaped names",
    );
    for uri in uris {
        w.url(&uri, path, UrlSource::Pdf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_names_and_hex_escapes() {
        let mut c = PdfCounts::default();
        let uris = scan(
            b"<< /Type /Catalog /OpenAction 3 0 R /J#61vaScript (app.alert(1)) >> << /S /URI /URI (https://evil.example/a\\)b) >>",
            &mut c,
        );
        assert_eq!(c.javascript, 1);
        assert_eq!(c.auto_action, 1);
        assert_eq!(c.obfuscated, 1);
        assert_eq!(c.uri, 2);
        assert_eq!(uris, vec!["https://evil.example/a)b"]);
    }
}
