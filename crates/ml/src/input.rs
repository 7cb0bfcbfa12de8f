//! What the model reads about a message: plain strings and counts, independent of any mail type. The caller
//! (`mamori-detect`) fills it from its parsed message; training, evaluation and scanning all go through the same
//! filling code, so the model sees identical features everywhere.

/// The facts of one message that features are made from. Text need not be normalised: the extractor applies
/// NFKC and lower-casing (cheaply, when the text already is normalised).
#[derive(Debug, Clone, Default)]
pub struct FeatureInput<'a> {
    /// Decoded subject.
    pub subject: &'a str,
    /// Body text: the plain-text body, or the text of the HTML body when there is no plain one.
    pub body: &'a str,
    /// Text of the HTML body when a plain body exists but says much less (a "your mail reader cannot show HTML"
    /// stub in front of the real content); empty otherwise.
    pub html_extra: &'a str,
    /// Display name of the sender.
    pub from_name: &'a str,
    /// Domain of the From address.
    pub from_domain: Option<&'a str>,
    /// Domain of the Reply-To address.
    pub reply_to_domain: Option<&'a str>,
    /// Domain of the Return-Path address.
    pub return_path_domain: Option<&'a str>,
    /// `X-Mailer` or `User-Agent` value.
    pub mailer: Option<&'a str>,
    /// Number of To and Cc recipients.
    pub recipients: u32,
    /// Links in the message.
    pub urls: Vec<UrlFacts<'a>>,
    /// Content types of the MIME parts.
    pub content_types: Vec<&'a str>,
    /// Declared charsets of the MIME parts.
    pub charsets: Vec<&'a str>,
    /// `Received` hops: the `with` protocol of each, topmost first (`None` when not recorded).
    pub received: Vec<Option<&'a str>>,
    /// Attachments.
    pub attachments: Vec<AttachmentFacts<'a>>,
    /// Counts and flags describing the structure.
    pub structure: Structure,
    /// Names of the top-level header fields, in order (any case; the extractor lower-cases them and ignores the
    /// ones other filters and mail stores add, see [`crate::features::IGNORED_HEADERS`]).
    pub header_names: Vec<&'a str>,
    /// Subject as written (before normalisation), for its shape: capitals, `!`, `$`.
    pub raw_subject: &'a str,
    /// Domain of the Message-ID.
    pub message_id_domain: Option<&'a str>,
}

/// One link.
#[derive(Debug, Clone, Copy, Default)]
pub struct UrlFacts<'a> {
    /// Scheme, lower-case.
    pub scheme: &'a str,
    /// Host, lower-case ASCII (punycode for IDNs).
    pub host: Option<&'a str>,
    /// Registered domain of the host.
    pub registered_domain: Option<&'a str>,
    /// The whole URL (normalised when it parsed, raw otherwise); path words are read from it.
    pub url: &'a str,
    /// The host is an IP address.
    pub ip_host: bool,
    /// The URL carries a user part (`https://bank@evil/`).
    pub userinfo: bool,
}

/// One attachment.
#[derive(Debug, Clone, Copy, Default)]
pub struct AttachmentFacts<'a> {
    /// File name extension, if any.
    pub extension: Option<&'a str>,
    /// Declared MIME type.
    pub declared_type: &'a str,
    /// Type sniffed from the content, as a short name.
    pub sniffed: Option<&'a str>,
}

/// Structural counts and flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct Structure {
    /// Has a text/plain body.
    pub has_plain: bool,
    /// Has a text/html body.
    pub has_html: bool,
    /// `<img>` tags.
    pub images: u32,
    /// `<form>` tags.
    pub forms: u32,
    /// `<input type=password>` fields.
    pub password_inputs: u32,
    /// `<script>` elements.
    pub scripts: u32,
    /// Invisible elements.
    pub hidden_elements: u32,
    /// The plain and HTML bodies say clearly different things (very different lengths).
    pub text_html_mismatch: bool,
    /// A part's declared charset was wrong or unknown.
    pub charset_mismatch: bool,
    /// Parse anomalies recorded.
    pub anomalies: u32,
}
