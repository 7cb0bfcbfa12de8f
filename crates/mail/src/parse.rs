//! Raw bytes → [`Message`]: pre-checks that keep hostile input bounded, then `mail-parser` for MIME, then
//! conversion into our normalised view with charset repair, HTML text and links.

use std::borrow::Cow;

use mail_parser::{Address, HeaderName, HeaderValue, MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

use crate::charset;
use crate::html;
use crate::limits::Limits;
use crate::links;
use crate::message::{
    Anomaly, AnomalyKind, Attachment, BodyKind, DateValue, HeaderField, Link, LinkSource, Mailbox,
    Message, PartInfo, ReceivedHop,
};
use crate::normalize::{normalize_for_analysis, truncate_at_char};
use crate::sniff;
use crate::transfer;

/// Parses raw message bytes into a [`Message`]. Never fails and never panics: problems become anomalies, and
/// every resource is capped by `limits`.
pub fn parse(raw: &[u8], limits: &Limits) -> Message {
    let mut anomalies = Vec::new();
    let sha256 = hex::encode(Sha256::digest(raw));
    if raw.iter().all(u8::is_ascii_whitespace) {
        anomalies.push(Anomaly::new(AnomalyKind::Empty, "the input is empty"));
        return Message {
            size: raw.len(),
            sha256,
            anomalies,
            ..Message::default()
        };
    }
    let prepared = prepare(raw, limits, &mut anomalies);
    let mut budget = Budget {
        decoded_left: limits.max_decoded_bytes,
        parts_left: limits.max_parts,
    };
    // Defence in depth: a bug in the MIME parser must cost one message a finding, never the process.
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        MessageParser::default().parse(prepared.as_ref())
    }));
    let mut message = match parsed {
        Ok(Some(parsed)) => convert(&parsed, limits, 0, &mut budget, &mut anomalies),
        Err(_) => {
            anomalies.push(Anomaly::new(
                AnomalyKind::ParserFailure,
                "the MIME parser failed on this input; only its size and hash are known",
            ));
            Message::default()
        }
        Ok(None) => {
            anomalies.push(Anomaly::new(
                AnomalyKind::NotMail,
                "no header block could be parsed",
            ));
            Message::default()
        }
    };
    message.size = raw.len();
    message.sha256 = sha256;
    dedup_anomalies(&mut anomalies);
    message.anomalies = anomalies;
    message
}

struct Budget {
    decoded_left: usize,
    parts_left: usize,
}

/// Bounds the input before the MIME parser sees it: size cap, an mbox envelope line, bare-CR line endings, a
/// header block with too many fields. Records what it changed.
fn prepare<'a>(raw: &'a [u8], limits: &Limits, anomalies: &mut Vec<Anomaly>) -> Cow<'a, [u8]> {
    let mut data: Cow<'a, [u8]> = Cow::Borrowed(raw);
    if data.len() > limits.max_message_bytes {
        anomalies.push(Anomaly::new(
            AnomalyKind::MessageSize,
            format!(
                "message of {} bytes truncated to the {}-byte limit",
                raw.len(),
                limits.max_message_bytes
            ),
        ));
        data = Cow::Borrowed(&raw[..limits.max_message_bytes]);
    }
    // Leading blank lines and an mbox envelope line are not part of the message.
    let mut start = 0;
    while start < data.len() && matches!(data[start], b'\r' | b'\n') {
        start += 1;
    }
    if data[start..].starts_with(b"From ") {
        start = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |p| start + p + 1);
    }
    if start > 0 {
        data = match data {
            Cow::Borrowed(b) => Cow::Borrowed(&b[start..]),
            Cow::Owned(v) => Cow::Owned(v[start..].to_vec()),
        };
    }
    let head = &data[..data.len().min(64 * 1024)];
    if !head.contains(&b'\n') && head.contains(&b'\r') {
        anomalies.push(Anomaly::new(
            AnomalyKind::LineEndings,
            "bare CR line endings",
        ));
        data = Cow::Owned(
            data.iter()
                .map(|&b| if b == b'\r' { b'\n' } else { b })
                .collect(),
        );
    }
    if !looks_like_header_start(&data) {
        anomalies.push(Anomaly::new(
            AnomalyKind::NotMail,
            "the input does not start with a header field",
        ));
    }
    let scan = scan_header_block(&data, limits.max_headers);
    if scan.syntax_errors > 0 {
        anomalies.push(Anomaly::new(
            AnomalyKind::HeaderSyntax,
            format!("{} header lines are not `Name: value`", scan.syntax_errors),
        ));
    }
    if let Some(cut) = scan.cut_at {
        anomalies.push(Anomaly::new(
            AnomalyKind::Headers,
            format!(
                "more than {} header fields; the rest of the header block was dropped",
                limits.max_headers
            ),
        ));
        let mut bounded = Vec::with_capacity(cut + 2 + data.len().saturating_sub(scan.body_start));
        bounded.extend_from_slice(&data[..cut]);
        bounded.extend_from_slice(b"\n\n");
        bounded.extend_from_slice(data.get(scan.body_start..).unwrap_or_default());
        data = Cow::Owned(bounded);
    }
    data
}

fn looks_like_header_start(data: &[u8]) -> bool {
    let line_end = memchr::memchr(b'\n', data).unwrap_or(data.len());
    let line = &data[..line_end.min(1000)];
    match memchr::memchr(b':', line) {
        Some(colon) if colon > 0 => line[..colon].iter().all(|&b| (33..=126).contains(&b)),
        _ => false,
    }
}

struct HeaderScan {
    syntax_errors: usize,
    /// Byte offset where the header block must be cut (too many fields).
    cut_at: Option<usize>,
    /// Byte offset where the body starts (after the blank line), or the end.
    body_start: usize,
}

/// Walks the top-level header block without allocating: counts fields and malformed lines.
fn scan_header_block(data: &[u8], max_headers: usize) -> HeaderScan {
    let mut pos = 0;
    let mut fields = 0usize;
    let mut syntax_errors = 0usize;
    let mut cut_at = None;
    while pos < data.len() {
        let end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |p| pos + p);
        let line = &data[pos..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return HeaderScan {
                syntax_errors,
                cut_at,
                body_start: (end + 1).min(data.len()),
            };
        }
        if !matches!(line[0], b' ' | b'\t') {
            fields += 1;
            if fields > max_headers && cut_at.is_none() {
                cut_at = Some(pos);
            }
            let name_ok = memchr::memchr(b':', line)
                .is_some_and(|c| c > 0 && line[..c].iter().all(|&b| (33..=126).contains(&b)));
            if !(name_ok || fields == 1 && line.starts_with(b"From ")) {
                syntax_errors += 1;
            }
        }
        pos = end + 1;
    }
    HeaderScan {
        syntax_errors,
        cut_at,
        body_start: data.len(),
    }
}

/// Converts one parsed (sub-)message. `depth` is the MIME depth of its root part.
fn convert(
    parsed: &mail_parser::Message<'_>,
    limits: &Limits,
    depth: usize,
    budget: &mut Budget,
    anomalies: &mut Vec<Anomaly>,
) -> Message {
    let raw = parsed.raw_message();
    let mut msg = Message::default();
    let root_headers = parsed
        .parts
        .first()
        .map(|p| p.headers.as_slice())
        .unwrap_or_default();
    let mut raw_8bit_headers = false;
    for header in root_headers.iter().take(limits.max_headers) {
        let value_bytes = slice(raw, header.offset_start, header.offset_end);
        if !value_bytes.is_ascii() && std::str::from_utf8(value_bytes).is_err() {
            raw_8bit_headers = true;
        }
        let mut value = unfold(&String::from_utf8_lossy(value_bytes));
        truncate_at_char(&mut value, limits.max_header_value_bytes);
        msg.headers.push(HeaderField {
            name: header.name.as_str().to_string(),
            value,
        });
    }
    if raw_8bit_headers {
        anomalies.push(Anomaly::new(
            AnomalyKind::HeaderEncoding,
            "raw 8-bit bytes in header fields that are not UTF-8 (charset guessed)",
        ));
    }

    msg.subject = parsed.subject().map(|s| s.trim().to_string());
    if raw_8bit_headers {
        repair_8bit_headers(parsed, &mut msg);
    }
    msg.from = mailboxes(parsed.from());
    msg.sender = mailboxes(parsed.sender()).into_iter().next();
    msg.reply_to = mailboxes(parsed.reply_to());
    msg.to = mailboxes(parsed.to());
    msg.cc = mailboxes(parsed.cc());
    if raw_8bit_headers {
        repair_8bit_addresses(parsed, &mut msg);
    }
    msg.return_path = parsed
        .return_address()
        .map(|a| a.trim().trim_matches(['<', '>']).to_string())
        .or_else(|| {
            msg.header("Return-Path")
                .map(|v| v.trim().trim_matches(['<', '>']).to_string())
        });
    if let Some(raw_date) = msg.header("Date") {
        let timestamp = parsed
            .date()
            .filter(|d| d.is_valid() && (1900..=9999).contains(&d.year))
            .map(|d| d.to_timestamp());
        msg.date = Some(DateValue {
            raw: raw_date.to_string(),
            timestamp,
        });
    }
    msg.message_id = parsed.message_id().map(str::to_string);
    msg.in_reply_to = text_list(parsed.in_reply_to());
    msg.references = text_list(parsed.references());
    for header in root_headers.iter().take(limits.max_headers) {
        match (&header.name, &header.value) {
            (HeaderName::Received, value) => {
                let raw_value = unfold(&String::from_utf8_lossy(slice(
                    raw,
                    header.offset_start,
                    header.offset_end,
                )));
                msg.received
                    .push(received_hop(raw_value, value.as_received()));
            }
            (name, _) if name.as_str().eq_ignore_ascii_case("Authentication-Results") => {
                let value =
                    String::from_utf8_lossy(slice(raw, header.offset_start, header.offset_end));
                if let Some(ar) = crate::authres::parse(&value) {
                    msg.authentication_results.push(ar);
                }
            }
            _ => {}
        }
    }

    let mut bodies: Vec<(BodyKind, String)> = Vec::new();
    walk_parts(
        parsed,
        limits,
        depth,
        budget,
        anomalies,
        &mut msg,
        &mut bodies,
    );
    assemble_text(&mut msg, bodies, limits, anomalies);
    msg
}

/// Walks the MIME tree of `parsed` (iteratively, with a depth bound), filling parts, attachments and bodies.
fn walk_parts(
    parsed: &mail_parser::Message<'_>,
    limits: &Limits,
    base_depth: usize,
    budget: &mut Budget,
    anomalies: &mut Vec<Anomaly>,
    msg: &mut Message,
    bodies: &mut Vec<(BodyKind, String)>,
) {
    let raw = parsed.raw_message();
    let body_ids: Vec<u32> = parsed
        .text_body
        .iter()
        .chain(parsed.html_body.iter())
        .copied()
        .collect();
    let mut stack: Vec<(u32, usize)> = vec![(0, base_depth)];
    let mut seen_bodies: Vec<u32> = Vec::new();
    while let Some((id, depth)) = stack.pop() {
        let Some(part) = parsed.parts.get(id as usize) else {
            continue;
        };
        if depth > limits.max_mime_depth {
            anomalies.push(Anomaly::new(
                AnomalyKind::MimeDepth,
                format!(
                    "MIME nesting deeper than {} levels was not analysed",
                    limits.max_mime_depth
                ),
            ));
            continue;
        }
        if budget.parts_left == 0 {
            anomalies.push(Anomaly::new(
                AnomalyKind::MimeParts,
                format!(
                    "more than {} MIME parts; the rest were not analysed",
                    limits.max_parts
                ),
            ));
            break;
        }
        budget.parts_left -= 1;
        let content_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
                None => ct.ctype().to_ascii_lowercase(),
            })
            .unwrap_or_else(|| "text/plain".to_string());
        let charset = part
            .content_type()
            .and_then(|ct| ct.attribute("charset"))
            .map(|c| c.trim().to_ascii_lowercase());
        let transfer_encoding = part
            .content_transfer_encoding()
            .map(|e| e.trim().to_ascii_lowercase());
        if part.is_encoding_problem {
            anomalies.push(Anomaly::new(
                AnomalyKind::TransferEncoding,
                format!("{content_type} part at depth {depth} could not be decoded cleanly"),
            ));
        }
        let part_index = msg.parts.len();
        let mut info = PartInfo {
            content_type: content_type.clone(),
            charset: charset.clone(),
            charset_used: None,
            transfer_encoding: transfer_encoding.clone(),
            depth,
            size: 0,
            encoding_problem: part.is_encoding_problem,
        };
        if content_type.starts_with("multipart/") && !matches!(part.body, PartType::Multipart(_)) {
            anomalies.push(Anomaly::new(
                AnomalyKind::BoundaryMissing,
                format!(
                    "{content_type} whose parts cannot be separated (missing or empty boundary)"
                ),
            ));
        }
        match &part.body {
            PartType::Multipart(children) => {
                let has_boundary = part
                    .content_type()
                    .and_then(|ct| ct.attribute("boundary"))
                    .is_some_and(|b| !b.is_empty());
                if !has_boundary {
                    anomalies.push(Anomaly::new(
                        AnomalyKind::BoundaryMissing,
                        format!("{content_type} without a (non-empty) boundary parameter"),
                    ));
                } else if !closing_boundary_present(part, raw) {
                    anomalies.push(Anomaly::new(
                        AnomalyKind::Truncated,
                        format!("{content_type} ends without its closing boundary"),
                    ));
                }
                for child in children.iter().rev() {
                    stack.push((*child, depth + 1));
                }
            }
            PartType::Text(text) | PartType::Html(text)
                if body_ids.contains(&id) && !seen_bodies.contains(&id) && !is_attachment(part) =>
            {
                seen_bodies.push(id);
                let kind = if content_type == "text/html" || matches!(part.body, PartType::Html(_))
                {
                    BodyKind::Html
                } else {
                    BodyKind::Plain
                };
                let (decoded, used) = decode_body_text(part, raw, text, charset.as_deref());
                if let Some(used) = used {
                    info.charset_used = Some(used.to_ascii_lowercase());
                    anomalies.push(Anomaly::new(
                        AnomalyKind::CharsetMismatch,
                        format!(
                            "{content_type} part declared {} decoded as {used}",
                            charset.as_deref().unwrap_or("no charset")
                        ),
                    ));
                }
                info.size = decoded.len();
                bodies.push((kind, decoded));
            }
            PartType::Message(nested) => {
                let bytes = transfer_decoded(part, raw);
                info.size = bytes.len();
                let nested_msg = if depth + 1 > limits.max_mime_depth {
                    anomalies.push(Anomaly::new(
                        AnomalyKind::MimeDepth,
                        format!(
                            "nested message deeper than {} levels was not analysed",
                            limits.max_mime_depth
                        ),
                    ));
                    None
                } else {
                    Some(Box::new(convert(
                        nested,
                        limits,
                        depth + 1,
                        budget,
                        anomalies,
                    )))
                };
                let mut attachment =
                    make_attachment(part, part_index, &content_type, &bytes, budget, anomalies);
                attachment.message = nested_msg;
                msg.attachments.push(attachment);
            }
            _ => {
                let bytes: Cow<'_, [u8]> = match &part.body {
                    PartType::Binary(b) | PartType::InlineBinary(b) => Cow::Borrowed(b.as_ref()),
                    _ => transfer_decoded(part, raw),
                };
                info.size = bytes.len();
                let attachment =
                    make_attachment(part, part_index, &content_type, &bytes, budget, anomalies);
                msg.attachments.push(attachment);
            }
        }
        msg.parts.push(info);
    }
}

fn is_attachment(part: &mail_parser::MessagePart<'_>) -> bool {
    part.content_disposition()
        .is_some_and(|d| d.is_attachment())
        && part.attachment_name().is_some()
}

/// True when the raw text after the part contains a closing boundary for it.
fn closing_boundary_present(part: &mail_parser::MessagePart<'_>, raw: &[u8]) -> bool {
    let Some(boundary) = part.content_type().and_then(|ct| ct.attribute("boundary")) else {
        return false;
    };
    let mut closing = Vec::with_capacity(boundary.len() + 4);
    closing.extend_from_slice(b"--");
    closing.extend_from_slice(boundary.as_bytes());
    closing.extend_from_slice(b"--");
    // The closing delimiter may sit just past the part's recorded end.
    let end = (part.offset_end as usize).saturating_add(closing.len() + 4);
    let body = slice(
        raw,
        part.offset_body,
        u32::try_from(end).unwrap_or(u32::MAX),
    );
    memchr::memmem::rfind(body, &closing).is_some()
}

fn make_attachment(
    part: &mail_parser::MessagePart<'_>,
    part_index: usize,
    content_type: &str,
    bytes: &[u8],
    budget: &mut Budget,
    anomalies: &mut Vec<Anomaly>,
) -> Attachment {
    let size = bytes.len();
    let sha256 = hex::encode(Sha256::digest(bytes));
    let keep = size.min(budget.decoded_left);
    let truncated = keep < size;
    if truncated {
        anomalies.push(Anomaly::new(
            AnomalyKind::DecodedBytes,
            "decoded content beyond the limit was not kept for analysis",
        ));
    }
    budget.decoded_left -= keep;
    let content = bytes[..keep].to_vec();
    Attachment {
        part_index,
        name: part
            .attachment_name()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty()),
        declared_type: content_type.to_string(),
        disposition: part
            .content_disposition()
            .map(|d| d.ctype().to_ascii_lowercase()),
        sniffed: sniff::sniff(&content),
        size,
        sha256,
        content,
        truncated,
        message: None,
    }
}

/// Decodes a body text part, repairing its charset when the declared one cannot be right.
fn decode_body_text(
    part: &mail_parser::MessagePart<'_>,
    raw: &[u8],
    parsed_text: &str,
    charset: Option<&str>,
) -> (String, Option<&'static str>) {
    let declared = charset::classify(charset);
    if matches!(declared, charset::Declared::Known(_)) && !part.is_encoding_problem {
        return (parsed_text.to_string(), None);
    }
    let bytes = transfer_decoded(part, raw);
    if charset::needs_guess(declared, &bytes)
        || (declared == charset::Declared::Iso2022Jp && charset::uses_jis_x_0212(&bytes))
    {
        let (text, used) = charset::decode_text(&bytes, charset);
        return (text, used);
    }
    (parsed_text.to_string(), None)
}

/// The part's body with its Content-Transfer-Encoding undone (no charset decoding).
fn transfer_decoded<'a>(part: &mail_parser::MessagePart<'_>, raw: &'a [u8]) -> Cow<'a, [u8]> {
    let body = slice(raw, part.offset_body, part.offset_end);
    let encoding = part
        .content_transfer_encoding()
        .map(|e| e.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        Some("base64") => Cow::Owned(transfer::decode_base64(body).0),
        Some("quoted-printable") => Cow::Owned(transfer::decode_quoted_printable(body).0),
        _ => Cow::Borrowed(body),
    }
}

fn slice(raw: &[u8], start: u32, end: u32) -> &[u8] {
    let start = (start as usize).min(raw.len());
    let end = (end as usize).clamp(start, raw.len());
    &raw[start..end]
}

/// Unfolds a raw header value: line breaks followed by whitespace become one space; trimmed.
fn unfold(value: &str) -> String {
    if !value.contains(['\r', '\n']) {
        return value.trim().to_string();
    }
    let mut out = String::with_capacity(value.len());
    for line in value.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(trimmed.trim_end());
    }
    out.trim().to_string()
}

fn mailboxes(address: Option<&Address<'_>>) -> Vec<Mailbox> {
    let Some(address) = address else {
        return Vec::new();
    };
    let to_mailbox = |a: &mail_parser::Addr<'_>| {
        Mailbox::new(
            a.name.as_ref().map(|n| n.to_string()),
            a.address.as_ref().map(|a| a.to_string()),
        )
    };
    match address {
        Address::List(list) => list.iter().take(1000).map(to_mailbox).collect(),
        Address::Group(groups) => groups
            .iter()
            .flat_map(|g| g.addresses.iter())
            .take(1000)
            .map(to_mailbox)
            .collect(),
    }
}

fn text_list(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(list) => list.iter().take(1000).map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn host_name(host: &mail_parser::Host<'_>) -> String {
    match host {
        mail_parser::Host::Name(n) => n.to_string(),
        mail_parser::Host::IpAddr(ip) => ip.to_string(),
    }
}

fn received_hop(raw: String, parsed: Option<&mail_parser::Received<'_>>) -> ReceivedHop {
    let Some(r) = parsed else {
        return ReceivedHop {
            raw,
            malformed: true,
            ..ReceivedHop::default()
        };
    };
    let from_ip = r.from_ip.or(match &r.from {
        Some(mail_parser::Host::IpAddr(ip)) => Some(*ip),
        _ => None,
    });
    let malformed = r.from.is_none() && r.by.is_none() && from_ip.is_none();
    ReceivedHop {
        raw,
        from_host: r.from.as_ref().map(host_name),
        from_ip,
        from_rdns: r.from_iprev.as_ref().map(|s| s.to_string()),
        helo: r.helo.as_ref().map(host_name),
        by: r.by.as_ref().map(host_name),
        with: r.with.map(|p| format!("{p:?}")),
        id: r.id.as_ref().map(|s| s.to_string()),
        for_addr: r.for_.as_ref().map(|s| s.to_string()),
        timestamp: r.date.filter(|d| d.is_valid()).map(|d| d.to_timestamp()),
        malformed,
    }
}

/// Re-decodes raw 8-bit header bytes with a guessed charset and re-parses the result, so that subjects written
/// in raw Shift_JIS (common in Japanese spam) come out as text.
fn repair_header(
    parsed: &mail_parser::Message<'_>,
    name: HeaderName<'_>,
) -> Option<mail_parser::Message<'static>> {
    let raw = parsed.raw_message();
    let header = parsed
        .parts
        .first()?
        .headers
        .iter()
        .find(|h| h.name == name)?;
    let bytes = slice(raw, header.offset_start, header.offset_end);
    if bytes.is_ascii() || std::str::from_utf8(bytes).is_ok() {
        return None;
    }
    let enc = charset::guess(bytes, true);
    let text = charset::decode_with(bytes, enc);
    let synthetic = format!("{}:{}\n\n", header.name.as_str(), text);
    MessageParser::default()
        .parse_headers(synthetic.as_bytes())
        .map(|m| m.into_owned())
}

fn repair_8bit_headers(parsed: &mail_parser::Message<'_>, msg: &mut Message) {
    if let Some(fixed) = repair_header(parsed, HeaderName::Subject) {
        msg.subject = fixed.subject().map(|s| s.trim().to_string());
    }
}

fn repair_8bit_addresses(parsed: &mail_parser::Message<'_>, msg: &mut Message) {
    if let Some(fixed) = repair_header(parsed, HeaderName::From) {
        msg.from = mailboxes(fixed.from());
    }
    if let Some(fixed) = repair_header(parsed, HeaderName::ReplyTo) {
        msg.reply_to = mailboxes(fixed.reply_to());
    }
    if let Some(fixed) = repair_header(parsed, HeaderName::To) {
        msg.to = mailboxes(fixed.to());
    }
}

/// Builds the text view, the HTML statistics and the link list from the body parts.
fn assemble_text(
    msg: &mut Message,
    bodies: Vec<(BodyKind, String)>,
    limits: &Limits,
    anomalies: &mut Vec<Anomaly>,
) {
    let mut text_truncated = false;
    let mut links_truncated = false;
    let mut links: Vec<Link> = Vec::new();
    for (kind, body) in bodies {
        match kind {
            BodyKind::Plain => {
                let room = limits.max_text_bytes.saturating_sub(msg.text.plain.len());
                if !msg.text.plain.is_empty() && room > 0 {
                    msg.text.plain.push('\n');
                }
                let mut body = body;
                text_truncated |= truncate_at_char(&mut body, room.saturating_sub(1));
                msg.text.plain.push_str(&body);
            }
            BodyKind::Html => {
                let room = limits
                    .max_text_bytes
                    .saturating_sub(msg.text.html_text.len());
                let ex = html::extract(&body, room, limits.max_links.saturating_sub(links.len()));
                text_truncated |= ex.text_truncated;
                links_truncated |= ex.links_truncated;
                add_html_stats(&mut msg.html, &ex.stats);
                if !msg.text.html_text.is_empty() && !ex.text.is_empty() {
                    msg.text.html_text.push('\n');
                }
                msg.text.html_text.push_str(&ex.text);
                for l in ex.links {
                    links.push(links::normalize(&l.target, l.anchor_text, l.source));
                }
            }
        }
    }
    for (text, source) in [
        (&msg.text.plain, LinkSource::Text),
        (&msg.text.html_text, LinkSource::HtmlText),
    ] {
        for raw in links::find_in_text(text) {
            if links.len() >= limits.max_links {
                links_truncated = true;
                break;
            }
            // A URL written as the visible text of a link is not a link target of its own.
            let already = links
                .iter()
                .any(|l| l.raw == raw || l.anchor_text.as_deref() == Some(raw));
            if !already {
                links.push(links::normalize(raw, None, source));
            }
        }
    }
    if text_truncated {
        anomalies.push(Anomaly::new(
            AnomalyKind::Text,
            format!(
                "body text beyond {} bytes was not analysed",
                limits.max_text_bytes
            ),
        ));
    }
    if links_truncated {
        anomalies.push(Anomaly::new(
            AnomalyKind::Links,
            format!(
                "more than {} links; the rest were not analysed",
                limits.max_links
            ),
        ));
    }
    msg.links = links;
    let analysis_source = if msg.text.plain.trim().is_empty() {
        &msg.text.html_text
    } else {
        &msg.text.plain
    };
    msg.text.normalized = normalize_for_analysis(analysis_source);
    msg.text.subject_normalized = msg
        .subject
        .as_deref()
        .map(normalize_for_analysis)
        .unwrap_or_default();
}

fn add_html_stats(total: &mut crate::message::HtmlStats, part: &crate::message::HtmlStats) {
    total.bodies = total.bodies.saturating_add(part.bodies);
    total.bytes = total.bytes.saturating_add(part.bytes);
    total.tags = total.tags.saturating_add(part.tags);
    total.anchors = total.anchors.saturating_add(part.anchors);
    total.images = total.images.saturating_add(part.images);
    total.forms = total.forms.saturating_add(part.forms);
    total.password_inputs = total.password_inputs.saturating_add(part.password_inputs);
    total.scripts = total.scripts.saturating_add(part.scripts);
    total.frames = total.frames.saturating_add(part.frames);
    total.hidden_elements = total.hidden_elements.saturating_add(part.hidden_elements);
    total.meta_refresh = total.meta_refresh.saturating_add(part.meta_refresh);
}

/// Keeps the first anomaly of each kind, with a count when it repeated.
fn dedup_anomalies(anomalies: &mut Vec<Anomaly>) {
    let mut out: Vec<(Anomaly, usize)> = Vec::new();
    for a in anomalies.drain(..) {
        match out.iter_mut().find(|(o, _)| o.kind == a.kind) {
            Some((_, n)) => *n += 1,
            None => out.push((a, 1)),
        }
    }
    anomalies.extend(out.into_iter().map(|(mut a, n)| {
        if n > 1 {
            a.detail = format!("{} (and {} more)", a.detail, n - 1);
        }
        a
    }));
}

/// Parses a message read by a [`crate::source::Reader`], recording what the reader had to cut.
pub fn parse_item(item: &crate::source::MailItem, limits: &Limits) -> Message {
    let mut message = parse(&item.bytes, limits);
    if let Some(original) = item.original_size {
        message.size = usize::try_from(original).unwrap_or(usize::MAX);
        if !message.has_anomaly(AnomalyKind::MessageSize) {
            message.anomalies.push(Anomaly::new(
                AnomalyKind::MessageSize,
                format!(
                    "message of {original} bytes truncated to {} bytes",
                    item.bytes.len()
                ),
            ));
        }
    }
    if item.long_lines {
        message.anomalies.push(Anomaly::new(
            AnomalyKind::LineLength,
            "lines longer than the line limit were cut",
        ));
    }
    message
}
