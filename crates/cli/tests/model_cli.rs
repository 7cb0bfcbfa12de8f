//! `mamori train`, `eval`, `learn` and `scan --model` end to end on a small synthetic corpus, including the bad
//! inputs that must give clear errors naming the file and line and change nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn mamori() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mamori"));
    // Never touch the developer's real data directory.
    c.env_remove("MAMORI_DATA_DIR")
        .env_remove("XDG_DATA_HOME")
        .env("HOME", "/nonexistent-home");
    c
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const HAM_WORDS: &[&str] = &[
    "meeting", "agenda", "kernel", "patch", "review", "minutes", "schedule", "build",
];
const SPAM_WORDS: &[&str] = &[
    "cheap", "pills", "casino", "winner", "discount", "offer", "viagra", "lottery",
];
const PHISH_WORDS: &[&str] = &[
    "verify",
    "password",
    "account",
    "suspended",
    "login",
    "confirm",
    "パスワード",
    "確認",
];

fn message(i: usize, words: &[&str], from: &str) -> String {
    let body: Vec<&str> = (0..12)
        .map(|k| words[(i * 7 + k * 3) % words.len()])
        .collect();
    format!(
        "From: Sender {i} <s{i}@{from}>\nTo: you@example.org\nSubject: {} {}\nMessage-ID: <{i}@{from}>\nDate: Tue, 3 Nov 2026 10:00:00 +0900\nContent-Type: text/plain; charset=utf-8\n\n{}\n",
        words[i % words.len()],
        words[(i + 1) % words.len()],
        body.join(" ")
    )
}

/// A corpus of 30 messages per class (phish also in an mbox) and its label file.
fn corpus(root: &Path) -> PathBuf {
    std::fs::create_dir_all(root.join("ham")).unwrap();
    std::fs::create_dir_all(root.join("spam")).unwrap();
    let mut labels = String::new();
    let mut mbox = String::new();
    for i in 0..30 {
        std::fs::write(
            root.join(format!("ham/{i:03}.eml")),
            message(i, HAM_WORDS, "lists.example.org"),
        )
        .unwrap();
        labels.push_str(&format!("ham/{i:03}.eml\tham\n"));
        std::fs::write(
            root.join(format!("spam/{i:03}.eml")),
            message(i, SPAM_WORDS, "promo.example"),
        )
        .unwrap();
        labels.push_str(&format!("spam/{i:03}.eml\tspam\n"));
        mbox.push_str(&format!(
            "From x@y Mon Jan  1 00:00:00 2001\n{}\n",
            message(i, PHISH_WORDS, "secure-bank.example")
        ));
        labels.push_str(&format!("phish.mbox#{i}\tphish\n"));
    }
    std::fs::write(root.join("phish.mbox"), mbox).unwrap();
    let path = root.join("synthetic.tsv");
    std::fs::write(&path, labels).unwrap();
    path
}

#[test]
fn train_eval_learn_and_scan_with_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("corpus");
    let labels = corpus(&root);
    let model = dir.path().join("m.mmdl");
    let out = mamori()
        .args(["train", "--bits", "16", "--corpus"])
        .arg(&root)
        .arg("--labels")
        .arg(&labels)
        .arg("-o")
        .arg(&model)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("trained on 90 messages (30 ham, 30 spam, 30 phish)"),
        "{}",
        stderr(&out)
    );
    // Reproducible: the same data and seed give the same bytes.
    let again = dir.path().join("m2.mmdl");
    let out = mamori()
        .args(["train", "--bits", "16", "--corpus"])
        .arg(&root)
        .arg("--labels")
        .arg(&labels)
        .arg("-o")
        .arg(&again)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&model).unwrap(),
        std::fs::read(&again).unwrap()
    );

    let out = mamori()
        .args(["eval", "--json", "--model"])
        .arg(&model)
        .arg("--corpus")
        .arg(&root)
        .arg("--labels")
        .arg(&labels)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["schema"], "mamori.eval/1");
    assert_eq!(report["report"]["messages"], 90);
    assert!(
        report["report"]["accuracy"].as_f64().unwrap() > 0.95,
        "{report}"
    );
    assert!(
        report["report"]["auc_not_ham"].as_f64().unwrap() > 0.95,
        "{report}"
    );

    // Scan with the trained model: the phishing message gets probabilities and an explained finding.
    let phish = dir.path().join("p.eml");
    std::fs::write(&phish, message(3, PHISH_WORDS, "secure-bank.example")).unwrap();
    let out = mamori()
        .args(["scan", "--json", "--model"])
        .arg(&model)
        .arg(&phish)
        .output()
        .unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    assert!(v["probability"]["phish"].as_f64().unwrap() > 0.5, "{v}");
    let finding = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "content.model.phish")
        .cloned();
    let finding = finding.unwrap_or_else(|| panic!("no content.model.phish in {v}"));
    assert!(
        finding["evidence"]
            .to_string()
            .contains("strongest phish features"),
        "{finding}"
    );
    // --no-model: rules only.
    let out = mamori()
        .args(["scan", "--json", "--no-model"])
        .arg(&phish)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.get("probability").is_none(), "{v}");

    // learn: the local model in the data directory, then preferred by scan.
    let data = dir.path().join("data");
    let ham = dir.path().join("h.eml");
    std::fs::write(&ham, message(5, PHISH_WORDS, "secure-bank.example")).unwrap();
    let out = mamori()
        .args(["learn", "--as", "ham", "--model"])
        .arg(&model)
        .arg("--data-dir")
        .arg(&data)
        .arg(&ham)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let local = data.join("model.mmdl");
    assert!(local.is_file());
    let out = mamori()
        .args(["scan", "--json", "--data-dir"])
        .arg(&data)
        .arg(&ham)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["probability"]["ham"].as_f64().unwrap() >= 0.85, "{v}");

    // A failed learn changes nothing.
    let before = std::fs::read(&local).unwrap();
    let out = mamori()
        .args(["learn", "--as", "spam", "--data-dir"])
        .arg(&data)
        .arg(&ham)
        .arg(dir.path().join("missing.eml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.eml"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&local).unwrap(), before);

    // A corrupt local model is an error, not a silent fall-back.
    let mut bytes = before.clone();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&local, &bytes).unwrap();
    let out = mamori()
        .args(["scan", "--data-dir"])
        .arg(&data)
        .arg(&ham)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("checksum"), "{}", stderr(&out));
}

#[test]
fn bad_labels_and_models_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("corpus");
    let good = corpus(&root);
    let text = std::fs::read_to_string(&good).unwrap();
    let out_model = dir.path().join("never.mmdl");
    let train = |labels: &Path| {
        mamori()
            .args(["train", "--bits", "12", "--corpus"])
            .arg(&root)
            .arg("--labels")
            .arg(labels)
            .arg("-o")
            .arg(&out_model)
            .output()
            .unwrap()
    };
    let case = |name: &str, content: String, want: &[&str]| {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let out = train(&path);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        for w in want {
            assert!(
                stderr(&out).contains(w),
                "{name}: {w:?} not in {}",
                stderr(&out)
            );
        }
        assert!(!out_model.exists(), "{name}: a model was written");
    };
    case(
        "unknown.tsv",
        format!("{text}ham/001.eml\tbounce\n"),
        &["unknown.tsv:91", "unknown label \"bounce\""],
    );
    case(
        "notab.tsv",
        format!("ham/000.eml ham\n{text}"),
        &["notab.tsv:1", "path<TAB>label"],
    );
    case(
        "missing.tsv",
        format!("{text}ham/nope.eml\tham\n"),
        &["missing.tsv:91", "does not exist"],
    );
    case(
        "beyond.tsv",
        format!("{text}phish.mbox#99\tphish\n"),
        &["beyond.tsv:91", "phish.mbox#99", "holds 30"],
    );
    case(
        "repeat.tsv",
        format!("{text}ham/000.eml\tspam\n"),
        &["repeat.tsv:91", "already labelled on line 1"],
    );
    let no_phish: String = text
        .lines()
        .filter(|l| !l.ends_with("phish"))
        .map(|l| format!("{l}\n"))
        .collect();
    case(
        "nophish.tsv",
        no_phish,
        &["no training examples labelled phish"],
    );
    std::fs::write(root.join("junk.bin"), [0u8, 1, 2, 3, 255, 254]).unwrap();
    case(
        "junk.tsv",
        format!("{text}junk.bin\tham\n"),
        &["junk.tsv:91", "does not parse as mail"],
    );

    // Model files: truncated, foreign, another version.
    let model = dir.path().join("m.mmdl");
    let out = train(&good);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    std::fs::rename(&out_model, &model).unwrap();
    let bytes = std::fs::read(&model).unwrap();
    let msg = dir.path().join("x.eml");
    std::fs::write(&msg, message(1, HAM_WORDS, "lists.example.org")).unwrap();
    let scan_with = |name: &str, content: &[u8], want: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let out = mamori()
            .args(["scan", "--model"])
            .arg(&path)
            .arg(&msg)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(
            stderr(&out).contains(want) && stderr(&out).contains(name),
            "{name}: {}",
            stderr(&out)
        );
    };
    scan_with("truncated.mmdl", &bytes[..bytes.len() / 3], "corrupt");
    scan_with(
        "foreign.mmdl",
        b"%PDF-1.7 not a model",
        "not a mamori model file",
    );
    let mut v2 = bytes.clone();
    v2[8] = 2;
    scan_with("v2.mmdl", &v2, "format version 2 is not supported");
}
