//! Finding URLs in text and normalising them: scheme, host (IDNA, IP literals in any notation), registered
//! domain (embedded Public Suffix List), userinfo.

use std::net::IpAddr;

use linkify::{LinkFinder, LinkKind};
use url::{Host, Url};

use crate::message::{Link, LinkSource};

/// Longest raw URL kept (longer ones are cut; `data:` URIs in particular can be huge).
pub const MAX_RAW_URL: usize = 2048;

/// Finds URLs written in plain text: scheme-qualified ones, and scheme-less `www.` hosts. Returns the matches
/// in order.
pub fn find_in_text(text: &str) -> impl Iterator<Item = &str> {
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Url]).url_must_have_scheme(false);
    finder.links(text).filter_map(|l| {
        let s = l.as_str();
        let has_scheme = s.contains("://") || s.starts_with("mailto:");
        (has_scheme || starts_with_ci(s, "www.")).then_some(s)
    })
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Builds a [`Link`] from a raw target, normalising what can be normalised. Never fails: a target that does not
/// parse keeps `url: None` and whatever could be read from it.
pub fn normalize(raw: &str, anchor_text: Option<String>, source: LinkSource) -> Link {
    let mut raw = raw
        .trim()
        .trim_matches(|c: char| c == '<' || c == '>' || c == '"' || c == '\'' || c.is_whitespace())
        .to_string();
    crate::normalize::truncate_at_char(&mut raw, MAX_RAW_URL);
    let scheme = scheme_of(&raw);
    let mut link = Link {
        raw,
        url: None,
        scheme: scheme.clone().unwrap_or_else(|| "http".to_string()),
        host: None,
        host_raw: None,
        registered_domain: None,
        ip: None,
        has_userinfo: false,
        anchor_text,
        source,
    };
    match scheme.as_deref() {
        None | Some("http" | "https" | "ftp" | "ftps" | "hxxp" | "hxxps" | "ws" | "wss") => {
            fill_web(&mut link, scheme.is_none())
        }
        Some("mailto") => {
            let addr = link.raw[7..].split(['?', '#']).next().unwrap_or_default();
            let addr = percent_decode(addr);
            if let Some(domain) = crate::message::domain_of(&addr) {
                link.registered_domain = registered_domain(&domain);
                link.host = Some(domain);
            }
        }
        _ => {}
    }
    link
}

fn fill_web(link: &mut Link, scheme_less: bool) {
    let candidate;
    let text = if scheme_less {
        candidate = if link.raw.starts_with("//") {
            format!("http:{}", link.raw)
        } else {
            format!("http://{}", link.raw)
        };
        candidate.as_str()
    } else {
        link.raw.as_str()
    };
    link.host_raw = raw_host(text).map(str::to_string);
    let Ok(url) = Url::parse(text) else { return };
    link.has_userinfo = !url.username().is_empty() || url.password().is_some();
    match url.host() {
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_string();
            link.registered_domain = registered_domain(&d);
            link.host = Some(d);
        }
        Some(Host::Ipv4(ip)) => {
            link.ip = Some(IpAddr::V4(ip));
            link.host = Some(ip.to_string());
        }
        Some(Host::Ipv6(ip)) => {
            link.ip = Some(IpAddr::V6(ip));
            link.host = Some(ip.to_string());
        }
        None => {}
    }
    link.url = Some(url.into());
}

/// Registered domain (public suffix plus one label) of a lower-case ASCII host name.
pub fn registered_domain(host: &str) -> Option<String> {
    if host.parse::<IpAddr>().is_ok() {
        return None;
    }
    psl::domain_str(host).map(str::to_string)
}

/// Scheme of a URL-like string, lower-case, if it has one (`mailto:` counts; `www.x:80` does not).
fn scheme_of(raw: &str) -> Option<String> {
    let colon = raw.find(':')?;
    let scheme = &raw[..colon];
    let valid = !scheme.is_empty()
        && scheme.as_bytes()[0].is_ascii_alphabetic()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !valid || scheme.contains('.') {
        return None;
    }
    let rest = &raw[colon + 1..];
    // `host:port/path` is not a scheme.
    if rest.bytes().next().is_some_and(|b| b.is_ascii_digit()) && !rest.starts_with("//") {
        return None;
    }
    Some(scheme.to_ascii_lowercase())
}

/// The host part as written (`scheme://user@HOST:port/…`).
fn raw_host(url: &str) -> Option<&str> {
    let after = &url[url.find("://")? + 3..];
    let authority = after.split(['/', '?', '#', '\\']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        host_port
            .split_once(']')
            .map_or(host_port, |(h, _)| h)
            .trim_start_matches('[')
    } else {
        host_port.rsplit_once(':').map_or(host_port, |(h, _)| h)
    };
    (!host.is_empty()).then_some(host)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_urls_in_text() {
        let text = "ログインはこちら https://xn--q9jyb4c.example/ログイン または www.paypal.com.phish.xyz/login まで。file.txt";
        let found: Vec<_> = find_in_text(text).collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[1].starts_with("www.paypal.com.phish.xyz"));
    }

    #[test]
    fn normalises_hosts_and_domains() {
        let l = normalize(
            "https://ｂａｎｋ.example.co.jp/ログイン",
            None,
            LinkSource::Text,
        );
        assert_eq!(l.host.as_deref(), Some("bank.example.co.jp"));
        assert_eq!(l.registered_domain.as_deref(), Some("example.co.jp"));
        let l = normalize("www.amazon.co.jp.evil-domain.com/x", None, LinkSource::Text);
        assert_eq!(l.scheme, "http");
        assert_eq!(l.registered_domain.as_deref(), Some("evil-domain.com"));
        let l = normalize("http://аррӏе.com/", None, LinkSource::Text);
        assert_eq!(l.host.as_deref(), Some("xn--80ak6aa92e.com"));
    }

    #[test]
    fn ip_literals_in_any_notation() {
        for raw in [
            "http://3232235777/",
            "http://0xC0A80101/x",
            "http://192.168.1.1:8080/a.exe",
        ] {
            let l = normalize(raw, None, LinkSource::Text);
            assert_eq!(l.ip, Some("192.168.1.1".parse().unwrap()), "{raw}");
            assert_eq!(l.registered_domain, None);
        }
        let l = normalize("http://0xC0A80101/x", None, LinkSource::Text);
        assert_eq!(l.host_raw.as_deref(), Some("0xC0A80101"));
    }

    #[test]
    fn userinfo_mailto_and_odd_schemes() {
        let l = normalize(
            "https://amazon.co.jp@evil.example/",
            None,
            LinkSource::HtmlHref,
        );
        assert!(l.has_userinfo);
        assert_eq!(l.host.as_deref(), Some("evil.example"));
        let l = normalize(
            "mailto:Info@Example.COM?subject=x",
            None,
            LinkSource::HtmlHref,
        );
        assert_eq!(l.scheme, "mailto");
        assert_eq!(l.host.as_deref(), Some("example.com"));
        let l = normalize("javascript:alert(1)", None, LinkSource::HtmlHref);
        assert_eq!(l.scheme, "javascript");
        assert!(l.url.is_none());
        let l = normalize(
            "data:text/html;base64,PHNjcmlwdD4=",
            None,
            LinkSource::HtmlHref,
        );
        assert_eq!(l.scheme, "data");
        let l = normalize("example.com:8080/x", None, LinkSource::Text);
        assert_eq!(l.host.as_deref(), Some("example.com"));
    }
}
