//! Text normalisation for analysis: NFKC (full-width → half-width, compatibility forms folded), lower case,
//! invisible characters removed, whitespace collapsed. The original text is kept elsewhere for evidence.

use unicode_normalization::UnicodeNormalization;

/// Characters that render as nothing and are used to break up words (zero-width space/joiners, soft hyphen,
/// word joiner, BOM, bidi marks and overrides).
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// Normalises text for analysis: NFKC, lower case, invisible characters dropped, runs of whitespace collapsed to
/// one space (a newline is kept when the run contained one), trimmed. Pure-ASCII input takes a fast path.
pub fn normalize_for_analysis(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    if text.is_ascii() {
        push_collapsed(&mut out, text.chars().map(|c| c.to_ascii_lowercase()));
    } else {
        push_collapsed(
            &mut out,
            text.nfkc()
                .filter(|c| !is_invisible(*c))
                .flat_map(char::to_lowercase),
        );
    }
    out
}

fn push_collapsed(out: &mut String, chars: impl Iterator<Item = char>) {
    let mut pending: Option<char> = None;
    for c in chars {
        if c.is_whitespace() {
            if out.is_empty() {
                continue;
            }
            pending = match (pending, c) {
                (Some('\n'), _) | (_, '\n') => Some('\n'),
                _ => Some(' '),
            };
        } else {
            if let Some(p) = pending.take() {
                out.push(p);
            }
            out.push(c);
        }
    }
}

/// Collapses whitespace runs to single spaces and trims, without other changes (for display strings).
pub fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Cuts a string to at most `max` bytes on a character boundary.
pub fn truncate_at_char(s: &mut String, max: usize) -> bool {
    if s.len() <= max {
        return false;
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_full_width_and_case() {
        assert_eq!(
            normalize_for_analysis("ＡＭＡＺＯＮ　パスワード"),
            "amazon パスワード"
        );
        assert_eq!(normalize_for_analysis("ﾊﾟｽﾜｰﾄﾞ！"), "パスワード!");
        assert_eq!(normalize_for_analysis("①②③"), "123");
    }

    #[test]
    fn drops_invisible_and_collapses_space() {
        assert_eq!(
            normalize_for_analysis("Pay\u{200B}Pal  \t Login\n\n Now"),
            "paypal login\nnow"
        );
        assert_eq!(normalize_for_analysis("  Hello   World  "), "hello world");
    }

    #[test]
    fn truncates_on_char_boundary() {
        let mut s = "あいう".to_string();
        assert!(truncate_at_char(&mut s, 4));
        assert_eq!(s, "あ");
    }
}
