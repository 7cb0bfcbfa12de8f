//! Host names for destination addresses, learnt from other Zeek logs of the same sensor: `dns.log`
//! (`query` → `answers`), `ssl.log` (`server_name` of `id.resp_h`) and `http.log` (`host` of `id.resp_h`), TSV or
//! JSON, plain or gzip. Names feed the alert's indicators and the domain allow-list. Memory is bounded: at most
//! [`MAX_NAMES_PER_ADDR`] names per address and `max_addresses` addresses.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::net::IpAddr;
use std::path::Path;

use crate::ingest::values::parse_addr;
use crate::ingest::{IngestError, IngestOptions};

/// Names kept per address.
pub const MAX_NAMES_PER_ADDR: usize = 4;

/// Address → names.
#[derive(Debug, Clone)]
pub struct HostNames {
    map: HashMap<IpAddr, Vec<String>>,
    max_addresses: usize,
    /// Lines that yielded at least one (address, name) pair.
    pub lines_used: u64,
}

impl Default for HostNames {
    fn default() -> Self {
        Self::new(1_000_000)
    }
}

impl HostNames {
    /// Empty table holding at most `max_addresses` addresses.
    pub fn new(max_addresses: usize) -> Self {
        Self {
            map: HashMap::new(),
            max_addresses,
            lines_used: 0,
        }
    }

    /// Record a name for an address (lower-cased, trailing dot removed; invalid names ignored).
    pub fn add(&mut self, ip: IpAddr, name: &str) {
        let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
        let plausible = !name.is_empty()
            && name.len() <= 253
            && name.contains('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
            && name.parse::<IpAddr>().is_err();
        if !plausible {
            return;
        }
        let full = self.map.len() >= self.max_addresses;
        match self.map.get_mut(&ip) {
            Some(v) if v.len() < MAX_NAMES_PER_ADDR && !v.contains(&name) => v.push(name),
            Some(_) => {}
            None if !full => {
                self.map.insert(ip, vec![name]);
            }
            None => {}
        }
    }

    /// Names known for an address.
    pub fn names(&self, ip: IpAddr) -> Vec<String> {
        self.map.get(&ip).cloned().unwrap_or_default()
    }

    /// Addresses with at least one name.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no names are known.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Read a dns/ssl/http log (TSV or JSON, plain or gzip). Unusable lines are ignored: names are an aid, not
    /// evidence, so only I/O errors are reported.
    pub fn ingest_file(&mut self, path: &Path, opts: &IngestOptions) -> Result<(), IngestError> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|source| IngestError::Open {
            file: name.clone(),
            source,
        })?;
        let mut reader: Box<dyn Read> = Box::new(file);
        let mut magic = [0u8; 2];
        let n = reader
            .read(&mut magic)
            .map_err(|source| IngestError::Read {
                file: name.clone(),
                line: 0,
                source,
            })?;
        let head = std::io::Cursor::new(magic).take(n as u64).chain(reader);
        let mut reader: Box<dyn Read> = if n == 2 && magic == [0x1f, 0x8b] {
            Box::new(flate2::read::MultiGzDecoder::new(head))
        } else {
            Box::new(head)
        };
        let mut layout = Layout::default();
        let res = crate::ingest::lines_for_names(&mut reader, opts.max_line_len, |line| {
            self.line(&mut layout, line)
        });
        res.map_err(|(line, source)| IngestError::Read {
            file: name,
            line,
            source,
        })
    }

    fn line(&mut self, layout: &mut Layout, line: &[u8]) {
        if line.first() == Some(&b'{') {
            self.json_line(line);
            return;
        }
        if line.first() == Some(&b'#') {
            layout.header(line);
            return;
        }
        let fields: Vec<&[u8]> = line.split(|&b| b == layout.sep).collect();
        let get = |i: Option<usize>| {
            i.and_then(|i| fields.get(i))
                .copied()
                .filter(|v| *v != b"-" && *v != b"(empty)")
        };
        let before = self.map.len();
        if let (Some(q), Some(a)) = (get(layout.query), get(layout.answers)) {
            let q = String::from_utf8_lossy(q).into_owned();
            for ans in a.split(|&b| b == layout.set_sep) {
                if let Some(ip) = parse_addr(ans) {
                    self.add(ip, &q);
                }
            }
        }
        if let Some(ip) = get(layout.resp_h).and_then(parse_addr) {
            for f in [layout.server_name, layout.host] {
                if let Some(n) = get(f) {
                    self.add(ip, &String::from_utf8_lossy(n));
                }
            }
        }
        if self.map.len() != before {
            self.lines_used += 1;
        }
    }

    fn json_line(&mut self, line: &[u8]) {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) else {
            return;
        };
        if let (Some(q), Some(answers)) = (
            v.get("query").and_then(|q| q.as_str()),
            v.get("answers").and_then(|a| a.as_array()),
        ) {
            for a in answers.iter().filter_map(|a| a.as_str()) {
                if let Some(ip) = parse_addr(a.as_bytes()) {
                    self.add(ip, q);
                }
            }
        }
        if let Some(ip) = v
            .get("id.resp_h")
            .and_then(|r| r.as_str())
            .and_then(|r| parse_addr(r.as_bytes()))
        {
            for key in ["server_name", "host"] {
                if let Some(n) = v.get(key).and_then(|n| n.as_str()) {
                    self.add(ip, n);
                }
            }
        }
    }
}

struct Layout {
    sep: u8,
    set_sep: u8,
    query: Option<usize>,
    answers: Option<usize>,
    resp_h: Option<usize>,
    server_name: Option<usize>,
    host: Option<usize>,
}

impl Default for Layout {
    fn default() -> Self {
        Self {
            sep: b'\t',
            set_sep: b',',
            query: None,
            answers: None,
            resp_h: None,
            server_name: None,
            host: None,
        }
    }
}

impl Layout {
    fn header(&mut self, line: &[u8]) {
        let mut parts = line.split(|&b| b == self.sep);
        match parts.next() {
            Some(b"#set_separator") => {
                if let Some([c]) = parts.next() {
                    self.set_sep = *c;
                }
            }
            Some(b"#fields") => {
                let cols: Vec<&[u8]> = parts.collect();
                let find = |n: &[u8]| cols.iter().position(|c| *c == n);
                self.query = find(b"query");
                self.answers = find(b"answers");
                self.resp_h = find(b"id.resp_h");
                self.server_name = find(b"server_name");
                self.host = find(b"host");
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_from_dns_ssl_http_lines() {
        let mut n = HostNames::default();
        let mut l = Layout::default();
        n.line(
            &mut l,
            b"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\tanswers",
        );
        n.line(&mut l, b"1\tC\t10.0.0.1\t5\t10.0.0.53\t53\tUpdate.ESET.com.\t91.228.167.171,update.cdn.net,2001:db8::5");
        assert_eq!(
            n.names("91.228.167.171".parse().unwrap()),
            ["update.eset.com"]
        );
        assert_eq!(n.names("2001:db8::5".parse().unwrap()), ["update.eset.com"]);
        n.line(&mut l, b"#fields\tts\tid.resp_h\tserver_name");
        n.line(&mut l, b"1\t203.0.113.7\tc2.example.net");
        n.json_line(br#"{"id.resp_h":"203.0.113.7","host":"www.example.org"}"#);
        n.json_line(br#"{"query":"x.example.com","answers":["198.51.100.1","bad"]}"#);
        assert_eq!(
            n.names("203.0.113.7".parse().unwrap()),
            ["c2.example.net", "www.example.org"]
        );
        assert_eq!(n.names("198.51.100.1".parse().unwrap()), ["x.example.com"]);
        n.add("198.51.100.1".parse().unwrap(), "1.2.3.4");
        n.add("198.51.100.1".parse().unwrap(), "bad name.com");
        assert_eq!(n.names("198.51.100.1".parse().unwrap()).len(), 1);
    }

    #[test]
    fn bounded() {
        let mut n = HostNames::new(2);
        for i in 0..10u8 {
            n.add(IpAddr::from([198, 51, 100, i]), "a.example.com");
        }
        assert_eq!(n.len(), 2);
        for i in 0..10 {
            n.add(
                IpAddr::from([198, 51, 100, 0]),
                &format!("h{i}.example.com"),
            );
        }
        assert_eq!(
            n.names(IpAddr::from([198, 51, 100, 0])).len(),
            MAX_NAMES_PER_ADDR
        );
    }
}
