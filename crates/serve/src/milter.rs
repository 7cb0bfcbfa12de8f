//! The milter side (Postfix, Sendmail) on `miltr-server`: one [`MilterSession`] per MTA connection collects the
//! envelope (client address, HELO, MAIL FROM, RCPT TO), the header fields and the body, hands the message to
//! the [`Service`] at end of body and turns its [`Decision`] into milter replies (header changes, subject tag,
//! `550 5.7.1`, `451 4.7.1`, discard). The buffered message is bounded by `max_message_bytes`.
//!
//! Header fields are kept as raw bytes (unencoded 8-bit text in a Subject stays byte-exact in quarantine), with
//! the exact whitespace after the colon (`SMFIP_HDR_LEADSPC` is negotiated). The MTA does not show a milter its
//! own `Received:` field, so for analysis only a trace line is synthesised from the envelope and prepended; the
//! held bytes are what the MTA handed over. A transaction counts as in flight from MAIL FROM to the end of the
//! message, so a graceful shutdown can let it finish.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use mamori_mail::Envelope;
use miltr_common::ProtocolError;
use miltr_common::actions::{Action, Continue, Discard, Replycode};
use miltr_common::commands::{Body, Connect, Header, Helo, Macro, Mail, Recipient};
use miltr_common::encoding::Writable;
use miltr_common::modifications::ModificationResponse;
use miltr_common::modifications::headers::{AddHeader, ChangeHeader};
use miltr_common::optneg::{OptNeg, Protocol};

use crate::service::{Decision, Disposition, Incoming, Service};

/// Errors of a milter session (never sent to the MTA; the connection is dropped).
#[derive(Debug, thiserror::Error)]
#[error("milter session: {0}")]
pub struct SessionError(String);

/// Header names whose copies from outside are removed before ours are added (so senders cannot forge them).
const OWN_HEADERS: [&str; 3] = ["X-Mamori-Verdict", "X-Mamori-Score", "X-Mamori-Findings"];

/// State of one MTA connection (several messages may pass through it).
pub struct MilterSession {
    service: Arc<Service>,
    client_ip: Option<IpAddr>,
    client_name: Option<String>,
    helo: Option<String>,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
    queue_id: Option<String>,
    /// The MTA's host name (macro `j`), for the synthesised trace line.
    mta_host: Option<String>,
    raw: Vec<u8>,
    oversize: bool,
    /// Header names seen, in order (for 1-based per-name indexes of ChangeHeader).
    header_names: Vec<String>,
    /// The first Subject's raw value (without the space after the colon).
    subject: Option<Vec<u8>>,
    /// The MTA sends header values with their leading whitespace (negotiated).
    leading_space: bool,
    /// A transaction (MAIL FROM .. end of message) is open and counted in the service.
    in_transaction: bool,
}

impl MilterSession {
    /// A session judging with `service`.
    pub fn new(service: Arc<Service>) -> MilterSession {
        MilterSession {
            service,
            client_ip: None,
            client_name: None,
            helo: None,
            mail_from: None,
            rcpt_to: Vec::new(),
            queue_id: None,
            mta_host: None,
            raw: Vec::new(),
            oversize: false,
            header_names: Vec::new(),
            subject: None,
            leading_space: false,
            in_transaction: false,
        }
    }

    fn end_transaction(&mut self) {
        if self.in_transaction {
            self.in_transaction = false;
            self.service.transaction_end();
        }
    }

    fn reset_message(&mut self) {
        self.mail_from = None;
        self.rcpt_to.clear();
        self.queue_id = None;
        self.raw = Vec::new();
        self.oversize = false;
        self.header_names.clear();
        self.subject = None;
    }

    fn append(&mut self, bytes: &[u8]) {
        let limit = self.service.config().max_message_bytes;
        if self.raw.len() + bytes.len() > limit {
            self.oversize = true;
            let room = limit.saturating_sub(self.raw.len());
            self.raw.extend_from_slice(&bytes[..room.min(bytes.len())]);
        } else {
            self.raw.extend_from_slice(bytes);
        }
    }

    fn response(&self, decision: &Decision) -> ModificationResponse {
        let mut builder = ModificationResponse::builder();
        match &decision.disposition {
            Disposition::Reject(text) => {
                let (r, x) = if text.contains("size limit") {
                    ([5, 5, 2], [5, 3, 4])
                } else {
                    ([5, 5, 0], [5, 7, 1])
                };
                builder.build(Replycode::new(r, x, &smtp_text(text)))
            }
            Disposition::Tempfail(text) => {
                builder.build(Replycode::new([4, 5, 1], [4, 7, 1], &smtp_text(text)))
            }
            Disposition::Discard => builder.build(Discard),
            Disposition::Accept => {
                for name in OWN_HEADERS {
                    if decision.headers.iter().any(|(n, _)| n == name) {
                        let copies = self
                            .header_names
                            .iter()
                            .filter(|n| n.eq_ignore_ascii_case(name))
                            .count();
                        // Deleting from the last keeps the earlier indexes valid.
                        for index in (1..=copies).rev() {
                            let index = u32::try_from(index).unwrap_or(u32::MAX);
                            builder.push(ChangeHeader::new(index, name.as_bytes(), b""));
                        }
                    }
                }
                for (name, value) in &decision.headers {
                    builder.push(AddHeader::new(
                        name.as_bytes(),
                        format!("{}{}", self.lead(), header_text(value)).as_bytes(),
                    ));
                }
                if let Some(prefix) = &decision.subject_prefix {
                    let prefix = header_text(prefix);
                    match &self.subject {
                        Some(subject)
                            if !subject.trim_ascii_start().starts_with(prefix.as_bytes()) =>
                        {
                            // The original value's bytes follow unchanged (they may be unencoded 8-bit).
                            let mut value = self.lead().as_bytes().to_vec();
                            value.extend_from_slice(prefix.as_bytes());
                            value.push(b' ');
                            value.extend_from_slice(subject.trim_ascii_start());
                            builder.push(ChangeHeader::new(1, b"Subject", &value));
                        }
                        Some(_) => {}
                        None => builder.push(AddHeader::new(
                            b"Subject",
                            format!("{}{prefix}", self.lead()).as_bytes(),
                        )),
                    }
                }
                // The protocol has no explicit "accept" at end of body; continue delivers the message.
                builder.contin()
            }
        }
    }

    /// With `SMFIP_HDR_LEADSPC` the MTA writes values as given, so added values carry their own space.
    fn lead(&self) -> &'static str {
        if self.leading_space { " " } else { "" }
    }

    /// The `Received:` line the MTA will prepend (it hides its own from milters), from the envelope: without it
    /// every message would look as if it had no trace at all.
    fn trace_line(&self, now: i64) -> Vec<u8> {
        let helo = self
            .helo
            .as_deref()
            .map(token)
            .unwrap_or_else(|| "unknown".into());
        let name = self
            .client_name
            .as_deref()
            .map(token)
            .unwrap_or_else(|| "unknown".into());
        let ip = self.client_ip.map_or_else(
            || "unknown".into(),
            |ip| match ip {
                IpAddr::V4(v4) => v4.to_string(),
                IpAddr::V6(v6) => format!("IPv6:{v6}"),
            },
        );
        let by = self
            .mta_host
            .as_deref()
            .map(token)
            .unwrap_or_else(|| "localhost".into());
        let id = self
            .queue_id
            .as_deref()
            .map(|q| format!(" id {}", token(q)))
            .unwrap_or_default();
        let rcpt = match self.rcpt_to.as_slice() {
            [one] => format!("\r\n\tfor <{}>", token(one)),
            _ => String::new(),
        };
        format!(
            "Received: from {helo} ({name} [{ip}])\r\n\tby {by} (mamori milter view) with ESMTP{id}{rcpt};\r\n\t{}\r\n",
            rfc5322_date(now)
        )
        .into_bytes()
    }
}

impl Drop for MilterSession {
    fn drop(&mut self) {
        // A client gone mid-message still ends its transaction.
        self.end_transaction();
    }
}

/// A word safe inside the synthesised trace line: printable ASCII without comment or angle delimiters, bounded.
fn token(s: &str) -> String {
    let t: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '(' | ')' | '<' | '>' | ';' | '[' | ']'))
        .take(255)
        .collect();
    if t.is_empty() { "unknown".into() } else { t }
}

/// `Sat, 28 Nov 2026 10:00:00 +0000` for Unix seconds.
pub fn rfc5322_date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    format!(
        "{}, {day} {} {year} {:02}:{:02}:{:02} +0000",
        DAYS[usize::try_from(days.rem_euclid(7)).unwrap_or(0)],
        MONTHS[usize::try_from(month - 1).unwrap_or(0).min(11)],
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// Reply text safe for SMTP: one line, printable ASCII, bounded.
fn smtp_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                ' '
            }
        })
        .filter(|c| *c != '%')
        .take(400)
        .collect()
}

/// Header value safe to add: no line breaks, bounded.
fn header_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c == '\r' || c == '\n' || c == '\0' {
                ' '
            } else {
                c
            }
        })
        .take(900)
        .collect()
}

fn strip_angle(s: &str) -> String {
    s.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}

#[async_trait]
impl miltr_server::Milter for MilterSession {
    type Error = SessionError;

    async fn option_negotiation(
        &mut self,
        theirs: OptNeg,
    ) -> Result<OptNeg, miltr_server::Error<Self::Error>> {
        // Ask for header values with their leading whitespace, so the held header block is the one received.
        let ours = OptNeg {
            protocol: Protocol::SMFIP_HDR_LEADSPC,
            ..OptNeg::default()
        }
        .merge_compatible(&theirs)
        .map_err(ProtocolError::CompatibilityError)?;
        self.leading_space = ours.protocol.contains(Protocol::SMFIP_HDR_LEADSPC);
        Ok(ours)
    }

    async fn macro_(&mut self, macro_: Macro) -> Result<(), Self::Error> {
        for (name, value) in macro_.macros() {
            let text = String::from_utf8_lossy(value).trim().to_string();
            if text.is_empty() || text.len() > 255 {
                continue;
            }
            match name {
                b"i" | b"{i}" if text.len() < 64 => self.queue_id = Some(text),
                b"j" | b"{j}" => self.mta_host = Some(text),
                _ => {}
            }
        }
        Ok(())
    }

    async fn connect(&mut self, connect: Connect) -> Result<Action, Self::Error> {
        self.client_ip = connect
            .address()
            .trim()
            .trim_matches(['[', ']'])
            .parse()
            .ok();
        let name = connect.hostname().trim().to_string();
        self.client_name =
            (!name.is_empty() && !name.starts_with('[') && name != "unknown").then_some(name);
        Ok(Continue.into())
    }

    async fn helo(&mut self, helo: Helo) -> Result<Action, Self::Error> {
        self.helo = Some(helo.helo().trim().to_string());
        Ok(Continue.into())
    }

    async fn mail(&mut self, mail: Mail) -> Result<Action, Self::Error> {
        self.reset_message();
        self.end_transaction();
        if !self.service.transaction_begin() {
            // Shutting down: new transactions are refused so the grace period is spent on those in flight.
            return Ok(Replycode::new(
                [4, 2, 1],
                [4, 3, 2],
                "mamori: shutting down, try again later",
            )
            .into());
        }
        self.in_transaction = true;
        self.mail_from = Some(strip_angle(&mail.sender()));
        Ok(Continue.into())
    }

    async fn rcpt(&mut self, recipient: Recipient) -> Result<Action, Self::Error> {
        if self.rcpt_to.len() < 10_000 {
            self.rcpt_to.push(strip_angle(&recipient.recipient()));
        }
        Ok(Continue.into())
    }

    async fn header(&mut self, header: Header) -> Result<Action, Self::Error> {
        // The text accessors convert lossily; the encoded form is the raw `name NUL value NUL`.
        let mut encoded = bytes::BytesMut::with_capacity(header.len());
        header.write(&mut encoded);
        let mut parts = encoded[..].split(|&b| b == 0);
        let name = parts.next().unwrap_or_default();
        let value = parts.next().unwrap_or_default();
        if name.eq_ignore_ascii_case(b"subject") && self.subject.is_none() {
            let one_line: Vec<u8> = value
                .iter()
                .copied()
                .filter(|b| *b != b'\r' && *b != b'\n')
                .collect();
            self.subject = Some(one_line.trim_ascii_start().to_vec());
        }
        let mut line = Vec::with_capacity(name.len() + value.len() + 8);
        line.extend_from_slice(name);
        line.extend_from_slice(if self.leading_space { b":" } else { b": " });
        // The MTA hands folded lines joined by LF; the message on the wire used CRLF.
        let mut rest = value;
        while let Some(lf) = rest.iter().position(|&b| b == b'\n') {
            line.extend_from_slice(rest[..lf].strip_suffix(b"\r").unwrap_or(&rest[..lf]));
            line.extend_from_slice(b"\r\n");
            rest = &rest[lf + 1..];
        }
        line.extend_from_slice(rest);
        line.extend_from_slice(b"\r\n");
        self.append(&line);
        if self.header_names.len() < 100_000 {
            self.header_names
                .push(String::from_utf8_lossy(name).into_owned());
        }
        Ok(Continue.into())
    }

    async fn end_of_header(&mut self) -> Result<Action, Self::Error> {
        self.append(b"\r\n");
        Ok(Continue.into())
    }

    async fn body(&mut self, body: Body) -> Result<Action, Self::Error> {
        self.append(body.as_bytes());
        Ok(Continue.into())
    }

    async fn end_of_body(&mut self) -> Result<ModificationResponse, Self::Error> {
        let now = mamori_store::now_ms() / 1000;
        let incoming = Incoming {
            trace: Some(self.trace_line(now)),
            envelope: Envelope {
                client_ip: self.client_ip,
                client_name: self.client_name.clone(),
                helo: self.helo.clone(),
                mail_from: self.mail_from.clone(),
                rcpt_to: self.rcpt_to.clone(),
                received_at: Some(now),
            },
            raw: std::mem::take(&mut self.raw),
            queue_id: self.queue_id.clone(),
            origin: "milter",
            oversize: self.oversize,
        };
        let started = std::time::Instant::now();
        let decision = self.service.judge(incoming).await;
        self.end_transaction();
        tracing::info!(
            queue_id = self.queue_id.as_deref().unwrap_or("-"),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            action = %decision.action,
            reference = decision.reference.as_deref().unwrap_or("-"),
            "milter verdict"
        );
        Ok(self.response(&decision))
    }

    async fn abort(&mut self) -> Result<(), Self::Error> {
        self.reset_message();
        self.end_transaction();
        Ok(())
    }

    async fn quit(&mut self) -> Result<(), Self::Error> {
        self.end_transaction();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc5322_date(0), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(1_795_860_000),
            "Sat, 28 Nov 2026 10:00:00 +0000"
        );
        assert_eq!(rfc5322_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
    }

    #[test]
    fn tokens() {
        assert_eq!(token("mx (evil)\r\n[x]"), "mxevilx");
        assert_eq!(token("\u{3042}"), "unknown");
    }
}
