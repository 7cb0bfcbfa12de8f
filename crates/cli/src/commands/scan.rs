//! `mamori scan`: read mail from files, directories, mbox files, Maildirs or stdin, analyse every message on all
//! cores, and print verdicts in input order (a table, JSON lines, or a full explanation).

use std::io::{self, IsTerminal, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use mamori_auth::{AuthMode, MailAuthenticator};
use mamori_detect::{Engine, Verdict};
use mamori_mail::Envelope;
use mamori_mail::source::{Format, MailItem, ReadOptions, Reader, SourceError};

use crate::config::MamoriConfig;
use crate::exit;
use crate::output::{self, OutputMode};
use crate::pipeline::ordered_map;

/// Input format choices for `--format`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// Detect per input.
    Auto,
    /// One message per file.
    Eml,
    /// mbox files.
    Mbox,
    /// A Maildir directory.
    Maildir,
    /// Batched SMTP files.
    Bsmtp,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Auto => Format::Auto,
            FormatArg::Eml => Format::Eml,
            FormatArg::Mbox => Format::Mbox,
            FormatArg::Maildir => Format::Maildir,
            FormatArg::Bsmtp => Format::Bsmtp,
        }
    }
}

#[derive(Args)]
pub struct ScanArgs {
    /// Inputs: .eml files, directories (recursive), mbox files, Maildirs, or `-` for standard input.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// Input format; `auto` detects mbox, BSMTP and Maildir inputs.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: FormatArg,
    /// Print one JSON verdict per line (schema: docs/verdict-json.md).
    #[arg(long, conflicts_with = "explain")]
    pub json: bool,
    /// Print every finding with its evidence and ATT&CK techniques.
    #[arg(long)]
    pub explain: bool,
    /// Configuration file (mamori.toml); built-in defaults without it.
    #[arg(long, env = "MAMORI_CONFIG")]
    pub config: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also scan files found in directories that do not look like mail (README, labels, binaries).
    #[arg(long)]
    pub include_all: bool,
    /// Only print flagged messages.
    #[arg(long)]
    pub flagged_only: bool,
    /// SMTP client address, when known (applies to every message).
    #[arg(long)]
    pub client_ip: Option<IpAddr>,
    /// SMTP HELO/EHLO name, when known.
    #[arg(long)]
    pub helo: Option<String>,
    /// SMTP MAIL FROM address, when known.
    #[arg(long)]
    pub mail_from: Option<String>,
    /// SMTP RCPT TO addresses, when known.
    #[arg(long)]
    pub rcpt_to: Vec<String>,
    /// Verify SPF/DKIM/DMARC/ARC against this static record file (zone-file syntax, docs/auth.md); unknown names
    /// answer NXDOMAIN and nothing is sent to the network.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["no_dns", "live_dns"])]
    pub dns_records: Option<PathBuf>,
    /// No DNS: trust Authentication-Results only from [auth] authserv_ids (the default for scan).
    #[arg(long, conflicts_with = "live_dns")]
    pub no_dns: bool,
    /// Verify against live DNS (right for fresh mail only: DNS changes, so old mail re-checked today fails).
    #[arg(long)]
    pub live_dns: bool,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Directory of YARA rules (`*.yar`, `*.yara`) run on every attachment and nested file, besides the built-in
    /// rules (overrides `[attachments] yara_rules`; needs a build with the default `yara` feature).
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
}

/// Which content model to run (`docs/ml.md`).
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// Content model file; default: the local model in the data directory (from `mamori learn`), else the
    /// built-in one.
    #[arg(long, value_name = "MODEL", conflicts_with = "no_model")]
    pub model: Option<PathBuf>,
    /// Do not run the content model (rules only).
    #[arg(long)]
    pub no_model: bool,
    /// Data directory holding the local model.
    #[arg(long, env = "MAMORI_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

impl ModelArgs {
    /// Installs the chosen content model in `engine` (unless `--no-model` or `[model] enabled = false`).
    pub fn install(&self, engine: Engine) -> anyhow::Result<Engine> {
        if self.no_model || !engine.config().model.enabled {
            return Ok(engine);
        }
        let data_dir = crate::modeling::data_dir(self.data_dir.as_deref());
        let (model, source) = crate::modeling::resolve_model(self.model.as_deref(), &data_dir)?;
        tracing::debug!("content model: {source}");
        Ok(engine.with_content_model(model))
    }
}

/// Reads the YARA rule files of `dir` (sorted, not recursive) as (file name, text) pairs.
pub fn read_rules_dir(dir: &std::path::Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading YARA rules directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yar" || x == "yara"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text =
                std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok((name, text))
        })
        .collect()
}

/// The engine with the sender authenticator the configuration and flags ask for.
fn build_engine(config: &MamoriConfig, args: &ScanArgs) -> anyhow::Result<Engine> {
    let mut engine = Engine::new(config.detect()).context("building the detection engine")?;
    if let Some(dir) = args
        .rules
        .as_ref()
        .or(config.attachments.yara_rules.as_ref())
    {
        let sources = read_rules_dir(dir)?;
        engine = engine
            .with_yara_rules(&sources)
            .with_context(|| format!("loading YARA rules from {}", dir.display()))?;
    }
    let engine = args.model.install(engine)?;
    let mut auth = config.auth.clone();
    if let Some(file) = &args.dns_records {
        auth.mode = AuthMode::Records;
        auth.records_file = Some(file.clone());
    } else if args.no_dns {
        auth.mode = AuthMode::Headers;
    } else if args.live_dns {
        auth.mode = AuthMode::Dns;
    }
    if auth.mode == AuthMode::Off {
        return Ok(engine);
    }
    let authenticator =
        MailAuthenticator::new(&auth).context("setting up sender authentication ([auth])")?;
    Ok(engine.with_authenticator(Arc::new(authenticator)))
}

pub fn run(args: ScanArgs) -> anyhow::Result<u8> {
    let config = MamoriConfig::load(args.config.as_deref())?;
    let engine = build_engine(&config, &args)?;
    let envelope = Envelope {
        client_ip: args.client_ip,
        helo: args.helo.clone(),
        mail_from: args.mail_from.clone(),
        rcpt_to: args.rcpt_to.clone(),
        ..Envelope::default()
    };
    let options = ReadOptions {
        format: args.format.into(),
        max_message_bytes: config.limits.max_message_bytes,
        max_line_bytes: config.limits.max_line_bytes,
        include_non_mail: args.include_all,
    };
    let mode = if args.json {
        OutputMode::Json
    } else if args.explain {
        OutputMode::Explain
    } else {
        OutputMode::Table
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut reader = Reader::new(&args.inputs, options);
    let progress = output::progress_bar(io::stderr().is_terminal());
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut stats = ScanStats::default();
    let started = Instant::now();
    if mode == OutputMode::Table {
        output::write_table_header(&mut out)?;
    }
    ordered_map(
        reader.by_ref(),
        threads,
        |item: Result<MailItem, SourceError>| {
            item.map(|item| engine.analyse_item(&envelope, &item))
        },
        |result| {
            progress.inc(1);
            match result {
                Ok(verdict) => {
                    stats.add(&verdict);
                    if args.flagged_only && !verdict.class.is_flagged() {
                        return true;
                    }
                    write_verdict(&mut out, mode, &verdict)
                }
                Err(err) => {
                    stats.errors += 1;
                    progress.suspend(|| eprintln!("mamori: {err}"));
                    true
                }
            }
        },
    );
    progress.finish_and_clear();
    if let Err(e) = out.flush()
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        return Err(e).context("writing output");
    }
    drop(out);
    let elapsed = started.elapsed().as_secs_f64();
    if stats.messages > 1 || reader.skipped() > 0 || stats.errors > 0 {
        eprintln!(
            "mamori: {} messages in {:.2} s ({:.0}/s): {} flagged, {} errors, {} non-mail files skipped",
            stats.messages,
            elapsed,
            stats.messages as f64 / elapsed.max(1e-9),
            stats.flagged,
            stats.errors,
            reader.skipped()
        );
    }
    Ok(if stats.errors > 0 {
        exit::ERROR
    } else if stats.flagged > 0 {
        exit::FLAGGED
    } else {
        exit::CLEAN
    })
}

/// Writes one verdict; returns `false` when the output is gone (broken pipe), to stop the scan.
fn write_verdict(out: &mut impl Write, mode: OutputMode, verdict: &Verdict) -> bool {
    match output::write_verdict(out, mode, verdict) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => false,
        Err(e) => {
            eprintln!("mamori: writing output: {e}");
            false
        }
    }
}

#[derive(Default)]
struct ScanStats {
    messages: u64,
    flagged: u64,
    errors: u64,
}

impl ScanStats {
    fn add(&mut self, verdict: &Verdict) {
        self.messages += 1;
        if verdict.class.is_flagged() {
            self.flagged += 1;
        }
    }
}
