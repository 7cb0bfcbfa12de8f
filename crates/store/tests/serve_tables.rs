//! Quarantine, block lists, message log, actions and sender history: the same suite on every backend.

use mamori_store::blocklist::BlockKind;
use mamori_store::message_log::{MessageQuery, NewLoggedMessage};
use mamori_store::quarantine::{NewQuarantined, QuarantineStatus};
use mamori_store::testing::backends;

fn raw_with_every_byte() -> Vec<u8> {
    // Every byte value, NUL and bare CR included, so any text conversion would show.
    let mut raw = b"Subject: x\r\n\r\n".to_vec();
    raw.extend(0u8..=255);
    raw.extend_from_slice(b"\r\nend\n\r");
    raw
}

#[tokio::test]
async fn quarantine_keeps_bytes_exactly() {
    for t in backends().await {
        let raw = raw_with_every_byte();
        let new = NewQuarantined {
            origin: "milter".into(),
            queue_id: Some("4XyZ".into()),
            reason: "rule phishing".into(),
            class: "phishing".into(),
            score: 9.5,
            raw: raw.clone(),
            envelope: serde_json::json!({"mail_from": "a@b.example"}),
            verdict: serde_json::json!({"class": "phishing"}),
        };
        let id = t.store.quarantine_put(&new, "abc").await.unwrap();
        assert!(id.starts_with("Q-"));
        let (got, verdict) = t.store.quarantine_content(&id).await.unwrap();
        assert_eq!(got, raw, "{}", t.name);
        assert_eq!(verdict["class"], "phishing");
        let entry = t.store.quarantine_entry(&id).await.unwrap();
        assert_eq!(entry.size, raw.len() as i64);
        assert_eq!(entry.status, QuarantineStatus::Held);
        assert_eq!(entry.queue_id.as_deref(), Some("4XyZ"));
        let held = t
            .store
            .quarantine_list(Some(QuarantineStatus::Held), 10)
            .await
            .unwrap();
        assert_eq!(held.len(), 1);
        t.store.quarantine_mark_released(&id).await.unwrap();
        assert!(
            t.store.quarantine_mark_released(&id).await.is_err(),
            "released twice"
        );
        assert!(
            t.store
                .quarantine_list(Some(QuarantineStatus::Held), 10)
                .await
                .unwrap()
                .is_empty()
        );
        t.store.quarantine_delete(&id).await.unwrap();
        assert!(t.store.quarantine_content(&id).await.is_err(), "{}", t.name);
        assert_eq!(
            t.store.quarantine_entry(&id).await.unwrap().status,
            QuarantineStatus::Deleted
        );
        assert!(t.store.quarantine_delete("Q-none").await.is_err());
    }
}

#[tokio::test]
async fn block_entries_expire_and_refresh() {
    for t in backends().await {
        let s = &t.store;
        s.block_add(BlockKind::Domain, "evil.example", Some(1_000), "r1", None)
            .await
            .unwrap();
        s.block_add(BlockKind::Sender, "x@evil.example", None, "r2", Some("M-1"))
            .await
            .unwrap();
        assert_eq!(s.block_active(500).await.unwrap().len(), 2, "{}", t.name);
        let later = s.block_active(2_000).await.unwrap();
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].kind, BlockKind::Sender);
        assert_eq!(later[0].source_ref.as_deref(), Some("M-1"));
        // A second add refreshes the expiry instead of failing.
        s.block_add(BlockKind::Domain, "evil.example", Some(5_000), "r3", None)
            .await
            .unwrap();
        let again = s.block_active(2_000).await.unwrap();
        assert_eq!(again.len(), 2, "{}", t.name);
        assert!(again.iter().any(|e| e.reason == "r3"));
        assert_eq!(s.block_expire(6_000).await.unwrap(), 1);
        s.block_remove(BlockKind::Sender, "x@evil.example")
            .await
            .unwrap();
        assert!(
            s.block_remove(BlockKind::Sender, "x@evil.example")
                .await
                .is_err()
        );
        assert!(s.block_active(0).await.unwrap().is_empty());
        assert!(BlockKind::parse("nonsense").is_err());
    }
}

fn logged(subject: &str, url: &str, class: &str) -> NewLoggedMessage {
    NewLoggedMessage {
        origin: "milter".into(),
        queue_id: None,
        message_id: Some(format!("<{subject}@example>")),
        mail_from: Some("a@sender.example".into()),
        recipients: vec!["u@ours.example".into()],
        subject: Some(subject.into()),
        class: class.into(),
        score: 1.0,
        disposition: "accept".into(),
        sha256: "00".into(),
        size: 10,
        delivery: "mta".into(),
        verdict: serde_json::json!({"class": class}),
        indicators: vec![
            ("url".into(), url.into()),
            ("url".into(), url.into()),
            ("sender".into(), "a@sender.example".into()),
        ],
    }
}

#[tokio::test]
async fn message_log_retro_hunt() {
    for t in backends().await {
        let s = &t.store;
        let a = s
            .message_log(&logged("one", "https://bad.example/x", "clean"))
            .await
            .unwrap();
        let _b = s
            .message_log(&logged("two", "https://good.example/", "spam"))
            .await
            .unwrap();
        let hits = s
            .messages_find(&MessageQuery {
                indicator_kind: Some("url".into()),
                indicator_value: Some("https://bad.example/x".into()),
                ..MessageQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(hits.len(), 1, "{}", t.name);
        assert_eq!(hits[0].id, a);
        assert_eq!(hits[0].recipients, vec!["u@ours.example".to_string()]);
        let spam = s
            .messages_find(&MessageQuery {
                class: Some("spam".into()),
                since: Some(0),
                ..MessageQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(spam.len(), 1);
        assert_eq!(
            s.messages_find(&MessageQuery::default())
                .await
                .unwrap()
                .len(),
            2
        );
        let (m, verdict) = s.message_get(&a).await.unwrap();
        assert_eq!(m.subject.as_deref(), Some("one"));
        assert_eq!(verdict["class"], "clean");
        assert_eq!(s.message_indicators(&a).await.unwrap().len(), 2);
        assert!(
            s.messages_find(&MessageQuery {
                indicator_kind: Some("url".into()),
                ..MessageQuery::default()
            })
            .await
            .is_err()
        );
    }
}

#[tokio::test]
async fn actions_and_sender_history() {
    for t in backends().await {
        let s = &t.store;
        s.action_record("M-1", "tag", "ok", "subject tagged")
            .await
            .unwrap();
        s.action_record("M-1", "webhook", "failed", "timeout")
            .await
            .unwrap();
        let got = s.actions_for("M-1").await.unwrap();
        assert_eq!(got.len(), 2, "{}", t.name);
        assert_eq!(s.actions_recent(1).await.unwrap().len(), 1);

        let before = s
            .contact_facts("u@ours.example", "x@partner.example", "partner.example")
            .await
            .unwrap();
        assert!(!before.recipient_known);
        s.contact_record("U@ours.example", "X@partner.example", "partner.example")
            .await
            .unwrap();
        s.contact_record("u@ours.example", "x@partner.example", "partner.example")
            .await
            .unwrap();
        let after = s
            .contact_facts("u@ours.example", "y@partner.example", "partner.example")
            .await
            .unwrap();
        assert!(
            after.recipient_known && after.domain_seen && !after.address_seen,
            "{}",
            t.name
        );
    }
}
