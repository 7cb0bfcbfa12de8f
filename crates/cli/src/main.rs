//! `mamori` — the command-line front end. It parses flags, calls the library crates and prints results;
//! analysis, parsing and response logic live in the library crates, never here.

mod commands;

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
    /// Zeek flow analytics: C2 beaconing and exfiltration in conn.log files.
    Flows(commands::flows::FlowsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log);
    let result = match cli.command {
        Command::Scan(args) => commands::scan::run(args),
        Command::Flows(args) => commands::flows::run(args),
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
