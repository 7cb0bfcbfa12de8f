//! HTML to text, keeping the links: one forward pass over the markup, no DOM.
//!
//! Mail HTML is usually broken and sometimes hostile, so this is a tolerant tokenizer rather than a conforming
//! parser: it never fails, never recurses, and its work is linear in the input. It yields the visible text (script
//! and style content dropped, block elements turned into line breaks, entities decoded), every link target with
//! its anchor text and the element it came from, and counts of elements that matter for detection.

use memchr::memchr;

use crate::message::{HtmlStats, LinkSource};
use crate::normalize::collapse_whitespace;

/// A link target found in HTML, before URL normalisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlLink {
    /// Attribute value, entities decoded, trimmed.
    pub target: String,
    /// Visible anchor text (for `<a>`), or `alt` text (for `<area>`).
    pub anchor_text: Option<String>,
    /// Element the link came from.
    pub source: LinkSource,
}

/// What [`extract`] found.
#[derive(Debug, Clone, Default)]
pub struct HtmlExtract {
    /// Visible text.
    pub text: String,
    /// Links in document order.
    pub links: Vec<HtmlLink>,
    /// Element counts.
    pub stats: HtmlStats,
    /// True when the text was cut at the limit.
    pub text_truncated: bool,
    /// True when links beyond the limit were dropped.
    pub links_truncated: bool,
}

const BLOCK_TAGS: &[&str] = &[
    "br",
    "p",
    "div",
    "tr",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "ul",
    "ol",
    "blockquote",
    "hr",
    "dt",
    "dd",
    "pre",
    "section",
    "article",
    "header",
    "footer",
    "center",
    "form",
    "title",
    "tbody",
    "thead",
    "address",
    "fieldset",
    "nav",
    "main",
    "aside",
    "figure",
    "figcaption",
    "caption",
];

/// Extracts text, links and statistics from `html`, keeping at most `max_text` bytes of text and `max_links`
/// links.
pub fn extract(html: &str, max_text: usize, max_links: usize) -> HtmlExtract {
    let mut ex = Extractor {
        out: HtmlExtract::default(),
        max_text,
        max_links,
        anchor: None,
    };
    ex.out.stats.bodies = 1;
    ex.out.stats.bytes = html.len() as u64;
    ex.run(html);
    ex.close_anchor();
    ex.out
}

struct OpenAnchor {
    href: String,
    text_start: usize,
    alt: String,
}

struct Extractor {
    out: HtmlExtract,
    max_text: usize,
    max_links: usize,
    anchor: Option<OpenAnchor>,
}

impl Extractor {
    fn run(&mut self, html: &str) {
        let bytes = html.as_bytes();
        let mut pos = 0;
        while pos < bytes.len() {
            let Some(rel) = memchr(b'<', &bytes[pos..]) else {
                self.push_text(&html[pos..]);
                break;
            };
            let lt = pos + rel;
            if lt > pos {
                self.push_text(&html[pos..lt]);
            }
            pos = self.markup(html, lt);
        }
    }

    /// Handles markup starting at `lt` (a `<`); returns the position after it.
    fn markup(&mut self, html: &str, lt: usize) -> usize {
        let bytes = html.as_bytes();
        let rest = &bytes[lt..];
        if rest.starts_with(b"<!--") {
            return find(bytes, lt + 4, b"-->").map_or(bytes.len(), |p| p + 3);
        }
        if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
            return memchr(b'>', &bytes[lt..]).map_or(bytes.len(), |p| lt + p + 1);
        }
        let closing = rest.get(1) == Some(&b'/');
        let name_start = lt + 1 + usize::from(closing);
        let mut name_end = name_start;
        while name_end < bytes.len() && bytes[name_end].is_ascii_alphanumeric() {
            name_end += 1;
        }
        if name_end == name_start || !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
            // Not a tag: a literal '<' in text.
            self.push_text("<");
            return lt + 1;
        }
        let name = html[name_start..name_end].to_ascii_lowercase();
        let (attrs, end) = parse_attributes(html, name_end);
        self.out.stats.tags = self.out.stats.tags.saturating_add(1);
        if closing {
            self.end_tag(&name);
            return end;
        }
        self.start_tag(&name, &attrs);
        if matches!(name.as_str(), "script" | "style" | "textarea" | "xmp") && !attrs.self_closing {
            // Raw text elements: skip to the matching end tag.
            let close = format!("</{name}");
            return find_ascii_ci(bytes, end, close.as_bytes()).map_or(bytes.len(), |p| {
                memchr(b'>', &bytes[p..]).map_or(bytes.len(), |q| p + q + 1)
            });
        }
        end
    }

    fn start_tag(&mut self, name: &str, attrs: &Attributes) {
        if attrs.hidden {
            self.out.stats.hidden_elements = self.out.stats.hidden_elements.saturating_add(1);
        }
        if BLOCK_TAGS.contains(&name) {
            self.push_break('\n');
        } else if matches!(name, "td" | "th") {
            self.push_break(' ');
        }
        match name {
            "a" => {
                self.close_anchor();
                self.out.stats.anchors = self.out.stats.anchors.saturating_add(1);
                if let Some(href) = attrs.get("href") {
                    self.anchor = Some(OpenAnchor {
                        href: href.to_string(),
                        text_start: self.out.text.len(),
                        alt: String::new(),
                    });
                }
            }
            "area" => {
                if let Some(href) = attrs.get("href") {
                    let alt = attrs
                        .get("alt")
                        .map(collapse_whitespace)
                        .filter(|a| !a.is_empty());
                    self.add_link(href, alt, LinkSource::HtmlHref);
                }
            }
            "img" => {
                self.out.stats.images = self.out.stats.images.saturating_add(1);
                if let Some(alt) = attrs.get("alt")
                    && let Some(anchor) = self.anchor.as_mut()
                {
                    anchor.alt.push_str(alt);
                    anchor.alt.push(' ');
                }
                if let Some(src) = attrs.get("src") {
                    self.add_link(src, None, LinkSource::HtmlSrc);
                }
            }
            "form" => {
                self.out.stats.forms = self.out.stats.forms.saturating_add(1);
                if let Some(action) = attrs.get("action") {
                    self.add_link(action, None, LinkSource::HtmlForm);
                }
            }
            "input"
                if attrs
                    .get("type")
                    .is_some_and(|t| t.eq_ignore_ascii_case("password")) =>
            {
                self.out.stats.password_inputs = self.out.stats.password_inputs.saturating_add(1);
            }
            "script" => {
                self.out.stats.scripts = self.out.stats.scripts.saturating_add(1);
                if let Some(src) = attrs.get("src") {
                    self.add_link(src, None, LinkSource::HtmlSrc);
                }
            }
            "iframe" | "frame" | "embed" | "object" => {
                self.out.stats.frames = self.out.stats.frames.saturating_add(1);
                if let Some(src) = attrs.get("src").or_else(|| attrs.get("data")) {
                    self.add_link(src, None, LinkSource::HtmlSrc);
                }
            }
            "meta"
                if attrs
                    .get("http-equiv")
                    .is_some_and(|v| v.eq_ignore_ascii_case("refresh")) =>
            {
                self.out.stats.meta_refresh = self.out.stats.meta_refresh.saturating_add(1);
                if let Some(url) = attrs.get("content").and_then(refresh_url) {
                    self.add_link(&url, None, LinkSource::HtmlMetaRefresh);
                }
            }
            _ => {}
        }
    }

    fn end_tag(&mut self, name: &str) {
        if name == "a" {
            self.close_anchor();
        } else if BLOCK_TAGS.contains(&name) {
            self.push_break('\n');
        } else if matches!(name, "td" | "th") {
            self.push_break(' ');
        }
    }

    fn close_anchor(&mut self) {
        let Some(anchor) = self.anchor.take() else {
            return;
        };
        let visible = self.out.text.get(anchor.text_start..).unwrap_or_default();
        let mut text = collapse_whitespace(visible);
        if text.is_empty() {
            text = collapse_whitespace(&anchor.alt);
        }
        let anchor_text = (!text.is_empty()).then_some(text);
        self.add_link(&anchor.href, anchor_text, LinkSource::HtmlHref);
    }

    fn add_link(&mut self, target: &str, anchor_text: Option<String>, source: LinkSource) {
        let target = target.trim();
        if target.is_empty() || target.starts_with('#') {
            return;
        }
        if self.out.links.len() >= self.max_links {
            self.out.links_truncated = true;
            return;
        }
        let mut target = target.to_string();
        crate::normalize::truncate_at_char(&mut target, 2048);
        self.out.links.push(HtmlLink {
            target,
            anchor_text,
            source,
        });
    }

    fn push_text(&mut self, raw: &str) {
        if self.out.text.len() >= self.max_text {
            if !raw.trim().is_empty() {
                self.out.text_truncated = true;
            }
            return;
        }
        if raw.contains('&') {
            let decoded = html_escape::decode_html_entities(raw);
            self.push_plain(&decoded);
        } else {
            self.push_plain(raw);
        }
    }

    fn push_plain(&mut self, text: &str) {
        // Collapse whitespace as a browser would, so anchor text and words come out clean.
        for (i, word) in text.split(|c: char| c.is_whitespace()).enumerate() {
            if i > 0 {
                self.push_break(' ');
            }
            if word.is_empty() {
                continue;
            }
            let room = self.max_text.saturating_sub(self.out.text.len());
            if word.len() > room {
                let mut w = word.to_string();
                crate::normalize::truncate_at_char(&mut w, room);
                self.out.text.push_str(&w);
                self.out.text_truncated = true;
                return;
            }
            self.out.text.push_str(word);
        }
        if text.ends_with(char::is_whitespace) {
            self.push_break(' ');
        }
    }

    fn push_break(&mut self, c: char) {
        let text = &mut self.out.text;
        match (text.chars().last(), c) {
            (None, _) => {}
            (Some('\n'), _) => {}
            (Some(' '), '\n') => {
                text.pop();
                text.push('\n');
            }
            (Some(' '), ' ') => {}
            _ => text.push(c),
        }
    }
}

/// Parsed attributes of one tag (only the ones we use are kept).
#[derive(Default)]
struct Attributes {
    pairs: Vec<(String, String)>,
    hidden: bool,
    self_closing: bool,
}

impl Attributes {
    fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

const KEPT_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "alt",
    "action",
    "type",
    "http-equiv",
    "content",
    "data",
    "style",
];

/// Parses attributes from `start` (just after the tag name) to the closing `>`; returns them and the position after
/// the tag.
fn parse_attributes(html: &str, start: usize) -> (Attributes, usize) {
    let bytes = html.as_bytes();
    let mut attrs = Attributes::default();
    let mut pos = start;
    loop {
        while pos < bytes.len() && (bytes[pos].is_ascii_whitespace() || bytes[pos] == b'/') {
            if bytes[pos] == b'/' {
                attrs.self_closing = true;
            }
            pos += 1;
        }
        if pos >= bytes.len() {
            return (attrs, bytes.len());
        }
        if bytes[pos] == b'>' {
            return (attrs, pos + 1);
        }
        attrs.self_closing = false;
        let name_start = pos;
        while pos < bytes.len()
            && !matches!(bytes[pos], b'=' | b'>' | b'/')
            && !bytes[pos].is_ascii_whitespace()
        {
            pos += 1;
        }
        let name = html[name_start..pos].to_ascii_lowercase();
        while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let mut value = "";
        if bytes.get(pos) == Some(&b'=') {
            pos += 1;
            while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
                pos += 1;
            }
            match bytes.get(pos) {
                Some(&q) if q == b'"' || q == b'\'' => {
                    let vstart = pos + 1;
                    let vend = memchr(q, &bytes[vstart..]).map_or(bytes.len(), |p| vstart + p);
                    value = &html[vstart..vend];
                    pos = (vend + 1).min(bytes.len());
                }
                _ => {
                    let vstart = pos;
                    while pos < bytes.len()
                        && !bytes[pos].is_ascii_whitespace()
                        && bytes[pos] != b'>'
                    {
                        pos += 1;
                    }
                    value = &html[vstart..pos];
                }
            }
        }
        if name == "hidden" || (name == "style" && style_hides(value)) {
            attrs.hidden = true;
        }
        if KEPT_ATTRIBUTES.contains(&name.as_str()) && attrs.get(&name).is_none() {
            let value = html_escape::decode_html_entities(value).trim().to_string();
            attrs.pairs.push((name, value));
        }
    }
}

fn style_hides(style: &str) -> bool {
    let compact: String = style
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    compact.contains("display:none")
        || compact.contains("visibility:hidden")
        || compact.contains("font-size:0")
        || compact.contains("max-height:0")
        || compact.contains("opacity:0;")
        || compact.ends_with("opacity:0")
}

/// URL of a meta refresh `content` value (`0; url=https://…`).
fn refresh_url(content: &str) -> Option<String> {
    let lower = content.to_ascii_lowercase();
    let idx = lower.find("url")?;
    let rest = content[idx + 3..].trim_start();
    let rest = rest.strip_prefix('=')?.trim();
    let url = rest.trim_matches(['\'', '"']).trim();
    (!url.is_empty()).then(|| url.to_string())
}

fn find(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from >= haystack.len() {
        return None;
    }
    memchr::memmem::find(&haystack[from..], needle).map(|p| from + p)
}

/// Finds an ASCII needle case-insensitively (the needle must be lower case).
fn find_ascii_ci(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let first = needle.first()?;
    let mut pos = from;
    while pos < haystack.len() {
        let p = pos + memchr(*first, &haystack[pos..])?;
        if haystack.len() - p >= needle.len()
            && haystack[p..p + needle.len()].eq_ignore_ascii_case(needle)
        {
            return Some(p);
        }
        pos = p + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_links_with_anchor_text() {
        let html = r#"<html><head><style>p{color:red}</style><script>var a="<a href=x>";</script></head>
            <body><p>Dear&nbsp;customer,</p><p>Please <a href="https://evil.example/login?a=1&amp;b=2">www.paypal.com</a>
            now.</p><img src="http://img.example/x.png" alt="logo"><form action="//collect.example/post">
            <input type="password" name=pw></form><div style="display: none">hidden</div></body></html>"#;
        let ex = extract(html, 1 << 20, 100);
        assert!(ex.text.contains("Dear customer,"), "{:?}", ex.text);
        assert!(
            ex.text.contains("Please www.paypal.com now."),
            "{:?}",
            ex.text
        );
        assert!(!ex.text.contains("color:red"));
        assert!(!ex.text.contains("var a"));
        assert_eq!(ex.links.len(), 3);
        assert_eq!(ex.links[0].target, "https://evil.example/login?a=1&b=2");
        assert_eq!(ex.links[0].anchor_text.as_deref(), Some("www.paypal.com"));
        assert_eq!(ex.links[1].source, LinkSource::HtmlSrc);
        assert_eq!(ex.links[2].source, LinkSource::HtmlForm);
        assert_eq!(ex.stats.forms, 1);
        assert_eq!(ex.stats.password_inputs, 1);
        assert_eq!(ex.stats.scripts, 1);
        assert_eq!(ex.stats.hidden_elements, 1);
    }

    #[test]
    fn tolerates_broken_markup() {
        for html in [
            "<",
            "<a href=",
            "<a href='x",
            "<!--",
            "<script>",
            "a < b > c",
            "<<<>>>",
            "<a\u{3042}>",
        ] {
            let _ = extract(html, 1000, 10);
        }
        let ex = extract("1 < 2 and <b>bold</b>", 1000, 10);
        assert_eq!(ex.text, "1 < 2 and bold");
    }

    #[test]
    fn image_alt_becomes_anchor_text_and_refresh_is_a_link() {
        let ex = extract(
            r#"<meta http-equiv="Refresh" content="0; URL='https://x.example/'"><a href="http://y.example/"><img src="cid:1" alt="Amazon"></a>"#,
            1000,
            10,
        );
        assert_eq!(ex.links[0].source, LinkSource::HtmlMetaRefresh);
        assert_eq!(ex.links[0].target, "https://x.example/");
        let a = ex
            .links
            .iter()
            .find(|l| l.source == LinkSource::HtmlHref)
            .unwrap();
        assert_eq!(a.anchor_text.as_deref(), Some("Amazon"));
    }

    #[test]
    fn limits_hold() {
        let html = "<a href=http://x.example/>x</a>".repeat(50);
        let ex = extract(&html, 10, 5);
        assert_eq!(ex.links.len(), 5);
        assert!(ex.links_truncated);
        assert!(ex.text.len() <= 10);
    }
}
