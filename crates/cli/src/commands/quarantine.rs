//! `mamori quarantine list|show|release|delete`: the quarantine in the store (no daemon needed).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use mamori_mail::Envelope;
use mamori_store::quarantine::QuarantineStatus;

use super::serve::{StoreArgs, open_store, runtime};
use crate::exit;

#[derive(Subcommand)]
pub enum QuarantineCommand {
    /// List quarantined messages (newest first).
    List {
        #[command(flatten)]
        store: StoreArgs,
        /// Only this status: held, released, deleted.
        #[arg(long)]
        status: Option<String>,
        /// Most entries.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one entry (metadata and verdict as JSON), or with --raw its bytes exactly.
    Show {
        #[command(flatten)]
        store: StoreArgs,
        /// Reference (`Q-…`).
        id: String,
        /// Write the original message bytes to stdout.
        #[arg(long)]
        raw: bool,
    },
    /// Re-deliver the original bytes via SMTP to a relay or into a Maildir, and mark the entry released.
    Release {
        #[command(flatten)]
        store: StoreArgs,
        /// Reference (`Q-…`).
        id: String,
        /// SMTP relay `host:port` (default `[serve.release] smtp`).
        #[arg(long)]
        smtp: Option<String>,
        /// Maildir (default `[serve.release] maildir`).
        #[arg(long)]
        maildir: Option<PathBuf>,
    },
    /// Delete an entry's bytes (the record stays).
    Delete {
        #[command(flatten)]
        store: StoreArgs,
        /// Reference (`Q-…`).
        id: String,
    },
}

pub fn run(cmd: QuarantineCommand) -> anyhow::Result<u8> {
    runtime()?.block_on(run_async(cmd))
}

async fn run_async(cmd: QuarantineCommand) -> anyhow::Result<u8> {
    match cmd {
        QuarantineCommand::List {
            store,
            status,
            limit,
            json,
        } => {
            let config = store.load()?;
            let store = open_store(&config.serve).await?;
            let status = status.as_deref().map(QuarantineStatus::parse).transpose()?;
            let rows = store
                .quarantine_list(status, limit.clamp(1, 100_000))
                .await?;
            let mut out = std::io::stdout().lock();
            if !json {
                writeln!(
                    out,
                    "{:<36} {:<9} {:<10} {:>7} {:>9}  REASON",
                    "ID", "STATUS", "CLASS", "SCORE", "SIZE"
                )?;
            }
            for r in rows {
                if json {
                    writeln!(out, "{}", serde_json::to_string(&r)?)?;
                } else {
                    writeln!(
                        out,
                        "{:<36} {:<9} {:<10} {:>7.2} {:>9}  {}",
                        r.id,
                        r.status.as_str(),
                        r.class,
                        r.score,
                        r.size,
                        r.reason
                    )?;
                }
            }
            Ok(exit::CLEAN)
        }
        QuarantineCommand::Show { store, id, raw } => {
            let config = store.load()?;
            let store = open_store(&config.serve).await?;
            if raw {
                let (bytes, _) = store.quarantine_content(&id).await?;
                std::io::stdout().lock().write_all(&bytes)?;
                return Ok(exit::CLEAN);
            }
            let entry = store.quarantine_entry(&id).await?;
            let verdict = store
                .quarantine_content(&id)
                .await
                .map(|(_, v)| v)
                .unwrap_or_default();
            let actions = store.actions_for(&id).await?;
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"entry": entry, "verdict": verdict, "actions": actions})
                )?
            );
            Ok(exit::CLEAN)
        }
        QuarantineCommand::Release {
            store,
            id,
            smtp,
            maildir,
        } => {
            let config = store.load()?;
            let store = open_store(&config.serve).await?;
            let mut release = config.serve.release.clone();
            if smtp.is_some() || maildir.is_some() {
                release.smtp = smtp;
                release.maildir = maildir;
            }
            let entry = store.quarantine_entry(&id).await?;
            if entry.status != QuarantineStatus::Held {
                anyhow::bail!("{id} is {}, not held", entry.status.as_str());
            }
            let (bytes, _) = store.quarantine_content(&id).await?;
            let envelope: Envelope = serde_json::from_value(entry.envelope).unwrap_or_default();
            let how = mamori_serve::actions::redeliver(&release, &envelope, &bytes)
                .await
                .with_context(|| format!("releasing {id}"))?;
            store.quarantine_mark_released(&id).await?;
            store
                .action_record(&id, "release", "ok", &format!("CLI: {how}"))
                .await?;
            println!("{id}: released ({how})");
            Ok(exit::CLEAN)
        }
        QuarantineCommand::Delete { store, id } => {
            let config = store.load()?;
            let store = open_store(&config.serve).await?;
            store.quarantine_delete(&id).await?;
            store.action_record(&id, "delete", "ok", "CLI").await?;
            println!("{id}: deleted");
            Ok(exit::CLEAN)
        }
    }
}
