//! Deceptive links: anchor text that shows another domain, IP-literal hosts (and their obfuscated notations),
//! userinfo that imitates a host, URL shorteners, `data:`/`javascript:` targets, links to dangerous downloads and
//! sign-in-looking paths. The same checks run on URLs found inside attachments (PDF `/URI`, Office
//! relationships, HTML attachments), see `attachment_content`.

use mamori_mail::{Link, LinkSource, Message};

use super::domains::{domains_in_text, registered};
use crate::detector::{Context, Detector};
use crate::finding::{Finding, Findings};

/// URL shortener hosts (registered domains).
pub const SHORTENERS: &[&str] = &[
    "bit.ly",
    "bitly.com",
    "tinyurl.com",
    "t.co",
    "goo.gl",
    "ow.ly",
    "is.gd",
    "v.gd",
    "buff.ly",
    "rebrand.ly",
    "cutt.ly",
    "shorturl.at",
    "rb.gy",
    "t.ly",
    "tiny.cc",
    "x.gd",
    "s.id",
    "qr.net",
    "shorte.st",
    "adf.ly",
    "bl.ink",
    "tiny.one",
    "urlz.fr",
    "00m.in",
    "u.nu",
    "lnkd.in",
    "tinyurl.hu",
];

/// File extensions that a link should not download from an e-mail.
pub const DANGEROUS_DOWNLOADS: &[&str] = &[
    "exe",
    "scr",
    "com",
    "pif",
    "msi",
    "msix",
    "appx",
    "bat",
    "cmd",
    "js",
    "jse",
    "vbs",
    "vbe",
    "wsf",
    "hta",
    "ps1",
    "lnk",
    "iso",
    "img",
    "vhd",
    "vhdx",
    "one",
    "docm",
    "xlsm",
    "pptm",
    "xlam",
    "jar",
    "apk",
    "cpl",
    "dll",
    "chm",
    "url",
    "library-ms",
    "search-ms",
];

/// Path fragments of sign-in and account pages that credential phishing imitates.
const CREDENTIAL_PATHS: &[&str] = &[
    "/login",
    "/signin",
    "/sign-in",
    "/logon",
    "/verify",
    "/verification",
    "/account/update",
    "/wp-login",
    "/owa/",
    "/webmail",
    "/auth/",
    "/password",
    "/2fa",
    "/mfa",
];

/// Checks every link of the message.
pub struct LinkDeception;

impl Detector for LinkDeception {
    fn name(&self) -> &'static str {
        "link_deception"
    }

    fn detect(&self, message: &Message, _ctx: &Context<'_>, out: &mut Findings) {
        for link in &message.links {
            check_link(link, None, out);
        }
    }
}

/// Runs the link checks on one link. `origin` names the attachment a link was found in, for evidence.
pub(crate) fn check_link(link: &Link, origin: Option<&str>, out: &mut Findings) {
    let within = |s: String| match origin {
        Some(o) => format!("{s} (in {o})"),
        None => s,
    };
    let clickable = matches!(
        link.source,
        LinkSource::HtmlHref
            | LinkSource::HtmlForm
            | LinkSource::HtmlMetaRefresh
            | LinkSource::Text
            | LinkSource::Attachment
    );
    match link.scheme.as_str() {
        "data" if clickable => {
            let media = link.raw[5..]
                .split([';', ','])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            if !media.starts_with("image/") {
                out.push(Finding::new(
                    "link.data_uri",
                    within(format!("data: URI of type {media:?}")),
                ));
            }
            return;
        }
        "javascript" | "vbscript" if clickable => {
            out.push(Finding::new(
                "link.javascript_uri",
                within(format!("{} URI {}", link.scheme, short(&link.raw))),
            ));
            return;
        }
        "http" | "https" | "ftp" | "hxxp" | "hxxps" => {}
        _ => return,
    }
    if let Some(ip) = link.ip {
        let raw_host = link.host_raw.as_deref().unwrap_or_default();
        let written_dotted = raw_host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok();
        if written_dotted {
            out.push(Finding::new(
                "link.ip_literal",
                within(format!("{} (host {ip})", short(&link.raw))),
            ));
        } else {
            out.push(Finding::new(
                "link.ip_obfuscated",
                within(format!("{} hides {ip} as {raw_host:?}", short(&link.raw))),
            ));
        }
    }
    if link.has_userinfo
        && let Some(user) = userinfo(&link.raw)
        && user.contains('.')
    {
        out.push(Finding::new(
            "link.userinfo",
            within(format!(
                "{} looks like {user} but goes to {}",
                short(&link.raw),
                link.host.as_deref().unwrap_or("?")
            )),
        ));
    }
    if let Some(reg) = link.registered_domain.as_deref()
        && SHORTENERS.contains(&reg)
        && link.source != LinkSource::HtmlSrc
    {
        out.push(Finding::new(
            "link.shortener",
            within(format!("{} ({reg})", short(&link.raw))),
        ));
    }
    if clickable || link.source == LinkSource::HtmlText {
        let path = url_path(&link.raw).to_ascii_lowercase();
        let last = path.rsplit('/').next().unwrap_or("");
        if let Some((_, ext)) = last.rsplit_once('.')
            && DANGEROUS_DOWNLOADS.contains(&ext)
        {
            out.push(Finding::new(
                "link.dangerous_download",
                within(format!("{} downloads a .{ext} file", short(&link.raw))),
            ));
        }
        if let Some(p) = CREDENTIAL_PATHS.iter().find(|p| path.contains(*p)) {
            out.push(Finding::new(
                "link.credential_path",
                within(format!(
                    "{} ({p} on {})",
                    short(&link.raw),
                    link.host.as_deref().unwrap_or("?")
                )),
            ));
        }
    }
    if link.source == LinkSource::HtmlHref
        && let (Some(anchor), Some(host)) = (link.anchor_text.as_deref(), link.host.as_deref())
    {
        let target = registered(host);
        let target_in_url = |d: &str| link.raw.to_ascii_lowercase().contains(d);
        // Only anchors that *are* an address (`www.bank.example`, `https://bank.example/login`) deceive;
        // a domain mentioned in a sentence ("shop at example.com") is ordinary newsletter prose.
        let anchor = anchor.trim();
        if anchor.contains(char::is_whitespace) {
            return;
        }
        for shown in domains_in_text(anchor) {
            let shown_reg = registered(&shown);
            // Redirectors that carry the shown domain in the URL are tracking, not deception.
            if shown_reg != target && !target_in_url(&shown_reg) {
                out.push(Finding::new(
                    "link.anchor_mismatch",
                    format!("text shows {shown} but the link goes to {host}"),
                ));
                break;
            }
        }
    }
}

/// The path of a URL as written (after the authority, before query and fragment), percent-decoding left out.
fn url_path(raw: &str) -> &str {
    let after = raw.find("://").map_or(raw, |i| &raw[i + 3..]);
    let path = after.find('/').map_or("", |i| &after[i..]);
    path.split(['?', '#']).next().unwrap_or(path)
}

/// The userinfo part of a URL as written (`https://user@host/` → `user`).
fn userinfo(raw: &str) -> Option<&str> {
    let after = &raw[raw.find("://")? + 3..];
    let authority = after.split(['/', '?', '#']).next()?;
    let (user, _) = authority.rsplit_once('@')?;
    Some(user.split(':').next().unwrap_or(user))
}

fn short(s: &str) -> String {
    let mut s = s.to_string();
    mamori_mail::normalize::truncate_at_char(&mut s, 160);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_mail::links::normalize;

    fn ids(raw: &str, source: LinkSource) -> Vec<String> {
        let mut out = Findings::default();
        check_link(&normalize(raw, None, source), None, &mut out);
        out.into_vec()
            .into_iter()
            .map(|f| f.id.to_string())
            .collect()
    }

    #[test]
    fn new_link_checks() {
        assert_eq!(
            ids("https://bit.ly/3abc", LinkSource::Text),
            vec!["link.shortener"]
        );
        assert_eq!(
            ids("data:text/html;base64,PGh0bWw+", LinkSource::HtmlHref),
            vec!["link.data_uri"]
        );
        assert!(ids("data:image/png;base64,iVBOR", LinkSource::HtmlSrc).is_empty());
        assert_eq!(
            ids("javascript:alert(1)", LinkSource::HtmlHref),
            vec!["link.javascript_uri"]
        );
        assert_eq!(
            ids(
                "https://files.example/invoice.pdf.exe?x=1",
                LinkSource::Text
            ),
            vec!["link.dangerous_download"]
        );
        assert!(ids("https://example.com/report.pdf", LinkSource::Text).is_empty());
        assert_eq!(
            ids("https://amazon.co.jp@evil.example/", LinkSource::Text),
            vec!["link.userinfo"]
        );
        assert_eq!(
            ids("http://3232235777/x", LinkSource::Text),
            vec!["link.ip_obfuscated"]
        );
        assert_eq!(
            ids("http://0xC0A80101/x", LinkSource::Text),
            vec!["link.ip_obfuscated"]
        );
        assert_eq!(
            ids("https://secure-acct.example/signin?u=1", LinkSource::Text),
            vec!["link.credential_path"]
        );
    }
}
