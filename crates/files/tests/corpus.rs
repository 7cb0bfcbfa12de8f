//! Evaluation on the real attachment samples (`$MAMORI_CORPORA/attachments`, see its MANIFEST.tsv and README):
//! every sample must produce the observations its description implies. Prints a table of hits and misses; fails
//! on a miss that is not in `KNOWN_MISSES` (each with the reason). Skips when `MAMORI_CORPORA` is unset.

use std::path::Path;

use mamori_files::{Options, Report, analyse};

/// What a sample (matched by path substring, first match wins) must show: observation ids that must all be
/// present (`|` separates alternatives), or `!` for a negative sample that must show no malware observation.
const EXPECTATIONS: &[(&str, &str)] = &[
    ("eicar/eicar_attachment.eml", ""),
    ("eicar/", "file.eicar"),
    ("basic/encrypted.docx", "file.document.encrypted"),
    (
        "encrypted/autostart-encrypt-standardpassword.xls$",
        "file.document.encrypted office.vba.macro",
    ),
    ("encrypted/", "file.document.encrypted"),
    ("excel4-macros/", "office.xlm_macro"),
    ("msodde/harmless-clean", "!"),
    ("ooxml/harmless-clean", "!"),
    ("msodde/RTF-Spec", "rtf.object"),
    (".xml.zip", "file.archive.encrypted"),
    (".doc.zip", "file.archive.encrypted"),
    (".rtf.zip", "file.archive.encrypted"),
    ("msodde/dde-", "office.dde"),
    ("ooxml/dde-", "office.dde"),
    ("oleform/", "office.vba.macro"),
    ("oleobj/embedded-simple-2007.xml", "office.embedded_object"),
    (
        "oleobj/embedded-simple-2007-as2003.xml",
        "office.embedded_object",
    ),
    (
        "oleobj/embedded-",
        "office.embedded_object|office.embedded_package",
    ),
    ("external_link/", "office.remote_template"),
    (
        "sample_with_calc_embedded",
        "office.embedded_package file.executable",
    ),
    ("sample_with_lnk_file", "file.shortcut"),
    ("sample_with_lnk_to_calc", "office.embedded_object"),
    ("olevba/", "office.vba.macro"),
    ("rtfobj/issue_251", "rtf.object office.equation_editor"),
    ("pdf-js-payloads/payload8", ""),
    ("pdf-js-payloads/LICENSE", ""),
    ("pdf-js-payloads/README", ""),
    ("_helpers/", ""),
    ("pdf-js-payloads/", "pdf.javascript"),
    (
        "strelka-fixtures/test_password.doc",
        "file.document.encrypted",
    ),
    (
        "strelka-fixtures/test_password_brute.doc",
        "file.document.encrypted",
    ),
    ("test_password_brute.7z", "file.archive.encrypted"),
    ("test_password_filenames.7z", "file.archive.encrypted"),
    ("test_password.rar", "file.archive.encrypted"),
    // Three of its five entries carry a RAR 5 encryption record.
    ("test_mixed.rar", "file.archive.encrypted"),
    ("encrypted_headers.rar", "file.archive.encrypted"),
    (
        "_password",
        "file.archive.encrypted|file.archive.password_opened|file.archive.unlisted",
    ),
    ("test_mixedcrypto.zip", "file.archive.password_opened"),
    ("test.7z", "file.archive.unlisted"),
    (".rar", "file.archive.unlisted"),
    (".cab", "file.archive.unlisted"),
    ("test.onepkg", "file.archive.unlisted"),
    ("test.xz", "file.archive.unlisted"),
    ("test.bz2", "file.archive.unlisted"),
    (
        "test_big.zip",
        "limit.archive.entry_size|limit.archive.ratio",
    ),
    (
        "strelka-fixtures/test.xls",
        "office.vba.macro office.xlm_macro",
    ),
    ("test_pe_object", "office.embedded_package file.executable"),
    ("strelka-fixtures/test.one", "onenote.embedded_file"),
];

/// Samples whose expectation is known not to be met, and why.
const KNOWN_MISSES: &[(&str, &str)] = &[(
    "dde-test-encrypt-standardpassword.xls",
    "RC4-encrypted workbook: DDE is inside the encryption",
)];

/// Malware-ish observations a negative sample must not show.
const BAD: &[&str] = &[
    "office.vba",
    "office.dde",
    "office.remote_template",
    "office.equation_editor",
    "file.executable",
    "pdf.javascript",
    "html.smuggling",
];

#[test]
fn attachment_samples_produce_their_findings() {
    let Some(root) = std::env::var_os("MAMORI_CORPORA") else {
        println!("MAMORI_CORPORA is unset; skipping the attachment sample evaluation");
        return;
    };
    let dir = Path::new(&root).join("attachments");
    let Ok(manifest) = std::fs::read_to_string(dir.join("MANIFEST.tsv")) else {
        println!("{} has no MANIFEST.tsv; skipping", dir.display());
        return;
    };
    let options = Options {
        // As if the message body announced the strelka fixtures' password.
        passwords: vec!["password".into(), "infected".into()],
        ..Default::default()
    };
    let (mut checked, mut hits, mut misses, mut unexpected) = (0, 0, Vec::new(), Vec::new());
    for line in manifest.lines().skip(1) {
        let rel = line.split('\t').next().unwrap_or("");
        let matches = |p: &str| match p.strip_suffix('$') {
            Some(end) => rel.ends_with(end),
            None => rel.contains(p),
        };
        let Some((_, expect)) = EXPECTATIONS.iter().find(|(p, _)| matches(p)) else {
            continue;
        };
        let Ok(data) = std::fs::read(dir.join(rel)) else {
            continue;
        };
        let name = rel.rsplit('/').next();
        let report = analyse(name, &data, &options);
        checked += 1;
        let ids: Vec<&str> = report.observations.iter().map(|o| o.kind.id()).collect();
        let ok = satisfied(expect, &ids, &report);
        println!(
            "{:4} {rel:70} expect [{expect}] got {:?}",
            if ok { "ok" } else { "MISS" },
            dedup(&ids)
        );
        if ok {
            hits += 1;
        } else if KNOWN_MISSES.iter().any(|(p, _)| rel.contains(p)) {
            misses.push(rel.to_string());
        } else {
            unexpected.push(rel.to_string());
        }
    }
    println!(
        "\n{checked} samples checked: {hits} as expected, {} known misses:",
        misses.len()
    );
    for (p, why) in KNOWN_MISSES {
        println!("  {p}: {why}");
    }
    assert!(checked > 140, "only {checked} samples found");
    assert!(unexpected.is_empty(), "unexpected misses: {unexpected:#?}");
}

fn satisfied(expect: &str, ids: &[&str], _report: &Report) -> bool {
    if expect == "!" {
        return !ids.iter().any(|id| BAD.iter().any(|b| id.starts_with(b)));
    }
    expect
        .split_whitespace()
        .all(|alternatives| alternatives.split('|').any(|want| ids.contains(&want)))
}

fn dedup<'a>(ids: &[&'a str]) -> Vec<&'a str> {
    let mut v = ids.to_vec();
    v.sort();
    v.dedup();
    v
}
