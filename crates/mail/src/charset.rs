//! Legacy charset decoding and repair.
//!
//! Real mail lies about its charset: Japanese mail declared ISO-2022-JP is often raw Shift_JIS (CP932) or EUC-JP,
//! Chinese mail declared GB2312 is GBK, 8-bit text arrives with no charset at all, and headers carry raw 8-bit
//! bytes. Text whose declared charset cannot be right is re-decoded with a charset guessed from its bytes
//! (`chardetng`, the detector Firefox uses), with a Japanese hint when a Japanese charset was declared.

use chardetng::EncodingDetector;
use encoding_rs::{Encoding, SHIFT_JIS, UTF_8};

/// What a declared charset implies about the bytes it labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    /// No charset, or `us-ascii`: 8-bit bytes mean the label is wrong.
    AsciiOrNone,
    /// ISO-2022-JP family: a 7-bit encoding, so 8-bit bytes mean it is really Shift_JIS or EUC-JP.
    Iso2022Jp,
    /// UTF-8: invalid sequences mean the label is wrong.
    Utf8,
    /// A label `encoding_rs` knows (decode with it).
    Known(&'static Encoding),
    /// A label nobody knows.
    Unknown,
}

/// Classifies a declared charset label.
pub fn classify(label: Option<&str>) -> Declared {
    let Some(label) = label.map(str::trim).filter(|l| !l.is_empty()) else {
        return Declared::AsciiOrNone;
    };
    let lower = label.trim_matches('"').to_ascii_lowercase();
    match lower.as_str() {
        "us-ascii" | "ascii" | "ansi_x3.4-1968" | "iso646-us" | "646" | "us" => {
            Declared::AsciiOrNone
        }
        l if l.starts_with("iso-2022-jp") || l == "csiso2022jp" || l == "jis" => {
            Declared::Iso2022Jp
        }
        "utf-8" | "utf8" | "unicode-1-1-utf-8" => Declared::Utf8,
        // Common aliases encoding_rs does not know.
        "cp932" | "ms932" | "windows-31j" | "x-sjis" | "sjis" | "shift-jis" => {
            Declared::Known(SHIFT_JIS)
        }
        "x-euc-jp" | "eucjp" | "euc_jp" => Declared::Known(encoding_rs::EUC_JP),
        "cp936" | "ms936" | "gb_2312-80" | "euc-cn" => Declared::Known(encoding_rs::GBK),
        "cp949" | "ks_c_5601-1987" | "ks_c_5601" => Declared::Known(encoding_rs::EUC_KR),
        "big5-hkscs" | "cp950" | "x-x-big5" => Declared::Known(encoding_rs::BIG5),
        _ => match Encoding::for_label(lower.as_bytes()) {
            Some(enc) => Declared::Known(enc),
            None => Declared::Unknown,
        },
    }
}

/// True when `label` names a Japanese charset (used as a hint for guessing).
pub fn is_japanese_label(label: Option<&str>) -> bool {
    let Some(l) = label else { return false };
    let l = l.to_ascii_lowercase();
    l.contains("2022-jp")
        || l.contains("jis")
        || l.contains("euc-jp")
        || l.contains("932")
        || l.contains("31j")
}

/// Decides whether bytes labelled `declared` must be re-decoded with a guessed charset.
pub fn needs_guess(declared: Declared, bytes: &[u8]) -> bool {
    match declared {
        Declared::AsciiOrNone | Declared::Iso2022Jp => !bytes.is_ascii(),
        Declared::Utf8 => std::str::from_utf8(bytes).is_err(),
        Declared::Unknown => !bytes.is_ascii(),
        Declared::Known(_) => false,
    }
}

/// Guesses the charset of `bytes`. `japanese_hint` steers ambiguous input towards Japanese encodings.
pub fn guess(bytes: &[u8], japanese_hint: bool) -> &'static Encoding {
    if std::str::from_utf8(bytes).is_ok() {
        return UTF_8;
    }
    let mut detector = EncodingDetector::new();
    // chardetng only needs a sample; 64 KiB is plenty and bounds the cost.
    let sample = &bytes[..bytes.len().min(64 * 1024)];
    detector.feed(sample, sample.len() == bytes.len());
    let tld: Option<&[u8]> = if japanese_hint { Some(b"jp") } else { None };
    let guessed = detector.guess(tld, true);
    if japanese_hint && guessed != encoding_rs::EUC_JP && guessed != SHIFT_JIS {
        // The sender said Japanese; trust that over a marginal guess if one of the Japanese encodings is clean.
        for enc in [SHIFT_JIS, encoding_rs::EUC_JP] {
            if enc
                .decode_without_bom_handling_and_without_replacement(sample)
                .is_some()
            {
                return enc;
            }
        }
    }
    guessed
}

/// Decodes `bytes` with `encoding`, replacing malformed sequences.
pub fn decode_with(bytes: &[u8], encoding: &'static Encoding) -> String {
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    text.into_owned()
}

/// Decodes text bytes labelled with `label`, repairing a wrong label. Returns the text and, when the label was
/// not used as given, the name of the charset actually used.
pub fn decode_text(bytes: &[u8], label: Option<&str>) -> (String, Option<&'static str>) {
    let declared = classify(label);
    if needs_guess(declared, bytes) {
        let enc = guess(bytes, is_japanese_label(label));
        return (decode_with(bytes, enc), Some(enc.name()));
    }
    match declared {
        Declared::Known(enc) => (decode_with(bytes, enc), None),
        Declared::Iso2022Jp if uses_jis_x_0212(bytes) => (decode_iso_2022_jp_extended(bytes), None),
        Declared::Iso2022Jp => (decode_with(bytes, encoding_rs::ISO_2022_JP), None),
        _ => (String::from_utf8_lossy(bytes).into_owned(), None),
    }
}

/// True when ISO-2022-JP text switches to JIS X 0212 (`ESC $ ( D`, ISO-2022-JP-1/-2), which the WHATWG decoder
/// does not support. Mailers use it for symbols such as ©.
pub fn uses_jis_x_0212(bytes: &[u8]) -> bool {
    memchr::memmem::find(bytes, b"\x1b$(D").is_some()
}

/// Decodes ISO-2022-JP including JIS X 0212 by transcoding to EUC-JP (which carries JIS X 0212 behind 0x8F) and
/// decoding that. Designations EUC-JP cannot carry (GB 2312, KS C 5601 in ISO-2022-JP-2) become U+FFFD.
pub fn decode_iso_2022_jp_extended(bytes: &[u8]) -> String {
    #[derive(Clone, Copy, PartialEq)]
    enum Set {
        Ascii,
        Katakana,
        Jis0208,
        Jis0212,
        Unsupported,
    }
    let mut euc = Vec::with_capacity(bytes.len());
    let mut set = Set::Ascii;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == 0x1b {
            let rest = &bytes[i + 1..];
            let (next, len) = if rest.starts_with(b"(B") || rest.starts_with(b"(J") {
                (Set::Ascii, 3)
            } else if rest.starts_with(b"(I") {
                (Set::Katakana, 3)
            } else if rest.starts_with(b"$@") || rest.starts_with(b"$B") {
                (Set::Jis0208, 3)
            } else if rest.starts_with(b"&@\x1b$B") {
                (Set::Jis0208, 6)
            } else if rest.starts_with(b"$(D") {
                (Set::Jis0212, 4)
            } else if rest.starts_with(b"$A") {
                (Set::Unsupported, 3)
            } else if rest.starts_with(b"$(C") {
                (Set::Unsupported, 4)
            } else {
                (set, 1)
            };
            set = next;
            i += len;
            continue;
        }
        if b == b'\n' || b == b'\r' {
            // Tolerate lines that do not switch back to ASCII before the line break.
            set = Set::Ascii;
            euc.push(b);
            i += 1;
            continue;
        }
        match set {
            Set::Ascii => {
                euc.push(b);
                i += 1;
            }
            Set::Katakana => {
                euc.extend_from_slice(&[0x8e, b | 0x80]);
                i += 1;
            }
            Set::Jis0208 | Set::Jis0212 | Set::Unsupported => {
                let Some(&b2) = bytes.get(i + 1) else { break };
                match set {
                    Set::Jis0208 => euc.extend_from_slice(&[b | 0x80, b2 | 0x80]),
                    Set::Jis0212 => euc.extend_from_slice(&[0x8f, b | 0x80, b2 | 0x80]),
                    _ => euc.extend_from_slice("\u{FFFD}".as_bytes()),
                }
                i += 2;
            }
        }
    }
    // U+FFFD inserted above is UTF-8 and not valid EUC-JP; it decodes to replacement characters, as intended.
    decode_with(&euc, encoding_rs::EUC_JP)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sjis(s: &str) -> Vec<u8> {
        SHIFT_JIS.encode(s).0.into_owned()
    }

    #[test]
    fn repairs_iso_2022_jp_that_is_really_shift_jis() {
        let bytes = sjis("お支払い情報の確認をお願いします。パスワードを更新してください。");
        let (text, used) = decode_text(&bytes, Some("ISO-2022-JP"));
        assert_eq!(
            text,
            "お支払い情報の確認をお願いします。パスワードを更新してください。"
        );
        assert_eq!(used, Some("Shift_JIS"));
    }

    #[test]
    fn decodes_real_iso_2022_jp_and_euc_jp() {
        let jis = encoding_rs::ISO_2022_JP.encode("まみむめも").0.into_owned();
        assert_eq!(
            decode_text(&jis, Some("iso-2022-jp")),
            ("まみむめも".to_string(), None)
        );
        let euc = encoding_rs::EUC_JP.encode("緊急のお知らせ").0.into_owned();
        assert_eq!(decode_text(&euc, Some("euc-jp")).0, "緊急のお知らせ");
        let (text, used) = decode_text(&euc, None);
        assert_eq!(text, "緊急のお知らせ");
        assert_eq!(used, Some("EUC-JP"));
    }

    #[test]
    fn gb2312_label_decodes_gbk_and_aliases_work() {
        let gbk = encoding_rs::GBK.encode("邮箱管理员通知").0.into_owned();
        assert_eq!(decode_text(&gbk, Some("gb2312")).0, "邮箱管理员通知");
        assert_eq!(decode_text(&sjis("テスト"), Some("CP932")).0, "テスト");
        let big5 = encoding_rs::BIG5.encode("測試郵件").0.into_owned();
        assert_eq!(decode_text(&big5, Some("big5")).0, "測試郵件");
    }

    #[test]
    fn iso_2022_jp_with_jis_x_0212() {
        // "発行元" in JIS X 0208, then © (JIS X 0212 0x226D), then ASCII.
        let mut bytes = encoding_rs::ISO_2022_JP.encode("発行元").0.into_owned();
        bytes.extend_from_slice(b"\x1b$(D\x22\x6d\x1b(B Rakuten");
        assert!(uses_jis_x_0212(&bytes));
        assert_eq!(
            decode_text(&bytes, Some("iso-2022-jp")).0,
            "発行元© Rakuten"
        );
        let kana = b"\x1b(I\x31\x32\x1b(B";
        assert_eq!(decode_iso_2022_jp_extended(kana), "ｱｲ");
    }

    #[test]
    fn invalid_utf8_is_guessed() {
        let bytes = sjis("ご確認ください");
        let (text, used) = decode_text(&bytes, Some("utf-8"));
        assert_eq!(text, "ご確認ください");
        assert!(used.is_some());
    }
}
