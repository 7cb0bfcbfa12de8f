//! Shared test set-up: a TAXII server over a fresh store on a free loopback port, with three organisations.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use mamori_intel::taxii::{self, TaxiiConfig, TaxiiState};
use mamori_store::Store;
use mamori_store::intel::{Grant, IntelCollection, IntelOrg};

/// Secret of every test account.
pub const SECRET: &str = "s3cret-for-tests";

/// A running server.
pub struct Hub {
    /// Address.
    pub addr: SocketAddr,
    /// Its store.
    pub store: Store,
    /// Keeps the database alive.
    pub _db: mamori_store::testing::TestStore,
}

impl Hub {
    /// `http://addr/api/`.
    pub fn api_root(&self) -> String {
        format!("http://{}/api/", self.addr)
    }
}

/// Starts a hub on `db`: collections `shared` and `private`; accounts `alpha` (read, write and restricted on
/// shared), `beta` (read on shared), `gamma` (read on private only).
pub async fn start_hub(db: mamori_store::testing::TestStore, config: TaxiiConfig) -> Hub {
    let store = db.store.clone();
    for (id, title) in [("shared", "Shared TTPs"), ("private", "Private")] {
        store
            .intel_put_collection(&IntelCollection {
                id: id.into(),
                title: title.into(),
                description: None,
            })
            .await
            .unwrap();
    }
    for (org, collection, grant) in [
        (
            "alpha",
            "shared",
            Grant {
                read: true,
                write: true,
                restricted: true,
            },
        ),
        (
            "beta",
            "shared",
            Grant {
                read: true,
                write: false,
                restricted: false,
            },
        ),
        (
            "gamma",
            "private",
            Grant {
                read: true,
                write: false,
                restricted: false,
            },
        ),
    ] {
        store
            .intel_put_org(&IntelOrg {
                id: org.into(),
                name: org.into(),
                secret_sha256: taxii::hash_secret(SECRET),
            })
            .await
            .unwrap();
        store.intel_put_grant(org, collection, grant).await.unwrap();
    }
    let app = taxii::router(TaxiiState::new(store.clone(), config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Hub {
        addr,
        store,
        _db: db,
    }
}

/// The Python of the test venv when it has `module`, else `None` after a message — or a panic when
/// MAMORI_REQUIRE_PEERS=1 (CI), so a missing peer fails there.
pub fn python_with(module: &str) -> Option<PathBuf> {
    let required = std::env::var("MAMORI_REQUIRE_PEERS").is_ok_and(|v| v == "1");
    let python = std::env::var_os("MAMORI_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("MAMORI_TEST_VENV").map(|v| PathBuf::from(v).join("bin/python"))
        })
        .or_else(|| {
            let local = PathBuf::from("/root/.cache/mamori/venv/bin/python");
            local.exists().then_some(local)
        });
    let ok = python.as_ref().is_some_and(|p| {
        std::process::Command::new(p)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if ok {
        return python;
    }
    let message = format!(
        "Python module {module} not available (set MAMORI_PYTHON to the venv of scripts/test-requirements.txt)"
    );
    if required {
        panic!("{message}, and MAMORI_REQUIRE_PEERS=1");
    }
    eprintln!("skipped: {message}");
    None
}

/// Runs a Python script, returning stdout; panics with stderr on failure.
pub fn run_python(python: &std::path::Path, script: &str, args: &[&str]) -> String {
    let output = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python");
    assert!(
        output.status.success(),
        "python failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
