//! End-to-end `mamori flows …` runs of the built binary: synth → analyse (table, JSON, nft), strict-mode errors,
//! bench on a small day, eval on the real corpus when MAMORI_CORPORA is set.

use std::path::Path;
use std::process::{Command, Output};

fn mamori(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(args)
        .output()
        .expect("mamori runs")
}

fn synth(dir: &Path) -> String {
    let log = dir.join("conn.log");
    let out = mamori(&[
        "flows",
        "synth",
        "-o",
        log.to_str().unwrap(),
        "--records",
        "60000",
        "--hosts",
        "40",
        "--seed",
        "3",
        "--beacon",
        "120:0.2:0.1",
        "--exfil",
        "12:30000000",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    log.to_str().unwrap().to_string()
}

#[test]
fn synth_then_analyse_finds_the_planted_beacon_and_exfil() {
    let dir = tempfile::tempdir().unwrap();
    let log = synth(dir.path());
    let out = mamori(&["flows", "analyse", &log, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "flagged → exit 1; {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["schema_version"], 1);
    let alerts = report["alerts"].as_array().unwrap();
    let beacon = alerts
        .iter()
        .find(|a| a["kind"] == "beacon" && a["destination"]["ip"] == "198.18.0.0")
        .expect("planted beacon reported");
    assert!(beacon["score"].as_f64().unwrap() >= 0.8, "{beacon}");
    assert_eq!(beacon["attack"][0]["id"], "T1071.001");
    assert_eq!(beacon["finding_id"], "flow.beacon");
    let exfil = alerts
        .iter()
        .find(|a| a["kind"] == "bulk_outbound")
        .expect("planted exfil reported");
    assert_eq!(exfil["destination"]["ip"], "198.18.3.232");
    let ids: Vec<&str> = exfil["attack"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    // Twelve equal chunks at regular times to a host with no C2 heartbeat: alternative protocol, scheduled,
    // size-limited.
    assert_eq!(ids, ["T1048", "T1029", "T1030"]);

    let table = mamori(&["flows", "analyse", &log, "--top", "3"]);
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(
        text.contains("rank  score") && text.lines().count() == 5,
        "{text}"
    );

    let nft = mamori(&["flows", "analyse", &log, "--emit", "nft"]);
    let text = String::from_utf8(nft.stdout).unwrap();
    assert!(text.starts_with("#!/usr/sbin/nft -f"), "{text}");
    assert!(
        text.contains("add element inet mamori mamori_block { ") && text.contains("198.18.0.0"),
        "{text}"
    );
    let json = mamori(&[
        "flows",
        "analyse",
        &log,
        "--emit",
        "nft-json",
        "--nft-timeout",
        "86400",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(v["nftables"].as_array().unwrap().len() >= 4);
}

#[test]
fn strict_mode_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bad.log");
    std::fs::write(
        &log,
        "#fields\tts\tid.orig_h\tid.resp_h\n1.0\t10.0.0.1\t8.8.8.8\n2.0\tnot-an-ip\t8.8.8.8\n",
    )
    .unwrap();
    let out = mamori(&["flows", "analyse", log.to_str().unwrap(), "--strict"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.log:3: field id.orig_h: invalid address \"not-an-ip\""),
        "{err}"
    );
    let out = mamori(&["flows", "analyse", log.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("skipped 1 malformed line(s)"));
}

#[test]
fn bench_runs_on_a_small_day() {
    let out = mamori(&["flows", "bench", "--records", "20000"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("records/s") && text.contains("peak RSS"),
        "{text}"
    );
}

#[test]
fn eval_on_the_real_corpus() {
    let Some(root) = std::env::var_os("MAMORI_CORPORA") else {
        eprintln!("skipped: MAMORI_CORPORA not set");
        return;
    };
    let data = Path::new(&root).join("zeek");
    let out = mamori(&[
        "flows",
        "eval",
        "--data",
        data.to_str().unwrap(),
        "--no-synthetic",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let njrat = v["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "001-njrat")
        .unwrap();
    assert_eq!(njrat["c2"][0]["destination"], "41.108.179.197");
    assert!(njrat["c2"][0]["beacon_rank"].as_u64().unwrap() <= 3);
}
