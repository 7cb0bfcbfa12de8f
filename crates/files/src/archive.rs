//! Containers: ZIP (with encrypted-entry detection and password attempts), gzip, tar and ISO 9660 images.

use std::io::Cursor;

use crate::office;
use crate::report::{ObservationKind, display_path};
use crate::walk::Walker;

/// Most entries listed from one container, whatever `max_files` says (listing itself costs memory).
const MAX_LISTED: usize = 100_000;

/// Decodes a ZIP entry name: UTF-8 when valid, otherwise Shift_JIS (Japanese archivers) or CP437-ish Latin.
fn entry_name(raw: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(raw) {
        return s.to_string();
    }
    let (sjis, _, bad) = encoding_rs::SHIFT_JIS.decode(raw);
    if !bad {
        return sjis.into_owned();
    }
    String::from_utf8_lossy(raw).into_owned()
}

/// Last path component of an entry name.
fn leaf(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

pub(crate) fn zip(w: &mut Walker<'_>, path: &[String], data: &[u8], depth: usize) {
    let mut archive = match zip::ZipArchive::new(Cursor::new(data)) {
        Ok(a) => a,
        Err(e) => {
            w.observe(
                ObservationKind::MalformedArchive,
                path,
                depth,
                format!("{}: not a readable ZIP ({e})", display_path(path)),
            );
            return;
        }
    };
    let names: Vec<String> = (0..archive.len().min(MAX_LISTED))
        .map(|i| {
            archive
                .by_index_data(i)
                .map(|e| entry_name(e.name_raw()))
                .unwrap_or_default()
        })
        .collect();
    if names.iter().any(|n| n == "[Content_Types].xml") {
        office::ooxml(w, path, &mut archive, &names, depth);
        return;
    }
    if names.iter().any(|n| n == "mimetype") && names.iter().any(|n| n == "content.xml") {
        office::opendocument(w, path, &mut archive, &names, depth);
        return;
    }
    if !w.may_descend(path, depth) {
        return;
    }
    let mut encrypted = Vec::new();
    let mut opened_with = None;
    for (i, name) in names.iter().enumerate() {
        let Ok(entry) = archive.by_index_data(i) else {
            continue;
        };
        if entry.is_dir() {
            continue;
        }
        let (size, compressed, is_encrypted) =
            (entry.size(), entry.compressed_size(), entry.encrypted());
        let mut child_path = path.to_vec();
        child_path.push(leaf(name).to_string());
        if is_encrypted {
            encrypted.push(name.clone());
            let mut content = None;
            for password in &w.options.passwords {
                let Ok(file) = archive.by_index_decrypt(i, password.as_bytes()) else {
                    continue;
                };
                // A wrong ZipCrypto password passes the header check 1 time in 256; the CRC at the end tells.
                let mut probe = Walker::new(w.options);
                if let Some(bytes) =
                    probe.read_bounded(file, size, compressed, &child_path, depth + 1)
                {
                    content = Some(bytes);
                    opened_with = Some(password.clone());
                    break;
                }
            }
            match content {
                Some(bytes) => w.child(path, depth, leaf(name).to_string(), &bytes),
                None => w.name_only(&child_path, depth + 1),
            }
            continue;
        }
        let file = match archive.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                w.observe(
                    ObservationKind::MalformedArchive,
                    &child_path,
                    depth + 1,
                    format!("{}: {e}", display_path(&child_path)),
                );
                continue;
            }
        };
        if let Some(bytes) = w.read_bounded(file, size, compressed, &child_path, depth + 1) {
            w.child(path, depth, leaf(name).to_string(), &bytes);
        }
    }
    if !encrypted.is_empty() {
        let listed = encrypted
            .iter()
            .take(5)
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        match opened_with {
            Some(_) => w.observe(
                ObservationKind::ArchivePasswordOpened,
                path,
                depth,
                format!(
                    "{} encrypted entries ({listed}) opened with a password given in the message",
                    encrypted.len()
                ),
            ),
            None => w.observe(
                ObservationKind::EncryptedArchive,
                path,
                depth,
                format!(
                    "{} encrypted entries ({listed}) cannot be inspected",
                    encrypted.len()
                ),
            ),
        }
    }
}

pub(crate) fn gzip(w: &mut Walker<'_>, path: &[String], data: &[u8], depth: usize) {
    if !w.may_descend(path, depth) {
        return;
    }
    let decoder = flate2::read::MultiGzDecoder::new(data);
    let inner_name = decoder
        .header()
        .and_then(|h| h.filename())
        .map(|n| String::from_utf8_lossy(n).into_owned());
    let outer = path.last().map(String::as_str).unwrap_or("");
    let name = inner_name.unwrap_or_else(|| {
        let lower = outer.to_ascii_lowercase();
        if lower.ends_with(".tgz") {
            format!("{}.tar", &outer[..outer.len() - 4])
        } else if lower.ends_with(".gz") {
            outer[..outer.len() - 3].to_string()
        } else {
            format!("{outer} (decompressed)")
        }
    });
    let mut child_path = path.to_vec();
    child_path.push(name.clone());
    if let Some(bytes) = w.read_bounded(decoder, 0, data.len() as u64, &child_path, depth + 1) {
        w.child(path, depth, name, &bytes);
    }
}

pub(crate) fn tar(w: &mut Walker<'_>, path: &[String], data: &[u8], depth: usize) {
    if !w.may_descend(path, depth) {
        return;
    }
    let mut archive = tar::Archive::new(data);
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => {
            w.observe(
                ObservationKind::MalformedArchive,
                path,
                depth,
                format!("tar: {e}"),
            );
            return;
        }
    };
    for (n, entry) in entries.enumerate() {
        if n >= MAX_LISTED {
            break;
        }
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                w.observe(
                    ObservationKind::MalformedArchive,
                    path,
                    depth,
                    format!("{}: tar entry {n}: {e}", display_path(path)),
                );
                break;
            }
        };
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry
            .path()
            .map(|p| leaf(&p.to_string_lossy()).to_string())
            .unwrap_or_else(|_| format!("entry {n}"));
        let size = entry.size();
        let mut child_path = path.to_vec();
        child_path.push(name.clone());
        // Stored, not compressed: the ratio limit does not apply (compressed size = declared size).
        if let Some(bytes) = w.read_bounded(entry, size, size, &child_path, depth + 1) {
            w.child(path, depth, name, &bytes);
        }
    }
}

const SECTOR: usize = 2048;

/// Lists and reads the files of an ISO 9660 image (primary volume descriptor, no Joliet/Rock Ridge names).
pub(crate) fn iso(w: &mut Walker<'_>, path: &[String], data: &[u8], depth: usize) {
    if !w.may_descend(path, depth) {
        return;
    }
    let pvd = 16 * SECTOR;
    let Some(root) = data.get(pvd + 156..pvd + 156 + 34) else {
        w.observe(
            ObservationKind::MalformedArchive,
            path,
            depth,
            "ISO image without a root directory",
        );
        return;
    };
    let mut dirs = vec![(le32(root, 2), le32(root, 10))];
    let mut visited = std::collections::HashSet::new();
    let mut files = 0usize;
    while let Some((extent, len)) = dirs.pop() {
        if !visited.insert(extent) || visited.len() > 10_000 {
            continue;
        }
        let start = extent as usize * SECTOR;
        let Some(dir) = data.get(start..start.saturating_add(len as usize).min(data.len())) else {
            w.observe(
                ObservationKind::MalformedArchive,
                path,
                depth,
                "ISO directory outside the image",
            );
            continue;
        };
        let mut off = 0;
        while off < dir.len() {
            let rec_len = dir[off] as usize;
            if rec_len == 0 {
                // Records do not cross sectors; skip to the next one.
                off = (off / SECTOR + 1) * SECTOR;
                continue;
            }
            let Some(rec) = dir.get(off..off + rec_len) else {
                break;
            };
            off += rec_len;
            if rec.len() < 34 {
                continue;
            }
            let name_len = rec[32] as usize;
            let Some(raw_name) = rec.get(33..33 + name_len) else {
                continue;
            };
            if raw_name == [0] || raw_name == [1] {
                continue;
            }
            let (child_extent, child_len, flags) = (le32(rec, 2), le32(rec, 10), rec[25]);
            if flags & 2 != 0 {
                dirs.push((child_extent, child_len));
                continue;
            }
            files += 1;
            if files > MAX_LISTED {
                return;
            }
            let name = String::from_utf8_lossy(raw_name);
            let name = name.split(';').next().unwrap_or(&name).to_string();
            let begin = child_extent as usize * SECTOR;
            let end = begin.saturating_add(child_len as usize);
            let mut child_path = path.to_vec();
            child_path.push(name.clone());
            match data.get(begin..end) {
                Some(content) => {
                    if let Some(bytes) = w.read_bounded(
                        content,
                        child_len as u64,
                        child_len as u64,
                        &child_path,
                        depth + 1,
                    ) {
                        w.child(path, depth, name, &bytes);
                    }
                }
                None => w.observe(
                    ObservationKind::MalformedArchive,
                    &child_path,
                    depth + 1,
                    format!("{name:?} lies outside the image"),
                ),
            }
        }
    }
}

fn le32(b: &[u8], off: usize) -> u32 {
    b.get(off..off + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .unwrap_or(0)
}
