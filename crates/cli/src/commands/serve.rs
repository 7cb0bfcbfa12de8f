//! `mamori serve`: the daemon (milter, HTTP API, playbooks). Also the store options shared by the
//! `quarantine`, `block` and `purge` commands, which work on the store directly (no running daemon needed).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use mamori_serve::server::{Listeners, MilterAddr};
use mamori_serve::{Playbook, ServeConfig, Service};
use mamori_store::{Store, StoreOptions};
use tokio_util::sync::CancellationToken;

use crate::config::MamoriConfig;
use crate::exit;

/// Where the configuration and the store are.
#[derive(Args, Clone)]
pub struct StoreArgs {
    /// Configuration file (`mamori.toml`; the `[serve]` section: docs/serve.md).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Data directory (SQLite database, firewall file); default `[serve] data_dir` or `./mamori-data`.
    #[arg(long, env = "MAMORI_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (`postgres://…`); default SQLite in the data directory.
    #[arg(long, env = "MAMORI_DATABASE")]
    pub database: Option<String>,
}

impl StoreArgs {
    /// The configuration with the flags applied.
    pub fn load(&self) -> anyhow::Result<MamoriConfig> {
        let mut config = MamoriConfig::load(self.config.as_deref())?;
        if let Some(dir) = &self.data_dir {
            config.serve.data_dir.clone_from(dir);
        }
        if let Some(url) = &self.database {
            config.serve.database = Some(url.clone());
        }
        Ok(config)
    }
}

/// Opens the configured store.
pub async fn open_store(serve: &ServeConfig) -> anyhow::Result<Store> {
    match &serve.database {
        Some(url) => Store::connect(url, &StoreOptions::default())
            .await
            .context("opening the database"),
        None => Store::open_embedded(&serve.data_dir)
            .await
            .with_context(|| format!("opening the store in {}", serve.data_dir.display())),
    }
}

/// A multi-threaded runtime for the store commands.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Milter listener: `host:port` or `unix:/path` (default 127.0.0.1:7357).
    #[arg(long)]
    pub milter: Option<String>,
    /// HTTP API listener `host:port` (default 127.0.0.1:7358).
    #[arg(long)]
    pub http: Option<String>,
    /// Playbook file (default: `[serve] playbook`, else the built-in one).
    #[arg(long)]
    pub playbook: Option<PathBuf>,
}

pub fn run(args: ServeArgs) -> anyhow::Result<u8> {
    let mut config = args.store.load()?;
    if let Some(m) = &args.milter {
        config.serve.milter.clone_from(m);
    }
    if let Some(h) = &args.http {
        config.serve.http.clone_from(h);
    }
    if let Some(p) = &args.playbook {
        config.serve.playbook = Some(p.clone());
    }
    let playbook = match &config.serve.playbook {
        Some(path) => {
            Playbook::load(path).map_err(|e| anyhow::anyhow!("{}:\n{e}", path.display()))?
        }
        None => Playbook::builtin(),
    };
    let rt = runtime()?;
    rt.block_on(async move {
        let store = open_store(&config.serve).await?;
        let (engine, cell) = mamori_serve::build_engine(
            config.detect(),
            &config.auth,
            config.serve.auth_mode,
            tokio::runtime::Handle::current(),
        )?;
        let listeners =
            Listeners::bind(&MilterAddr::parse(&config.serve.milter), &config.serve.http).await?;
        eprintln!(
            "mamori serve: milter on {}, HTTP API on {}, playbook {} ({} rules), store {:?}",
            listeners.milter_addr(),
            listeners.http_addr(),
            playbook.origin,
            playbook.rules.len(),
            store.backend()
        );
        let mut extra = Vec::new();
        if config.intel.taxii {
            config.intel.check()?;
            extra.push(mamori_intel::taxii::router(
                mamori_intel::taxii::TaxiiState::new(store.clone(), config.intel.taxii_config()),
            ));
            eprintln!(
                "mamori serve: TAXII 2.1 on http://{}/taxii2/ (API root /{}/)",
                listeners.http_addr(),
                config.intel.api_root.trim_matches('/')
            );
        }
        let service = Arc::new(Service::new(
            config.serve.clone(),
            Arc::new(engine),
            playbook,
            store,
            cell,
        ));
        service
            .refresh_blocks()
            .await
            .context("reading the block lists")?;
        mamori_serve::server::run(service, listeners, extra, CancellationToken::new(), true)
            .await?;
        eprintln!("mamori serve: stopped");
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(exit::CLEAN)
}
