//! OneNote sections: files embedded with FileDataStoreObject structures (MS-ONESTORE 2.6.13), extracted and
//! walked (OneNote lures carry .hta, .cmd, .lnk and .exe payloads behind a "double-click to view" picture).

use crate::report::ObservationKind;
use crate::walk::Walker;

/// FileDataStoreObject header GUID {BDE316E7-2665-4511-A4C4-8D4D0B7A9EAC}.
const FILE_DATA_GUID: &[u8] = &[
    0xE7, 0x16, 0xE3, 0xBD, 0x65, 0x26, 0x11, 0x45, 0xA4, 0xC4, 0x8D, 0x4D, 0x0B, 0x7A, 0x9E, 0xAC,
];
/// Most embedded files extracted.
const MAX_EMBEDDED: usize = 256;

pub(crate) fn analyse(w: &mut Walker<'_>, path: &[String], data: &[u8], depth: usize) {
    let mut found = 0;
    for at in memchr::memmem::find_iter(data, FILE_DATA_GUID) {
        if found >= MAX_EMBEDDED {
            break;
        }
        // guidHeader (16), cbLength (8), unused (4), reserved (8), FileData.
        let Some(len_bytes) = data.get(at + 16..at + 24) else {
            break;
        };
        let mut le = [0u8; 8];
        le.copy_from_slice(len_bytes);
        let len = u64::from_le_bytes(le);
        let start = at + 36;
        let Some(end) = usize::try_from(len).ok().and_then(|l| start.checked_add(l)) else {
            continue;
        };
        let Some(payload) = data.get(start..end.min(data.len())) else {
            continue;
        };
        found += 1;
        w.child(path, depth, format!("embedded file {found}"), payload);
    }
    if found > 0 {
        w.observe(
            ObservationKind::OneNoteEmbedded,
            path,
            depth,
            format!("{found} embedded file(s)"),
        );
    }
}
