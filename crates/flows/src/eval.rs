//! Evaluation: run the analytics over the unpacked Stratosphere/RITA Zeek corpus (C2 rank in labelled malware
//! scenarios, high-score alert counts on normal-traffic days) and over synthetic days with planted beacons
//! (detection rate against jitter and missed beats, false positives on the background).

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::aggregate::{AggregateOptions, FlowAggregator};
use crate::alert::{AlertKind, Evidence, FlowAlert};
use crate::ingest::{IngestError, IngestOptions, IngestStats, RecordSink, ingest_reader};
use crate::network::{NetworkPolicy, parse_net};
use crate::report::Analyzer;
use crate::synth::{self, PlantedBeacon, SynthConfig};

/// Errors of the evaluation.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A scenario's files could not be read.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// The data directory does not hold the expected corpus.
    #[error(
        "{0}: not found (expected the unpacked zeek corpus: stratosphere-security-datasets-for-testing/, rita-test-data/)"
    )]
    Missing(String),
    /// Generating synthetic data failed.
    #[error("synthetic data: {0}")]
    Synth(#[from] std::io::Error),
}

/// Where a labelled C2 destination ranks.
#[derive(Debug, Clone, Serialize)]
pub struct C2Rank {
    /// C2 address.
    pub destination: IpAddr,
    /// Where the label comes from.
    pub label_source: String,
    /// Rank among beacon alerts of the scenario (1 = top), if it has a beacon alert.
    pub beacon_rank: Option<u32>,
    /// Its beacon score.
    pub beacon_score: Option<f64>,
    /// Rank among all alerts.
    pub overall_rank: Option<u32>,
    /// Beacon alerts in the scenario.
    pub beacon_alerts: usize,
}

/// One alert, abbreviated.
#[derive(Debug, Clone, Serialize)]
pub struct AlertLine {
    /// Rank.
    pub rank: u32,
    /// Kind.
    pub kind: AlertKind,
    /// Score.
    pub score: f64,
    /// Source.
    pub source: IpAddr,
    /// Destination.
    pub destination: IpAddr,
    /// First destination port.
    pub port: u16,
    /// Label of the destination in the scenario's labels, if any.
    pub label: Option<String>,
    /// Summary.
    pub summary: String,
}

/// Result for one real scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    /// Scenario name.
    pub name: String,
    /// What it is.
    pub description: String,
    /// Normal traffic (counts of high alerts are false-positive candidates).
    pub normal: bool,
    /// Records ingested.
    pub records: u64,
    /// Lines skipped as malformed.
    pub skipped: u64,
    /// Outbound pairs.
    pub pairs: u64,
    /// All alerts (score ≥ 0.5).
    pub alerts: usize,
    /// Alerts at or above the high threshold.
    pub high_alerts: usize,
    /// High alerts by kind.
    pub high_by_kind: std::collections::BTreeMap<String, usize>,
    /// Labelled C2 destinations and their ranks.
    pub c2: Vec<C2Rank>,
    /// The top alerts.
    pub top: Vec<AlertLine>,
}

/// One row of the synthetic jitter table.
#[derive(Debug, Clone, Serialize)]
pub struct JitterRow {
    /// Jitter (fraction of the interval).
    pub jitter: f64,
    /// Missed-beat rate.
    pub miss_rate: f64,
    /// Beacons planted with these settings.
    pub planted: usize,
    /// Detected at score ≥ 0.6 (medium).
    pub detected_medium: usize,
    /// Detected at score ≥ 0.8 (high).
    pub detected_high: usize,
    /// Detected at ≥ 0.6 using interval regularity alone (RITA-style timing), for comparison.
    pub intervals_only_medium: usize,
    /// Median beacon score.
    pub median_score: f64,
}

/// The synthetic evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct SyntheticResult {
    /// Background records.
    pub background_records: u64,
    /// Internal hosts.
    pub internal_hosts: u32,
    /// Intervals used for each cell (s).
    pub intervals: Vec<f64>,
    /// Rows.
    pub rows: Vec<JitterRow>,
    /// Background pairs (not planted, not the shared update service) with beacon score ≥ 0.6 / ≥ 0.8.
    pub background_beacons_medium: usize,
    /// See above.
    pub background_beacons_high: usize,
    /// Background outbound pairs.
    pub background_pairs: u64,
}

/// The whole evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// High-score threshold used.
    pub high_threshold: f64,
    /// Real scenarios.
    pub scenarios: Vec<ScenarioResult>,
    /// Synthetic detection table.
    pub synthetic: Option<SyntheticResult>,
}

struct Scenario {
    name: &'static str,
    description: &'static str,
    files: Vec<PathBuf>,
    normal: bool,
    internal: Vec<&'static str>,
    trust_zeek_local: bool,
    /// File with `label` / `detailedlabel` columns.
    labels: Option<PathBuf>,
    /// C2 destinations known from the scenario's README (not from per-flow labels).
    readme_c2: Vec<(&'static str, &'static str)>,
}

fn scenarios(data: &Path) -> Vec<Scenario> {
    let s = data.join("stratosphere-security-datasets-for-testing");
    let rita = data.join("rita-test-data");
    let mut rita_days: Vec<PathBuf> = ["2024-04-19", "2024-04-20", "2024-04-21"]
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(rita.join("missing_host").join(d))
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("conn."))
                })
        })
        .collect();
    rita_days.sort();
    let normal_day = |dir: &str, desc: &'static str, name: &'static str| Scenario {
        name,
        description: desc,
        files: vec![s.join(dir).join("data/conn.log.labeled")],
        normal: true,
        internal: vec![],
        trust_zeek_local: true,
        labels: Some(s.join(dir).join("data/conn.log.labeled")),
        readme_c2: vec![],
    };
    vec![
        Scenario {
            name: "001-njrat",
            description: "CTU-Malware-Capture-Botnet-230-1, NjRAT (first 1,000 flows)",
            files: vec![s.join("001-zeek-scenario-malicious/conn.log")],
            normal: false,
            internal: vec![],
            trust_zeek_local: true,
            labels: Some(s.join("001-zeek-scenario-malicious/labeled-conn.log")),
            readme_c2: vec![],
        },
        Scenario {
            name: "003-androidtester-rat",
            description: "Android Mischief RAT01, AndroidTester RAT (C2 on 1337/tcp per README)",
            files: vec![s.join("003-zeek-scenario-malicious/conn.log")],
            normal: false,
            internal: vec![],
            trust_zeek_local: true,
            labels: None,
            readme_c2: vec![("147.32.83.234", "README: malicious connections at 1337/TCP")],
        },
        Scenario {
            name: "005-simda-dga",
            description: "CTU-Malware-Capture-Botnet-355-1, Simda DGA (first 1,000 flows)",
            files: vec![s.join("005-zeek-scenario-malicious/conn.log")],
            normal: false,
            internal: vec![],
            trust_zeek_local: true,
            labels: None,
            readme_c2: vec![],
        },
        Scenario {
            name: "rita-missing-host",
            description: "RITA test data, 3 days of hourly logs: HTTP beacon every 200-350 s from 73.54.23.243 to the sensor (treated as internal = 73.54.23.243)",
            files: rita_days,
            normal: false,
            internal: vec!["73.54.23.243/32"],
            trust_zeek_local: false,
            labels: None,
            readme_c2: vec![(
                "64.225.56.201",
                "README: HTTP connection beaconing every 200-350 seconds",
            )],
        },
        normal_day(
            "008-zeek-mixed",
            "CTU-Normal-40 day 1, benign Windows host (+ inbound attacks)",
            "008-normal-40",
        ),
        normal_day(
            "010-zeek-mixed",
            "CTU-Normal-42 day 2, benign Windows host (+ inbound attacks)",
            "010-normal-42",
        ),
        normal_day(
            "011-zeek-mixed",
            "CTU-Normal-43 day 1, benign Windows host (+ inbound attacks)",
            "011-normal-43",
        ),
        normal_day(
            "012-zeek-mixed",
            "CTU-Normal-44 day 2, benign Windows host (+ inbound attacks)",
            "012-normal-44",
        ),
    ]
}

/// Per-destination labels from a Stratosphere `*.labeled` file: destination → (label, detailed label) of its
/// flows (the most frequent pair).
fn destination_labels(path: &Path) -> std::collections::HashMap<IpAddr, (String, String)> {
    use std::collections::HashMap;
    let mut counts: HashMap<IpAddr, HashMap<(String, String), u64>> = HashMap::new();
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    let mut cols: Vec<&str> = Vec::new();
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            cols = f.split('\t').collect();
            continue;
        }
        if line.starts_with('#') || cols.is_empty() {
            continue;
        }
        let v: Vec<&str> = line.split('\t').collect();
        let get = |name: &str| {
            cols.iter()
                .position(|c| *c == name)
                .and_then(|i| v.get(i))
                .copied()
        };
        let (Some(dst), Some(label)) = (get("id.resp_h"), get("label")) else {
            continue;
        };
        let Ok(ip) = dst.parse::<IpAddr>() else {
            continue;
        };
        let detail = get("detailedlabel").unwrap_or("-").to_string();
        *counts
            .entry(ip)
            .or_default()
            .entry((label.to_string(), detail))
            .or_default() += 1;
    }
    counts
        .into_iter()
        .filter_map(|(ip, m)| m.into_iter().max_by_key(|(_, n)| *n).map(|(l, _)| (ip, l)))
        .collect()
}

fn run_scenario(sc: &Scenario, high: f64) -> Result<ScenarioResult, EvalError> {
    for f in &sc.files {
        if !f.exists() {
            return Err(EvalError::Missing(f.display().to_string()));
        }
    }
    if sc.files.is_empty() {
        return Err(EvalError::Missing(sc.name.to_string()));
    }
    let mut analyzer = Analyzer::default();
    analyzer.policy.trust_zeek_local = sc.trust_zeek_local;
    for n in &sc.internal {
        if let Ok(net) = parse_net(n) {
            analyzer.policy.add_internal(net);
        }
    }
    let report = analyzer.run(&sc.files, &[])?;
    let labels = sc
        .labels
        .as_deref()
        .map(destination_labels)
        .unwrap_or_default();
    let alerts: Vec<&FlowAlert> = report.alerts.iter().filter(|a| a.score >= 0.5).collect();
    let beacons: Vec<&FlowAlert> = report
        .alerts
        .iter()
        .filter(|a| a.kind == AlertKind::Beacon)
        .collect();
    let mut c2_targets: Vec<(IpAddr, String)> = labels
        .iter()
        .filter(|(_, (l, d))| {
            l.contains("Malicious") && (d.contains("CC") || d.contains("C&C") || d.contains("C2"))
        })
        .map(|(ip, (l, d))| (*ip, format!("label {l} / {d}")))
        .collect();
    c2_targets.extend(
        sc.readme_c2
            .iter()
            .filter_map(|(ip, why)| Some((ip.parse().ok()?, (*why).to_string()))),
    );
    c2_targets.sort();
    let c2 = c2_targets
        .into_iter()
        .map(|(ip, why)| {
            let b = beacons.iter().position(|a| a.destination.ip == ip);
            C2Rank {
                destination: ip,
                label_source: why,
                beacon_rank: b.map(|i| i as u32 + 1),
                beacon_score: b.map(|i| beacons[i].score),
                overall_rank: report
                    .alerts
                    .iter()
                    .find(|a| a.destination.ip == ip)
                    .map(|a| a.rank),
                beacon_alerts: beacons.len(),
            }
        })
        .collect();
    let mut high_by_kind = std::collections::BTreeMap::new();
    for a in alerts.iter().filter(|a| a.score >= high) {
        *high_by_kind.entry(a.kind.label().to_string()).or_insert(0) += 1;
    }
    Ok(ScenarioResult {
        name: sc.name.to_string(),
        description: sc.description.to_string(),
        normal: sc.normal,
        records: report.ingest.records,
        skipped: report.ingest.skipped_total(),
        pairs: report.pairs,
        alerts: alerts.len(),
        high_alerts: alerts.iter().filter(|a| a.score >= high).count(),
        high_by_kind,
        c2,
        top: alerts
            .iter()
            .take(5)
            .map(|a| AlertLine {
                rank: a.rank,
                kind: a.kind,
                score: a.score,
                source: a.source,
                destination: a.destination.ip,
                port: a.destination.ports.first().map_or(0, |p| p.port),
                label: labels
                    .get(&a.destination.ip)
                    .map(|(l, d)| format!("{l} {d}")),
                summary: a.summary.clone(),
            })
            .collect(),
    })
}

/// Jitter levels of the synthetic table.
pub const JITTERS: &[f64] = &[0.0, 0.1, 0.2, 0.3, 0.4, 0.5];
/// Missed-beat rates of the synthetic table.
pub const MISS_RATES: &[f64] = &[0.0, 0.2];
/// Beacon intervals planted in each cell (s).
pub const INTERVALS: &[f64] = &[30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0];

/// Plant beacons for every (jitter, miss rate, interval, repetition) in a synthetic day and measure detection.
pub fn synthetic(background_records: u64, seed: u64) -> Result<SyntheticResult, EvalError> {
    const REPS: usize = 2;
    let hosts = 250;
    let mut beacons = Vec::new();
    let mut cells = Vec::new();
    let mut i = 0u32;
    for &jitter in JITTERS {
        for &miss in MISS_RATES {
            let start = beacons.len();
            for _ in 0..REPS {
                for &interval in INTERVALS {
                    beacons.push(PlantedBeacon {
                        src: synth::internal_host(i * 7 % hosts),
                        dst: synth::planted_destination(i),
                        port: if i.is_multiple_of(3) { 8443 } else { 443 },
                        service: if i.is_multiple_of(3) { "" } else { "ssl" },
                        interval_secs: interval,
                        jitter,
                        miss_rate: miss,
                        bytes_out: 300 + u64::from(i % 7) * 150,
                        size_variation: 0.2,
                    });
                    i += 1;
                }
            }
            cells.push((jitter, miss, start..beacons.len()));
        }
    }
    let cfg = SynthConfig {
        seed,
        internal_hosts: hosts,
        background_records,
        beacons,
        ..SynthConfig::default()
    };
    let mut log = Vec::new();
    synth::write_conn_log(&cfg, &mut log)?;
    let mut agg = FlowAggregator::new(NetworkPolicy::default(), AggregateOptions::default());
    let mut stats = IngestStats::default();
    ingest_reader(
        "synthetic",
        log.as_slice(),
        &IngestOptions::default(),
        &mut agg as &mut dyn RecordSink,
        &mut stats,
    )?;
    drop(log);
    let analyzer = Analyzer::default();
    let report = analyzer.report(&agg, &Default::default(), stats, vec!["synthetic".into()]);
    let beacon_of = |src: IpAddr, dst: IpAddr| {
        report
            .alerts
            .iter()
            .find(|a| a.kind == AlertKind::Beacon && a.source == src && a.destination.ip == dst)
    };
    let mut rows = Vec::new();
    for (jitter, miss, range) in cells {
        let mut scores = Vec::new();
        let mut intervals_only = 0;
        for b in &cfg.beacons[range.clone()] {
            let alert = beacon_of(b.src, b.dst);
            let score = alert.map_or(0.0, |a| a.score);
            scores.push(score);
            if let Some(Evidence::Beacon(e)) = alert.map(|a| &a.evidence) {
                let timing = e.components.get("timing").map_or(0.0, |c| c.value);
                let raw = ((e
                    .components
                    .get("interval_regularity")
                    .map_or(0.0, |c| c.value)
                    - 0.55)
                    / 0.4)
                    .clamp(0.0, 1.0);
                if timing > 0.0 && score * raw / timing >= 0.6 {
                    intervals_only += 1;
                }
            }
        }
        scores.sort_by(f64::total_cmp);
        rows.push(JitterRow {
            jitter,
            miss_rate: miss,
            planted: range.len(),
            detected_medium: scores.iter().filter(|&&s| s >= 0.6).count(),
            detected_high: scores.iter().filter(|&&s| s >= 0.8).count(),
            intervals_only_medium: intervals_only,
            median_score: scores.get(scores.len() / 2).copied().unwrap_or(0.0),
        });
    }
    let planted: std::collections::HashSet<IpAddr> = cfg.beacons.iter().map(|b| b.dst).collect();
    let update: IpAddr = IpAddr::from([23, 55, 1, 10]);
    let bg = |min: f64| {
        report
            .alerts
            .iter()
            .filter(|a| a.kind == AlertKind::Beacon && a.score >= min)
            .filter(|a| !planted.contains(&a.destination.ip) && a.destination.ip != update)
            .count()
    };
    Ok(SyntheticResult {
        background_records,
        internal_hosts: hosts,
        intervals: INTERVALS.to_vec(),
        rows,
        background_beacons_medium: bg(0.6),
        background_beacons_high: bg(0.8),
        background_pairs: report.pairs.saturating_sub(cfg.beacons.len() as u64),
    })
}

/// Run the whole evaluation.
pub fn run(data: &Path, high: f64, with_synthetic: bool) -> Result<EvalReport, EvalError> {
    if !data
        .join("stratosphere-security-datasets-for-testing")
        .is_dir()
    {
        return Err(EvalError::Missing(
            data.join("stratosphere-security-datasets-for-testing")
                .display()
                .to_string(),
        ));
    }
    let scenarios = scenarios(data)
        .iter()
        .map(|s| run_scenario(s, high))
        .collect::<Result<Vec<_>, _>>()?;
    let synthetic = if with_synthetic {
        Some(synthetic(400_000, 42)?)
    } else {
        None
    };
    Ok(EvalReport {
        high_threshold: high,
        scenarios,
        synthetic,
    })
}

impl EvalReport {
    /// Human-readable rendering.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "== Real data (high = score ≥ {})", self.high_threshold);
        for s in &self.scenarios {
            let _ = writeln!(
                o,
                "\n{} — {}\n  {} records, {} skipped, {} outbound pairs, {} alerts ≥ 0.5, {} high {:?}",
                s.name,
                s.description,
                s.records,
                s.skipped,
                s.pairs,
                s.alerts,
                s.high_alerts,
                s.high_by_kind
            );
            for c in &s.c2 {
                let _ = writeln!(
                    o,
                    "  C2 {} ({}): beacon rank {} of {} beacon alerts (score {}), overall rank {}",
                    c.destination,
                    c.label_source,
                    c.beacon_rank.map_or("-".into(), |r| r.to_string()),
                    c.beacon_alerts,
                    c.beacon_score.map_or("-".into(), |s| format!("{s:.3}")),
                    c.overall_rank.map_or("-".into(), |r| r.to_string()),
                );
            }
            for a in &s.top {
                let _ = writeln!(
                    o,
                    "    #{:<2} {:.3} {:<9} {} -> {}:{} {}  [{}]",
                    a.rank,
                    a.score,
                    a.kind.label(),
                    a.source,
                    a.destination,
                    a.port,
                    a.label
                        .as_deref()
                        .map(|l| format!("label: {l}"))
                        .unwrap_or_default(),
                    a.summary
                );
            }
        }
        let normal: Vec<&ScenarioResult> = self.scenarios.iter().filter(|s| s.normal).collect();
        let _ = writeln!(
            o,
            "\nNormal-traffic scenarios: {} high-score alerts in total ({})",
            normal.iter().map(|s| s.high_alerts).sum::<usize>(),
            normal
                .iter()
                .map(|s| format!("{}: {}", s.name, s.high_alerts))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Some(sy) = &self.synthetic {
            let _ = writeln!(
                o,
                "\n== Synthetic day: {} background records, {} hosts; {} beacons per cell (intervals {:?} s, 2 each), size variation ±20 %",
                sy.background_records,
                sy.internal_hosts,
                sy.rows.first().map_or(0, |r| r.planted),
                sy.intervals
            );
            let _ = writeln!(
                o,
                "| jitter | missed beats | detected (≥0.6) | detected (≥0.8) | intervals only, RITA-style (≥0.6) | median score |"
            );
            let _ = writeln!(o, "|---|---|---|---|---|---|");
            for r in &sy.rows {
                let _ = writeln!(
                    o,
                    "| {:.0} % | {:.0} % | {}/{} | {}/{} | {}/{} | {:.3} |",
                    r.jitter * 100.0,
                    r.miss_rate * 100.0,
                    r.detected_medium,
                    r.planted,
                    r.detected_high,
                    r.planted,
                    r.intervals_only_medium,
                    r.planted,
                    r.median_score
                );
            }
            let _ = writeln!(
                o,
                "Background: {} of {} outbound pairs scored as beacons ≥ 0.6, {} ≥ 0.8 (the shared hourly update service excluded)",
                sy.background_beacons_medium, sy.background_pairs, sy.background_beacons_high
            );
        }
        o
    }
}
