//! SMTP envelope facts known to an MTA but not written in the message itself.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// What the SMTP session said about a message, when it is known (milter, HTTP API with parameters, or
/// `scan --client-ip/--helo/--mail-from`). Every field is optional: stored mail often has none of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Envelope {
    /// Address of the connecting SMTP client.
    pub client_ip: Option<IpAddr>,
    /// Reverse DNS name of the client, when the MTA resolved it.
    pub client_name: Option<String>,
    /// HELO/EHLO argument.
    pub helo: Option<String>,
    /// MAIL FROM address (empty string for the null sender `<>`).
    pub mail_from: Option<String>,
    /// RCPT TO addresses.
    pub rcpt_to: Vec<String>,
    /// When the message was received, Unix seconds.
    pub received_at: Option<i64>,
}

impl Envelope {
    /// True when no envelope fact is known.
    pub fn is_empty(&self) -> bool {
        self == &Envelope::default()
    }
}
