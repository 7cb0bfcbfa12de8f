//! Bounded line splitting over any reader: lines are handed out as slices of one reusable buffer (no allocation
//! per line), and a line longer than the limit is skipped in pieces, so a 200 MB line costs at most
//! `max_line_len` plus one read chunk of memory.

use std::io::{self, Read};

use memchr::memchr;

/// Bytes requested from the reader per call.
const CHUNK: usize = 256 * 1024;

/// One line handed to the callback.
pub enum Line<'a> {
    /// A complete line without its `\n` (and without a trailing `\r`).
    Text(&'a [u8]),
    /// A line longer than the limit; only its length is known (at least this many bytes).
    TooLong(usize),
}

/// Why splitting stopped.
pub enum SplitError<E> {
    /// The reader failed (I/O error, truncated or corrupt gzip) after `line` complete lines.
    Read {
        /// Lines delivered before the failure.
        line: u64,
        /// The reader's error.
        source: io::Error,
    },
    /// The callback asked to stop.
    Callback(E),
}

/// Call `f(line_number, line)` for every line of `reader` (1-based numbers). A final line without `\n` is
/// delivered too. Returns the number of lines.
pub fn for_each_line<R: Read, E>(
    reader: &mut R,
    max_line_len: usize,
    mut f: impl FnMut(u64, Line<'_>) -> Result<(), E>,
) -> Result<u64, SplitError<E>> {
    let max_line_len = max_line_len.max(1);
    let mut buf = vec![0u8; CHUNK.min(max_line_len + CHUNK)];
    let (mut start, mut end, mut scanned) = (0usize, 0usize, 0usize);
    let mut line_no = 0u64;
    // While discarding an over-long line: how many bytes of it were seen so far.
    let mut discarding: Option<usize> = None;
    loop {
        while let Some(pos) = memchr(b'\n', &buf[scanned..end]) {
            let nl = scanned + pos;
            line_no += 1;
            let len = nl - start;
            let line = match discarding.take() {
                Some(seen) => Line::TooLong(seen + len),
                None if len > max_line_len => Line::TooLong(len),
                None => Line::Text(strip_cr(&buf[start..nl])),
            };
            f(line_no, line).map_err(SplitError::Callback)?;
            start = nl + 1;
            scanned = start;
        }
        scanned = end;
        let pending = end - start;
        if let Some(seen) = discarding.as_mut() {
            *seen += pending;
            start = end;
        } else if pending > max_line_len {
            discarding = Some(pending);
            start = end;
        }
        if start > 0 {
            buf.copy_within(start..end, 0);
            end -= start;
            scanned -= start;
            start = 0;
        }
        if end == buf.len() {
            // Room for a maximal line plus one chunk; never more.
            let grown = (buf.len() * 2).min(max_line_len + CHUNK).max(end + 1);
            buf.resize(grown, 0);
        }
        let n = loop {
            match reader.read(&mut buf[end..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(SplitError::Read {
                        line: line_no,
                        source,
                    });
                }
            }
        };
        if n == 0 {
            let len = end - start;
            if let Some(seen) = discarding {
                line_no += 1;
                f(line_no, Line::TooLong(seen + len)).map_err(SplitError::Callback)?;
            } else if len > 0 {
                line_no += 1;
                f(line_no, Line::Text(strip_cr(&buf[start..end]))).map_err(SplitError::Callback)?;
            }
            return Ok(line_no);
        }
        end += n;
    }
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `step` bytes per call, to exercise buffer boundaries.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn collect(data: &[u8], step: usize, max: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut r = Trickle { data, step };
        let res: Result<u64, SplitError<()>> = for_each_line(&mut r, max, |n, l| {
            out.push(match l {
                Line::Text(t) => format!("{n}:{}", String::from_utf8_lossy(t)),
                Line::TooLong(len) => format!("{n}:too long {len}"),
            });
            Ok(())
        });
        assert!(res.is_ok());
        out
    }

    #[test]
    fn splits_lines_across_reads() {
        for step in [1, 2, 3, 7, 1000] {
            assert_eq!(
                collect(b"a\nbb\r\n\nccc", step, 100),
                ["1:a", "2:bb", "3:", "4:ccc"],
                "step {step}"
            );
        }
    }

    #[test]
    fn over_long_lines_are_reported_and_skipped() {
        let mut data = b"ok\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 50));
        data.extend(b"\nfine\n");
        data.extend(std::iter::repeat_n(b'y', 30));
        for step in [1, 4, 13, 4096] {
            assert_eq!(
                collect(&data, step, 10),
                ["1:ok", "2:too long 50", "3:fine", "4:too long 30"],
                "step {step}"
            );
        }
    }

    #[test]
    fn huge_line_keeps_memory_bounded() {
        // 64 MiB of one line without a newline, produced lazily: the buffer must stay near max + CHUNK.
        struct Endless(usize);
        impl Read for Endless {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let n = out.len().min(self.0);
                out[..n].fill(b'z');
                self.0 -= n;
                Ok(n)
            }
        }
        let mut seen = Vec::new();
        let res: Result<u64, SplitError<()>> =
            for_each_line(&mut Endless(64 << 20), 4096, |_, l| {
                if let Line::TooLong(n) = l {
                    seen.push(n);
                }
                Ok(())
            });
        assert!(matches!(res, Ok(1)));
        assert_eq!(seen, [64 << 20]);
    }

    #[test]
    fn read_errors_carry_the_line_count() {
        struct Failing(u8);
        impl Read for Failing {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "boom"));
                }
                self.0 -= 1;
                out[..2].copy_from_slice(b"a\n");
                Ok(2)
            }
        }
        let res: Result<u64, SplitError<()>> = for_each_line(&mut Failing(3), 10, |_, _| Ok(()));
        assert!(matches!(res, Err(SplitError::Read { line: 3, .. })));
    }
}
