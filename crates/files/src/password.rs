//! Passwords announced in a message body ("パスワード：Abc123", "PW: xyz", "Password: …"), the other half of
//! PPAP, so an encrypted attachment can be opened and inspected.

/// Labels that introduce a password, compared on a lower-cased, width-folded copy of the text.
const LABELS: &[&str] = &[
    "パスワード",
    "ﾊﾟｽﾜｰﾄﾞ",
    "暗証番号",
    "解凍キー",
    "password",
    "passwort",
    "passcode",
    "pass",
    "pwd",
    "pw",
];

/// Most candidates returned (each is tried on every encrypted entry).
const MAX_CANDIDATES: usize = 8;

/// Candidate passwords written after a password label in `text`, in order of appearance. Full-width ASCII is
/// folded to ASCII (`ｐａｓｓ１２３` → `pass123`) because Japanese mail often writes passwords that way.
pub fn passwords_in_text(text: &str) -> Vec<String> {
    // Runs on the body of every message with attachments: most bodies name no password at all, and the full scan
    // below (char vectors, ten labels tried at every position) is costly.
    if !may_name_a_password(text) {
        return Vec::new();
    }
    let folded: Vec<char> = text.chars().map(fold_width).collect();
    let lower: Vec<char> = folded.iter().flat_map(|c| c.to_lowercase()).collect();
    // to_lowercase can change lengths only for non-ASCII letters that do not occur in passwords we keep; guard
    // anyway by falling back to the folded text when lengths differ.
    let hay: &[char] = if lower.len() == folded.len() {
        &lower
    } else {
        &folded
    };
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < hay.len() && out.len() < MAX_CANDIDATES {
        let Some(label) = LABELS.iter().find(|l| starts_with(hay, i, l)) else {
            i += 1;
            continue;
        };
        let label_len = label.chars().count();
        // "pass" inside "passport" or "bypass" is not a label.
        let before_ok = i == 0 || !hay[i - 1].is_ascii_alphanumeric();
        let mut j = i + label_len;
        if label.is_ascii()
            && j < hay.len()
            && hay[j].is_ascii_alphabetic()
            && !starts_with(hay, j, "word")
        {
            i += 1;
            continue;
        }
        if !before_ok {
            i += 1;
            continue;
        }
        // Skip what joins label and value: "は", ":", "：", "=", "【】", quotes, spaces, "(zip)".
        let mut skipped = 0;
        let mut separated = false;
        while j < folded.len() && skipped < 12 {
            let c = folded[j];
            if ":=は】]」『「【[".contains(c) {
                separated = true;
            }
            if c.is_whitespace() || ":=は】]」『「【[（）()\"'".contains(c) {
                j += 1;
                skipped += 1;
            } else if starts_with(hay, j, "word") {
                j += 4;
            } else {
                break;
            }
        }
        let mut value = String::new();
        while j < folded.len() && value.chars().count() < 64 {
            let c = folded[j];
            if c.is_whitespace() || "」』】)）、。,\"'<>".contains(c) || !c.is_ascii() {
                break;
            }
            value.push(c);
            j += 1;
        }
        let value = value.trim_end_matches(['.', ',', ';']).to_string();
        // Without a separator ("password here"), only a value with a digit reads as a password.
        let plausible = separated || value.chars().any(|c| c.is_ascii_digit());
        if plausible
            && (4..=64).contains(&value.len())
            && !out.contains(&value)
            && !is_prose(&value)
        {
            out.push(value);
        }
        i = j.max(i + 1);
    }
    out
}

/// Words that follow a label in prose ("password is", "password reset") rather than a password.
fn is_prose(value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    [
        "is",
        "reset",
        "will",
        "for",
        "separately",
        "expired",
        "http",
        "https",
        "protected",
        "your",
    ]
    .iter()
    .any(|w| v == *w || v.starts_with("http"))
}

/// False only when no label can match: the ASCII labels all begin with "pw" or "pass" in some case, the others
/// occur literally, and full-width/half-width forms (U+FF00–U+FFEF, whose UTF-8 starts EF BC–EF BF) are left to
/// the full scan because they fold to ASCII.
fn may_name_a_password(text: &str) -> bool {
    let b = text.as_bytes();
    let ascii_label = memchr::memchr2_iter(b'p', b'P', b).any(|i| {
        let rest = &b[i + 1..];
        rest.first().is_some_and(|c| c.eq_ignore_ascii_case(&b'w'))
            || rest
                .get(..3)
                .is_some_and(|r| r.eq_ignore_ascii_case(b"ass"))
    });
    ascii_label
        || memchr::memchr_iter(0xEF, b).any(|i| matches!(b.get(i + 1), Some(0xBC..=0xBF)))
        || LABELS.iter().any(|l| !l.is_ascii() && text.contains(l))
}

fn starts_with(hay: &[char], at: usize, needle: &str) -> bool {
    needle
        .chars()
        .enumerate()
        .all(|(k, n)| hay.get(at + k) == Some(&n))
}

fn fold_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// True when a message body reads like the password-only follow-up of a PPAP pair: it announces a password and
/// says little else.
pub fn is_password_notice(text: &str) -> bool {
    !passwords_in_text(text).is_empty() && text.chars().filter(|c| !c.is_whitespace()).count() < 600
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quick_test_lets_every_label_form_through() {
        for text in [
            "PW: abc123",
            "pwd=abc123",
            "PaSsWoRd: abc123",
            "ｐａｓｓ：ａｂｃ１２３",
            "ﾊﾟｽﾜｰﾄﾞ：abc123",
            "パスワード：abc123",
            "暗証番号 1234",
            "解凍キー：abc123",
        ] {
            assert!(may_name_a_password(text), "{text}");
        }
        for text in ["", "p", "Hello, see the attached report.", "upward", "ｐ"] {
            assert_eq!(
                may_name_a_password(text),
                text.contains('ｐ') || text == "upward",
                "{text}"
            );
        }
        assert!(passwords_in_text("Hello, see the attached report.").is_empty());
    }

    #[test]
    fn finds_japanese_and_english_passwords() {
        assert_eq!(
            passwords_in_text("添付ファイルのパスワード：Abc12345"),
            vec!["Abc12345"]
        );
        assert_eq!(
            passwords_in_text("パスワードは「ｘＹｚ９８７６」です。"),
            vec!["xYz9876"]
        );
        assert_eq!(passwords_in_text("PW: infected\nthanks"), vec!["infected"]);
        assert_eq!(passwords_in_text("Password: s3cr3t!"), vec!["s3cr3t!"]);
        assert!(passwords_in_text("Reset your password is easy. Show your passport.").is_empty());
    }

    #[test]
    fn password_notice() {
        assert!(is_password_notice(
            "先ほどお送りしたファイルのパスワードをお知らせします。\nパスワード：Qw8#xZ2p"
        ));
        assert!(!is_password_notice("No password here"));
    }
}
