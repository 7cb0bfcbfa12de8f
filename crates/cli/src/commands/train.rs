//! `mamori train`: train a content model from labelled corpora (`docs/ml.md`).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use mamori_ml::{Example, Label, TrainOptions};

use crate::config::MamoriConfig;
use crate::exit;
use crate::modeling::{self, LabelSet, Sample};

/// Labelled corpora and how to select from them (shared by `train` and `eval`).
#[derive(Args, Debug, Clone)]
pub struct CorpusArgs {
    /// Corpus directory (repeatable; pairs with the --labels at the same position).
    #[arg(long = "corpus", value_name = "DIR", required = true)]
    pub corpora: Vec<PathBuf>,
    /// Label file for the corpus at the same position: `path<TAB>ham|spam|phish` per line, `file.mbox#N` for the
    /// N-th (0-based) message of an mbox. Its file stem names the set for --split, --leave-out and --exclude.
    #[arg(long = "labels", value_name = "FILE.tsv", required = true)]
    pub labels: Vec<PathBuf>,
    /// Standard split of the named set (default `spamassassin`): per top-level folder, names sorted bytewise,
    /// index % 5 == 4 is test, the rest training.
    #[arg(long, value_name = "SET", num_args = 0..=1, default_missing_value = "spamassassin")]
    pub split: Option<String>,
    /// Leave this set out of training (eval: and test on it). Repeatable.
    #[arg(long = "leave-out", value_name = "SET")]
    pub leave_out: Vec<String>,
    /// Drop this set entirely (neither trained nor tested). Repeatable.
    #[arg(long, value_name = "SET")]
    pub exclude: Vec<String>,
    /// Worker threads for reading and feature extraction (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Configuration file (parser limits).
    #[arg(long, env = "MAMORI_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Training settings (shared by `train` and `eval`).
#[derive(Args, Debug, Clone)]
pub struct TrainingArgs {
    /// Hashed feature space: 2^BITS slots.
    #[arg(long, default_value_t = mamori_ml::DEFAULT_BITS)]
    pub bits: u8,
    /// Passes over the training data.
    #[arg(long, default_value_t = TrainOptions::default().epochs)]
    pub epochs: u32,
    /// Seed for shuffling and the validation split (same data + seed = same model).
    #[arg(long, default_value_t = TrainOptions::default().seed)]
    pub seed: u64,
    /// FTRL learning rate.
    #[arg(long, default_value_t = TrainOptions::default().alpha)]
    pub alpha: f32,
    /// L1 regularisation (larger: smaller model).
    #[arg(long, default_value_t = TrainOptions::default().l1)]
    pub l1: f32,
    /// L2 regularisation.
    #[arg(long, default_value_t = TrainOptions::default().l2)]
    pub l2: f32,
    /// Weight of ham examples (above 1: fewer false positives, lower recall).
    #[arg(long, default_value_t = TrainOptions::default().class_weights[0])]
    pub ham_weight: f32,
}

impl TrainingArgs {
    /// As library options.
    pub fn options(&self) -> TrainOptions {
        TrainOptions {
            bits: self.bits,
            epochs: self.epochs,
            seed: self.seed,
            alpha: self.alpha,
            l1: self.l1,
            l2: self.l2,
            class_weights: [self.ham_weight, 1.0, 1.0],
            ..TrainOptions::default()
        }
    }
}

#[derive(Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub corpus: CorpusArgs,
    #[command(flatten)]
    pub training: TrainingArgs,
    /// Where to write the model.
    #[arg(short = 'o', long = "output", value_name = "MODEL")]
    pub output: PathBuf,
}

/// Labelled corpora read into features, with the split and leave-out marks applied.
pub struct Loaded {
    pub sets: Vec<LabelSet>,
    pub samples: Vec<Sample>,
    pub left_out: Vec<usize>,
    pub excluded: Vec<usize>,
    /// Seconds spent reading, parsing and extracting features.
    pub read_seconds: f64,
}

impl Loaded {
    /// True when the sample is in the test part (split test, or a left-out set).
    pub fn is_test(&self, s: &Sample) -> bool {
        s.split_test || self.left_out.contains(&s.set)
    }

    /// True when the sample is dropped entirely.
    pub fn is_excluded(&self, s: &Sample) -> bool {
        self.excluded.contains(&s.set)
    }

    /// Training examples: neither test nor excluded.
    pub fn training(&self) -> Vec<Example> {
        self.samples
            .iter()
            .filter(|s| !self.is_test(s) && !self.is_excluded(s))
            .map(|s| Example {
                indices: s.indices.clone(),
                label: s.label,
            })
            .collect()
    }
}

/// Loads the corpora of `args` with features for `2^bits`.
pub fn load(args: &CorpusArgs, bits: u8) -> anyhow::Result<Loaded> {
    let config = MamoriConfig::load(args.config.as_deref())?;
    let sets = modeling::load_sets(&args.corpora, &args.labels)?;
    let left_out = modeling::sets_named(&sets, &args.leave_out, "--leave-out")?;
    let excluded = modeling::sets_named(&sets, &args.exclude, "--exclude")?;
    let total: u64 = sets
        .iter()
        .enumerate()
        .filter(|(i, _)| !excluded.contains(i))
        .map(|(_, s)| s.entries.len() as u64)
        .sum();
    // Excluded sets are not read at all.
    let wanted: Vec<LabelSet> = sets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut s = s.clone();
            if excluded.contains(&i) {
                s.entries.clear();
            }
            s
        })
        .collect();
    let bar = modeling::progress(total, "reading");
    let start = Instant::now();
    let mut samples = modeling::read_samples(&wanted, bits, &config.limits, args.threads, &bar)?;
    let read_seconds = modeling::seconds(start);
    bar.finish_and_clear();
    if let Some(name) = &args.split {
        modeling::mark_split(&sets, &mut samples, name)?;
    }
    Ok(Loaded {
        sets,
        samples,
        left_out,
        excluded,
        read_seconds,
    })
}

/// Trains on `examples` with a progress bar; returns the model and a one-line summary.
pub fn train_model(
    examples: &[Example],
    training: &TrainingArgs,
    description: &str,
) -> anyhow::Result<(mamori_ml::Model, mamori_ml::TrainReport, f64)> {
    let opts = training.options();
    // Two fits (one for calibration, one on everything), `epochs` passes each.
    let bar = modeling::progress(
        examples.len() as u64 * u64::from(opts.epochs) * 2,
        "training",
    );
    let start = Instant::now();
    let result = mamori_ml::train::train(examples, &opts, description, |n| bar.inc(n));
    bar.finish_and_clear();
    let (model, report) = result.context("training")?;
    Ok((model, report, modeling::seconds(start)))
}

/// Counts of examples per class, for messages.
pub fn class_counts(examples: &[Example]) -> String {
    let mut counts = [0u64; 3];
    for e in examples {
        counts[e.label.index()] += 1;
    }
    Label::ALL
        .iter()
        .map(|l| format!("{} {}", counts[l.index()], l))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn run(args: TrainArgs) -> anyhow::Result<u8> {
    let started = Instant::now();
    let loaded = load(&args.corpus, args.training.bits)?;
    let examples = loaded.training();
    let used: Vec<String> = loaded
        .sets
        .iter()
        .enumerate()
        .filter(|(i, _)| !loaded.left_out.contains(i) && !loaded.excluded.contains(i))
        .map(|(_, s)| s.name.clone())
        .collect();
    let description = format!(
        "mamori train on {}{} ({}); bits {}, epochs {}, seed {}",
        used.join(", "),
        args.corpus
            .split
            .as_ref()
            .map(|s| format!(" (split: training part of {s})"))
            .unwrap_or_default(),
        class_counts(&examples),
        args.training.bits,
        args.training.epochs,
        args.training.seed
    );
    let (model, report, train_seconds) = train_model(&examples, &args.training, &description)?;
    model
        .save(&args.output)
        .with_context(|| format!("writing {}", args.output.display()))?;
    let size = std::fs::metadata(&args.output).map_or(0, |m| m.len());
    eprintln!(
        "mamori: trained on {} messages ({}) from {}",
        examples.len(),
        class_counts(&examples),
        used.join(", ")
    );
    eprintln!(
        "mamori: reading + features {:.1} s ({:.0} messages/s), training {:.1} s, total {:.1} s",
        loaded.read_seconds,
        loaded.samples.len() as f64 / loaded.read_seconds.max(1e-9),
        train_seconds,
        modeling::seconds(started)
    );
    eprintln!(
        "mamori: calibration on {} held-out messages: temperature {:.3}, log-loss {:.4} → {:.4}",
        report.validation, report.temperature, report.validation_loss_raw, report.validation_loss
    );
    eprintln!(
        "mamori: {} non-zero features, wrote {} ({:.2} MB)",
        report.non_zero,
        args.output.display(),
        size as f64 / 1e6
    );
    Ok(exit::CLEAN)
}
