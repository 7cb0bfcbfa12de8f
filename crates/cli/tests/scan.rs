//! `mamori scan` end to end: input adapters, output formats, exit status, and (with MAMORI_CORPORA) one verdict
//! per message over every shared corpus.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn mamori() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mamori"))
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/mail/spear-phish-ja.eml")
}

fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

const CLEAN: &str = "From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: lunch\nDate: Tue, 3 Nov 2026 10:00:00 +0900\nMessage-ID: <1@example.org>\nReceived: from a.example.org by b.example.org; Tue, 3 Nov 2026 10:00:01 +0900\n\nSee you at noon.\n";

#[test]
fn example_is_flagged_with_explained_findings() {
    let out = mamori()
        .args(["scan", "--json"])
        .arg(example())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdicts = json_lines(&out);
    assert_eq!(verdicts.len(), 1);
    let v = &verdicts[0];
    assert_eq!(v["schema"], "mamori.verdict/1");
    assert_eq!(v["class"], "malware");
    assert_eq!(v["message"]["subject"], "【至急】請求書の件");
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    for id in [
        "attachment.executable",
        "attachment.name.double_extension",
        "identity.display_name.address",
        "link.ip_literal",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert!(
        v["attack"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "T1566.001")
    );
    assert!(!v["indicators"]["files"].as_array().unwrap().is_empty());
    assert!(v["elapsed_us"].as_u64().is_some());

    let explain = mamori()
        .args(["scan", "--explain"])
        .arg(example())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&explain.stdout);
    assert!(text.contains("請求書.pdf.exe"), "{text}");
    assert!(text.contains("ATT&CK"));
}

#[test]
fn stdin_clean_message_exits_zero() {
    let mut child = mamori()
        .args(["scan", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(CLEAN.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = &json_lines(&out)[0];
    assert_eq!(v["class"], "clean");
    assert_eq!(v["source"]["path"], "-");
}

#[test]
fn missing_input_exits_two_but_scans_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.eml");
    std::fs::write(&good, CLEAN).unwrap();
    let out = mamori()
        .args(["scan", "--json"])
        .arg(dir.path().join("missing.eml"))
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.eml"));
    assert_eq!(json_lines(&out).len(), 1);
}

#[test]
fn directory_with_mbox_maildir_and_noise_gives_one_verdict_per_message() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("one.eml"), CLEAN).unwrap();
    std::fs::write(root.join("README.md"), "# not mail\n").unwrap();
    let mbox = format!(
        "From a@b Mon Jan  1 00:00:00 2001\n{CLEAN}\nFrom c@d Mon Jan  1 00:00:00 2001\n{CLEAN}\n"
    );
    std::fs::write(root.join("box.mbox"), mbox).unwrap();
    for sub in ["md/cur", "md/new", "md/tmp"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    std::fs::write(root.join("md/new/1"), CLEAN).unwrap();
    std::fs::write(root.join("md/cur/2:2,S"), CLEAN).unwrap();
    let out = mamori()
        .args(["scan", "--json"])
        .arg(root)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdicts = json_lines(&out);
    assert_eq!(verdicts.len(), 5);
    let mbox_indexes: Vec<u64> = verdicts
        .iter()
        .filter(|v| v["source"]["path"].as_str().unwrap().ends_with("box.mbox"))
        .map(|v| v["source"]["index"].as_u64().unwrap())
        .collect();
    assert_eq!(mbox_indexes, vec![0, 1]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 non-mail files skipped"));

    // Forced formats.
    let out = mamori()
        .args(["scan", "--json", "--format", "mbox"])
        .arg(root.join("box.mbox"))
        .output()
        .unwrap();
    assert_eq!(json_lines(&out).len(), 2);
    let out = mamori()
        .args(["scan", "--format", "maildir"])
        .arg(root.join("md"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = mamori()
        .args(["scan", "--format", "maildir"])
        .arg(root.join("one.eml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn hostile_inputs_yield_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.eml");
    std::fs::write(&empty, b"").unwrap();
    let garbage = dir.path().join("garbage.bin");
    std::fs::write(
        &garbage,
        (0..65_536u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let out = mamori()
        .args(["scan", "--json"])
        .arg(&empty)
        .arg(&garbage)
        .output()
        .unwrap();
    let verdicts = json_lines(&out);
    assert_eq!(verdicts.len(), 2);
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(ids(&verdicts[0]).contains(&"malformed.empty".to_string()));
    assert!(ids(&verdicts[1]).contains(&"malformed.not_mail".to_string()));
}

#[test]
fn bad_config_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("mamori.toml");
    std::fs::write(&cfg, "[scoring]\nflag_treshold = 3\n").unwrap();
    let out = mamori()
        .args(["scan", "--config"])
        .arg(&cfg)
        .arg(example())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("flag_treshold") && err.contains("mamori.toml"),
        "{err}"
    );
}

#[test]
fn every_corpus_gives_one_json_verdict_per_message() {
    let Some(root) = std::env::var_os("MAMORI_CORPORA").map(PathBuf::from) else {
        eprintln!("skipped: MAMORI_CORPORA not set");
        return;
    };
    for (corpus, expected) in [
        ("spamassassin", 6046),
        ("nazario", 1308),
        ("phishing_pot", 2633),
        ("lore", 2252),
        ("sa-testdata", 184),
        ("japanese", 889),
    ] {
        let out = mamori()
            .args(["scan", "--json"])
            .arg(root.join(corpus))
            .output()
            .unwrap();
        assert_ne!(
            out.status.code(),
            Some(2),
            "{corpus}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let verdicts = json_lines(&out);
        assert_eq!(verdicts.len(), expected, "{corpus}");
        assert!(verdicts.iter().all(|v| v["schema"] == "mamori.verdict/1"));
    }
}

#[test]
fn documented_configuration_example_is_valid() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/config.md"))
            .unwrap();
    let start = doc.find("```toml\n").expect("a toml block") + 8;
    let end = start + doc[start..].find("```").expect("end of block");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("mamori.toml");
    std::fs::write(&cfg, &doc[start..end]).unwrap();
    let out = mamori()
        .args(["scan", "--json", "--config"])
        .arg(&cfg)
        .arg(example())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `received.*` is disabled in the example.
    let v = &json_lines(&out)[0];
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| !f["id"].as_str().unwrap().starts_with("received."))
    );
}

/// The default build scans attachments with YARA-X: the built-in EICAR rule fires on an attached test file
/// (nested in a ZIP too would work the same way; the plain attachment keeps the test small).
#[cfg(feature = "yara")]
#[test]
fn default_build_scans_attachments_with_yara() {
    // The EICAR test string, assembled here so this source file is not itself an EICAR sample.
    let eicar = [
        "X5O!P%@AP[4\\PZX54(P^)7CC)7}$",
        "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
    ]
    .concat();
    let b64 = {
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for c in eicar.as_bytes().chunks(3) {
            let n = c
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
            for i in 0..4 {
                out.push(if i <= c.len() {
                    T[(n >> (18 - 6 * i) & 63) as usize] as char
                } else {
                    '='
                });
            }
        }
        out
    };
    let msg = format!(
        "From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: test file\nDate: Tue, 3 Nov 2026 10:00:00 +0900\nMessage-ID: <y@example.org>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nsee attached\n--b\nContent-Type: application/octet-stream; name=\"test.bin\"\nContent-Disposition: attachment; filename=\"test.bin\"\nContent-Transfer-Encoding: base64\n\n{b64}\n--b--\n"
    );
    let mut child = mamori()
        .args(["scan", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(msg.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let verdicts = json_lines(&out);
    assert_eq!(
        verdicts.len(),
        1,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings = verdicts[0]["findings"].as_array().unwrap();
    let yara = findings
        .iter()
        .find(|f| f["id"] == "yara.match")
        .unwrap_or_else(|| panic!("no yara.match in {findings:#?}"));
    assert!(
        yara["evidence"].to_string().contains("mamori_eicar"),
        "{yara}"
    );
}
