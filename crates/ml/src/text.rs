//! Text normalisation and tokenisation.
//!
//! Text is NFKC-normalised (full-width `ＡＢＣ１２３` and half-width `ﾊﾟｽﾜｰﾄﾞ` become `abc123` and `パスワード`) and
//! lower-cased. Latin, Cyrillic and other space-separated scripts are cut into words; neighbouring words also give
//! OSB-style pairs (word, word at distance 1 or 2), which carry phrases like "verify your" that single words miss.
//! Chinese and Japanese are not written with spaces, so runs of Han, kana and Hangul give character bigrams
//! (`パスワード` → `パス`, `スワ`, `ワー`, `ード`) — no dictionary is needed, nothing is downloaded — and a
//! katakana run is also kept whole, since katakana words (loan words such as `パスワード`, `アカウント`) are
//! meaningful units on their own.

use std::borrow::Cow;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

use crate::hash::text_hash;

/// Words longer than this (in characters) become a length feature instead of a word.
pub const MAX_WORD_CHARS: usize = 20;

/// A piece of text with its [`text_hash`], computed once by the tokeniser and reused by every feature the piece
/// is part of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece<'a> {
    /// The text.
    pub text: &'a str,
    /// Its [`text_hash`].
    pub hash: u64,
}

impl<'a> Piece<'a> {
    /// A piece and its hash.
    #[inline]
    pub fn new(text: &'a str) -> Piece<'a> {
        Piece {
            text,
            hash: text_hash(text),
        }
    }
}

/// One token of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token<'a> {
    /// A word of a space-separated script (2 to [`MAX_WORD_CHARS`] characters, not all digits).
    Word(Piece<'a>),
    /// Two words at a distance of 1 (adjacent) or 2 (one word between).
    Pair(Piece<'a>, Piece<'a>, u8),
    /// Two neighbouring CJK characters (or a lone CJK character).
    Bigram(Piece<'a>),
    /// A whole katakana run (2 to [`MAX_WORD_CHARS`] characters).
    Katakana(Piece<'a>),
    /// A run of digits, by length (capped at 9).
    Number(u8),
    /// A word longer than [`MAX_WORD_CHARS`], by length bucket (capped at 9 = 90+ characters).
    LongWord(u8),
}

/// Character counts per script, for the language feature.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScriptCounts {
    /// Latin letters.
    pub latin: u32,
    /// Han ideographs.
    pub han: u32,
    /// Hiragana and katakana.
    pub kana: u32,
    /// Hangul.
    pub hangul: u32,
    /// Cyrillic.
    pub cyrillic: u32,
    /// Other letters (Greek, Arabic, Thai, …).
    pub other: u32,
}

impl ScriptCounts {
    /// The dominant writing system as a short name: `ja` (kana present), `zh` (Han, no kana), `ko`, `ru`
    /// (Cyrillic), `latin`, `other`, or `none` for text without letters.
    pub fn language(&self) -> &'static str {
        let cjk = self.han + self.kana;
        let total = self.latin + cjk + self.hangul + self.cyrillic + self.other;
        if total == 0 {
            return "none";
        }
        // A little Japanese in a Latin message (a signature, a brand name) still makes it Japanese mail:
        // CJK characters carry about four Latin letters' worth of text each.
        if cjk * 4 >= self.latin.max(1) || cjk >= 200 {
            return if self.kana * 20 >= cjk.max(1) {
                "ja"
            } else {
                "zh"
            };
        }
        let best = [
            (self.latin, "latin"),
            (self.hangul * 3, "ko"),
            (self.cyrillic, "ru"),
            (self.other, "other"),
        ];
        best.iter()
            .max_by_key(|(n, _)| *n)
            .map_or("none", |(_, name)| name)
    }

    /// Adds another text's counts.
    pub fn add(&mut self, other: ScriptCounts) {
        self.latin += other.latin;
        self.han += other.han;
        self.kana += other.kana;
        self.hangul += other.hangul;
        self.cyrillic += other.cyrillic;
        self.other += other.other;
    }

    /// True when more than one script has a real share (≥ 10 % each), e.g. Latin look-alikes inside Japanese.
    pub fn mixed(&self) -> bool {
        let parts = [
            self.latin,
            self.han + self.kana,
            self.hangul,
            self.cyrillic,
            self.other,
        ];
        let total: u32 = parts.iter().sum();
        total >= 20 && parts.iter().filter(|&&n| n * 10 >= total).count() > 1
    }
}

/// NFKC-normalises and lower-cases `text`, borrowing it when it is already in that form (the common case for
/// text that `mamori-mail` normalised).
pub fn normalize(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            return Cow::Owned(text.to_ascii_lowercase());
        }
        return Cow::Borrowed(text);
    }
    if is_nfkc_quick(text.chars()) == IsNormalized::Yes && !text.chars().any(char::is_uppercase) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.nfkc().flat_map(char::to_lowercase).collect())
}

/// Cuts `text` to at most `max_bytes`, at a character boundary.
pub fn truncate(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// True for Han, kana and Hangul characters (scripts written without spaces between words).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // hiragana, katakana
        | 0x31F0..=0x31FF    // katakana phonetic extensions
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xF900..=0xFAFF    // compatibility ideographs
        | 0xFF66..=0xFF9F    // half-width katakana (NFKC folds them, raw input may not be normalised)
        | 0x1100..=0x11FF    // Hangul jamo
        | 0x3130..=0x318F    // Hangul compatibility jamo
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0x20000..=0x2FFFF) // CJK extensions B–F
}

fn is_katakana(c: char) -> bool {
    matches!(c as u32, 0x30A1..=0x30FA | 0x30FC | 0x31F0..=0x31FF | 0xFF66..=0xFF9F)
}

fn count_script(c: char, counts: &mut ScriptCounts) {
    match c as u32 {
        0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F => counts.kana += 1,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF => counts.han += 1,
        0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7AF => counts.hangul += 1,
        0x0400..=0x04FF => counts.cyrillic += 1,
        _ if c.is_ascii_alphabetic() || matches!(c as u32, 0x00C0..=0x024F) => counts.latin += 1,
        _ if c.is_alphabetic() => counts.other += 1,
        _ => {}
    }
}

/// Splits normalised `text` into tokens, calling `emit` for each, and returns the script counts.
/// Allocation-free: tokens borrow from `text`, and each word is hashed once.
pub fn tokenize<'a>(text: &'a str, mut emit: impl FnMut(Token<'a>)) -> ScriptCounts {
    tokenize_until(text, |t| {
        emit(t);
        true
    })
}

/// [`tokenize`] that stops reading as soon as `emit` returns `false` (the counts then cover what was read).
pub fn tokenize_until<'a>(
    text: &'a str,
    mut emit_more: impl FnMut(Token<'a>) -> bool,
) -> ScriptCounts {
    let going = std::cell::Cell::new(true);
    let mut emit = |t: Token<'a>| {
        if going.get() && !emit_more(t) {
            going.set(false);
        }
    };
    let mut counts = ScriptCounts::default();
    let bytes = text.as_bytes();
    // Last two words, for pairs.
    let mut window: [Option<Piece<'a>>; 2] = [None, None];
    let mut word_start: Option<usize> = None;
    let mut word_chars = 0usize;
    let mut cjk_start: Option<usize> = None;
    let mut cjk_prev: Option<usize> = None; // byte offset of the previous CJK character in the run
    let mut kata_start: Option<usize> = None;
    let mut kata_chars = 0usize;

    let mut i = 0;
    while i < bytes.len() && going.get() {
        let b = bytes[i];
        if b < 0x80 {
            // ASCII fast path (most mail): no CJK or katakana here, so open runs end.
            if let Some(start) = kata_start.take() {
                if (2..=MAX_WORD_CHARS).contains(&kata_chars) {
                    emit(Token::Katakana(Piece::new(&text[start..i])));
                }
                kata_chars = 0;
            }
            if let Some(start) = cjk_start.take() {
                if cjk_prev == Some(start) {
                    emit(Token::Bigram(Piece::new(&text[start..i])));
                }
                cjk_prev = None;
            }
            if b.is_ascii_alphanumeric() {
                if word_start.is_none() {
                    word_start = Some(i);
                }
                // The rest of the ASCII run of this word in one tight loop.
                let run = i;
                while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                    counts.latin += u32::from(bytes[i].is_ascii_alphabetic());
                    i += 1;
                }
                word_chars += i - run;
                continue;
            }
            if let Some(start) = word_start.take() {
                finish_word(text, start, i, word_chars, &mut window, &mut emit);
                word_chars = 0;
            }
            i += 1;
            continue;
        }
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        count_script(c, &mut counts);
        let cjk = is_cjk(c);
        let wordish = !cjk && c.is_alphanumeric();
        // Close a word that ends here.
        if !wordish && let Some(start) = word_start.take() {
            finish_word(text, start, i, word_chars, &mut window, &mut emit);
            word_chars = 0;
        }
        if wordish {
            if word_start.is_none() {
                word_start = Some(i);
            }
            word_chars += 1;
        }
        // Katakana runs.
        if is_katakana(c) {
            if kata_start.is_none() {
                kata_start = Some(i);
            }
            kata_chars += 1;
        } else if let Some(start) = kata_start.take() {
            if (2..=MAX_WORD_CHARS).contains(&kata_chars) {
                emit(Token::Katakana(Piece::new(&text[start..i])));
            }
            kata_chars = 0;
        }
        // CJK runs: bigrams.
        if cjk {
            if cjk_start.is_none() {
                cjk_start = Some(i);
                // Words on both sides of a CJK run are not neighbours.
                window = [None, None];
            }
            if let Some(p) = cjk_prev {
                emit(Token::Bigram(Piece::new(&text[p..i + c.len_utf8()])));
            }
            cjk_prev = Some(i);
        } else if let Some(start) = cjk_start.take() {
            // A lone CJK character is a unigram.
            if cjk_prev == Some(start) {
                emit(Token::Bigram(Piece::new(&text[start..i])));
            }
            cjk_prev = None;
        }
        i += c.len_utf8();
    }
    let end = text.len();
    if let Some(start) = word_start {
        finish_word(text, start, end, word_chars, &mut window, &mut emit);
    }
    if let Some(start) = kata_start
        && (2..=MAX_WORD_CHARS).contains(&kata_chars)
    {
        emit(Token::Katakana(Piece::new(&text[start..end])));
    }
    if let Some(start) = cjk_start
        && cjk_prev == Some(start)
    {
        emit(Token::Bigram(Piece::new(&text[start..end])));
    }
    counts
}

fn finish_word<'a>(
    text: &'a str,
    start: usize,
    end: usize,
    chars: usize,
    window: &mut [Option<Piece<'a>>; 2],
    emit: &mut impl FnMut(Token<'a>),
) {
    let w = &text[start..end];
    if w.bytes().all(|b| b.is_ascii_digit()) {
        emit(Token::Number(u8::try_from(chars.min(9)).unwrap_or(9)));
        return;
    }
    if chars < 2 {
        return;
    }
    if chars > MAX_WORD_CHARS {
        emit(Token::LongWord(
            u8::try_from((chars / 10).min(9)).unwrap_or(9),
        ));
        *window = [None, None];
        return;
    }
    let w = Piece::new(w);
    emit(Token::Word(w));
    if let Some(prev) = window[1] {
        emit(Token::Pair(prev, w, 1));
    }
    if let Some(prev2) = window[0] {
        emit(Token::Pair(prev2, w, 2));
    }
    *window = [window[1], Some(w)];
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(t: Token<'_>) -> String {
        match t {
            Token::Word(w) => format!("w:{}", w.text),
            Token::Pair(a, b, d) => format!("p{d}:{}_{}", a.text, b.text),
            Token::Bigram(b) => format!("b:{}", b.text),
            Token::Katakana(k) => format!("k:{}", k.text),
            Token::Number(n) => format!("n:{n}"),
            Token::LongWord(n) => format!("l:{n}"),
        }
    }

    fn tokens(text: &str) -> Vec<String> {
        let norm = normalize(text);
        let mut out = Vec::new();
        tokenize(&norm, |t| {
            // Every piece carries the hash of its own text.
            if let Token::Word(p) | Token::Bigram(p) | Token::Katakana(p) | Token::Pair(_, p, _) = t
            {
                assert_eq!(p.hash, text_hash(p.text));
            }
            out.push(show(t));
        });
        out
    }

    #[test]
    fn latin_words_and_pairs() {
        let t = tokens("Please VERIFY your account now!");
        for want in [
            "w:please",
            "w:verify",
            "w:your",
            "w:account",
            "p1:verify_your",
            "p2:please_your",
            "p1:account_now",
        ] {
            assert!(t.contains(&want.to_string()), "{want} missing from {t:?}");
        }
        // A word that mixes ASCII and other letters stays one word (ASCII fast path and general path agree).
        let t = tokens("café crème naïve");
        for want in [
            "w:café",
            "w:crème",
            "w:naïve",
            "p1:café_crème",
            "p2:café_naïve",
        ] {
            assert!(t.contains(&want.to_string()), "{want} missing from {t:?}");
        }
        let t = tokens("ｱｶｳﾝﾄabc");
        assert!(
            t.contains(&"k:アカウント".to_string()) && t.contains(&"w:abc".to_string()),
            "{t:?}"
        );
        // Single letters are dropped, digit runs become lengths, very long words a length bucket.
        let t = tokens("a 12345 x supercalifragilisticexpialidocious");
        assert_eq!(t, vec!["n:5", "l:3"]);
    }

    #[test]
    fn japanese_bigrams_and_katakana() {
        let t = tokens("パスワードを変更してください");
        for want in [
            "b:パス",
            "b:ード",
            "b:ドを",
            "b:変更",
            "b:さい",
            "k:パスワード",
        ] {
            assert!(t.contains(&want.to_string()), "{want} missing from {t:?}");
        }
        assert!(!t.iter().any(|x| x.starts_with("w:")), "{t:?}");
        // A lone kanji between Latin words is a unigram.
        let t = tokens("abc 株 def");
        assert!(t.contains(&"b:株".to_string()), "{t:?}");
    }

    #[test]
    fn full_width_and_half_width_fold() {
        // Full-width Latin and digits, half-width katakana with voiced marks.
        let t = tokens("ＡＭＡＺＯＮ　ｱｶｳﾝﾄ ﾊﾟｽﾜｰﾄﾞ １２３４");
        for want in ["w:amazon", "k:アカウント", "k:パスワード", "n:4"] {
            assert!(t.contains(&want.to_string()), "{want} missing from {t:?}");
        }
        assert_eq!(normalize("ＡＢＣ"), "abc");
        assert!(matches!(normalize("already normal"), Cow::Borrowed(_)));
        assert!(matches!(normalize("日本語のテキスト"), Cow::Borrowed(_)));
    }

    #[test]
    fn mixed_scripts() {
        let text = normalize("【重要】Amazonアカウントの確認 — verify at amazon-co-jp.example");
        let mut t = Vec::new();
        let counts = tokenize(&text, |tok| t.push(show(tok)));
        assert!(t.iter().any(|x| x == "w:amazon"), "{t:?}");
        assert!(t.iter().any(|x| x == "k:アカウント"), "{t:?}");
        assert!(t.iter().any(|x| x == "b:確認"), "{t:?}");
        assert!(t.iter().any(|x| x == "w:verify"), "{t:?}");
        // "amazon" before the CJK run and "verify" after it are not paired.
        assert!(
            !t.iter()
                .any(|x| x == "p1:amazon_verify" || x == "p2:amazon_verify"),
            "{t:?}"
        );
        assert_eq!(counts.language(), "ja");
        assert!(counts.mixed());
        let mut c = ScriptCounts::default();
        tokenize("我们的邮箱系统升级请立即验证", |_| {});
        c.han = 10;
        assert_eq!(c.language(), "zh");
        let ru = tokenize("ваш аккаунт заблокирован", |_| {});
        assert_eq!(ru.language(), "ru");
        assert_eq!(tokenize("", |_| {}).language(), "none");
    }

    #[test]
    fn truncates_at_char_boundary() {
        let s = "あいう";
        assert_eq!(truncate(s, 4), "あ");
        assert_eq!(truncate(s, 100), s);
        assert_eq!(truncate(s, 0), "");
    }
}
