//! `mamori scan --dns-records` on SpamAssassin's DKIM test messages (t/data/dkim, in the shared corpora) with the
//! records in `crates/auth/tests/fixtures/sa/sa-test.zone`: the SPF, DKIM and DMARC results must be the expected
//! ones. Where dkimpy is available (MAMORI_PYTHON), the recovered t0768 key is cross-checked with it, and every
//! test-pass message is re-signed by dkimpy with a 2048-bit key and must then pass in mamori (SpamAssassin's header
//! order, duplicate-header and line-ending edge cases with a key mamori accepts).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

fn corpus() -> Option<PathBuf> {
    match std::env::var_os("MAMORI_CORPORA") {
        Some(c) => Some(PathBuf::from(c).join("sa-testdata/dkim")),
        None => {
            eprintln!("skipped: MAMORI_CORPORA not set");
            None
        }
    }
}

fn zone() -> PathBuf {
    common::fixtures().join("sa/sa-test.zone")
}

/// (spf, first dkim result or "none", dmarc, dmarc policy) per file name.
fn scan(zone: &Path, files: &[PathBuf], envelope: &[&str]) -> BTreeMap<String, [String; 4]> {
    let out = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(["scan", "--json", "--dns-records"])
        .arg(zone)
        .args(envelope)
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut results = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let name = v["source"]["path"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        let a = &v["auth"];
        let s = |x: &serde_json::Value| x.as_str().unwrap_or("-").to_string();
        let dkim = match a["dkim"].as_array() {
            Some(sigs) if !sigs.is_empty() => {
                let r = s(&sigs[0]["result"]);
                let reason = s(&sigs[0]["reason"]);
                if reason.contains("768 bits") {
                    format!("{r} (768-bit key)")
                } else if reason.contains("no key record") {
                    format!("{r} (no key)")
                } else if reason.contains("revoked") {
                    format!("{r} (revoked)")
                } else {
                    r
                }
            }
            _ => "none".to_string(),
        };
        results.insert(
            name,
            [
                s(&a["spf"]["result"]),
                dkim,
                s(&a["dmarc"]["result"]),
                s(&a["dmarc"]["policy"]),
            ],
        );
    }
    results
}

fn files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut f: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".msg"))
        })
        .collect();
    f.sort();
    f
}

#[test]
fn spamassassin_dkim_messages_give_the_expected_results() {
    let Some(dir) = corpus() else { return };
    let mut signed = files(&dir, "test-pass-");
    signed.extend(files(&dir, "test-fail-"));
    assert_eq!(signed.len(), 32);
    // 192.0.2.1 may send for sa-test.spamassassin.org: SPF passes and carries DMARC.
    let got = scan(
        &zone(),
        &signed,
        &[
            "--client-ip",
            "192.0.2.1",
            "--mail-from",
            "test@sa-test.spamassassin.org",
        ],
    );
    let weak = "fail (768-bit key)";
    let nokey = "permerror (no key)";
    let mut expected: BTreeMap<String, [&str; 4]> = BTreeMap::new();
    for n in 1..=23 {
        let dkim = if n <= 8 || n == 17 { weak } else { nokey };
        expected.insert(
            format!("test-pass-{n:02}.msg"),
            ["pass", dkim, "pass", "reject"],
        );
    }
    for (n, dkim) in [
        (1, "none"),
        (2, weak),
        (3, weak),
        (4, weak),
        (5, "permerror (revoked)"),
        (6, nokey),
        (7, weak),
        (8, nokey),
    ] {
        expected.insert(
            format!("test-fail-{n:02}.msg"),
            ["pass", dkim, "pass", "reject"],
        );
    }
    // From sa-test-nxd.spamassassin.org, which publishes nothing.
    expected.insert(
        "test-fail-09.msg".into(),
        ["pass", nokey, "none", "unspecified"],
    );
    let mut table = String::new();
    for (name, want) in &expected {
        let have = got.get(name).unwrap_or_else(|| panic!("{name} missing"));
        table.push_str(&format!("{name}\t{}\n", have.join("\t")));
        assert_eq!(
            have.iter().map(String::as_str).collect::<Vec<_>>(),
            want.to_vec(),
            "{name}"
        );
    }

    // Unsigned messages from domains with (ADSP-turned-DMARC) policies, sent from an unauthorised client.
    let mut adsp = BTreeMap::new();
    for file in files(&dir, "test-adsp-") {
        let text = std::fs::read_to_string(&file).unwrap();
        let domain = text
            .lines()
            .find(|l| l.starts_with("From:"))
            .and_then(|l| l.split('@').nth(1))
            .map(|d| d.trim_end_matches('>').to_string())
            .unwrap();
        let mail_from = format!("test@{domain}");
        adsp.extend(scan(
            &zone(),
            std::slice::from_ref(&file),
            &["--client-ip", "198.51.100.25", "--mail-from", &mail_from],
        ));
    }
    let want_adsp = [
        ("test-adsp-11.msg", "fail", "none"),
        ("test-adsp-12.msg", "none", "unspecified"),
        ("test-adsp-13.msg", "fail", "quarantine"),
        ("test-adsp-14.msg", "fail", "reject"),
        ("test-adsp-15.msg", "fail", "reject"),
        ("test-adsp-16.msg", "permerror", "unspecified"),
        ("test-adsp-17.msg", "fail", "none"),
        ("test-adsp-18.msg", "fail", "quarantine"),
        ("test-adsp-19.msg", "fail", "reject"),
        ("test-adsp-20.msg", "fail", "reject"),
        ("test-adsp-21.msg", "fail", "reject"),
        ("test-adsp-22.msg", "fail", "reject"),
    ];
    for (name, dmarc, policy) in want_adsp {
        let have = &adsp[name];
        table.push_str(&format!("{name}\t{}\n", have.join("\t")));
        assert_eq!(
            (have[0].as_str(), have[1].as_str()),
            ("none", "none"),
            "{name}"
        );
        assert_eq!(
            (have[2].as_str(), have[3].as_str()),
            (dmarc, policy),
            "{name}"
        );
    }
    eprintln!("file\tspf\tdkim\tdmarc\tpolicy\n{table}");
}

/// The t0768 record in the zone file.
fn t0768_record() -> String {
    let text = std::fs::read_to_string(zone()).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("t0768._domainkey"))
        .unwrap();
    line.split('"').nth(1).unwrap().to_string()
}

#[test]
fn recovered_key_and_regenerated_signatures_agree_with_dkimpy() {
    let Some(dir) = corpus() else { return };
    let Some(py) = common::python() else { return };
    let tool = common::fixtures().join("dkimpy_tool.py");
    let record = format!(
        "t0768._domainkey.sa-test.spamassassin.org={}",
        t0768_record()
    );
    // dkimpy accepts keys down to 512 bits when told: the recovered key verifies exactly the messages SpamAssassin
    // says are good, so mamori's "fail" on them is the RFC 8301 key-size rule, not a wrong record.
    for (name, want) in [
        ("test-pass-01.msg", "pass"),
        ("test-pass-02.msg", "pass"),
        ("test-pass-05.msg", "pass"),
        ("test-pass-07.msg", "pass"),
        ("test-pass-08.msg", "pass"),
        ("test-pass-17.msg", "pass"),
        ("test-fail-02.msg", "fail"),
        ("test-fail-03.msg", "fail"),
        ("test-fail-04.msg", "fail"),
        ("test-fail-07.msg", "fail"),
    ] {
        let out = Command::new(&py)
            .arg(&tool)
            .args(["verify", "512", &record])
            .stdin(std::fs::File::open(dir.join(name)).unwrap())
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), want, "{name}");
    }

    // Re-sign every test-pass message with a 2048-bit key (same c= and h= as the original), then verify in mamori.
    let tmp = tempfile::tempdir().unwrap();
    let keys = common::fixtures().join("keys");
    let public = std::fs::read_to_string(keys.join("rsa2048.pub.b64")).unwrap();
    let mut zone_text = std::fs::read_to_string(zone()).unwrap();
    let (head, tail) = public.trim().split_at(200);
    zone_text.push_str(&format!(
        "\n$ORIGIN sa-test.spamassassin.org.\nregen._domainkey IN TXT ( \"v=DKIM1; k=rsa; p={head}\" \"{tail}\" )\n"
    ));
    let zone_path = tmp.path().join("regen.zone");
    std::fs::write(&zone_path, zone_text).unwrap();
    let mut regenerated = Vec::new();
    for file in files(&dir, "test-pass-") {
        let raw = std::fs::read(&file).unwrap();
        let (stripped, c, h) = strip_signature(&raw);
        let out = Command::new(&py)
            .arg(&tool)
            .args([
                "sign",
                keys.join("rsa2048.pem").to_str().unwrap(),
                "regen",
                "sa-test.spamassassin.org",
                "rsa-sha256",
                &c,
                &h,
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(&stripped)?;
                child.wait_with_output()
            })
            .unwrap();
        assert!(out.status.success(), "signing {}", file.display());
        let path = tmp.path().join(file.file_name().unwrap());
        std::fs::write(&path, out.stdout).unwrap();
        regenerated.push(path);
    }
    let got = scan(&zone_path, &regenerated, &[]);
    assert_eq!(got.len(), 23);
    for (name, r) in &got {
        assert_eq!(r[1], "pass", "{name} re-signed by dkimpy: {r:?}");
    }
}

/// Removes the DKIM-Signature field (with its continuation lines); returns the message and the signature's c= and
/// h= values.
fn strip_signature(raw: &[u8]) -> (Vec<u8>, String, String) {
    let text = String::from_utf8_lossy(raw).to_string();
    let mut out = String::new();
    let mut sig = String::new();
    let mut in_sig = false;
    let mut in_headers = true;
    for line in text.split_inclusive('\n') {
        if in_headers && (line == "\n" || line == "\r\n") {
            in_headers = false;
        }
        if in_headers && line.to_ascii_lowercase().starts_with("dkim-signature:") {
            in_sig = true;
            sig.push_str(line);
            continue;
        }
        if in_sig && (line.starts_with(' ') || line.starts_with('\t')) {
            sig.push_str(line);
            continue;
        }
        in_sig = false;
        out.push_str(line);
    }
    let tag = |name: &str| -> String {
        sig.split(';')
            .filter_map(|t| t.split_once('='))
            .find(|(k, _)| {
                k.trim().eq_ignore_ascii_case(name) || k.trim().ends_with(&format!(" {name}"))
            })
            .map(|(_, v)| v.split_whitespace().collect::<String>())
            .unwrap_or_default()
    };
    let c = match tag("c").as_str() {
        "" => "simple/simple".to_string(),
        c if !c.contains('/') => format!("{c}/simple"),
        c => c.to_string(),
    };
    (out.into_bytes(), c, tag("h"))
}
