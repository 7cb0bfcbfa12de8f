//! Shared by `train`, `eval`, `learn` and `scan`: label files, reading labelled corpora into feature vectors (in
//! parallel), the standard SpamAssassin split, and choosing which content model to use (`--model`, the local model
//! in the data directory, or the built-in one).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use mamori_mail::source::{Format, Origin, ReadOptions, Reader};
use mamori_mail::{AnomalyKind, Limits};
use mamori_ml::{Label, Model};
use rayon::prelude::*;

/// File name of the local model in the data directory.
pub const LOCAL_MODEL: &str = "model.mmdl";

/// The built-in default model (`models/default.mmdl`, reproduced by the command in `models/README.md`).
static BUILTIN_MODEL: &[u8] = include_bytes!("../../../models/default.mmdl");

/// Where the model in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// `--model PATH`.
    File(PathBuf),
    /// The local model `mamori learn` keeps in the data directory.
    Local(PathBuf),
    /// Compiled into the binary.
    Builtin,
}

impl std::fmt::Display for ModelSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelSource::File(p) => write!(f, "{}", p.display()),
            ModelSource::Local(p) => write!(f, "local model {}", p.display()),
            ModelSource::Builtin => f.write_str("built-in model"),
        }
    }
}

/// The data directory: `--data-dir`, else `$MAMORI_DATA_DIR`, else `$XDG_DATA_HOME/mamori`, else
/// `~/.local/share/mamori`.
pub fn data_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("XDG_DATA_HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(p).join("mamori");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(home).join(".local/share/mamori");
    }
    PathBuf::from("data-local")
}

/// The built-in model.
pub fn builtin_model() -> anyhow::Result<Model> {
    Model::from_bytes(BUILTIN_MODEL, "built-in model")
        .context("the built-in model is damaged (rebuild mamori)")
}

/// The model to use: `explicit` if given, else the local model in `data_dir` if there is one, else the built-in
/// model. A local model that exists but cannot be read is an error, not a silent fall-back.
pub fn resolve_model(
    explicit: Option<&Path>,
    data_dir: &Path,
) -> anyhow::Result<(Arc<Model>, ModelSource)> {
    if let Some(path) = explicit {
        let model = Model::load(path).context("loading --model")?;
        return Ok((Arc::new(model), ModelSource::File(path.to_path_buf())));
    }
    let local = data_dir.join(LOCAL_MODEL);
    if local.exists() {
        let model = Model::load(&local)
            .context("loading the local model (remove it to fall back to the built-in model)")?;
        return Ok((Arc::new(model), ModelSource::Local(local)));
    }
    Ok((Arc::new(builtin_model()?), ModelSource::Builtin))
}

/// One line of a label file.
#[derive(Debug, Clone)]
pub struct LabelEntry {
    /// Message location relative to the corpus directory (`file` or `file.mbox#N`).
    pub origin: Origin,
    /// Its class.
    pub label: Label,
    /// 1-based line in the label file.
    pub line: usize,
}

/// A labelled corpus: a directory and a label file.
#[derive(Debug, Clone)]
pub struct LabelSet {
    /// Name used by `--split`, `--leave-out`, `--exclude`: the label file's stem.
    pub name: String,
    /// Corpus directory that label paths are relative to.
    pub corpus: PathBuf,
    /// The label file.
    pub labels: PathBuf,
    /// Its entries.
    pub entries: Vec<LabelEntry>,
}

/// Reads a label file (`path<TAB>label` per line, UTF-8, `#` comments and blank lines ignored).
pub fn load_labels(corpus: &Path, labels: &Path) -> anyhow::Result<LabelSet> {
    let text =
        std::fs::read_to_string(labels).with_context(|| format!("reading {}", labels.display()))?;
    if !corpus.is_dir() {
        bail!("{}: corpus directory does not exist", corpus.display());
    }
    let mut entries = Vec::new();
    let mut seen: HashMap<(String, u64), usize> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((path, label)) = line.split_once('\t') else {
            bail!(
                "{}:{n}: expected `path<TAB>label`, got {line:?}",
                labels.display()
            );
        };
        let label = label.trim();
        let Some(label) = Label::parse(label) else {
            bail!(
                "{}:{n}: unknown label {label:?} (expected ham, spam or phish)",
                labels.display()
            );
        };
        if path.is_empty() || Path::new(path).is_absolute() || path.split('/').any(|c| c == "..") {
            bail!(
                "{}:{n}: path {path:?} must be relative to the corpus directory, without `..`",
                labels.display()
            );
        }
        let origin = Origin::parse(path);
        if let Some(first) = seen.insert(origin.key(), n) {
            bail!(
                "{}:{n}: {path} is already labelled on line {first}",
                labels.display()
            );
        }
        entries.push(LabelEntry {
            origin,
            label,
            line: n,
        });
    }
    if entries.is_empty() {
        bail!("{}: no labelled messages", labels.display());
    }
    let name = labels.file_stem().map_or_else(
        || "labels".to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    Ok(LabelSet {
        name,
        corpus: corpus.to_path_buf(),
        labels: labels.to_path_buf(),
        entries,
    })
}

/// Pairs `--corpus` and `--labels` arguments and loads every label file.
pub fn load_sets(corpora: &[PathBuf], labels: &[PathBuf]) -> anyhow::Result<Vec<LabelSet>> {
    if corpora.len() != labels.len() {
        bail!(
            "give one --labels FILE per --corpus DIR ({} corpora, {} label files)",
            corpora.len(),
            labels.len()
        );
    }
    if corpora.is_empty() {
        bail!("no --corpus DIR --labels FILE given");
    }
    let sets: Vec<LabelSet> = corpora
        .iter()
        .zip(labels)
        .map(|(c, l)| load_labels(c, l))
        .collect::<anyhow::Result<_>>()?;
    let mut names: Vec<&str> = sets.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        bail!(
            "two label files are named {:?}: names must differ (they select sets for --split/--leave-out)",
            w[0]
        );
    }
    Ok(sets)
}

/// One labelled message as features.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Index of its label set.
    pub set: usize,
    /// `file` or `file#N` relative to the corpus.
    pub origin: String,
    /// Its class.
    pub label: Label,
    /// Feature indices.
    pub indices: Vec<u32>,
    /// True when the standard split puts it in the test part.
    pub split_test: bool,
}

/// Reads and featurises every labelled message of `sets` for a feature space of `2^bits`, in parallel.
/// Errors name the label file and line: missing files, missing mbox positions, input that is not mail.
pub fn read_samples(
    sets: &[LabelSet],
    bits: u8,
    limits: &Limits,
    threads: Option<usize>,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<Vec<Sample>> {
    // Group entries by file so that each mbox is read once.
    struct Job<'a> {
        set: usize,
        path: String,
        entries: Vec<&'a LabelEntry>,
    }
    let mut jobs: Vec<Job<'_>> = Vec::new();
    for (si, set) in sets.iter().enumerate() {
        let mut by_file: BTreeMap<&str, Vec<&LabelEntry>> = BTreeMap::new();
        for e in &set.entries {
            by_file.entry(e.origin.path.as_str()).or_default().push(e);
        }
        for (path, entries) in by_file {
            jobs.push(Job {
                set: si,
                path: path.to_string(),
                entries,
            });
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .context("starting worker threads")?;
    let results: Vec<anyhow::Result<Vec<Sample>>> = pool.install(|| {
        jobs.par_iter()
            .map(|job| {
                let set = &sets[job.set];
                let full = set.corpus.join(&job.path);
                let where_ = |e: &LabelEntry| format!("{}:{}", set.labels.display(), e.line);
                if !full.is_file() {
                    bail!(
                        "{}: {} does not exist",
                        where_(job.entries[0]),
                        full.display()
                    );
                }
                let options = ReadOptions {
                    format: Format::Auto,
                    max_message_bytes: limits.max_message_bytes,
                    max_line_bytes: limits.max_line_bytes,
                    include_non_mail: true,
                };
                let wanted: HashMap<u64, &LabelEntry> = job
                    .entries
                    .iter()
                    .map(|e| (e.origin.index.unwrap_or(0), *e))
                    .collect();
                let mut found = Vec::with_capacity(wanted.len());
                let mut count = 0u64;
                for item in Reader::new(&[full.display().to_string()], options) {
                    let item = item.with_context(|| where_(job.entries[0]))?;
                    let index = item.origin.index.unwrap_or(0);
                    count += 1;
                    let Some(entry) = wanted.get(&index) else {
                        continue;
                    };
                    let message = mamori_mail::parse_item(&item, limits);
                    if let Some(a) = message.anomalies.iter().find(|a| {
                        matches!(
                            a.kind,
                            AnomalyKind::Empty | AnomalyKind::NotMail | AnomalyKind::ParserFailure
                        )
                    }) {
                        bail!(
                            "{}: {} does not parse as mail: {}",
                            where_(entry),
                            entry.origin,
                            a.detail
                        );
                    }
                    let indices =
                        mamori_detect::content_model::with_feature_input(&message, |input| {
                            mamori_ml::features::hashed(input, bits)
                        });
                    found.push(Sample {
                        set: job.set,
                        origin: entry.origin.to_string(),
                        label: entry.label,
                        indices,
                        split_test: false,
                    });
                    progress.inc(1);
                }
                if found.len() < wanted.len() {
                    let seen: std::collections::HashSet<&str> =
                        found.iter().map(|s| s.origin.as_str()).collect();
                    let missing = job
                        .entries
                        .iter()
                        .find(|e| !seen.contains(e.origin.to_string().as_str()))
                        .copied()
                        .unwrap_or(job.entries[0]);
                    bail!(
                        "{}: {} names no message: {} holds {count}",
                        where_(missing),
                        missing.origin,
                        job.path
                    );
                }
                Ok(found)
            })
            .collect()
    });
    let mut samples = Vec::new();
    for r in results {
        samples.extend(r?);
    }
    // Deterministic order whatever the thread timing.
    samples.sort_by(|a, b| (a.set, &a.origin).cmp(&(b.set, &b.origin)));
    Ok(samples)
}

/// Marks the test part of the standard split on the set named `name`: within each top-level folder, file names
/// sorted bytewise (C locale), every fifth (index % 5 == 4) is test.
pub fn mark_split(sets: &[LabelSet], samples: &mut [Sample], name: &str) -> anyhow::Result<()> {
    let Some(si) = sets.iter().position(|s| s.name == name) else {
        bail!(
            "--split {name}: no label file named {name} (label sets: {})",
            set_names(sets)
        );
    };
    let mut by_folder: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, s) in samples.iter().enumerate().filter(|(_, s)| s.set == si) {
        let folder = s.origin.split_once('/').map_or("", |(f, _)| f).to_string();
        by_folder.entry(folder).or_default().push(i);
    }
    for idx in by_folder.values_mut() {
        idx.sort_by(|&a, &b| {
            samples[a]
                .origin
                .as_bytes()
                .cmp(samples[b].origin.as_bytes())
        });
        for (k, &i) in idx.iter().enumerate() {
            samples[i].split_test = k % 5 == 4;
        }
    }
    Ok(())
}

/// The names of the label sets, for error messages.
pub fn set_names(sets: &[LabelSet]) -> String {
    sets.iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Indices of sets named in `names`; unknown names are an error.
pub fn sets_named(sets: &[LabelSet], names: &[String], flag: &str) -> anyhow::Result<Vec<usize>> {
    names
        .iter()
        .map(|n| {
            sets.iter().position(|s| &s.name == n).with_context(|| {
                format!(
                    "{flag} {n}: no label file named {n} (label sets: {})",
                    set_names(sets)
                )
            })
        })
        .collect()
}

/// A progress bar for message counts (hidden when stderr is not a terminal).
pub fn progress(total: u64, what: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal as _;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{what} {{bar:40}} {{pos}}/{{len}} ({{per_sec}}, {{eta}} left)"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// Wall time since `start` in seconds.
pub fn seconds(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}
