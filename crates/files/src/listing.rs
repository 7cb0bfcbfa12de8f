//! Archives that are listed but not unpacked (RAR 4 and 5, 7-Zip) and TNEF (`winmail.dat`), which is unpacked.
//!
//! RAR and 7-Zip need their own decompressors (and RAR's licence forbids writing one), so only their headers are
//! read, by hand: entry names (checked like any name) and whether entries or the headers themselves are
//! encrypted — an encrypted RAR or 7z is the same PPAP finding as an encrypted ZIP. TNEF stores attachments
//! uncompressed, so they are extracted and walked.

use crate::report::ObservationKind;
use crate::walk::Walker;

/// Most entries read from one archive's headers.
const MAX_ENTRIES: usize = 10_000;

/// What the headers of a RAR or 7z archive tell.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Listing {
    /// Entry names and whether each is encrypted.
    pub entries: Vec<(String, bool)>,
    /// The headers are encrypted: names are hidden without the password.
    pub headers_encrypted: bool,
    /// The headers could not all be read (truncated or not understood).
    pub incomplete: bool,
}

impl Listing {
    fn encrypted(&self) -> bool {
        self.headers_encrypted || self.entries.iter().any(|e| e.1)
    }
}

/// Reports what a listing shows: names through the name checks, encryption as PPAP.
pub(crate) fn report(
    w: &mut Walker<'_>,
    path: &[String],
    depth: usize,
    kind: &str,
    listing: &Listing,
) {
    for (name, _) in &listing.entries {
        let leaf = name.rsplit(['/', '\\']).next().unwrap_or(name);
        let mut child = path.to_vec();
        child.push(leaf.to_string());
        w.name_only(&child, depth + 1);
    }
    if listing.encrypted() {
        let encrypted: Vec<String> = listing
            .entries
            .iter()
            .filter(|e| e.1)
            .map(|e| format!("{:?}", e.0))
            .collect();
        let detail = if listing.headers_encrypted {
            format!("{kind} archive with encrypted headers (names hidden) cannot be inspected")
        } else {
            format!(
                "{kind} archive: {} encrypted entries ({}) cannot be inspected",
                encrypted.len(),
                encrypted
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        w.observe(ObservationKind::EncryptedArchive, path, depth, detail);
    } else {
        w.observe(
            ObservationKind::UnlistedArchive,
            path,
            depth,
            format!(
                "{kind} archive: {} entries listed{}, not unpacked",
                listing.entries.len(),
                if listing.incomplete {
                    " (headers partly unreadable)"
                } else {
                    ""
                }
            ),
        );
    }
}

/// RAR 5 variable-length integer: 7 bits a byte, low first, high bit = more; at most 10 bytes.
fn vint(data: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for i in 0..10 {
        let b = *data.get(*at)?;
        *at += 1;
        value |= u64::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(data.get(at..at + 8)?.try_into().ok()?))
}

/// Lists a RAR archive (4.x or 5) from its block headers.
pub fn rar(data: &[u8]) -> Listing {
    let mut listing = Listing::default();
    let ok = if data.starts_with(b"Rar!\x1A\x07\x01\x00") {
        rar5(data, &mut listing)
    } else if data.starts_with(b"Rar!\x1A\x07\x00") {
        rar4(data, &mut listing)
    } else {
        None
    };
    listing.incomplete = ok.is_none();
    listing
}

/// RAR 5 (www.rarlab.com/technote.htm): blocks of CRC32, header size, type, flags, optional extra and data
/// sizes. Type 4 is the archive encryption header (all later headers encrypted); type 2 a file whose extra area
/// may hold an encryption record (type 1).
fn rar5(data: &[u8], listing: &mut Listing) -> Option<()> {
    let mut at = 8usize;
    while at < data.len() && listing.entries.len() < MAX_ENTRIES {
        at += 4; // header CRC32
        let size = vint(data, &mut at)?;
        let start = at;
        let end = start.checked_add(usize::try_from(size).ok()?)?;
        if end > data.len() || size == 0 {
            return None;
        }
        let kind = vint(data, &mut at)?;
        let flags = vint(data, &mut at)?;
        let extra = if flags & 1 != 0 {
            vint(data, &mut at)?
        } else {
            0
        };
        let data_size = if flags & 2 != 0 {
            vint(data, &mut at)?
        } else {
            0
        };
        match kind {
            4 => {
                listing.headers_encrypted = true;
                return Some(());
            }
            5 => return Some(()),
            2 => {
                let file_flags = vint(data, &mut at)?;
                vint(data, &mut at)?; // unpacked size
                vint(data, &mut at)?; // attributes
                if file_flags & 2 != 0 {
                    at += 4;
                }
                if file_flags & 4 != 0 {
                    at += 4;
                }
                vint(data, &mut at)?; // compression
                vint(data, &mut at)?; // host OS
                let name_len = usize::try_from(vint(data, &mut at)?).ok()?;
                let name = data.get(at..at.checked_add(name_len)?)?;
                let name = String::from_utf8_lossy(name).into_owned();
                let extra_start = end.checked_sub(usize::try_from(extra).ok()?)?;
                let encrypted = extra_records(data.get(extra_start..end)?).contains(&1);
                if file_flags & 1 == 0 {
                    listing.entries.push((name, encrypted));
                }
            }
            _ => {}
        }
        at = end.checked_add(usize::try_from(data_size).ok()?)?;
    }
    Some(())
}

/// Types of the records in a RAR 5 extra area.
fn extra_records(area: &[u8]) -> Vec<u64> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < area.len() && out.len() < 64 {
        let Some(size) = vint(area, &mut at) else {
            break;
        };
        let record_start = at;
        let Some(kind) = vint(area, &mut at) else {
            break;
        };
        out.push(kind);
        let Some(next) = usize::try_from(size)
            .ok()
            .and_then(|s| record_start.checked_add(s))
        else {
            break;
        };
        if next <= record_start {
            break;
        }
        at = next;
    }
    out
}

/// RAR 1.5–4.x: blocks of CRC16, type, flags, header size (and ADD_SIZE when flag 0x8000). The main header's
/// flag 0x80 means encrypted block headers; a file header's flag 0x04 an encrypted entry.
fn rar4(data: &[u8], listing: &mut Listing) -> Option<()> {
    let mut at = 7usize;
    while at < data.len() && listing.entries.len() < MAX_ENTRIES {
        let kind = *data.get(at + 2)?;
        let flags = u16_at(data, at + 3)?;
        let head_size = usize::from(u16_at(data, at + 5)?);
        if head_size < 7 {
            return None;
        }
        let mut add = if flags & 0x8000 != 0 {
            u64::from(u32_at(data, at + 7)?)
        } else {
            0
        };
        match kind {
            0x73 if flags & 0x80 != 0 => {
                listing.headers_encrypted = true;
                return Some(());
            }
            0x74 => {
                let pack = u64::from(u32_at(data, at + 7)?);
                let name_len = usize::from(u16_at(data, at + 26)?);
                let mut name_at = at + 32;
                add = pack;
                if flags & 0x100 != 0 {
                    add |= u64::from(u32_at(data, at + 32)?) << 32;
                    name_at += 8;
                }
                let raw = data.get(name_at..name_at + name_len)?;
                // Unicode names follow the OEM name after a NUL; the OEM part is enough for the checks.
                let raw = raw.split(|&b| b == 0).next().unwrap_or(raw);
                let name = String::from_utf8_lossy(raw).into_owned();
                if flags & 0xE0 != 0xE0 {
                    listing.entries.push((name, flags & 0x04 != 0));
                }
            }
            0x7B => return Some(()),
            _ => {}
        }
        at = at
            .checked_add(head_size)?
            .checked_add(usize::try_from(add).ok()?)?;
    }
    Some(())
}

/// 7-Zip AES-256 + SHA-256 coder id.
const SEVEN_ZIP_AES: &[u8] = &[0x06, 0xF1, 0x07, 0x01];

/// LZMA coder id in 7z.
const SEVEN_ZIP_LZMA: &[u8] = &[0x03, 0x01, 0x01];
/// Largest 7z end header decompressed.
const MAX_7Z_HEADER: u64 = 16 * 1024 * 1024;

/// Reads a 7z archive's end header. 7-Zip usually stores it LZMA-compressed ("encoded"); the coders of an
/// encoded header are stored plainly, so AES there means encrypted headers (`-mhe`, names hidden). An
/// LZMA-only encoded header is decompressed (within 16 MiB) and read like a plain one: AES among the folder
/// coders means encrypted entries (`-p` without `-mhe`), and the `kName` property gives the entry names.
pub fn seven_zip(data: &[u8]) -> Listing {
    let mut listing = Listing::default();
    let header = (|| {
        let offset = usize::try_from(u64_at(data, 12)?).ok()?;
        let size = usize::try_from(u64_at(data, 20)?).ok()?;
        let start = 32usize.checked_add(offset)?;
        data.get(start..start.checked_add(size)?)
    })();
    let Some(header) = header else {
        listing.incomplete = true;
        return listing;
    };
    let decoded;
    let header = match header.first() {
        Some(0x17) if has_aes(header) => {
            listing.headers_encrypted = true;
            return listing;
        }
        Some(0x17) => match decode_7z_header(data, header) {
            Some(h) => {
                decoded = h;
                &decoded[..]
            }
            None => {
                listing.incomplete = true;
                return listing;
            }
        },
        _ => header,
    };
    if header.first() != Some(&0x01) {
        listing.incomplete = true;
        return listing;
    }
    let (files_at, names) = seven_zip_names(header).unwrap_or((header.len(), Vec::new()));
    let aes = has_aes(&header[..files_at]);
    listing.incomplete = names.is_empty();
    listing.entries = names.into_iter().map(|n| (n, aes)).collect();
    if aes && listing.entries.is_empty() {
        listing.entries.push(("(unnamed)".into(), true));
    }
    listing
}

/// True when a 7z coder list holds AES: the id follows a flags byte whose low nibble is the id size (4).
fn has_aes(h: &[u8]) -> bool {
    h.windows(5)
        .any(|w| w[0] & 0x0F == 4 && &w[1..] == SEVEN_ZIP_AES)
}

/// Decompresses an encoded 7z header written the way 7-Zip writes it: `kPackInfo` with one packed stream,
/// `kUnpackInfo` with one folder of one LZMA coder, its unpack size. Anything else is not decoded.
fn decode_7z_header(data: &[u8], h: &[u8]) -> Option<Vec<u8>> {
    let mut at = 1usize;
    let next = |at: &mut usize| -> Option<u8> {
        let b = *h.get(*at)?;
        *at += 1;
        Some(b)
    };
    (next(&mut at)? == 0x06).then_some(())?;
    let pack_pos = seven_zip_number(h, &mut at)?;
    (seven_zip_number(h, &mut at)? == 1).then_some(())?;
    (next(&mut at)? == 0x09).then_some(())?;
    let pack_size = seven_zip_number(h, &mut at)?;
    // Optional kCRC (all-defined byte + CRC) before kEnd.
    if h.get(at) == Some(&0x0A) {
        at += 1;
        let all_defined = next(&mut at)?;
        at += if all_defined == 1 { 4 } else { 5 };
    }
    (next(&mut at)? == 0x00).then_some(())?;
    (next(&mut at)? == 0x07).then_some(())?;
    (next(&mut at)? == 0x0B).then_some(())?;
    (seven_zip_number(h, &mut at)? == 1).then_some(())?; // one folder
    (next(&mut at)? == 0x00).then_some(())?; // not external
    (seven_zip_number(h, &mut at)? == 1).then_some(())?; // one coder
    let flags = next(&mut at)?;
    if flags & 0x10 != 0 {
        return None; // complex coders are not used for headers
    }
    let id = h.get(at..at + usize::from(flags & 0x0F))?;
    at += usize::from(flags & 0x0F);
    let props = if flags & 0x20 != 0 {
        let n = usize::try_from(seven_zip_number(h, &mut at)?).ok()?;
        let p = h.get(at..at.checked_add(n)?)?;
        at += n;
        p
    } else {
        &[]
    };
    if id != SEVEN_ZIP_LZMA || props.len() != 5 {
        return None;
    }
    (next(&mut at)? == 0x0C).then_some(())?;
    let unpack_size = seven_zip_number(h, &mut at)?;
    if unpack_size > MAX_7Z_HEADER {
        return None;
    }
    let start = usize::try_from(pack_pos).ok()?.checked_add(32)?;
    let packed = data.get(start..start.checked_add(usize::try_from(pack_size).ok()?)?)?;
    // lzma-rs reads the 5 property bytes as the stream header; the size is given, not read.
    let mut input = props.to_vec();
    input.extend_from_slice(packed);
    let options = lzma_rs::decompress::Options {
        unpacked_size: lzma_rs::decompress::UnpackedSize::UseProvided(Some(unpack_size)),
        memlimit: Some(64 * 1024 * 1024),
        allow_incomplete: false,
    };
    let mut out = Vec::new();
    lzma_rs::lzma_decompress_with_options(&mut &input[..], &mut out, &options).ok()?;
    Some(out)
}

/// Entry names in a plain 7z header, and where its `kFilesInfo` starts. `kFilesInfo` (0x05) is the last part
/// of a header, so a candidate counts only when its property list ends exactly at the header's end; the
/// `kName` (0x11) property holds NUL-terminated UTF-16LE names after an "external" byte.
fn seven_zip_names(header: &[u8]) -> Option<(usize, Vec<String>)> {
    'candidates: for start in (1..header.len()).filter(|&i| header[i] == 0x05) {
        let mut at = start + 1;
        let Some(count) = seven_zip_number(header, &mut at) else {
            continue;
        };
        if count == 0 || count > MAX_ENTRIES as u64 {
            continue;
        }
        let mut names = None;
        for _ in 0..64 {
            let Some(id) = seven_zip_number(header, &mut at) else {
                continue 'candidates;
            };
            if id == 0 {
                // kEnd of FilesInfo, then kEnd of the header, then nothing.
                if at + 1 == header.len()
                    && header[at] == 0
                    && let Some(names) = names
                {
                    return Some((start, names));
                }
                continue 'candidates;
            }
            let Some(size) = seven_zip_number(header, &mut at) else {
                continue 'candidates;
            };
            let Some(body) = usize::try_from(size)
                .ok()
                .and_then(|s| header.get(at..at.checked_add(s)?))
            else {
                continue 'candidates;
            };
            at += body.len();
            if id == 0x11
                && let Some((&0, units)) = body.split_first()
            {
                let units: Vec<u16> = units
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .collect();
                names = Some(
                    units
                        .split(|&u| u == 0)
                        .filter(|n| !n.is_empty())
                        .take(MAX_ENTRIES)
                        .map(String::from_utf16_lossy)
                        .collect(),
                );
            }
        }
    }
    None
}

/// 7z `NUMBER`: the first byte's leading one bits tell how many more bytes follow.
fn seven_zip_number(data: &[u8], at: &mut usize) -> Option<u64> {
    let first = *data.get(*at)?;
    *at += 1;
    let extra = first.leading_ones() as usize;
    let mut value = 0u64;
    for i in 0..extra.min(8) {
        value |= u64::from(*data.get(*at)?) << (8 * i);
        *at += 1;
    }
    if extra < 8 {
        let high = u64::from(first & (0xFFu8.checked_shr(extra as u32 + 1).unwrap_or(0)));
        value |= high << (8 * extra);
    }
    Some(value)
}

/// TNEF signature (`winmail.dat`).
pub const TNEF_SIGNATURE: &[u8] = &[0x78, 0x9F, 0x3E, 0x22];

/// TNEF attributes (MS-OXTNEF 2.1.3.3): attachment rendering data starts an attachment, then its title (file
/// name) and data.
const ATT_ATTACH_REND_DATA: u32 = 0x0006_9002;
const ATT_ATTACH_TITLE: u32 = 0x0001_8010;
const ATT_ATTACH_DATA: u32 = 0x0006_800F;

/// The attachments of a TNEF stream: (file name, bytes), at most `max_files`, each within `max_bytes`
/// (bigger ones are skipped); `None` when the stream is not TNEF.
pub fn tnef(data: &[u8], max_files: usize, max_bytes: u64) -> Option<Vec<(String, &[u8])>> {
    if !data.starts_with(TNEF_SIGNATURE) {
        return None;
    }
    let mut out: Vec<(String, &[u8])> = Vec::new();
    let mut current: Option<(String, &[u8])> = None;
    let mut at = 6usize; // signature + legacy key
    while at < data.len() {
        let Some(id) = u32_at(data, at + 1) else {
            break;
        };
        let Some(len) = u32_at(data, at + 5) else {
            break;
        };
        let start = at + 9;
        let Some(value) = start
            .checked_add(len as usize)
            .and_then(|end| data.get(start..end))
        else {
            break;
        };
        match id {
            ATT_ATTACH_REND_DATA => {
                out.extend(current.take().filter(|c| !c.1.is_empty()));
                current = Some((String::new(), &[]));
            }
            ATT_ATTACH_TITLE => {
                let name = value.split(|&b| b == 0).next().unwrap_or(value);
                let entry = current.get_or_insert((String::new(), &[]));
                entry.0 = String::from_utf8_lossy(name).into_owned();
            }
            ATT_ATTACH_DATA if (value.len() as u64) <= max_bytes => {
                current.get_or_insert((String::new(), &[])).1 = value;
            }
            _ => {}
        }
        if out.len() >= max_files {
            break;
        }
        at = start + value.len() + 2; // value and its checksum
    }
    out.extend(current.filter(|c| !c.1.is_empty()));
    out.truncate(max_files);
    for (i, entry) in out.iter_mut().enumerate() {
        if entry.0.is_empty() {
            entry.0 = format!("attachment {}", i + 1);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rar5_block(kind: u8, flags: u8, body: &[u8], extra: &[u8]) -> Vec<u8> {
        // Header: type, flags, [extra size], body, extra; sizes below 128 fit one vint byte.
        let mut header = vec![kind, flags | if extra.is_empty() { 0 } else { 1 }];
        if !extra.is_empty() {
            header.push(extra.len() as u8);
        }
        header.extend(body);
        header.extend(extra);
        let mut block = vec![0, 0, 0, 0, header.len() as u8];
        block.extend(header);
        block
    }

    fn rar5_file(name: &str, encrypted: bool) -> Vec<u8> {
        // file flags 0, unpacked size 0, attributes 0, compression 0, host 0, name.
        let mut body = vec![0, 0, 0, 0, 0, name.len() as u8];
        body.extend(name.as_bytes());
        let extra: &[u8] = if encrypted { &[2, 1, 0] } else { &[] };
        rar5_block(2, 0, &body, extra)
    }

    #[test]
    fn rar5_lists_names_and_encryption() {
        let mut data = b"Rar!\x1A\x07\x01\x00".to_vec();
        data.extend(rar5_block(1, 0, &[0], &[]));
        data.extend(rar5_file("請求書.pdf.exe", true));
        data.extend(rar5_file("readme.txt", false));
        data.extend(rar5_block(5, 0, &[0], &[]));
        let l = rar(&data);
        assert_eq!(
            l.entries,
            vec![
                ("請求書.pdf.exe".into(), true),
                ("readme.txt".into(), false)
            ]
        );
        assert!(!l.headers_encrypted && !l.incomplete);

        let mut hidden = b"Rar!\x1A\x07\x01\x00".to_vec();
        hidden.extend(rar5_block(4, 0, &[0, 0], &[]));
        assert!(rar(&hidden).headers_encrypted);
        // Truncated and junk input end without a panic.
        for cut in 0..data.len() {
            let _ = rar(&data[..cut]);
        }
        assert!(
            rar(b"Rar!\x1A\x07\x01\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff").incomplete
        );
    }

    fn rar4_file(name: &str, flags: u16) -> Vec<u8> {
        let mut b = vec![0, 0, 0x74];
        b.extend((flags | 0x8000).to_le_bytes());
        b.extend(((32 + name.len()) as u16).to_le_bytes());
        b.extend(3u32.to_le_bytes()); // packed size
        b.extend(3u32.to_le_bytes()); // unpacked size
        b.extend([0u8; 1 + 4 + 4 + 1 + 1]);
        b.extend((name.len() as u16).to_le_bytes());
        b.extend([0u8; 4]);
        b.extend(name.as_bytes());
        b.extend(b"abc");
        b
    }

    #[test]
    fn rar4_lists_names_and_encryption() {
        let mut data = b"Rar!\x1A\x07\x00".to_vec();
        data.extend([0, 0, 0x73, 0, 0, 13, 0, 0, 0, 0, 0, 0, 0]);
        data.extend(rar4_file("a.js", 0x04));
        data.extend(rar4_file("b.txt", 0));
        let l = rar(&data);
        assert_eq!(
            l.entries,
            vec![("a.js".into(), true), ("b.txt".into(), false)]
        );
        let mut hidden = b"Rar!\x1A\x07\x00".to_vec();
        hidden.extend([0, 0, 0x73, 0x80, 0, 13, 0, 0, 0, 0, 0, 0, 0]);
        assert!(rar(&hidden).headers_encrypted);
    }

    fn seven_zip_archive(header: &[u8]) -> Vec<u8> {
        let mut d = b"7z\xBC\xAF\x27\x1C\x00\x04".to_vec();
        d.extend([0; 4]);
        d.extend(0u64.to_le_bytes());
        d.extend((header.len() as u64).to_le_bytes());
        d.extend([0; 4]);
        d.extend(header);
        d
    }

    #[test]
    fn seven_zip_tells_encryption_and_plain_names() {
        // Encoded header whose coder is AES: encrypted headers.
        let encoded = [
            0x17, 0x06, 0x00, 0x01, 0x0B, 0x01, 0x00, 0x24, 0x06, 0xF1, 0x07, 0x01,
        ];
        let l = seven_zip(&seven_zip_archive(&encoded));
        assert!(l.headers_encrypted);
        // Encoded header with LZMA (03 01 01): not known.
        let lzma = [
            0x17, 0x06, 0x00, 0x01, 0x0B, 0x01, 0x00, 0x23, 0x03, 0x01, 0x01, 0x05,
        ];
        let l = seven_zip(&seven_zip_archive(&lzma));
        assert!(!l.headers_encrypted && l.incomplete);
        // Plain header with an AES folder and names "a.exe", "b".
        let mut plain = vec![
            0x01, 0x04, 0x07, 0x0B, 0x01, 0x00, 0x24, 0x06, 0xF1, 0x07, 0x01,
        ];
        let names: Vec<u8> = "a.exe\0b\0"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        plain.extend([0x05, 0x02, 0x11, (names.len() + 1) as u8, 0x00]);
        plain.extend(&names);
        plain.extend([0x00, 0x00]);
        // The LZMA-encoded header above is not decodable: listed as incomplete, nothing invented.
        assert!(seven_zip(&seven_zip_archive(&lzma)).entries.is_empty());
        let l = seven_zip(&seven_zip_archive(&plain));
        assert_eq!(l.entries, vec![("a.exe".into(), true), ("b".into(), true)]);
        for cut in 0..40 {
            let _ = seven_zip(&seven_zip_archive(&plain)[..cut]);
        }
    }

    #[test]
    fn seven_zip_lzma_header_is_decoded() {
        // A plain header (AES folder, names "x.js") compressed with LZMA, as 7-Zip writes it with `-p`.
        let mut plain = vec![
            0x01, 0x04, 0x07, 0x0B, 0x01, 0x00, 0x24, 0x06, 0xF1, 0x07, 0x01,
        ];
        let names: Vec<u8> = "x.js\0"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        plain.extend([0x05, 0x01, 0x11, (names.len() + 1) as u8, 0x00]);
        plain.extend(&names);
        plain.extend([0x00, 0x00]);
        let mut lz = Vec::new();
        lzma_rs::lzma_compress(&mut &plain[..], &mut lz).unwrap();
        let (props, packed) = (&lz[..5], &lz[13..]);
        assert!(packed.len() < 128);
        let mut encoded = vec![0x17, 0x06, 0x00, 0x01, 0x09, packed.len() as u8, 0x00];
        encoded.extend([0x07, 0x0B, 0x01, 0x00, 0x01, 0x23, 0x03, 0x01, 0x01, 0x05]);
        encoded.extend(props);
        encoded.extend([0x0C, plain.len() as u8, 0x00, 0x00]);
        let mut d = b"7z\xBC\xAF\x27\x1C\x00\x04".to_vec();
        d.extend([0; 4]);
        d.extend((packed.len() as u64).to_le_bytes());
        d.extend((encoded.len() as u64).to_le_bytes());
        d.extend([0; 4]);
        d.extend(packed);
        d.extend(&encoded);
        let l = seven_zip(&d);
        assert_eq!(l.entries, vec![("x.js".into(), true)]);
        assert!(!l.headers_encrypted);
        // Corrupt packed bytes: not listed, no panic.
        let mut bad = d.clone();
        for b in &mut bad[32..32 + packed.len()] {
            *b ^= 0x5A;
        }
        assert!(seven_zip(&bad).entries.is_empty() || seven_zip(&bad).incomplete);
    }

    fn tnef_attr(level: u8, id: u32, value: &[u8]) -> Vec<u8> {
        let mut a = vec![level];
        a.extend(id.to_le_bytes());
        a.extend((value.len() as u32).to_le_bytes());
        a.extend(value);
        a.extend([0, 0]);
        a
    }

    #[test]
    fn tnef_yields_attachments_within_limits() {
        let mut d = TNEF_SIGNATURE.to_vec();
        d.extend([0, 0]);
        d.extend(tnef_attr(1, 0x0007_8008, b"IPM.Microsoft Mail.Note\0"));
        for (name, body) in [("invoice.exe\0", &b"MZ payload"[..]), ("b.txt\0", b"hello")] {
            d.extend(tnef_attr(2, ATT_ATTACH_REND_DATA, &[0; 14]));
            d.extend(tnef_attr(2, ATT_ATTACH_TITLE, name.as_bytes()));
            d.extend(tnef_attr(2, ATT_ATTACH_DATA, body));
        }
        let files = tnef(&d, 10, 1 << 20).unwrap();
        assert_eq!(
            files,
            vec![
                ("invoice.exe".to_string(), &b"MZ payload"[..]),
                ("b.txt".to_string(), &b"hello"[..])
            ]
        );
        assert_eq!(tnef(&d, 1, 1 << 20).unwrap().len(), 1);
        assert_eq!(
            tnef(&d, 10, 5).unwrap(),
            vec![("b.txt".to_string(), &b"hello"[..])]
        );
        assert!(tnef(b"not tnef", 10, 10).is_none());
        for cut in 0..d.len() {
            let _ = tnef(&d[..cut], 10, 1 << 20);
        }
    }
}
