//! Deceptive links: anchor text that shows another domain, IP-literal hosts (and their obfuscated notations),
//! and userinfo that imitates a host.

use mamori_mail::{LinkSource, Message};

use super::domains::{domains_in_text, registered};
use crate::detector::{Context, Detector};
use crate::finding::{Finding, Findings};

/// Checks every link of the message.
pub struct LinkDeception;

impl Detector for LinkDeception {
    fn name(&self) -> &'static str {
        "link_deception"
    }

    fn detect(&self, message: &Message, _ctx: &Context<'_>, out: &mut Findings) {
        for link in &message.links {
            if !matches!(
                link.scheme.as_str(),
                "http" | "https" | "ftp" | "hxxp" | "hxxps"
            ) {
                continue;
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
                        format!("{} (host {ip})", short(&link.raw)),
                    ));
                } else {
                    out.push(Finding::new(
                        "link.ip_obfuscated",
                        format!("{} hides {ip} as {raw_host:?}", short(&link.raw)),
                    ));
                }
            }
            if link.has_userinfo
                && let Some(user) = userinfo(&link.raw)
                && user.contains('.')
            {
                out.push(Finding::new(
                    "link.userinfo",
                    format!(
                        "{} looks like {user} but goes to {}",
                        short(&link.raw),
                        link.host.as_deref().unwrap_or("?")
                    ),
                ));
            }
            if link.source == LinkSource::HtmlHref
                && let (Some(anchor), Some(host)) =
                    (link.anchor_text.as_deref(), link.host.as_deref())
            {
                let target = registered(host);
                let target_in_url = |d: &str| link.raw.to_ascii_lowercase().contains(d);
                // Only anchors that *are* an address (`www.bank.example`, `https://bank.example/login`) deceive;
                // a domain mentioned in a sentence ("shop at example.com") is ordinary newsletter prose.
                let anchor = anchor.trim();
                if anchor.contains(char::is_whitespace) {
                    continue;
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
    }
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
