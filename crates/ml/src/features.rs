//! Feature extraction: [`extract`] walks a [`FeatureInput`]'s features into a [`FeatureSink`]: hashed indices for
//! training ([`hashed`]), slots for scoring and readable names for explanations (`crate::score`). Every user goes
//! through the same walk, so an explanation names exactly the features the model scored. Every family is listed in [`Family`] and documented in `docs/ml.md`.

use crate::hash;
use crate::input::FeatureInput;
use crate::text::{self, Piece, Token};

/// Most subject bytes read.
pub const MAX_SUBJECT_BYTES: usize = 1024;
/// Most body bytes read: spam and phishing say what they want early; reading more costs time, not accuracy.
pub const MAX_BODY_BYTES: usize = 12 * 1024;
/// Most links read.
pub const MAX_URLS: usize = 64;
/// Most path words read per link.
pub const MAX_PATH_WORDS: usize = 8;
/// Most MIME parts, charsets, hops and attachments read.
pub const MAX_LIST: usize = 32;

/// Feature families. The tag is part of every feature's hash, so the same word in the subject and in the body are
/// different features. Tags are fixed: changing one invalidates trained models (bump [`crate::FEATURE_VERSION`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Family {
    /// Word of the subject.
    SubjectWord = 1,
    /// Word pair of the subject.
    SubjectPair = 2,
    /// CJK bigram of the subject.
    SubjectChars = 3,
    /// Katakana word of the subject.
    SubjectKatakana = 4,
    /// Word of the body.
    Word = 5,
    /// Adjacent word pair of the body.
    Pair1 = 6,
    /// Word pair of the body with one word between.
    Pair2 = 7,
    /// CJK bigram of the body.
    Chars = 8,
    /// Katakana word of the body.
    Katakana = 9,
    /// Digit run, by length.
    Number = 10,
    /// Very long word, by length bucket.
    LongWord = 11,
    /// Link scheme.
    UrlScheme = 12,
    /// Link host.
    UrlHost = 13,
    /// Link registered domain.
    UrlDomain = 14,
    /// Link top-level domain.
    UrlTld = 15,
    /// Word of a link path or query.
    UrlPath = 16,
    /// Link shape (IP host, punycode, user part, many labels, long).
    UrlShape = 17,
    /// Sender domain and its top-level domain.
    Sender = 18,
    /// Word of the sender's display name.
    SenderName = 19,
    /// Mailer (`X-Mailer`, `User-Agent`), version numbers dropped.
    Mailer = 20,
    /// MIME content type of a part.
    ContentType = 21,
    /// Declared charset of a part.
    Charset = 22,
    /// `Received` chain shape: hop count and protocols.
    Received = 23,
    /// Attachment kind: extension, declared and sniffed type.
    Attachment = 24,
    /// Structure: HTML-only, counts of links, images, forms, scripts, mismatches, sizes.
    Structure = 25,
    /// Writing system of the text (ja, zh, latin, …) and script mixing.
    Language = 26,
    /// Name of a header field that is present (other filters' and mail stores' fields ignored).
    Header = 27,
    /// Shape of the subject as written (share of capitals, `!`, `$`) and of the Message-ID.
    Shape = 28,
}

/// Header fields that say what another filter or the mail store thought, not what the sender sent: learning them
/// would copy another filter's verdict or the corpus collector's habits (prefixes end with `*`).
pub const IGNORED_HEADERS: &[&str] = &[
    "x-spam*",
    "x-virus*",
    "x-bogosity",
    "x-razor*",
    "x-pyzor*",
    "x-dcc*",
    "x-ham-report",
    "x-asf-*",
    "delivery-date",
    "x-keywords",
    "x-status",
    "status",
    "x-uid",
    "x-uidl",
    "content-length",
    "lines",
    "x-evolution*",
    "x-mozilla-status*",
    "x-gmail-labels",
    "x-original-to",
    "delivered-to",
];

fn ignored_header(name: &str) -> bool {
    IGNORED_HEADERS.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == *p,
    })
}

impl Family {
    /// Readable prefix used in explanations.
    pub fn label(self) -> &'static str {
        match self {
            Family::SubjectWord | Family::SubjectKatakana => "subject token",
            Family::SubjectPair => "subject words",
            Family::SubjectChars => "subject chars",
            Family::Word | Family::Katakana => "token",
            Family::Pair1 | Family::Pair2 => "words",
            Family::Chars => "chars",
            Family::Number => "digits",
            Family::LongWord => "long word",
            Family::UrlScheme => "url scheme",
            Family::UrlHost => "url host",
            Family::UrlDomain => "url domain",
            Family::UrlTld => "url tld",
            Family::UrlPath => "url path word",
            Family::UrlShape => "url shape",
            Family::Sender => "sender",
            Family::SenderName => "sender name",
            Family::Mailer => "mailer",
            Family::ContentType => "content type",
            Family::Charset => "charset",
            Family::Received => "received",
            Family::Attachment => "attachment",
            Family::Structure => "structure",
            Family::Language => "language",
            Family::Header => "header",
            Family::Shape => "shape",
        }
    }
}

/// Receives the features of a message.
pub trait FeatureSink {
    /// One feature: its family and its text parts with their hashes.
    fn pieces(&mut self, family: Family, parts: &[Piece<'_>]);

    /// True when the sink wants no more features: [`extract`] may then stop early, and the features it has not
    /// given yet are never given.
    fn done(&self) -> bool {
        false
    }

    /// One feature from plain text parts (hashed here).
    fn feature(&mut self, family: Family, parts: &[&str]) {
        match parts {
            [a] => self.pieces(family, &[Piece::new(a)]),
            [a, b] => self.pieces(family, &[Piece::new(a), Piece::new(b)]),
            _ => {
                let pieces: Vec<Piece<'_>> = parts.iter().map(|p| Piece::new(p)).collect();
                self.pieces(family, &pieces);
            }
        }
    }
}

/// Collects hashed indices in a space of `2^bits`.
#[derive(Debug)]
pub struct HashedSink {
    bits: u8,
    /// Indices, unsorted and possibly repeated until [`HashedSink::finish`].
    pub indices: Vec<u32>,
}

impl HashedSink {
    /// An empty sink for a space of `2^bits`.
    pub fn new(bits: u8) -> HashedSink {
        HashedSink {
            bits,
            indices: Vec::with_capacity(2048),
        }
    }

    /// Sorted, de-duplicated indices: features count as present or absent, not by how often they occur, so a
    /// long message does not shout.
    pub fn finish(mut self) -> Vec<u32> {
        self.indices.sort_unstable();
        self.indices.dedup();
        self.indices
    }
}

impl FeatureSink for HashedSink {
    #[inline]
    fn pieces(&mut self, family: Family, parts: &[Piece<'_>]) {
        self.indices.push(piece_index(family, parts, self.bits));
    }
}

/// The index of one feature given as text parts.
pub fn feature_index(family: Family, parts: &[&str], bits: u8) -> u32 {
    hash::slot(hash::hash_feature(family as u8, parts), bits)
}

/// The index of one feature given as hashed pieces (the same index as [`feature_index`] of their texts).
#[inline]
pub fn piece_index(family: Family, parts: &[Piece<'_>], bits: u8) -> u32 {
    hash::slot(
        hash::combine_iter(family as u8, parts.iter().map(|p| p.hash)),
        bits,
    )
}

/// Appends the readable name of a feature to `out`: `token 'パスワード'`, `words 'verify your'`.
pub fn write_name(out: &mut String, family: Family, parts: &[Piece<'_>]) {
    out.push_str(family.label());
    out.push_str(" '");
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(p.text);
    }
    out.push('\'');
}

/// `text` ASCII-lower-cased into `buf` when it fits (else `None`): no allocation.
fn ascii_lower<'b>(text: &str, buf: &'b mut [u8; 64]) -> Option<&'b str> {
    let out = buf.get_mut(..text.len())?;
    out.copy_from_slice(text.as_bytes());
    out.make_ascii_lowercase();
    // Lower-casing ASCII bytes keeps UTF-8 valid.
    std::str::from_utf8(out).ok()
}

const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// Bucket of a count: 0, 1, 2–3, 4–7, … (log2), as a digit string.
fn bucket(n: u64) -> &'static str {
    let b = if n == 0 { 0 } else { 64 - n.leading_zeros() };
    DIGITS[usize::try_from(b.min(9)).unwrap_or(9)]
}

fn text_tokens(sink: &mut impl FeatureSink, text: &str, subject: bool) -> text::ScriptCounts {
    let (word, pair1, pair2, chars, kata) = if subject {
        (
            Family::SubjectWord,
            Family::SubjectPair,
            Family::SubjectPair,
            Family::SubjectChars,
            Family::SubjectKatakana,
        )
    } else {
        (
            Family::Word,
            Family::Pair1,
            Family::Pair2,
            Family::Chars,
            Family::Katakana,
        )
    };
    text::tokenize_until(text, |t| {
        match t {
            Token::Word(w) => sink.pieces(word, &[w]),
            Token::Pair(a, b, 1) => sink.pieces(pair1, &[a, b]),
            Token::Pair(a, b, _) => sink.pieces(pair2, &[a, b]),
            Token::Bigram(b) => sink.pieces(chars, &[b]),
            Token::Katakana(k) => sink.pieces(kata, &[k]),
            Token::Number(n) => sink.feature(Family::Number, &[DIGITS[usize::from(n.min(9))]]),
            Token::LongWord(n) => sink.feature(Family::LongWord, &[DIGITS[usize::from(n.min(9))]]),
        }
        !sink.done()
    })
}

/// `domain` (any case) is `parent` or below it (`parent` lower-case).
fn ends_with_domain(domain: &str, parent: &str) -> bool {
    let (d, p) = (domain.as_bytes(), parent.as_bytes());
    d.len() >= p.len()
        && d[d.len() - p.len()..].eq_ignore_ascii_case(p)
        && (d.len() == p.len() || d[d.len() - p.len() - 1] == b'.')
}

/// The last label of a domain.
fn tld(domain: &str) -> &str {
    domain.rsplit('.').next().unwrap_or(domain)
}

/// The part of a URL after the host: path and query.
fn url_rest(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(url, |i| &url[i + 3..]);
    after_scheme
        .find(['/', '?'])
        .map_or("", |i| &after_scheme[i..])
}

/// Mailer name without versions: `Microsoft Outlook Express 6.00.2600` → `microsoft outlook express`.
fn mailer_name(mailer: &str) -> String {
    let mut out = String::new();
    for word in mailer.split_whitespace().take(4) {
        if word.starts_with(|c: char| c.is_ascii_digit() || c == '(' || c == '[' || c == 'v')
            && word.chars().any(|c| c.is_ascii_digit())
        {
            break;
        }
        let w: String = word
            .chars()
            .take_while(|c| !c.is_ascii_digit() && *c != '/' && *c != '(')
            .flat_map(char::to_lowercase)
            .collect();
        if w.is_empty() {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w.trim_end_matches(['-', '_', '.']));
    }
    out.chars().take(40).collect()
}

/// Walks every feature of `input` into `sink`, stopping early when the sink is [`FeatureSink::done`].
pub fn extract(input: &FeatureInput<'_>, sink: &mut impl FeatureSink) {
    // The short, non-text features come first, so that a walk that needs only them (naming the features of an
    // explanation) can stop before the body.
    envelope_features(input, sink);
    if !sink.done() {
        text_features(input, sink);
    }
}

/// Headers, sender, links, MIME structure and attachments.
fn envelope_features(input: &FeatureInput<'_>, sink: &mut impl FeatureSink) {
    // Header names and shapes (repeats are dropped with the other duplicate features).
    let mut buf = [0u8; 64];
    for name in input.header_names.iter().take(4 * MAX_LIST) {
        let name = name.trim();
        if name.is_empty() || name.len() > 40 {
            continue;
        }
        let Some(lower) = ascii_lower(name, &mut buf) else {
            continue;
        };
        if !ignored_header(lower) {
            sink.feature(Family::Header, &[lower]);
        }
    }
    let raw_subject = text::truncate(input.raw_subject, MAX_SUBJECT_BYTES);
    let letters = raw_subject.chars().filter(|c| c.is_alphabetic()).count();
    let capitals = raw_subject.chars().filter(|c| c.is_uppercase()).count();
    if letters >= 4 {
        // Share of capitals in tenths.
        sink.feature(
            Family::Shape,
            &["subject capitals", DIGITS[(capitals * 9 / letters).min(9)]],
        );
    }
    let bangs = raw_subject.matches('!').count();
    if bangs > 0 {
        sink.feature(Family::Shape, &["subject !", bucket(bangs as u64)]);
    }
    if raw_subject.contains('$') {
        sink.feature(Family::Shape, &["subject $"]);
    }
    match (input.message_id_domain, input.from_domain) {
        (None, _) => sink.feature(Family::Shape, &["no message-id domain"]),
        (Some(m), Some(f)) if ends_with_domain(m, f) => {
            sink.feature(Family::Shape, &["message-id domain is sender's"]);
        }
        (Some(m), _) => match ascii_lower(tld(m), &mut buf) {
            Some(t) => sink.feature(Family::Shape, &["message-id tld", t]),
            None => sink.feature(
                Family::Shape,
                &["message-id tld", &tld(m).to_ascii_lowercase()],
            ),
        },
    }

    // Sender.
    if let Some(domain) = input.from_domain {
        sink.feature(Family::Sender, &["domain", domain]);
        sink.feature(Family::Sender, &["tld", tld(domain)]);
        if let Some(reply) = input.reply_to_domain
            && reply != domain
        {
            sink.feature(Family::Sender, &["reply-to elsewhere"]);
        }
        if let Some(rp) = input.return_path_domain
            && rp != domain
        {
            sink.feature(Family::Sender, &["return-path elsewhere"]);
        }
    } else {
        sink.feature(Family::Sender, &["no address"]);
    }
    if !input.from_name.is_empty() {
        let name = text::normalize(text::truncate(input.from_name, 256));
        text::tokenize(&name, |t| match t {
            Token::Word(w) | Token::Bigram(w) | Token::Katakana(w) => {
                sink.pieces(Family::SenderName, &[w]);
            }
            _ => {}
        });
    }
    match input.mailer {
        Some(m) => sink.feature(Family::Mailer, &[&mailer_name(m)]),
        None => sink.feature(Family::Mailer, &["none"]),
    }
    sink.feature(
        Family::Structure,
        &["recipients", bucket(u64::from(input.recipients))],
    );

    // Links.
    sink.feature(
        Family::Structure,
        &["links", bucket(input.urls.len() as u64)],
    );
    for url in input.urls.iter().take(MAX_URLS) {
        sink.feature(Family::UrlScheme, &[url.scheme]);
        if let Some(host) = url.host {
            sink.feature(Family::UrlHost, &[host]);
            if !url.ip_host {
                sink.feature(Family::UrlTld, &[tld(host)]);
            }
            if host.starts_with("xn--") || host.contains(".xn--") {
                sink.feature(Family::UrlShape, &["punycode host"]);
            }
            if host.split('.').count() >= 5 {
                sink.feature(Family::UrlShape, &["many labels"]);
            }
        }
        if let Some(domain) = url.registered_domain {
            sink.feature(Family::UrlDomain, &[domain]);
        }
        if url.ip_host {
            sink.feature(Family::UrlShape, &["ip host"]);
        }
        if url.userinfo {
            sink.feature(Family::UrlShape, &["user part"]);
        }
        if url.url.len() > 120 {
            sink.feature(Family::UrlShape, &["long"]);
        }
        let rest = url_rest(url.url);
        let mut words = 0;
        for word in rest.split(|c: char| !c.is_ascii_alphanumeric()) {
            if words >= MAX_PATH_WORDS {
                break;
            }
            if (3..=20).contains(&word.len())
                && !word.bytes().all(|b| b.is_ascii_digit())
                && let Some(lower) = ascii_lower(word, &mut buf)
            {
                sink.feature(Family::UrlPath, &[lower]);
                words += 1;
            }
        }
    }

    // MIME structure.
    let s = &input.structure;
    if s.has_html && !s.has_plain {
        sink.feature(Family::Structure, &["html only"]);
    }
    if s.has_plain && s.has_html {
        sink.feature(Family::Structure, &["plain and html"]);
    }
    if s.text_html_mismatch {
        sink.feature(Family::Structure, &["text/html mismatch"]);
    }
    if s.charset_mismatch {
        sink.feature(Family::Structure, &["charset mismatch"]);
    }
    for (name, n) in [
        ("images", s.images),
        ("forms", s.forms),
        ("password inputs", s.password_inputs),
        ("scripts", s.scripts),
        ("hidden elements", s.hidden_elements),
        ("anomalies", s.anomalies),
    ] {
        if n > 0 {
            sink.feature(Family::Structure, &[name, bucket(u64::from(n))]);
        }
    }
    for ct in input.content_types.iter().take(MAX_LIST) {
        sink.feature(Family::ContentType, &[ct]);
    }
    for cs in input.charsets.iter().take(MAX_LIST) {
        sink.feature(Family::Charset, &[cs]);
    }
    sink.feature(
        Family::Received,
        &["hops", bucket(input.received.len() as u64)],
    );
    for (i, with) in input.received.iter().take(3).enumerate() {
        sink.feature(Family::Received, &[DIGITS[i], with.unwrap_or("-")]);
    }
    sink.feature(
        Family::Attachment,
        &["count", bucket(input.attachments.len() as u64)],
    );
    for a in input.attachments.iter().take(MAX_LIST) {
        if let Some(ext) = a.extension {
            sink.feature(Family::Attachment, &["extension", ext]);
        }
        sink.feature(Family::Attachment, &["declared", a.declared_type]);
        if let Some(sniffed) = a.sniffed {
            sink.feature(Family::Attachment, &["content", sniffed]);
        }
    }
}

/// Subject, body and HTML text, and what their scripts and sizes say.
fn text_features(input: &FeatureInput<'_>, sink: &mut impl FeatureSink) {
    // Text.
    let subject = text::normalize(text::truncate(input.subject, MAX_SUBJECT_BYTES));
    let subject_counts = text_tokens(sink, &subject, true);
    if sink.done() {
        return;
    }
    let body = text::normalize(text::truncate(input.body, MAX_BODY_BYTES));
    let mut counts = text_tokens(sink, &body, false);
    if !input.html_extra.is_empty() && !sink.done() {
        let extra = text::normalize(text::truncate(input.html_extra, MAX_BODY_BYTES));
        counts.add(text_tokens(sink, &extra, false));
    }
    counts.add(subject_counts);
    sink.feature(Family::Language, &[counts.language()]);
    if counts.mixed() {
        sink.feature(Family::Language, &["mixed scripts"]);
    }
    if subject.trim().is_empty() {
        sink.feature(Family::Structure, &["no subject"]);
    }
    sink.feature(
        Family::Structure,
        &["body bytes", bucket(body.len() as u64)],
    );
}

/// The sorted, de-duplicated feature indices of `input` in a space of `2^bits`.
pub fn hashed(input: &FeatureInput<'_>, bits: u8) -> Vec<u32> {
    let mut sink = HashedSink::new(bits);
    extract(input, &mut sink);
    sink.finish()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::input::{Structure, UrlFacts};

    // Every feature by name: the oracle the scoring and explanation tests compare with.
    /// Collects readable names with their indices.
    #[derive(Debug)]
    pub(crate) struct NamedSink {
        bits: u8,
        /// (index, readable name) in extraction order, possibly repeated.
        pub(crate) features: Vec<(u32, String)>,
    }

    impl NamedSink {
        /// An empty sink for a space of `2^bits`.
        pub(crate) fn new(bits: u8) -> NamedSink {
            NamedSink {
                bits,
                features: Vec::new(),
            }
        }
    }

    impl FeatureSink for NamedSink {
        fn pieces(&mut self, family: Family, parts: &[Piece<'_>]) {
            let mut name = String::new();
            write_name(&mut name, family, parts);
            self.features
                .push((piece_index(family, parts, self.bits), name));
        }
    }

    /// Every readable feature of `input` with their indices, first occurrence of each index only.
    pub(crate) fn named(input: &FeatureInput<'_>, bits: u8) -> Vec<(u32, String)> {
        let mut sink = NamedSink::new(bits);
        extract(input, &mut sink);
        let mut seen = std::collections::HashSet::new();
        sink.features.retain(|(i, _)| seen.insert(*i));
        sink.features
    }

    /// A Japanese phishing-like message touching most families (also used by the scoring tests).
    pub(crate) fn sample() -> FeatureInput<'static> {
        FeatureInput {
            subject: "【重要】アカウント確認",
            body: "Please verify your password at the link below. パスワードを変更してください。",
            from_name: "Amazon セキュリティ",
            from_domain: Some("amaz0n-support.example"),
            reply_to_domain: Some("mail.example"),
            mailer: Some("Microsoft Outlook Express 6.00.2600.0000"),
            urls: vec![UrlFacts {
                scheme: "https",
                host: Some("xn--amzon-tdn.example"),
                registered_domain: Some("xn--amzon-tdn.example"),
                url: "https://xn--amzon-tdn.example/signin/verify?id=123",
                ..UrlFacts::default()
            }],
            content_types: vec!["text/html"],
            structure: Structure {
                has_html: true,
                forms: 1,
                ..Structure::default()
            },
            ..FeatureInput::default()
        }
    }

    #[test]
    fn families_present_and_readable() {
        let names: Vec<String> = named(&sample(), 20).into_iter().map(|(_, n)| n).collect();
        for want in [
            "subject token 'アカウント'",
            "subject chars '重要'",
            "token 'password'",
            "words 'verify your'",
            "token 'パスワード'",
            "chars '変更'",
            "url host 'xn--amzon-tdn.example'",
            "url shape 'punycode host'",
            "url path word 'signin'",
            "sender 'domain amaz0n-support.example'",
            "sender 'reply-to elsewhere'",
            "sender name 'amazon'",
            "mailer 'microsoft outlook express'",
            "structure 'html only'",
            "structure 'forms 1'",
            "language 'ja'",
            "content type 'text/html'",
        ] {
            assert!(
                names.iter().any(|n| n == want),
                "{want} missing from {names:?}"
            );
        }
    }

    #[test]
    fn hashed_matches_named_and_is_deterministic() {
        let input = sample();
        let h1 = hashed(&input, 18);
        let h2 = hashed(&input, 18);
        assert_eq!(h1, h2);
        assert!(h1.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
        assert!(h1.iter().all(|&i| i < (1 << 18)));
        let mut from_named: Vec<u32> = named(&input, 18).into_iter().map(|(i, _)| i).collect();
        from_named.sort_unstable();
        assert_eq!(h1, from_named);
        // Full-width input gives the same features as its normalised form.
        let mut wide = sample();
        wide.body = "Ｐｌｅａｓｅ ｖｅｒｉｆｙ ｙｏｕｒ ｐａｓｓｗｏｒｄ ａｔ ｔｈｅ ｌｉｎｋ ｂｅｌｏｗ. ﾊﾟｽﾜｰﾄﾞを変更してください。";
        assert_eq!(hashed(&wide, 18), h1);
    }

    /// Takes features until it has `limit` of them.
    struct FirstFew {
        limit: usize,
        names: Vec<String>,
    }

    impl FeatureSink for FirstFew {
        fn pieces(&mut self, family: Family, parts: &[Piece<'_>]) {
            let mut name = String::new();
            write_name(&mut name, family, parts);
            self.names.push(name);
        }

        fn done(&self) -> bool {
            self.names.len() >= self.limit
        }
    }

    #[test]
    fn a_done_sink_stops_the_walk_in_the_same_order() {
        let input = sample();
        let all: Vec<String> = named(&input, 20).into_iter().map(|(_, n)| n).collect();
        let mut everything = NamedSink::new(20);
        extract(&input, &mut everything);
        assert!(everything.features.len() > 30);
        // Envelope features first, text last.
        assert!(
            everything.features[0].1.starts_with("header ")
                || everything.features[0].1.starts_with("shape ")
        );
        let total = everything.features.len();
        for limit in [1, 7, 20, total - 1] {
            let mut sink = FirstFew {
                limit,
                names: Vec::new(),
            };
            extract(&input, &mut sink);
            // It may get a few more than it asked for (the walk checks between sections and between tokens),
            // never a different order, and never the whole text once done before it.
            assert!(sink.names.len() >= limit, "{limit}");
            if limit <= 20 {
                assert!(sink.names.len() < total, "{limit}: went on to the end");
            }
            let expected: Vec<&String> = everything
                .features
                .iter()
                .map(|(_, n)| n)
                .take(sink.names.len())
                .collect();
            assert_eq!(sink.names.iter().collect::<Vec<_>>(), expected);
        }
        assert!(!all.is_empty());
    }

    #[test]
    fn helpers() {
        assert_eq!(bucket(0), "0");
        assert_eq!(bucket(1), "1");
        assert_eq!(bucket(3), "2");
        assert_eq!(bucket(1 << 40), "9");
        assert_eq!(url_rest("https://a.example/x/y?z=1"), "/x/y?z=1");
        assert_eq!(url_rest("https://a.example"), "");
        assert_eq!(mailer_name("Mozilla/5.0 (Windows)"), "mozilla");
        assert_eq!(mailer_name("Apple Mail (2.3654)"), "apple mail");
        assert_eq!(tld("mail.example.co.jp"), "jp");
    }
}
