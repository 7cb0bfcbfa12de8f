//! Batched SMTP (BSMTP) reader: files of SMTP commands (`HELO`, `MAIL FROM:`, `RCPT TO:`, `DATA` … `.`), as
//! written by MTAs for batch delivery and used in SpamAssassin's test data. Each transaction is one message and
//! carries its envelope. Dot-stuffing is undone; sizes are bounded like the mbox reader's.

use std::io::{self, BufRead};

use super::{MailItem, Origin, ReadOptions, read_line_capped};
use crate::Envelope;

/// Reads SMTP transactions one by one.
pub struct BsmtpReader<R: BufRead> {
    reader: R,
    max_message: usize,
    max_line: usize,
    index: u64,
    helo: Option<String>,
    line: Vec<u8>,
}

impl<R: BufRead> BsmtpReader<R> {
    /// Creates a reader with the size limits of `options`.
    pub fn new(reader: R, options: &ReadOptions) -> BsmtpReader<R> {
        BsmtpReader {
            reader,
            max_message: options.max_message_bytes,
            max_line: options.max_line_bytes.max(1024),
            index: 0,
            helo: None,
            line: Vec::new(),
        }
    }

    /// Next transaction with its envelope, or `None` at the end.
    pub fn next_message(&mut self) -> io::Result<Option<(MailItem, Envelope)>> {
        let mut envelope = Envelope::default();
        loop {
            let (len, _) = read_line_capped(&mut self.reader, &mut self.line, self.max_line)?;
            if len == 0 {
                return Ok(None);
            }
            let text = String::from_utf8_lossy(&self.line).trim().to_string();
            let upper = text.to_ascii_uppercase();
            if let Some(rest) = upper
                .strip_prefix("HELO ")
                .or_else(|| upper.strip_prefix("EHLO "))
            {
                self.helo = Some(text[text.len() - rest.len()..].trim().to_string());
            } else if upper.starts_with("MAIL FROM:") {
                envelope = Envelope::default();
                envelope.mail_from = Some(path_arg(&text[10..]));
            } else if upper.starts_with("RCPT TO:") {
                envelope.rcpt_to.push(path_arg(&text[8..]));
            } else if upper == "DATA" {
                let (bytes, original, long_lines) = self.read_data()?;
                envelope.helo = self.helo.clone();
                let index = self.index;
                self.index += 1;
                let item = MailItem {
                    origin: Origin {
                        path: String::new(),
                        index: Some(index),
                    },
                    original_size: (original > bytes.len() as u64).then_some(original),
                    bytes,
                    long_lines,
                    envelope: None,
                };
                return Ok(Some((item, envelope)));
            }
        }
    }

    /// Reads DATA up to the lone `.` line, undoing dot-stuffing.
    fn read_data(&mut self) -> io::Result<(Vec<u8>, u64, bool)> {
        let mut bytes = Vec::new();
        let mut original = 0u64;
        let mut long_lines = false;
        loop {
            let (len, cut) = read_line_capped(&mut self.reader, &mut self.line, self.max_line)?;
            if len == 0 {
                break;
            }
            long_lines |= cut;
            let trimmed = self.line.strip_suffix(b"\n").unwrap_or(&self.line);
            let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
            if trimmed == b"." {
                break;
            }
            let line: &[u8] = if self.line.starts_with(b"..") {
                &self.line[1..]
            } else {
                &self.line
            };
            original += len as u64;
            let room = self.max_message.saturating_sub(bytes.len());
            bytes.extend_from_slice(&line[..line.len().min(room)]);
        }
        Ok((bytes, original, long_lines))
    }
}

/// `<user@example.com> SIZE=123` → `user@example.com`.
fn path_arg(arg: &str) -> String {
    let arg = arg.trim();
    let path = arg.split_whitespace().next().unwrap_or_default();
    path.trim_matches(['<', '>']).to_string()
}

/// True when a buffer starts like a BSMTP session.
pub fn looks_like_bsmtp(head: &[u8]) -> bool {
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let head = &head[start..head.len().min(start + 16)];
    let upper: Vec<u8> = head.iter().map(u8::to_ascii_uppercase).collect();
    upper.starts_with(b"HELO ") || upper.starts_with(b"EHLO ") || upper.starts_with(b"MAIL FROM:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_transactions_with_envelopes() {
        let data = b"HELO client.example\r\nMAIL FROM:<a@x.example> SIZE=10\r\nRCPT TO:<b@y.example>\r\nRCPT TO:<c@y.example>\r\nDATA\r\nSubject: one\r\n\r\n..dotted\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<d@y.example>\r\nDATA\r\nSubject: two\r\n\r\nx\r\n.\r\nQUIT\r\n";
        let mut r = BsmtpReader::new(&data[..], &ReadOptions::default());
        let (m1, e1) = r.next_message().unwrap().unwrap();
        assert_eq!(m1.bytes, b"Subject: one\r\n\r\n.dotted\r\n");
        assert_eq!(e1.mail_from.as_deref(), Some("a@x.example"));
        assert_eq!(e1.rcpt_to, vec!["b@y.example", "c@y.example"]);
        assert_eq!(e1.helo.as_deref(), Some("client.example"));
        let (m2, e2) = r.next_message().unwrap().unwrap();
        assert_eq!(m2.origin.index, Some(1));
        assert_eq!(e2.mail_from.as_deref(), Some(""));
        assert!(r.next_message().unwrap().is_none());
        assert!(looks_like_bsmtp(b"helo x\n"));
        assert!(!looks_like_bsmtp(b"From: x\n"));
    }
}
