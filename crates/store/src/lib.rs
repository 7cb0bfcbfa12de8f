//! # mamori-store
//!
//! The one persistence layer of mamori: a [`Store`] over SQLite (the embedded default: one WAL-mode database file
//! under the data directory, nothing to install) or PostgreSQL (`postgres://…`, when many scanning nodes share
//! state). Both backends run the same queries through `sqlx`'s `Any` driver; only the schema migrations differ
//! (`migrations/sqlite`, `migrations/postgres`, versioned and applied at connect time).
//!
//! Each area keeps its tables in its own module (`incidents`, …); write SQL with `$1, $2, …` placeholders in
//! ascending order of first use, which both backends accept, and store times as Unix milliseconds (`i64`) and
//! structured values as JSON text, so the two schemas stay alike.
//!
//! The store must not interpret verdicts or decide anything: it keeps and finds what the engine, the playbooks and
//! the intelligence hub give it.

pub mod actions;
pub mod blocklist;
pub mod incidents;
pub mod intel;
pub mod message_log;
pub mod quarantine;
pub mod sender_history;
#[doc(hidden)]
pub mod testing;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

/// Which database is behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Errors of the store. Messages name what failed; database errors keep their source.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is not `sqlite:…` or `postgres://…`.
    #[error("unsupported database URL {0:?} (expected sqlite:PATH or postgres://…)")]
    UnsupportedUrl(String),
    /// Could not reach or open the database.
    #[error("cannot open database {url}: {source}")]
    Connect {
        /// URL with any password removed.
        url: String,
        /// Cause.
        #[source]
        source: sqlx::Error,
    },
    /// Applying schema migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed (the database went away, a constraint, …).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored value could not be (de)serialised.
    #[error("stored data is invalid: {0}")]
    Data(String),
    /// The requested record does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// Creating the data directory failed.
    #[error("cannot create {path}: {source}")]
    Io {
        /// Directory.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    /// True when the error means the database is unreachable or failing (callers may tempfail and retry),
    /// rather than a problem with the request.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Connect { .. })
            || matches!(
                self,
                StoreError::Database(
                    sqlx::Error::Io(_)
                        | sqlx::Error::PoolTimedOut
                        | sqlx::Error::PoolClosed
                        | sqlx::Error::Protocol(_)
                )
            )
    }
}

/// Shorthand for store results.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Connection settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most pooled connections.
    pub max_connections: u32,
    /// How long to wait for a free connection before failing.
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// A handle to the database: cheap to clone, safe to share between tasks and threads.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Opens (creating if needed) the embedded SQLite database `mamori.db` in `data_dir`.
    pub async fn open_embedded(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Io {
            path: data_dir.display().to_string(),
            source,
        })?;
        let url = format!("sqlite://{}?mode=rwc", data_dir.join("mamori.db").display());
        Store::connect(&url, &StoreOptions::default()).await
    }

    /// Connects to `url` (`sqlite:PATH[?mode=rwc]` or `postgres://…`) and applies pending migrations.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };
        let connect_options =
            AnyConnectOptions::from_str(url).map_err(|source| StoreError::Connect {
                url: redact(url),
                source,
            })?;
        let mut pool_options = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite {
                options.max_connections.min(4)
            } else {
                options.max_connections
            })
            .acquire_timeout(options.acquire_timeout);
        if backend == Backend::Sqlite {
            pool_options = pool_options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    // WAL lets readers and the writer work at once; a busy timeout rides out short write locks.
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    Ok(())
                })
            });
        }
        let pool = pool_options
            .connect_with(connect_options)
            .await
            .map_err(|source| StoreError::Connect {
                url: redact(url),
                source,
            })?;
        let store = Store { pool, backend };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending schema migrations of this backend.
    async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&self.pool).await?,
            Backend::Postgres => {
                sqlx::migrate!("migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection pool, for modules of this crate.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Cheap liveness check (`SELECT 1`).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A URL with its password replaced, for error messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Serialises a value to JSON text for a TEXT column.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Data(e.to_string()))
}

/// Parses JSON text from a TEXT column.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Data(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
        assert_eq!(redact("sqlite:/x.db"), "sqlite:/x.db");
    }
}
