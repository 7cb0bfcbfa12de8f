//! What is inside attachments (the `mamori-files` reports the engine made before the detectors ran): every
//! observation becomes its catalogued finding with the nested path as evidence
//! (`invoice.zip → doc.docm → vbaProject.bin: auto-exec entry points: autoopen`), URLs found inside files go through
//! the link checks, and a message that only announces an archive password is marked as the second half of PPAP.

use mamori_files::report::display_path;
use mamori_mail::{LinkSource, Message};

use super::links::check_link;
use crate::detector::{Context, Detector};
use crate::finding::{Finding, Findings};

/// Maps attachment analysis to findings.
pub struct AttachmentContent;

impl Detector for AttachmentContent {
    fn name(&self) -> &'static str {
        "attachment_content"
    }

    fn detect(&self, message: &Message, ctx: &Context<'_>, out: &mut Findings) {
        for analysed in ctx.attachments {
            let prefix = analysed
                .label
                .rsplit_once(" → ")
                .map(|(outer, _)| format!("{outer} → "))
                .unwrap_or_default();
            for o in &analysed.report.observations {
                out.push(Finding::new(
                    o.kind.id(),
                    format!("{prefix}{}: {}", display_path(&o.path), o.detail),
                ));
            }
            for found in &analysed.report.urls {
                let link = mamori_mail::links::normalize(&found.url, None, LinkSource::Attachment);
                let origin = format!("{prefix}{}", display_path(&found.path));
                check_link(&link, Some(&origin), out);
            }
        }
        let has_attachment = message
            .attachments
            .iter()
            .any(|a| a.disposition.as_deref() == Some("attachment") || a.name.is_some());
        if !has_attachment {
            let text = if message.text.plain.is_empty() {
                &message.text.html_text
            } else {
                &message.text.plain
            };
            if mamori_files::password::is_password_notice(text) {
                out.push(Finding::new(
                    "ppap.password_notice",
                    "the body announces a password and carries no attachment",
                ));
            }
        }
    }
}
