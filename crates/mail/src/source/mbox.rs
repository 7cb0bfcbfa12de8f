//! Streaming mbox reader (mboxrd and mboxo).
//!
//! Messages are separated by lines starting with `From ` (the same rule Python's `mailbox.mbox` uses, so message
//! numbers agree with tools built on it). Quoted `>From ` lines are unquoted the mboxrd way (one `>` removed from
//! `>+From `), which is also right for mboxo's single level. Memory is bounded: a message keeps at most
//! `max_message_bytes`, a line at most `max_line_bytes`; the rest is read and dropped.

use std::io::{self, BufRead};

use super::{MailItem, Origin, ReadOptions, read_line_capped};

/// Reads messages one by one from an mbox stream.
pub struct MboxReader<R: BufRead> {
    reader: R,
    max_message: usize,
    max_line: usize,
    /// Number of messages yielded so far.
    index: u64,
    /// The next message has begun (its `From ` line was read).
    started: bool,
    finished: bool,
    line: Vec<u8>,
    /// A complete message waiting until we know whether another follows.
    held: Option<MailItem>,
}

impl<R: BufRead> MboxReader<R> {
    /// Creates a reader with the size limits of `options`.
    pub fn new(reader: R, options: &ReadOptions) -> MboxReader<R> {
        MboxReader {
            reader,
            max_message: options.max_message_bytes,
            max_line: options.max_line_bytes.max(1024),
            index: 0,
            started: false,
            finished: false,
            line: Vec::new(),
            held: None,
        }
    }

    /// Returns the next message, or `None` at the end of the stream. The origin's index is `None` when the
    /// stream holds exactly one message.
    pub fn next_message(&mut self) -> io::Result<Option<MailItem>> {
        loop {
            if self.finished {
                return Ok(self.held.take().map(|mut item| {
                    if self.index == 1 {
                        item.origin.index = None;
                    }
                    item
                }));
            }
            let next = self.read_one()?;
            match next {
                Some(item) => {
                    if let Some(prev) = self.held.replace(item) {
                        return Ok(Some(prev));
                    }
                }
                None => self.finished = true,
            }
        }
    }

    /// Reads one message body up to the next separator. `None` at end of input with nothing read.
    fn read_one(&mut self) -> io::Result<Option<MailItem>> {
        let mut bytes = Vec::new();
        let mut original: u64 = 0;
        let mut long_lines = false;
        let mut any = self.started;
        loop {
            let (len, cut) = read_line_capped(&mut self.reader, &mut self.line, self.max_line)?;
            if len == 0 {
                break;
            }
            long_lines |= cut;
            if self.line.starts_with(b"From ") {
                if self.started || !bytes.is_empty() {
                    // Separator of the next message: the current one is complete.
                    self.started = true;
                    return Ok(Some(self.finish(bytes, original, long_lines)));
                }
                self.started = true;
                any = true;
                continue;
            }
            any = true;
            let line: &[u8] = if is_quoted_from(&self.line) {
                &self.line[1..]
            } else {
                &self.line
            };
            original += len as u64;
            if bytes.len() + line.len() <= self.max_message {
                bytes.extend_from_slice(line);
            } else if bytes.len() < self.max_message {
                let room = self.max_message - bytes.len();
                bytes.extend_from_slice(&line[..room]);
            }
        }
        if !any {
            return Ok(None);
        }
        self.started = false;
        Ok(Some(self.finish(bytes, original, long_lines)))
    }

    fn finish(&mut self, mut bytes: Vec<u8>, original: u64, long_lines: bool) -> MailItem {
        // The blank line before a separator belongs to the mbox, not the message.
        if bytes.ends_with(b"\r\n\r\n") {
            bytes.truncate(bytes.len() - 2);
        } else if bytes.ends_with(b"\n\n") {
            bytes.truncate(bytes.len() - 1);
        }
        let index = self.index;
        self.index += 1;
        MailItem {
            origin: Origin {
                path: String::new(),
                index: Some(index),
            },
            original_size: (original > bytes.len() as u64 + 2).then_some(original),
            bytes,
            long_lines,
            envelope: None,
        }
    }
}

/// `>From `, `>>From `, … (mboxrd quoting).
fn is_quoted_from(line: &[u8]) -> bool {
    let gt = line.iter().take_while(|&&b| b == b'>').count();
    gt > 0 && line[gt..].starts_with(b"From ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(data: &[u8], options: &ReadOptions) -> Vec<MailItem> {
        let mut reader = MboxReader::new(data, options);
        let mut out = Vec::new();
        while let Some(item) = reader.next_message().unwrap() {
            out.push(item);
        }
        out
    }

    #[test]
    fn splits_and_unquotes() {
        let data = b"From a Mon Jan 1 2001\nSubject: 1\n\n>From x\n>>From y\n\nFrom b Mon Jan 1 2001\nSubject: 2\n\nz\n";
        let items = read_all(data, &ReadOptions::default());
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].bytes, b"Subject: 1\n\nFrom x\n>From y\n");
        assert_eq!(items[1].bytes, b"Subject: 2\n\nz\n");
        assert_eq!(items[1].origin.index, Some(1));
    }

    #[test]
    fn single_message_has_no_index_and_empty_input_has_none() {
        let items = read_all(b"From a\nSubject: only\n\nx\n", &ReadOptions::default());
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].origin.index, None);
        assert!(read_all(b"", &ReadOptions::default()).is_empty());
    }

    #[test]
    fn bounds_message_and_line_size() {
        let options = ReadOptions {
            max_message_bytes: 100,
            max_line_bytes: 1024,
            ..ReadOptions::default()
        };
        let mut data = b"From a\nSubject: big\n\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 10_000));
        data.extend_from_slice(b"\nFrom b\nSubject: next\n\nok\n");
        let items = read_all(&data, &options);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].bytes.len(), 100);
        assert!(items[0].long_lines);
        assert!(items[0].original_size.unwrap() > 10_000);
        assert_eq!(items[1].bytes, b"Subject: next\n\nok\n");
    }
}
