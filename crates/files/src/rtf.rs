//! RTF: embedded objects (`\objdata`), objects refreshed on open (`\objupdate`), their class names, and Equation
//! Editor objects; the hex-encoded object data is decoded and walked (it often holds an OLE2 file or a package).

use crate::report::{ObservationKind, UrlSource};
use crate::walk::Walker;

/// Most `\objdata` groups decoded per file.
const MAX_OBJECTS: usize = 64;

pub(crate) fn analyse(w: &mut Walker<'_>, path: &[String], data: &[u8], depth: usize) {
    let data = &data[..data.len().min(w.options.limits.max_scan_bytes)];
    let lower = data.to_ascii_lowercase();
    let count = |needle: &[u8]| memchr::memmem::find_iter(&lower, needle).count();
    let objects = count(b"\\objdata");
    let classes = class_names(&lower);
    if objects > 0 || count(b"\\object") > 0 {
        w.observe(
            ObservationKind::RtfObject,
            path,
            depth,
            format!(
                "{objects} embedded object(s){}",
                if classes.is_empty() {
                    String::new()
                } else {
                    format!(", classes {}", classes.join(", "))
                }
            ),
        );
    }
    if count(b"\\objupdate") > 0 {
        w.observe(
            ObservationKind::RtfObjupdate,
            path,
            depth,
            "\\objupdate: the object is refreshed (run) when the document opens",
        );
    }
    let mut equation = classes
        .iter()
        .any(|c| c.to_ascii_lowercase().starts_with("equation"));
    let mut decoded_objects = 0;
    for at in memchr::memmem::find_iter(&lower, b"\\objdata") {
        if decoded_objects >= MAX_OBJECTS {
            break;
        }
        decoded_objects += 1;
        let bytes = hex_run(&data[at + 8..], w.options.limits.max_entry_bytes as usize);
        if bytes.is_empty() {
            continue;
        }
        // OLE1 header: version, format id, class name (length-prefixed), then native data.
        if memchr::memmem::find(&bytes, b"Equation.3").is_some()
            || memchr::memmem::find(
                &bytes,
                &[
                    0x02, 0xCE, 0x02, 0x00, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46,
                ],
            )
            .is_some()
        {
            equation = true;
        }
        // Walk an embedded OLE2 file or package.
        let inner = memchr::memmem::find(&bytes, &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
            .map(|o| &bytes[o..])
            .unwrap_or(&bytes[..]);
        w.child(path, depth, format!("objdata {decoded_objects}"), inner);
    }
    if equation {
        w.observe(
            ObservationKind::EquationEditor,
            path,
            depth,
            "Equation Editor object (CVE-2017-11882 family)",
        );
    }
    // HYPERLINK fields.
    let text = String::from_utf8_lossy(data);
    for piece in text.split("HYPERLINK").skip(1).take(500) {
        let piece = piece.trim_start().trim_start_matches('"');
        let url: String = piece
            .chars()
            .take_while(|c| !matches!(c, '"' | '}' | ' ' | '\\'))
            .collect();
        if url.contains("://") {
            w.url(&url, path, UrlSource::Rtf);
        }
    }
}

/// Class names from `{\*\objclass Name}` groups.
fn class_names(lower: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for at in memchr::memmem::find_iter(lower, b"\\objclass").take(64) {
        let rest = &lower[at + 9..];
        let name: String = rest
            .iter()
            .skip_while(|b| b.is_ascii_whitespace())
            .take_while(|&&b| b != b'}' && b != b'\\')
            .take(64)
            .map(|&b| b as char)
            .collect();
        let name = name.trim().to_string();
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// Decodes the hex digits that follow, skipping whitespace and control words RTF allows in between, until a
/// closing brace or `max` bytes.
fn hex_run(data: &[u8], max: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut high: Option<u8> = None;
    let mut i = 0;
    while i < data.len() && out.len() < max {
        let b = data[i];
        match b {
            b'}' => break,
            b'\\' => {
                // skip a control word like \bin0 or \'xx
                i += 1;
                while i < data.len() && data[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                continue;
            }
            b'{' => {}
            _ if b.is_ascii_hexdigit() => {
                let v = (b as char).to_digit(16).unwrap_or(0) as u8;
                match high.take() {
                    Some(h) => out.push(h << 4 | v),
                    None => high = Some(v),
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}
