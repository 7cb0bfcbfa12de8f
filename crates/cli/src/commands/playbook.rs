//! `mamori playbook check FILE` / `mamori playbook show`: validate a playbook (errors with line numbers) or print
//! the built-in one.

use std::path::PathBuf;

use clap::Subcommand;
use mamori_serve::Playbook;
use mamori_serve::playbook::DEFAULT_PLAYBOOK;

use crate::exit;

#[derive(Subcommand)]
pub enum PlaybookCommand {
    /// Check a playbook file; prints its rules, or every error with its line number.
    Check {
        /// Playbook TOML file.
        file: PathBuf,
    },
    /// Print the built-in playbook (a starting point for your own).
    Default,
}

pub fn run(cmd: PlaybookCommand) -> anyhow::Result<u8> {
    match cmd {
        PlaybookCommand::Default => {
            print!("{DEFAULT_PLAYBOOK}");
            Ok(exit::CLEAN)
        }
        PlaybookCommand::Check { file } => match Playbook::load(&file) {
            Ok(p) => {
                println!("{}: ok, {} rules", file.display(), p.rules.len());
                for r in &p.rules {
                    let actions: Vec<&str> = r.then.iter().map(|a| a.name()).collect();
                    println!(
                        "  line {:>4}  {:<24} -> {}{}",
                        r.line,
                        r.name,
                        actions.join(", "),
                        if r.continue_ { " (continue)" } else { "" }
                    );
                }
                Ok(exit::CLEAN)
            }
            Err(e) => {
                for line in &e.errors {
                    eprintln!("{}: {line}", file.display());
                }
                Ok(exit::FLAGGED)
            }
        },
    }
}
