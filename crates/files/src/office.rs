//! Office documents: OLE2 compound files (`cfb`) and Office Open XML packages. Finds VBA projects (and reads
//! their source), Excel 4.0 macro sheets, DDE, external relationships (remote templates), embedded OLE objects
//! and packages, Equation Editor objects and encryption.

use std::io::{Cursor, Read, Seek};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};

use crate::report::{ObservationKind, UrlSource, display_path};
use crate::vba;
use crate::walk::Walker;

/// Equation Editor 3.0 class id.
const CLSID_EQUATION: &str = "0002ce02-0000-0000-c000-000000000046";
/// OLE Package (Packager) class id.
const CLSID_PACKAGE: &str = "0003000c-0000-0000-c000-000000000046";
/// Windows Installer class ids (package, patch, transform).
const CLSID_MSI: &[&str] = &[
    "000c1084-0000-0000-c000-000000000046",
    "000c1086-0000-0000-c000-000000000046",
    "000c1082-0000-0000-c000-000000000046",
];
/// Largest single OLE stream read.
const MAX_STREAM: u64 = 64 * 1024 * 1024;

static DDE_MATCHER: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .build([
            &b"DDEAUTO"[..],
            b"\x13 DDE ",
            b"D\0D\0E\0A\0U\0T\0O\0",
            b"\x13\0 \0D\0D\0E\0 \0",
            b"ddeService=",
            b"<w:instrText> DDE",
            b"<w:instrText xml:space=\"preserve\"> DDE",
        ])
        .ok()
});

struct Stream {
    path: String,
    name: String,
    data: Vec<u8>,
}

/// Analyses an OLE2 compound file.
pub(crate) fn ole(w: &mut Walker<'_>, path: &[String], data: &[u8], depth: usize) {
    // cfb is not hardened against every hostile layout; a panic inside it is a malformed file, not a crash.
    let read = catch_unwind(AssertUnwindSafe(|| read_ole(data)));
    let (streams, storages, root_clsid) = match read {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            w.observe(
                ObservationKind::MalformedOffice,
                path,
                depth,
                format!("{}: unreadable OLE2 file ({e})", display_path(path)),
            );
            return;
        }
        Err(_) => {
            w.observe(
                ObservationKind::MalformedOffice,
                path,
                depth,
                format!("{}: OLE2 parser failure", display_path(path)),
            );
            return;
        }
    };
    if CLSID_MSI.contains(&root_clsid.as_str()) && depth > 0 {
        w.observe(
            ObservationKind::Executable,
            path,
            depth,
            format!("{:?} is a Windows Installer package", path.last()),
        );
    }
    if let Some(how) = encryption(&streams) {
        w.observe(
            ObservationKind::EncryptedDocument,
            path,
            depth,
            format!(
                "{} is an encrypted Office document ({how})",
                display_path(path)
            ),
        );
    }
    // Equation Editor: by class id of any storage, a CompObj naming it, or its native stream.
    let equation = root_clsid == CLSID_EQUATION
        || storages.iter().any(|(_, clsid)| clsid == CLSID_EQUATION)
        || streams.iter().any(|s| {
            s.name == "Equation Native"
                || (s.name == "\u{1}CompObj"
                    && memchr::memmem::find(&s.data, b"Equation.3").is_some())
        });
    if equation {
        w.observe(
            ObservationKind::EquationEditor,
            path,
            depth,
            "Equation Editor 3.0 object (CVE-2017-11882 family)",
        );
    }
    // Embedded objects: Word's ObjectPool, Excel's MBD storages, Package class ids.
    let embedded: Vec<&String> = storages
        .iter()
        .filter(|(p, clsid)| {
            p.contains("/ObjectPool/")
                || p.rsplit('/').next().is_some_and(|n| n.starts_with("MBD"))
                || clsid == CLSID_PACKAGE
        })
        .map(|(p, _)| p)
        .collect();
    if !embedded.is_empty() {
        w.observe(
            ObservationKind::EmbeddedObject,
            path,
            depth,
            format!(
                "{} embedded OLE object(s), e.g. {:?}",
                embedded.len(),
                embedded[0]
            ),
        );
    }
    for s in streams.iter().filter(|s| s.name == "\u{1}Ole10Native") {
        if let Some((label, payload)) = ole10_native(&s.data) {
            w.observe(
                ObservationKind::EmbeddedPackage,
                path,
                depth,
                format!("package {label:?} ({} bytes) in {}", payload.len(), s.path),
            );
            w.child(path, depth, label, payload);
        }
    }
    // Other embedded OLE streams that are whole files (e.g. "Package" or "CONTENTS" holding a document).
    for s in streams
        .iter()
        .filter(|s| matches!(s.name.as_str(), "Package" | "CONTENTS"))
    {
        if s.data.len() > 8 {
            w.child(path, depth, s.name.clone(), &s.data);
        }
    }
    // PowerPoint keeps embedded objects and the VBA project zlib-compressed inside its document stream.
    if let Some(s) = streams.iter().find(|s| s.name == "PowerPoint Document") {
        let max = w.options.limits.max_entry_bytes;
        let mut objects = powerpoint_objects(&s.data, max);
        if objects.is_empty() {
            // Some files cfb reads short; the records are contiguous in the raw file as well.
            objects = powerpoint_objects(data, max);
        }
        for (n, object) in objects.into_iter().enumerate() {
            w.child(path, depth, format!("ExOleObjStg {}", n + 1), &object);
        }
    }
    vba_projects(w, path, depth, &streams);
    for s in streams
        .iter()
        .filter(|s| matches!(s.name.as_str(), "Workbook" | "Book"))
    {
        xlm_biff(w, path, depth, &s.data);
    }
    for s in streams
        .iter()
        .filter(|s| matches!(s.name.as_str(), "WordDocument" | "1Table" | "0Table"))
    {
        if let Some(hit) = DDE_MATCHER.as_ref().and_then(|m| m.find(&s.data)) {
            w.observe(
                ObservationKind::Dde,
                path,
                depth,
                format!("DDE field code in {} at offset {}", s.path, hit.start()),
            );
            break;
        }
    }
}

/// How an OLE2 document is encrypted, if it is: OOXML agile/standard encryption, Word's FIB flag, Excel's
/// FILEPASS record, PowerPoint's encrypted summary.
fn encryption(streams: &[Stream]) -> Option<&'static str> {
    let has = |n: &str| streams.iter().any(|s| s.name == n);
    if has("EncryptedPackage") || has("EncryptionInfo") {
        return Some("encrypted OOXML package");
    }
    if has("EncryptedSummary") {
        return Some("PowerPoint encryption");
    }
    if let Some(word) = streams.iter().find(|s| s.name == "WordDocument")
        && word.data.get(0x0B).is_some_and(|b| b & 0x01 != 0)
    {
        return Some("Word fEncrypted flag");
    }
    if let Some(book) = streams
        .iter()
        .find(|s| matches!(s.name.as_str(), "Workbook" | "Book"))
    {
        let data = &book.data;
        let mut pos = 0;
        for _ in 0..64 {
            let Some(h) = data.get(pos..pos + 4) else {
                break;
            };
            let kind = u16::from_le_bytes([h[0], h[1]]);
            if kind == 0x002F {
                return Some("Excel FILEPASS record");
            }
            pos += 4 + u16::from_le_bytes([h[2], h[3]]) as usize;
        }
    }
    None
}

/// Zlib-compressed ExOleObjStg records (type 0x1011, instance 1) of a PowerPoint document stream.
fn powerpoint_objects(data: &[u8], max: u64) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for at in memchr::memmem::find_iter(data, &[0x10, 0x00, 0x11, 0x10]).take(256) {
        let Some(h) = data.get(at + 4..at + 12) else {
            break;
        };
        let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
        let Some(body) = data.get(at + 12..(at + 8).saturating_add(len).min(data.len())) else {
            continue;
        };
        let mut inflated = Vec::new();
        // PowerPoint often omits the zlib checksum: keep what inflated even when the stream ends early.
        let _ = flate2::read::ZlibDecoder::new(body)
            .take(max)
            .read_to_end(&mut inflated);
        if inflated.len() > 8 {
            out.push(inflated);
        }
    }
    out
}

type OleContent = (Vec<Stream>, Vec<(String, String)>, String);

fn read_ole(data: &[u8]) -> std::io::Result<OleContent> {
    let mut file = cfb::CompoundFile::open(Cursor::new(data))?;
    let root_clsid = file.root_entry().clsid().to_string();
    let mut entries = Vec::new();
    let mut storages = Vec::new();
    for entry in file.walk().take(100_000) {
        let p = entry.path().to_string_lossy().replace('\\', "/");
        if entry.is_stream() {
            entries.push((p, entry.name().to_string(), entry.len()));
        } else {
            storages.push((p, entry.clsid().to_string()));
        }
    }
    let mut streams = Vec::new();
    let mut total = 0u64;
    for (p, name, len) in entries {
        if len > MAX_STREAM || total > 4 * MAX_STREAM {
            continue;
        }
        let mut data = Vec::with_capacity(len as usize);
        if let Ok(mut s) = file.open_stream(&p) {
            let _ = (&mut s).take(MAX_STREAM).read_to_end(&mut data);
        }
        total += data.len() as u64;
        streams.push(Stream {
            path: p,
            name,
            data,
        });
    }
    Ok((streams, storages, root_clsid))
}

/// Parses an `\x01Ole10Native` stream: label and payload of an OLE Package.
fn ole10_native(data: &[u8]) -> Option<(String, &[u8])> {
    let mut pos = 4 + 2; // native size, unknown short
    let cstr = |pos: &mut usize| -> Option<String> {
        let rest = data.get(*pos..)?;
        let end = memchr::memchr(0, rest)?;
        let s = String::from_utf8_lossy(&rest[..end]).into_owned();
        *pos += end + 1;
        Some(s)
    };
    let label = cstr(&mut pos)?;
    let _source = cstr(&mut pos)?;
    pos += 8;
    let _temp = cstr(&mut pos)?;
    let size_bytes = data.get(pos..pos + 4)?;
    let size =
        u32::from_le_bytes([size_bytes[0], size_bytes[1], size_bytes[2], size_bytes[3]]) as usize;
    pos += 4;
    let payload = data.get(pos..pos.checked_add(size)?.min(data.len()))?;
    let label = if label.is_empty() {
        "package".to_string()
    } else {
        label
    };
    Some((label, payload))
}

fn vba_projects(w: &mut Walker<'_>, path: &[String], depth: usize, streams: &[Stream]) {
    let dirs: Vec<&Stream> = streams
        .iter()
        .filter(|s| {
            s.name.eq_ignore_ascii_case("dir") && s.path.to_ascii_lowercase().ends_with("vba/dir")
        })
        .collect();
    for dir in dirs {
        let storage = &dir.path[..dir.path.len() - 3];
        let project_root = storage
            .trim_end_matches('/')
            .trim_end_matches("VBA")
            .to_string();
        let Some(decompressed) = vba::decompress(&dir.data) else {
            w.observe(
                ObservationKind::MalformedOffice,
                path,
                depth,
                format!("{}: VBA dir stream is not compressed", dir.path),
            );
            continue;
        };
        let modules = vba::parse_dir(&decompressed);
        let mut all_source = String::new();
        let mut module_names = Vec::new();
        let mut pcode_bytes = 0usize;
        for m in &modules {
            let stream_path = format!("{storage}{}", m.stream);
            let Some(s) = streams
                .iter()
                .find(|s| s.path.eq_ignore_ascii_case(&stream_path))
            else {
                continue;
            };
            pcode_bytes += m.text_offset.min(s.data.len());
            let source = s
                .data
                .get(m.text_offset..)
                .and_then(vba::decompress)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            module_names.push(m.name.clone());
            all_source.push_str(&source);
            all_source.push('\n');
        }
        if modules.is_empty() {
            // Damaged dir stream: fall back to finding compressed sources by their "Attribute" start.
            for s in streams.iter().filter(|s| s.path.starts_with(storage)) {
                if let Some(at) = memchr::memmem::find(&s.data, b"\x00Attribut")
                    && at >= 3
                    && let Some(src) = vba::decompress(&s.data[at - 3..])
                {
                    all_source.push_str(&String::from_utf8_lossy(&src));
                    module_names.push(s.name.clone());
                }
            }
        }
        let code_lines = all_source
            .lines()
            .filter(|l| {
                let t = l.trim();
                !t.is_empty() && !t.starts_with("Attribute ")
            })
            .count();
        w.observe(
            ObservationKind::VbaMacro,
            path,
            depth,
            format!(
                "VBA project {} with {} module(s) ({}), {code_lines} lines of code",
                if project_root.is_empty() {
                    "/"
                } else {
                    project_root.as_str()
                },
                module_names.len(),
                module_names
                    .iter()
                    .take(6)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        let found = vba::analyse_source(&all_source);
        if !found.autoexec.is_empty() {
            w.observe(
                ObservationKind::VbaAutoExec,
                path,
                depth,
                format!("auto-exec entry points: {}", found.autoexec.join(", ")),
            );
        }
        if !found.suspicious.is_empty() {
            w.observe(
                ObservationKind::VbaSuspicious,
                path,
                depth,
                format!(
                    "suspicious calls: {}",
                    found
                        .suspicious
                        .iter()
                        .take(12)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        if !found.obfuscation.is_empty() {
            w.observe(
                ObservationKind::VbaObfuscation,
                path,
                depth,
                found.obfuscation.join(", "),
            );
        }
        for url in &found.urls {
            w.url(url, path, UrlSource::Code);
        }
        // Stomping: compiled identifiers with no trace in the source, or p-code with no source at all.
        let project = streams.iter().find(|s| {
            s.path
                .eq_ignore_ascii_case(&format!("{storage}_VBA_PROJECT"))
        });
        let lower_source = all_source.to_ascii_lowercase();
        let mut hidden: Vec<&str> = Vec::new();
        if let Some(project) = project {
            for id in vba::STOMPING_IDENTIFIERS {
                if memchr::memmem::find(&project.data, id.as_bytes()).is_some()
                    && !lower_source.contains(&id.to_ascii_lowercase())
                {
                    hidden.push(id);
                }
            }
        }
        if !hidden.is_empty() {
            w.observe(
                ObservationKind::VbaStomping,
                path,
                depth,
                format!(
                    "compiled code names {} but the source does not",
                    hidden.join(", ")
                ),
            );
        } else if code_lines == 0 && pcode_bytes > 1024 && !modules.is_empty() {
            w.observe(
                ObservationKind::VbaStomping,
                path,
                depth,
                format!("{pcode_bytes} bytes of p-code but no source lines"),
            );
        }
    }
}

/// Excel 4.0 macro sheets in a BIFF8 workbook stream: BOUNDSHEET records of type "macro sheet".
fn xlm_biff(w: &mut Walker<'_>, path: &[String], depth: usize, data: &[u8]) {
    let mut pos = 0;
    let mut sheets = Vec::new();
    let mut records = 0;
    while pos + 4 <= data.len() && records < 1_000_000 {
        records += 1;
        let kind = u16::from_le_bytes([data[pos], data[pos + 1]]);
        let len = u16::from_le_bytes([data[pos + 2], data[pos + 3]]) as usize;
        let body = data
            .get(pos + 4..(pos + 4 + len).min(data.len()))
            .unwrap_or_default();
        pos += 4 + len;
        if kind == 0x0085 && body.len() >= 8 {
            let (state, sheet_type) = (body[4], body[5]);
            if sheet_type == 0x01 {
                let cch = body[6] as usize;
                let name = match body[7] {
                    0 => String::from_utf8_lossy(body.get(8..8 + cch).unwrap_or_default())
                        .into_owned(),
                    _ => body
                        .get(8..8 + 2 * cch)
                        .unwrap_or_default()
                        .chunks_exact(2)
                        .map(|c| {
                            char::from_u32(u16::from_le_bytes([c[0], c[1]]) as u32).unwrap_or('?')
                        })
                        .collect(),
                };
                let visibility = match state & 3 {
                    1 => " (hidden)",
                    2 => " (very hidden)",
                    _ => "",
                };
                sheets.push(format!("{name:?}{visibility}"));
            }
        }
        // The globals substream ends at the first EOF record; sheets follow and are not needed.
        if kind == 0x000A && !sheets.is_empty() {
            break;
        }
    }
    if !sheets.is_empty() {
        w.observe(
            ObservationKind::XlmMacro,
            path,
            depth,
            format!("Excel 4.0 macro sheet(s): {}", sheets.join(", ")),
        );
    }
}

fn zip_entry<R: Read + Seek>(
    w: &mut Walker<'_>,
    archive: &mut zip::ZipArchive<R>,
    index: usize,
    path: &[String],
    depth: usize,
) -> Option<Vec<u8>> {
    let file = archive.by_index(index).ok()?;
    let (size, compressed) = (file.size(), file.compressed_size());
    w.read_bounded(file, size, compressed, path, depth)
}

/// Relationship types whose external target is fetched when the document opens.
const LOADED_ON_OPEN: &[&str] = &["attachedtemplate", "oleobject", "frame", "subdocument"];

/// Analyses an Office Open XML package.
pub(crate) fn ooxml<R: Read + Seek>(
    w: &mut Walker<'_>,
    path: &[String],
    archive: &mut zip::ZipArchive<R>,
    names: &[String],
    depth: usize,
) {
    let mut xlm_sheets = Vec::new();
    let mut dde_reported = false;
    for (i, name) in names.iter().enumerate() {
        let lower = name.to_ascii_lowercase();
        let mut part_path = path.to_vec();
        part_path.push(name.clone());
        if lower.ends_with(".rels") {
            let Some(xml) = zip_entry(w, archive, i, &part_path, depth + 1) else {
                continue;
            };
            relationships(w, path, depth, name, &String::from_utf8_lossy(&xml));
        } else if lower.starts_with("xl/macrosheets/") {
            xlm_sheets.push(name.clone());
        } else if lower.ends_with("vbaproject.bin")
            || lower.contains("/embeddings/")
            || lower.contains("/activex/") && lower.ends_with(".bin")
        {
            if !w.may_descend(path, depth) {
                continue;
            }
            if let Some(bytes) = zip_entry(w, archive, i, &part_path, depth + 1) {
                let leaf = name.rsplit('/').next().unwrap_or(name).to_string();
                if lower.contains("/embeddings/") {
                    w.observe(
                        ObservationKind::EmbeddedObject,
                        path,
                        depth,
                        format!("embedded object {name:?}"),
                    );
                }
                w.child(path, depth, leaf, &bytes);
            }
        } else if !dde_reported
            && (lower == "word/document.xml"
                || lower.starts_with("xl/externallinks/")
                || lower.starts_with("word/header")
                || lower.starts_with("word/footer"))
        {
            let Some(xml) = zip_entry(w, archive, i, &part_path, depth + 1) else {
                continue;
            };
            let found = if lower.ends_with(".bin") {
                dde_in_biff12(&xml)
            } else {
                dde_in_xml(&xml)
            };
            if let Some(detail) = found {
                w.observe(
                    ObservationKind::Dde,
                    path,
                    depth,
                    format!("{detail} in {name}"),
                );
                dde_reported = true;
            }
        } else if lower == "xl/workbook.xml"
            && let Some(xml) = zip_entry(w, archive, i, &part_path, depth + 1)
            && memchr::memmem::find(&xml, b"_xlnm.Auto_Open").is_some()
        {
            xlm_sheets.push("defined name Auto_Open".to_string());
        }
    }
    if !xlm_sheets.is_empty() {
        w.observe(
            ObservationKind::XlmMacro,
            path,
            depth,
            format!("Excel 4.0 macro sheet(s): {}", xlm_sheets.join(", ")),
        );
    }
}

/// Analyses an OpenDocument package: macros (Basic) and embedded objects.
pub(crate) fn opendocument<R: Read + Seek>(
    w: &mut Walker<'_>,
    path: &[String],
    archive: &mut zip::ZipArchive<R>,
    names: &[String],
    depth: usize,
) {
    let basic: Vec<&String> = names
        .iter()
        .filter(|n| {
            n.starts_with("Basic/")
                && n.ends_with(".xml")
                && !n.ends_with("script-lc.xml")
                && !n.ends_with("script-lb.xml")
        })
        .collect();
    if !basic.is_empty() {
        let mut source = String::new();
        for n in &basic {
            if let Some(i) = names.iter().position(|x| x == *n) {
                let mut p = path.to_vec();
                p.push((*n).clone());
                if let Some(b) = zip_entry(w, archive, i, &p, depth + 1) {
                    source.push_str(&String::from_utf8_lossy(&b));
                }
            }
        }
        w.observe(
            ObservationKind::VbaMacro,
            path,
            depth,
            format!("OpenDocument Basic macros: {}", basic.len()),
        );
        let found = vba::analyse_source(&source);
        if !found.suspicious.is_empty() {
            w.observe(
                ObservationKind::VbaSuspicious,
                path,
                depth,
                format!("suspicious calls: {}", found.suspicious.join(", ")),
            );
        }
    }
    for (i, name) in names.iter().enumerate() {
        if name.starts_with("Object ") && !name.ends_with(".xml") && !name.ends_with('/') {
            if !w.may_descend(path, depth) {
                return;
            }
            let mut p = path.to_vec();
            p.push(name.clone());
            if let Some(bytes) = zip_entry(w, archive, i, &p, depth + 1) {
                w.observe(
                    ObservationKind::EmbeddedObject,
                    path,
                    depth,
                    format!("embedded object {name:?}"),
                );
                w.child(path, depth, name.clone(), &bytes);
            }
        }
    }
}

pub(crate) fn dde_in_xml(xml: &[u8]) -> Option<String> {
    let m = DDE_MATCHER.as_ref()?;
    if let Some(hit) = m.find(xml) {
        return Some(format!(
            "DDE field ({:?})",
            String::from_utf8_lossy(&xml[hit.start()..(hit.end() + 40).min(xml.len())])
        ));
    }
    // Field codes split over runs: join instrText contents and look again.
    memchr::memmem::find(xml, b"instrText")?;
    let text = String::from_utf8_lossy(xml);
    let mut joined = String::new();
    for piece in text.split("<w:instrText").skip(1) {
        if let Some(start) = piece.find('>')
            && let Some(end) = piece.find("</w:instrText>")
            && start < end
        {
            joined.push_str(&piece[start + 1..end]);
        }
    }
    let upper = joined.to_ascii_uppercase();
    let trimmed = upper.trim_start();
    (trimmed.starts_with("DDE") || upper.contains(" DDEAUTO ") || upper.contains(" DDE ")).then(
        || {
            format!(
                "DDE field ({:?})",
                joined.chars().take(80).collect::<String>()
            )
        },
    )
}

/// BIFF12 record `BrtBeginSupBook` (MS-XLSB 2.4.294): the start of an external link in an `.xlsb` workbook.
const BRT_BEGIN_SUP_BOOK: u32 = 0x168;

/// DDE links in a binary workbook's external link part (`xl/externalLinks/*.bin`): a `BrtBeginSupBook` of type
/// DDE (1) names the server and topic, e.g. `cmd` and `/c calc.exe`.
pub fn dde_in_biff12(data: &[u8]) -> Option<String> {
    let mut at = 0usize;
    for _ in 0..100_000 {
        // Record type: 1–2 bytes, size: 1–4 bytes, 7 bits each, high bit = more (MS-XLSB 2.1.4).
        let (id, n) = biff12_varint(data.get(at..)?, 2)?;
        at += n;
        let (size, n) = biff12_varint(data.get(at..)?, 4)?;
        at += n;
        let body = data.get(at..at.checked_add(size as usize)?)?;
        at += size as usize;
        if id == BRT_BEGIN_SUP_BOOK && body.get(..2) == Some(&[1, 0]) {
            let (service, rest) = xl_wide_string(&body[2..])?;
            let topic = xl_wide_string(rest).map(|t| t.0).unwrap_or_default();
            return Some(format!("DDE link {service}|'{topic}' in a binary workbook"));
        }
    }
    None
}

fn biff12_varint(data: &[u8], max_bytes: usize) -> Option<(u32, usize)> {
    let mut value = 0u32;
    for (i, &b) in data.iter().take(max_bytes).enumerate() {
        value |= u32::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// `XLWideString`: a u32 count of UTF-16 code units and the units; the rest of the bytes after it.
fn xl_wide_string(data: &[u8]) -> Option<(String, &[u8])> {
    let count = u32::from_le_bytes(data.get(..4)?.try_into().ok()?) as usize;
    let bytes = data.get(4..4 + count.checked_mul(2)?)?;
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    Some((String::from_utf16_lossy(&units), &data[4 + bytes.len()..]))
}

/// Reads `<Relationship … TargetMode="External">` targets of a `.rels` part.
pub(crate) fn relationships(
    w: &mut Walker<'_>,
    path: &[String],
    depth: usize,
    part: &str,
    xml: &str,
) {
    for rel in xml.split("<Relationship ").skip(1).take(10_000) {
        let rel = rel.split('>').next().unwrap_or(rel);
        let attr = |name: &str| -> Option<String> {
            let at = rel.find(&format!("{name}=\""))? + name.len() + 2;
            let end = rel[at..].find('"')? + at;
            Some(decode_xml_entities(&rel[at..end]))
        };
        if !attr("TargetMode").is_some_and(|m| m.eq_ignore_ascii_case("External")) {
            continue;
        }
        let Some(target) = attr("Target") else {
            continue;
        };
        let rel_type = attr("Type").unwrap_or_default();
        let short_type = rel_type
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        w.url(&target, path, UrlSource::OfficeRelationship);
        if LOADED_ON_OPEN.contains(&short_type.as_str())
            && !target.to_ascii_lowercase().starts_with("mailto:")
        {
            w.observe(
                ObservationKind::RemoteTemplate,
                path,
                depth,
                format!("{short_type} relationship in {part} loads {target:?}"),
            );
        } else {
            w.observe(
                ObservationKind::ExternalLink,
                path,
                depth,
                format!("{short_type} relationship in {part} to {target:?}"),
            );
        }
    }
}

fn decode_xml_entities(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
}
