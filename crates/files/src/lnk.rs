//! Windows shortcuts (MS-SHLLINK): the target path and arguments, and whether they run a command interpreter,
//! script host or other living-off-the-land binary, or fetch a URL.

use crate::report::{ObservationKind, UrlSource};
use crate::walk::Walker;

/// Programs a shortcut should not be starting from an e-mail attachment.
const LOLBINS: &[&str] = &[
    "cmd.exe",
    "cmd ",
    "powershell",
    "pwsh",
    "mshta",
    "wscript",
    "cscript",
    "rundll32",
    "regsvr32",
    "certutil",
    "bitsadmin",
    "msiexec",
    "curl",
    "wmic",
    "schtasks",
    "forfiles",
    "conhost",
    "explorer.exe http",
];

/// What a shortcut points at.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Shortcut {
    /// Local base path or relative path of the target.
    pub target: String,
    /// Command-line arguments.
    pub arguments: String,
    /// Icon location (often set to a document icon to disguise the shortcut).
    pub icon: String,
}

/// Parses a shell link; `None` when the header is not one.
pub fn parse(data: &[u8]) -> Option<Shortcut> {
    if data.len() < 0x4C || data[0] != 0x4C {
        return None;
    }
    let flags = u32::from_le_bytes([data[0x14], data[0x15], data[0x16], data[0x17]]);
    let mut pos = 0x4C;
    let mut out = Shortcut::default();
    if flags & 0x01 != 0 {
        let len = u16::from_le_bytes([*data.get(pos)?, *data.get(pos + 1)?]) as usize;
        pos += 2 + len;
    }
    if flags & 0x02 != 0 {
        let info = data.get(pos..pos + 4)?;
        let size = u32::from_le_bytes([info[0], info[1], info[2], info[3]]) as usize;
        let block = data.get(pos..pos.checked_add(size)?)?;
        if block.len() >= 0x1C {
            let base_off =
                u32::from_le_bytes([block[0x10], block[0x11], block[0x12], block[0x13]]) as usize;
            if let Some(rest) = block.get(base_off..) {
                let end = memchr::memchr(0, rest).unwrap_or(rest.len());
                out.target = String::from_utf8_lossy(&rest[..end]).into_owned();
            }
        }
        pos += size;
    }
    let unicode = flags & 0x80 != 0;
    let read_string = |pos: &mut usize| -> Option<String> {
        let count = u16::from_le_bytes([*data.get(*pos)?, *data.get(*pos + 1)?]) as usize;
        *pos += 2;
        let bytes = if unicode { count * 2 } else { count };
        let raw = data.get(*pos..*pos + bytes)?;
        *pos += bytes;
        Some(if unicode {
            raw.chunks_exact(2)
                .map(|c| char::from_u32(u16::from_le_bytes([c[0], c[1]]) as u32).unwrap_or('?'))
                .collect()
        } else {
            String::from_utf8_lossy(raw).into_owned()
        })
    };
    // StringData in order: NAME, RELATIVE_PATH, WORKING_DIR, ARGUMENTS, ICON_LOCATION.
    for (bit, slot) in [(0x04, 0), (0x08, 1), (0x10, 2), (0x20, 3), (0x40, 4)] {
        if flags & bit == 0 {
            continue;
        }
        let Some(s) = read_string(&mut pos) else {
            break;
        };
        match slot {
            1 if out.target.is_empty() => out.target = s,
            3 => out.arguments = s,
            4 => out.icon = s,
            _ => {}
        }
    }
    Some(out)
}

pub(crate) fn analyse(w: &mut Walker<'_>, path: &[String], data: &[u8], depth: usize) {
    let Some(link) = parse(data) else {
        w.observe(
            ObservationKind::MalformedArchive,
            path,
            depth,
            "unreadable shortcut",
        );
        return;
    };
    let command = format!("{} {}", link.target, link.arguments);
    let lower = command.to_ascii_lowercase();
    let hits: Vec<&str> = LOLBINS
        .iter()
        .copied()
        .filter(|l| lower.contains(l))
        .collect();
    let urls = crate::html::urls_in_text(&command);
    for u in &urls {
        w.url(u, path, UrlSource::Lnk);
    }
    if !hits.is_empty() || !urls.is_empty() || link.arguments.len() > 200 {
        let mut shown = command.trim().to_string();
        if shown.len() > 300 {
            let mut cut = 300;
            while !shown.is_char_boundary(cut) {
                cut -= 1;
            }
            shown.truncate(cut);
            shown.push('…');
        }
        w.observe(
            ObservationKind::LnkCommand,
            path,
            depth,
            format!("runs {shown:?}"),
        );
    }
}
