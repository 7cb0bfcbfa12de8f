//! `mamori serve` mounts the TAXII 2.1 server of the intelligence hub on its HTTP listener (`[intel] taxii`, on by
//! default), and leaves it out when switched off.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod daemon;
use daemon::{Daemon, free_port};

const SECRET: &str = "serve-taxii-test-secret";

/// One GET, `Connection: close`; returns (status, head, body).
fn get(port: u16, path: &str, authorization: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/taxii+json;version=2.1\r\n{authorization}Connection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_lowercase(), body.to_string())
}

fn start(root: &Path, config: &str) -> (Daemon, u16) {
    std::fs::write(root.join("mamori.toml"), config).unwrap();
    let http_port = free_port();
    let daemon = Daemon(
        Command::new(env!("CARGO_BIN_EXE_mamori"))
            .arg("serve")
            .arg("--config")
            .arg(root.join("mamori.toml"))
            .arg("--data-dir")
            .arg(root.join("data"))
            .arg("--milter")
            .arg(format!("127.0.0.1:{}", free_port()))
            .arg("--http")
            .arg(format!("127.0.0.1:{http_port}"))
            .stderr(std::fs::File::create(root.join("serve.log")).unwrap())
            .spawn()
            .expect("start mamori serve"),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", http_port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "mamori serve did not listen: {}",
            std::fs::read_to_string(root.join("serve.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (daemon, http_port)
}

fn bearer(user: &str, secret: &str) -> String {
    format!("Authorization: Bearer {user}:{secret}\r\n")
}

#[test]
fn serve_answers_taxii_discovery_unless_switched_off() {
    let tmp = tempfile::Builder::new()
        .prefix("mamori-serve-taxii-")
        .tempdir()
        .unwrap();
    let root = tmp.path();
    let added = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(["intel", "--data-dir"])
        .arg(root.join("data"))
        .args([
            "org", "add", "org-a", "--read", "shared", "--secret", SECRET,
        ])
        .stdout(Stdio::null())
        .status()
        .expect("mamori intel org add");
    assert!(added.success());

    let (daemon, port) = start(root, "[serve]\nauth_mode = \"off\"\n");
    let (status, head, body) = get(port, "/taxii2/", &bearer("org-a", SECRET));
    assert_eq!(status, 200, "{head}\n{body}");
    assert!(
        head.contains("content-type: application/taxii+json;version=2.1"),
        "{head}"
    );
    let discovery: serde_json::Value = serde_json::from_str(&body).expect("discovery JSON");
    let api_root = discovery["api_roots"][0].as_str().unwrap_or_default();
    assert!(api_root.ends_with("/api/"), "{discovery}");
    let (status, _, _) = get(port, "/taxii2/", &bearer("org-a", "wrong"));
    assert_eq!(status, 401);
    // The serve API is still there next to it.
    assert_eq!(get(port, "/healthz", "").0, 200);
    drop(daemon);

    // Switched off: the TAXII paths are unknown; a custom API root is used when on.
    let (daemon, port) = start(
        root,
        "[serve]\nauth_mode = \"off\"\n[intel]\ntaxii = false\n",
    );
    assert_eq!(get(port, "/taxii2/", &bearer("org-a", SECRET)).0, 404);
    drop(daemon);
    let (_daemon, port) = start(
        root,
        "[serve]\nauth_mode = \"off\"\n[intel]\napi_root = \"hub\"\n",
    );
    let (status, _, body) = get(port, "/hub/", &bearer("org-a", SECRET));
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("application/taxii+json;version=2.1"),
        "{body}"
    );
}
