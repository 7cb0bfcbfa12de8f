//! Header structure: From, Date and Message-ID present and well formed; Date consistent with receipt.

use mamori_mail::Message;

use crate::detector::{Context, Detector};
use crate::finding::{Finding, Findings};

/// A day, in seconds.
const DAY: i64 = 86_400;

/// Checks the structural header fields every legitimate MTA and client writes.
pub struct HeaderStructure;

impl Detector for HeaderStructure {
    fn name(&self) -> &'static str {
        "header_structure"
    }

    fn detect(&self, message: &Message, ctx: &Context<'_>, out: &mut Findings) {
        if message.headers.is_empty() {
            // Nothing parsed: the parse anomalies already say why.
            return;
        }
        match message.from.len() {
            0 => out.push(Finding::new("header.from.missing", "no From field")),
            1 => {}
            n => out.push(Finding::new(
                "header.from.multiple",
                format!("{n} From mailboxes"),
            )),
        }
        match &message.date {
            None => out.push(Finding::new("header.date.missing", "no Date field")),
            Some(date) => match date.timestamp {
                None => out.push(Finding::new(
                    "header.date.malformed",
                    format!("Date: {:?}", date.raw),
                )),
                Some(ts) => {
                    if let Some(received) = ctx.received_at {
                        if ts > received + DAY {
                            out.push(Finding::new(
                                "header.date.future",
                                format!(
                                    "Date {:?} is {} h after receipt",
                                    date.raw,
                                    (ts - received) / 3600
                                ),
                            ));
                        } else if ts < received - 3 * DAY {
                            out.push(Finding::new(
                                "header.date.past",
                                format!(
                                    "Date {:?} is {} days before receipt",
                                    date.raw,
                                    (received - ts) / DAY
                                ),
                            ));
                        }
                    }
                }
            },
        }
        match message.header("Message-ID") {
            None => out.push(Finding::new(
                "header.message_id.missing",
                "no Message-ID field",
            )),
            Some(raw) => {
                if !message_id_well_formed(raw) {
                    out.push(Finding::new(
                        "header.message_id.malformed",
                        format!("Message-ID: {raw:?}"),
                    ));
                }
            }
        }
    }
}

/// `<left@right>` with no spaces inside (RFC 5322 msg-id, leniently: any printable characters).
fn message_id_well_formed(raw: &str) -> bool {
    let raw = raw.trim();
    let Some(inner) = raw.strip_prefix('<').and_then(|r| r.strip_suffix('>')) else {
        return false;
    };
    match inner.rsplit_once('@') {
        Some((left, right)) => {
            !left.is_empty()
                && !right.is_empty()
                && !inner.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_forms() {
        assert!(message_id_well_formed("<abc.123@mail.example.com>"));
        assert!(!message_id_well_formed("abc@example.com"));
        assert!(!message_id_well_formed("<abc>"));
        assert!(!message_id_well_formed("<a b@c>"));
        assert!(!message_id_well_formed("<@c>"));
    }
}
