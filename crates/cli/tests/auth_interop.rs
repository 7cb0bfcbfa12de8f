//! DKIM interoperability with an implementation we did not write (dkimpy, PyPI):
//! - messages signed by dkimpy are verified by `mamori scan --dns-records`;
//! - messages signed by mail-auth's signer are verified by dkimpy;
//! - for rsa-sha256 and ed25519-sha256, relaxed/relaxed, simple/simple and relaxed/simple canonicalisation, and a
//!   body modified after signing (which must fail on both sides).
//!
//! Needs `MAMORI_PYTHON`: a Python with dkimpy and PyNaCl (`scripts/test` creates the venv and sets it). Without
//! it the test says "skipped", except under CI (`CI` set), where a missing venv is a failure.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{Canonicalization, DkimSigner};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer};

mod common;
use common::{fixtures, python};

/// The message used in every case: folded and padded headers, a Japanese subject, trailing spaces and blank
/// lines in the body (what canonicalisation exists for).
const MESSAGE: &str = concat!(
    "From: =?UTF-8?B?5bGx55Sw?= <sales@interop.example>\r\n",
    "To:   buyer@example.org  \r\n",
    "Subject: =?ISO-2022-JP?B?GyRCOCsbKEI=?=\r\n",
    " \t folded  part\r\n",
    "Date: Mon, 3 Nov 2025 10:00:00 +0900\r\n",
    "Message-ID: <interop-1@interop.example>\r\n",
    "MIME-Version: 1.0\r\n",
    "Content-Type: text/plain; charset=utf-8\r\n",
    "\r\n",
    "Invoice   attached.  \r\n",
    "Please pay\tby Friday.\r\n",
    "\r\n",
    "\r\n",
);

const CANONS: [(&str, Canonicalization, Canonicalization); 3] = [
    (
        "relaxed/relaxed",
        Canonicalization::Relaxed,
        Canonicalization::Relaxed,
    ),
    (
        "simple/simple",
        Canonicalization::Simple,
        Canonicalization::Simple,
    ),
    (
        "relaxed/simple",
        Canonicalization::Relaxed,
        Canonicalization::Simple,
    ),
];

fn tamper(signed: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(signed);
    text.replace("Please pay", "Please PAY").into_bytes()
}

fn key_txt(name: &str) -> String {
    let read = |f: &str| {
        std::fs::read_to_string(fixtures().join("keys").join(f))
            .unwrap()
            .trim()
            .to_string()
    };
    match name {
        "rsa" => format!("v=DKIM1; k=rsa; p={}", read("rsa2048.pub.b64")),
        _ => format!("v=DKIM1; k=ed25519; p={}", read("ed25519.pub.b64")),
    }
}

fn run_python(py: &Path, args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let mut child = Command::new(py)
        .arg(fixtures().join("dkimpy_tool.py"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("running dkimpy_tool.py");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "dkimpy_tool.py {args:?} failed");
    out.stdout
}

/// mamori's DKIM results (one per signature) for a message, verified through `scan --dns-records`.
fn mamori_dkim(zone: &Path, message: &[u8], extra: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.eml");
    std::fs::write(&path, message).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(["scan", "--json", "--dns-records"])
        .arg(zone)
        .args(extra)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "scan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).unwrap();
    let verdict: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    verdict["auth"].clone()
}

#[test]
fn dkimpy_signs_mamori_verifies() {
    let Some(py) = python() else { return };
    let zone = fixtures().join("interop.zone");
    let keys = fixtures().join("keys");
    let mut table = Vec::new();
    for (selector, algorithm, keyfile) in [
        ("rsa", "rsa-sha256", "rsa2048.pem"),
        ("ed", "ed25519-sha256", "ed25519.seed.b64"),
    ] {
        for (canon, _, _) in CANONS {
            let signed = run_python(
                &py,
                &[
                    "sign",
                    keys.join(keyfile).to_str().unwrap(),
                    selector,
                    "interop.example",
                    algorithm,
                    canon,
                    "from:to:subject:date:message-id",
                ],
                MESSAGE.as_bytes(),
            );
            let envelope = [
                "--client-ip",
                "192.0.2.10",
                "--mail-from",
                "bounce@interop.example",
            ];
            let auth = mamori_dkim(&zone, &signed, &envelope);
            assert_eq!(auth["method"], "records");
            assert_eq!(
                auth["dkim"][0]["result"], "pass",
                "{algorithm} {canon}: {auth}"
            );
            assert_eq!(auth["dkim"][0]["algorithm"], algorithm);
            assert_eq!(auth["dkim"][0]["aligned"], true);
            assert_eq!(auth["dmarc"]["result"], "pass");
            let auth = mamori_dkim(&zone, &tamper(&signed), &envelope);
            assert_eq!(
                auth["dkim"][0]["result"], "fail",
                "{algorithm} {canon} tampered: {auth}"
            );
            // Without the aligned SPF pass, the broken signature leaves DMARC failing under p=reject.
            let auth = mamori_dkim(
                &zone,
                &tamper(&signed),
                &[
                    "--client-ip",
                    "198.51.100.9",
                    "--helo",
                    "mx.attacker.example",
                ],
            );
            assert_eq!(auth["dmarc"]["result"], "fail");
            assert_eq!(auth["dmarc"]["policy"], "reject");
            table.push(format!(
                "dkimpy→mamori {algorithm:<15} {canon:<16} intact=pass modified=fail"
            ));
        }
    }
    eprintln!("{}", table.join("\n"));
}

#[test]
fn mail_auth_signs_dkimpy_verifies() {
    let Some(py) = python() else { return };
    let keys = fixtures().join("keys");
    let rsa_pem = std::fs::read_to_string(keys.join("rsa2048.pem")).unwrap();
    let seed = decode_b64(&std::fs::read_to_string(keys.join("ed25519.seed.b64")).unwrap());
    let public = decode_b64(&std::fs::read_to_string(keys.join("ed25519.pub.b64")).unwrap());
    let headers = ["From", "To", "Subject", "Date", "Message-ID"];
    let mut table = Vec::new();
    for (canon, ch, cb) in CANONS {
        for algorithm in ["rsa-sha256", "ed25519-sha256"] {
            let (header, selector) = if algorithm == "rsa-sha256" {
                let der = PrivatePkcs1KeyDer::from_pem_slice(rsa_pem.as_bytes()).expect("PEM");
                let key =
                    RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs1(der)).expect("RSA key");
                let sig = DkimSigner::from_key(key)
                    .domain("interop.example")
                    .selector("rsa")
                    .headers(headers)
                    .header_canonicalization(ch)
                    .body_canonicalization(cb)
                    .sign(MESSAGE.as_bytes())
                    .expect("signing");
                (sig.to_header(), "rsa")
            } else {
                let key =
                    Ed25519Key::from_seed_and_public_key(&seed, &public).expect("Ed25519 key");
                let sig = DkimSigner::from_key(key)
                    .domain("interop.example")
                    .selector("ed")
                    .headers(headers)
                    .header_canonicalization(ch)
                    .body_canonicalization(cb)
                    .sign(MESSAGE.as_bytes())
                    .expect("signing");
                (sig.to_header(), "ed")
            };
            let signed = [header.as_bytes(), MESSAGE.as_bytes()].concat();
            let record = format!(
                "{selector}._domainkey.interop.example={}",
                key_txt(selector)
            );
            let verdict = run_python(&py, &["verify", "1024", &record], &signed);
            assert_eq!(
                String::from_utf8_lossy(&verdict).trim(),
                "pass",
                "dkimpy rejected mail-auth's {algorithm} {canon} signature:\n{header}"
            );
            let verdict = run_python(&py, &["verify", "1024", &record], &tamper(&signed));
            assert_eq!(String::from_utf8_lossy(&verdict).trim(), "fail");
            // And mamori agrees with itself on the same message.
            let auth = mamori_dkim(&fixtures().join("interop.zone"), &signed, &[]);
            assert_eq!(auth["dkim"][0]["result"], "pass", "{auth}");
            table.push(format!(
                "mail-auth→dkimpy {algorithm:<15} {canon:<16} intact=pass modified=fail"
            ));
        }
    }
    eprintln!("{}", table.join("\n"));
}

fn decode_b64(s: &str) -> Vec<u8> {
    mail_parser::decoders::base64::base64_decode(s.trim().as_bytes()).expect("base64")
}
