//! Parser behaviour on hand-made messages: Japanese and other legacy charsets, MIME structure, HTML links,
//! attachments, and hostile input that must stay bounded.

use mamori_mail::sniff::FileKind;
use mamori_mail::{AnomalyKind, Limits, LinkSource, parse};

fn b64(data: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn jis(s: &str) -> Vec<u8> {
    encoding_rs::ISO_2022_JP.encode(s).0.into_owned()
}

fn sjis(s: &str) -> Vec<u8> {
    encoding_rs::SHIFT_JIS.encode(s).0.into_owned()
}

fn message(headers: &str, body: &[u8]) -> Vec<u8> {
    let mut m = headers.replace('\n', "\r\n").into_bytes();
    m.extend_from_slice(b"\r\n");
    m.extend_from_slice(body);
    m
}

#[test]
fn iso_2022_jp_subject_and_body() {
    let subject = format!(
        "=?ISO-2022-JP?B?{}?=",
        b64(&jis("【重要】パスワードの更新"))
    );
    let raw = message(
        &format!(
            "From: =?ISO-2022-JP?B?{}?= <info@example.co.jp>\nTo: a@example.com\nSubject: {subject}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=ISO-2022-JP\n",
            b64(&jis("山田 太郎"))
        ),
        &jis("お客様のアカウントを確認してください。\nＡＭＡＺＯＮ　ログイン\n"),
    );
    let m = parse(&raw, &Limits::default());
    assert_eq!(m.subject.as_deref(), Some("【重要】パスワードの更新"));
    assert_eq!(m.from[0].name.as_deref(), Some("山田 太郎"));
    assert!(
        m.text
            .plain
            .contains("お客様のアカウントを確認してください。")
    );
    // Full-width Latin and the ideographic space fold for analysis; the original stays in `plain`.
    assert!(
        m.text.normalized.contains("amazon ログイン"),
        "{}",
        m.text.normalized
    );
    assert!(m.text.plain.contains("ＡＭＡＺＯＮ"));
    assert!(!m.has_anomaly(AnomalyKind::CharsetMismatch));
}

#[test]
fn iso_2022_jp_label_on_shift_jis_body_is_repaired() {
    let raw = message(
        "From: a@example.jp\nSubject: test\nContent-Type: text/plain; charset=iso-2022-jp\nContent-Transfer-Encoding: 8bit\n",
        &sjis("ご請求書を添付しましたのでご確認ください。お支払い期限は明日です。"),
    );
    let m = parse(&raw, &Limits::default());
    assert_eq!(
        m.text.plain,
        "ご請求書を添付しましたのでご確認ください。お支払い期限は明日です。"
    );
    assert!(m.has_anomaly(AnomalyKind::CharsetMismatch));
    assert_eq!(m.parts[0].charset_used.as_deref(), Some("shift_jis"));
}

#[test]
fn shift_jis_euc_jp_gbk_and_big5_bodies() {
    let cases: [(&str, &str, Vec<u8>); 4] = [
        (
            "Shift_JIS",
            "お支払い方法の確認",
            sjis("お支払い方法の確認"),
        ),
        (
            "EUC-JP",
            "緊急のお知らせ",
            encoding_rs::EUC_JP.encode("緊急のお知らせ").0.into_owned(),
        ),
        (
            "gb2312",
            "邮箱管理员通知您",
            encoding_rs::GBK.encode("邮箱管理员通知您").0.into_owned(),
        ),
        (
            "big5",
            "帳戶驗證通知",
            encoding_rs::BIG5.encode("帳戶驗證通知").0.into_owned(),
        ),
    ];
    for (label, text, bytes) in cases {
        let raw = message(
            &format!(
                "From: a@example.com\nSubject: x\nContent-Type: text/plain; charset={label}\nContent-Transfer-Encoding: 8bit\n"
            ),
            &bytes,
        );
        let m = parse(&raw, &Limits::default());
        assert_eq!(m.text.plain, text, "{label}");
    }
}

#[test]
fn raw_shift_jis_subject_header_is_decoded() {
    let mut raw = b"From: a@example.jp\r\nSubject: ".to_vec();
    raw.extend_from_slice(&sjis("【三井住友カード】ご利用確認のお願い"));
    raw.extend_from_slice(b"\r\nContent-Type: text/plain\r\n\r\nbody\r\n");
    let m = parse(&raw, &Limits::default());
    assert_eq!(
        m.subject.as_deref(),
        Some("【三井住友カード】ご利用確認のお願い")
    );
    assert!(m.has_anomaly(AnomalyKind::HeaderEncoding));
}

#[test]
fn rfc2231_filename_attachment_hash_and_sniffed_type() {
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    let encoded_name: String = jis("請求書.pdf")
        .iter()
        .map(|b| format!("%{b:02X}"))
        .collect();
    let body = format!(
        "--B\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nsee attached\r\n--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename*=iso-2022-jp''{encoded_name}\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--B--\r\n",
        b64(pdf)
    );
    let raw = message(
        "From: a@example.com\nSubject: invoice\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n",
        body.as_bytes(),
    );
    let m = parse(&raw, &Limits::default());
    assert_eq!(m.attachments.len(), 1);
    let a = &m.attachments[0];
    assert_eq!(a.name.as_deref(), Some("請求書.pdf"));
    assert_eq!(a.declared_type, "application/pdf");
    assert_eq!(a.sniffed.as_ref().map(|t| t.kind), Some(FileKind::Pdf));
    assert_eq!(a.size, pdf.len());
    assert_eq!(a.content, pdf);
    use sha2::Digest;
    assert_eq!(a.sha256, hex::encode(sha2::Sha256::digest(pdf)));
    assert_eq!(m.text.plain.trim(), "see attached");
    assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
}

#[test]
fn html_links_and_text() {
    let html = r#"<html><body><p>Verify your account at <a href="http://203.0.113.9/login">https://www.paypal.com/</a></p>
        <a href="https://amazon.co.jp@evil.example/x">here</a> <img src="cid:logo"></body></html>"#;
    let raw = message(
        "From: a@example.com\nSubject: x\nContent-Type: text/html; charset=utf-8\n",
        html.as_bytes(),
    );
    let m = parse(&raw, &Limits::default());
    assert!(
        m.text
            .html_text
            .contains("Verify your account at https://www.paypal.com/")
    );
    let first = &m.links[0];
    assert_eq!(
        first.anchor_text.as_deref(),
        Some("https://www.paypal.com/")
    );
    assert_eq!(first.ip, Some("203.0.113.9".parse().unwrap()));
    assert_eq!(first.source, LinkSource::HtmlHref);
    let userinfo = m
        .links
        .iter()
        .find(|l| l.has_userinfo)
        .expect("userinfo link");
    assert_eq!(userinfo.host.as_deref(), Some("evil.example"));
    assert_eq!(m.html.anchors, 2);
    assert_eq!(m.html.images, 1);
    // The plain-text URL inside the anchor text is not a second link target.
    assert!(
        m.links
            .iter()
            .all(|l| l.source != LinkSource::HtmlText || l.raw != "https://www.paypal.com/")
    );
}

#[test]
fn nested_message_is_parsed() {
    let inner = "From: ceo@partner.example\r\nSubject: inner\r\nContent-Type: text/plain\r\n\r\nplease pay http://pay.evil.example/\r\n";
    let body = format!(
        "--O\r\nContent-Type: text/plain\r\n\r\nfwd\r\n--O\r\nContent-Type: message/rfc822\r\n\r\n{inner}\r\n--O--\r\n"
    );
    let raw = message(
        "From: a@example.com\nSubject: Fwd\nContent-Type: multipart/mixed; boundary=O\n",
        body.as_bytes(),
    );
    let m = parse(&raw, &Limits::default());
    let nested = m
        .attachments
        .iter()
        .find_map(|a| a.message.as_deref())
        .expect("nested message");
    assert_eq!(nested.subject.as_deref(), Some("inner"));
    assert_eq!(nested.links[0].host.as_deref(), Some("pay.evil.example"));
}

#[test]
fn received_date_and_authentication_results() {
    let raw = message(
        "Received: from mail.sender.example (mail.sender.example [198.51.100.7])\n\tby mx.example.com (Postfix) with ESMTPS id ABC123\n\tfor <user@example.com>; Tue, 3 Nov 2026 10:00:00 +0900\nAuthentication-Results: mx.example.com; spf=pass smtp.mailfrom=sender.example; dkim=fail header.d=sender.example\nFrom: a@sender.example\nDate: Tue, 3 Nov 2026 09:59:00 +0900\nMessage-ID: <1@sender.example>\nSubject: x\n",
        b"x",
    );
    let m = parse(&raw, &Limits::default());
    let hop = &m.received[0];
    assert_eq!(hop.from_ip, Some("198.51.100.7".parse().unwrap()));
    assert_eq!(hop.by.as_deref(), Some("mx.example.com"));
    assert!(hop.timestamp.is_some());
    assert_eq!(
        m.date.as_ref().and_then(|d| d.timestamp),
        Some(1_793_667_540)
    );
    assert_eq!(m.message_id.as_deref(), Some("1@sender.example"));
    let ar = &m.authentication_results[0];
    assert_eq!(ar.authserv_id, "mx.example.com");
    assert_eq!(ar.results[1].method, "dkim");
    assert_eq!(ar.results[1].result, "fail");
}

// ---- hostile and broken input: every case yields a Message with the right anomaly, bounded ----

#[test]
fn empty_and_garbage() {
    let m = parse(b"", &Limits::default());
    assert!(m.has_anomaly(AnomalyKind::Empty));
    let garbage: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let m = parse(&garbage, &Limits::default());
    assert!(m.has_anomaly(AnomalyKind::NotMail), "{:?}", m.anomalies);
}

#[test]
fn truncated_multipart() {
    let raw = b"From: a@b.example\nSubject: t\nContent-Type: multipart/mixed; boundary=\"XX\"\n\n--XX\nContent-Type: text/plain\n\nhello\n--XX\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK";
    let m = parse(raw, &Limits::default());
    assert!(m.has_anomaly(AnomalyKind::Truncated), "{:?}", m.anomalies);
    assert_eq!(m.text.plain.trim(), "hello");
}

#[test]
fn hundred_megabyte_single_part_body_is_cut_at_the_limit() {
    let mut raw = b"From: a@b.example\nSubject: big\n\n".to_vec();
    raw.resize(raw.len() + 100 * 1024 * 1024, b'A');
    let limits = Limits::default();
    let m = parse(&raw, &limits);
    assert!(m.has_anomaly(AnomalyKind::MessageSize));
    assert!(m.has_anomaly(AnomalyKind::Text));
    assert!(m.text.plain.len() <= limits.max_text_bytes);
    assert_eq!(m.size, raw.len());
}

#[test]
fn multipart_nested_ten_thousand_deep() {
    let depth = 10_000;
    let mut raw =
        b"From: a@b.example\nSubject: deep\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n"
            .to_vec();
    for i in 1..depth {
        raw.extend_from_slice(
            format!(
                "--b{}\nContent-Type: multipart/mixed; boundary=\"b{i}\"\n\n",
                i - 1
            )
            .as_bytes(),
        );
    }
    raw.extend_from_slice(
        format!("--b{}\nContent-Type: text/plain\n\nleaf\n", depth - 1).as_bytes(),
    );
    for i in (0..depth).rev() {
        raw.extend_from_slice(format!("--b{i}--\n").as_bytes());
    }
    let limits = Limits::default();
    let m = parse(&raw, &limits);
    assert!(m.has_anomaly(AnomalyKind::MimeDepth));
    assert!(m.parts.len() <= limits.max_mime_depth + 1);
}

#[test]
fn millions_of_headers() {
    let mut raw = b"From: a@b.example\n".to_vec();
    for _ in 0..2_000_000 {
        raw.extend_from_slice(b"X-H: v\n");
    }
    raw.extend_from_slice(b"Subject: after\n\nbody\n");
    let limits = Limits::default();
    let m = parse(&raw, &limits);
    assert!(m.has_anomaly(AnomalyKind::Headers));
    assert!(m.headers.len() <= limits.max_headers);
    assert_eq!(m.text.plain.trim(), "body");
}

#[test]
fn empty_boundary_and_many_parts() {
    let raw = b"From: a@b.example\nContent-Type: multipart/mixed; boundary=\"\"\n\n--\nContent-Type: text/plain\n\nx\n----\n";
    let m = parse(raw, &Limits::default());
    assert!(
        m.has_anomaly(AnomalyKind::BoundaryMissing),
        "{:?}",
        m.anomalies
    );

    let mut raw = b"From: a@b.example\nContent-Type: multipart/mixed; boundary=P\n\n".to_vec();
    for i in 0..5_000 {
        raw.extend_from_slice(
            format!("--P\nContent-Type: application/octet-stream; name=f{i}.bin\n\nx\n").as_bytes(),
        );
    }
    raw.extend_from_slice(b"--P--\n");
    let limits = Limits::default();
    let m = parse(&raw, &limits);
    assert!(m.has_anomaly(AnomalyKind::MimeParts));
    assert!(m.parts.len() <= limits.max_parts);
}

#[test]
fn bare_cr_line_endings() {
    let raw = b"From: a@b.example\rSubject: mac\rContent-Type: text/plain\r\rclassic mac body\r";
    let m = parse(raw, &Limits::default());
    assert!(m.has_anomaly(AnomalyKind::LineEndings));
    assert_eq!(m.subject.as_deref(), Some("mac"));
    assert!(m.text.plain.contains("classic mac body"));
}

#[test]
fn decoded_bytes_limit_cuts_attachments() {
    let payload = vec![b'z'; 300_000];
    let body = format!(
        "--B\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--B--\r\n",
        b64(&payload)
    );
    let raw = message(
        "From: a@b.example\nContent-Type: multipart/mixed; boundary=B\n",
        body.as_bytes(),
    );
    let limits = Limits {
        max_decoded_bytes: 100_000,
        ..Limits::default()
    };
    let m = parse(&raw, &limits);
    assert!(m.has_anomaly(AnomalyKind::DecodedBytes));
    let a = &m.attachments[0];
    assert!(a.truncated);
    assert_eq!(a.content.len(), 100_000);
    assert_eq!(a.size, 300_000);
}

mod properties {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_never_panic_and_stay_bounded(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let limits = mamori_mail::Limits { max_links: 20, max_parts: 20, ..mamori_mail::Limits::default() };
            let m = mamori_mail::parse(&data, &limits);
            prop_assert!(m.links.len() <= 20);
            prop_assert!(m.parts.len() <= 20);
        }

        #[test]
        fn mail_shaped_input_never_panics(
            headers in proptest::collection::vec("[A-Za-z-]{1,12}: [ -~]{0,40}", 0..20),
            boundary in "[a-z0-9]{0,5}",
            body in "[ -~\n]{0,400}",
        ) {
            let raw = format!(
                "{}\nContent-Type: multipart/mixed; boundary=\"{boundary}\"\n\n--{boundary}\n{body}\n--{boundary}--\n",
                headers.join("\n")
            );
            let _ = mamori_mail::parse(raw.as_bytes(), &mamori_mail::Limits::default());
        }
    }
}
