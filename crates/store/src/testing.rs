//! Test support: run the same test against every backend. SQLite gets a fresh temporary file; PostgreSQL (the
//! server at `MAMORI_TEST_POSTGRES`, default `postgres://postgres@127.0.0.1:5432/test`) gets a fresh schema per call, so
//! tests never see each other's rows. When PostgreSQL is unreachable the tests run on SQLite only and say so.
//! Set `MAMORI_TEST_POSTGRES=required` in CI to make an unreachable server an error instead.

use std::time::Duration;

use crate::{Store, StoreOptions};

/// A store under test; keeps its temporary directory alive.
pub struct TestStore {
    /// Backend name for messages (`sqlite`, `postgres`).
    pub name: &'static str,
    /// The store.
    pub store: Store,
    _dir: Option<tempfile_dir::TempDir>,
}

mod tempfile_dir {
    /// A directory removed on drop (kept minimal so the library does not depend on `tempfile`).
    pub struct TempDir(pub std::path::PathBuf);

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Fresh stores on every reachable backend.
pub async fn backends() -> Vec<TestStore> {
    let mut out = vec![sqlite().await];
    if let Some(pg) = postgres().await {
        out.push(pg);
    }
    out
}

/// A fresh SQLite store in a temporary directory.
pub async fn sqlite() -> TestStore {
    let dir = std::env::temp_dir().join(format!("mamori-store-test-{}", uuid::Uuid::new_v4()));
    let store = Store::open_embedded(&dir).await.expect("open SQLite store");
    TestStore {
        name: "sqlite",
        store,
        _dir: Some(tempfile_dir::TempDir(dir)),
    }
}

/// A fresh PostgreSQL store on its own schema, or `None` (with a message) when the server is unreachable.
pub async fn postgres() -> Option<TestStore> {
    let setting = std::env::var("MAMORI_TEST_POSTGRES").unwrap_or_default();
    if setting == "off" {
        eprintln!("PostgreSQL tests disabled (MAMORI_TEST_POSTGRES=off)");
        return None;
    }
    let required = setting == "required";
    let base = if setting.is_empty() || required {
        DEFAULT_PG.to_string()
    } else {
        setting
    };
    sqlx::any::install_default_drivers();
    let admin =
        match tokio::time::timeout(Duration::from_secs(3), sqlx::AnyPool::connect(&base)).await {
            Ok(Ok(pool)) => pool,
            Ok(Err(e)) => return unreachable(required, &base, &e.to_string()),
            Err(_) => return unreachable(required, &base, "timed out"),
        };
    let now = crate::now_ms() / 1000;
    // Drop schemas left by earlier runs (older than an hour).
    if let Ok(rows) =
        sqlx::query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'mamori_t_%'")
            .fetch_all(&admin)
            .await
    {
        use sqlx::Row;
        for row in rows {
            let name: String = row.try_get(0).unwrap_or_default();
            let stamp = name
                .split('_')
                .nth(2)
                .and_then(|s| s.parse::<i64>().ok())
                .unwrap_or(now);
            if now - stamp > 3600 {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {name} CASCADE"
                )))
                .execute(&admin)
                .await;
            }
        }
    }
    let schema = format!(
        "mamori_t_{now}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .expect("create test schema");
    admin.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let store = Store::connect(&url, &StoreOptions::default())
        .await
        .expect("connect to PostgreSQL test schema");
    Some(TestStore {
        name: "postgres",
        store,
        _dir: None,
    })
}

fn unreachable(required: bool, url: &str, why: &str) -> Option<TestStore> {
    if required {
        panic!(
            "PostgreSQL at {url} is required (MAMORI_TEST_POSTGRES=required) but unreachable: {why}"
        );
    }
    eprintln!("skipped PostgreSQL backend: {url} unreachable ({why}); SQLite only");
    None
}
