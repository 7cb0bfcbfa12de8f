//! Finding ids of the foundation: parse anomalies, header structure, sender identity, Received chain, attachment
//! names and types, links, and test strings.

use super::FindingSpec;
use crate::finding::Category::{Anomaly, Malware, Phishing, Spam};
use crate::finding::Severity::{Critical, High, Info, Low, Medium};

/// Ids declared by the foundation.
pub static SPECS: &[FindingSpec] = &[
    // --- parse anomalies (mamori_mail::AnomalyKind) ---
    super::finding_spec!(
        "malformed.empty",
        Anomaly,
        Low,
        1.0,
        [],
        "Empty message",
        "The input has no bytes (or only whitespace)."
    ),
    super::finding_spec!(
        "malformed.not_mail",
        Anomaly,
        Medium,
        2.0,
        [],
        "Not an e-mail message",
        "The input does not start with a header block; binary or garbage data."
    ),
    super::finding_spec!(
        "malformed.header.syntax",
        Anomaly,
        Low,
        1.0,
        [],
        "Malformed header lines",
        "Lines in the header block are not `Name: value`; hand-made or broken mail."
    ),
    super::finding_spec!(
        "malformed.header.raw_8bit",
        Anomaly,
        Info,
        0.5,
        [],
        "Raw 8-bit header text",
        "Header fields carry unencoded 8-bit bytes that are not UTF-8 (charset was guessed); typical of bulk mailers."
    ),
    super::finding_spec!(
        "malformed.line_endings",
        Anomaly,
        Info,
        0.2,
        [],
        "Bare CR line endings",
        "Lines end in bare CR; normalised before parsing."
    ),
    super::finding_spec!(
        "malformed.mime.boundary_missing",
        Anomaly,
        Medium,
        1.5,
        [],
        "Multipart without boundary",
        "A multipart part has no boundary parameter, so its parts cannot be separated as declared."
    ),
    super::finding_spec!(
        "malformed.mime.truncated",
        Anomaly,
        Low,
        0.5,
        [],
        "Truncated MIME structure",
        "A multipart ends without its closing boundary."
    ),
    super::finding_spec!(
        "malformed.mime.transfer_encoding",
        Anomaly,
        Low,
        1.0,
        [],
        "Broken transfer encoding",
        "Base64 or quoted-printable content with invalid sequences."
    ),
    super::finding_spec!(
        "malformed.charset.mismatch",
        Anomaly,
        Info,
        0.3,
        [],
        "Wrong or unknown charset label",
        "A text part's declared charset cannot be right (e.g. ISO-2022-JP with 8-bit bytes); decoded with a guessed charset."
    ),
    super::finding_spec!(
        "malformed.parser_failure",
        Anomaly,
        High,
        3.0,
        [],
        "Parser failure",
        "The MIME parser failed on this message (a parser bug or an input built to crash parsers); it was not analysed."
    ),
    super::finding_spec!(
        "limit.message_size",
        Anomaly,
        Medium,
        1.0,
        [],
        "Message over the size limit",
        "Only the first `max_message_bytes` were analysed."
    ),
    super::finding_spec!(
        "limit.mime_depth",
        Anomaly,
        High,
        3.0,
        ["T1027"],
        "MIME nesting over the limit",
        "MIME nesting deeper than `max_mime_depth`; deep nesting is used to evade scanners."
    ),
    super::finding_spec!(
        "limit.mime_parts",
        Anomaly,
        Medium,
        2.0,
        ["T1027"],
        "Too many MIME parts",
        "More parts than `max_parts`; the rest were not analysed."
    ),
    super::finding_spec!(
        "limit.headers",
        Anomaly,
        Medium,
        2.0,
        [],
        "Too many header fields",
        "More header fields than `max_headers`; the rest of the header block was dropped."
    ),
    super::finding_spec!(
        "limit.decoded_bytes",
        Anomaly,
        Medium,
        1.0,
        [],
        "Decoded content over the limit",
        "Decoded parts exceed `max_decoded_bytes`; the rest was not analysed."
    ),
    super::finding_spec!(
        "limit.text",
        Anomaly,
        Low,
        0.5,
        [],
        "Body text over the limit",
        "Body text beyond `max_text_bytes` was not analysed."
    ),
    super::finding_spec!(
        "limit.links",
        Anomaly,
        Low,
        1.0,
        [],
        "Too many links",
        "More links than `max_links`; the rest were not analysed."
    ),
    super::finding_spec!(
        "limit.line_length",
        Anomaly,
        Low,
        0.5,
        [],
        "Over-long lines",
        "Lines longer than `max_line_bytes` were cut while reading the mailbox."
    ),
    // --- header structure ---
    super::finding_spec!(
        "header.from.missing",
        Anomaly,
        Medium,
        2.0,
        [],
        "No From header",
        "The message has no From field (RFC 5322 requires one)."
    ),
    super::finding_spec!(
        "header.from.multiple",
        Anomaly,
        Low,
        1.0,
        [],
        "Several From addresses",
        "More than one From mailbox, which most clients display ambiguously."
    ),
    super::finding_spec!(
        "header.date.missing",
        Anomaly,
        Low,
        1.0,
        [],
        "No Date header",
        "The message has no Date field; common in hand-rolled bulk mailers."
    ),
    super::finding_spec!(
        "header.date.malformed",
        Anomaly,
        Low,
        1.5,
        [],
        "Malformed Date header",
        "The Date field is not a valid RFC 5322 date."
    ),
    super::finding_spec!(
        "header.date.future",
        Anomaly,
        Medium,
        2.0,
        [],
        "Date in the future",
        "The Date field is more than a day later than when the message was received."
    ),
    super::finding_spec!(
        "header.date.past",
        Anomaly,
        Low,
        1.0,
        [],
        "Date long before receipt",
        "The Date field is more than 3 days earlier than when the message was received."
    ),
    super::finding_spec!(
        "header.message_id.missing",
        Anomaly,
        Low,
        1.0,
        [],
        "No Message-ID",
        "The message has no Message-ID; legitimate MTAs add one."
    ),
    super::finding_spec!(
        "header.message_id.malformed",
        Anomaly,
        Low,
        1.5,
        [],
        "Malformed Message-ID",
        "The Message-ID is not `<left@right>` (no @, spaces, no brackets)."
    ),
    // --- sender identity ---
    super::finding_spec!(
        "identity.reply_to.divergent",
        Phishing,
        Medium,
        2.0,
        ["T1566", "T1656"],
        "Replies go to another domain",
        "Reply-To points to a registered domain other than the From domain: answers go to someone else."
    ),
    super::finding_spec!(
        "identity.return_path.divergent",
        Anomaly,
        Info,
        0.3,
        [],
        "Envelope sender of another domain",
        "Return-Path and From have different registered domains (normal for lists and mail services; context only)."
    ),
    super::finding_spec!(
        "identity.display_name.address",
        Phishing,
        High,
        3.5,
        ["T1566", "T1656"],
        "Display name shows another address",
        "The From display name contains an e-mail address or domain that is not the real sender's domain."
    ),
    super::finding_spec!(
        "identity.sender.divergent",
        Anomaly,
        Low,
        0.5,
        [],
        "Sender header of another domain",
        "The Sender field names a registered domain different from From."
    ),
    // --- Received chain ---
    super::finding_spec!(
        "received.missing",
        Anomaly,
        Low,
        0.5,
        [],
        "No Received headers",
        "The message carries no Received trace; it never passed an MTA or the trace was stripped."
    ),
    super::finding_spec!(
        "received.malformed",
        Anomaly,
        Low,
        1.0,
        [],
        "Malformed Received header",
        "A Received field could not be parsed."
    ),
    super::finding_spec!(
        "received.time_travel",
        Anomaly,
        Low,
        0.5,
        [],
        "Received times go backwards",
        "A hop is time-stamped more than an hour before the hop below it: forged or replayed trace."
    ),
    super::finding_spec!(
        "received.helo_ip_mismatch",
        Anomaly,
        Low,
        1.0,
        [],
        "HELO is another IP literal",
        "A client greeted with an IP literal that is not its own address."
    ),
    super::finding_spec!(
        "received.too_many",
        Anomaly,
        Low,
        1.0,
        [],
        "Very long Received chain",
        "More than 25 hops: a mail loop or a padded, forged trace."
    ),
    // --- attachments (names and types; deep content analysis adds more) ---
    super::finding_spec!(
        "attachment.executable",
        Malware,
        Critical,
        8.0,
        ["T1566.001", "T1204.002"],
        "Executable attachment",
        "A native executable (PE, ELF, Mach-O, …) by content or by name (.exe, .scr, .com, .dll, .msi, …)."
    ),
    super::finding_spec!(
        "attachment.script",
        Malware,
        High,
        6.0,
        ["T1566.001", "T1204.002", "T1059"],
        "Script attachment",
        "A script file (.js, .jse, .vbs, .vbe, .wsf, .hta, .ps1, .bat, .cmd, …) that Windows runs on a double click."
    ),
    super::finding_spec!(
        "attachment.shortcut",
        Malware,
        High,
        6.0,
        ["T1566.001", "T1204.002"],
        "Shortcut (LNK) attachment",
        "A Windows shortcut, used to launch commands with innocent-looking icons."
    ),
    super::finding_spec!(
        "attachment.disk_image",
        Malware,
        Medium,
        3.0,
        ["T1566.001", "T1553.005"],
        "Disk image attachment",
        "An ISO/IMG/VHD image, used to carry payloads past Mark-of-the-Web."
    ),
    super::finding_spec!(
        "attachment.name.double_extension",
        Malware,
        High,
        5.0,
        ["T1036.007"],
        "Double file extension",
        "A name like `請求書.pdf.exe`: a document extension followed by a dangerous one."
    ),
    super::finding_spec!(
        "attachment.name.rlo",
        Malware,
        Critical,
        6.0,
        ["T1036.002"],
        "Right-to-left override in file name",
        "U+202E/U+202D in a name reverses how its end is displayed (`invoice\u{202E}fdp.exe` shows as `invoiceexe.pdf`)."
    ),
    super::finding_spec!(
        "attachment.name.padding",
        Malware,
        Medium,
        3.0,
        ["T1036.008"],
        "Padded file name",
        "A long run of spaces or dots before the real extension pushes it out of view."
    ),
    super::finding_spec!(
        "attachment.type_mismatch",
        Malware,
        High,
        4.0,
        ["T1036.008"],
        "File type does not match its name",
        "The content is an executable, script or container while the name or declared type says otherwise."
    ),
    // --- links ---
    super::finding_spec!(
        "link.anchor_mismatch",
        Phishing,
        High,
        3.0,
        ["T1566.002"],
        "Link text shows another domain",
        "The visible text of a link names one domain and the link goes to another."
    ),
    super::finding_spec!(
        "link.ip_literal",
        Phishing,
        Medium,
        2.5,
        ["T1566.002"],
        "Link to an IP address",
        "A link whose host is a bare IP address instead of a name."
    ),
    super::finding_spec!(
        "link.ip_obfuscated",
        Phishing,
        High,
        4.0,
        ["T1566.002", "T1027"],
        "Obfuscated IP address in link",
        "An IP host written in decimal, hex or octal notation (`http://3232235777/`) to hide it."
    ),
    super::finding_spec!(
        "link.userinfo",
        Phishing,
        High,
        4.0,
        ["T1566.002"],
        "Link with a misleading user part",
        "A link like `https://amazon.co.jp@evil.example/` where the part before @ imitates a host."
    ),
    // --- content ---
    super::finding_spec!(
        "content.gtube",
        Spam,
        Critical,
        1000.0,
        [],
        "GTUBE test string",
        "The Generic Test for Unsolicited Bulk Email string; used to test spam handling end to end."
    ),
];
