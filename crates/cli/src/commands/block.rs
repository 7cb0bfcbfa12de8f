//! `mamori block add|list|remove`: the live block lists in the store; running daemons pick changes up within
//! `block_refresh_ms`.

use clap::Subcommand;
use mamori_serve::api::normalise_block_value;
use mamori_store::blocklist::BlockKind;

use super::serve::{StoreArgs, open_store, runtime};
use crate::exit;

#[derive(Subcommand)]
pub enum BlockCommand {
    /// Add (or refresh) an entry.
    Add {
        #[command(flatten)]
        store: StoreArgs,
        /// sender, domain, url, file (SHA-256) or ip.
        kind: String,
        /// The value.
        value: String,
        /// Time to live (`7d`, `12h`); default permanent.
        #[arg(long)]
        ttl: Option<String>,
        /// Why.
        #[arg(long, default_value = "added with mamori block add")]
        reason: String,
    },
    /// List the entries in force.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Remove an entry.
    Remove {
        #[command(flatten)]
        store: StoreArgs,
        /// Kind.
        kind: String,
        /// Value.
        value: String,
    },
}

pub fn run(cmd: BlockCommand) -> anyhow::Result<u8> {
    runtime()?.block_on(async move {
        match cmd {
            BlockCommand::Add {
                store,
                kind,
                value,
                ttl,
                reason,
            } => {
                let config = store.load()?;
                let store = open_store(&config.serve).await?;
                let kind = BlockKind::parse(&kind)?;
                let value = normalise_block_value(kind, &value).map_err(anyhow::Error::msg)?;
                let expires = match ttl.as_deref() {
                    Some(t) => {
                        let d = humantime_parse(t)?;
                        Some(
                            mamori_store::now_ms()
                                + i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2),
                        )
                    }
                    None => None,
                };
                store
                    .block_add(kind, &value, expires, &reason, None)
                    .await?;
                store
                    .action_record("cli", "block", "ok", &format!("{}:{value}", kind.as_str()))
                    .await?;
                println!("blocked {} {value}", kind.as_str());
                Ok(exit::CLEAN)
            }
            BlockCommand::List { store } => {
                let config = store.load()?;
                let store = open_store(&config.serve).await?;
                println!(
                    "{:<7} {:<60} {:<14}  REASON",
                    "KIND", "VALUE", "EXPIRES (ms)"
                );
                for e in store.block_active(mamori_store::now_ms()).await? {
                    println!(
                        "{:<7} {:<60} {:<14}  {}",
                        e.kind.as_str(),
                        e.value,
                        e.expires_at.map_or("never".to_string(), |t| t.to_string()),
                        e.reason
                    );
                }
                Ok(exit::CLEAN)
            }
            BlockCommand::Remove { store, kind, value } => {
                let config = store.load()?;
                let store = open_store(&config.serve).await?;
                let kind = BlockKind::parse(&kind)?;
                let value = normalise_block_value(kind, &value).map_err(anyhow::Error::msg)?;
                store.block_remove(kind, &value).await?;
                println!("removed {} {value}", kind.as_str());
                Ok(exit::CLEAN)
            }
        }
    })
}

fn humantime_parse(t: &str) -> anyhow::Result<std::time::Duration> {
    mamori_serve::playbook::parse_ttl(t)
        .ok_or_else(|| anyhow::anyhow!("invalid ttl {t:?} (e.g. 7d, 12h, 30m)"))
}
