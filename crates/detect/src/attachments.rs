//! Runs the attachment analysis (`mamori-files`) once per message, before the detectors: every attachment, and
//! those of attached messages, with the passwords the message body announces (PPAP) and the YARA rules.

use mamori_files::{Options, Report};
use mamori_mail::Message;

use crate::config::AttachmentConfig;

/// One attachment and what was found inside it.
#[derive(Debug, Clone)]
pub struct AnalysedAttachment {
    /// Where the attachment sits: its name, prefixed by the names of attached messages it is in.
    pub label: String,
    /// The analysis report; observation paths start with the attachment's name.
    pub report: Report,
}

/// Anything that can scan file content for the analysis (the YARA rules when built with the `yara` feature).
pub trait ScannerFactory: Send + Sync {
    /// A scanner for one message's files.
    fn scanner(&self) -> Box<dyn mamori_files::ContentScanner + '_>;
}

/// Analyses every attachment of `message` (recursively through attached messages).
pub fn analyse_message(
    message: &Message,
    config: &AttachmentConfig,
    scanners: Option<&dyn ScannerFactory>,
) -> Vec<AnalysedAttachment> {
    let mut out = Vec::new();
    if !config.enabled || !has_attachments(message) {
        return out;
    }
    let mut passwords = Vec::new();
    if config.passwords_from_body {
        collect_passwords(message, &mut passwords);
    }
    let options = Options {
        limits: config.limits.clone(),
        passwords,
    };
    let scanner = scanners.map(|s| s.scanner());
    let mut stack: Vec<(&Message, String)> = vec![(message, String::new())];
    while let Some((m, prefix)) = stack.pop() {
        for a in &m.attachments {
            let name = a.name.clone().unwrap_or_else(|| "(unnamed)".to_string());
            if let Some(nested) = &a.message {
                stack.push((nested, format!("{prefix}{name} → ")));
                continue;
            }
            if a.content.is_empty() {
                continue;
            }
            let report = match &scanner {
                Some(s) => mamori_files::analyse_with_scanner(
                    Some(&name),
                    &a.content,
                    &options,
                    s.as_ref(),
                ),
                None => mamori_files::analyse(Some(&name), &a.content, &options),
            };
            out.push(AnalysedAttachment {
                label: format!("{prefix}{name}"),
                report,
            });
        }
    }
    out
}

fn has_attachments(message: &Message) -> bool {
    !message.attachments.is_empty()
}

fn collect_passwords(message: &Message, out: &mut Vec<String>) {
    let texts = [message.text.plain.as_str(), message.text.html_text.as_str()];
    for t in texts {
        for p in mamori_files::passwords_in_text(t) {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    for a in &message.attachments {
        if let Some(nested) = &a.message {
            collect_passwords(nested, out);
        }
    }
}
