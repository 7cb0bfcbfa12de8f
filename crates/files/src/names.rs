//! Misleading file names: bidirectional overrides, a dangerous extension after a document one
//! (`請求書.pdf.exe`), and padding that pushes the real extension out of sight.

use crate::report::ObservationKind;
use crate::types::{DOCUMENT_EXTENSIONS, EXECUTABLE_EXTENSIONS, SCRIPT_EXTENSIONS};

/// Characters that reorder how a name is displayed.
const BIDI_OVERRIDES: &[char] = &[
    '\u{202E}', '\u{202D}', '\u{202B}', '\u{202A}', '\u{2066}', '\u{2067}', '\u{2068}',
];

/// Checks one name; returns what is misleading about it.
pub fn check(name: &str) -> Vec<(ObservationKind, String)> {
    let mut out = Vec::new();
    if name.chars().any(|c| BIDI_OVERRIDES.contains(&c)) {
        let visible: String = name
            .chars()
            .map(|c| {
                if BIDI_OVERRIDES.contains(&c) {
                    '⮌'
                } else {
                    c
                }
            })
            .collect();
        out.push((
            ObservationKind::NameRlo,
            format!("{visible:?} contains a bidirectional override"),
        ));
    }
    let exts = extensions(name);
    if exts.len() >= 2 && is_dangerous(&exts[0]) && DOCUMENT_EXTENSIONS.contains(&exts[1].as_str())
    {
        out.push((ObservationKind::NameDoubleExtension, format!("{name:?}")));
    }
    if has_padding(name) {
        let squeezed = name.split_whitespace().collect::<Vec<_>>().join(" ");
        out.push((
            ObservationKind::NamePadding,
            format!("{squeezed:?} hides its extension after padding"),
        ));
    }
    out
}

fn is_dangerous(ext: &str) -> bool {
    EXECUTABLE_EXTENSIONS.contains(&ext)
        || SCRIPT_EXTENSIONS.contains(&ext)
        || matches!(ext, "lnk" | "iso" | "img" | "vhd" | "vhdx" | "chm" | "url")
}

/// Lower-case extensions, last first (`a.PDF.exe` → `["exe", "pdf"]`), ignoring trailing dots and spaces.
pub fn extensions(name: &str) -> Vec<String> {
    let name = name.trim_end_matches(['.', ' ']);
    let mut parts: Vec<&str> = name.split('.').collect();
    if parts.len() < 2 {
        return Vec::new();
    }
    parts.remove(0);
    parts
        .iter()
        .rev()
        .map(|p| p.trim().to_lowercase())
        .take_while(|p| {
            !p.is_empty() && p.len() <= 20 && p.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        .collect()
}

/// Ten or more spaces, underscores, dots or ideographic spaces in a row before the final extension.
fn has_padding(name: &str) -> bool {
    let Some((stem, _)) = name.rsplit_once('.') else {
        return false;
    };
    let mut run = 0;
    let mut last = '\0';
    for c in stem.chars() {
        let pad = matches!(c, ' ' | '_' | '.' | '\u{3000}' | '\u{00A0}');
        run = match (pad, c == last) {
            (true, true) => run + 1,
            (true, false) => 1,
            _ => 0,
        };
        last = c;
        if run >= 10 {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misleading_names() {
        let kinds = |n: &str| check(n).into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert_eq!(
            kinds("請求書.pdf.exe"),
            vec![ObservationKind::NameDoubleExtension]
        );
        assert_eq!(
            kinds("invoice\u{202E}fdp.exe"),
            vec![ObservationKind::NameRlo]
        );
        assert_eq!(
            kinds("report.pdf                    .js"),
            vec![
                ObservationKind::NameDoubleExtension,
                ObservationKind::NamePadding
            ]
        );
        assert!(kinds("report.final.pdf").is_empty());
        assert!(kinds("archive.tar.gz").is_empty());
    }
}
