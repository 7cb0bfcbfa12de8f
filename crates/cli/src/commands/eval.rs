//! `mamori eval`: measure a content model on labelled corpora — confusion matrix, per-class precision/recall/F1,
//! ROC AUC, recall at ham false-positive rates of 0.1 %, 0.5 % and 1 %, calibration error, speed. With `--split`
//! or `--leave-out` and no `--model`, it first trains on the rest (`docs/ml.md`, "Evaluation").

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use mamori_ml::metrics::{self, RecallAtFpr, Report, Scored};
use mamori_ml::{Label, Model};
use serde::Serialize;

use crate::commands::train::{self, CorpusArgs, TrainingArgs};
use crate::exit;
use crate::modeling;

/// Version of the `--json` output.
pub const EVAL_SCHEMA: &str = "mamori.eval/1";

#[derive(Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub corpus: CorpusArgs,
    #[command(flatten)]
    pub training: TrainingArgs,
    /// Model to evaluate. Without it: with --split/--leave-out a model is trained on the rest first; otherwise the
    /// model `scan` would use (local, else built-in) is evaluated.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<PathBuf>,
    /// Data directory holding the local model.
    #[arg(long, env = "MAMORI_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Operating threshold on P(spam) + P(phish) reported besides the fixed false-positive rates.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Print the report as JSON (schema `mamori.eval/1`).
    #[arg(long)]
    pub json: bool,
    /// Also list the N ham messages the model found least ham-like and the N spam/phish it found most ham-like.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub errors: usize,
}

#[derive(Serialize)]
struct SetRow {
    name: String,
    messages: u64,
    ham: u64,
    spam: u64,
    phish: u64,
    /// Share flagged (P(not ham) above the threshold) at the operating threshold.
    flagged_at_threshold: f64,
    /// Share flagged at the 1 % ham-FPR threshold.
    flagged_at_fpr_1pct: f64,
}

#[derive(Serialize)]
struct Output {
    schema: &'static str,
    model: String,
    trained_on: Option<String>,
    test: Vec<String>,
    train_seconds: Option<f64>,
    featurise_messages_per_second: f64,
    predict_messages_per_second: f64,
    threads: usize,
    report: Report,
    sets: Vec<SetRow>,
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_string(), |v| format!("{:.2} %", v * 100.0))
}

pub fn run(args: EvalArgs) -> anyhow::Result<u8> {
    let selecting = args.corpus.split.is_some() || !args.corpus.leave_out.is_empty();
    let data_dir = modeling::data_dir(args.data_dir.as_deref());
    let given = if args.model.is_some() || !selecting {
        Some(modeling::resolve_model(args.model.as_deref(), &data_dir)?)
    } else {
        None
    };
    let bits = given.as_ref().map_or(args.training.bits, |(m, _)| m.bits());
    let loaded = train::load(&args.corpus, bits)?;
    let mut trained_on = None;
    let mut train_seconds = None;
    let (model, model_name): (Arc<Model>, String) = match given {
        Some((m, source)) => (m, source.to_string()),
        None => {
            let examples = loaded.training();
            let names: Vec<String> = loaded
                .sets
                .iter()
                .enumerate()
                .filter(|(i, _)| !loaded.left_out.contains(i) && !loaded.excluded.contains(i))
                .map(|(_, s)| s.name.clone())
                .collect();
            let desc = format!("{} ({})", names.join(", "), train::class_counts(&examples));
            let (m, _, secs) = train::train_model(&examples, &args.training, &desc)?;
            trained_on = Some(desc);
            train_seconds = Some(secs);
            (Arc::new(m), "trained for this evaluation".to_string())
        }
    };
    let test: Vec<&modeling::Sample> = loaded
        .samples
        .iter()
        .filter(|s| !loaded.is_excluded(s) && (!selecting || loaded.is_test(s)))
        .collect();
    anyhow::ensure!(
        !test.is_empty(),
        "nothing to evaluate: the selection left no test messages"
    );
    let start = Instant::now();
    let scored: Vec<(usize, Scored)> = test
        .iter()
        .map(|s| {
            let p = model.predict_indices(&s.indices);
            (
                s.set,
                Scored {
                    label: s.label,
                    probabilities: p.probabilities,
                },
            )
        })
        .collect();
    let predict_seconds = modeling::seconds(start);
    let all: Vec<Scored> = scored.iter().map(|(_, s)| *s).collect();
    let report = metrics::evaluate(&all, args.threshold);
    let fpr1 = report
        .recall_at_fpr
        .iter()
        .find(|r| (r.target_fpr - 0.01).abs() < 1e-9)
        .map_or(args.threshold, |r| r.threshold);
    let mut sets = Vec::new();
    for (si, set) in loaded.sets.iter().enumerate() {
        let of: Vec<&Scored> = scored
            .iter()
            .filter(|(s, _)| *s == si)
            .map(|(_, x)| x)
            .collect();
        if of.is_empty() {
            continue;
        }
        let count = |l: Label| of.iter().filter(|s| s.label == l).count() as u64;
        let share = |t: f64| {
            of.iter()
                .filter(|s| f64::from(1.0 - s.probabilities[0]) > t)
                .count() as f64
                / of.len() as f64
        };
        sets.push(SetRow {
            name: set.name.clone(),
            messages: of.len() as u64,
            ham: count(Label::Ham),
            spam: count(Label::Spam),
            phish: count(Label::Phish),
            flagged_at_threshold: share(args.threshold),
            flagged_at_fpr_1pct: share(fpr1),
        });
    }
    let threads = args
        .corpus
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let out = Output {
        schema: EVAL_SCHEMA,
        model: model_name,
        trained_on,
        test: sets.iter().map(|s| s.name.clone()).collect(),
        train_seconds,
        featurise_messages_per_second: loaded.samples.len() as f64 / loaded.read_seconds.max(1e-9),
        predict_messages_per_second: all.len() as f64 / predict_seconds.max(1e-9),
        threads,
        report,
        sets,
    };
    if args.json {
        println!("{}", serde_json::to_string(&out)?);
    } else {
        print_text(&out);
    }
    if args.errors > 0 {
        let mut ranked: Vec<(&modeling::Sample, f32)> = test
            .iter()
            .zip(&all)
            .map(|(s, x)| (*s, 1.0 - x.probabilities[0]))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        let set_name = |s: &modeling::Sample| loaded.sets[s.set].name.clone();
        eprintln!("least ham-like ham (P(not ham), set, message):");
        for (s, p) in ranked
            .iter()
            .filter(|(s, _)| s.label == Label::Ham)
            .take(args.errors)
        {
            eprintln!("  {p:.4}  {}  {}", set_name(s), s.origin);
        }
        eprintln!("most ham-like spam/phish:");
        for (s, p) in ranked
            .iter()
            .rev()
            .filter(|(s, _)| s.label != Label::Ham)
            .take(args.errors)
        {
            eprintln!("  {p:.4}  {}  {}  {}", set_name(s), s.label, s.origin);
        }
    }
    Ok(exit::CLEAN)
}

fn print_text(o: &Output) {
    let r = &o.report;
    println!("model: {}", o.model);
    if let Some(t) = &o.trained_on {
        println!(
            "trained on: {t} in {:.1} s",
            o.train_seconds.unwrap_or_default()
        );
    }
    println!("test: {} messages from {}", r.messages, o.test.join(", "));
    println!();
    println!("confusion (rows: true, columns: predicted)");
    println!("{:>8} {:>8} {:>8} {:>8}", "", "ham", "spam", "phish");
    for l in Label::ALL {
        let row = r.confusion[l.index()];
        println!(
            "{:>8} {:>8} {:>8} {:>8}",
            l.as_str(),
            row[0],
            row[1],
            row[2]
        );
    }
    println!();
    println!(
        "{:>8} {:>8} {:>10} {:>8} {:>8} {:>8}",
        "class", "support", "precision", "recall", "F1", "AUC"
    );
    for c in &r.classes {
        println!(
            "{:>8} {:>8} {:>10.4} {:>8.4} {:>8.4} {:>8}",
            c.label.as_str(),
            c.support,
            c.precision,
            c.recall,
            c.f1,
            c.auc.map_or_else(|| "–".into(), |a| format!("{a:.4}"))
        );
    }
    println!();
    println!(
        "accuracy {:.4}   ROC AUC (not ham vs ham) {}   ECE {:.4}",
        r.accuracy,
        r.auc_not_ham
            .map_or_else(|| "–".into(), |a| format!("{a:.4}")),
        r.ece
    );
    println!();
    println!(
        "{:>12} {:>10} {:>9} {:>11} {:>11} {:>12}",
        "ham FPR ≤", "threshold", "ham FPR", "spam recall", "phish recall", "not-ham recall"
    );
    let row = |label: String, x: &RecallAtFpr| {
        println!(
            "{:>12} {:>10.4} {:>9} {:>11} {:>11} {:>12}",
            label,
            x.threshold,
            pct(Some(x.fpr)),
            pct(x.spam_recall),
            pct(x.phish_recall),
            pct(x.not_ham_recall)
        );
    };
    for x in &r.recall_at_fpr {
        row(format!("{:.1} %", x.target_fpr * 100.0), x);
    }
    row("(fixed)".to_string(), &r.at_threshold);
    println!();
    println!(
        "{:>16} {:>8} {:>6} {:>6} {:>6} {:>14} {:>14}",
        "set", "messages", "ham", "spam", "phish", "flagged@thr", "flagged@1%FPR"
    );
    for s in &o.sets {
        println!(
            "{:>16} {:>8} {:>6} {:>6} {:>6} {:>14} {:>14}",
            s.name,
            s.messages,
            s.ham,
            s.spam,
            s.phish,
            pct(Some(s.flagged_at_threshold)),
            pct(Some(s.flagged_at_fpr_1pct))
        );
    }
    println!();
    println!(
        "speed: read + parse + features {:.0} messages/s ({} threads), prediction {:.0} messages/s (1 thread)",
        o.featurise_messages_per_second, o.threads, o.predict_messages_per_second
    );
}
