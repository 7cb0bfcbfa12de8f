//! `mamori learn --as ham|spam|phish FILES…`: analyst feedback. Each message nudges the model towards the given
//! class (online learning); the result is written, by write-then-rename, as the local model in the data
//! directory, which `scan` then prefers to the built-in model. Nothing is written unless every input was read.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use mamori_mail::source::{ReadOptions, Reader};
use mamori_ml::Label;

use crate::config::MamoriConfig;
use crate::exit;
use crate::modeling;

/// The class an analyst gives.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LabelArg {
    /// Legitimate mail.
    Ham,
    /// Spam.
    Spam,
    /// Phishing.
    Phish,
}

impl From<LabelArg> for Label {
    fn from(l: LabelArg) -> Label {
        match l {
            LabelArg::Ham => Label::Ham,
            LabelArg::Spam => Label::Spam,
            LabelArg::Phish => Label::Phish,
        }
    }
}

#[derive(Args)]
pub struct LearnArgs {
    /// What the messages are.
    #[arg(long = "as", value_enum)]
    pub label: LabelArg,
    /// Messages: .eml files, directories, mbox files, Maildirs.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// Data directory for the local model (default `$XDG_DATA_HOME/mamori` or `~/.local/share/mamori`).
    #[arg(long, env = "MAMORI_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Start from this model instead of the current local (or built-in) one.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<PathBuf>,
    /// Probability of the given class to reach for each message.
    #[arg(long, default_value_t = 0.9)]
    pub target: f32,
    /// Configuration file (parser limits).
    #[arg(long, env = "MAMORI_CONFIG")]
    pub config: Option<PathBuf>,
}

pub fn run(args: LearnArgs) -> anyhow::Result<u8> {
    anyhow::ensure!(
        args.target > 0.34 && args.target < 1.0,
        "--target must be between 0.34 and 1 (exclusive)"
    );
    let config = MamoriConfig::load(args.config.as_deref())?;
    let data_dir = modeling::data_dir(args.data_dir.as_deref());
    let (model, source) = modeling::resolve_model(args.model.as_deref(), &data_dir)?;
    let mut model = (*model).clone();
    let label: Label = args.label.into();
    let options = ReadOptions {
        max_message_bytes: config.limits.max_message_bytes,
        max_line_bytes: config.limits.max_line_bytes,
        include_non_mail: true,
        ..ReadOptions::default()
    };
    // Read everything first: a bad input stops the command before the model changes.
    let mut messages = Vec::new();
    for item in Reader::new(&args.inputs, options) {
        let item = item.context("reading the messages to learn")?;
        let message = mamori_mail::parse_item(&item, &config.limits);
        if let Some(a) = message.anomalies.iter().find(|a| {
            matches!(
                a.kind,
                mamori_mail::AnomalyKind::Empty
                    | mamori_mail::AnomalyKind::NotMail
                    | mamori_mail::AnomalyKind::ParserFailure
            )
        }) {
            anyhow::bail!("{}: does not parse as mail: {}", item.origin, a.detail);
        }
        let indices = mamori_detect::content_model::message_features(&model, &message);
        messages.push((item.origin.to_string(), indices));
    }
    anyhow::ensure!(!messages.is_empty(), "no messages found in the inputs");
    for (origin, indices) in &messages {
        let before = model.predict_indices(indices).probability(label);
        let after = model.learn(indices, label, args.target, 50);
        eprintln!("mamori: {origin}: P({label}) {before:.3} → {after:.3}");
    }
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
    let path = data_dir.join(modeling::LOCAL_MODEL);
    model
        .save(&path)
        .with_context(|| format!("writing the local model {}", path.display()))?;
    eprintln!(
        "mamori: learnt {} message(s) as {label} starting from the {source}; local model {} ({} learnt in total)",
        messages.len(),
        path.display(),
        model.info().learned
    );
    Ok(exit::CLEAN)
}
