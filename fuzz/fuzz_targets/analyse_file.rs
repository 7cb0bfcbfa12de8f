//! Attachment analysis entry point: any bytes, under any name that selects a parser, must give a bounded report
//! without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &["a.zip", "a.doc", "a.docx", "a.pdf", "a.rtf", "a.lnk", "a.html", "a.one", "a.gz", "a.iso", "a.csv"];

fuzz_target!(|data: &[u8]| {
    let options = mamori_files::Options {
        limits: mamori_files::Limits {
            max_total_bytes: 8 << 20,
            max_entry_bytes: 4 << 20,
            ..mamori_files::Limits::default()
        },
        passwords: vec!["infected".into()],
    };
    let name = NAMES[data.first().copied().unwrap_or(0) as usize % NAMES.len()];
    let report = mamori_files::analyse(Some(name), data, &options);
    assert!(report.files.len() <= options.limits.max_files);
    assert!(report.urls.len() <= options.limits.max_urls);
    let _ = mamori_files::passwords_in_text(&String::from_utf8_lossy(data));
});
