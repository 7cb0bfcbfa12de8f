//! Finding ids of the live block lists (`mamori serve`): the message carries an indicator that a playbook or an
//! analyst put on a block list (sender, domain, URL, file hash, IP address).

use super::FindingSpec;
use crate::finding::Category::{Malware, Phishing, Spam};
use crate::finding::Severity::{Critical, High, Medium};

/// Ids of the block-list section.
pub static SPECS: &[FindingSpec] = &[
    super::finding_spec!(
        "blocklist.sender",
        Phishing,
        High,
        6.0,
        ["T1566"],
        "Sender address is on a block list",
        "A sender address of the message (envelope or header) was blocked by a playbook or an analyst, usually \
         after an earlier message from it was judged malicious."
    ),
    super::finding_spec!(
        "blocklist.domain",
        Phishing,
        High,
        5.0,
        ["T1566"],
        "Domain is on a block list",
        "A sender or link domain of the message is on a block list."
    ),
    super::finding_spec!(
        "blocklist.url",
        Phishing,
        High,
        6.0,
        ["T1566.002"],
        "Link is on a block list",
        "A URL in the message is on a block list (typically added from an earlier phishing message)."
    ),
    super::finding_spec!(
        "blocklist.file",
        Malware,
        Critical,
        8.0,
        ["T1566.001"],
        "Attachment hash is on a block list",
        "The SHA-256 of an attachment (or nested file) is on a block list."
    ),
    super::finding_spec!(
        "blocklist.ip",
        Spam,
        Medium,
        3.0,
        ["T1566"],
        "Client or link IP address is on a block list",
        "The SMTP client address or an IP-literal link host is on a block list."
    ),
];
