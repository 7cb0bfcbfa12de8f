//! `mamori bench`: throughput of parse + analyse over a directory (or any scan input), measured on one core and
//! on all cores, with the messages read into memory first so that disk speed is not measured.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use mamori_detect::Engine;
use mamori_mail::Envelope;
use mamori_mail::source::{MailItem, ReadOptions, Reader};

use crate::config::MamoriConfig;
use crate::exit;

#[derive(Args)]
pub struct BenchArgs {
    /// Inputs, as for `scan`.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// Configuration file.
    #[arg(long, env = "MAMORI_CONFIG")]
    pub config: Option<PathBuf>,
    /// Passes over the messages per measurement (the best pass is reported).
    #[arg(long, default_value_t = 3)]
    pub passes: usize,
    /// Threads for the parallel measurement (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model: crate::commands::scan::ModelArgs,
}

#[derive(serde::Serialize)]
struct Measurement {
    threads: usize,
    seconds: f64,
    messages_per_second: f64,
    megabytes_per_second: f64,
    messages_per_second_per_core: f64,
}

pub fn run(args: BenchArgs) -> anyhow::Result<u8> {
    let config = MamoriConfig::load(args.config.as_deref())?;
    let engine = Engine::new(config.detect()).context("building the detection engine")?;
    let engine = args.model.install(engine)?;
    let options = ReadOptions {
        max_message_bytes: config.limits.max_message_bytes,
        max_line_bytes: config.limits.max_line_bytes,
        ..ReadOptions::default()
    };
    let items: Vec<MailItem> = Reader::new(&args.inputs, options)
        .collect::<Result<_, _>>()
        .context("reading the benchmark input")?;
    anyhow::ensure!(!items.is_empty(), "no messages found in the input");
    let bytes: usize = items.iter().map(|i| i.bytes.len()).sum();
    let cores = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let envelope = Envelope::default();
    // Warm-up pass: page in code and data.
    for item in items.iter().take(200) {
        std::hint::black_box(engine.analyse_item(&envelope, item));
    }
    let mut results = Vec::new();
    for threads in [1, cores] {
        let mut best = f64::INFINITY;
        for _ in 0..args.passes.max(1) {
            let seconds = timed_pass(&engine, &envelope, &items, threads);
            best = best.min(seconds);
        }
        let mps = items.len() as f64 / best;
        results.push(Measurement {
            threads,
            seconds: best,
            messages_per_second: mps,
            megabytes_per_second: bytes as f64 / best / 1e6,
            messages_per_second_per_core: mps / threads as f64,
        });
        if cores == 1 {
            break;
        }
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({"messages": items.len(), "bytes": bytes, "detectors": engine.detector_names(), "content_model": engine.content_model().is_some(), "results": results})
        );
    } else {
        println!(
            "{} messages, {:.1} MB, content model: {}, detectors: {}",
            items.len(),
            bytes as f64 / 1e6,
            if engine.content_model().is_some() {
                "on"
            } else {
                "off"
            },
            engine.detector_names().join(", ")
        );
        println!(
            "{:>7} {:>9} {:>12} {:>9} {:>14}",
            "threads", "seconds", "messages/s", "MB/s", "msg/s per core"
        );
        for r in &results {
            println!(
                "{:>7} {:>9.3} {:>12.0} {:>9.1} {:>14.0}",
                r.threads,
                r.seconds,
                r.messages_per_second,
                r.megabytes_per_second,
                r.messages_per_second_per_core
            );
        }
    }
    Ok(exit::CLEAN)
}

/// Analyses every item once on `threads` threads; returns the wall time in seconds.
fn timed_pass(engine: &Engine, envelope: &Envelope, items: &[MailItem], threads: usize) -> f64 {
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    std::hint::black_box(engine.analyse_item(envelope, item));
                }
            });
        }
    });
    start.elapsed().as_secs_f64()
}
