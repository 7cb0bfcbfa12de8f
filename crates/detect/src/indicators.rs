//! Indicators of a message: the sender addresses, domains, URLs, IPs and file hashes that block lists, retro-hunts
//! and intelligence sharing work with.

use std::collections::BTreeSet;

use mamori_mail::{Envelope, Message};
use serde::{Deserialize, Serialize};

/// Most URLs listed per verdict (the count of all is kept).
pub const MAX_URLS: usize = 200;

/// Observable values of one message. Sorted and de-duplicated, lower-case where case does not matter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicators {
    /// Sender addresses: From, Sender, Reply-To, Return-Path, envelope MAIL FROM.
    pub senders: Vec<String>,
    /// Domains: of those senders, and registered domains and hosts of links.
    pub domains: Vec<String>,
    /// URLs (normalised form when it parsed, else as written; `data:` URIs omitted).
    pub urls: Vec<String>,
    /// Number of URLs before the cut at `MAX_URLS`.
    pub url_count: usize,
    /// IP addresses: the SMTP client and IP-literal link hosts.
    pub ips: Vec<String>,
    /// Files: attachments and nested files.
    pub files: Vec<FileIndicator>,
}

/// A file seen in the message.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FileIndicator {
    /// SHA-256, lower-case hex.
    pub sha256: String,
    /// Name, if it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Size in bytes.
    pub size: usize,
    /// Sniffed MIME type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    /// MD5, lower-case hex (for feeds that still use it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    /// SHA-1, lower-case hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    /// Where a nested file sits (`invoice.zip → doc.docm → vbaProject.bin`); absent for attachments themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Indicators {
    /// Collects the indicators of `message` (and of messages attached to it).
    pub fn collect(message: &Message, envelope: &Envelope) -> Indicators {
        let mut senders = BTreeSet::new();
        let mut domains = BTreeSet::new();
        let mut urls = BTreeSet::new();
        let mut ips = BTreeSet::new();
        let mut files = Vec::new();
        if let Some(ip) = envelope.client_ip {
            ips.insert(ip.to_string());
        }
        if let Some(mail_from) = envelope.mail_from.as_deref().filter(|m| m.contains('@')) {
            add_address(mail_from, &mut senders, &mut domains);
        }
        let mut stack = vec![message];
        while let Some(m) = stack.pop() {
            for mb in m.from.iter().chain(&m.sender).chain(&m.reply_to) {
                if let Some(addr) = &mb.address {
                    add_address(addr, &mut senders, &mut domains);
                }
            }
            if let Some(rp) = m.return_path.as_deref().filter(|r| r.contains('@')) {
                add_address(rp, &mut senders, &mut domains);
            }
            for link in &m.links {
                if matches!(
                    link.scheme.as_str(),
                    "data" | "cid" | "javascript" | "tel" | "sms"
                ) {
                    continue;
                }
                if link.scheme != "mailto" {
                    urls.insert(link.url.clone().unwrap_or_else(|| link.raw.clone()));
                }
                if let Some(ip) = link.ip {
                    ips.insert(ip.to_string());
                } else {
                    if let Some(host) = &link.host {
                        domains.insert(host.clone());
                    }
                    if let Some(rd) = &link.registered_domain {
                        domains.insert(rd.clone());
                    }
                }
            }
            for a in &m.attachments {
                files.push(FileIndicator {
                    sha256: a.sha256.clone(),
                    name: a.name.clone(),
                    size: a.size,
                    mime: a.sniffed.as_ref().map(|t| t.mime.clone()),
                    md5: None,
                    sha1: None,
                    path: None,
                });
                if let Some(nested) = &a.message {
                    stack.push(nested);
                }
            }
        }
        files.sort();
        files.dedup_by(|a, b| a.sha256 == b.sha256);
        let url_count = urls.len();
        Indicators {
            senders: senders.into_iter().collect(),
            domains: domains.into_iter().collect(),
            urls: urls.into_iter().take(MAX_URLS).collect(),
            url_count,
            ips: ips.into_iter().collect(),
            files,
        }
    }
}

impl Indicators {
    /// Adds what attachment analysis found: MD5/SHA-1 of attachments, every nested file, and URLs (with their
    /// hosts and registered domains) found inside files.
    pub fn with_attachments(
        mut self,
        analysed: &[crate::attachments::AnalysedAttachment],
    ) -> Indicators {
        let mut urls: BTreeSet<String> = self.urls.iter().cloned().collect();
        let mut domains: BTreeSet<String> = self.domains.iter().cloned().collect();
        let mut ips: BTreeSet<String> = self.ips.iter().cloned().collect();
        for a in analysed {
            for f in &a.report.files {
                if let Some(existing) = self.files.iter_mut().find(|x| x.sha256 == f.sha256) {
                    existing.md5.get_or_insert_with(|| f.md5.clone());
                    existing.sha1.get_or_insert_with(|| f.sha1.clone());
                    continue;
                }
                self.files.push(FileIndicator {
                    sha256: f.sha256.clone(),
                    name: Some(f.name().to_string()),
                    size: usize::try_from(f.size).unwrap_or(usize::MAX),
                    mime: Some(f.file_type.mime.clone()),
                    md5: Some(f.md5.clone()),
                    sha1: Some(f.sha1.clone()),
                    path: (f.depth > 0).then(|| mamori_files::report::display_path(&f.path)),
                });
            }
            for u in &a.report.urls {
                let link = mamori_mail::links::normalize(
                    &u.url,
                    None,
                    mamori_mail::LinkSource::Attachment,
                );
                if matches!(
                    link.scheme.as_str(),
                    "data" | "cid" | "javascript" | "tel" | "sms" | "mailto"
                ) {
                    continue;
                }
                if !urls.contains(link.url.as_ref().unwrap_or(&link.raw)) {
                    self.url_count += 1;
                }
                urls.insert(link.url.clone().unwrap_or(link.raw.clone()));
                if let Some(ip) = link.ip {
                    ips.insert(ip.to_string());
                } else {
                    domains.extend(link.host.clone());
                    domains.extend(link.registered_domain.clone());
                }
            }
        }
        self.urls = urls.into_iter().take(MAX_URLS).collect();
        self.domains = domains.into_iter().collect();
        self.ips = ips.into_iter().collect();
        self
    }
}

fn add_address(addr: &str, senders: &mut BTreeSet<String>, domains: &mut BTreeSet<String>) {
    let addr = addr.trim().trim_matches(['<', '>']);
    if addr.is_empty() {
        return;
    }
    senders.insert(addr.to_lowercase());
    if let Some(d) = mamori_mail::message::domain_of(addr) {
        if let Some(rd) = psl::domain_str(&d) {
            domains.insert(rd.to_string());
        }
        domains.insert(d);
    }
}
