//! `mamori inspect`: print how mamori parsed a message (the normalised `Message` as JSON), for analysts checking
//! what the detectors saw.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use mamori_mail::source::{ReadOptions, Reader};

use crate::config::MamoriConfig;
use crate::exit;

#[derive(Args)]
pub struct InspectArgs {
    /// A message file, an mbox entry (`file.mbox#N`) or `-` for stdin.
    pub input: String,
    /// Configuration file (for parser limits).
    #[arg(long, env = "MAMORI_CONFIG")]
    pub config: Option<PathBuf>,
}

pub fn run(args: InspectArgs) -> anyhow::Result<u8> {
    let config = MamoriConfig::load(args.config.as_deref())?;
    let origin = mamori_mail::source::Origin::parse(&args.input);
    let wanted = if std::path::Path::new(&args.input).exists() {
        mamori_mail::source::Origin {
            path: args.input.clone(),
            index: None,
        }
    } else {
        origin
    };
    let options = ReadOptions {
        max_message_bytes: config.limits.max_message_bytes,
        max_line_bytes: config.limits.max_line_bytes,
        include_non_mail: true,
        ..ReadOptions::default()
    };
    let reader = Reader::new(std::slice::from_ref(&wanted.path), options);
    for item in reader {
        let item = item.with_context(|| format!("reading {}", wanted.path))?;
        if item.origin.key() != wanted.key() && wanted.index.is_some() {
            continue;
        }
        let message = mamori_mail::parse_item(&item, &config.limits);
        serde_json::to_writer_pretty(std::io::stdout().lock(), &message)?;
        println!();
        return Ok(exit::CLEAN);
    }
    anyhow::bail!("{}: no such message", args.input)
}
