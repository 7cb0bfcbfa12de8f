//! `mamori` — the command-line front end. It parses flags, calls the library crates and prints results;
//! analysis, parsing and response logic live in the library crates, never here.

mod commands;
mod config;
mod modeling;
mod output;
mod pipeline;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit status shared by every subcommand, in the convention of other scanners.
pub mod exit {
    /// Nothing flagged.
    pub const CLEAN: u8 = 0;
    /// Something was flagged (a message, a flow, a failed check).
    pub const FLAGGED: u8 = 1;
    /// An error stopped the command.
    pub const ERROR: u8 = 2;
}

#[derive(Parser)]
#[command(
    name = "mamori",
    version,
    about = "mamori (守り) — mail and network cyber-defence engine"
)]
struct Cli {
    /// Log filter, e.g. `info` or `mamori=debug` (also via MAMORI_LOG).
    #[arg(long, global = true, env = "MAMORI_LOG", default_value = "warn")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan mail (.eml, directory, mbox, Maildir or `-` for stdin) and print verdicts.
    Scan(commands::scan::ScanArgs),
    /// Show how a message was parsed (headers, identities, text, links, attachments, anomalies) as JSON.
    Inspect(commands::inspect::InspectArgs),
    /// Measure analysis throughput (messages/s, MB/s) on one core and on all cores.
    Bench(commands::bench::BenchArgs),
    /// List every finding id with its category, weight and ATT&CK techniques.
    Findings(commands::findings::FindingsArgs),
    /// Zeek flow analytics: C2 beaconing and exfiltration in conn.log files.
    Flows(commands::flows::FlowsArgs),
    /// Train a content model (ham/spam/phish) from labelled corpora (docs/ml.md).
    Train(commands::train::TrainArgs),
    /// Evaluate a content model: confusion, precision/recall/F1, ROC AUC, recall at fixed ham FPR, calibration.
    Eval(commands::eval::EvalArgs),
    /// Analyst feedback: update the local content model with messages of a known class.
    Learn(commands::learn::LearnArgs),
    /// Run the daemon: milter for Postfix/Sendmail, HTTP API, playbooks (docs/serve.md).
    Serve(commands::serve::ServeArgs),
    /// Validate playbooks (docs/serve.md).
    #[command(subcommand)]
    Playbook(commands::playbook::PlaybookCommand),
    /// List, show, release or delete quarantined messages.
    #[command(subcommand)]
    Quarantine(commands::quarantine::QuarantineCommand),
    /// Manage the live block lists.
    #[command(subcommand)]
    Block(commands::block::BlockCommand),
    /// Retro-hunt: move delivered messages carrying an indicator out of the Maildirs into quarantine.
    Purge(commands::purge::PurgeArgs),
    /// TTP intelligence hub: ATT&CK import, group ranking, STIX export, Navigator layers, TAXII 2.1 server and client.
    Intel(commands::intel::IntelArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log);
    let result = match cli.command {
        Command::Scan(args) => commands::scan::run(args),
        Command::Findings(args) => commands::findings::run(args),
        Command::Bench(args) => commands::bench::run(args),
        Command::Inspect(args) => commands::inspect::run(args),
        Command::Flows(args) => commands::flows::run(args),
        Command::Train(args) => commands::train::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Learn(args) => commands::learn::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::Playbook(cmd) => commands::playbook::run(cmd),
        Command::Quarantine(cmd) => commands::quarantine::run(cmd),
        Command::Block(cmd) => commands::block::run(cmd),
        Command::Purge(args) => commands::purge::run(args),
        Command::Intel(args) => commands::intel::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("mamori: error: {err:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
