//! Static DNS records (`--dns-records FILE`): an RFC 1035 master file (zone-file syntax, parsed by hickory) served
//! by an in-process resolver endpoint on the loopback interface, so that mail-auth's real DNS code path runs
//! unchanged while nothing leaves the host. Names in the file answer with their records; a name in the file
//! asked for a type it lacks answers NODATA; every other name answers NXDOMAIN. Leftmost `*` wildcards and CNAME
//! chains inside the file are followed.

use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use mail_auth::hickory_resolver::proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use mail_auth::hickory_resolver::proto::rr::{LowerName, Name, RData, Record, RecordType};
use mail_auth::hickory_resolver::proto::serialize::txt::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

/// Problems with a record file.
#[derive(Debug, thiserror::Error)]
pub enum ZoneError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid master file.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// hickory's description.
        message: String,
    },
    /// The loopback endpoint could not be opened.
    #[error("opening the local DNS endpoint for the record file: {0}")]
    Bind(#[source] std::io::Error),
}

/// Largest record file read.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Longest CNAME chain followed.
const MAX_CNAME_CHAIN: usize = 8;

/// The records of a file, indexed for answering.
#[derive(Debug, Default)]
pub struct StaticZone {
    records: HashMap<(LowerName, RecordType), Vec<Record>>,
    names: HashSet<LowerName>,
}

impl StaticZone {
    /// Reads and parses a record file.
    pub fn load(path: &Path) -> Result<StaticZone, ZoneError> {
        let display = path.display().to_string();
        let read = |source| ZoneError::Read {
            path: display.clone(),
            source,
        };
        let size = std::fs::metadata(path).map_err(read)?.len();
        if size > MAX_FILE_BYTES {
            return Err(ZoneError::Parse {
                path: display,
                message: format!("{size} bytes is more than the {MAX_FILE_BYTES}-byte limit"),
            });
        }
        let text = std::fs::read_to_string(path).map_err(read)?;
        StaticZone::parse(&text, Some(path)).map_err(|message| ZoneError::Parse {
            path: display,
            message,
        })
    }

    /// Parses master-file text. Names without a trailing dot are relative to `$ORIGIN` (the root when unset);
    /// records without a TTL take `$TTL` (3600 when unset).
    pub fn parse(text: &str, path: Option<&Path>) -> Result<StaticZone, String> {
        let mut input = String::with_capacity(text.len() + 16);
        input.push_str("$TTL 3600\n");
        input.push_str(&join_parentheses(text));
        input.push('\n');
        let parser = Parser::new(input, path.map(Path::to_path_buf), Some(Name::root()));
        let (_, sets) = parser.parse().map_err(|e| e.to_string())?;
        let mut zone = StaticZone::default();
        for (key, set) in sets {
            zone.names.insert(key.name.clone());
            zone.records.insert(
                (key.name.clone(), key.record_type),
                set.records_without_rrsigs().cloned().collect(),
            );
        }
        Ok(zone)
    }

    /// Number of record sets.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when the file held no records.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Answers one question: `(records, rcode)`.
    pub fn answer(&self, name: &Name, rtype: RecordType) -> (Vec<Record>, ResponseCode) {
        let mut answers = Vec::new();
        let mut current = name.clone();
        for _ in 0..MAX_CNAME_CHAIN {
            let Some(owner) = self.owner_for(&current) else {
                return if answers.is_empty() {
                    (answers, ResponseCode::NXDomain)
                } else {
                    (answers, ResponseCode::NoError)
                };
            };
            if let Some(records) = self.records.get(&(owner.clone(), rtype)) {
                answers.extend(records.iter().map(|r| with_name(r, &current)));
                return (answers, ResponseCode::NoError);
            }
            if rtype != RecordType::CNAME
                && let Some(cname) = self.records.get(&(owner, RecordType::CNAME))
                && let Some(first) = cname.first()
                && let RData::CNAME(target) = &first.data
            {
                answers.push(with_name(first, &current));
                current = target.0.clone();
                continue;
            }
            return (answers, ResponseCode::NoError);
        }
        (answers, ResponseCode::ServFail)
    }

    /// The owner name in the file that answers for `name`: itself, or the closest `*.` wildcard above it.
    fn owner_for(&self, name: &Name) -> Option<LowerName> {
        let lower = LowerName::new(name);
        if self.names.contains(&lower) {
            return Some(lower);
        }
        let mut parent = name.base_name();
        loop {
            if let Ok(wild) = Name::from_ascii("*").and_then(|w| w.append_domain(&parent)) {
                let wild = LowerName::new(&wild);
                if self.names.contains(&wild) {
                    return Some(wild);
                }
            }
            if parent.is_root() {
                return None;
            }
            parent = parent.base_name();
        }
    }
}

/// Joins parenthesised multi-line records onto one line and drops comments, outside quoted strings. hickory's lexer
/// splits quoted strings at spaces inside parentheses, which breaks the usual multi-line DKIM key layout.
fn join_parentheses(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    let mut in_quote = false;
    let mut escaped = false;
    let mut in_comment = false;
    for c in text.chars() {
        if in_comment {
            if c == '\n' {
                in_comment = false;
                out.push(if depth > 0 { ' ' } else { '\n' });
            }
            continue;
        }
        if in_quote {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quote = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_quote = true;
                out.push(c);
            }
            ';' => in_comment = true,
            '(' => {
                depth += 1;
                out.push(' ');
            }
            ')' => {
                depth = depth.saturating_sub(1);
                out.push(' ');
            }
            '\n' if depth > 0 => out.push(' '),
            '\r' => {}
            _ => out.push(c),
        }
    }
    out
}

fn with_name(record: &Record, name: &Name) -> Record {
    let mut r = record.clone();
    r.name = name.clone();
    r
}

/// Builds the response to a query message (wire format in, wire format out); `max_len` is the transport's limit
/// (the client's EDNS payload size for UDP); larger answers are sent truncated so the client retries over TCP.
pub fn respond(zone: &StaticZone, request: &[u8], max_len: Option<usize>) -> Option<Vec<u8>> {
    let request = Message::from_vec(request).ok()?;
    if request.metadata.message_type != MessageType::Query {
        return None;
    }
    let mut response = Message::response(request.metadata.id, request.metadata.op_code);
    response.metadata.recursion_desired = request.metadata.recursion_desired;
    response.metadata.recursion_available = true;
    response.metadata.authoritative = true;
    response.queries = request.queries.clone();
    if request.metadata.op_code != OpCode::Query || request.queries.len() != 1 {
        response.metadata.response_code = ResponseCode::NotImp;
    } else if let Some(q) = request.queries.first() {
        let (answers, code) = zone.answer(&q.name, q.query_type);
        response.metadata.response_code = code;
        response.answers = answers;
    }
    let limit = match (&request.edns, max_len) {
        (_, None) => usize::MAX,
        (Some(edns), Some(udp)) => usize::from(edns.max_payload()).clamp(512, udp),
        (None, Some(_)) => 512,
    };
    if let Some(edns) = &request.edns {
        let mut ours = Edns::new();
        ours.set_max_payload(edns.max_payload().max(512));
        response.edns = Some(ours);
    }
    let bytes = match response.to_vec() {
        Ok(bytes) => bytes,
        Err(_) => {
            // A record the wire format cannot carry (e.g. a TXT string over 255 bytes): fail fast, don't go silent.
            let mut failure = Message::response(request.metadata.id, request.metadata.op_code);
            failure.queries = request.queries.clone();
            failure.metadata.response_code = ResponseCode::ServFail;
            return failure.to_vec().ok();
        }
    };
    if bytes.len() <= limit {
        return Some(bytes);
    }
    let mut truncated = response.truncate();
    truncated.metadata.truncation = true;
    truncated.to_vec().ok()
}

/// A running loopback endpoint (UDP and TCP on the same port) answering from a [`StaticZone`].
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// Where it listens.
    pub addr: SocketAddr,
}

/// Starts the endpoint on the current tokio runtime (`handle`); it runs as long as the runtime does.
pub fn serve(
    zone: Arc<StaticZone>,
    handle: &tokio::runtime::Handle,
) -> Result<Endpoint, ZoneError> {
    let (udp, tcp) = handle.block_on(async {
        let mut last_err = None;
        for _ in 0..16 {
            let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
                .await
                .map_err(ZoneError::Bind)?;
            let addr = udp.local_addr().map_err(ZoneError::Bind)?;
            match TcpListener::bind(addr).await {
                Ok(tcp) => return Ok((udp, tcp)),
                Err(e) => last_err = Some(e),
            }
        }
        Err(ZoneError::Bind(last_err.unwrap_or_else(|| {
            std::io::Error::other("no free loopback port")
        })))
    })?;
    let addr = udp.local_addr().map_err(ZoneError::Bind)?;
    let udp_zone = zone.clone();
    handle.spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((n, peer)) = udp.recv_from(&mut buf).await else {
                continue;
            };
            if let Some(reply) = buf.get(..n).and_then(|q| respond(&udp_zone, q, Some(4096))) {
                let _ = udp.send_to(&reply, peer).await;
            }
        }
    });
    handle.spawn(async move {
        loop {
            let Ok((mut stream, _)) = tcp.accept().await else {
                continue;
            };
            let zone = zone.clone();
            tokio::spawn(async move {
                loop {
                    let mut len = [0u8; 2];
                    if stream.read_exact(&mut len).await.is_err() {
                        return;
                    }
                    let mut query = vec![0u8; usize::from(u16::from_be_bytes(len))];
                    if stream.read_exact(&mut query).await.is_err() {
                        return;
                    }
                    let Some(reply) = respond(&zone, &query, None) else {
                        return;
                    };
                    let Ok(reply_len) = u16::try_from(reply.len()) else {
                        return;
                    };
                    if stream.write_all(&reply_len.to_be_bytes()).await.is_err()
                        || stream.write_all(&reply).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    Ok(Endpoint { addr })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_auth::hickory_resolver::proto::op::Query;

    const ZONE: &str = r#"
$ORIGIN example.org.
@                 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc            IN TXT "v=DMARC1; p=reject"
sel._domainkey 300 IN TXT ( "v=DKIM1; k=rsa; "
                            "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ" )
mail              IN A    192.0.2.1
                  IN AAAA 2001:db8::1
@                 IN MX   10 mail
*.wild            IN A    127.0.0.2
alias             IN CNAME mail
7.2.0.192.in-addr.arpa. IN PTR mail.example.org.
"#;

    fn q(zone: &StaticZone, name: &str, t: RecordType) -> (Vec<Record>, ResponseCode) {
        zone.answer(&Name::from_ascii(name).unwrap(), t)
    }

    #[test]
    fn answers_nodata_and_nxdomain() {
        let zone = StaticZone::parse(ZONE, None).unwrap();
        let (a, code) = q(&zone, "example.org.", RecordType::TXT);
        assert_eq!((a.len(), code), (1, ResponseCode::NoError));
        let (a, _) = q(&zone, "sel._domainkey.example.org.", RecordType::TXT);
        let RData::TXT(txt) = &a[0].data else {
            panic!()
        };
        assert_eq!(txt.txt_data.len(), 2, "multi-string TXT kept");
        assert_eq!(&*txt.txt_data[0], b"v=DKIM1; k=rsa; ");
        assert_eq!(
            &*txt.txt_data[1],
            b"p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ"
        );
        assert_eq!(q(&zone, "mail.example.org.", RecordType::AAAA).0.len(), 1);
        assert_eq!(q(&zone, "example.org.", RecordType::MX).0.len(), 1);
        let (a, code) = q(&zone, "mail.example.org.", RecordType::TXT);
        assert_eq!((a.len(), code), (0, ResponseCode::NoError), "NODATA");
        let (_, code) = q(&zone, "nothere.example.org.", RecordType::TXT);
        assert_eq!(code, ResponseCode::NXDomain);
        let (a, _) = q(&zone, "1.2.3.4.wild.example.org.", RecordType::A);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].name.to_ascii(), "1.2.3.4.wild.example.org.");
        let (a, _) = q(&zone, "alias.example.org.", RecordType::A);
        assert_eq!(a.len(), 2, "CNAME then A");
        assert_eq!(
            q(&zone, "7.2.0.192.in-addr.arpa.", RecordType::PTR).0.len(),
            1
        );
    }

    #[test]
    fn wire_round_trip_and_truncation() {
        let zone = StaticZone::parse(ZONE, None).unwrap();
        let mut query = Message::query();
        query.add_query(Query::query(
            Name::from_ascii("_dmarc.example.org.").unwrap(),
            RecordType::TXT,
        ));
        let reply = respond(&zone, &query.to_vec().unwrap(), Some(4096)).unwrap();
        let reply = Message::from_vec(&reply).unwrap();
        assert_eq!(reply.answers.len(), 1);
        assert_eq!(reply.metadata.id, query.metadata.id);
        // Garbage in: no answer, no panic.
        assert!(respond(&zone, b"\x00\x01garbage", Some(512)).is_none());
        // A big record set over UDP without EDNS is truncated.
        let text: String = (0..4)
            .map(|i| format!("big.example. IN TXT \"{i}{}\"\n", "a".repeat(250)))
            .collect();
        let zone = StaticZone::parse(&text, None).unwrap();
        let mut query = Message::query();
        query.add_query(Query::query(
            Name::from_ascii("big.example.").unwrap(),
            RecordType::TXT,
        ));
        let reply = respond(&zone, &query.to_vec().unwrap(), Some(4096)).unwrap();
        assert!(Message::from_vec(&reply).unwrap().metadata.truncation);
        let reply = respond(&zone, &query.to_vec().unwrap(), None).unwrap();
        assert_eq!(Message::from_vec(&reply).unwrap().answers.len(), 4);
    }

    #[test]
    fn bad_files_are_errors() {
        assert!(StaticZone::parse("example.org. IN BOGUSTYPE x", None).is_err());
        assert!(StaticZone::parse("", None).unwrap().is_empty());
    }
}
