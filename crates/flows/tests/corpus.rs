//! Detection on the real Zeek captures (Stratosphere CTU scenarios, RITA test logs). Needs the unpacked corpora:
//! `MAMORI_CORPORA` points at the directory holding `zeek/`. Skipped with a message when unset.

use std::path::PathBuf;

use mamori_flows::eval;

fn zeek_dir() -> Option<PathBuf> {
    let Some(root) = std::env::var_os("MAMORI_CORPORA") else {
        eprintln!("skipped: MAMORI_CORPORA not set");
        return None;
    };
    let dir = PathBuf::from(root).join("zeek");
    assert!(
        dir.is_dir(),
        "MAMORI_CORPORA is set but {} does not exist",
        dir.display()
    );
    Some(dir)
}

#[test]
fn labelled_c2_ranks_in_the_top_three_and_normal_days_stay_quiet() {
    let Some(dir) = zeek_dir() else { return };
    let report = eval::run(&dir, 0.8, false).expect("evaluation runs");
    let by_name = |n: &str| {
        report
            .scenarios
            .iter()
            .find(|s| s.name == n)
            .unwrap_or_else(|| panic!("scenario {n}"))
    };

    // NjRAT: the labelled C2 (41.108.179.197:1177, the destination of the scenario's 237 "Malicious CC" flows).
    let njrat = by_name("001-njrat");
    let c2 = njrat
        .c2
        .iter()
        .find(|c| c.destination.to_string() == "41.108.179.197")
        .expect("C2 label found");
    let rank = c2.beacon_rank.expect("C2 has a beacon alert");
    assert!(rank <= 3, "NjRAT C2 beacon rank {rank}");
    assert!(c2.beacon_score.unwrap_or(0.0) >= 0.8, "{c2:?}");

    // RITA's jittered HTTP beacon (every 200-350 s over three days of hourly gzip logs).
    let rita = by_name("rita-missing-host");
    assert!(rita.records > 100_000, "{}", rita.records);
    let c2 = &rita.c2[0];
    assert!(c2.beacon_rank.is_some_and(|r| r <= 3), "{c2:?}");

    // Normal days: a handful of high-score alerts at most (benign update/telemetry services beacon too).
    for s in report.scenarios.iter().filter(|s| s.normal) {
        assert!(s.records > 4_000, "{}: {} records", s.name, s.records);
        assert!(
            s.high_alerts <= 5,
            "{}: {} high-score alerts: {:?}",
            s.name,
            s.high_alerts,
            s.top
        );
        assert_eq!(s.skipped, 0, "{}", s.name);
    }
}

#[test]
fn rita_json_and_truncated_logs_parse() {
    let Some(dir) = zeek_dir() else { return };
    use mamori_flows::ingest::{ErrorMode, IngestOptions, IngestStats, ingest_file};
    use mamori_flows::record::ConnRecord;
    let rita = dir.join("rita-test-data");
    let mut stats = IngestStats::default();
    let mut n = 0u64;
    let strict = IngestOptions {
        mode: ErrorMode::Strict,
        ..IngestOptions::default()
    };
    ingest_file(
        &rita.join("json_with_all_fields/conn.log"),
        &strict,
        &mut |_: &ConnRecord| n += 1,
        &mut stats,
    )
    .expect("Zeek JSON conn.log parses strictly");
    assert_eq!(n, 29);
    // `truncated/conn.log` ends in the middle of a record: strict mode names the line, skip mode keeps the rest.
    let err = ingest_file(
        &rita.join("truncated/conn.log"),
        &strict,
        &mut |_: &ConnRecord| {},
        &mut stats,
    )
    .expect_err("a cut-off record is an error in strict mode");
    assert!(err.to_string().contains("truncated/conn.log:"), "{err}");
    let mut stats = IngestStats::default();
    let mut kept = 0u64;
    ingest_file(
        &rita.join("truncated/conn.log"),
        &IngestOptions::default(),
        &mut |_: &ConnRecord| kept += 1,
        &mut stats,
    )
    .unwrap();
    assert!(kept > 50 && stats.skipped_total() >= 1, "{kept} {stats:?}");
    // A text file is not a conn.log.
    let mut stats = IngestStats::default();
    ingest_file(
        &rita.join("text_file/conn.log"),
        &IngestOptions::default(),
        &mut |_: &ConnRecord| {},
        &mut stats,
    )
    .unwrap();
    assert_eq!(stats.records, 0);
    // Five non-empty lines of lorem ipsum, each counted.
    assert_eq!(stats.skipped.get("malformed.no_header"), Some(&5));
}
