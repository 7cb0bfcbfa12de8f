//! Zeek's TSV log format: `#`-header lines (`#separator`, `#unset_field`, `#empty_field`, `#path`, `#fields`,
//! `#types`, `#close`) followed by one record per line. Fields are found by name from `#fields`, so column order,
//! extra columns (`_node_name`, `label`, …) and missing optional columns are all fine.

use super::Malformed;
use super::values::{parse_addr, parse_bool, parse_count, parse_decimal, parse_port};
use crate::record::{ConnRecord, Proto, Services};

/// The conn.log fields the analytics read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Field {
    Ts,
    OrigH,
    OrigP,
    RespH,
    RespP,
    Proto,
    Service,
    Duration,
    OrigBytes,
    RespBytes,
    LocalOrig,
    LocalResp,
    OrigIpBytes,
    RespIpBytes,
}

const FIELD_COUNT: usize = 14;

impl Field {
    fn from_name(name: &[u8]) -> Option<Self> {
        Some(match name {
            b"ts" => Self::Ts,
            b"id.orig_h" => Self::OrigH,
            b"id.orig_p" => Self::OrigP,
            b"id.resp_h" => Self::RespH,
            b"id.resp_p" => Self::RespP,
            b"proto" => Self::Proto,
            b"service" => Self::Service,
            b"duration" => Self::Duration,
            b"orig_bytes" => Self::OrigBytes,
            b"resp_bytes" => Self::RespBytes,
            b"local_orig" => Self::LocalOrig,
            b"local_resp" => Self::LocalResp,
            b"orig_ip_bytes" => Self::OrigIpBytes,
            b"resp_ip_bytes" => Self::RespIpBytes,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Ts => "ts",
            Self::OrigH => "id.orig_h",
            Self::OrigP => "id.orig_p",
            Self::RespH => "id.resp_h",
            Self::RespP => "id.resp_p",
            Self::Proto => "proto",
            Self::Service => "service",
            Self::Duration => "duration",
            Self::OrigBytes => "orig_bytes",
            Self::RespBytes => "resp_bytes",
            Self::LocalOrig => "local_orig",
            Self::LocalResp => "local_resp",
            Self::OrigIpBytes => "orig_ip_bytes",
            Self::RespIpBytes => "resp_ip_bytes",
        }
    }
}

/// Header state of one TSV log (a file may hold several logs back to back; each `#fields` starts a new layout).
#[derive(Debug, Clone)]
pub struct TsvLayout {
    separator: u8,
    unset: Vec<u8>,
    empty: Vec<u8>,
    /// Column index → which field it holds (`None` = ignored column). Empty until `#fields` is seen.
    columns: Vec<Option<Field>>,
}

impl Default for TsvLayout {
    fn default() -> Self {
        Self {
            separator: b'\t',
            unset: b"-".to_vec(),
            empty: b"(empty)".to_vec(),
            columns: Vec::new(),
        }
    }
}

impl TsvLayout {
    /// Whether a `#fields` line has been seen.
    pub fn has_fields(&self) -> bool {
        !self.columns.is_empty()
    }

    /// Apply one `#…` header line. `Ok(false)` for comment lines that are not part of the format.
    pub fn header_line(&mut self, line: &[u8]) -> Result<(), Malformed> {
        // `#separator` uses a space (its value is the separator, escaped); all other headers use the separator.
        if let Some(rest) = line.strip_prefix(b"#separator") {
            let value = rest.trim_ascii();
            self.separator = unescape_separator(value).ok_or_else(|| {
                Malformed::BadHeader(format!(
                    "unsupported #separator {:?}",
                    String::from_utf8_lossy(value)
                ))
            })?;
            // A new log starts: forget the previous layout.
            self.columns.clear();
            return Ok(());
        }
        let mut parts = line.split(|&b| b == self.separator);
        let key = parts.next().unwrap_or_default();
        match key {
            b"#unset_field" => self.unset = parts.next().unwrap_or_default().to_vec(),
            b"#empty_field" => self.empty = parts.next().unwrap_or_default().to_vec(),
            b"#path" => {
                let path = parts.next().unwrap_or_default();
                if path != b"conn" {
                    return Err(Malformed::NotConn(
                        String::from_utf8_lossy(path).chars().take(64).collect(),
                    ));
                }
            }
            b"#fields" => {
                self.columns = parts.map(Field::from_name).collect();
                for required in [Field::Ts, Field::OrigH, Field::RespH] {
                    if !self.columns.contains(&Some(required)) {
                        self.columns.clear();
                        return Err(Malformed::MissingField(required.name()));
                    }
                }
            }
            // #set_separator, #open, #close, #types and free comments carry nothing we need.
            _ => {}
        }
        Ok(())
    }

    /// Parse one record line.
    pub fn parse(&self, line: &[u8]) -> Result<ConnRecord, Malformed> {
        let mut slots: [&[u8]; FIELD_COUNT] = [b""; FIELD_COUNT];
        let mut present = 0u16;
        let mut start = 0;
        let mut col = 0usize;
        // Zeek fields are short (a few bytes on average): a plain byte loop beats starting a SIMD search per field.
        let sep = self.separator;
        let mut take = |start: usize, end: usize, col: usize| {
            if let Some(Some(field)) = self.columns.get(col) {
                let i = *field as usize;
                slots[i] = &line[start..end];
                present |= 1 << i;
            }
        };
        for (pos, &b) in line.iter().enumerate() {
            if b == sep {
                take(start, pos, col);
                col += 1;
                start = pos + 1;
            }
        }
        take(start, line.len(), col);
        col += 1;
        if col != self.columns.len() {
            return Err(Malformed::FieldCount {
                expected: self.columns.len(),
                found: col,
            });
        }
        let get = |f: Field| -> Option<&[u8]> {
            let v = slots[f as usize];
            if present & (1 << f as usize) == 0
                || v == self.unset.as_slice()
                || v == self.empty.as_slice()
            {
                None
            } else {
                Some(v)
            }
        };
        let required = |f: Field| get(f).ok_or(Malformed::Unset(f.name()));
        let bad =
            |f: Field, what: &'static str| Malformed::bad_value(f.name(), what, slots[f as usize]);

        let ts = parse_decimal(required(Field::Ts)?).ok_or_else(|| bad(Field::Ts, "time"))?;
        let orig_h =
            parse_addr(required(Field::OrigH)?).ok_or_else(|| bad(Field::OrigH, "address"))?;
        let resp_h =
            parse_addr(required(Field::RespH)?).ok_or_else(|| bad(Field::RespH, "address"))?;
        let port = |f: Field| {
            get(f)
                .map_or(Some(0), parse_port)
                .ok_or_else(|| bad(f, "port"))
        };
        let count = |f: Field| {
            get(f)
                .map_or(Some(0), parse_count)
                .ok_or_else(|| bad(f, "count"))
        };
        let flag = |f: Field| {
            get(f)
                .map(|v| parse_bool(v).ok_or_else(|| bad(f, "bool")))
                .transpose()
        };
        Ok(ConnRecord {
            ts,
            orig_h,
            orig_p: port(Field::OrigP)?,
            resp_h,
            resp_p: port(Field::RespP)?,
            proto: get(Field::Proto).map_or(Proto::Other, Proto::from_bytes),
            service: get(Field::Service).map_or(Services::default(), Services::from_bytes),
            duration: get(Field::Duration)
                .map_or(Some(0.0), parse_decimal)
                .ok_or_else(|| bad(Field::Duration, "interval"))?,
            orig_bytes: count(Field::OrigBytes)?,
            resp_bytes: count(Field::RespBytes)?,
            local_orig: flag(Field::LocalOrig)?,
            local_resp: flag(Field::LocalResp)?,
            orig_ip_bytes: count(Field::OrigIpBytes)?,
            resp_ip_bytes: count(Field::RespIpBytes)?,
        })
    }
}

/// `\x09` → tab; a single literal byte is accepted as is.
fn unescape_separator(v: &[u8]) -> Option<u8> {
    match v {
        [b'\\', b'x', h, l] => {
            let hex = |c: u8| (c as char).to_digit(16);
            u8::try_from(hex(*h)? * 16 + hex(*l)?).ok()
        }
        [c] if *c != b'\n' => Some(*c),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &[&str] = &[
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tconn",
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents",
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]",
    ];

    fn layout() -> TsvLayout {
        let mut l = TsvLayout::default();
        for h in HEADER {
            l.header_line(h.as_bytes()).unwrap();
        }
        l
    }

    #[test]
    fn parses_a_real_line() {
        let line = b"1517336042.090842\tCi85EB2YjUI9a2eql6\t10.55.182.100\t14291\t10.233.233.5\t80\ttcp\thttp\t3.000158\t10\t20\tS0\tT\tF\t0\tS\t2\t104\t0\t0\t(empty)";
        let r = layout().parse(line).unwrap();
        assert_eq!(r.ts, 1_517_336_042.090_842);
        assert_eq!(r.orig_h.to_string(), "10.55.182.100");
        assert_eq!((r.orig_p, r.resp_p), (14291, 80));
        assert_eq!(r.proto, Proto::Tcp);
        assert!(r.service.has(Services::HTTP));
        assert_eq!((r.orig_bytes, r.resp_bytes, r.orig_ip_bytes), (10, 20, 104));
        assert_eq!((r.local_orig, r.local_resp), (Some(true), Some(false)));
    }

    #[test]
    fn unset_values_default() {
        let line = b"302.774061\tC\t192.168.1.115\t49162\t41.108.179.197\t1177\ttcp\t-\t-\t-\t-\tS0\t-\t-\t0\tS\t1\t52\t0\t0\t(empty)";
        let r = layout().parse(line).unwrap();
        assert_eq!((r.duration, r.orig_bytes, r.local_orig), (0.0, 0, None));
        assert_eq!(r.service, Services::default());
    }

    #[test]
    fn malformed_lines_are_classified() {
        let l = layout();
        assert!(matches!(
            l.parse(b"1\t2\t3"),
            Err(Malformed::FieldCount {
                expected: 21,
                found: 3
            })
        ));
        let bad_ts = b"yesterday\tC\t10.0.0.1\t1\t8.8.8.8\t53\tudp\tdns\t0.1\t1\t1\tSF\tT\tF\t0\tDd\t1\t1\t1\t1\t-";
        let err = l.parse(bad_ts).unwrap_err();
        assert_eq!(err.to_string(), "field ts: invalid time \"yesterday\"");
        let bad_bytes = b"1.0\tC\t10.0.0.1\t1\t8.8.8.8\t53\tudp\tdns\t0.1\tmany\t1\tSF\tT\tF\t0\tDd\t1\t1\t1\t1\t-";
        assert!(matches!(
            l.parse(bad_bytes),
            Err(Malformed::BadValue {
                field: "orig_bytes",
                ..
            })
        ));
        let unset_ip =
            b"1.0\tC\t-\t1\t8.8.8.8\t53\tudp\tdns\t0.1\t1\t1\tSF\tT\tF\t0\tDd\t1\t1\t1\t1\t-";
        assert!(matches!(
            l.parse(unset_ip),
            Err(Malformed::Unset("id.orig_h"))
        ));
    }

    #[test]
    fn header_checks() {
        let mut l = TsvLayout::default();
        assert!(matches!(l.header_line(b"#path\tdns"), Err(Malformed::NotConn(p)) if p == "dns"));
        assert!(matches!(
            l.header_line(b"#fields\tts\tuid"),
            Err(Malformed::MissingField("id.orig_h"))
        ));
        assert!(!l.has_fields());
        assert!(l.header_line(b"#separator ,").is_ok());
        assert!(l.header_line(b"#fields,ts,id.orig_h,id.resp_h").is_ok());
        let r = l.parse(b"5.5,10.0.0.1,1.1.1.1").unwrap();
        assert_eq!(r.resp_h.to_string(), "1.1.1.1");
        assert!(l.header_line(b"#separator \\xZZ").is_err());
    }
}
