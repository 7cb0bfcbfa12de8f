//! The milter side (Postfix, Sendmail) on `miltr-server`: one [`MilterSession`] per MTA connection collects the
//! envelope (client address, HELO, MAIL FROM, RCPT TO), the header fields and the body, hands the message to
//! the [`Service`] at end of body and turns its [`Decision`] into milter replies (header changes, subject tag,
//! `550 5.7.1`, `451 4.7.1`, discard). The buffered message is bounded by `max_message_bytes`.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use mamori_mail::Envelope;
use miltr_common::actions::{Action, Continue, Discard, Replycode};
use miltr_common::commands::{Body, Connect, Header, Helo, Macro, Mail, Recipient};
use miltr_common::modifications::ModificationResponse;
use miltr_common::modifications::headers::{AddHeader, ChangeHeader};

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
    raw: Vec<u8>,
    oversize: bool,
    /// Header names seen, in order (for 1-based per-name indexes of ChangeHeader).
    header_names: Vec<String>,
    subject: Option<String>,
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
            raw: Vec::new(),
            oversize: false,
            header_names: Vec::new(),
            subject: None,
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
                        header_text(value).as_bytes(),
                    ));
                }
                if let Some(prefix) = &decision.subject_prefix {
                    match &self.subject {
                        Some(subject) if !subject.trim_start().starts_with(prefix.as_str()) => {
                            let value = format!("{prefix} {}", subject.trim_start());
                            builder.push(ChangeHeader::new(
                                1,
                                b"Subject",
                                header_text(&value).as_bytes(),
                            ));
                        }
                        Some(_) => {}
                        None => {
                            builder.push(AddHeader::new(b"Subject", header_text(prefix).as_bytes()))
                        }
                    }
                }
                // The protocol has no explicit "accept" at end of body; continue delivers the message.
                builder.contin()
            }
        }
    }
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

    async fn macro_(&mut self, macro_: Macro) -> Result<(), Self::Error> {
        for (name, value) in macro_.macros() {
            if name == b"i" || name == b"{i}" {
                let id = String::from_utf8_lossy(value).trim().to_string();
                if !id.is_empty() && id.len() < 64 {
                    self.queue_id = Some(id);
                }
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
        let name = header.name().to_string();
        let value = header.value();
        if name.eq_ignore_ascii_case("subject") && self.subject.is_none() {
            self.subject = Some(value.replace(['\r', '\n'], ""));
        }
        // The MTA hands folded lines joined by LF; the message on the wire used CRLF.
        let value = value.replace("\r\n", "\n").replace('\n', "\r\n");
        let mut line = Vec::with_capacity(name.len() + value.len() + 4);
        line.extend_from_slice(name.as_bytes());
        line.extend_from_slice(b": ");
        line.extend_from_slice(value.as_bytes());
        line.extend_from_slice(b"\r\n");
        self.append(&line);
        if self.header_names.len() < 100_000 {
            self.header_names.push(name);
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
        let incoming = Incoming {
            envelope: Envelope {
                client_ip: self.client_ip,
                client_name: self.client_name.clone(),
                helo: self.helo.clone(),
                mail_from: self.mail_from.clone(),
                rcpt_to: self.rcpt_to.clone(),
                received_at: Some(mamori_store::now_ms() / 1000),
            },
            raw: std::mem::take(&mut self.raw),
            queue_id: self.queue_id.clone(),
            origin: "milter",
            oversize: self.oversize,
        };
        let decision = self.service.judge(incoming).await;
        tracing::info!(
            queue_id = self.queue_id.as_deref().unwrap_or("-"),
            action = %decision.action,
            reference = decision.reference.as_deref().unwrap_or("-"),
            "milter verdict"
        );
        Ok(self.response(&decision))
    }

    async fn abort(&mut self) -> Result<(), Self::Error> {
        self.reset_message();
        Ok(())
    }
}
