//! The milter over a Unix socket, driven by a small milter client speaking the wire protocol the way Postfix
//! does: header fields arrive as raw bytes (unencoded 8-bit text stays byte-exact in quarantine), the analysis
//! sees a synthesised trace line (no spurious `received.missing`) that is never stored, and a graceful shutdown
//! lets a transaction in flight finish while new ones are refused.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mamori_detect::DetectConfig;
use mamori_serve::config::ServeConfig;
use mamori_serve::server::{Listeners, MilterAddr};
use mamori_serve::{Playbook, Service};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio_util::sync::CancellationToken;

const SMFIP_HDR_LEADSPC: u32 = 0x0010_0000;

/// A milter client (the MTA side), one packet at a time.
struct Client {
    stream: UnixStream,
}

/// A reply from the milter.
#[derive(Debug)]
struct Reply {
    code: u8,
    data: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

impl Client {
    async fn connect(path: &Path, protocol: u32) -> Client {
        let stream = UnixStream::connect(path)
            .await
            .expect("connect to the milter");
        let mut c = Client { stream };
        let mut optneg = Vec::new();
        optneg.extend_from_slice(&6u32.to_be_bytes());
        optneg.extend_from_slice(&0x1ffu32.to_be_bytes());
        optneg.extend_from_slice(&protocol.to_be_bytes());
        c.send(b'O', &optneg).await;
        let reply = c.read().await;
        assert_eq!(reply.code, b'O', "{reply:?}");
        c
    }

    async fn send(&mut self, code: u8, data: &[u8]) {
        let len = u32::try_from(data.len() + 1).unwrap();
        let mut packet = len.to_be_bytes().to_vec();
        packet.push(code);
        packet.extend_from_slice(data);
        self.stream.write_all(&packet).await.unwrap();
    }

    async fn read(&mut self) -> Reply {
        let mut len = [0u8; 4];
        tokio::time::timeout(Duration::from_secs(60), self.stream.read_exact(&mut len))
            .await
            .expect("milter reply in time")
            .expect("milter reply");
        let len = u32::from_be_bytes(len) as usize;
        let mut body = vec![0u8; len];
        self.stream.read_exact(&mut body).await.unwrap();
        Reply {
            code: body[0],
            data: body[1..].to_vec(),
        }
    }

    async fn command(&mut self, code: u8, data: &[u8]) -> Reply {
        self.send(code, data).await;
        self.read().await
    }

    /// Connect, HELO, MAIL FROM (returning the MAIL FROM reply).
    async fn begin(&mut self, from: &str) -> Reply {
        self.send(b'D', b"Cj\0mx.ours.example\0").await;
        let r = self
            .command(b'C', b"mail.partner.example\x004\x00\x19203.0.113.9\0")
            .await;
        assert_eq!(r.code, b'c', "{r:?}");
        let r = self.command(b'H', b"mail.partner.example\0").await;
        assert_eq!(r.code, b'c', "{r:?}");
        self.command(b'M', format!("<{from}>\0").as_bytes()).await
    }

    /// RCPT, the header fields (name, raw value as the MTA sends it), the body; returns every reply to the end
    /// of the message (modifications, then the final answer).
    async fn finish(&mut self, rcpt: &str, headers: &[(&[u8], &[u8])], body: &[u8]) -> Vec<Reply> {
        self.send(b'D', b"Ri\0QID42\0").await;
        let r = self.command(b'R', format!("<{rcpt}>\0").as_bytes()).await;
        assert_eq!(r.code, b'c', "{r:?}");
        for (name, value) in headers {
            let mut data = name.to_vec();
            data.push(0);
            data.extend_from_slice(value);
            data.push(0);
            let r = self.command(b'L', &data).await;
            assert_eq!(r.code, b'c', "{r:?}");
        }
        let r = self.command(b'N', b"").await;
        assert_eq!(r.code, b'c', "{r:?}");
        let r = self.command(b'B', body).await;
        assert_eq!(r.code, b'c', "{r:?}");
        self.send(b'E', b"").await;
        let mut replies = Vec::new();
        loop {
            let r = self.read().await;
            let last = !matches!(r.code, b'h' | b'm' | b'i' | b'+' | b'-' | b'b' | b'p');
            replies.push(r);
            if last {
                return replies;
            }
        }
    }
}

const PLAYBOOK: &str = r#"
version = 1
[[rule]]
name = "hold"
when.sender = ["hold@*"]
then = [{ action = "quarantine" }]
"#;

async fn start(
    dir: &Path,
    config: ServeConfig,
) -> (
    Arc<Service>,
    CancellationToken,
    tokio::task::JoinHandle<()>,
    std::path::PathBuf,
) {
    let t = mamori_store::testing::sqlite().await;
    let (engine, cell) = mamori_serve::build_engine(
        DetectConfig::default(),
        &mamori_auth::AuthConfig::default(),
        mamori_auth::AuthMode::Off,
        tokio::runtime::Handle::current(),
    )
    .unwrap();
    let svc = Arc::new(Service::new(
        config,
        Arc::new(engine),
        Playbook::parse(PLAYBOOK, "test").unwrap(),
        t.store.clone(),
        cell,
    ));
    let socket = dir.join("milter.sock");
    let listeners = Listeners::bind(
        &MilterAddr::parse(&format!("unix:{}", socket.display())),
        "127.0.0.1:0",
    )
    .await
    .unwrap();
    assert_eq!(
        listeners.milter_addr(),
        format!("unix:{}", socket.display())
    );
    let token = CancellationToken::new();
    let run = tokio::spawn({
        let (svc, token) = (svc.clone(), token.clone());
        async move {
            // Keep the test store alive as long as the server.
            let _t = t;
            mamori_serve::server::run(svc, listeners, Vec::new(), token, false)
                .await
                .unwrap();
        }
    });
    (svc, token, run, socket)
}

/// The header block as the message had it on the wire.
fn wire(headers: &[(&[u8], &[u8])], leading_space: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in headers {
        out.extend_from_slice(name);
        out.extend_from_slice(if leading_space { b":" } else { b": " });
        let value: Vec<u8> = value.to_vec();
        // Folded lines arrive joined by LF.
        for (i, part) in value.split(|&b| b == b'\n').enumerate() {
            if i > 0 {
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(part);
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_socket_raw_headers_trace_and_graceful_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let (svc, token, run, socket) = start(dir.path(), ServeConfig::default()).await;

    // 1. Raw 8-bit header bytes (Shift_JIS and UTF-8, unencoded), a tab after a colon and a folded field, held
    //    byte-exact: the quarantined bytes are exactly the header block and body the MTA handed over.
    let subject_sjis: &[u8] = b" \x83\x65\x83\x58\x83\x67 \x90\xbf\x8b\x81\x8f\x91";
    let headers: Vec<(&[u8], &[u8])> = vec![
        (b"From", b" hold@partner.example"),
        (b"To", b" bob@ours.example"),
        (b"Subject", subject_sjis),
        (b"X-Utf8", b" \xe8\xab\x8b\xe6\xb1\x82\xe6\x9b\xb8"),
        (b"X-Tab", b"\tvalue"),
        (b"X-Folded", b" first\n\tsecond"),
        (b"Message-ID", b" <raw8bit@partner.example>"),
        (b"Date", b" Sat, 28 Nov 2026 10:00:00 +0000"),
    ];
    let body: &[u8] = b"Body line one\r\n\x83\x65\x83\x58\x83\x67\r\n";
    let mut c = Client::connect(&socket, SMFIP_HDR_LEADSPC).await;
    let r = c.begin("hold@partner.example").await;
    assert_eq!(r.code, b'c', "{r:?}");
    let replies = c.finish("bob@ours.example", &headers, body).await;
    assert_eq!(
        replies.last().unwrap().code,
        b'd',
        "quarantine discards: {replies:?}"
    );
    let held = svc
        .store()
        .quarantine_list(Some(mamori_store::quarantine::QuarantineStatus::Held), 10)
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    let (raw, verdict) = svc.store().quarantine_content(&held[0].id).await.unwrap();
    let mut expected = wire(&headers, true);
    expected.extend_from_slice(body);
    assert_eq!(
        String::from_utf8_lossy(&raw),
        String::from_utf8_lossy(&expected)
    );
    assert_eq!(raw, expected, "held bytes differ from those handed over");
    assert_eq!(held[0].sha256, mamori_serve::service::sha256_hex(&expected));
    // The analysis saw a trace line (none of the trace findings), which is not in the held bytes.
    let verdict_text = verdict.to_string();
    assert!(!verdict_text.contains("received.missing"), "{verdict_text}");
    assert!(!raw.starts_with(b"Received:"));
    assert_eq!(verdict["message"]["sha256"], held[0].sha256.as_str());

    // 2. Without the leading-space option (MTAs that eat the space after the colon): a clean message gets our
    //    headers, with no received.missing among the findings either.
    let mut c2 = Client::connect(&socket, 0).await;
    let r = c2.begin("alice@partner.example").await;
    assert_eq!(r.code, b'c', "{r:?}");
    let clean: Vec<(&[u8], &[u8])> = vec![
        (b"From", b"alice@partner.example"),
        (b"To", b"bob@ours.example"),
        (b"Subject", b"lunch"),
        (b"Message-ID", b"<clean@partner.example>"),
        (b"Date", b"Sat, 28 Nov 2026 10:00:00 +0000"),
    ];
    let replies = c2
        .finish("bob@ours.example", &clean, b"See you at noon.\r\n")
        .await;
    assert_eq!(replies.last().unwrap().code, b'c', "{replies:?}");
    let added: Vec<String> = replies
        .iter()
        .filter(|r| r.code == b'h')
        .map(Reply::text)
        .collect();
    let findings = added
        .iter()
        .find(|h| h.starts_with("X-Mamori-Findings\0"))
        .expect("findings header");
    assert!(!findings.contains("received.missing"), "{findings}");
    // Without the option, the MTA adds the space itself: our values must not start with one.
    assert!(
        added
            .iter()
            .any(|h| h.starts_with("X-Mamori-Verdict\0clean")),
        "{added:?}"
    );

    // 3. Graceful shutdown: a transaction in flight (MAIL FROM sent) finishes after SIGTERM-equivalent
    //    cancellation; a new transaction is refused with 421; then the server stops.
    let mut inflight = Client::connect(&socket, SMFIP_HDR_LEADSPC).await;
    let r = inflight.begin("alice@partner.example").await;
    assert_eq!(r.code, b'c');
    let mut late = Client::connect(&socket, SMFIP_HDR_LEADSPC).await;
    assert_eq!(svc.transactions(), 1);
    token.cancel();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!run.is_finished(), "stopped with a transaction in flight");
    let r = late.begin("carol@partner.example").await;
    assert_eq!(r.code, b'y', "{r:?}");
    assert!(r.text().starts_with("421"), "{}", r.text());
    let replies = inflight
        .finish(
            "bob@ours.example",
            &[(b"From", b" alice@partner.example"), (b"Subject", b" late")],
            b"finishing during shutdown\r\n",
        )
        .await;
    assert_eq!(replies.last().unwrap().code, b'c', "{replies:?}");
    tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("server stops once the transaction is done")
        .unwrap();
    assert!(!socket.exists(), "socket file left behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_grace_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServeConfig {
        shutdown_grace_ms: 500,
        ..ServeConfig::default()
    };
    let (svc, token, run, socket) = start(dir.path(), config).await;
    // A transaction that never finishes (the client stalls after MAIL FROM).
    let mut stalled = Client::connect(&socket, 0).await;
    assert_eq!(stalled.begin("alice@partner.example").await.code, b'c');
    assert_eq!(svc.transactions(), 1);
    let start = std::time::Instant::now();
    token.cancel();
    tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("the grace period ends the wait")
        .unwrap();
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(450), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}
