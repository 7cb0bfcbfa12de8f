//! `mamori purge --indicator KIND:VALUE`: zero-hour purge from the command line — delivered messages in the
//! message log carrying the indicator are moved out of the configured Maildirs into quarantine.

use std::path::PathBuf;

use clap::Args;

use super::serve::{StoreArgs, open_store, runtime};
use crate::exit;

#[derive(Args)]
pub struct PurgeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Indicator `kind:value` (kinds: sender, domain, url, file, ip, message-id); repeatable.
    #[arg(long, required = true)]
    pub indicator: Vec<String>,
    /// Maildir to purge (default `[serve] maildirs`); repeatable.
    #[arg(long)]
    pub maildir: Vec<PathBuf>,
}

pub fn run(args: PurgeArgs) -> anyhow::Result<u8> {
    let config = args.store.load()?;
    let mut indicators = Vec::new();
    for i in &args.indicator {
        let Some((kind, value)) = i.split_once(':') else {
            anyhow::bail!(
                "--indicator {i:?}: expected KIND:VALUE, e.g. url:https://bad.example/login"
            );
        };
        if !mamori_store::message_log::INDICATOR_KINDS.contains(&kind) {
            anyhow::bail!("--indicator {i:?}: unknown kind {kind:?}");
        }
        indicators.push((kind.to_string(), value.to_string()));
    }
    let maildirs = if args.maildir.is_empty() {
        config.serve.maildirs.clone()
    } else {
        args.maildir.clone()
    };
    if maildirs.is_empty() {
        anyhow::bail!("no Maildir to purge: give --maildir or set [serve] maildirs");
    }
    runtime()?.block_on(async move {
        let store = open_store(&config.serve).await?;
        let report = mamori_serve::actions::purge(&store, &maildirs, &indicators, "cli").await?;
        store.action_record("cli", "purge", "ok", &report).await?;
        println!("{report}");
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(exit::CLEAN)
}
