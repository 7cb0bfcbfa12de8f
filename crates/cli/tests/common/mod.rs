//! Helpers shared by the sender-authentication integration tests.

use std::path::{Path, PathBuf};

/// `crates/auth/tests/fixtures`.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../auth/tests/fixtures")
}

/// The venv's Python, or `None` (skip) outside CI.
pub fn python() -> Option<PathBuf> {
    match std::env::var_os("MAMORI_PYTHON") {
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            assert!(
                p.exists(),
                "MAMORI_PYTHON={} does not exist (scripts/test creates it)",
                p.display()
            );
            Some(p)
        }
        _ if std::env::var_os("CI").is_some() => panic!(
            "MAMORI_PYTHON is not set under CI: scripts/test must create the dkimpy venv; the DKIM interoperability \
             test cannot be skipped in CI"
        ),
        _ => {
            eprintln!(
                "skipped: MAMORI_PYTHON not set (run scripts/test to create the dkimpy venv)"
            );
            None
        }
    }
}
