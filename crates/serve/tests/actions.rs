//! Playbook actions with effects outside the store, against real peers: webhooks to a local HTTP server that
//! fails first or stalls (retries, per-attempt timeout), the firewall action's nftables file (checked with
//! `nft -c -f` when nft is installed), a zero-hour purge from a Maildir holding a delivered copy, and a
//! PostgreSQL store whose connections are cut and refused (tempfail), then allowed again (judged).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mamori_detect::DetectConfig;
use mamori_mail::Envelope;
use mamori_serve::config::ServeConfig;
use mamori_serve::service::{Decision, Disposition, Incoming};
use mamori_serve::{Playbook, Service};
use mamori_store::Store;

fn service(store: Store, config: ServeConfig, playbook: &str) -> Arc<Service> {
    let (engine, cell) = mamori_serve::build_engine(
        DetectConfig::default(),
        &mamori_auth::AuthConfig::default(),
        mamori_auth::AuthMode::Off,
        tokio::runtime::Handle::current(),
    )
    .unwrap();
    Arc::new(Service::new(
        config,
        Arc::new(engine),
        Playbook::parse(playbook, "test").unwrap(),
        store,
        cell,
    ))
}

fn incoming(from: &str, client_ip: &str, body: &str, message_id: &str) -> Incoming {
    let raw = format!(
        "From: {from}\r\nTo: bob@ours.example\r\nSubject: test\r\nMessage-ID: <{message_id}>\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n\r\n{body}\r\n"
    )
    .into_bytes();
    Incoming {
        envelope: Envelope {
            client_ip: client_ip.parse().ok(),
            mail_from: Some(from.into()),
            rcpt_to: vec!["bob@ours.example".into()],
            ..Envelope::default()
        },
        raw,
        queue_id: None,
        origin: "milter",
        oversize: false,
        trace: None,
    }
}

/// Waits until the action log of `decision` has an entry for `action` (webhooks and purges run in the
/// background).
async fn action_outcome(svc: &Service, decision: &Decision, action: &str) -> (String, String) {
    let reference = decision.reference.clone().expect("logged message");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        let actions = svc.store().actions_for(&reference).await.unwrap();
        if let Some(a) = actions.iter().find(|a| a.action == action) {
            return (a.outcome.clone(), a.detail.clone());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {action} action logged for {reference}");
}

/// A local HTTP server: `/flaky` answers 500 to the first request and 200 afterwards, `/slow` sleeps 3 s.
async fn hook_server() -> (SocketAddr, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let flaky = Arc::new(AtomicUsize::new(0));
    let slow = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new()
        .route(
            "/flaky",
            axum::routing::post({
                let flaky = flaky.clone();
                move |body: String| {
                    let flaky = flaky.clone();
                    async move {
                        let n = flaky.fetch_add(1, Ordering::SeqCst);
                        assert!(body.contains("mamori.event/1"), "{body}");
                        if n == 0 {
                            axum::http::StatusCode::INTERNAL_SERVER_ERROR
                        } else {
                            axum::http::StatusCode::OK
                        }
                    }
                }
            }),
        )
        .route(
            "/slow",
            axum::routing::post({
                let slow = slow.clone();
                move || {
                    let slow = slow.clone();
                    async move {
                        slow.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        axum::http::StatusCode::OK
                    }
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, flaky, slow)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_retries_and_timeout() {
    let (addr, flaky, slow) = hook_server().await;
    let t = mamori_store::testing::sqlite().await;
    let playbook = format!(
        r#"
version = 1
[[rule]]
name = "flaky"
when.sender = ["flaky@*"]
then = [{{ action = "webhook", url = "http://{addr}/flaky", retries = 2, timeout_ms = 2000 }}]
[[rule]]
name = "slow"
when.sender = ["slow@*"]
then = [{{ action = "webhook", url = "http://{addr}/slow", retries = 1, timeout_ms = 200 }}]
"#
    );
    let svc = service(t.store.clone(), ServeConfig::default(), &playbook);

    // The first attempt fails with 500; the retry succeeds.
    let d = svc
        .judge(incoming("flaky@partner.example", "192.0.2.1", "hi", "f@x"))
        .await;
    assert_eq!(d.disposition, Disposition::Accept);
    let (outcome, detail) = action_outcome(&svc, &d, "webhook").await;
    assert_eq!(outcome, "ok", "{detail}");
    assert!(detail.contains("after 2 attempt(s)"), "{detail}");
    assert_eq!(flaky.load(Ordering::SeqCst), 2);

    // Every attempt runs into the 200 ms timeout: two attempts, then failed, long before the server answers.
    let start = Instant::now();
    let d = svc
        .judge(incoming("slow@partner.example", "192.0.2.1", "hi", "s@x"))
        .await;
    assert_eq!(
        d.disposition,
        Disposition::Accept,
        "the MTA is not kept waiting"
    );
    assert!(start.elapsed() < Duration::from_secs(2));
    let (outcome, detail) = action_outcome(&svc, &d, "webhook").await;
    assert_eq!(outcome, "failed", "{detail}");
    assert!(detail.contains("after 2 attempts"), "{detail}");
    assert!(
        start.elapsed() < Duration::from_millis(2_900),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(slow.load(Ordering::SeqCst), 2);

    // An unreachable target fails without retrying forever.
    let (outcome, detail) = mamori_serve::actions::webhook(
        &reqwest::Client::new(),
        "http://127.0.0.1:9/none",
        &serde_json::json!({}),
        200,
        0,
    )
    .await;
    assert_eq!(outcome, "failed", "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firewall_action_writes_a_valid_nft_file() {
    let t = mamori_store::testing::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("block.nft");
    let mut config = ServeConfig {
        data_dir: dir.path().to_path_buf(),
        ..ServeConfig::default()
    };
    config.firewall.output = Some(output.clone());
    assert!(config.firewall.dry_run, "dry-run must be the default");
    let playbook = r#"
version = 1
[[rule]]
name = "fw"
when.sender = ["fw@*"]
then = [{ action = "firewall" }, { action = "reject" }]
"#;
    let svc = service(t.store.clone(), config, playbook);
    let d = svc
        .judge(incoming(
            "fw@bad.example",
            "203.0.113.9",
            "log in at http://198.51.100.20/login or http://10.1.2.3/x",
            "fw1@x",
        ))
        .await;
    assert!(matches!(d.disposition, Disposition::Reject(_)));
    let (outcome, detail) = action_outcome(&svc, &d, "firewall").await;
    assert_eq!(outcome, "dry-run", "{detail}");
    let text = std::fs::read_to_string(&output).unwrap();
    assert!(text.contains("203.0.113.9"), "{text}");
    assert!(text.contains("198.51.100.20"), "{text}");
    assert!(
        !text.contains("10.1.2.3"),
        "private address written:\n{text}"
    );
    // A second batch appends; the whole file must still load.
    let d = svc
        .judge(incoming("fw@bad.example", "2001:db8::7", "again", "fw2@x"))
        .await;
    assert_eq!(action_outcome(&svc, &d, "firewall").await.0, "dry-run");
    let text = std::fs::read_to_string(&output).unwrap();
    assert!(text.contains("2001:db8::7"), "{text}");
    if Path::new("/usr/sbin/nft").exists() {
        let out = std::process::Command::new("/usr/sbin/nft")
            .arg("-c")
            .arg("-f")
            .arg(&output)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "nft -c rejects the file: {}\n{text}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else if std::env::var("MAMORI_REQUIRE_PEERS").as_deref() == Ok("1") {
        panic!("nft is not installed");
    } else {
        eprintln!("nft not installed: the file was not validated with nft -c");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_moves_a_delivered_copy_into_quarantine() {
    for t in mamori_store::testing::backends().await {
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("Maildir");
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).unwrap();
        }
        let config = ServeConfig {
            maildirs: vec![maildir.clone()],
            ..ServeConfig::default()
        };
        let playbook = r#"
version = 1
[[rule]]
name = "gtube"
when.findings = ["content.gtube"]
then = [{ action = "reject" }, { action = "purge", kinds = ["sender"] }]
"#;
        let svc = service(t.store.clone(), config, playbook);
        // An innocent-looking first message is delivered (logged with delivery "mta")...
        let first = incoming(
            "mallory@bad.example",
            "192.0.2.1",
            "Please see the document.",
            "first@bad.example",
        );
        let d = svc.judge(first.clone()).await;
        assert_eq!(d.disposition, Disposition::Accept, "{}", t.name);
        // ... and sits in the mailbox as the MTA delivered it (its own trace fields on top, LF line ends).
        let mut delivered = b"Return-Path: <mallory@bad.example>\nDelivered-To: bob@ours.example\nReceived: from x by mx; Sat, 28 Nov 2026 10:00:01 +0000\n".to_vec();
        delivered.extend_from_slice(
            &String::from_utf8_lossy(&first.raw)
                .replace("\r\n", "\n")
                .into_bytes(),
        );
        let copy = maildir.join("cur").join("1795860001.M1P1.mx:2,S");
        std::fs::write(&copy, &delivered).unwrap();
        let bystander = maildir.join("new").join("1795860002.M2P2.mx");
        std::fs::write(
            &bystander,
            b"From: a@b.example\nMessage-ID: <other@b.example>\n\nhello\n",
        )
        .unwrap();

        // The sender's next message is the GTUBE string: rejected, and the earlier copy is purged.
        let d = svc
            .judge(incoming(
                "mallory@bad.example",
                "192.0.2.1",
                "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X",
                "second@bad.example",
            ))
            .await;
        assert!(
            matches!(d.disposition, Disposition::Reject(_)),
            "{}",
            t.name
        );
        let (outcome, detail) = action_outcome(&svc, &d, "purge").await;
        assert_eq!(outcome, "ok", "{}: {detail}", t.name);
        assert!(detail.contains("1 file(s) moved"), "{}: {detail}", t.name);
        assert!(
            !copy.exists(),
            "{}: the delivered copy is still there",
            t.name
        );
        assert!(
            bystander.exists(),
            "{}: an unrelated message was purged",
            t.name
        );
        let held = svc.store().quarantine_list(None, 10).await.unwrap();
        let purged: Vec<_> = held.iter().filter(|q| q.origin == "purge").collect();
        assert_eq!(purged.len(), 1, "{}", t.name);
        let (raw, _) = svc.store().quarantine_content(&purged[0].id).await.unwrap();
        assert_eq!(
            raw, delivered,
            "{}: purged bytes differ from the file",
            t.name
        );
    }
}

/// Runs SQL as the PostgreSQL superuser with psql.
fn psql(sql: &str) -> Result<String, String> {
    let out = std::process::Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "test",
            "-v",
            "ON_ERROR_STOP=1",
            "-At",
            "-c",
            sql,
        ])
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_going_away_tempfails_then_recovers() {
    if let Err(why) = psql("SELECT 1") {
        if std::env::var("MAMORI_TEST_POSTGRES").as_deref() == Ok("required") {
            panic!("PostgreSQL required but unreachable: {why}");
        }
        eprintln!("skipped: PostgreSQL unreachable through psql: {why}");
        return;
    }
    // A role and schema of its own, so cutting this store off touches no other test or helper.
    let name = format!(
        "mamori_gone_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    psql(&format!(
        "CREATE ROLE {name} LOGIN; CREATE SCHEMA {name} AUTHORIZATION {name};"
    ))
    .unwrap();
    let url = format!(
        "postgres://{name}@127.0.0.1:5432/test?application_name={name}&options=-c%20search_path%3D{name}"
    );
    let options = mamori_store::StoreOptions {
        max_connections: 4,
        acquire_timeout: Duration::from_secs(2),
    };
    let store = Store::connect(&url, &options).await.unwrap();
    let config = ServeConfig {
        message_timeout_ms: 8_000,
        ..ServeConfig::default()
    };
    let svc = service(store, config, mamori_serve::playbook::DEFAULT_PLAYBOOK);
    let d = svc
        .judge(incoming(
            "alice@partner.example",
            "192.0.2.1",
            "before",
            "pg1@x",
        ))
        .await;
    assert!(d.reference.is_some(), "{:?}", d.disposition);

    // The database goes away: new logins refused, the pool's connections terminated.
    psql(&format!("ALTER ROLE {name} NOLOGIN")).unwrap();
    let killed = psql(&format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '{name}'"
    ))
    .unwrap();
    assert!(
        killed.trim().parse::<u32>().unwrap_or(0) >= 1,
        "no backend terminated: {killed}"
    );
    let d = svc
        .judge(incoming(
            "alice@partner.example",
            "192.0.2.1",
            "during",
            "pg2@x",
        ))
        .await;
    assert!(
        matches!(d.disposition, Disposition::Tempfail(_)),
        "judged without a database: {:?}",
        d.disposition
    );
    assert_eq!(d.reference, None);

    // It comes back: the pool reconnects and messages are judged and logged again.
    psql(&format!("ALTER ROLE {name} LOGIN")).unwrap();
    let d = svc
        .judge(incoming(
            "alice@partner.example",
            "192.0.2.1",
            "after",
            "pg3@x",
        ))
        .await;
    assert!(
        !matches!(d.disposition, Disposition::Tempfail(_)) && d.reference.is_some(),
        "no reconnect: {:?}",
        d.disposition
    );
    svc.store().close().await;
    let _ = psql(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{name}'; DROP SCHEMA {name} CASCADE; DROP ROLE {name};"
    ));
}
