//! Office documents saved as one XML file: Word 2003 XML (WordprocessingML 2003, `w:binData` parts holding
//! `editdata.mso` with the VBA project and `oledata.mso` with embedded objects) and flat OPC packages (Word
//! 2007+ "XML document", `pkg:part` with `pkg:binaryData` or `pkg:xmlData`). The base64 parts are decoded and
//! walked like the parts of a ZIP package, so macros and embedded objects in them are found.

use std::io::Read;

use crate::office;
use crate::report::ObservationKind;
use crate::walk::Walker;

/// Most base64 parts decoded from one document.
const MAX_PARTS: usize = 1000;

/// True when `head` (the start of an XML file) looks like a Word 2003 XML or flat OPC document.
fn is_flat_office(data: &[u8]) -> bool {
    let head = &data[..data.len().min(4096)];
    memchr::memmem::find(head, b"<w:wordDocument").is_some()
        || memchr::memmem::find(head, b"<pkg:package").is_some()
        || memchr::memmem::find(head, b"progid=\"Word.Document\"").is_some()
}

pub(crate) fn analyse(w: &mut Walker<'_>, path: &[String], data: &[u8], depth: usize) {
    if !is_flat_office(data) {
        return;
    }
    let data = &data[..data.len().min(w.options.limits.max_scan_bytes)];
    if memchr::memmem::find(data, b"<pkg:part").is_some() {
        flat_opc(w, path, data, depth);
    } else {
        word2003(w, path, data, depth);
    }
}

/// Elements `<open …>content</close>`: the open tag's attributes and the content, at most [`MAX_PARTS`].
fn elements<'a>(data: &'a [u8], open: &[u8], close: &[u8]) -> Vec<(&'a [u8], &'a [u8])> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() < MAX_PARTS {
        let Some(at) = memchr::memmem::find(rest, open) else {
            break;
        };
        let after = &rest[at + open.len()..];
        let Some(gt) = memchr::memchr(b'>', after) else {
            break;
        };
        let attrs = &after[..gt];
        let body = &after[gt + 1..];
        let end = memchr::memmem::find(body, close).unwrap_or(body.len());
        out.push((attrs, &body[..end]));
        rest = &body[end..];
    }
    out
}

/// The value of `name="…"` in a tag's attribute bytes.
fn attribute(attrs: &[u8], name: &str) -> Option<String> {
    let needle = format!("{name}=\"");
    let at = memchr::memmem::find(attrs, needle.as_bytes())? + needle.len();
    let end = memchr::memchr(b'"', &attrs[at..])? + at;
    Some(String::from_utf8_lossy(&attrs[at..end]).into_owned())
}

fn word2003(w: &mut Walker<'_>, path: &[String], data: &[u8], depth: usize) {
    if let Some(detail) = office::dde_in_xml(data) {
        w.observe(ObservationKind::Dde, path, depth, detail);
    }
    let has_ole_object = memchr::memmem::find(data, b"<w:docOleData").is_some()
        || memchr::memmem::find(data, b"<o:OLEObject").is_some();
    let parts = elements(data, b"<w:binData", b"</w:binData>");
    for (attrs, body) in parts {
        if !w.may_descend(path, depth) {
            return;
        }
        let name = attribute(attrs, "w:name").unwrap_or_else(|| "binData".to_string());
        let leaf = name.trim_start_matches("wordml://").to_string();
        let Some(bytes) = decode_part(w, path, depth, &leaf, body) else {
            continue;
        };
        let lower = leaf.to_ascii_lowercase();
        if lower == "oledata.mso" && has_ole_object {
            w.observe(
                ObservationKind::EmbeddedObject,
                path,
                depth,
                "embedded OLE object in Word 2003 XML (oledata.mso)",
            );
        }
        w.child(path, depth, leaf, &bytes);
    }
}

fn flat_opc(w: &mut Walker<'_>, path: &[String], data: &[u8], depth: usize) {
    let mut dde_reported = false;
    for (attrs, body) in elements(data, b"<pkg:part ", b"</pkg:part>") {
        let name = attribute(attrs, "pkg:name").unwrap_or_default();
        let part = name.trim_start_matches('/').to_string();
        let lower = part.to_ascii_lowercase();
        if let Some(&(_, xml)) = elements(body, b"<pkg:xmlData", b"</pkg:xmlData>").first() {
            if lower.ends_with(".rels") {
                office::relationships(w, path, depth, &part, &String::from_utf8_lossy(xml));
            } else if !dde_reported
                && (lower == "word/document.xml"
                    || lower.starts_with("xl/externallinks/")
                    || lower.starts_with("word/header")
                    || lower.starts_with("word/footer"))
                && let Some(detail) = office::dde_in_xml(xml)
            {
                w.observe(
                    ObservationKind::Dde,
                    path,
                    depth,
                    format!("{detail} in {part}"),
                );
                dde_reported = true;
            }
            continue;
        }
        let wanted = lower.ends_with("vbaproject.bin")
            || lower.contains("/embeddings/")
            || lower.contains("/activex/") && lower.ends_with(".bin");
        if !wanted {
            continue;
        }
        let Some(&(_, b64)) = elements(body, b"<pkg:binaryData", b"</pkg:binaryData>").first()
        else {
            continue;
        };
        if !w.may_descend(path, depth) {
            return;
        }
        let leaf = part.rsplit('/').next().unwrap_or(&part).to_string();
        let Some(bytes) = decode_part(w, path, depth, &leaf, b64) else {
            continue;
        };
        if lower.contains("/embeddings/") {
            w.observe(
                ObservationKind::EmbeddedObject,
                path,
                depth,
                format!("embedded object {part:?} in a flat OPC document"),
            );
        }
        w.child(path, depth, leaf, &bytes);
    }
}

/// Decodes one base64 part (and an ActiveMime container in it) within the entry limit; what cannot be decoded is
/// recorded as malformed.
fn decode_part(
    w: &mut Walker<'_>,
    path: &[String],
    depth: usize,
    leaf: &str,
    body: &[u8],
) -> Option<Vec<u8>> {
    let max = w.options.limits.max_entry_bytes;
    let Some(bytes) = base64_decode(body, max) else {
        w.observe(
            ObservationKind::MalformedOffice,
            path,
            depth,
            format!("{leaf}: base64 part that does not decode (or over {max} bytes)"),
        );
        return None;
    };
    if !bytes.starts_with(ACTIVE_MIME) {
        return Some(bytes);
    }
    let mut child = path.to_vec();
    child.push(leaf.to_string());
    match active_mime(&bytes) {
        Some(offset) => {
            let reader = flate2::read::ZlibDecoder::new(&bytes[offset..]);
            w.read_bounded(reader, 0, (bytes.len() - offset) as u64, &child, depth + 1)
        }
        None => {
            w.observe(
                ObservationKind::MalformedOffice,
                path,
                depth,
                format!("{leaf}: ActiveMime container without a readable zlib stream"),
            );
            None
        }
    }
}

const ACTIVE_MIME: &[u8] = b"ActiveMime";

/// Offset of the zlib stream in an ActiveMime (`.mso`) container: the header's own offset field (u16 at 0x1E,
/// plus 46), then the offsets Word (0x32) and Excel (0x22A) use, then any zlib header in the first 4 KiB — the
/// same order oletools tries. A candidate counts when its first 512 bytes inflate.
pub fn active_mime(data: &[u8]) -> Option<usize> {
    if !data.starts_with(ACTIVE_MIME) {
        return None;
    }
    let from_header = data
        .get(0x1E..0x20)
        .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])) + 46);
    let scan = (0..data.len().min(4096)).filter(|&i| data[i] == 0x78);
    from_header
        .into_iter()
        .chain([0x32, 0x22A])
        .chain(scan)
        .find(|&off| {
            off < data.len() && {
                let mut probe = [0u8; 512];
                let mut z = flate2::read::ZlibDecoder::new(&data[off..]);
                matches!(z.read(&mut probe), Ok(n) if n > 0)
            }
        })
}

/// Decodes standard base64, skipping whitespace, stopping at `=`; `None` on any other byte or output over
/// `max` bytes.
pub fn base64_decode(text: &[u8], max: u64) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity((text.len() / 4 * 3).min(max as usize));
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in text {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
            if out.len() as u64 > max {
                return None;
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_with_whitespace_and_rejects_junk() {
        assert_eq!(
            base64_decode(b"SGVs\r\nbG8=", 100).as_deref(),
            Some(&b"Hello"[..])
        );
        assert_eq!(
            base64_decode(b"SGVsbG8", 100).as_deref(),
            Some(&b"Hello"[..])
        );
        assert_eq!(base64_decode(b"SGV*bG8=", 100), None);
        assert_eq!(base64_decode(b"SGVsbG8=", 3), None);
    }

    #[test]
    fn active_mime_finds_the_zlib_stream() {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"payload").unwrap();
        let mut mso = ACTIVE_MIME.to_vec();
        mso.resize(0x32, 0);
        // Header offset field 4 + 46 = 50 = 0x32.
        mso[0x1E] = 4;
        mso.extend(z.finish().unwrap());
        assert_eq!(active_mime(&mso), Some(0x32));
        assert_eq!(active_mime(b"ActiveMime\0\0\0 no stream"), None);
        assert_eq!(active_mime(b"not mso"), None);
    }
}
