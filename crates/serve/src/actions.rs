//! Actions with effects outside the store: the firewall block set, webhooks, zero-hour purge of delivered mail
//! from Maildirs, and re-delivery of released quarantine (SMTP relay or Maildir).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::AsyncTransport;
use mamori_detect::Verdict;
use mamori_mail::Envelope;
use mamori_respond::firewall::{BlockList, NftTarget};
use mamori_store::Store;
use mamori_store::message_log::MessageQuery;
use mamori_store::quarantine::NewQuarantined;

use crate::config::{ReleaseConfig, ServeConfig};
use crate::service::{ServeError, sha256_hex};

/// Largest file a purge reads from a Maildir.
const MAX_PURGE_FILE: u64 = 64 * 1024 * 1024;
/// Most logged messages one purge acts on.
const MAX_PURGE_HITS: i64 = 1_000;

/// Appends the SMTP client address and IP-literal link hosts to the nftables block set: written to the
/// configured file, and applied with `nft -f` only when `dry_run = false`. Returns (outcome, detail).
pub fn firewall(config: &ServeConfig, verdict: &Verdict) -> (&'static str, String) {
    let mut list = BlockList::new();
    let mut refused = Vec::new();
    for ip in &verdict.indicators.ips {
        let Ok(addr) = ip.parse::<IpAddr>() else {
            continue;
        };
        let private = match addr {
            IpAddr::V4(v4) => v4.is_private() || v4.is_link_local(),
            IpAddr::V6(_) => false,
        };
        if private {
            refused.push(format!("{addr} (private)"));
            continue;
        }
        if let Err(why) = list.add(addr, Some("mamori playbook")) {
            refused.push(format!("{addr} ({why})"));
        }
    }
    if list.is_empty() {
        return (
            "skipped",
            format!("no blockable address; refused: {}", refused.join(", ")),
        );
    }
    let target = NftTarget {
        table: config.firewall.table.clone(),
        set_v4: config.firewall.set.clone(),
        set_v6: format!("{}_v6", config.firewall.set),
        ..NftTarget::default()
    };
    let text = match list.render_nft(&target) {
        Ok(t) => t,
        Err(e) => return ("failed", e.to_string()),
    };
    let path = config
        .firewall
        .output
        .clone()
        .unwrap_or_else(|| config.data_dir.join("firewall.nft"));
    let write = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()));
    if let Err(e) = write {
        return ("failed", format!("writing {}: {e}", path.display()));
    }
    if config.firewall.dry_run {
        return (
            "dry-run",
            format!("{} address(es) written to {}", list.len(), path.display()),
        );
    }
    // Apply just this batch (the file accumulates every batch).
    let batch = config
        .data_dir
        .join(format!("firewall-{}.nft", uuid::Uuid::new_v4().simple()));
    let result = std::fs::write(&batch, &text).and_then(|()| {
        std::process::Command::new("nft")
            .arg("-f")
            .arg(&batch)
            .output()
    });
    let _ = std::fs::remove_file(&batch);
    match result {
        Ok(out) if out.status.success() => {
            ("ok", format!("{} address(es) added with nft", list.len()))
        }
        Ok(out) => (
            "failed",
            format!("nft: {}", String::from_utf8_lossy(&out.stderr).trim()),
        ),
        Err(e) => ("failed", format!("running nft: {e}")),
    }
}

/// POSTs `body` to `url`, retrying `retries` times with exponential back-off. Returns (outcome, detail).
pub async fn webhook(
    client: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
    timeout_ms: u64,
    retries: u32,
) -> (&'static str, String) {
    let mut last = String::new();
    for attempt in 0..=retries {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(200u64 << attempt.min(6))).await;
        }
        let sent = client
            .post(url)
            .timeout(Duration::from_millis(timeout_ms))
            .json(body)
            .send()
            .await;
        match sent {
            Ok(resp) if resp.status().is_success() => {
                return (
                    "ok",
                    format!("{url}: {} after {} attempt(s)", resp.status(), attempt + 1),
                );
            }
            Ok(resp) => last = format!("{url}: HTTP {}", resp.status()),
            Err(e) => last = format!("{url}: {e}"),
        }
    }
    ("failed", format!("{last} (after {} attempts)", retries + 1))
}

/// Zero-hour purge: finds logged, delivered messages carrying any of `indicators` (`(kind, value)`), looks for
/// their files (by Message-ID and SHA-256) in the configured Maildirs, and moves each one into quarantine.
pub async fn purge(
    store: &Store,
    maildirs: &[PathBuf],
    indicators: &[(String, String)],
    reference: &str,
) -> Result<String, ServeError> {
    let mut targets: Vec<(String, Option<String>, String)> = Vec::new(); // (log id, message-id, sha256)
    for (kind, value) in indicators {
        let hits = store
            .messages_find(&MessageQuery {
                indicator_kind: Some(kind.clone()),
                indicator_value: Some(value.clone()),
                disposition: None,
                limit: Some(MAX_PURGE_HITS),
                ..MessageQuery::default()
            })
            .await?;
        for hit in hits {
            if hit.delivery == "mta" && !targets.iter().any(|t| t.0 == hit.id) {
                targets.push((hit.id, hit.message_id, hit.sha256));
            }
        }
    }
    if targets.is_empty() {
        return Ok("no delivered message carries these indicators".into());
    }
    let maildirs = maildirs.to_vec();
    let files = tokio::task::spawn_blocking(move || maildir_files(&maildirs))
        .await
        .map_err(|e| ServeError::Analysis(e.to_string()))?;
    let mut moved = Vec::new();
    for path in files {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.len() > MAX_PURGE_FILE {
            continue;
        }
        let Ok(raw) = tokio::fs::read(&path).await else {
            continue;
        };
        let digest = sha256_hex(&raw);
        let message_id = header_value(&raw, "message-id");
        // A delivered copy carries the MTA's added headers, so its hash differs from the scanned one: match by
        // Message-ID, or by hash when the message had none.
        let Some(target) = targets.iter().find(|(_, mid, sha)| {
            mid.as_deref().is_some_and(|m| {
                message_id.as_deref() == Some(m.trim_matches(['<', '>']))
                    || message_id.as_deref() == Some(m)
            }) || *sha == digest
        }) else {
            continue;
        };
        let q = NewQuarantined {
            origin: "purge".into(),
            queue_id: None,
            reason: format!("purge after {reference} (matched {})", target.0),
            class: "purged".into(),
            score: 0.0,
            raw,
            envelope: serde_json::json!({ "maildir_file": path.display().to_string() }),
            verdict: serde_json::json!({ "purged_by": reference, "logged_as": target.0 }),
        };
        let id = store.quarantine_put(&q, &digest).await?;
        // Remove only after the copy is safely stored.
        if let Err(e) = tokio::fs::remove_file(&path).await {
            tracing::warn!(error = %e, path = %path.display(), "purged message stored but not removed");
            continue;
        }
        let _ = store
            .action_record(
                &target.0,
                "purge",
                "ok",
                &format!("moved {} into {id}", path.display()),
            )
            .await;
        moved.push(format!("{} -> {id}", path.display()));
    }
    Ok(format!(
        "{} logged match(es), {} file(s) moved: {}",
        targets.len(),
        moved.len(),
        moved.join(", ")
    ))
}

/// Every message file in the Maildirs (`new/`, `cur/`, and Maildir++ sub-folders).
fn maildir_files(maildirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for root in maildirs {
        let mut folders = vec![root.clone()];
        if let Ok(entries) = std::fs::read_dir(root) {
            for e in entries.flatten() {
                let name = e.file_name();
                if name.to_string_lossy().starts_with('.') && e.path().is_dir() {
                    folders.push(e.path());
                }
            }
        }
        for folder in folders {
            for sub in ["new", "cur"] {
                if let Ok(entries) = std::fs::read_dir(folder.join(sub)) {
                    out.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_file()));
                }
            }
        }
    }
    out
}

/// The unfolded value of the first header field `name` (lower case), without a full parse.
fn header_value(raw: &[u8], name: &str) -> Option<String> {
    let mut value: Option<String> = None;
    for line in raw.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let continuation = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        match (&mut value, continuation) {
            (Some(v), true) => v.push_str(String::from_utf8_lossy(line).trim()),
            (Some(_), false) => break,
            (None, false) => {
                let text = String::from_utf8_lossy(line);
                if let Some((n, v)) = text.split_once(':')
                    && n.trim().eq_ignore_ascii_case(name)
                {
                    value = Some(v.trim().to_string());
                }
            }
            _ => {}
        }
    }
    value.map(|v| v.trim_matches(['<', '>']).to_string())
}

/// Re-delivers `raw` unchanged: over SMTP to the release relay, else into the release Maildir.
pub async fn redeliver(
    release: &ReleaseConfig,
    envelope: &Envelope,
    raw: &[u8],
) -> Result<String, ServeError> {
    if let Some(relay) = &release.smtp {
        let (host, port) = match relay.rsplit_once(':') {
            Some((h, p)) => (
                h.trim_matches(['[', ']']).to_string(),
                p.parse::<u16>()
                    .map_err(|_| ServeError::Release(format!("bad relay port in {relay:?}")))?,
            ),
            None => (relay.clone(), 25),
        };
        let from = envelope
            .mail_from
            .clone()
            .filter(|s| !s.is_empty())
            .or_else(|| release.sender.clone());
        let from = match from {
            Some(f) => Some(
                f.trim_matches(['<', '>'])
                    .parse::<lettre::Address>()
                    .map_err(|e| ServeError::Release(format!("sender {f:?}: {e}")))?,
            ),
            None => None,
        };
        let rcpts = envelope
            .rcpt_to
            .iter()
            .map(|r| {
                r.trim_matches(['<', '>'])
                    .parse::<lettre::Address>()
                    .map_err(|e| ServeError::Release(format!("recipient {r:?}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let lettre_envelope = lettre::address::Envelope::new(from, rcpts)
            .map_err(|e| ServeError::Release(e.to_string()))?;
        let transport =
            lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(host.clone())
                .port(port)
                .timeout(Some(Duration::from_secs(30)))
                .build();
        // The SMTP client always ends DATA with CRLF "." CRLF; hand it the message without its final line
        // break so that exactly the original bytes arrive.
        let body = raw
            .strip_suffix(b"\r\n")
            .or_else(|| raw.strip_suffix(b"\n"))
            .unwrap_or(raw);
        let response = transport
            .send_raw(&lettre_envelope, body)
            .await
            .map_err(|e| ServeError::Release(format!("SMTP relay {host}:{port}: {e}")))?;
        return Ok(format!(
            "relayed to {host}:{port}: {}",
            response.message().collect::<Vec<_>>().join(" ")
        ));
    }
    if let Some(maildir) = &release.maildir {
        let path = write_maildir(maildir, raw).await?;
        return Ok(format!("written to {}", path.display()));
    }
    Err(ServeError::Release(
        "no release target: set [serve.release] smtp or maildir".into(),
    ))
}

/// Writes a message into a Maildir the safe way (tmp/, then rename into new/).
pub async fn write_maildir(maildir: &Path, raw: &[u8]) -> Result<PathBuf, ServeError> {
    let io = |what: String| move |source| ServeError::Io { what, source };
    for sub in ["tmp", "new", "cur"] {
        tokio::fs::create_dir_all(maildir.join(sub))
            .await
            .map_err(io(format!("creating {}", maildir.join(sub).display())))?;
    }
    let name = format!(
        "{}.{}.mamori",
        mamori_store::now_ms() / 1000,
        uuid::Uuid::new_v4().simple()
    );
    let tmp = maildir.join("tmp").join(&name);
    let new = maildir.join("new").join(&name);
    tokio::fs::write(&tmp, raw)
        .await
        .map_err(io(format!("writing {}", tmp.display())))?;
    tokio::fs::rename(&tmp, &new)
        .await
        .map_err(io(format!("moving into {}", new.display())))?;
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_unfold() {
        let raw = b"Subject: a\r\nMessage-ID:\r\n <x@y>\r\n\r\nMessage-ID: <no>\r\n";
        assert_eq!(header_value(raw, "message-id").as_deref(), Some("x@y"));
        assert_eq!(header_value(raw, "from"), None);
    }
}
