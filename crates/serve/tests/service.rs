//! The judging service without an MTA, on every store backend: playbook dispositions, block lists feeding the
//! next verdict, a broken playbook on reload, the store going away (tempfail), the time budget, oversize, and
//! the HTTP API's JSON errors.

use std::sync::Arc;

use mamori_detect::DetectConfig;
use mamori_mail::Envelope;
use mamori_serve::config::{OnError, ServeConfig};
use mamori_serve::service::{Disposition, Incoming};
use mamori_serve::{Playbook, Service};
use mamori_store::testing::backends;

const GTUBE: &str = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

fn message(from: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: bob@ours.example\r\nSubject: test\r\nMessage-ID: <{}@x.example>\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n\r\n{body}\r\n",
        uuid::Uuid::new_v4().simple()
    )
    .into_bytes()
}

fn incoming(from: &str, body: &str) -> Incoming {
    let raw = message(from, body);
    Incoming {
        envelope: Envelope {
            mail_from: Some(from.into()),
            rcpt_to: vec!["bob@ours.example".into()],
            ..Envelope::default()
        },
        raw,
        queue_id: Some("TESTQ".into()),
        origin: "milter",
        oversize: false,
        trace: None,
    }
}

fn service(store: mamori_store::Store, config: ServeConfig, playbook: Playbook) -> Arc<Service> {
    let handle = tokio::runtime::Handle::current();
    let (engine, cell) = mamori_serve::build_engine(
        DetectConfig::default(),
        &mamori_auth::AuthConfig::default(),
        mamori_auth::AuthMode::Off,
        handle,
    )
    .unwrap();
    Arc::new(Service::new(
        config,
        Arc::new(engine),
        playbook,
        store,
        cell,
    ))
}

const BLOCK_PLAYBOOK: &str = r#"
version = 1
[[rule]]
name = "gtube"
when.findings = ["content.gtube"]
then = [{ action = "reject", message = "test string" }, { action = "block", kinds = ["sender"], ttl = "1h" }]

[[rule]]
name = "blocked"
when.findings = ["blocklist.*"]
then = [{ action = "quarantine" }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispositions_blocks_and_failures() {
    for t in backends().await {
        let playbook = Playbook::parse(BLOCK_PLAYBOOK, "test").unwrap();
        let svc = service(t.store.clone(), ServeConfig::default(), playbook);

        // Clean: accepted with headers, logged, contact recorded.
        let d = svc.judge(incoming("alice@partner.example", "hello")).await;
        assert_eq!(d.disposition, Disposition::Accept, "{}", t.name);
        assert!(
            d.headers
                .iter()
                .any(|(n, v)| n == "X-Mamori-Verdict" && v.starts_with("clean (ref M-"))
        );
        let facts = t
            .store
            .contact_facts(
                "bob@ours.example",
                "alice@partner.example",
                "partner.example",
            )
            .await
            .unwrap();
        assert!(facts.address_seen, "{}", t.name);

        // GTUBE: rejected with the reference, and its sender blocked for the very next message.
        let d = svc.judge(incoming("spam@bulk.example", GTUBE)).await;
        match &d.disposition {
            Disposition::Reject(text) => assert!(text.starts_with("test string (ref M-"), "{text}"),
            other => panic!("{}: {other:?}", t.name),
        }
        let d = svc
            .judge(incoming("spam@bulk.example", "innocent now"))
            .await;
        assert_eq!(d.disposition, Disposition::Discard, "{}", t.name);
        assert_eq!(d.action, "quarantine");
        let q = d.quarantine.clone().unwrap();
        let (raw, _) = t.store.quarantine_content(&q).await.unwrap();
        assert!(raw.ends_with(b"innocent now\r\n"));
        let actions = t
            .store
            .actions_for(d.reference.as_deref().unwrap())
            .await
            .unwrap();
        assert!(
            actions.iter().any(|a| a.action == "quarantine"),
            "{actions:?}"
        );

        // Oversize follows its own setting.
        let mut big = incoming("alice@partner.example", "x");
        big.oversize = true;
        assert!(matches!(
            svc.judge(big).await.disposition,
            Disposition::Reject(_)
        ));

        // The store going away: tempfail (on_error default), never accept unscanned.
        t.store.close().await;
        let d = svc
            .judge(incoming("alice@partner.example", "hello again"))
            .await;
        assert!(
            matches!(d.disposition, Disposition::Tempfail(_)),
            "{}: {:?}",
            t.name,
            d.disposition
        );
        let metrics = svc.metrics().render();
        assert!(
            metrics.contains("mamori_errors_total{kind=\"store\"}"),
            "{metrics}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_playbook_on_reload_keeps_the_old_one() {
    let t = mamori_store::testing::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("playbook.toml");
    std::fs::write(&path, BLOCK_PLAYBOOK).unwrap();
    let config = ServeConfig {
        playbook: Some(path.clone()),
        ..ServeConfig::default()
    };
    let svc = service(t.store.clone(), config, Playbook::load(&path).unwrap());
    std::fs::write(
        &path,
        "[[rule]]\nname = \"x\"\nthen = [{ action = \"explode\" }]\n",
    )
    .unwrap();
    let err = svc.reload().await.unwrap_err().to_string();
    assert!(err.contains("line 3"), "{err}");
    assert_eq!(svc.playbook().rules.len(), 2, "the old playbook must stay");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_budget_and_on_error_accept() {
    let t = mamori_store::testing::sqlite().await;
    let config = ServeConfig {
        message_timeout_ms: 1,
        on_error: OnError::Accept,
        ..ServeConfig::default()
    };
    let svc = service(t.store.clone(), config, Playbook::builtin());
    // 1 ms is not enough for a multi-megabyte message: the budget answer is on_error = accept, marked unscanned.
    let body = "word ".repeat(2_000_000);
    let d = svc.judge(incoming("alice@partner.example", &body)).await;
    assert_eq!(d.disposition, Disposition::Accept);
    assert!(
        d.headers
            .iter()
            .any(|(n, v)| n == "X-Mamori-Verdict" && v == "unscanned"),
        "{:?}",
        d.headers
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_errors_are_json() {
    let t = mamori_store::testing::sqlite().await;
    let config = ServeConfig {
        api_tokens: vec![mamori_serve::config::hash_token("secret")],
        ..ServeConfig::default()
    };
    let svc = service(t.store.clone(), config, Playbook::builtin());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = mamori_serve::api::router_with(
        svc,
        vec![axum::Router::new().route("/taxii2/", axum::routing::get(|| async { "taxii" }))],
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let c = reqwest::Client::new();
    let url = |p: &str| format!("http://{addr}{p}");
    let r = c.get(url("/v1/blocks")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .get(url("/v1/blocks"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .post(url("/v1/blocks"))
        .bearer_auth("secret")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["error"].is_string());
    let r = c
        .post(url("/v1/blocks"))
        .bearer_auth("secret")
        .json(&serde_json::json!({"kind": "file", "value": "not-a-hash"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = c
        .post(url("/v1/blocks"))
        .bearer_auth("secret")
        .json(&serde_json::json!({"kind": "domain", "value": "Bad.Example", "ttl": "1h"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = c
        .get(url("/v1/quarantine/Q-none"))
        .bearer_auth("secret")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = c
        .post(url("/v1/scan"))
        .bearer_auth("secret")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = c
        .post(url("/v1/scan?client_ip=nope"))
        .bearer_auth("secret")
        .body(message("x@y.example", "hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = c
        .post(url("/v1/scan"))
        .bearer_auth("secret")
        .body(message("x@y.example", GTUBE))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["plan"]["rules"][0], "gtube-test");
    assert_eq!(c.get(url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(
        c.get(url("/taxii2/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "taxii"
    );
    assert_eq!(c.get(url("/nope")).send().await.unwrap().status(), 404);
}
