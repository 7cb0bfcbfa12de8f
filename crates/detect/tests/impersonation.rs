//! Authentication and impersonation findings, end to end through the engine: an authenticator stub hands the
//! engine fixed reports, the detectors turn them (and the message) into findings.

use std::sync::Arc;

use mamori_detect::auth::{
    ArcCheck, AuthMethod, AuthReport, AuthStatus, Authenticator, DkimCheck, DmarcCheck,
    DmarcPolicy, DnsUsage, EnvelopeFacts, EnvelopeSource, ForeignResults, SpfCheck,
};
use mamori_detect::config::{OrganisationConfig, Vip};
use mamori_detect::history::{InMemoryHistory, PrefetchedHistory};
use mamori_detect::{DetectConfig, Engine, Extras, Verdict};
use mamori_mail::{Envelope, Message};

struct Fixed(AuthReport);

impl Authenticator for Fixed {
    fn name(&self) -> &'static str {
        "fixed"
    }
    fn authenticate(&self, _: Option<&[u8]>, _: &Message, _: &Envelope) -> AuthReport {
        self.0.clone()
    }
}

fn org() -> OrganisationConfig {
    OrganisationConfig {
        domains: vec!["mamori-defence.co.jp".into()],
        partner_domains: vec!["partner-heavy.com".into()],
        vips: vec![Vip {
            name: "山田 太郎".into(),
            aliases: vec!["ヤマダ タロウ".into(), "Taro Yamada".into()],
            addresses: vec!["t.yamada@mamori-defence.co.jp".into()],
        }],
        ignore_builtin_brands: false,
    }
}

fn engine(report: Option<AuthReport>) -> Engine {
    let config = DetectConfig {
        organisation: org(),
        ..DetectConfig::default()
    };
    let engine = Engine::new(config).unwrap();
    match report {
        Some(r) => engine.with_authenticator(Arc::new(Fixed(r))),
        None => engine,
    }
}

fn mail(from: &str, extra: &str) -> Vec<u8> {
    format!(
        "Received: from mx.example.net (mx.example.net [203.0.113.9]) by mx1.mamori-defence.co.jp; Mon, 3 Nov 2025 10:00:00 +0900\r\n\
         From: {from}\r\nTo: hanako@mamori-defence.co.jp\r\nSubject: 至急のお願い\r\n\
         Date: Mon, 3 Nov 2025 10:00:00 +0900\r\nMessage-ID: <abc123@mail.example.net>\r\n{extra}\r\nplease reply\r\n"
    )
    .into_bytes()
}

fn run(engine: &Engine, raw: &[u8]) -> Verdict {
    engine.analyse(&Envelope::default(), raw)
}

fn failed_dmarc(policy: DmarcPolicy) -> AuthReport {
    AuthReport {
        method: AuthMethod::Records,
        envelope: Some(EnvelopeFacts {
            source: EnvelopeSource::Received,
            client_ip: Some("203.0.113.9".parse().unwrap()),
            helo: Some("mx.example.net".into()),
            mail_from: Some("x@example.net".into()),
            recorded_by: Some("mx1.mamori-defence.co.jp".into()),
            external: Some(true),
        }),
        spf: Some(SpfCheck {
            result: AuthStatus::Fail,
            domain: "example.net".into(),
            identity: "mailfrom".into(),
            reason: None,
        }),
        dkim: vec![DkimCheck {
            result: AuthStatus::Fail,
            domain: Some("example.net".into()),
            selector: Some("s1".into()),
            algorithm: Some("rsa-sha256".into()),
            aligned: false,
            reason: Some("body hash mismatch".into()),
        }],
        dmarc: Some(DmarcCheck {
            result: AuthStatus::Fail,
            from_domain: "mamori-defence.co.jp".into(),
            policy,
            ..DmarcCheck::default()
        }),
        ..AuthReport::default()
    }
}

#[test]
fn dmarc_policies_map_to_findings_and_the_report_reaches_the_verdict() {
    for (policy, id) in [
        (DmarcPolicy::Reject, "auth.dmarc.reject"),
        (DmarcPolicy::Quarantine, "auth.dmarc.quarantine"),
        (DmarcPolicy::None, "auth.dmarc.fail"),
    ] {
        let v = run(
            &engine(Some(failed_dmarc(policy))),
            &mail("Boss <boss@mamori-defence.co.jp>", ""),
        );
        assert!(v.has(id), "{id}: {:?}", v.finding_ids().collect::<Vec<_>>());
        assert!(v.has("auth.spf.fail"));
        assert!(v.has("auth.dkim.fail"));
        assert!(v.has("auth.none"));
        assert!(v.has("impersonation.internal.unauthenticated"));
        assert!(v.class.is_flagged());
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["auth"]["dmarc"]["result"], "fail");
        assert_eq!(json["auth"]["dmarc"]["policy"], policy.as_str());
        assert_eq!(json["auth"]["method"], "records");
        assert_eq!(json["schema"], "mamori.verdict/1");
        // The envelope read from the trusted relay's Received header completes the verdict's indicators.
        assert!(v.indicators.ips.contains(&"203.0.113.9".to_string()));
    }
}

#[test]
fn arc_override_excuses_dmarc_failure() {
    let mut report = failed_dmarc(DmarcPolicy::Reject);
    report.dmarc.as_mut().unwrap().arc_override = Some("lists.example.org".into());
    let v = run(&engine(Some(report)), &mail("a <a@example.org>", ""));
    assert!(v.has("auth.dmarc.arc_override"));
    assert!(!v.has("auth.dmarc.reject"));
    assert!(v.has("auth.pass"));
}

#[test]
fn other_auth_findings() {
    let report = AuthReport {
        method: AuthMethod::Dns,
        spf: Some(SpfCheck {
            result: AuthStatus::PermError,
            domain: "loop.example".into(),
            identity: "mailfrom".into(),
            reason: Some("more than 10 DNS lookups".into()),
        }),
        dkim: vec![
            DkimCheck {
                result: AuthStatus::PermError,
                reason: Some("malformed signature".into()),
                ..DkimCheck::default()
            },
            DkimCheck {
                result: AuthStatus::TempError,
                domain: Some("slow.example".into()),
                ..DkimCheck::default()
            },
            DkimCheck {
                result: AuthStatus::Fail,
                domain: Some("weak.example".into()),
                reason: Some("RSA key of 768 bits is below the 1024-bit minimum (RFC 8301)".into()),
                ..DkimCheck::default()
            },
        ],
        dmarc: Some(DmarcCheck {
            result: AuthStatus::TempError,
            from_domain: "slow.example".into(),
            ..DmarcCheck::default()
        }),
        arc: Some(ArcCheck {
            result: AuthStatus::Fail,
            sets: 2,
            sealers: vec!["a.example".into(), "b.example".into()],
            reason: Some("broken chain".into()),
        }),
        foreign_results: vec![
            ForeignResults {
                authserv_id: "mx.elsewhere.example".into(),
                forged: false,
                summary: "spf=pass".into(),
            },
            ForeignResults {
                authserv_id: "mx1.mamori-defence.co.jp".into(),
                forged: true,
                summary: "dmarc=pass".into(),
            },
        ],
        dns: Some(DnsUsage {
            lookups: 40,
            elapsed_ms: 2000,
            budget_exhausted: true,
        }),
        ..AuthReport::default()
    };
    let v = run(&engine(Some(report)), &mail("x <x@slow.example>", ""));
    for id in [
        "auth.spf.permerror",
        "auth.dkim.permerror",
        "auth.dkim.temperror",
        "auth.dkim.weak_key",
        "auth.dmarc.temperror",
        "auth.arc.fail",
        "auth.results.untrusted",
        "auth.results.forged",
        "auth.dns.budget_exhausted",
    ] {
        assert!(v.has(id), "{id}: {:?}", v.finding_ids().collect::<Vec<_>>());
    }
    let softfail = AuthReport {
        method: AuthMethod::Headers,
        authserv_id: Some("mx1.mamori-defence.co.jp".into()),
        spf: Some(SpfCheck {
            result: AuthStatus::SoftFail,
            domain: "x.example".into(),
            identity: "mailfrom".into(),
            reason: None,
        }),
        dmarc: Some(DmarcCheck {
            result: AuthStatus::PermError,
            from_domain: "x.example".into(),
            ..DmarcCheck::default()
        }),
        ..AuthReport::default()
    };
    let v = run(&engine(Some(softfail)), &mail("x <x@x.example>", ""));
    assert!(v.has("auth.spf.softfail") && v.has("auth.dmarc.permerror"));
    let temp = AuthReport {
        method: AuthMethod::Dns,
        spf: Some(SpfCheck {
            result: AuthStatus::TempError,
            domain: "x.example".into(),
            identity: "helo".into(),
            reason: None,
        }),
        ..AuthReport::default()
    };
    let v = run(&engine(Some(temp)), &mail("x <x@x.example>", ""));
    assert!(v.has("auth.spf.temperror"));
    assert!(
        !v.has("auth.none"),
        "transient errors are not 'nothing authenticates'"
    );
}

#[test]
fn vip_display_names_from_outside() {
    let e = engine(None);
    for from in [
        "\"山田　太郎\" <ceo.office@gmail.com>",
        "=?UTF-8?B?44Ok44Oe44OAIOOCv+ODreOCpg==?= <yamada@example.com>", // ヤマダ タロウ
        "\"ＴＡＲＯ ＹＡＭＡＤＡ\" <taro@example.com>",
        "\"Yamada Taro (CEO)\" <ceo@mamori-defence.co.jp.example.com>",
    ] {
        let v = run(&e, &mail(from, ""));
        assert!(
            v.has("impersonation.vip.display_name"),
            "{from}: {:?}",
            v.finding_ids().collect::<Vec<_>>()
        );
    }
    for from in [
        "\"山田 太郎\" <t.yamada@mamori-defence.co.jp>",
        "\"山田 太郎\" <secretary@mamori-defence.co.jp>",
        "\"山田 花子\" <hanako@example.com>",
    ] {
        assert!(
            !run(&e, &mail(from, "")).has("impersonation.vip.display_name"),
            "{from}"
        );
    }
}

#[test]
fn brand_display_names() {
    let e = engine(None);
    let v = run(&e, &mail("\"Amazon.co.jp\" <info@shop-notice.example>", ""));
    assert!(v.has("impersonation.brand.display_name"));
    let v = run(
        &e,
        &mail("\"三井住友カード\" <info@card-notice.example>", ""),
    );
    assert!(v.has("impersonation.brand.display_name"));
    for from in [
        "\"Amazon.co.jp\" <store-news@amazon.co.jp>",
        "\"Chasey Lain\" <c@example.com>",
    ] {
        assert!(
            !run(&e, &mail(from, "")).has("impersonation.brand.display_name"),
            "{from}"
        );
    }
}

#[test]
fn lookalike_sender_domains() {
    let e = engine(None);
    let v = run(&e, &mail("a <a@mamori-defence.jp>", ""));
    assert!(v.has("impersonation.from.lookalike_own"));
    let v = run(&e, &mail("a <a@partner-heavvy.com>", ""));
    assert!(v.has("impersonation.from.lookalike_partner"));
    let v = run(&e, &mail("a <a@xn--80ak6aa92e.com>", ""));
    assert!(v.has("impersonation.from.lookalike_brand"));
    let v = run(&e, &mail("a <a@mamori-defence.co.jp>", ""));
    assert!(
        !v.finding_ids()
            .any(|id| id.starts_with("impersonation.from"))
    );
}

#[test]
fn reply_to_and_return_path_refinements() {
    let e = engine(None);
    let v = run(
        &e,
        &mail(
            "a <a@partner-heavy.com>",
            "Reply-To: a <partner.heavy.billing@gmail.com>\r\n",
        ),
    );
    assert!(v.has("identity.reply_to.freemail"));
    assert!(!v.has("identity.reply_to.divergent"));
    let v = run(
        &e,
        &mail(
            "a <a@partner-heavy.com>",
            "Reply-To: <billing@partner-heavy.co>\r\n",
        ),
    );
    assert!(v.has("identity.reply_to.lookalike"));
    let v = run(
        &e,
        &mail("a <a@partner-heavy.com>", "Reply-To: <x@other.example>\r\n"),
    );
    assert!(v.has("identity.reply_to.divergent"));
    let v = run(
        &e,
        &mail("a <a@partner-heavy.com>", "Return-Path: <b@gmail.com>\r\n"),
    );
    assert!(v.has("identity.return_path.freemail"));
    let v = run(
        &e,
        &mail(
            "a <a@partner-heavy.com>",
            "Return-Path: <b@partner-heavy-invoices.com>\r\n",
        ),
    );
    assert!(v.has("identity.return_path.lookalike"));
    // Free-mail From with free-mail Reply-To elsewhere is only the generic divergence.
    let v = run(
        &e,
        &mail("a <a@gmail.com>", "Reply-To: <a@yahoo.co.jp>\r\n"),
    );
    assert!(v.has("identity.reply_to.divergent") && !v.has("identity.reply_to.freemail"));
}

#[test]
fn internal_sender_needs_outside_origin_and_failed_authentication() {
    let mut report = failed_dmarc(DmarcPolicy::None);
    report.dmarc = None;
    report.spf.as_mut().unwrap().result = AuthStatus::None;
    let v = run(
        &engine(Some(report.clone())),
        &mail("Boss <boss@mamori-defence.co.jp>", ""),
    );
    assert!(v.has("impersonation.internal.unauthenticated"));
    // Inside the trusted relays: not "from outside".
    report.envelope.as_mut().unwrap().external = Some(false);
    let v = run(
        &engine(Some(report.clone())),
        &mail("Boss <boss@mamori-defence.co.jp>", ""),
    );
    assert!(!v.has("impersonation.internal.unauthenticated"));
    // Authenticated: fine.
    report.envelope.as_mut().unwrap().external = Some(true);
    report.dkim[0] = DkimCheck {
        result: AuthStatus::Pass,
        domain: Some("mamori-defence.co.jp".into()),
        aligned: true,
        ..DkimCheck::default()
    };
    let v = run(
        &engine(Some(report)),
        &mail("Boss <boss@mamori-defence.co.jp>", ""),
    );
    assert!(!v.has("impersonation.internal.unauthenticated"));
    assert!(v.has("auth.pass"));
}

#[test]
fn origin_inconsistent_with_claimed_sender() {
    // Our own domain, nothing authenticates it, Message-ID and first server elsewhere.
    let v = run(&engine(None), &mail("Boss <boss@mamori-defence.co.jp>", ""));
    assert!(v.has("impersonation.origin.inconsistent"));
    // Message-ID in our domain: consistent.
    let raw = String::from_utf8(mail("Boss <boss@mamori-defence.co.jp>", ""))
        .unwrap()
        .replace(
            "abc123@mail.example.net",
            "abc123@mail.mamori-defence.co.jp",
        );
    assert!(!run(&engine(None), raw.as_bytes()).has("impersonation.origin.inconsistent"));
    // A brand is only judged when authentication failed.
    let raw = mail("Amazon <x@amazon.co.jp>", "");
    assert!(!run(&engine(None), &raw).has("impersonation.origin.inconsistent"));
    let mut report = failed_dmarc(DmarcPolicy::Reject);
    report.dmarc.as_mut().unwrap().from_domain = "amazon.co.jp".into();
    assert!(run(&engine(Some(report)), &raw).has("impersonation.origin.inconsistent"));
}

#[test]
fn first_contact_and_its_combination() {
    let history = InMemoryHistory::new();
    history.record("hanako@mamori-defence.co.jp", "sales@partner-heavy.com");
    let e = engine(None).with_sender_history(Arc::new(history));
    let known = run(&e, &mail("s <sales@partner-heavy.com>", ""));
    assert!(!known.finding_ids().any(|id| id.starts_with("history.")));
    let new_address = run(&e, &mail("s <ceo@partner-heavy.com>", ""));
    assert!(new_address.has("history.first_contact.address"));
    let new_domain = run(&e, &mail("s <sales@partner-heavvy.com>", ""));
    assert!(new_domain.has("history.first_contact.domain"));
    assert!(new_domain.has("history.first_contact.impersonation"));
    assert!(new_domain.class.is_flagged());
    // Untracked recipients: no opinion.
    let raw = String::from_utf8(mail("s <x@elsewhere.example>", ""))
        .unwrap()
        .replace("hanako@", "taro@");
    assert!(
        !run(&e, raw.as_bytes())
            .finding_ids()
            .any(|id| id.starts_with("history."))
    );
    // Prefetched answers given per message override the engine's history.
    let mut prefetched = PrefetchedHistory::new();
    prefetched.insert(
        "hanako@mamori-defence.co.jp",
        "x@elsewhere.example",
        mamori_detect::history::Familiarity::default(),
    );
    let v = e.analyse_with(
        &Envelope::default(),
        &mail("s <x@elsewhere.example>", ""),
        &Extras {
            history: Some(&prefetched),
        },
    );
    assert!(v.has("history.first_contact.domain"));
}
