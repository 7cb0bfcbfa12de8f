//! Real-corpus checks (skipped unless MAMORI_CORPORA points at the unpacked shared corpora): every message of
//! every corpus reads and parses, and Japanese subjects and bodies decode correctly.

use std::path::{Path, PathBuf};

use mamori_mail::source::{ReadOptions, Reader};
use mamori_mail::{Limits, parse_item};

fn corpora() -> Option<PathBuf> {
    match std::env::var_os("MAMORI_CORPORA") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            eprintln!("skipped: MAMORI_CORPORA not set");
            None
        }
    }
}

/// Messages per corpus as documented in the shared data README (sa-testdata: 180 fixtures incl. one BSMTP
/// transaction, minus one empty BSMTP file, plus the 3 messages of nice.mbox, plus `phishing/` feed samples;
/// japanese: files plus the messages inside the sisimai mboxes).
const EXPECTED: &[(&str, usize)] = &[
    ("spamassassin", 6046),
    ("nazario", 1308),
    ("phishing_pot", 2633),
    ("lore", 2252),
    ("sa-testdata", 184),
    ("japanese", 889),
];

#[test]
fn every_corpus_message_reads_and_parses() {
    let Some(root) = corpora() else { return };
    let limits = Limits::default();
    for (corpus, expected) in EXPECTED {
        let dir = root.join(corpus);
        let mut reader = Reader::new(&[dir.display().to_string()], ReadOptions::default());
        let mut count = 0;
        for item in reader.by_ref() {
            let item = item.unwrap_or_else(|e| panic!("{corpus}: {e}"));
            let message = parse_item(&item, &limits);
            assert!(!message.sha256.is_empty());
            count += 1;
        }
        assert_eq!(
            count,
            *expected,
            "{corpus}: messages read (skipped {} non-mail files)",
            reader.skipped()
        );
    }
}

fn is_kana(c: char) -> bool {
    ('\u{3040}'..='\u{30ff}').contains(&c)
}

#[test]
fn japanese_subjects_and_bodies_decode() {
    let Some(root) = corpora() else { return };
    let index = std::fs::read_to_string(root.join("japanese/INDEX.tsv")).expect("INDEX.tsv");
    let limits = Limits::default();
    let (mut checked, mut jis_or_sjis, mut with_kana) = (0, 0, 0);
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [path, _label, charsets, subject] = cols[..] else {
            continue;
        };
        let full = root.join(path);
        let item = Reader::new(&[full.display().to_string()], ReadOptions::default())
            .next()
            .unwrap_or_else(|| panic!("{path}: no message"))
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let m = parse_item(&item, &limits);
        // INDEX subjects with replacement characters were cut from bytes that are valid in no charset.
        if !subject.contains('\u{FFFD}') {
            let got = m
                .subject
                .as_deref()
                .unwrap_or_default()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let want = subject.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(got, want, "{path}");
            checked += 1;
        }
        if charsets.contains("iso-2022-jp") || charsets.contains("shift_jis") {
            let body = format!("{}{}", m.text.plain, m.text.html_text);
            let subject_has_kana = m
                .subject
                .as_deref()
                .unwrap_or_default()
                .chars()
                .any(is_kana);
            // Some of these carry their Japanese in an attachment only; the body must still be clean.
            assert!(
                !body.contains('\u{FFFD}'),
                "{path}: replacement characters in body"
            );
            jis_or_sjis += 1;
            if body.chars().any(is_kana) || subject_has_kana {
                with_kana += 1;
            }
        }
    }
    assert!(checked >= 250, "only {checked} subjects checked");
    assert!(
        jis_or_sjis >= 30,
        "only {jis_or_sjis} ISO-2022-JP/Shift_JIS messages checked"
    );
    assert!(
        with_kana * 10 >= jis_or_sjis * 9,
        "kana decoded in only {with_kana} of {jis_or_sjis}"
    );
}

#[test]
fn known_japanese_fixtures() {
    let Some(root) = corpora() else { return };
    let fixtures = root.join("japanese/mikel-mail-fixtures/spec/fixtures/emails/multi_charset");
    let read = |name: &str| {
        let p: PathBuf = fixtures.join(name);
        let item = Reader::new(&[p.display().to_string()], ReadOptions::default())
            .next()
            .expect("message")
            .expect("readable");
        parse_item(&item, &Limits::default())
    };
    let m = read("japanese_iso_2022.eml");
    assert_eq!(m.subject.as_deref(), Some("まみむめも"));
    let m = read("japanese_attachment_long_name.eml");
    assert!(m.attachments.iter().any(|a| {
        a.name
            .as_deref()
            .is_some_and(|n| n.starts_with("かきくけこかきくけこ"))
    }));
    assert!(Path::new(&fixtures).exists());
}
