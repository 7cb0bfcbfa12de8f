//! Hostile and broken input never hangs or panics: SPF include loops and trees past the 10-lookup limit, garbage
//! TXT records, malformed DKIM-Signature tags, DNS servers that never answer, exhausted budgets, and calls from
//! inside an async runtime. Everything resolves against a static record file or a local socket; nothing touches
//! the network.

use std::io::Write;
use std::net::UdpSocket;

use mamori_auth::{AuthConfig, AuthMode, MailAuthenticator};
use mamori_detect::auth::{AuthMethod, AuthReport, AuthStatus, Authenticator};
use mamori_mail::{Envelope, Limits};

const ZONE: &str = r#"
$ORIGIN bad.example.
loop        IN TXT "v=spf1 include:loop2.bad.example -all"
loop2       IN TXT "v=spf1 include:loop.bad.example -all"
wide        IN TXT ( "v=spf1 include:i1.bad.example include:i2.bad.example include:i3.bad.example include:i4.bad.example "
                     "include:i5.bad.example include:i6.bad.example include:i7.bad.example include:i8.bad.example "
                     "include:i9.bad.example include:i10.bad.example include:i11.bad.example -all" )
toolong     IN TXT "v=spf1 ip4:192.0.2.1 ip4:192.0.2.2 ip4:192.0.2.3 ip4:192.0.2.4 ip4:192.0.2.5 ip4:192.0.2.6 ip4:192.0.2.7 ip4:192.0.2.8 ip4:192.0.2.9 ip4:192.0.2.10 ip4:192.0.2.11 ip4:192.0.2.12 ip4:192.0.2.13 ip4:192.0.2.14 ip4:192.0.2.15 ip4:192.0.2.16 -all"
i1          IN TXT "v=spf1 ip4:198.51.100.1 -all"
i2          IN TXT "v=spf1 ip4:198.51.100.2 -all"
i3          IN TXT "v=spf1 ip4:198.51.100.3 -all"
i4          IN TXT "v=spf1 ip4:198.51.100.4 -all"
i5          IN TXT "v=spf1 ip4:198.51.100.5 -all"
i6          IN TXT "v=spf1 ip4:198.51.100.6 -all"
i7          IN TXT "v=spf1 ip4:198.51.100.7 -all"
i8          IN TXT "v=spf1 ip4:198.51.100.8 -all"
i9          IN TXT "v=spf1 ip4:198.51.100.9 -all"
i10         IN TXT "v=spf1 ip4:198.51.100.10 -all"
i11         IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
garbage     IN TXT "v=spf1 ip4:999.1.1.1 bogus:thing ~~all"
redirect    IN TXT "v=spf1 redirect=nowhere.bad.example"
exists      IN TXT "v=spf1 exists:%{i}.allow.bad.example -all"
192.0.2.1.allow IN A 127.0.0.2
sel._domainkey IN TXT "v=DKIM1; k=rsa; p=!!!this is not base64!!!"
_dmarc      IN TXT "v=DMARC1; p=reject"
_dmarc.garbage IN TXT "v=DMARC1; p=; rua=mailto:"
"#;

fn zone_file() -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(ZONE.as_bytes()).unwrap();
    f
}

fn records(zone: &tempfile::NamedTempFile) -> AuthConfig {
    AuthConfig {
        mode: AuthMode::Records,
        records_file: Some(zone.path().to_path_buf()),
        ..AuthConfig::default()
    }
}

fn check(auth: &MailAuthenticator, raw: &[u8], mail_from: &str, ip: &str) -> AuthReport {
    let message = mamori_mail::parse(raw, &Limits::default());
    let envelope = Envelope {
        client_ip: Some(ip.parse().unwrap()),
        helo: Some("client.example.net".into()),
        mail_from: Some(mail_from.into()),
        ..Envelope::default()
    };
    auth.authenticate(Some(raw), &message, &envelope)
}

const PLAIN: &[u8] = b"From: a@bad.example\r\nTo: b@example.org\r\nSubject: x\r\n\r\nhello\r\n";

#[test]
fn spf_loops_trees_and_garbage_are_permerrors() {
    let zone = zone_file();
    let auth = MailAuthenticator::new(&records(&zone)).unwrap();
    for (from, ip, want) in [
        ("x@loop.bad.example", "192.0.2.1", AuthStatus::PermError),
        ("x@wide.bad.example", "192.0.2.1", AuthStatus::PermError),
        ("x@redirect.bad.example", "192.0.2.1", AuthStatus::PermError),
        // exists: with a macro, in the file (match) and not (NXDOMAIN: no match).
        ("x@exists.bad.example", "192.0.2.1", AuthStatus::Pass),
        ("x@exists.bad.example", "192.0.2.9", AuthStatus::Fail),
        ("x@nowhere.bad.example", "192.0.2.1", AuthStatus::None),
        // A single TXT string over 255 bytes (invalid on the wire) is still served and evaluated.
        ("x@toolong.bad.example", "192.0.2.16", AuthStatus::Pass),
        ("x@toolong.bad.example", "192.0.2.17", AuthStatus::Fail),
    ] {
        let report = check(&auth, PLAIN, from, ip);
        assert_eq!(report.method, AuthMethod::Records);
        let spf = report.spf.unwrap();
        assert_eq!(spf.result, want, "{from} from {ip}: {spf:?}");
    }
    // mail-auth skips unparseable terms instead of answering permerror (RFC 7208 §4.6); what matters is that a
    // garbage record never authenticates anyone.
    let spf = check(&auth, PLAIN, "x@garbage.bad.example", "192.0.2.1")
        .spf
        .unwrap();
    assert_ne!(spf.result, AuthStatus::Pass, "{spf:?}");
}

#[test]
fn malformed_dkim_signatures_and_garbage_keys_are_permerrors() {
    let zone = zone_file();
    let auth = MailAuthenticator::new(&records(&zone)).unwrap();
    let long = "A".repeat(1 << 20);
    let signatures = [
        "v=1; a=rsa-sha256; d=; s=; h=from; bh=; b=".to_string(),
        "v=2; a=rsa-sha256; d=bad.example; s=sel; h=from; bh=AAAA; b=AAAA".to_string(),
        "v=1; a=md5; d=bad.example; s=sel; h=from; bh=AAAA; b=AAAA".to_string(),
        "v=1; a=rsa-sha256; d=bad.example; s=sel; h=from; bh=!!!; b=???".to_string(),
        "v=1; v=1; a=rsa-sha256; d=bad.example; s=sel; h=from:from:from; bh=AAAA; b=AAAA"
            .to_string(),
        format!("v=1; a=rsa-sha256; d=bad.example; s=sel; h=from; bh={long}; b={long}"),
        "garbage without any tags at all".to_string(),
        "v=1; a=rsa-sha256; c=bogus/bogus; d=bad.example; s=sel; h=from; bh=AAAA; b=AAAA"
            .to_string(),
        // Valid-looking signature whose key record is not base64.
        "v=1; a=rsa-sha256; c=relaxed/relaxed; d=bad.example; s=sel; h=from:to:subject; \
         bh=zS7KNTV0HyeorkDDGwxB1AV6enuRKzO5rthkhdHIRnY=; b=AAAA"
            .to_string(),
    ];
    for sig in &signatures {
        let raw = format!(
            "DKIM-Signature: {sig}\r\nFrom: a@bad.example\r\nTo: b@example.org\r\nSubject: x\r\n\r\nhello\r\n"
        );
        let report = check(&auth, raw.as_bytes(), "a@bad.example", "192.0.2.1");
        assert!(!report.dkim.is_empty(), "{}", &sig[..sig.len().min(60)]);
        for d in &report.dkim {
            assert!(
                matches!(
                    d.result,
                    AuthStatus::PermError | AuthStatus::Fail | AuthStatus::Neutral
                ),
                "{}: {d:?}",
                &sig[..sig.len().min(60)]
            );
            assert_ne!(d.result, AuthStatus::Pass);
        }
        // The message is not authenticated: DMARC (p=reject) fails.
        assert_eq!(report.dmarc.as_ref().unwrap().result, AuthStatus::Fail);
    }
}

#[test]
fn too_many_signatures_are_not_verified_one_by_one() {
    let zone = zone_file();
    let auth = MailAuthenticator::new(&records(&zone)).unwrap();
    let mut raw = String::new();
    for i in 0..30 {
        raw.push_str(&format!(
            "DKIM-Signature: v=1; a=rsa-sha256; d=bad.example; s=s{i}; h=from; bh=AAAA; b=AAAA\r\n"
        ));
    }
    raw.push_str("From: a@bad.example\r\n\r\nx\r\n");
    let report = check(&auth, raw.as_bytes(), "a@bad.example", "192.0.2.1");
    assert_eq!(report.dkim.len(), 1);
    assert_eq!(report.dkim[0].result, AuthStatus::PermError);
    assert!(
        report.dkim[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("30 DKIM signatures")
    );
}

#[test]
fn lookup_budget_turns_unfinished_checks_into_temperror() {
    let zone = zone_file();
    let config = AuthConfig {
        max_lookups: 3,
        ..records(&zone)
    };
    let auth = MailAuthenticator::new(&config).unwrap();
    let report = check(&auth, PLAIN, "x@wide.bad.example", "192.0.2.1");
    assert_eq!(report.spf.unwrap().result, AuthStatus::TempError);
    assert!(report.dns.unwrap().budget_exhausted);
    assert_eq!(report.dmarc.unwrap().result, AuthStatus::TempError);
}

#[test]
fn a_dns_server_that_never_answers_gives_temperror_within_the_budget() {
    // Bound but never read: queries vanish, like a black-holed resolver.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let config = AuthConfig {
        mode: AuthMode::Dns,
        nameservers: vec![silent.local_addr().unwrap().to_string()],
        dns_timeout_ms: 200,
        dns_attempts: 1,
        message_budget_ms: 1_000,
        ..AuthConfig::default()
    };
    let auth = MailAuthenticator::new(&config).unwrap();
    let raw =
        b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=slow.example; s=s; h=from; \
bh=zS7KNTV0HyeorkDDGwxB1AV6enuRKzO5rthkhdHIRnY=; b=AAAA\r\nFrom: a@slow.example\r\n\r\nhello\r\n";
    let report = check(&auth, raw, "a@slow.example", "192.0.2.1");
    assert_eq!(report.method, AuthMethod::Dns);
    assert_eq!(report.spf.unwrap().result, AuthStatus::TempError);
    assert!(
        report
            .dkim
            .iter()
            .all(|d| d.result == AuthStatus::TempError),
        "{:?}",
        report.dkim
    );
    assert_eq!(report.dmarc.unwrap().result, AuthStatus::TempError);
    // Hang guard, far above the 1 s budget: the budget bounds the wait, not the resolver's retries.
    assert!(report.dns.unwrap().elapsed_ms < 20_000);
    drop(silent);
}

#[test]
fn works_when_called_from_inside_an_async_runtime() {
    let zone = zone_file();
    let auth = MailAuthenticator::new(&records(&zone)).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = rt.block_on(async { check(&auth, PLAIN, "x@loop.bad.example", "192.0.2.1") });
    assert_eq!(report.spf.unwrap().result, AuthStatus::PermError);
}

#[test]
fn truncated_messages_and_missing_bytes_are_reported_not_failed() {
    let zone = zone_file();
    let auth = MailAuthenticator::new(&records(&zone)).unwrap();
    let raw = b"DKIM-Signature: v=1; a=rsa-sha256; d=bad.example; s=sel; h=from; bh=AAAA; b=AAAA\r\nFrom: a@bad.example\r\n\r\nhello\r\n";
    let message = mamori_mail::parse(raw, &Limits::default());
    let report = auth.authenticate(None, &message, &Envelope::default());
    assert!(report.dkim.is_empty());
    assert!(report.notes.iter().any(|n| n.contains("not available")));
    let limits = Limits {
        max_message_bytes: 60,
        ..Limits::default()
    };
    let mut message = mamori_mail::parse(raw, &limits);
    message.size = raw.len() + 1000;
    let report = auth.authenticate(Some(&raw[..60]), &message, &Envelope::default());
    assert!(report.dkim.is_empty());
    assert!(report.notes.iter().any(|n| n.contains("truncated")));
}

#[test]
fn headers_mode_trusts_only_our_authserv_id_and_reports_forgeries() {
    let config = AuthConfig {
        mode: AuthMode::Headers,
        authserv_ids: vec!["mx1.ours.example".into()],
        trusted_relays: vec!["mx1.ours.example".into(), "192.0.2.0/24".into()],
        ..AuthConfig::default()
    };
    let auth = MailAuthenticator::new(&config).unwrap();
    let raw = b"Authentication-Results: mx1.ours.example; spf=fail smtp.mailfrom=ceo@ours.example;\r\n dkim=none; dmarc=fail (p=REJECT) header.from=ours.example\r\n\
Received: from evil.example (evil.example [198.51.100.66]) by mx1.ours.example with ESMTP id 1; Mon, 3 Nov 2025 10:00:00 +0900\r\n\
Authentication-Results: mx1.ours.example; spf=pass smtp.mailfrom=ceo@ours.example; dkim=pass header.d=ours.example; dmarc=pass header.from=ours.example\r\n\
Authentication-Results: mx.google.example; dkim=pass header.d=ours.example\r\n\
Return-Path: <ceo@ours.example>\r\n\
From: CEO <ceo@ours.example>\r\nTo: a@ours.example\r\nSubject: wire\r\n\r\npay now\r\n";
    let message = mamori_mail::parse(raw, &Limits::default());
    let report = auth.authenticate(Some(raw), &message, &Envelope::default());
    assert_eq!(report.method, AuthMethod::Headers);
    assert_eq!(report.authserv_id.as_deref(), Some("mx1.ours.example"));
    assert_eq!(report.spf.as_ref().unwrap().result, AuthStatus::Fail);
    let dmarc = report.dmarc.as_ref().unwrap();
    assert_eq!(dmarc.result, AuthStatus::Fail);
    assert_eq!(dmarc.policy, mamori_detect::auth::DmarcPolicy::Reject);
    assert!(report.foreign_results.iter().any(|f| f.forged));
    assert!(
        report
            .foreign_results
            .iter()
            .any(|f| !f.forged && f.authserv_id == "mx.google.example")
    );
    let envelope = report.envelope.as_ref().unwrap();
    assert_eq!(envelope.external, Some(true));
    assert_eq!(envelope.client_ip, Some("198.51.100.66".parse().unwrap()));
    assert_eq!(report.from_authenticated(), Some(false));
}

#[test]
fn configuration_errors_are_reported() {
    assert!(
        MailAuthenticator::new(&AuthConfig {
            mode: AuthMode::Records,
            ..AuthConfig::default()
        })
        .is_err()
    );
    assert!(
        MailAuthenticator::new(&AuthConfig {
            mode: AuthMode::Records,
            records_file: Some("/nonexistent/zone".into()),
            ..AuthConfig::default()
        })
        .is_err()
    );
    assert!(
        MailAuthenticator::new(&AuthConfig {
            trusted_relays: vec!["not a host!".into()],
            ..AuthConfig::default()
        })
        .is_err()
    );
    assert!(
        MailAuthenticator::new(&AuthConfig {
            mode: AuthMode::Dns,
            nameservers: vec!["resolver.example".into()],
            ..AuthConfig::default()
        })
        .is_err()
    );
}
