//! Real signals to the `mamori serve` binary: SIGHUP reloads a changed playbook, a broken playbook on SIGHUP is
//! rejected and the one in force stays, SIGTERM stops the daemon cleanly (exit status 0, Unix socket removed).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

mod daemon;
use daemon::{Daemon, free_port, wait_for};

const TOKEN: &str = "signals-test-token";

fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    Some(String::from_utf8_lossy(&out).into_owned())
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success());
}

fn playbook(rule: &str) -> String {
    format!(
        "version = 1\n[[rule]]\nname = \"{rule}\"\nwhen.findings = [\"content.gtube\"]\nthen = [{{ action = \"reject\" }}]\n"
    )
}

fn token_hash() -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("printf %s '{TOKEN}' | sha256sum"))
        .output()
        .unwrap();
    format!(
        "sha256:{}",
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap()
    )
}

#[test]
fn sighup_reloads_and_sigterm_stops() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let http_port = free_port();
    let socket = root.join("milter.sock");
    let book = root.join("playbook.toml");
    std::fs::write(&book, playbook("first-rule")).unwrap();
    std::fs::write(
        root.join("mamori.toml"),
        format!(
            "[serve]\nauth_mode = \"off\"\napi_tokens = [\"{}\"]\nshutdown_grace_ms = 5000\n",
            token_hash()
        ),
    )
    .unwrap();
    let log = root.join("mamori.log");
    let mut daemon = Daemon(
        Command::new(env!("CARGO_BIN_EXE_mamori"))
            .args(["--log", "info", "serve", "--config"])
            .arg(root.join("mamori.toml"))
            .arg("--data-dir")
            .arg(root.join("data"))
            .arg("--milter")
            .arg(format!("unix:{}", socket.display()))
            .arg("--http")
            .arg(format!("127.0.0.1:{http_port}"))
            .arg("--playbook")
            .arg(&book)
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start mamori serve"),
    );
    let rules = || get(http_port, "/v1/playbook").unwrap_or_default();
    wait_for(
        || rules().contains("first-rule"),
        "the daemon with the first playbook",
    );
    assert!(socket.exists(), "milter socket missing");

    // A changed playbook is taken up on SIGHUP.
    std::fs::write(&book, playbook("second-rule")).unwrap();
    signal(&daemon.0, "HUP");
    wait_for(|| rules().contains("second-rule"), "the reloaded playbook");

    // A broken one is rejected; the second stays in force and the daemon keeps serving.
    std::fs::write(
        &book,
        "[[rule]]\nname = \"broken\"\nthen = [{ action = \"explode\" }]\n",
    )
    .unwrap();
    signal(&daemon.0, "HUP");
    wait_for(
        || {
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains("reload rejected")
        },
        "the rejected reload in the log",
    );
    let now = rules();
    assert!(
        now.contains("second-rule") && !now.contains("broken"),
        "{now}"
    );
    assert!(
        get(http_port, "/healthz")
            .unwrap_or_default()
            .contains("200 OK")
    );

    // SIGTERM: a clean exit with status 0, the socket removed.
    signal(&daemon.0, "TERM");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = daemon.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "exit status {status:?}\n{text}");
    assert!(text.contains("mamori serve: stopped"), "{text}");
    assert!(!socket.exists(), "socket left behind");
    assert!(!Path::new(&socket).exists());
}
