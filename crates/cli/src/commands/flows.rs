//! `mamori flows`: analyse Zeek conn.log files for C2 beaconing and exfiltration, write synthetic logs, evaluate
//! detection on real and synthetic data, and benchmark ingest throughput.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use mamori_flows::aggregate::{AggregateOptions, FlowAggregator};
use mamori_flows::analytics::{human_bytes, human_secs};
use mamori_flows::eval;
use mamori_flows::ingest::{ErrorMode, IngestOptions, IngestStats, RecordSink, ingest_file};
use mamori_flows::names::HostNames;
use mamori_flows::network::{AllowEntry, NetworkPolicy, parse_net};
use mamori_flows::synth::{self, PlantedBeacon, PlantedExfil, SynthConfig};
use mamori_flows::{Analyzer, FlowReport};
use mamori_respond::firewall::{BlockList, NftTarget};

use crate::exit;

#[derive(Args)]
pub struct FlowsArgs {
    #[command(subcommand)]
    pub command: FlowsCommand,
}

#[derive(Subcommand)]
pub enum FlowsCommand {
    /// Analyse conn.log files (TSV or JSON, plain or .gz) and print ranked alerts.
    Analyse(Box<AnalyseArgs>),
    /// Write a synthetic conn.log with planted beacons.
    Synth(SynthArgs),
    /// Evaluate detection on the Stratosphere/RITA data and on synthetic beacons.
    Eval(EvalArgs),
    /// Measure ingest + analysis throughput on a synthetic day.
    Bench(BenchArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Emit {
    /// nftables commands for `nft -f`.
    Nft,
    /// nftables JSON for `nft -j -f`.
    NftJson,
}

#[derive(Args)]
pub struct AnalyseArgs {
    /// conn.log files (rotations and several sensors may be given together).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print the full report as JSON (schema in docs/flows.md).
    #[arg(long)]
    pub json: bool,
    /// Instead of the report, print nftables input blocking the flagged destinations.
    #[arg(long, value_enum)]
    pub emit: Option<Emit>,
    /// Extra internal networks (CIDR or IP); RFC 1918/4193, link-local and loopback are always internal.
    #[arg(long = "internal", value_name = "CIDR")]
    pub internal: Vec<String>,
    /// Allow-listed destinations: IP, CIDR or domain (domains match names learnt from --names logs).
    #[arg(long = "allow", value_name = "IP|CIDR|DOMAIN")]
    pub allow: Vec<String>,
    /// File with one allow-list entry per line (`#` comments).
    #[arg(long, value_name = "FILE")]
    pub allow_file: Vec<PathBuf>,
    /// dns.log / ssl.log / http.log files to learn destination host names from.
    #[arg(long = "names", value_name = "FILE")]
    pub names: Vec<PathBuf>,
    /// Do not treat Zeek's local_orig/local_resp flags as marking internal hosts.
    #[arg(long)]
    pub ignore_zeek_local: bool,
    /// Stop at the first malformed line (default: skip and count).
    #[arg(long)]
    pub strict: bool,
    /// Longest accepted line in bytes.
    #[arg(long, default_value_t = mamori_flows::ingest::DEFAULT_MAX_LINE_LEN)]
    pub max_line_len: usize,
    /// Only report alerts with at least this score (0–1).
    #[arg(long, default_value_t = 0.5)]
    pub min_score: f64,
    /// Only the N highest-ranked alerts.
    #[arg(long, default_value_t = 50)]
    pub top: usize,
    /// Minimum score of alerts whose destinations --emit blocks.
    #[arg(long, default_value_t = 0.8)]
    pub block_min_score: f64,
    /// nftables table (inet family) for --emit.
    #[arg(long, default_value = "mamori")]
    pub nft_table: String,
    /// nftables IPv4 set for --emit.
    #[arg(long, default_value = "mamori_block")]
    pub nft_set: String,
    /// nftables IPv6 set for --emit.
    #[arg(long, default_value = "mamori_block_v6")]
    pub nft_set6: String,
    /// Element timeout for --emit, in seconds (permanent if unset).
    #[arg(long)]
    pub nft_timeout: Option<u64>,
    /// Long connection threshold (s).
    #[arg(long, default_value_t = 3600.0)]
    pub long_secs: f64,
    /// Bulk outbound threshold (bytes).
    #[arg(long, default_value_t = 50_000_000)]
    pub bulk_bytes: u64,
}

#[derive(Args)]
pub struct SynthArgs {
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    pub output: String,
    /// Background records.
    #[arg(long, default_value_t = 1_000_000)]
    pub records: u64,
    /// Internal hosts.
    #[arg(long, default_value_t = 250)]
    pub hosts: u32,
    /// Capture length (s).
    #[arg(long, default_value_t = 86_400.0)]
    pub duration: f64,
    /// RNG seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Planted beacons as INTERVAL[:JITTER[:MISS[:SIZEVAR]]], e.g. `300:0.2:0.1:0.3` (repeatable).
    #[arg(long = "beacon", value_name = "SPEC")]
    pub beacons: Vec<String>,
    /// Planted exfiltration as CHUNKS:BYTES, e.g. `24:20000000` (repeatable).
    #[arg(long = "exfil", value_name = "SPEC")]
    pub exfil: Vec<String>,
}

#[derive(Args)]
pub struct EvalArgs {
    /// Directory holding the unpacked zeek corpus (`stratosphere-security-datasets-for-testing/`, `rita-test-data/`).
    #[arg(long, env = "MAMORI_ZEEK_DATA")]
    pub data: PathBuf,
    /// Score at which an alert counts as high.
    #[arg(long, default_value_t = 0.8)]
    pub high: f64,
    /// Skip the synthetic jitter table.
    #[arg(long)]
    pub no_synthetic: bool,
    /// Print the evaluation as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct BenchArgs {
    /// Records in the synthetic day.
    #[arg(long, default_value_t = 10_000_000)]
    pub records: u64,
    /// Where to write the synthetic log (kept); default: a temporary file, deleted afterwards.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Reuse an existing log instead of generating one.
    #[arg(long)]
    pub reuse: bool,
}

pub fn run(args: FlowsArgs) -> anyhow::Result<u8> {
    match args.command {
        FlowsCommand::Analyse(a) => analyse(*a),
        FlowsCommand::Synth(a) => synth_cmd(a),
        FlowsCommand::Eval(a) => eval_cmd(a),
        FlowsCommand::Bench(a) => bench(a),
    }
}

fn build_analyzer(a: &AnalyseArgs) -> anyhow::Result<Analyzer> {
    let mut policy = NetworkPolicy::default();
    policy.trust_zeek_local = !a.ignore_zeek_local;
    for net in &a.internal {
        policy.add_internal(parse_net(net).with_context(|| format!("--internal {net}"))?);
    }
    let mut entries: Vec<String> = a.allow.clone();
    for f in &a.allow_file {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("reading allow-list {}", f.display()))?;
        entries.extend(
            text.lines()
                .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
                .filter(|l| !l.is_empty()),
        );
    }
    for e in entries {
        policy.allow(
            e.parse::<AllowEntry>()
                .with_context(|| format!("allow-list entry {e:?}"))?,
        );
    }
    let mut analyzer = Analyzer {
        policy,
        ingest: IngestOptions {
            mode: if a.strict {
                ErrorMode::Strict
            } else {
                ErrorMode::Skip
            },
            max_line_len: a.max_line_len,
        },
        ..Analyzer::default()
    };
    analyzer.analysis.long_connection_secs = a.long_secs;
    analyzer.analysis.bulk_min_bytes = a.bulk_bytes;
    Ok(analyzer)
}

fn analyse(a: AnalyseArgs) -> anyhow::Result<u8> {
    if !(0.0..=1.0).contains(&a.min_score) || !(0.0..=1.0).contains(&a.block_min_score) {
        bail!("--min-score and --block-min-score must be between 0 and 1");
    }
    let analyzer = build_analyzer(&a)?;
    let mut report = analyzer.run(&a.files, &a.names)?;
    report.alerts.retain(|x| x.score >= a.min_score);
    report.alerts.truncate(a.top);
    let flagged = !report.alerts.is_empty();
    let mut out = std::io::stdout().lock();
    if let Some(emit) = a.emit {
        let target = NftTarget {
            table: a.nft_table.clone(),
            set_v4: a.nft_set.clone(),
            set_v6: a.nft_set6.clone(),
            timeout_secs: a.nft_timeout,
            ..NftTarget::default()
        };
        let mut list = BlockList::new();
        for alert in report
            .alerts
            .iter()
            .filter(|x| x.score >= a.block_min_score)
        {
            let comment = format!(
                "mamori {} {:.2} from {}",
                alert.kind.label(),
                alert.score,
                alert.source
            );
            if let Err(reason) = list.add(alert.destination.ip, Some(&comment)) {
                eprintln!("mamori: not blocking {}: {reason}", alert.destination.ip);
            }
        }
        let text = match emit {
            Emit::Nft => list.render_nft(&target)?,
            Emit::NftJson => list.render_nft_json(&target)? + "\n",
        };
        out.write_all(text.as_bytes())?;
    } else if a.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        print_table(&mut out, &report)?;
    }
    if report.ingest.skipped_total() > 0 || report.ingest.files_failed > 0 {
        eprintln!(
            "mamori: skipped {} malformed line(s), {} unreadable file(s); first problems:",
            report.ingest.skipped_total(),
            report.ingest.files_failed
        );
        for e in report.ingest.examples.iter().take(5) {
            eprintln!("  {e}");
        }
    }
    Ok(if flagged { exit::FLAGGED } else { exit::CLEAN })
}

fn print_table(out: &mut impl Write, r: &FlowReport) -> std::io::Result<()> {
    let window = r.window.as_ref().map_or("-".to_string(), |w| {
        format!("{} .. {} ({})", w.start, w.end, human_secs(w.seconds))
    });
    writeln!(
        out,
        "{} records from {} file(s), window {window}; {} outbound pairs; {} skipped lines",
        r.ingest.records,
        r.ingest.files,
        r.pairs,
        r.ingest.skipped_total()
    )?;
    if r.alerts.is_empty() {
        return writeln!(out, "no alerts");
    }
    writeln!(
        out,
        "{:>4}  {:>5}  {:<8}  {:<9}  {:<39}  {:<45}  {:<22}  summary",
        "rank", "score", "severity", "kind", "source", "destination", "att&ck"
    )?;
    for a in &r.alerts {
        let port = a
            .destination
            .ports
            .first()
            .map(|p| format!(":{}/{}", p.port, p.proto))
            .unwrap_or_default();
        let host = a
            .destination
            .hostnames
            .first()
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        writeln!(
            out,
            "{:>4}  {:>5.3}  {:<8}  {:<9}  {:<39}  {:<45}  {:<22}  {}",
            a.rank,
            a.score,
            format!("{:?}", a.severity).to_lowercase(),
            a.kind.label(),
            a.source,
            format!("{}{port}{host}", a.destination.ip),
            a.technique_ids().join(","),
            a.summary
        )?;
    }
    Ok(())
}

fn parse_beacon(spec: &str, i: u32, hosts: u32) -> anyhow::Result<PlantedBeacon> {
    let parts: Vec<f64> = spec
        .split(':')
        .map(|p| {
            p.parse::<f64>()
                .with_context(|| format!("--beacon {spec:?}: {p:?} is not a number"))
        })
        .collect::<anyhow::Result<_>>()?;
    let get = |k: usize, d: f64| parts.get(k).copied().unwrap_or(d);
    let b = PlantedBeacon {
        src: synth::internal_host(i % hosts.max(1)),
        dst: synth::planted_destination(i),
        port: 443,
        service: "ssl",
        interval_secs: get(0, 300.0),
        jitter: get(1, 0.0),
        miss_rate: get(2, 0.0),
        bytes_out: 600,
        size_variation: get(3, 0.1),
    };
    if !(b.interval_secs >= 1.0
        && (0.0..=0.9).contains(&b.jitter)
        && (0.0..1.0).contains(&b.miss_rate))
    {
        bail!("--beacon {spec:?}: need interval ≥ 1 s, jitter 0–0.9, miss rate 0–<1");
    }
    Ok(b)
}

fn synth_config(a: &SynthArgs) -> anyhow::Result<SynthConfig> {
    let mut cfg = SynthConfig {
        seed: a.seed,
        duration_secs: a.duration,
        internal_hosts: a.hosts.max(1),
        background_records: a.records,
        ..SynthConfig::default()
    };
    for (i, spec) in a.beacons.iter().enumerate() {
        cfg.beacons
            .push(parse_beacon(spec, i as u32, cfg.internal_hosts)?);
    }
    for (i, spec) in a.exfil.iter().enumerate() {
        let (chunks, bytes) = spec
            .split_once(':')
            .with_context(|| format!("--exfil {spec:?}: want CHUNKS:BYTES"))?;
        let i = i as u32 + 1000;
        cfg.exfil.push(PlantedExfil {
            src: synth::internal_host(i % cfg.internal_hosts),
            dst: synth::planted_destination(i),
            port: 443,
            chunks: chunks
                .parse()
                .with_context(|| format!("--exfil {spec:?}"))?,
            chunk_bytes: bytes.parse().with_context(|| format!("--exfil {spec:?}"))?,
        });
    }
    Ok(cfg)
}

fn synth_cmd(a: SynthArgs) -> anyhow::Result<u8> {
    let cfg = synth_config(&a)?;
    let n = if a.output == "-" {
        let mut w = BufWriter::new(std::io::stdout().lock());
        let n = synth::write_conn_log(&cfg, &mut w)?;
        w.flush()?;
        n
    } else {
        let mut w = BufWriter::new(
            File::create(&a.output).with_context(|| format!("creating {}", a.output))?,
        );
        let n = synth::write_conn_log(&cfg, &mut w)?;
        w.flush()?;
        n
    };
    for b in &cfg.beacons {
        eprintln!(
            "planted beacon {} -> {}:{} every {} s, jitter {:.0} %, miss {:.0} %",
            b.src,
            b.dst,
            b.port,
            b.interval_secs,
            b.jitter * 100.0,
            b.miss_rate * 100.0
        );
    }
    for x in &cfg.exfil {
        eprintln!(
            "planted exfil {} -> {}: {} × {}",
            x.src,
            x.dst,
            x.chunks,
            human_bytes(x.chunk_bytes)
        );
    }
    eprintln!("wrote {n} records");
    Ok(exit::CLEAN)
}

fn eval_cmd(a: EvalArgs) -> anyhow::Result<u8> {
    let report = eval::run(&a.data, a.high, !a.no_synthetic)?;
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        out.write_all(report.to_text().as_bytes())?;
    }
    Ok(exit::CLEAN)
}

/// CPU time of the calling thread in seconds (Linux `/proc/thread-self/schedstat`), so throughput can be
/// quoted per core even when other processes compete for the CPU.
fn thread_cpu_secs() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

/// Peak resident set size of this process (Linux `VmHWM`), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn bench(a: BenchArgs) -> anyhow::Result<u8> {
    let tmp;
    let path = match &a.file {
        Some(p) => p.clone(),
        None => {
            tmp = tempfile_path()?;
            tmp.clone()
        }
    };
    if !(a.reuse && path.exists()) {
        let cfg = SynthConfig {
            background_records: a.records,
            internal_hosts: 2_000,
            popular_destinations: 20_000,
            beacons: (0..10)
                .map(|i| parse_beacon(&format!("{}:0.2:0.1", 60 + 120 * i), i, 2_000))
                .collect::<anyhow::Result<_>>()?,
            ..SynthConfig::default()
        };
        let t = Instant::now();
        let mut w = BufWriter::with_capacity(
            1 << 20,
            File::create(&path).with_context(|| format!("creating {}", path.display()))?,
        );
        let n = synth::write_conn_log(&cfg, &mut w)?;
        w.flush()?;
        eprintln!(
            "generated {n} records in {:.1} s -> {}",
            t.elapsed().as_secs_f64(),
            path.display()
        );
    }
    let size = std::fs::metadata(&path)?.len();
    // Parse only (records handed to a sink that keeps nothing), to separate parsing from aggregation.
    let t = Instant::now();
    let c0 = thread_cpu_secs();
    let mut parsed = 0u64;
    let mut count = |_: &mamori_flows::record::ConnRecord| parsed += 1;
    ingest_file(
        &path,
        &IngestOptions::default(),
        &mut count as &mut dyn RecordSink,
        &mut IngestStats::default(),
    )?;
    let t_parse = t.elapsed().as_secs_f64();
    let c1 = thread_cpu_secs();
    let rss_before = peak_rss_kib();
    let t = Instant::now();
    let mut agg = FlowAggregator::new(NetworkPolicy::default(), AggregateOptions::default());
    let mut stats = IngestStats::default();
    ingest_file(
        &path,
        &IngestOptions::default(),
        &mut agg as &mut dyn RecordSink,
        &mut stats,
    )?;
    let t_ingest = t.elapsed().as_secs_f64();
    let c2 = thread_cpu_secs();
    let analyzer = Analyzer::default();
    let report = analyzer.report(
        &agg,
        &HostNames::default(),
        stats,
        vec![path.display().to_string()],
    );
    let total = t.elapsed().as_secs_f64();
    let c3 = thread_cpu_secs();
    let rss = peak_rss_kib();
    println!("records        {}", report.ingest.records);
    println!("log size       {:.1} MB", size as f64 / 1e6);
    println!("outbound pairs {}", report.pairs);
    println!(
        "parse only     {t_parse:.2} s  ({:.0} records/s)",
        parsed as f64 / t_parse
    );
    println!(
        "ingest         {t_ingest:.2} s  ({:.0} records/s, parse + aggregate)",
        report.ingest.records as f64 / t_ingest
    );
    println!("analysis       {:.2} s", total - t_ingest);
    println!(
        "total          {total:.2} s  ({:.0} records/s, single thread)",
        report.ingest.records as f64 / total
    );
    println!(
        "alerts         {} (≥ 0.8: {})",
        report.alerts.len(),
        report.alerts.iter().filter(|x| x.score >= 0.8).count()
    );
    if let (Some(c0), Some(c1), Some(c2), Some(c3)) = (c0, c1, c2, c3) {
        let n = report.ingest.records as f64;
        println!(
            "cpu time       parse {:.2} s ({:.0} rec/s); parse + aggregate {:.2} s ({:.0} rec/s); analysis {:.2} s; ingest + analysis {:.2} s ({:.0} records per CPU-second)",
            c1 - c0,
            n / (c1 - c0),
            c2 - c1,
            n / (c2 - c1),
            c3 - c2,
            c3 - c1,
            n / (c3 - c1)
        );
    }
    if let (Some(before), Some(peak)) = (rss_before, rss) {
        println!(
            "peak RSS       {:.1} MiB (before ingest {:.1} MiB)",
            peak as f64 / 1024.0,
            before as f64 / 1024.0
        );
    }
    if a.file.is_none() {
        let _ = std::fs::remove_file(&path);
    }
    Ok(exit::CLEAN)
}

fn tempfile_path() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir();
    Ok(dir.join(format!("mamori-bench-{}.log", std::process::id())))
}
