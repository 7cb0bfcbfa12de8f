//! The parsed, normalised view of one e-mail message and its parts.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::sniff::FileType;

/// One parsed message. Built by [`crate::parse`]; every collection in it is bounded by [`crate::Limits`].
///
/// Strings hold decoded Unicode (RFC 2047/2231 words and legacy charsets already decoded). Original spellings are
/// kept where they are evidence (`headers`, `Link::raw`); `TextBody::normalized` is the folded copy for analysis.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Message {
    /// Size of the raw input in bytes (before any truncation).
    pub size: usize,
    /// SHA-256 of the raw input, lower-case hex: the message's reference in logs and the quarantine.
    pub sha256: String,
    /// Top-level header fields in order, unfolded, values as raw text (not RFC 2047-decoded).
    pub headers: Vec<HeaderField>,
    /// Decoded Subject.
    pub subject: Option<String>,
    /// From mailboxes (normally one).
    pub from: Vec<Mailbox>,
    /// Sender mailbox.
    pub sender: Option<Mailbox>,
    /// Reply-To mailboxes.
    pub reply_to: Vec<Mailbox>,
    /// Return-Path address (without angle brackets; empty for the null sender).
    pub return_path: Option<String>,
    /// To mailboxes.
    pub to: Vec<Mailbox>,
    /// Cc mailboxes.
    pub cc: Vec<Mailbox>,
    /// Date header, raw and parsed.
    pub date: Option<DateValue>,
    /// Message-ID without angle brackets, as parsed.
    pub message_id: Option<String>,
    /// In-Reply-To message ids.
    pub in_reply_to: Vec<String>,
    /// References message ids.
    pub references: Vec<String>,
    /// Received hops, topmost (most recent) first.
    pub received: Vec<ReceivedHop>,
    /// Authentication-Results header fields, topmost first.
    pub authentication_results: Vec<AuthenticationResults>,
    /// Body text: plain, from HTML, and normalised for analysis.
    pub text: TextBody,
    /// Counts describing the HTML bodies (zero when there is no HTML).
    pub html: HtmlStats,
    /// Links found in the text and HTML bodies, in order of appearance, de-duplicated by raw text and source.
    pub links: Vec<Link>,
    /// Attachments and non-body parts (including nested messages), in MIME order.
    pub attachments: Vec<Attachment>,
    /// Summary of every MIME part that was analysed, in MIME order.
    pub parts: Vec<PartInfo>,
    /// Parse anomalies: structural problems and limits that were hit.
    pub anomalies: Vec<Anomaly>,
}

impl Message {
    /// Value of the first header field with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// Values of every header field with this name (case-insensitive), in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// The first From mailbox, the identity most users see.
    pub fn from_mailbox(&self) -> Option<&Mailbox> {
        self.from.first()
    }

    /// True if an anomaly of this kind was recorded.
    pub fn has_anomaly(&self, kind: AnomalyKind) -> bool {
        self.anomalies.iter().any(|a| a.kind == kind)
    }
}

/// One header field, unfolded. The value is the raw text (lossy UTF-8), trimmed, cut at the header value limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderField {
    /// Field name as written.
    pub name: String,
    /// Unfolded raw value.
    pub value: String,
}

/// A mailbox: display name and address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    /// Decoded display name, if any.
    pub name: Option<String>,
    /// Address as written (local part case kept).
    pub address: Option<String>,
    /// Lower-case domain of the address (IDNA to ASCII where possible).
    pub domain: Option<String>,
}

impl Mailbox {
    /// Builds a mailbox, deriving the lower-case domain from the address.
    pub fn new(name: Option<String>, address: Option<String>) -> Mailbox {
        let name = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        let address = address
            .map(|a| a.trim().trim_matches(['<', '>']).to_string())
            .filter(|a| !a.is_empty());
        let domain = address.as_deref().and_then(domain_of);
        Mailbox {
            name,
            address,
            domain,
        }
    }
}

/// Lower-case ASCII domain of an address (`user@Example.COM` → `example.com`), IDNA-encoded when it is Unicode.
pub fn domain_of(address: &str) -> Option<String> {
    let (_, domain) = address.rsplit_once('@')?;
    let domain = domain
        .trim()
        .trim_end_matches('.')
        .trim_matches(['[', ']', '>']);
    if domain.is_empty() {
        return None;
    }
    if domain.is_ascii() {
        Some(domain.to_ascii_lowercase())
    } else {
        idna::domain_to_ascii(domain)
            .ok()
            .or_else(|| Some(domain.to_lowercase()))
    }
}

/// A date header: the raw text and, when it parses, Unix seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateValue {
    /// Raw header text.
    pub raw: String,
    /// Parsed time in Unix seconds, `None` when the text is not a valid RFC 5322 date.
    pub timestamp: Option<i64>,
}

/// One `Received` hop.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedHop {
    /// Raw header value (unfolded).
    pub raw: String,
    /// Name the client gave or the relay recorded in `from`.
    pub from_host: Option<String>,
    /// Client address recorded by the relay.
    pub from_ip: Option<IpAddr>,
    /// Reverse DNS name recorded for the client.
    pub from_rdns: Option<String>,
    /// HELO/EHLO argument, when recorded separately.
    pub helo: Option<String>,
    /// Relay that added the header.
    pub by: Option<String>,
    /// Protocol (`ESMTP`, `ESMTPS`, `LMTP`, …).
    pub with: Option<String>,
    /// Relay's queue id.
    pub id: Option<String>,
    /// Envelope recipient recorded by the relay.
    pub for_addr: Option<String>,
    /// Time stamp of the hop, Unix seconds.
    pub timestamp: Option<i64>,
    /// True when the hop did not parse as a `Received` field.
    pub malformed: bool,
}

/// One `Authentication-Results` header (RFC 8601).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticationResults {
    /// The authserv-id: which server wrote it.
    pub authserv_id: String,
    /// Method results in order.
    pub results: Vec<AuthResult>,
}

/// One method result of an `Authentication-Results` header, e.g. `spf=pass smtp.mailfrom=example.com`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthResult {
    /// Method, lower-case (`spf`, `dkim`, `dmarc`, `arc`, `iprev`, …).
    pub method: String,
    /// Result, lower-case (`pass`, `fail`, `softfail`, `none`, …).
    pub result: String,
    /// Properties such as `smtp.mailfrom`, `header.d`, `header.from`.
    pub properties: Vec<(String, String)>,
}

/// Body text of the message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextBody {
    /// Concatenated text/plain bodies, decoded.
    pub plain: String,
    /// Text extracted from the HTML bodies.
    pub html_text: String,
    /// The text used for analysis: plain if present, else HTML text; NFKC-normalised and lower-cased.
    pub normalized: String,
    /// NFKC-normalised, lower-cased subject.
    pub subject_normalized: String,
}

/// Counts describing the HTML bodies, for detectors and model features.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HtmlStats {
    /// Number of HTML body parts.
    pub bodies: u32,
    /// Total bytes of HTML.
    pub bytes: u64,
    /// Tags seen.
    pub tags: u32,
    /// `<a href>` links.
    pub anchors: u32,
    /// `<img>` tags.
    pub images: u32,
    /// `<form>` tags.
    pub forms: u32,
    /// `<input type=password>` fields.
    pub password_inputs: u32,
    /// `<script>` elements.
    pub scripts: u32,
    /// `<iframe>`/`<frame>`/`<object>`/`<embed>` elements.
    pub frames: u32,
    /// Elements styled invisible (`display:none`, `visibility:hidden`, `font-size:0`, zero size, `hidden` attr).
    pub hidden_elements: u32,
    /// `<meta http-equiv=refresh>` elements.
    pub meta_refresh: u32,
}

/// Where a link was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkSource {
    /// URL written in plain text.
    Text,
    /// `href` of `<a>` or `<area>`.
    HtmlHref,
    /// `src` of `<img>`, `<iframe>`, `<script>`, …
    HtmlSrc,
    /// `action` of `<form>`.
    HtmlForm,
    /// URL of a `<meta http-equiv=refresh>`.
    HtmlMetaRefresh,
    /// URL written as text inside HTML (not a link target).
    HtmlText,
    /// Found inside an attachment (PDF `/URI`, Office relationship, …).
    Attachment,
}

/// A link with where it was found and what its anchor text shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The URL as written, HTML entities decoded, whitespace trimmed (cut at 2,048 bytes).
    pub raw: String,
    /// Normalised absolute URL (WHATWG), when it parses.
    pub url: Option<String>,
    /// Scheme, lower-case (`http`, `https`, `mailto`, `data`, `javascript`, …; `http` is assumed for `www.` text).
    pub scheme: String,
    /// Host in lower-case ASCII (punycode for IDNs; dotted form for IP literals).
    pub host: Option<String>,
    /// Host as written in the raw URL (before IDNA/IP normalisation), for evidence.
    pub host_raw: Option<String>,
    /// Registered domain (public suffix + 1) of a host name.
    pub registered_domain: Option<String>,
    /// The host as an IP address, when the host is an IP literal in any notation (dotted, decimal, hex, octal).
    pub ip: Option<IpAddr>,
    /// True when the URL carries userinfo (`https://bank.example@evil.example/`).
    pub has_userinfo: bool,
    /// Visible anchor text of an HTML link (normalised whitespace), if any.
    pub anchor_text: Option<String>,
    /// Where the link was found.
    pub source: LinkSource,
}

/// What kind of body a text part is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    /// text/plain (or untyped text).
    Plain,
    /// text/html.
    Html,
}

/// An attachment or any non-body part: decoded content, names, types and hashes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Attachment {
    /// Position among the message's MIME parts (index into `Message::parts`).
    pub part_index: usize,
    /// File name (RFC 2231/2047 decoded) from Content-Disposition `filename` or Content-Type `name`.
    pub name: Option<String>,
    /// Declared MIME type, lower-case (`application/octet-stream` when missing).
    pub declared_type: String,
    /// Content-Disposition type (`attachment`, `inline`), lower-case.
    pub disposition: Option<String>,
    /// Type sniffed from the content's bytes.
    pub sniffed: Option<FileType>,
    /// Decoded size in bytes.
    pub size: usize,
    /// SHA-256 of the decoded content, lower-case hex.
    pub sha256: String,
    /// Decoded content (may be cut by `max_decoded_bytes`, see `truncated`). Not serialised.
    #[serde(skip)]
    pub content: Vec<u8>,
    /// True when `content` was cut short by a limit.
    pub truncated: bool,
    /// A nested message (message/rfc822), parsed.
    pub message: Option<Box<Message>>,
}

/// Summary of one analysed MIME part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartInfo {
    /// Content type, lower-case (`text/plain` when missing in a leaf).
    pub content_type: String,
    /// Declared charset, lower-case, if any.
    pub charset: Option<String>,
    /// Charset actually used to decode the text when it differs from the declared one (repair).
    pub charset_used: Option<String>,
    /// Content-Transfer-Encoding, lower-case, if any.
    pub transfer_encoding: Option<String>,
    /// Nesting depth (0 = the message itself).
    pub depth: usize,
    /// Decoded size in bytes (0 for multiparts).
    pub size: usize,
    /// True when the part's encoding could not be decoded cleanly.
    pub encoding_problem: bool,
}

/// A problem noticed while parsing. The kind maps to a stable finding id (`malformed.*`, `limit.*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anomaly {
    /// What happened.
    pub kind: AnomalyKind,
    /// Evidence: what was seen, in a sentence.
    pub detail: String,
}

impl Anomaly {
    /// Creates an anomaly.
    pub fn new(kind: AnomalyKind, detail: impl Into<String>) -> Anomaly {
        Anomaly {
            kind,
            detail: detail.into(),
        }
    }
}

/// Kinds of parse anomalies. Each has a stable dotted id, documented with the finding ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    /// The input is empty.
    Empty,
    /// The input does not look like an e-mail message (no header block, binary data).
    NotMail,
    /// A header line is not `Name: value`, or header names carry invalid bytes.
    HeaderSyntax,
    /// Raw 8-bit bytes in header fields that are not valid UTF-8 (charset guessed).
    HeaderEncoding,
    /// Line endings are bare CR or mixed (normalised before parsing).
    LineEndings,
    /// A multipart has no boundary parameter.
    BoundaryMissing,
    /// A multipart's closing boundary is missing (truncated message).
    Truncated,
    /// A part's transfer encoding (base64/quoted-printable) could not be decoded cleanly.
    TransferEncoding,
    /// A part's declared charset was wrong or unknown; the text was decoded with a guessed charset.
    CharsetMismatch,
    /// The message exceeded `max_message_bytes` and was truncated.
    MessageSize,
    /// MIME nesting exceeded `max_mime_depth`.
    MimeDepth,
    /// More parts than `max_parts`.
    MimeParts,
    /// More header fields than `max_headers`.
    Headers,
    /// Decoded content exceeded `max_decoded_bytes`.
    DecodedBytes,
    /// Body text exceeded `max_text_bytes` and was cut for analysis.
    Text,
    /// More links than `max_links`.
    Links,
    /// A line longer than `max_line_bytes` was cut by the mbox reader.
    LineLength,
    /// The MIME parser failed (caught internally); nothing but size and hash could be read.
    ParserFailure,
}

impl AnomalyKind {
    /// Every kind, for documentation and tests.
    pub const ALL: [AnomalyKind; 18] = [
        AnomalyKind::Empty,
        AnomalyKind::NotMail,
        AnomalyKind::HeaderSyntax,
        AnomalyKind::HeaderEncoding,
        AnomalyKind::LineEndings,
        AnomalyKind::BoundaryMissing,
        AnomalyKind::Truncated,
        AnomalyKind::TransferEncoding,
        AnomalyKind::CharsetMismatch,
        AnomalyKind::MessageSize,
        AnomalyKind::MimeDepth,
        AnomalyKind::MimeParts,
        AnomalyKind::Headers,
        AnomalyKind::DecodedBytes,
        AnomalyKind::Text,
        AnomalyKind::Links,
        AnomalyKind::LineLength,
        AnomalyKind::ParserFailure,
    ];

    /// The stable finding id this anomaly reports as.
    pub fn id(self) -> &'static str {
        match self {
            AnomalyKind::Empty => "malformed.empty",
            AnomalyKind::NotMail => "malformed.not_mail",
            AnomalyKind::HeaderSyntax => "malformed.header.syntax",
            AnomalyKind::HeaderEncoding => "malformed.header.raw_8bit",
            AnomalyKind::LineEndings => "malformed.line_endings",
            AnomalyKind::BoundaryMissing => "malformed.mime.boundary_missing",
            AnomalyKind::Truncated => "malformed.mime.truncated",
            AnomalyKind::TransferEncoding => "malformed.mime.transfer_encoding",
            AnomalyKind::CharsetMismatch => "malformed.charset.mismatch",
            AnomalyKind::MessageSize => "limit.message_size",
            AnomalyKind::MimeDepth => "limit.mime_depth",
            AnomalyKind::MimeParts => "limit.mime_parts",
            AnomalyKind::Headers => "limit.headers",
            AnomalyKind::DecodedBytes => "limit.decoded_bytes",
            AnomalyKind::Text => "limit.text",
            AnomalyKind::Links => "limit.links",
            AnomalyKind::LineLength => "limit.line_length",
            AnomalyKind::ParserFailure => "malformed.parser_failure",
        }
    }
}
